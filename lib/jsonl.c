/*
 * jsonl.c: the JSON-lines reader and writer, and type-checked getters.
 *
 * The reader keeps its own buffer (no stdio line limits, NUL bytes kept),
 * parses each line on its own so an error in one line never affects the
 * next, and skips lines longer than SL_LINE_MAX without
 * storing them.  Messages never quote the line itself: it may be huge, or
 * somebody's personal data.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
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

/*
 * A strict RFC 8259 parser that builds jv values.  libjq 1.6's own parser
 * leaks memory on some malformed input (two strings in a row, for one), so
 * hostile lines never reach it.  Strings go through jv_string_sized, which
 * replaces invalid UTF-8 with U+FFFD; a lone \u surrogate becomes U+FFFD.
 */
#define PARSE_DEPTH 256

struct parser {
	const char *s, *end, *p;
	const char *err;
	int depth;
	char *scratch;		/* unescaped string bytes */
	size_t cap;
};

static jv parse_value(struct parser *ps);

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static jv
fail(struct parser *ps, const char *msg)
{
	if (!ps->err)
		ps->err = msg;
	return jv_invalid();
}

static void
scratch_put(struct parser *ps, size_t *n, const char *b, size_t k)
{
	if (k == 0)
		return;
	if (*n + k > ps->cap) {
		while (*n + k > ps->cap)
			ps->cap = ps->cap ? 2 * ps->cap : 256;
		ps->scratch = sl_realloc(ps->scratch, ps->cap);
	}
	memcpy(ps->scratch + *n, b, k);
	*n += k;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
utf8_put(char *b, unsigned c)
{
	if (c < 0x80) {
		b[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | c >> 18);
	b[1] = (char)(0x80 | (c >> 12 & 0x3f));
	b[2] = (char)(0x80 | (c >> 6 & 0x3f));
	b[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* At the opening quote. */
static jv
parse_string(struct parser *ps)
{
	const char *run;
	size_t n = 0;

	run = ++ps->p;
	for (;;) {
		const char *q = ps->p;
		unsigned c, lo;
		char u[4];

		while (q < ps->end && *q != '"' && *q != '\\' &&
		    (unsigned char)*q >= 0x20)
			q++;
		ps->p = q;
		if (q >= ps->end)
			return fail(ps, "unterminated string");
		if ((unsigned char)*q < 0x20)
			return fail(ps, "control character in a string");
		if (*q == '"') {
			jv v;

			if (n == 0) {
				v = jv_string_sized(run, (int)(q - run));
			} else {
				scratch_put(ps, &n, run, (size_t)(q - run));
				v = jv_string_sized(ps->scratch, (int)n);
			}
			ps->p = q + 1;
			return v;
		}
		/* A backslash. */
		scratch_put(ps, &n, run, (size_t)(q - run));
		if (q + 1 >= ps->end)
			return fail(ps, "unterminated string");
		switch (q[1]) {
		case '"': case '\\': case '/':
			scratch_put(ps, &n, q + 1, 1);
			q += 2;
			break;
		case 'b': scratch_put(ps, &n, "\b", 1); q += 2; break;
		case 'f': scratch_put(ps, &n, "\f", 1); q += 2; break;
		case 'n': scratch_put(ps, &n, "\n", 1); q += 2; break;
		case 'r': scratch_put(ps, &n, "\r", 1); q += 2; break;
		case 't': scratch_put(ps, &n, "\t", 1); q += 2; break;
		case 'u':
			if (ps->end - q < 6 || hex4(q + 2, &c) < 0)
				return fail(ps, "bad \\u escape");
			q += 6;
			if (c >= 0xd800 && c < 0xdc00 && ps->end - q >= 6 &&
			    q[0] == '\\' && q[1] == 'u' && hex4(q + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				q += 6;
			} else if (c >= 0xd800 && c < 0xe000) {
				c = 0xfffd;
			}
			scratch_put(ps, &n, u, utf8_put(u, c));
			break;
		default:
			ps->p = q;
			return fail(ps, "bad escape in a string");
		}
		run = ps->p = q;
	}
}

static jv
parse_number(struct parser *ps)
{
	const char *q = ps->p;
	char buf[64], *endp;
	double d;

	if (q < ps->end && *q == '-')
		q++;
	if (q < ps->end && *q == '0') {
		q++;
	} else if (q < ps->end && *q >= '1' && *q <= '9') {
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		return fail(ps, "bad number");
	}
	if (q < ps->end && *q == '.') {
		if (++q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, "bad number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return fail(ps, "bad number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((size_t)(q - ps->p) >= sizeof buf)
		return fail(ps, "number too long");
	memcpy(buf, ps->p, (size_t)(q - ps->p));
	buf[q - ps->p] = '\0';
	d = strtod(buf, &endp);
	if (!isfinite(d))
		return fail(ps, "number out of range");
	ps->p = q;
	return jv_number(d);
}

static jv
parse_literal(struct parser *ps, const char *word, jv v)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
		jv_free(v);
		return fail(ps, "invalid literal");
	}
	ps->p += n;
	return v;
}

static jv
parse_array(struct parser *ps)
{
	jv a = jv_array();

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return a;
	}
	for (;;) {
		jv v = parse_value(ps);

		if (!jv_is_valid(v)) {
			jv_free(a);
			return v;
		}
		a = jv_array_append(a, v);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return a;
		}
		jv_free(a);
		return fail(ps, "expected ',' or ']'");
	}
}

static jv
parse_object(struct parser *ps)
{
	jv o = jv_object();

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return o;
	}
	for (;;) {
		jv k, v;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			jv_free(o);
			return fail(ps, "expected a string key");
		}
		k = parse_string(ps);
		if (!jv_is_valid(k)) {
			jv_free(o);
			return k;
		}
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			jv_free(k);
			jv_free(o);
			return fail(ps, "expected ':'");
		}
		ps->p++;
		v = parse_value(ps);
		if (!jv_is_valid(v)) {
			jv_free(k);
			jv_free(o);
			return v;
		}
		o = jv_object_set(o, k, v);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return o;
		}
		jv_free(o);
		return fail(ps, "expected ',' or '}'");
	}
}

static jv
parse_value(struct parser *ps)
{
	jv v;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	if (ps->depth >= PARSE_DEPTH)
		return fail(ps, "nested too deeply");
	switch (*ps->p) {
	case '{':
		ps->depth++;
		v = parse_object(ps);
		ps->depth--;
		return v;
	case '[':
		ps->depth++;
		v = parse_array(ps);
		ps->depth--;
		return v;
	case '"':
		return parse_string(ps);
	case 't':
		return parse_literal(ps, "true", jv_true());
	case 'f':
		return parse_literal(ps, "false", jv_false());
	case 'n':
		return parse_literal(ps, "null", jv_null());
	default:
		return parse_number(ps);
	}
}

jv
sl_parse(const char *buf, size_t len)
{
	struct parser ps = { 0 };
	jv v;

	if (len > SL_LINE_MAX)
		return jv_invalid_with_msg(jv_string("value too long"));
	ps.s = ps.p = buf;
	ps.end = buf + len;
	/* A UTF-8 byte order mark is tolerated. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	skip_ws(&ps);
	if (ps.p == ps.end) {
		v = jv_invalid();
		ps.err = "no JSON value";
	} else {
		v = parse_value(&ps);
		if (jv_is_valid(v)) {
			skip_ws(&ps);
			if (ps.p != ps.end) {
				jv_free(v);
				v = fail(&ps, "unexpected data after the value");
			}
		}
	}
	free(ps.scratch);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_invalid_with_msg(jv_string_fmt("%s at column %ld",
		    ps.err, (long)(ps.p - ps.s) + 1));
	}
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

/*
 * Output.  The writer formats into one buffer and writes it with one
 * fwrite: libjq's jv_dump_string builds a jv string token by token and
 * costs three times the parse.  Object keys keep their insertion order, as
 * jq prints them; numbers are printed exactly (integers in full, others
 * with the fewest digits that read back the same); non-finite numbers
 * become null.
 */

struct dbuf {
	char *s;
	size_t len, cap;
};

static void
dput(struct dbuf *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? 2 * b->cap : 4096;
		b->s = sl_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

/* v in decimal into buf (at least 21 bytes); its length. */
static int
i64_text(char *buf, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = 0, k = 0;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return k;
}

static void
dump_number(struct dbuf *b, double d)
{
	char buf[40];
	int n, prec;

	if (!isfinite(d)) {
		dput(b, "null", 4);
		return;
	}
	if (d == floor(d) && d > -1e17 && d < 1e17) {
		n = i64_text(buf, (int64_t)d);
	} else {
		for (prec = 15; prec < 17; prec++) {
			n = snprintf(buf, sizeof buf, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		n = snprintf(buf, sizeof buf, "%.*g", prec, d);
	}
	dput(b, buf, (size_t)n);
}

static void
dump_string(struct dbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	dput(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t k = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		dput(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		dput(b, esc, k);
	}
	dput(b, s + run, n - run);
	dput(b, "\"", 1);
}

/* Borrows v. */
static void
dump_value(struct dbuf *b, jv v)
{
	int i, n, first;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
	case JV_KIND_INVALID:
		dput(b, "null", 4);
		break;
	case JV_KIND_TRUE:
		dput(b, "true", 4);
		break;
	case JV_KIND_FALSE:
		dput(b, "false", 5);
		break;
	case JV_KIND_NUMBER:
		dump_number(b, jv_number_value(v));
		break;
	case JV_KIND_STRING:
		dump_string(b, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY:
		dput(b, "[", 1);
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);

			if (i)
				dput(b, ",", 1);
			dump_value(b, e);
			jv_free(e);
		}
		dput(b, "]", 1);
		break;
	case JV_KIND_OBJECT:
		dput(b, "{", 1);
		first = 1;
		for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
		    i = jv_object_iter_next(v, i)) {
			jv k = jv_object_iter_key(v, i);
			jv e = jv_object_iter_value(v, i);

			if (!first)
				dput(b, ",", 1);
			first = 0;
			dump_value(b, k);
			dput(b, ":", 1);
			dump_value(b, e);
			jv_free(k);
			jv_free(e);
		}
		dput(b, "}", 1);
		break;
	}
}

char *
sl_json_dump(jv v, size_t *len)
{
	struct dbuf b = { 0 };

	dump_value(&b, v);
	dput(&b, "", 1);
	if (len)
		*len = b.len - 1;
	return b.s;
}

static int out_failed;
static struct dbuf outbuf;

static void
out_error(void)
{
	if (!out_failed)
		sl_error("error writing stdout: %s", strerror(errno));
	out_failed = 1;
}

/* Writes rec into stdio's buffer; flushes only when flush is set. */
static int
emit(jv rec, int flush)
{
	if (out_failed) {
		jv_free(rec);
		return -1;
	}
	outbuf.len = 0;
	dump_value(&outbuf, rec);
	dput(&outbuf, "\n", 1);
	jv_free(rec);
	if (fwrite(outbuf.s, 1, outbuf.len, stdout) != outbuf.len ||
	    (flush && fflush(stdout) == EOF))
		out_error();
	/* Do not keep a huge buffer around after one huge record. */
	if (outbuf.cap > 1024 * 1024) {
		free(outbuf.s);
		outbuf.s = NULL;
		outbuf.len = outbuf.cap = 0;
	}
	return out_failed ? -1 : 0;
}

int
sl_emit(jv rec)
{
	return emit(rec, 1);
}

int
sl_emit_more(jv rec)
{
	return emit(rec, 0);
}

int
sl_out_flush(void)
{
	if (!out_failed && fflush(stdout) == EOF)
		out_error();
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
	free(outbuf.s);
	outbuf.s = NULL;
	outbuf.len = outbuf.cap = 0;
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

/*
 * Keys: the same few names are looked up and set millions of times, and
 * a new jv string is a malloc, a UTF-8 check and a copy.  A small cache per
 * thread (jv reference counts are not atomic; a thread's cache is freed
 * when it ends) maps the key's address to the string made for it; the
 * text is compared too, since an address may be a buffer that now holds
 * another key.
 */
#define KEYS 256

struct key_slot {
	const char *at;
	jv v;
	int used;
};

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static pthread_key_t keys_key;

static void
keys_free(void *p)
{
	struct key_slot *t = p;
	size_t i;

	for (i = 0; i < KEYS; i++)
		if (t[i].used)
			jv_free(t[i].v);
	free(t);
}

static void
keys_init(void)
{
	if (pthread_key_create(&keys_key, keys_free) != 0)
		sl_die(SL_EX_OSERR, "cannot create a thread key");
}

jv
sl_key(const char *k)
{
	uintptr_t a = (uintptr_t)k;
	struct key_slot *t, *e;

	pthread_once(&keys_once, keys_init);
	if ((t = pthread_getspecific(keys_key)) == NULL) {
		t = sl_calloc(KEYS, sizeof *t);
		if (pthread_setspecific(keys_key, t) != 0) {
			free(t);
			return jv_string(k);
		}
	}
	e = &t[((a >> 3) ^ (a >> 11)) % KEYS];
	if (e->used && e->at == k && strcmp(jv_string_value(e->v), k) == 0)
		return jv_copy(e->v);
	if (strlen(k) > 64)
		return jv_string(k);
	if (e->used)
		jv_free(e->v);
	e->at = k;
	e->v = jv_string(k);
	e->used = 1;
	return jv_copy(e->v);
}

/* obj[key], or null when obj is not an object. Borrows obj. */
static jv
field(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	return jv_object_get(jv_copy(obj), sl_key(key));
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

	return jv_string_sized(buf, i64_text(buf, id));
}

jv
sl_set(jv obj, const char *key, jv value)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		jv_free(value);
		return jv_invalid_with_msg(jv_string("not an object"));
	}
	return jv_object_set(obj, sl_key(key), value);
}
