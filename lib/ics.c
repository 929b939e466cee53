/*
 * ics.c: busy time from iCalendar text (ics.h).
 *
 * One pass reads the text line by line, unfolding as it goes, and keeps
 * each VEVENT it understands (times, rule, exceptions, UID); a second
 * pass expands the rules and appends the intervals, because an override
 * (RECURRENCE-ID) may come before or after the event it overrides.
 *
 * A time is a local day and a second of that day in a frame: UTC, a zone
 * (TZID, else the default zone), or the default zone at midnight for
 * dates.  A rule steps through local days of the frame and makes each
 * an instant with sl_from_local, so a weekly 10:00 in Berlin stays 10:00
 * across DST; a wall time in a gap moves forward by the gap (RFC 5545
 * 3.3.5).  A rule without COUNT starts its walk near `from` rather than
 * at DTSTART, so an old daily meeting costs no more than a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ics.h"
#include "sl.h"
#include "timeutil.h"

#define DAY 86400
#define MAX_FILE (16 << 20)
#define MAX_OCC 100000			// occurrences per event
#define MAX_DAYS INT64_C(36600)		// longest event: a century
#define DAY_MIN (SL_TIME_MIN / DAY - 2)
#define DAY_MAX (SL_TIME_MAX / DAY + 2)

enum { T_DATE, T_UTC, T_LOCAL };
enum { F_NONE, F_DAILY, F_WEEKLY };
enum { U_NONE, U_DAY, U_TIME };

/* A DATE or DATE-TIME as written; zone NULL for floating times. */
struct ics_time {
	int kind;
	int64_t day;
	int sec;
	const struct sl_zone *zone;
};

/* Where local days become instants: zone NULL is UTC. */
struct frame {
	const struct sl_zone *zone;
	int sec;
};

struct rule {
	int freq, interval, wkst;
	unsigned mask;			// BYDAY, bit 0 = Sunday
	int64_t count;			// 0: none
	int until;			// U_*
	int64_t until_v;		// a local day or an instant
};

/* An event as the second pass needs it. */
struct event {
	char *uid;			// NULL: none
	struct frame f;
	int64_t day;			// DTSTART's local day in f
	int64_t dur_days, dur_secs;	// nominal days, then exact seconds
	int has_rid, busy;
	int64_t rid;
	struct rule rule;
	int64_t *ext, *exd;		// EXDATE instants and days, sorted
	size_t next, nexd;
};

/* The VEVENT being read. */
struct draft {
	int line, cur;			// BEGIN:VEVENT's, the current line's
	char *uid;
	struct ics_time start, end, rid, until;
	int has_start, has_end, has_dur, has_rid, has_until;
	int64_t dur_days, dur_secs;
	struct rule rule;
	struct ics_time *ex;
	size_t nex, capex;
	int bad, partial, busy;
	char why[160];
};

struct override {
	const char *uid;
	int64_t rid;
};

struct parser {
	const char *p, *end;
	int lineno;
	char *buf;
	size_t len, cap;
	const struct sl_zone *deflt;
	int64_t from, to;
	struct event *ev;
	size_t nev, capev;
	struct draft d;
	size_t skipped;
	char first_why[200];
	struct sl_iv **iv;
	size_t *n, *cap_iv;
};

/*
 * Reading lines
 */

static void
buf_add(struct parser *ps, const char *s, size_t k)
{
	if (ps->len + k + 1 > ps->cap) {
		while (ps->len + k + 1 > ps->cap)
			ps->cap = ps->cap ? ps->cap * 2 : 256;
		ps->buf = sl_realloc(ps->buf, ps->cap);
	}
	memcpy(ps->buf + ps->len, s, k);
	ps->len += k;
	ps->buf[ps->len] = '\0';
}

/*
 * The next logical line in ps->buf, unfolded (a line break followed by a
 * space or tab continues the line), and the number of its first line.
 * 0 at the end of the text.
 */
static int
next_line(struct parser *ps, int *line)
{
	const char *nl;
	size_t k;

	if (ps->p >= ps->end)
		return 0;
	ps->len = 0;
	buf_add(ps, "", 0);
	*line = ps->lineno;
	for (;;) {
		nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
		k = (size_t)((nl ? nl : ps->end) - ps->p);
		buf_add(ps, ps->p, k > 0 && ps->p[k - 1] == '\r' ? k - 1 : k);
		ps->lineno++;
		ps->p = nl ? nl + 1 : ps->end;
		if (ps->p >= ps->end || (*ps->p != ' ' && *ps->p != '\t'))
			return 1;
		ps->p++;
	}
}

/* A content line split in place: NAME;PARAM=V,"V";...:VALUE */
struct prop {
	const char *name, *tzid;
	char *value;
	int date, range;
};

static void
param(struct prop *p, const char *name, const char *value)
{
	if (strcasecmp(name, "TZID") == 0)
		p->tzid = value;
	else if (strcasecmp(name, "VALUE") == 0)
		p->date = strcasecmp(value, "DATE") == 0;
	else if (strcasecmp(name, "RANGE") == 0)
		p->range = 1;
}

static int
parse_prop(char *s, struct prop *p)
{
	char *pname, *v, *first;
	char c;

	memset(p, 0, sizeof *p);
	p->name = s;
	s += strcspn(s, ";:");
	c = *s;
	while (c == ';') {
		*s++ = '\0';
		pname = s;
		s += strcspn(s, "=;:");
		if (*s != '=')
			return -1;
		*s++ = '\0';
		first = NULL;
		for (;;) {
			if (*s == '"') {
				v = ++s;
				if (!(s = strchr(s, '"')))
					return -1;
				*s++ = '\0';
			} else {
				v = s;
				s += strcspn(s, ",;:\"");
			}
			c = *s;
			if (c != ',' && c != ';' && c != ':')
				return -1;
			*s = '\0';
			if (!first)
				first = v;
			if (c != ',')
				break;
			s++;
		}
		param(p, pname, first);
	}
	if (c != ':')
		return -1;
	*s++ = '\0';
	p->value = s;
	return 0;
}

/*
 * Values
 */

static int
digits(const char *s, int n, int *v)
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

/*
 * The zone of a TZID: an IANA name, or one after a prefix such as
 * "/mozilla.org/20070129_1/Europe/Berlin".  Anything else (a Windows
 * name, a VTIMEZONE of its own) is read in the default zone.
 */
static const struct sl_zone *
tzid_zone(const char *tzid, const struct sl_zone *deflt)
{
	const struct sl_zone *z;
	const char *p;

	for (p = tzid; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
		if (*p && (z = sl_zone_load(p)))
			return z;
	return deflt;
}

/* YYYYMMDD or YYYYMMDDTHHMMSS[Z]; a date only when date is set. */
static int
parse_time(const char *s, int date, const char *tzid,
    const struct sl_zone *deflt, struct ics_time *t)
{
	int y, mo, d, h, mi, sec, yy, mm, dd;

	memset(t, 0, sizeof *t);
	if (digits(s, 4, &y) < 0 || digits(s + 4, 2, &mo) < 0 ||
	    digits(s + 6, 2, &d) < 0 || mo < 1 || mo > 12 || d < 1)
		return -1;
	t->day = sl_days_from_civil(y, mo, d);
	sl_civil_from_days(t->day, &yy, &mm, &dd);
	if (yy != y || mm != mo || dd != d)
		return -1;
	if (s[8] == '\0') {
		t->kind = T_DATE;
		return 0;
	}
	if (date || s[8] != 'T' || digits(s + 9, 2, &h) < 0 ||
	    digits(s + 11, 2, &mi) < 0 || digits(s + 13, 2, &sec) < 0 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	t->sec = h * 3600 + mi * 60 + (sec == 60 ? 59 : sec);
	if (s[15] == 'Z' && s[16] == '\0') {
		t->kind = T_UTC;
		return 0;
	}
	if (s[15] != '\0')
		return -1;
	t->kind = T_LOCAL;
	t->zone = tzid ? tzid_zone(tzid, deflt) : NULL;
	return 0;
}

/* [+]P[nW][nD][T[nH][nM][nS]]: nominal days, exact seconds. */
static int
parse_duration(const char *s, int64_t *days, int64_t *secs)
{
	int64_t v, d = 0, x = 0;
	int intime = 0, any = 0;
	char u;

	if (*s == '+')
		s++;
	if (*s++ != 'P')
		return -1;
	while (*s) {
		if (*s == 'T' && !intime) {
			intime = 1;
			s++;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (*s - '0')) > 100000000)
				return -1;
		u = *s++;
		if (!intime && u == 'W')
			d += v * 7;
		else if (!intime && u == 'D')
			d += v;
		else if (intime && u == 'H')
			x += v * 3600;
		else if (intime && u == 'M')
			x += v * 60;
		else if (intime && u == 'S')
			x += v;
		else
			return -1;
		any = 1;
	}
	if (!any)
		return -1;
	*days = d;
	*secs = x;
	return 0;
}

static int
weekday(const char *s)
{
	static const char *const names[7] = {
		"SU", "MO", "TU", "WE", "TH", "FR", "SA"
	};
	int i;

	for (i = 0; i < 7; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int
number(const char *s, int64_t max, int64_t *v)
{
	int64_t x = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (x = x * 10 + (*s - '0')) > max)
			return -1;
	}
	*v = x;
	return x > 0 ? 0 : -1;
}

/* FREQ=DAILY|WEEKLY with INTERVAL, BYDAY, WKST, COUNT, UNTIL; else -1. */
static int
parse_rule(char *s, const struct sl_zone *deflt, struct draft *d)
{
	struct rule *r = &d->rule;
	char *part, *v, *day;
	int64_t x;
	int w;

	memset(r, 0, sizeof *r);
	r->interval = 1;
	r->wkst = 1;
	d->has_until = 0;
	while (s && *s) {
		part = s;
		if ((s = strchr(s, ';')))
			*s++ = '\0';
		if (!(v = strchr(part, '=')))
			return -1;
		*v++ = '\0';
		if (strcasecmp(part, "FREQ") == 0) {
			if (strcasecmp(v, "DAILY") == 0)
				r->freq = F_DAILY;
			else if (strcasecmp(v, "WEEKLY") == 0)
				r->freq = F_WEEKLY;
			else
				return -1;
		} else if (strcasecmp(part, "INTERVAL") == 0) {
			if (number(v, 100000, &x) < 0)
				return -1;
			r->interval = (int)x;
		} else if (strcasecmp(part, "COUNT") == 0) {
			if (number(v, INT64_C(1000000000), &r->count) < 0)
				return -1;
		} else if (strcasecmp(part, "UNTIL") == 0) {
			if (parse_time(v, 0, NULL, deflt, &d->until) < 0)
				return -1;
			d->has_until = 1;
		} else if (strcasecmp(part, "WKST") == 0) {
			if ((r->wkst = weekday(v)) < 0)
				return -1;
		} else if (strcasecmp(part, "BYDAY") == 0) {
			while (v) {
				day = v;
				if ((v = strchr(v, ',')))
					*v++ = '\0';
				if ((w = weekday(day)) < 0)
					return -1;	// "1MO", "-1FR"
				r->mask |= 1u << w;
			}
		} else {
			return -1;		// BYMONTH, BYSETPOS, ...
		}
	}
	return r->freq == F_NONE ? -1 : 0;
}

/*
 * Instants
 */

static int
frame_instant(const struct frame *f, int64_t day, int64_t *t)
{
	struct sl_tm tm;

	if (day < DAY_MIN || day > DAY_MAX)
		return -1;
	if (!f->zone) {
		*t = day * DAY + f->sec;
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	sl_civil_from_days(day, &tm.year, &tm.mon, &tm.mday);
	tm.hour = f->sec / 3600;
	tm.min = f->sec / 60 % 60;
	tm.sec = f->sec % 60;
	return sl_from_local(&tm, f->zone, t);
}

/* A date-time as an instant; a floating one in zone fz. */
static int
instant(const struct ics_time *t, const struct sl_zone *fz, int64_t *out)
{
	struct frame f;

	f.sec = t->sec;
	f.zone = t->kind == T_UTC ? NULL : t->zone ? t->zone : fz;
	return frame_instant(&f, t->day, out);
}

/*
 * The first pass
 */

SL_PRINTF(3, 4) static void
flaw(struct draft *d, int bad, const char *fmt, ...)
{
	va_list ap;

	if (bad)
		d->bad = 1;
	else
		d->partial = 1;
	if (d->why[0])
		return;
	snprintf(d->why, sizeof d->why, "line %d: ", d->cur);
	va_start(ap, fmt);
	vsnprintf(d->why + strlen(d->why), sizeof d->why - strlen(d->why),
	    fmt, ap);
	va_end(ap);
}

static void
draft_reset(struct draft *d)
{
	struct ics_time *ex = d->ex;
	size_t capex = d->capex;

	free(d->uid);
	memset(d, 0, sizeof *d);
	d->ex = ex;
	d->capex = capex;
	d->busy = 1;
}

static void
add_exdates(struct parser *ps, const struct prop *p, char *v)
{
	struct draft *d = &ps->d;
	char *next;

	for (; v; v = next) {
		if ((next = strchr(v, ',')))
			*next++ = '\0';
		if (d->nex == d->capex) {
			d->capex = d->capex ? d->capex * 2 : 8;
			d->ex = sl_realloc(d->ex, d->capex * sizeof *d->ex);
		}
		if (parse_time(v, p->date, p->tzid, ps->deflt,
		    &d->ex[d->nex]) == 0)
			d->nex++;
		else
			flaw(d, 0, "EXDATE: bad date-time '%.40s'", v);
	}
}

static void
event_prop(struct parser *ps, struct prop *p, char *value)
{
	struct draft *d = &ps->d;
	const char *n = p->name;
	struct ics_time t;
	char why[100];

	if (strcasecmp(n, "DTSTART") == 0 || strcasecmp(n, "DTEND") == 0 ||
	    strcasecmp(n, "RECURRENCE-ID") == 0) {
		if (parse_time(value, p->date, p->tzid, ps->deflt, &t) < 0) {
			flaw(d, 1, "%s: bad date-time '%.40s'", n, value);
		} else if (strcasecmp(n, "RECURRENCE-ID") == 0) {
			d->rid = t;
			d->has_rid = 1;
			if (p->range)
				flaw(d, 0, "RECURRENCE-ID: RANGE not "
				    "supported");
		} else if (strcasecmp(n, "DTSTART") == 0) {
			if (d->has_start)
				flaw(d, 1, "DTSTART: given twice");
			d->start = t;
			d->has_start = 1;
		} else {
			d->end = t;
			d->has_end = 1;
		}
	} else if (strcasecmp(n, "DURATION") == 0) {
		if (parse_duration(value, &d->dur_days, &d->dur_secs) < 0)
			flaw(d, 1, "DURATION: bad duration '%.40s'", value);
		d->has_dur = 1;
	} else if (strcasecmp(n, "RRULE") == 0) {
		/* the rule is split in place: keep its text for the reason */
		snprintf(why, sizeof why, "RRULE: not supported '%.60s'",
		    value);
		if (d->rule.freq != F_NONE) {
			flaw(d, 0, "RRULE: more than one");
		} else if (parse_rule(value, ps->deflt, d) < 0) {
			memset(&d->rule, 0, sizeof d->rule);
			d->has_until = 0;
			flaw(d, 0, "%s", why);
		}
	} else if (strcasecmp(n, "EXDATE") == 0) {
		add_exdates(ps, p, value);
	} else if (strcasecmp(n, "RDATE") == 0 ||
	    strcasecmp(n, "EXRULE") == 0) {
		flaw(d, 0, "%s: not supported", n);
	} else if (strcasecmp(n, "UID") == 0) {
		free(d->uid);
		d->uid = sl_strdup(value);
	} else if (strcasecmp(n, "STATUS") == 0) {
		if (strcasecmp(value, "CANCELLED") == 0)
			d->busy = 0;
	} else if (strcasecmp(n, "TRANSP") == 0) {
		if (strcasecmp(value, "TRANSPARENT") == 0)
			d->busy = 0;
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The EXDATEs of d as sorted instants and local days. */
static void
make_exdates(const struct draft *d, const struct sl_zone *fz,
    struct event *e)
{
	size_t i;
	int64_t t;

	if (d->nex == 0)
		return;
	e->ext = sl_calloc(d->nex, sizeof *e->ext);
	e->exd = sl_calloc(d->nex, sizeof *e->exd);
	for (i = 0; i < d->nex; i++) {
		if (d->ex[i].kind == T_DATE)
			e->exd[e->nexd++] = d->ex[i].day;
		else if (instant(&d->ex[i], fz, &t) == 0)
			e->ext[e->next++] = t;
	}
	qsort(e->ext, e->next, sizeof *e->ext, cmp_i64);
	qsort(e->exd, e->nexd, sizeof *e->exd, cmp_i64);
}

/* The frame and length of an all-day event, or -1. */
static int
all_day_length(struct parser *ps, struct event *e)
{
	struct draft *d = &ps->d;

	e->f.zone = ps->deflt;
	if (d->has_end && d->end.kind != T_DATE) {
		flaw(d, 1, "DTEND: a date-time for an all-day DTSTART");
		return -1;
	}
	if (d->has_end && d->end.day < d->start.day) {
		flaw(d, 1, "DTEND: before DTSTART");
		return -1;
	}
	if (d->has_end)		// DTEND = DTSTART: read as one day
		e->dur_days = d->end.day > d->start.day ?
		    d->end.day - d->start.day : 1;
	else if (d->has_dur)
		e->dur_days = d->dur_days + (d->dur_secs + DAY - 1) / DAY;
	else
		e->dur_days = 1;
	return 0;
}

/* The frame and length of an event with a DTSTART time, or -1. */
static int
timed_length(struct parser *ps, struct event *e)
{
	struct draft *d = &ps->d;
	int64_t s, t;

	e->f.zone = d->start.kind == T_UTC ? NULL : d->start.zone ?
	    d->start.zone : ps->deflt;
	e->f.sec = d->start.sec;
	if (frame_instant(&e->f, e->day, &s) < 0) {
		flaw(d, 1, "DTSTART: out of range");
		return -1;
	}
	if (d->has_end) {
		if (d->end.kind == T_DATE) {
			flaw(d, 1, "DTEND: a date for a date-time DTSTART");
			return -1;
		}
		if (instant(&d->end, ps->deflt, &t) < 0 || t < s) {
			flaw(d, 1, "DTEND: before DTSTART");
			return -1;
		}
		e->dur_secs = t - s;
	} else if (d->has_dur) {
		e->dur_days = d->dur_days;
		e->dur_secs = d->dur_secs;
	}
	return 0;
}

/*
 * The event of the draft, or -1 (and the draft marked bad) when its times
 * make no sense.  Floating UNTIL, EXDATE and RECURRENCE-ID are read in
 * the zone of DTSTART (the default zone when DTSTART is in UTC).
 */
static int
make_event(struct parser *ps, struct event *e)
{
	struct draft *d = &ps->d;
	const struct sl_zone *fz;

	memset(e, 0, sizeof *e);
	e->busy = d->busy;
	e->day = d->start.day;
	if ((d->start.kind == T_DATE ? all_day_length(ps, e) :
	    timed_length(ps, e)) < 0)
		return -1;
	if (e->dur_days > MAX_DAYS || e->dur_secs > MAX_DAYS * DAY) {
		flaw(d, 1, "longer than %lld days", (long long)MAX_DAYS);
		return -1;
	}
	fz = e->f.zone ? e->f.zone : ps->deflt;
	if (d->has_rid) {
		if (instant(&d->rid, fz, &e->rid) < 0) {
			flaw(d, 1, "RECURRENCE-ID: out of range");
			return -1;
		}
		e->has_rid = 1;
	} else if (d->rule.freq != F_NONE) {
		e->rule = d->rule;
		if (d->has_until && d->until.kind == T_DATE) {
			e->rule.until = U_DAY;
			e->rule.until_v = d->until.day;
		} else if (d->has_until) {
			e->rule.until = U_TIME;
			if (instant(&d->until, fz, &e->rule.until_v) < 0)
				e->rule.until_v = SL_TIME_MIN;
		}
	}
	make_exdates(d, fz, e);
	e->uid = d->uid;
	d->uid = NULL;
	return 0;
}

/* END:VEVENT: keep the event unless it is malformed, count flaws. */
static void
finish(struct parser *ps)
{
	struct draft *d = &ps->d;
	struct event e;

	if (!d->has_start)
		flaw(d, 1, "VEVENT without DTSTART");
	if (!d->bad && make_event(ps, &e) == 0) {
		if (ps->nev == ps->capev) {
			ps->capev = ps->capev ? ps->capev * 2 : 64;
			ps->ev = sl_realloc(ps->ev, ps->capev * sizeof *ps->ev);
		}
		ps->ev[ps->nev++] = e;
	}
	if (d->bad || d->partial) {
		ps->skipped++;
		if (!ps->first_why[0])
			snprintf(ps->first_why, sizeof ps->first_why, "%s",
			    d->why);
	}
	draft_reset(d);
}

/*
 * The second pass
 */

static void
emit(struct parser *ps, int64_t s, int64_t e)
{
	struct sl_iv **iv = ps->iv;

	if (e <= s || e <= ps->from || s >= ps->to)
		return;
	if (*ps->n == *ps->cap_iv) {
		*ps->cap_iv = *ps->cap_iv ? *ps->cap_iv * 2 : 64;
		*iv = sl_realloc(*iv, *ps->cap_iv * sizeof **iv);
	}
	(*iv)[*ps->n].start = s;
	(*iv)[(*ps->n)++].end = e;
}

static int
has_i64(const int64_t *v, size_t n, int64_t x)
{
	return n && bsearch(&x, v, n, sizeof *v, cmp_i64) != NULL;
}

static int
cmp_override(const void *a, const void *b)
{
	const struct override *x = a, *y = b;
	int c = strcmp(x->uid, y->uid);

	if (c)
		return c;
	return (x->rid > y->rid) - (x->rid < y->rid);
}

/* The occurrence starting at t on local day day, unless excluded. */
static void
occurrence(struct parser *ps, const struct event *e, int64_t day, int64_t t,
    const struct override *o, size_t no)
{
	struct override key;
	int64_t end = t;

	if (has_i64(e->ext, e->next, t) || has_i64(e->exd, e->nexd, day))
		return;
	key.uid = e->uid;
	key.rid = t;
	if (no && bsearch(&key, o, no, sizeof *o, cmp_override))
		return;
	if (e->dur_days && frame_instant(&e->f, day + e->dur_days, &end) < 0)
		return;
	emit(ps, t, end + e->dur_secs);
}

static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int
wday_of(int64_t day)
{
	return (int)(day - fdiv(day + 4, 7) * 7 + 4);
}

/*
 * Every occurrence of e that starts before `to`: DTSTART first (counted
 * by COUNT like the others), then the rule's local days after it.
 * o holds the overrides of e's UID.
 */
static void
expand(struct parser *ps, const struct event *e, const struct override *o,
    size_t no)
{
	const struct rule *r = &e->rule;
	int64_t t, per, base, day, last, target, k, k0 = 0, made = 1;
	unsigned mask = r->mask;
	int i, ndays;

	if (frame_instant(&e->f, e->day, &t) < 0)
		return;
	if (t < ps->to)
		occurrence(ps, e, e->day, t, o, no);
	if (r->freq == F_NONE)
		return;
	ndays = r->freq == F_DAILY ? 1 : 7;
	per = (int64_t)r->interval * ndays;
	base = e->day;
	if (r->freq == F_WEEKLY) {
		base -= (wday_of(e->day) - r->wkst + 7) % 7;
		if (!mask)
			mask = 1u << wday_of(e->day);
	}
	last = fdiv(ps->to, DAY) + 2;
	if (r->until == U_DAY && r->until_v < last)
		last = r->until_v;
	if (!r->count) {
		/* whole periods that end before `from` are not walked */
		target = fdiv(ps->from - e->dur_days * DAY - e->dur_secs, DAY) -
		    2;
		if (target - base > 2 * per)
			k0 = (target - base) / per - 1;
	}
	for (k = k0;; k++) {
		for (i = 0; i < ndays; i++) {
			day = base + k * per + i;
			if (day > last)
				return;
			if (day <= e->day ||
			    (mask && !(mask & 1u << wday_of(day))))
				continue;
			if (frame_instant(&e->f, day, &t) < 0 || t >= ps->to ||
			    (r->until == U_TIME && t > r->until_v))
				return;
			if (++made > MAX_OCC || (r->count && made > r->count))
				return;
			occurrence(ps, e, day, t, o, no);
		}
	}
}

/* The overrides of uid within o (sorted), or none. */
static const struct override *
overrides_of(const struct override *o, size_t no, const char *uid,
    size_t *n)
{
	size_t lo = 0, hi = no, mid, a;

	*n = 0;
	if (!uid)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(o[mid].uid, uid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (a = lo; a < no && strcmp(o[a].uid, uid) == 0; a++)
		;
	*n = a - lo;
	return o + lo;
}

static void
set_err(char *err, size_t errlen, const char *msg, int line)
{
	if (err && errlen)
		snprintf(err, errlen, "line %d: %s", line, msg);
}

enum { S_OUT, S_CAL, S_EVENT };

/* BEGIN and END lines: the component state and the nesting depth. */
static void
component(struct parser *ps, const struct prop *p, int line, int *state,
    int *depth)
{
	int vevent = strcasecmp(p->value, "VEVENT") == 0;

	if (strcasecmp(p->name, "BEGIN") == 0) {
		if (*depth == 0 && *state == S_OUT &&
		    strcasecmp(p->value, "VCALENDAR") == 0) {
			*state = S_CAL;
		} else if (*depth == 0 && *state == S_CAL && vevent) {
			*state = S_EVENT;
			draft_reset(&ps->d);
			ps->d.line = ps->d.cur = line;
		} else {
			(*depth)++;	// VALARM, VTIMEZONE, ...
		}
	} else if (*depth > 0) {
		(*depth)--;
	} else if (*state == S_EVENT) {
		if (!vevent)
			flaw(&ps->d, 1, "VEVENT not ended");
		finish(ps);
		*state = vevent ? S_CAL : S_OUT;
	} else if (*state == S_CAL) {
		*state = S_OUT;
	}
}

/* The first pass over the whole text; -1 when it is not iCalendar. */
static int
read_text(struct parser *ps, char *err, size_t errlen)
{
	struct prop p;
	int line = 1, state = S_OUT, depth = 0, seen = 0;
	char *s;

	while (next_line(ps, &line)) {
		s = ps->buf;
		ps->d.cur = line;
		if (!seen) {
			if (s[strspn(s, " \t")] == '\0')
				continue;
			if (strcasecmp(s, "BEGIN:VCALENDAR") != 0) {
				set_err(err, errlen, "not iCalendar: expected "
				    "BEGIN:VCALENDAR", line);
				return -1;
			}
			seen = 1;
		}
		if (parse_prop(s, &p) < 0) {
			if (state == S_EVENT && depth == 0 &&
			    strncasecmp(s, "DTSTART", 7) == 0)
				flaw(&ps->d, 1, "DTSTART: malformed line");
		} else if (strcasecmp(p.name, "BEGIN") == 0 ||
		    strcasecmp(p.name, "END") == 0) {
			component(ps, &p, line, &state, &depth);
		} else if (state == S_EVENT && depth == 0) {
			event_prop(ps, &p, p.value);
		}
	}
	if (!seen) {
		set_err(err, errlen, "not iCalendar: no BEGIN:VCALENDAR", line);
		return -1;
	}
	if (state == S_EVENT) {
		ps->d.cur = ps->d.line;
		flaw(&ps->d, 1, "VEVENT not ended");
		finish(ps);
	}
	return 0;
}

/* The second pass: overrides indexed by UID, then every busy event. */
static void
expand_all(struct parser *ps)
{
	struct override *ov = NULL;
	const struct override *o;
	size_t nov = 0, no, i;

	for (i = 0; i < ps->nev; i++)
		nov += ps->ev[i].has_rid && ps->ev[i].uid;
	if (nov) {
		ov = sl_calloc(nov, sizeof *ov);
		for (nov = 0, i = 0; i < ps->nev; i++)
			if (ps->ev[i].has_rid && ps->ev[i].uid) {
				ov[nov].uid = ps->ev[i].uid;
				ov[nov++].rid = ps->ev[i].rid;
			}
		qsort(ov, nov, sizeof *ov, cmp_override);
	}
	for (i = 0; i < ps->nev; i++) {
		if (!ps->ev[i].busy)
			continue;
		if (ps->ev[i].has_rid) {
			expand(ps, &ps->ev[i], NULL, 0);
		} else {
			o = overrides_of(ov, nov, ps->ev[i].uid, &no);
			expand(ps, &ps->ev[i], o, no);
		}
	}
	free(ov);
}

int
sl_ics_busy(const char *text, size_t len, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen)
{
	struct parser ps;
	size_t i;
	int rc = -1;

	if (err && errlen)
		err[0] = '\0';
	if (skipped)
		*skipped = 0;
	if (!text || !deflt || !iv || !n || !cap || *n > *cap) {
		if (err && errlen)
			snprintf(err, errlen, "bad arguments");
		return -1;
	}
	memset(&ps, 0, sizeof ps);
	ps.p = text;
	ps.end = text + len;
	ps.lineno = 1;
	ps.deflt = deflt;
	ps.from = from > SL_TIME_MIN ? from : SL_TIME_MIN;
	ps.to = to < SL_TIME_MAX ? to : SL_TIME_MAX;
	ps.iv = iv;
	ps.n = n;
	ps.cap_iv = cap;
	draft_reset(&ps.d);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	if (read_text(&ps, err, errlen) < 0)
		goto out;
	expand_all(&ps);
	if (err && errlen)
		snprintf(err, errlen, "%s", ps.first_why);
	if (skipped)
		*skipped = ps.skipped;
	rc = ps.nev > INT_MAX ? INT_MAX : (int)ps.nev;
out:
	for (i = 0; i < ps.nev; i++) {
		free(ps.ev[i].uid);
		free(ps.ev[i].ext);
		free(ps.ev[i].exd);
	}
	free(ps.ev);
	free(ps.buf);
	free(ps.d.uid);
	free(ps.d.ex);
	return rc;
}

int
sl_ics_busy_file(const char *path, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen)
{
	char *buf = NULL, inner[256];
	size_t len = 0, size = 0;
	ssize_t r;
	int fd, rc = -1;

	if (err && errlen)
		err[0] = '\0';
	if (skipped)
		*skipped = 0;
	if (!path) {
		if (err && errlen)
			snprintf(err, errlen, "bad arguments");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot read '%s': %s", path,
			    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == size) {
			size = size ? size * 2 : 65536;
			buf = sl_realloc(buf, size);
		}
		r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (err && errlen)
				snprintf(err, errlen, "cannot read '%s': %s",
				    path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MAX_FILE) {
			if (err && errlen)
				snprintf(err, errlen, "cannot read '%s': "
				    "larger than %d MiB", path, MAX_FILE >> 20);
			goto out;
		}
	}
	rc = sl_ics_busy(buf, len, from, to, deflt, iv, n, cap, skipped, inner,
	    sizeof inner);
	if (inner[0] && err && errlen)
		snprintf(err, errlen, "'%s': %s", path, inner);
out:
	free(buf);
	close(fd);
	return rc;
}
