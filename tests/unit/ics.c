/*
 * ics.c: unit tests for lib/ics.c.
 *
 * Each calendar is small enough to expand by hand; the expected busy
 * intervals are written in UTC, sorted, as "start/end" lines.  Times in
 * Europe/Berlin change offset on 29 March and 25 October 2026.  The
 * fixtures tests/fixtures/rep-*.ics are read through sl_ics_busy_file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ics.h"
#include "sl.h"
#include "slots.h"
#include "tap.h"
#include "timeutil.h"

#define FIXTURES "tests/fixtures/"

static const struct sl_zone *berlin, *makassar;
static char got[16384], err[256];
static size_t skipped, nread;

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

static int
cmp_iv(const void *a, const void *b)
{
	const struct sl_iv *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* The intervals, sorted, as "start/end\n" lines in got. */
static void
show(struct sl_iv *iv, size_t n)
{
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ];
	size_t i, len = 0;

	got[0] = '\0';
	if (n)
		qsort(iv, n, sizeof *iv, cmp_iv);
	for (i = 0; i < n && len < sizeof got - 100; i++)
		len += (size_t)snprintf(got + len, sizeof got - len, "%s/%s\n",
		    sl_time_fmt(iv[i].start, a), sl_time_fmt(iv[i].end, b));
}

/* Reads text over [from, to); the events read, or -1. */
static int
busy(const char *text, const char *from, const char *to,
    const struct sl_zone *deflt)
{
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	int r;

	r = sl_ics_busy(text, strlen(text), utc(from), utc(to), deflt, &iv, &n,
	    &cap, &skipped, err, sizeof err);
	nread = n;
	show(iv, n);
	free(iv);
	return r;
}

/* An event in a calendar of its own. */
static int
event(const char *props, const char *from, const char *to)
{
	char text[4096];

	snprintf(text, sizeof text, "BEGIN:VCALENDAR\nVERSION:2.0\n"
	    "BEGIN:VEVENT\nUID:x\n%sEND:VEVENT\nEND:VCALENDAR\n", props);
	return busy(text, from, to, berlin);
}

#define MARCH "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"

static void
single(void)
{
	is_int(event("DTSTART:20260317T130000Z\nDTEND:20260317T133000Z\n",
	    MARCH), 1, "UTC: one event");
	is_str(got, "2026-03-17T13:00:00Z/2026-03-17T13:30:00Z\n", "UTC");
	event("DTSTART;TZID=Europe/Berlin:20260327T100000\n"
	    "DTEND;TZID=Europe/Berlin:20260327T113000\n", MARCH);
	is_str(got, "2026-03-27T09:00:00Z/2026-03-27T10:30:00Z\n",
	    "TZID before the change: +01:00");
	event("DTSTART;TZID=Europe/Berlin:20260330T100000\n"
	    "DURATION:PT1H30M\n", MARCH);
	is_str(got, "2026-03-30T08:00:00Z/2026-03-30T09:30:00Z\n",
	    "TZID after the change, DURATION: +02:00");
	event("DTSTART;TZID=Asia/Makassar:20260330T100000\n"
	    "DTEND;TZID=Europe/Berlin:20260330T040000\n", MARCH);
	is_str(got, "", "DTEND in another zone: 02:00Z both, empty, not busy");
	event("DTSTART:20260318T150000\nDURATION:PT45M\n", MARCH);
	is_str(got, "2026-03-18T14:00:00Z/2026-03-18T14:45:00Z\n",
	    "floating: in the default zone");
	busy("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260318T150000\n"
	    "DTEND:20260318T160000\nEND:VEVENT\nEND:VCALENDAR\n", MARCH,
	    makassar);
	is_str(got, "2026-03-18T07:00:00Z/2026-03-18T08:00:00Z\n",
	    "floating: another default zone");
	event("DTSTART;TZID=Europe/Berlin:20260329T023000\n"
	    "DURATION:PT1H\n", MARCH);
	is_str(got, "2026-03-29T01:30:00Z/2026-03-29T02:30:00Z\n",
	    "02:30 on 29 March does not exist: moved forward to 03:30");
	event("DTSTART;TZID=Europe/Berlin:20261025T023000\n"
	    "DURATION:PT1H\n", "2026-10-01T00:00:00Z",
	    "2026-11-01T00:00:00Z");
	is_str(got, "2026-10-25T00:30:00Z/2026-10-25T01:30:00Z\n",
	    "02:30 on 25 October happens twice: the first");
	event("DTSTART;TZID=W. Europe Standard Time:20260316T100000\n"
	    "DURATION:PT1H\n", MARCH);
	is_str(got, "2026-03-16T09:00:00Z/2026-03-16T10:00:00Z\n",
	    "an unknown TZID (Windows) is read in the default zone");
	ok(skipped == 0, "an unknown TZID is not counted as skipped");
	busy("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Windows Name:"
	    "20260316T100000\nDURATION:PT1H\nEND:VEVENT\nEND:VCALENDAR\n",
	    MARCH, makassar);
	is_str(got, "2026-03-16T02:00:00Z/2026-03-16T03:00:00Z\n",
	    "the default zone it falls back to is deflt");
	event("DTSTART;TZID=/mozilla.org/20070129_1/Asia/Makassar:"
	    "20260316T100000\nDURATION:PT1H\n", MARCH);
	is_str(got, "2026-03-16T02:00:00Z/2026-03-16T03:00:00Z\n",
	    "a TZID with a path prefix");
	event("DTSTART;X-FOO=\"a;b:c,d\";TZID=\"Asia/Makassar\":"
	    "20260316T100000\nDURATION:PT1H\n", MARCH);
	is_str(got, "2026-03-16T02:00:00Z/2026-03-16T03:00:00Z\n",
	    "quoted parameter values with ; : and ,");
	is_int(event("DTSTART:20260316T100000Z\n", MARCH), 1,
	    "DTSTART alone: read");
	is_str(got, "", "DTSTART alone: no duration, not busy");
	event("dtstart:20260316T100000Z\nduration:P1DT2H\n", MARCH);
	is_str(got, "2026-03-16T10:00:00Z/2026-03-17T12:00:00Z\n",
	    "lower case names; DURATION with days and hours");
	event("DTSTART;TZID=Europe/Berlin:20260328T120000\nDURATION:P1D\n",
	    MARCH);
	is_str(got, "2026-03-28T11:00:00Z/2026-03-29T10:00:00Z\n",
	    "DURATION P1D is a local day: 23 hours over the change");
	event("DTSTART;TZID=Europe/Berlin:20260328T120000\n"
	    "DURATION:PT24H\n", MARCH);
	is_str(got, "2026-03-28T11:00:00Z/2026-03-29T11:00:00Z\n",
	    "DURATION PT24H is exact");
	event("DTSTART:20260316T100000Z\nDURATION:P1W\n", MARCH);
	is_str(got, "2026-03-16T10:00:00Z/2026-03-23T10:00:00Z\n",
	    "DURATION in weeks");
}

static void
all_day(void)
{
	event("DTSTART;VALUE=DATE:20260320\n", MARCH);
	is_str(got, "2026-03-19T23:00:00Z/2026-03-20T23:00:00Z\n",
	    "all day, no DTEND: one local day in the default zone");
	event("DTSTART;VALUE=DATE:20260320\nDTEND;VALUE=DATE:20260323\n",
	    MARCH);
	is_str(got, "2026-03-19T23:00:00Z/2026-03-22T23:00:00Z\n",
	    "DTEND is exclusive: three days");
	event("DTSTART;VALUE=DATE:20260328\nDTEND;VALUE=DATE:20260330\n",
	    MARCH);
	is_str(got, "2026-03-27T23:00:00Z/2026-03-29T22:00:00Z\n",
	    "two local days over the change are 47 hours");
	event("DTSTART:20260320\nDURATION:P2D\n", MARCH);
	is_str(got, "2026-03-19T23:00:00Z/2026-03-21T23:00:00Z\n",
	    "a bare date, DURATION P2D");
	busy("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260320\n"
	    "END:VEVENT\nEND:VCALENDAR\n", MARCH, makassar);
	is_str(got, "2026-03-19T16:00:00Z/2026-03-20T16:00:00Z\n",
	    "all day in Makassar");
	event("DTSTART;VALUE=DATE:20260316\nRRULE:FREQ=DAILY;COUNT=3\n"
	    "EXDATE;VALUE=DATE:20260317\n", MARCH);
	is_str(got, "2026-03-15T23:00:00Z/2026-03-16T23:00:00Z\n"
	    "2026-03-17T23:00:00Z/2026-03-18T23:00:00Z\n",
	    "daily all-day with a date EXDATE");
}

static void
rules(void)
{
	event("DTSTART;TZID=Europe/Berlin:20260323T100000\n"
	    "DTEND;TZID=Europe/Berlin:20260323T110000\n"
	    "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20260402T080000Z\n", MARCH);
	is_str(got, "2026-03-23T09:00:00Z/2026-03-23T10:00:00Z\n"
	    "2026-03-26T09:00:00Z/2026-03-26T10:00:00Z\n"
	    "2026-03-30T08:00:00Z/2026-03-30T09:00:00Z\n"
	    "2026-04-02T08:00:00Z/2026-04-02T09:00:00Z\n",
	    "weekly MO,TH stays 10:00 local over the change; UNTIL inclusive");
	event("DTSTART;TZID=Europe/Berlin:20260323T100000\n"
	    "DTEND;TZID=Europe/Berlin:20260323T110000\n"
	    "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20260402T075959Z\n", MARCH);
	ok(strstr(got, "2026-04-02") == NULL, "UNTIL one second earlier");
	event("DTSTART:20260323T100000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;UNTIL=20260406\n", MARCH);
	is_str(got, "2026-03-23T10:00:00Z/2026-03-23T11:00:00Z\n"
	    "2026-03-30T10:00:00Z/2026-03-30T11:00:00Z\n"
	    "2026-04-06T10:00:00Z/2026-04-06T11:00:00Z\n",
	    "weekly in UTC stays UTC; UNTIL a date includes that day");
	event("DTSTART;TZID=Europe/Berlin:20261019T090000\nDURATION:PT30M\n"
	    "RRULE:FREQ=DAILY;INTERVAL=3;COUNT=4\n", "2026-10-01T00:00:00Z",
	    "2026-12-01T00:00:00Z");
	is_str(got, "2026-10-19T07:00:00Z/2026-10-19T07:30:00Z\n"
	    "2026-10-22T07:00:00Z/2026-10-22T07:30:00Z\n"
	    "2026-10-25T08:00:00Z/2026-10-25T08:30:00Z\n"
	    "2026-10-28T08:00:00Z/2026-10-28T08:30:00Z\n",
	    "daily INTERVAL=3 COUNT=4 across the October change");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=3\nEXDATE:20260303T090000Z\n", MARCH);
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n"
	    "2026-03-04T09:00:00Z/2026-03-04T10:00:00Z\n",
	    "COUNT counts the excluded occurrence too");
	event("DTSTART:20260303T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4\n", MARCH);
	is_str(got, "2026-03-03T09:00:00Z/2026-03-03T10:00:00Z\n"
	    "2026-03-05T09:00:00Z/2026-03-05T10:00:00Z\n"
	    "2026-03-10T09:00:00Z/2026-03-10T10:00:00Z\n"
	    "2026-03-12T09:00:00Z/2026-03-12T10:00:00Z\n",
	    "weekly TU,TH COUNT=4");
	event("DTSTART:20260304T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=5\n", MARCH);
	is_str(got, "2026-03-04T09:00:00Z/2026-03-04T10:00:00Z\n"
	    "2026-03-16T09:00:00Z/2026-03-16T10:00:00Z\n"
	    "2026-03-18T09:00:00Z/2026-03-18T10:00:00Z\n"
	    "2026-03-30T09:00:00Z/2026-03-30T10:00:00Z\n"
	    "2026-04-01T09:00:00Z/2026-04-01T10:00:00Z\n",
	    "every other week from a Wednesday: the Monday before is skipped");
	event("DTSTART:20260304T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU;COUNT=3\n",
	    MARCH);
	is_str(got, "2026-03-04T09:00:00Z/2026-03-04T10:00:00Z\n"
	    "2026-03-16T09:00:00Z/2026-03-16T10:00:00Z\n"
	    "2026-03-18T09:00:00Z/2026-03-18T10:00:00Z\n",
	    "WKST=SU: the same weeks here");
	event("DTSTART:20260301T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,SA;WKST=MO;COUNT=4\n",
	    MARCH);
	is_str(got, "2026-03-01T09:00:00Z/2026-03-01T10:00:00Z\n"
	    "2026-03-14T09:00:00Z/2026-03-14T10:00:00Z\n"
	    "2026-03-15T09:00:00Z/2026-03-15T10:00:00Z\n"
	    "2026-03-28T09:00:00Z/2026-03-28T10:00:00Z\n",
	    "WKST=MO, every other week from a Sunday");
	event("DTSTART:20260301T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,SA;WKST=SU;COUNT=4\n",
	    MARCH);
	is_str(got, "2026-03-01T09:00:00Z/2026-03-01T10:00:00Z\n"
	    "2026-03-07T09:00:00Z/2026-03-07T10:00:00Z\n"
	    "2026-03-15T09:00:00Z/2026-03-15T10:00:00Z\n"
	    "2026-03-21T09:00:00Z/2026-03-21T10:00:00Z\n",
	    "WKST=SU changes the weeks");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;BYDAY=MO,FR;UNTIL=20260313T235959Z\n", MARCH);
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n"
	    "2026-03-06T09:00:00Z/2026-03-06T10:00:00Z\n"
	    "2026-03-09T09:00:00Z/2026-03-09T10:00:00Z\n"
	    "2026-03-13T09:00:00Z/2026-03-13T10:00:00Z\n",
	    "daily limited by BYDAY");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=TU\n", MARCH);
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n",
	    "a rule that never matches ends (DTSTART only)");
	event("DTSTART;TZID=Europe/Berlin:20260302T100000\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=4\n"
	    "EXDATE;TZID=Europe/Berlin:20260303T100000,20260304T100000\n"
	    "EXDATE:20260305T090000Z\n", MARCH);
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n",
	    "EXDATE: a list with TZID, and one in UTC");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nEXDATE:20260302T090000Z\n", MARCH);
	is_str(got, "2026-03-03T09:00:00Z/2026-03-03T10:00:00Z\n",
	    "EXDATE can remove DTSTART");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nEXDATE:20260302T093000Z\n", MARCH);
	ok(strstr(got, "2026-03-02T09") != NULL,
	    "an EXDATE off the occurrence removes nothing");
	is_int(skipped, 0, "rules understood: nothing skipped");
}

static void
long_rules(void)
{
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	const char *text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\n"
	    "DTSTART;TZID=Europe/Berlin:20000103T090000\nDURATION:PT15M\n"
	    "RRULE:FREQ=DAILY\nEND:VEVENT\nEND:VCALENDAR\n";
	int r;

	event("DTSTART;TZID=Europe/Berlin:20000103T090000\nDURATION:PT15M\n"
	    "RRULE:FREQ=DAILY\n", "2026-03-28T00:00:00Z",
	    "2026-03-31T00:00:00Z");
	is_str(got, "2026-03-28T08:00:00Z/2026-03-28T08:15:00Z\n"
	    "2026-03-29T07:00:00Z/2026-03-29T07:15:00Z\n"
	    "2026-03-30T07:00:00Z/2026-03-30T07:15:00Z\n",
	    "a daily rule from 2000: the 2026 days, in local time");
	event("DTSTART;TZID=Europe/Berlin:19000101T090000\nDURATION:PT15M\n"
	    "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=MO\n", "2026-03-01T00:00:00Z",
	    "2026-03-31T00:00:00Z");
	/* 1900-01-01 is a Monday; 2026-03-16 is 6585 = 3 * 2195 weeks later */
	is_str(got, "2026-03-16T08:00:00Z/2026-03-16T08:15:00Z\n",
	    "every third week since 1900 keeps its phase");
	event("DTSTART:10000101T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY\n", "2026-03-01T00:00:00Z",
	    "2026-03-02T00:00:00Z");
	is_str(got, "2026-03-01T09:00:00Z/2026-03-01T10:00:00Z\n",
	    "a daily rule from the year 1000 (over 100,000 days ago)");
	event("DTSTART:20000101T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=100000000\n", "2026-03-01T00:00:00Z",
	    "2026-03-03T00:00:00Z");
	is_str(got, "2026-03-01T09:00:00Z/2026-03-01T10:00:00Z\n"
	    "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n",
	    "COUNT is walked from DTSTART: day 9,557 of 100,000,000");
	event("DTSTART:20000101T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=9557\n", "2026-03-01T00:00:00Z",
	    "2026-03-03T00:00:00Z");
	is_str(got, "2026-03-01T09:00:00Z/2026-03-01T10:00:00Z\n",
	    "COUNT=9557 from 2000-01-01 ends on 2026-03-01");
	r = sl_ics_busy(text, strlen(text), utc("2026-01-01T00:00:00Z"),
	    SL_TIME_MAX, berlin, &iv, &n, &cap, &skipped, err, sizeof err);
	ok(r == 1 && n > 90000 && n <= 100000,
	    "an endless daily rule over an endless window is bounded (%zu)",
	    n);
	free(iv);
}

static void
overrides(void)
{
	const char *text =
	    "BEGIN:VCALENDAR\n"
	    "BEGIN:VEVENT\nUID:w\nRECURRENCE-ID;TZID=Europe/Berlin:"
	    "20260330T100000\nDTSTART;TZID=Europe/Berlin:20260330T150000\n"
	    "DURATION:PT30M\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:w\nDTSTART;TZID=Europe/Berlin:20260323T100000\n"
	    "DURATION:PT1H\nRRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:w\nRECURRENCE-ID:20260406T080000Z\n"
	    "STATUS:CANCELLED\nDTSTART;TZID=Europe/Berlin:20260406T100000\n"
	    "DURATION:PT1H\nEND:VEVENT\n"
	    "BEGIN:VEVENT\nUID:other\nRECURRENCE-ID;TZID=Europe/Berlin:"
	    "20260323T100000\nDTSTART:20260324T100000Z\nDURATION:PT1H\n"
	    "END:VEVENT\n"
	    "END:VCALENDAR\n";

	is_int(busy(text, MARCH, berlin), 4, "overrides: four events read");
	is_str(got, "2026-03-23T09:00:00Z/2026-03-23T10:00:00Z\n"
	    "2026-03-24T10:00:00Z/2026-03-24T11:00:00Z\n"
	    "2026-03-30T13:00:00Z/2026-03-30T13:30:00Z\n",
	    "RECURRENCE-ID (before the master, or in UTC) replaces, "
	    "a cancelled one removes, another UID's touches nothing");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nSTATUS:CANCELLED\n", MARCH);
	is_str(got, "", "a cancelled series is not busy");
	is_int(event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "TRANSP:TRANSPARENT\n", MARCH), 1, "transparent: read");
	is_str(got, "", "transparent: not busy");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "TRANSP:OPAQUE\nSTATUS:CONFIRMED\n", MARCH);
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n",
	    "opaque and confirmed: busy");
}

static void
unsupported(void)
{
	is_int(event("DTSTART;TZID=Europe/Berlin:20260303T150000\n"
	    "DURATION:PT1H\nRRULE:FREQ=MONTHLY;BYMONTHDAY=3\n", MARCH), 1,
	    "MONTHLY: read");
	is_str(got, "2026-03-03T14:00:00Z/2026-03-03T15:00:00Z\n",
	    "MONTHLY: the first occurrence only");
	is_int(skipped, 1, "MONTHLY: counted as skipped");
	ok(strstr(err, "line 7: RRULE: not supported 'FREQ=MONTHLY;"
	    "BYMONTHDAY=3'") != NULL, "MONTHLY: the reason names the line "
	    "and the rule (%s)", err);
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;BYDAY=1MO\n", MARCH);
	ok(skipped == 1 && strcmp(got, "2026-03-02T09:00:00Z/"
	    "2026-03-02T10:00:00Z\n") == 0, "BYDAY=1MO: first only, skipped");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=1\n", MARCH);
	ok(skipped == 1 && nread == 1, "BYSETPOS: first only, skipped");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=YEARLY\n", MARCH);
	ok(skipped == 1 && nread == 1, "YEARLY: first only, skipped");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;INTERVAL=0\n", MARCH);
	ok(skipped == 1 && nread == 1, "INTERVAL=0: first only, skipped");
	event("DTSTART:20260302T090000Z\nDURATION:PT1H\n"
	    "RRULE:FREQ=DAILY;COUNT=2\nRDATE:20260310T090000Z\n", MARCH);
	ok(skipped == 1 && nread == 2, "RDATE: the rule kept, counted");
}

static void
malformed(void)
{
	struct sl_iv *iv = NULL, *keep;
	size_t n = 0, cap = 0;
	int r;
	const char *text;

	event("DTSTART:20261301T100000Z\nDURATION:PT1H\n", MARCH);
	is_int(skipped, 1, "month 13: skipped");
	is_str(err, "line 5: DTSTART: bad date-time '20261301T100000Z'",
	    "month 13: the reason");
	ok(event("DTSTART:20260230T100000Z\n", MARCH) == 0 && skipped == 1,
	    "30 February: skipped, not read");
	ok(event("DTSTART:20260302T250000Z\n", MARCH) == 0 && skipped == 1,
	    "hour 25: skipped");
	ok(event("DTSTART:2026-03-02T10:00:00Z\n", MARCH) == 0 &&
	    skipped == 1, "RFC 3339 is not iCalendar: skipped");
	ok(event("DTSTART;VALUE=DATE:20260302T100000\n", MARCH) == 0 &&
	    skipped == 1, "VALUE=DATE with a time: skipped");
	ok(event("DTSTART:20260302T100000Z\nDTEND:20260302T090000Z\n",
	    MARCH) == 0 && skipped == 1 && strstr(err, "before DTSTART"),
	    "DTEND before DTSTART: skipped");
	ok(event("DTSTART:20260302T100000Z\nDURATION:-PT1H\n", MARCH) == 0 &&
	    skipped == 1, "a negative DURATION: skipped");
	ok(event("DTSTART:20260302T100000Z\nDURATION:PT\n", MARCH) == 0 &&
	    skipped == 1, "an empty DURATION: skipped");
	ok(event("DTSTART;VALUE=DATE:20260302\nDTEND:20260303T100000Z\n",
	    MARCH) == 0 && skipped == 1, "all-day with a date-time DTEND");
	ok(event("DTSTART:20260302T100000Z\nDTSTART:20260303T100000Z\n",
	    MARCH) == 0 && skipped == 1, "DTSTART twice: skipped");
	ok(event("DTSTART;TZID=\"Europe/Berlin:20260302T100000\n", MARCH) ==
	    0 && skipped == 1, "an unclosed quote: skipped");
	ok(event("SUMMARY:no start\n", MARCH) == 0 && skipped == 1 &&
	    strstr(err, "without DTSTART"), "no DTSTART: skipped");
	busy("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260302T100000Z\n"
	    "DURATION:PT1H\n", MARCH, berlin);
	ok(skipped == 1 && nread == 0 &&
	    strstr(err, "line 2: VEVENT not ended"),
	    "an event cut off at the end: skipped (%s)", err);

	r = sl_ics_busy_file(FIXTURES "rep-mixed.ics",
	    utc("2026-03-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"), berlin,
	    &iv, &n, &cap, &skipped, err, sizeof err);
	show(iv, n);
	free(iv);
	is_int(r, 3, "a malformed event among good ones: the rest is read");
	is_int(skipped, 3, "bad month, MONTHLY and no DTSTART are counted");
	is_str(got, "2026-03-02T09:00:00Z/2026-03-02T10:00:00Z\n"
	    "2026-03-03T14:00:00Z/2026-03-03T15:00:00Z\n"
	    "2026-03-05T09:00:00Z/2026-03-05T09:30:00Z\n", "rep-mixed.ics");
	is_str(err, "'" FIXTURES "rep-mixed.ics': line 10: DTSTART: bad "
	    "date-time '20261301T100000Z'", "the first reason, with the path");

	/* appending to what is there */
	iv = sl_calloc(1, sizeof *iv);
	iv[0].start = 1;
	iv[0].end = 2;
	n = cap = 1;
	text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260302T090000Z\n"
	    "DURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=200\nEND:VEVENT\n"
	    "END:VCALENDAR\n";
	r = sl_ics_busy(text, strlen(text), 0, SL_TIME_MAX, berlin, &iv, &n,
	    &cap, NULL, NULL, 0);
	keep = iv;
	ok(r == 1 && n == 201 && cap >= n && keep[0].start == 1 &&
	    keep[0].end == 2 && keep[200].start == utc("2026-09-17T09:00:00Z"),
	    "appends after what *iv holds, grows *cap; NULL err and skipped");
	free(iv);
}

static void
not_ics(void)
{
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	char path[] = "/tmp/sl-unit-ics.XXXXXX";
	int fd;

	ok(busy("{\"type\":\"slot\"}\n", MARCH, berlin) == -1 &&
	    strcmp(err, "line 1: not iCalendar: expected BEGIN:VCALENDAR") == 0,
	    "JSON is not iCalendar: -1 (%s)", err);
	ok(busy("", MARCH, berlin) == -1 && strstr(err, "not iCalendar"),
	    "empty text: -1");
	ok(busy("\n\r\n  \nBEGIN:VEVENT\n", MARCH, berlin) == -1 &&
	    strncmp(err, "line 4: ", 8) == 0, "a VEVENT without VCALENDAR: -1"
	    " naming line 4");
	ok(busy("\xef\xbb\xbf\r\nbegin:vcalendar\r\nEND:VCALENDAR\r\n", MARCH,
	    berlin) == 0 && err[0] == '\0',
	    "a BOM, a blank line and lower case: an empty calendar, 0");
	ok(sl_ics_busy("BEGIN:VCALENDAR\n", 16, 0, 1, NULL, &iv, &n, &cap,
	    NULL, err, sizeof err) == -1, "no default zone: -1");
	ok(sl_ics_busy_file(FIXTURES "not-calendar.ics", 0, SL_TIME_MAX,
	    berlin, &iv, &n, &cap, &skipped, err, sizeof err) == -1 &&
	    strcmp(err, "'" FIXTURES "not-calendar.ics': line 1: not "
	    "iCalendar: expected BEGIN:VCALENDAR") == 0,
	    "a file that is not iCalendar: -1 (%s)", err);
	ok(sl_ics_busy_file("tests/fixtures/no-such.ics", 0, SL_TIME_MAX,
	    berlin, &iv, &n, &cap, &skipped, err, sizeof err) == -1 &&
	    strcmp(err, "cannot read 'tests/fixtures/no-such.ics': "
	    "No such file or directory") == 0, "a missing file: -1 (%s)", err);
	ok(sl_ics_busy_file("tests", 0, SL_TIME_MAX, berlin, &iv, &n, &cap,
	    &skipped, err, sizeof err) == -1 &&
	    strstr(err, "cannot read 'tests': ") == err, "a directory: -1");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (16 << 20) + 1) < 0) {
		ok(0, "mkstemp: cannot make a large file");
	} else {
		ok(sl_ics_busy_file(path, 0, SL_TIME_MAX, berlin, &iv, &n,
		    &cap, &skipped, err, sizeof err) == -1 &&
		    strstr(err, "larger than 16 MiB"),
		    "a file over 16 MiB: -1 (%s)", err);
		ok(ftruncate(fd, 16 << 20) == 0 &&
		    sl_ics_busy_file(path, 0, SL_TIME_MAX, berlin, &iv, &n,
		    &cap, &skipped, err, sizeof err) == -1 &&
		    strstr(err, "not iCalendar"),
		    "16 MiB exactly is read (and is not iCalendar)");
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	ok(n == 0 && iv == NULL, "failures append nothing");
	free(iv);
}

static void
fixture(void)
{
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	int r;

	r = sl_ics_busy_file(FIXTURES "rep-berlin.ics",
	    utc("2026-03-16T00:00:00Z"), utc("2026-04-13T00:00:00Z"), berlin,
	    &iv, &n, &cap, &skipped, err, sizeof err);
	show(iv, n);
	is_int(r, 8, "rep-berlin.ics: eight events");
	ok(skipped == 0 && err[0] == '\0', "rep-berlin.ics: nothing skipped");
	is_str(got,
	    "2026-03-16T09:00:00Z/2026-03-16T10:00:00Z\n"
	    "2026-03-17T13:00:00Z/2026-03-17T13:30:00Z\n"
	    "2026-03-18T09:00:00Z/2026-03-18T10:00:00Z\n"
	    "2026-03-18T14:00:00Z/2026-03-18T14:45:00Z\n"
	    "2026-03-19T08:00:00Z/2026-03-19T08:30:00Z\n"
	    "2026-03-19T23:00:00Z/2026-03-20T23:00:00Z\n"
	    "2026-03-23T09:00:00Z/2026-03-23T10:00:00Z\n"
	    "2026-03-30T12:00:00Z/2026-03-30T13:00:00Z\n"
	    "2026-04-01T08:00:00Z/2026-04-01T09:00:00Z\n"
	    "2026-04-06T08:00:00Z/2026-04-06T09:00:00Z\n"
	    "2026-04-08T08:00:00Z/2026-04-08T09:00:00Z\n",
	    "rep-berlin.ics: CRLF, folds, VTIMEZONE and VALARM ignored, "
	    "weekly over DST with EXDATE and an override");
	free(iv);
	iv = NULL;
	n = cap = 0;
	sl_ics_busy_file(FIXTURES "rep-berlin.ics",
	    utc("2026-03-18T09:30:00Z"), utc("2026-03-19T08:00:00Z"), berlin,
	    &iv, &n, &cap, &skipped, err, sizeof err);
	show(iv, n);
	is_str(got, "2026-03-18T09:00:00Z/2026-03-18T10:00:00Z\n"
	    "2026-03-18T14:00:00Z/2026-03-18T14:45:00Z\n",
	    "the window: overlapping intervals only, whole, half-open");
	free(iv);
}

int
main(void)
{
	sl_init("unit-ics");
	berlin = sl_zone_load("Europe/Berlin");
	makassar = sl_zone_load("Asia/Makassar");
	if (!berlin || !makassar) {
		diag("no zone database");
		return 2;
	}
	single();
	all_day();
	rules();
	long_rules();
	overrides();
	unsupported();
	malformed();
	not_ics();
	fixture();
	sl_zone_free_all();
	return done_testing();
}
