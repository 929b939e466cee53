/*
 * Unit tests for lib/google.c against the loopback emulator.
 *
 * Starts $SL_BUILD/tests/fake/fake-api (as tests/unit/http.c does) and
 * scripts Google's answers with rules, in Google's wire formats: the
 * token endpoint's OAuth errors, the APIs' error objects, freeBusy with a
 * per-calendar error inside a 200, the device flow's 428/403 polling
 * statuses.  Assertions are on the emulator's request log (what was sent,
 * how often) and on the SQLite ledger (sealed tokens, the rep's calendar
 * status, audit rows).  SALESLINE_NOW fixes the clock; backoff and the
 * device flow's waits are scaled down.  The loopback flow
 * (google_connect.c, libmicrohttpd) is left to the end-to-end tests of
 * rep-admin.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "timeutil.h"
#include "vault.h"
#include "tap.h"
#include "fake_client.h"

#define NOW "2026-03-10T12:00:00Z"
#define REFRESH "1//0gSeededRefreshTokenForAnna"
#define SECRET "GOCSPX-test-client-secret"

static struct sl_db *db;
static struct sl_rep rep;
static int64_t now;

/* Field of the nth request's "json" (or "headers", "query"): borrowed. */
static const char *
field(jv reqs, int nth, const char *part, const char *key)
{
	static char buf[1024];
	const char *s = NULL;
	jv e, o = jv_invalid();

	buf[0] = '\0';
	if (nth >= jv_array_length(jv_copy(reqs)))
		return NULL;
	e = jv_array_get(jv_copy(reqs), nth);
	if (sl_get_obj(e, part, &o) == 1 && sl_get_str(o, key, &s) == 1)
		snprintf(buf, sizeof buf, "%s", s);
	jv_free(o);
	jv_free(e);
	return s ? buf : NULL;
}

static int
contains(const char *s, const char *part)
{
	return s && strstr(s, part) != NULL;
}

static int64_t
at(const char *s)
{
	int64_t t = 0;

	sl_time_parse(s, &t);
	return t;
}

/* A value from the ledger: the first column of the first row, as text. */
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

static int
ledger_is(const char *sql, const char *want, const char *name)
{
	char *got = ledger(sql);
	int r = is_str(got, want, name);

	free(got);
	return r;
}

/* Stored tokens: access expiring at now + secs, and the refresh token. */
static void
seed(const char *access, int64_t secs)
{
	char err[512];

	if (sl_vault_put(db, "google", "anna", rep.id, "access", access, NULL,
	    now + secs, err, sizeof err) != 0 ||
	    sl_vault_put(db, "google", "anna", rep.id, "refresh", REFRESH,
	    NULL, 0, err, sizeof err) != 0)
		diag("seed: %s", err);
}

static char *
stored(const char *kind)
{
	char err[512], *v = NULL;

	if (sl_vault_get(db, "google", "anna", kind, &v, NULL, err,
	    sizeof err) != 0)
		diag("stored: %s", err);
	return v;
}

#define FREEBUSY_OK "{\"path\":\"/calendar/v3/freeBusy\",\"method\":" \
	"\"POST\",\"body\":{\"kind\":\"calendar#freeBusy\"," \
	"\"timeMin\":\"2026-03-11T08:00:00.000Z\",\"timeMax\":" \
	"\"2026-03-11T18:00:00.000Z\",\"calendars\":{\"primary\":{\"busy\":" \
	"[{\"start\":\"2026-03-11T10:00:00+01:00\",\"end\":" \
	"\"2026-03-11T11:00:00+01:00\"},{\"start\":\"2026-03-11T14:30:00Z\"," \
	"\"end\":\"2026-03-11T15:00:00Z\"}]},\"ghost@example.com\":" \
	"{\"errors\":[{\"domain\":\"global\",\"reason\":\"notFound\"}]," \
	"\"busy\":[]}}}}\n"
#define TOKEN_OK(tok) "{\"path\":\"/token\",\"method\":\"POST\",\"json\":" \
	"{\"grant_type\":\"refresh_token\"},\"body\":{\"access_token\":\"" \
	tok "\",\"expires_in\":3599,\"scope\":\"https://www.googleapis.com/" \
	"auth/calendar.events https://www.googleapis.com/auth/calendar." \
	"freebusy\",\"token_type\":\"Bearer\"}}\n"
#define AUTH_ERROR "{\"error\":{\"code\":401,\"message\":\"Invalid " \
	"Credentials\",\"errors\":[{\"domain\":\"global\",\"reason\":" \
	"\"authError\",\"message\":\"Invalid Credentials\",\"locationType\":" \
	"\"header\",\"location\":\"Authorization\"}],\"status\":" \
	"\"UNAUTHENTICATED\"}}"

static int
busy(const struct sl_iv *iv, size_t n, const char *s, const char *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (iv[i].start == at(s) && iv[i].end == at(e))
			return 1;
	return 0;
}

static void
test_refresh_near_expiry(struct sl_google *g)
{
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	jv errs = jv_invalid(), reqs, e0;
	char *v;
	int rc;

	seed("ya29.seeded-almost-expired", 59);
	fake_rules(TOKEN_OK("ya29.refreshed-one") FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	is_int(rc, 0, "freeBusy with 59 s left: ok");
	if (rc < 0)
		diag("%s", err.message);
	is_int(fake_count("POST", "/token"), 1, "59 s left: exactly one refresh");
	reqs = fake_requests("POST", "/token");
	is_str(field(reqs, 0, "json", "refresh_token"), REFRESH,
	    "the refresh sends the stored refresh token");
	is_str(field(reqs, 0, "json", "client_secret"), SECRET,
	    "the refresh sends the client secret");
	is_str(field(reqs, 0, "headers", "content-type"),
	    "application/x-www-form-urlencoded", "the refresh is a form");
	jv_free(reqs);
	reqs = fake_requests("POST", "/calendar/v3/freeBusy");
	is_int(jv_array_length(jv_copy(reqs)), 1, "one freeBusy call");
	is_str(field(reqs, 0, "headers", "authorization"),
	    "Bearer ya29.refreshed-one", "freeBusy with the new token");
	is_str(field(reqs, 0, "json", "timeMin"), "2026-03-11T08:00:00Z",
	    "timeMin in UTC");
	is_str(field(reqs, 0, "json", "timeMax"), "2026-03-11T18:00:00Z",
	    "timeMax in UTC");
	e0 = jv_object_get(jv_object_get(jv_array_get(jv_copy(reqs), 0),
	    jv_string("json")), jv_string("items"));
	v = sl_json_dump(e0, NULL);
	is_str(v, "[{\"id\":\"primary\"},{\"id\":\"ghost@example.com\"}]",
	    "items: the rep's calendars");
	free(v);
	jv_free(e0);
	jv_free(reqs);

	is_int(n, 3, "three busy intervals");
	ok(busy(iv, n, "2026-03-11T09:00:00Z", "2026-03-11T10:00:00Z"),
	    "busy 10:00+01:00 parsed as 09:00Z");
	ok(busy(iv, n, "2026-03-11T14:30:00Z", "2026-03-11T15:00:00Z"),
	    "busy 14:30Z parsed");
	ok(busy(iv, n, "2026-03-11T08:00:00Z", "2026-03-11T18:00:00Z"),
	    "the notFound calendar is busy for the whole window");
	v = sl_json_dump(errs, NULL);
	is_str(v, "[{\"calendar\":\"ghost@example.com\",\"reason\":"
	    "\"notFound\"}]", "cal_errors lists the notFound calendar");
	free(v);
	jv_free(errs);

	v = stored("access");
	is_str(v, "ya29.refreshed-one", "the new access token is stored");
	free(v);
	v = stored("refresh");
	is_str(v, REFRESH, "no refresh_token in the answer: the old one kept");
	free(v);
	ledger_is("SELECT expires_at - CAST(strftime('%s', '2026-03-10 "
	    "12:00:00') AS INTEGER) FROM tokens WHERE provider = 'google' AND "
	    "kind = 'access'", "3599", "expires_at = now + expires_in");
	v = ledger("SELECT group_concat(value, ' ') FROM tokens");
	ok(v && strncmp(v, "v1:", 3) == 0 && !contains(v, "ya29") &&
	    !contains(v, "1//"), "the ledger holds the tokens sealed only");
	free(v);
	ledger_is("SELECT count(*) FROM tokens WHERE value NOT LIKE 'v1:%'",
	    "0", "every token row is sealed");

	/* A valid token is used as it is. */
	n = 0;
	fake_rules(TOKEN_OK("ya29.never") FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == 0 && fake_count("POST", "/token") == 0, "60 min left: no refresh");
	jv_free(errs);
	free(iv);
}

static void
test_401_refresh_retry(struct sl_google *g)
{
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	jv errs, reqs;
	int rc;

	seed("ya29.revoked-by-server", 3000);
	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"times\":1,\"status\":401,"
	    "\"body\":" AUTH_ERROR "}\n" TOKEN_OK("ya29.after-401")
	    FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	is_int(rc, 0, "401 -> refresh -> retry: ok");
	is_int(fake_count("POST", "/token"), 1, "401: one refresh");
	reqs = fake_requests("POST", "/calendar/v3/freeBusy");
	is_int(jv_array_length(jv_copy(reqs)), 2, "401: the call is retried "
	    "once");
	is_str(field(reqs, 0, "headers", "authorization"),
	    "Bearer ya29.revoked-by-server", "first with the stored token");
	is_str(field(reqs, 1, "headers", "authorization"),
	    "Bearer ya29.after-401", "then with the refreshed one");
	jv_free(reqs);
	jv_free(errs);

	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"status\":401,\"body\":"
	    AUTH_ERROR "}\n" TOKEN_OK("ya29.still-refused"));
	n = 0;
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.status == 401, "401 twice: fails with 401");
	is_str(err.reason, "authError", "401 twice: reason from errors[0]");
	is_int(sl_svc_exit_code(&err), 77, "401 twice: exit 77");
	ok(fake_count("POST", "/token") == 1 &&
	    fake_count("POST", "/calendar/v3/freeBusy") == 2,
	    "401 twice: one refresh, two calls, no loop");
	ok(contains(err.message, "Invalid Credentials") &&
	    !contains(err.message, "ya29") && !contains(err.message, "1//"),
	    "401 twice: message '%s'", err.message);
	ok(jv_get_kind(errs) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(errs)) == 0, "on failure cal_errors is []");
	jv_free(errs);
	free(iv);
}

static void
test_rate_limit(struct sl_google *g)
{
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	jv errs;
	int rc;

	seed("ya29.good", 3000);
	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"times\":1,\"status\":403,"
	    "\"body\":{\"error\":{\"code\":403,\"message\":\"Rate Limit "
	    "Exceeded\",\"errors\":[{\"domain\":\"usageLimits\",\"reason\":"
	    "\"userRateLimitExceeded\",\"message\":\"Rate Limit Exceeded\"}]}}}"
	    "\n" FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == 0 && fake_count("POST", "/calendar/v3/freeBusy") == 2,
	    "403 userRateLimitExceeded: retried, then ok");
	jv_free(errs);

	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"status\":403,"
	    "\"body\":{\"error\":{\"code\":403,\"message\":\"Rate Limit "
	    "Exceeded\",\"errors\":[{\"domain\":\"usageLimits\",\"reason\":"
	    "\"rateLimitExceeded\",\"message\":\"Rate Limit Exceeded\"}]}}}");
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY &&
	    sl_svc_exit_code(&err) == 75, "403 rateLimitExceeded throughout: "
	    "temporary, exit 75");
	is_int(fake_count("POST", "/calendar/v3/freeBusy"), 3,
	    "403 rateLimitExceeded: three tries");
	jv_free(errs);

	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"status\":403,"
	    "\"body\":{\"error\":{\"code\":403,\"message\":\"Request had "
	    "insufficient authentication scopes.\",\"errors\":[{\"domain\":"
	    "\"global\",\"reason\":\"insufficientPermissions\"}],\"status\":"
	    "\"PERMISSION_DENIED\"}}}");
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.class == SL_HTTP_PERMANENT &&
	    strcmp(err.reason, "insufficientPermissions") == 0 &&
	    sl_svc_exit_code(&err) == 77 &&
	    fake_count("POST", "/calendar/v3/freeBusy") == 1,
	    "403 insufficientPermissions: permanent, once, exit 77");
	jv_free(errs);

	fake_rules("{\"path\":\"/calendar/v3/freeBusy\",\"status\":400,"
	    "\"body\":{\"error\":{\"code\":400,\"message\":\"Bad Request\","
	    "\"status\":\"INVALID_ARGUMENT\"}}}");
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && strcmp(err.reason, "INVALID_ARGUMENT") == 0 &&
	    sl_svc_exit_code(&err) == 69, "no errors[]: reason from "
	    "error.status ('%s'), exit 69", err.reason);
	jv_free(errs);
	free(iv);
}

static void
test_invalid_grant(struct sl_google *g)
{
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	jv errs;
	char *d;
	int rc;

	seed("ya29.expired", -10);
	fake_rules("{\"path\":\"/token\",\"status\":400,\"body\":{\"error\":"
	    "\"invalid_grant\",\"error_description\":\"Token has been expired "
	    "or revoked.\"}}\n" FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.revoked, "invalid_grant: fails with revoked");
	is_str(err.reason, "invalid_grant", "invalid_grant: reason");
	is_int(sl_svc_exit_code(&err), 77, "invalid_grant: exit 77");
	is_int(fake_count("POST", "/calendar/v3/freeBusy"), 0,
	    "invalid_grant: no API call");
	is_int(fake_count("POST", "/token"), 1, "invalid_grant: not retried");
	ok(!contains(err.message, REFRESH) && !contains(err.message, "1//"),
	    "invalid_grant: no token in '%s'", err.message);
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "disconnected", "the rep's calendar is marked disconnected");
	ledger_is("SELECT calendar_error FROM reps WHERE name = 'anna'",
	    "invalid_grant: Token has been expired or revoked.",
	    "calendar_error says why");
	ledger_is("SELECT count(*) FROM audit WHERE action = "
	    "'calendar.disconnected' AND subject = 'anna'", "1",
	    "an audit row 'calendar.disconnected' for 'anna'");
	d = ledger("SELECT actor || ' ' || COALESCE(detail, '') FROM audit "
	    "WHERE action = 'calendar.disconnected'");
	ok(d && strncmp(d, "test-google ", 12) == 0 && !contains(d, "1//") &&
	    !contains(d, "ya29"), "the audit row names the actor, no token: "
	    "'%s'", d ? d : "");
	free(d);
	jv_free(errs);

	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.revoked, "invalid_grant again: revoked");
	ledger_is("SELECT count(*) FROM audit WHERE action = "
	    "'calendar.disconnected'", "1", "invalid_grant again: no second "
	    "audit row");
	jv_free(errs);

	sl_db_exec(db, "UPDATE reps SET calendar_status = 'connected', "
	    "calendar_error = NULL", jv_array());
	fake_rules("{\"path\":\"/token\",\"status\":401,\"body\":{\"error\":"
	    "\"invalid_client\",\"error_description\":\"Unauthorized\"}}");
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && !err.revoked && strcmp(err.reason,
	    "invalid_client") == 0 && sl_svc_exit_code(&err) == 77,
	    "invalid_client: not revoked, exit 77");
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "connected", "invalid_client: the calendar stays connected");
	jv_free(errs);
	free(iv);
}

static void
test_events(struct sl_google *g)
{
	struct sl_svc_err err;
	char *id = NULL;
	jv reqs;
	int rc;

	seed("ya29.good", 3000);
	fake_rules("{\"method\":\"POST\",\"path\":\"/calendar/v3/calendars/primary/"
	    "events\",\"query\":{\"sendUpdates\":\"all\","
	    "\"conferenceDataVersion\":\"1\"},\"body\":{\"kind\":"
	    "\"calendar#event\",\"id\":\"k3b9q2v7m1s0c5d8e4f6g2h1j0\","
	    "\"status\":\"confirmed\"}}");
	rc = sl_google_event_insert(g, db, &rep, JV_OBJECT(
	    jv_string("summary"), jv_string("Sync with Bob")), &id, &err);
	is_int(rc, 0, "events.insert: ok");
	is_str(id, "k3b9q2v7m1s0c5d8e4f6g2h1j0", "events.insert: the id");
	reqs = fake_requests("POST", "/calendar/v3/calendars/primary/events");
	is_str(field(reqs, 0, "json", "summary"), "Sync with Bob",
	    "events.insert: the body sent");
	jv_free(reqs);
	free(id);

	fake_rules("{\"method\":\"DELETE\",\"path\":\"/calendar/v3/calendars/"
	    "primary/events/evt1\",\"status\":204,\"body\":\"\"}\n"
	    "{\"method\":\"DELETE\",\"path\":\"/calendar/v3/calendars/primary/"
	    "events/gone\",\"status\":410,\"body\":{\"error\":{\"code\":410,"
	    "\"message\":\"Resource has been deleted\",\"errors\":[{\"reason\":"
	    "\"deleted\"}]}}}\n"
	    "{\"method\":\"DELETE\",\"path\":\"/calendar/v3/calendars/primary/"
	    "events/never\",\"status\":404,\"body\":{\"error\":{\"code\":404,"
	    "\"message\":\"Not Found\",\"errors\":[{\"reason\":\"notFound\"}]}}}"
	    "\n{\"method\":\"DELETE\",\"path\":\"/calendar/v3/calendars/primary/"
	    "events/busy\",\"status\":503,\"body\":{\"error\":{\"code\":503,"
	    "\"message\":\"Backend Error\",\"errors\":[{\"reason\":"
	    "\"backendError\"}]}}}");
	is_int(sl_google_event_delete(g, db, &rep, "evt1", &err), 0,
	    "events.delete 204: ok");
	is_int(sl_google_event_delete(g, db, &rep, "gone", &err), 0,
	    "events.delete 410: already gone, ok");
	is_int(sl_google_event_delete(g, db, &rep, "never", &err), 0,
	    "events.delete 404: already gone, ok");
	rc = sl_google_event_delete(g, db, &rep, "busy", &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY &&
	    strcmp(err.reason, "backendError") == 0, "events.delete 503: "
	    "temporary, backendError");
	is_int(fake_count("DELETE", "/calendar/v3/calendars/primary/events/busy"),
	    3, "events.delete 503: retried (idempotent)");
}

#define DEVICE_CODE "{\"method\":\"POST\",\"path\":\"/device/code\",\"body\":" \
	"{\"device_code\":\"AH-1Ng3Fk9pQz7mX2cL0vYtR\",\"user_code\":" \
	"\"GQVQ-JKEC\",\"verification_url\":\"https://www.google.com/device\"," \
	"\"expires_in\":1800,\"interval\":5}}\n"
#define POLL(times, status, error) "{\"method\":\"POST\",\"path\":\"/token\"," \
	"\"json\":{\"device_code\":\"AH-1Ng3Fk9pQz7mX2cL0vYtR\"},\"times\":" \
	#times ",\"status\":" #status ",\"body\":{\"error\":\"" error "\"," \
	"\"error_description\":\"...\"}}\n"
#define POLL_OK "{\"method\":\"POST\",\"path\":\"/token\",\"json\":{" \
	"\"grant_type\":\"urn:ietf:params:oauth:grant-type:device_code\"}," \
	"\"body\":{\"access_token\":\"ya29.device-access\",\"expires_in\":" \
	"3599,\"refresh_token\":\"1//device-refresh\",\"scope\":\"x\"," \
	"\"token_type\":\"Bearer\"}}\n"

/* Starts the device flow and polls with timeout_s; the poll's result. */
static int
device(struct sl_google *g, long timeout_s, struct sl_svc_err *err)
{
	const char *s = NULL;
	jv ans;

	if (sl_google_device_start(g, &ans, err) < 0)
		return -2;
	if (sl_get_str(ans, "verification_url", &s) != 1 ||
	    strcmp(s, "https://www.google.com/device") != 0)
		return -3;
	return sl_google_device_poll(g, db, &rep, ans, timeout_s, err);
}

static void
test_device(struct sl_google *g)
{
	struct sl_svc_err err;
	jv reqs;
	char *v;

	sl_db_exec(db, "DELETE FROM tokens", jv_array());
	sl_db_exec(db, "UPDATE reps SET calendar_status = 'none'", jv_array());

	/* Polls at 5 (pending), 10 (slow_down: 10 s from now on), 20. */
	fake_rules(DEVICE_CODE POLL(1, 428, "authorization_pending")
	    POLL(1, 403, "slow_down") POLL_OK);
	is_int(device(g, 19, &err), -1, "device flow: 19 s are not enough "
	    "after slow_down");
	is_str(err.reason, "timeout", "device flow: reason timeout");
	is_int(fake_count("POST", "/token"), 2, "device flow: two polls in 19 s");

	fake_rules(DEVICE_CODE POLL(1, 428, "authorization_pending")
	    POLL(1, 403, "slow_down") POLL(1, 428, "authorization_pending")
	    POLL_OK);
	is_int(device(g, 29, &err), -1, "device flow: slow_down lasts (29 s "
	    "are not enough for 5 + 5 + 10 + 10)");
	fake_rules(DEVICE_CODE POLL(1, 428, "authorization_pending")
	    POLL(1, 403, "slow_down") POLL(1, 428, "authorization_pending")
	    POLL_OK);
	is_int(device(g, 30, &err), 0, "device flow: pending, slow_down, "
	    "pending, success in 30 s");
	if (err.message[0])
		diag("%s", err.message);
	reqs = fake_requests("POST", "/token");
	is_int(jv_array_length(jv_copy(reqs)), 4, "device flow: four polls");
	is_str(field(reqs, 3, "json", "grant_type"),
	    "urn:ietf:params:oauth:grant-type:device_code",
	    "device flow: the device_code grant");
	is_str(field(reqs, 3, "json", "client_secret"), SECRET,
	    "device flow: the client secret is sent too");
	jv_free(reqs);
	reqs = fake_requests("POST", "/device/code");
	ok(contains(field(reqs, 0, "json", "scope"), "calendar.freebusy") &&
	    contains(field(reqs, 0, "json", "scope"), "calendar.events"),
	    "device flow: both scopes asked");
	jv_free(reqs);
	v = stored("refresh");
	is_str(v, "1//device-refresh", "device flow: refresh token stored");
	free(v);
	v = stored("access");
	is_str(v, "ya29.device-access", "device flow: access token stored");
	free(v);
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "connected", "device flow: the calendar is connected");
	ledger_is("SELECT count(*) FROM audit WHERE action = "
	    "'calendar.connected' AND subject = 'anna'", "1",
	    "device flow: an audit row 'calendar.connected'");

	fake_rules(DEVICE_CODE POLL(1, 403, "access_denied") POLL_OK);
	is_int(device(g, 60, &err), -1, "device flow: access_denied fails");
	ok(strcmp(err.reason, "access_denied") == 0 &&
	    fake_count("POST", "/token") == 1, "device flow: access_denied stops "
	    "polling");

	fake_rules(DEVICE_CODE POLL(1, 400, "expired_token") POLL_OK);
	is_int(device(g, 60, &err), -1, "device flow: expired_token fails");
	is_str(err.reason, "expired_token", "device flow: reason "
	    "expired_token");

	fake_rules("{\"path\":\"/device/code\",\"status\":400,\"body\":{\"error\":"
	    "\"invalid_scope\",\"error_description\":\"Invalid device flow "
	    "scope: https://www.googleapis.com/auth/calendar.events\"}}");
	is_int(device(g, 60, &err), -2, "device flow: invalid_scope at the "
	    "start");
	ok(strcmp(err.reason, "invalid_scope") == 0 &&
	    contains(err.message, "Invalid device flow scope"),
	    "device flow: invalid_scope reported: '%s'", err.message);
}

static void
test_exchange(struct sl_google *g)
{
	/* SHA-256 of the verifier, base64url, computed by Python's hashlib. */
	static const char verifier[] = "dBjftJeZ4CVP-mJ92qb_Ws2fBKO9YAb9NS2Jj4mlU8r";
	static const char challenge[] = "bfcA7QAtbt56ulPqq29R6LaKb7WkOm7oeKdEKjoQVAE";
	struct sl_svc_err err;
	char *url, *v, *s;
	jv reqs;
	int rc;

	url = sl_google_auth_url(g, "http://127.0.0.1:5555/", verifier,
	    "st4te");
	ok(url && strncmp(url, fake_base, strlen(fake_base)) == 0 &&
	    contains(url, "/auth?"), "auth URL on GOOGLE_AUTH_URL");
	v = sl_asprintf("code_challenge=%s&", challenge);
	ok(contains(url, v) && contains(url, "code_challenge_method=S256"),
	    "auth URL: S256 challenge of the verifier");
	free(v);
	ok(!contains(url, verifier), "auth URL: not the verifier itself");
	ok(contains(url, "redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2F") &&
	    contains(url, "state=st4te") && contains(url,
	    "access_type=offline") && contains(url, "prompt=consent") &&
	    contains(url, "response_type=code") &&
	    contains(url, "client_id=123-test.apps.googleusercontent.com"),
	    "auth URL: redirect_uri, state, offline, consent, code, client");
	ok(contains(url, "calendar.freebusy") && !contains(url, SECRET),
	    "auth URL: scopes, no secret");
	free(url);

	rc = sl_google_pkce(&v, &s);
	ok(rc == 0 && strlen(v) == 43 && strlen(s) == 22 &&
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == 43, "sl_google_pkce: 43 unreserved characters "
	    "and a state");
	free(v);
	free(s);

	sl_db_exec(db, "DELETE FROM tokens", jv_array());
	sl_db_exec(db, "UPDATE reps SET calendar_status = 'none'", jv_array());
	fake_rules("{\"method\":\"POST\",\"path\":\"/token\",\"json\":{\"grant_type\":"
	    "\"authorization_code\",\"code\":\"4/0AcodeFromBrowser\"},\"body\":"
	    "{\"access_token\":\"ya29.exchanged\",\"expires_in\":3599,"
	    "\"refresh_token\":\"1//exchanged-refresh\",\"scope\":\"x\","
	    "\"token_type\":\"Bearer\"}}\n"
	    "{\"method\":\"POST\",\"path\":\"/token\",\"status\":400,\"body\":"
	    "{\"error\":\"invalid_grant\",\"error_description\":\"Bad Request\"}}");
	rc = sl_google_exchange(g, db, &rep, "4/0AcodeFromBrowser",
	    "http://127.0.0.1:5555/", verifier, &err);
	is_int(rc, 0, "code exchange: ok");
	reqs = fake_requests("POST", "/token");
	is_str(field(reqs, 0, "json", "code_verifier"), verifier,
	    "code exchange: the PKCE verifier is sent");
	is_str(field(reqs, 0, "json", "redirect_uri"),
	    "http://127.0.0.1:5555/", "code exchange: the same redirect_uri");
	is_str(field(reqs, 0, "json", "client_secret"), SECRET,
	    "code exchange: the client secret");
	jv_free(reqs);
	v = stored("refresh");
	is_str(v, "1//exchanged-refresh", "code exchange: refresh stored");
	free(v);
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "connected", "code exchange: the calendar is connected");

	rc = sl_google_exchange(g, db, &rep, "4/0AusedCode",
	    "http://127.0.0.1:5555/", verifier, &err);
	ok(rc == -1 && strcmp(err.reason, "invalid_grant") == 0 &&
	    !err.revoked, "a used code: invalid_grant, not a revoked grant");
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "connected", "a used code changes nothing in the ledger");
}

static void
test_disconnect(struct sl_google *g)
{
	struct sl_svc_err err;
	struct sl_iv *iv = NULL;
	size_t n = 0, cap = 0;
	jv errs;
	int rc;

	seed("ya29.good", 3000);
	is_int(sl_google_disconnect(db, &rep), 0, "disconnect: ok");
	ledger_is("SELECT count(*) FROM tokens WHERE provider = 'google'",
	    "0", "disconnect: the tokens are gone");
	ledger_is("SELECT calendar_status FROM reps WHERE name = 'anna'",
	    "none", "disconnect: calendar 'none'");
	fake_rules(FREEBUSY_OK);
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && err.revoked && strcmp(err.reason, "not_connected") ==
	    0 && fake_count("POST", "/calendar/v3/freeBusy") == 0,
	    "no tokens: not_connected, no call");
	jv_free(errs);

	seed("ya29.good", 3000);
	setenv("SALESLINE_SECRET_KEY", "some other key", 1);
	sl_vault_reset();
	rc = sl_google_freebusy(g, db, &rep, at("2026-03-11T08:00:00Z"),
	    at("2026-03-11T18:00:00Z"), &iv, &n, &cap, &errs, &err);
	ok(rc == -1 && strcmp(err.reason, "vault") == 0 &&
	    sl_svc_exit_code(&err) == 78, "tokens sealed under another key: "
	    "exit 78, '%s'", err.message);
	jv_free(errs);
	setenv("SALESLINE_SECRET_KEY", "google unit test key", 1);
	sl_vault_reset();
	free(iv);
}

static void
open_in_child(void)
{
	struct sl_google *g = sl_google_open();

	sl_google_close(g);
}

/* The exit status of sl_google_open in a child with stderr silenced. */
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
	struct sl_google *g;

	unsetenv("GOOGLE_CLIENT_ID");
	g = sl_google_open();
	ok(g == NULL, "no GOOGLE_CLIENT_ID: NULL (calendar off)");
	is_int(open_status(), 0, "no GOOGLE_CLIENT_ID: no exit");
	setenv("GOOGLE_CLIENT_ID", "123-test.apps.googleusercontent.com", 1);
	unsetenv("GOOGLE_CLIENT_SECRET");
	is_int(open_status(), 78, "an id without a secret: exit 78");
	setenv("GOOGLE_CLIENT_SECRET", SECRET, 1);
	setenv("GOOGLE_API_URL", "ftp://example.com", 1);
	is_int(open_status(), 78, "a base URL that is not http(s): exit 78");
	setenv("GOOGLE_API_URL", fake_base, 1);
	is_int(open_status(), 0, "complete configuration: no exit");
}

int
main(void)
{
	char dir[] = "/tmp/sl-google-test.XXXXXX", *url, *err = NULL, *cmd;
	char sqldir[4096], authurl[128];
	const char *home = getenv("SALESLINE_HOME");
	struct sl_google *g = NULL;
	int t = 0;
	jv row;

	sl_init("test-google");
	rep.calendar_ids = jv_null();
	snprintf(sqldir, sizeof sqldir, "%s/sql", home ? home : ".");
	if (access(sqldir, R_OK) != 0)
		snprintf(sqldir, sizeof sqldir, "sql");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("SALESLINE_NOW", NOW, 1);
	setenv("SALESLINE_SECRET_KEY", "google unit test key", 1);
	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "0.01", 1);
	setenv("SALESLINE_POLL_SCALE", "0.001", 1);
	now = sl_now();
	if (!ok(fake_start(NULL) == 0, "fake-api started"))
		goto out;
	snprintf(authurl, sizeof authurl, "%s/auth", fake_base);
	setenv("GOOGLE_OAUTH_URL", fake_base, 1);
	setenv("GOOGLE_API_URL", fake_base, 1);
	setenv("GOOGLE_AUTH_URL", authurl, 1);
	test_config();
	if (!ok((g = sl_google_open()) != NULL, "sl_google_open"))
		goto out;

	url = sl_asprintf("%s/ledger.db", dir);
	db = sl_db_open(url, sqldir, &err, &t);
	free(url);
	if (!ok(db != NULL, "ledger opened")) {
		diag("%s", err ? err : "");
		free(err);
		goto out;
	}
	sl_db_exec(db, "INSERT INTO reps (name, tz, calendar_status, "
	    "calendar_ids, created_at, updated_at) VALUES ('anna', "
	    "'Europe/Berlin', 'connected', '[\"primary\","
	    "\"ghost@example.com\"]', 0, 0)", jv_array());
	row = sl_db_query1(db, "SELECT id FROM reps WHERE name = 'anna'",
	    jv_array());
	if (jv_get_kind(row) == JV_KIND_OBJECT)
		sl_get_int(row, "id", &rep.id);
	jv_free(row);
	rep.name = sl_strdup("anna");
	rep.tz = sl_strdup("Europe/Berlin");
	rep.zone = sl_zone_load(rep.tz);
	rep.calendar_status = sl_strdup("connected");
	rep.calendar_ids = JV_ARRAY(jv_string("primary"),
	    jv_string("ghost@example.com"));
	ok(rep.id > 0 && rep.zone, "rep 'anna' in the ledger");

	test_refresh_near_expiry(g);
	test_401_refresh_retry(g);
	test_rate_limit(g);
	test_invalid_grant(g);
	test_events(g);
	test_device(g);
	test_exchange(g);
	test_disconnect(g);
out:
	sl_google_close(g);
	if (db)
		sl_db_close(db);
	free(rep.name);
	free(rep.tz);
	free(rep.calendar_status);
	jv_free(rep.calendar_ids);
	sl_vault_reset();
	sl_http_cleanup();
	sl_zone_free_all();
	is_int(fake_stop(), 0, "fake-api exits 0 on SIGTERM");
	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
