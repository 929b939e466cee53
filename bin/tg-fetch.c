/*
 * tg-fetch: receive a Telegram bot's updates, each exactly once.
 *
 * Reads getUpdates, writes message.in, message.edit, human.takeover,
 * callback, rep.connection and message.deleted records (tg_update.h).
 * Without --follow one batch is read and the command exits, for cron;
 * with it, it long-polls until SIGTERM or SIGINT.
 *
 * The offset lives in the ledger (bots.update_offset) and moves in the
 * same transaction that stores the batch, so Telegram confirms an update
 * (the next getUpdates with a greater offset) only after it is stored.
 * Then the stored, unprocessed updates are normalised, up to 100 in one
 * transaction (each in a savepoint of its own), and emitted after its
 * commit.  A run first finishes what an
 * earlier one left; --pending does only that.
 *
 * A per-bot lock (sl_db_trylock "tg-fetch:BOT") keeps a second tg-fetch
 * of the same bot out.  A signal while the process waits for Telegram
 * ends it at once: nothing is in flight then (the answer would not be
 * stored, so it is not confirmed either).  A signal at any other time
 * lets the current batch be stored and emitted first.
 *
 * Environment: TELEGRAM_BOT_TOKEN (or _FILE), TELEGRAM_API_URL,
 * SALESLINE_DB, SALESLINE_REP.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "tg.h"
#include "tg_update.h"

static const char usage_text[] =
    "usage: tg-fetch [-v] [--db URL] [--follow] [--timeout S] [--limit N]\n"
    "                [--pending] [--delete-webhook] [--rep NAME]\n"
    "       tg-fetch -h\n";

static const char *dbflag, *repflag;
static int fflag, pflag, wflag;
static long tflag = -1, lflag = 100;

static volatile sig_atomic_t stop, polling;
static int tg_failed;		/* the last failure was Telegram's ... */
static long last_code;		/* ... with this error_code */

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static void
on_signal(int sig)
{
	(void)sig;
	if (polling)
		_exit(SL_EX_OK);
	stop = 1;
}

/* Sleeps ms, or less when a signal arrives. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (!stop)
		nanosleep(&ts, NULL);
}

static long
number(const char *opt, const char *s, long min, long max)
{
	double v;

	if (sl_option_number(opt, s, (double)min, (double)max, 1, &v) < 0)
		usage(SL_EX_USAGE);
	return (long)v;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "delete-webhook", no_argument, NULL, 'W' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "limit", required_argument, NULL, 'l' },
		{ "pending", no_argument, NULL, 'p' },
		{ "rep", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fhv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dbflag = optarg; break;
		case 'f': fflag = 1; break;
		case 'h': usage(SL_EX_OK);
		case 'l': lflag = number("--limit", optarg, 1, 100); break;
		case 'p': pflag = 1; break;
		case 'r': repflag = optarg; break;
		case 't': tflag = number("--timeout", optarg, 0, 50); break;
		case 'v': sl_verbose = 1; break;
		case 'W': wflag = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (optind < argc) {
		sl_error("unexpected argument '%s'", argv[optind]);
		usage(SL_EX_USAGE);
	}
	if (pflag && fflag) {
		sl_error("--pending and --follow exclude each other");
		usage(SL_EX_USAGE);
	}
}

/* Reports a failed call and returns its exit status. */
static int
failed(const char *method, const struct sl_tg_error *err)
{
	if (err->code == 409 && strstr(err->description, "webhook"))
		sl_error("%s: a webhook is set for this bot: run tg-fetch "
		    "--delete-webhook, or receive with tg-webhook (Telegram: "
		    "%s)", method, err->description);
	else if (err->code == 409)
		sl_error("%s: another program polls with this bot's token: "
		    "stop it first (Telegram: %s)", method, err->description);
	else if (err->code == 401)
		sl_error("%s: Telegram rejected the token in "
		    "TELEGRAM_BOT_TOKEN (%s)", method, err->description);
	else
		sl_error("%s: %s", method, err->description);
	return sl_tg_exit_code(err);
}

static int
delete_webhook(struct sl_tg *tg)
{
	struct sl_tg_error err;
	jv r;

	r = sl_tg_call(tg, "deleteWebhook", sl_set(jv_object(),
	    "drop_pending_updates", jv_false()), NULL, &err);
	if (!jv_is_valid(r)) {
		jv_free(r);
		return failed("deleteWebhook", &err);
	}
	jv_free(r);
	sl_info("webhook deleted; pending updates kept");
	return 0;
}

/*
 * One getUpdates, stored and emitted.  Returns 0, or an exit status;
 * *idle is set when nothing could be stored although something came (a
 * broken answer), so that --follow waits before asking again.
 */
static int
batch(struct sl_tgu *u, struct sl_tg *tg, int64_t *offset, long poll,
    int *idle)
{
	struct sl_tg_opts o = { (poll + 15) * 1000, 0, 1, 0 };
	struct sl_tg_error err;
	unsigned long before = sl_tgu_rejected(u);
	int64_t was = *offset;
	jv params, res;
	char *body;
	size_t len;
	int rc;

	params = sl_set(jv_object(), "offset", jv_number((double)*offset));
	params = sl_set(params, "limit", jv_number(lflag));
	params = sl_set(params, "timeout", jv_number(poll));
	params = sl_set(params, "allowed_updates", sl_tgu_allowed_updates());
	polling = 1;
	if (stop) {
		polling = 0;
		jv_free(params);
		return 0;
	}
	res = sl_tg_call_body(tg, "getUpdates", params, &o, &err, &body, &len);
	polling = 0;
	if (!jv_is_valid(res)) {
		jv_free(res);
		tg_failed = 1;
		last_code = err.code;
		return failed("getUpdates", &err);
	}
	rc = sl_tgu_store_batch(u, res, body, len, offset);
	free(body);
	if (rc != 0)
		return rc;
	*idle = *offset == was && sl_tgu_rejected(u) > before;
	if (*offset != was)
		sl_info("stored updates up to %lld", (long long)*offset - 1);
	return sl_tgu_process(u);
}

/*
 * Reads batches: one, or until a signal with --follow, which waits and
 * tries again when Telegram fails, unless it rejected the token, found a
 * conflict (409) or no such bot (404).  A failing ledger or stdout ends
 * the run: a new PostgreSQL connection would not hold the lock.
 */
static int
fetch(struct sl_tgu *u, struct sl_tg *tg)
{
	long poll = tflag >= 0 ? tflag : fflag ? 25 : 0, wait = 1000;
	int64_t offset;
	int rc, idle;

	if ((rc = sl_tgu_offset(u, &offset)) != 0)
		return rc;
	while (!stop) {
		idle = 0;
		tg_failed = 0;
		rc = batch(u, tg, &offset, poll, &idle);
		if (!fflag || (rc != 0 && (!tg_failed || rc == SL_EX_NOPERM ||
		    last_code == 404 || last_code == 409)))
			return rc;
		if (rc == 0 && !idle) {
			wait = 1000;
			continue;
		}
		if (rc != 0)
			sl_warn("trying again in %ld s", wait / 1000);
		nap(wait);
		if (wait < 60000)
			wait *= 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct sl_tgu *u = NULL;
	struct sl_tg *tg;
	struct sl_db *db;
	char *lock;
	int rc, got, tries;

	sl_init("tg-fetch");
	options(argc, argv);
	tg = sl_tg_open();
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	/* a run killed a moment ago may still hold it (its server session) */
	lock = sl_asprintf("tg-fetch:%s", tg->bot);
	for (tries = 0; (got = sl_db_trylock(db, lock)) == 0 && tries < 20;
	    tries++)
		nap(100);
	free(lock);
	if (got <= 0) {
		if (got == 0)
			sl_error("another tg-fetch is running for bot %s",
			    tg->bot);
		else
			sl_error("%s", sl_db_error(db));
		rc = got == 0 ? SL_EX_TEMPFAIL : sl_db_exit_code(db);
		goto out;
	}
	if (!(u = sl_tgu_new(db, tg, repflag, &rc)))
		goto out;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;	/* stdout and the ledger go on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (wflag && (rc = delete_webhook(tg)) != 0)
		goto out;
	rc = sl_tgu_process(u);
	if (rc == 0 && !pflag)
		rc = fetch(u, tg);
	if (rc == 0 && !fflag && sl_tgu_rejected(u) > 0)
		rc = SL_EX_REJECT;
out:
	sl_tgu_free(u);
	sl_db_close(db);
	sl_tg_close(tg);
	sl_http_cleanup();
	if (sl_out_close() != 0 && (rc == 0 || rc == SL_EX_REJECT))
		rc = SL_EX_IOERR;
	return rc;
}
