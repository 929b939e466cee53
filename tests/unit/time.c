/*
 * time.c: unit tests for lib/timeutil.c.
 *
 * Expectations come from outside the code under test: values from zdump(8)
 * and date(1) written down by hand, a naive day-by-day calendar walk, and
 * glibc's localtime_r (with TZ set, in this test only) swept over
 * 1900-2500 in a set of zones, refined to the exact second of every
 * transition.  Hand-made TZif files check the footer rules (slim files, v3
 * times, Jn and n dates) against glibc given the same POSIX TZ string, and
 * damaged files must be refused without a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl.h"
#include "tap.h"
#include "timeutil.h"

#define DAY 86400
#define ZONEINFO "/usr/share/zoneinfo"

static char tmpdir[] = "/tmp/sl-time-XXXXXX";

/*
 * Helpers
 */

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

static void
civil_str(const struct sl_tm *tm, char *buf, size_t n)
{
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d", tm->year, tm->mon,
	    tm->mday, tm->hour, tm->min, tm->sec);
}

static int64_t
local_secs(const struct sl_tm *tm)
{
	return sl_days_from_civil(tm->year, tm->mon, tm->mday) * DAY +
	    tm->hour * 3600 + tm->min * 60 + tm->sec;
}

static int
same_civil(const struct sl_tm *a, const struct sl_tm *b)
{
	return a->year == b->year && a->mon == b->mon && a->mday == b->mday &&
	    a->hour == b->hour && a->min == b->min && a->sec == b->sec;
}

static int
same_tm(const struct sl_tm *a, const struct sl_tm *b)
{
	return same_civil(a, b) && a->wday == b->wday && a->yday == b->yday &&
	    a->gmtoff == b->gmtoff && a->isdst == b->isdst &&
	    strcmp(a->abbr, b->abbr) == 0;
}

static void
tm_str(const struct sl_tm *tm, char *buf, size_t n)
{
	char c[32];

	civil_str(tm, c, sizeof c);
	snprintf(buf, n, "%s wday=%d yday=%d off=%d dst=%d %s", c, tm->wday,
	    tm->yday, tm->gmtoff, tm->isdst, tm->abbr);
}

/* A copy in a buffer of exactly its size, so ASan sees any overread. */
static char *
exact(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (!p)
		exit(2);
	memcpy(p, s, n);
	return p;
}

/* s with control and non-ASCII bytes as \xNN, for test names. */
static const char *
vis(const char *s)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ % 4];
	size_t n = 0;

	for (; *s && n + 5 < sizeof buf[0]; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(b + n, 5, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	b[n] = '\0';
	return b;
}

/*
 * The glibc oracle
 */

static void
oracle_zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int
oracle(int64_t t, struct sl_tm *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	memset(out, 0, sizeof *out);
	if (!localtime_r(&tt, &tm))
		return -1;
	out->year = tm.tm_year + 1900;
	out->mon = tm.tm_mon + 1;
	out->mday = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->min = tm.tm_min;
	out->sec = tm.tm_sec;
	out->wday = tm.tm_wday;
	out->yday = tm.tm_yday;
	out->isdst = tm.tm_isdst > 0;
	strftime(out->abbr, sizeof out->abbr, "%Z", &tm);
	out->gmtoff = (int)(local_secs(out) - t);
	return 0;
}

struct stats {
	long checks, bad;
};

static void
report(struct stats *st, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct stats *st, const char *what, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (st->bad++ >= 8)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag("%s: %s", what, msg);
}

/* Compares sl_to_local with glibc at t; glibc's answer goes to want. */
static void
check_instant(const struct sl_zone *z, const char *name, int64_t t,
    struct sl_tm *want, struct stats *st)
{
	struct sl_tm a;
	char sa[128], sb[128];

	st->checks++;
	if (oracle(t, want) < 0)
		return;
	if (sl_to_local(t, z, &a) < 0) {
		report(st, name, "sl_to_local(%lld) failed", (long long)t);
		return;
	}
	if (!same_tm(&a, want)) {
		tm_str(&a, sa, sizeof sa);
		tm_str(want, sb, sizeof sb);
		report(st, name, "t=%lld got %s want %s", (long long)t, sa, sb);
	}
}

/*
 * Local fields to an instant, judged by glibc: the result shows exactly
 * those fields and no earlier instant does, or the fields fall into a gap
 * and the result is the time read with the offset from before the gap.
 */
static void
check_local(const struct sl_zone *z, const char *name, const struct sl_tm *in,
    struct stats *st)
{
	static const int probes[] = { 86400, 10800, 7200, 3600, 1800, 900 };
	struct sl_tm g, p;
	int64_t l = local_secs(in), r, r2;
	size_t i;
	char s[32];

	st->checks++;
	civil_str(in, s, sizeof s);
	if (sl_from_local(in, z, &r) < 0) {
		report(st, name, "sl_from_local(%s) failed", s);
		return;
	}
	if (oracle(r, &g) < 0)
		return;
	if (local_secs(&g) == l) {
		for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
			if (oracle(r - probes[i], &p) < 0)
				continue;
			r2 = l - p.gmtoff;
			if (r2 < r && oracle(r2, &p) == 0 &&
			    local_secs(&p) == l)
				report(st, name, "%s: %lld, but %lld is "
				    "earlier", s, (long long)r, (long long)r2);
		}
		return;
	}
	/* A gap of d seconds: d before r, the old offset was in force. */
	r2 = local_secs(&g) - l;
	if (r2 <= 0 || r2 > DAY || oracle(r - r2, &p) < 0 ||
	    p.gmtoff != g.gmtoff - r2)
		report(st, name, "%s: %lld shows offset %d, local moved %lld",
		    s, (long long)r, g.gmtoff, (long long)r2);
}

static void
check_local_around(const struct sl_zone *z, const char *name, int64_t t,
    struct stats *st)
{
	static const int deltas[] = { 0, 60, -60, 1800, -1800, 5400, -5400 };
	struct sl_tm tm, n;
	int64_t l;
	size_t i;

	if (sl_to_local(t, z, &tm) < 0)
		return;
	l = local_secs(&tm);
	for (i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
		/* The fields of l + delta, built independently of the zone. */
		int64_t x = l + deltas[i], days;
		int secs;

		days = x / DAY - (x % DAY < 0);
		secs = (int)(x - days * DAY);
		memset(&n, 0, sizeof n);
		sl_civil_from_days(days, &n.year, &n.mon, &n.mday);
		n.hour = secs / 3600;
		n.min = secs / 60 % 60;
		n.sec = secs % 60;
		check_local(z, name, &n, st);
	}
}

static int
same_type(const struct sl_tm *x, const struct sl_tm *y)
{
	return x->gmtoff == y->gmtoff && x->isdst == y->isdst &&
	    strcmp(x->abbr, y->abbr) == 0;
}

/*
 * Samples every step seconds; where glibc's answer changes between two
 * samples, bisects to the transition and checks both sides of it.  Local
 * to UTC is checked around every transition and at every 16th sample.
 */
static void
sweep(const struct sl_zone *z, const char *name, int64_t from, int64_t to,
    int64_t step, int locals, struct stats *st)
{
	struct sl_tm prev, cur, lo_tm, mid_tm, x;
	int64_t t, lo, hi, mid;
	long k = 0;

	for (t = from; t <= to; t += step, k++) {
		check_instant(z, name, t, &cur, st);
		if (locals && k % 16 == 0)
			check_local_around(z, name, t, st);
		if (t != from && !same_type(&prev, &cur)) {
			lo = t - step;
			lo_tm = prev;
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (oracle(mid, &mid_tm) == 0 &&
				    same_type(&lo_tm, &mid_tm))
					lo = mid;
				else
					hi = mid;
			}
			check_instant(z, name, hi - 1, &x, st);
			check_instant(z, name, hi, &x, st);
			check_instant(z, name, hi + 1, &x, st);
			if (locals) {
				check_local_around(z, name, hi - 1, st);
				check_local_around(z, name, hi, st);
			}
		}
		prev = cur;
	}
}

/*
 * Civil dates
 */

static int
naive_leap(int y)
{
	if (y % 400 == 0)
		return 1;
	if (y % 100 == 0)
		return 0;
	return y % 4 == 0;
}

static void
test_civil(void)
{
	static const int mlen[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, n, yy, mm, dd;
	int64_t day, bad = 0, bad2 = 0;

	is_int(sl_days_from_civil(1970, 1, 1), 0, "days: 1970-01-01 is 0");
	is_int(sl_days_from_civil(2000, 3, 1), 11017, "days: 2000-03-01");
	is_int(sl_days_from_civil(1969, 12, 31), -1, "days: 1969-12-31");
	is_int(sl_days_from_civil(0, 1, 1), -719528, "days: 0000-01-01");
	is_int(sl_days_from_civil(9999, 12, 31), 2932896, "days: 9999-12-31");
	is_int(sl_days_from_civil(1900, 3, 1), -25508, "days: 1900-03-01");
	is_int(sl_days_from_civil(2024, 2, 29), 19782, "days: 2024-02-29");
	is_int(sl_days_from_civil(2023, 13, 1), sl_days_from_civil(2024, 1, 1),
	    "days: month 13 is January next year");
	is_int(sl_days_from_civil(2024, 0, 1), sl_days_from_civil(2023, 12, 1),
	    "days: month 0 is December last year");
	is_int(sl_days_from_civil(2024, 3, 0), sl_days_from_civil(2024, 2, 29),
	    "days: March 0 2024 is February 29");
	is_int(sl_days_from_civil(1900, 3, 0), sl_days_from_civil(1900, 2, 28),
	    "days: March 0 1900 is February 28 (1900 not leap)");
	is_int(sl_days_from_civil(2000, 3, 0), sl_days_from_civil(2000, 2, 29),
	    "days: March 0 2000 is February 29 (2000 leap)");
	is_int(sl_days_from_civil(-1, 12, 31), -719529, "days: year -1");

	/* Walk the calendar a day at a time from 0000-01-01 to 9999-12-31. */
	day = sl_days_from_civil(0, 1, 1);
	for (y = 0; y <= 9999; y++) {
		for (m = 1; m <= 12; m++) {
			n = mlen[m - 1] + (m == 2 && naive_leap(y));
			for (d = 1; d <= n; d++, day++) {
				if (sl_days_from_civil(y, m, d) != day)
					bad++;
				sl_civil_from_days(day, &yy, &mm, &dd);
				if (yy != y || mm != m || dd != d)
					bad2++;
			}
		}
	}
	is_int(bad, 0, "days: sl_days_from_civil matches a naive walk, "
	    "0000-9999");
	is_int(bad2, 0, "days: sl_civil_from_days matches a naive walk, "
	    "0000-9999");
	sl_civil_from_days(-719529, &y, &m, &d);
	ok(y == -1 && m == 12 && d == 31, "days: back to year -1 (%d-%d-%d)",
	    y, m, d);
}

/*
 * RFC 3339
 */

static void
test_parse(void)
{
	static const struct {
		const char *s;
		int64_t t;
	} good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-22T10:00:00Z", INT64_C(1795341600) },
		{ "2026-11-22T18:00:00+08:00", INT64_C(1795341600) },
		{ "2026-11-22T05:30:00-04:30", INT64_C(1795341600) },
		{ "2026-11-22t10:00:00z", INT64_C(1795341600) },
		{ "2026-11-22 10:00:00Z", INT64_C(1795341600) },
		{ "2026-11-22T10:00:00.5Z", INT64_C(1795341600) },
		{ "2026-11-22T10:00:00.999999999Z", INT64_C(1795341600) },
		{ "2026-11-22T10:00:00.12345678901234567890123456789Z",
			INT64_C(1795341600) },
		{ "2026-11-22T10:00:00.0+00:00", INT64_C(1795341600) },
		{ "2026-11-22T10:00:00-00:00", INT64_C(1795341600) },
		{ "1969-12-31T23:59:59Z", -1 },
		{ "1900-03-01T00:00:00Z", INT64_C(-2203891200) },
		{ "1600-02-29T00:00:00Z", INT64_C(-11670998400) },
		{ "2000-02-29T00:00:00Z", INT64_C(951782400) },
		{ "2024-02-29T12:00:00Z", INT64_C(1709208000) },
		{ "0000-01-01T00:00:00Z", INT64_C(-62167219200) },
		{ "0000-02-29T00:00:00Z", INT64_C(-62162121600) },
		{ "9999-12-31T23:59:59Z", INT64_C(253402300799) },
		{ "2016-12-31T23:59:60Z", INT64_C(1483228799) },
		{ "2024-01-01T00:00:00+23:59", INT64_C(1704067200) - 86340 },
		{ "2024-01-01T00:00:00-23:59", INT64_C(1704067200) + 86340 },
	};
	static const char *const bad[] = {
		"", "Z", "2024", "2024-01-01", "2024-01-01T",
		"2024-01-01T00:00",
		"2024-01-01T00:00Z", "2024-01-01T00:00:00",
		"2024-01-01T00:00:00 Z", " 2024-01-01T00:00:00Z",
		"2024-01-01T00:00:00Z ", "2024-01-01T00:00:00Zjunk",
		"2024-01-01T00:00:00ZZ", "2024-01-01T00:00:00Z\n",
		"2024-01-01T00:00:00.Z", "2024-01-01T00:00:00,5Z",
		"2024-01-01T00:00:00.5", "2024-01-01T00:00:00..5Z",
		"2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+05:60",
		"2024-01-01T00:00:00+0500", "2024-01-01T00:00:00+05",
		"2024-01-01T00:00:00+5:00", "2024-01-01T00:00:00+05:00:00",
		"2024-01-01T00:00:00UTC", "2024-01-01T00:00:00+05:00Z",
		"2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
		"2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z",
		"2024-01-32T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T23:60:00Z", "2024-01-01T23:59:61Z",
		"2024-1-01T00:00:00Z", "2024-01-1T00:00:00Z",
		"24-01-01T00:00:00Z", "02024-01-01T00:00:00Z",
		"+2024-01-01T00:00:00Z", "-2024-01-01T00:00:00Z",
		"2024/01/01T00:00:00Z", "2024-01-01X00:00:00Z",
		"2024-01-01_00:00:00Z", "2024-01-01T00-00-00Z",
		"2024-01-01T0:00:00Z", "2024-01-01T00:0:00Z",
		"2024-01-01T00:00:0Z", "20240101T000000Z",
		"2024-01-01T00:00:00\xff", "2024-01-01T00:00:00.\xff",
		"2024-0a-01T00:00:00Z", "1e3", "now", "1700000000",
	};
	size_t i, n, j;
	int64_t t;
	char *p, *q;
	const char *full = "2026-11-22T18:00:00.25+08:00";

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		p = exact(good[i].s);
		t = 42;
		ok(sl_time_parse(p, &t) == 0 && t == good[i].t,
		    "parse '%s' = %lld (got %lld)", good[i].s,
		    (long long)good[i].t, (long long)t);
		free(p);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p = exact(bad[i]);
		t = 42;
		ok(sl_time_parse(p, &t) == -1 && t == 42, "parse rejects '%s'",
		    vis(bad[i]));
		free(p);
	}
	ok(sl_time_parse(NULL, &t) == -1, "parse rejects NULL");
	/* Every proper prefix of a valid timestamp, each in its own buffer. */
	n = strlen(full);
	for (i = j = 0; i < n; i++) {
		q = malloc(i + 1);
		if (!q)
			exit(2);
		memcpy(q, full, i);
		q[i] = '\0';
		if (sl_time_parse(q, &t) == 0)
			j++;
		free(q);
	}
	is_int((long long)j, 0, "parse rejects every prefix of a timestamp");
}

static void
test_fmt(void)
{
	char buf[SL_TIME_BUFSZ];
	const struct sl_zone *z;
	int64_t t, back;
	long bad = 0, i;
	uint64_t x = 88172645463325252u;

	is_str(sl_time_fmt(0, buf), "1970-01-01T00:00:00Z", "fmt 0");
	is_str(sl_time_fmt(-1, buf), "1969-12-31T23:59:59Z", "fmt -1");
	is_str(sl_time_fmt(1709208000, buf), "2024-02-29T12:00:00Z",
	    "fmt leap day");
	is_str(sl_time_fmt(SL_TIME_MIN, buf), "0000-01-01T00:00:00Z",
	    "fmt SL_TIME_MIN");
	is_str(sl_time_fmt(SL_TIME_MAX, buf), "9999-12-31T23:59:59Z",
	    "fmt SL_TIME_MAX");
	ok(sl_time_fmt(SL_TIME_MIN - 1, buf) == NULL && buf[0] == '\0',
	    "fmt refuses year -1");
	ok(sl_time_fmt(SL_TIME_MAX + 1, buf) == NULL, "fmt refuses year 10000");
	ok(sl_time_fmt(INT64_MAX, buf) == NULL, "fmt refuses INT64_MAX");
	ok(sl_time_fmt(INT64_MIN, buf) == NULL, "fmt refuses INT64_MIN");

	/* Random instants over the whole range survive fmt and parse. */
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = SL_TIME_MIN + (int64_t)(x % (uint64_t)(SL_TIME_MAX -
		    SL_TIME_MIN + 1));
		if (!sl_time_fmt(t, buf) || sl_time_parse(buf, &back) < 0 ||
		    back != t)
			bad++;
	}
	is_int(bad, 0, "fmt then parse gives the instant back (200000 random)");

	z = sl_zone_load("Asia/Makassar");
	is_str(sl_time_fmt_local(utc("2026-11-22T10:00:00Z"), z, buf),
	    "2026-11-22T18:00:00+08:00", "fmt_local Makassar");
	z = sl_zone_load("America/New_York");
	is_str(sl_time_fmt_local(utc("2024-07-04T16:00:00Z"), z, buf),
	    "2024-07-04T12:00:00-04:00", "fmt_local New York summer");
	is_str(sl_time_fmt_local(utc("2024-01-04T17:00:00Z"), z, buf),
	    "2024-01-04T12:00:00-05:00", "fmt_local New York winter");
	z = sl_zone_load("Australia/Lord_Howe");
	is_str(sl_time_fmt_local(utc("2024-06-01T00:00:00Z"), z, buf),
	    "2024-06-01T10:30:00+10:30", "fmt_local Lord Howe");
	z = sl_zone_load("UTC");
	is_str(sl_time_fmt_local(0, z, buf), "1970-01-01T00:00:00+00:00",
	    "fmt_local UTC uses +00:00");
	z = sl_zone_load("UTC-05:30");
	is_str(sl_time_fmt_local(0, z, buf), "1969-12-31T18:30:00-05:30",
	    "fmt_local UTC-05:30");
	/* Berlin's LMT is +00:53:28; the minute is shown, the instant kept. */
	z = sl_zone_load("Europe/Berlin");
	t = utc("1850-01-01T00:00:00Z");
	is_str(sl_time_fmt_local(t, z, buf), "1850-01-01T00:53:00+00:53",
	    "fmt_local LMT with offset seconds");
	ok(sl_time_parse(buf, &back) == 0 && back == t,
	    "fmt_local LMT parses back to the same instant");
	ok(sl_time_fmt_local(0, NULL, buf) == NULL, "fmt_local NULL zone");
	ok(sl_time_fmt_local(SL_TIME_MAX, z, buf) == NULL,
	    "fmt_local refuses local year 10000");
	is_str(sl_time_fmt_local(SL_TIME_MIN, sl_zone_load("UTC+3"), buf),
	    "0000-01-01T03:00:00+03:00", "fmt_local at SL_TIME_MIN");
}

/*
 * SALESLINE_NOW
 */

/* sl_now() in a child: its exit status and what it wrote to stderr. */
static int
now_child(const char *val, char *err, size_t errsz)
{
	int fds[2], status;
	pid_t pid;
	ssize_t r;
	size_t n = 0;

	if (pipe(fds) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		setenv("SALESLINE_NOW", val, 1);
		sl_now();
		_exit(0);
	}
	close(fds[1]);
	while (n + 1 < errsz &&
	    (r = read(fds[0], err + n, errsz - n - 1)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	err[n] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_now(void)
{
	static const char *const bad[] = {
		"yesterday", "12abc", "2026-11-22", "--5", "-", "+5", "5 ",
		" 5", "1.5", "99999999999999999999999", "253402300800",
		"-62167219201", "2026-11-22T10:00:00", "0x10",
	};
	char err[512];
	int64_t t, real;
	size_t i;
	int rc;

	setenv("SALESLINE_NOW", "2026-11-22T10:00:00Z", 1);
	is_int(sl_now(), 1795341600, "now: RFC 3339");
	setenv("SALESLINE_NOW", "2026-11-22T18:00:00.5+08:00", 1);
	is_int(sl_now(), 1795341600, "now: RFC 3339 with offset and fraction");
	setenv("SALESLINE_NOW", "1795341600", 1);
	is_int(sl_now(), 1795341600, "now: Unix seconds");
	setenv("SALESLINE_NOW", "-86400", 1);
	is_int(sl_now(), -86400, "now: negative Unix seconds");
	setenv("SALESLINE_NOW", "0", 1);
	is_int(sl_now(), 0, "now: zero");
	setenv("SALESLINE_NOW", "253402300799", 1);
	is_int(sl_now(), SL_TIME_MAX, "now: the largest Unix seconds");
	setenv("SALESLINE_NOW", "", 1);
	real = (int64_t)time(NULL);
	t = sl_now();
	ok(t >= real && t <= real + 5, "now: empty means the real clock");
	unsetenv("SALESLINE_NOW");
	t = sl_now();
	ok(t >= real && t <= real + 5, "now: unset means the real clock");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = now_child(bad[i], err, sizeof err);
		ok(rc == SL_EX_CONFIG && strstr(err, "bad SALESLINE_NOW") &&
		    strstr(err, "expected RFC 3339 or Unix seconds"),
		    "now: '%s' exits 78 naming the variable (%d)", bad[i], rc);
	}
}

/*
 * Zone names and fixed offsets
 */

static void
test_names(void)
{
	static const char *const bad[] = {
		"", "../etc/passwd", "/etc/localtime", "Nope/Nowhere",
		"Europe/../Europe/Berlin", "Europe/./Berlin", "./UTC",
		"Europe//Berlin", "Europe/Berlin/", "Europe/Berlin\n",
		"Europe/Berlin ", "Europe", "zone.tab", "tzdata.zi",
		"iso3166.tab", "leapseconds", "right/UTC", "Europe/Berlin;ls",
		"Europe\\Berlin", "$HOME", "~", "UTC+24", "UTC+3:5", "UTC+123",
		"UTC++3", "GMT+8x", "UTC+", "UTC-", "+", "+3:", "+03:0",
		"utc", "UTC+03:60", "Europe/Berlin\xc3\xa9",
	};
	static const struct {
		const char *name;
		int off;
		const char *abbr;
	} fixed[] = {
		{ "UTC", 0, "UTC" }, { "GMT", 0, "GMT" }, { "Z", 0, "UTC" },
		{ "UTC+3", 10800, "+03" }, { "UTC-05:30", -19800, "-0530" },
		{ "GMT+8", 28800, "+08" }, { "+03:00", 10800, "+03" },
		{ "-0230", -9000, "-0230" }, { "UTC+14", 50400, "+14" },
		{ "UTC-12", -43200, "-12" }, { "UTC+5:45", 20700, "+0545" },
		{ "UTC+0", 0, "UTC" }, { "GMT-0", 0, "GMT" },
	};
	const struct sl_zone *z, *z2;
	struct sl_tm tm;
	char *big;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		z = sl_zone_load(bad[i]);
		ok(z == NULL, "zone: '%s' refused", vis(bad[i]));
		ok(sl_zone_load(bad[i]) == NULL, "zone: '%s' refused again",
		    vis(bad[i]));
	}
	ok(sl_zone_load(NULL) == NULL, "zone: NULL refused");
	big = malloc(5000);
	if (!big)
		exit(2);
	memset(big, 'A', 4999);
	big[4999] = '\0';
	ok(sl_zone_load(big) == NULL, "zone: a 5000-character name refused");
	free(big);
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		z = sl_zone_load(fixed[i].name);
		ok(z && sl_to_local(0, z, &tm) == 0 &&
		    tm.gmtoff == fixed[i].off && tm.isdst == 0 &&
		    strcmp(tm.abbr, fixed[i].abbr) == 0,
		    "zone: fixed '%s' is %d '%s'", fixed[i].name, fixed[i].off,
		    fixed[i].abbr);
	}
	z = sl_zone_load("Etc/GMT+3");
	ok(z && sl_to_local(0, z, &tm) == 0 && tm.gmtoff == -10800,
	    "zone: the file Etc/GMT+3 keeps POSIX's sign (UTC-3)");
	z = sl_zone_load("Europe/Berlin");
	z2 = sl_zone_load("Europe/Berlin");
	ok(z && z == z2, "zone: loaded once, then cached");
	is_str(sl_zone_name(z), "Europe/Berlin", "zone: name");
	is_str(sl_zone_name(sl_zone_load("UTC+3")), "UTC+3",
	    "zone: name of a fixed offset");
	ok(sl_to_local(0, NULL, &tm) == -1, "to_local: NULL zone");
	ok(sl_to_local(INT64_MAX, z, &tm) == -1, "to_local: INT64_MAX");
	ok(sl_to_local(INT64_MIN, z, &tm) == -1, "to_local: INT64_MIN");
}

/*
 * Known instants, from zdump -v
 */

static void
test_known(void)
{
	static const struct {
		const char *zone, *utc, *local;
		int off, isdst;
		const char *abbr;
	} c[] = {
		{ "Europe/Berlin", "2024-03-31T00:59:59Z",
		    "2024-03-31T01:59:59", 3600, 0, "CET" },
		{ "Europe/Berlin", "2024-03-31T01:00:00Z",
		    "2024-03-31T03:00:00", 7200, 1, "CEST" },
		{ "Europe/Berlin", "2024-10-27T00:59:59Z",
		    "2024-10-27T02:59:59", 7200, 1, "CEST" },
		{ "Europe/Berlin", "2024-10-27T01:00:00Z",
		    "2024-10-27T02:00:00", 3600, 0, "CET" },
		{ "Europe/Berlin", "2100-03-28T00:59:59Z",
		    "2100-03-28T01:59:59", 3600, 0, "CET" },
		{ "Europe/Berlin", "2100-03-28T01:00:00Z",
		    "2100-03-28T03:00:00", 7200, 1, "CEST" },
		{ "Europe/Berlin", "2100-10-31T00:59:59Z",
		    "2100-10-31T02:59:59", 7200, 1, "CEST" },
		{ "Europe/Berlin", "2100-10-31T01:00:00Z",
		    "2100-10-31T02:00:00", 3600, 0, "CET" },
		{ "Europe/Berlin", "9999-03-28T01:00:00Z",
		    "9999-03-28T03:00:00", 7200, 1, "CEST" },
		{ "Europe/Berlin", "9999-10-31T01:00:00Z",
		    "9999-10-31T02:00:00", 3600, 0, "CET" },
		{ "Europe/Berlin", "1960-01-01T00:00:00Z",
		    "1960-01-01T01:00:00", 3600, 0, "CET" },
		{ "Europe/Berlin", "1850-01-01T00:00:00Z",
		    "1850-01-01T00:53:28", 3208, 0, "LMT" },
		{ "America/New_York", "2024-03-10T06:59:59Z",
		    "2024-03-10T01:59:59", -18000, 0, "EST" },
		{ "America/New_York", "2024-03-10T07:00:00Z",
		    "2024-03-10T03:00:00", -14400, 1, "EDT" },
		{ "America/New_York", "2024-11-03T05:59:59Z",
		    "2024-11-03T01:59:59", -14400, 1, "EDT" },
		{ "America/New_York", "2024-11-03T06:00:00Z",
		    "2024-11-03T01:00:00", -18000, 0, "EST" },
		{ "America/New_York", "2100-03-14T07:00:00Z",
		    "2100-03-14T03:00:00", -14400, 1, "EDT" },
		{ "America/New_York", "2100-11-07T06:00:00Z",
		    "2100-11-07T01:00:00", -18000, 0, "EST" },
		{ "America/New_York", "1960-07-01T12:00:00Z",
		    "1960-07-01T08:00:00", -14400, 1, "EDT" },
		{ "Europe/Moscow", "2011-03-26T22:59:59Z",
		    "2011-03-27T01:59:59", 10800, 0, "MSK" },
		{ "Europe/Moscow", "2011-03-26T23:00:00Z",
		    "2011-03-27T03:00:00", 14400, 0, "MSK" },
		{ "Europe/Moscow", "2014-10-25T21:59:59Z",
		    "2014-10-26T01:59:59", 14400, 0, "MSK" },
		{ "Europe/Moscow", "2014-10-25T22:00:00Z",
		    "2014-10-26T01:00:00", 10800, 0, "MSK" },
		{ "Europe/Moscow", "2010-07-01T00:00:00Z",
		    "2010-07-01T04:00:00", 14400, 1, "MSD" },
		{ "Europe/Moscow", "2100-07-01T00:00:00Z",
		    "2100-07-01T03:00:00", 10800, 0, "MSK" },
		{ "Asia/Makassar", "1980-01-01T00:00:00Z",
		    "1980-01-01T08:00:00", 28800, 0, "WITA" },
		{ "Asia/Makassar", "2026-11-22T10:00:00Z",
		    "2026-11-22T18:00:00", 28800, 0, "WITA" },
		{ "Asia/Makassar", "2100-07-01T00:00:00Z",
		    "2100-07-01T08:00:00", 28800, 0, "WITA" },
		{ "Australia/Lord_Howe", "2024-04-06T14:59:59Z",
		    "2024-04-07T01:59:59", 39600, 1, "+11" },
		{ "Australia/Lord_Howe", "2024-04-06T15:00:00Z",
		    "2024-04-07T01:30:00", 37800, 0, "+1030" },
		{ "Australia/Lord_Howe", "2024-10-05T15:29:59Z",
		    "2024-10-06T01:59:59", 37800, 0, "+1030" },
		{ "Australia/Lord_Howe", "2024-10-05T15:30:00Z",
		    "2024-10-06T02:30:00", 39600, 1, "+11" },
		{ "Australia/Lord_Howe", "2100-10-02T15:30:00Z",
		    "2100-10-03T02:30:00", 39600, 1, "+11" },
		{ "Pacific/Apia", "2011-12-30T09:59:59Z", "2011-12-29T23:59:59",
		    -36000, 1, "-10" },
		{ "Pacific/Apia", "2011-12-30T10:00:00Z", "2011-12-31T00:00:00",
		    50400, 1, "+14" },
		{ "Pacific/Apia", "2024-06-01T00:00:00Z", "2024-06-01T13:00:00",
		    46800, 0, "+13" },
		{ "UTC", "1969-12-31T23:59:59Z", "1969-12-31T23:59:59", 0, 0,
		    "UTC" },
	};
	static const struct {
		const char *utc;
		int wday, yday;
	} w[] = {
		{ "1970-01-01T00:00:00Z", 4, 0 },
		{ "1969-12-31T23:59:59Z", 3, 364 },
		{ "2024-02-29T00:00:00Z", 4, 59 },
		{ "2024-03-01T00:00:00Z", 5, 60 },
		{ "2024-12-31T00:00:00Z", 2, 365 },
		{ "2023-12-31T00:00:00Z", 0, 364 },
		{ "2000-02-29T12:00:00Z", 2, 59 },
		{ "1900-03-01T00:00:00Z", 4, 59 },
		{ "0000-01-01T00:00:00Z", 6, 0 },
		{ "9999-12-31T23:59:59Z", 5, 364 },
	};
	const struct sl_zone *z, *u = sl_zone_load("UTC");
	struct sl_tm tm;
	char got[32];
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		z = sl_zone_load(c[i].zone);
		memset(&tm, 0, sizeof tm);
		if (!z || sl_to_local(utc(c[i].utc), z, &tm) < 0) {
			ok(0, "known: %s %s loads", c[i].zone, c[i].utc);
			continue;
		}
		civil_str(&tm, got, sizeof got);
		ok(strcmp(got, c[i].local) == 0 && tm.gmtoff == c[i].off &&
		    tm.isdst == c[i].isdst && strcmp(tm.abbr, c[i].abbr) == 0,
		    "known: %s %s is %s %d %d %s (got %s %d %d %s)", c[i].zone,
		    c[i].utc, c[i].local, c[i].off, c[i].isdst, c[i].abbr, got,
		    tm.gmtoff, tm.isdst, tm.abbr);
	}
	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		memset(&tm, 0, sizeof tm);
		sl_to_local(utc(w[i].utc), u, &tm);
		ok(tm.wday == w[i].wday && tm.yday == w[i].yday,
		    "known: %s wday %d yday %d (got %d %d)", w[i].utc,
		    w[i].wday, w[i].yday, tm.wday, tm.yday);
	}
}

/*
 * Local time to UTC
 */

static void
test_from_local(void)
{
	static const struct {
		const char *zone;
		int y, mo, d, h, mi, s;
		const char *want;	// NULL: out of range
		const char *why;
	} c[] = {
		{ "Europe/Berlin", 2024, 7, 1, 12, 0, 0, "2024-07-01T10:00:00Z",
		    "summer" },
		{ "Europe/Berlin", 2024, 1, 15, 12, 0, 0,
		    "2024-01-15T11:00:00Z", "winter" },
		{ "Europe/Berlin", 2024, 3, 31, 2, 30, 0,
		    "2024-03-31T01:30:00Z", "gap: 02:30 is 03:30 CEST" },
		{ "Europe/Berlin", 2024, 3, 31, 2, 0, 0, "2024-03-31T01:00:00Z",
		    "gap start" },
		{ "Europe/Berlin", 2024, 3, 31, 3, 0, 0, "2024-03-31T01:00:00Z",
		    "just after the gap" },
		{ "Europe/Berlin", 2024, 3, 31, 1, 59, 59,
		    "2024-03-31T00:59:59Z", "just before the gap" },
		{ "Europe/Berlin", 2024, 10, 27, 2, 30, 0,
		    "2024-10-27T00:30:00Z", "ambiguous: the earlier" },
		{ "Europe/Berlin", 2024, 10, 27, 2, 0, 0,
		    "2024-10-27T00:00:00Z", "ambiguous start" },
		{ "Europe/Berlin", 2024, 10, 27, 3, 0, 0,
		    "2024-10-27T02:00:00Z", "after the overlap" },
		{ "Europe/Berlin", 2024, 10, 27, 1, 59, 59,
		    "2024-10-26T23:59:59Z", "before the overlap" },
		{ "Europe/Berlin", 2100, 3, 28, 2, 30, 0,
		    "2100-03-28T01:30:00Z", "2100 gap (footer)" },
		{ "Europe/Berlin", 2100, 10, 31, 2, 30, 0,
		    "2100-10-31T00:30:00Z", "2100 overlap (footer)" },
		{ "Europe/Berlin", 2100, 7, 1, 12, 0, 0, "2100-07-01T10:00:00Z",
		    "2100 summer (footer)" },
		{ "Europe/Berlin", 9999, 12, 31, 12, 0, 0,
		    "9999-12-31T11:00:00Z", "year 9999" },
		{ "Europe/Berlin", 1960, 1, 1, 1, 0, 0, "1960-01-01T00:00:00Z",
		    "before 1970" },
		{ "America/New_York", 2024, 3, 10, 2, 30, 0,
		    "2024-03-10T07:30:00Z", "gap: 02:30 is 03:30 EDT" },
		{ "America/New_York", 2024, 11, 3, 1, 30, 0,
		    "2024-11-03T05:30:00Z", "ambiguous: EDT" },
		{ "America/New_York", 2024, 11, 3, 2, 0, 0,
		    "2024-11-03T07:00:00Z", "after the overlap" },
		{ "America/New_York", 2100, 3, 14, 2, 30, 0,
		    "2100-03-14T07:30:00Z", "2100 gap" },
		{ "America/New_York", 2100, 11, 7, 1, 30, 0,
		    "2100-11-07T05:30:00Z", "2100 overlap" },
		{ "Europe/Moscow", 2011, 3, 27, 2, 30, 0,
		    "2011-03-26T23:30:00Z", "2011 gap to +04" },
		{ "Europe/Moscow", 2011, 7, 1, 12, 0, 0, "2011-07-01T08:00:00Z",
		    "2011 summer +04" },
		{ "Europe/Moscow", 2012, 1, 1, 12, 0, 0, "2012-01-01T08:00:00Z",
		    "2012 winter +04" },
		{ "Europe/Moscow", 2014, 10, 26, 1, 30, 0,
		    "2014-10-25T21:30:00Z", "2014 overlap: +04" },
		{ "Europe/Moscow", 2014, 10, 26, 2, 0, 0,
		    "2014-10-25T23:00:00Z", "2014 after: +03" },
		{ "Europe/Moscow", 2024, 6, 1, 12, 0, 0, "2024-06-01T09:00:00Z",
		    "2024 +03" },
		{ "Asia/Makassar", 2024, 6, 1, 8, 0, 0, "2024-06-01T00:00:00Z",
		    "no DST" },
		{ "Asia/Makassar", 2100, 1, 1, 8, 0, 0, "2100-01-01T00:00:00Z",
		    "no DST 2100" },
		{ "Australia/Lord_Howe", 2024, 10, 6, 2, 15, 0,
		    "2024-10-05T15:45:00Z", "30-minute gap" },
		{ "Australia/Lord_Howe", 2024, 4, 7, 1, 45, 0,
		    "2024-04-06T14:45:00Z", "30-minute overlap" },
		{ "Australia/Lord_Howe", 2024, 4, 7, 2, 0, 0,
		    "2024-04-06T15:30:00Z", "after the overlap" },
		{ "Pacific/Apia", 2011, 12, 30, 12, 0, 0,
		    "2011-12-30T22:00:00Z", "a skipped day" },
		{ "Pacific/Apia", 2011, 12, 30, 0, 0, 0, "2011-12-30T10:00:00Z",
		    "start of the skipped day" },
		{ "Pacific/Apia", 2011, 12, 29, 23, 59, 59,
		    "2011-12-30T09:59:59Z", "before the skipped day" },
		{ "Pacific/Apia", 2011, 12, 31, 0, 0, 0, "2011-12-30T10:00:00Z",
		    "after the skipped day" },
		{ "Europe/Berlin", 2024, 13, 1, 12, 0, 0,
		    "2025-01-01T11:00:00Z", "month 13" },
		{ "Europe/Berlin", 2024, 0, 1, 12, 0, 0, "2023-12-01T11:00:00Z",
		    "month 0" },
		{ "Europe/Berlin", 2024, -13, 1, 12, 0, 0,
		    "2022-11-01T11:00:00Z", "month -13" },
		{ "Europe/Berlin", 2024, 3, 0, 12, 0, 0, "2024-02-29T11:00:00Z",
		    "mday 0" },
		{ "Europe/Berlin", 2024, 1, 32, 12, 0, 0,
		    "2024-02-01T11:00:00Z", "mday 32" },
		{ "Europe/Berlin", 2024, 2, 30, 12, 0, 0,
		    "2024-03-01T11:00:00Z", "February 30" },
		{ "Europe/Berlin", 2023, 12, 31, 24, 0, 0,
		    "2023-12-31T23:00:00Z", "hour 24" },
		{ "Europe/Berlin", 2023, 12, 31, 25, 0, 0,
		    "2024-01-01T00:00:00Z", "hour 25" },
		{ "Europe/Berlin", 2024, 1, 1, 0, -1, 0, "2023-12-31T22:59:00Z",
		    "minute -1" },
		{ "Europe/Berlin", 2024, 1, 1, 0, 0, 3600,
		    "2024-01-01T00:00:00Z", "second 3600" },
		{ "Europe/Berlin", 2024, 3, 30, 26, 30, 0,
		    "2024-03-31T01:30:00Z", "normalised into the gap" },
		{ "UTC+3", 2024, 1, 1, 3, 0, 0, "2024-01-01T00:00:00Z",
		    "fixed UTC+3" },
		{ "UTC-05:30", 2024, 1, 1, 0, 0, 0, "2024-01-01T05:30:00Z",
		    "fixed UTC-05:30" },
		{ "Europe/Berlin", 10500, 1, 1, 0, 0, 0, NULL, "year 10500" },
		{ "Europe/Berlin", -500, 1, 1, 0, 0, 0, NULL, "year -500" },
		{ "Europe/Berlin", 2147483647, 12, 31, 0, 0, 0, NULL,
		    "year INT_MAX" },
		{ "Europe/Berlin", -2147483647 - 1, 1, 1, 0, 0, 0, NULL,
		    "year INT_MIN" },
		{ "Europe/Berlin", 2024, 2147483647, 1, 0, 0, 0, NULL,
		    "month INT_MAX" },
		{ "Europe/Berlin", 2024, 1, 2147483647, 0, 0, 0, NULL,
		    "mday INT_MAX" },
		{ "Europe/Berlin", 2024, 1, 1, -2147483647 - 1, -2147483647 - 1,
			-2147483647 - 1, NULL, "hour, min, sec INT_MIN" },
		{ "Europe/Berlin", 2024, 1, 1, 0, 2147483647, 0,
		    "6107-01-24T01:07:00Z", "min INT_MAX" },
	};
	const struct sl_zone *z;
	struct sl_tm tm;
	int64_t t;
	char buf[SL_TIME_BUFSZ];
	int rc;
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		z = sl_zone_load(c[i].zone);
		memset(&tm, 0, sizeof tm);
		tm.year = c[i].y;
		tm.mon = c[i].mo;
		tm.mday = c[i].d;
		tm.hour = c[i].h;
		tm.min = c[i].mi;
		tm.sec = c[i].s;
		t = 0;
		rc = sl_from_local(&tm, z, &t);
		if (!c[i].want) {
			ok(rc == -1, "from_local: %s %s refused", c[i].zone,
			    c[i].why);
			continue;
		}
		if (rc < 0 || !sl_time_fmt(t, buf))
			buf[0] = '\0';
		ok(rc == 0 && strcmp(buf, c[i].want) == 0,
		    "from_local: %s %s: %s (got %s)", c[i].zone, c[i].why,
		    c[i].want, buf);
	}
	ok(sl_from_local(&tm, NULL, &t) == -1, "from_local: NULL zone");
}

/*
 * Sweeps against glibc
 */

static const char *const dense_zones[] = {
	"Europe/Berlin", "America/New_York", "Europe/Moscow", "Asia/Makassar",
	"Australia/Lord_Howe", "Pacific/Apia", "Europe/Dublin",
	"America/Sao_Paulo", "Asia/Tehran", "America/St_Johns",
	"Pacific/Chatham", "Africa/Casablanca", "America/Nuuk",
	"Antarctica/Troll", "Asia/Jerusalem", "Asia/Kolkata",
	"America/Santiago", "Pacific/Kiritimati", "America/Adak", "Asia/Gaza",
	"Europe/London", "Australia/Sydney", "America/Los_Angeles",
	"Asia/Singapore",
};

static void
test_sweep(void)
{
	const struct sl_zone *z;
	struct stats st;
	size_t i;
	int64_t y1900 = utc("1900-01-01T00:00:00Z");
	int64_t y2040 = utc("2040-01-01T00:00:00Z");
	int64_t y2500 = utc("2500-01-01T00:00:00Z");

	for (i = 0; i < sizeof dense_zones / sizeof dense_zones[0]; i++) {
		memset(&st, 0, sizeof st);
		z = sl_zone_load(dense_zones[i]);
		if (!z) {
			ok(0, "sweep: %s loads", dense_zones[i]);
			continue;
		}
		oracle_zone(dense_zones[i]);
		sweep(z, dense_zones[i], y1900, y2040,
		    (i < 6 ? DAY : 3 * DAY) + 3637, 1, &st);
		sweep(z, dense_zones[i], y2040, y2500, 5 * DAY + 3637, 1, &st);
		sweep(z, dense_zones[i], SL_TIME_MAX - 400 * DAY,
		    SL_TIME_MAX - 2 * DAY, 3 * DAY + 7, 1, &st);
		ok(st.bad == 0 && st.checks > 20000,
		    "sweep: %s agrees with glibc 1900-2500 and 9999 "
		    "(%ld checks, %ld bad)", dense_zones[i], st.checks, st.bad);
	}
	unsetenv("TZ");
	tzset();
}

/* Every zone in zone1970.tab loads and agrees with glibc, sampled. */
static void
test_all_zones(void)
{
	FILE *f;
	char line[1024], *p, *name;
	const struct sl_zone *z;
	struct sl_tm tm;
	struct stats st = { 0, 0 };
	long nzones = 0, failed = 0;
	int64_t from = utc("1970-01-01T00:00:00Z");
	int64_t to = utc("2070-01-01T00:00:00Z");
	size_t i, n;

	f = fopen(ZONEINFO "/zone1970.tab", "r");
	if (!f) {
		ok(1, "# SKIP no " ZONEINFO "/zone1970.tab");
		return;
	}
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		/* code TAB coordinates TAB name [TAB comment] */
		p = line;
		for (i = 0; i < 2 && (p = strchr(p, '\t')); i++)
			p++;
		if (!p)
			continue;
		name = p;
		n = strcspn(name, "\t\n");
		name[n] = '\0';
		nzones++;
		z = sl_zone_load(name);
		if (!z) {
			if (failed++ < 8)
				diag("cannot load '%s'", name);
			continue;
		}
		oracle_zone(name);
		sweep(z, name, from, to, 17 * DAY + 3637, 0, &st);
		check_instant(z, name, utc("2300-07-01T00:00:00Z"), &tm, &st);
		check_instant(z, name, utc("2300-01-01T00:00:00Z"), &tm, &st);
	}
	fclose(f);
	unsetenv("TZ");
	tzset();
	ok(nzones > 300 && failed == 0, "all zones: %ld in zone1970.tab load "
	    "(%ld failed)", nzones, failed);
	is_int(st.bad, 0, "all zones: agree with glibc 1970-2070 and 2300");
}

/*
 * Hand-made TZif files
 */

struct tzbuf {
	unsigned char b[8192];
	size_t n;
};

static void
put_u8(struct tzbuf *b, unsigned v)
{
	if (b->n < sizeof b->b)
		b->b[b->n++] = (unsigned char)v;
}

static void
put_be32(struct tzbuf *b, int64_t v)
{
	uint32_t u = (uint32_t)(v & 0xffffffff);

	put_u8(b, u >> 24);
	put_u8(b, (u >> 16) & 0xff);
	put_u8(b, (u >> 8) & 0xff);
	put_u8(b, u & 0xff);
}

static void
put_be64(struct tzbuf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;

	put_be32(b, (int64_t)(u >> 32));
	put_be32(b, (int64_t)(u & 0xffffffff));
}

struct tzdesc {
	int version;			// 0, '2', '3'
	int ntrans;
	const int64_t *trans;
	const unsigned char *idx;
	int ntypes;
	const int32_t *offs;
	const unsigned char *dst;
	const unsigned char *ai;
	const char *chars;		// NULs included
	int nchars;
	const char *footer;		// NULL: none (v1)
	int leap;			// leap-second records to add
};

static void
put_block(struct tzbuf *b, const struct tzdesc *d, int tsz)
{
	int i;

	for (i = 0; i < 4; i++)
		put_u8(b, (unsigned char)"TZif"[i]);
	put_u8(b, (unsigned)d->version);
	for (i = 0; i < 15; i++)
		put_u8(b, 0);
	put_be32(b, 0);			// isutcnt
	put_be32(b, 0);			// isstdcnt
	put_be32(b, d->leap);
	put_be32(b, d->ntrans);
	put_be32(b, d->ntypes);
	put_be32(b, d->nchars);
	for (i = 0; i < d->ntrans; i++) {
		if (tsz == 8)
			put_be64(b, d->trans[i]);
		else
			put_be32(b, d->trans[i]);
	}
	for (i = 0; i < d->ntrans; i++)
		put_u8(b, d->idx[i]);
	for (i = 0; i < d->ntypes; i++) {
		put_be32(b, d->offs[i]);
		put_u8(b, d->dst[i]);
		put_u8(b, d->ai[i]);
	}
	for (i = 0; i < d->nchars; i++)
		put_u8(b, (unsigned char)d->chars[i]);
	for (i = 0; i < d->leap; i++) {
		if (tsz == 8)
			put_be64(b, 78796800 + i);
		else
			put_be32(b, 78796800 + i);
		put_be32(b, i + 1);
	}
}

static void
tz_build(struct tzbuf *b, const struct tzdesc *d)
{
	const char *p;

	b->n = 0;
	put_block(b, d, 4);
	if (d->version == 0)
		return;
	put_block(b, d, 8);
	put_u8(b, '\n');
	for (p = d->footer; p && *p; p++)
		put_u8(b, (unsigned char)*p);
	put_u8(b, '\n');
}

static int
write_file(const char *name, const void *data, size_t n)
{
	char path[512];
	int fd;
	ssize_t w;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	w = write(fd, data, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* A slim-style file: no transitions, one type, all in the footer. */
static int
write_footer_zone(const char *name, const char *footer)
{
	static const int32_t offs[] = { 0 };
	static const unsigned char dst[] = { 0 }, ai[] = { 0 };
	struct tzdesc d = { '3', 0, NULL, NULL, 1, offs, dst, ai, "XXX", 4,
		NULL, 0 };
	struct tzbuf b;

	d.footer = footer;
	tz_build(&b, &d);
	return write_file(name, b.b, b.n);
}

static void
test_footers(void)
{
	static const char *const footers[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"<+08>-8",
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
		"IST-2IDT,M3.4.4/26,M10.5.0",
		"EET-2EEST,M3.4.4/50,M10.4.4/50",
		"EET-2EEST,M4.5.5/0,M10.5.4/24",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",
		"IST-1GMT0,M10.5.0,M3.5.0/1",
		"NST3:30NDT,M3.2.0,M11.1.0",
		"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
		"XST3XDT,J60/2,J300/2",
		"YST3YDT,59/2,300/2",
		"<+0545>-5:45",
		"UTC0",
		"ABC+3:30:15DEF+2,M3.1.0/-23:59:59,M11.5.6/167",
		"<-01>1<+00>,M3.5.0/0,M10.5.0/1",
	};
	static const char *const bad[] = {
		"CET-1CEST,M13.5.0,M10.5.0/3", "CET-1CEST,M3.6.0,M10.5.0/3",
		"CET-1CEST,M3.5.7,M10.5.0/3", "CET-1CEST,M3.5.0", "CET",
		"<+08-8", "<>-8", "AB-1", "CET-25", "CET-1CEST,J0,J365",
		"CET-1CEST,J366,J365", "CET-1CEST,366,1",
		"CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0,M10.5.0/3x",
		"CET-1:60", "CET-1CEST,,", "CET-1CEST,M3.5.0,", "CET-1 ",
		"-1", "CET1:2:3:4", "CET-1CEST-2CEST",
		"CET-1CEST,M3..0,M10.5.0",
		"CET-1CEST,M3.5.0/,M10.5.0", "CET--1",
	};
	static const struct {
		const char *footer, *utc;
		int off, isdst;
	} nyc[] = {
		{ "JST-9JDT,J1/0,J365/23", "1971-12-31T12:59:59Z", 36000, 1 },
		{ "JST-9JDT,J1/0,J365/23", "1971-12-31T13:00:00Z", 32400, 0 },
		{ "JST-9JDT,J1/0,J365/23", "1971-12-31T14:59:59Z", 32400, 0 },
		{ "JST-9JDT,J1/0,J365/23", "1971-12-31T15:00:00Z", 36000, 1 },
		{ "JST-9JDT,J1/0,J365/23", "1971-12-31T17:35:50Z", 36000, 1 },
		{ "JST-9JDT,J1/0,J365/23", "1972-12-31T14:00:00Z", 32400, 0 },
		{ "QST-3QDT,0/1,365/1", "1971-12-31T20:59:59Z", 14400, 1 },
		{ "QST-3QDT,0/1,365/1", "1971-12-31T21:00:00Z", 10800, 0 },
		{ "QST-3QDT,0/1,365/1", "1971-12-31T21:59:59Z", 10800, 0 },
		{ "QST-3QDT,0/1,365/1", "1971-12-31T22:00:00Z", 14400, 1 },
		{ "QST-3QDT,0/1,365/1", "1972-12-30T20:59:59Z", 14400, 1 },
		{ "QST-3QDT,0/1,365/1", "1972-12-30T21:00:00Z", 10800, 0 },
		{ "QST-3QDT,0/1,365/1", "1972-12-31T21:59:59Z", 10800, 0 },
		{ "QST-3QDT,0/1,365/1", "1972-12-31T22:00:00Z", 14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "1971-01-01T00:00:00Z", -14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "1971-01-01T04:59:59Z", -14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "1971-01-01T05:00:00Z", -14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "2024-12-31T23:00:00Z", -14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "2100-01-01T04:30:00Z", -14400, 1 },
		{ "EST5EDT4,0/0,J365/25", "2100-07-01T00:00:00Z", -14400, 1 },
	};
	const struct sl_zone *z;
	struct stats st;
	struct sl_tm tm, tm2;
	char name[64];
	size_t i;
	long nbad;
	int rc;
	int64_t t, t0, r;
	int64_t from = utc("1971-01-01T00:00:00Z");
	int64_t to = utc("2130-01-01T00:00:00Z");

	setenv("TZDIR", tmpdir, 1);
	for (i = 0; i < sizeof footers / sizeof footers[0]; i++) {
		snprintf(name, sizeof name, "footer%zu", i);
		if (write_footer_zone(name, footers[i]) < 0) {
			ok(0, "footer: write %s", name);
			continue;
		}
		z = sl_zone_load(name);
		if (!z) {
			ok(0, "footer: '%s' loads", footers[i]);
			continue;
		}
		memset(&st, 0, sizeof st);
		oracle_zone(footers[i]);
		sweep(z, footers[i], from, to, DAY + 3637, 1, &st);
		ok(st.bad == 0, "footer: '%s' agrees with glibc 1971-2130 "
		    "(%ld checks, %ld bad)", footers[i], st.checks, st.bad);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(name, sizeof name, "badfooter%zu", i);
		write_footer_zone(name, bad[i]);
		ok(sl_zone_load(name) == NULL, "footer: '%s' refused", bad[i]);
	}
	/*
	 * Changes near New Year, worked out by hand: glibc picks the rule of
	 * the UTC year, so it cannot judge these.  J365/25 is tzcode's idiom
	 * for DST all year.
	 */
	for (i = 0; i < sizeof nyc / sizeof nyc[0]; i++) {
		snprintf(name, sizeof name, "newyear%zu", i);
		write_footer_zone(name, nyc[i].footer);
		z = sl_zone_load(name);
		memset(&tm, 0, sizeof tm);
		rc = z ? sl_to_local(utc(nyc[i].utc), z, &tm) : -1;
		ok(rc == 0 && tm.gmtoff == nyc[i].off &&
		    tm.isdst == nyc[i].isdst,
		    "footer: '%s' at %s is %d (got %d)", nyc[i].footer,
		    nyc[i].utc, nyc[i].off, tm.gmtoff);
		if (!z)
			continue;
		/* Round trips over the turn of the year. */
		t0 = utc(nyc[i].utc);
		for (t = t0 - 2 * DAY, nbad = 0; t < t0 + 2 * DAY; t += 599) {
			if (sl_to_local(t, z, &tm) < 0 ||
			    sl_from_local(&tm, z, &r) < 0 || r > t ||
			    sl_to_local(r, z, &tm2) < 0 ||
			    !same_civil(&tm, &tm2))
				nbad++;
		}
		is_int(nbad, 0, "footer: round trips near that instant");
	}

	/* Without rules, DST follows the US rules (as tzcode does). */
	write_footer_zone("footer-norule", "EST5EDT");
	z = sl_zone_load("footer-norule");
	ok(z && sl_to_local(utc("2024-07-01T00:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -14400 && tm.isdst && strcmp(tm.abbr, "EDT") == 0,
	    "footer: 'EST5EDT' without rules uses M3.2.0,M11.1.0");
	ok(z && sl_to_local(utc("2024-03-10T06:59:59Z"), z, &tm) == 0 &&
	    tm.gmtoff == -18000, "footer: 'EST5EDT' before the change");
	ok(z && sl_to_local(utc("2024-03-10T07:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -14400, "footer: 'EST5EDT' after the change");
	/* An empty footer keeps the last type. */
	write_footer_zone("footer-empty", "");
	z = sl_zone_load("footer-empty");
	ok(z && sl_to_local(utc("2024-07-01T00:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == 0 && strcmp(tm.abbr, "XXX") == 0,
	    "footer: an empty footer keeps type 0");
	unsetenv("TZ");
	tzset();
	unsetenv("TZDIR");
}

/* Version 1, slim-with-transitions, and damaged files. */
static void
test_files(void)
{
	/* A version 1 zone: +01 until 1000000000, then +02 "BBB". */
	static const int64_t trans[] = { -1000000000, 1000000000 };
	static const unsigned char idx[] = { 1, 2 };
	static const int32_t offs[] = { 3600, 3600, 7200 };
	static const unsigned char dst[] = { 0, 0, 1 }, ai[] = { 0, 4, 8 };
	static const char chars[] = "LMT\0AAA\0BBB";
	struct tzdesc d = { 0, 2, trans, idx, 3, offs, dst, ai, chars, 12,
		NULL, 0 };
	/* Transitions up to 2000, then a footer (as a slim file). */
	static const int64_t trans2[] = { -2000000000, 946684800 };
	static const unsigned char idx2[] = { 0, 1 };
	static const int32_t offs2[] = { -18000, -14400 };
	static const unsigned char dst2[] = { 0, 1 }, ai2[] = { 0, 4 };
	struct tzdesc d2 = { '2', 2, trans2, idx2, 2, offs2, dst2, ai2,
		"EST\0EDT", 8, "EST5EDT,M3.2.0,M11.1.0", 0 };
	/* Hostile variants of d2. */
	static const int64_t down[] = { 946684800, -2000000000 };
	static const unsigned char badidx[] = { 1, 7 };
	static const int32_t hugeoff[] = { -18000, INT32_MAX };
	static const unsigned char badai[] = { 0, 200 };
	static const unsigned char baddst[] = { 0, 2 };
	const struct sl_zone *z;
	struct sl_tm tm;
	struct tzbuf b, m;
	struct tzdesc h;
	unsigned char *fat = NULL;
	size_t fatn = 0, i, loaded = 0;
	int64_t t, r;
	uint64_t x = 0x9e3779b97f4a7c15u;
	char name[64];
	FILE *f;

	setenv("TZDIR", tmpdir, 1);
	tz_build(&b, &d);
	write_file("v1", b.b, b.n);
	z = sl_zone_load("v1");
	ok(z != NULL, "file: version 1 loads");
	ok(z && sl_to_local(-2000000000, z, &tm) == 0 &&
	    strcmp(tm.abbr, "LMT") == 0, "file: v1 before the first "
	    "transition is type 0");
	ok(z && sl_to_local(0, z, &tm) == 0 && strcmp(tm.abbr, "AAA") == 0 &&
	    tm.gmtoff == 3600, "file: v1 between transitions");
	ok(z && sl_to_local(2000000000, z, &tm) == 0 &&
	    strcmp(tm.abbr, "BBB") == 0 && tm.gmtoff == 7200 && tm.isdst,
	    "file: v1 after the last transition keeps it");

	tz_build(&b, &d2);
	write_file("slim", b.b, b.n);
	z = sl_zone_load("slim");
	ok(z && sl_to_local(utc("1990-07-01T00:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -18000, "file: slim table part");
	ok(z && sl_to_local(utc("2030-07-01T00:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -14400 && tm.isdst, "file: slim footer summer");
	ok(z && sl_to_local(utc("2030-12-01T00:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -18000 && !tm.isdst, "file: slim footer winter");
	ok(z && sl_to_local(utc("1999-12-31T23:00:00Z"), z, &tm) == 0 &&
	    tm.gmtoff == -18000, "file: slim before its last transition");

	h = d2;
	h.trans = down;
	tz_build(&b, &h);
	write_file("down", b.b, b.n);
	ok(sl_zone_load("down") == NULL,
	    "file: descending transitions refused");
	h = d2;
	h.idx = badidx;
	tz_build(&b, &h);
	write_file("badidx", b.b, b.n);
	ok(sl_zone_load("badidx") == NULL,
	    "file: type index out of range refused");
	h = d2;
	h.offs = hugeoff;
	tz_build(&b, &h);
	write_file("hugeoff", b.b, b.n);
	ok(sl_zone_load("hugeoff") == NULL, "file: huge offset refused");
	h = d2;
	h.ai = badai;
	tz_build(&b, &h);
	write_file("badai", b.b, b.n);
	ok(sl_zone_load("badai") == NULL, "file: abbreviation index refused");
	h = d2;
	h.dst = baddst;
	tz_build(&b, &h);
	write_file("baddst", b.b, b.n);
	ok(sl_zone_load("baddst") == NULL, "file: isdst 2 refused");
	h = d2;
	h.chars = "EST\0EDTX";
	tz_build(&b, &h);
	write_file("nonul", b.b, b.n);
	ok(sl_zone_load("nonul") == NULL,
	    "file: unterminated abbreviation refused");
	h = d2;
	h.leap = 2;
	tz_build(&b, &h);
	write_file("leap", b.b, b.n);
	ok(sl_zone_load("leap") == NULL, "file: leap seconds refused");
	h = d2;
	h.ntypes = 0;
	tz_build(&b, &h);
	write_file("notypes", b.b, b.n);
	ok(sl_zone_load("notypes") == NULL, "file: no types refused");
	h = d2;
	h.version = '1';
	tz_build(&b, &h);
	write_file("v49", b.b, b.n);
	ok(sl_zone_load("v49") == NULL, "file: unknown version '1' refused");
	tz_build(&b, &d2);
	b.b[b.n - 1] = 'x';
	write_file("nonl", b.b, b.n);
	ok(sl_zone_load("nonl") == NULL,
	    "file: footer without newline refused");
	tz_build(&b, &d2);
	b.b[b.n - 5] = '\0';
	write_file("nulfooter", b.b, b.n);
	ok(sl_zone_load("nulfooter") == NULL, "file: NUL in footer refused");
	tz_build(&b, &d2);
	b.b[32] = 0x7f;			// v1 timecnt far beyond the file
	write_file("bigcount", b.b, b.n);
	ok(sl_zone_load("bigcount") == NULL, "file: huge count refused");
	write_file("empty", "", 0);
	ok(sl_zone_load("empty") == NULL, "file: empty file refused");
	snprintf(name, sizeof name, "%s/adir", tmpdir);
	mkdir(name, 0700);
	ok(sl_zone_load("adir") == NULL, "file: a directory refused");
	rmdir(name);

	/* Every prefix of a real file is refused; damage never crashes. */
	f = fopen(ZONEINFO "/Europe/Berlin", "rb");
	if (f) {
		fat = malloc(1 << 16);
		if (!fat)
			exit(2);
		fatn = fread(fat, 1, 1 << 16, f);
		fclose(f);
	}
	if (fatn > 100) {
		for (i = 0, loaded = 0; i < fatn; i++) {
			write_file("cut", fat, i);
			if (sl_zone_load("cut"))
				loaded++;
			sl_zone_free_all();
		}
		is_int((long long)loaded, 0, "file: every truncation refused");
		write_file("whole", fat, fatn);
		ok(sl_zone_load("whole") != NULL, "file: the whole copy loads");
		for (i = 0, loaded = 0; i < 3000; i++) {
			memcpy(m.b, fat, fatn);
			m.n = fatn;
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			m.b[x % fatn] = (unsigned char)(x >> 32);
			if (i % 3 == 0)
				m.b[(x >> 20) % fatn] ^=
				    (unsigned char)(1 << (x % 8));
			if (i % 5 == 0)
				m.b[44 + (x >> 40) % 24] =
				    (unsigned char)(x >> 8);
			snprintf(name, sizeof name, "mut%zu", i);
			write_file(name, m.b, m.n);
			z = sl_zone_load(name);
			if (!z)
				continue;
			loaded++;
			for (t = -5000000000; t < 9000000000; t += 123456789) {
				sl_to_local(t, z, &tm);
				sl_from_local(&tm, z, &r);
			}
			snprintf(name, sizeof name, "%s/mut%zu", tmpdir, i);
			unlink(name);
		}
		ok(1, "file: 3000 damaged copies survived (%zu loaded)",
		    loaded);
	} else {
		ok(1, "# SKIP no " ZONEINFO "/Europe/Berlin");
	}
	free(fat);
	sl_zone_free_all();
	unsetenv("TZDIR");
}

/* zic -b slim output gives the same answers as Debian's files. */
static void
test_zic_slim(void)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Europe/Moscow",
		"Australia/Lord_Howe", "Pacific/Apia", "Asia/Makassar",
		"America/Nuuk", "Europe/Dublin", "Asia/Jerusalem",
		"Africa/Casablanca", "America/Sao_Paulo", "Pacific/Chatham",
	};
	char cmd[1024], a[128], bname[128], sa[128], sb[128];
	const struct sl_zone *fat, *slim;
	struct sl_tm ta, tb;
	size_t i;
	int64_t t, r1, r2;
	long bad = 0, n = 0;
	int rc;

	if (access("/usr/sbin/zic", X_OK) != 0 ||
	    access(ZONEINFO "/tzdata.zi", R_OK) != 0) {
		ok(1, "# SKIP no zic or tzdata.zi");
		return;
	}
	snprintf(cmd, sizeof cmd, "/usr/sbin/zic -b slim -d %s/zic-slim "
	    ZONEINFO "/tzdata.zi 2>/dev/null", tmpdir);
	if ((rc = system(cmd)) != 0) {
		ok(1, "# SKIP zic failed (%d)", rc);
		return;
	}
	snprintf(a, sizeof a, "%s/zic-fat", tmpdir);
	if (symlink(ZONEINFO, a) < 0) {
		ok(0, "slim: symlink");
		return;
	}
	setenv("TZDIR", tmpdir, 1);
	for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		snprintf(a, sizeof a, "zic-fat/%s", zones[i]);
		snprintf(bname, sizeof bname, "zic-slim/%s", zones[i]);
		fat = sl_zone_load(a);
		slim = sl_zone_load(bname);
		if (!fat || !slim) {
			ok(0, "slim: %s loads (fat %p, slim %p)", zones[i],
			    (const void *)fat, (const void *)slim);
			continue;
		}
		for (t = utc("1900-01-01T00:00:00Z");
		    t < utc("2400-01-01T00:00:00Z"); t += 29 * 3600 + 13) {
			n++;
			if (sl_to_local(t, fat, &ta) < 0 ||
			    sl_to_local(t, slim, &tb) < 0 ||
			    !same_tm(&ta, &tb) ||
			    sl_from_local(&ta, fat, &r1) < 0 ||
			    sl_from_local(&ta, slim, &r2) < 0 || r1 != r2) {
				tm_str(&ta, sa, sizeof sa);
				tm_str(&tb, sb, sizeof sb);
				if (bad++ < 8)
					diag("%s t=%lld fat %s slim %s",
					    zones[i], (long long)t, sa, sb);
			}
		}
	}
	ok(bad == 0 && n > 1000000, "slim: zic -b slim files agree with the "
	    "fat ones 1900-2400 (%ld checks, %ld bad)", n, bad);
	unsetenv("TZDIR");
	sl_zone_free_all();
}

static void
rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

int
main(void)
{
	sl_init("time-test");
	unsetenv("TZDIR");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_now();
	test_civil();
	test_parse();
	test_fmt();
	test_names();
	test_known();
	test_from_local();
	test_sweep();
	test_all_zones();
	sl_zone_free_all();
	test_footers();
	test_files();
	test_zic_slim();
	sl_zone_free_all();
	if (!getenv("KEEP"))
		rm_rf(tmpdir);
	return done_testing();
}
