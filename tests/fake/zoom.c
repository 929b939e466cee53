/*
 * zoom.c: Zoom's Server-to-Server OAuth and meetings in fake-api
 * (shared/reference/apis.md section 5).  Tests point ZOOM_OAUTH_URL and
 * ZOOM_API_URL at the emulator; the paths are Zoom's:
 *
 *	POST   /oauth/token?grant_type=account_credentials&account_id=ID
 *	       (or the same as a form), Authorization: Basic
 *	       base64(client_id:client_secret)
 *	POST   /v2/users/{userId}/meetings	201 Created
 *	GET    /v2/meetings/{meetingId}
 *	PATCH  /v2/meetings/{meetingId}		204
 *	DELETE /v2/meetings/{meetingId}		204
 *	GET    /v2/users/{userId}
 *
 * One account ("fake-account", client "fake-zoom-client", secret
 * "fake-zoom-secret"; POST /_fake/zoom/account changes them) with one
 * user, the owner, who is "me": dana@example.com, whose zone is
 * America/Los_Angeles (so a local start_time sent without "timezone" is
 * read in that zone, as Zoom does, and a client that forgets it books the
 * wrong hour).  POST /_fake/zoom/user adds users.
 *
 * Tokens are opaque, live expires_in seconds on the emulator's clock
 * (several coexist; there is no refresh token) and can be expired by
 * POST /_fake/zoom/expire.  "api_url" in the token answer is the
 * emulator itself (from the Host header), so a client that follows it
 * stays on the loopback.
 *
 * Errors are Zoom's: /oauth/token {"reason","error"} with 400; the API
 * {"code","message"} with 401 code 124 (expired or unknown token), 400
 * code 300 (validation, with "errors":[{"field","message"}], or a body
 * that is not a JSON object), 404 code 1001 (user) and 3001 (meeting),
 * 429 code 429 after POST /_fake/zoom/ratelimit, with Zoom's X-RateLimit-*
 * headers and Retry-After.  POST /_fake/zoom/errors {"xml":true} turns
 * the API's error bodies into Zoom's XML.
 *
 * start_time is accepted only as yyyy-MM-ddTHH:mm:ssZ (UTC) or
 * yyyy-MM-ddTHH:mm:ss (local in "timezone", else the user's zone); it is
 * echoed in UTC with Z.  Meeting ids count from 86311432571 and are
 * written as JSON integers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"

#define ZM_ACCOUNT "fake-account"
#define ZM_CLIENT "fake-zoom-client"
#define ZM_SECRET "fake-zoom-secret"
#define ZM_SCOPE "meeting:write:meeting:admin user:read:user:admin"
#define ZM_FIRST_ID 86311432571LL
#define ZM_JOIN_BASE "https://us06web.zoom.us"
#define ZM_DAY 86400

struct zm_token {
	struct zm_token *next;
	char *token;
	long long expires_ms;
	int expired;
};

struct zm_user {
	struct zm_user *next;
	char *id, *email, *first, *last, *tz;
};

struct zm_meeting {
	struct zm_meeting *next;
	long long id;
	jv obj;			/* as GET answers it */
	int deleted;
};

static struct {
	char *account, *client, *secret;
	long expires_in;
	int xml;
	long limited;		/* API calls left to answer 429 */
	int daily;		/* the limit is the daily one, not QPS */
	char *retry_after;	/* NULL: the default for the kind */
} cfg;

static int ready;
static struct zm_token *tokens;
static struct zm_user *users, **users_tail = &users;
static struct zm_meeting *meetings, **meetings_tail = &meetings;
static unsigned long epoch, serial, n_issued, n_api_calls, n_limited;
static long long next_id;

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

static int64_t
unix_now(void)
{
	return (int64_t)time(NULL);
}

static jv
utc(int64_t t)
{
	char buf[SL_TIME_BUFSZ];

	return sl_time_fmt(t, buf) ? jv_string(buf) : jv_null();
}

static void
ctl_error(struct fake_resp *resp, int status, const char *msg)
{
	fake_reply_json(resp, status, sl_set(sl_set(jv_object(), "ok",
	    jv_false()), "error", jv_string(msg)));
}

static void
oauth_error(struct fake_resp *resp, const char *reason, const char *error)
{
	fake_reply_json(resp, 400, sl_set(sl_set(jv_object(), "reason",
	    jv_string(reason)), "error", jv_string(error)));
}

/* s with &, <, >, " escaped for XML; a new string. */
static char *
xml_escape(const char *s)
{
	char *out = sl_malloc(strlen(s) * 6 + 1), *o = out;

	for (; *s; s++) {
		const char *r = NULL;

		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		}
		if (r) {
			memcpy(o, r, strlen(r));
			o += strlen(r);
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* An API error: {"code","message","errors"?}, or XML; field may be NULL. */
static void
api_error(struct fake_resp *resp, int status, int code, const char *message,
    const char *field)
{
	char *m, *f, *s;
	jv o;

	if (cfg.xml) {
		m = xml_escape(message);
		f = field ? xml_escape(field) : NULL;
		s = sl_asprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		    "<result><code>%d</code><message>%s</message>%s%s%s"
		    "</result>", code, m, f ? "<errors><field>" : "",
		    f ? f : "", f ? "</field><message>Invalid field."
		    "</message></errors>" : "");
		fake_reply(resp, status, "application/xml;charset=UTF-8", s,
		    strlen(s));
		free(s);
		free(m);
		free(f);
		return;
	}
	o = sl_set(sl_set(jv_object(), "code", jv_number(code)), "message",
	    jv_string(message));
	if (field)
		o = sl_set(o, "errors", jv_array_append(jv_array(),
		    sl_set(sl_set(jv_object(), "field", jv_string(field)),
		    "message", jv_string("Invalid field."))));
	fake_reply_json(resp, status, o);
}

static void
invalid_field(struct fake_resp *resp, const char *field)
{
	api_error(resp, 400, 300, "Validation Failed.", field);
}

/*
 * OAuth.
 */

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 (padding optional); a new string, NULL when bad. */
static char *
b64_decode(const char *s)
{
	size_t n = strlen(s), o = 0, i;
	char *out = sl_malloc(n + 1);
	unsigned long acc = 0;
	int bits = 0, v;

	while (n && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (memchr(out, '\0', o)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Is the request's Basic auth our client_id:client_secret? */
static int
basic_ok(const struct fake_req *req)
{
	const char *h;
	char *cred, *want;
	int ok;

	if (sl_get_str(req->headers, "authorization", &h) != 1 ||
	    strncasecmp(h, "Basic ", 6) != 0)
		return 0;
	for (h += 6; *h == ' '; h++)
		;
	if (!(cred = b64_decode(h)))
		return 0;
	want = sl_asprintf("%s:%s", cfg.client, cfg.secret);
	ok = strcmp(cred, want) == 0;
	free(want);
	free(cred);
	return ok;
}

static void
oauth_token(const struct fake_req *req, struct fake_resp *resp)
{
	jv p = fake_params(req), o;
	const char *host = NULL;
	struct zm_token *t;

	if (strcmp(req->method, "POST") != 0) {
		oauth_error(resp, "Method Not Allowed", "invalid_request");
	} else if (!basic_ok(req)) {
		oauth_error(resp, "Invalid client_id or client_secret",
		    "invalid_client");
	} else if (!streq(param(p, "grant_type"), "account_credentials")) {
		oauth_error(resp, "unsupported grant type",
		    "unsupported_grant_type");
	} else if (!streq(param(p, "account_id"), cfg.account)) {
		oauth_error(resp, "Invalid account_id", "invalid_request");
	} else {
		t = sl_calloc(1, sizeof *t);
		t->token = sl_asprintf("eyJzdiI6IjAwMDAwMSJ9.fake-%lu-%06lu",
		    epoch, ++serial);
		t->expires_ms = fake_now_ms() + (long long)cfg.expires_in *
		    1000;
		t->next = tokens;
		tokens = t;
		n_issued++;
		sl_get_str(req->headers, "host", &host);
		o = sl_set(jv_object(), "access_token", jv_string(t->token));
		o = sl_set(o, "token_type", jv_string("bearer"));
		o = sl_set(o, "expires_in", jv_number((double)cfg.expires_in));
		o = sl_set(o, "scope", jv_string(ZM_SCOPE));
		o = sl_set(o, "api_url", host ? jv_string_fmt("http://%s",
		    host) : jv_string("https://api.zoom.us"));
		fake_reply_json(resp, 200, o);
	}
	jv_free(p);
}

static int
token_live(const struct zm_token *t)
{
	return !t->expired && fake_now_ms() < t->expires_ms;
}

/*
 * The API.
 */

static struct zm_user *
user_find(const char *id)
{
	struct zm_user *u;

	if (strcmp(id, "me") == 0)
		return users;
	for (u = users; u; u = u->next)
		if (strcmp(u->id, id) == 0 || strcasecmp(u->email, id) == 0)
			return u;
	return NULL;
}

static struct zm_user *
user_add(const char *id, const char *email, const char *first,
    const char *last, const char *tz)
{
	struct zm_user *u = sl_calloc(1, sizeof *u);

	u->id = sl_strdup(id);
	u->email = sl_strdup(email);
	u->first = sl_strdup(first);
	u->last = sl_strdup(last);
	u->tz = sl_strdup(tz);
	*users_tail = u;
	users_tail = &u->next;
	return u;
}

static struct zm_meeting *
meeting_find(const char *s)
{
	struct zm_meeting *m;
	long long id = 0;
	const char *p;

	if (!*s || strlen(s) > 18)
		return NULL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		id = id * 10 + (*p - '0');
	}
	for (m = meetings; m; m = m->next)
		if (m->id == id && !m->deleted)
			return m;
	return NULL;
}

/* A zone Zoom knows: an IANA name from the database, not "UTC+3". */
static const struct sl_zone *
zone(const char *name)
{
	if (strcmp(name, "UTC") != 0 && strcmp(name, "GMT") != 0 &&
	    !strchr(name, '/'))
		return NULL;
	return sl_zone_load(name);
}

/*
 * start_time: "yyyy-MM-ddTHH:mm:ssZ", or "yyyy-MM-ddTHH:mm:ss" local in
 * z.  Returns 0, or -1 for anything else.
 */
static int
start_parse(const char *s, const struct sl_zone *z, int64_t *t)
{
	char buf[32];
	struct sl_tm tm;
	int64_t c, days;
	size_t n = strlen(s);

	if ((n != 19 && !(n == 20 && s[19] == 'Z')) || s[10] != 'T')
		return -1;
	snprintf(buf, sizeof buf, "%.19sZ", s);
	if (sl_time_parse(buf, &c) < 0)
		return -1;
	if (n == 20) {
		*t = c;
		return 0;
	}
	if (!z)
		return -1;
	memset(&tm, 0, sizeof tm);
	days = c >= 0 ? c / ZM_DAY : (c - ZM_DAY + 1) / ZM_DAY;
	sl_civil_from_days(days, &tm.year, &tm.mon, &tm.mday);
	c -= days * ZM_DAY;
	tm.hour = (int)(c / 3600);
	tm.min = (int)(c / 60 % 60);
	tm.sec = (int)(c % 60);
	return sl_from_local(&tm, z, t);
}

/* A password Zoom takes: up to 10 of [a-zA-Z0-9@-_*]. */
static int
password_ok(const char *s)
{
	if (!*s || strlen(s) > 10)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("@-_*", *s)))
			return 0;
	return 1;
}

/* The links and passwords of meeting m (its id and password set). */
static jv
derive(jv m, long long id)
{
	const char *pw = "";
	char *enc;

	sl_get_str(m, "password", &pw);
	enc = sl_asprintf("ZmFrZQ%s.1", pw);
	m = sl_set(m, "encrypted_password", jv_string(enc));
	m = sl_set(m, "join_url", jv_string_fmt(ZM_JOIN_BASE "/j/%lld?pwd=%s",
	    id, enc));
	m = sl_set(m, "start_url", jv_string_fmt(ZM_JOIN_BASE "/s/%lld?zak="
	    "eyJ0eXAiOiJKV1QifakeZak%lu", id, serial));
	free(enc);
	return m;
}

/*
 * Applies the fields of body (borrowed) to meeting m (consumed):
 * topic, type, start_time, duration, timezone, password, agenda,
 * settings.  Returns the meeting, or null after answering 400.
 */
static jv
apply(jv m, jv body, const struct zm_user *u, struct fake_resp *resp)
{
	const struct sl_zone *z = NULL;
	const char *s, *tz = u->tz, *bad = NULL;
	int64_t n, t = 0;
	jv set = jv_null(), old;
	int ks = sl_get_obj(body, "settings", &set);

	sl_get_str(m, "timezone", &tz);
	if (ks < 0)
		bad = "settings";
	else if (sl_get_str(body, "topic", &s) < 0 ||
	    (sl_get_str(body, "topic", &s) == 1 && strlen(s) > 200))
		bad = "topic";
	else if (sl_get_int(body, "type", &n) < 0 || (sl_get_int(body, "type",
	    &n) == 1 && n != 1 && n != 2 && n != 3 && n != 8))
		bad = "type";
	else if (sl_get_int(body, "duration", &n) < 0 ||
	    (sl_get_int(body, "duration", &n) == 1 && (n < 0 || n > 100000)))
		bad = "duration";
	else if (sl_get_str(body, "timezone", &tz) < 0 || !(z = zone(tz)))
		bad = "timezone";
	else if (sl_get_str(body, "password", &s) < 0 ||
	    (sl_get_str(body, "password", &s) == 1 && !password_ok(s)))
		bad = "password";
	else if (sl_get_str(body, "agenda", &s) < 0)
		bad = "agenda";
	else if (sl_get_str(body, "start_time", &s) != 0 &&
	    (sl_get_str(body, "start_time", &s) < 0 ||
	    start_parse(s, z, &t) < 0))
		bad = "start_time";
	if (bad) {
		jv_free(set);
		jv_free(m);
		invalid_field(resp, bad);
		return jv_null();
	}
	if (sl_get_str(body, "start_time", &s) == 1)
		m = sl_set(m, "start_time", utc(t));
	if (sl_get_str(body, "topic", &s) == 1)
		m = sl_set(m, "topic", jv_string(s));
	if (sl_get_int(body, "type", &n) == 1)
		m = sl_set(m, "type", jv_number((double)n));
	if (sl_get_int(body, "duration", &n) == 1)
		m = sl_set(m, "duration", jv_number((double)n));
	m = sl_set(m, "timezone", jv_string(tz));
	if (sl_get_str(body, "password", &s) == 1)
		m = sl_set(m, "password", jv_string(s));
	if (sl_get_str(body, "agenda", &s) == 1)
		m = sl_set(m, "agenda", jv_string(s));
	if (ks == 1) {
		old = jv_object_get(jv_copy(m), jv_string("settings"));
		if (jv_get_kind(old) != JV_KIND_OBJECT) {
			jv_free(old);
			old = jv_object();
		}
		m = sl_set(m, "settings", jv_object_merge(old, set));
	}
	return m;
}

static jv
default_settings(void)
{
	jv s = jv_object();

	s = sl_set(s, "host_video", jv_false());
	s = sl_set(s, "participant_video", jv_false());
	s = sl_set(s, "join_before_host", jv_false());
	s = sl_set(s, "mute_upon_entry", jv_false());
	s = sl_set(s, "waiting_room", jv_false());
	s = sl_set(s, "audio", jv_string("voip"));
	return sl_set(s, "auto_recording", jv_string("none"));
}

/* The body as a JSON object, or null after answering 400 (code 300). */
static jv
body_object(const struct fake_req *req, struct fake_resp *resp)
{
	jv v = req->body_len ? sl_parse(req->body, req->body_len) :
	    jv_invalid();

	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	api_error(resp, 400, 300, "Request Body should be a valid JSON "
	    "object.", NULL);
	return jv_null();
}

static void
user_not_found(struct fake_resp *resp, const char *id)
{
	char *msg = sl_asprintf("User does not exist: %s.", id);

	api_error(resp, 404, 1001, msg, NULL);
	free(msg);
}

static void
meeting_not_found(struct fake_resp *resp, const char *id)
{
	char *msg = sl_asprintf("Meeting does not exist: %s.", id);

	api_error(resp, 404, 3001, msg, NULL);
	free(msg);
}

static void
create(const struct fake_req *req, const char *uid, struct fake_resp *resp)
{
	struct zm_user *u = user_find(uid);
	struct zm_meeting *mt;
	long long id;
	jv body, m;

	if (!u) {
		user_not_found(resp, uid);
		return;
	}
	body = body_object(req, resp);
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return;
	id = next_id;
	m = sl_set(jv_object(), "uuid", jv_string_fmt("fakeUuid%014lld==",
	    id - ZM_FIRST_ID + 1));
	m = sl_set(m, "id", jv_number((double)id));
	m = sl_set(m, "host_id", jv_string(u->id));
	m = sl_set(m, "host_email", jv_string(u->email));
	m = sl_set(m, "topic", jv_string("Zoom meeting"));
	m = sl_set(m, "type", jv_number(2));
	m = sl_set(m, "status", jv_string("waiting"));
	m = sl_set(m, "start_time", utc(unix_now()));
	m = sl_set(m, "duration", jv_number(60));
	m = sl_set(m, "timezone", jv_string(u->tz));
	m = sl_set(m, "created_at", utc(unix_now()));
	m = sl_set(m, "password", jv_string_fmt("Fk%06lld",
	    (id * 7919) % 1000000));
	m = sl_set(m, "h323_password", jv_string_fmt("%06lld",
	    (id * 7919) % 1000000));
	m = sl_set(m, "pstn_password", jv_string_fmt("%06lld",
	    (id * 7919) % 1000000));
	m = sl_set(m, "settings", default_settings());
	m = sl_set(m, "pre_schedule", jv_false());
	m = apply(m, body, u, resp);
	jv_free(body);
	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return;
	next_id++;
	m = derive(m, id);
	mt = sl_calloc(1, sizeof *mt);
	mt->id = id;
	mt->obj = fake_own(jv_copy(m));
	*meetings_tail = mt;
	meetings_tail = &mt->next;
	fake_reply_json(resp, 201, m);
}

static void
patch(const struct fake_req *req, struct zm_meeting *mt,
    struct fake_resp *resp)
{
	const struct zm_user *u = users;
	const char *host;
	jv body = body_object(req, resp), m;

	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return;
	if (sl_get_str(mt->obj, "host_id", &host) == 1 && user_find(host))
		u = user_find(host);
	m = apply(jv_copy(mt->obj), body, u, resp);
	jv_free(body);
	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return;
	m = derive(m, mt->id);
	jv_free(mt->obj);
	mt->obj = fake_own(m);
	fake_reply(resp, 204, NULL, "", 0);
}

static void
user_get(const struct zm_user *u, struct fake_resp *resp)
{
	jv o = sl_set(jv_object(), "id", jv_string(u->id));

	o = sl_set(o, "first_name", jv_string(u->first));
	o = sl_set(o, "last_name", jv_string(u->last));
	o = sl_set(o, "display_name", jv_string_fmt("%s %s", u->first,
	    u->last));
	o = sl_set(o, "email", jv_string(u->email));
	o = sl_set(o, "type", jv_number(2));
	o = sl_set(o, "role_name", jv_string(u == users ? "Owner" :
	    "Member"));
	o = sl_set(o, "pmi", jv_number(5551234567.0));
	o = sl_set(o, "use_pmi", jv_false());
	o = sl_set(o, "timezone", jv_string(u->tz));
	o = sl_set(o, "verified", jv_number(1));
	o = sl_set(o, "dept", jv_string(""));
	o = sl_set(o, "language", jv_string("en-US"));
	o = sl_set(o, "status", jv_string("active"));
	o = sl_set(o, "role_id", jv_string(u == users ? "0" : "2"));
	o = sl_set(o, "account_id", jv_string(cfg.account));
	o = sl_set(o, "account_number", jv_number(10009999));
	o = sl_set(o, "cluster", jv_string("us06"));
	fake_reply_json(resp, 200, o);
}

/* Zoom's 429, with its headers. */
static void
limited(struct fake_resp *resp)
{
	char buf[64];
	int64_t now = unix_now();

	n_limited++;
	fake_header(resp, "X-RateLimit-Category", "Medium");
	fake_header(resp, "X-RateLimit-Type", cfg.daily ? "Daily-limit" :
	    "QPS");
	fake_header(resp, "X-RateLimit-Limit", cfg.daily ? "2000" : "2");
	fake_header(resp, "X-RateLimit-Remaining", "0");
	if (cfg.retry_after)
		fake_header(resp, "Retry-After", cfg.retry_after);
	else if (cfg.daily) {
		/* The next midnight UTC, when the daily count starts again. */
		snprintf(buf, sizeof buf, "%lld",
		    (long long)(ZM_DAY - now % ZM_DAY));
		fake_header(resp, "Retry-After", buf);
	} else {
		fake_header(resp, "Retry-After", "1");
	}
	api_error(resp, 429, 429, cfg.daily ? "You have exceeded the daily "
	    "rate limit (2000) of Create meeting API requests permitted for "
	    "this particular user. You may resume these requests at GMT "
	    "00:00:00." : "You have reached the maximum per-second rate "
	    "limit for this API. Try again later.", NULL);
}

static void
api(const struct fake_req *req, struct fake_resp *resp)
{
	const char *p = req->path + strlen("/v2/"), *h, *slash;
	struct zm_token *t = NULL;
	struct zm_meeting *mt;
	struct zm_user *u;
	char *uid;

	n_api_calls++;
	if (sl_get_str(req->headers, "authorization", &h) == 1 &&
	    strncasecmp(h, "Bearer ", 7) == 0) {
		for (h += 7; *h == ' '; h++)
			;
		for (t = tokens; t && strcmp(t->token, h) != 0; t = t->next)
			;
	}
	if (!t) {
		api_error(resp, 401, 124, "Invalid access token.", NULL);
		return;
	}
	if (!token_live(t)) {
		api_error(resp, 401, 124, "Access token is expired.", NULL);
		return;
	}
	if (cfg.limited > 0) {
		cfg.limited--;
		limited(resp);
		return;
	}
	if (strncmp(p, "users/", 6) == 0 && p[6]) {
		p += 6;
		slash = strchr(p, '/');
		uid = slash ? sl_strndup(p, (size_t)(slash - p)) :
		    sl_strdup(p);
		if (!slash && strcmp(req->method, "GET") == 0) {
			if ((u = user_find(uid)))
				user_get(u, resp);
			else
				user_not_found(resp, uid);
		} else if (slash && strcmp(slash, "/meetings") == 0 && *uid &&
		    strcmp(req->method, "POST") == 0) {
			create(req, uid, resp);
		} else {
			api_error(resp, 404, 404, "Not Found", NULL);
		}
		free(uid);
	} else if (strncmp(p, "meetings/", 9) == 0 && p[9] &&
	    !strchr(p + 9, '/')) {
		p += 9;
		if (!(mt = meeting_find(p)))
			meeting_not_found(resp, p);
		else if (strcmp(req->method, "GET") == 0)
			fake_reply_json(resp, 200, jv_copy(mt->obj));
		else if (strcmp(req->method, "DELETE") == 0) {
			mt->deleted = 1;
			fake_reply(resp, 204, NULL, "", 0);
		} else if (strcmp(req->method, "PATCH") == 0)
			patch(req, mt, resp);
		else
			api_error(resp, 404, 404, "Not Found", NULL);
	} else {
		api_error(resp, 404, 404, "Not Found", NULL);
	}
}

/*
 * Control endpoints: /_fake/zoom/...
 */

static jv
ctl_params(const struct fake_req *req)
{
	jv body;

	/* JSON even when curl -d sent it as a form. */
	body = req->body_len ? sl_parse(req->body, req->body_len) : jv_null();
	if (jv_get_kind(body) == JV_KIND_OBJECT)
		return jv_object_merge(jv_copy(req->query), body);
	jv_free(body);
	return fake_params(req);
}

/* {"account_id","client_id","client_secret","expires_in"}, any of them. */
static void
ctl_account(jv p, struct fake_resp *resp)
{
	static const char *const keys[] = {
		"account_id", "client_id", "client_secret", NULL
	};
	char **dst[] = { &cfg.account, &cfg.client, &cfg.secret };
	const char *s;
	int64_t n;
	int i, k;

	for (i = 0; keys[i]; i++)
		if (sl_get_str(p, keys[i], &s) < 0) {
			ctl_error(resp, 400, "'account_id', 'client_id', "
			    "'client_secret': expected strings");
			return;
		}
	if ((k = sl_get_int(p, "expires_in", &n)) < 0 ||
	    (k == 1 && (n < 1 || n > 86400))) {
		ctl_error(resp, 400, "'expires_in': expected seconds from 1 "
		    "to 86400");
		return;
	}
	for (i = 0; keys[i]; i++)
		if (sl_get_str(p, keys[i], &s) == 1) {
			free(*dst[i]);
			*dst[i] = sl_strdup(s);
		}
	if (k == 1)
		cfg.expires_in = (long)n;
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(sl_set(sl_set(
	    jv_object(), "ok", jv_true()), "account_id",
	    jv_string(cfg.account)), "client_id", jv_string(cfg.client)),
	    "client_secret", jv_string(cfg.secret)), "expires_in",
	    jv_number((double)cfg.expires_in)));
}

/* {"email","id"?,"first_name"?,"last_name"?,"timezone"?}. */
static void
ctl_user(jv p, struct fake_resp *resp)
{
	const char *email, *id = NULL, *first = "Rep", *last = "User";
	const char *tz = "UTC";
	char buf[32];

	if (sl_get_str(p, "email", &email) != 1 || !strchr(email, '@') ||
	    sl_get_str(p, "id", &id) < 0 ||
	    sl_get_str(p, "first_name", &first) < 0 ||
	    sl_get_str(p, "last_name", &last) < 0 ||
	    sl_get_str(p, "timezone", &tz) < 0 || !zone(tz)) {
		ctl_error(resp, 400, "expected {\"email\",\"id\"?,"
		    "\"first_name\"?,\"last_name\"?,\"timezone\"?} with an "
		    "e-mail address and a zone");
		return;
	}
	if (user_find(email) || (id && user_find(id))) {
		ctl_error(resp, 409, "fake-api: the user exists");
		return;
	}
	if (!id) {
		snprintf(buf, sizeof buf, "fakeUser%06lu", ++serial);
		id = buf;
	}
	user_add(id, email, first, last, tz);
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "id", jv_string(id)));
}

static void
ctl_expire(jv p, struct fake_resp *resp)
{
	const char *tok = NULL;
	struct zm_token *t;
	unsigned long n = 0;

	if (sl_get_str(p, "token", &tok) < 0) {
		ctl_error(resp, 400, "'token': expected a string");
		return;
	}
	for (t = tokens; t; t = t->next)
		if ((!tok || strcmp(tok, t->token) == 0) && token_live(t)) {
			t->expired = 1;
			n++;
		}
	if (tok && n == 0) {
		ctl_error(resp, 404, "fake-api: no such live token");
		return;
	}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "expired", jv_number((double)n)));
}

/* {"n":N,"type":"daily"|"qps","retry_after":"..."?}. */
static void
ctl_ratelimit(jv p, struct fake_resp *resp)
{
	const char *type = "daily", *ra = NULL;
	int64_t n;

	if (sl_get_int(p, "n", &n) != 1 || n < 0 || n > 1000000 ||
	    sl_get_str(p, "type", &type) < 0 ||
	    (strcmp(type, "daily") != 0 && strcmp(type, "qps") != 0) ||
	    sl_get_str(p, "retry_after", &ra) < 0 ||
	    (ra && strpbrk(ra, "\r\n"))) {
		ctl_error(resp, 400, "expected {\"n\":N,\"type\":\"daily\" or "
		    "\"qps\",\"retry_after\"?}");
		return;
	}
	cfg.limited = (long)n;
	cfg.daily = strcmp(type, "daily") == 0;
	free(cfg.retry_after);
	cfg.retry_after = ra ? sl_strdup(ra) : NULL;
	fake_reply_json(resp, 200, sl_set(jv_object(), "ok", jv_true()));
}

static void
ctl_errors(jv p, struct fake_resp *resp)
{
	int xml = 0;

	if (sl_get_bool(p, "xml", &xml) != 1) {
		ctl_error(resp, 400, "'xml': expected true or false");
		return;
	}
	cfg.xml = xml;
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "xml", jv_bool(xml)));
}

static void
ctl_meetings(struct fake_resp *resp)
{
	struct zm_meeting *m;
	char *line, *all = NULL;
	size_t len = 0, n;
	jv o;

	for (m = meetings; m; m = m->next) {
		o = jv_copy(m->obj);
		if (m->deleted)
			o = sl_set(o, "deleted", jv_true());
		line = sl_json_dump(o, &n);
		jv_free(o);
		all = sl_realloc(all, len + n + 2);
		memcpy(all + len, line, n);
		len += n;
		all[len++] = '\n';
		free(line);
	}
	fake_reply(resp, 200, "application/x-ndjson", all ? all : "", len);
	free(all);
}

static void
ctl_tokens(struct fake_resp *resp)
{
	struct zm_token *t;
	unsigned long live = 0;

	for (t = tokens; t; t = t->next)
		live += (unsigned long)token_live(t);
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(sl_set(jv_object(),
	    "issued", jv_number((double)n_issued)), "live",
	    jv_number((double)live)), "api_calls",
	    jv_number((double)n_api_calls)), "rate_limited",
	    jv_number((double)n_limited)));
}

static void
control(const struct fake_req *req, const char *what, struct fake_resp *resp)
{
	int get = strcmp(req->method, "GET") == 0;
	int post = strcmp(req->method, "POST") == 0;
	jv p = ctl_params(req);

	if (strcmp(what, "account") == 0 && post)
		ctl_account(p, resp);
	else if (strcmp(what, "user") == 0 && post)
		ctl_user(p, resp);
	else if (strcmp(what, "expire") == 0 && post)
		ctl_expire(p, resp);
	else if (strcmp(what, "ratelimit") == 0 && post)
		ctl_ratelimit(p, resp);
	else if (strcmp(what, "errors") == 0 && post)
		ctl_errors(p, resp);
	else if (strcmp(what, "meetings") == 0 && get)
		ctl_meetings(resp);
	else if (strcmp(what, "tokens") == 0 && get)
		ctl_tokens(resp);
	else
		ctl_error(resp, 404, "fake-api: no such Zoom control endpoint "
		    "(or wrong method)");
	jv_free(p);
}

/*
 * The module.
 */

static void
forget(void)
{
	struct zm_token *t;
	struct zm_user *u;
	struct zm_meeting *m;

	while ((t = tokens)) {
		tokens = t->next;
		free(t->token);
		free(t);
	}
	while ((u = users)) {
		users = u->next;
		free(u->id);
		free(u->email);
		free(u->first);
		free(u->last);
		free(u->tz);
		free(u);
	}
	users_tail = &users;
	while ((m = meetings)) {
		meetings = m->next;
		jv_free(m->obj);
		free(m);
	}
	meetings_tail = &meetings;
	free(cfg.account);
	free(cfg.client);
	free(cfg.secret);
	free(cfg.retry_after);
	memset(&cfg, 0, sizeof cfg);
}

/* Under the lock (POST /_fake/reset), and lazily before the first use. */
static void
zm_reset(void)
{
	forget();
	cfg.account = sl_strdup(ZM_ACCOUNT);
	cfg.client = sl_strdup(ZM_CLIENT);
	cfg.secret = sl_strdup(ZM_SECRET);
	cfg.expires_in = 3599;
	user_add("KDcuGIm1QgePTO8WbOqwIQ", "dana@example.com", "Dana",
	    "Host", "America/Los_Angeles");
	next_id = ZM_FIRST_ID;
	serial = n_issued = n_api_calls = n_limited = 0;
	epoch++;
	ready = 1;
}

static int
zm_handle(const struct fake_req *req, struct fake_resp *resp)
{
	if (!ready)
		zm_reset();
	if (strncmp(req->path, "/_fake/zoom/", 12) == 0)
		control(req, req->path + 12, resp);
	else if (strcmp(req->path, "/oauth/token") == 0)
		oauth_token(req, resp);
	else if (strncmp(req->path, "/v2/", 4) == 0)
		api(req, resp);
	else
		return 0;
	return 1;
}

/* At exit, after the server stopped. */
static void
zm_cleanup(void)
{
	forget();
	sl_zone_free_all();
	ready = 0;
}

const struct fake_module fake_zoom = {
	"zoom",
	NULL,
	NULL,
	NULL,
	zm_handle,
	zm_reset,
	zm_cleanup,
};
