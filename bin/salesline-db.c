/*
 * salesline-db: migrate, inspect, export or erase the ledger.
 *
 *   migrate                 apply pending migrations      -> db.migrated
 *   status                  engine, version, row counts   -> db.status
 *   export --prospect ID    one conversation              -> prospect,
 *                           message.in/out, scheduled_action, booking
 *   erase --prospect ID     remove a person's data, keep counts and one
 *                           audit row                     -> db.erased
 *   query SQL [PARAM...]    one statement, rows as JSON lines
 *
 * The ledger is --db, $SALESLINE_DB, $DATABASE_URL or
 * $SALESLINE_HOME/var/salesline.db.  status opens it without migrating so
 * that it can report pending migrations; every other command migrates
 * first.  Erasure runs in one transaction; with -n it is rolled back and
 * only reported.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: salesline-db [-v] [--db URL] migrate [-n]\n"
    "       salesline-db [-v] [--db URL] status\n"
    "       salesline-db [-v] [--db URL] export --prospect ID\n"
    "       salesline-db [-v] [--db URL] erase [-n] --prospect ID\n"
    "       salesline-db [-v] [--db URL] query [--json] SQL [PARAM ...]\n"
    "       salesline-db -h\n";

static const char *dbflag;
static const char *prospect;
static int nflag;
static int jflag;

/* How export turns a column into a field (FLAG: only when true). */
enum { STR, NONEMPTY, ID, NUM, TIME, BOOL, FLAG, JSON };

struct field {
	const char *col, *name;
	int conv;
};

static const struct field prospect_fields[] = {
	{ "id", "prospect", ID }, { "channel", "channel", STR },
	{ "bot", "bot", STR },
	{ "business_connection", "business_connection", NONEMPTY },
	{ "chat", "chat", STR }, { "rep", "rep", STR },
	{ "user_id", "user_id", STR }, { "name", "name", STR },
	{ "username", "username", STR }, { "lang", "lang", STR },
	{ "tz", "tz", STR }, { "email", "email", STR },
	{ "phone", "phone", STR }, { "stage", "stage", STR },
	{ "lead_class", "lead_class", STR }, { "budget", "budget", STR },
	{ "authority", "authority", STR }, { "need", "need", STR },
	{ "timeline", "timeline", STR }, { "notes", "notes", STR },
	{ "human_active", "human_active", BOOL },
	{ "human_since", "human_since", TIME },
	{ "unreachable", "unreachable", BOOL },
	{ "escalated_at", "escalated_at", TIME },
	{ "erased_at", "erased_at", TIME },
	{ "created_at", "created_at", TIME }, { NULL, NULL, 0 },
};

static const struct field message_fields[] = {
	{ "channel", "channel", STR }, { "bot", "bot", STR },
	{ "business_connection", "business_connection", NONEMPTY },
	{ "chat", "chat", STR }, { "prospect_id", "prospect", ID },
	{ "msg", "msg", STR }, { "reply_to", "reply_to", STR },
	{ "text", "text", STR }, { "at", "at", TIME }, { "key", "key", STR },
	{ "status", "status", STR }, { "sent_at", "sent_at", TIME },
	{ "error", "error", JSON }, { "degraded", "degraded", FLAG },
	{ NULL, NULL, 0 },
};

static const struct field action_fields[] = {
	{ "id", "id", ID }, { "prospect_id", "prospect", ID },
	{ "kind", "kind", STR }, { "due", "due", TIME },
	{ "status", "status", STR }, { "reason", "reason", STR },
	{ "text", "text", STR }, { "cancel_reason", "cancel_reason", STR },
	{ "attempts", "attempts", NUM }, { "message_key", "key", STR },
	{ "created_at", "created_at", TIME }, { "done_at", "done_at", TIME },
	{ NULL, NULL, 0 },
};

static const struct field booking_fields[] = {
	{ "id", "id", ID }, { "rep", "rep", STR },
	{ "prospect_id", "prospect", ID }, { "email", "email", STR },
	{ "start_at", "start", TIME }, { "end_at", "end", TIME },
	{ "provider", "provider", STR }, { "join_url", "join_url", STR },
	{ "meeting_id", "meeting_id", STR },
	{ "calendar_event", "calendar_event", STR },
	{ "status", "status", STR }, { NULL, NULL, 0 },
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static int
fail(struct sl_db *db)
{
	sl_error("%s", sl_db_error(db));
	return sl_db_exit_code(db);
}

/* Converts a row (consumed) into a record of type type. */
static jv
record(const char *type, jv row, const struct field *f)
{
	char buf[SL_TIME_BUFSZ];
	jv rec = jv_object(), v, x;

	rec = jv_object_set(rec, jv_string("type"), jv_string(type));
	for (; f->col; f++) {
		v = jv_object_get(jv_copy(row), jv_string(f->col));
		if (jv_get_kind(v) == JV_KIND_NULL || !jv_is_valid(v) ||
		    (f->conv == NONEMPTY && jv_get_kind(v) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(v)) == 0) ||
		    (f->conv == FLAG && jv_get_kind(v) == JV_KIND_NUMBER &&
		    jv_number_value(v) == 0)) {
			jv_free(v);
			continue;
		}
		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			double d = jv_number_value(v);

			if (f->conv == ID || f->conv == STR ||
			    f->conv == NONEMPTY)
				x = sl_id_jv((int64_t)d);
			else if (f->conv == TIME)
				x = jv_string(sl_time_fmt((int64_t)d, buf));
			else if (f->conv == BOOL || f->conv == FLAG)
				x = jv_bool(d != 0);
			else
				x = jv_copy(v);
			jv_free(v);
			v = x;
		} else if (f->conv == JSON && jv_get_kind(v) == JV_KIND_STRING) {
			x = sl_parse(jv_string_value(v),
			    (size_t)jv_string_length_bytes(jv_copy(v)));
			if (jv_is_valid(x)) {
				jv_free(v);
				v = x;
			} else {
				jv_free(x);
			}
		}
		rec = jv_object_set(rec, jv_string(f->name), v);
	}
	jv_free(row);
	return rec;
}

/* Emits every row of sql (one parameter: the prospect) as type. */
static int
emit_rows(struct sl_db *db, const char *sql, const char *type,
    const struct field *f)
{
	jv rows = sl_db_query(db, sql, JV_ARRAY(jv_string(prospect)));
	int i, len;

	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return fail(db);
	}
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len; i++) {
		jv row = jv_array_get(jv_copy(rows), i);
		const char *t = type;
		jv dir;

		if (type == NULL) {
			dir = jv_object_get(jv_copy(row), jv_string("direction"));
			t = jv_get_kind(dir) == JV_KIND_STRING &&
			    strcmp(jv_string_value(dir), "out") == 0 ?
			    "message.out" : "message.in";
			jv_free(dir);
		}
		if (sl_emit(record(t, row, f)) < 0)
			break;
	}
	jv_free(rows);
	return sl_out_status();
}

static int
cmd_export(struct sl_db *db)
{
	jv p;
	int st;

	p = sl_db_query1(db, "SELECT p.*, r.name AS rep FROM prospects p "
	    "LEFT JOIN reps r ON r.id = p.rep_id WHERE p.id = $1",
	    JV_ARRAY(jv_string(prospect)));
	if (!jv_is_valid(p)) {
		jv_free(p);
		return fail(db);
	}
	if (jv_get_kind(p) == JV_KIND_NULL) {
		sl_error("no prospect '%s'", prospect);
		return SL_EX_REJECT;
	}
	if (sl_emit(record("prospect", p, prospect_fields)) < 0)
		return SL_EX_IOERR;
	if ((st = emit_rows(db, "SELECT * FROM messages WHERE prospect_id = $1 "
	    "ORDER BY at, id", NULL, message_fields)) ||
	    (st = emit_rows(db, "SELECT * FROM scheduled_actions WHERE "
	    "prospect_id = $1 ORDER BY due, id", "scheduled_action",
	    action_fields)) ||
	    (st = emit_rows(db, "SELECT b.*, r.name AS rep FROM bookings b "
	    "JOIN reps r ON r.id = b.rep_id WHERE b.prospect_id = $1 "
	    "ORDER BY b.start_at, b.id", "booking", booking_fields)))
		return st;
	return SL_EX_OK;
}

/* The statements of an erasure; each takes $1 the prospect, $2 now. */
static const struct {
	const char *name, *sql;
} erasures[] = {
	{ "prospect", "UPDATE prospects SET name = NULL, username = NULL, "
	    "email = NULL, phone = NULL, budget = NULL, authority = NULL, "
	    "need = NULL, timeline = NULL, notes = NULL, erased_at = $2, "
	    "updated_at = $2 WHERE id = $1" },
	{ "messages", "UPDATE messages SET text = NULL, meta = NULL, "
	    "updated_at = $2 WHERE prospect_id = $1 AND (text IS NOT NULL OR "
	    "meta IS NOT NULL)" },
	{ "updates", "UPDATE updates SET raw = '{}', processed_at = "
	    "coalesce(processed_at, $2) WHERE raw <> '{}' AND EXISTS (SELECT 1 "
	    "FROM prospects p WHERE p.id = $1 AND p.channel = updates.channel "
	    "AND p.chat = updates.chat AND p.business_connection = "
	    "coalesce(updates.business_connection, ''))" },
	{ "cancelled", "UPDATE scheduled_actions SET status = 'cancelled', "
	    "cancel_reason = 'erased', updated_at = $2 WHERE prospect_id = $1 "
	    "AND status = 'pending'" },
	{ "actions", "UPDATE scheduled_actions SET reason = NULL, text = NULL, "
	    "updated_at = $2 WHERE prospect_id = $1 AND (reason IS NOT NULL "
	    "OR text IS NOT NULL)" },
	{ "bookings", "UPDATE bookings SET email = NULL, topic = NULL, "
	    "updated_at = $2 WHERE prospect_id = $1 AND (email IS NOT NULL "
	    "OR topic IS NOT NULL)" },
	{ "results", "UPDATE results SET transcript = NULL, finished_at = "
	    "coalesce(finished_at, $2) WHERE prospect_id = $1 AND transcript "
	    "IS NOT NULL" },
};

static int
cmd_erase(struct sl_db *db)
{
	jv p, detail = jv_object(), out;
	int64_t now = sl_now();
	size_t i;
	long n;

	if (sl_db_begin(db) < 0)
		goto fail;
	p = sl_db_query1(db, "SELECT id FROM prospects WHERE id = $1",
	    JV_ARRAY(jv_string(prospect)));
	if (jv_get_kind(p) == JV_KIND_NULL) {
		jv_free(detail);
		sl_db_rollback(db);
		sl_error("no prospect '%s'", prospect);
		return SL_EX_REJECT;
	}
	if (!jv_is_valid(p)) {
		jv_free(p);
		goto fail;
	}
	jv_free(p);
	for (i = 0; i < sizeof erasures / sizeof erasures[0]; i++) {
		n = sl_db_exec(db, erasures[i].sql, JV_ARRAY(jv_string(prospect),
		    jv_number((double)now)));
		if (n < 0)
			goto fail;
		if (i > 0)
			detail = jv_object_set(detail,
			    jv_string(erasures[i].name), jv_number((double)n));
	}
	if (sl_db_exec(db, "INSERT INTO audit (at, actor, action, subject, "
	    "detail) VALUES ($1, $2, 'erase', $3, $4)",
	    JV_ARRAY(jv_number((double)now), jv_string(sl_prog),
	    jv_string(prospect), jv_dump_string(jv_copy(detail), 0))) < 0)
		goto fail;
	if ((nflag ? sl_db_rollback(db) : sl_db_commit(db)) < 0) {
		jv_free(detail);
		return fail(db);
	}
	out = JV_OBJECT(jv_string("type"), jv_string("db.erased"),
	    jv_string("prospect"), jv_string(prospect),
	    jv_string("dry_run"), jv_bool(nflag));
	sl_emit(jv_object_merge(out, detail));
	return sl_out_status();
fail:
	jv_free(detail);
	sl_error("%s", sl_db_error(db));
	n = sl_db_exit_code(db);
	sl_db_rollback(db);
	return (int)n;
}

/* {table: rows} of every table of the ledger, or invalid. */
static jv
table_counts(struct sl_db *db)
{
	jv names = sl_db_tables(db), counts = jv_object();
	int i, len;

	if (!jv_is_valid(names)) {
		jv_free(counts);
		return names;
	}
	len = jv_array_length(jv_copy(names));
	for (i = 0; i < len && jv_is_valid(counts); i++) {
		jv name = jv_array_get(jv_copy(names), i), row;
		char *sql;

		if (strchr(jv_string_value(name), '"')) {
			jv_free(name);
			continue;
		}
		sql = sl_asprintf("SELECT count(*) AS n FROM \"%s\"",
		    jv_string_value(name));
		row = sl_db_query1(db, sql, jv_null());
		free(sql);
		if (jv_get_kind(row) == JV_KIND_OBJECT) {
			counts = jv_object_set(counts, name,
			    jv_object_get(row, jv_string("n")));
		} else {
			jv_free(name);
			jv_free(row);
			jv_free(counts);
			counts = jv_invalid();
		}
	}
	jv_free(names);
	return counts;
}

static int
cmd_status(struct sl_db *db)
{
	long version = sl_db_version(db);
	int pending;
	char *url;
	jv tables;

	if (version < 0 || (pending = sl_db_pending(db, NULL)) < 0)
		return fail(db);
	tables = table_counts(db);
	if (!jv_is_valid(tables)) {
		jv_free(tables);
		return fail(db);
	}
	url = sl_db_url_redact(sl_db_url(dbflag));
	sl_emit(JV_OBJECT(jv_string("type"), jv_string("db.status"),
	    jv_string("engine"), jv_string(sl_db_engine(db)),
	    jv_string("url"), jv_string(url),
	    jv_string("version"), jv_number((double)version),
	    jv_string("pending"), jv_number(pending),
	    jv_string("tables"), tables));
	free(url);
	return sl_out_status();
}

static int
cmd_migrate(struct sl_db *db)
{
	int applied = 0, pending = 0;
	long version;
	jv rec;

	if (nflag ? (pending = sl_db_pending(db, NULL)) < 0 :
	    (applied = sl_db_migrate(db, NULL)) < 0)
		return fail(db);
	if ((version = sl_db_version(db)) < 0)
		return fail(db);
	rec = JV_OBJECT(jv_string("type"), jv_string("db.migrated"),
	    jv_string("engine"), jv_string(sl_db_engine(db)),
	    jv_string("applied"), jv_number(applied),
	    jv_string("version"), jv_number((double)version));
	if (nflag)
		rec = jv_object_set(jv_object_set(rec, jv_string("pending"),
		    jv_number(pending)), jv_string("dry_run"), jv_true());
	sl_emit(rec);
	return sl_out_status();
}

static int
cmd_query(struct sl_db *db, int argc, char **argv)
{
	jv params = jv_array(), rows;
	int i, len;

	for (i = 1; i < argc; i++) {
		jv v = jflag ? sl_parse(argv[i], strlen(argv[i])) :
		    jv_string(argv[i]);

		if (!jv_is_valid(v)) {
			jv_free(v);
			jv_free(params);
			sl_error("parameter $%d: not a JSON value", i);
			return SL_EX_USAGE;
		}
		params = jv_array_append(params, v);
	}
	rows = sl_db_query(db, argv[0], params);
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return fail(db);
	}
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len && sl_out_status() == 0; i++)
		sl_emit(jv_array_get(jv_copy(rows), i));
	jv_free(rows);
	return sl_out_status();
}

/* Options are accepted before and after the command. */
static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "prospect", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hjnp:v", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'd': dbflag = optarg; break;
		case 'h': usage(SL_EX_OK);
		case 'j': jflag = 1; break;
		case 'n': nflag = 1; break;
		case 'p': prospect = optarg; break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *cmd;
	struct sl_db *db;
	int st, i, nargs;

	sl_init("salesline-db");
	options(argc, argv);
	if (optind >= argc)
		usage(SL_EX_USAGE);
	argv += optind;
	argc -= optind;
	cmd = argv[0];
	options(argc, argv);
	argv += optind;
	nargs = argc - optind;
	if (strcmp(cmd, "query") == 0 ? nargs < 1 : nargs != 0)
		usage(SL_EX_USAGE);
	if (strcmp(cmd, "export") == 0 || strcmp(cmd, "erase") == 0) {
		if (prospect == NULL || *prospect == '\0')
			usage(SL_EX_USAGE);
		for (i = 0; prospect[i]; i++)
			if (prospect[i] < '0' || prospect[i] > '9' || i > 17)
				sl_die(SL_EX_USAGE, "--prospect: expected a "
				    "ledger id, not '%s'", prospect);
	} else if (strcmp(cmd, "migrate") && strcmp(cmd, "status") &&
	    strcmp(cmd, "query")) {
		sl_error("unknown command '%s'", cmd);
		usage(SL_EX_USAGE);
	}
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL,
	    strcmp(cmd, "export") == 0 || strcmp(cmd, "erase") == 0 ||
	    strcmp(cmd, "query") == 0);
	if (strcmp(cmd, "migrate") == 0)
		st = cmd_migrate(db);
	else if (strcmp(cmd, "status") == 0)
		st = cmd_status(db);
	else if (strcmp(cmd, "export") == 0)
		st = cmd_export(db);
	else if (strcmp(cmd, "erase") == 0)
		st = cmd_erase(db);
	else
		st = cmd_query(db, nargs, argv);
	sl_db_close(db);
	if (sl_out_close() != 0 && st == 0)
		st = SL_EX_IOERR;
	return st;
}
