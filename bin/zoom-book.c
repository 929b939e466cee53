/*
 * zoom-book: books a meeting with a prospect in a rep's calendar, without
 * ever double-booking the rep.
 *
 *   {"rep","prospect","email","start","duration"?,"topic"?} lines in
 *       -> one booking or booking.failed per line
 *   --cancel ID      -> booking.cancelled
 *   --reschedule ID --start TIME -> booking (moved)
 *
 * A booking goes: the slot is checked against fresh busy time from every
 * source (lib/busy.h, strict: a calendar that cannot be read refuses the
 * booking rather than risk a double one); it is held in the ledger inside
 * a transaction that first locks the rep's row, so of two bookings of one
 * slot exactly one gets the hold (the unique index on rep and start is the
 * last guard); the meeting is created (Zoom, or a Jitsi link with an
 * unguessable room when no Zoom account is configured); the event goes
 * into the rep's Google calendar with the prospect as attendee; then one
 * transaction turns the hold into the booking, moves the prospect to
 * 'booked' and schedules the reminders 24 h and 1 h before.  A step that
 * fails undoes the ones before it: the Zoom meeting is deleted, the hold
 * removed, and booking.failed says what went wrong.
 *
 * Asking again for a booking that exists (same rep, prospect and start)
 * answers with that booking and "duplicate":true, so a retried pipeline
 * books once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busy.h"
#include "db.h"
#include "google.h"
#include "jsonl.h"
#include "rep.h"
#include "sched.h"
#include "sl.h"
#include "slots.h"
#include "timeutil.h"
#include "zoom.h"

static const char usage_text[] =
    "usage: zoom-book [-nv] [--db URL] [--hold S]\n"
    "       zoom-book [-nv] [--db URL] --cancel ID [--reason TEXT]\n"
    "       zoom-book [-nv] [--db URL] --reschedule ID --start TIME\n"
    "       zoom-book -h\n";

static const char *dbflag, *startflag, *reasonflag;
static int64_t cancelflag, reschedflag;
static long holdflag = 300;
static int nflag;

struct ctx {
	struct sl_db *db;
	struct sl_google *g;
	struct sl_zoom *z;
	int status;		/* the exit status so far */
};

/* One booking being made or changed. */
struct req {
	struct sl_rep *rep;
	int64_t prospect, start, end, id;
	int duration;
	const char *email, *topic;
	char *join_url, *meeting_id, *event_id;
	const char *provider;
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static int64_t
id_arg(const char *opt, const char *s)
{
	int64_t id = sl_sched_id(s);

	if (id <= 0) {
		sl_error("%s: expected a booking id, not '%.32s'", opt, s);
		usage(SL_EX_USAGE);
	}
	return id;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cancel", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "hold", required_argument, NULL, 'H' },
		{ "reason", required_argument, NULL, 'R' },
		{ "reschedule", required_argument, NULL, 'r' },
		{ "start", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	double hold;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hnv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cancelflag = id_arg("--cancel", optarg); break;
		case 'd': dbflag = optarg; break;
		case 'h': usage(SL_EX_OK);
		case 'H':
			if (sl_option_number("--hold", optarg, 10, 3600, 1,
			    &hold) < 0)
				usage(SL_EX_USAGE);
			holdflag = (long)hold;
			break;
		case 'n': nflag = 1; break;
		case 'R': reasonflag = optarg; break;
		case 'r': reschedflag = id_arg("--reschedule", optarg); break;
		case 's': startflag = optarg; break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (optind < argc || (cancelflag && reschedflag) ||
	    (reschedflag && !startflag) || (startflag && !reschedflag) ||
	    (reasonflag && !cancelflag))
		usage(SL_EX_USAGE);
}

/* A plausible address: one '@', a dot in the domain, no space. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') || strlen(s) > 254)
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
		    *p == ',' || *p == ';')
			return 0;
	p = strrchr(at + 1, '.');
	return p != NULL && p > at + 1 && p[1] != '\0';
}

static void
req_free(struct req *q)
{
	sl_rep_free(q->rep);
	free(q->join_url);
	free(q->meeting_id);
	free(q->event_id);
	memset(q, 0, sizeof *q);
}

/*
 * Writes booking.failed for base (consumed) with the message, reports it
 * on stderr and folds it into the exit status: a temporary failure makes
 * it exit_code (75 unless given), a permanent one 1 (or exit_code).
 * Returns 1, or SL_EX_IOERR when the record could not be written, so a
 * step can `return failed(...)`.
 */
static int
failed(struct ctx *c, jv base, const char *code, int temporary,
    int exit_code, const char *fmt, ...) SL_PRINTF(6, 7);

static int
failed(struct ctx *c, jv base, const char *code, int temporary,
    int exit_code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	jv rec;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sl_error("%s", msg);
	/* "type" first, for people reading the stream */
	rec = jv_object_merge(JV_OBJECT(jv_string("type"), jv_null()), base);
	rec = sl_set(rec, "type", jv_string("booking.failed"));
	rec = sl_set(rec, "error", JV_OBJECT(jv_string("code"),
	    jv_string(code), jv_string("message"), jv_string(msg),
	    jv_string("temporary"), jv_bool(temporary)));
	if (exit_code == 0 || exit_code == SL_EX_OK)
		exit_code = temporary ? SL_EX_TEMPFAIL : SL_EX_REJECT;
	/* a permanent failure outweighs a temporary one, config both */
	if (c->status == SL_EX_OK || c->status == SL_EX_TEMPFAIL ||
	    (c->status == SL_EX_REJECT && exit_code != SL_EX_TEMPFAIL))
		c->status = exit_code;
	return sl_emit(rec) < 0 ? SL_EX_IOERR : 1;
}

static int
ledger_failed(struct ctx *c, jv base)
{
	int rc = failed(c, base, "ledger", sl_db_temporary(c->db),
	    sl_db_exit_code(c->db), "ledger: %s", sl_db_error(c->db));

	sl_db_rollback(c->db);
	return rc;
}

static jv
num(int64_t v)
{
	return jv_number((double)v);
}

/* A booking row as a booking record (borrows row). */
static jv
booking_record(const struct sl_rep *rep, jv row)
{
	static const char *const strs[] = { "email", "provider", "join_url",
		"meeting_id", "calendar_event", "topic" };
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ], *t;
	int64_t id = 0, prospect = 0, s = 0, e = 0;
	const char *v;
	size_t i;
	jv rec;

	sl_get_int(row, "id", &id);
	sl_get_int(row, "prospect_id", &prospect);
	sl_get_int(row, "start_at", &s);
	sl_get_int(row, "end_at", &e);
	rec = JV_OBJECT(jv_string("type"), jv_string("booking"),
	    jv_string("id"), sl_id_jv(id), jv_string("rep"),
	    jv_string(rep->name), jv_string("prospect"), sl_id_jv(prospect),
	    jv_string("start"), jv_string(sl_time_fmt(s, a)),
	    jv_string("end"), jv_string(sl_time_fmt(e, b)));
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (sl_get_str(row, strs[i], &v) == 1)
			rec = sl_set(rec, strs[i], jv_string(v));
	t = sl_slot_text(s, e, rep->zone, "en");
	rec = sl_set(rec, "local", jv_string(t));
	free(t);
	t = sl_slot_text(s, e, rep->zone, "ru");
	rec = sl_set(rec, "local_ru", jv_string(t));
	free(t);
	return rec;
}

static jv
booking_row(struct sl_db *db, int64_t id)
{
	return sl_db_query1(db, "SELECT * FROM bookings WHERE id = $1",
	    JV_ARRAY(num(id)));
}

/* The rep by name or id (a field of rec, or a ledger id). */
static struct sl_rep *
load_rep(struct ctx *c, jv idv, const char **err, int *temporary)
{
	struct sl_rep *rep;

	rep = sl_rep_load(c->db, jv_string_value(idv), err, temporary);
	jv_free(idv);
	return rep;
}

/*
 * The request's fields (rec borrowed) into q: NULL, or what is wrong,
 * naming the field; *code is the error code for booking.failed.
 */
static const char *
req_fields(struct ctx *c, jv rec, struct req *q, const char **code,
    int *temporary)
{
	const char *err = "";
	int64_t dur = 0;
	jv id;
	int st;

	*code = "bad_request";
	if ((st = sl_get_time(rec, "start", &q->start)) != 1)
		return "'start': expected an RFC 3339 time";
	if ((st = sl_get_id(rec, "prospect", &id)) != 1)
		return "'prospect': expected a prospect id";
	q->prospect = sl_sched_id(jv_string_value(id));
	jv_free(id);
	if (q->prospect <= 0)
		return "'prospect': expected a prospect id";
	if ((st = sl_get_int(rec, "duration", &dur)) < 0 ||
	    (st == 1 && (dur < 5 || dur > 720)))
		return "'duration': expected minutes from 5 to 720";
	q->duration = (int)dur;
	if (sl_get_str(rec, "topic", &q->topic) < 0)
		return "'topic': expected a string";
	*code = "bad_email";
	if (sl_get_str(rec, "email", &q->email) != 1 || !email_ok(q->email))
		return "'email': a valid e-mail address is needed before a "
		    "meeting is booked";
	*code = "unknown_rep";
	if ((st = sl_get_id(rec, "rep", &id)) != 1)
		return st == 0 ? "'rep': missing" : "'rep': expected a name";
	if ((q->rep = load_rep(c, id, &err, temporary)) == NULL) {
		if (err == sl_db_error(c->db))
			*code = "ledger";
		return err;
	}
	return NULL;
}

/* Reads a booking request (borrowed rec) into q; 1 after failed(). */
static int
parse_req(struct ctx *c, struct sl_reader *r, jv rec, struct req *q)
{
	const char *bad, *code;
	int temporary = 0;

	if ((bad = req_fields(c, rec, q, &code, &temporary)) != NULL) {
		if (strcmp(code, "ledger") == 0)
			return failed(c, jv_copy(rec), code, temporary,
			    sl_db_exit_code(c->db), "stdin:%lu: %s",
			    sl_reader_lineno(r), bad);
		return failed(c, jv_copy(rec), code, 0, 0, "stdin:%lu: %s",
		    sl_reader_lineno(r), bad);
	}
	if (!q->rep->enabled)
		return failed(c, jv_copy(rec), "rep_disabled", 0, 0,
		    "rep '%s' is disabled", q->rep->name);
	if (q->duration == 0)
		q->duration = q->rep->slot_min;
	q->end = q->start + (int64_t)q->duration * 60;
	if (q->topic == NULL || *q->topic == '\0')
		q->topic = "Meeting";
	return 0;
}

/*
 * Checks the slot against fresh busy time from every source: 0 when it
 * is free (*sources says which were read), else failed()'s result.
 */
static int
check_free(struct ctx *c, jv base, struct req *q, int64_t now,
    int64_t exclude, unsigned *sources)
{
	struct sl_slot_query sq;
	struct sl_busy b;
	char when[SL_TIME_BUFSZ];
	int rc, free_;

	rc = sl_busy_gather(c->db, c->g, q->rep, q->start, q->end, now,
	    exclude, 1, &b);
	if (rc == -1) {
		sl_busy_free(&b);
		return ledger_failed(c, base);
	}
	if (rc == -2) {
		rc = failed(c, base, "calendar", b.temporary, b.exit_code,
		    "%s: not booked", b.error);
		sl_busy_free(&b);
		return rc;
	}
	*sources = b.sources;
	sl_busy_query(&sq, q->rep, &b, now, q->duration);
	free_ = sl_slot_is_free(&sq, q->start);
	sl_busy_free(&b);
	if (!free_)
		return failed(c, base, "not_free", 0, 0, "rep '%s' is not "
		    "free at %s for %d minutes", q->rep->name,
		    sl_time_fmt(q->start, when), q->duration);
	jv_free(base);
	return 0;
}

/* The local day around t in z, [*day0, *day1). */
static void
local_day(int64_t t, const struct sl_zone *z, int64_t *day0, int64_t *day1)
{
	struct sl_tm tm;

	if (sl_to_local(t, z, &tm) < 0) {
		*day0 = t - 86400;
		*day1 = t + 86400;
		return;
	}
	tm.hour = tm.min = tm.sec = 0;
	if (sl_from_local(&tm, z, day0) < 0)
		*day0 = t - 86400;
	tm.mday++;
	if (sl_from_local(&tm, z, day1) < 0)
		*day1 = t + 86400;
}

/*
 * Inside a transaction that holds the rep's row: 0 when no live booking
 * or hold (but exclude) meets q's time with the rep's buffers and the
 * day is under the cap, 1 when taken, -1 on a ledger error.
 */
static int
still_free(struct ctx *c, const struct req *q, int64_t now, int64_t exclude)
{
	const struct sl_rep *rep = q->rep;
	int64_t n = 0, day0, day1;
	jv row;

	if (sl_db_exec(c->db, "UPDATE bookings SET status = 'expired', "
	    "updated_at = $3 WHERE rep_id = $1 AND status = 'held' AND "
	    "hold_until <= $2", JV_ARRAY(num(rep->id), num(now),
	    num(now))) < 0)
		return -1;
	row = sl_db_query1(c->db, "SELECT count(*) AS n FROM bookings "
	    "WHERE rep_id = $1 AND id <> $4 AND start_at < $3 AND "
	    "end_at > $2 AND status IN ('held', 'booked')",
	    JV_ARRAY(num(rep->id), num(q->start -
	    rep->buffer_before_min * 60), num(q->end +
	    rep->buffer_after_min * 60), num(exclude)));
	if (!jv_is_valid(row))
		return jv_free(row), -1;
	sl_get_int(row, "n", &n);
	jv_free(row);
	if (n > 0 || rep->daily_cap < 0)
		return n > 0;
	local_day(q->start, rep->zone, &day0, &day1);
	row = sl_db_query1(c->db, "SELECT count(*) AS n FROM bookings "
	    "WHERE rep_id = $1 AND id <> $4 AND start_at >= $2 AND "
	    "start_at < $3 AND status IN ('held', 'booked')",
	    JV_ARRAY(num(rep->id), num(day0), num(day1), num(exclude)));
	if (!jv_is_valid(row))
		return jv_free(row), -1;
	sl_get_int(row, "n", &n);
	jv_free(row);
	return n >= rep->daily_cap;
}

/* Locks the rep's row for this transaction, on both engines. */
static int
lock_rep(struct ctx *c, const struct sl_rep *rep)
{
	if (sl_db_begin_claim(c->db) < 0)
		return -1;
	return sl_db_exec(c->db, "UPDATE reps SET updated_at = updated_at "
	    "WHERE id = $1", JV_ARRAY(num(rep->id))) < 0 ? -1 : 0;
}

/* Holds the slot: q->id is the held row.  0, or failed()'s result. */
static int
hold(struct ctx *c, jv base, struct req *q, int64_t now)
{
	char when[SL_TIME_BUFSZ];
	jv rows, row;
	int st;

	if (lock_rep(c, q->rep) < 0 || (st = still_free(c, q, now, 0)) < 0)
		return ledger_failed(c, base);
	if (st == 1) {
		sl_db_rollback(c->db);
		return failed(c, base, "taken", 0, 0, "rep '%s' was booked "
		    "at %s meanwhile", q->rep->name,
		    sl_time_fmt(q->start, when));
	}
	rows = sl_db_query(c->db, "INSERT INTO bookings (rep_id, "
	    "prospect_id, email, start_at, end_at, provider, topic, status, "
	    "hold_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, 'held', $8, $9, $9) ON CONFLICT DO NOTHING RETURNING id",
	    JV_ARRAY(num(q->rep->id), num(q->prospect), jv_string(q->email),
	    num(q->start), num(q->end), jv_string(c->z ? "zoom" : "jitsi"),
	    jv_string(q->topic), num(now + holdflag), num(now)));
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return ledger_failed(c, base);
	}
	row = jv_array_length(jv_copy(rows)) > 0 ?
	    jv_array_get(jv_copy(rows), 0) : jv_null();
	jv_free(rows);
	st = jv_get_kind(row) == JV_KIND_OBJECT &&
	    sl_get_int(row, "id", &q->id) == 1;
	jv_free(row);
	if (!st) {
		sl_db_rollback(c->db);
		return failed(c, base, "taken", 0, 0, "rep '%s' was booked "
		    "at %s meanwhile", q->rep->name,
		    sl_time_fmt(q->start, when));
	}
	if (sl_db_commit(c->db) < 0)
		return ledger_failed(c, base);
	jv_free(base);
	return 0;
}

/* The meeting: Zoom, or a Jitsi room nobody can guess. */
static int
make_meeting(struct ctx *c, jv base, struct req *q)
{
	struct sl_svc_err err;
	const char *v;
	char *room;
	jv m = jv_null();

	if (c->z == NULL) {
		room = sl_random_name(24);
		q->join_url = sl_asprintf("%s/salesline-%s",
		    sl_env("JITSI_URL", "https://meet.jit.si"), room);
		free(room);
		q->provider = "jitsi";
	} else {
		memset(&err, 0, sizeof err);
		if (sl_zoom_create(c->z, c->db, q->rep->zoom_user, q->topic,
		    q->start, q->duration, q->rep->tz, &m, &err) < 0)
			return failed(c, base, "zoom", err.class ==
			    SL_HTTP_TEMPORARY || err.class == SL_HTTP_UNCERTAIN,
			    sl_svc_exit_code(&err), "Zoom: %s: not booked",
			    err.message);
		if (sl_get_str(m, "id", &v) == 1)
			q->meeting_id = sl_strdup(v);
		if (sl_get_str(m, "join_url", &v) == 1)
			q->join_url = sl_strdup(v);
		jv_free(m);
		q->provider = "zoom";
		if (q->join_url == NULL) {
			if (q->meeting_id)
				sl_zoom_delete(c->z, c->db, q->meeting_id,
				    &err);
			return failed(c, base, "zoom", 0, SL_EX_UNAVAILABLE,
			    "Zoom: the meeting has no join_url: not booked");
		}
	}
	/* the hold knows its meeting, so an orphan can be found */
	if (sl_db_exec(c->db, "UPDATE bookings SET provider = $2, "
	    "join_url = $3, meeting_id = $4 WHERE id = $1", JV_ARRAY(num(q->id),
	    jv_string(q->provider), jv_string(q->join_url), q->meeting_id ?
	    jv_string(q->meeting_id) : jv_null())) < 0)
		sl_warn("booking %lld: %s", (long long)q->id,
		    sl_db_error(c->db));
	jv_free(base);
	return 0;
}

/* The rep's calendar event, when the rep's Google calendar was read. */
static int
add_event(struct ctx *c, jv base, struct req *q, unsigned sources)
{
	struct sl_svc_err err;
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ], *desc;
	jv ev;

	if (!(sources & SL_SRC_GOOGLE) || c->g == NULL) {
		jv_free(base);
		return 0;
	}
	desc = sl_asprintf("Meeting link: %s", q->join_url);
	ev = JV_OBJECT(jv_string("summary"), jv_string(q->topic),
	    jv_string("description"), jv_string(desc),
	    jv_string("location"), jv_string(q->join_url),
	    jv_string("start"), JV_OBJECT(jv_string("dateTime"),
	    jv_string(sl_time_fmt_local(q->start, q->rep->zone, a)),
	    jv_string("timeZone"), jv_string(q->rep->tz)),
	    jv_string("end"), JV_OBJECT(jv_string("dateTime"),
	    jv_string(sl_time_fmt_local(q->end, q->rep->zone, b)),
	    jv_string("timeZone"), jv_string(q->rep->tz)),
	    jv_string("attendees"), JV_ARRAY(JV_OBJECT(jv_string("email"),
	    jv_string(q->email))),
	    jv_string("reminders"), JV_OBJECT(jv_string("useDefault"),
	    jv_true()));
	free(desc);
	memset(&err, 0, sizeof err);
	if (sl_google_event_insert(c->g, c->db, q->rep, ev, &q->event_id,
	    &err) < 0)
		return failed(c, base, "calendar", err.class ==
		    SL_HTTP_TEMPORARY || err.class == SL_HTTP_UNCERTAIN,
		    sl_svc_exit_code(&err), "Google Calendar: %s: not booked",
		    err.message);
	jv_free(base);
	return 0;
}

/* Undoes what was done for q outside the ledger, then the hold. */
static void
undo(struct ctx *c, struct req *q)
{
	struct sl_svc_err err;

	memset(&err, 0, sizeof err);
	if (q->event_id && sl_google_event_delete(c->g, c->db, q->rep,
	    q->event_id, &err) < 0)
		sl_warn("calendar event '%s' of rep '%s' was not deleted: %s",
		    q->event_id, q->rep->name, err.message);
	if (q->meeting_id && c->z && sl_zoom_delete(c->z, c->db,
	    q->meeting_id, &err) < 0)
		sl_warn("Zoom meeting %s was not deleted: %s", q->meeting_id,
		    err.message);
	if (q->id && sl_db_exec(c->db, "DELETE FROM bookings WHERE id = $1 "
	    "AND status = 'held'", JV_ARRAY(num(q->id))) < 0)
		sl_warn("hold %lld not removed (it expires): %s",
		    (long long)q->id, sl_db_error(c->db));
}

/* Reminders 24 h and 1 h before, those still ahead; inside a transaction. */
static int
reminders(struct ctx *c, const struct req *q, int64_t now)
{
	struct sl_sched_item it[2];
	size_t n = 0;

	memset(it, 0, sizeof it);
	if (q->start - 86400 > now) {
		it[n].kind = "reminder_24h";
		it[n].due = q->start - 86400;
		n++;
	}
	if (q->start - 3600 > now) {
		it[n].kind = "reminder_1h";
		it[n].due = q->start - 3600;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		it[i].prospect = q->prospect;
		it[i].booking = q->id;
		it[i].reason = "meeting";
		it[i].source = "zoom-book";
	}
	if (n == 0)
		return 0;
	if (sl_sched_add(c->db, it, n, now, 0) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (it[i].error) {
			sl_warn("booking %lld: %s not scheduled: %s",
			    (long long)q->id, it[i].kind, it[i].error);
		}
	return 0;
}

/*
 * The hold becomes the booking, in one transaction with its effects.
 * Returns 0, -1 on a ledger error, -2 when the hold was lost (expired
 * and taken).
 */
static int
finalize(struct ctx *c, const struct req *q, int64_t now)
{
	char *detail;
	long changed;
	int rc = -1;

	if (sl_db_begin_claim(c->db) < 0)
		return -1;
	changed = sl_db_exec(c->db, "UPDATE bookings SET status = 'booked', "
	    "hold_until = NULL, provider = $2, join_url = $3, meeting_id = $4, "
	    "calendar_event = $5, updated_at = $6 WHERE id = $1 AND "
	    "status = 'held'", JV_ARRAY(num(q->id), jv_string(q->provider),
	    jv_string(q->join_url), q->meeting_id ? jv_string(q->meeting_id) :
	    jv_null(), q->event_id ? jv_string(q->event_id) : jv_null(),
	    num(now)));
	if (changed == 0)
		rc = -2;
	if (changed != 1)
		goto fail;
	detail = sl_asprintf("{\"booking\":%lld}", (long long)q->id);
	changed = sl_db_exec(c->db, "INSERT INTO audit (at, actor, action, "
	    "subject, detail) VALUES ($1, 'zoom-book', 'booking', $2, $3)",
	    JV_ARRAY(num(now), sl_id_jv(q->prospect), jv_string(detail)));
	free(detail);
	if (changed < 0 || sl_db_exec(c->db, "UPDATE prospects SET stage = "
	    "'booked', email = $2, updated_at = $3 WHERE id = $1",
	    JV_ARRAY(num(q->prospect), jv_string(q->email), num(now))) < 0 ||
	    reminders(c, q, now) < 0)
		goto fail;
	return sl_db_commit(c->db);
fail:
	/* the caller reports the error, then rolls back */
	return rc;
}

/* An existing booking of this prospect at this time, or null. */
static jv
existing(struct ctx *c, const struct req *q)
{
	return sl_db_query1(c->db, "SELECT * FROM bookings WHERE rep_id = $1 "
	    "AND prospect_id = $2 AND start_at = $3 AND status = 'booked'",
	    JV_ARRAY(num(q->rep->id), num(q->prospect), num(q->start)));
}

static int
emit_booking(struct ctx *c, const struct sl_rep *rep, int64_t id,
    const char *flag)
{
	jv row = booking_row(c->db, id), rec;

	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		jv_free(row);
		sl_error("booking %lld: %s", (long long)id,
		    sl_db_error(c->db));
		c->status = sl_db_exit_code(c->db);
		return 1;
	}
	rec = booking_record(rep, row);
	jv_free(row);
	if (flag)
		rec = sl_set(rec, flag, jv_true());
	return sl_emit(rec) < 0 ? SL_EX_IOERR : 0;
}

/* Everything after the request was read; 0, 1 (failed) or SL_EX_IOERR. */
static int
book(struct ctx *c, jv rec, struct req *q)
{
	unsigned sources = 0;
	int64_t now = sl_now(), id = 0;
	int rc;
	jv row;

	row = sl_db_query1(c->db, "SELECT id FROM prospects WHERE id = $1",
	    JV_ARRAY(num(q->prospect)));
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		rc = jv_is_valid(row) ? failed(c, jv_copy(rec),
		    "unknown_prospect", 0, 0, "no prospect %lld",
		    (long long)q->prospect) : ledger_failed(c, jv_copy(rec));
		jv_free(row);
		return rc;
	}
	jv_free(row);
	row = existing(c, q);
	if (jv_get_kind(row) == JV_KIND_OBJECT &&
	    sl_get_int(row, "id", &id) == 1) {
		jv_free(row);
		return emit_booking(c, q->rep, id, "duplicate");
	}
	jv_free(row);
	if ((rc = check_free(c, jv_copy(rec), q, now, 0, &sources)) != 0)
		return rc;
	if (nflag) {
		row = sl_set(jv_copy(rec), "type", jv_string("booking"));
		row = sl_set(row, "dry_run", jv_true());
		return sl_emit(row) < 0 ? SL_EX_IOERR : 0;
	}
	if ((rc = hold(c, jv_copy(rec), q, now)) != 0)
		return rc;
	if ((rc = make_meeting(c, jv_copy(rec), q)) != 0 ||
	    (rc = add_event(c, jv_copy(rec), q, sources)) != 0) {
		undo(c, q);
		return rc;
	}
	if ((rc = finalize(c, q, sl_now())) < 0) {
		rc = rc == -2 ? failed(c, jv_copy(rec), "taken", 1, 0,
		    "booking %lld: the hold expired before the meeting was "
		    "made: not booked", (long long)q->id) :
		    ledger_failed(c, jv_copy(rec));
		sl_db_rollback(c->db);
		undo(c, q);
		return rc;
	}
	return emit_booking(c, q->rep, q->id, NULL);
}

static int
handle(struct sl_reader *r, jv rec, void *ctx)
{
	struct ctx *c = ctx;
	struct req q;
	int rc;

	memset(&q, 0, sizeof q);
	if ((rc = parse_req(c, r, rec, &q)) == 0)
		rc = book(c, rec, &q);
	req_free(&q);
	jv_free(rec);
	if (rc == SL_EX_IOERR)
		return rc;
	return 0;
}

/* The booking id (booked) and its rep into q; 1 after failed(). */
static int
load_booking(struct ctx *c, int64_t id, struct req *q, jv *row)
{
	const char *err, *v = NULL;
	int64_t rep = 0;
	int temporary = 0;
	jv base = JV_OBJECT(jv_string("id"), sl_id_jv(id));

	*row = booking_row(c->db, id);
	if (!jv_is_valid(*row))
		return ledger_failed(c, base);
	if (jv_get_kind(*row) != JV_KIND_OBJECT)
		return failed(c, base, "unknown_booking", 0, 0,
		    "no booking %lld", (long long)id);
	if (sl_get_str(*row, "status", &v) != 1 || strcmp(v, "booked") != 0)
		return failed(c, base, "not_booked", 0, 0, "booking %lld is "
		    "%s, not booked", (long long)id, v ? v : "unknown");
	sl_get_int(*row, "rep_id", &rep);
	q->rep = load_rep(c, sl_id_jv(rep), &err, &temporary);
	if (q->rep == NULL)
		return failed(c, base, temporary ? "ledger" : "unknown_rep",
		    temporary, 0, "booking %lld: %s", (long long)id, err);
	q->id = id;
	sl_get_int(*row, "prospect_id", &q->prospect);
	sl_get_int(*row, "start_at", &q->start);
	sl_get_int(*row, "end_at", &q->end);
	q->duration = (int)((q->end - q->start) / 60);
	if (sl_get_str(*row, "meeting_id", &v) == 1)
		q->meeting_id = sl_strdup(v);
	if (sl_get_str(*row, "calendar_event", &v) == 1)
		q->event_id = sl_strdup(v);
	if (sl_get_str(*row, "join_url", &v) == 1)
		q->join_url = sl_strdup(v);
	if (sl_get_str(*row, "email", &v) == 1)
		q->email = v;
	if (sl_get_str(*row, "topic", &v) == 1)
		q->topic = v;
	if (sl_get_str(*row, "provider", &v) == 1)
		q->provider = v;
	jv_free(base);
	return 0;
}

/* Zoom and Google must be configured to change what they hold. */
static int
services_ok(struct ctx *c, const struct req *q)
{
	if (q->meeting_id && q->provider && strcmp(q->provider, "zoom") == 0 &&
	    c->z == NULL)
		sl_die(SL_EX_CONFIG, "booking %lld has a Zoom meeting: set "
		    "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET",
		    (long long)q->id);
	if (q->event_id && c->g == NULL)
		sl_die(SL_EX_CONFIG, "booking %lld has a calendar event: set "
		    "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
		    (long long)q->id);
	return 0;
}

static int
cancel(struct ctx *c, int64_t id)
{
	struct sl_svc_err err;
	struct req q;
	int64_t now = sl_now();
	char at[SL_TIME_BUFSZ];
	jv row = jv_null(), base = JV_OBJECT(jv_string("id"), sl_id_jv(id));
	int rc;

	memset(&q, 0, sizeof q);
	memset(&err, 0, sizeof err);
	if ((rc = load_booking(c, id, &q, &row)) != 0)
		goto out;
	services_ok(c, &q);
	if (nflag) {
		rc = sl_emit(JV_OBJECT(jv_string("type"),
		    jv_string("booking.cancelled"), jv_string("id"),
		    sl_id_jv(id), jv_string("dry_run"), jv_true())) < 0 ?
		    SL_EX_IOERR : 0;
		goto out;
	}
	if (q.meeting_id && c->z && sl_zoom_delete(c->z, c->db, q.meeting_id,
	    &err) < 0) {
		rc = failed(c, jv_copy(base), "zoom", err.class !=
		    SL_HTTP_PERMANENT, sl_svc_exit_code(&err), "Zoom: %s: "
		    "booking %lld not cancelled", err.message, (long long)id);
		goto out;
	}
	if (q.event_id && sl_google_event_delete(c->g, c->db, q.rep,
	    q.event_id, &err) < 0) {
		rc = failed(c, jv_copy(base), "calendar", err.class !=
		    SL_HTTP_PERMANENT, sl_svc_exit_code(&err), "Google "
		    "Calendar: %s: booking %lld not cancelled", err.message,
		    (long long)id);
		goto out;
	}
	if (sl_db_begin(c->db) < 0 ||
	    sl_db_exec(c->db, "UPDATE bookings SET status = 'cancelled', "
	    "cancelled_at = $2, updated_at = $2 WHERE id = $1",
	    JV_ARRAY(num(id), num(now))) < 0 ||
	    sl_db_exec(c->db, "UPDATE scheduled_actions SET status = "
	    "'cancelled', cancel_reason = 'booking_cancelled', updated_at = $2 "
	    "WHERE booking_id = $1 AND status = 'pending'",
	    JV_ARRAY(num(id), num(now))) < 0 ||
	    sl_db_exec(c->db, "UPDATE prospects SET stage = 'qualified', "
	    "updated_at = $2 WHERE id = $1 AND stage = 'booked'",
	    JV_ARRAY(num(q.prospect), num(now))) < 0 ||
	    sl_db_commit(c->db) < 0) {
		rc = ledger_failed(c, jv_copy(base));
		goto out;
	}
	base = jv_object_merge(JV_OBJECT(jv_string("type"),
	    jv_string("booking.cancelled")), base);
	base = sl_set(base, "rep", jv_string(q.rep->name));
	base = sl_set(base, "prospect", sl_id_jv(q.prospect));
	base = sl_set(base, "start", jv_string(sl_time_fmt(q.start, at)));
	if (reasonflag)
		base = sl_set(base, "reason", jv_string(reasonflag));
	rc = sl_emit(jv_copy(base)) < 0 ? SL_EX_IOERR : 0;
out:
	jv_free(base);
	jv_free(row);
	q.email = q.topic = q.provider = NULL;
	req_free(&q);
	return rc;
}

/* Puts booking q->id back at start..end after a later step failed. */
static void
move_back(struct ctx *c, const struct req *q, int64_t start, int64_t end)
{
	if (sl_db_exec(c->db, "UPDATE bookings SET start_at = $2, end_at = $3 "
	    "WHERE id = $1", JV_ARRAY(num(q->id), num(start), num(end))) < 0)
		sl_warn("booking %lld could not be moved back: %s",
		    (long long)q->id, sl_db_error(c->db));
}

/* Moves the booking in the ledger, under the rep's lock; 0 or failed(). */
static int
move_in_ledger(struct ctx *c, jv base, const struct req *q, int64_t now)
{
	char when[SL_TIME_BUFSZ];
	int st;

	if (lock_rep(c, q->rep) < 0 || (st = still_free(c, q, now,
	    q->id)) < 0)
		return ledger_failed(c, base);
	if (st == 1) {
		sl_db_rollback(c->db);
		return failed(c, base, "taken", 0, 0, "rep '%s' was booked "
		    "at %s meanwhile", q->rep->name,
		    sl_time_fmt(q->start, when));
	}
	if (sl_db_exec(c->db, "UPDATE bookings SET start_at = $2, end_at = $3, "
	    "updated_at = $4 WHERE id = $1 AND status = 'booked'",
	    JV_ARRAY(num(q->id), num(q->start), num(q->end), num(now))) < 0 ||
	    sl_db_commit(c->db) < 0)
		return ledger_failed(c, base);
	jv_free(base);
	return 0;
}

/* Zoom and the calendar follow the move; 0 or failed() (ledger undone). */
static int
move_outside(struct ctx *c, jv base, struct req *q, unsigned sources,
    int64_t old_start, int64_t old_end)
{
	struct sl_svc_err err;
	char *old_event = q->event_id;

	memset(&err, 0, sizeof err);
	if (q->meeting_id && c->z && sl_zoom_update(c->z, c->db, q->meeting_id,
	    q->start, q->duration, q->rep->tz, &err) < 0) {
		move_back(c, q, old_start, old_end);
		return failed(c, base, "zoom", err.class != SL_HTTP_PERMANENT,
		    sl_svc_exit_code(&err), "Zoom: %s: booking %lld not moved",
		    err.message, (long long)q->id);
	}
	if (old_event == NULL) {
		jv_free(base);
		return 0;
	}
	q->event_id = NULL;
	if (add_event(c, jv_copy(base), q, sources | SL_SRC_GOOGLE) != 0 ||
	    sl_google_event_delete(c->g, c->db, q->rep, old_event, &err) < 0) {
		if (q->event_id) {
			sl_warn("the old calendar event of booking %lld was "
			    "not deleted: %s", (long long)q->id, err.message);
			free(old_event);
			jv_free(base);
			return 0;
		}
		q->event_id = old_event;
		if (q->meeting_id && c->z && sl_zoom_update(c->z, c->db,
		    q->meeting_id, old_start, q->duration, q->rep->tz,
		    &err) < 0)
			sl_warn("Zoom meeting %s could not be moved back: %s",
			    q->meeting_id, err.message);
		move_back(c, q, old_start, old_end);
		jv_free(base);
		return 1;
	}
	free(old_event);
	jv_free(base);
	return 0;
}

static int
reschedule(struct ctx *c, int64_t id, int64_t start)
{
	struct req q;
	unsigned sources = 0;
	int64_t now = sl_now(), old_start, old_end;
	char at[SL_TIME_BUFSZ];
	jv row = jv_null(), base = JV_OBJECT(jv_string("id"), sl_id_jv(id));
	int rc;

	memset(&q, 0, sizeof q);
	if ((rc = load_booking(c, id, &q, &row)) != 0)
		goto out;
	services_ok(c, &q);
	old_start = q.start;
	old_end = q.end;
	q.start = start;
	q.end = start + (int64_t)q.duration * 60;
	if ((rc = check_free(c, jv_copy(base), &q, now, id, &sources)) != 0)
		goto out;
	if (nflag) {
		rc = sl_emit(sl_set(sl_set(jv_copy(base), "type",
		    jv_string("booking")), "dry_run", jv_true())) < 0 ?
		    SL_EX_IOERR : 0;
		goto out;
	}
	if ((rc = move_in_ledger(c, jv_copy(base), &q, now)) != 0 ||
	    (rc = move_outside(c, jv_copy(base), &q, sources, old_start,
	    old_end)) != 0)
		goto out;
	if (sl_db_begin_claim(c->db) < 0 ||
	    sl_db_exec(c->db, "UPDATE bookings SET calendar_event = $2 "
	    "WHERE id = $1", JV_ARRAY(num(id), q.event_id ?
	    jv_string(q.event_id) : jv_null())) < 0 ||
	    reminders(c, &q, now) < 0 || sl_db_commit(c->db) < 0) {
		rc = ledger_failed(c, jv_copy(base));
		goto out;
	}
	rc = emit_booking(c, q.rep, id, NULL);
	if (rc == 0)
		sl_info("booking %lld moved from %s", (long long)id,
		    sl_time_fmt(old_start, at));
out:
	jv_free(base);
	jv_free(row);
	q.email = q.topic = q.provider = NULL;
	req_free(&q);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctx c;
	int64_t start = 0;
	int st, rc;

	sl_init("zoom-book");
	options(argc, argv);
	if (startflag && sl_time_parse(startflag, &start) < 0) {
		sl_error("--start: expected an RFC 3339 time, not '%.64s'",
		    startflag);
		usage(SL_EX_USAGE);
	}
	(void)sl_now();		/* a bad SALESLINE_NOW exits 78 */
	memset(&c, 0, sizeof c);
	c.g = sl_google_open();
	c.z = sl_zoom_open();
	c.db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	if (cancelflag)
		rc = cancel(&c, cancelflag);
	else if (reschedflag)
		rc = reschedule(&c, reschedflag, start);
	else
		rc = sl_jsonl_loop(stdin, "stdin", handle, &c);
	st = c.status;
	if (rc == SL_EX_IOERR || (rc > 1 && st == SL_EX_OK))
		st = rc;
	else if (rc == SL_EX_REJECT && st == SL_EX_OK)
		st = SL_EX_REJECT;
	if (sl_out_close() != 0)
		st = SL_EX_IOERR;
	sl_db_close(c.db);
	sl_google_close(c.g);
	sl_zoom_close(c.z);
	sl_http_cleanup();
	sl_zone_free_all();
	return st;
}
