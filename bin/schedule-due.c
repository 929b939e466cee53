/*
 * schedule-due: durable follow-ups and meeting reminders.
 *
 *   --add          followup lines in          -> followup.scheduled
 *   --due          claims what is due         -> followup.due
 *   --due --follow the same forever, sleeping until the next due time
 *   --cancel --prospect ID [--kind K] [--reason R] -> followup.cancelled
 *   --list [--prospect ID]  pending and claimed -> scheduled_action
 *   --done ID..., --failed [--error TEXT] ID...  close by hand
 *   --close        message.sent / message.failed in, passed through;
 *                  closes the actions whose key they carry
 *
 * The ledger holds the truth (lib/sched.h): --add stores before it
 * echoes, --due commits its claim before it prints, and a claim that is
 * never closed comes back when its lease ends, under the same message key,
 * so the pipeline's idempotent send turns a replay into nothing.
 *
 * --add gathers records into one transaction while more input is waiting
 * (up to --batch), so a pipe of thousands is fast and a single line typed
 * by hand is stored and echoed at once.  Records of another type pass
 * through unchanged, in order.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "jsonl.h"
#include "sched.h"
#include "sl.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: schedule-due [-nv] [--db URL] --add [--batch N]\n"
    "       schedule-due [-nv] [--db URL] --due [--follow] [--batch N] "
    "[--lease S]\n"
    "                    [--interval S] [--max-attempts N]\n"
    "       schedule-due [-nv] [--db URL] --cancel --prospect ID "
    "[--kind K] [--reason R]\n"
    "       schedule-due [-v] [--db URL] --list [--prospect ID]\n"
    "       schedule-due [-nv] [--db URL] --done ID ...\n"
    "       schedule-due [-nv] [--db URL] --failed [--error TEXT] ID ...\n"
    "       schedule-due [-nv] [--db URL] --close\n"
    "       schedule-due -h\n";

enum { ADD = 1, DUE, CANCEL, LIST, DONE, FAILED, CLOSE };

static const char *dbflag, *kindflag, *reasonflag, *errorflag;
static int64_t prospectflag;
static int mode, fflag, nflag;
static long batchflag, leaseflag = 300, intervalflag = 60, attemptsflag = 5;
static volatile sig_atomic_t stop;

/* A batch of --add records and their items. */
struct batch {
	struct sl_sched_item *it;
	jv *rec;
	size_t n, cap;
	unsigned long rejected;
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

/* A decimal number in [min, max] or exit 64 naming what. */
static long long
number(const char *what, const char *s, long long min, long long max)
{
	double v;

	if (sl_option_number(what, s, (double)min, (double)max, 1, &v) < 0)
		exit(SL_EX_USAGE);
	return (long long)v;
}

/* Adding. */

static int
ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && strcmp(s + n - m, end) == 0;
}

/* Stores the batch and echoes it; 0 or an exit status. */
static int
flush(struct sl_db *db, struct batch *b)
{
	char buf[SL_TIME_BUFSZ], key[64];
	size_t i;
	int st = 0;

	if (b->n && sl_sched_add(db, b->it, b->n, sl_now(), nflag) < 0)
		st = fail(db);
	for (i = 0; i < b->n; i++) {
		struct sl_sched_item *x = &b->it[i];
		jv rec = b->rec[i];

		if (st || x->error) {
			if (!st)
				sl_error("stdin:%lu: %s '%lld'", x->line,
				    x->error, (long long)(ends_with(x->error,
				    "booking") ? x->booking : x->prospect));
			b->rejected += !st;
			jv_free(rec);
			continue;
		}
		snprintf(key, sizeof key, "%s:%lld", x->kind, (long long)x->id);
		rec = sl_set(rec, "type", jv_string("followup.scheduled"));
		rec = sl_set(rec, "id", sl_id_jv(x->id));
		rec = sl_set(rec, "prospect", sl_id_jv(x->prospect));
		rec = sl_set(rec, "due", jv_string(sl_time_fmt(x->due, buf)));
		rec = sl_set(rec, "kind", jv_string(x->kind));
		rec = sl_set(rec, "key", jv_string(key));
		rec = sl_set(rec, "status", jv_string(x->superseded ?
		    "cancelled" : "pending"));
		if (x->booking)
			rec = sl_set(rec, "booking", sl_id_jv(x->booking));
		if (x->replaced)
			rec = sl_set(rec, "replaces", sl_id_jv(x->replaced));
		if (nflag)
			rec = sl_set(rec, "dry_run", jv_true());
		sl_emit_more(rec);
	}
	b->n = 0;
	sl_out_flush();
	return st ? st : sl_out_status();
}

/*
 * 1 when stdout is a pipe or a socket: a reader that may fall behind, and
 * must get through what is claimed within the lease.  A file or a
 * terminal never holds claimed work back, so --due claims bigger batches
 * there (fewer transactions).
 */
static int
piped_out(void)
{
	struct stat st;

	return fstat(1, &st) < 0 || S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode);
}

/* 1 when reading stdin now would not block (a file never does). */
static int
input_waiting(void)
{
	static int file = -1;
	struct pollfd p = { .fd = 0, .events = POLLIN };
	struct stat st;

	if (file < 0)
		file = fstat(0, &st) == 0 && S_ISREG(st.st_mode);
	return file || poll(&p, 1, 0) > 0;
}

static int
cmd_add(struct sl_db *db)
{
	struct sl_reader *r = sl_reader_new(stdin, "stdin");
	struct batch b = { 0 };
	const char *type;
	char err[128];
	int rc, st = 0, g;
	jv rec;

	while (st == 0 && (rc = sl_reader_next(r, &rec)) == 1) {
		if ((g = sl_get_str(rec, "type", &type)) < 0) {
			sl_reader_reject(r, "'type': expected a string");
			jv_free(rec);
			continue;
		}
		if (g > 0 && strcmp(type, "followup") != 0) {
			if ((st = flush(db, &b)) == 0)
				st = sl_emit(rec) < 0 ? SL_EX_IOERR : 0;
			else
				jv_free(rec);
			continue;
		}
		if (b.n == b.cap) {
			b.cap = b.cap ? 2 * b.cap : 64;
			b.it = sl_realloc(b.it, b.cap * sizeof *b.it);
			b.rec = sl_realloc(b.rec, b.cap * sizeof *b.rec);
		}
		if (sl_sched_parse(rec, &b.it[b.n], err, sizeof err) < 0) {
			sl_reader_reject(r, "%s", err);
			jv_free(rec);
			continue;
		}
		b.it[b.n].line = sl_reader_lineno(r);
		b.rec[b.n++] = rec;
		if ((long)b.n >= batchflag || !input_waiting())
			st = flush(db, &b);
	}
	if (st == 0)
		st = rc < 0 ? SL_EX_IOERR : flush(db, &b);
	else
		while (b.n > 0)
			jv_free(b.rec[--b.n]);
	if (st == 0 && (b.rejected || sl_reader_rejected(r)))
		st = SL_EX_REJECT;
	sl_reader_free(r);
	free(b.it);
	free(b.rec);
	return st;
}

/* Claiming. */

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleeps up to secs, or until SIGTERM or SIGINT. */
static void
nap(int64_t secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = 0 };
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (!stop)
		pselect(0, NULL, NULL, NULL, &ts, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Claims and prints everything due now; 0 or an exit status. */
static int
due_round(struct sl_db *db, struct sl_sched_claim *c)
{
	int i, len, any;
	jv recs;

	c->now = sl_now();
	c->after = 0;
	if ((any = sl_sched_any_due(db, c->now)) <= 0)
		return any < 0 ? fail(db) : 0;
	do {
		recs = sl_sched_claim(db, c);
		if (!jv_is_valid(recs)) {
			jv_free(recs);
			return fail(db);
		}
		len = jv_array_length(jv_copy(recs));
		for (i = 0; i < len; i++)
			sl_emit_more(jv_array_get(jv_copy(recs), i));
		jv_free(recs);
		if (sl_out_flush() < 0)
			return SL_EX_IOERR;
	} while (c->claimed == c->batch && !nflag && !stop);
	return 0;
}

static int
cmd_due(struct sl_db *db)
{
	struct sl_sched_claim c = { 0 };
	struct sigaction sa;
	char host[64], *worker;
	int64_t at, now, wait;
	int st;

	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	worker = sl_asprintf("%s:%ld", host, (long)getpid());
	c.lease = leaseflag;
	c.batch = (int)batchflag;
	c.max_attempts = (int)attemptsflag;
	c.worker = worker;
	c.dry_run = nflag;
	if (fflag) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	while ((st = due_round(db, &c)) == 0 && fflag && !stop) {
		if (sl_sched_next(db, &at) < 0) {
			st = fail(db);
			break;
		}
		now = sl_now();
		wait = at == 0 || at - now > intervalflag ? intervalflag :
		    at - now < 1 ? 1 : at - now;
		sl_info("next due %s, sleeping %llds", at ? "soon" : "never",
		    (long long)wait);
		nap(wait);
	}
	sl_info("emitted %ld, cancelled %ld, done %ld, failed %ld, "
	    "being sent %ld", c.emitted, c.cancelled, c.done, c.failed, c.busy);
	free(worker);
	return st;
}

/* By hand. */

/* row[key] as an integer (borrows row), 0 when not a number. */
static int64_t
col_int(jv row, const char *key)
{
	jv v = jv_object_get(jv_copy(row), jv_string(key));
	int64_t x = jv_get_kind(v) == JV_KIND_NUMBER ?
	    (int64_t)jv_number_value(v) : 0;

	jv_free(v);
	return x;
}

/* row[key] when it is a non-empty string (borrows row), else NULL. */
static const char *
col_str(jv row, const char *key, jv *keep)
{
	*keep = jv_object_get(jv_copy(row), jv_string(key));
	if (jv_get_kind(*keep) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(*keep)) > 0)
		return jv_string_value(*keep);
	return NULL;
}


static int
cmd_cancel(struct sl_db *db)
{
	char buf[SL_TIME_BUFSZ];
	jv rows, row;
	long n, i;

	if (sl_db_begin(db) < 0)
		return fail(db);
	n = sl_sched_cancel(db, prospectflag, kindflag, reasonflag ?
	    reasonflag : "manual", sl_now(), &rows);
	if (n < 0) {
		int st = fail(db);

		sl_db_rollback(db);
		return st;
	}
	if (n == 0) {
		row = sl_db_query1(db, "SELECT id FROM prospects WHERE id = $1",
		    JV_ARRAY(jv_number((double)prospectflag)));
		if (jv_get_kind(row) == JV_KIND_NULL) {
			sl_error("no prospect '%lld'", (long long)prospectflag);
			n = -1;
		}
		jv_free(row);
	}
	if ((nflag ? sl_db_rollback(db) : sl_db_commit(db)) < 0) {
		jv_free(rows);
		return fail(db);
	}
	for (i = 0; i < n; i++) {
		row = jv_array_get(jv_copy(rows), (int)i);
		sl_emit(JV_OBJECT(jv_string("type"),
		    jv_string("followup.cancelled"),
		    jv_string("id"), sl_id_jv(col_int(row, "id")),
		    jv_string("prospect"), sl_id_jv(prospectflag),
		    jv_string("kind"), jv_object_get(jv_copy(row),
		    jv_string("kind")),
		    jv_string("due"), jv_string(sl_time_fmt(col_int(row, "due"),
		    buf)),
		    jv_string("cancel_reason"),
		    jv_string(reasonflag ? reasonflag : "manual")));
		jv_free(row);
	}
	jv_free(rows);
	return n < 0 ? SL_EX_REJECT : sl_out_status();
}

static jv
list_record(jv row, const struct sl_zone *def)
{
	static const char *const strs[][2] = { { "rep", "rep" },
		{ "kind", "kind" }, { "status", "status" },
		{ "reason", "reason" }, { "text", "text" },
		{ "message_key", "key" } };
	const struct sl_zone *z = NULL;
	char buf[SL_TIME_BUFSZ];
	const char *s;
	size_t i;
	jv rec, keep;

	if ((s = col_str(row, "tz", &keep)) != NULL)
		z = sl_zone_load(s);
	jv_free(keep);
	if (z == NULL)
		z = def;
	rec = JV_OBJECT(jv_string("type"), jv_string("scheduled_action"),
	    jv_string("id"), sl_id_jv(col_int(row, "id")),
	    jv_string("prospect"), sl_id_jv(col_int(row, "prospect_id")));
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if ((s = col_str(row, strs[i][0], &keep)) != NULL)
			rec = jv_object_set(rec, jv_string(strs[i][1]),
			    jv_string(s));
		jv_free(keep);
	}
	rec = sl_set(rec, "due", jv_string(sl_time_fmt(col_int(row, "due"),
	    buf)));
	rec = sl_set(rec, "local", jv_string(sl_time_fmt_local(col_int(row,
	    "due"), z, buf) ? buf : ""));
	rec = sl_set(rec, "tz", jv_string(sl_zone_name(z)));
	rec = sl_set(rec, "attempts", jv_number((double)col_int(row,
	    "attempts")));
	if (col_int(row, "booking_id") > 0)
		rec = sl_set(rec, "booking", sl_id_jv(col_int(row,
		    "booking_id")));
	if (col_int(row, "lease_until") > 0)
		rec = sl_set(rec, "lease_until", jv_string(sl_time_fmt(
		    col_int(row, "lease_until"), buf)));
	return rec;
}

static int
cmd_list(struct sl_db *db, const struct sl_zone *def)
{
	int64_t due = INT64_MIN, id = 0;
	int i, len;
	jv rows, row;

	do {
		rows = sl_db_query(db, "SELECT a.id, a.prospect_id, "
		    "a.booking_id, a.kind, a.status, a.due, a.reason, a.text, "
		    "a.message_key, a.attempts, a.lease_until, r.name AS rep, "
		    "r.tz FROM scheduled_actions a JOIN prospects p ON p.id = "
		    "a.prospect_id LEFT JOIN reps r ON r.id = p.rep_id WHERE "
		    "a.status IN ('pending', 'claimed') AND (CAST($1 AS "
		    "BIGINT) = 0 OR a.prospect_id = CAST($1 AS BIGINT)) AND "
		    "(a.due > $2 "
		    "OR (a.due = $2 AND a.id > $3)) ORDER BY a.due, a.id "
		    "LIMIT 1000", JV_ARRAY(jv_number((double)prospectflag),
		    jv_number((double)due), jv_number((double)id)));
		if (!jv_is_valid(rows)) {
			jv_free(rows);
			return fail(db);
		}
		len = jv_array_length(jv_copy(rows));
		for (i = 0; i < len && sl_out_status() == 0; i++) {
			row = jv_array_get(jv_copy(rows), i);
			due = col_int(row, "due");
			id = col_int(row, "id");
			sl_emit(list_record(row, def));
			jv_free(row);
		}
		jv_free(rows);
	} while (len == 1000 && sl_out_status() == 0);
	return sl_out_status();
}

/* Closes one action (by id, or by key when id is 0); 0, -1 or a status. */
static int
close_one(struct sl_db *db, int64_t id, const char *key, int ok,
    const char *error)
{
	char status[32];
	int r, st = 0;

	if (nflag && sl_db_begin(db) < 0)
		return fail(db);
	r = sl_sched_close(db, id, key, ok, error, sl_now(), status,
	    sizeof status);
	if (r == -1)
		st = fail(db);
	else if (r == -2 && id)
		st = sl_error("no action '%lld'", (long long)id);
	else if (r == -3)
		st = sl_error("action '%s%lld' is %s, not closed",
		    id ? "" : key, (long long)id, status);
	else if (r >= 0)
		sl_info("action '%s%lld' %s", id ? "" : key, (long long)id,
		    r ? (ok ? "done" : "failed") : "was already closed");
	if (nflag)
		sl_db_rollback(db);
	return st;
}

static int
cmd_done(struct sl_db *db, int argc, char **argv)
{
	jv err = jv_null();
	char *error = NULL;
	int i, st, rejected = 0;

	if (mode == FAILED) {
		err = JV_OBJECT(jv_string("code"), jv_string("failed"),
		    jv_string("message"), jv_string(errorflag ? errorflag :
		    "closed by hand"), jv_string("temporary"), jv_false());
		error = sl_json_dump(err, NULL);
	}
	for (i = 0; i < argc; i++) {
		st = close_one(db, sl_sched_id(argv[i]), NULL, mode == DONE,
		    error);
		if (st > 1)
			break;
		rejected |= st != 0;
		st = 0;
	}
	jv_free(err);
	free(error);
	return st ? st : rejected ? SL_EX_REJECT : 0;
}

/* --close: one record of tg-send's output. */
static int
close_record(struct sl_reader *r, jv rec, void *ctx)
{
	struct sl_db *db = ctx;
	const char *type = NULL, *key = NULL;
	char *error = NULL;
	int st = 0, temporary = 0;
	jv err;

	sl_get_str(rec, "type", &type);
	if (type && (strcmp(type, "message.sent") == 0 ||
	    strcmp(type, "message.failed") == 0)) {
		if (sl_get_str(rec, "key", &key) <= 0) {
			jv_free(rec);
			return sl_reader_reject(r, "no 'key'");
		}
		if (strcmp(type, "message.failed") == 0 &&
		    sl_get_obj(rec, "error", &err) > 0) {
			sl_get_bool(err, "temporary", &temporary);
			error = sl_json_dump(err, NULL);
			jv_free(err);
		}
		if (!temporary)
			st = close_one(db, 0, key, error == NULL &&
			    strcmp(type, "message.sent") == 0, error ? error :
			    "{\"code\":\"failed\",\"temporary\":false}");
		free(error);
	}
	if (st > 1) {
		jv_free(rec);
		return st;
	}
	sl_emit(rec);
	return 0;
}

/* Options. */

static void
options(int argc, char **argv)
{
	enum { O_ADD = 256, O_DUE, O_CANCEL, O_LIST, O_DONE, O_FAILED,
		O_CLOSE, O_BATCH, O_LEASE, O_INTERVAL, O_ATTEMPTS, O_KIND,
		O_REASON, O_ERROR };
	static const struct option longopts[] = {
		{ "add", no_argument, NULL, O_ADD },
		{ "due", no_argument, NULL, O_DUE },
		{ "cancel", no_argument, NULL, O_CANCEL },
		{ "list", no_argument, NULL, O_LIST },
		{ "done", no_argument, NULL, O_DONE },
		{ "failed", no_argument, NULL, O_FAILED },
		{ "close", no_argument, NULL, O_CLOSE },
		{ "follow", no_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lease", required_argument, NULL, O_LEASE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "max-attempts", required_argument, NULL, O_ATTEMPTS },
		{ "prospect", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, O_KIND },
		{ "reason", required_argument, NULL, O_REASON },
		{ "error", required_argument, NULL, O_ERROR },
		{ "db", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, m;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fhnp:v", longopts, NULL)) !=
	    -1) {
		m = 0;
		switch (c) {
		case O_ADD: m = ADD; break;
		case O_DUE: m = DUE; break;
		case O_CANCEL: m = CANCEL; break;
		case O_LIST: m = LIST; break;
		case O_DONE: m = DONE; break;
		case O_FAILED: m = FAILED; break;
		case O_CLOSE: m = CLOSE; break;
		case 'f': fflag = 1; break;
		case O_BATCH:
			batchflag = (long)number("--batch", optarg, 1, 10000);
			break;
		case O_LEASE:
			leaseflag = (long)number("--lease", optarg, 1, 86400);
			break;
		case O_INTERVAL:
			intervalflag = (long)number("--interval", optarg, 1,
			    86400);
			break;
		case O_ATTEMPTS:
			attemptsflag = (long)number("--max-attempts", optarg, 1,
			    1000);
			break;
		case 'p':
			if ((prospectflag = sl_sched_id(optarg)) <= 0)
				sl_die(SL_EX_USAGE, "--prospect: expected a "
				    "ledger id, not '%s'", optarg);
			break;
		case O_KIND: kindflag = optarg; break;
		case O_REASON: reasonflag = optarg; break;
		case O_ERROR: errorflag = optarg; break;
		case 'd': dbflag = optarg; break;
		case 'n': nflag = 1; break;
		case 'v': sl_verbose = 1; break;
		case 'h': usage(SL_EX_OK);
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
		if (m && mode && m != mode) {
			sl_error("choose one of --add, --due, --cancel, "
			    "--list, --done, --failed, --close");
			usage(SL_EX_USAGE);
		}
		if (m)
			mode = m;
	}
}

/* Checks what goes with what; exits 64 with a reason. */
static void
check_usage(int nargs, char **args)
{
	int i;

	if (mode == 0)
		sl_error("say what to do: --add, --due, --cancel, --list, "
		    "--done, --failed or --close");
	else if (fflag && mode != DUE)
		sl_error("--follow goes with --due");
	else if (mode == CANCEL && prospectflag == 0)
		sl_error("--cancel needs --prospect");
	else if (prospectflag && mode != CANCEL && mode != LIST)
		sl_error("--prospect goes with --cancel or --list");
	else if (kindflag && mode != CANCEL)
		sl_error("--kind goes with --cancel");
	else if (kindflag && !sl_sched_kind_ok(kindflag))
		sl_error("--kind: expected followup, reminder_24h or "
		    "reminder_1h");
	else if (errorflag && mode != FAILED)
		sl_error("--error goes with --failed");
	else if ((mode == DONE || mode == FAILED) && nargs == 0)
		sl_error("which actions? give their ids");
	else if (mode != DONE && mode != FAILED && nargs > 0)
		sl_error("unexpected argument '%s'", args[0]);
	else
		goto ids;
	usage(SL_EX_USAGE);
ids:
	for (i = 0; i < nargs; i++)
		if (sl_sched_id(args[i]) <= 0)
			sl_die(SL_EX_USAGE, "expected an action id, not '%s'",
			    args[i]);
}

int
main(int argc, char **argv)
{
	const struct sl_zone *zone = NULL;
	const char *tz;
	struct sl_db *db;
	int st;

	sl_init("schedule-due");
	options(argc, argv);
	check_usage(argc - optind, argv + optind);
	if (batchflag == 0)
		batchflag = mode == ADD ? 5000 : piped_out() ? 100 : 1000;
	if (mode == LIST) {
		tz = sl_env("SALESLINE_TZ", "Asia/Makassar");
		if ((zone = sl_zone_load(tz)) == NULL)
			sl_die(SL_EX_CONFIG, "SALESLINE_TZ: unknown time zone "
			    "'%s'", tz);
	}
	sl_now();	/* a bad SALESLINE_NOW exits 78 before any work */
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	switch (mode) {
	case ADD: st = cmd_add(db); break;
	case DUE: st = cmd_due(db); break;
	case CANCEL: st = cmd_cancel(db); break;
	case LIST: st = cmd_list(db, zone); break;
	case CLOSE:
		st = sl_jsonl_loop(stdin, "stdin", close_record, db);
		break;
	default: st = cmd_done(db, argc - optind, argv + optind); break;
	}
	sl_db_close(db);
	sl_zone_free_all();
	if (sl_out_close() != 0 && (st == 0 || st == SL_EX_REJECT))
		st = SL_EX_IOERR;
	return st;
}
