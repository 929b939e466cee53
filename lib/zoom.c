/*
 * zoom.c: Zoom Server-to-Server OAuth and meetings (zoom.h), over http.h.
 *
 * The account token is kept in memory and sealed in the ledger, so the
 * commands of one cron run share it instead of asking for one each.  A
 * call answered 401 (code 124: expired or unknown token) gets a new token
 * and is repeated once.
 *
 * Rate limits: a 429 is retried here rather than in http.c, so that a
 * daily limit (X-RateLimit-Type: Daily..., or a Retry-After of more than
 * a minute) fails temporary at once instead of being waited for; other
 * 429s and 5xx wait the server's Retry-After or back off, as http.c does.
 *
 * Error bodies are JSON {"code","message","errors"?}, OAuth-style
 * {"reason","error"} from the token endpoint, XML
 * <result><code>..</code><message>..</message></result>, or empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"
#include "vault.h"
#include "zoom.h"

#define DEFAULT_OAUTH "https://zoom.us"
#define DEFAULT_API "https://api.zoom.us"
#define TOKEN_MARGIN 60		/* s */
#define TRIES 3
#define MAX_WAIT_MS 60000
#define PASSWORD_LEN 10
#define DEFAULT_EXPIRES 3600

struct sl_zoom {
	char *account, *client_id, *client_secret;
	char *oauth, *api;
	char *basic;			/* "Authorization: Basic ..." */
	char *token;			/* the account token, or NULL */
	int64_t expires;
};

static int
is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0;
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

struct sl_zoom *
sl_zoom_open(void)
{
	static const char *const names[] = { "ZOOM_ACCOUNT_ID",
		"ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET" };
	struct sl_zoom *z;
	const char *oauth, *api;
	char *v[3], *pair, *b64, bad[300] = "";
	int i, set = -1, unset = -1;

	for (i = 0; i < 3; i++) {
		v[i] = sl_secret(names[i]);
		if (v[i] && set < 0)
			set = i;
		if (!v[i] && unset < 0)
			unset = i;
	}
	if (set < 0)
		return NULL;
	oauth = sl_env("ZOOM_OAUTH_URL", DEFAULT_OAUTH);
	api = sl_env("ZOOM_API_URL", DEFAULT_API);
	if (unset >= 0)
		snprintf(bad, sizeof bad, "%s (or %s_FILE) is not set, but %s "
		    "is", names[unset], names[unset], names[set]);
	else if (!is_http(oauth) || !is_http(api))
		snprintf(bad, sizeof bad, "%s '%.200s' is not an http(s) URL",
		    is_http(oauth) ? "ZOOM_API_URL" : "ZOOM_OAUTH_URL",
		    is_http(oauth) ? api : oauth);
	if (bad[0]) {
		for (i = 0; i < 3; i++)
			free(v[i]);
		sl_die(SL_EX_CONFIG, "%s", bad);
	}
	z = sl_calloc(1, sizeof *z);
	z->account = v[0];
	z->client_id = v[1];
	z->client_secret = v[2];
	z->oauth = base_url(oauth);
	z->api = base_url(api);
	pair = sl_asprintf("%s:%s", z->client_id, z->client_secret);
	b64 = sl_base64(pair, strlen(pair), 0);
	sl_secret_add(b64);
	z->basic = sl_asprintf("Authorization: Basic %s", b64);
	free(b64);
	free(pair);
	return z;
}

void
sl_zoom_close(struct sl_zoom *z)
{
	if (!z)
		return;
	free(z->account);
	free(z->client_id);
	free(z->client_secret);
	free(z->oauth);
	free(z->api);
	free(z->basic);
	free(z->token);
	free(z);
}

/*
 * Errors
 */

static int
fail(struct sl_svc_err *err, enum sl_http_class class, const char *reason,
    const char *msg)
{
	return sl_svc_fail(err, class, reason, "%s", msg);
}

/* The text of the first <tag>...</tag> in s, at most size - 1 bytes. */
static int
xml_tag(const char *s, const char *tag, char *buf, size_t size)
{
	char open[32], close[32];
	const char *b, *e;

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if (!(b = strstr(s, open)) || !(e = strstr(b, close)))
		return 0;
	b += strlen(open);
	snprintf(buf, size, "%.*s", (int)(e - b), b);
	return 1;
}

/* err from a response that was not what the call needed.  Returns -1. */
static int
resp_fail(struct sl_svc_err *err, const struct sl_http_resp *resp,
    const char *what)
{
	char text[256] = "", field[256] = "";
	const char *s, *extra, *p = resp->body ? resp->body : "";
	jv body = jv_invalid(), list = jv_invalid(), first;
	int64_t code;

	err->status = resp->status;
	err->class = resp->class == SL_HTTP_OK ? SL_HTTP_PERMANENT :
	    resp->class;
	err->reason[0] = '\0';
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '{') {
		body = sl_http_json(resp);
		if (jv_get_kind(body) != JV_KIND_OBJECT)
			;
		else if (sl_get_int(body, "code", &code) == 1)
			snprintf(err->reason, sizeof err->reason, "%lld",
			    (long long)code);
		else if (sl_get_str(body, "error", &s) == 1)
			snprintf(err->reason, sizeof err->reason, "%s", s);
		if (jv_get_kind(body) == JV_KIND_OBJECT &&
		    (sl_get_str(body, "message", &s) == 1 ||
		    sl_get_str(body, "reason", &s) == 1))
			snprintf(text, sizeof text, "%s", s);
		if (jv_get_kind(body) == JV_KIND_OBJECT &&
		    sl_get_arr(body, "errors", &list) == 1 &&
		    jv_array_length(jv_copy(list)) > 0) {
			const char *f, *m;

			first = jv_array_get(jv_copy(list), 0);
			if (jv_get_kind(first) == JV_KIND_OBJECT &&
			    sl_get_str(first, "field", &f) == 1 &&
			    sl_get_str(first, "message", &m) == 1)
				snprintf(field, sizeof field, " (%s: %s)", f, m);
			jv_free(first);
		}
	} else if (*p == '<') {
		xml_tag(p, "code", err->reason, sizeof err->reason);
		xml_tag(p, "message", text, sizeof text);
	}
	/* Words of the server that http.c did not already quote. */
	extra = text[0] && !strstr(resp->error, text) ? text : "";
	if (resp->class == SL_HTTP_OK)
		snprintf(err->message, sizeof err->message, "%s: unexpected "
		    "answer from Zoom (HTTP %ld)", what, resp->status);
	else
		snprintf(err->message, sizeof err->message, "%s: %s%s%.100s"
		    "%.100s", what, resp->error, *extra ? ": " : "", extra,
		    field);
	jv_free(list);
	jv_free(body);
	return -1;
}

/*
 * Requests
 */

/* A daily limit, or a wait longer than we would sit through? */
static int
not_worth_waiting(const struct sl_http_resp *resp)
{
	const char *type;

	if (resp->retry_after_ms > MAX_WAIT_MS)
		return 1;
	return resp->status == 429 &&
	    sl_get_str(resp->headers, "x-ratelimit-type", &type) == 1 &&
	    strncasecmp(type, "daily", 5) == 0;
}

/* sl_http_do with Zoom's rate limits; resp to free. */
static void
perform(struct sl_http_req *req, struct sl_http_resp *resp)
{
	long wait;
	int tries;

	req->max_tries = 1;
	for (tries = 1; ; tries++) {
		sl_http_do(req, resp);
		if (resp->class != SL_HTTP_TEMPORARY || tries >= TRIES ||
		    not_worth_waiting(resp))
			return;
		wait = resp->retry_after_ms >= 0 ? resp->retry_after_ms :
		    sl_http_backoff_ms(tries + 1);
		sl_http_resp_free(resp);
		sl_sleep_ms(wait);
	}
}

/*
 * The account token in z->token: the cached one while more than
 * TOKEN_MARGIN seconds remain, unless force; else a new one, stored.
 */
static int
get_token(struct sl_zoom *z, struct sl_db *db, int force,
    struct sl_svc_err *err)
{
	const char *headers[] = { z->basic, "Accept: application/json", NULL };
	struct sl_http_req req = { 0 };
	struct sl_http_resp resp;
	const char *tok = NULL, *scope = NULL;
	char why[512], *stored = NULL, *acct, *url;
	int64_t now = sl_now(), exp = 0;
	double expires = DEFAULT_EXPIRES;
	jv ans;
	int rc;

	if (!force && z->token && z->expires - now >= TOKEN_MARGIN)
		return 0;
	if (!force) {
		if ((rc = sl_vault_get(db, "zoom", "", "access", &stored, &exp,
		    why, sizeof why)) != 0)
			return fail(err, rc == SL_EX_TEMPFAIL ?
			    SL_HTTP_TEMPORARY : SL_HTTP_PERMANENT,
			    rc == SL_EX_CONFIG ? "vault" : "ledger", why);
		if (stored && exp - now >= TOKEN_MARGIN) {
			free(z->token);
			z->token = stored;
			z->expires = exp;
			return 0;
		}
		free(stored);
	}
	acct = sl_http_escape(z->account);
	url = sl_asprintf("%s/oauth/token?grant_type=account_credentials&"
	    "account_id=%s", z->oauth, acct);
	free(acct);
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = "";
	req.idempotent = 1;	/* another token does no harm */
	perform(&req, &resp);
	free(url);
	ans = sl_http_json(&resp);
	rc = -1;
	if (resp.class != SL_HTTP_OK || jv_get_kind(ans) != JV_KIND_OBJECT ||
	    sl_get_str(ans, "access_token", &tok) != 1 || !*tok) {
		resp_fail(err, &resp, "getting a Zoom token");
		goto out;
	}
	sl_secret_add(tok);
	sl_get_str(ans, "scope", &scope);
	if (sl_get_num(ans, "expires_in", &expires) != 1 || expires < 0 ||
	    expires > 1e9)
		expires = DEFAULT_EXPIRES;
	free(z->token);
	z->token = sl_strdup(tok);
	z->expires = now + (int64_t)expires;
	if ((rc = sl_vault_put(db, "zoom", "", 0, "access", tok, scope,
	    z->expires, why, sizeof why)) != 0) {
		rc = fail(err, rc == SL_EX_TEMPFAIL ? SL_HTTP_TEMPORARY :
		    SL_HTTP_PERMANENT, rc == SL_EX_CONFIG ? "vault" : "ledger",
		    why);
		goto out;
	}
	rc = 0;
out:
	jv_free(ans);
	sl_http_resp_free(&resp);
	return rc;
}

/*
 * One API call: method BASE/v2path with body (borrowed; may be
 * jv_invalid() for none).  Returns 0 on a 2xx, else -1 with err; *resp is
 * always to be freed.
 */
static int
call(struct sl_zoom *z, struct sl_db *db, const char *method,
    const char *path, jv body, int idempotent, const char *what,
    struct sl_http_resp *resp, struct sl_svc_err *err)
{
	const char *headers[] = { NULL, "Content-Type: application/json",
		"Accept: application/json", NULL };
	struct sl_http_req req = { 0 };
	char *url = sl_asprintf("%s/v2%s", z->api, path), *text = NULL, *auth;
	int renewed = 0, rc = -1;

	memset(resp, 0, sizeof *resp);
	resp->headers = jv_null();
	if (jv_is_valid(body))
		text = sl_json_dump(body, NULL);
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = text;
	req.idempotent = idempotent;
	for (;;) {
		if (get_token(z, db, renewed, err) < 0)
			break;
		auth = sl_asprintf("Authorization: Bearer %s", z->token);
		headers[0] = auth;
		sl_http_resp_free(resp);
		perform(&req, resp);
		free(auth);
		if (resp->class == SL_HTTP_OK) {
			rc = 0;
			break;
		}
		if (resp->status == 401 && !renewed) {
			renewed = 1;
			continue;
		}
		resp_fail(err, resp, what);
		break;
	}
	free(text);
	free(url);
	return rc;
}

/*
 * Meetings
 */

/* A meeting password: PASSWORD_LEN characters of [A-Za-z0-9]. */
static int
password(char *buf)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[64];
	size_t i, n = 0;

	while (n < PASSWORD_LEN) {
		if (sl_random(r, sizeof r) < 0)
			return -1;
		/* 248 = 4 * 62: no bias towards the first characters. */
		for (i = 0; i < sizeof r && n < PASSWORD_LEN; i++)
			if (r[i] < 248)
				buf[n++] = abc[r[i] % 62];
	}
	buf[n] = '\0';
	return 0;
}

/* The meeting id as a string: "id", else the number in join_url. */
static jv
meeting_id(jv ans)
{
	const char *u, *p;
	size_t n;
	jv id;

	if (sl_get_id(ans, "id", &id) == 1)
		return id;
	if (sl_get_str(ans, "join_url", &u) == 1 && (p = strstr(u, "/j/")) &&
	    (n = strspn(p + 3, "0123456789")) > 0)
		return jv_string_sized(p + 3, (int)n);
	return jv_invalid();
}

/* {"start_time","duration","timezone"?} for create and update. */
static jv
when(const char *start_time, int duration_min, const char *tz)
{
	jv o = JV_OBJECT(jv_string("start_time"), jv_string(start_time),
	    jv_string("duration"), jv_number(duration_min));

	if (tz && *tz)
		o = sl_set(o, "timezone", jv_string(tz));
	return o;
}

int
sl_zoom_create(struct sl_zoom *z, struct sl_db *db, const char *user,
    const char *topic, int64_t start, int duration_min, const char *tz,
    jv *meeting, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char at[SL_TIME_BUFSZ], pw[PASSWORD_LEN + 1], *u, *path;
	const char *s;
	jv body, ans = jv_invalid(), id = jv_invalid();
	int rc = -1;

	memset(err, 0, sizeof *err);
	*meeting = jv_invalid();
	memset(&resp, 0, sizeof resp);
	resp.headers = jv_null();
	if (!sl_time_fmt(start, at) || duration_min <= 0)
		return fail(err, SL_HTTP_PERMANENT, "invalid_request",
		    "creating a Zoom meeting: bad start or duration");
	if (password(pw) < 0)
		return fail(err, SL_HTTP_PERMANENT, "random",
		    "creating a Zoom meeting: no random bytes");
	body = when(at, duration_min, tz);
	body = sl_set(body, "topic", jv_string(topic ? topic : "Meeting"));
	body = sl_set(body, "type", jv_number(2));
	body = sl_set(body, "password", jv_string(pw));
	body = sl_set(body, "settings", JV_OBJECT(jv_string("waiting_room"),
	    jv_true(), jv_string("join_before_host"), jv_false()));
	u = sl_http_escape(user && *user ? user : "me");
	path = sl_asprintf("/users/%s/meetings", u);
	free(u);
	if (call(z, db, "POST", path, body, 0, "creating a Zoom meeting",
	    &resp, err) < 0)
		goto out;
	ans = sl_http_json(&resp);
	if (jv_get_kind(ans) == JV_KIND_OBJECT)
		id = meeting_id(ans);
	if (!jv_is_valid(id)) {
		resp_fail(err, &resp, "creating a Zoom meeting");
		/* It may exist, and without its id it cannot be undone. */
		err->class = SL_HTTP_UNCERTAIN;
		goto out;
	}
	if (sl_get_str(ans, "start_url", &s) == 1)
		sl_secret_add(s);	/* holds the host's key */
	*meeting = sl_set(ans, "id", id);
	ans = jv_invalid();
	rc = 0;
out:
	jv_free(ans);
	jv_free(body);
	sl_http_resp_free(&resp);
	free(path);
	return rc;
}

int
sl_zoom_delete(struct sl_zoom *z, struct sl_db *db, const char *meeting_id,
    struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char *id = sl_http_escape(meeting_id), *path;
	int rc;

	memset(err, 0, sizeof *err);
	path = sl_asprintf("/meetings/%s", id);
	rc = call(z, db, "DELETE", path, jv_invalid(), 1,
	    "deleting a Zoom meeting", &resp, err);
	if (rc < 0 && err->status == 404) {
		memset(err, 0, sizeof *err);
		rc = 0;
	}
	sl_http_resp_free(&resp);
	free(path);
	free(id);
	return rc;
}

int
sl_zoom_update(struct sl_zoom *z, struct sl_db *db, const char *meeting_id,
    int64_t start, int duration_min, const char *tz, struct sl_svc_err *err)
{
	struct sl_http_resp resp;
	char at[SL_TIME_BUFSZ], *id, *path;
	jv body;
	int rc;

	memset(err, 0, sizeof *err);
	if (!sl_time_fmt(start, at) || duration_min <= 0)
		return fail(err, SL_HTTP_PERMANENT, "invalid_request",
		    "moving a Zoom meeting: bad start or duration");
	id = sl_http_escape(meeting_id);
	path = sl_asprintf("/meetings/%s", id);
	body = when(at, duration_min, tz);
	rc = call(z, db, "PATCH", path, body, 1, "moving a Zoom meeting",
	    &resp, err);
	jv_free(body);
	sl_http_resp_free(&resp);
	free(path);
	free(id);
	return rc;
}

int
sl_zoom_verify(struct sl_zoom *z, struct sl_db *db, const char *user,
    jv *account, struct sl_svc_err *err)
{
	static const char *const keys[] = { "id", "email", "account_id",
		"type" };
	struct sl_http_resp resp;
	char *u, *path;
	jv ans = jv_invalid(), out, v;
	size_t i;
	int rc = -1;

	memset(err, 0, sizeof *err);
	*account = jv_invalid();
	u = sl_http_escape(user && *user ? user : "me");
	path = sl_asprintf("/users/%s", u);
	free(u);
	if (call(z, db, "GET", path, jv_invalid(), 1, "verifying the Zoom "
	    "account", &resp, err) < 0)
		goto out;
	ans = sl_http_json(&resp);
	if (jv_get_kind(ans) != JV_KIND_OBJECT) {
		resp_fail(err, &resp, "verifying the Zoom account");
		goto out;
	}
	out = jv_object();
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		v = jv_object_get(jv_copy(ans), jv_string(keys[i]));
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL)
			out = sl_set(out, keys[i], v);
		else
			jv_free(v);
	}
	*account = out;
	rc = 0;
out:
	jv_free(ans);
	sl_http_resp_free(&resp);
	free(path);
	return rc;
}
