/*
 * guard.c: the checks of a model's reply beyond the tone linter.
 *
 * Texts are compared as their words: lower case, ё as е, joined by one
 * space, with a space at both ends, so a phrase is found as " phrase "
 * and never inside a longer word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "jsonl.h"
#include "sl.h"

#define SHINGLE 12	/* words in a row that make a quote */

struct sl_guard {
	const struct sl_tone_rules *tone;
	char **banned;		/* normalised, " a b " */
	size_t nbanned;
	double *pct;		/* allowed percentages */
	size_t npct;
	uint64_t *shingle;	/* hashes of the secret's word runs, sorted */
	size_t nshingle;
};

/* The code point at *p (advancing it), or the byte for a bad sequence. */
static uint32_t
next_cp(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	uint32_t c = *s;
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ?
	    2 : (c & 0xf8) == 0xf0 ? 3 : -1;
	int i;

	*p = s + 1;
	if (n <= 0 || end - s <= n)
		return c;
	c &= 0x3fu >> n;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return *s;
		c = c << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return c;
}

/* c in lower case with ё as е; 0 when c is no letter or digit. */
static uint32_t
fold(uint32_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
		return c;
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c == 0x401 || c == 0x451)
		return 0x435;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x430 && c <= 0x44f)
		return c;
	return 0;
}

static void
put_cp(struct sl_buf *b, uint32_t c)
{
	char u[2];

	if (c < 0x80) {
		u[0] = (char)c;
		sl_buf_add(b, u, 1);
		return;
	}
	u[0] = (char)(0xc0 | c >> 6);
	u[1] = (char)(0x80 | (c & 0x3f));
	sl_buf_add(b, u, 2);	/* fold gives nothing above U+07FF */
}

/* The words of len bytes of text, normalised: " w1 w2 ... " (new). */
static char *
words(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	struct sl_buf b = { NULL, 0, 0 };
	uint32_t c;
	int in = 0;

	sl_buf_add(&b, " ", 1);
	while (p < end) {
		c = fold(next_cp(&p, end));
		if (c) {
			put_cp(&b, c);
			in = 1;
		} else if (in) {
			sl_buf_add(&b, " ", 1);
			in = 0;
		}
	}
	if (in)
		sl_buf_add(&b, " ", 1);
	return b.s;
}

static uint64_t
hash_run(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/*
 * Calls fn for the hash of every run of SHINGLE words of w (" a b ... "),
 * until it returns nonzero; returns that.
 */
static int
each_shingle(const char *w, int (*fn)(void *, uint64_t), void *arg)
{
	const char *start[SHINGLE + 1], *p = w + 1;
	size_t k = 0;
	int rc;

	while (*p) {
		start[k < SHINGLE ? k : SHINGLE] = p;
		if (k == SHINGLE)
			memmove(start, start + 1, SHINGLE * sizeof *start);
		else
			k++;
		p = strchr(p, ' ') + 1;
		if (k == SHINGLE &&
		    (rc = fn(arg, hash_run(start[0], (size_t)(p - start[0])))))
			return rc;
	}
	return 0;
}

static int
add_shingle(void *arg, uint64_t h)
{
	struct sl_guard *g = arg;

	g->shingle = sl_realloc(g->shingle, (g->nshingle + 1) *
	    sizeof *g->shingle);
	g->shingle[g->nshingle++] = h;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
is_secret(void *arg, uint64_t h)
{
	const struct sl_guard *g = arg;

	return bsearch(&h, g->shingle, g->nshingle, sizeof h, cmp_u64) != NULL;
}

static void
add_banned(struct sl_guard *g, jv list)
{
	jv v;
	int i, n;

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(list), i);
		if (jv_get_kind(v) == JV_KIND_STRING) {
			const char *s = jv_string_value(v);
			char *w = words(s, strlen(s));

			if (strlen(w) > 2) {
				g->banned = sl_realloc(g->banned,
				    (g->nbanned + 1) * sizeof *g->banned);
				g->banned[g->nbanned++] = w;
			} else {
				free(w);
			}
		}
		jv_free(v);
	}
	jv_free(list);
}

struct sl_guard *
sl_guard_new(const struct sl_tone_rules *tone, jv rules)
{
	struct sl_guard *g = sl_calloc(1, sizeof *g);
	jv b, k, v;
	int i, n;

	g->tone = tone;
	if (jv_get_kind(rules) != JV_KIND_OBJECT)
		return g;
	b = jv_object_get(jv_copy(rules), jv_string("banned_phrases"));
	if (jv_get_kind(b) == JV_KIND_OBJECT) {
		k = jv_keys(jv_copy(b));
		n = jv_array_length(jv_copy(k));
		for (i = 0; i < n; i++) {
			v = jv_array_get(jv_copy(k), i);
			add_banned(g, jv_object_get(jv_copy(b), v));
		}
		jv_free(k);
		jv_free(b);
	} else {
		add_banned(g, b);
	}
	return g;
}

void
sl_guard_free(struct sl_guard *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nbanned; i++)
		free(g->banned[i]);
	free(g->banned);
	free(g->pct);
	free(g->shingle);
	free(g);
}

/*
 * The next percentage at or after *p in text: "5%", "12,5 %", "10
 * процентов", "10 percent".  Returns 1 with its value in *v, its first
 * byte in *at and *p after it; 0 at the end of the text.
 */
static int
next_pct(const char **p, const char **at, double *v)
{
	static const char *const unit[] = { "%", "\xef\xbc\x85", "процент",
		"percent", "per cent" };
	const char *s = *p, *q;
	double frac;
	size_t i;

	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (s > *p && s[-1] >= '0' &&
		    s[-1] <= '9'))
			continue;
		*v = 0;
		for (q = s; *q >= '0' && *q <= '9'; q++)
			*v = *v * 10 + (*q - '0');
		if ((*q == '.' || *q == ',') && q[1] >= '0' && q[1] <= '9')
			for (q++, frac = 0.1; *q >= '0' && *q <= '9'; q++,
			    frac /= 10)
				*v += (*q - '0') * frac;
		while (*q == ' ')
			q++;
		if (strncmp(q, "\xc2\xa0", 2) == 0)
			q += 2;
		for (i = 0; i < sizeof unit / sizeof *unit; i++)
			if (strncmp(q, unit[i], strlen(unit[i])) == 0) {
				*at = s;
				*p = q + strlen(unit[i]);
				return 1;
			}
	}
	*p = s;
	return 0;
}

/* Does text (w: its words) speak of a discount? */
static int
of_discount(const char *text, const char *w)
{
	return strstr(w, " скидк") || strstr(w, " discount") ||
	    strstr(text, "% off");
}

void
sl_guard_allow(struct sl_guard *g, const char *text)
{
	const char *p = text, *at;
	char *w = words(text, strlen(text));
	double v;

	while (of_discount(text, w) && next_pct(&p, &at, &v)) {
		g->pct = sl_realloc(g->pct, (g->npct + 1) * sizeof *g->pct);
		g->pct[g->npct++] = v;
	}
	free(w);
}

void
sl_guard_secret(struct sl_guard *g, const char *text)
{
	char *w = words(text, strlen(text));

	each_shingle(w, add_shingle, g);
	free(w);
	qsort(g->shingle, g->nshingle, sizeof *g->shingle, cmp_u64);
}

static jv
violation(jv out, const char *rule, char *detail)
{
	out = jv_array_append(out, JV_OBJECT(jv_string("rule"),
	    jv_string(rule), jv_string("detail"), jv_string(detail)));
	free(detail);
	return out;
}

/* Percentages a reply that speaks of a discount may not invent. */
static jv
discounts(const struct sl_guard *g, const char *text, const char *w,
    jv out)
{
	const char *p = text, *at;
	double v;
	size_t i;

	if (!of_discount(text, w))
		return out;
	while (next_pct(&p, &at, &v)) {
		for (i = 0; i < g->npct && g->pct[i] != v; i++)
			;
		if (i == g->npct)
			out = violation(out, "invented_discount",
			    sl_asprintf("'%.*s' is a discount the knowledge "
			    "base does not name", (int)(p - at), at));
	}
	return out;
}

jv
sl_guard_check(const struct sl_guard *g, const char *text, size_t len,
    const char *lang)
{
	jv out = jv_array(), tone, v;
	const char *rule, *sev, *detail;
	char *w, *s;
	size_t i;
	int k, n;

	tone = sl_tone_check(text, len, lang, g->tone);
	n = jv_array_length(jv_copy(tone));
	for (k = 0; k < n; k++) {
		v = jv_array_get(jv_copy(tone), k);
		if (sl_get_str(v, "severity", &sev) == 1 &&
		    strcmp(sev, "error") == 0 &&
		    sl_get_str(v, "rule", &rule) == 1) {
			if (sl_get_str(v, "detail", &detail) != 1)
				detail = rule;
			out = violation(out, rule, sl_strdup(detail));
		}
		jv_free(v);
	}
	jv_free(tone);
	s = sl_strndup(text, len);
	w = words(s, len);
	out = discounts(g, s, w, out);
	for (i = 0; i < g->nbanned; i++)
		if (strstr(w, g->banned[i]))
			out = violation(out, "banned_phrase", sl_asprintf("'%.*s'",
			    (int)strlen(g->banned[i]) - 2, g->banned[i] + 1));
	if (g->nshingle && each_shingle(w, is_secret, (void *)g))
		out = violation(out, "prompt_leak", sl_strdup("the reply "
		    "quotes the instructions"));
	free(w);
	free(s);
	return out;
}

char *
sl_guard_describe(jv violations)
{
	struct sl_buf b = { NULL, 0, 0 };
	const char *rule, *detail;
	jv v;
	int i, n = jv_array_length(jv_copy(violations));

	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(violations), i);
		if (sl_get_str(v, "rule", &rule) != 1)
			rule = "?";
		if (b.len)
			sl_buf_add(&b, "; ", 2);
		sl_buf_add(&b, rule, strlen(rule));
		if (sl_get_str(v, "detail", &detail) == 1 &&
		    strcmp(detail, rule) != 0) {
			sl_buf_add(&b, " (", 2);
			sl_buf_add(&b, detail, strlen(detail));
			sl_buf_add(&b, ")", 1);
		}
		jv_free(v);
	}
	return b.s ? b.s : sl_strdup("");
}
