/*
 * timeutil.c: the clock, RFC 3339, civil dates, and IANA zones read from
 * TZif files (RFC 8536).
 *
 * Civil dates use Howard Hinnant's days_from_civil and civil_from_days, so
 * no libc time function is involved and any proleptic Gregorian year works.
 *
 * A zone is its transition table (the 64-bit block of a version 2+ file,
 * the 32-bit block of a version 1 file) and the POSIX TZ string of the
 * footer, which decides every instant after the last transition.  "Slim"
 * files carry few transitions and rely on the footer for all later times,
 * "fat" ones list transitions up to 2037; both give the same answers.
 * Files with leap seconds ("right/...") are refused, because Unix time
 * does not count them.
 *
 * Lookups are a binary search over the table, or an evaluation of the
 * footer rule for the year in question; nothing is allocated or read from
 * disk once a zone is loaded.  The zone cache is a plain list, not
 * protected by a lock: the tools are single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl.h"
#include "timeutil.h"

#define DAY 86400
#define MAX_OFF (26 * 3600)		// no zone is further from UTC
#define LIM_LO (SL_TIME_MIN - 2 * DAY)
#define LIM_HI (SL_TIME_MAX + 2 * DAY)
#define MAX_DAYS INT64_C(730000000000)	// about 2e9 years
#define MAX_FILE (1 << 20)
#define MAX_FAILED 256
#define MAX_SEGS 16
#define ZONEINFO "/usr/share/zoneinfo"

/* A local time type: offset, DST flag, abbreviation. */
struct sl_ttype {
	int32_t off;
	int isdst;
	char abbr[8];
};

/* One end of a POSIX TZ rule: Jn, n or Mm.w.d, then a local time. */
struct sl_rdate {
	char kind;		// 'J' 1-365 without Feb 29, 'D' 0-365, 'M'
	int n, m, w, d;
	int32_t secs;		// may be negative or beyond 24 h (TZif v3)
};

struct sl_rule {
	struct sl_ttype std, dst;
	int hasdst;
	struct sl_rdate start, end;
};

struct sl_zone {
	struct sl_zone *next;
	char *name;
	int ok;			// 0: a remembered failure
	int64_t *trans;
	unsigned char *tidx;
	size_t ntrans;
	struct sl_ttype *types;
	size_t ntypes;
	int hasrule;
	struct sl_rule rule;
};

/* A stretch of time from start with one offset, for sl_from_local. */
struct sl_seg {
	int64_t start;
	int32_t off;
	int kind;		// footer events: 0 end of DST, 1 start
};

static struct sl_zone *sl_zones;
static int sl_nfailed;

/*
 * Civil dates
 */

static int64_t
sl_fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return q - (a % b < 0);
}

static int
sl_is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
sl_month_len(int64_t y, int m)
{
	static const unsigned char len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return len[m - 1] + (m == 2 && sl_is_leap(y));
}

/* m must be 1-12; d may be anything. */
static int64_t
sl_dfc(int64_t y, int m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* |z| <= MAX_DAYS. */
static void
sl_cfd(int64_t z, int64_t *yp, int *mp, int *dp, int *ydayp)
{
	int64_t era, doe, yoe, doy, y, mp0;
	int m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp0 = (5 * doy + 2) / 153;
	*dp = (int)(doy - (153 * mp0 + 2) / 5 + 1);
	m = (int)(mp0 < 10 ? mp0 + 3 : mp0 - 9);
	*mp = m;
	if (m <= 2) {
		y++;
		*ydayp = (int)(doy - 306);
	} else {
		*ydayp = (int)(doy + 59 + sl_is_leap(y));
	}
	*yp = y;
}

int64_t
sl_days_from_civil(int year, int mon, int mday)
{
	int64_t months = (int64_t)year * 12 + mon - 1;
	int64_t y = sl_fdiv(months, 12);

	return sl_dfc(y, (int)(months - y * 12 + 1), mday);
}

void
sl_civil_from_days(int64_t days, int *year, int *mon, int *mday)
{
	int64_t y;
	int yday;

	if (days > MAX_DAYS)
		days = MAX_DAYS;
	if (days < -MAX_DAYS)
		days = -MAX_DAYS;
	sl_cfd(days, &y, mon, mday, &yday);
	*year = (int)y;
}

static int64_t
sl_year_of(int64_t t)
{
	int64_t y;
	int m, d, yday;

	sl_cfd(sl_fdiv(t, DAY), &y, &m, &d, &yday);
	return y;
}

/* Local seconds (within LIM_LO and LIM_HI, give or take a day) to fields. */
static void
sl_fill_tm(int64_t ls, struct sl_tm *tm)
{
	int64_t days = sl_fdiv(ls, DAY), y;
	int secs = (int)(ls - days * DAY);

	sl_cfd(days, &y, &tm->mon, &tm->mday, &tm->yday);
	tm->year = (int)y;
	tm->hour = secs / 3600;
	tm->min = secs / 60 % 60;
	tm->sec = secs % 60;
	tm->wday = (int)(days - sl_fdiv(days + 4, 7) * 7 + 4);
}

/*
 * RFC 3339
 */

/* n digits at s; stops at the first non-digit, so never passes a NUL. */
static int
sl_digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

static int
sl_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
sl_time_parse(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (!s || !t)
		return -1;
	if (sl_digits(s, 4, &y) < 0 || s[4] != '-' ||
	    sl_digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    sl_digits(s + 8, 2, &d) < 0)
		return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	s += 11;
	if (sl_digits(s, 2, &h) < 0 || s[2] != ':' ||
	    sl_digits(s + 3, 2, &mi) < 0 || s[5] != ':' ||
	    sl_digits(s + 6, 2, &sec) < 0)
		return -1;
	s += 8;
	if (*s == '.') {
		s++;
		if (!sl_is_digit(*s))
			return -1;
		while (sl_is_digit(*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (sl_digits(s, 2, &oh) < 0 || s[2] != ':' ||
		    sl_digits(s + 3, 2, &om) < 0)
			return -1;
		s += 5;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > sl_month_len(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60)		// a leap second: the last second of the minute
		sec = 59;
	*t = sl_dfc(y, mo, d) * DAY + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return 0;
}

static char *
sl_put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* "YYYY-MM-DDTHH:MM:SS"; year 0-9999. */
static char *
sl_put_civil(char *p, const struct sl_tm *tm)
{
	p = sl_put2(p, tm->year / 100);
	p = sl_put2(p, tm->year % 100);
	*p++ = '-';
	p = sl_put2(p, tm->mon);
	*p++ = '-';
	p = sl_put2(p, tm->mday);
	*p++ = 'T';
	p = sl_put2(p, tm->hour);
	*p++ = ':';
	p = sl_put2(p, tm->min);
	*p++ = ':';
	return sl_put2(p, tm->sec);
}

char *
sl_time_fmt(int64_t t, char *buf)
{
	struct sl_tm tm;
	char *p;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	if (t < SL_TIME_MIN || t > SL_TIME_MAX)
		return NULL;
	sl_fill_tm(t, &tm);
	p = sl_put_civil(buf, &tm);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

/*
 * The clock
 */

/* Optional '-', then digits only, within SL_TIME_MIN..SL_TIME_MAX. */
static int
sl_parse_unix(const char *s, int64_t *t)
{
	int neg = 0;
	int64_t v = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!sl_is_digit(*s))
		return -1;
	for (; *s; s++) {
		if (!sl_is_digit(*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > SL_TIME_MAX)
			return -1;
	}
	if (neg)
		v = -v;
	if (v < SL_TIME_MIN)
		return -1;
	*t = v;
	return 0;
}

int64_t
sl_now(void)
{
	const char *s = getenv("SALESLINE_NOW");
	int64_t t;

	if (!s || !*s)
		return (int64_t)time(NULL);
	if (sl_parse_unix(s, &t) == 0 || sl_time_parse(s, &t) == 0)
		return t;
	sl_die(SL_EX_CONFIG,
	    "bad SALESLINE_NOW '%s': expected RFC 3339 or Unix seconds", s);
}

/*
 * POSIX TZ strings (the TZif footer)
 */

static int
sl_is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* "CET" or "<+0330>"; at least three characters, at most 7 kept. */
static const char *
sl_tz_name(const char *s, char *abbr)
{
	const char *b, *e;
	size_t n;

	if (*s == '<') {
		b = ++s;
		while (sl_is_alpha(*s) || sl_is_digit(*s) || *s == '+' ||
		    *s == '-')
			s++;
		if (*s != '>')
			return NULL;
		e = s++;
	} else {
		b = s;
		while (sl_is_alpha(*s))
			s++;
		e = s;
	}
	n = (size_t)(e - b);
	if (n < 3)
		return NULL;
	if (n > 7)
		n = 7;
	memcpy(abbr, b, n);
	abbr[n] = '\0';
	return s;
}

/* Up to three digits in min..max. */
static const char *
sl_tz_num(const char *s, int min, int max, int *v)
{
	int i, x = 0;

	for (i = 0; i < 3 && sl_is_digit(*s); i++, s++)
		x = x * 10 + (*s - '0');
	if (i == 0 || x < min || x > max)
		return NULL;
	*v = x;
	return s;
}

/* [+-]h[h[h]][:mm[:ss]] with hours at most maxh. */
static const char *
sl_tz_hms(const char *s, int maxh, int32_t *v)
{
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-') {
		if (*s == '-')
			sign = -1;
		s++;
	}
	if (!(s = sl_tz_num(s, 0, maxh, &h)))
		return NULL;
	if (*s == ':') {
		if (!(s = sl_tz_num(s + 1, 0, 59, &m)))
			return NULL;
		if (*s == ':' && !(s = sl_tz_num(s + 1, 0, 59, &sec)))
			return NULL;
	}
	*v = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *
sl_tz_date(const char *s, struct sl_rdate *d)
{
	if (*s == 'J') {
		d->kind = 'J';
		s = sl_tz_num(s + 1, 1, 365, &d->n);
	} else if (*s == 'M') {
		d->kind = 'M';
		if (!(s = sl_tz_num(s + 1, 1, 12, &d->m)) || *s != '.' ||
		    !(s = sl_tz_num(s + 1, 1, 5, &d->w)) || *s != '.')
			return NULL;
		s = sl_tz_num(s + 1, 0, 6, &d->d);
	} else {
		d->kind = 'D';
		s = sl_tz_num(s, 0, 365, &d->n);
	}
	if (!s)
		return NULL;
	d->secs = 7200;
	if (*s == '/')
		s = sl_tz_hms(s + 1, 167, &d->secs);
	return s;
}

static int
sl_tz_parse(const char *s, struct sl_rule *r)
{
	int32_t v;

	memset(r, 0, sizeof *r);
	if (!(s = sl_tz_name(s, r->std.abbr)) || !(s = sl_tz_hms(s, 24, &v)))
		return -1;
	r->std.off = -v;		// POSIX counts hours west
	if (*s == '\0')
		return 0;
	if (!(s = sl_tz_name(s, r->dst.abbr)))
		return -1;
	r->hasdst = 1;
	r->dst.isdst = 1;
	r->dst.off = r->std.off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!(s = sl_tz_hms(s, 24, &v)))
			return -1;
		r->dst.off = -v;
	}
	if (*s == '\0') {		// tzcode's default: the US rules
		r->start = (struct sl_rdate){ 'M', 0, 3, 2, 0, 7200 };
		r->end = (struct sl_rdate){ 'M', 0, 11, 1, 0, 7200 };
		return 0;
	}
	if (*s != ',' || !(s = sl_tz_date(s + 1, &r->start)) || *s != ',' ||
	    !(s = sl_tz_date(s + 1, &r->end)) || *s != '\0')
		return -1;
	return 0;
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t
sl_rule_day(const struct sl_rdate *d, int64_t y)
{
	int64_t first;
	int wd, day;

	switch (d->kind) {
	case 'J':
		return sl_dfc(y, 1, 1) + d->n - 1 +
		    (d->n >= 60 && sl_is_leap(y));
	case 'D':
		return sl_dfc(y, 1, 1) + d->n;
	default:
		first = sl_dfc(y, d->m, 1);
		wd = (int)(first + 4 - sl_fdiv(first + 4, 7) * 7);
		day = (d->d - wd + 7) % 7 + 7 * (d->w - 1);
		if (day >= sl_month_len(y, d->m))
			day -= 7;
		return first + day;
	}
}

/* DST starts at a time given in standard time and ends in DST. */
static int64_t
sl_rule_start(const struct sl_rule *r, int64_t y)
{
	return sl_rule_day(&r->start, y) * DAY + r->start.secs - r->std.off;
}

static int64_t
sl_rule_end(const struct sl_rule *r, int64_t y)
{
	return sl_rule_day(&r->end, y) * DAY + r->end.secs - r->dst.off;
}

/*
 * The latest start or end at or before t decides; the neighbouring years
 * count too, because v3 times may push a change across New Year.  A start
 * wins a tie, so "0/0,J365/25" is DST all year.
 */
static const struct sl_ttype *
sl_rule_type(const struct sl_rule *r, int64_t t)
{
	int64_t y, yy, s, e, best = 0;
	int found = 0, dst = 0;

	if (!r->hasdst)
		return &r->std;
	y = sl_year_of(t + r->std.off);
	for (yy = y - 1; yy <= y + 1; yy++) {
		e = sl_rule_end(r, yy);
		s = sl_rule_start(r, yy);
		if (e <= t && (!found || e > best)) {
			best = e;
			dst = 0;
			found = 1;
		}
		if (s <= t && (!found || s >= best)) {
			best = s;
			dst = 1;
			found = 1;
		}
	}
	return dst ? &r->dst : &r->std;
}

/* Rule changes in (from, to], sorted; to - from is less than a year. */
static int
sl_rule_events(const struct sl_rule *r, int64_t from, int64_t to,
    struct sl_seg *out, int max)
{
	struct sl_seg ev[8], tmp;
	int64_t y, y0, y1;
	int n = 0, i, j, k = 0;

	y0 = sl_year_of(from + r->std.off) - 1;
	y1 = sl_year_of(to + r->std.off) + 1;
	for (y = y0; y <= y1 && n + 2 <= 8; y++) {
		ev[n++] = (struct sl_seg){ sl_rule_end(r, y), r->std.off, 0 };
		ev[n++] = (struct sl_seg){ sl_rule_start(r, y), r->dst.off, 1 };
	}
	for (i = 1; i < n; i++) {
		tmp = ev[i];
		for (j = i; j > 0 && (ev[j - 1].start > tmp.start ||
		    (ev[j - 1].start == tmp.start &&
		    ev[j - 1].kind > tmp.kind)); j--)
			ev[j] = ev[j - 1];
		ev[j] = tmp;
	}
	for (i = 0; i < n && k < max; i++)
		if (ev[i].start > from && ev[i].start <= to)
			out[k++] = ev[i];
	return k;
}

/*
 * Zone lookups
 */

static const struct sl_ttype *
sl_zone_type(const struct sl_zone *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->ntrans == 0)
		return z->hasrule ? sl_rule_type(&z->rule, t) : &z->types[0];
	if (t < z->trans[0])
		return &z->types[0];
	hi = z->ntrans - 1;
	if (t > z->trans[hi] && z->hasrule)
		return sl_rule_type(&z->rule, t);
	if (t >= z->trans[hi])
		return &z->types[z->tidx[hi]];
	lo = 0;			// trans[lo] <= t < trans[hi]
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &z->types[z->tidx[lo]];
}

/* The offsets in force over [lo, hi], as stretches in time order. */
static int
sl_zone_segs(const struct sl_zone *z, int64_t lo, int64_t hi,
    struct sl_seg *sg)
{
	int n = 0;
	size_t i, a, b, mid;
	int64_t from = lo;

	sg[n].start = lo;
	sg[n].kind = 0;
	sg[n++].off = sl_zone_type(z, lo)->off;
	if (z->ntrans > 0) {
		a = 0;		// the first transition after lo
		b = z->ntrans;
		while (a < b) {
			mid = a + (b - a) / 2;
			if (z->trans[mid] <= lo)
				a = mid + 1;
			else
				b = mid;
		}
		for (i = a; i < z->ntrans && z->trans[i] <= hi; i++) {
			if (n == MAX_SEGS)
				return n;
			sg[n].start = z->trans[i];
			sg[n].kind = 0;
			sg[n++].off = z->types[z->tidx[i]].off;
		}
		if (z->trans[z->ntrans - 1] > from)
			from = z->trans[z->ntrans - 1];
	}
	if (z->hasrule && z->rule.hasdst && from < hi)
		n += sl_rule_events(&z->rule, from, hi, sg + n, MAX_SEGS - n);
	return n;
}

int
sl_to_local(int64_t t, const struct sl_zone *z, struct sl_tm *tm)
{
	const struct sl_ttype *ty;

	if (!z || !tm || !z->ok || t < LIM_LO || t > LIM_HI)
		return -1;
	ty = sl_zone_type(z, t);
	sl_fill_tm(t + ty->off, tm);
	tm->gmtoff = ty->off;
	tm->isdst = ty->isdst;
	memcpy(tm->abbr, ty->abbr, sizeof tm->abbr);
	return 0;
}

int
sl_from_local(const struct sl_tm *tm, const struct sl_zone *z, int64_t *t)
{
	struct sl_seg sg[MAX_SEGS];
	int64_t months, y, l, c, end;
	int n, i;

	if (!tm || !z || !t || !z->ok)
		return -1;
	months = (int64_t)tm->year * 12 + tm->mon - 1;
	y = sl_fdiv(months, 12);
	if (y < -200 || y > 10200)	// cheap bound before the real one
		return -1;
	l = (sl_dfc(y, (int)(months - y * 12 + 1), 1) + tm->mday - 1) * DAY +
	    (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
	if (l < LIM_LO || l > LIM_HI)
		return -1;
	/* Any instant that shows l lies within MAX_OFF of it. */
	n = sl_zone_segs(z, l - MAX_OFF - 1, l + MAX_OFF + 1, sg);
	for (i = 0; i < n; i++) {
		c = l - sg[i].off;
		end = i + 1 < n ? sg[i + 1].start : INT64_MAX;
		if (c >= sg[i].start && c < end) {
			*t = c;	// the first match is the earlier instant
			return 0;
		}
	}
	/* A gap: read l with the offset from before the change. */
	for (i = 1; i < n; i++) {
		if (sg[i].start + sg[i - 1].off <= l &&
		    l < sg[i].start + sg[i].off) {
			*t = l - sg[i - 1].off;
			return 0;
		}
	}
	*t = l - sg[0].off;
	return 0;
}

char *
sl_time_fmt_local(int64_t t, const struct sl_zone *z, char *buf)
{
	struct sl_tm tm;
	int off, a;
	char *p;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	if (!z || !z->ok || t < LIM_LO || t > LIM_HI)
		return NULL;
	/* RFC 3339 has no offset seconds (LMT): show the minute, stay exact. */
	off = sl_zone_type(z, t)->off;
	off -= off % 60;
	sl_fill_tm(t + off, &tm);
	if (tm.year < 0 || tm.year > 9999)
		return NULL;
	p = sl_put_civil(buf, &tm);
	*p++ = off < 0 ? '-' : '+';
	a = off < 0 ? -off : off;
	p = sl_put2(p, a / 3600);
	*p++ = ':';
	p = sl_put2(p, a / 60 % 60);
	*p = '\0';
	return buf;
}

/*
 * Loading zones
 */

static void
sl_zone_clear(struct sl_zone *z)
{
	free(z->trans);
	free(z->tidx);
	free(z->types);
	z->trans = NULL;
	z->tidx = NULL;
	z->types = NULL;
	z->ntrans = z->ntypes = 0;
	z->hasrule = 0;
}

/*
 * "UTC", "GMT", "Z", "UTC+3", "GMT-05:30", "+0800": hours east of UTC, as
 * people write them (POSIX and Etc/GMT+3 count west).
 */
static int
sl_fixed_offset(const char *s, int32_t *off, char *abbr)
{
	const char *p = s, *base = "UTC";
	int sign, h, m = 0, n;

	if (strcmp(s, "Z") == 0)
		s = p = "UTC";
	if (strncmp(s, "UTC", 3) == 0 || strncmp(s, "GMT", 3) == 0) {
		if (s[0] == 'G')
			base = "GMT";
		p = s + 3;
	}
	if (*p == '\0' && p != s) {
		*off = 0;
		memcpy(abbr, base, 4);
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	for (n = 0; sl_is_digit(p[n]); n++)
		;
	if (n == 4) {			// hhmm
		h = (p[0] - '0') * 10 + (p[1] - '0');
		m = (p[2] - '0') * 10 + (p[3] - '0');
	} else if (n == 1 || n == 2) {	// h, hh, h:mm, hh:mm
		h = n == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
		if (p[n] == ':') {
			if (sl_digits(p + n + 1, 2, &m) < 0)
				return -1;
			n += 3;
		}
	} else {
		return -1;
	}
	if (p[n] != '\0' || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	if (*off == 0) {
		memcpy(abbr, base, 4);
		return 0;
	}
	abbr[0] = sign < 0 ? '-' : '+';
	p = sl_put2(abbr + 1, h);
	if (m)
		p = sl_put2(abbr + 3, m);
	abbr[p - abbr] = '\0';
	return 0;
}

/* Non-empty, relative, [A-Za-z0-9/_+-] only, no empty or dot components. */
static int
sl_zone_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/')
		return 0;
	for (i = 0; i < n; i++) {
		if (!sl_is_alpha(s[i]) && !sl_is_digit(s[i]) && s[i] != '/' &&
		    s[i] != '_' && s[i] != '+' && s[i] != '-')
			return 0;
		if (s[i] == '/' && s[i + 1] == '/')
			return 0;
	}
	return 1;
}

static int
sl_read_all(const char *path, unsigned char **bufp, size_t *lenp)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t len = 0, size;
	ssize_t r;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 44 ||
	    st.st_size > MAX_FILE)
		goto out;
	size = (size_t)st.st_size;
	buf = sl_malloc(size);
	while (len < size) {
		r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static uint32_t
sl_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
sl_sbe32(const unsigned char *p)
{
	uint32_t v = sl_be32(p);

	return v < UINT32_C(0x80000000) ? (int64_t)v :
	    (int64_t)v - INT64_C(0x100000000);
}

static int64_t
sl_sbe64(const unsigned char *p)
{
	uint64_t v = (uint64_t)sl_be32(p) << 32 | sl_be32(p + 4);

	return v < UINT64_C(0x8000000000000000) ? (int64_t)v :
	    -(int64_t)(~v) - 1;
}

struct sl_tzhead {
	uint64_t isut, isstd, leap, time, type, chars;
};

static int
sl_tzif_head(const unsigned char *b, size_t len, size_t at,
    struct sl_tzhead *h)
{
	if (at > len || len - at < 44 || memcmp(b + at, "TZif", 4) != 0)
		return -1;
	b += at;
	h->isut = sl_be32(b + 20);
	h->isstd = sl_be32(b + 24);
	h->leap = sl_be32(b + 28);
	h->time = sl_be32(b + 32);
	h->type = sl_be32(b + 36);
	h->chars = sl_be32(b + 40);
	return 0;
}

static uint64_t
sl_tzif_size(const struct sl_tzhead *h, unsigned tsz)
{
	return h->time * tsz + h->time + h->type * 6 + h->chars +
	    h->leap * (tsz + 4) + h->isstd + h->isut;
}

/* The data block at p, already known to lie within the file. */
static int
sl_tzif_data(struct sl_zone *z, const unsigned char *p,
    const struct sl_tzhead *h, unsigned tsz)
{
	const unsigned char *ip, *yp, *cp, *nul;
	size_t i, ai, n;
	int64_t t;

	if (h->type == 0 || h->type > 256 || h->chars == 0 || h->leap != 0 ||
	    (h->isstd != 0 && h->isstd != h->type) ||
	    (h->isut != 0 && h->isut != h->type))
		return -1;
	ip = p + h->time * tsz;
	yp = ip + h->time;
	cp = yp + h->type * 6;
	z->ntrans = (size_t)h->time;
	z->trans = sl_calloc(z->ntrans + 1, sizeof *z->trans);
	z->tidx = sl_calloc(z->ntrans + 1, 1);
	for (i = 0; i < z->ntrans; i++) {
		t = tsz == 8 ? sl_sbe64(p + 8 * i) : sl_sbe32(p + 4 * i);
		if ((i > 0 && t <= z->trans[i - 1]) || ip[i] >= h->type)
			return -1;
		z->trans[i] = t;
		z->tidx[i] = ip[i];
	}
	z->ntypes = (size_t)h->type;
	z->types = sl_calloc(z->ntypes, sizeof *z->types);
	for (i = 0; i < z->ntypes; i++, yp += 6) {
		t = sl_sbe32(yp);
		ai = yp[5];
		if (t < -MAX_OFF || t > MAX_OFF || yp[4] > 1 || ai >= h->chars)
			return -1;
		nul = memchr(cp + ai, '\0', (size_t)h->chars - ai);
		if (!nul)
			return -1;
		n = (size_t)(nul - (cp + ai));
		if (n > 7)
			n = 7;
		z->types[i].off = (int32_t)t;
		z->types[i].isdst = yp[4];
		memcpy(z->types[i].abbr, cp + ai, n);
		z->types[i].abbr[n] = '\0';
	}
	return 0;
}

static int
sl_tzif_parse(struct sl_zone *z, const unsigned char *b, size_t len)
{
	struct sl_tzhead h;
	uint64_t size;
	size_t at;
	const unsigned char *nl;
	char footer[256];
	size_t flen;

	if (sl_tzif_head(b, len, 0, &h) < 0)
		return -1;
	size = sl_tzif_size(&h, 4);
	if (b[4] == '\0') {		// version 1: 32-bit data, no footer
		if (size > len - 44)
			return -1;
		return sl_tzif_data(z, b + 44, &h, 4);
	}
	if (b[4] < '2' || size > len - 44)
		return -1;
	at = 44 + (size_t)size;
	if (sl_tzif_head(b, len, at, &h) < 0)
		return -1;
	at += 44;
	size = sl_tzif_size(&h, 8);
	if (size > len - at)
		return -1;
	if (sl_tzif_data(z, b + at, &h, 8) < 0)
		return -1;
	at += (size_t)size;
	if (at >= len || b[at] != '\n')
		return -1;
	at++;
	nl = memchr(b + at, '\n', len - at);
	if (!nl)
		return -1;
	flen = (size_t)(nl - (b + at));
	if (flen == 0)
		return 0;
	if (flen >= sizeof footer || memchr(b + at, '\0', flen))
		return -1;
	memcpy(footer, b + at, flen);
	footer[flen] = '\0';
	if (sl_tz_parse(footer, &z->rule) < 0)
		return -1;
	z->hasrule = 1;
	return 0;
}

static int
sl_zone_read(struct sl_zone *z, const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	unsigned char *buf;
	size_t len;
	int n, rc;

	if (!dir || !*dir)
		dir = ZONEINFO;
	n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	if (sl_read_all(path, &buf, &len) < 0)
		return -1;
	rc = sl_tzif_parse(z, buf, len);
	free(buf);
	return rc;
}

const struct sl_zone *
sl_zone_load(const char *name)
{
	struct sl_zone *z;
	int32_t off;
	char abbr[8];

	if (!name)
		return NULL;
	for (z = sl_zones; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			return z->ok ? z : NULL;
	z = sl_calloc(1, sizeof *z);
	z->name = sl_strdup(name);
	z->ok = 1;
	if (sl_fixed_offset(name, &off, abbr) == 0) {
		z->ntypes = 1;
		z->types = sl_calloc(1, sizeof *z->types);
		z->types[0].off = off;
		memcpy(z->types[0].abbr, abbr, sizeof abbr);
	} else if (!sl_zone_name_ok(name) || sl_zone_read(z, name) < 0) {
		sl_zone_clear(z);
		z->ok = 0;
		if (sl_nfailed >= MAX_FAILED) {
			free(z->name);
			free(z);
			return NULL;
		}
		sl_nfailed++;
	}
	z->next = sl_zones;
	sl_zones = z;
	return z->ok ? z : NULL;
}

const char *
sl_zone_name(const struct sl_zone *z)
{
	return z ? z->name : NULL;
}

void
sl_zone_free_all(void)
{
	struct sl_zone *z, *next;

	for (z = sl_zones; z; z = next) {
		next = z->next;
		sl_zone_clear(z);
		free(z->name);
		free(z);
	}
	sl_zones = NULL;
	sl_nfailed = 0;
}
