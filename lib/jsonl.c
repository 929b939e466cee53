/*
 * jsonl.c: the JSON-lines reader and writer, and type-checked getters.
 *
 * The reader keeps its own buffer (no stdio line limits, NUL bytes kept),
 * parses each line with a fresh libjq parser so an error in one line never
 * affects the next, and skips lines longer than SL_LINE_MAX without
 * storing them.  Messages never quote the line itself: it may be huge, or
 * somebody's personal data.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "sl.h"
#include "jsonl.h"
#include "timeutil.h"

#define CHUNK (256 * 1024)
#define MAX_EXACT 9007199254740992.0	/* 2^53 */

struct sl_reader {
	FILE *f;
	int fd;
	char *name;
	char *buf;		/* bytes read, not yet consumed: buf[pos..len) */
	size_t pos, len, cap;
	unsigned long lineno;	/* of the line last returned */
	unsigned long next;	/* of the next line */
	unsigned long rejected;
	size_t max;		/* longest line accepted */
	int rejected_cur;	/* the current record was rejected */
	int eof, err;
};

struct sl_reader *
sl_reader_new(FILE *f, const char *name)
{
	struct sl_reader *r = sl_calloc(1, sizeof *r);

	r->f = f;
	r->fd = fileno(f);
	r->name = sl_strdup(name);
	r->cap = CHUNK;
	r->buf = sl_malloc(r->cap);
	r->next = 1;
	r->max = SL_LINE_MAX;
	return r;
}

void
sl_reader_set_max(struct sl_reader *r, size_t max)
{
	r->max = max;
}

void
sl_reader_free(struct sl_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->buf);
	free(r);
}

unsigned long
sl_reader_lineno(const struct sl_reader *r)
{
	return r->lineno;
}

unsigned long
sl_reader_rejected(const struct sl_reader *r)
{
	return r->rejected;
}

static void
report(struct sl_reader *r, unsigned long line, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	sl_error("%s:%lu: %s", r->name, line, msg);
}

static void
reject_line(struct sl_reader *r, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(r, line, fmt, ap);
	va_end(ap);
	r->rejected++;
}

int
sl_reader_reject(struct sl_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(r, r->lineno, fmt, ap);
	va_end(ap);
	if (!r->rejected_cur)
		r->rejected++;
	r->rejected_cur = 1;
	return -1;
}

/* Reads more input after buf[len]; returns bytes read, 0 at EOF, -1 error. */
static ssize_t
fill(struct sl_reader *r)
{
	ssize_t n;

	if (r->pos > 0 && r->pos == r->len) {
		r->pos = r->len = 0;
	} else if (r->pos > 0 && r->len == r->cap) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap) {
		r->cap *= 2;
		r->buf = sl_realloc(r->buf, r->cap);
	}
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		r->len += (size_t)n;
	return n;
}

/*
 * The next line: *line and *n point into the buffer, valid until the next
 * call.  Returns 1, 0 at the end, -1 on a read error.  Over-long lines are
 * reported and skipped here.
 */
static int
next_line(struct sl_reader *r, char **line, size_t *n)
{
	size_t scanned = 0, skipped = 0;
	int skipping = 0;

	for (;;) {
		char *nl = memchr(r->buf + r->pos + scanned, '\n',
		    r->len - r->pos - scanned);
		ssize_t got;

		if (nl) {
			size_t end = (size_t)(nl - r->buf);

			if (skipping) {
				reject_line(r, r->next++, "line too long "
				    "(%zu bytes, at most %zu)", skipped + end -
				    r->pos, r->max);
				r->pos = end + 1;
				skipping = 0;
				skipped = scanned = 0;
				continue;
			}
			if (end - r->pos > r->max) {
				reject_line(r, r->next++, "line too long "
				    "(%zu bytes, at most %zu)", end - r->pos,
				    r->max);
				r->pos = end + 1;
				scanned = 0;
				continue;
			}
			*line = r->buf + r->pos;
			*n = end - r->pos;
			r->pos = end + 1;
			r->lineno = r->next++;
			return 1;
		}
		scanned = r->len - r->pos;
		if (skipping || scanned > r->max) {
			/* Drop what we have; remember how much. */
			skipped += scanned;
			r->pos = r->len;
			scanned = 0;
			skipping = 1;
		}
		if (r->eof)
			got = 0;
		else
			got = fill(r);
		if (got < 0) {
			sl_error("error reading %s: %s", r->name,
			    strerror(errno));
			r->err = 1;
			return -1;
		}
		if (got == 0) {
			r->eof = 1;
			if (skipping) {
				reject_line(r, r->next++, "line too long "
				    "(%zu bytes, at most %zu)", skipped, r->max);
				return 0;
			}
			if (r->pos == r->len)
				return 0;
			/* A last line without a newline. */
			if (r->len - r->pos > r->max) {
				reject_line(r, r->next++, "line too long "
				    "(%zu bytes, at most %zu)", r->len - r->pos,
				    r->max);
				r->pos = r->len;
				return 0;
			}
			*line = r->buf + r->pos;
			*n = r->len - r->pos;
			r->pos = r->len;
			r->lineno = r->next++;
			return 1;
		}
	}
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

jv
sl_parse(const char *buf, size_t len)
{
	struct jv_parser *p;
	jv v, extra;

	if (len > SL_LINE_MAX)
		return jv_invalid_with_msg(jv_string("value too long"));
	p = jv_parser_new(0);
	jv_parser_set_buf(p, buf, (int)len, 0);
	v = jv_parser_next(p);
	if (jv_is_valid(v)) {
		extra = jv_parser_next(p);
		if (jv_is_valid(extra)) {
			jv_free(extra);
			jv_free(v);
			v = jv_invalid_with_msg(jv_string(
			    "more than one JSON value on the line"));
		} else if (jv_invalid_has_msg(jv_copy(extra))) {
			jv_free(v);
			v = extra;
		} else {
			jv_free(extra);
		}
	} else if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		v = jv_invalid_with_msg(jv_string("no JSON value"));
	}
	jv_parser_free(p);
	return v;
}

/* The message of an invalid jv, consumed, into buf. */
static const char *
invalid_msg(jv v, char *buf, size_t size)
{
	jv msg = jv_invalid_get_msg(v);

	if (jv_get_kind(msg) == JV_KIND_STRING)
		snprintf(buf, size, "%s", jv_string_value(msg));
	else
		snprintf(buf, size, "invalid JSON");
	jv_free(msg);
	return buf;
}

int
sl_reader_next(struct sl_reader *r, jv *rec)
{
	char *line, msg[256];
	size_t n;
	int st;

	r->rejected_cur = 0;
	while ((st = next_line(r, &line, &n)) == 1) {
		jv v;

		if (blank(line, n))
			continue;
		v = sl_parse(line, n);
		if (!jv_is_valid(v)) {
			reject_line(r, r->lineno, "invalid JSON: %s",
			    invalid_msg(v, msg, sizeof msg));
			continue;
		}
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			reject_line(r, r->lineno, "expected an object, got %s",
			    sl_kind_name(v));
			jv_free(v);
			continue;
		}
		*rec = v;
		return 1;
	}
	return st;
}

int
sl_jsonl_loop(FILE *f, const char *name, sl_record_fn *fn, void *ctx)
{
	struct sl_reader *r = sl_reader_new(f, name);
	int st = SL_EX_OK, rc;
	jv rec;

	while ((rc = sl_reader_next(r, &rec)) == 1) {
		int h = fn(r, rec, ctx);

		if (h < 0 && !r->rejected_cur) {
			r->rejected++;
			r->rejected_cur = 1;
		}
		if (h > 1) {
			st = h;
			break;
		}
		if (sl_out_status()) {
			st = SL_EX_IOERR;
			break;
		}
	}
	if (st == SL_EX_OK) {
		if (rc < 0)
			st = SL_EX_IOERR;
		else if (r->rejected)
			st = SL_EX_REJECT;
	}
	sl_reader_free(r);
	return st;
}

/* Output. */

static int out_failed;

static void
out_error(void)
{
	if (!out_failed)
		sl_error("error writing stdout: %s", strerror(errno));
	out_failed = 1;
}

int
sl_emit(jv rec)
{
	jv s;
	const char *p;
	size_t n;

	if (out_failed) {
		jv_free(rec);
		return -1;
	}
	s = jv_dump_string(rec, 0);
	p = jv_string_value(s);
	n = (size_t)jv_string_length_bytes(jv_copy(s));
	if (fwrite(p, 1, n, stdout) != n || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		out_error();
	jv_free(s);
	return out_failed ? -1 : 0;
}

int
sl_out_status(void)
{
	return out_failed ? SL_EX_IOERR : SL_EX_OK;
}

int
sl_out_close(void)
{
	if (!out_failed && (fflush(stdout) == EOF || ferror(stdout)))
		out_error();
	if (fclose(stdout) == EOF && !out_failed)
		out_error();
	return sl_out_status();
}

/* Getters. */

const char *
sl_kind_name(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID: return "an invalid value";
	case JV_KIND_NULL: return "null";
	case JV_KIND_FALSE: case JV_KIND_TRUE: return "a boolean";
	case JV_KIND_NUMBER: return "a number";
	case JV_KIND_STRING: return "a string";
	case JV_KIND_ARRAY: return "an array";
	case JV_KIND_OBJECT: return "an object";
	}
	return "an unknown value";
}

/* obj[key], or null when obj is not an object. Borrows obj. */
static jv
field(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	return jv_object_get(jv_copy(obj), jv_string(key));
}

/* Consumes v: 0 when it is absent or null (and frees it), 1 otherwise. */
static int
present(jv v)
{
	jv_kind k = jv_get_kind(v);

	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	return 1;
}

int
sl_get_str(jv obj, const char *key, const char **out)
{
	jv v = field(obj, key);
	int r;

	if (!present(v))
		return 0;
	r = jv_get_kind(v) == JV_KIND_STRING ? 1 : -1;
	if (r == 1)
		*out = jv_string_value(v);	/* obj keeps it alive */
	jv_free(v);
	return r;
}

static int
parse_int64(const char *s, int64_t *out)
{
	int neg = 0;
	uint64_t n = 0, lim;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!*s)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (lim - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

static int
num_to_int64(double d, int64_t *out)
{
	if (!isfinite(d) || d != floor(d) || d >= MAX_EXACT || d <= -MAX_EXACT)
		return -1;
	*out = (int64_t)d;
	return 0;
}

int
sl_get_int(jv obj, const char *key, int64_t *out)
{
	jv v = field(obj, key);
	int r = -1;

	if (!present(v))
		return 0;
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		r = num_to_int64(jv_number_value(v), out) == 0 ? 1 : -1;
	else if (jv_get_kind(v) == JV_KIND_STRING)
		r = parse_int64(jv_string_value(v), out) == 0 ? 1 : -1;
	jv_free(v);
	return r;
}

int
sl_get_num(jv obj, const char *key, double *out)
{
	jv v = field(obj, key);
	int r = -1;

	if (!present(v))
		return 0;
	if (jv_get_kind(v) == JV_KIND_NUMBER && isfinite(jv_number_value(v))) {
		*out = jv_number_value(v);
		r = 1;
	}
	jv_free(v);
	return r;
}

int
sl_get_bool(jv obj, const char *key, int *out)
{
	jv v = field(obj, key);
	jv_kind k = jv_get_kind(v);

	if (!present(v))
		return 0;
	jv_free(v);
	if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
		return -1;
	*out = k == JV_KIND_TRUE;
	return 1;
}

int
sl_get_id(jv obj, const char *key, jv *out)
{
	jv v = field(obj, key);
	int64_t n;

	if (!present(v))
		return 0;
	if (jv_get_kind(v) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(v)) > 0) {
		*out = v;
		return 1;
	}
	if (jv_get_kind(v) == JV_KIND_NUMBER &&
	    num_to_int64(jv_number_value(v), &n) == 0) {
		jv_free(v);
		*out = sl_id_jv(n);
		return 1;
	}
	jv_free(v);
	return -1;
}

static int
get_kind(jv obj, const char *key, jv_kind kind, jv *out)
{
	jv v = field(obj, key);

	if (!present(v))
		return 0;
	if (jv_get_kind(v) != kind) {
		jv_free(v);
		return -1;
	}
	*out = v;
	return 1;
}

int
sl_get_obj(jv obj, const char *key, jv *out)
{
	return get_kind(obj, key, JV_KIND_OBJECT, out);
}

int
sl_get_arr(jv obj, const char *key, jv *out)
{
	return get_kind(obj, key, JV_KIND_ARRAY, out);
}

int
sl_get_time(jv obj, const char *key, int64_t *out)
{
	jv v = field(obj, key);
	int r = -1;

	if (!present(v))
		return 0;
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		r = num_to_int64(jv_number_value(v), out) == 0 ? 1 : -1;
	else if (jv_get_kind(v) == JV_KIND_STRING)
		r = sl_time_parse(jv_string_value(v), out) == 0 ? 1 : -1;
	jv_free(v);
	return r;
}

jv
sl_id_jv(int64_t id)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", (long long)id);
	return jv_string(buf);
}

jv
sl_set(jv obj, const char *key, jv value)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		jv_free(value);
		return jv_invalid_with_msg(jv_string("not an object"));
	}
	return jv_object_set(obj, jv_string(key), value);
}
