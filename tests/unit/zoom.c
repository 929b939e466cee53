/*
 * Unit tests for lib/zoom.c against the loopback emulator.
 *
 * Starts $SL_BUILD/tests/fake/fake-api (as tests/unit/http.c does) and
 * scripts Zoom's answers with rules in Zoom's wire formats: the S2S token,
 * 201 meetings with 64-bit ids, 401/124, 400/300 as JSON and as XML,
 * OAuth-style token errors, 429 with and without a daily limit.
 * Assertions are on the emulator's request log and the SQLite ledger.
 * SALESLINE_NOW fixes the clock; backoff is scaled down.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"
#include "vault.h"
#include "zoom.h"
#include "tap.h"
#include "fake_client.h"

#define NOW "2026-03-10T12:00:00Z"
#define ZTOKEN "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIn0.first"
#define MEETINGS "/v2/users/me/meetings"

static struct sl_db *db;

/* The nth request's part ("json", "headers", "query") as a new object. */
static jv
part(jv reqs, int nth, const char *name)
{
	jv e, o = jv_invalid();

	if (nth >= jv_array_length(jv_copy(reqs)))
		return jv_invalid();
	e = jv_array_get(jv_copy(reqs), nth);
	if (sl_get_obj(e, name, &o) != 1)
		o = jv_invalid();
	jv_free(e);
	return o;
}

static const char *
field(jv reqs, int nth, const char *name, const char *key)
{
	static char buf[1024];
	const char *s = NULL;
	jv o = part(reqs, nth, name);

	if (jv_get_kind(o) == JV_KIND_OBJECT && sl_get_str(o, key, &s) == 1)
		snprintf(buf, sizeof buf, "%s", s);
	jv_free(o);
	return s ? buf : NULL;
}

static int
contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

static char *
ledger(const char *sql)
{
	jv row = sl_db_query1(db, sql, jv_array()), v;
	char *out = NULL;
	int i;

	if (jv_get_kind(row) == JV_KIND_OBJECT &&
	    jv_object_iter_valid(row, i = jv_object_iter(row))) {
		v = jv_object_iter_value(row, i);
		if (jv_get_kind(v) == JV_KIND_STRING)
			out = sl_strdup(jv_string_value(v));
		else if (jv_get_kind(v) == JV_KIND_NUMBER)
			out = sl_asprintf("%.0f", jv_number_value(v));
		jv_free(v);
	}
	jv_free(row);
	return out;
}

static int64_t
at(const char *s)
{
	int64_t t = 0;

	sl_time_parse(s, &t);
	return t;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define TOKEN_RULE(tok) "{\"method\":\"POST\",\"path\":\"/oauth/token\"," \
	"\"query\":{\"grant_type\":\"account_credentials\"},\"body\":" \
	"{\"access_token\":\"" tok "\",\"token_type\":\"bearer\"," \
	"\"expires_in\":3599,\"scope\":\"meeting:write:meeting:admin " \
	"user:read:user:admin\",\"api_url\":\"https://api.zoom.us\"}}\n"
#define CREATED(id) "{\"method\":\"POST\",\"path\":\"" MEETINGS "\"," \
	"\"status\":201,\"body\":{\"uuid\":\"4444AAAiAAAAAiAiAiiAii==\"," \
	"\"id\":" id ",\"host_id\":\"KDcuGIm1QgePTO8WbOqwIQ\",\"topic\":" \
	"\"Sync with Bob\",\"type\":2,\"status\":\"waiting\",\"start_time\":" \
	"\"2026-03-11T09:00:00Z\",\"duration\":30,\"timezone\":" \
	"\"Europe/Berlin\",\"start_url\":\"https://us06web.zoom.us/s/" id \
	"?zak=eyJ0eXAiOiJKV1Qi.hostkey\",\"join_url\":" \
	"\"https://us06web.zoom.us/j/" id "?pwd=Q2hvY29sYXRlQ2FrZQ.1\"," \
	"\"password\":\"x7Kp2q\",\"settings\":{\"join_before_host\":false," \
	"\"waiting_room\":true}}}\n"

static int
create(struct sl_zoom *z, jv *m, struct sl_svc_err *err)
{
	return sl_zoom_create(z, db, NULL, "Sync with Bob",
	    at("2026-03-11T10:00:00+01:00"), 30, "Europe/Berlin", m, err);
}

static const char *
meeting_str(jv m, const char *key)
{
	const char *s = NULL;

	return jv_get_kind(m) == JV_KIND_OBJECT &&
	    sl_get_str(m, key, &s) == 1 ? s : NULL;
}

static void
test_create(struct sl_zoom *z)
{
	struct sl_svc_err err;
	const char *pw;
	jv m, reqs, body, settings;
	char *v;
	int rc, b1 = -1, b2 = -1;

	fake_rules(TOKEN_RULE(ZTOKEN) CREATED("86311432571"));
	rc = create(z, &m, &err);
	is_int(rc, 0, "create: ok");
	if (rc < 0)
		diag("%s", err.message);
	is_str(meeting_str(m, "id"), "86311432571",
	    "create: the id (> 2^32) as a string");
	is_str(meeting_str(m, "join_url"), "https://us06web.zoom.us/j/"
	    "86311432571?pwd=Q2hvY29sYXRlQ2FrZQ.1", "create: join_url");
	v = sl_mask("start_url https://us06web.zoom.us/s/86311432571?zak="
	    "eyJ0eXAiOiJKV1Qi.hostkey");
	ok(!contains(v, "hostkey"), "start_url (host key) is a secret: '%s'",
	    v);
	free(v);
	jv_free(m);
	rc = create(z, &m, &err);
	is_int(rc, 0, "second create: ok");
	jv_free(m);
	is_int(fake_count("POST", "/oauth/token"), 1, "two creates, one token "
	    "request");
	is_int(fake_count("POST", MEETINGS), 2, "two create requests");

	reqs = fake_requests("POST", "/oauth/token");
	is_str(field(reqs, 0, "query", "account_id"), "acct-7Hq2",
	    "token: account_id in the query");
	/* base64("zid-123:zsecret-456") */
	is_str(field(reqs, 0, "headers", "authorization"),
	    "Basic emlkLTEyMzp6c2VjcmV0LTQ1Ng==", "token: Basic auth");
	jv_free(reqs);

	reqs = fake_requests("POST", MEETINGS);
	is_str(field(reqs, 0, "headers", "authorization"), "Bearer " ZTOKEN,
	    "create: the bearer token");
	is_str(field(reqs, 0, "headers", "accept"), "application/json",
	    "create: Accept: application/json");
	is_str(field(reqs, 0, "json", "start_time"), "2026-03-11T09:00:00Z",
	    "create: start_time in UTC with Z");
	is_str(field(reqs, 0, "json", "timezone"), "Europe/Berlin",
	    "create: timezone");
	is_str(field(reqs, 0, "json", "topic"), "Sync with Bob",
	    "create: topic");
	body = part(reqs, 0, "json");
	settings = jv_object_get(jv_copy(body), jv_string("settings"));
	ok(jv_get_kind(body) == JV_KIND_OBJECT &&
	    jv_number_value(jv_object_get(jv_copy(body), jv_string("type")))
	    == 2 && jv_number_value(jv_object_get(jv_copy(body),
	    jv_string("duration"))) == 30, "create: type 2, duration 30");
	if (jv_get_kind(settings) == JV_KIND_OBJECT) {
		sl_get_bool(settings, "waiting_room", &b1);
		sl_get_bool(settings, "join_before_host", &b2);
	}
	ok(b1 == 1 && b2 == 0, "create: waiting room, no join before host");
	pw = field(reqs, 0, "json", "password");
	ok(pw && strlen(pw) >= 6 && strlen(pw) <= 10 &&
	    strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789") == strlen(pw), "create: password '%s'",
	    pw ? pw : "");
	v = sl_strdup(pw ? pw : "");
	ok(strcmp(v, field(reqs, 1, "json", "password") ?
	    field(reqs, 1, "json", "password") : "") != 0,
	    "create: a new password per meeting");
	free(v);
	jv_free(settings);
	jv_free(body);
	jv_free(reqs);

	v = ledger("SELECT value FROM tokens WHERE provider = 'zoom' AND "
	    "account = '' AND kind = 'access'");
	ok(v && strncmp(v, "v1:", 3) == 0 && !contains(v, "eyJ"),
	    "the ledger holds the Zoom token sealed");
	free(v);
	v = ledger("SELECT expires_at FROM tokens WHERE provider = 'zoom'");
	is_int(v ? atoll(v) : 0, at(NOW) + 3599, "expires_at = now + "
	    "expires_in");
	free(v);

	/* Beyond 2^53 the number is not exact: the join_url has the id. */
	fake_rules(TOKEN_RULE(ZTOKEN) CREATED("9007199254740993"));
	rc = create(z, &m, &err);
	is_str(rc == 0 ? meeting_str(m, "id") : NULL, "9007199254740993",
	    "an id beyond 2^53 survives as a string");
	jv_free(m);
	fake_rules(TOKEN_RULE(ZTOKEN) CREATED("1234567890123456"));
	rc = create(z, &m, &err);
	is_str(rc == 0 ? meeting_str(m, "id") : NULL, "1234567890123456",
	    "a 16-digit id without an exponent");
	jv_free(m);
}

static void
test_token_reuse(void)
{
	struct sl_svc_err err;
	struct sl_zoom *z = sl_zoom_open();
	jv m;
	char later[64];

	fake_rules(TOKEN_RULE("eyJ.second") CREATED("86311432571"));
	ok(create(z, &m, &err) == 0 && fake_count("POST", "/oauth/token") == 0,
	    "another process takes the token from the ledger");
	jv_free(m);
	sl_zoom_close(z);

	snprintf(later, sizeof later, "%lld", (long long)at(NOW) + 3599 - 59);
	setenv("SALESLINE_NOW", later, 1);
	z = sl_zoom_open();
	ok(create(z, &m, &err) == 0 && fake_count("POST", "/oauth/token") == 1,
	    "59 s left: a new token");
	jv_free(m);
	ok(create(z, &m, &err) == 0 && fake_count("POST", "/oauth/token") == 1,
	    "the new token is cached");
	jv_free(m);
	sl_zoom_close(z);
	setenv("SALESLINE_NOW", NOW, 1);
	sl_db_exec(db, "DELETE FROM tokens", jv_array());
}

static void
test_401(struct sl_zoom *z)
{
	struct sl_svc_err err;
	jv m, reqs;
	int rc;

	fake_rules(TOKEN_RULE("eyJ.cached") CREATED("86311432571"));
	rc = create(z, &m, &err);
	jv_free(m);
	fake_rules("{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"times\":1,"
	    "\"status\":401,\"body\":{\"code\":124,\"message\":\"Invalid "
	    "access token.\"}}\n" TOKEN_RULE("eyJ.renewed")
	    CREATED("86311432571"));
	rc = create(z, &m, &err);
	is_int(rc, 0, "401/124 -> new token -> retry: ok");
	is_int(fake_count("POST", "/oauth/token"), 1, "401/124: one new token");
	reqs = fake_requests("POST", MEETINGS);
	is_int(jv_array_length(jv_copy(reqs)), 2, "401/124: retried once");
	is_str(field(reqs, 1, "headers", "authorization"),
	    "Bearer eyJ.renewed", "401/124: the retry has the new token");
	jv_free(reqs);
	jv_free(m);

	fake_rules("{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":401,"
	    "\"body\":{\"code\":124,\"message\":\"Access token is expired.\"}}\n"
	    TOKEN_RULE("eyJ.renewed-again"));
	rc = create(z, &m, &err);
	ok(rc == -1 && err.status == 401 && strcmp(err.reason, "124") == 0,
	    "401 twice: fails, reason 124");
	is_int(sl_svc_exit_code(&err), 77, "401 twice: exit 77");
	ok(fake_count("POST", MEETINGS) == 2 &&
	    fake_count("POST", "/oauth/token") == 1,
	    "401 twice: one new token, no loop");
	ok(!contains(err.message, "eyJ"), "401 twice: no token in '%s'",
	    err.message);
}

static void
test_errors(struct sl_zoom *z)
{
	struct sl_svc_err err;
	long long t0;
	jv m;
	int rc;

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":400,"
	    "\"body\":{\"code\":300,\"message\":\"Validation Failed.\","
	    "\"errors\":[{\"field\":\"start_time\",\"message\":\"Invalid "
	    "field.\"}]}}");
	rc = create(z, &m, &err);
	ok(rc == -1 && err.status == 400 && strcmp(err.reason, "300") == 0,
	    "400/300: reason '300'");
	ok(contains(err.message, "Validation Failed.") &&
	    contains(err.message, "start_time: Invalid field."),
	    "400/300: message '%s'", err.message);
	ok(err.class == SL_HTTP_PERMANENT && sl_svc_exit_code(&err) == 69 &&
	    fake_count("POST", MEETINGS) == 1, "400/300: permanent, not retried, "
	    "exit 69");

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":400,"
	    "\"headers\":{\"Content-Type\":\"application/xml\"},\"body\":"
	    "\"<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?><result>"
	    "<code>300</code><message>Request Body should be a valid JSON "
	    "object.</message></result>\"}");
	rc = create(z, &m, &err);
	ok(rc == -1 && strcmp(err.reason, "300") == 0 &&
	    contains(err.message, "Request Body should be a valid JSON object."),
	    "an XML error body: code and message read: '%s'", err.message);

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":404,"
	    "\"body\":\"\"}");
	rc = create(z, &m, &err);
	ok(rc == -1 && err.status == 404 && err.reason[0] == '\0' &&
	    contains(err.message, "404"), "an empty error body: '%s'",
	    err.message);

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":201,"
	    "\"body\":\"<html>proxy</html>\"}");
	rc = create(z, &m, &err);
	ok(rc == -1 && err.class == SL_HTTP_UNCERTAIN &&
	    sl_svc_exit_code(&err) == 75, "a 201 without a meeting: uncertain "
	    "(it may exist)");

	fake_rules("{\"method\":\"POST\",\"path\":\"/oauth/token\",\"status\":400,"
	    "\"body\":{\"reason\":\"Invalid client_id or client_secret\","
	    "\"error\":\"invalid_client\"}}");
	sl_db_exec(db, "DELETE FROM tokens", jv_array());
	{
		struct sl_zoom *z2 = sl_zoom_open();

		rc = create(z2, &m, &err);
		sl_zoom_close(z2);
	}
	ok(rc == -1 && strcmp(err.reason, "invalid_client") == 0 &&
	    contains(err.message, "Invalid client_id or client_secret") &&
	    sl_svc_exit_code(&err) == 77, "token invalid_client: exit 77, "
	    "'%s'", err.message);
	ok(!contains(err.message, "zsecret") && !contains(err.message,
	    "emlk"), "token invalid_client: no credentials in the message");
	is_int(fake_count("POST", MEETINGS), 0, "token refused: no create");

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":429,"
	    "\"headers\":{\"X-RateLimit-Type\":\"Daily-limit\","
	    "\"X-RateLimit-Category\":\"Medium\"},\"body\":{\"code\":429,"
	    "\"message\":\"You have reached the maximum daily rate limit for "
	    "this API.\"}}");
	t0 = now_ms();
	rc = create(z, &m, &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY &&
	    sl_svc_exit_code(&err) == 75, "429 daily: temporary, exit 75");
	ok(fake_count("POST", MEETINGS) == 1 && now_ms() - t0 < 1000,
	    "429 daily: not waited for");

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"status\":429,"
	    "\"headers\":{\"Retry-After\":\"3600\"},\"body\":{\"code\":429,"
	    "\"message\":\"Too many requests\"}}");
	t0 = now_ms();
	rc = create(z, &m, &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY &&
	    fake_count("POST", MEETINGS) == 1 && now_ms() - t0 < 1000,
	    "429 Retry-After: 3600: temporary at once");

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"POST\",\"path\":\"" MEETINGS "\",\"times\":1,"
	    "\"status\":429,\"headers\":{\"Retry-After\":\"1\","
	    "\"X-RateLimit-Type\":\"QPS\"},\"body\":{\"code\":429,"
	    "\"message\":\"Too many requests\"}}\n" CREATED("86311432571"));
	t0 = now_ms();
	rc = create(z, &m, &err);
	ok(rc == 0 && fake_count("POST", MEETINGS) == 2 && now_ms() - t0 >= 1000,
	    "429 per second with Retry-After: 1: waited, then created");
	jv_free(m);
}

static void
test_delete_update_verify(void)
{
	struct sl_zoom *z;
	struct sl_svc_err err;
	jv acct, reqs;
	char *v;
	int rc;

	fake_rules(TOKEN_RULE(ZTOKEN)
	    "{\"method\":\"DELETE\",\"path\":\"/v2/meetings/86311432571\","
	    "\"status\":204,\"body\":\"\"}\n"
	    "{\"method\":\"DELETE\",\"path\":\"/v2/meetings/1\",\"status\":404,"
	    "\"body\":{\"code\":3001,\"message\":\"Meeting does not exist: "
	    "1.\"}}\n"
	    "{\"method\":\"DELETE\",\"path\":\"/v2/meetings/2\",\"status\":400,"
	    "\"body\":{\"code\":3000,\"message\":\"Cannot delete meeting.\"}}\n"
	    "{\"method\":\"PATCH\",\"path\":\"/v2/meetings/86311432571\","
	    "\"status\":204,\"body\":\"\"}\n"
	    "{\"method\":\"GET\",\"path\":\"/v2/users/me\",\"body\":{\"id\":"
	    "\"KDcuGIm1QgePTO8WbOqwIQ\",\"first_name\":\"Dana\",\"email\":"
	    "\"dana@example.com\",\"type\":2,\"account_id\":\"acct-7Hq2\","
	    "\"pic_url\":\"https://example.com/p.jpg\"}}");
	sl_db_exec(db, "DELETE FROM tokens", jv_array());
	z = sl_zoom_open();
	is_int(sl_zoom_delete(z, db, "86311432571", &err), 0, "delete 204: ok");
	is_int(sl_zoom_delete(z, db, "1", &err), 0, "delete 404: already "
	    "gone, ok");
	rc = sl_zoom_delete(z, db, "2", &err);
	ok(rc == -1 && strcmp(err.reason, "3000") == 0, "delete 400/3000: "
	    "fails");
	rc = sl_zoom_update(z, db, "86311432571", at("2026-03-12T15:30:00+01:00"),
	    45, "Europe/Berlin", &err);
	is_int(rc, 0, "update 204: ok");
	reqs = fake_requests("PATCH", "/v2/meetings/86311432571");
	is_str(field(reqs, 0, "json", "start_time"), "2026-03-12T14:30:00Z",
	    "update: start_time in UTC with Z");
	jv_free(reqs);
	rc = sl_zoom_verify(z, db, NULL, &acct, &err);
	is_int(rc, 0, "verify: ok");
	v = rc == 0 ? sl_json_dump(acct, NULL) : NULL;
	is_str(v, "{\"id\":\"KDcuGIm1QgePTO8WbOqwIQ\",\"email\":"
	    "\"dana@example.com\",\"account_id\":\"acct-7Hq2\",\"type\":2}",
	    "verify: id, email, account_id, type and nothing else");
	free(v);
	jv_free(acct);
	is_int(fake_count("POST", "/oauth/token"), 1, "one token for all of them");
	sl_zoom_close(z);
}

static void
open_in_child(void)
{
	struct sl_zoom *z = sl_zoom_open();

	sl_zoom_close(z);
}

static int
open_status(void)
{
	pid_t pid;
	int st, fd;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, STDERR_FILENO);
		open_in_child();
		exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_config(void)
{
	unsetenv("ZOOM_ACCOUNT_ID");
	unsetenv("ZOOM_CLIENT_ID");
	unsetenv("ZOOM_CLIENT_SECRET");
	ok(sl_zoom_open() == NULL, "nothing set: NULL (Jitsi links)");
	setenv("ZOOM_CLIENT_ID", "zid-123", 1);
	is_int(open_status(), 78, "only ZOOM_CLIENT_ID: exit 78");
	setenv("ZOOM_ACCOUNT_ID", "acct-7Hq2", 1);
	setenv("ZOOM_CLIENT_SECRET", "zsecret-456", 1);
	setenv("ZOOM_API_URL", "api.zoom.us", 1);
	is_int(open_status(), 78, "ZOOM_API_URL not http(s): exit 78");
	setenv("ZOOM_API_URL", fake_base, 1);
	is_int(open_status(), 0, "complete configuration: no exit");
}

int
main(void)
{
	char dir[] = "/tmp/sl-zoom-test.XXXXXX", *url, *err = NULL, *cmd;
	char sqldir[4096];
	const char *home = getenv("SALESLINE_HOME");
	struct sl_zoom *z = NULL;
	int t = 0;

	sl_init("test-zoom");
	snprintf(sqldir, sizeof sqldir, "%s/sql", home ? home : ".");
	if (access(sqldir, R_OK) != 0)
		snprintf(sqldir, sizeof sqldir, "sql");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("SALESLINE_NOW", NOW, 1);
	setenv("SALESLINE_SECRET_KEY", "zoom unit test key", 1);
	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "0.01", 1);
	if (!ok(fake_start(NULL) == 0, "fake-api started"))
		goto out;
	setenv("ZOOM_OAUTH_URL", fake_base, 1);
	test_config();
	if (!ok((z = sl_zoom_open()) != NULL, "sl_zoom_open"))
		goto out;
	url = sl_asprintf("%s/ledger.db", dir);
	db = sl_db_open(url, sqldir, &err, &t);
	free(url);
	if (!ok(db != NULL, "ledger opened")) {
		diag("%s", err ? err : "");
		free(err);
		goto out;
	}
	test_create(z);
	test_token_reuse();
	test_401(z);
	test_errors(z);
	test_delete_update_verify();
out:
	sl_zoom_close(z);
	if (db)
		sl_db_close(db);
	sl_vault_reset();
	sl_http_cleanup();
	is_int(fake_stop(), 0, "fake-api exits 0 on SIGTERM");
	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
