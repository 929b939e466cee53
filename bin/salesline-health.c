/*
 * salesline-health: is salesline working?  One health record (or the
 * Prometheus text of its metrics) and an exit status for container health
 * checks and monitoring.
 *
 * The checks, in order (the first that fails decides the status):
 *   ledger    reachable, and every migration applied
 *   telegram  getMe with $TELEGRAM_BOT_TOKEN
 *   model     rules; or a model call of the last 15 minutes that went
 *             well, else a probe of a few tokens (logged in llm_calls,
 *             purpose 'health', so the next check finds it)
 *   calendar  every enabled rep with a calendar: not disconnected, and a
 *             free/busy query for the next hour answered, every calendar
 *             of the rep's read
 *   fetch     the last batch tg-fetch stored, or the last heartbeat of
 *             salesline-run (a quiet bot has no batches), recent enough
 *   tick      the last salesline-tick that finished well, recent enough
 * --offline skips what would call a service (telegram, model, and the
 * calendar queries), for salesline-tick's metrics every minute.
 *
 * Heartbeats are rows of the state table, "heartbeat.NAME", written by
 * --beat NAME with the clock of sl_now() (so SALESLINE_NOW moves them).
 *
 * Metrics come from the ledger's own rows (messages, llm_calls,
 * scheduled_actions, bookings, prospects, audit), so they are counters
 * that survive restarts and agree across hosts; --metrics-file writes
 * them to a temporary file beside FILE and renames it over FILE, as
 * node_exporter's textfile collector wants.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "google.h"
#include "jsonl.h"
#include "llm.h"
#include "rep.h"
#include "sl.h"
#include "slots.h"
#include "tg.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: salesline-health [-v] [--db URL] [--offline] [--skip CHECK,...]\n"
    "                        [--max-fetch-age S] [--max-tick-age S]\n"
    "                        [--metrics] [--metrics-file FILE]\n"
    "       salesline-health [-v] [--db URL] --beat NAME\n"
    "       salesline-health -h\n";

enum { C_LEDGER, C_TELEGRAM, C_MODEL, C_CALENDAR, C_FETCH, C_TICK, NCHECK };
static const char *const check_names[NCHECK] = {
	"ledger", "telegram", "model", "calendar", "fetch", "tick",
};

#define MODEL_RECENT 900	/* a good call this recent needs no probe */

static const char *dbflag, *beatflag, *metrics_file;
static int mflag, offline, skip[NCHECK];
static long long max_fetch_age = 300, max_tick_age = 300;

struct check {
	int ran, ok, status;
	jv detail;		/* object */
	char why[600];
};

struct ctx {
	struct sl_db *db;	/* NULL: the ledger is down */
	int64_t now;
	char bot[32];		/* the token's bot id, "" when unknown */
	struct check c[NCHECK];
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static jv
num(int64_t v)
{
	return jv_number((double)v);
}

static int
fail(struct check *ck, int status, const char *fmt, ...) SL_PRINTF(3, 4);

static int
fail(struct check *ck, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ck->why, sizeof ck->why, fmt, ap);
	va_end(ap);
	ck->ok = 0;
	ck->status = status;
	return -1;
}

static void
parse_skip(const char *arg)
{
	char *s = sl_strdup(arg), *p = s, *q;
	int i;

	for (; p; p = q) {
		if ((q = strchr(p, ',')))
			*q++ = '\0';
		for (i = 0; i < NCHECK && strcmp(p, check_names[i]); i++)
			;
		if (i == NCHECK) {
			sl_error("--skip: no check '%s' (ledger, telegram, "
			    "model, calendar, fetch, tick)", p);
			free(s);
			usage(SL_EX_USAGE);
		}
		skip[i] = 1;
	}
	free(s);
}

/* Seconds, from one to a year. */
static long long
seconds(const char *opt, const char *arg)
{
	double v;

	if (sl_option_number(opt, arg, 1, 366 * 86400, 1, &v) < 0)
		usage(SL_EX_USAGE);
	return (long long)v;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "beat", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "max-fetch-age", required_argument, NULL, 'F' },
		{ "max-tick-age", required_argument, NULL, 'T' },
		{ "metrics", no_argument, NULL, 'm' },
		{ "metrics-file", required_argument, NULL, 'M' },
		{ "offline", no_argument, NULL, 'o' },
		{ "skip", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hmv", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': beatflag = optarg; break;
		case 'd': dbflag = optarg; break;
		case 'h': usage(SL_EX_OK);
		case 'F': max_fetch_age = seconds("--max-fetch-age", optarg); break;
		case 'T': max_tick_age = seconds("--max-tick-age", optarg); break;
		case 'm': mflag = 1; break;
		case 'M': metrics_file = optarg; break;
		case 'o': offline = 1; break;
		case 's': parse_skip(optarg); break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (optind < argc) {
		sl_error("unexpected argument '%s'", argv[optind]);
		usage(SL_EX_USAGE);
	}
	if (beatflag && (!*beatflag || strlen(beatflag) > 100 ||
	    strspn(beatflag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(beatflag))) {
		sl_error("--beat: a name of letters, digits, '.', '_' and '-', "
		    "not '%s'", beatflag);
		usage(SL_EX_USAGE);
	}
}

/* The heartbeat NAME: now, with the host that wrote it. */
static int
beat(void)
{
	struct sl_db *db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	char host[128], *key = sl_asprintf("heartbeat.%s", beatflag), *val;
	int st = 0;
	jv obj;

	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	obj = JV_OBJECT(jv_string("host"), jv_string(host));
	val = sl_json_dump(obj, NULL);
	jv_free(obj);
	if (sl_db_exec(db, "INSERT INTO state (key, value, updated_at) "
	    "VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = "
	    "excluded.value, updated_at = excluded.updated_at",
	    JV_ARRAY(jv_string(key), jv_string(val), num(sl_now()))) < 0) {
		sl_error("heartbeat '%s': %s", beatflag, sl_db_error(db));
		st = sl_db_exit_code(db);
	}
	free(val);
	free(key);
	sl_db_close(db);
	return st;
}

static int
is_pg(const char *url)
{
	return strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0 || strchr(url, '=') != NULL;
}

static void
check_ledger(struct ctx *x)
{
	struct check *ck = &x->c[C_LEDGER];
	const char *url = sl_db_url(dbflag);
	char *red = sl_db_url_redact(url), *err = NULL;
	struct stat st;
	int temp = 0, pending;
	long version;

	ck->detail = sl_set(ck->detail, "url", jv_string(red));
	if (!is_pg(url) && strcmp(url, ":memory:") && stat(url, &st) < 0) {
		fail(ck, SL_EX_CONFIG, "no ledger at '%s' (run salesline-db "
		    "migrate, or set SALESLINE_DB)", red);
		goto out;
	}
	if ((x->db = sl_db_open_raw(url, &err, &temp)) == NULL) {
		fail(ck, temp ? SL_EX_TEMPFAIL : SL_EX_IOERR, "cannot open "
		    "ledger '%s': %s", red, err ? err : "unknown error");
		goto out;
	}
	ck->detail = sl_set(ck->detail, "engine",
	    jv_string(sl_db_engine(x->db)));
	if ((version = sl_db_version(x->db)) < 0 ||
	    (pending = sl_db_pending(x->db, NULL)) < 0) {
		fail(ck, sl_db_exit_code(x->db), "ledger '%s': %s", red,
		    sl_db_error(x->db));
		sl_db_close(x->db);
		x->db = NULL;
		goto out;
	}
	ck->detail = sl_set(sl_set(ck->detail, "version", num(version)),
	    "pending", num(pending));
	if (pending > 0)
		fail(ck, SL_EX_CONFIG, "ledger '%s': %d migration%s not "
		    "applied (run salesline-db migrate)", red, pending,
		    pending == 1 ? "" : "s");
out:
	free(err);
	free(red);
}

/* The token's bot id, or "" (and the reason in why) when unusable. */
static int
token_bot(char *bot, size_t size, char *why, size_t wsize)
{
	char *token = sl_secret("TELEGRAM_BOT_TOKEN");
	const char *colon = token ? strchr(token, ':') : NULL;
	size_t n = colon ? (size_t)(colon - token) : 0;
	int ok;

	*bot = '\0';
	if (!token) {
		snprintf(why, wsize, "TELEGRAM_BOT_TOKEN (or "
		    "TELEGRAM_BOT_TOKEN_FILE) is not set");
		return -1;
	}
	ok = n > 0 && n < size && strspn(token, "0123456789") == n &&
	    colon[1] && strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(colon + 1);
	if (ok)
		snprintf(bot, size, "%.*s", (int)n, token);
	else
		snprintf(why, wsize, "TELEGRAM_BOT_TOKEN is not a bot token "
		    "(digits:secret, as @BotFather gives it)");
	free(token);
	return ok ? 0 : -1;
}

static void
check_telegram(struct ctx *x)
{
	struct check *ck = &x->c[C_TELEGRAM];
	struct sl_tg_opts o = { 10000, 2, 1, 5000 };
	struct sl_tg_error err;
	struct sl_tg *tg;
	const char *user;
	jv me;

	if (token_bot(x->bot, sizeof x->bot, ck->why, sizeof ck->why) < 0) {
		fail(ck, SL_EX_CONFIG, "%s", ck->why);
		return;
	}
	ck->detail = sl_set(ck->detail, "bot", jv_string(x->bot));
	tg = sl_tg_open();
	memset(&err, 0, sizeof err);
	me = sl_tg_call(tg, "getMe", jv_null(), &o, &err);
	if (!jv_is_valid(me)) {
		jv_free(me);
		if (err.code == 401 || err.code == 403)
			fail(ck, SL_EX_NOPERM, "Telegram rejected the token "
			    "(%ld %s): check TELEGRAM_BOT_TOKEN", err.code,
			    err.description);
		else if (err.class == SL_HTTP_PERMANENT)
			fail(ck, SL_EX_UNAVAILABLE, "Telegram refused getMe "
			    "(%ld %s)", err.code, err.description);
		else
			fail(ck, SL_EX_TEMPFAIL, "Telegram unreachable at '%s': "
			    "%s", tg->base, err.description);
	} else {
		if (sl_get_str(me, "username", &user) == 1)
			ck->detail = sl_set(ck->detail, "username",
			    jv_string(user));
		jv_free(me);
	}
	sl_tg_close(tg);
}

/* A model call of the last minutes that went well: 1, else 0. */
static int
recent_model_ok(struct ctx *x, struct check *ck)
{
	jv row;
	int64_t at;
	const char *status;
	int ok = 0;

	if (!x->db)
		return 0;
	row = sl_db_query1(x->db, "SELECT status, at FROM llm_calls WHERE "
	    "at >= $1 ORDER BY id DESC LIMIT 1",
	    JV_ARRAY(num(x->now - MODEL_RECENT)));
	if (jv_get_kind(row) == JV_KIND_OBJECT &&
	    sl_get_str(row, "status", &status) == 1 &&
	    strcmp(status, "ok") == 0 && sl_get_int(row, "at", &at) == 1) {
		char t[SL_TIME_BUFSZ];

		ck->detail = sl_set(ck->detail, "last_ok",
		    jv_string(sl_time_fmt(at, t)));
		ok = 1;
	}
	jv_free(row);
	return ok;
}

static void
check_model(struct ctx *x)
{
	struct check *ck = &x->c[C_MODEL];
	struct sl_llm *l = sl_llm_open();
	struct sl_svc_err err;
	jv msgs, tools, ans = jv_null();

	if (!l) {
		ck->detail = sl_set(ck->detail, "provider", jv_string("rules"));
		return;
	}
	ck->detail = sl_set(sl_set(ck->detail, "provider",
	    jv_string(sl_llm_provider(l))), "model",
	    jv_string(sl_llm_model(l)));
	if (recent_model_ok(x, ck))
		goto out;
	memset(&err, 0, sizeof err);
	tools = jv_array();
	msgs = JV_ARRAY(JV_OBJECT(jv_string("role"), jv_string("user"),
	    jv_string("text"), jv_string("Reply with the word ok.")));
	if (sl_llm_complete(l, NULL, msgs, tools, 8, &ans, &err) < 0) {
		fail(ck, sl_svc_exit_code(&err), "model '%s' of %s at '%s': %s",
		    sl_llm_model(l), sl_llm_provider(l), sl_llm_url(l),
		    err.message);
		ans = jv_null();
	} else {
		ck->detail = sl_set(ck->detail, "probe", jv_true());
	}
	if (x->db && sl_llm_log(x->db, l, 0, "health",
	    jv_is_valid(ans) && jv_get_kind(ans) == JV_KIND_OBJECT ? &ans :
	    NULL, ck->ok ? NULL : &err) < 0)
		sl_warn("llm_calls: %s", sl_db_error(x->db));
	jv_free(msgs);
	jv_free(tools);
	jv_free(ans);
out:
	sl_llm_close(l);
}

/*
 * 1 (why set) when Google answered but could not read one of the rep's
 * calendars (notFound, inside the 200): its time counts as busy, so the
 * rep may have no free slot at all until the list is fixed.
 */
static int
calendar_unread(jv errs, const char *rep, char *why, size_t wsize)
{
	const char *cal = NULL, *reason = NULL;
	jv e;

	if (jv_get_kind(errs) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(errs)) == 0)
		return 0;
	e = jv_array_get(jv_copy(errs), 0);
	if (jv_get_kind(e) == JV_KIND_OBJECT) {
		sl_get_str(e, "calendar", &cal);
		sl_get_str(e, "reason", &reason);
	}
	snprintf(why, wsize, "Google calendar '%.100s' not read (%.40s): "
	    "its time counts as busy; fix the list with 'rep-admin set "
	    "%.64s --calendar ID ...'", cal ? cal : "?",
	    reason ? reason : "error", rep);
	jv_free(e);
	return 1;
}

/* One rep's calendar: 0 when usable, else -1 with why. */
static int
rep_calendar(struct ctx *x, struct sl_google *g, const char *name,
    char *why, size_t wsize)
{
	struct sl_rep *rep;
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	const char *e = NULL;
	jv calerr = jv_null();
	int temp = 0, rc = 0;

	if ((rep = sl_rep_load(x->db, name, &e, &temp)) == NULL) {
		snprintf(why, wsize, "%s", e ? e : "cannot be read");
		return -1;
	}
	if (strcmp(rep->calendar_status, "disconnected") == 0) {
		snprintf(why, wsize, "calendar disconnected (%.200s): reconnect "
		    "it with 'rep-admin calendar connect %s'",
		    rep->calendar_error ? rep->calendar_error : "no reason",
		    rep->name);
		rc = -1;
	} else if (!g && !offline) {
		snprintf(why, wsize, "a calendar is connected but "
		    "GOOGLE_CLIENT_ID is not set");
		rc = -1;
	} else if (!offline) {
		memset(&err, 0, sizeof err);
		if (sl_google_freebusy(g, x->db, rep, x->now, x->now + 3600,
		    &iv, &n, &cap, &calerr, &err) < 0) {
			snprintf(why, wsize, "Google calendar: %.300s%s",
			    err.message, err.revoked ? " (now marked "
			    "disconnected; reconnect it with rep-admin)" : "");
			rc = -1;
		} else if (calendar_unread(calerr, rep->name, why, wsize)) {
			rc = -1;
		}
		jv_free(calerr);
		free(iv);
	}
	sl_rep_free(rep);
	return rc;
}

static void
check_calendar(struct ctx *x)
{
	struct check *ck = &x->c[C_CALENDAR];
	struct sl_google *g = offline ? NULL : sl_google_open();
	char why[400];
	jv names, reps = jv_array(), v, r;
	int i, n, bad = 0;

	names = sl_db_column(x->db, "SELECT name FROM reps WHERE enabled = 1 "
	    "AND calendar_status <> 'none' ORDER BY name", jv_null(), "name");
	if (!jv_is_valid(names)) {
		jv_free(names);
		fail(ck, sl_db_exit_code(x->db), "%s", sl_db_error(x->db));
		goto out;
	}
	n = jv_array_length(jv_copy(names));
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(names), i);
		r = JV_OBJECT(jv_string("rep"), jv_copy(v));

		if (rep_calendar(x, g, jv_string_value(v), why,
		    sizeof why) < 0) {
			r = sl_set(sl_set(r, "ok", jv_false()), "error",
			    jv_string(why));
			if (!bad++)
				fail(ck, SL_EX_NOPERM, "rep '%s': %s",
				    jv_string_value(v), why);
		} else {
			r = sl_set(r, "ok", jv_true());
		}
		reps = jv_array_append(reps, r);
		jv_free(v);
	}
	jv_free(names);
	if (bad > 1) {
		size_t len = strlen(ck->why);

		snprintf(ck->why + len, sizeof ck->why - len, " (and %d more "
		    "rep%s)", bad - 1, bad == 2 ? "" : "s");
	}
out:
	ck->detail = sl_set(ck->detail, "reps", reps);
	if (g)
		sl_google_close(g);
}

/* The time of a heartbeat, 0 when there is none, -1 on error. */
static int64_t
heartbeat(struct ctx *x, const char *name)
{
	jv row = sl_db_query1(x->db, "SELECT updated_at FROM state WHERE "
	    "key = $1", JV_ARRAY(jv_string_fmt("heartbeat.%s", name)));
	int64_t at = 0;

	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	if (jv_get_kind(row) == JV_KIND_OBJECT)
		sl_get_int(row, "updated_at", &at);
	jv_free(row);
	return at;
}

/* Age of at against limit: detail fields; -1 with why when too old. */
static int
fresh(struct ctx *x, struct check *ck, int64_t at, long long limit,
    const char *what, const char *hint)
{
	char t[SL_TIME_BUFSZ];

	if (at < 0)
		return fail(ck, sl_db_exit_code(x->db), "%s",
		    sl_db_error(x->db));
	if (at == 0)
		return fail(ck, SL_EX_REJECT, "no %s recorded yet: %s", what,
		    hint);
	ck->detail = sl_set(sl_set(ck->detail, "last", jv_string(sl_time_fmt(
	    at, t))), "age", num(x->now > at ? x->now - at : 0));
	if (x->now - at > limit)
		return fail(ck, SL_EX_REJECT, "last %s %lld s ago (more than "
		    "%lld s): %s", what, (long long)(x->now - at), limit, hint);
	return 0;
}

static void
check_fetch(struct ctx *x)
{
	struct check *ck = &x->c[C_FETCH];
	char why[200];
	int64_t at = 0, hb;
	jv row;

	if (!*x->bot)
		token_bot(x->bot, sizeof x->bot, why, sizeof why);
	row = *x->bot ? sl_db_query1(x->db, "SELECT last_fetch_at AS at "
	    "FROM bots WHERE id = $1", JV_ARRAY(jv_string(x->bot))) :
	    sl_db_query1(x->db, "SELECT id, last_fetch_at AS at FROM bots "
	    "ORDER BY last_fetch_at DESC LIMIT 1", jv_null());
	if (jv_get_kind(row) == JV_KIND_OBJECT) {
		const char *id;

		sl_get_int(row, "at", &at);
		if (!*x->bot && sl_get_str(row, "id", &id) == 1)
			snprintf(x->bot, sizeof x->bot, "%s", id);
	}
	jv_free(row);
	if (*x->bot) {
		char *name = sl_asprintf("run.%s", x->bot);

		hb = heartbeat(x, name);
		free(name);
		if (hb > at)
			at = hb;
		ck->detail = sl_set(ck->detail, "bot", jv_string(x->bot));
	}
	fresh(x, ck, at, max_fetch_age, "fetch",
	    "is salesline-run running? (see its log)");
}

static void
check_tick(struct ctx *x)
{
	struct check *ck = &x->c[C_TICK];

	fresh(x, ck, heartbeat(x, "tick"), max_tick_age, "successful tick",
	    "is salesline-tick in the crontab? (see its log)");
}

static void
run_checks(struct ctx *x)
{
	static void (*const fn[NCHECK])(struct ctx *) = {
		check_ledger, check_telegram, check_model, check_calendar,
		check_fetch, check_tick,
	};
	int i;

	for (i = 0; i < NCHECK; i++) {
		struct check *ck = &x->c[i];

		ck->detail = jv_object();
		ck->ok = 1;
		/* the ledger is opened for the others even when skipped */
		if (i != C_LEDGER && (skip[i] ||
		    (offline && (i == C_TELEGRAM || i == C_MODEL))))
			continue;
		ck->ran = i != C_LEDGER || !skip[i];
		if (i > C_MODEL && !x->db)
			fail(ck, SL_EX_TEMPFAIL, "not checked: the ledger is "
			    "down");
		else
			fn[i](x);
	}
}

/* The health record; the exit status of the first failed check. */
static int
report(struct ctx *x, int emit)
{
	char t[SL_TIME_BUFSZ];
	jv checks = jv_object(), problems = jv_array();
	int i, st = 0;

	for (i = 0; i < NCHECK; i++) {
		struct check *ck = &x->c[i];
		jv d = jv_copy(ck->detail);

		if (!ck->ran) {
			d = sl_set(d, "skipped", jv_true());
		} else {
			d = sl_set(d, "ok", jv_bool(ck->ok));
			if (!ck->ok) {
				d = sl_set(d, "error", jv_string(ck->why));
				problems = jv_array_append(problems,
				    jv_string_fmt("%s: %s", check_names[i],
				    ck->why));
				sl_error("%s: %s", check_names[i], ck->why);
				if (!st)
					st = ck->status ? ck->status : 1;
			}
		}
		checks = jv_object_set(checks, jv_string(check_names[i]), d);
	}
	if (emit)
		sl_emit(JV_OBJECT(jv_string("type"), jv_string("health"),
		    jv_string("ok"), jv_bool(st == 0), jv_string("at"),
		    jv_string(sl_time_fmt(x->now, t)), jv_string("checks"),
		    checks, jv_string("problems"), problems));
	else {
		jv_free(checks);
		jv_free(problems);
	}
	return st;
}

/*
 * Metrics in the Prometheus text format (version 0.0.4): every family
 * once, its # HELP and # TYPE first, then its samples.
 */
static void
m_head(struct sl_buf *b, const char *name, const char *type,
    const char *help)
{
	char *s = sl_asprintf("# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);

	sl_buf_add(b, s, strlen(s));
	free(s);
}

/* Label values escaped: backslash, double quote and newline. */
static void
m_label(struct sl_buf *b, const char *key, const char *val, int first)
{
	const char *p;

	if (!first)
		sl_buf_add(b, ",", 1);
	sl_buf_add(b, key, strlen(key));
	sl_buf_add(b, "=\"", 2);
	for (p = val; *p; p++) {
		if (*p == '\\')
			sl_buf_add(b, "\\\\", 2);
		else if (*p == '"')
			sl_buf_add(b, "\\\"", 2);
		else if (*p == '\n')
			sl_buf_add(b, "\\n", 2);
		else
			sl_buf_add(b, p, 1);
	}
	sl_buf_add(b, "\"", 1);
}

static void
m_value(struct sl_buf *b, double v)
{
	char s[64];

	if (v == (double)(long long)v)
		snprintf(s, sizeof s, " %lld\n", (long long)v);
	else
		snprintf(s, sizeof s, " %.17g\n", v);
	sl_buf_add(b, s, strlen(s));
}

/*
 * One sample: name{k1="v1",...} value; labels is "k1=col1,k2=col2" with
 * the values read from row's columns (null: "").
 */
static void
m_sample(struct sl_buf *b, const char *name, const char *labels, jv row,
    double v)
{
	char *spec = sl_strdup(labels ? labels : ""), *p, *q, *eq;
	const char *val;
	char nbuf[32];
	int64_t iv;
	int first = 1;

	sl_buf_add(b, name, strlen(name));
	if (*spec)
		sl_buf_add(b, "{", 1);
	for (p = *spec ? spec : NULL; p; p = q) {
		if ((q = strchr(p, ',')))
			*q++ = '\0';
		eq = strchr(p, '=');
		*eq++ = '\0';
		if (*eq == '\'') {
			val = eq + 1;	/* a constant: k='value */
		} else if (sl_get_str(row, eq, &val) != 1) {
			val = "";
			if (sl_get_int(row, eq, &iv) == 1) {
				snprintf(nbuf, sizeof nbuf, "%lld",
				    (long long)iv);
				val = nbuf;
			}
		}
		m_label(b, p, val, first);
		first = 0;
	}
	if (*spec)
		sl_buf_add(b, "}", 1);
	m_value(b, v);
	free(spec);
}

static double
m_num(jv row, const char *col)
{
	double v = 0;

	if (sl_get_num(row, col, &v) != 1)
		v = 0;
	return v;
}

/*
 * A family from rows: one sample per row whose column "when" (may be
 * NULL) equals want, with value column col.
 */
static void
m_rows(struct sl_buf *b, jv rows, const char *name, const char *type,
    const char *help, const char *labels, const char *col,
    const char *when, const char *want)
{
	int i, n = jv_array_length(jv_copy(rows));
	const char *s;

	m_head(b, name, type, help);
	for (i = 0; i < n; i++) {
		jv row = jv_array_get(jv_copy(rows), i);

		if (!when || (sl_get_str(row, when, &s) == 1 &&
		    strcmp(s, want) == 0))
			m_sample(b, name, labels, row, m_num(row, col));
		jv_free(row);
	}
}

/* The sum of col over the rows whose column when equals want. */
static double
m_sum(jv rows, const char *col, const char *when, const char *want)
{
	int i, n = jv_array_length(jv_copy(rows));
	const char *s;
	double t = 0;

	for (i = 0; i < n; i++) {
		jv row = jv_array_get(jv_copy(rows), i);

		if (!when || (sl_get_str(row, when, &s) == 1 &&
		    strcmp(s, want) == 0))
			t += m_num(row, col);
		jv_free(row);
	}
	return t;
}

static void
m_single(struct sl_buf *b, const char *name, const char *type,
    const char *help, double v)
{
	m_head(b, name, type, help);
	m_sample(b, name, NULL, jv_null(), v);
}

static const int latency_le[] = { 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800,
	3600 };
#define NLE (sizeof latency_le / sizeof latency_le[0])

/* From a message in to its reply's delivery, a histogram. */
static int
m_latency(struct sl_db *db, struct sl_buf *b)
{
	struct sl_buf q = { NULL, 0, 0 };
	const char *name = "salesline_reply_latency_seconds";
	char col[16], le[16], *s;
	double cum;
	size_t i;
	jv row;

	s = sl_strdup("SELECT count(*) AS n, COALESCE(SUM(d), 0) AS s");
	sl_buf_add(&q, s, strlen(s));
	free(s);
	for (i = 0; i < NLE; i++) {
		s = sl_asprintf(", COALESCE(SUM(CASE WHEN d <= %d THEN 1 ELSE "
		    "0 END), 0) AS b%zu", latency_le[i], i);
		sl_buf_add(&q, s, strlen(s));
		free(s);
	}
	/* the ledger's clock at both ends: Telegram's date may run ahead */
	s = sl_strdup(" FROM (SELECT o.sent_at - i.created_at AS d FROM "
	    "messages i "
	    "JOIN messages o ON o.key = i.reply_key WHERE i.direction = 'in' "
	    "AND o.direction = 'out' AND o.status = 'sent' AND o.sent_at IS "
	    "NOT NULL) q");
	sl_buf_add(&q, s, strlen(s));
	free(s);
	row = sl_db_query1(db, q.s, jv_null());
	free(q.s);
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		jv_free(row);
		return -1;
	}
	m_head(b, name, "histogram", "Seconds from a prospect's message to "
	    "the delivery of its reply.");
	for (i = 0; i < NLE; i++) {
		snprintf(col, sizeof col, "b%zu", i);
		snprintf(le, sizeof le, "le='%d", latency_le[i]);
		cum = m_num(row, col);
		m_sample(b, "salesline_reply_latency_seconds_bucket", le, row,
		    cum);
	}
	m_sample(b, "salesline_reply_latency_seconds_bucket", "le='+Inf", row,
	    m_num(row, "n"));
	m_sample(b, "salesline_reply_latency_seconds_sum", NULL, row,
	    m_num(row, "s"));
	m_sample(b, "salesline_reply_latency_seconds_count", NULL, row,
	    m_num(row, "n"));
	jv_free(row);
	return 0;
}

/* Failed, uncertain and dropped sends by the error's code. */
static int
m_send_errors(struct sl_db *db, struct sl_buf *b)
{
	jv rows = sl_db_query(db, "SELECT status, error, count(*) AS n FROM "
	    "messages WHERE direction = 'out' AND status IN ('failed', "
	    "'uncertain', 'dropped') GROUP BY status, error", jv_null());
	jv agg = jv_object(), keys;
	int i, n;

	if (!jv_is_valid(rows)) {
		jv_free(rows);
		jv_free(agg);
		return -1;
	}
	n = jv_array_length(jv_copy(rows));
	for (i = 0; i < n; i++) {
		jv row = jv_array_get(jv_copy(rows), i), e, c;
		const char *st = "failed", *et, *code = "unknown";
		char key[160];
		int64_t ic;

		sl_get_str(row, "status", &st);
		e = sl_get_str(row, "error", &et) == 1 ?
		    sl_parse(et, strlen(et)) : jv_null();
		if (jv_get_kind(e) == JV_KIND_OBJECT &&
		    sl_get_str(e, "code", &code) != 1 &&
		    sl_get_int(e, "code", &ic) == 1)
			code = NULL;
		if (code)
			snprintf(key, sizeof key, "%s\t%.100s", st, code);
		else
			snprintf(key, sizeof key, "%s\t%lld", st,
			    (long long)ic);
		c = jv_object_get(jv_copy(agg), jv_string(key));
		agg = jv_object_set(agg, jv_string(key), jv_number(m_num(row,
		    "n") + (jv_get_kind(c) == JV_KIND_NUMBER ?
		    jv_number_value(c) : 0)));
		jv_free(c);
		jv_free(e);
		jv_free(row);
	}
	jv_free(rows);
	m_head(b, "salesline_send_failures_total", "counter", "Replies not "
	    "delivered, by status and error code.");
	keys = jv_keys(jv_copy(agg));
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		char *ks = sl_strdup(jv_string_value(k)), *tab = strchr(ks, '\t');
		jv v = jv_object_get(jv_copy(agg), jv_copy(k));
		jv row;

		*tab = '\0';
		row = JV_OBJECT(jv_string("status"), jv_string(ks),
		    jv_string("code"), jv_string(tab + 1));
		m_sample(b, "salesline_send_failures_total",
		    "status=status,code=code", row, jv_number_value(v));
		jv_free(row);
		jv_free(v);
		jv_free(k);
		free(ks);
	}
	jv_free(keys);
	jv_free(agg);
	return 0;
}

/* Runs one grouped query; rows or invalid. */
static jv
m_query(struct sl_db *db, const char *sql)
{
	return sl_db_query(db, sql, jv_null());
}

static void
m_errors(struct sl_buf *b, jv msgs, jv llm, jv sched, jv book, jv reps)
{
	static const char *const kinds[] = { "send_failed", "send_uncertain",
		"llm_error", "llm_timeout", "llm_budget", "followup_failed",
		"booking_failed", "calendar_disconnected" };
	double v[8];
	size_t i;
	jv row;

	v[0] = m_sum(msgs, "n", "key", "out\tfailed");
	v[1] = m_sum(msgs, "n", "key", "out\tuncertain");
	v[2] = m_sum(llm, "n", "status", "error");
	v[3] = m_sum(llm, "n", "status", "timeout");
	v[4] = m_sum(llm, "n", "status", "budget");
	v[5] = m_sum(sched, "n", "status", "failed");
	v[6] = m_sum(book, "n", "status", "failed");
	v[7] = m_sum(reps, "n", "calendar_status", "disconnected");
	m_head(b, "salesline_errors_total", "counter", "Errors by kind, as "
	    "the ledger records them.");
	for (i = 0; i < 8; i++) {
		row = JV_OBJECT(jv_string("kind"), jv_string(kinds[i]));
		m_sample(b, "salesline_errors_total", "kind=kind", row, v[i]);
		jv_free(row);
	}
}

static void
m_heartbeats(struct sl_buf *b, jv beats, int64_t now)
{
	int i, n = jv_array_length(jv_copy(beats));
	int64_t at;

	m_head(b, "salesline_heartbeat_age_seconds", "gauge", "Seconds since "
	    "the last heartbeat: tick, run.BOT.");
	for (i = 0; i < n; i++) {
		jv row = jv_array_get(jv_copy(beats), i);

		if (sl_get_int(row, "updated_at", &at) == 1)
			m_sample(b, "salesline_heartbeat_age_seconds",
			    "name=name", row, (double)(now - at));
		jv_free(row);
	}
}

static void
m_up(struct sl_buf *b, jv up)
{
	jv keys = jv_keys(jv_copy(up)), row, v;
	int i, n = jv_array_length(jv_copy(keys));

	m_head(b, "salesline_up", "gauge", "1 when the health check passed, "
	    "0 when it failed.");
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);

		v = jv_object_get(jv_copy(up), jv_copy(k));
		row = JV_OBJECT(jv_string("check"), k);
		m_sample(b, "salesline_up", "check=check", row,
		    jv_get_kind(v) == JV_KIND_TRUE);
		jv_free(row);
		jv_free(v);
	}
	jv_free(keys);
}

/*
 * The metrics text in out.  Without a ledger (db NULL) only salesline_up
 * and the time.  Returns 0, or -1 on a ledger error (out then holds
 * what came before it and salesline_up).
 */
static int
collect(struct sl_db *db, int64_t now, jv up, struct sl_buf *out)
{
	jv q[9];
	int i, rc = 0;

	m_up(out, up);
	m_single(out, "salesline_metrics_timestamp_seconds", "gauge",
	    "When these metrics were read from the ledger.", (double)now);
	if (!db)
		return 0;
	q[0] = m_query(db, "SELECT direction, status, direction || '\t' || "
	    "status AS key, count(*) AS n FROM messages GROUP BY direction, "
	    "status ORDER BY direction, status");
	q[1] = m_query(db, "SELECT provider, COALESCE(model, '') AS model, "
	    "status, count(*) AS n, COALESCE(SUM(input_tokens), 0) AS i, "
	    "COALESCE(SUM(output_tokens), 0) AS o, COALESCE(SUM(cost), 0) AS "
	    "c FROM llm_calls GROUP BY provider, model, status ORDER BY "
	    "provider, model, status");
	q[2] = m_query(db, "SELECT provider, COALESCE(model, '') AS model, "
	    "COALESCE(SUM(input_tokens), 0) AS i, COALESCE(SUM("
	    "output_tokens), 0) AS o, COALESCE(SUM(cost), 0) AS c FROM "
	    "llm_calls GROUP BY provider, model ORDER BY provider, model");
	q[3] = m_query(db, "SELECT kind, status, COALESCE(cancel_reason, "
	    "'unknown') AS reason, count(*) AS n FROM scheduled_actions GROUP "
	    "BY kind, status, cancel_reason ORDER BY kind, status, "
	    "cancel_reason");
	q[4] = m_query(db, "SELECT provider, status, count(*) AS n FROM "
	    "bookings GROUP BY provider, status ORDER BY provider, status");
	q[5] = m_query(db, "SELECT stage, count(*) AS n, COALESCE(SUM(CASE "
	    "WHEN human_active = 1 THEN 1 ELSE 0 END), 0) AS h, COALESCE("
	    "SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS "
	    "e FROM prospects GROUP BY stage ORDER BY stage");
	q[6] = m_query(db, "SELECT count(*) AS n FROM audit WHERE action = "
	    "'takeover'");
	q[7] = m_query(db, "SELECT calendar_status, count(*) AS n FROM reps "
	    "WHERE enabled = 1 GROUP BY calendar_status");
	q[8] = m_query(db, "SELECT substr(key, 11) AS name, updated_at FROM "
	    "state WHERE key LIKE 'heartbeat.%' ORDER BY key");
	for (i = 0; i < 9; i++)
		if (!jv_is_valid(q[i]))
			rc = -1;
	if (rc < 0)
		goto out;

	m_single(out, "salesline_messages_received_total", "counter",
	    "Messages prospects wrote.", m_sum(q[0], "n", "direction", "in"));
	m_single(out, "salesline_messages_sent_total", "counter", "Messages "
	    "delivered to prospects.", m_sum(q[0], "n", "key", "out\tsent"));
	m_rows(out, q[0], "salesline_messages", "gauge", "Messages in the "
	    "ledger by direction and status.",
	    "direction=direction,status=status", "n", NULL, NULL);
	if (m_latency(db, out) < 0 || m_send_errors(db, out) < 0) {
		rc = -1;
		goto out;
	}
	m_rows(out, q[1], "salesline_llm_calls_total", "counter", "Model "
	    "calls by outcome.", "provider=provider,model=model,status=status",
	    "n", NULL, NULL);
	m_rows(out, q[2], "salesline_llm_input_tokens_total", "counter",
	    "Tokens sent to the model.", "provider=provider,model=model", "i",
	    NULL, NULL);
	m_rows(out, q[2], "salesline_llm_output_tokens_total", "counter",
	    "Tokens the model wrote.", "provider=provider,model=model", "o",
	    NULL, NULL);
	m_rows(out, q[2], "salesline_llm_cost_dollars_total", "counter",
	    "Estimated cost of the model calls in US dollars.",
	    "provider=provider,model=model", "c", NULL, NULL);
	m_rows(out, q[3], "salesline_followups_pending", "gauge", "Follow-ups "
	    "and reminders waiting for their time.", "kind=kind", "n",
	    "status", "pending");
	m_rows(out, q[3], "salesline_followups_claimed", "gauge", "Follow-ups "
	    "and reminders a worker holds now.", "kind=kind", "n", "status",
	    "claimed");
	m_rows(out, q[3], "salesline_followups_sent_total", "counter",
	    "Follow-ups and reminders sent.", "kind=kind", "n", "status",
	    "done");
	m_rows(out, q[3], "salesline_followups_cancelled_total", "counter",
	    "Follow-ups and reminders cancelled, by reason.",
	    "kind=kind,reason=reason", "n", "status", "cancelled");
	m_rows(out, q[4], "salesline_bookings_total", "counter", "Meetings "
	    "by provider and status.", "provider=provider,status=status", "n",
	    NULL, NULL);
	m_rows(out, q[5], "salesline_prospects", "gauge", "Prospects by "
	    "stage.", "stage=stage", "n", NULL, NULL);
	m_single(out, "salesline_escalations_total", "counter", "Prospects "
	    "handed to a person by the agent.", m_sum(q[5], "e", NULL, NULL));
	m_single(out, "salesline_takeovers_total", "counter", "Chats a rep "
	    "took over.", m_sum(q[6], "n", NULL, NULL));
	m_single(out, "salesline_human_active", "gauge", "Prospects whose "
	    "chat a person has now.", m_sum(q[5], "h", NULL, NULL));
	m_errors(out, q[0], q[1], q[3], q[4], q[7]);
	m_heartbeats(out, q[8], now);
out:
	for (i = 0; i < 9; i++)
		jv_free(q[i]);
	return rc;
}

/* Writes the text to path through a temporary file and a rename. */
static int
write_atomic(const char *path, const char *text, size_t len)
{
	char *tmp = sl_asprintf("%s.%ld.tmp", path, (long)getpid());
	int fd, rc = -1;
	size_t off = 0;
	ssize_t w;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		sl_error("cannot write '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		sl_error("cannot write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int
metrics(struct ctx *x)
{
	struct sl_buf b = { NULL, 0, 0 };
	jv up = jv_object();
	int i, rc = 0;

	for (i = 0; i < NCHECK; i++)
		if (x->c[i].ran)
			up = sl_set(up, check_names[i], jv_bool(x->c[i].ok));
	if (collect(x->db, x->now, up, &b) < 0) {
		sl_error("metrics: %s", sl_db_error(x->db));
		rc = sl_db_exit_code(x->db);
	}
	if (mflag && b.len && (fwrite(b.s, 1, b.len, stdout) != b.len ||
	    fflush(stdout) != 0))
		rc = SL_EX_IOERR;
	if (metrics_file && b.len && write_atomic(metrics_file, b.s,
	    b.len) < 0)
		rc = SL_EX_IOERR;
	free(b.s);
	jv_free(up);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctx x;
	int st, mst = 0, i;

	sl_init("salesline-health");
	options(argc, argv);
	if (beatflag)
		return beat();
	memset(&x, 0, sizeof x);
	x.now = sl_now();
	run_checks(&x);
	st = report(&x, !mflag);
	if (mflag || metrics_file)
		mst = metrics(&x);
	/* a metrics file asked for and not written matters most */
	if (mst == SL_EX_IOERR || (mst && !st))
		st = mst;
	if (sl_out_close() != 0)
		st = SL_EX_IOERR;
	for (i = 0; i < NCHECK; i++)
		jv_free(x.c[i].detail);
	if (x.db)
		sl_db_close(x.db);
	sl_http_cleanup();
	sl_secret_clear();
	return st;
}
