/*
 * timeutil.h: the clock, RFC 3339, and civil time in any IANA zone.
 *
 * Zones are read from the system's zone database (TZif files under
 * /usr/share/zoneinfo, or $TZDIR) and cached per process, so converting
 * between UTC and a rep's local time is correct across DST changes and
 * costs no system call once the zone is loaded.  No function touches the
 * process's TZ or calls localtime.
 */
#ifndef SL_TIMEUTIL_H
#define SL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

struct sl_zone;

/*
 * The current time in Unix seconds: $SALESLINE_NOW (RFC 3339 or Unix
 * seconds) when set, else the real clock.  A malformed SALESLINE_NOW exits
 * 78 naming the variable.
 */
int64_t sl_now(void);

/* Broken-down civil time. mon is 1-12, mday 1-31, wday 0 = Sunday. */
struct sl_tm {
	int year, mon, mday, hour, min, sec;
	int wday;
	int yday;		/* 0-365 */
	int gmtoff;		/* seconds east of UTC */
	int isdst;
	char abbr[8];		/* "WITA", "CET", "+08" */
};

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t sl_days_from_civil(int year, int mon, int mday);
void sl_civil_from_days(int64_t days, int *year, int *mon, int *mday);

/* What RFC 3339 can write: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
#define SL_TIME_MIN INT64_C(-62167219200)
#define SL_TIME_MAX INT64_C(253402300799)

/*
 * RFC 3339: "2026-11-22T10:00:00Z", "2026-11-22T18:00:00+08:00", with an
 * optional fraction (dropped) and 't'/'z'/' ' accepted.  Returns 0 and
 * stores Unix seconds, or -1 when s is not a complete valid timestamp.
 * A leap second (:60) counts as :59 of the same minute, since Unix time
 * has no leap seconds; offsets go up to 23:59.
 */
int sl_time_parse(const char *s, int64_t *t);
/*
 * UTC: "2026-11-22T10:00:00Z".  buf of at least SL_TIME_BUFSZ.  Returns
 * NULL (and an empty buf) when t is outside SL_TIME_MIN..SL_TIME_MAX.
 */
#define SL_TIME_BUFSZ 40
char *sl_time_fmt(int64_t t, char *buf);
/* Local in zone tz with offset: "2026-11-22T18:00:00+08:00". NULL on error. */
char *sl_time_fmt_local(int64_t t, const struct sl_zone *z, char *buf);

/*
 * Zones.  sl_zone_load returns a cached zone for an IANA name
 * ("Asia/Makassar", "Europe/Moscow", "UTC"), or NULL when the name is not
 * a zone in the database (or is unsafe: absolute, "..").  The zone lives
 * until sl_zone_free_all.  Fixed offsets "UTC+3", "UTC-05:30", "GMT" are
 * accepted too.
 *
 * Names: non-empty, relative, only [A-Za-z0-9/_+-].  Fixed offsets are
 * "UTC", "GMT", "Z", or "UTC"/"GMT"/nothing followed by a sign and h, hh,
 * h:mm, hh:mm or hhmm up to 23:59 ("UTC+3", "GMT-05:30", "+03:00").  The
 * sign is the human one: "UTC+3" is three hours EAST of UTC (as in
 * Moscow), unlike POSIX TZ strings and the zone files "Etc/GMT+3", which
 * count west; "Etc/GMT+3" is loaded from the database as UTC-3.
 * Failed names are remembered too (up to a limit), so a bad name repeated
 * on every record costs no file access.  Not thread-safe.
 */
const struct sl_zone *sl_zone_load(const char *name);
const char *sl_zone_name(const struct sl_zone *z);
void sl_zone_free_all(void);

/* UTC seconds to local civil time in z. Returns 0, or -1 out of range. */
int sl_to_local(int64_t t, const struct sl_zone *z, struct sl_tm *tm);
/*
 * Local civil time in z to UTC seconds.  Fields may be out of range and are
 * normalised (mday 32 is the next month).  A time that falls into a gap
 * (spring forward) is moved forward by the gap; an ambiguous time (fall
 * back) takes the earlier instant.  Returns 0, or -1 out of range.
 */
int sl_from_local(const struct sl_tm *tm, const struct sl_zone *z,
    int64_t *t);

#endif
