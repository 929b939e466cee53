/*
 * Unit tests for lib/http.c against the loopback emulator.
 *
 * Starts $SL_BUILD/tests/fake/fake-api (./tests/fake/fake-api without
 * SL_BUILD), scripts its answers through POST /_fake/rules, and checks
 * the classification, the retries and their waits, and the error texts.
 * A few answers no real server sends (a missing status line, broken
 * headers) come from a one-shot raw socket server.  Backoff is scaled
 * down with SALESLINE_HTTP_BACKOFF_SCALE; the server-requested waits are
 * real, so the run takes a few seconds.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "tap.h"
#include "fake_client.h"

#define TOKEN "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"

static char url[512];
static long elapsed;		/* ms taken by the last run() */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A request for path on the fake, with the test's defaults.  The URL is
 * in a static buffer: one such request at a time.
 */
static struct sl_http_req
req_for(const char *method, const char *path)
{
	struct sl_http_req rq;

	memset(&rq, 0, sizeof rq);
	snprintf(url, sizeof url, "%s%s", fake_base, path);
	rq.method = method;
	rq.url = url;
	rq.timeout_ms = 5000;
	rq.connect_timeout_ms = 2000;
	return rq;
}

static enum sl_http_class
run(const struct sl_http_req *rq, struct sl_http_resp *resp)
{
	long long t0 = now_ms();
	enum sl_http_class c = sl_http_do(rq, resp);

	elapsed = (long)(now_ms() - t0);
	return c;
}

static void
control(const char *path, const char *body)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;
	char u[128];

	memset(&rq, 0, sizeof rq);
	snprintf(u, sizeof u, "%s%s", fake_base, path);
	rq.url = u;
	rq.body = body ? body : "";
	if (run(&rq, &resp) != SL_HTTP_OK)
		diag("%s failed: %s: %s", path, resp.error, resp.body);
	sl_http_resp_free(&resp);
}

static void
rules(const char *lines)
{
	control("/_fake/reset", NULL);
	control("/_fake/rules", lines);
}

static const char *
header(const struct sl_http_resp *resp, const char *name)
{
	const char *v = NULL;

	return sl_get_str(resp->headers, name, &v) == 1 ? v : NULL;
}

static int
contains(const char *s, const char *part)
{
	return s && strstr(s, part) != NULL;
}

static void
test_ok(void)
{
	struct sl_http_req rq = req_for("GET", "/bot" TOKEN "/getMe");
	struct sl_http_resp resp;
	const char *s = NULL;
	jv v, r = jv_invalid();

	control("/_fake/reset", NULL);
	is_int(run(&rq, &resp), SL_HTTP_OK, "getMe: ok");
	is_int(resp.status, 200, "getMe: status 200");
	is_int(resp.tries, 1, "getMe: one try");
	is_int(sl_http_exit_code(&resp), 0, "getMe: exit code 0");
	is_str(header(&resp, "content-type"), "application/json",
	    "getMe: headers by lower-case name");
	v = sl_http_json(&resp);
	ok(jv_get_kind(v) == JV_KIND_OBJECT && sl_get_obj(v, "result", &r) == 1
	    && sl_get_str(r, "username", &s) == 1 &&
	    strcmp(s, "acme_sales_bot") == 0, "getMe: JSON body parsed");
	jv_free(r);
	jv_free(v);
	sl_http_resp_free(&resp);

	/* POST with a JSON body, method name in another case. */
	rq = req_for("POST", "/bot" TOKEN "/GETME");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_OK, "POST getme: ok");
	sl_http_resp_free(&resp);
}

static void
test_server_waits(void)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;

	rules("{\"path\":\"/bot*/getMe\",\"times\":1,\"status\":429,"
	    "\"headers\":{\"Retry-After\":\"1\"},\"body\":{\"ok\":false,"
	    "\"error_code\":429,\"description\":\"Too Many Requests\"}}");
	rq = req_for("POST", "/bot" TOKEN "/getMe");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_OK, "429 Retry-After: 1: then ok");
	is_int(resp.tries, 2, "429 Retry-After: 1: two tries");
	ok(elapsed >= 1000 && elapsed < 3000,
	    "429 Retry-After: 1: waited a second (%ld ms)", elapsed);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"times\":1,\"status\":429,"
	    "\"body\":{\"ok\":false,\"error_code\":429,\"description\":"
	    "\"Too Many Requests: retry after 1\",\"parameters\":"
	    "{\"retry_after\":1}}}");
	is_int(run(&rq, &resp), SL_HTTP_OK,
	    "429 parameters.retry_after: then ok");
	is_int(resp.tries, 2, "429 parameters.retry_after: two tries");
	ok(elapsed >= 1000 && elapsed < 3000,
	    "429 parameters.retry_after: waited a second (%ld ms)", elapsed);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"times\":1,\"status\":429,"
	    "\"headers\":{\"retry-after-ms\":\"200\",\"Retry-After\":\"5\"}}");
	is_int(run(&rq, &resp), SL_HTTP_OK, "429 retry-after-ms: then ok");
	ok(resp.tries == 2 && elapsed >= 200 && elapsed < 2000,
	    "429 retry-after-ms: 200 ms wins over Retry-After (%ld ms)",
	    elapsed);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"status\":429,\"headers\":"
	    "{\"Retry-After\":\"30\"},\"body\":{\"ok\":false,\"error_code\":"
	    "429,\"description\":\"Too Many Requests: retry after 30\","
	    "\"parameters\":{\"retry_after\":30}}}");
	rq.max_wait_ms = 5000;
	is_int(run(&rq, &resp), SL_HTTP_TEMPORARY,
	    "wait over max_wait_ms: temporary");
	is_int(resp.tries, 1, "wait over max_wait_ms: not retried");
	is_int(resp.retry_after_ms, 30000, "wait over max_wait_ms: "
	    "retry_after_ms for the caller");
	ok(elapsed < 1000, "wait over max_wait_ms: no sleep (%ld ms)",
	    elapsed);
	is_int(sl_http_exit_code(&resp), 75, "429: exit code 75");
	ok(contains(resp.error, "HTTP 429 Too Many Requests: retry after 30"),
	    "429: error text '%s'", resp.error);
	ok(!contains(resp.error, TOKEN) && !contains(resp.error, "AAHdq") &&
	    contains(resp.error, "/…/getMe"), "error text hides the token");
	sl_http_resp_free(&resp);
}

static void
test_5xx(void)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;

	rules("{\"path\":\"/v1/messages\",\"status\":503,\"body\":"
	    "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
	    "\"message\":\"down\"}}}");
	rq = req_for("POST", "/v1/messages");
	rq.body = "{\"model\":\"m\"}";
	rq.max_tries = 3;
	is_int(run(&rq, &resp), SL_HTTP_TEMPORARY, "503: temporary");
	is_int(resp.tries, 3, "503: three tries");
	is_int(fake_received(), 3, "503: the server got three requests");
	ok(elapsed < 2000, "503: scaled backoff (%ld ms)", elapsed);
	ok(contains(resp.error, "HTTP 503 Service Unavailable: down (3 tries)"),
	    "503: error text '%s'", resp.error);
	is_int(resp.retry_after_ms, -1, "503: no server wait");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/v1/messages\",\"status\":529,\"times\":1}");
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT,
	    "529 then 404: retried, then permanent");
	is_int(resp.tries, 2, "529: retried");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/v1/messages\",\"status\":503,\"headers\":"
	    "{\"x-should-retry\":\"false\"}}");
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT,
	    "503 with x-should-retry: false: permanent");
	is_int(resp.tries, 1, "x-should-retry: false: not retried");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/v1/messages\",\"status\":400,\"headers\":"
	    "{\"x-should-retry\":\"true\"}}");
	rq.max_tries = 2;
	is_int(run(&rq, &resp), SL_HTTP_TEMPORARY,
	    "400 with x-should-retry: true: temporary");
	is_int(resp.tries, 2, "x-should-retry: true: retried");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/sendMessage\",\"status\":502,\"body\":"
	    "\"<html>Bad Gateway</html>\"}");
	rq = req_for("POST", "/bot" TOKEN "/sendMessage");
	rq.body = "{\"chat_id\":1,\"text\":\"hi\"}";
	is_int(run(&rq, &resp), SL_HTTP_UNCERTAIN,
	    "502 non-idempotent: uncertain");
	is_int(resp.tries, 1, "502 non-idempotent: not retried");
	is_int(sl_http_exit_code(&resp), 75, "502: exit code 75");
	ok(contains(resp.error, "HTTP 502 Bad Gateway") &&
	    contains(resp.error, "may have been delivered"),
	    "502: error text '%s'", resp.error);
	is_str(resp.body, "<html>Bad Gateway</html>", "502: body kept");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"status\":502,\"times\":1}");
	rq = req_for("POST", "/bot" TOKEN "/getMe");
	rq.idempotent = 1;
	is_int(run(&rq, &resp), SL_HTTP_OK, "502 idempotent: retried, ok");
	is_int(resp.tries, 2, "502 idempotent: two tries");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/x\",\"status\":504}");
	rq = req_for("GET", "/x");
	rq.max_tries = 2;
	is_int(run(&rq, &resp), SL_HTTP_TEMPORARY,
	    "504 on GET (idempotent): temporary after retries");
	is_int(resp.tries, 2, "504 on GET: retried");
	sl_http_resp_free(&resp);
}

static void
test_4xx(void)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;

	control("/_fake/reset", NULL);
	rq = req_for("POST", "/bot999:wrongwrongwrongwrongwrong/getMe");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT, "401: permanent");
	is_int(resp.status, 401, "401: status");
	is_int(resp.tries, 1, "401: not retried");
	is_int(sl_http_exit_code(&resp), 77, "401: exit code 77");
	ok(contains(resp.error, "HTTP 401 Unauthorized") &&
	    !contains(resp.error, "wrongwrong") &&
	    !contains(resp.error, "999:"),
	    "401: error text without the token '%s'", resp.error);
	sl_http_resp_free(&resp);

	rq = req_for("POST", "/bot" TOKEN "/noSuchMethod");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT, "404: permanent");
	is_int(sl_http_exit_code(&resp), 69, "404: exit code 69");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/sendMessage\",\"status\":400,\"body\":"
	    "{\"ok\":false,\"error_code\":400,\"description\":"
	    "\"Bad Request: chat not found\"}}\n"
	    "{\"path\":\"/bot*/getUpdates\",\"status\":409,\"body\":"
	    "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: "
	    "terminated by other getUpdates request\"}}\n"
	    "{\"path\":\"/bot*/deleteWebhook\",\"status\":403}\n"
	    "{\"path\":\"/moved\",\"status\":302,\"headers\":"
	    "{\"Location\":\"/elsewhere\"}}");
	rq = req_for("POST", "/bot" TOKEN "/sendMessage");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT, "400: permanent");
	ok(contains(resp.error, "HTTP 400 Bad Request: chat not found"),
	    "400: Telegram's description in the error '%s'", resp.error);
	sl_http_resp_free(&resp);

	rq = req_for("POST", "/bot" TOKEN "/getUpdates");
	rq.body = "{}";
	rq.idempotent = 1;
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT,
	    "409 (another poller): permanent, for the caller to judge");
	is_int(resp.tries, 1, "409: not retried");
	sl_http_resp_free(&resp);

	rq = req_for("POST", "/bot" TOKEN "/deleteWebhook");
	run(&rq, &resp);
	is_int(sl_http_exit_code(&resp), 77, "403: exit code 77");
	sl_http_resp_free(&resp);

	rq = req_for("GET", "/moved");
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT,
	    "302: permanent, not followed");
	is_int(fake_received(), 4, "302: the redirect was not followed");
	sl_http_resp_free(&resp);
}

static void
test_transport(void)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	char closed[256];
	jv v;
	int fd;

	rules("{\"path\":\"/bot*/sendMessage\",\"delay_ms\":2000,"
	    "\"body\":{\"ok\":true}}");
	rq = req_for("POST", "/bot" TOKEN "/sendMessage");
	rq.body = "{}";
	rq.timeout_ms = 300;
	is_int(run(&rq, &resp), SL_HTTP_UNCERTAIN,
	    "read timeout, non-idempotent: uncertain");
	ok(resp.tries == 1 && elapsed < 1500,
	    "read timeout: one try (%ld ms)", elapsed);
	ok(contains(resp.error, "no complete answer within 300 ms"),
	    "read timeout: error text '%s'", resp.error);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"delay_ms\":2000,\"times\":1}");
	rq = req_for("GET", "/bot" TOKEN "/getMe");
	rq.timeout_ms = 300;
	is_int(run(&rq, &resp), SL_HTTP_OK,
	    "read timeout on GET: retried, then ok");
	is_int(resp.tries, 2, "read timeout on GET: two tries");
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/sendMessage\",\"close\":\"before\","
	    "\"status\":200}");
	rq = req_for("POST", "/bot" TOKEN "/sendMessage");
	rq.body = "{}";
	is_int(run(&rq, &resp), SL_HTTP_UNCERTAIN,
	    "closed before an answer: uncertain");
	ok(resp.tries == 1 && contains(resp.error,
	    "connection closed without an answer"),
	    "closed before an answer: error text '%s'", resp.error);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/sendMessage\",\"close\":\"mid\","
	    "\"body\":{\"ok\":true,\"result\":{\"message_id\":17}}}");
	is_int(run(&rq, &resp), SL_HTTP_UNCERTAIN,
	    "closed in the middle of the answer: uncertain");
	ok(resp.tries == 1 && contains(resp.error, "closed"),
	    "closed mid-answer: error text '%s'", resp.error);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bot*/getMe\",\"malformed\":true}");
	rq = req_for("GET", "/bot" TOKEN "/getMe");
	is_int(run(&rq, &resp), SL_HTTP_OK, "malformed body: status ok");
	v = sl_http_json(&resp);
	ok(!jv_is_valid(v), "malformed body: sl_http_json invalid");
	jv_free(v);
	sl_http_resp_free(&resp);

	rules("{\"path\":\"/bin\",\"body\":\"\\u0000\\u00ff\\u0001z\"}");
	rq = req_for("GET", "/bin");
	run(&rq, &resp);
	ok(resp.class == SL_HTTP_OK && resp.body_len == 5 &&
	    memcmp(resp.body, "\0\xc3\xbf\1z", 5) == 0,
	    "binary body kept whole");
	v = sl_http_json(&resp);
	ok(!jv_is_valid(v), "binary body: not JSON");
	jv_free(v);
	sl_http_resp_free(&resp);

	/* 16 bytes 4.2 million times: just over the 64 MiB cap. */
	rules("{\"path\":\"/huge\",\"body\":\"0123456789abcdef\","
	    "\"repeat\":4200000}");
	rq = req_for("GET", "/huge");
	rq.timeout_ms = 30000;
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT, "huge body: permanent");
	ok(contains(resp.error, "response too large") && resp.body_len == 0,
	    "huge body: error text '%s'", resp.error);
	sl_http_resp_free(&resp);

	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sin, sizeof sin);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d/bot%s/sendMessage",
	    ntohs(sin.sin_port), TOKEN);
	memset(&rq, 0, sizeof rq);
	rq.url = closed;
	rq.body = "{}";
	rq.max_tries = 2;
	is_int(run(&rq, &resp), SL_HTTP_TEMPORARY,
	    "connection refused: temporary (nothing was sent)");
	is_int(resp.tries, 2, "connection refused: retried");
	is_int(sl_http_exit_code(&resp), 75, "connection refused: exit 75");
	ok(contains(resp.error, "cannot connect") &&
	    !contains(resp.error, TOKEN), "connection refused: error text '%s'",
	    resp.error);
	sl_http_resp_free(&resp);

	memset(&rq, 0, sizeof rq);
	rq.url = "http://no-such-host.invalid/x";
	rq.max_tries = 1;
	rq.connect_timeout_ms = 2000;	/* a hanging resolver: temporary */
	ok(run(&rq, &resp) == SL_HTTP_TEMPORARY,
	    "unknown host: temporary ('%s')", resp.error);
	sl_http_resp_free(&resp);

	rq.url = "ftp://127.0.0.1/x";
	is_int(run(&rq, &resp), SL_HTTP_PERMANENT, "ftp: permanent");
	sl_http_resp_free(&resp);
}

/*
 * A one-shot server that answers the next connection with raw bytes and
 * closes it.  Returns its port; *pid is the child to reap.
 */
static int
raw_server(const char *answer, pid_t *pid)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	char buf[4096];
	ssize_t n;
	int fd, c;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	if ((*pid = fork()) == 0) {
		alarm(10);
		if ((c = accept(fd, NULL, NULL)) >= 0) {
			n = read(c, buf, sizeof buf);
			(void)n;
			if (write(c, answer, strlen(answer)) < 0)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	close(fd);
	return ntohs(sin.sin_port);
}

static void
raw_case(const char *answer, enum sl_http_class want, const char *name)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;
	char u[64];
	pid_t pid;
	int port = raw_server(answer, &pid), st;

	if (port <= 0) {
		ok(0, "%s: cannot start a raw server", name);
		return;
	}
	snprintf(u, sizeof u, "http://127.0.0.1:%d/raw", port);
	memset(&rq, 0, sizeof rq);
	rq.url = u;
	rq.body = "{}";
	rq.max_tries = 1;
	rq.timeout_ms = 3000;
	run(&rq, &resp);
	ok(resp.class == want, "%s ('%s')", name,
	    resp.class == SL_HTTP_OK ? "ok" : resp.error);
	if (want == SL_HTTP_OK)
		ok(resp.body_len == 2 && strcmp(resp.body, "hi") == 0 &&
		    header(&resp, "x-ok") && strcmp(header(&resp, "x-ok"),
		    "yes") == 0, "%s: body and good headers kept", name);
	sl_http_resp_free(&resp);
	waitpid(pid, &st, 0);
}

static void
test_raw(void)
{
	raw_case("HTTP/1.1 200 OK\r\nX-Ok:   yes  \r\n"
	    "X-Bin: \x01\xff\xfe\r\nX-Empty:\r\nX-Long-Name-"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789012345678901234567890123456789012345678901234567890123456789"
	    ": v\r\nContent-Length: 2\r\n\r\nhi",
	    SL_HTTP_OK, "odd header lines: ok");
	raw_case("HTTP/1.1 200 OK\r\nBroken header line\r\n"
	    "Content-Length: 2\r\n\r\nhi", SL_HTTP_UNCERTAIN,
	    "a header line without a colon: uncertain");
	raw_case("hello, this is no HTTP\r\n\r\n", SL_HTTP_UNCERTAIN,
	    "no status line: uncertain");
	raw_case("HTTP/1.1 abc\r\n\r\n", SL_HTTP_UNCERTAIN,
	    "garbled status line: uncertain");
	raw_case("", SL_HTTP_UNCERTAIN, "nothing at all: uncertain");
	raw_case("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi",
	    SL_HTTP_UNCERTAIN, "short body: uncertain");
}

static void
test_retry_after(void)
{
	char date[64];
	struct tm tm;
	time_t t;
	long ms;
	jv h;

	h = sl_set(jv_object(), "retry-after-ms", jv_string("1500"));
	is_int(sl_http_retry_after(429, h, NULL), 1500, "retry-after-ms");
	h = sl_set(h, "retry-after", jv_string("7"));
	is_int(sl_http_retry_after(429, h, NULL), 1500,
	    "retry-after-ms before Retry-After");
	jv_free(h);
	h = sl_set(jv_object(), "retry-after", jv_string("7"));
	is_int(sl_http_retry_after(503, h, NULL), 7000, "Retry-After: 7");
	is_int(sl_http_retry_after(200, h, NULL), -1, "no wait on 2xx");
	jv_free(h);

	t = time(NULL) + 30;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	h = sl_set(jv_object(), "retry-after", jv_string(date));
	ms = sl_http_retry_after(429, h, NULL);
	ok(ms >= 28000 && ms <= 31000, "Retry-After as an HTTP date (%ld)",
	    ms);
	jv_free(h);
	h = sl_set(jv_object(), "retry-after",
	    jv_string("Wed, 21 Oct 2015 07:28:00 GMT"));
	is_int(sl_http_retry_after(429, h, NULL), 0, "a date in the past: 0");
	jv_free(h);
	h = sl_set(jv_object(), "retry-after", jv_string("soon"));
	is_int(sl_http_retry_after(429, h, NULL), -1, "garbage: none");
	jv_free(h);
	h = sl_set(jv_object(), "retry-after", jv_string("-5"));
	is_int(sl_http_retry_after(429, h, NULL), -1, "negative: none");
	jv_free(h);

	h = jv_object();
	is_int(sl_http_retry_after(429, h, "{\"ok\":false,\"error_code\":429,"
	    "\"description\":\"Too Many Requests: retry after 7\","
	    "\"parameters\":{\"retry_after\":7}}"), 7000,
	    "Telegram parameters.retry_after");
	is_int(sl_http_retry_after(429, h, "{\"retry_after\":"), -1,
	    "broken JSON body: none");
	is_int(sl_http_retry_after(429, h, "{\"parameters\":"
	    "{\"retry_after\":\"x\"}}"), -1, "retry_after not a number: none");
	is_int(sl_http_retry_after(429, h, ""), -1, "empty body: none");
	jv_free(h);
	is_int(sl_http_retry_after(429, jv_null(), "{\"parameters\":"
	    "{\"retry_after\":2}}"), 2000, "headers not an object: body used");
}

static void
test_backoff(void)
{
	long b2, b3, b5, b6, b10, small;
	int i, in_range = 1;

	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "1", 1);
	is_int(sl_http_backoff_ms(1), 0, "backoff before the first try: 0");
	for (i = 0; i < 50; i++) {
		b2 = sl_http_backoff_ms(2);
		b3 = sl_http_backoff_ms(3);
		b5 = sl_http_backoff_ms(5);
		b6 = sl_http_backoff_ms(6);
		b10 = sl_http_backoff_ms(10);
		if (b2 < 375 || b2 > 500 || b3 < 750 || b3 > 1000 ||
		    b5 < 3000 || b5 > 4000 || b6 < 6000 || b6 > 8000 ||
		    b10 < 6000 || b10 > 8000) {
			in_range = 0;
			diag("backoff %ld %ld %ld %ld %ld", b2, b3, b5, b6,
			    b10);
		}
	}
	ok(in_range, "backoff: 500 ms doubling to 8 s, 25%% jitter");
	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "0.01", 1);
	small = sl_http_backoff_ms(6);
	ok(small >= 59 && small <= 80, "backoff scaled by 0.01 (%ld)", small);
}

static void
test_helpers(void)
{
	struct sl_http_resp resp;
	char *s, *m;

	s = sl_http_escape("a b&c/é~");
	is_str(s, "a%20b%26c%2F%C3%A9~", "sl_http_escape");
	free(s);
	s = sl_http_header("x-api-key", "sk-ant-secret-0123456789");
	is_str(s, "x-api-key: sk-ant-secret-0123456789", "sl_http_header");
	m = sl_mask(s);
	ok(!contains(m, "secret-0123"), "sl_http_header registers the "
	    "secret ('%s')", m);
	free(m);
	free(s);

	memset(&resp, 0, sizeof resp);
	resp.class = SL_HTTP_PERMANENT;
	resp.status = 403;
	is_int(sl_http_exit_code(&resp), 77, "exit code: 403 is 77");
	resp.status = 422;
	is_int(sl_http_exit_code(&resp), 69, "exit code: 422 is 69");
	resp.class = SL_HTTP_UNCERTAIN;
	is_int(sl_http_exit_code(&resp), 75, "exit code: uncertain is 75");
}

static void
test_url_label(void)
{
	struct sl_http_req rq;
	struct sl_http_resp resp;
	char u[256];

	rules("{\"path\":\"*\",\"status\":500}");
	snprintf(u, sizeof u, "http://user:pw@%s/v1/chat/completions?key="
	    "SECRETKEY#frag", fake_base + strlen("http://"));
	memset(&rq, 0, sizeof rq);
	rq.url = u;
	rq.max_tries = 1;
	run(&rq, &resp);
	ok(contains(resp.error, "GET http://127.0.0.1:") &&
	    contains(resp.error, "/…/completions: HTTP 500") &&
	    !contains(resp.error, "SECRETKEY") && !contains(resp.error, "pw"),
	    "error text: host and last segment only ('%s')", resp.error);
	sl_http_resp_free(&resp);
}

int
main(void)
{
	int st;

	sl_init("test-http");
	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "0.01", 1);
	test_retry_after();
	test_backoff();
	test_helpers();
	if (!ok(fake_start(TOKEN) == 0, "fake-api started")) {
		fake_stop();
		return done_testing();
	}
	test_ok();
	test_server_waits();
	test_5xx();
	test_4xx();
	test_transport();
	test_raw();
	test_url_label();
	sl_http_cleanup();
	st = fake_stop();
	is_int(st, 0, "fake-api exits 0 on SIGTERM");
	return done_testing();
}
