/*
 * slots.h: free time, computed.  No I/O: the callers gather busy time
 * from the sources (Google Calendar, an .ics file, the ledger's bookings
 * and holds) and hand it in as intervals.
 *
 * A candidate slot starts on the rep's grid: every step_min minutes from
 * the start of each working interval, in the rep's local time (so it
 * stays on :00 and :30 across DST; a wall time that does not exist that
 * day, in a DST gap, is skipped, not moved), and lasts duration minutes
 * within the working interval.  It is free when [start - buffer_before, end +
 * buffer_after) meets no busy interval, it starts no earlier than now +
 * notice and before the horizon, and its local day holds fewer than
 * daily_cap meetings (the caller passes the meetings already booked).
 */
#ifndef SL_SLOTS_H
#define SL_SLOTS_H

#include <stddef.h>
#include <stdint.h>

struct sl_rep_hours;
struct sl_zone;

/* [start, end) in Unix seconds. */
struct sl_iv {
	int64_t start, end;
};

/*
 * Sorts iv by start and merges overlapping or touching intervals in
 * place; drops empty ones.  Returns the new count.
 */
size_t sl_iv_normalise(struct sl_iv *iv, size_t n);

struct sl_slot_query {
	const struct sl_zone *zone;
	const struct sl_rep_hours *hours;
	int64_t now;
	int64_t from, to;		/* window of starts, [from, to) UTC */
	int duration_min;		/* > 0 */
	int step_min;			/* grid; > 0 */
	int buffer_before_min, buffer_after_min;
	int notice_min;
	int daily_cap;			/* -1: none */
	/* Busy time, normalised (sl_iv_normalise). */
	const struct sl_iv *busy;
	size_t nbusy;
	/* Start times of meetings already booked, for daily_cap; any order. */
	const int64_t *booked;
	size_t nbooked;
	size_t limit;			/* at most this many slots; 0: no limit */
};

/*
 * The free slots of q, chronologically, in *out (malloc'd, to free; NULL
 * when there are none) and their count in *n.  Returns 0, or -1 when q is
 * unusable: no zone or hours, a duration or step <= 0, a negative buffer
 * or notice, to before from, now outside SL_TIME_MIN..SL_TIME_MAX, working
 * hours out of range or unsorted, busy not sorted or overlapping.  The
 * daily cap counts booked meetings only, never the slots offered.
 */
int sl_slots_free(const struct sl_slot_query *q, struct sl_iv **out,
    size_t *n);

/*
 * 1 when [start, start + duration) is one of the free slots of q (its
 * from/to/limit ignored, its notice not): what zoom-book re-checks before
 * it books.  Off-grid starts are not free; 0 too when q is unusable.
 */
int sl_slot_is_free(const struct sl_slot_query *q, int64_t start);

#endif
