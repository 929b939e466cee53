/*
 * google.c: Google OAuth 2.0 and Calendar v3 (google.h), over http.h.
 *
 * Every API call goes through api(): it takes the rep's access token from
 * the ledger (refreshing it first when less than REFRESH_MARGIN seconds
 * remain), makes the request, and on a 401 refreshes once and repeats the
 * request once.  A 403 with a rate-limit reason is repeated after a
 * backoff, as Google asks.  Errors are read from Google's two shapes: the
 * APIs' {"error":{"code","message","errors":[{"reason"}],"status"}} and
 * the token endpoint's {"error":"invalid_grant","error_description"}.
 *
 * Tokens are sealed (vault.h) before they reach the ledger and registered
 * as secrets when they are read, so no message can show one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "timeutil.h"
#include "vault.h"

#define DEFAULT_OAUTH "https://oauth2.googleapis.com"
#define DEFAULT_AUTH "https://accounts.google.com/o/oauth2/v2/auth"
#define DEFAULT_API "https://www.googleapis.com"
#define SCOPES "https://www.googleapis.com/auth/calendar.freebusy " \
	"https://www.googleapis.com/auth/calendar.events"
#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define REFRESH_MARGIN 60	/* s */
#define RATE_TRIES 3		/* tries of a rate-limited call */
#define DEFAULT_EXPIRES 3600	/* s, when an answer gives no expires_in */

struct sl_google {
	char *client_id, *client_secret;
	char *oauth, *auth, *api;
};

/* $name or def, which must be an http(s) URL (else exit 78). */
static const char *
url_env(const char *name, const char *def)
{
	const char *v = sl_env(name, def);

	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		sl_die(SL_EX_CONFIG, "%s '%s' is not an http(s) URL", name, v);
	return v;
}

/* A base URL without its trailing slashes, a new string. */
static char *
base_url(const char *v)
{
	char *s = sl_strdup(v);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

struct sl_google *
sl_google_open(void)
{
	struct sl_google *g;
	const char *id = sl_env("GOOGLE_CLIENT_ID", NULL), *oauth, *auth, *api;
	char *secret;

	if (!id)
		return NULL;
	/* Everything that can exit first, so that nothing is left behind. */
	oauth = url_env("GOOGLE_OAUTH_URL", DEFAULT_OAUTH);
	auth = url_env("GOOGLE_AUTH_URL", DEFAULT_AUTH);
	api = url_env("GOOGLE_API_URL", DEFAULT_API);
	secret = sl_secret_require("GOOGLE_CLIENT_SECRET");
	g = sl_calloc(1, sizeof *g);
	g->client_secret = secret;
	g->client_id = sl_strdup(id);
	g->oauth = base_url(oauth);
	g->auth = base_url(auth);
	g->api = base_url(api);
	return g;
}

void
sl_google_close(struct sl_google *g)
{
	if (!g)
		return;
	free(g->client_id);
	free(g->client_secret);
	free(g->oauth);
	free(g->auth);
	free(g->api);
	free(g);
}

int
sl_svc_exit_code(const struct sl_svc_err *err)
{
	/* nobody answered the consent in time: ask again later */
	if (err->class == SL_HTTP_TEMPORARY || err->class == SL_HTTP_UNCERTAIN ||
	    strcmp(err->reason, "timeout") == 0)
		return SL_EX_TEMPFAIL;
	if (strcmp(err->reason, "vault") == 0)
		return SL_EX_CONFIG;
	if (strcmp(err->reason, "ledger") == 0)
		return SL_EX_IOERR;
	if (err->revoked || err->status == 401 || err->status == 403 ||
	    strcmp(err->reason, "invalid_client") == 0)
		return SL_EX_NOPERM;
	return SL_EX_UNAVAILABLE;
}

/*
 * Errors
 */

int
sl_svc_fail(struct sl_svc_err *err, enum sl_http_class class,
    const char *reason, const char *fmt, ...)
{
	va_list ap;

	err->class = class;
	snprintf(err->reason, sizeof err->reason, "%s", reason);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* A failure of sl_vault_get/put (its exit status rc, reason why). */
static int
vault_fail(struct sl_svc_err *err, int rc, const char *why)
{
	return sl_svc_fail(err, rc == SL_EX_TEMPFAIL ? SL_HTTP_TEMPORARY :
	    SL_HTTP_PERMANENT, rc == SL_EX_CONFIG ? "vault" : "ledger", "%s",
	    why);
}

static int
ledger_fail(struct sl_svc_err *err, struct sl_db *db, const char *what)
{
	return sl_svc_fail(err, sl_db_temporary(db) ? SL_HTTP_TEMPORARY :
	    SL_HTTP_PERMANENT, "ledger", "%s: %s", what, sl_db_error(db));
}

static int
is_rate_limit(const char *reason)
{
	return strcmp(reason, "rateLimitExceeded") == 0 ||
	    strcmp(reason, "userRateLimitExceeded") == 0;
}

/* Google's reason in an error body: errors[0].reason, status, or error. */
static void
body_reason(jv body, char *buf, size_t size)
{
	const char *s = NULL;
	jv e = jv_invalid(), list = jv_invalid(), first;

	buf[0] = '\0';
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return;
	if (sl_get_obj(body, "error", &e) == 1) {
		if (sl_get_arr(e, "errors", &list) == 1 &&
		    jv_array_length(jv_copy(list)) > 0) {
			first = jv_array_get(jv_copy(list), 0);
			if (jv_get_kind(first) == JV_KIND_OBJECT &&
			    sl_get_str(first, "reason", &s) == 1)
				snprintf(buf, size, "%s", s);
			jv_free(first);
		}
		if (!buf[0] && sl_get_str(e, "status", &s) == 1)
			snprintf(buf, size, "%s", s);
	} else if (sl_get_str(body, "error", &s) == 1) {
		snprintf(buf, size, "%s", s);
	}
	jv_free(list);
	jv_free(e);
}

/* err from a response that was not what the call needed.  Returns -1. */
static int
resp_fail(struct sl_svc_err *err, const struct sl_http_resp *resp,
    const char *what)
{
	jv body = sl_http_json(resp);

	err->status = resp->status;
	err->class = resp->class == SL_HTTP_OK ? SL_HTTP_PERMANENT :
	    resp->class;
	body_reason(body, err->reason, sizeof err->reason);
	if (resp->class == SL_HTTP_OK)
		snprintf(err->message, sizeof err->message, "%s: unexpected "
		    "answer from Google (HTTP %ld)", what, resp->status);
	else
		snprintf(err->message, sizeof err->message, "%s: %s", what,
		    resp->error);
	if (resp->status == 403 && is_rate_limit(err->reason))
		err->class = SL_HTTP_TEMPORARY;
	jv_free(body);
	return -1;
}

/*
 * Requests
 */

/* "a=1&b=2" from NULL-terminated name, value pairs, percent-encoded. */
static char *
form(const char *const *kv)
{
	char *out = sl_strdup(""), *k, *v, *t;

	for (; kv[0]; kv += 2) {
		k = sl_http_escape(kv[0]);
		v = sl_http_escape(kv[1]);
		t = sl_asprintf("%s%s%s=%s", out, *out ? "&" : "", k, v);
		free(out);
		free(k);
		free(v);
		out = t;
	}
	return out;
}

/* POSTs a form to the token service at BASE/path; resp to free. */
static enum sl_http_class
oauth_post(struct sl_google *g, const char *path, const char *const *kv,
    int idempotent, struct sl_http_resp *resp)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL
	};
	struct sl_http_req req = { 0 };
	char *url = sl_asprintf("%s%s", g->oauth, path), *body = form(kv);
	enum sl_http_class c;

	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.idempotent = idempotent;
	c = sl_http_do(&req, resp);
	free(body);
	free(url);
	return c;
}

/*
 * Calendar state
 */

static int
mark_connected(struct sl_db *db, const struct sl_rep *rep)
{
	int64_t now = sl_now();

	if (sl_db_exec(db, "UPDATE reps SET calendar_status = 'connected', "
	    "calendar_error = NULL, updated_at = $2 WHERE id = $1",
	    JV_ARRAY(jv_number((double)rep->id), jv_number((double)now))) < 0)
		return -1;
	return sl_db_exec(db, "INSERT INTO audit (at, actor, action, subject, "
	    "detail) VALUES ($1, $2, 'calendar.connected', $3, NULL)",
	    JV_ARRAY(jv_number((double)now), jv_string(sl_prog),
	    jv_string(rep->name))) < 0 ? -1 : 0;
}

/*
 * The grant is gone: the calendar is disconnected, once (a second
 * invalid_grant changes nothing and writes no second audit row).
 */
static int
mark_disconnected(struct sl_db *db, const struct sl_rep *rep,
    const char *why)
{
	int64_t now = sl_now();
	long n;

	if (sl_db_begin(db) < 0)
		return -1;
	n = sl_db_exec(db, "UPDATE reps SET calendar_status = 'disconnected', "
	    "calendar_error = $2, updated_at = $3 WHERE id = $1 AND "
	    "calendar_status <> 'disconnected'",
	    JV_ARRAY(jv_number((double)rep->id), jv_string(why),
	    jv_number((double)now)));
	if (n < 0 || (n > 0 && sl_db_exec(db, "INSERT INTO audit (at, actor, "
	    "action, subject, detail) VALUES ($1, $2, "
	    "'calendar.disconnected', $3, '{\"reason\":\"invalid_grant\"}')",
	    JV_ARRAY(jv_number((double)now), jv_string(sl_prog),
	    jv_string(rep->name))) < 0)) {
		sl_db_rollback(db);
		return -1;
	}
	return sl_db_commit(db);
}

/*
 * Stores a token answer ({"access_token","expires_in","refresh_token"?,
 * "scope"?}, borrowed) for rep; with connect, the calendar is marked
 * connected in the same transaction.  *access (may be NULL) gets a copy
 * of the access token.  Returns 0 or -1 with err.
 */
static int
store_answer(struct sl_db *db, const struct sl_rep *rep, jv ans, int connect,
    char **access, struct sl_svc_err *err)
{
	const char *tok = NULL, *refresh = NULL, *scope = NULL;
	char why[512];
	double expires = DEFAULT_EXPIRES;
	int rc;

	if (sl_get_str(ans, "access_token", &tok) != 1 || !*tok)
		return sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_response",
		    "the token answer for '%s' has no access_token",
		    rep->name);
	sl_secret_add(tok);
	if (sl_get_str(ans, "refresh_token", &refresh) == 1 && *refresh)
		sl_secret_add(refresh);
	else
		refresh = NULL;
	sl_get_str(ans, "scope", &scope);
	if (sl_get_num(ans, "expires_in", &expires) != 1 || expires < 0 ||
	    expires > 1e9)
		expires = DEFAULT_EXPIRES;
	if (sl_db_begin(db) < 0)
		return ledger_fail(err, db, "cannot store the Google tokens");
	if ((rc = sl_vault_put(db, "google", rep->name, rep->id, "access", tok,
	    scope, sl_now() + (int64_t)expires, why, sizeof why)) != 0 ||
	    (refresh && (rc = sl_vault_put(db, "google", rep->name, rep->id,
	    "refresh", refresh, scope, 0, why, sizeof why)) != 0)) {
		sl_db_rollback(db);
		return vault_fail(err, rc, why);
	}
	if (connect && mark_connected(db, rep) < 0) {
		ledger_fail(err, db, "cannot mark the calendar connected");
		sl_db_rollback(db);
		return -1;
	}
	if (sl_db_commit(db) < 0)
		return ledger_fail(err, db, "cannot store the Google tokens");
	if (access)
		*access = sl_strdup(tok);
	return 0;
}

/* A token answer from the token endpoint, stored; 0 or -1 with err. */
static int
token_answer(struct sl_db *db, const struct sl_rep *rep,
    const struct sl_http_resp *resp, int connect, char **access,
    const char *what, struct sl_svc_err *err)
{
	jv ans;
	int rc;

	if (resp->class != SL_HTTP_OK)
		return resp_fail(err, resp, what);
	ans = sl_http_json(resp);
	if (jv_get_kind(ans) != JV_KIND_OBJECT) {
		jv_free(ans);
		return resp_fail(err, resp, what);
	}
	err->status = resp->status;
	rc = store_answer(db, rep, ans, connect, access, err);
	jv_free(ans);
	return rc;
}

/*
 * The refresh was answered invalid_grant (in resp): the calendar is
 * marked disconnected and err says so, with revoked set.
 */
static void
revoked(struct sl_db *db, const struct sl_rep *rep,
    const struct sl_http_resp *resp, struct sl_svc_err *err)
{
	const char *d = NULL;
	char *why;
	jv body = sl_http_json(resp);

	if (jv_get_kind(body) == JV_KIND_OBJECT)
		sl_get_str(body, "error_description", &d);
	why = sl_asprintf("invalid_grant%s%.160s", d ? ": " : "", d ? d : "");
	jv_free(body);
	err->revoked = 1;
	if (mark_disconnected(db, rep, why) < 0)
		sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_grant", "Google revoked "
		    "the calendar grant of '%s' (%s), and it could not be "
		    "marked disconnected: %s", rep->name, why, sl_db_error(db));
	else
		sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_grant", "Google revoked "
		    "the calendar grant of '%s' (%s): it is marked "
		    "disconnected; reconnect it with rep-admin calendar "
		    "connect", rep->name, why);
	free(why);
}

/*
 * The rep's access token (*tok, a new string): the stored one while more
 * than REFRESH_MARGIN seconds remain and force is 0, else a refreshed
 * one.  Returns 0 or -1 with err.
 */
static int
access_token(struct sl_google *g, struct sl_db *db, const struct sl_rep *rep,
    int force, char **tok, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char why[512], *refresh = NULL, *access = NULL;
	const char *what = "refreshing the Google token";
	int64_t exp = 0;
	int rc;

	*tok = NULL;
	if ((rc = sl_vault_get(db, "google", rep->name, "access", &access,
	    &exp, why, sizeof why)) != 0)
		return vault_fail(err, rc, why);
	if (access && !force && (exp == 0 ||
	    exp - sl_now() >= REFRESH_MARGIN)) {
		*tok = access;
		return 0;
	}
	free(access);
	if ((rc = sl_vault_get(db, "google", rep->name, "refresh", &refresh,
	    NULL, why, sizeof why)) != 0)
		return vault_fail(err, rc, why);
	if (!refresh) {
		err->revoked = 1;
		return sl_svc_fail(err, SL_HTTP_PERMANENT, "not_connected", "the "
		    "calendar of '%s' is not connected (rep-admin calendar "
		    "connect)", rep->name);
	}
	oauth_post(g, "/token", (const char *const[]){
		"client_id", g->client_id,
		"client_secret", g->client_secret,
		"refresh_token", refresh,
		"grant_type", "refresh_token", NULL }, 1, &resp);
	free(refresh);
	rc = token_answer(db, rep, &resp, 0, tok, what, err);
	if (rc < 0 && strcmp(err->reason, "invalid_grant") == 0)
		revoked(db, rep, &resp, err);
	sl_http_resp_free(&resp);
	return rc;
}

/*
 * One Calendar API call for rep with its token.  Returns 0 when the answer
 * is a 2xx, else -1 with err; *resp is always to be freed.
 */
static int
api(struct sl_google *g, struct sl_db *db, const struct sl_rep *rep,
    const char *method, const char *url, const char *body, int idempotent,
    const char *what, struct sl_http_resp *resp, struct sl_svc_err *err)
{
	const char *headers[4] = { "Content-Type: application/json",
		"Accept: application/json", NULL, NULL };
	struct sl_http_req req = { 0 };
	char *tok = NULL, *auth;
	int refreshed = 0, tries = 0;

	memset(resp, 0, sizeof *resp);
	resp->headers = jv_null();
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.idempotent = idempotent;
	for (;;) {
		if (access_token(g, db, rep, refreshed, &tok, err) < 0)
			return -1;
		auth = sl_asprintf("Authorization: Bearer %s", tok);
		headers[2] = auth;
		sl_http_resp_free(resp);
		sl_http_do(&req, resp);
		free(auth);
		free(tok);
		tok = NULL;
		tries++;
		if (resp->class == SL_HTTP_OK)
			return 0;
		if (resp->status == 401 && !refreshed) {
			refreshed = 1;
			continue;
		}
		resp_fail(err, resp, what);
		if (resp->status == 403 && is_rate_limit(err->reason) &&
		    tries < RATE_TRIES) {
			sl_sleep_ms(sl_http_backoff_ms(tries + 1));
			continue;
		}
		return -1;
	}
}

/*
 * Calendar API
 */

/* The rep's calendar ids (a new array): rep->calendar_ids or ["primary"]. */
static jv
calendars(const struct sl_rep *rep)
{
	jv ids = jv_array(), v;
	int i, n;

	if (jv_get_kind(rep->calendar_ids) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(rep->calendar_ids));
		for (i = 0; i < n; i++) {
			v = jv_array_get(jv_copy(rep->calendar_ids), i);
			if (jv_get_kind(v) == JV_KIND_STRING &&
			    jv_string_length_bytes(jv_copy(v)) > 0)
				ids = jv_array_append(ids, v);
			else
				jv_free(v);
		}
	}
	if (jv_array_length(jv_copy(ids)) == 0)
		ids = jv_array_append(ids, jv_string("primary"));
	return ids;
}

static void
iv_add(struct sl_iv **iv, size_t *n, size_t *cap, int64_t start,
    int64_t end)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*iv = sl_realloc(*iv, *cap * sizeof **iv);
	}
	(*iv)[*n].start = start;
	(*iv)[*n].end = end;
	(*n)++;
}

/*
 * The busy intervals of one calendar's entry (borrowed), appended; 0, or
 * -1 with a reason when the entry is unusable (nothing appended).
 */
static int
calendar_busy(jv cal, struct sl_iv **iv, size_t *n, size_t *cap,
    char *reason, size_t size)
{
	jv errs = jv_invalid(), busy = jv_invalid(), b;
	const char *s, *e;
	size_t n0 = *n;
	int64_t ts, te;
	int i, len, rc = -1;

	if (jv_get_kind(cal) != JV_KIND_OBJECT) {
		snprintf(reason, size, "missing");
		return -1;
	}
	if (sl_get_arr(cal, "errors", &errs) == 1 &&
	    jv_array_length(jv_copy(errs)) > 0) {
		b = jv_array_get(jv_copy(errs), 0);
		if (jv_get_kind(b) != JV_KIND_OBJECT ||
		    sl_get_str(b, "reason", &s) != 1)
			s = "error";
		snprintf(reason, size, "%s", s);
		jv_free(b);
		goto out;
	}
	if (sl_get_arr(cal, "busy", &busy) < 0) {
		snprintf(reason, size, "bad busy list");
		goto out;
	}
	len = jv_get_kind(busy) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(busy)) : 0;
	for (i = 0; i < len; i++) {
		b = jv_array_get(jv_copy(busy), i);
		if (jv_get_kind(b) != JV_KIND_OBJECT ||
		    sl_get_str(b, "start", &s) != 1 ||
		    sl_get_str(b, "end", &e) != 1 ||
		    sl_time_parse(s, &ts) < 0 || sl_time_parse(e, &te) < 0) {
			jv_free(b);
			*n = n0;
			snprintf(reason, size, "bad busy time");
			goto out;
		}
		jv_free(b);
		if (te > ts)
			iv_add(iv, n, cap, ts, te);
	}
	rc = 0;
out:
	jv_free(busy);
	jv_free(errs);
	return rc;
}

int
sl_google_freebusy(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, int64_t from, int64_t to, struct sl_iv **iv,
    size_t *n, size_t *cap, jv *cal_errors, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char tmin[SL_TIME_BUFSZ], tmax[SL_TIME_BUFSZ], reason[64];
	char *url = NULL, *body = NULL;
	jv ids = calendars(rep), items = jv_array(), ans = jv_invalid();
	jv cals = jv_invalid(), id, cal, q, errors = jv_array();
	int i, len = jv_array_length(jv_copy(ids)), rc = -1, bad;

	memset(err, 0, sizeof *err);
	memset(&resp, 0, sizeof resp);
	resp.headers = jv_null();
	if (!sl_time_fmt(from, tmin) || !sl_time_fmt(to, tmax) || to <= from) {
		sl_svc_fail(err, SL_HTTP_PERMANENT, "timeRangeEmpty", "freeBusy: bad "
		    "time range");
		goto out;
	}
	for (i = 0; i < len; i++)
		items = jv_array_append(items, JV_OBJECT(jv_string("id"),
		    jv_array_get(jv_copy(ids), i)));
	q = JV_OBJECT(jv_string("timeMin"), jv_string(tmin),
	    jv_string("timeMax"), jv_string(tmax), jv_string("items"),
	    jv_copy(items));
	body = sl_json_dump(q, NULL);
	jv_free(q);
	url = sl_asprintf("%s/calendar/v3/freeBusy", g->api);
	if (api(g, db, rep, "POST", url, body, 1, "Google freeBusy", &resp,
	    err) < 0)
		goto out;
	ans = sl_http_json(&resp);
	if (jv_get_kind(ans) != JV_KIND_OBJECT ||
	    sl_get_obj(ans, "calendars", &cals) != 1) {
		resp_fail(err, &resp, "Google freeBusy");
		goto out;
	}
	for (i = 0; i < len; i++) {
		id = jv_array_get(jv_copy(ids), i);
		cal = jv_object_get(jv_copy(cals), jv_copy(id));
		bad = calendar_busy(cal, iv, n, cap, reason, sizeof reason);
		jv_free(cal);
		if (bad < 0) {
			iv_add(iv, n, cap, from, to);
			errors = jv_array_append(errors, JV_OBJECT(
			    jv_string("calendar"), id, jv_string("reason"),
			    jv_string(reason)));
		} else {
			jv_free(id);
		}
	}
	rc = 0;
out:
	*cal_errors = errors;
	jv_free(cals);
	jv_free(ans);
	jv_free(items);
	jv_free(ids);
	sl_http_resp_free(&resp);
	free(body);
	free(url);
	return rc;
}

/* The rep's first calendar, escaped for a path (a new string). */
static char *
first_calendar(const struct sl_rep *rep)
{
	jv ids = calendars(rep), id = jv_array_get(jv_copy(ids), 0);
	char *s = sl_http_escape(jv_string_value(id));

	jv_free(id);
	jv_free(ids);
	return s;
}

int
sl_google_event_insert(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, jv event, char **event_id,
    struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char *cal = first_calendar(rep), *url, *body;
	const char *id = NULL;
	jv ans = jv_invalid();
	int rc = -1;

	memset(err, 0, sizeof *err);
	*event_id = NULL;
	body = sl_json_dump(event, NULL);
	jv_free(event);
	url = sl_asprintf("%s/calendar/v3/calendars/%s/events?"
	    "conferenceDataVersion=1&sendUpdates=all", g->api, cal);
	if (api(g, db, rep, "POST", url, body, 0, "Google events.insert",
	    &resp, err) < 0)
		goto out;
	ans = sl_http_json(&resp);
	if (jv_get_kind(ans) != JV_KIND_OBJECT ||
	    sl_get_str(ans, "id", &id) != 1 || !*id) {
		resp_fail(err, &resp, "Google events.insert");
		/* The event may exist, but without its id it cannot be undone. */
		err->class = SL_HTTP_UNCERTAIN;
		goto out;
	}
	*event_id = sl_strdup(id);
	rc = 0;
out:
	jv_free(ans);
	sl_http_resp_free(&resp);
	free(body);
	free(url);
	free(cal);
	return rc;
}

int
sl_google_event_delete(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, const char *event_id, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char *cal = first_calendar(rep), *id = sl_http_escape(event_id), *url;
	int rc;

	memset(err, 0, sizeof *err);
	url = sl_asprintf("%s/calendar/v3/calendars/%s/events/%s?"
	    "sendUpdates=all", g->api, cal, id);
	rc = api(g, db, rep, "DELETE", url, NULL, 1, "Google events.delete",
	    &resp, err);
	if (rc < 0 && (err->status == 404 || err->status == 410)) {
		memset(err, 0, sizeof *err);
		rc = 0;
	}
	sl_http_resp_free(&resp);
	free(url);
	free(id);
	free(cal);
	return rc;
}

/*
 * Connecting
 */

int
sl_google_pkce(char **verifier, char **state)
{
	unsigned char v[32], s[16];

	*verifier = *state = NULL;
	if (sl_random(v, sizeof v) < 0 || sl_random(s, sizeof s) < 0)
		return -1;
	*verifier = sl_base64(v, sizeof v, 1);
	*state = sl_base64(s, sizeof s, 1);
	return 0;
}

char *
sl_google_auth_url(struct sl_google *g, const char *redirect_uri,
    const char *verifier, const char *state)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *challenge, *q, *url;

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		return NULL;
	challenge = sl_base64(md, mdlen, 1);
	q = form((const char *const[]){
		"client_id", g->client_id,
		"redirect_uri", redirect_uri,
		"response_type", "code",
		"scope", SCOPES,
		"access_type", "offline",
		"prompt", "consent",
		"code_challenge", challenge,
		"code_challenge_method", "S256",
		"state", state, NULL });
	url = sl_asprintf("%s%s%s", g->auth, strchr(g->auth, '?') ? "&" : "?",
	    q);
	free(q);
	free(challenge);
	return url;
}

int
sl_google_exchange(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, const char *code, const char *redirect_uri,
    const char *verifier, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	int rc;

	memset(err, 0, sizeof *err);
	/* A code works once: an uncertain exchange is not repeated. */
	oauth_post(g, "/token", (const char *const[]){
		"code", code,
		"client_id", g->client_id,
		"client_secret", g->client_secret,
		"redirect_uri", redirect_uri,
		"grant_type", "authorization_code",
		"code_verifier", verifier, NULL }, 0, &resp);
	rc = token_answer(db, rep, &resp, 1, NULL, "exchanging the Google "
	    "code", err);
	sl_http_resp_free(&resp);
	return rc;
}

int
sl_google_device_start(struct sl_google *g, jv *answer,
    struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	const char *s;
	jv ans;
	int rc = -1;

	memset(err, 0, sizeof *err);
	*answer = jv_invalid();
	oauth_post(g, "/device/code", (const char *const[]){
		"client_id", g->client_id,
		"scope", SCOPES, NULL }, 1, &resp);
	ans = sl_http_json(&resp);
	if (resp.class != SL_HTTP_OK || jv_get_kind(ans) != JV_KIND_OBJECT ||
	    sl_get_str(ans, "device_code", &s) != 1 ||
	    sl_get_str(ans, "user_code", &s) != 1) {
		resp_fail(err, &resp, "starting the Google device flow");
		jv_free(ans);
	} else {
		*answer = ans;
		rc = 0;
	}
	sl_http_resp_free(&resp);
	return rc;
}

static double
poll_scale(void)
{
	const char *v = sl_env("SALESLINE_POLL_SCALE", NULL);
	char *end;
	double d;

	if (!v)
		return 1;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0 && d <= 1000))
		sl_die(SL_EX_CONFIG, "bad SALESLINE_POLL_SCALE '%s': expected "
		    "a number from 0 to 1000", v);
	return d;
}

/*
 * One poll of the device flow.  Returns 0 when the tokens are stored, 1
 * to poll again (*interval may have grown), -1 with err to stop.
 */
static int
poll_once(struct sl_google *g, struct sl_db *db, const struct sl_rep *rep,
    const char *code, double *interval, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	const char *e = NULL;
	jv ans;
	int rc;

	oauth_post(g, "/token", (const char *const[]){
		"client_id", g->client_id,
		"client_secret", g->client_secret,
		"device_code", code,
		"grant_type", DEVICE_GRANT, NULL }, 1, &resp);
	ans = sl_http_json(&resp);
	if (jv_get_kind(ans) == JV_KIND_OBJECT)
		sl_get_str(ans, "error", &e);
	if (!e && resp.class == SL_HTTP_OK &&
	    jv_get_kind(ans) == JV_KIND_OBJECT) {
		err->status = resp.status;
		rc = store_answer(db, rep, ans, 1, NULL, err);
	} else if (e && strcmp(e, "authorization_pending") == 0) {
		rc = 1;
	} else if (e && strcmp(e, "slow_down") == 0) {
		*interval += 5;
		rc = 1;
	} else if (!e && (resp.class == SL_HTTP_TEMPORARY ||
	    resp.class == SL_HTTP_UNCERTAIN)) {
		rc = 1;		/* a hiccup of the service: poll on */
	} else {
		rc = resp_fail(err, &resp, "polling the Google device flow");
		if (e && strcmp(e, "access_denied") == 0)
			snprintf(err->message, sizeof err->message, "the "
			    "calendar owner declined access for '%s'",
			    rep->name);
		err->class = SL_HTTP_PERMANENT;
	}
	jv_free(ans);
	sl_http_resp_free(&resp);
	return rc;
}

int
sl_google_device_poll(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, jv answer, long timeout_s,
    struct sl_svc_err *err)
{
	const char *code = NULL;
	double scale = poll_scale(), interval = 5, expires = 1800;
	long waited = 0, limit;
	int rc = -1;

	memset(err, 0, sizeof *err);
	if (jv_get_kind(answer) != JV_KIND_OBJECT ||
	    sl_get_str(answer, "device_code", &code) != 1) {
		sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_request", "no "
		    "device_code to poll for");
		goto out;
	}
	if (sl_get_num(answer, "interval", &interval) != 1 || interval < 1 ||
	    interval > 600)
		interval = 5;
	if (sl_get_num(answer, "expires_in", &expires) != 1 || expires < 1 ||
	    expires > 86400)
		expires = 1800;
	limit = timeout_s > 0 && timeout_s < expires ? timeout_s :
	    (long)expires;
	do {
		if (waited + (long)interval > limit) {
			rc = sl_svc_fail(err, SL_HTTP_PERMANENT, limit == timeout_s ?
			    "timeout" : "expired_token", "no consent for '%s' "
			    "within %ld s", rep->name, limit);
			break;
		}
		sl_sleep_ms((long)(interval * 1000 * scale));
		waited += (long)interval;
	} while ((rc = poll_once(g, db, rep, code, &interval, err)) > 0);
out:
	jv_free(answer);
	return rc;
}

int
sl_google_disconnect(struct sl_db *db, const struct sl_rep *rep)
{
	if (sl_db_begin(db) < 0)
		return -1;
	if (sl_db_exec(db, "DELETE FROM tokens WHERE provider = 'google' AND "
	    "account = $1", JV_ARRAY(jv_string(rep->name))) < 0 ||
	    sl_db_exec(db, "UPDATE reps SET calendar_status = 'none', "
	    "calendar_error = NULL, updated_at = $2 WHERE id = $1",
	    JV_ARRAY(jv_number((double)rep->id),
	    jv_number((double)sl_now()))) < 0) {
		sl_db_rollback(db);
		return -1;
	}
	return sl_db_commit(db);
}
