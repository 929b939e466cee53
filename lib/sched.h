/*
 * sched.h: durable scheduled actions (follow-ups and meeting reminders) in
 * the ledger's scheduled_actions table, shared by schedule-due, tg-fetch,
 * rep-admin and zoom-book.
 *
 * An action is 'pending' until it is due, then 'claimed' by one worker
 * with a lease, then 'done' (its message was sent), 'failed', or
 * 'cancelled' with a cancel_reason (client_wrote, human_takeover,
 * human_active, unreachable, closed, replaced, ...).  A claim whose lease
 * expired is claimed again.  Every action has a message key, "KIND:ID"
 * ("followup:42"), fixed when it is stored: the pipeline sends the
 * follow-up under that idempotency key, so a second claim can never send
 * it twice, and a claimed action whose key was already sent is closed as
 * done instead of being handed out again.
 *
 * At most one follow-up (kind followup) is pending per prospect and one
 * reminder per booking and kind: storing a new one cancels the old one
 * with reason 'replaced', in the same transaction.
 */
#ifndef SL_SCHED_H
#define SL_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

struct sl_db;

/* Due times before this (2000-01-01) are refused: a date in 1970 is a bug. */
#define SL_SCHED_MIN_DUE INT64_C(946684800)

/* 1 when kind is followup, reminder_24h or reminder_1h. */
int sl_sched_kind_ok(const char *kind);
/* 1 for the reminder kinds, which need a booking. */
int sl_sched_kind_reminder(const char *kind);

/* One action to store, and what became of it. */
struct sl_sched_item {
	int64_t prospect;
	int64_t booking;		/* 0: none; required for reminders */
	int64_t due;
	const char *kind;		/* NULL: "followup" */
	const char *reason, *text, *source;	/* may be NULL */
	unsigned long line;		/* for the caller's messages */
	/* set by sl_sched_add */
	int64_t id;			/* 0: not stored, see error */
	int64_t replaced;		/* the action this one replaced, or 0 */
	int superseded;			/* replaced by a later item at once */
	const char *error;		/* why it was not stored (static) */
};

/*
 * Reads a followup record (borrowed) into it: prospect, due, kind,
 * booking, reason, text, source (the strings point into rec).  Returns 0,
 * or -1 with the reason in err, naming the field: "'due': expected an
 * RFC 3339 time or Unix seconds".
 */
int sl_sched_parse(jv rec, struct sl_sched_item *it, char *err,
    size_t errlen);
/* A ledger id ("42") as a number; 0 when s is not one. */
int64_t sl_sched_id(const char *s);

/*
 * Stores the n items in one transaction: every item with a known prospect
 * (and, for a reminder, a booking of that prospect) gets an id, the
 * pending action it replaces is cancelled, and of two items for the same
 * prospect (reminders: booking and kind) the later one wins, the earlier
 * being stored as cancelled ('replaced', superseded set).  Items whose
 * error is already set are skipped; refused ones get an error.  With
 * dry_run everything is rolled back, though ids are still reported.
 * Inside a transaction the caller opened (with sl_db_begin_claim, so
 * SQLite holds the write lock), it neither commits nor rolls back: the
 * caller does, and dry_run is the caller's business.  Returns 0, or -1
 * with nothing stored and the reason in sl_db_error().
 */
int sl_sched_add(struct sl_db *db, struct sl_sched_item *items, size_t n,
    int64_t now, int dry_run);

/* What sl_sched_claim does in one call, and what it found. */
struct sl_sched_claim {
	int64_t now;
	int64_t lease;			/* seconds a claim is held */
	int batch;			/* actions per transaction */
	int max_attempts;		/* claims before it is failed */
	const char *worker;		/* claimed_by */
	int dry_run;			/* roll back instead of committing */
	/*
	 * Pending actions due before this are not looked at: 0 at the start
	 * of a run, then the latest due time claimed, so that a run of many
	 * batches does not walk again over what it claimed (PostgreSQL keeps
	 * those index entries until vacuum).  What it skips, the next run
	 * takes.
	 */
	int64_t after;
	/* per call */
	int claimed;			/* rows claimed by this call */
	/* totals, added to */
	long emitted, cancelled, done, failed, busy;
};

/*
 * Claims up to c->batch actions that are due (pending with due <= now, or
 * claimed with an expired lease) in one transaction (FOR UPDATE SKIP
 * LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), checks each again and
 * commits.  An action whose message key was sent is closed as done; one
 * whose prospect is erased, human_active, unreachable, closed or lost, or
 * (follow-ups) wrote after the action was created, or (reminders) whose
 * booking is no longer booked or has started, is cancelled with that
 * reason; one whose message is being sent (queued, sending, uncertain)
 * keeps its claim; one claimed more than max_attempts times fails.  The
 * others stay claimed until their lease ends and come back as
 * followup.due records (a new jv array, empty when nothing is due).
 * c->claimed tells how many rows this call claimed: a full batch means
 * more may be due.  Returns an invalid value on error (rolled back).
 */
jv sl_sched_claim(struct sl_db *db, struct sl_sched_claim *c);

/*
 * 1 when something is claimable at now (a cheap read, no lock), 0 when
 * not, -1 on error.
 */
int sl_sched_any_due(struct sl_db *db, int64_t now);

/*
 * The earliest time at which something becomes claimable (a pending
 * action's due time or a claim's lease end) in *at, 0 when nothing is
 * scheduled.  Returns 0, or -1 on error.
 */
int sl_sched_next(struct sl_db *db, int64_t *at);

/*
 * Cancels the prospect's pending actions of kind (NULL: every kind) with
 * reason, as one statement: inside the caller's transaction when one is
 * open.  When ids is not NULL it receives a jv array of {id, kind, due}
 * of the cancelled actions.  Returns how many were cancelled, or -1.
 */
long sl_sched_cancel(struct sl_db *db, int64_t prospect, const char *kind,
    const char *reason, int64_t now, jv *ids);

/*
 * Closes an action as done (ok) or failed (error, text or JSON, may be
 * NULL), by id or, when id is 0, by message key.  Done is accepted from
 * pending, claimed and failed; failed from pending and claimed.  Returns
 * 1 when closed, 0 when it already had that status, -2 when there is no
 * such action, -3 when its status forbids it (copied to status, of
 * statuslen bytes), -1 on error.
 */
int sl_sched_close(struct sl_db *db, int64_t id, const char *key, int ok,
    const char *error, int64_t now, char *status, size_t statuslen);

#endif
