/*
 * tests/bench/calfree.c: the computation behind cal-free, in CPU time
 * (getrusage), without process start or the ledger:
 *
 *   query  sl_slots_free for a rep in Europe/Berlin (Mon-Fri 09:00-18:00,
 *          30-minute grid, buffers, notice, a daily cap with bookings)
 *          with 2,000 busy intervals over a 60-day horizon that crosses
 *          the March DST change; the target is under 1 ms per query
 *   check  sl_slot_is_free on every slot found, as zoom-book re-checks
 *   ics    sl_ics_busy on a generated calendar of 2,000 events, one in
 *          ten a weekly recurrence with EXDATEs, expanded over 60 days
 *
 *	calfree [QUERIES]
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ics.h"
#include "rep.h"
#include "sl.h"
#include "slots.h"
#include "timeutil.h"

#define NBUSY 2000
#define DAYS 60
#define NEVENTS 2000

static uint64_t rnd = 0x9e3779b97f4a7c15u;
static volatile int64_t sink;

static uint64_t
next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Busy time at any minute of the horizon, 10 to 25 minutes long: dense
 * enough that most slots are taken, sparse enough that most intervals
 * stay apart after sl_iv_normalise.
 */
static size_t
make_busy(struct sl_iv *v, int64_t from)
{
	size_t i;

	for (i = 0; i < NBUSY; i++) {
		v[i].start = from + (int64_t)(next() % (DAYS * 1440)) * 60;
		v[i].end = v[i].start + (int64_t)(10 + next() % 16) * 60;
	}
	return sl_iv_normalise(v, NBUSY);
}

static int
bench_query(const struct sl_zone *z, long nq)
{
	struct sl_rep_hours h;
	struct sl_slot_query q;
	struct sl_iv *busy = sl_calloc(NBUSY, sizeof *busy), *out = NULL;
	int64_t booked[20];
	size_t n = 0, i, nfree = 0;
	double t0, tq, tc;
	long k;
	int d, rc = 1;

	memset(&h, 0, sizeof h);
	for (d = 1; d <= 5; d++) {
		h.iv[d][0].start = 9 * 60;
		h.iv[d][0].end = 18 * 60;
		h.n[d] = 1;
	}
	memset(&q, 0, sizeof q);
	q.zone = z;
	q.hours = &h;
	q.now = q.from = INT64_C(1772438400);	// 2026-03-02T08:00:00Z
	q.to = q.from + DAYS * 86400;
	q.duration_min = 30;
	q.step_min = 30;
	q.buffer_before_min = 10;
	q.buffer_after_min = 10;
	q.notice_min = 120;
	q.daily_cap = 4;
	for (i = 0; i < 20; i++)
		booked[i] = q.from + (int64_t)(next() % DAYS) * 86400 + 36000;
	q.booked = booked;
	q.nbooked = 20;
	q.busy = busy;
	q.nbusy = make_busy(busy, q.from);
	t0 = cpu();
	for (k = 0; k < nq; k++) {
		free(out);
		if (sl_slots_free(&q, &out, &n) < 0) {
			fprintf(stderr, "bench calfree: query failed\n");
			goto out;
		}
	}
	tq = (cpu() - t0) / (double)nq;
	t0 = cpu();
	for (k = 0; k < 20; k++)
		for (i = 0; i < n; i++)
			nfree += (size_t)sl_slot_is_free(&q, out[i].start);
	tc = (cpu() - t0) / (double)(20 * (n ? n : 1));
	if (nfree != 20 * n) {
		fprintf(stderr, "bench calfree: sl_slot_is_free disagrees\n");
		goto out;
	}
	printf("cal-free: %d busy intervals (%zu merged), %d days: "
	    "%.0f queries/s, %.1f us CPU per query (target < 1000 us), "
	    "%zu slots each\n", NBUSY, q.nbusy, DAYS, 1 / tq, tq * 1e6, n);
	printf("cal-free: sl_slot_is_free: %.0f ns CPU per re-check\n",
	    tc * 1e9);
	rc = 0;
out:
	free(out);
	free(busy);
	return rc;
}

struct text {
	char *s;
	size_t n, cap;
};

SL_PRINTF(2, 3) static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int m;

	va_start(ap, fmt);
	m = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->n + (size_t)m + 1 > t->cap) {
		t->cap = (t->n + (size_t)m + 1) * 2;
		t->s = sl_realloc(t->s, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	t->n += (size_t)m;
}

/*
 * NEVENTS events over the horizon, as a calendar program exports them:
 * CRLF, folded summaries; every tenth a weekly call (MO, WE, FR at a
 * Berlin wall time, through the DST change) with an EXDATE, the others
 * single meetings in UTC of 15 to 90 minutes.
 */
static char *
make_calendar(int64_t from, size_t *len)
{
	struct text t = { NULL, 0, 0 };
	char a[SL_TIME_BUFSZ];
	int i;

	add(&t, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//salesline//bench//EN\r\n");
	for (i = 0; i < NEVENTS; i++) {
		add(&t, "BEGIN:VEVENT\r\nUID:%d@bench\r\nSUMMARY:Meeting %d "
		    "with a summary long enough to be folded over two lines\r\n"
		    " of the file\r\n", i, i);
		if (i % 10 == 0) {
			add(&t, "DTSTART;TZID=Europe/Berlin:"
			    "202603%02dT%02d%02d00\r\nDURATION:PT45M\r\n"
			    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;"
			    "UNTIL=20260601T000000Z\r\nEXDATE;"
			    "TZID=Europe/Berlin:202604%02dT%02d%02d00\r\n",
			    2 + i % 5, 8 + i % 9, i % 2 * 30, 6 + i % 3,
			    8 + i % 9, i % 2 * 30);
		} else {
			sl_time_fmt(from + (int64_t)(next() % (DAYS * 48)) *
			    1800, a);
			add(&t, "DTSTART:%.4s%.2s%.2sT%.2s%.2s00Z\r\n"
			    "DURATION:PT%dM\r\n", a, a + 5, a + 8, a + 11,
			    a + 14, 15 * (1 + (int)(next() % 6)));
		}
		add(&t, "END:VEVENT\r\n");
	}
	add(&t, "END:VCALENDAR\r\n");
	*len = t.n;
	return t.s;
}

static int
bench_ics(const struct sl_zone *z)
{
	int64_t from = INT64_C(1772438400);
	struct sl_iv *iv = NULL;
	size_t len, n = 0, cap = 0, skipped;
	char err[256], *text = make_calendar(from, &len);
	double t0, t;
	int k, r = 0, reps = 50;

	t0 = cpu();
	for (k = 0; k < reps; k++) {
		n = 0;
		r = sl_ics_busy(text, len, from, from + DAYS * 86400, z, &iv,
		    &n, &cap, &skipped, err, sizeof err);
		if (r != NEVENTS || skipped) {
			fprintf(stderr, "bench calfree: sl_ics_busy: %d events,"
			    " %zu skipped: %s\n", r, skipped, err);
			free(iv);
			free(text);
			return 1;
		}
	}
	t = (cpu() - t0) / reps;
	printf("cal-free: .ics of %d events (%d weekly), %.0f KB: %.2f ms CPU "
	    "per read (%.0f MB/s), %zu busy intervals over %d days\n",
	    NEVENTS, NEVENTS / 10, (double)len / 1024, t * 1e3,
	    (double)len / t / 1048576, n, DAYS);
	sink = iv[0].start;
	free(iv);
	free(text);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct sl_zone *z;
	long nq = argc > 1 ? atol(argv[1]) : 5000;
	int rc;

	sl_init("bench-calfree");
	if (nq <= 0)
		nq = 5000;
	if (!(z = sl_zone_load("Europe/Berlin"))) {
		fprintf(stderr, "bench calfree: no zone 'Europe/Berlin'\n");
		return 1;
	}
	rc = bench_query(z, nq);
	rc |= bench_ics(z);
	sl_zone_free_all();
	return rc;
}
