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
 */
#ifndef SL_ICS_H
#define SL_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"

struct sl_zone;

/*
 * Appends to *iv (growing it with sl_realloc; *cap is its capacity) every
 * busy interval of the calendar text that meets [from, to).  deflt is the
 * zone of floating times and all-day events.  Returns the number of
 * events read, or -1 with a reason naming the line in err ("line 12:
 * DTSTART: bad date-time '2026-13-01'") when the text is not iCalendar.
 * An event it cannot understand is skipped, counted in *skipped (may be
 * NULL), and does not fail the calendar.
 */
int sl_ics_busy(const char *text, size_t len, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen);

/* The same for a file; err says "cannot read 'PATH': strerror". */
int sl_ics_busy_file(const char *path, int64_t from, int64_t to,
    const struct sl_zone *deflt, struct sl_iv **iv, size_t *n, size_t *cap,
    size_t *skipped, char *err, size_t errlen);

#endif
