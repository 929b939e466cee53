/*
 * http.c: HTTP over libcurl, with retries and a classification of every
 * failure (http.h has the contract).
 *
 * One easy handle serves the whole process.  curl_easy_reset clears its
 * options before each request but keeps the connection cache, so a
 * long-running tool talks to an API over one kept-alive connection.  No
 * redirect is followed, only http and https are allowed, and both timeouts
 * are always set.
 *
 * Classification of one attempt:
 *   - a transport failure before anything was sent (DNS, connect, connect
 *     timeout) is temporary; after the request was sent (read timeout, a
 *     connection closed before or during the answer, a garbled answer) it
 *     is uncertain.  "Sent" is CURLINFO_REQUEST_SIZE > 0.
 *   - 2xx is ok; 408, 429, 500, 503, 529 and other 5xx are temporary;
 *     502, 504 and 524 (a gateway gave up waiting) are uncertain; 501, 505,
 *     409 and every other status are permanent.  409 stays permanent on
 *     purpose: for Telegram it means another poller or a webhook exists,
 *     which waiting does not cure; a caller that knows better (an LLM API)
 *     decides for itself.
 *   - a header "x-should-retry: true" or "false" overrides the status.
 *   - an uncertain failure of an idempotent request (req.idempotent, or a
 *     GET or HEAD) is temporary: repeating it is safe.
 * Temporary failures are retried up to max_tries.  The wait is the
 * server's (retry-after-ms, Retry-After, Telegram's parameters.retry_after)
 * when it gives one, else exponential backoff with jitter, scaled by
 * $SALESLINE_HTTP_BACKOFF_SCALE (tests make it small).  A server wait
 * longer than max_wait_ms is not slept: the request ends temporary with
 * retry_after_ms set, so the caller can schedule it.
 *
 * Error texts never show a whole URL: Telegram puts the bot token in the
 * path, other APIs put keys in the query.  Only scheme://host[:port] and
 * the last path segment are printed.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "jsonl.h"
#include "sl.h"

#define BODY_MAX ((size_t)64 * 1024 * 1024)
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 8000
#define JITTER 0.25
#define WAIT_CAP_MS (7L * 24 * 3600 * 1000)	/* longest server wait */
#define DEF_CONNECT_S 10
#define DEF_TIMEOUT_S 60
#define DEF_TRIES 3
#define DEF_MAX_WAIT_MS 60000
#define DETAIL_MAX 120

static CURL *curl;
static int curl_global;
static uint64_t rng;

struct body {
	char *p;
	size_t len, cap;
	int too_large;
};

/* What one attempt produced, beyond the response itself. */
struct attempt {
	CURLcode rc;
	int sent;
	int os_errno;
	int too_large;
};

static CURL *
handle(void)
{
	if (!curl_global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_global = 1;
	}
	if (!curl)
		curl = curl_easy_init();
	return curl;
}

void
sl_http_cleanup(void)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = NULL;
	if (curl_global)
		curl_global_cleanup();
	curl_global = 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t len = size * n, cap;

	if (len > BODY_MAX - b->len) {
		b->too_large = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->p = sl_realloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * One header line.  A status line starts a new header block (after a
 * "100 Continue"), so only the final response's headers are kept.  Lines
 * that are not "name: value" with a sane name are ignored.
 */
static size_t
on_header(char *data, size_t size, size_t n, void *ctx)
{
	jv *h = ctx;
	size_t len = size * n, nlen, i;
	const char *colon, *v, *end;
	char name[128];

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		jv_free(*h);
		*h = jv_object();
		return len;
	}
	if (len == 0 || is_space(data[0]))
		return len;
	if (!(colon = memchr(data, ':', len)))
		return len;
	nlen = (size_t)(colon - data);
	if (nlen == 0 || nlen >= sizeof name)
		return len;
	for (i = 0; i < nlen; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c <= ' ' || c >= 0x7f)
			return len;
		name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	v = colon + 1;
	end = data + len;
	while (v < end && is_space(*v))
		v++;
	while (end > v && is_space(end[-1]))
		end--;
	*h = jv_object_set(*h, jv_string_sized(name, (int)nlen),
	    jv_string_sized(v, (int)(end - v)));
	return len;
}

/*
 * "scheme://host[:port]/…/last" for messages: no user info, no query, no
 * middle of the path (a Telegram token lives there).
 */
static void
url_label(const char *url, char *buf, size_t size)
{
	const char *sep, *host, *hend, *at, *path, *pend, *last, *p;
	int skipped;
	size_t llen;

	if (!url || !(sep = strstr(url, "://")) || sep - url > 10) {
		snprintf(buf, size, "(bad url)");
		return;
	}
	host = sep + 3;
	hend = host + strcspn(host, "/?#");
	for (at = NULL, p = host; p < hend; p++)
		if (*p == '@')
			at = p;
	if (at)
		host = at + 1;
	path = hend;
	pend = path + strcspn(path, "?#");
	while (pend > path && pend[-1] == '/')
		pend--;
	last = pend;
	while (last > path && last[-1] != '/')
		last--;
	skipped = last > path + 1;
	llen = (size_t)(pend - last);
	/* A last segment that may itself be a secret is not shown. */
	if (llen > 64 || (llen > 3 && memcmp(last, "bot", 3) == 0 &&
	    memchr(last, ':', llen))) {
		skipped = 1;
		llen = 0;
	}
	snprintf(buf, size, "%.*s://%.*s%s%.*s", (int)(sep - url), url,
	    (int)(hend - host), host,
	    llen ? (skipped ? "/…/" : "/") : (skipped ? "/…" : ""),
	    (int)llen, last);
}

static const char *
reason(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	default: return status >= 300 && status < 400 ? "Redirect" : "";
	}
}

/*
 * The server's own words about an error, from the usual JSON shapes:
 * Telegram "description", OAuth "error_description" / "error", Anthropic,
 * OpenAI and Google "error.message", Zoom "message".  Control characters
 * become spaces, the text is cut at DETAIL_MAX bytes on a character
 * boundary, and a prefix repeating the reason phrase is dropped.
 */
static void
body_detail(const struct sl_http_resp *resp, char *buf, size_t size)
{
	const char *s = NULL, *why = reason(resp->status);
	size_t i, n, wl = strlen(why);
	jv v, err = jv_invalid();

	buf[0] = '\0';
	if (!resp->body || resp->body_len == 0 || resp->body_len > 1024 * 1024)
		return;
	for (i = 0; i < resp->body_len && is_space(resp->body[i]); i++)
		;
	if (i == resp->body_len || resp->body[i] != '{')
		return;
	v = sl_parse(resp->body, resp->body_len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return;
	}
	if (sl_get_str(v, "description", &s) != 1 &&
	    sl_get_str(v, "error_description", &s) != 1 &&
	    !(sl_get_obj(v, "error", &err) == 1 &&
	    sl_get_str(err, "message", &s) == 1) &&
	    sl_get_str(v, "error", &s) != 1 &&
	    sl_get_str(v, "message", &s) != 1)
		s = NULL;
	if (s && wl && strncmp(s, why, wl) == 0 &&
	    (s[wl] == '\0' || (s[wl] == ':' && s[wl + 1] == ' ')))
		s += s[wl] ? wl + 2 : wl;
	if (s && *s) {
		n = strlen(s);
		if (n > DETAIL_MAX && size > DETAIL_MAX + 4) {
			n = DETAIL_MAX;
			while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
				n--;
			snprintf(buf, size, "%.*s…", (int)n, s);
		} else {
			snprintf(buf, size, "%s", s);
		}
		for (i = 0; buf[i]; i++)
			if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
				buf[i] = ' ';
	}
	jv_free(err);
	jv_free(v);
}

static void
describe_failure(const struct attempt *a, long timeout_ms, char *buf,
    size_t size)
{
	const char *os = a->os_errno ? strerror(a->os_errno) : NULL;

	switch (a->rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(buf, size, "cannot resolve the host name");
		break;
	case CURLE_COULDNT_CONNECT:
		snprintf(buf, size, "cannot connect%s%s", os ? ": " : "",
		    os ? os : "");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (a->sent)
			snprintf(buf, size, "no complete answer within %ld ms",
			    timeout_ms);
		else
			snprintf(buf, size, "cannot connect: timed out");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(buf, size, "connection closed without an answer");
		break;
	case CURLE_PARTIAL_FILE:
		snprintf(buf, size, "connection closed in the middle of "
		    "the answer");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		snprintf(buf, size, "%s failed%s%s",
		    a->rc == CURLE_RECV_ERROR ? "receiving" : "sending",
		    os ? ": " : "", os ? os : "");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:	/* HTTP/0.9: no status line */
		if (!a->sent) {
			snprintf(buf, size, "%s", curl_easy_strerror(a->rc));
			break;
		}
		/* FALLTHROUGH */
	case CURLE_WEIRD_SERVER_REPLY:
		snprintf(buf, size, "malformed answer");
		break;
	case CURLE_WRITE_ERROR:
		if (a->too_large) {
			snprintf(buf, size, "response too large (over %zu MiB)",
			    BODY_MAX >> 20);
			break;
		}
		/* FALLTHROUGH */
	default:
		snprintf(buf, size, "%s", curl_easy_strerror(a->rc));
		break;
	}
}

static enum sl_http_class
classify_status(long status, jv headers)
{
	const char *v;

	if (status >= 200 && status < 300)
		return SL_HTTP_OK;
	if (sl_get_str(headers, "x-should-retry", &v) == 1) {
		if (strcmp(v, "true") == 0)
			return SL_HTTP_TEMPORARY;
		if (strcmp(v, "false") == 0)
			return SL_HTTP_PERMANENT;
	}
	switch (status) {
	case 408:
	case 429:
		return SL_HTTP_TEMPORARY;
	case 502:
	case 504:
	case 524:
		return SL_HTTP_UNCERTAIN;
	case 501:
	case 505:
		return SL_HTTP_PERMANENT;
	}
	return status >= 500 && status < 600 ? SL_HTTP_TEMPORARY :
	    SL_HTTP_PERMANENT;
}

static enum sl_http_class
classify_failure(const struct attempt *a)
{
	switch (a->rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return SL_HTTP_TEMPORARY;
	case CURLE_WRITE_ERROR:
		if (a->too_large)
			return SL_HTTP_PERMANENT;
		break;
	/* Mistakes of ours or of the configuration: waiting will not help. */
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_TOO_MANY_REDIRECTS:
		return a->sent ? SL_HTTP_UNCERTAIN : SL_HTTP_PERMANENT;
	default:
		break;
	}
	return a->sent ? SL_HTTP_UNCERTAIN : SL_HTTP_TEMPORARY;
}

/* The process's random numbers for jitter (xorshift64*), in [0, 1). */
static double
random01(void)
{
	struct timespec ts;

	if (!rng) {
		clock_gettime(CLOCK_REALTIME, &ts);
		rng = ((uint64_t)ts.tv_sec * 1000000007u) ^
		    (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		if (!rng)
			rng = 0x9e3779b97f4a7c15u;
	}
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717u) >> 11) /
	    9007199254740992.0;	/* 2^53 */
}

static double
backoff_scale(void)
{
	const char *v = sl_env("SALESLINE_HTTP_BACKOFF_SCALE", NULL);
	char *end;
	double d;

	if (!v)
		return 1;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0 && d <= 1000))
		sl_die(SL_EX_CONFIG, "bad SALESLINE_HTTP_BACKOFF_SCALE '%s': "
		    "expected a number from 0 to 1000", v);
	return d;
}

long
sl_http_backoff_ms(int n)
{
	double base = BACKOFF_FIRST_MS;
	int i;

	if (n <= 1)
		return 0;
	for (i = 2; i < n && base < BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	return (long)(base * (1 - JITTER * random01()) * backoff_scale());
}

/* A non-negative decimal number of units, as ms; -1 if s is not one. */
static long
parse_wait(const char *s, double unit_ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || !isfinite(d) || d < 0)
		return -1;
	while (is_space(*end))
		end++;
	if (*end)
		return -1;
	d *= unit_ms;
	return d > WAIT_CAP_MS ? WAIT_CAP_MS : (long)ceil(d);
}

long
sl_http_retry_after(long status, jv headers, const char *body)
{
	const char *v, *p;
	long ms;
	time_t when, now;
	jv doc, params = jv_invalid();
	double secs;

	if (status >= 200 && status < 300)
		return -1;
	if (jv_get_kind(headers) == JV_KIND_OBJECT) {
		if (sl_get_str(headers, "retry-after-ms", &v) == 1 &&
		    (ms = parse_wait(v, 1)) >= 0)
			return ms;
		if (sl_get_str(headers, "retry-after", &v) == 1) {
			if ((ms = parse_wait(v, 1000)) >= 0)
				return ms;
			/* An HTTP date: the real clock, not sl_now(). */
			if ((when = curl_getdate(v, NULL)) != -1) {
				now = time(NULL);
				if (when <= now)
					return 0;
				if (when - now > WAIT_CAP_MS / 1000)
					return WAIT_CAP_MS;
				return (long)(when - now) * 1000;
			}
		}
	}
	if (!body || !strstr(body, "retry_after"))
		return -1;
	for (p = body; is_space(*p); p++)
		;
	if (*p != '{')
		return -1;
	ms = -1;
	doc = sl_parse(body, strlen(body));
	if (jv_get_kind(doc) == JV_KIND_OBJECT &&
	    sl_get_obj(doc, "parameters", &params) == 1 &&
	    sl_get_num(params, "retry_after", &secs) == 1 && secs >= 0)
		ms = secs * 1000 > WAIT_CAP_MS ? WAIT_CAP_MS :
		    (long)ceil(secs * 1000);
	jv_free(params);
	jv_free(doc);
	return ms;
}

/* Timeout in ms from the request, else $name (seconds), else def seconds. */
static long
timeout_of(long req_ms, const char *name, long def_s)
{
	if (req_ms > 0)
		return req_ms;
	return (long)sl_env_int(name, def_s, 1, 24 * 3600) * 1000;
}

static void
perform(const struct sl_http_req *req, const char *method,
    struct curl_slist *hl, long connect_ms, long timeout_ms,
    struct sl_http_resp *resp, struct attempt *a)
{
	struct body b = { NULL, 0, 0, 0 };
	size_t len = req->body ? (req->body_len ? req->body_len :
	    strlen(req->body)) : 0;
	long status = 0, reqsize = 0, oserr = 0;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "salesline");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp->headers);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") == 0 && !req->body) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
		    req->body ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}

	a->rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &reqsize);
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
	a->sent = reqsize > 0;
	a->os_errno = (int)oserr;
	a->too_large = b.too_large;
	resp->status = status;
	if (b.too_large || !b.p) {
		free(b.p);
		resp->body = sl_strdup("");
		resp->body_len = 0;
	} else {
		resp->body = b.p;
		resp->body_len = b.len;
	}
}

static void
set_error(struct sl_http_resp *resp, const struct attempt *a,
    const char *method, const char *label, long timeout_ms)
{
	char what[200], detail[DETAIL_MAX + 8], tries[32] = "";
	int n;

	if (resp->tries > 1)
		snprintf(tries, sizeof tries, " (%d tries)", resp->tries);
	if (a->rc == CURLE_OK) {
		body_detail(resp, detail, sizeof detail);
		if (!detail[0] && resp->retry_after_ms >= 0)
			snprintf(detail, sizeof detail, "retry after %ld",
			    (resp->retry_after_ms + 999) / 1000);
		snprintf(what, sizeof what, "HTTP %ld%s%s%s%s", resp->status,
		    *reason(resp->status) ? " " : "", reason(resp->status),
		    detail[0] ? ": " : "", detail);
	} else {
		describe_failure(a, timeout_ms, what, sizeof what);
	}
	n = snprintf(resp->error, sizeof resp->error, "%s %s: %s%s%s", method,
	    label, what, tries, resp->class == SL_HTTP_UNCERTAIN ?
	    "; it may have been delivered" : "");
	if (n >= (int)sizeof resp->error) {
		/* Cut on a character boundary and say so. */
		n = (int)sizeof resp->error - 4;
		while (n > 0 && ((unsigned char)resp->error[n] & 0xc0) == 0x80)
			n--;
		memcpy(resp->error + n, "...", 4);
	}
}

static struct curl_slist *
header_list(const struct sl_http_req *req, int *bad)
{
	struct curl_slist *hl = NULL, *t;
	const char *const *h;

	*bad = 0;
	for (h = req->headers; h && *h; h++) {
		if (strpbrk(*h, "\r\n")) {
			*bad = 1;
			continue;
		}
		if ((t = curl_slist_append(hl, *h)))
			hl = t;
	}
	/* No "Expect: 100-continue" round trip before larger bodies. */
	if ((t = curl_slist_append(hl, "Expect:")))
		hl = t;
	return hl;
}

enum sl_http_class
sl_http_do(const struct sl_http_req *req, struct sl_http_resp *resp)
{
	struct attempt a = { CURLE_OK, 0, 0, 0 };
	struct curl_slist *hl;
	char label[200];
	const char *method;
	long connect_ms, timeout_ms, max_wait, wait;
	int max_tries, idempotent, bad;

	memset(resp, 0, sizeof *resp);
	resp->headers = jv_object();
	resp->body = sl_strdup("");
	resp->retry_after_ms = -1;
	method = req->method ? req->method : req->body ? "POST" : "GET";
	url_label(req->url, label, sizeof label);
	connect_ms = timeout_of(req->connect_timeout_ms,
	    "SALESLINE_HTTP_CONNECT_TIMEOUT", DEF_CONNECT_S);
	timeout_ms = timeout_of(req->timeout_ms, "SALESLINE_HTTP_TIMEOUT",
	    DEF_TIMEOUT_S);
	max_tries = req->max_tries > 0 ? req->max_tries : DEF_TRIES;
	max_wait = req->max_wait_ms > 0 ? req->max_wait_ms : DEF_MAX_WAIT_MS;
	idempotent = req->idempotent || strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0;

	if (!req->url || !handle()) {
		resp->class = SL_HTTP_PERMANENT;
		snprintf(resp->error, sizeof resp->error, "%s %s: %s", method,
		    label, req->url ? "cannot start libcurl" : "no url");
		return resp->class;
	}
	hl = header_list(req, &bad);
	if (bad) {
		curl_slist_free_all(hl);
		resp->class = SL_HTTP_PERMANENT;
		snprintf(resp->error, sizeof resp->error, "%s %s: a request "
		    "header contains a line break", method, label);
		return resp->class;
	}

	for (;;) {
		free(resp->body);
		resp->body = NULL;
		jv_free(resp->headers);
		resp->headers = jv_object();
		resp->tries++;
		perform(req, method, hl, connect_ms, timeout_ms, resp, &a);
		if (a.rc == CURLE_OK) {
			resp->class = classify_status(resp->status,
			    resp->headers);
			resp->retry_after_ms = sl_http_retry_after(resp->status,
			    resp->headers, resp->body);
		} else {
			resp->class = classify_failure(&a);
			resp->retry_after_ms = -1;
		}
		if (resp->class == SL_HTTP_UNCERTAIN && idempotent)
			resp->class = SL_HTTP_TEMPORARY;
		if (resp->class != SL_HTTP_TEMPORARY ||
		    resp->tries >= max_tries ||
		    resp->retry_after_ms > max_wait)
			break;
		wait = resp->retry_after_ms > 0 ? resp->retry_after_ms :
		    sl_http_backoff_ms(resp->tries + 1);
		sl_sleep_ms(wait);
	}
	curl_slist_free_all(hl);
	if (resp->class != SL_HTTP_OK)
		set_error(resp, &a, method, label, timeout_ms);
	return resp->class;
}

void
sl_http_resp_free(struct sl_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	jv_free(resp->headers);
	resp->headers = jv_null();
}

jv
sl_http_json(const struct sl_http_resp *resp)
{
	if (!resp->body || resp->body_len == 0)
		return jv_invalid_with_msg(jv_string("empty body"));
	/* JSON text never holds a raw NUL: a binary body is not JSON. */
	if (memchr(resp->body, '\0', resp->body_len))
		return jv_invalid_with_msg(jv_string("NUL byte in the body"));
	return sl_parse(resp->body, resp->body_len);
}

char *
sl_http_header(const char *name, const char *value)
{
	sl_secret_add(value);
	return sl_asprintf("%s: %s", name, value);
}

char *
sl_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;
	char *out;

	out = sl_malloc(strlen(s) * 3 + 1);
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return out;
}

int
sl_http_exit_code(const struct sl_http_resp *resp)
{
	switch (resp->class) {
	case SL_HTTP_OK:
		return SL_EX_OK;
	case SL_HTTP_TEMPORARY:
	case SL_HTTP_UNCERTAIN:
		return SL_EX_TEMPFAIL;
	case SL_HTTP_PERMANENT:
		break;
	}
	if (resp->status == 401 || resp->status == 403)
		return SL_EX_NOPERM;
	return SL_EX_UNAVAILABLE;
}
