/*
 * slots.c: free slots from working hours and busy time (slots.h).
 *
 * sl_slots_free walks the local days of the window once, in order.  A
 * candidate is a local wall time (a day and minutes after midnight) made
 * an instant with sl_from_local and read back with sl_to_local: when the
 * two disagree the wall time does not exist (a DST gap) and the candidate
 * is dropped rather than moved.  Candidates come out in time order, so
 * one index into the busy list only moves forward, and the meetings
 * already booked, reduced to their local days and sorted, are walked the
 * same way.  A query costs O(candidates + busy + booked log booked) and
 * allocates only the output (doubling) and the booked days.
 *
 * sl_slot_is_free runs the same test for one start: it finds the working
 * interval and grid point that would produce it, then binary-searches
 * the busy list.  Both share slot_at and busy_meets, so they agree.
 */
#include <stdlib.h>
#include <string.h>

#include "rep.h"
#include "sl.h"
#include "slots.h"
#include "timeutil.h"

#define DAY 86400

static int
cmp_iv(const void *a, const void *b)
{
	const struct sl_iv *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

size_t
sl_iv_normalise(struct sl_iv *iv, size_t n)
{
	size_t i, k = 0;

	if (!iv || n == 0)
		return 0;
	qsort(iv, n, sizeof *iv, cmp_iv);
	for (i = 0; i < n; i++) {
		if (iv[i].end <= iv[i].start)
			continue;
		if (k > 0 && iv[i].start <= iv[k - 1].end) {
			if (iv[i].end > iv[k - 1].end)
				iv[k - 1].end = iv[i].end;
			continue;
		}
		iv[k++] = iv[i];
	}
	return k;
}

/*
 * Everything but the window: a zone, working hours in range and sorted,
 * positive duration and step, no negative buffer or notice, now in the
 * range of time, busy sorted and not overlapping.
 */
static int
query_ok(const struct sl_slot_query *q)
{
	const struct sl_rep_iv *v;
	size_t i;
	int d, k;

	if (!q || !q->zone || !q->hours || q->duration_min <= 0 ||
	    q->step_min <= 0 || q->buffer_before_min < 0 ||
	    q->buffer_after_min < 0 || q->notice_min < 0 ||
	    q->now < SL_TIME_MIN || q->now > SL_TIME_MAX ||
	    (q->nbusy && !q->busy) || (q->nbooked && !q->booked))
		return 0;
	for (d = 0; d < 7; d++) {
		if (q->hours->n[d] < 0 || q->hours->n[d] > SL_REP_MAX_IV)
			return 0;
		for (k = 0; k < q->hours->n[d]; k++) {
			v = &q->hours->iv[d][k];
			if (v->start < 0 || v->end > 1440 ||
			    v->start >= v->end ||
			    (k > 0 && v->start < v[-1].end))
				return 0;
		}
	}
	for (i = 0; i < q->nbusy; i++)
		if (q->busy[i].start >= q->busy[i].end ||
		    (i > 0 && q->busy[i].start < q->busy[i - 1].end))
			return 0;
	return 1;
}

static int
wday_of(int64_t day)
{
	int64_t w = (day + 4) % 7;	// 1970-01-01 was a Thursday

	return (int)(w < 0 ? w + 7 : w);
}

/* The local day of t in z (days since 1970-01-01), or -1 on error. */
static int
local_day(int64_t t, const struct sl_zone *z, int64_t *day, int *min)
{
	struct sl_tm tm;

	if (sl_to_local(t, z, &tm) < 0)
		return -1;
	*day = sl_days_from_civil(tm.year, tm.mon, tm.mday);
	if (min)
		*min = tm.sec == 0 ? tm.hour * 60 + tm.min : -1;
	return 0;
}

/* Local midnight of day as a struct sl_tm for sl_from_local. */
static void
day_tm(int64_t day, struct sl_tm *tm)
{
	memset(tm, 0, sizeof *tm);
	sl_civil_from_days(day, &tm->year, &tm->mon, &tm->mday);
}

/* The instant of minute m (may be 1440) of the local day in *base. */
static int
at_minute(const struct sl_tm *base, int m, const struct sl_zone *z,
    int64_t *t)
{
	struct sl_tm tm = *base;

	tm.hour = m / 60;
	tm.min = m % 60;
	return sl_from_local(&tm, z, t);
}

/*
 * The slot starting at local minute m of the day in *base, in a working
 * interval ending at the instant ivend: 0 and its start and end, or -1
 * when m does not exist that day (a DST gap) or the slot would run past
 * the interval (a day with a DST change inside working hours).
 */
static int
slot_at(const struct sl_slot_query *q, const struct sl_tm *base, int m,
    int64_t ivend, int64_t *s, int64_t *e)
{
	struct sl_tm tm;

	if (at_minute(base, m, q->zone, s) < 0 ||
	    sl_to_local(*s, q->zone, &tm) < 0 || tm.mday != base->mday ||
	    tm.hour * 60 + tm.min != m)
		return -1;
	*e = *s + (int64_t)q->duration_min * 60;
	return *e <= ivend ? 0 : -1;
}

/*
 * Whether [s - buffer_before, e + buffer_after) meets busy time.  *j is
 * the first busy interval that may matter; it only moves forward, so the
 * calls must come in order of s.
 */
static int
busy_meets(const struct sl_slot_query *q, size_t *j, int64_t s, int64_t e)
{
	int64_t a = s - (int64_t)q->buffer_before_min * 60;
	int64_t b = e + (int64_t)q->buffer_after_min * 60;

	while (*j < q->nbusy && q->busy[*j].end <= a)
		(*j)++;
	return *j < q->nbusy && q->busy[*j].start < b;
}

/* The first busy interval ending after a. */
static size_t
busy_first(const struct sl_slot_query *q, int64_t a)
{
	size_t lo = 0, hi = q->nbusy, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (q->busy[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The local days of the booked meetings, sorted; NULL when none. */
static int64_t *
booked_days(const struct sl_slot_query *q, size_t *nd)
{
	int64_t *d;
	size_t i, k = 0;

	*nd = 0;
	if (q->nbooked == 0)
		return NULL;
	d = sl_calloc(q->nbooked, sizeof *d);
	for (i = 0; i < q->nbooked; i++)
		if (local_day(q->booked[i], q->zone, &d[k], NULL) == 0)
			k++;
	qsort(d, k, sizeof *d, cmp_i64);
	*nd = k;
	return d;
}

static void
push(struct sl_iv **v, size_t *n, size_t *cap, int64_t s, int64_t e)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		*v = sl_realloc(*v, *cap * sizeof **v);
	}
	(*v)[*n].start = s;
	(*v)[(*n)++].end = e;
}

/* The output being built and the window's bounds. */
struct walk {
	struct sl_iv *v;
	size_t n, cap;
	int64_t lo, hi;
	size_t j;			// busy_meets's index
};

/*
 * The free slots of one local day, appended to w.  Returns 1 when the
 * walk is over (past the window or at the limit), 0 to go on, -1 when
 * the day is out of range.
 */
static int
day_slots(const struct sl_slot_query *q, int64_t day, int wd,
    struct walk *w)
{
	const struct sl_rep_iv *v;
	struct sl_tm base;
	int64_t s, e, ivend;
	int k, m;

	day_tm(day, &base);
	for (k = 0; k < q->hours->n[wd]; k++) {
		v = &q->hours->iv[wd][k];
		if (at_minute(&base, v->end, q->zone, &ivend) < 0)
			return -1;
		for (m = v->start; m + q->duration_min <= v->end;
		    m += q->step_min) {
			if (slot_at(q, &base, m, ivend, &s, &e) < 0 ||
			    s < w->lo)
				continue;
			if (s >= w->hi)
				return 1;
			if (busy_meets(q, &w->j, s, e))
				continue;
			push(&w->v, &w->n, &w->cap, s, e);
			if (q->limit && w->n >= q->limit)
				return 1;
		}
	}
	return 0;
}

int
sl_slots_free(const struct sl_slot_query *q, struct sl_iv **out, size_t *n)
{
	struct walk w = { NULL, 0, 0, 0, 0, 0 };
	int64_t *days = NULL, day, last;
	size_t nd = 0, kb = 0, c;
	int wd, r = 0;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!out || !n || !query_ok(q) || q->to < q->from)
		return -1;
	w.lo = q->now + (int64_t)q->notice_min * 60;
	if (w.lo < q->from)
		w.lo = q->from;
	if (w.lo < SL_TIME_MIN)
		w.lo = SL_TIME_MIN;
	w.hi = q->to < SL_TIME_MAX ? q->to : SL_TIME_MAX;
	if (w.lo >= w.hi)
		return 0;
	if (local_day(w.lo, q->zone, &day, NULL) < 0 ||
	    local_day(w.hi - 1, q->zone, &last, NULL) < 0)
		return -1;
	if (q->daily_cap >= 0)
		days = booked_days(q, &nd);
	w.j = busy_first(q, w.lo - (int64_t)q->buffer_before_min * 60);
	for (; day <= last && r == 0; day++) {
		wd = wday_of(day);
		if (q->hours->n[wd] == 0)
			continue;
		if (q->daily_cap >= 0) {
			while (kb < nd && days[kb] < day)
				kb++;
			for (c = 0; kb + c < nd && days[kb + c] == day; c++)
				;
			if (c >= (size_t)q->daily_cap)
				continue;
		}
		r = day_slots(q, day, wd, &w);
	}
	if (r >= 0) {
		*out = w.v;
		*n = w.n;
		w.v = NULL;
	}
	free(w.v);
	free(days);
	return r < 0 ? -1 : 0;
}

int
sl_slot_is_free(const struct sl_slot_query *q, int64_t start)
{
	const struct sl_rep_iv *v = NULL;
	struct sl_tm base;
	int64_t day, bday, s, e, ivend;
	size_t i, c = 0, j;
	int m, k, w;

	if (!query_ok(q) || start < q->now + (int64_t)q->notice_min * 60 ||
	    local_day(start, q->zone, &day, &m) < 0 || m < 0)
		return 0;
	w = wday_of(day);
	for (k = 0; k < q->hours->n[w] && !v; k++)
		if (q->hours->iv[w][k].start <= m && m < q->hours->iv[w][k].end)
			v = &q->hours->iv[w][k];
	if (!v || (m - v->start) % q->step_min != 0 ||
	    m + q->duration_min > v->end)
		return 0;
	day_tm(day, &base);
	/* s != start: the later of two instants with the same wall time */
	if (at_minute(&base, v->end, q->zone, &ivend) < 0 ||
	    slot_at(q, &base, m, ivend, &s, &e) < 0 || s != start)
		return 0;
	if (q->daily_cap >= 0) {
		for (i = 0; i < q->nbooked; i++)
			if (local_day(q->booked[i], q->zone, &bday,
			    NULL) == 0 && bday == day)
				c++;
		if (c >= (size_t)q->daily_cap)
			return 0;
	}
	j = busy_first(q, s - (int64_t)q->buffer_before_min * 60);
	return !busy_meets(q, &j, s, e);
}
