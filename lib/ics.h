/*
 * ics.h: busy time from an iCalendar file (RFC 5545), the kind a rep
 * exports from any calendar program.
 *
 * Understood: VEVENT with DTSTART and DTEND or DURATION; date-times in
 * UTC ("...Z"), with TZID=<IANA zone>, or floating (then in the zone
 * given); all-day events (VALUE=DATE, busy for the whole local day, DTEND
 * exclusive); RRULE with FREQ=DAILY or WEEKLY (INTERVAL, BYDAY, UNTIL,
 * COUNT); EXDATE; RECURRENCE-ID overriding one occurrence.  Events with
 * STATUS:CANCELLED or TRANSP:TRANSPARENT are not busy.  Folded lines are
 * unfolded; unknown properties and components are ignored.
 *
 * Details:
 * - A TZID that names no IANA zone, even after dropping leading path
 *   components ("/mozilla.org/20070129_1/Europe/Berlin" works), is read
 *   in the default zone and not counted as skipped: VTIMEZONE blocks are
 *   not interpreted, and Windows names ("W. Europe Standard Time") are
 *   not mapped.
 * - Rules repeat in wall time of DTSTART's zone (UTC for a "Z" DTSTART);
 *   a wall time in a DST gap moves forward by the gap.  DTEND gives every
 *   occurrence the same exact length; DURATION days are local days.
 * - Floating UNTIL, EXDATE and RECURRENCE-ID values are read in DTSTART's
 *   zone; a date-only EXDATE removes the occurrence on that local day.
 * - An all-day event without DTEND or with DTEND = DTSTART lasts one day.
 * - An RRULE other than DAILY/WEEKLY, or with BYDAY ordinals ("1MO") or
 *   any other part (BYMONTH, BYSETPOS, ...), keeps the first occurrence
 *   only; RDATE, EXRULE and RECURRENCE-ID;RANGE are ignored.  Such events
 *   are read and also counted in *skipped.
 * - Expansion stops at `to` and after 100,000 occurrences of one event;
 *   without COUNT the walk starts near `from`, not at DTSTART.
 */
#ifndef SL_ICS_H
#define SL_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"

struct sl_zone;

/*
 * Appends to *iv (growing it with sl_realloc; *cap is its capacity) every
 * busy interval of the calendar text that meets [from, to), whole, in no
 * particular order (sl_iv_normalise them).  deflt is the zone of floating
 * times and all-day events.  Returns the number of events read (every
 * VEVENT kept, busy or not, with those also counted in *skipped), or -1
 * with a reason naming the line in err ("line 1: not iCalendar: expected
 * BEGIN:VCALENDAR") when the text is not iCalendar (its first non-blank
 * line is not BEGIN:VCALENDAR) or deflt is NULL.  An event it cannot
 * understand (a bad or missing DTSTART, DTEND before DTSTART, a VEVENT
 * not ended) is skipped, counted in *skipped (may be NULL), and does not
 * fail the calendar; err (may be NULL) then holds the reason of the first
 * one ("line 12: DTSTART: bad date-time '20261301T100000Z'"), else "".
 */
int sl_ics_busy(const char *text, size_t len, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen);

/*
 * The same for a file of up to 16 MiB; err says "cannot read 'PATH':
 * strerror" (or "larger than 16 MiB"), and other reasons start with
 * "'PATH': ".
 */
int sl_ics_busy_file(const char *path, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen);

#endif
