/*
 * slots.c: unit tests for lib/slots.c.
 *
 * Expected slots are written from the rules in slots.h (local grid,
 * half-open intervals, buffers, notice, window, daily cap on booked
 * meetings), not from the implementation: a rep in Asia/Makassar (UTC+8,
 * no DST) and one in Europe/Berlin across the changes of 29 March and
 * 25 October 2026.  sl_slot_is_free is checked against sl_slots_free on
 * every quarter hour of a fortnight, with busy time, buffers and a cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rep.h"
#include "sl.h"
#include "slots.h"
#include "tap.h"
#include "timeutil.h"

static int64_t
utc(const char *s)
{
	int64_t t = INT64_MIN;

	if (sl_time_parse(s, &t) < 0) {
		diag("test bug: cannot parse '%s'", s);
		exit(2);
	}
	return t;
}

static const struct sl_zone *
zone(const char *name)
{
	const struct sl_zone *z = sl_zone_load(name);

	if (!z) {
		diag("test bug: no zone '%s'", name);
		exit(2);
	}
	return z;
}

/* Monday to Friday, [start, end) minutes; the weekend off. */
static void
weekdays(struct sl_rep_hours *h, int start, int end)
{
	int d;

	memset(h, 0, sizeof *h);
	for (d = 1; d <= 5; d++) {
		h->iv[d][0].start = start;
		h->iv[d][0].end = end;
		h->n[d] = 1;
	}
}

static void
query(struct sl_slot_query *q, const struct sl_zone *z,
    const struct sl_rep_hours *h, const char *from, int days)
{
	memset(q, 0, sizeof *q);
	q->zone = z;
	q->hours = h;
	q->now = q->from = utc(from);
	q->to = q->from + (int64_t)days * 86400;
	q->duration_min = 30;
	q->step_min = 30;
	q->daily_cap = -1;
}

/* The slots of q; -1 when the query fails. */
static long
count(const struct sl_slot_query *q, struct sl_iv **out)
{
	size_t n;

	if (sl_slots_free(q, out, &n) < 0)
		return -1;
	return (long)n;
}

static const char *
local(int64_t t, const struct sl_zone *z)
{
	static char buf[SL_TIME_BUFSZ];

	return sl_time_fmt_local(t, z, buf) ? buf : "bad time";
}

/* The number of slots starting on the local date day ("2026-03-27"). */
static long
on_day(const struct sl_iv *v, size_t n, const struct sl_zone *z,
    const char *day)
{
	long k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += strncmp(local(v[i].start, z), day, 10) == 0;
	return k;
}

/* Starts on the grid, inside hours, ascending, duration long. */
static int
well_formed(const struct sl_iv *v, size_t n, const struct sl_slot_query *q)
{
	struct sl_tm tm;
	const struct sl_rep_iv *iv;
	size_t i;
	int m, k, found;

	for (i = 0; i < n; i++) {
		if (v[i].end - v[i].start != (int64_t)q->duration_min * 60 ||
		    (i > 0 && v[i].start <= v[i - 1].start) ||
		    sl_to_local(v[i].start, q->zone, &tm) < 0 || tm.sec != 0)
			return 0;
		m = tm.hour * 60 + tm.min;
		found = 0;
		for (k = 0; k < q->hours->n[tm.wday]; k++) {
			iv = &q->hours->iv[tm.wday][k];
			if (m >= iv->start && m + q->duration_min <= iv->end &&
			    (m - iv->start) % q->step_min == 0)
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

static void
makassar(void)
{
	const struct sl_zone *z = zone("Asia/Makassar");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL;
	long n;

	weekdays(&h, 9 * 60, 18 * 60);
	/* Monday 2026-11-16 00:00 local, one week */
	query(&q, z, &h, "2026-11-16T00:00:00+08:00", 7);
	n = count(&q, &v);
	is_int(n, 5 * 18, "Makassar: 18 half hours a weekday, 5 days");
	ok(n > 0 && v[0].start == utc("2026-11-16T01:00:00Z"),
	    "the first slot is Monday 09:00 local, 01:00Z");
	ok(n > 0 && v[n - 1].start == utc("2026-11-20T09:30:00Z"),
	    "the last slot is Friday 17:30 local");
	ok(well_formed(v, (size_t)n, &q), "all on the grid, in hours, sorted");
	is_int(on_day(v, (size_t)n, z, "2026-11-21"), 0, "Saturday: none");
	is_int(on_day(v, (size_t)n, z, "2026-11-22"), 0, "Sunday: none");
	free(v);

	q.duration_min = 60;
	n = count(&q, &v);
	is_int(n, 5 * 17, "an hour on a 30-minute grid: 17 a day");
	ok(n > 0 && strcmp(local(v[16].end, z),
	    "2026-11-16T18:00:00+08:00") == 0, "the last one ends at 18:00");
	free(v);

	/* a lunch break restarts the grid; step 45 */
	h.iv[1][0].end = 13 * 60;
	h.iv[1][1].start = 14 * 60;
	h.iv[1][1].end = 18 * 60;
	h.n[1] = 2;
	q.duration_min = 30;
	q.step_min = 45;
	q.to = utc("2026-11-17T00:00:00+08:00");
	n = count(&q, &v);
	/* 09:00 09:45 10:30 11:15 12:00 (12:45 ends past 13:00), then
	 * 14:00 14:45 15:30 16:15 17:00 (17:45 ends past 18:00) */
	is_int(n, 10, "step 45 with a lunch break: 10 slots");
	ok(n == 10 && strcmp(local(v[4].start, z),
	    "2026-11-16T12:00:00+08:00") == 0 && strcmp(local(v[5].start,
	    z), "2026-11-16T14:00:00+08:00") == 0,
	    "the grid starts again at 14:00");
	ok(well_formed(v, (size_t)n, &q), "all on the 45-minute grid");
	free(v);
}

static void
berlin_dst(void)
{
	const struct sl_zone *z = zone("Europe/Berlin");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL;
	long n;

	weekdays(&h, 9 * 60, 18 * 60);
	/* Monday 23 March to Monday 6 April 2026; DST from Sunday 29 */
	query(&q, z, &h, "2026-03-23T00:00:00+01:00", 14);
	n = count(&q, &v);
	is_int(n, 10 * 18, "Berlin, two weeks around the spring change");
	is_int(on_day(v, (size_t)n, z, "2026-03-27"), 18, "Friday 27: 18");
	is_int(on_day(v, (size_t)n, z, "2026-03-30"), 18, "Monday 30: 18");
	ok(n == 180 && v[72].start == utc("2026-03-27T08:00:00Z") &&
	    v[90].start == utc("2026-03-30T07:00:00Z"),
	    "09:00 is 08:00Z before the change, 07:00Z after");
	ok(well_formed(v, (size_t)n, &q), "local :00 and :30 on both sides");
	free(v);

	query(&q, z, &h, "2026-10-19T00:00:00+02:00", 14);
	n = count(&q, &v);
	is_int(n, 10 * 18, "Berlin, two weeks around the autumn change");
	ok(n == 180 && v[72].start == utc("2026-10-23T07:00:00Z") &&
	    v[90].start == utc("2026-10-26T08:00:00Z"),
	    "09:00 is 07:00Z before the change, 08:00Z after");
	ok(well_formed(v, (size_t)n, &q), "the grid holds in October");
	free(v);

	/* round the clock on the change days themselves */
	memset(&h, 0, sizeof h);
	h.iv[0][0].start = 0;
	h.iv[0][0].end = 1440;
	h.n[0] = 1;
	query(&q, z, &h, "2026-03-29T00:00:00+01:00", 1);
	n = count(&q, &v);
	is_int(n, 46, "29 March: 02:00 and 02:30 do not exist, 46 slots");
	ok(n == 46 && strcmp(local(v[3].start, z),
	    "2026-03-29T01:30:00+01:00") == 0 && strcmp(local(v[4].start,
	    z), "2026-03-29T03:00:00+02:00") == 0,
	    "01:30 CET is followed by 03:00 CEST");
	ok(well_formed(v, (size_t)n, &q), "no slot moved out of the gap");
	free(v);
	query(&q, z, &h, "2026-10-25T00:00:00+02:00", 1);
	q.to += 3600;		// the day has 25 hours
	n = count(&q, &v);
	is_int(n, 48, "25 October: 48 grid points in a 25-hour day");
	ok(n == 48 && v[4].start == utc("2026-10-25T00:00:00Z") &&
	    v[6].start == utc("2026-10-25T02:00:00Z"),
	    "02:00 is the first (CEST) one, 03:00 CET follows 02:30 CEST");
	ok(well_formed(v, (size_t)n, &q), "strictly ascending over fall-back");
	free(v);

	/* a slot that fits in local minutes but not in real time */
	h.iv[0][0].end = 3 * 60;
	query(&q, z, &h, "2026-03-29T00:00:00+01:00", 1);
	q.duration_min = 120;
	q.step_min = 60;
	n = count(&q, &v);
	ok(n == 1 && v[0].start == utc("2026-03-28T23:00:00Z"),
	    "00:00-03:00 on 29 March holds one 2-hour slot, not two");
	free(v);
}

static void
busy_and_buffers(void)
{
	const struct sl_zone *z = zone("Asia/Makassar");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL, busy[2];
	long n;

	weekdays(&h, 9 * 60, 18 * 60);
	query(&q, z, &h, "2026-11-16T00:00:00+08:00", 1);
	busy[0].start = utc("2026-11-16T10:00:00+08:00");
	busy[0].end = utc("2026-11-16T11:00:00+08:00");
	q.busy = busy;
	q.nbusy = 1;
	n = count(&q, &v);
	is_int(n, 16, "busy 10:00-11:00 takes two half hours");
	ok(n == 16 && strcmp(local(v[1].start, z),
	    "2026-11-16T09:30:00+08:00") == 0 && strcmp(local(v[2].start,
	    z), "2026-11-16T11:00:00+08:00") == 0,
	    "touching the busy edges is free (half-open)");
	free(v);

	q.buffer_before_min = 15;
	q.buffer_after_min = 15;
	n = count(&q, &v);
	is_int(n, 14, "15-minute buffers also take 09:30 and 11:00");
	ok(n == 14 && strcmp(local(v[1].start, z),
	    "2026-11-16T11:30:00+08:00") == 0, "then 09:00, 11:30");
	free(v);

	q.buffer_before_min = 0;
	q.buffer_after_min = 60;
	n = count(&q, &v);
	/* [s, e + 60) meets [10:00, 11:00) for s in 09:00 .. 10:30 */
	is_int(n, 14, "an hour after: 09:00-10:30 starts are taken");
	ok(n == 14 && strcmp(local(v[0].start, z),
	    "2026-11-16T11:00:00+08:00") == 0, "the first is 11:00");
	free(v);

	/* all busy */
	q.buffer_after_min = 0;
	busy[0].start = utc("2026-11-16T08:00:00+08:00");
	busy[0].end = utc("2026-11-16T18:00:00+08:00");
	v = (struct sl_iv *)&q;	// must be reset
	n = count(&q, &v);
	ok(n == 0 && v == NULL, "a day all busy: zero slots, *out NULL");
	busy[0].end = utc("2026-11-16T17:30:00+08:00");
	n = count(&q, &v);
	ok(n == 1 && strcmp(local(v[0].start, z),
	    "2026-11-16T17:30:00+08:00") == 0, "busy to 17:30: only 17:30");
	free(v);

	/* two busy stretches; the pointer must not skip the second */
	busy[0].start = utc("2026-11-16T09:00:00+08:00");
	busy[0].end = utc("2026-11-16T09:20:00+08:00");
	busy[1].start = utc("2026-11-16T09:40:00+08:00");
	busy[1].end = utc("2026-11-16T17:00:00+08:00");
	q.nbusy = 2;
	n = count(&q, &v);
	ok(n == 2 && strcmp(local(v[0].start, z),
	    "2026-11-16T17:00:00+08:00") == 0, "busy 09:00-09:20, "
	    "09:40-17:00: 17:00 and 17:30");
	free(v);
}

static void
window(void)
{
	const struct sl_zone *z = zone("Asia/Makassar");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL, *all = NULL;
	long n, k;
	int same = 1, i;

	weekdays(&h, 9 * 60, 18 * 60);
	query(&q, z, &h, "2026-11-16T09:10:00+08:00", 1);
	q.notice_min = 60;
	n = count(&q, &v);
	ok(n > 0 && strcmp(local(v[0].start, z),
	    "2026-11-16T10:30:00+08:00") == 0,
	    "now 09:10 with an hour's notice: first 10:30");
	is_int(n, 16, "15 left on Monday and Tuesday 09:00 (before 09:10)");
	free(v);
	q.notice_min = 50;
	n = count(&q, &v);
	ok(n > 0 && strcmp(local(v[0].start, z),
	    "2026-11-16T10:00:00+08:00") == 0, "notice ending 10:00: 10:00");
	free(v);

	query(&q, z, &h, "2026-11-16T00:00:00+08:00", 7);
	q.from = utc("2026-11-16T10:15:00+08:00");
	q.to = utc("2026-11-16T12:00:00+08:00");
	n = count(&q, &v);
	ok(n == 3 && strcmp(local(v[0].start, z),
	    "2026-11-16T10:30:00+08:00") == 0 && strcmp(local(v[2].start,
	    z), "2026-11-16T11:30:00+08:00") == 0,
	    "window [10:15, 12:00): 10:30, 11:00, 11:30");
	free(v);
	q.to = utc("2026-11-16T12:00:01+08:00");
	is_int(count(&q, &v), 4, "a start at to - 1s is inside");
	free(v);
	q.to = q.from;
	ok(count(&q, &v) == 0 && v == NULL, "an empty window: no slots");
	q.from = utc("2026-11-16T00:00:00+08:00");
	q.to = utc("2026-11-23T00:00:00+08:00");
	q.now = utc("2026-11-30T00:00:00+08:00");
	ok(count(&q, &v) == 0 && v == NULL, "a window in the past: none");

	/* limit */
	q.now = q.from;
	n = count(&q, &all);
	q.limit = 5;
	k = count(&q, &v);
	for (i = 0; i < 5 && k == 5; i++)
		same &= v[i].start == all[i].start;
	ok(n == 90 && k == 5 && same, "limit 5: the first five of 90");
	free(v);
	q.limit = 1000;
	is_int(count(&q, &v), 90, "a limit above the count changes nothing");
	free(v);
	free(all);
}

static void
daily_cap(void)
{
	const struct sl_zone *z = zone("Asia/Makassar");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL;
	int64_t booked[4];
	long n;

	weekdays(&h, 9 * 60, 18 * 60);
	query(&q, z, &h, "2026-11-16T00:00:00+08:00", 5);
	q.daily_cap = 2;
	booked[0] = utc("2026-11-17T10:00:00+08:00");	// Tuesday
	booked[1] = utc("2026-11-18T00:30:00+08:00");	// Wednesday, 16:30Z Tue
	q.booked = booked;
	q.nbooked = 2;
	n = count(&q, &v);
	is_int(n, 5 * 18, "one booked on Tuesday and on Wednesday: all open");
	is_int(on_day(v, (size_t)n, z, "2026-11-18"), 18,
	    "the cap counts booked meetings, not the slots offered");
	free(v);
	booked[2] = utc("2026-11-17T17:00:00+08:00");
	q.nbooked = 3;
	n = count(&q, &v);
	is_int(n, 4 * 18, "two booked on Tuesday: Tuesday offers nothing");
	is_int(on_day(v, (size_t)n, z, "2026-11-17"), 0, "none on Tuesday");
	is_int(on_day(v, (size_t)n, z, "2026-11-18"), 18,
	    "00:30 local counts for Wednesday, not for the UTC date");
	free(v);
	booked[3] = utc("2026-11-17T23:59:59+08:00");
	q.nbooked = 4;
	q.daily_cap = 3;
	is_int(count(&q, &v), 4 * 18, "cap 3, three on Tuesday (any order)");
	free(v);
	q.daily_cap = 0;
	ok(count(&q, &v) == 0 && v == NULL, "cap 0: nothing at all");
	q.daily_cap = -1;
	is_int(count(&q, &v), 5 * 18, "cap -1: no cap");
	free(v);
}

/*
 * Every quarter hour of two Berlin weeks over the spring change, with
 * busy time, buffers, notice and a cap: sl_slot_is_free says 1 exactly
 * for the starts sl_slots_free lists.
 */
static void
agreement(void)
{
	const struct sl_zone *z = zone("Europe/Berlin");
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *v = NULL, busy[40];
	int64_t t, booked[2];
	size_t n, i, k = 0, nb;
	long bad = 0, yes = 0;
	int f;

	weekdays(&h, 9 * 60, 18 * 60);
	h.iv[0][0].start = 0;		// and Sunday round the clock
	h.iv[0][0].end = 1440;
	h.n[0] = 1;
	query(&q, z, &h, "2026-03-23T00:00:00+01:00", 14);
	q.now = utc("2026-03-23T11:05:00+01:00");
	q.notice_min = 120;
	q.duration_min = 45;
	q.buffer_before_min = 10;
	q.buffer_after_min = 5;
	q.daily_cap = 1;
	booked[0] = utc("2026-03-25T12:00:00+01:00");
	booked[1] = utc("2026-04-02T12:00:00+02:00");
	q.booked = booked;
	q.nbooked = 2;
	for (nb = 0; nb < 40; nb++) {
		busy[nb].start = q.from + (int64_t)nb * 30000 + 3000;
		busy[nb].end = busy[nb].start + 1800 + (int64_t)(nb % 5) * 900;
	}
	nb = sl_iv_normalise(busy, nb);
	q.busy = busy;
	q.nbusy = nb;
	if (sl_slots_free(&q, &v, &n) < 0) {
		ok(0, "agreement: query failed");
		return;
	}
	for (t = q.from; t < q.to; t += 900) {
		while (k < n && v[k].start < t)
			k++;
		f = sl_slot_is_free(&q, t);
		if (f != (k < n && v[k].start == t)) {
			if (bad++ < 5)
				diag("disagree at %s: is_free %d", local(t, z),
				    f);
		}
		yes += f;
	}
	is_int(bad, 0, "sl_slot_is_free agrees on every quarter hour");
	ok(yes == (long)n && n > 50, "and finds all %zu slots", n);
	ok(well_formed(v, n, &q), "the mixed query's slots are well formed");
	for (i = 0, f = 1; i < n; i++) {
		f &= v[i].start >= q.now + 120 * 60;
		f &= strncmp(local(v[i].start, z), "2026-03-25", 10) != 0;
		f &= strncmp(local(v[i].start, z), "2026-04-02", 10) != 0;
	}
	ok(f, "notice and cap respected in the mixed query");
	free(v);

	/* one start re-checked */
	query(&q, zone("Asia/Makassar"), &h, "2026-11-16T00:00:00+08:00", 1);
	ok(sl_slot_is_free(&q, utc("2026-11-16T09:00:00+08:00")) == 1,
	    "is_free: 09:00 Monday");
	ok(sl_slot_is_free(&q, utc("2026-11-16T09:15:00+08:00")) == 0,
	    "is_free: 09:15 is off the grid");
	ok(sl_slot_is_free(&q, utc("2026-11-16T09:00:30+08:00")) == 0,
	    "is_free: 09:00:30 is off the grid");
	ok(sl_slot_is_free(&q, utc("2026-11-16T17:30:00+08:00")) == 1 &&
	    sl_slot_is_free(&q, utc("2026-11-16T18:00:00+08:00")) == 0,
	    "is_free: 17:30 fits, 18:00 does not");
	ok(sl_slot_is_free(&q, utc("2026-11-21T10:00:00+08:00")) == 0,
	    "is_free: Saturday is not worked");
	ok(sl_slot_is_free(&q, utc("2026-11-30T10:00:00+08:00")) == 1,
	    "is_free: from/to are ignored");
	q.now = utc("2026-11-16T09:10:00+08:00");
	ok(sl_slot_is_free(&q, utc("2026-11-16T09:00:00+08:00")) == 0,
	    "is_free: notice is not ignored (a start in the past)");
	/* the second 02:30 of 25 October is not a slot; the first is */
	query(&q, z, &h, "2026-10-25T00:00:00+02:00", 1);
	q.now = utc("2026-03-01T00:00:00Z");
	ok(sl_slot_is_free(&q, utc("2026-10-25T00:30:00Z")) == 1 &&
	    sl_slot_is_free(&q, utc("2026-10-25T01:30:00Z")) == 0,
	    "is_free: of two 02:30s only the first (CEST) one");
	ok(sl_slot_is_free(&q, utc("2026-03-29T01:00:00Z")) == 1 &&
	    sl_slot_is_free(&q, utc("2026-03-29T00:30:00Z")) == 1,
	    "is_free: 03:00 CEST and 01:30 CET on the spring day");
}

static void
bad_queries(void)
{
	const struct sl_zone *z = zone("Asia/Makassar");
	struct sl_rep_hours h;
	struct sl_slot_query q, good;
	struct sl_iv *v = NULL, busy[2];
	size_t n = 7;
	int64_t t = utc("2026-11-16T09:00:00+08:00");

	weekdays(&h, 9 * 60, 18 * 60);
	query(&good, z, &h, "2026-11-16T00:00:00+08:00", 1);
#define BAD(change, name) do { \
	q = good; \
	change; \
	v = (struct sl_iv *)&q; \
	ok(sl_slots_free(&q, &v, &n) == -1 && v == NULL && n == 0 && \
	    sl_slot_is_free(&q, t) == 0, "bad query: %s", name); \
} while (0)
	BAD(q.zone = NULL, "no zone");
	BAD(q.hours = NULL, "no hours");
	BAD(q.duration_min = 0, "duration 0");
	BAD(q.duration_min = -30, "duration < 0");
	BAD(q.step_min = 0, "step 0");
	BAD(q.buffer_before_min = -1, "a negative buffer");
	BAD(q.notice_min = -5, "a negative notice");
	BAD(q.now = SL_TIME_MAX + 1, "now out of range");
	BAD(q.nbusy = 1, "nbusy without busy");
	BAD((q.busy = busy, q.nbusy = 2, busy[0].start = t + 3600,
	    busy[0].end = t + 7200, busy[1].start = t, busy[1].end = t + 60),
	    "busy not sorted");
	BAD((q.busy = busy, q.nbusy = 1, busy[0].start = t,
	    busy[0].end = t), "an empty busy interval");
	BAD(h.iv[2][0].end = 1441, "hours past midnight");
	h.iv[2][0].end = 18 * 60;
	BAD(h.iv[2][0].start = 18 * 60, "hours with start = end");
	h.iv[2][0].start = 9 * 60;
	BAD(h.n[3] = SL_REP_MAX_IV + 1, "too many intervals");
	h.n[3] = 1;
	BAD((h.n[4] = 2, h.iv[4][1].start = 10 * 60, h.iv[4][1].end = 11 * 60),
	    "overlapping hours");
	h.n[4] = 1;
#undef BAD
	q = good;
	q.to = q.from - 1;
	ok(sl_slots_free(&q, &v, &n) == -1, "to before from: -1");
	ok(sl_slot_is_free(&q, t) == 1, "is_free ignores to before from");
	ok(sl_slots_free(&good, NULL, &n) == -1 &&
	    sl_slots_free(&good, &v, NULL) == -1 &&
	    sl_slots_free(NULL, &v, &n) == -1 && sl_slot_is_free(NULL, t) == 0,
	    "NULL arguments: -1");
	q = good;
	q.from = INT64_MIN;
	q.to = INT64_MAX;
	q.limit = 3;
	ok(sl_slots_free(&q, &v, &n) == 0 && n == 3 &&
	    strcmp(local(v[0].start, z), "2026-11-16T09:00:00+08:00") == 0,
	    "an unbounded window is clamped, not a failure");
	free(v);
}

static void
normalise(void)
{
	struct sl_iv v[8] = {
		{ 50, 60 }, { 10, 20 }, { 15, 30 }, { 30, 40 },
		{ 70, 70 }, { 80, 75 }, { 0, 5 }, { 52, 55 },
	};
	size_t n;

	n = sl_iv_normalise(v, 8);
	ok(n == 3 && v[0].start == 0 && v[0].end == 5 && v[1].start == 10 &&
	    v[1].end == 40 && v[2].start == 50 && v[2].end == 60,
	    "normalise: sorts, merges overlapping and touching, drops empty");
	is_int((long long)sl_iv_normalise(v, 0), 0, "normalise: none");
	is_int((long long)sl_iv_normalise(NULL, 3), 0, "normalise: NULL");
	v[0].start = 5;
	v[0].end = 5;
	is_int((long long)sl_iv_normalise(v, 1), 0, "normalise: one empty");
	v[0] = (struct sl_iv){ 0, 100 };
	v[1] = (struct sl_iv){ 10, 20 };
	v[2] = (struct sl_iv){ 100, 101 };
	n = sl_iv_normalise(v, 3);
	ok(n == 1 && v[0].start == 0 && v[0].end == 101,
	    "normalise: nested and touching become one");
}

int
main(void)
{
	sl_init("unit-slots");
	makassar();
	berlin_dst();
	busy_and_buffers();
	window();
	daily_cap();
	agreement();
	bad_queries();
	normalise();
	sl_zone_free_all();
	return done_testing();
}
