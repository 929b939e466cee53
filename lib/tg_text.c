/*
 * tg_text.c: Telegram message text: UTF-16 length, splitting, HTML.  See
 * tg_text.h.
 *
 * Splitting works on one part at a time: find the byte offset where the
 * part would reach the limit (lim) and where it reaches half of it (half),
 * then look backwards from lim to half for the best break.  With HTML a
 * map marks the bytes inside tags and entities, where no cut may fall, and
 * the tags open at the cut are closed and opened again; if the closing
 * tags push the part over the limit, the limit shrinks and the search is
 * repeated.
 */
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "tg_text.h"

#define MAX_TAGS 16		/* tags kept open across a cut */
#define MAX_REOPEN 1024		/* bytes of tags opened again */

struct parts {
	char **v;
	size_t n, cap;
};

struct tag {
	const char *name, *open;
	size_t nlen, olen;
};

static void
parts_add(struct parts *ps, char *s)
{
	if (ps->n + 2 > ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 4;
		ps->v = sl_realloc(ps->v, ps->cap * sizeof *ps->v);
	}
	ps->v[ps->n++] = s;
	ps->v[ps->n] = NULL;
}

/* The offset after the code point at s[i] (a stray byte is one). */
static size_t
next_cp(const char *s, size_t i, size_t n)
{
	unsigned char c = (unsigned char)s[i];
	size_t k, j;

	k = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
	if (k > n - i)
		return i + 1;
	for (j = 1; j < k; j++)
		if (((unsigned char)s[i + j] & 0xc0) != 0x80)
			return i + 1;
	return i + k;
}

size_t
sl_utf16_len(const char *s, size_t n)
{
	size_t i = 0, j, u = 0;

	while (i < n) {
		j = next_cp(s, i, n);
		u += j - i == 4 ? 2 : 1;
		i = j;
	}
	return u;
}

/* The longest prefix of s[0..n) within units UTF-16 units, in bytes. */
static size_t
unit_prefix(const char *s, size_t n, size_t units)
{
	size_t i = 0, j, u = 0, w;

	while (i < n) {
		j = next_cp(s, i, n);
		w = j - i == 4 ? 2 : 1;
		if (u + w > units)
			break;
		u += w;
		i = j;
	}
	return i;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * ok[i] for i in [0, lim]: 1 when s may be cut before byte i: a code
 * point starts there and, with html, it is not inside a tag or entity.
 */
static unsigned char *
cut_map(const char *s, size_t n, size_t lim, int html)
{
	unsigned char *ok = sl_calloc(lim + 1, 1);
	const char *gt;
	size_t i = 0, j, end;

	while (i < lim) {
		ok[i] = 1;
		i = next_cp(s, i, n);
	}
	ok[lim] = 1;
	if (!html)
		return ok;
	for (i = 0; i < lim; i++) {
		end = i;
		if (s[i] == '<') {
			gt = memchr(s + i, '>', n - i);
			end = gt ? (size_t)(gt - s) : n;
		} else if (s[i] == '&') {
			for (j = i + 1; j < n && j - i < 12 &&
			    (is_name(s[j]) || s[j] == '#'); j++)
				;
			if (j < n && s[j] == ';' && j > i + 1)
				end = j;
		}
		for (j = i + 1; j <= end && j <= lim; j++)
			ok[j] = 0;
		i = end;
	}
	return ok;
}

/*
 * Does s[0..p) end a sentence (before the space at s[p])?  . ! ? or an
 * ellipsis (U+2026), maybe followed by a closing quote, bracket or
 * guillemet (U+00BB).
 */
static int
sentence_end(const char *s, size_t p)
{
	size_t q = p;

	if (q >= 1 && (s[q - 1] == '"' || s[q - 1] == '\'' || s[q - 1] == ')'))
		q--;
	else if (q >= 2 && memcmp(s + q - 2, "\xc2\xbb", 2) == 0)
		q -= 2;
	if (q >= 1 && (s[q - 1] == '.' || s[q - 1] == '!' || s[q - 1] == '?'))
		return 1;
	return q >= 3 && memcmp(s + q - 3, "\xe2\x80\xa6", 3) == 0;
}

enum { PARA, LINE, SENTENCE, WORD, NKINDS };

static int
is_break(const char *s, size_t n, size_t p, int kind)
{
	size_t q;

	switch (kind) {
	case PARA:
		if (s[p] != '\n')
			return 0;
		for (q = p + 1; q < n && (s[q] == ' ' || s[q] == '\t' ||
		    s[q] == '\r'); q++)
			;
		return q < n && s[q] == '\n';
	case LINE:
		return s[p] == '\n';
	case SENTENCE:
		return (s[p] == ' ' || s[p] == '\t') && sentence_end(s, p);
	default:
		return is_ws(s[p]);
	}
}

/* Where to cut s[0..n): the end of the first part, 0 < result <= lim. */
static size_t
find_cut(const char *s, size_t n, size_t lim, size_t half,
    const unsigned char *ok)
{
	size_t p;
	int kind;

	for (kind = PARA; kind < NKINDS; kind++)
		for (p = lim; p > half && p > 0; p--)
			if (p < n && ok[p] && is_break(s, n, p, kind))
				return p;
	for (p = lim; p > 0; p--)
		if (ok[p])
			return p;
	return lim > 0 ? lim : next_cp(s, 0, n);
}

/* The tags open at the end of s[0..p), bottom first; returns how many. */
static size_t
open_tags(const char *s, size_t p, struct tag *t)
{
	const char *gt, *name;
	size_t i, k, nt = 0, nlen;
	int closing;

	for (i = 0; i < p; i++) {
		if (s[i] != '<' || !(gt = memchr(s + i, '>', p - i)))
			continue;
		closing = s[i + 1] == '/';
		name = s + i + 1 + closing;
		for (nlen = 0; name + nlen < gt && is_name(name[nlen]); nlen++)
			;
		if (nlen > 0 && closing) {
			for (k = nt; k > 0; k--)
				if (t[k - 1].nlen == nlen &&
				    strncmp(t[k - 1].name, name, nlen) == 0)
					break;
			if (k > 0)
				nt = k - 1;
		} else if (nlen > 0 && nt < MAX_TAGS) {
			t[nt].name = name;
			t[nt].nlen = nlen;
			t[nt].open = s + i;
			t[nt].olen = (size_t)(gt - s) + 1 - i;
			nt++;
		}
		i = (size_t)(gt - s);
	}
	return nt;
}

/* Is the HTML text s only tags and white space? */
static int
blank_html(const char *s)
{
	char *plain = sl_tg_html_to_plain(s);
	const char *p = plain;
	int blank;

	while (is_ws(*p))
		p++;
	blank = *p == '\0';
	free(plain);
	return blank;
}

/*
 * Cuts the first part off s (n bytes, no leading white space): returns it
 * as a new string and stores in *rest the text that remains, with the
 * tags to open again in front.
 */
static char *
cut_part(const char *s, size_t n, size_t max, int html, char **rest)
{
	struct tag t[MAX_TAGS];
	size_t reserve = 0, lim, half, p, plen, nt, k, clen, olen, i;
	unsigned char *ok;
	char *part, *r;

	for (;;) {
		lim = unit_prefix(s, n, max - reserve);
		half = unit_prefix(s, n, (max - reserve) / 2);
		ok = cut_map(s, n, lim, html);
		p = find_cut(s, n, lim, half, ok);
		free(ok);
		for (plen = p; plen > 0 && is_ws(s[plen - 1]); plen--)
			;
		nt = html ? open_tags(s, p, t) : 0;
		clen = olen = 0;
		for (k = 0; k < nt; k++) {
			clen += t[k].nlen + 3;
			olen += t[k].olen;
		}
		if (olen > MAX_REOPEN || olen > max / 4 || reserve >= max / 2)
			nt = clen = olen = 0;
		if (sl_utf16_len(s, plen) + clen <= max)
			break;
		reserve += sl_utf16_len(s, plen) + clen - max;
		if (reserve > max / 2)
			reserve = max / 2;
	}
	part = sl_malloc(plen + clen + 1);
	memcpy(part, s, plen);
	for (i = plen, k = nt; k > 0; k--) {
		memcpy(part + i, "</", 2);
		memcpy(part + i + 2, t[k - 1].name, t[k - 1].nlen);
		part[i + 2 + t[k - 1].nlen] = '>';
		i += t[k - 1].nlen + 3;
	}
	part[i] = '\0';
	while (p < n && is_ws(s[p]))
		p++;
	r = sl_malloc(olen + n - p + 1);
	for (i = 0, k = 0; k < nt; k++) {
		memcpy(r + i, t[k].open, t[k].olen);
		i += t[k].olen;
	}
	memcpy(r + i, s + p, n - p);
	r[i + n - p] = '\0';
	*rest = r;
	return part;
}

char **
sl_tg_split(const char *text, size_t max, int html, size_t *n)
{
	struct parts ps = { NULL, 0, 0 };
	char *rest, *next, *part;
	size_t len;

	if (max < 16)
		max = 16;
	while (is_ws(*text))
		text++;
	rest = sl_strdup(text);
	for (;;) {
		len = strlen(rest);
		while (len > 0 && is_ws(rest[len - 1]))
			len--;
		rest[len] = '\0';
		if (len == 0)
			break;
		if (sl_utf16_len(rest, len) <= max) {
			if (html && blank_html(rest))
				break;
			parts_add(&ps, rest);
			rest = NULL;
			break;
		}
		part = cut_part(rest, len, max, html, &next);
		if (html && blank_html(part))
			free(part);
		else
			parts_add(&ps, part);
		free(rest);
		rest = next;
	}
	free(rest);
	if (!ps.v) {
		ps.v = sl_calloc(1, sizeof *ps.v);
		ps.n = 0;
	}
	*n = ps.n;
	return ps.v;
}

void
sl_tg_parts_free(char **parts)
{
	char **p;

	if (!parts)
		return;
	for (p = parts; *p; p++)
		free(*p);
	free(parts);
}

char *
sl_tg_html_escape(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 :
		    *p == '"' ? 6 : 1;
	out = o = sl_malloc(n + 1);
	for (p = s; *p; p++) {
		switch (*p) {
		case '&': memcpy(o, "&amp;", 5); o += 5; break;
		case '<': memcpy(o, "&lt;", 4); o += 4; break;
		case '>': memcpy(o, "&gt;", 4); o += 4; break;
		case '"': memcpy(o, "&quot;", 6); o += 6; break;
		default: *o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* A numeric entity's code point at s ("#123;" or "#x1F;"), or -1. */
static long
numeric_entity(const char *s, size_t *len)
{
	const char *p = s + 1;
	int base = 10, digits = 0;
	long c = 0, d;

	if (*p == 'x' || *p == 'X') {
		base = 16;
		p++;
	}
	for (; *p && *p != ';' && digits < 8; p++, digits++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		c = c * base + d;
	}
	if (*p != ';' || digits == 0 || c == 0 || c > 0x10ffff ||
	    (c >= 0xd800 && c < 0xe000))
		return -1;
	*len = (size_t)(p - s) + 1;
	return c;
}

static size_t
put_utf8(char *b, unsigned long c)
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

char *
sl_tg_html_to_plain(const char *s)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { NULL, 0 },
	};
	char *out = sl_malloc(strlen(s) + 1), *o = out;
	const char *gt;
	size_t i, len;
	long c;

	while (*s) {
		if (*s == '<' && (gt = strchr(s, '>')) &&
		    (s[1] == '/' || is_name(s[1]))) {
			s = gt + 1;
			continue;
		}
		if (*s == '&') {
			for (i = 0; named[i].name; i++) {
				len = strlen(named[i].name);
				if (strncmp(s, named[i].name, len) == 0)
					break;
			}
			if (named[i].name) {
				*o++ = named[i].c;
				s += len;
				continue;
			}
			/* never longer in UTF-8 than as an entity */
			if (s[1] == '#' &&
			    (c = numeric_entity(s + 1, &len)) > 0) {
				o += put_utf8(o, (unsigned long)c);
				s += len + 1;
				continue;
			}
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

long
sl_tg_typing_ms(const char *text, double cps, long min_ms, long max_ms)
{
	size_t i = 0, n = strlen(text), chars = 0;
	double ms;

	if (min_ms > max_ms)
		min_ms = max_ms;
	if (cps <= 0)
		return max_ms;
	while (i < n) {
		i = next_cp(text, i, n);
		chars++;
	}
	ms = (double)chars * 1000.0 / cps;
	if (ms < (double)min_ms)
		return min_ms;
	if (ms > (double)max_ms)
		return max_ms;
	return (long)ms;
}
