/*
 * tg-send: deliver message.out records to Telegram, each idempotency key
 * at most once, strictly in order per chat, at a human pace.
 *
 * In: message.out.  Out: one message.sent or message.failed per record
 * (and per ledger row taken up).  The sending machinery (ledger rows
 * stored before any call, claims, per-chat queues, pace, retries, what a
 * crash leaves behind) is lib/sendq.c's sl_outbox; this file is what is
 * Telegram about it:
 *
 *   - text is split into messages of at most 4096 UTF-16 units
 *     (lib/tg_text.c); plain text unless --html or "parse_mode":"HTML",
 *     in which case it is sent as the HTML it is; when Telegram cannot
 *     parse it ("can't parse entities") the part is sent again at once as
 *     plain text (tags removed), and so is the rest of the message;
 *   - sendMessage is called once per try (max_tries 1, not idempotent),
 *     so a lost answer is never repeated by the HTTP layer: read timeouts,
 *     dropped connections and 502/504 are "uncertain";
 *   - 429 waits retry_after in that chat only; other temporary failures
 *     back off; 403 marks the prospect unreachable; 401 stops everything
 *     (77); a group upgraded to a supergroup is followed once
 *     (parameters.migrate_to_chat_id);
 *   - typing: sendChatAction "typing" (with business_connection_id) at
 *     once and every 4 s while the typing delay lasts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonl.h"
#include "sendq.h"
#include "sl.h"
#include "tg.h"
#include "tg_text.h"

static const char usage_text[] =
    "usage: tg-send [-v] [--db URL] [--pending] [--resend-uncertain] "
    "[--html]\n"
    "               [--no-delay] [--typing-cps N] [--max-delay S]\n"
    "               [--chat-interval MS] [--rate N]\n"
    "       tg-send -h\n";

#define ACTION_MS 4000		/* "typing" lasts 5 s */
#define MIN_DELAY_MS 1000
#define MAX_PARTS 10

static const char *dbflag;
static int pflag, rflag, hflag, nflag;
static double cps = 15, rate = 30;
static long max_delay_ms = 8000, interval_ms = 1000;

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
	sl_outbox_stop();
}

/* chat_id, reply_to: a number when it is one, else the string. */
static jv
id_param(const char *s)
{
	const char *p = s + (*s == '-');

	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 15)
		return jv_number((double)strtoll(s, NULL, 10));
	return jv_string(s);
}

static int
is_html(const struct sl_out *m)
{
	const char *mode;

	return sl_get_str(m->meta, "parse_mode", &mode) == 1;
}

static int
tg_prepare(void *ctx, jv rec, struct sl_out *m, const char **why)
{
	const char *mode = NULL;
	int html, r;

	(void)ctx;
	if (jv_get_kind(rec) == JV_KIND_OBJECT) {
		r = sl_get_str(rec, "parse_mode", &mode);
		if (r < 0 || (r == 1 && *mode && strcmp(mode, "HTML") != 0)) {
			*why = "'parse_mode': expected \"HTML\" or none";
			return -1;
		}
		html = hflag || (r == 1 && *mode);
		if (html)
			m->meta = sl_set(m->meta, "parse_mode",
			    jv_string("HTML"));
	} else {
		html = is_html(m);
		if (sl_get_bool(m->meta, "html_fallback", &r) == 1 && r) {
			m->degraded = 1;
			m->base = sl_set(m->base, "html_fallback", jv_true());
		}
	}
	m->parts = sl_tg_split(m->text, SL_TG_TEXT_MAX, html, &m->nparts);
	if (m->nparts > MAX_PARTS) {
		*why = "'text': too long (more than 10 messages)";
		return -1;
	}
	return 0;
}

static long
tg_delay(void *ctx, const struct sl_out *m, size_t k)
{
	(void)ctx;
	return sl_tg_typing_ms(m->parts[k], cps, MIN_DELAY_MS, max_delay_ms);
}

static void
tg_action(void *ctx, const struct sl_out *m)
{
	struct sl_tg_opts o = { 5000, 1, 1, 0 };
	struct sl_tg_error err;
	jv p, r;

	p = sl_set(sl_set(jv_object(), "chat_id", id_param(m->chat)),
	    "action", jv_string("typing"));
	if (m->bc)
		p = sl_set(p, "business_connection_id", jv_string(m->bc));
	r = sl_tg_call(ctx, "sendChatAction", p, &o, &err);
	if (!jv_is_valid(r))
		sl_info("typing in chat %s: %s", m->chat, err.description);
	jv_free(r);
}

/* One sendMessage of part k to chat; plain: without markup. */
static jv
call(struct sl_tg *tg, const struct sl_out *m, size_t k, const char *chat,
    int plain, struct sl_tg_error *err)
{
	struct sl_tg_opts o = { 0, 1, 0, 0 };
	char *text = plain ? sl_tg_html_to_plain(m->parts[k]) : NULL;
	jv p = sl_set(sl_set(jv_object(), "chat_id", id_param(chat)), "text",
	    jv_string(text ? text : m->parts[k]));

	free(text);
	if (!plain && is_html(m))
		p = sl_set(p, "parse_mode", jv_string("HTML"));
	if (m->bc)
		p = sl_set(p, "business_connection_id", jv_string(m->bc));
	if (k == 0 && m->reply_to)
		p = sl_set(p, "reply_parameters", sl_set(sl_set(jv_object(),
		    "message_id", id_param(m->reply_to)),
		    "allow_sending_without_reply", jv_true()));
	return sl_tg_call(tg, "sendMessage", p, &o, err);
}

static void
tg_send(void *ctx, struct sl_out *m, size_t k, struct sl_send_result *r)
{
	struct sl_tg_error e;
	const char *chat = m->chat;
	jv res = call(ctx, m, k, chat, m->degraded, &e);

	if (!jv_is_valid(res) && e.code == 400 && e.migrate_to[0]) {
		/* the group became a supergroup: follow it once */
		snprintf(r->moved_to, sizeof r->moved_to, "%s", e.migrate_to);
		chat = r->moved_to;
		jv_free(res);
		res = call(ctx, m, k, chat, m->degraded, &e);
	}
	if (!jv_is_valid(res) && e.code == 400 && !m->degraded &&
	    strstr(e.description, "can't parse entities")) {
		sl_warn("'%s': Telegram cannot parse the HTML (%s); sending it "
		    "as plain text", m->key, e.description);
		m->degraded = 1;
		m->meta = sl_set(m->meta, "html_fallback", jv_true());
		m->base = sl_set(m->base, "html_fallback", jv_true());
		jv_free(res);
		res = call(ctx, m, k, chat, 1, &e);
	}
	if (jv_is_valid(res)) {
		r->outcome = SL_SEND_OK;
		if (jv_get_kind(res) != JV_KIND_OBJECT ||
		    sl_get_id(res, "message_id", &r->id) != 1)
			r->id = jv_null();
		jv_free(res);
		return;
	}
	jv_free(res);
	snprintf(r->code, sizeof r->code, e.code ? "%ld" : "network", e.code);
	snprintf(r->message, sizeof r->message, "%s", e.description);
	r->retry_after_ms = e.retry_after_ms;
	if (e.class == SL_HTTP_UNCERTAIN) {
		r->outcome = SL_SEND_UNCERTAIN;
	} else if (e.code == 401) {
		sl_error("Telegram rejected the bot token "
		    "(TELEGRAM_BOT_TOKEN): %s", e.description);
		r->outcome = SL_SEND_FATAL;
		r->status = SL_EX_NOPERM;
	} else if (e.class == SL_HTTP_TEMPORARY) {
		r->outcome = SL_SEND_RETRY;
	} else {
		r->outcome = SL_SEND_FAILED;
		r->unreachable = e.code == 403;
	}
}

static double
number(const char *opt, const char *s, double min, double max)
{
	double v;

	if (sl_option_number(opt, s, min, max, 0, &v) < 0)
		usage(SL_EX_USAGE);
	return v;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "chat-interval", required_argument, NULL, 'i' },
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "html", no_argument, NULL, 'H' },
		{ "max-delay", required_argument, NULL, 'm' },
		{ "no-delay", no_argument, NULL, 'n' },
		{ "pending", no_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'R' },
		{ "resend-uncertain", no_argument, NULL, 'r' },
		{ "typing-cps", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cps = number("--typing-cps", optarg, 0.1, 10000);
			break;
		case 'd': dbflag = optarg; break;
		case 'h': usage(SL_EX_OK);
		case 'H': hflag = 1; break;
		case 'i':
			interval_ms = (long)number("--chat-interval", optarg, 0,
			    3600000);
			break;
		case 'm':
			max_delay_ms = (long)(1000 * number("--max-delay",
			    optarg, 0, 3600));
			break;
		case 'n': nflag = 1; break;
		case 'p': pflag = 1; break;
		case 'R': rate = number("--rate", optarg, 0, 100000); break;
		case 'r': rflag = 1; break;
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
}

int
main(int argc, char **argv)
{
	static const struct sl_outbox_ops ops = {
		"telegram", tg_prepare, tg_delay, tg_action, tg_send,
	};
	struct sl_outbox_opts o;
	struct sigaction sa;
	struct sl_tg *tg;
	struct sl_db *db;
	int st;

	sl_init("tg-send");
	options(argc, argv);
	tg = sl_tg_open();
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	memset(&o, 0, sizeof o);
	o.bot = tg->bot;
	o.pending = pflag;
	o.resend_uncertain = rflag;
	o.no_delay = nflag;
	o.chat_interval_ms = interval_ms;
	o.action_ms = ACTION_MS;
	o.rate = rate;
	st = sl_outbox_run(db, &ops, tg, &o);

	if (sl_out_close() != 0)
		st = SL_EX_IOERR;
	sl_db_close(db);
	sl_tg_close(tg);
	sl_http_cleanup();
	return st;
}
