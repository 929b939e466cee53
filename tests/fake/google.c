/*
 * google.c: Google OAuth 2.0 in fake-api (shared/reference/apis.md
 * section 3), and the module that also serves Calendar v3 (google_cal.c).
 * Tests point GOOGLE_AUTH_URL, GOOGLE_OAUTH_URL and GOOGLE_API_URL at
 * the emulator; the paths are Google's:
 *
 *	GET  /o/oauth2/v2/auth	the consent page: consents at once and
 *				redirects (302) to redirect_uri with ?code=
 *				and &state=, or ?error=access_denied
 *	POST /token		authorization_code (with PKCE S256),
 *				refresh_token, and the device code grant
 *	POST /device/code	starts the device flow
 *	POST /revoke		revokes a token
 *
 * One OAuth client exists (fake-client-id.apps.googleusercontent.com /
 * fake-client-secret; POST /_fake/google/client changes it and how the
 * user answers).  Answers are Google's, errors {"error","error_description"}
 * with its statuses: 401 invalid_client, 400 invalid_grant (a bad or used
 * code, a wrong verifier, a refresh token expired or revoked), 400
 * unsupported_grant_type, and for the device flow 428
 * authorization_pending, 403 slow_down, 403 access_denied, 400
 * expired_token.  A code is single use: the first exchange that names it
 * spends it, whatever its outcome, and it lives 10 minutes.
 *
 * The device flow answers "pending" polls with authorization_pending,
 * then "slow_down" of them with slow_down (each adds 5 s to the pace it
 * checks), then the tokens; a poll sooner than the pace after the last
 * one is answered slow_down (and adds 5 s) too.  An interval of 0 turns
 * the pace check off.
 *
 * Access tokens expire expires_in seconds after they were issued, on the
 * emulator's clock, or at once by POST /_fake/google/expire; an API call
 * with one is answered 401 authError.  Refresh tokens live until revoked
 * (POST /_fake/google/revoke or /revoke), then invalid_grant "Token has
 * been expired or revoked.".  Revoking a refresh token with /revoke also
 * ends the access tokens it produced, as Google does; the control
 * endpoint leaves them alone, as a grant that runs out in Google's
 * testing mode does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "fake.h"
#include "fake_oauth.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"

#define GG_CLIENT_ID "fake-client-id.apps.googleusercontent.com"
#define GG_CLIENT_SECRET "fake-client-secret"
#define GG_USER_CODE "ABCD-EFGH"
#define GG_VERIFICATION_URL "https://www.google.com/device"
#define GG_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define GG_CODE_LIFE_MS (600 * 1000LL)
#define GG_SLOW_DOWN_MS 5000
#define GG_DEFAULT_SCOPE GG_SCOPE_PREFIX "calendar.events " \
	GG_SCOPE_PREFIX "calendar.freebusy"

struct gg_code {
	struct gg_code *next;
	char *code, *redirect_uri, *scope;
	char *challenge;	/* NULL: no PKCE */
	int offline, used;
	long long expires_ms;
};

struct gg_refresh {
	struct gg_refresh *next;
	char *token, *scope;
	int revoked;
};

struct gg_access {
	struct gg_access *next;
	char *token, *scope;
	char *refresh;		/* the refresh token it came from, or NULL */
	long long expires_ms;
	int expired;		/* by control, or its grant was revoked */
};

struct gg_device {
	struct gg_device *next;
	char *code, *scope;
	long long expires_ms, last_poll_ms;
	long pace_ms;		/* the least time between polls; 0: any */
	long pending, slow_downs;
	int polled, done;
};

/* The client, and how its user answers (POST /_fake/google/client). */
static struct {
	char *client_id, *client_secret;
	int deny;
	long pending, slow_downs, interval, expires_in, device_expires_in;
} cfg;

static int ready;
static struct gg_code *codes;
static struct gg_refresh *refreshes;
static struct gg_access *accesses;
static struct gg_device *devices;
static unsigned long epoch, serial;
static unsigned long n_exchanges, n_refreshes, n_device_codes;
static unsigned long n_device_polls, n_issued, n_api_calls, n_unauthorized;

int64_t
gg_unix_now(void)
{
	return (int64_t)time(NULL);
}

/* p[key] when it is a string, else NULL; lives as long as p. */
static const char *
param(jv p, const char *key)
{
	const char *s;

	return sl_get_str(p, key, &s) == 1 ? s : NULL;
}

static int
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static const char *
status_name(int status)
{
	switch (status) {
	case 400: return "INVALID_ARGUMENT";
	case 401: return "UNAUTHENTICATED";
	case 403: return "PERMISSION_DENIED";
	case 404: return "NOT_FOUND";
	case 409: return "ALREADY_EXISTS";
	case 429: return "RESOURCE_EXHAUSTED";
	}
	return NULL;
}

/* Google's API error; consumes detail (merged into errors[0]) or null. */
static void
api_error(struct fake_resp *resp, int status, const char *reason,
    const char *message, jv detail)
{
	jv e = sl_set(sl_set(sl_set(jv_object(), "domain",
	    jv_string("global")), "reason", jv_string(reason)), "message",
	    jv_string(message));
	jv o;
	const char *name = status_name(status);

	if (jv_get_kind(detail) == JV_KIND_OBJECT)
		e = jv_object_merge(e, detail);
	else
		jv_free(detail);
	o = sl_set(sl_set(sl_set(jv_object(), "code", jv_number(status)),
	    "message", jv_string(message)), "errors",
	    jv_array_append(jv_array(), e));
	if (name)
		o = sl_set(o, "status", jv_string(name));
	fake_reply_json(resp, status, sl_set(jv_object(), "error", o));
}

void
gg_error(struct fake_resp *resp, int status, const char *reason,
    const char *message)
{
	api_error(resp, status, reason, message, jv_null());
}

/* OAuth's error: {"error","error_description"}. */
static void
oauth_error(struct fake_resp *resp, int status, const char *error,
    const char *description)
{
	fake_reply_json(resp, status, sl_set(sl_set(jv_object(), "error",
	    jv_string(error)), "error_description", jv_string(description)));
}

void
gg_ctl_error(struct fake_resp *resp, int status, const char *msg)
{
	fake_reply_json(resp, status, sl_set(sl_set(jv_object(), "ok",
	    jv_false()), "error", jv_string(msg)));
}

jv
gg_ctl_params(const struct fake_req *req)
{
	jv body;

	/* JSON even when curl -d sent it as a form. */
	body = req->body_len ? sl_parse(req->body, req->body_len) : jv_null();
	if (jv_get_kind(body) == JV_KIND_OBJECT)
		return jv_object_merge(jv_copy(req->query), body);
	jv_free(body);
	return fake_params(req);
}

static char *
new_token(const char *prefix)
{
	return sl_asprintf("%s%lu-%06lu", prefix, epoch, ++serial);
}

/* Is name (after GG_SCOPE_PREFIX) in the space-separated list? */
static int
scope_has(const char *list, const char *name)
{
	size_t plen = strlen(GG_SCOPE_PREFIX), nlen = strlen(name), n;
	const char *p = list, *e;

	while (*p) {
		while (*p == ' ')
			p++;
		e = p;
		while (*e && *e != ' ')
			e++;
		n = (size_t)(e - p);
		if (n == plen + nlen &&
		    strncmp(p, GG_SCOPE_PREFIX, plen) == 0 &&
		    strncmp(p + plen, name, nlen) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* Does the device flow allow every scope of list (Calendar ones only)? */
static int
device_scopes_ok(const char *list)
{
	size_t plen = strlen(GG_SCOPE_PREFIX), n;
	const char *p = list, *e;
	int any = 0;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		e = p;
		while (*e && *e != ' ')
			e++;
		n = (size_t)(e - p);
		if (!(n >= plen + 8 && strncmp(p, GG_SCOPE_PREFIX, plen) == 0 &&
		    strncmp(p + plen, "calendar", 8) == 0 &&
		    (n == plen + 8 || p[plen + 8] == '.')))
			return 0;
		any = 1;
		p = e;
	}
	return any;
}

/*
 * Tokens.
 */

static struct gg_refresh *
issue_refresh(const char *scope)
{
	struct gg_refresh *r = sl_calloc(1, sizeof *r);

	r->token = new_token("1//0fake-refresh-");
	r->scope = sl_strdup(scope);
	r->next = refreshes;
	refreshes = r;
	return r;
}

static struct gg_access *
issue_access(const char *scope, const char *refresh, long expires_in)
{
	struct gg_access *a = sl_calloc(1, sizeof *a);

	a->token = new_token("ya29.fake-");
	a->scope = sl_strdup(scope);
	a->refresh = refresh ? sl_strdup(refresh) : NULL;
	a->expires_ms = fake_now_ms() + (long long)expires_in * 1000;
	a->next = accesses;
	accesses = a;
	n_issued++;
	return a;
}

/* /token's success; without r, no refresh_token (a refresh). */
static jv
token_answer(const struct gg_access *a, const struct gg_refresh *r,
    long expires_in)
{
	jv o = sl_set(jv_object(), "access_token", jv_string(a->token));

	o = sl_set(o, "expires_in", jv_number((double)expires_in));
	if (r)
		o = sl_set(o, "refresh_token", jv_string(r->token));
	o = sl_set(o, "scope", jv_string(a->scope));
	return sl_set(o, "token_type", jv_string("Bearer"));
}

static struct gg_refresh *
refresh_find(const char *t)
{
	struct gg_refresh *r;

	for (r = refreshes; r; r = r->next)
		if (strcmp(r->token, t) == 0)
			return r;
	return NULL;
}

static struct gg_access *
access_find(const char *t)
{
	struct gg_access *a;

	for (a = accesses; a; a = a->next)
		if (strcmp(a->token, t) == 0)
			return a;
	return NULL;
}

static int
access_live(const struct gg_access *a)
{
	return !a->expired && fake_now_ms() < a->expires_ms;
}

int
gg_authorize(const struct fake_req *req, struct fake_resp *resp,
    const char *const *scopes)
{
	struct gg_access *a = NULL;
	const char *h;
	int i;

	n_api_calls++;
	if (sl_get_str(req->headers, "authorization", &h) == 1 &&
	    strncasecmp(h, "Bearer ", 7) == 0) {
		for (h += 7; *h == ' '; h++)
			;
		a = access_find(h);
	}
	if (!a || !access_live(a)) {
		n_unauthorized++;
		fake_header(resp, "WWW-Authenticate", "Bearer "
		    "realm=\"https://accounts.google.com/\", "
		    "error=\"invalid_token\"");
		api_error(resp, 401, "authError", "Invalid Credentials",
		    sl_set(sl_set(jv_object(), "locationType",
		    jv_string("header")), "location",
		    jv_string("Authorization")));
		return 0;
	}
	for (i = 0; scopes[i]; i++)
		if (scope_has(a->scope, scopes[i]))
			return 1;
	api_error(resp, 403, "insufficientPermissions",
	    "Request had insufficient authentication scopes.", jv_null());
	return 0;
}

/*
 * The consent page.
 */

static void
page(struct fake_resp *resp, int status, const char *title, const char *text)
{
	char *s = sl_asprintf("<!DOCTYPE html>\n<html><head><title>%s</title>"
	    "</head><body><h1>%s</h1><p>%s</p></body></html>\n", title, title,
	    text);

	fake_reply(resp, status, "text/html; charset=utf-8", s, strlen(s));
	free(s);
}

/* s percent-encoded for a query; a new string. */
static char *
url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = sl_malloc(strlen(s) * 3 + 1), *o = out;
	unsigned char c;

	for (; *s; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* An installed app's redirect: http to a loopback address. */
static int
loopback(const char *uri)
{
	static const char *const hosts[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]", NULL
	};
	size_t n;
	int i;

	for (i = 0; hosts[i]; i++) {
		n = strlen(hosts[i]);
		if (strncmp(uri, hosts[i], n) == 0 && (uri[n] == '\0' ||
		    uri[n] == ':' || uri[n] == '/'))
			return 1;
	}
	return 0;
}

/* 302 to uri with the query (already encoded) added. */
static void
redirect(struct fake_resp *resp, const char *uri, const char *query)
{
	char *loc = sl_asprintf("%s%c%s", uri, strchr(uri, '?') ? '&' : '?',
	    query);

	page(resp, 302, "Moved Temporarily", "The document has moved.");
	fake_header(resp, "Location", loc);
	free(loc);
}

static void
auth(const struct fake_req *req, struct fake_resp *resp)
{
	jv p = fake_params(req);
	const char *id = param(p, "client_id"), *uri = param(p, "redirect_uri");
	const char *type = param(p, "response_type"), *scope = param(p,
	    "scope");
	const char *state = param(p, "state"), *ch = param(p,
	    "code_challenge");
	const char *method = param(p, "code_challenge_method");
	struct gg_code *c;
	char *es = state ? url_encode(state) : NULL, *q, *ec, *esc;

	if (!streq(id, cfg.client_id)) {
		page(resp, 401, "Error 401: invalid_client",
		    "The OAuth client was not found.");
	} else if (!uri || !*uri) {
		page(resp, 400, "Error 400: invalid_request",
		    "Missing required parameter: redirect_uri");
	} else if (strcmp(uri, "urn:ietf:wg:oauth:2.0:oob") == 0) {
		page(resp, 400, "Error 400: invalid_request",
		    "The out-of-band (OOB) flow has been blocked.");
	} else if (!loopback(uri)) {
		page(resp, 400, "Error 400: redirect_uri_mismatch",
		    "Use a loopback address (http://127.0.0.1:PORT).");
	} else if (!streq(type, "code")) {
		page(resp, 400, "Error 400: unsupported_response_type",
		    "Invalid response_type.");
	} else if (!scope || !*scope) {
		page(resp, 400, "Error 400: invalid_request",
		    "Missing required parameter: scope");
	} else if (ch && !streq(method, "S256")) {
		page(resp, 400, "Error 400: invalid_request",
		    "Invalid code_challenge_method: only S256 here.");
	} else if (cfg.deny) {
		q = sl_asprintf("error=access_denied%s%s", es ? "&state=" : "",
		    es ? es : "");
		redirect(resp, uri, q);
		free(q);
	} else {
		c = sl_calloc(1, sizeof *c);
		c->code = new_token("4/0fake-code-");
		c->redirect_uri = sl_strdup(uri);
		c->scope = sl_strdup(scope);
		c->challenge = ch ? sl_strdup(ch) : NULL;
		c->offline = streq(param(p, "access_type"), "offline");
		c->expires_ms = fake_now_ms() + GG_CODE_LIFE_MS;
		c->next = codes;
		codes = c;
		ec = url_encode(c->code);
		esc = url_encode(scope);
		q = sl_asprintf("code=%s&scope=%s%s%s", ec, esc,
		    es ? "&state=" : "", es ? es : "");
		redirect(resp, uri, q);
		free(q);
		free(ec);
		free(esc);
	}
	free(es);
	jv_free(p);
}

/*
 * POST /token.
 */

/* base64url(SHA-256(verifier)) without padding into out[64]. */
static int
pkce_s256(const char *verifier, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
	    "stuvwxyz0123456789-_";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i, o = 0;
	unsigned long v;

	if (!EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(),
	    NULL) || n != 32)
		return -1;
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)md[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)md[i + 1] << 8;
		if (i + 2 < n)
			v |= md[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
	return 0;
}

/* RFC 7636: 43 to 128 of [A-Za-z0-9-._~]. */
static int
verifier_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 43 || n > 128)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s)))
			return 0;
	return 1;
}

/* Are the client's id and secret ours?  Otherwise answers 401. */
static int
client_ok(jv p, int need_secret, struct fake_resp *resp)
{
	if (!param(p, "client_id")) {
		oauth_error(resp, 400, "invalid_request",
		    "Could not determine client ID from request.");
		return 0;
	}
	if (!streq(param(p, "client_id"), cfg.client_id) || (need_secret &&
	    !streq(param(p, "client_secret"), cfg.client_secret))) {
		oauth_error(resp, 401, "invalid_client", "Unauthorized");
		return 0;
	}
	return 1;
}

static void
exchange(jv p, struct fake_resp *resp)
{
	const char *code = param(p, "code"), *uri = param(p, "redirect_uri");
	const char *verifier = param(p, "code_verifier");
	struct gg_refresh *r = NULL;
	struct gg_access *a;
	struct gg_code *c;
	char want[64];

	n_exchanges++;
	if (!code) {
		oauth_error(resp, 400, "invalid_request",
		    "Missing required parameter: code");
		return;
	}
	for (c = codes; c && strcmp(c->code, code) != 0; c = c->next)
		;
	if (!c || c->used || fake_now_ms() >= c->expires_ms) {
		oauth_error(resp, 400, "invalid_grant", "Bad Request");
		return;
	}
	c->used = 1;
	if (!streq(uri, c->redirect_uri)) {
		oauth_error(resp, 400, "redirect_uri_mismatch", "Bad Request");
		return;
	}
	if (c->challenge) {
		if (!verifier) {
			oauth_error(resp, 400, "invalid_grant",
			    "Missing code verifier.");
			return;
		}
		if (!verifier_ok(verifier) || pkce_s256(verifier, want) < 0 ||
		    strcmp(want, c->challenge) != 0) {
			oauth_error(resp, 400, "invalid_grant", "Bad Request");
			return;
		}
	}
	if (c->offline)
		r = issue_refresh(c->scope);
	a = issue_access(c->scope, r ? r->token : NULL, cfg.expires_in);
	fake_reply_json(resp, 200, token_answer(a, r, cfg.expires_in));
}

static void
refresh(jv p, struct fake_resp *resp)
{
	const char *t = param(p, "refresh_token");
	struct gg_refresh *r;
	struct gg_access *a;

	n_refreshes++;
	if (!t) {
		oauth_error(resp, 400, "invalid_request",
		    "Missing required parameter: refresh_token");
		return;
	}
	if (!(r = refresh_find(t))) {
		oauth_error(resp, 400, "invalid_grant", "Bad Request");
		return;
	}
	if (r->revoked) {
		oauth_error(resp, 400, "invalid_grant",
		    "Token has been expired or revoked.");
		return;
	}
	a = issue_access(r->scope, r->token, cfg.expires_in);
	fake_reply_json(resp, 200, token_answer(a, NULL, cfg.expires_in));
}

static void
device_poll(jv p, struct fake_resp *resp)
{
	const char *code = param(p, "device_code");
	long long now = fake_now_ms();
	struct gg_refresh *r;
	struct gg_access *a;
	struct gg_device *d;
	int early;

	n_device_polls++;
	if (!code) {
		oauth_error(resp, 400, "invalid_request",
		    "Missing required parameter: device_code");
		return;
	}
	for (d = devices; d && strcmp(d->code, code) != 0; d = d->next)
		;
	if (!d || d->done) {
		oauth_error(resp, 400, "invalid_grant", "Bad Request");
		return;
	}
	if (now >= d->expires_ms) {
		oauth_error(resp, 400, "expired_token", "Expired");
		return;
	}
	if (cfg.deny) {
		oauth_error(resp, 403, "access_denied", "Forbidden");
		return;
	}
	early = d->polled && d->pace_ms > 0 &&
	    now - d->last_poll_ms < d->pace_ms;
	d->polled = 1;
	d->last_poll_ms = now;
	if (early || (d->pending <= 0 && d->slow_downs > 0)) {
		if (!early)
			d->slow_downs--;
		if (d->pace_ms > 0)
			d->pace_ms += GG_SLOW_DOWN_MS;
		oauth_error(resp, 403, "slow_down", "Forbidden");
		return;
	}
	if (d->pending > 0) {
		d->pending--;
		oauth_error(resp, 428, "authorization_pending",
		    "Precondition Required");
		return;
	}
	d->done = 1;
	r = issue_refresh(d->scope);
	a = issue_access(d->scope, r->token, cfg.expires_in);
	fake_reply_json(resp, 200, token_answer(a, r, cfg.expires_in));
}

static void
token(const struct fake_req *req, struct fake_resp *resp)
{
	jv p = fake_params(req);
	const char *grant = param(p, "grant_type");
	char *msg;

	if (strcmp(req->method, "POST") != 0) {
		oauth_error(resp, 405, "invalid_request", "Method Not Allowed");
		goto out;
	}
	if (!client_ok(p, 1, resp))
		goto out;
	if (streq(grant, "authorization_code")) {
		exchange(p, resp);
	} else if (streq(grant, "refresh_token")) {
		refresh(p, resp);
	} else if (streq(grant, GG_DEVICE_GRANT)) {
		device_poll(p, resp);
	} else {
		msg = sl_asprintf("Invalid grant_type: %s", grant ? grant : "");
		oauth_error(resp, 400, "unsupported_grant_type", msg);
		free(msg);
	}
out:
	jv_free(p);
}

static void
device_code(const struct fake_req *req, struct fake_resp *resp)
{
	jv p = fake_params(req);
	const char *scope = param(p, "scope");
	struct gg_device *d;
	char *msg;
	jv o;

	if (strcmp(req->method, "POST") != 0) {
		oauth_error(resp, 405, "invalid_request", "Method Not Allowed");
		goto out;
	}
	if (!client_ok(p, 0, resp))
		goto out;
	if (!scope || !device_scopes_ok(scope)) {
		msg = sl_asprintf("Invalid device flow scope: %s",
		    scope ? scope : "");
		oauth_error(resp, 400, "invalid_scope", msg);
		free(msg);
		goto out;
	}
	d = sl_calloc(1, sizeof *d);
	d->code = new_token("AH-1fake-device-");
	d->scope = sl_strdup(scope);
	d->expires_ms = fake_now_ms() + cfg.device_expires_in * 1000LL;
	d->pace_ms = cfg.interval * 1000;
	d->pending = cfg.pending;
	d->slow_downs = cfg.slow_downs;
	d->next = devices;
	devices = d;
	n_device_codes++;
	o = sl_set(jv_object(), "device_code", jv_string(d->code));
	o = sl_set(o, "user_code", jv_string(GG_USER_CODE));
	o = sl_set(o, "verification_url", jv_string(GG_VERIFICATION_URL));
	o = sl_set(o, "expires_in", jv_number((double)cfg.device_expires_in));
	o = sl_set(o, "interval", jv_number((double)cfg.interval));
	fake_reply_json(resp, 200, o);
out:
	jv_free(p);
}

/* POST /revoke?token=T: a refresh token takes its access tokens along. */
static void
revoke(const struct fake_req *req, struct fake_resp *resp)
{
	jv p = fake_params(req);
	const char *t = param(p, "token");
	struct gg_refresh *r;
	struct gg_access *a;

	if (t && (r = refresh_find(t)) && !r->revoked) {
		r->revoked = 1;
		for (a = accesses; a; a = a->next)
			if (streq(a->refresh, t))
				a->expired = 1;
		fake_reply_json(resp, 200, jv_object());
	} else if (t && (a = access_find(t)) && access_live(a)) {
		a->expired = 1;
		fake_reply_json(resp, 200, jv_object());
	} else {
		oauth_error(resp, 400, "invalid_token",
		    "Token expired or revoked");
	}
	jv_free(p);
}

/*
 * Control endpoints: /_fake/google/...
 */

/* p[key] as an integer within [min, max]: 1, 0 absent, -1 answered. */
static int
ctl_long(jv p, const char *key, long min, long max, long *out,
    struct fake_resp *resp)
{
	int64_t v;
	char msg[160];
	int r = sl_get_int(p, key, &v);

	if (r == 0)
		return 0;
	if (r < 0 || v < min || v > max) {
		snprintf(msg, sizeof msg, "'%s': expected an integer from %ld "
		    "to %ld", key, min, max);
		gg_ctl_error(resp, 400, msg);
		return -1;
	}
	*out = (long)v;
	return 1;
}

static jv
ctl_settings(void)
{
	jv o = sl_set(jv_object(), "ok", jv_true());

	o = sl_set(o, "client_id", jv_string(cfg.client_id));
	o = sl_set(o, "client_secret", jv_string(cfg.client_secret));
	o = sl_set(o, "deny", jv_bool(cfg.deny));
	o = sl_set(o, "pending", jv_number((double)cfg.pending));
	o = sl_set(o, "slow_down", jv_number((double)cfg.slow_downs));
	o = sl_set(o, "interval", jv_number((double)cfg.interval));
	o = sl_set(o, "expires_in", jv_number((double)cfg.expires_in));
	return sl_set(o, "device_expires_in",
	    jv_number((double)cfg.device_expires_in));
}

static void
ctl_client(jv p, struct fake_resp *resp)
{
	long pending = cfg.pending, slow = cfg.slow_downs;
	long interval = cfg.interval, life = cfg.expires_in;
	long dlife = cfg.device_expires_in;
	const char *id = NULL, *secret = NULL;
	int deny = cfg.deny;

	if (sl_get_str(p, "client_id", &id) < 0 ||
	    sl_get_str(p, "client_secret", &secret) < 0 ||
	    (id && !*id) || (secret && !*secret)) {
		gg_ctl_error(resp, 400, "'client_id', 'client_secret': "
		    "expected non-empty strings");
		return;
	}
	if (sl_get_bool(p, "deny", &deny) < 0) {
		gg_ctl_error(resp, 400, "'deny': expected true or false");
		return;
	}
	if (ctl_long(p, "pending", 0, 1000, &pending, resp) < 0 ||
	    ctl_long(p, "slow_down", 0, 1000, &slow, resp) < 0 ||
	    ctl_long(p, "interval", 0, 3600, &interval, resp) < 0 ||
	    ctl_long(p, "expires_in", 1, 86400 * 365, &life, resp) < 0 ||
	    ctl_long(p, "device_expires_in", 0, 86400, &dlife, resp) < 0)
		return;
	if (id) {
		free(cfg.client_id);
		cfg.client_id = sl_strdup(id);
	}
	if (secret) {
		free(cfg.client_secret);
		cfg.client_secret = sl_strdup(secret);
	}
	cfg.deny = deny;
	cfg.pending = pending;
	cfg.slow_downs = slow;
	cfg.interval = interval;
	cfg.expires_in = life;
	cfg.device_expires_in = dlife;
	fake_reply_json(resp, 200, ctl_settings());
}

/* A grant without the consent dance: {"scope"?,"expires_in"?}. */
static void
ctl_grant(jv p, struct fake_resp *resp)
{
	const char *scope = GG_DEFAULT_SCOPE;
	struct gg_refresh *r;
	struct gg_access *a;
	long life = cfg.expires_in;

	if (sl_get_str(p, "scope", &scope) < 0 || !*scope) {
		gg_ctl_error(resp, 400, "'scope': expected a string");
		return;
	}
	if (ctl_long(p, "expires_in", 1, 86400 * 365, &life, resp) < 0)
		return;
	r = issue_refresh(scope);
	a = issue_access(scope, r->token, life);
	fake_reply_json(resp, 200, token_answer(a, r, life));
}

/*
 * {"token":T} or {"all":true} (also an empty body): expire (access) or
 * revoke (refresh) tokens.
 */
static void
ctl_end(jv p, int refresh_tokens, struct fake_resp *resp)
{
	const char *t = NULL;
	struct gg_refresh *r;
	struct gg_access *a;
	unsigned long n = 0;

	if (sl_get_str(p, "token", &t) < 0) {
		gg_ctl_error(resp, 400, "'token': expected a string");
		return;
	}
	if (refresh_tokens) {
		for (r = refreshes; r; r = r->next)
			if ((!t || strcmp(t, r->token) == 0) && !r->revoked) {
				r->revoked = 1;
				n++;
			}
	} else {
		for (a = accesses; a; a = a->next)
			if ((!t || strcmp(t, a->token) == 0) &&
			    access_live(a)) {
				a->expired = 1;
				n++;
			}
	}
	if (t && n == 0) {
		gg_ctl_error(resp, 404, "fake-api: no such live token");
		return;
	}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), refresh_tokens ? "revoked" : "expired",
	    jv_number((double)n)));
}

static void
ctl_tokens(struct fake_resp *resp)
{
	jv acc = jv_array(), ref = jv_array(), o;
	struct gg_refresh *r;
	struct gg_access *a;
	unsigned long live = 0;

	for (a = accesses; a; a = a->next) {
		live += (unsigned long)access_live(a);
		o = sl_set(jv_object(), "token", jv_string(a->token));
		o = sl_set(o, "scope", jv_string(a->scope));
		o = sl_set(o, "expired", jv_bool(!access_live(a)));
		acc = jv_array_append(acc, o);
	}
	for (r = refreshes; r; r = r->next) {
		o = sl_set(jv_object(), "token", jv_string(r->token));
		o = sl_set(o, "scope", jv_string(r->scope));
		o = sl_set(o, "revoked", jv_bool(r->revoked));
		ref = jv_array_append(ref, o);
	}
	o = sl_set(jv_object(), "exchanges", jv_number((double)n_exchanges));
	o = sl_set(o, "refreshes", jv_number((double)n_refreshes));
	o = sl_set(o, "device_codes", jv_number((double)n_device_codes));
	o = sl_set(o, "device_polls", jv_number((double)n_device_polls));
	o = sl_set(o, "issued", jv_number((double)n_issued));
	o = sl_set(o, "live", jv_number((double)live));
	o = sl_set(o, "api_calls", jv_number((double)n_api_calls));
	o = sl_set(o, "unauthorized", jv_number((double)n_unauthorized));
	o = sl_set(o, "access_tokens", acc);
	fake_reply_json(resp, 200, sl_set(o, "refresh_tokens", ref));
}

static void
control(const struct fake_req *req, const char *what, struct fake_resp *resp)
{
	int get = strcmp(req->method, "GET") == 0;
	int post = strcmp(req->method, "POST") == 0;
	jv p = gg_ctl_params(req);

	if (strcmp(what, "client") == 0 && post)
		ctl_client(p, resp);
	else if (strcmp(what, "client") == 0 && get)
		fake_reply_json(resp, 200, ctl_settings());
	else if (strcmp(what, "grant") == 0 && post)
		ctl_grant(p, resp);
	else if (strcmp(what, "expire") == 0 && post)
		ctl_end(p, 0, resp);
	else if (strcmp(what, "revoke") == 0 && post)
		ctl_end(p, 1, resp);
	else if (strcmp(what, "tokens") == 0 && get)
		ctl_tokens(resp);
	else if (!gg_cal_control(req, what, resp))
		gg_ctl_error(resp, 404, "fake-api: no such Google control "
		    "endpoint (or wrong method)");
	jv_free(p);
}

/*
 * The module.
 */

static void
forget(void)
{
	struct gg_code *c;
	struct gg_refresh *r;
	struct gg_access *a;
	struct gg_device *d;

	while ((c = codes)) {
		codes = c->next;
		free(c->code);
		free(c->redirect_uri);
		free(c->scope);
		free(c->challenge);
		free(c);
	}
	while ((r = refreshes)) {
		refreshes = r->next;
		free(r->token);
		free(r->scope);
		free(r);
	}
	while ((a = accesses)) {
		accesses = a->next;
		free(a->token);
		free(a->scope);
		free(a->refresh);
		free(a);
	}
	while ((d = devices)) {
		devices = d->next;
		free(d->code);
		free(d->scope);
		free(d);
	}
	free(cfg.client_id);
	free(cfg.client_secret);
	memset(&cfg, 0, sizeof cfg);
}

/* Under the lock (POST /_fake/reset), and lazily before the first use. */
static void
gg_reset(void)
{
	forget();
	cfg.client_id = sl_strdup(GG_CLIENT_ID);
	cfg.client_secret = sl_strdup(GG_CLIENT_SECRET);
	cfg.pending = 1;
	cfg.slow_downs = 1;
	cfg.interval = 5;
	cfg.expires_in = 3599;
	cfg.device_expires_in = 1800;
	n_exchanges = n_refreshes = n_device_codes = n_device_polls = 0;
	n_issued = n_api_calls = n_unauthorized = 0;
	serial = 0;
	epoch++;
	gg_cal_reset();
	ready = 1;
}

static int
gg_handle(const struct fake_req *req, struct fake_resp *resp)
{
	const char *path = req->path;

	if (!ready)
		gg_reset();
	if (strncmp(path, "/_fake/google/", 14) == 0)
		control(req, path + 14, resp);
	else if (strcmp(path, "/o/oauth2/v2/auth") == 0 ||
	    strcmp(path, "/o/oauth2/auth") == 0)
		auth(req, resp);
	else if (strcmp(path, "/token") == 0)
		token(req, resp);
	else if (strcmp(path, "/device/code") == 0)
		device_code(req, resp);
	else if (strcmp(path, "/revoke") == 0)
		revoke(req, resp);
	else if (strncmp(path, "/calendar/v3/", 13) == 0)
		gg_calendar(req, resp);
	else
		return 0;
	return 1;
}

/* At exit, after the server stopped. */
static void
gg_cleanup(void)
{
	forget();
	gg_cal_cleanup();
	sl_zone_free_all();
	ready = 0;
}

const struct fake_module fake_google = {
	"google",
	NULL,
	NULL,
	NULL,
	gg_handle,
	gg_reset,
	gg_cleanup,
};
