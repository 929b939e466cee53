/*
 * rules_nlu.c: what the prospect said, for the rules engine: words in a
 * normal form, cue lists matched as whole words or prefixes, the intents
 * of intents.json in priority order, an e-mail address, an amount of
 * money, the BANT slots, a time (lib/timeparse.h) and the choice of an
 * offered slot.
 *
 * The normal form is " word word ... ": ASCII and Cyrillic letters in
 * lower case with ё as е, digits, a '.' between two digits ("1,5" is
 * "1.5"), ₽ as the word "руб"; everything else separates words.  A cue is
 * put in the same form, so " позовите человека " is found in the text by
 * strstr, and a cue that ended in '*' ("скидк*") is found without its
 * trailing space.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "rules_impl.h"
#include "sl.h"
#include "timeparse.h"
#include "timeutil.h"

/* Appends one separator unless the output already ends in one. */
static void
put_space(char *out, size_t size, size_t *o)
{
	if (*o > 0 && out[*o - 1] == ' ')
		return;
	if (*o + 1 < size)
		out[(*o)++] = ' ';
}

static void
put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	if (*o + n < size) {
		memcpy(out + *o, s, n);
		*o += n;
	}
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The normal form of len bytes of s in out (size bytes, at least 3 * len
 * + 4 to hold all of it); returns its length.  Always NUL-terminated.
 */
size_t
rl_norm(const char *s, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	char b[2];

	if (size < 3) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	out[o++] = ' ';
	while (i < len) {
		unsigned char c = p[i];

		if (c < 0x80) {
			if (c >= 'A' && c <= 'Z')
				b[0] = (char)(c + 32);
			else if ((c >= 'a' && c <= 'z') || is_digit(c))
				b[0] = (char)c;
			else if ((c == '.' || c == ',') && i > 0 &&
			    is_digit(p[i - 1]) && i + 1 < len &&
			    is_digit(p[i + 1]))
				b[0] = '.';
			else {
				put_space(out, size, &o);
				i++;
				continue;
			}
			put(out, size, &o, b, 1);
			i++;
		} else if ((c == 0xd0 || c == 0xd1) && i + 1 < len &&
		    (p[i + 1] & 0xc0) == 0x80) {
			unsigned char d = p[i + 1];

			b[0] = (char)c;
			b[1] = (char)d;
			if (c == 0xd0 && d >= 0x90 && d <= 0x9f) {
				b[1] = (char)(d + 0x20);	/* А-П */
			} else if (c == 0xd0 && d >= 0xa0 && d <= 0xaf) {
				b[0] = (char)0xd1;		/* Р-Я */
				b[1] = (char)(d - 0x20);
			} else if ((c == 0xd0 && d == 0x81) ||
			    (c == 0xd1 && d == 0x91)) {
				b[0] = (char)0xd0;		/* Ё ё */
				b[1] = (char)0xb5;
			}
			put(out, size, &o, b, 2);
			i += 2;
		} else if (c >= 0xc3 && c <= 0xdf && i + 1 < len &&
		    (p[i + 1] & 0xc0) == 0x80) {
			put(out, size, &o, s + i, 2);	/* other letters */
			i += 2;
		} else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x82 &&
		    p[i + 2] == 0xbd) {
			put_space(out, size, &o);	/* ₽ */
			put(out, size, &o, "руб", strlen("руб"));
			put_space(out, size, &o);
			i += 3;
		} else {
			put_space(out, size, &o);
			i++;
			while (i < len && (p[i] & 0xc0) == 0x80)
				i++;
		}
	}
	put_space(out, size, &o);
	out[o] = '\0';
	return o;
}

void
rl_cues_free(struct rl_cues *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].s);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/*
 * The bytes of w (n bytes) that are one Russian ending letter (а я о е у
 * ю ы и й ь м х): 2, or 0 when the letter is none.
 */
static size_t
ending(const char *w, size_t n)
{
	static const char *const end[] = { "а", "я", "о", "е", "у", "ю", "ы",
		"и", "й", "ь", "м", "х" };
	size_t i;

	if (n < 2)
		return 0;
	for (i = 0; i < sizeof end / sizeof end[0]; i++)
		if (memcmp(w, end[i], 2) == 0)
			return 2;
	return 0;
}

/* Where the stem cue c is in norm, with an ending of 0 to 2 letters. */
static const char *
find_stem(const struct rl_cue *c, const char *norm, size_t *len)
{
	const char *p = norm, *e;
	size_t k;

	while ((p = strstr(p, c->s)) != NULL) {
		e = p + c->len;
		for (k = 0; k < 2 && *e != ' ' && ending(e, 2); k++)
			e += 2;
		if (*e == ' ') {
			*len = (size_t)(e - p) + 1;
			return p;
		}
		p++;
	}
	return NULL;
}

/* Adds a cue; 0, or -1 when it has no words. */
int
rl_cues_add(struct rl_cues *c, const char *cue)
{
	size_t len = strlen(cue), size = 3 * len + 4, n;
	struct rl_cue *k;
	char *s;

	s = sl_malloc(size);
	n = rl_norm(cue, len, s, size);
	if (n <= 2) {
		free(s);
		return -1;
	}
	c->v = sl_realloc(c->v, (c->n + 1) * sizeof *c->v);
	k = &c->v[c->n++];
	k->prefix = len > 0 && cue[len - 1] == '*';
	k->stem = 0;
	if (k->prefix)
		s[--n] = '\0';	/* no space after a prefix */
	else if (strchr(s + 1, ' ') == s + n - 1 && n >= 2 + 8 &&
	    ((unsigned char)s[1] == 0xd0 || (unsigned char)s[1] == 0xd1)) {
		k->stem = 1;	/* " цена " is the stem " цен" */
		s[--n] = '\0';
		if (ending(s + n - 2, 2) == 2)
			s[n -= 2] = '\0';
	}
	k->s = s;
	k->len = n;
	return 0;
}

/* Adds the strings of list (consumed): an array, or an object of arrays. */
int
rl_cues_from(struct rl_cues *c, jv list)
{
	int rc = 0;

	if (jv_get_kind(list) == JV_KIND_OBJECT) {
		jv_object_foreach(list, k, v) {
			jv_free(k);
			if (jv_get_kind(v) == JV_KIND_ARRAY &&
			    rl_cues_from(c, v) < 0)
				rc = -1;
			else if (jv_get_kind(v) != JV_KIND_ARRAY)
				jv_free(v);
		}
	} else if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, v) {
			(void)i;
			if (jv_get_kind(v) != JV_KIND_STRING)
				rc = -1;
			else
				rl_cues_add(c, jv_string_value(v));
			jv_free(v);
		}
	} else if (jv_get_kind(list) != JV_KIND_NULL &&
	    jv_is_valid(list)) {
		rc = -1;
	}
	jv_free(list);
	return rc;
}

/*
 * The longest cue of c found in norm: its index, its place in *at and
 * *len (either may be NULL); -1 when none is.
 */
int
rl_match(const struct rl_cues *c, const char *norm, size_t *at, size_t *len)
{
	size_t i, best_len = 0, best_at = 0;
	int best = -1;
	const char *p;

	for (i = 0; i < c->n; i++) {
		size_t l = c->v[i].len;

		if (l <= best_len)
			continue;
		p = c->v[i].stem ? find_stem(&c->v[i], norm, &l) :
		    strstr(norm, c->v[i].s);
		if (p == NULL)
			continue;
		best = (int)i;
		best_len = l;
		best_at = (size_t)(p - norm);
	}
	if (best >= 0) {
		if (at != NULL)
			*at = best_at;
		if (len != NULL)
			*len = best_len;
	}
	return best;
}

static int
email_local(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	    c == '-';
}

static int
email_domain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '.' || c == '-';
}

/*
 * 1 when s (len bytes) is an address of the shape local@domain.tld: a
 * local part of up to 64 characters, labels that are not empty and do not
 * start or end with '-', a top-level domain of 2 or more letters.
 */
int
rl_valid_email(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t i, ll, label = 0, tld = 0, dots = 0;

	if (at == NULL || len > 254)
		return 0;
	ll = (size_t)(at - s);
	if (ll == 0 || ll > 64 || s[0] == '.' || s[ll - 1] == '.')
		return 0;
	for (i = 0; i < ll; i++)
		if (!email_local((unsigned char)s[i]) ||
		    (s[i] == '.' && s[i + 1] == '.'))
			return 0;
	for (i = ll + 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			dots++;
			label = tld = 0;
			continue;
		}
		if (!email_domain(c) || (c == '-' && label == 0))
			return 0;
		label++;
		tld = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ?
		    tld + 1 : 0;
	}
	return dots > 0 && label >= 2 && tld == label && s[len - 1] != '-';
}

/* The first valid address in text, into n->email; n->at_sign otherwise. */
static void
find_email(const char *text, size_t len, struct rl_nlu *n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i, a, b;

	for (i = 0; i < len; i++) {
		if (p[i] != '@')
			continue;
		for (a = i; a > 0 && email_local(p[a - 1]); a--)
			;
		for (b = i + 1; b < len && email_domain(p[b]); b++)
			;
		while (b > i + 1 && (p[b - 1] == '.' || p[b - 1] == '-'))
			b--;
		while (a < i && p[a] == '.')
			a++;
		if (b - a < sizeof n->email && rl_valid_email(text + a,
		    b - a)) {
			memcpy(n->email, text + a, b - a);
			n->email[b - a] = '\0';
			n->at_sign = 0;
			return;
		}
		n->at_sign = 1;
	}
}

/* The next word of norm from *p: its start and length; 0 at the end. */
static int
next_word(const char **p, const char **w, size_t *wl)
{
	const char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	e = strchr(s, ' ');
	if (e == NULL)
		e = s + strlen(s);
	*w = s;
	*wl = (size_t)(e - s);
	*p = e;
	return 1;
}

static int
starts(const char *w, size_t wl, const char *prefix)
{
	size_t n = strlen(prefix);

	return wl >= n && memcmp(w, prefix, n) == 0;
}

static int
word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* The multiplier a word means (тыс, млн, k ...), or 0. */
static double
multiplier(const char *w, size_t wl, int attached)
{
	if (starts(w, wl, "тыс") || starts(w, wl, "thousand") ||
	    (attached && (word_is(w, wl, "к") || word_is(w, wl, "k") ||
	    word_is(w, wl, "т"))))
		return 1000;
	if (starts(w, wl, "млн") || starts(w, wl, "миллион") ||
	    starts(w, wl, "mln") || starts(w, wl, "million") ||
	    (attached && word_is(w, wl, "m")))
		return 1000000;
	return 0;
}

static int
currency(const char *w, size_t wl, int attached)
{
	return starts(w, wl, "руб") || starts(w, wl, "rub") ||
	    starts(w, wl, "roubl") || (attached && word_is(w, wl, "р"));
}

static int
letter_word(const char *w, size_t wl)
{
	return wl > 0 && !is_digit((unsigned char)w[0]);
}

/*
 * An amount of roubles in norm: a number ("300", "45 000", "1.5", "300к")
 * with a multiplier or a currency after it, or any number of 1000 or more
 * when cue (a budget word) was said.  0 when there is none.
 */
static double
money(const char *norm, int cue)
{
	const char *p = norm, *w, *q, *w2;
	size_t wl, wl2, k;
	double v, m;
	int cur;

	while (next_word(&p, &w, &wl)) {
		if (!is_digit((unsigned char)w[0]))
			continue;
		v = strtod(w, NULL);
		for (k = 0; k < wl && (is_digit((unsigned char)w[k]) ||
		    w[k] == '.'); k++)
			;
		/* thousands written apart: 45 000, 2 500 000 */
		q = p;
		while (k == wl && wl <= 3 && next_word(&q, &w2, &wl2) &&
		    wl2 == 3 && is_digit((unsigned char)w2[0]) &&
		    is_digit((unsigned char)w2[1]) &&
		    is_digit((unsigned char)w2[2])) {
			v = v * 1000 + strtod(w2, NULL);
			p = q;
		}
		m = 0;
		cur = 0;
		if (k < wl) {	/* 300к, 300тыс, 300р */
			m = multiplier(w + k, wl - k, 1);
			cur = currency(w + k, wl - k, 1);
		}
		q = p;
		if (!m && !cur && next_word(&q, &w2, &wl2)) {
			m = multiplier(w2, wl2, 0);
			cur = currency(w2, wl2, 0);
			if (m || cur)
				p = q;
		}
		if (m && !cur && next_word(&q, &w2, &wl2) &&
		    currency(w2, wl2, 0))
			cur = 1, p = q;
		else if (m && !cur && !cue && next_word(&q, &w2, &wl2) &&
		    letter_word(w2, wl2))
			continue;	/* 10 тыс. пользователей */
		if (m)
			v *= m;
		if (m || cur || (cue && v >= 1000))
			return v;
	}
	return 0;
}

int
rl_has(const struct rl_nlu *n, const char *intent)
{
	int i;

	for (i = 0; i < n->nintent; i++)
		if (strcmp(n->intent[i], intent) == 0)
			return 1;
	return 0;
}

/* The intents whose cues match, in priority order; a match inside a
 * longer match of another intent does not count ("are you human" is
 * is_bot, not human_request). */
static void
intents(const struct sl_rules *r, struct rl_nlu *n)
{
	size_t at[64], len[64], i, j, m = r->nintent < 64 ? r->nintent : 64;
	int hit[64];

	for (i = 0; i < m; i++)
		hit[i] = rl_match(&r->intent[i].cues, n->norm, &at[i],
		    &len[i]) >= 0;
	for (i = 0; i < m; i++) {
		if (!hit[i])
			continue;
		for (j = 0; j < m; j++)
			if (j != i && hit[j] && len[j] > len[i] &&
			    at[j] <= at[i] && at[i] + len[i] <= at[j] + len[j])
				break;
		if (j == m && n->nintent < 32)
			n->intent[n->nintent++] = r->intent[i].name;
	}
}

static void
slots(const struct sl_rules *r, struct rl_nlu *n)
{
	size_t i;
	int cue;

	if (rl_match(&r->budget_none, n->norm, NULL, NULL) >= 0)
		n->budget_word = "none";
	else if (rl_match(&r->budget_flex, n->norm, NULL, NULL) >= 0)
		n->budget_word = "flexible";
	cue = rl_match(&r->budget, n->norm, NULL, NULL) >= 0;
	n->budget = money(n->norm, cue);
	if (rl_match(&r->dm, n->norm, NULL, NULL) >= 0)
		n->authority = "decision_maker";
	else if (rl_match(&r->influencer, n->norm, NULL, NULL) >= 0)
		n->authority = "influencer";
	if (rl_match(&r->tl_later, n->norm, NULL, NULL) >= 0)
		n->timeline = "later";
	else if (rl_match(&r->tl_unknown, n->norm, NULL, NULL) >= 0)
		n->timeline = "unknown";
	else if (rl_match(&r->tl_now, n->norm, NULL, NULL) >= 0)
		n->timeline = "now";
	n->service = -1;
	for (i = 0; i < r->nsvc; i++)
		if (rl_match(&r->svc[i].stems, n->norm, NULL, NULL) >= 0) {
			n->service = (int)i;
			break;
		}
	n->need = rl_match(&r->need, n->norm, NULL, NULL) >= 0 ||
	    n->service >= 0;
}

static void
timeof(const char *text, size_t len, int64_t now, const char *tz,
    struct rl_nlu *n)
{
	const struct sl_zone *z = sl_zone_load(tz);
	struct sl_tp_result res;
	struct sl_tm tm;
	size_t i;

	if (z == NULL)
		z = sl_zone_load("UTC");
	if (sl_timeparse(text, len, now, z, &res) != 1)
		return;
	n->has_time = 1;
	n->at = res.at;
	sl_timeparse_match(text, &res, n->match, sizeof n->match);
	for (i = 0; n->match[i] != '\0'; i++)
		if (is_digit((unsigned char)n->match[i]))
			n->clock = 1;
	if (!n->clock && sl_to_local(res.at, res.zone, &tm) == 0 &&
	    (tm.hour != 10 || tm.min != 0))
		n->clock = 1;
}

void
rl_analyse(const struct sl_rules *r, const char *text, size_t len,
    int64_t now, const char *tz, struct rl_nlu *n)
{
	const char *p, *w;
	size_t wl, size, i;

	memset(n, 0, sizeof *n);
	if (len > SL_RULES_SCAN_MAX)
		len = SL_RULES_SCAN_MAX;
	size = 3 * len + 4;
	n->norm = sl_malloc(size);
	n->nlen = rl_norm(text, len, n->norm, size);
	p = n->norm;
	while (next_word(&p, &w, &wl))
		if (letter_word(w, wl))
			n->words++;
	intents(r, n);
	n->inject = rl_match(&r->inject, n->norm, NULL, NULL) >= 0;
	n->callme = rl_match(&r->callme, n->norm, NULL, NULL) >= 0;
	n->write = rl_match(&r->write, n->norm, NULL, NULL) >= 0;
	n->question = memchr(text, '?', len) != NULL;
	for (i = 0; !n->question && i < r->qwords.n; i++)
		if (strncmp(n->norm, r->qwords.v[i].s, r->qwords.v[i].len) ==
		    0)
			n->question = 1;
	find_email(text, len, n);
	slots(r, n);
	timeof(text, len, now, tz, n);
}

void
rl_nlu_free(struct rl_nlu *n)
{
	free(n->norm);
	n->norm = NULL;
}

/* The ordinal a word names: 0 first, 1 second, 2 third, 9 last; -1. */
static int
ordinal(const char *w, size_t wl)
{
	if (starts(w, wl, "перв") || word_is(w, wl, "first") ||
	    word_is(w, wl, "1st"))
		return 0;
	if (starts(w, wl, "втор") || word_is(w, wl, "second") ||
	    word_is(w, wl, "2nd"))
		return 1;
	if (starts(w, wl, "трет") || word_is(w, wl, "third") ||
	    word_is(w, wl, "3rd"))
		return 2;
	if (starts(w, wl, "последн") || word_is(w, wl, "last"))
		return 9;
	return -1;
}

/* 1 when the time words name a day, not only a clock ("в среду"). */
static int
day_named(const char *match)
{
	static const char *const clockw[] = { "часов", "часа", "утра", "дня",
		"вечера", "около", "ровно", "about", "around", "noon",
		"полдень" };
	char norm[3 * sizeof ((struct rl_nlu *)0)->match + 4];
	const char *p = norm, *w;
	size_t wl, i, k, letters;

	rl_norm(match, strlen(match), norm, sizeof norm);
	while (next_word(&p, &w, &wl)) {
		for (k = 0, letters = 0; k < wl; k++)
			if ((w[k] & 0xc0) != 0x80)
				letters++;
		if (!letter_word(w, wl) || letters < 3)
			continue;
		for (i = 0; i < sizeof clockw / sizeof clockw[0]; i++)
			if (word_is(w, wl, clockw[i]))
				break;
		if (i == sizeof clockw / sizeof clockw[0])
			return 1;
	}
	return 0;
}

/* By time: the offered slot the time n names in zone z; -1. */
static int
by_time(const struct rl_nlu *n, jv offered, const struct sl_zone *z)
{
	struct sl_tm want, tm;
	int64_t start;
	int i, len = jv_array_length(jv_copy(offered)), day, best = -1;
	jv s;

	if (sl_to_local(n->at, z, &want) < 0)
		return -1;
	day = day_named(n->match);
	for (i = 0; i < len; i++) {
		s = jv_array_get(jv_copy(offered), i);
		if (jv_get_kind(s) != JV_KIND_OBJECT ||
		    sl_get_time(s, "start", &start) != 1 ||
		    sl_to_local(start, z, &tm) < 0) {
			jv_free(s);
			continue;
		}
		jv_free(s);
		if (start == n->at)
			return i;
		if (best >= 0)
			continue;
		if (day && tm.year == want.year && tm.yday == want.yday &&
		    (!n->clock || (tm.hour == want.hour && tm.min ==
		    want.min)))
			best = i;
		else if (!day && n->clock && tm.hour == want.hour &&
		    tm.min == want.min)
			best = i;
	}
	return best;
}

/*
 * The index of the offered slot (borrowed array) the prospect chose: by
 * its time ("в среду", "at 15:30"), by an ordinal ("второй", "the
 * first", "последний") in a text of up to 6 words, or by a number 1-3 in
 * a text of up to 3 words; -1 when none was chosen.
 */
int
rl_choose_slot(const struct rl_nlu *n, jv offered, const char *tz)
{
	const struct sl_zone *z = sl_zone_load(tz);
	const char *p = n->norm, *w;
	size_t wl, words = 0;
	int len, i = -1, o;

	if (jv_get_kind(offered) != JV_KIND_ARRAY)
		return -1;
	len = jv_array_length(jv_copy(offered));
	if (len == 0)
		return -1;
	if (n->has_time && z != NULL && (i = by_time(n, offered, z)) >= 0)
		return i;
	while (next_word(&p, &w, &wl))
		words++;
	p = n->norm;
	while (next_word(&p, &w, &wl)) {
		o = ordinal(w, wl);
		if (o >= 0 && words <= 6)
			return o == 9 ? len - 1 : o < len ? o : -1;
		if (!n->has_time && words <= 3 && wl == 1 && w[0] >= '1' &&
		    w[0] <= '0' + len)
			return w[0] - '1';
	}
	return -1;
}
