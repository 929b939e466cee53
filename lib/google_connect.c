/*
 * google_connect.c: the loopback OAuth flow for a terminal
 * (sl_google_connect_loopback in google.h).  The only file of the library
 * that needs libmicrohttpd; commands that call it link -lmicrohttpd.
 *
 * A one-request web server listens on 127.0.0.1 only, on
 * $GOOGLE_REDIRECT_PORT or a free port, and runs in this thread
 * (MHD_run_wait), so the code exchange happens inside the request handler
 * and the browser is told how it ended.  The state is random per run and
 * compared in constant time; a redirect with a wrong state ends the flow
 * (someone else is talking to the port).  Other paths (a browser's
 * /favicon.ico) get a 404 and leave the flow waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "google.h"
#include "rep.h"
#include "sl.h"

#define DEFAULT_TIMEOUT_S 300
#define GRACE_MS 2000		/* to deliver the last page */

struct flow {
	struct sl_google *g;
	struct sl_db *db;
	const struct sl_rep *rep;
	const char *redirect, *verifier, *state;
	struct sl_svc_err *err;
	int done, rc;
};

static const char page_ok[] = "<!doctype html><html><head><meta "
    "charset=\"utf-8\"><title>salesline</title></head><body><p>The "
    "calendar is connected. You can close this tab.</p></body></html>\n";
static const char page_fail[] = "<!doctype html><html><head><meta "
    "charset=\"utf-8\"><title>salesline</title></head><body><p>The "
    "calendar was not connected; the terminal says why.</p></body></html>\n";
static const char page_wait[] = "<!doctype html><html><head><meta "
    "charset=\"utf-8\"><title>salesline</title></head><body><p>Nothing "
    "here.</p></body></html>\n";

/* Equal strings, in a time that does not depend on where they differ. */
static int
same_state(const char *want, const char *got)
{
	size_t i, n = strlen(want), m = got ? strlen(got) : 0;
	volatile unsigned char d = n != m;

	for (i = 0; i < n; i++)
		d |= (unsigned char)want[i] ^
		    (unsigned char)(i < m ? got[i] : 0);
	return d == 0;
}

static enum MHD_Result
page(struct MHD_Connection *c, unsigned status, const char *html, int last)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(html), (void *)html,
	    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (last)
		MHD_add_response_header(r, "Connection", "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int
fail(struct sl_svc_err *err, const char *reason, const char *msg)
{
	return sl_svc_fail(err, SL_HTTP_PERMANENT, reason, "%s", msg);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct flow *f = cls;
	const char *code, *state, *error;
	char msg[300];

	(void)version;
	(void)data;
	(void)size;
	(void)ctx;
	if (strcmp(method, "GET") != 0)
		return page(c, MHD_HTTP_METHOD_NOT_ALLOWED, page_wait, 0);
	if (strcmp(url, "/") != 0 || f->done)
		return page(c, MHD_HTTP_NOT_FOUND, page_wait, 0);
	code = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "code");
	state = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
	error = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "error");
	if (!code && !error)
		return page(c, MHD_HTTP_BAD_REQUEST, page_wait, 0);
	f->done = 1;
	if (!same_state(f->state, state)) {
		f->rc = fail(f->err, "bad_state", "the browser came back with "
		    "a wrong state: not our consent page; try again");
		return page(c, MHD_HTTP_BAD_REQUEST, page_fail, 1);
	}
	if (error) {
		snprintf(msg, sizeof msg, "Google did not grant access to the "
		    "calendar of '%s': %.64s", f->rep->name, error);
		f->rc = fail(f->err, strcmp(error, "access_denied") == 0 ?
		    "access_denied" : "consent_failed", msg);
		return page(c, MHD_HTTP_OK, page_fail, 1);
	}
	sl_secret_add(code);
	f->rc = sl_google_exchange(f->g, f->db, f->rep, code, f->redirect,
	    f->verifier, f->err);
	return page(c, MHD_HTTP_OK, f->rc == 0 ? page_ok : page_fail, 1);
}

int
sl_google_connect_loopback(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, long timeout_s, FILE *tell,
    struct sl_svc_err *err)
{
	struct flow f = { 0 };
	struct sockaddr_in sin = { 0 };
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	const union MHD_DaemonInfo *conns;
	char msg[300], *redirect = NULL, *verifier = NULL, *state = NULL;
	char *url = NULL;
	long long port, end;
	int rc = -1;

	memset(err, 0, sizeof *err);
	port = sl_env_int("GOOGLE_REDIRECT_PORT", 0, 0, 65535);
	if (timeout_s <= 0)
		timeout_s = DEFAULT_TIMEOUT_S;
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(sl_verbose ? MHD_USE_ERROR_LOG : 0,
	    (uint16_t)port, NULL, NULL, on_request, &f, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
	if (!d) {
		snprintf(msg, sizeof msg, "cannot listen on 127.0.0.1:%lld "
		    "(GOOGLE_REDIRECT_PORT): %s", port, strerror(errno));
		return fail(err, "listen", msg);
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port) {
		fail(err, "listen", "cannot tell the port of the redirect "
		    "listener");
		goto out;
	}
	if (sl_google_pkce(&verifier, &state) < 0) {
		fail(err, "random", "no random bytes for the consent request");
		goto out;
	}
	sl_secret_add(verifier);
	redirect = sl_asprintf("http://127.0.0.1:%u/", (unsigned)info->port);
	if (!(url = sl_google_auth_url(g, redirect, verifier, state))) {
		fail(err, "random", "cannot build the consent URL");
		goto out;
	}
	f.g = g;
	f.db = db;
	f.rep = rep;
	f.redirect = redirect;
	f.verifier = verifier;
	f.state = state;
	f.err = err;
	if (fprintf(tell, "open this URL to connect the calendar: %s\n",
	    url) < 0 || fflush(tell) != 0) {
		fail(err, "io", "cannot write the consent URL");
		goto out;
	}
	end = sl_mono_ms() + (long long)timeout_s * 1000;
	while (!f.done && sl_mono_ms() < end)
		MHD_run_wait(d, 500);
	if (!f.done) {
		snprintf(msg, sizeof msg, "no answer from the browser within "
		    "%ld s", timeout_s);
		fail(err, "timeout", msg);
		goto out;
	}
	/* Let the last page reach the browser. */
	end = sl_mono_ms() + GRACE_MS;
	while (sl_mono_ms() < end) {
		conns = MHD_get_daemon_info(d,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!conns || conns->num_connections == 0)
			break;
		MHD_run_wait(d, 100);
	}
	rc = f.rc;
out:
	MHD_stop_daemon(d);
	free(url);
	free(redirect);
	free(verifier);
	free(state);
	return rc;
}
