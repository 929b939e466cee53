/*
 * busy.h: a rep's busy time from every source, for cal-free and
 * zoom-book: the ledger's bookings and live holds, the rep's .ics file,
 * and Google Calendar when the rep connected one.  Working hours are the
 * fourth source, applied later by slots.h.
 *
 * A source that cannot be read is never taken for "all free" in silence:
 * it is left out of the sources, and a warning says why.  With strict
 * (zoom-book, about to book), a calendar that fails for any reason but a
 * revoked grant fails the whole gathering instead, since booking blind
 * could double-book the rep.
 */
#ifndef SL_BUSY_H
#define SL_BUSY_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "slots.h"

struct sl_db;
struct sl_google;
struct sl_rep;
struct sl_zone;

enum {
	SL_SRC_HOURS = 1,
	SL_SRC_BOOKINGS = 2,
	SL_SRC_ICS = 4,
	SL_SRC_GOOGLE = 8,
};

struct sl_busy {
	struct sl_iv *iv;		/* normalised after sl_busy_gather */
	size_t n, cap;
	int64_t *booked;		/* starts of meetings, for daily_cap */
	size_t nbooked, capbooked;
	unsigned sources;		/* SL_SRC_* read */
	jv warnings;			/* array of strings for stderr */
	/* why a strict gathering failed */
	int temporary;
	int exit_code;
	char error[512];
};

/*
 * Busy time of rep over [from, to) (widened by a day on each side, so
 * buffers and daily caps see their neighbours) into b, which it
 * initialises.  Bookings and live holds (hold_until > now) count, except
 * the booking exclude (0: none), which is being moved.  g may be NULL
 * (no Google client configured).  Returns 0; -1 on a ledger error
 * (sl_db_error); -2 when strict and a calendar could not be read
 * (b->error, b->temporary, b->exit_code).  b must be freed either way.
 */
int sl_busy_gather(struct sl_db *db, struct sl_google *g,
    const struct sl_rep *rep, int64_t from, int64_t to, int64_t now,
    int64_t exclude, int strict, struct sl_busy *b);
void sl_busy_free(struct sl_busy *b);

/* The sources read, as a jv array of names: ["hours","bookings",...]. */
jv sl_busy_sources(const struct sl_busy *b);

/*
 * A slot query for rep over b (borrowed, must outlive q): the rep's
 * zone, hours, grid, buffers, notice and cap; duration_min 0 means the
 * rep's slot length.  from, to and limit are left for the caller.
 */
void sl_busy_query(struct sl_slot_query *q, const struct sl_rep *rep,
    const struct sl_busy *b, int64_t now, int duration_min);

/*
 * A meeting for people to read, in zone z: "Tue 1 Dec 10:00-10:30 WITA"
 * (lang "en") or "вт 1 декабря 10:00-10:30 WITA" (lang "ru").  A new
 * string.
 */
char *sl_slot_text(int64_t start, int64_t end, const struct sl_zone *z,
    const char *lang);

#endif
