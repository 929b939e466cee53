/*
 * rep.h: sales representatives as the ledger's reps table holds them, for
 * rep-admin, cal-free and zoom-book.
 *
 * Working hours are kept as JSON text in reps.working_hours, one key per
 * weekday ("mon" .. "sun"), each a list of [start, end] local times
 * "HH:MM" (end may be "24:00"; intervals sorted, not overlapping):
 *
 *	{"mon":[["09:00","13:00"],["14:00","18:00"]],"tue":[...],...}
 *
 * A day that is absent or [] is not worked.  NULL in the ledger means the
 * default: Monday to Friday, 09:00 to 18:00.  Times are local to the
 * rep's zone (reps.tz, or $SALESLINE_TZ, or Asia/Makassar), so a rep's
 * 09:00 stays 09:00 across a DST change.
 */
#ifndef SL_REP_H
#define SL_REP_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

struct sl_db;
struct sl_zone;

#define SL_REP_MAX_IV 8		/* working intervals per weekday */

/* Minutes after local midnight, [start, end), 0 <= start < end <= 1440. */
struct sl_rep_iv {
	int start, end;
};

/* Working hours per weekday, index 0 = Sunday (as struct sl_tm's wday). */
struct sl_rep_hours {
	struct sl_rep_iv iv[7][SL_REP_MAX_IV];
	int n[7];
};

struct sl_rep {
	int64_t id;
	char *name;			/* "anna" */
	char *display_name, *email, *tg_user_id, *bot, *business_connection;
	char *tz;			/* the zone's name, never NULL */
	const struct sl_zone *zone;	/* loaded; never NULL */
	struct sl_rep_hours hours;
	int slot_min;			/* default meeting length and grid step */
	int buffer_before_min, buffer_after_min;
	int notice_min;			/* earliest start: now + notice */
	int horizon_days;		/* latest start: now + horizon */
	int daily_cap;			/* meetings per local day; -1: no cap */
	char *calendar_status;		/* none, connected, disconnected */
	jv calendar_ids;		/* array of strings; [] when none */
	char *ics_path;			/* NULL: none */
	char *zoom_user;		/* NULL: "me" */
	int enabled;
	/* added after the first version of this header */
	int tz_default;			/* 1: reps.tz is NULL, tz inherited */
	int hours_default;		/* 1: reps.working_hours is NULL */
	int business_enabled, business_can_reply;
	char *calendar_error;		/* why it is disconnected, or NULL */
	int64_t created_at, updated_at;
};

/*
 * Parses working hours JSON text (NULL or "" gives the default) into h.
 * Returns 0, or -1 with a reason in err naming the day: "'tue': end
 * 08:00 before start 09:00".
 */
int sl_rep_hours_parse(const char *json, struct sl_rep_hours *h, char *err,
    size_t errlen);
/* h back as the canonical JSON text (a new string). */
char *sl_rep_hours_format(const struct sl_rep_hours *h);

/*
 * The rep named name (reps.name), or with that numeric id when name is
 * all digits.  Returns NULL and sets *err (a static or sl_db_error text;
 * do not free) when there is none ("no rep 'anna'"), when the ledger
 * fails (then *err is sl_db_error(db) itself, and *temporary is set when
 * worth retrying), or when the row is unusable (a bad zone or working
 * hours: the message says which).
 */
struct sl_rep *sl_rep_load(struct sl_db *db, const char *name,
    const char **err, int *temporary);
/* The same from a reps row already read (borrowed); NULL and *err. */
struct sl_rep *sl_rep_from_row(jv row, const char **err);
void sl_rep_free(struct sl_rep *rep);

/*
 * The rep as a JSON object for rep-admin (no tokens, no secrets), of
 * type "rep": id (a string), name, display_name, email, tg_user_id, bot,
 * business_connection, business_enabled, business_can_reply, tz,
 * tz_default, working_hours (an object), hours_default, slot_min,
 * buffer_before_min, buffer_after_min, notice_min, horizon_days,
 * daily_cap (null: no cap), calendar_status, calendar_error,
 * calendar_ids, ics_path, zoom_user, enabled, created_at, updated_at
 * (RFC 3339).  Text that is not set is null.
 */
jv sl_rep_json(const struct sl_rep *rep);

/* The working hours as a JSON object (the form of sl_rep_hours_format). */
jv sl_rep_hours_json(const struct sl_rep_hours *h);

/*
 * 1 when name can be a rep's name: 1 to 64 of [a-z0-9_.-], not starting
 * with '-' (it would read as an option) and not all digits (it would read
 * as an id).
 */
int sl_rep_name_ok(const char *name);

#endif
