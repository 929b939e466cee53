/*
 * tg-webhook: receive a Telegram bot's updates by webhook, each exactly
 * once.
 *
 * Telegram POSTs every update to PATH; tg-webhook checks the
 * X-Telegram-Bot-Api-Secret-Token header against $TELEGRAM_WEBHOOK_SECRET
 * in constant time, stores the update in the ledger (tg_update.h) and
 * answers 200 only after the commit; 503 when the ledger is busy or down,
 * so that Telegram delivers it again.  Once the answer is out, the stored
 * updates are normalised and their records written on stdout, as tg-fetch
 * writes them.
 *
 * libmicrohttpd runs in this thread (MHD_run_wait), so requests are
 * handled one at a time and libjq values never cross threads.  SIGTERM or
 * SIGINT stops it within a second, after the request at hand.
 *
 * Environment: TELEGRAM_BOT_TOKEN (or _FILE), TELEGRAM_API_URL,
 * TELEGRAM_WEBHOOK_SECRET (or _FILE), SALESLINE_DB, SALESLINE_REP.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "db.h"
#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "tg.h"
#include "tg_update.h"

#define BODY_MAX (16 * 1024 * 1024)
#define RETRY_MS 5000		/* normalising again after a busy ledger */

static const char usage_text[] =
    "usage: tg-webhook [-v] [--db URL] [--listen ADDR:PORT] [--path PATH]\n"
    "                  [--register URL] [--port-file FILE] [--rep NAME]\n"
    "                  [--insecure-no-secret]\n"
    "       tg-webhook -h\n";

static const char *dbflag, *repflag, *regflag, *portfile;
static const char *listenflag = "127.0.0.1:8443", *pathflag = "/telegram";
static int insecure;

static volatile sig_atomic_t stop;
static char *secret;
static struct sl_tgu *tgu;
static int work;		/* stored updates wait to be normalised */

/* One request's body. */
struct req {
	char *body;
	size_t len;
	int big;
	int stored;
};

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
	stop = 1;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "insecure-no-secret", no_argument, NULL, 'I' },
		{ "listen", required_argument, NULL, 'l' },
		{ "path", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "register", required_argument, NULL, 'R' },
		{ "rep", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dbflag = optarg; break;
		case 'h': usage(SL_EX_OK);
		case 'I': insecure = 1; break;
		case 'l': listenflag = optarg; break;
		case 'p': pathflag = optarg; break;
		case 'P': portfile = optarg; break;
		case 'r': repflag = optarg; break;
		case 'R': regflag = optarg; break;
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
	if (pathflag[0] != '/') {
		sl_error("--path must start with '/', not '%s'", pathflag);
		usage(SL_EX_USAGE);
	}
}

/* Equal strings, in a time that does not depend on where they differ. */
static int
same_secret(const char *got)
{
	size_t i, n = strlen(secret), m = got ? strlen(got) : 0;
	volatile unsigned char d = n != m;

	for (i = 0; i < n; i++)
		d |= (unsigned char)secret[i] ^
		    (unsigned char)(i < m ? got[i] : 0);
	return d == 0;
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, const char *body,
    const char *retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The request's body is complete: store it, then answer. */
static enum MHD_Result
deliver(struct MHD_Connection *c, struct req *q)
{
	jv upd;
	int rc;

	if (q->big)
		return answer(c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "{\"ok\":false,\"error\":\"too large\"}", NULL);
	upd = sl_parse(q->body ? q->body : "", q->len);
	if (jv_get_kind(upd) != JV_KIND_OBJECT) {
		sl_error("a request that is not a JSON object: rejected");
		jv_free(upd);
		return answer(c, MHD_HTTP_BAD_REQUEST,
		    "{\"ok\":false,\"error\":\"not an update\"}", NULL);
	}
	rc = sl_tgu_store_one(tgu, upd);
	if (rc == SL_EX_DATAERR)
		return answer(c, MHD_HTTP_BAD_REQUEST,
		    "{\"ok\":false,\"error\":\"not an update\"}", NULL);
	if (rc == SL_EX_TEMPFAIL)
		return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "{\"ok\":false,\"error\":\"ledger busy\"}", "5");
	if (rc != 0)
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "{\"ok\":false,\"error\":\"ledger failed\"}", NULL);
	q->stored = 1;
	return answer(c, MHD_HTTP_OK, "", NULL);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct req *q = *ctx;

	(void)cls;
	(void)version;
	if (!q) {
		if (strcmp(url, pathflag) != 0)
			return answer(c, MHD_HTTP_NOT_FOUND,
			    "{\"ok\":false,\"error\":\"not found\"}", NULL);
		if (strcmp(method, "POST") != 0)
			return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "{\"ok\":false,\"error\":\"POST only\"}", NULL);
		if (secret && !same_secret(MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, "X-Telegram-Bot-Api-Secret-Token"))) {
			sl_warn("a request with a wrong secret token: "
			    "rejected");
			return answer(c, MHD_HTTP_UNAUTHORIZED,
			    "{\"ok\":false,\"error\":\"unauthorized\"}", NULL);
		}
		*ctx = sl_calloc(1, sizeof *q);
		return MHD_YES;
	}
	if (*size > 0) {
		if (!q->big && *size <= BODY_MAX - q->len) {
			q->body = sl_realloc(q->body, q->len + *size + 1);
			memcpy(q->body + q->len, data, *size);
			q->len += *size;
		} else {
			q->big = 1;
		}
		*size = 0;
		return MHD_YES;
	}
	return deliver(c, q);
}

static void
completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (q) {
		work |= q->stored;	/* normalised now that 200 is out */
		free(q->body);
		free(q);
		*ctx = NULL;
	}
}

/*
 * A listening socket for "ADDR:PORT" ("[::1]:8443"), or -1 after a
 * message with *code 64 (not an address) or 71 (cannot listen).
 */
static int
listen_on(const char *spec, unsigned *port, int *code)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const char *colon = strrchr(spec, ':');
	char *host;
	int fd = -1, one = 1, rc;

	*code = SL_EX_USAGE;
	if (!colon || colon == spec || !colon[1]) {
		sl_error("--listen: expected ADDR:PORT, not '%s'", spec);
		return -1;
	}
	host = sl_strndup(spec, (size_t)(colon - spec));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		sl_error("--listen: expected ADDR:PORT, not '%s': %s", spec,
		    gai_strerror(rc));
	} else if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		sl_error("cannot listen on '%s': %s", spec, strerror(errno));
		*code = SL_EX_OSERR;
		if (fd >= 0)
			close(fd);
		fd = -1;
	} else {
		*port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	}
	if (ai)
		freeaddrinfo(ai);
	free(host);
	return fd;
}

static int
secret_check(void)
{
	secret = sl_secret("TELEGRAM_WEBHOOK_SECRET");
	if (!secret && !insecure) {
		sl_error("TELEGRAM_WEBHOOK_SECRET (or "
		    "TELEGRAM_WEBHOOK_SECRET_FILE) is not set; "
		    "--insecure-no-secret accepts any request");
		return SL_EX_CONFIG;
	}
	if (secret && (strlen(secret) > 256 || !*secret || strspn(secret,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "_-") != strlen(secret))) {
		sl_error("TELEGRAM_WEBHOOK_SECRET: 1 to 256 characters of "
		    "A-Z, a-z, 0-9, _ and - (Telegram's rule)");
		return SL_EX_CONFIG;
	}
	return 0;
}

static int
register_hook(struct sl_tg *tg)
{
	struct sl_tg_error err;
	jv p, r;

	p = sl_set(jv_object(), "url", jv_string(regflag));
	if (secret)
		p = sl_set(p, "secret_token", jv_string(secret));
	p = sl_set(p, "allowed_updates", sl_tgu_allowed_updates());
	r = sl_tg_call(tg, "setWebhook", p, NULL, &err);
	if (!jv_is_valid(r)) {
		jv_free(r);
		sl_error("setWebhook: %s", err.description);
		return sl_tg_exit_code(&err);
	}
	jv_free(r);
	sl_info("webhook registered");
	return 0;
}

/* Serves until a signal; returns 0 or an exit status. */
static int
serve(struct MHD_Daemon *d)
{
	long long next = 0, now;
	int rc;

	while (!stop) {
		MHD_run_wait(d, 1000);
		now = (long long)time(NULL) * 1000;
		if (!work || now < next)
			continue;
		work = 0;
		rc = sl_tgu_process(tgu);
		if (rc == SL_EX_TEMPFAIL) {
			sl_warn("normalising again in %d s", RETRY_MS / 1000);
			work = 1;
			next = now + RETRY_MS;
		} else if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d = NULL;
	struct sigaction sa;
	struct sl_tg *tg;
	struct sl_db *db = NULL;
	unsigned port = 0;
	FILE *f;
	int fd = -1, rc;

	sl_init("tg-webhook");
	options(argc, argv);
	tg = sl_tg_open();
	if ((rc = secret_check()) != 0)
		goto out;
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	if (!(tgu = sl_tgu_new(db, tg, repflag, &rc)))
		goto out;
	if ((fd = listen_on(listenflag, &port, &rc)) < 0)
		goto out;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	d = MHD_start_daemon(sl_verbose ? MHD_USE_ERROR_LOG : 0, 0, NULL,
	    NULL, handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
	if (!d) {
		sl_error("cannot start the HTTP server on '%s'", listenflag);
		close(fd);
		rc = SL_EX_OSERR;
		goto out;
	}
	sl_info("listening on %.*s:%u", (int)(strrchr(listenflag, ':') -
	    listenflag), listenflag, port);
	if (portfile && (!(f = fopen(portfile, "w")) ||
	    fprintf(f, "%u\n", port) < 0 || fclose(f) != 0)) {
		sl_error("cannot write '%s': %s", portfile, strerror(errno));
		rc = SL_EX_IOERR;
		goto out;
	}
	if (regflag && (rc = register_hook(tg)) != 0)
		goto out;
	if ((rc = sl_tgu_process(tgu)) == 0)	/* what a crash left */
		rc = serve(d);
	if (rc == 0 && work)
		rc = sl_tgu_process(tgu);
out:
	if (d)
		MHD_stop_daemon(d);
	sl_tgu_free(tgu);
	sl_db_close(db);
	sl_tg_close(tg);
	free(secret);
	sl_http_cleanup();
	if (sl_out_close() != 0 && rc == 0)
		rc = SL_EX_IOERR;
	return rc;
}
