/*
 * fake-api: a loopback emulator of the external APIs salesline talks to,
 * for tests.  tests/fake/README describes the command line, the control
 * endpoints and the rule format; fake.h the interface of the emulated
 * APIs (modules).
 *
 * It listens on 127.0.0.1 (an ephemeral port unless -p), prints the port
 * alone on a line and serves until SIGTERM or SIGINT, then exits 0.  Every
 * connection has its own thread (libmicrohttpd's thread-per-connection
 * mode), so an answer that comes late simply sleeps; rules, the log, and
 * the modules' state are shared under one lock.
 *
 * A request is answered in this order: the control endpoints under
 * /_fake/; the first matching rule; the modules; 404.  Every request
 * outside /_fake/ is logged when it arrives (before it is answered), to
 * the -l file and to memory for GET /_fake/log.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"

#define PROG "fake-api"
#define REQ_BODY_MAX ((size_t)64 * 1024 * 1024)
#define DELAY_MAX (3600L * 1000)
#define NAP_MS 10

struct rule {
	char *method;		/* NULL: any */
	char *path;		/* fnmatch(3) pattern */
	jv query;		/* object the query must contain, or null */
	jv json;		/* object the body must contain, or null */
	long times;		/* answers left, -1: unlimited */
	int answers;		/* has "status" or "body" */
	int status;
	struct fake_header hdr[FAKE_MAX_HEADERS];
	int nhdr;
	char *body;
	size_t body_len;
	long delay_ms, chunk_delay_ms;
	size_t chunk_bytes;
	long repeat;
	enum fake_close close;
	int malformed;
	jv src;			/* as given, for GET /_fake/rules */
};

/* A request being received: its body so far. */
struct incoming {
	char *body;
	size_t len, cap;
	int too_large;
	long long at_ms;
};

/* A body sent by a callback: slowly, repeated, or cut off. */
struct stream {
	char *body;
	size_t len;
	uint64_t total;
	uint64_t cut;		/* 0, or where the connection breaks */
	long chunk_delay_ms;
	size_t chunk;
};

static const struct fake_module *const modules[] = {
	&fake_telegram,
	&fake_google,
	&fake_zoom,
	&fake_llm,
};
#define NMODULES (sizeof modules / sizeof modules[0])

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static struct rule **rules;
static size_t nrules;
static char *logbuf;
static size_t loglen, logcap;
static FILE *logfile;
static int log_failed;
static unsigned long seq;
static struct timespec started;
static atomic_int stopping;

static const char *const rule_keys[] = {
	"method", "path", "query", "json", "times", "status", "headers",
	"body", "delay_ms", "chunk_delay_ms", "chunk_bytes", "repeat",
	"close", "malformed", NULL
};

long long
fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)(ts.tv_sec - started.tv_sec) * 1000 +
	    (ts.tv_nsec - started.tv_nsec) / 1000000;
}

/* Sleeps ms, or less when the emulator stops (then returns -1). */
static int
nap(long ms)
{
	long long end = fake_now_ms() + ms, left;
	struct timespec ts;

	while (!atomic_load(&stopping)) {
		if ((left = end - fake_now_ms()) <= 0)
			return 0;
		if (left > NAP_MS)
			left = NAP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int
fake_wait(long ms)
{
	struct timespec ts;
	int r;

	if (atomic_load(&stopping))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	r = pthread_cond_timedwait(&cond, &lock, &ts);
	if (atomic_load(&stopping))
		return -1;
	return r == ETIMEDOUT ? 1 : 0;
}

void
fake_notify(void)
{
	pthread_cond_broadcast(&cond);
}

void
fake_lock(void)
{
	pthread_mutex_lock(&lock);
}

void
fake_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

int
fake_stopping(void)
{
	return atomic_load(&stopping);
}

jv
fake_own(jv v)
{
	jv s;
	jv r;

	if (!jv_is_valid(v))
		return v;
	s = jv_dump_string(v, 0);
	r = sl_parse(jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	return r;
}

jv
fake_params(const struct fake_req *req)
{
	jv p = jv_copy(req->query);

	if (jv_get_kind(req->json) == JV_KIND_OBJECT)
		p = jv_object_merge(p, jv_copy(req->json));
	return p;
}

static void
headers_set(struct fake_header *hdr, int *n, const char *name,
    const char *value)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strcasecmp(hdr[i].name, name) == 0) {
			free(hdr[i].value);
			hdr[i].value = sl_strdup(value);
			return;
		}
	if (*n == FAKE_MAX_HEADERS)
		return;
	hdr[*n].name = sl_strdup(name);
	hdr[*n].value = sl_strdup(value);
	(*n)++;
}

static int
headers_has(const struct fake_header *hdr, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(hdr[i].name, name) == 0)
			return 1;
	return 0;
}

static void
headers_free(struct fake_header *hdr, int *n)
{
	int i;

	for (i = 0; i < *n; i++) {
		free(hdr[i].name);
		free(hdr[i].value);
	}
	*n = 0;
}

void
fake_header(struct fake_resp *resp, const char *name, const char *value)
{
	headers_set(resp->hdr, &resp->nhdr, name, value);
}

void
fake_reply(struct fake_resp *resp, int status, const char *type,
    const char *body, size_t len)
{
	resp->status = status;
	free(resp->body);
	resp->body = sl_malloc(len + 1);
	if (len)
		memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->body_len = len;
	if (type)
		fake_header(resp, "Content-Type", type);
}

void
fake_reply_json(struct fake_resp *resp, int status, jv body)
{
	jv s = jv_dump_string(body, 0);

	fake_reply(resp, status, "application/json", jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

static void
reply_error(struct fake_resp *resp, int status, const char *fmt, ...)
    SL_PRINTF(3, 4);

static void
reply_error(struct fake_resp *resp, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fake_reply_json(resp, status, jv_object_set(jv_object_set(jv_object(),
	    jv_string("ok"), jv_false()), jv_string("error"), jv_string(msg)));
}

/*
 * Rules.
 */

static void
rule_free(struct rule *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->path);
	jv_free(r->query);
	jv_free(r->json);
	headers_free(r->hdr, &r->nhdr);
	free(r->body);
	jv_free(r->src);
	free(r);
}

static int
valid_header_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return 0;
	return 1;
}

/* A number field within [min, max]: 1 and *out, 0 absent, -1 wrong. */
static int
get_range(jv v, const char *key, long min, long max, long *out,
    char *err, size_t errsize)
{
	int64_t n;
	int r = sl_get_int(v, key, &n);

	if (r == 0)
		return 0;
	if (r < 0 || n < min || n > max) {
		snprintf(err, errsize, "'%s': expected an integer from %ld "
		    "to %ld", key, min, max);
		return -1;
	}
	*out = (long)n;
	return 1;
}

static int
rule_headers(struct rule *r, jv v, char *err, size_t errsize)
{
	jv h = jv_invalid(), val;
	const char *name;
	int i, ok = 0, kr;

	if ((kr = sl_get_obj(v, "headers", &h)) <= 0) {
		if (kr < 0)
			snprintf(err, errsize, "'headers': expected an object");
		return kr;
	}
	for (i = jv_object_iter(h); jv_object_iter_valid(h, i);
	    i = jv_object_iter_next(h, i)) {
		jv k = jv_object_iter_key(h, i);
		jv s;

		name = jv_string_value(k);
		val = jv_object_iter_value(h, i);
		if (jv_get_kind(val) == JV_KIND_STRING)
			s = val;
		else
			s = jv_dump_string(val, 0);
		if (!valid_header_name(name) ||
		    strpbrk(jv_string_value(s), "\r\n")) {
			snprintf(err, errsize, "'headers': bad header '%s'",
			    name);
			jv_free(k);
			jv_free(s);
			ok = -1;
			break;
		}
		headers_set(r->hdr, &r->nhdr, name, jv_string_value(s));
		jv_free(k);
		jv_free(s);
	}
	jv_free(h);
	return ok;
}

/* Checks the keys of a rule: a typo must not silently match everything. */
static int
rule_keys_ok(jv v, char *err, size_t errsize)
{
	int i, j, ok = 1;

	for (i = jv_object_iter(v); ok && jv_object_iter_valid(v, i);
	    i = jv_object_iter_next(v, i)) {
		jv k = jv_object_iter_key(v, i);

		for (j = 0; rule_keys[j]; j++)
			if (strcmp(rule_keys[j], jv_string_value(k)) == 0)
				break;
		if (!rule_keys[j]) {
			snprintf(err, errsize, "unknown field '%s'",
			    jv_string_value(k));
			ok = 0;
		}
		jv_free(k);
	}
	return ok;
}

/* The body of a rule and its default content type. */
static int
rule_body(struct rule *r, jv v, char *err, size_t errsize)
{
	jv b = jv_object_get(jv_copy(v), jv_string("body")), s, t;
	const char *type;

	(void)err;
	(void)errsize;
	if (!jv_is_valid(b)) {
		jv_free(b);
		return 0;
	}
	if (jv_get_kind(b) == JV_KIND_STRING) {
		s = b;
		t = sl_parse(jv_string_value(s),
		    (size_t)jv_string_length_bytes(jv_copy(s)));
		type = jv_is_valid(t) ? "application/json" :
		    "text/plain; charset=utf-8";
		jv_free(t);
	} else {
		s = jv_dump_string(b, 0);
		type = "application/json";
	}
	r->body_len = (size_t)jv_string_length_bytes(jv_copy(s));
	r->body = sl_malloc(r->body_len + 1);
	memcpy(r->body, jv_string_value(s), r->body_len + 1);
	jv_free(s);
	if (!headers_has(r->hdr, r->nhdr, "content-type"))
		headers_set(r->hdr, &r->nhdr, "Content-Type", type);
	return 1;
}

/* A rule from one value (consumed); NULL with a reason in err. */
static struct rule *
rule_new(jv v, char *err, size_t errsize)
{
	struct rule *r = sl_calloc(1, sizeof *r);
	const char *s;
	long n;
	int k, b;
	jv o;

	r->query = r->json = jv_null();
	r->src = jv_null();
	r->times = -1;
	r->status = 200;
	r->repeat = 1;
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		snprintf(err, errsize, "a rule must be an object, not %s",
		    sl_kind_name(v));
		goto fail;
	}
	if (!rule_keys_ok(v, err, errsize))
		goto fail;
	if ((k = sl_get_str(v, "method", &s)) < 0 || (k && !*s)) {
		snprintf(err, errsize, "'method': expected a string");
		goto fail;
	}
	r->method = k ? sl_strdup(s) : NULL;
	if ((k = sl_get_str(v, "path", &s)) < 0 || (k && !*s)) {
		snprintf(err, errsize, "'path': expected a pattern");
		goto fail;
	}
	r->path = sl_strdup(k ? s : "*");
	if ((k = sl_get_obj(v, "query", &o)) < 0) {
		snprintf(err, errsize, "'query': expected an object");
		goto fail;
	}
	if (k)
		r->query = fake_own(o);
	if ((k = sl_get_obj(v, "json", &o)) < 0) {
		snprintf(err, errsize, "'json': expected an object");
		goto fail;
	}
	if (k)
		r->json = fake_own(o);
	if (get_range(v, "times", 1, LONG_MAX, &r->times, err, errsize) < 0 ||
	    (k = get_range(v, "status", 100, 999, &n, err, errsize)) < 0 ||
	    get_range(v, "delay_ms", 0, DELAY_MAX, &r->delay_ms, err,
	    errsize) < 0 ||
	    get_range(v, "chunk_delay_ms", 0, DELAY_MAX, &r->chunk_delay_ms,
	    err, errsize) < 0 ||
	    get_range(v, "repeat", 1, 1L << 30, &r->repeat, err, errsize) < 0)
		goto fail;
	if (k)
		r->status = (int)n;
	if ((b = get_range(v, "chunk_bytes", 1, 1L << 20, &n, err,
	    errsize)) < 0)
		goto fail;
	r->chunk_bytes = b ? (size_t)n : 16;
	if ((b = sl_get_str(v, "close", &s)) < 0 || (b &&
	    strcmp(s, "before") != 0 && strcmp(s, "mid") != 0)) {
		snprintf(err, errsize, "'close': expected \"before\" or "
		    "\"mid\"");
		goto fail;
	}
	if (b)
		r->close = strcmp(s, "before") == 0 ? FAKE_CLOSE_BEFORE :
		    FAKE_CLOSE_MID;
	if ((b = sl_get_bool(v, "malformed", &r->malformed)) < 0) {
		snprintf(err, errsize, "'malformed': expected true or false");
		goto fail;
	}
	if (rule_headers(r, v, err, errsize) < 0)
		goto fail;
	b = rule_body(r, v, err, errsize);
	r->answers = k || b;
	r->src = fake_own(v);
	return r;
fail:
	jv_free(v);
	rule_free(r);
	return NULL;
}

/*
 * An integral number and a string of the same decimal digits are equal
 * here: IDs arrive both ways (chat_id 42 in JSON, "42" in a form), and a
 * rule should not depend on how a client spelled it.  Consumes both.
 */
static int
loose_equal(jv a, jv b)
{
	jv num, str;
	char buf[32];
	double d;
	int eq;

	if (jv_get_kind(a) == JV_KIND_NUMBER &&
	    jv_get_kind(b) == JV_KIND_STRING) {
		num = a;
		str = b;
	} else if (jv_get_kind(a) == JV_KIND_STRING &&
	    jv_get_kind(b) == JV_KIND_NUMBER) {
		num = b;
		str = a;
	} else {
		return jv_equal(a, b);
	}
	d = jv_number_value(num);
	eq = 0;
	if (d == (double)(long long)d && d > -9007199254740992.0 &&
	    d < 9007199254740992.0) {
		snprintf(buf, sizeof buf, "%lld", (long long)d);
		eq = strcmp(buf, jv_string_value(str)) == 0;
	}
	jv_free(num);
	jv_free(str);
	return eq;
}

/*
 * Does obj contain every field of want with an equal value (loose_equal
 * at the top level)?  Borrows.
 */
static int
contains(jv obj, jv want)
{
	int i, ok = 1;

	if (jv_get_kind(want) != JV_KIND_OBJECT)
		return 1;
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	for (i = jv_object_iter(want); ok && jv_object_iter_valid(want, i);
	    i = jv_object_iter_next(want, i)) {
		jv k = jv_object_iter_key(want, i);
		jv w = jv_object_iter_value(want, i);
		jv got = jv_object_get(jv_copy(obj), k);

		if (!jv_is_valid(got)) {
			jv_free(got);
			jv_free(w);
			ok = 0;
		} else {
			ok = loose_equal(got, w);
		}
	}
	return ok;
}

static int
rule_matches(const struct rule *r, const struct fake_req *req)
{
	if (r->method && strcasecmp(r->method, req->method) != 0)
		return 0;
	if (fnmatch(r->path, req->path, 0) != 0)
		return 0;
	return contains(req->query, r->query) && contains(req->json, r->json);
}

static void
rules_clear(void)
{
	size_t i;

	for (i = 0; i < nrules; i++)
		rule_free(rules[i]);
	free(rules);
	rules = NULL;
	nrules = 0;
}

/* Adds n rules, at the front with prepend.  Under the lock. */
static void
rules_add(struct rule **add, size_t n, int prepend)
{
	rules = sl_realloc(rules, (nrules + n + 1) * sizeof *rules);
	if (prepend) {
		memmove(rules + n, rules, nrules * sizeof *rules);
		memcpy(rules, add, n * sizeof *rules);
	} else {
		memcpy(rules + nrules, add, n * sizeof *rules);
	}
	nrules += n;
}

/*
 * Parses JSON lines of rules (a line may also hold an array of rules).
 * Blank lines and lines starting with '#' are skipped.  Returns the rules,
 * or NULL with "LINE: reason" in err.  *n is the count.
 */
static struct rule **
rules_parse(const char *text, size_t len, size_t *n, char *err,
    size_t errsize)
{
	struct rule **out = NULL, *r;
	const char *p = text, *end = text + len, *nl;
	size_t cap = 0, lineno = 0, ll;
	char why[300];
	jv v, e;
	int i, cnt;

	*n = 0;
	for (; p < end; p = nl + 1) {
		lineno++;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		ll = (size_t)(nl - p);
		while (ll && (p[ll - 1] == '\r' || p[ll - 1] == ' ' ||
		    p[ll - 1] == '\t'))
			ll--;
		while (ll && (*p == ' ' || *p == '\t')) {
			p++;
			ll--;
		}
		if (!ll || *p == '#')
			continue;
		v = sl_parse(p, ll);
		if (!jv_is_valid(v)) {
			e = jv_invalid_get_msg(v);
			snprintf(err, errsize, "line %zu: %s", lineno,
			    jv_get_kind(e) == JV_KIND_STRING ?
			    jv_string_value(e) : "not JSON");
			jv_free(e);
			goto fail;
		}
		if (jv_get_kind(v) != JV_KIND_ARRAY)
			v = jv_array_append(jv_array(), v);
		cnt = jv_array_length(jv_copy(v));
		for (i = 0; i < cnt; i++) {
			if (!(r = rule_new(jv_array_get(jv_copy(v), i), why,
			    sizeof why))) {
				snprintf(err, errsize, "line %zu: %s", lineno,
				    why);
				jv_free(v);
				goto fail;
			}
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				out = sl_realloc(out, cap * sizeof *out);
			}
			out[(*n)++] = r;
		}
		jv_free(v);
		if (nl == end)
			break;
	}
	if (!out)
		out = sl_malloc(sizeof *out);
	return out;
fail:
	while (*n)
		rule_free(out[--*n]);
	free(out);
	return NULL;
}

static void
rules_load(const char *path)
{
	struct rule **add;
	char *text = NULL, err[400];
	size_t len = 0, cap = 0, n, got;
	FILE *f;

	if (!(f = fopen(path, "r")))
		sl_die(SL_EX_IOERR, "cannot open '%s': %s", path,
		    strerror(errno));
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			text = sl_realloc(text, cap);
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f))
		sl_die(SL_EX_IOERR, "cannot read '%s': %s", path,
		    strerror(errno));
	fclose(f);
	if (!(add = rules_parse(text, len, &n, err, sizeof err))) {
		free(text);
		sl_die(SL_EX_DATAERR, "%s: %s", path, err);
	}
	free(text);
	rules_add(add, n, 0);
	free(add);
}

/*
 * The log.
 */

static void
log_append(const char *s, size_t n)
{
	if (loglen + n + 1 > logcap) {
		while (loglen + n + 1 > logcap)
			logcap = logcap ? logcap * 2 : 65536;
		logbuf = sl_realloc(logbuf, logcap);
	}
	memcpy(logbuf + loglen, s, n);
	loglen += n;
	logbuf[loglen] = '\0';
	if (logfile && !log_failed && (fwrite(s, 1, n, logfile) != n ||
	    fflush(logfile) != 0)) {
		log_failed = 1;
		sl_warn("cannot write the log: %s", strerror(errno));
	}
}

/* Under the lock. */
static void
log_request(const struct fake_req *req, long rule)
{
	jv e = jv_object(), s;

	e = sl_set(e, "seq", jv_number((double)req->seq));
	e = sl_set(e, "method", jv_string(req->method));
	e = sl_set(e, "path", jv_string(req->path));
	e = sl_set(e, "query", jv_copy(req->query));
	e = sl_set(e, "headers", jv_copy(req->headers));
	e = sl_set(e, "body", jv_string_sized(req->body, (int)req->body_len));
	e = sl_set(e, "json", jv_copy(req->json));
	e = sl_set(e, "at", jv_number((double)req->at_ms));
	e = sl_set(e, "rule", rule >= 0 ? jv_number((double)rule) : jv_null());
	s = jv_dump_string(e, 0);
	log_append(jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)));
	log_append("\n", 1);
	jv_free(s);
}

/*
 * Requests.
 */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) with '+' as a space; *outlen is the length. */
static char *
form_decode(const char *s, size_t n, size_t *outlen)
{
	char *out = sl_malloc(n + 1), *o = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && n - i > 2 &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/* application/x-www-form-urlencoded as an object (the last value wins). */
static jv
form_parse(const char *s, size_t n)
{
	jv obj = jv_object();
	const char *p = s, *end = s + n, *amp, *eq;
	char *k, *v;
	size_t kl, vl;

	while (p < end) {
		if (!(amp = memchr(p, '&', (size_t)(end - p))))
			amp = end;
		if (amp > p) {
			if (!(eq = memchr(p, '=', (size_t)(amp - p))))
				eq = amp;
			k = form_decode(p, (size_t)(eq - p), &kl);
			v = eq < amp ? form_decode(eq + 1,
			    (size_t)(amp - eq - 1), &vl) : sl_strdup("");
			if (eq == amp)
				vl = 0;
			obj = jv_object_set(obj, jv_string_sized(k, (int)kl),
			    jv_string_sized(v, (int)vl));
			free(k);
			free(v);
		}
		p = amp + 1;
	}
	return obj;
}

static enum MHD_Result
add_value(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	jv *obj = cls;

	(void)kind;
	if (key)
		*obj = jv_object_set(*obj, jv_string(key),
		    jv_string(value ? value : ""));
	return MHD_YES;
}

static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	jv *obj = cls;
	char name[256];
	size_t i;

	(void)kind;
	if (!key)
		return MHD_YES;
	for (i = 0; key[i] && i < sizeof name - 1; i++)
		name[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ?
		    key[i] + 32 : key[i]);
	name[i] = '\0';
	*obj = jv_object_set(*obj, jv_string(name),
	    jv_string(value ? value : ""));
	return MHD_YES;
}

static jv
body_json(const struct fake_req *req)
{
	const char *type;
	jv v;

	/* JSON text never holds a raw NUL: a binary body is not JSON. */
	if (req->body_len == 0 || memchr(req->body, '\0', req->body_len))
		return jv_null();
	if (sl_get_str(req->headers, "content-type", &type) == 1 &&
	    strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0)
		return form_parse(req->body, req->body_len);
	v = sl_parse(req->body, req->body_len);
	if (jv_is_valid(v))
		return v;
	jv_free(v);
	return jv_null();
}

static void
req_init(struct fake_req *req, struct MHD_Connection *c, const char *url,
    const char *method, struct incoming *in)
{
	memset(req, 0, sizeof *req);
	req->method = method;
	req->path = url;
	req->at_ms = in->at_ms;
	req->query = jv_object();
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_value,
	    &req->query);
	req->headers = jv_object();
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header,
	    &req->headers);
	if (!in->body)
		in->body = sl_calloc(1, 1);
	req->body = in->body;
	req->body_len = in->len;
	req->json = body_json(req);
}

static void
req_free(struct fake_req *req)
{
	jv_free(req->query);
	jv_free(req->headers);
	jv_free(req->json);
}

static void
resp_free(struct fake_resp *resp)
{
	headers_free(resp->hdr, &resp->nhdr);
	free(resp->body);
	resp->body = NULL;
}

/*
 * The answer to a request outside /_fake/: the first matching rule, then
 * the modules.  A rule with "status" or "body" answers by itself; one
 * without them shapes (headers, delay, close, malformed) the answer of
 * the modules.
 */
static void
dispatch(struct fake_req *req, struct fake_resp *resp)
{
	struct fake_header over[FAKE_MAX_HEADERS];
	struct rule *r = NULL;
	int nover = 0, answered = 0, i;
	long idx = -1;
	size_t j;

	pthread_mutex_lock(&lock);
	req->seq = ++seq;
	for (j = 0; j < nrules; j++)
		if (rule_matches(rules[j], req)) {
			r = rules[j];
			idx = (long)j;
			break;
		}
	log_request(req, idx);
	if (r) {
		/* Copy it all: the rule may go while a module waits. */
		for (i = 0; i < r->nhdr; i++)
			headers_set(over, &nover, r->hdr[i].name,
			    r->hdr[i].value);
		resp->delay_ms = r->delay_ms;
		resp->chunk_delay_ms = r->chunk_delay_ms;
		resp->chunk_bytes = r->chunk_bytes;
		resp->repeat = r->repeat;
		resp->close = r->close;
		resp->malformed = r->malformed;
		if (r->answers) {
			fake_reply(resp, r->status, NULL, r->body ? r->body :
			    "", r->body_len);
			answered = 1;
		}
		if (r->times > 0 && --r->times == 0) {
			rule_free(r);
			memmove(rules + idx, rules + idx + 1,
			    (nrules - (size_t)idx - 1) * sizeof *rules);
			nrules--;
		}
	}
	for (j = 0; !answered && j < NMODULES; j++)
		answered = modules[j]->handle(req, resp);
	if (!answered)
		reply_error(resp, 404, PROG ": no rule or emulated API "
		    "answers %s %s", req->method, req->path);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < nover; i++)
		fake_header(resp, over[i].name, over[i].value);
	headers_free(over, &nover);
}

static void
control_rules(struct fake_req *req, struct fake_resp *resp)
{
	struct rule **add;
	const char *pre;
	char err[400];
	size_t n, i, total;
	jv s;

	if (strcmp(req->method, "GET") == 0) {
		pthread_mutex_lock(&lock);
		fake_reply(resp, 200, "application/x-ndjson", "", 0);
		for (i = 0; i < nrules; i++) {
			s = jv_copy(rules[i]->src);
			if (rules[i]->times > 0)
				s = sl_set(s, "times",
				    jv_number((double)rules[i]->times));
			s = jv_dump_string(s, 0);
			n = (size_t)jv_string_length_bytes(jv_copy(s));
			resp->body = sl_realloc(resp->body,
			    resp->body_len + n + 2);
			memcpy(resp->body + resp->body_len, jv_string_value(s),
			    n);
			resp->body_len += n;
			resp->body[resp->body_len++] = '\n';
			resp->body[resp->body_len] = '\0';
			jv_free(s);
		}
		pthread_mutex_unlock(&lock);
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		reply_error(resp, 405, "use GET or POST");
		return;
	}
	if (!(add = rules_parse(req->body, req->body_len, &n, err,
	    sizeof err))) {
		reply_error(resp, 400, "%s", err);
		return;
	}
	pre = NULL;
	sl_get_str(req->query, "prepend", &pre);
	pthread_mutex_lock(&lock);
	rules_add(add, n, pre && strcmp(pre, "0") != 0 && *pre);
	total = nrules;
	pthread_mutex_unlock(&lock);
	free(add);
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "added", jv_number((double)n)), "rules",
	    jv_number((double)total)));
}

static void
control_reset(struct fake_resp *resp)
{
	size_t i;

	pthread_mutex_lock(&lock);
	rules_clear();
	loglen = 0;
	if (logbuf)
		logbuf[0] = '\0';
	seq = 0;
	if (logfile) {
		fflush(logfile);
		if (ftruncate(fileno(logfile), 0) != 0 && !log_failed) {
			log_failed = 1;
			sl_warn("cannot truncate the log: %s",
			    strerror(errno));
		}
	}
	for (i = 0; i < NMODULES; i++)
		if (modules[i]->reset)
			modules[i]->reset();
	fake_notify();
	pthread_mutex_unlock(&lock);
	fake_reply_json(resp, 200, sl_set(jv_object(), "ok", jv_true()));
}

static void
control(struct fake_req *req, struct fake_resp *resp)
{
	const char *what = req->path + strlen("/_fake");
	size_t i;
	int answered = 0;

	if (strcmp(what, "/log") == 0) {
		if (strcmp(req->method, "GET") != 0) {
			reply_error(resp, 405, "use GET");
			return;
		}
		pthread_mutex_lock(&lock);
		fake_reply(resp, 200, "application/x-ndjson",
		    logbuf ? logbuf : "", loglen);
		pthread_mutex_unlock(&lock);
	} else if (strcmp(what, "/rules") == 0) {
		control_rules(req, resp);
	} else if (strcmp(what, "/reset") == 0) {
		if (strcmp(req->method, "POST") != 0)
			reply_error(resp, 405, "use POST");
		else
			control_reset(resp);
	} else {
		pthread_mutex_lock(&lock);
		for (i = 0; !answered && i < NMODULES; i++)
			answered = modules[i]->handle(req, resp);
		pthread_mutex_unlock(&lock);
		if (!answered)
			reply_error(resp, 404, PROG ": no control endpoint %s",
			    req->path);
	}
}

/*
 * Sending the answer.
 */

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	uint64_t left;
	size_t n, i, off;

	if (s->cut && pos >= s->cut) {
		nap(50);	/* let the first part reach the client */
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (pos >= s->total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->chunk_delay_ms > 0 && pos > 0 && nap(s->chunk_delay_ms) < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	left = (s->cut ? s->cut : s->total) - pos;
	n = left < max ? (size_t)left : max;
	if (s->chunk_delay_ms > 0 && n > s->chunk)
		n = s->chunk;
	off = (size_t)(pos % s->len);
	for (i = 0; i < n; ) {
		size_t k = s->len - off < n - i ? s->len - off : n - i;

		memcpy(buf + i, s->body + off, k);
		i += k;
		off = 0;
	}
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;

	free(s->body);
	free(s);
}

static enum MHD_Result
deliver(struct MHD_Connection *c, struct fake_resp *resp)
{
	static const char broken[] = "{\"ok\":true,\"result\":{\"id\":";
	static const char some[] = "{\"ok\":true,\"result\":null}";
	struct MHD_Response *r;
	struct stream *s;
	enum MHD_Result ret;
	int i;

	if (resp->delay_ms > 0 && nap(resp->delay_ms) < 0)
		return MHD_NO;
	if (resp->close == FAKE_CLOSE_BEFORE)
		return MHD_NO;
	if (resp->malformed) {
		if (resp->body_len >= 2)
			resp->body_len /= 2;
		else
			fake_reply(resp, resp->status, NULL, broken,
			    sizeof broken - 1);
	}
	if (resp->repeat < 1)
		resp->repeat = 1;
	if (resp->close == FAKE_CLOSE_MID && resp->body_len *
	    (uint64_t)resp->repeat < 2)
		fake_reply(resp, resp->status, NULL, some, sizeof some - 1);
	if (resp->close == FAKE_CLOSE_NONE && resp->repeat == 1 &&
	    resp->chunk_delay_ms == 0) {
		r = MHD_create_response_from_buffer(resp->body_len,
		    resp->body ? resp->body : (char *)"",
		    MHD_RESPMEM_MUST_COPY);
	} else {
		s = sl_calloc(1, sizeof *s);
		s->body = resp->body;
		s->len = resp->body_len;
		resp->body = NULL;
		s->total = (uint64_t)s->len * (uint64_t)resp->repeat;
		if (resp->close == FAKE_CLOSE_MID)
			s->cut = s->total / 2;
		s->chunk_delay_ms = resp->chunk_delay_ms;
		s->chunk = resp->chunk_bytes ? resp->chunk_bytes : 16;
		r = MHD_create_response_from_callback(s->total, 16384,
		    stream_read, s, stream_free);
		if (!r)
			stream_free(s);
	}
	if (!r)
		return MHD_NO;
	for (i = 0; i < resp->nhdr; i++)
		MHD_add_response_header(r, resp->hdr[i].name,
		    resp->hdr[i].value);
	ret = MHD_queue_response(c, (unsigned int)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct incoming *in = *con_cls;
	struct fake_req req;
	struct fake_resp resp;
	enum MHD_Result ret;
	size_t n;

	(void)cls;
	(void)version;
	if (!in) {
		in = sl_calloc(1, sizeof *in);
		in->at_ms = fake_now_ms();
		*con_cls = in;
		return MHD_YES;
	}
	if (*upload_size) {
		n = *upload_size;
		*upload_size = 0;
		if (in->too_large || n > REQ_BODY_MAX - in->len) {
			in->too_large = 1;
			return MHD_YES;
		}
		if (in->len + n + 1 > in->cap) {
			while (in->len + n + 1 > in->cap)
				in->cap = in->cap ? in->cap * 2 : 4096;
			in->body = sl_realloc(in->body, in->cap);
		}
		memcpy(in->body + in->len, upload, n);
		in->len += n;
		in->body[in->len] = '\0';
		return MHD_YES;
	}
	memset(&resp, 0, sizeof resp);
	resp.repeat = 1;
	req_init(&req, c, url, method, in);
	if (in->too_large)
		reply_error(&resp, 413, "request body over %zu bytes",
		    REQ_BODY_MAX);
	else if (strcmp(url, "/_fake") == 0 || strncmp(url, "/_fake/", 7) == 0)
		control(&req, &resp);
	else
		dispatch(&req, &resp);
	ret = deliver(c, &resp);
	resp_free(&resp);
	req_free(&req);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct incoming *in = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (in) {
		free(in->body);
		free(in);
	}
	*con_cls = NULL;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " [-v] [-p port] [-l logfile] "
	    "[-r rules.jsonl]...");
	for (i = 0; i < NMODULES; i++)
		if (modules[i]->usage)
			fprintf(f, " %s", modules[i]->usage);
	fprintf(f, "\n");
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	pthread_condattr_t ca;
	struct sigaction sa;
	char optstring[64] = "hvp:l:r:";
	const char *logpath = NULL;
	char **rulefiles = NULL;
	size_t nrulefiles = 0, i;
	sigset_t set;
	long port = 0;
	unsigned int flags;
	char *end;
	int c, vflag = 0, sig, used;

	sl_init(PROG);
	clock_gettime(CLOCK_MONOTONIC, &started);
	for (i = 0; i < NMODULES; i++)
		if (modules[i]->optstring) {
			used = (int)strlen(optstring);
			snprintf(optstring + used, sizeof optstring -
			    (size_t)used, "%s", modules[i]->optstring);
		}
	while ((c = getopt(argc, argv, optstring)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			vflag = 1;
			break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || port < 0 ||
			    port > 65535)
				sl_die(SL_EX_USAGE, "bad port '%s'", optarg);
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'r':
			rulefiles = sl_realloc(rulefiles, (nrulefiles + 1) *
			    sizeof *rulefiles);
			rulefiles[nrulefiles++] = optarg;
			break;
		default:
			for (i = 0; i < NMODULES; i++)
				if (modules[i]->optstring && c != '?' &&
				    c != ':' &&
				    strchr(modules[i]->optstring, c))
					break;
			if (i == NMODULES) {
				usage(stderr);
				return SL_EX_USAGE;
			}
			if (modules[i]->option(c, optarg) < 0)
				return SL_EX_USAGE;
			break;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return SL_EX_USAGE;
	}
	for (i = 0; i < nrulefiles; i++)
		rules_load(rulefiles[i]);
	free(rulefiles);
	if (logpath && !(logfile = fopen(logpath, "a")))
		sl_die(SL_EX_IOERR, "cannot open '%s': %s", logpath,
		    strerror(errno));

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);

	/* The signals go to sigwait below, not to the server's threads. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	if (vflag)
		flags |= MHD_USE_ERROR_LOG;
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request,
	    NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
	    MHD_OPTION_END);
	if (!d)
		sl_die(SL_EX_OSERR, "cannot listen on 127.0.0.1:%ld", port);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		sl_die(SL_EX_OSERR, "cannot tell the port");
	printf("%u\n", (unsigned int)info->port);
	if (fflush(stdout) != 0)
		sl_die(SL_EX_IOERR, "cannot write the port: %s",
		    strerror(errno));

	while (sigwait(&set, &sig) != 0)
		;
	atomic_store(&stopping, 1);
	pthread_mutex_lock(&lock);
	fake_notify();
	pthread_mutex_unlock(&lock);
	MHD_stop_daemon(d);

	rules_clear();
	for (i = 0; i < NMODULES; i++)
		if (modules[i]->cleanup)
			modules[i]->cleanup();
	free(logbuf);
	if (logfile && fclose(logfile) != 0)
		sl_warn("cannot write the log: %s", strerror(errno));
	pthread_cond_destroy(&cond);
	return 0;
}
