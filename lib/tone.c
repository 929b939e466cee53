/*
 * tone.c: the tone-of-voice linter.  See tone.h for the rules.
 *
 * A check reads the text in a few linear passes, with no allocation for a
 * reply-sized text:
 *
 * 1. URLs and e-mail addresses, as spans that later passes step over.
 * 2. The main pass: words (folded to lower case, ё as е, into one buffer
 *    with a separator between words: ' ' where only white space lay
 *    between them, '|' otherwise), ты- and вы-forms, letters of each
 *    script, sentence ends and question marks, dashes.
 * 3. One pass for emoji, length and white space.
 * 4. Money: numbers with a currency or a multiplier, compared with the
 *    allowed amounts in cents.
 * 5. Pressure phrases, folded the same way, compared with the word buffer
 *    at the words whose key (a hash of the length and first bytes) is
 *    that of the phrase's first word; a phrase whose first word is in no
 *    word's key is not even folded.
 *
 * sl_tone_fix walks the text once more, writing what it keeps, and tidies
 * the white space of the result in place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "sl.h"
#include "tone.h"

/* Only the first SCAN_MAX bytes of a text are read. */
#define SCAN_MAX (16 * 1024 * 1024)
#define URLS 32			/* URLs and addresses masked; more are text */
#define NB_STACK 2048		/* folded words kept on the stack ... */
#define W_STACK 1025		/* ... and words: a text of 2 KB */
#define KEYS 1024		/* bits of the set of word keys */

static const struct {
	const char *name;
	int severity, fixable;
} rule[SL_TONE_NRULES] = {
	[SL_TONE_SENTENCES] = { "sentences", SL_TONE_ERROR, 0 },
	[SL_TONE_LENGTH] = { "length", SL_TONE_ERROR, 0 },
	[SL_TONE_EM_DASH] = { "em_dash", SL_TONE_ERROR, 1 },
	[SL_TONE_TY_FORM] = { "ty_form", SL_TONE_ERROR, 0 },
	[SL_TONE_VY_LOWERCASE] = { "vy_lowercase", SL_TONE_WARNING, 1 },
	[SL_TONE_LANGUAGE] = { "language", SL_TONE_ERROR, 0 },
	[SL_TONE_QUESTIONS] = { "questions", SL_TONE_ERROR, 0 },
	[SL_TONE_EMOJI] = { "emoji", SL_TONE_ERROR, 1 },
	[SL_TONE_PRESSURE] = { "pressure", SL_TONE_ERROR, 0 },
	[SL_TONE_INVENTED_PRICE] = { "invented_price", SL_TONE_ERROR, 0 },
	[SL_TONE_WHITESPACE] = { "whitespace", SL_TONE_WARNING, 1 },
	[SL_TONE_CONTROL] = { "control", SL_TONE_ERROR, 1 },
};

static const char *const default_pressure[] = {
	"только сегодня", "только до конца дня", "последний шанс",
	"успейте", "не упустите", "предложение ограничено",
	"осталось всего", "горящее предложение",
	"act now", "limited time", "last chance", "today only", "only today",
	"hurry up", "don't miss out", "while supplies last", "offer ends",
};

static const char *const ty_forms[] = {
	"ты", "тебя", "тебе", "тобой", "тобою", "твой", "твоя", "твое", "твои",
	"твоего", "твоей", "твоему", "твоем", "твоим", "твоих", "твоими",
	"твою",
};

static const char *const vy_forms[] = {
	"вы", "вас", "вам", "вами", "ваш", "ваша", "ваше", "ваши", "вашего",
	"вашей", "вашему", "вашем", "вашим", "ваших", "вашими", "вашу",
};

/* Abbreviations after which a full stop ends no sentence (folded). */
static const char *const no_end[] = {
	"т.е", "т.к", "т.ч", "т.н", "напр", "см", "ср", "ул", "д", "им",
	"тел", "стр", "п", "пп", "ст", "г-н", "г-жа", "e.g", "i.e", "cf",
	"vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "tel", "approx",
	"ca", "p", "pp",
};

struct span {
	size_t a, b;
};

struct word {
	uint32_t nb;		/* offset in the folded words */
	uint32_t a, b;		/* bytes of the text */
	uint32_t key;		/* wkey of its folded form */
};

struct scan {
	const unsigned char *s;
	size_t n;
	const struct sl_tone_rules *r;
	struct span url[URLS];
	int nurl;
	unsigned char *nb;	/* the words, folded */
	size_t nn;
	struct word *w;
	size_t nw, wcap;
	uint64_t keys[KEYS / 64];	/* the keys of the words */
	struct sl_tone_hit *hit, spare;
	size_t max, nhit;
};

/* What the main pass counts. */
struct tally {
	int open;		/* a sentence is open */
	int sp;			/* white space (or the start) before */
	int line;		/* only white space since the line began */
	int chunk_line;		/* the chunk began a line */
	int last;		/* the last sign seen: 'a' for a word */
	size_t chunk;		/* where the run of non-space began */
	long nsent, nq;
	long script[4];		/* words and letters of each script */
	size_t sent_at, q_at, q_len;
};

/* A word's letters. */
struct winfo {
	int first;		/* letter kind of the first letter, 0 */
	long cyr, lat, dig;
	size_t flen;		/* folded bytes; > cap when they did not fit */
};

/*
 * UTF-8 and letters
 */

/*
 * The length of the code point at s[i], its value in *cp; a byte that
 * starts no valid sequence is one code point U+FFFD.
 */
static size_t
cp_at(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	uint32_t c = s[i];
	size_t len, k;

	*cp = 0xfffd;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
	} else {
		return 1;
	}
	if (n - i < len)
		return 1;
	for (k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 1;
		c = c << 6 | (s[i + k] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 1;
	*cp = c;
	return len;
}

enum { L_LAT = 1, L_CYR = 2, L_UP = 4 };

/*
 * The letter at s[i]: L_LAT or L_CYR, with L_UP for a capital; 0 when
 * there is none.  Its lower-case form (ё as е, 1 or 2 bytes) goes to out,
 * its length to *olen, the bytes read to *used.  Latin-1 and Latin
 * Extended-A letters count as Latin, Cyrillic ones beyond Russian as
 * Cyrillic; other scripts are no letters here.
 */
static inline int
letter(const unsigned char *s, size_t n, size_t i, unsigned char *out,
    size_t *olen, size_t *used)
{
	unsigned c = s[i], d;

	if (c < 0x80) {
		*olen = *used = 1;
		if (c >= 'a' && c <= 'z') {
			out[0] = (unsigned char)c;
			return L_LAT;
		}
		if (c >= 'A' && c <= 'Z') {
			out[0] = (unsigned char)(c + 32);
			return L_LAT | L_UP;
		}
		return 0;
	}
	if (c < 0xc3 || c > 0xd3 || n - i < 2 || (s[i + 1] & 0xc0) != 0x80)
		return 0;
	d = s[i + 1];
	*olen = *used = 2;
	out[0] = (unsigned char)c;
	out[1] = (unsigned char)d;
	switch (c) {
	case 0xc3:				/* À-ÿ, but × ÷ */
		if (d == 0x97 || d == 0xb7)
			return 0;
		if (d < 0x9f) {
			out[1] = (unsigned char)(d + 0x20);
			return L_LAT | L_UP;
		}
		return L_LAT;
	case 0xc4:
	case 0xc5:
		return L_LAT;
	case 0xd0:
		if (d == 0x81) {			/* Ё */
			out[1] = 0xb5;
			return L_CYR | L_UP;
		}
		if (d < 0x90) {				/* Ѐ-Џ */
			out[0] = 0xd1;
			out[1] = (unsigned char)(d + 0x10);
			return L_CYR | L_UP;
		}
		if (d < 0xa0) {				/* А-П */
			out[1] = (unsigned char)(d + 0x20);
			return L_CYR | L_UP;
		}
		if (d < 0xb0) {				/* Р-Я */
			out[0] = 0xd1;
			out[1] = (unsigned char)(d - 0x20);
			return L_CYR | L_UP;
		}
		return L_CYR;
	case 0xd1:
		if (d == 0x91) {			/* ё */
			out[0] = 0xd0;
			out[1] = 0xb5;
		}
		return L_CYR;
	case 0xd2:
	case 0xd3:
		return L_CYR;
	}
	return 0;
}

static int
is_digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

static int
is_hspace(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Bytes of a space at s[i] other than ASCII: NBSP, U+2000-200A, ... */
static size_t
uspace(const unsigned char *s, size_t n, size_t i)
{
	if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0xa0)
		return 2;
	if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
	    (s[i + 2] <= 0x8a || s[i + 2] == 0xaf))
		return 3;
	if (s[i] == 0xe3 && i + 2 < n && s[i + 1] == 0x80 && s[i + 2] == 0x80)
		return 3;
	return 0;
}

/* Bytes of any white space at s[i], a line break included. */
static size_t
space_at(const unsigned char *s, size_t n, size_t i)
{
	if (is_hspace(s[i]) || s[i] == '\n' || s[i] == '\f' || s[i] == '\v')
		return 1;
	return uspace(s, n, i);
}

/* The bytes of an ANSI escape sequence at s[i] (ESC): ESC [ ... final,
 * or ESC and one character; ESC alone at the end. */
static size_t
escape_len(const unsigned char *s, size_t n, size_t i)
{
	size_t j = i + 2;

	if (i + 1 >= n || s[i + 1] < 0x40 || s[i + 1] > 0x5f)
		return 1;
	if (s[i + 1] != '[')
		return 2;
	while (j < n && s[j] >= 0x20 && s[j] <= 0x3f)
		j++;
	return j < n && s[j] >= 0x40 && s[j] <= 0x7e ? j + 1 - i : j - i;
}

/*
 * The bytes of a control or invisible format character at s[i] (tone.h,
 * rule control; an ANSI escape sequence is one), 0 when there is none.
 * *sep is 1 for one that stands between words (form feed, vertical tab,
 * NEL, the line and paragraph separators), 0 for the others, which have
 * no width.
 */
static size_t
control_at(const unsigned char *s, size_t n, size_t i, int *sep)
{
	uint32_t c = s[i];
	size_t k;

	*sep = c == '\f' || c == '\v';
	if (c == 0x1b)
		return escape_len(s, n, i);
	if (c < 0x80)
		return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f;
	if (c != 0xc2 && c != 0xd8 && c != 0xe2 && c != 0xef)
		return 0;
	k = cp_at(s, n, i, &c);
	*sep = c == 0x85 || c == 0x2028 || c == 0x2029;
	if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	    c == 0x61c || c == 0x200e || c == 0x200f || c == 0xfeff ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return k;
	return 0;
}

/* The bytes of a currency sign at s[j]: $ € £ ₽. */
static size_t
currency_sign(const unsigned char *s, size_t n, size_t j)
{
	if (j >= n)
		return 0;
	if (s[j] == '$')
		return 1;
	if (s[j] == 0xc2 && j + 1 < n && s[j + 1] == 0xa3)
		return 2;
	if (s[j] == 0xe2 && j + 2 < n && s[j + 1] == 0x82 &&
	    (s[j + 2] == 0xac || s[j + 2] == 0xbd))
		return 3;
	return 0;
}

/* 1 when a word (a letter or a digit) starts at s[i]. */
static int
alnum_at(const unsigned char *s, size_t n, size_t i)
{
	unsigned char o[2];
	size_t ol, u;

	return is_digit(s[i]) || letter(s, n, i, o, &ol, &u);
}

/*
 * Emoji
 */

/* Code points that are emoji on their own. */
static int
pict(uint32_t c)
{
	if (c >= 0x1f000)
		return c <= 0x1faff && !(c >= 0x1f100 && c <= 0x1f10c) &&
		    !(c >= 0x1f700 && c <= 0x1f77f);
	if (c >= 0x2600 && c <= 0x27bf)
		return 1;
	switch (c) {
	case 0x231a: case 0x231b: case 0x2328: case 0x23cf: case 0x24c2:
	case 0x25aa: case 0x25ab: case 0x25b6: case 0x25c0: case 0x2934:
	case 0x2935: case 0x2b05: case 0x2b06: case 0x2b07: case 0x2b1b:
	case 0x2b1c: case 0x2b50: case 0x2b55: case 0x3030: case 0x303d:
	case 0x3297: case 0x3299:
		return 1;
	}
	return (c >= 0x23e9 && c <= 0x23f3) || (c >= 0x23f8 && c <= 0x23fa) ||
	    (c >= 0x25fb && c <= 0x25fe);
}

/* Code points that are emoji only with U+FE0F after them: © ® ‼ ™ ↔ */
static int
pict_text(uint32_t c)
{
	return c == 0xa9 || c == 0xae || c == 0x203c || c == 0x2049 ||
	    c == 0x2122 || c == 0x2139 || (c >= 0x2194 && c <= 0x2199) ||
	    c == 0x21a9 || c == 0x21aa;
}

static int
cp_is(const unsigned char *s, size_t n, size_t i, uint32_t want)
{
	uint32_t c;

	return i < n && cp_at(s, n, i, &c) > 1 && c == want;
}

/*
 * The bytes of the emoji at s[i], 0 when there is none: a pictograph
 * with its variation selector, skin tone and tags, and further ones
 * joined by ZWJ; a pair of regional indicators (a flag); a keycap.
 */
static size_t
emoji_at(const unsigned char *s, size_t n, size_t i)
{
	uint32_t c, d;
	size_t j, k, m;

	j = i + cp_at(s, n, i, &c);
	if (is_digit(c) || c == '#' || c == '*') {
		if (cp_is(s, n, j, 0xfe0f))
			j += 3;
		return cp_is(s, n, j, 0x20e3) ? j + 3 - i : 0;
	}
	if (!pict(c) && !(pict_text(c) && cp_is(s, n, j, 0xfe0f)))
		return 0;
	if (c >= 0x1f1e6 && c <= 0x1f1ff) {
		if (j < n && cp_at(s, n, j, &d) == 4 && d >= 0x1f1e6 &&
		    d <= 0x1f1ff)
			j += 4;
		return j - i;
	}
	while (j < n) {
		k = cp_at(s, n, j, &d);
		if (d == 0xfe0f || d == 0xfe0e || d == 0x20e3 ||
		    (d >= 0x1f3fb && d <= 0x1f3ff) ||
		    (d >= 0xe0020 && d <= 0xe007f)) {
			j += k;
		} else if (d == 0x200d && j + k < n) {
			m = cp_at(s, n, j + k, &c);
			if (!pict(c))
				break;
			j += k + m;
		} else {
			break;
		}
	}
	return j - i;
}

/* 1 when a keycap emoji starts at the digit s[i] (cheap test first). */
static int
keycap_at(const unsigned char *s, size_t n, size_t i)
{
	return i + 1 < n && (s[i + 1] == 0xef || s[i + 1] == 0xe2) &&
	    emoji_at(s, n, i);
}

/*
 * URLs and e-mail addresses
 */

static int
prefix_ci(const unsigned char *s, size_t n, size_t i, const char *p)
{
	size_t k;

	for (k = 0; p[k]; k++)
		if (i + k >= n || (s[i + k] | 0x20) != (unsigned char)p[k])
			return 0;
	return 1;
}

static int
ascii_alnum(unsigned c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* 1 when a URL cannot go on at s[i]. */
static int
url_stop(const unsigned char *s, size_t n, size_t i)
{
	unsigned c = s[i], d;

	if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' ||
	    c == '`' || c >= 0xf0)
		return 1;
	if (c == 0xc2 && i + 1 < n)
		return s[i + 1] == 0xab || s[i + 1] == 0xbb || s[i + 1] == 0xa0;
	if (c == 0xe2 && i + 2 < n && s[i + 1] == 0x80) {
		d = s[i + 2];
		return d <= 0x8b || (d >= 0x93 && d <= 0x9f) || d == 0xa6 ||
		    d == 0xa8 || d == 0xa9 || d == 0xaf;
	}
	return 0;
}

/* The end of the URL at s[i], punctuation after it left to the text. */
static size_t
url_end(const unsigned char *s, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && !url_stop(s, n, j))
		j++;
	while (j > i && memchr(".,;:!?)]'*", s[j - 1], 10))
		j--;
	return j;
}

/* 1 when s[i] follows a letter or a digit: B2B, Ф1, вамhttp. */
static int
after_letter(const unsigned char *s, size_t i)
{
	if (i == 0)
		return 0;
	if (ascii_alnum(s[i - 1]))
		return 1;
	return i >= 2 && s[i - 2] >= 0xc3 && s[i - 2] <= 0xd3 &&
	    (s[i - 1] & 0xc0) == 0x80;
}

static int
email_local(unsigned c)
{
	return ascii_alnum(c) || c == '.' || c == '_' || c == '%' ||
	    c == '+' || c == '-';
}

static void
add_url(struct scan *sc, size_t a, size_t b)
{
	if (sc->nurl < URLS && b > a) {
		sc->url[sc->nurl].a = a;
		sc->url[sc->nurl].b = b;
		sc->nurl++;
	}
}

/* 1 when s may hold a URL or an address: '@', "://" or "www.". */
static int
may_have_urls(const unsigned char *s, size_t n)
{
	const unsigned char *p = s, *end = s + n;

	if (memchr(s, '@', n))
		return 1;
	while ((p = memchr(p, '/', (size_t)(end - p))) && p + 1 < end) {
		if (p > s && p[-1] == ':' && p[1] == '/')
			return 1;
		p++;
	}
	for (p = s; (p = memchr(p, '.', (size_t)(end - p))); p++)
		if (p - s >= 3 && prefix_ci(p - 3, 3, 0, "www"))
			return 1;
	return 0;
}

static void
find_urls(struct scan *sc)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, i, a, b, lo = 0;
	unsigned c;

	if (!may_have_urls(s, n))
		return;
	for (i = 0; i < n && sc->nurl < URLS; i++) {
		c = s[i] | 0x20;
		if ((c == 'h' || c == 'w') && !after_letter(s, i)
		    && (prefix_ci(s, n, i, "http://") ||
		    prefix_ci(s, n, i, "https://") ||
		    prefix_ci(s, n, i, "www."))) {
			b = url_end(s, n, i);
			add_url(sc, i, b);
			lo = b;
			i = b > i ? b - 1 : i;
		} else if (s[i] == '@' && i + 1 < n && ascii_alnum(s[i + 1])) {
			for (a = i; a > lo && email_local(s[a - 1]); a--)
				;
			while (a < i && s[a] == '.')
				a++;
			for (b = i + 1; b < n && (ascii_alnum(s[b]) ||
			    s[b] == '.' || s[b] == '-'); b++)
				;
			while (b > i + 1 && strchr(".-", s[b - 1]))
				b--;
			if (a == i || !memchr(s + i + 1, '.', b - i - 1))
				continue;
			add_url(sc, a, b);
			lo = b;
			i = b - 1;
		}
	}
}

/*
 * Where a pass goes on at s[i]: the end of the URL that holds i, or i.
 * *ui is the first URL not yet passed.
 */
static inline size_t
skip_url(const struct scan *sc, int *ui, size_t i)
{
	if (*ui >= sc->nurl || i < sc->url[*ui].a)
		return i;
	while (*ui < sc->nurl && sc->url[*ui].b <= i)
		(*ui)++;
	if (*ui < sc->nurl && i >= sc->url[*ui].a)
		return sc->url[(*ui)++].b;
	return i;
}

/*
 * Words
 */

/*
 * Reads the word (letters and digits) at s[i], folding its letters into
 * fold (at most cap bytes); returns its end.  A keycap ends it.
 */
static size_t
word_at(const unsigned char *s, size_t n, size_t i, unsigned char *fold,
    size_t cap, struct winfo *wi)
{
	unsigned char o[2];
	size_t ol, u;
	int k;

	memset(wi, 0, sizeof *wi);
	while (i < n) {
		if (is_digit(s[i])) {
			if (keycap_at(s, n, i))
				break;
			if (wi->flen < cap)
				fold[wi->flen] = s[i];
			wi->flen++;
			wi->dig++;
			i++;
			continue;
		}
		if (!(k = letter(s, n, i, o, &ol, &u)))
			break;
		if (!wi->first)
			wi->first = k;
		if (k & L_CYR)
			wi->cyr++;
		else
			wi->lat++;
		if (wi->flen + ol <= cap) {
			fold[wi->flen] = o[0];
			if (ol == 2)
				fold[wi->flen + 1] = o[1];
		}
		wi->flen += ol;
		i += u;
	}
	return i;
}

/*
 * Counts the word at s[a] for its script: a word is of the script of most
 * of its letters, and the part after a hyphen (e-mail, онлайн-встреча) is
 * no new word.
 */
static void
count_script(const unsigned char *s, size_t a, const struct winfo *wi,
    long *v)
{
	if (!(a >= 2 && s[a - 1] == '-' && after_letter(s, a - 1))) {
		v[0] += wi->cyr > wi->lat;
		v[1] += wi->lat > wi->cyr;
	}
	v[2] += wi->cyr;
	v[3] += wi->lat;
}

/*
 * The script of most words of a text counted by count_script (v: words
 * and letters, Cyrillic and Latin): L_CYR, L_LAT, or 0 on a tie.  With
 * letters, a tie is broken by the letters.
 */
static int
script(const long *v, int letters)
{
	if (v[0] != v[1])
		return v[0] > v[1] ? L_CYR : L_LAT;
	if (letters && v[2] != v[3])
		return v[2] > v[3] ? L_CYR : L_LAT;
	return 0;
}

/* A word's key: a hash of its length and first bytes, folded. */
static uint32_t
wkey(const unsigned char *w, size_t len)
{
	uint32_t h = (uint32_t)len;
	size_t k;

	for (k = 0; k < len && k < 4; k++)
		h = h * 31 + w[k];
	return h & (KEYS - 1);
}

static int
in_list(const unsigned char *w, size_t wl, const char *const *list,
    size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strlen(list[k]) == wl && memcmp(w, list[k], wl) == 0)
			return 1;
	return 0;
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

enum { F_TY = 1, F_VY };

/* Whether the folded word w is a ты-form or a вы-form. */
static int
form(const unsigned char *w, size_t wl)
{
	if (wl < 4 || wl > 12)
		return 0;
	if (w[0] == 0xd1 && w[1] == 0x82 &&
	    in_list(w, wl, ty_forms, NELEM(ty_forms)))
		return F_TY;
	if (w[0] == 0xd0 && w[1] == 0xb2 &&
	    in_list(w, wl, vy_forms, NELEM(vy_forms)))
		return F_VY;
	return 0;
}

/*
 * Violations
 */

static struct sl_tone_hit *
add(struct scan *sc, int r, size_t at, size_t len)
{
	struct sl_tone_hit *h = sc->nhit < sc->max ? &sc->hit[sc->nhit] :
	    &sc->spare;

	sc->nhit++;
	memset(h, 0, sizeof *h);
	h->rule = r;
	h->severity = rule[r].severity;
	h->fixable = rule[r].fixable;
	h->at = at;
	h->len = len;
	return h;
}

static void
counted(struct scan *sc, int r, size_t at, size_t len, long count,
    long limit)
{
	struct sl_tone_hit *h = add(sc, r, at, len);

	h->count = count;
	h->limit = limit;
}

/*
 * The main pass
 */

/* Marks a gap between words in the folded text: ' ' or '|'. */
static void
gap(struct scan *sc, int kind)
{
	if (sc->nn == 0)
		return;
	if (sc->nb[sc->nn - 1] == ' ' || sc->nb[sc->nn - 1] == '|') {
		if (kind == '|')
			sc->nb[sc->nn - 1] = '|';
		return;
	}
	sc->nb[sc->nn++] = (unsigned char)kind;
}

static void
open_sentence(struct scan *sc, struct tally *t, size_t at)
{
	if (t->open)
		return;
	t->open = 1;
	t->nsent++;
	if (t->nsent == (long)sc->r->max_sentences + 1)
		t->sent_at = at;
}

static size_t
word(struct scan *sc, struct tally *t, size_t i)
{
	struct winfo wi;
	size_t a = i, start;
	int f;

	open_sentence(sc, t, i);
	gap(sc, ' ');
	start = sc->nn;
	i = word_at(sc->s, sc->n, i, sc->nb + start, sc->n + 1 - start, &wi);
	sc->nn += wi.flen;
	count_script(sc->s, a, &wi, t->script);
	if (sc->nw < sc->wcap) {
		sc->w[sc->nw].nb = (uint32_t)start;
		sc->w[sc->nw].a = (uint32_t)a;
		sc->w[sc->nw].b = (uint32_t)i;
		sc->w[sc->nw].key = wkey(sc->nb + start, wi.flen);
		sc->keys[sc->w[sc->nw].key / 64] |= UINT64_C(1) <<
		    sc->w[sc->nw].key % 64;
		sc->nw++;
	}
	if (wi.cyr && !wi.dig && !wi.lat &&
	    (f = form(sc->nb + start, wi.flen))) {
		if (f == F_TY)
			add(sc, SL_TONE_TY_FORM, a, i - a);
		else if (!(wi.first & L_UP))
			add(sc, SL_TONE_VY_LOWERCASE, a, i - a);
	}
	return i;
}

/* The bytes of a closing quote or bracket at s[j], 0 when none. */
static size_t
closer(const unsigned char *s, size_t n, size_t j)
{
	if (j >= n)
		return 0;
	if (s[j] == ')' || s[j] == ']' || s[j] == '"' || s[j] == '\'')
		return 1;
	if (s[j] == 0xc2 && j + 1 < n && s[j + 1] == 0xbb)
		return 2;
	if (s[j] == 0xe2 && j + 2 < n && s[j + 1] == 0x80 &&
	    (s[j + 2] == 0x99 || s[j + 2] == 0x9d))
		return 3;
	return 0;
}

static int
ellipsis_at(const unsigned char *s, size_t n, size_t i)
{
	return i + 2 < n && s[i] == 0xe2 && s[i + 1] == 0x80 &&
	    s[i + 2] == 0xa6;
}

/*
 * 1 when the chunk before a full stop at s[a] is an abbreviation that
 * ends no sentence, an initial, or a list number at the start of a line.
 */
static int
abbrev(const struct scan *sc, const struct tally *t, size_t a)
{
	const unsigned char *s = sc->s;
	unsigned char w[16], o[2];
	size_t i = t->chunk, wl = 0, ol, u;
	int k, kinds = 0, letters = 0, digits = 0;

	if (t->sp || i >= a)
		return 0;
	while (i < a && (s[i] == '(' || s[i] == '"' || s[i] == '\'' ||
	    s[i] == '['))
		i++;
	if (i + 1 < a && s[i] == 0xc2 && s[i + 1] == 0xab)
		i += 2;
	while (i < a) {
		if (s[i] == '.' || s[i] == '-' || is_digit(s[i])) {
			digits += is_digit(s[i]);
			o[0] = s[i];
			ol = u = 1;
		} else if ((k = letter(s, a, i, o, &ol, &u))) {
			kinds |= k;
			letters++;
		} else {
			return 0;
		}
		if (wl + ol > sizeof w)
			return 0;
		memcpy(w + wl, o, ol);
		wl += ol;
		i += u;
	}
	if (digits && !letters)
		return t->chunk_line && digits <= 3 && digits == (int)wl;
	if (letters == 1 && wl <= 2 && (kinds & L_UP))
		return 1;
	return in_list(w, wl, no_end, NELEM(no_end));
}

/* 1 when a full stop or an ellipsis from s[a], closed at s[j], ends a
 * sentence. */
static int
dot_ends(const struct scan *sc, const struct tally *t, size_t a, size_t j)
{
	const unsigned char *s = sc->s;
	unsigned char o[2];
	size_t n = sc->n, k, ol, u;
	int l;

	if (j >= n)
		return 1;
	if (!space_at(s, n, j))
		return 0;
	for (k = j; k < n && (u = space_at(s, n, k)); k += u)
		;
	if (k >= n)
		return 1;
	l = letter(s, n, k, o, &ol, &u);
	if (l && !(l & L_UP))
		return 0;
	return !abbrev(sc, t, a);
}

/* A run of . ! ? … at s[i]; returns its end. */
static size_t
stop(struct scan *sc, struct tally *t, size_t i)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, a = i, j, k;
	int q = 0, bang = 0;

	for (;;) {
		if (i < n && (s[i] == '.' || s[i] == '?' || s[i] == '!')) {
			q |= s[i] == '?';
			bang |= s[i] == '!';
			i++;
		} else if (ellipsis_at(s, n, i)) {
			i += 3;
		} else {
			break;
		}
	}
	for (j = i; (k = closer(s, n, j)) || (k = emoji_at(s, n, j)); j += k)
		;
	if (j < n && alnum_at(s, n, j))
		return i;		/* 1.5, example.com, т.е, ?utm= */
	if (q && ++t->nq == (long)sc->r->max_questions + 1) {
		t->q_at = a;
		t->q_len = i - a;
	}
	if (q || bang || dot_ends(sc, t, a, j))
		t->open = 0;
	return i;
}

/*
 * 1 when the en dash at s[i] stands between two numbers or amounts: a
 * range (10–12, 45 000 ₽ – 60 000 ₽, 10% – 15%).
 */
static int
range_dash(const unsigned char *s, size_t n, size_t i)
{
	size_t b = i, e = i + 3;

	while (b > 0 && is_hspace(s[b - 1]))
		b--;
	while (e < n && is_hspace(s[e]))
		e++;
	if (e >= n || !((is_digit(s[e]) && !keycap_at(s, n, e)) ||
	    currency_sign(s, n, e)))
		return 0;
	if (b > 0 && (is_digit(s[b - 1]) || s[b - 1] == '$' ||
	    s[b - 1] == '%'))
		return 1;
	return (b >= 3 && currency_sign(s, n, b - 3) == 3) ||
	    (b >= 2 && currency_sign(s, n, b - 2) == 2);
}

/* 1 when the dash c at s[i] breaks the em_dash rule. */
static int
bad_dash(const unsigned char *s, size_t n, size_t i, uint32_t c)
{
	if (c == 0x2014 || c == 0x2015)
		return 1;
	return c == 0x2013 && !range_dash(s, n, i);
}

/* Non-space signs: the chunk they start, the line, the last sign. */
static void
sign(struct tally *t, size_t i, int last)
{
	if (t->sp) {
		t->chunk = i;
		t->chunk_line = t->line;
		t->sp = 0;
	}
	t->line = 0;
	t->last = last;
}

static void
newline(struct tally *t)
{
	/* a line ending in , : ; ( or a dash goes on */
	if (t->open && !(t->last && strchr(",:;(-D", t->last)))
		t->open = 0;
	t->sp = 1;
	t->line = 1;
}

static void
scan_text(struct scan *sc, struct tally *t)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, i = 0, k;
	int ui = 0;
	uint32_t c;

	while (i < n) {
		if ((k = skip_url(sc, &ui, i)) != i) {
			sign(t, i, 'a');
			open_sentence(sc, t, i);
			gap(sc, '|');
			i = k;
			continue;
		}
		c = s[i];
		if (c == '\n') {
			newline(t);
			gap(sc, ' ');
			i++;
			continue;
		}
		if ((k = space_at(s, n, i))) {
			t->sp = 1;
			gap(sc, ' ');
			i += k;
			continue;
		}
		if (is_digit(c) ? !keycap_at(s, n, i) : alnum_at(s, n, i)) {
			sign(t, i, 'a');
			i = word(sc, t, i);
			continue;
		}
		if (c == '.' || c == '!' || c == '?' || ellipsis_at(s, n, i)) {
			sign(t, i, '.');
			i = stop(sc, t, i);
			continue;
		}
		k = is_digit(c) ? emoji_at(s, n, i) : cp_at(s, n, i, &c);
		if (c == 0x2028 || c == 0x2029) {
			newline(t);
			gap(sc, ' ');
		} else if (c == 0x200d || c == 0xfe0f || c == 0xfe0e) {
			;		/* invisible, alone */
		} else if (c >= 0x2013 && c <= 0x2015) {
			sign(t, i, 'D');
			gap(sc, '|');
			if (bad_dash(s, n, i, c))
				add(sc, SL_TONE_EM_DASH, i, k)->count = c;
		} else {
			sign(t, i, c < 0x80 ? (int)c : 'x');
			gap(sc, '|');
		}
		i += k;
	}
}

/* Rules counted over the whole text. */
static void
finish(struct scan *sc, const struct tally *t, const char *lang)
{
	const struct sl_tone_rules *r = sc->r;
	struct sl_tone_hit *h;
	int k;

	if (r->max_sentences >= 0 && t->nsent > r->max_sentences)
		counted(sc, SL_TONE_SENTENCES, t->sent_at, sc->n - t->sent_at,
		    t->nsent, r->max_sentences);
	if (r->max_questions >= 0 && t->nq > r->max_questions)
		counted(sc, SL_TONE_QUESTIONS, t->q_at, t->q_len, t->nq,
		    r->max_questions);
	if (!lang)
		return;
	k = script(t->script, 0);
	if ((strcmp(lang, "ru") == 0 && k == L_LAT) ||
	    (strcmp(lang, "en") == 0 && k == L_CYR)) {
		h = add(sc, SL_TONE_LANGUAGE, 0, sc->n);
		h->count = lang[0] == 'r' ? L_LAT : L_CYR;
	}
}

/*
 * Emoji, length and white space, in one pass
 */

struct signs {
	long chars, emoji;
	size_t len_at;		/* the first character over max_chars */
	int bad_emoji;		/* the emoji rule is broken ... */
	size_t emoji_at, emoji_len;	/* ... here */
	long ws;		/* places with white space to tidy */
	size_t ws_at;
	long ctl;		/* control and format characters */
	size_t ctl_at, ctl_len;	/* the first */
};

static void
ctl_seen(struct signs *g, size_t at, size_t len)
{
	if (!g->ctl++) {
		g->ctl_at = at;
		g->ctl_len = len;
	}
}

static void
ws_place(struct signs *g, size_t at)
{
	if (!g->ws++ || at < g->ws_at)
		g->ws_at = at;
}

/* An emoji at s[i] of e bytes; run is the number in a row, this one too. */
static void
emoji_seen(struct signs *g, long max, size_t i, size_t e, long run)
{
	g->emoji++;
	if (!g->bad_emoji && max >= 0 && (g->emoji > max || run >= 2)) {
		g->bad_emoji = 1;
		g->emoji_at = i;
		g->emoji_len = e;
	}
}

static void
signs(const struct scan *sc, struct signs *g)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, i = 0, e, hs = 0, nl = 0, eend = 0, ua, ub;
	long run = 0, maxc = sc->r->max_chars, maxe = sc->r->max_emoji;
	int ui = 0, inurl, sep;
	uint32_t c;

	memset(g, 0, sizeof *g);
	if (n > 0 && (is_hspace(s[0]) || s[0] == '\n'))
		ws_place(g, 0);
	ua = sc->nurl ? sc->url[0].a : SIZE_MAX;
	ub = sc->nurl ? sc->url[0].b : SIZE_MAX;
	while (i < n) {
		c = s[i];
		if (g->chars++ == maxc)
			g->len_at = i;
		if (c < 0x7f && c > ' ' && !is_digit(c) && c != '#' &&
		    c != '*') {
			hs = nl = 0;	/* a letter or a sign */
			run = i < eend ? run : 0;
			i++;
			continue;
		}
		if (i >= ub) {
			while (ui < sc->nurl && sc->url[ui].b <= i)
				ui++;
			ua = ui < sc->nurl ? sc->url[ui].a : SIZE_MAX;
			ub = ui < sc->nurl ? sc->url[ui].b : SIZE_MAX;
		}
		inurl = i >= ua;
		if (c < 0x80) {
			if (is_hspace(c)) {
				if (++hs == 2)
					ws_place(g, i - 1);
			} else if (c == '\n') {
				if (hs)
					ws_place(g, i - hs);
				hs = 0;
				if (++nl == 3)
					ws_place(g, i);
			} else {
				hs = nl = 0;
				if ((e = control_at(s, n, i, &sep)) != 0)
					ctl_seen(g, i, e);
			}
			if (i < eend || is_hspace(c) || c == '\n') {
				;
			} else if ((is_digit(c) || c == '#' || c == '*') &&
			    !inurl && (e = emoji_at(s, n, i))) {
				emoji_seen(g, maxe, i, e, ++run);
				eend = i + e;
			} else {
				run = 0;
			}
			i++;
			continue;
		}
		hs = nl = 0;
		if ((e = control_at(s, n, i, &sep)) != 0) {
			ctl_seen(g, i, e);
			run = i < eend ? run : 0;
			i += e;
			continue;
		}
		if (c >= 0xc3 && c <= 0xdf && i + 1 < n &&
		    (s[i + 1] & 0xc0) == 0x80) {	/* letters: no emoji */
			run = i < eend ? run : 0;
			i += 2;
			continue;
		}
		if (i >= eend) {
			if (!inurl && (e = emoji_at(s, n, i))) {
				emoji_seen(g, maxe, i, e, ++run);
				eend = i + e;
			} else if (!uspace(s, n, i)) {
				run = 0;
			}
		}
		i += cp_at(s, n, i, &c);
	}
	if (n > 0 && (is_hspace(s[n - 1]) || s[n - 1] == '\n')) {
		for (i = n; i > 0 && (is_hspace(s[i - 1]) || s[i - 1] == '\n');
		    i--)
			;
		ws_place(g, i);
	}
}

static void
small_rules(struct scan *sc)
{
	const struct sl_tone_rules *r = sc->r;
	struct signs g;

	signs(sc, &g);
	if (g.bad_emoji)
		counted(sc, SL_TONE_EMOJI, g.emoji_at, g.emoji_len, g.emoji,
		    r->max_emoji);
	if (r->max_chars >= 0 && g.chars > r->max_chars)
		counted(sc, SL_TONE_LENGTH, g.len_at, sc->n - g.len_at,
		    g.chars, r->max_chars);
	if (g.ws)
		counted(sc, SL_TONE_WHITESPACE, g.ws_at, 1, g.ws, 0);
	if (g.ctl)
		counted(sc, SL_TONE_CONTROL, g.ctl_at, g.ctl_len, g.ctl, 0);
}

/*
 * Money
 */

struct amount {
	uint64_t whole;		/* the integer part, its groups joined */
	uint32_t frac;
	int fd;			/* digits of frac */
	int ok;			/* fits */
};

enum { M_NONE, M_ABBR, M_WORD };

struct money {
	size_t a, b;		/* the bytes of the expression */
	size_t end;		/* the end of the number */
	struct amount v;
	uint64_t mult;
	int mkind;		/* M_* */
	int pre, post;		/* a currency before, after */
	int lower;		/* a lower-case word follows */
};

/* The bytes of a thousands separator at s[j] of kind *kind (0: any). */
static size_t
group_sep(const unsigned char *s, size_t n, size_t j, int *kind)
{
	size_t len;
	int k;

	if (j >= n)
		return 0;
	if (s[j] == ' ' || s[j] == ',') {
		len = 1;
		k = s[j];
	} else if ((len = uspace(s, n, j))) {
		k = 0xa0;
	} else {
		return 0;
	}
	if (*kind && *kind != k)
		return 0;
	*kind = k;
	return len;
}

/* The number at s[i]: "45000", "45 000", "1,200", "1.5"; returns its end. */
static size_t
number(const unsigned char *s, size_t n, size_t i, struct amount *v)
{
	size_t j = i, g, len;
	int nd = 0, kind = 0;

	memset(v, 0, sizeof *v);
	for (; j < n && is_digit(s[j]); j++, nd++)
		if (nd < 18)
			v->whole = v->whole * 10 + (s[j] - '0');
	if (nd == 0)
		return i;
	while (nd <= 15 && (nd <= 3 || kind) &&
	    (len = group_sep(s, n, j, &kind))) {
		g = j + len;
		if (g + 3 > n || !is_digit(s[g]) || !is_digit(s[g + 1]) ||
		    !is_digit(s[g + 2]) || (g + 3 < n && is_digit(s[g + 3])))
			break;
		v->whole = v->whole * 1000 + (uint64_t)((s[g] - '0') * 100 +
		    (s[g + 1] - '0') * 10 + (s[g + 2] - '0'));
		nd += 3;
		j = g + 3;
	}
	v->ok = nd <= 15;
	if (j + 1 < n && (s[j] == '.' || s[j] == ',') && is_digit(s[j + 1]))
		for (j++; j < n && is_digit(s[j]); j++)
			if (v->fd < 6) {
				v->frac = v->frac * 10 + (uint32_t)(s[j] - '0');
				v->fd++;
			}
	return j;
}

static size_t
skip_hspace(const unsigned char *s, size_t n, size_t j)
{
	size_t k;

	while (j < n) {
		if (s[j] == ' ' || s[j] == '\t')
			j++;
		else if ((k = uspace(s, n, j)))
			j += k;
		else
			break;
	}
	return j;
}

static int
starts(const unsigned char *w, size_t wl, const char *p)
{
	size_t pl = strlen(p);

	return wl >= pl && memcmp(w, p, pl) == 0;
}

static int
is(const unsigned char *w, size_t wl, const char *p)
{
	return strlen(p) == wl && memcmp(w, p, wl) == 0;
}

/* A multiplier word: тыс., тысяч, млн, million, k (glued only). */
static int
multiplier(const unsigned char *w, size_t wl, int glued, uint64_t *mult)
{
	if (is(w, wl, "тыс") || (glued && (is(w, wl, "k") ||
	    is(w, wl, "к")))) {
		*mult = 1000;
		return M_ABBR;
	}
	if (is(w, wl, "млн") || is(w, wl, "mln")) {
		*mult = 1000000;
		return M_ABBR;
	}
	if (is(w, wl, "млрд") || is(w, wl, "bn")) {
		*mult = 1000000000;
		return M_ABBR;
	}
	if (starts(w, wl, "тысяч") || starts(w, wl, "thousand")) {
		*mult = 1000;
		return M_WORD;
	}
	if (starts(w, wl, "миллион") || starts(w, wl, "million")) {
		*mult = 1000000;
		return M_WORD;
	}
	if (starts(w, wl, "миллиард") || starts(w, wl, "billion")) {
		*mult = 1000000000;
		return M_WORD;
	}
	return M_NONE;
}

static int
currency_word(const unsigned char *w, size_t wl)
{
	return is(w, wl, "руб") || starts(w, wl, "рубл") || is(w, wl, "р") ||
	    is(w, wl, "rub") || is(w, wl, "rur") || is(w, wl, "usd") ||
	    is(w, wl, "eur") || is(w, wl, "euro") || is(w, wl, "euros") ||
	    is(w, wl, "евро") || starts(w, wl, "доллар") ||
	    starts(w, wl, "dollar");
}

/* The folded word at s[j] (letters only); 0 when there is none. */
static size_t
next_word(const unsigned char *s, size_t n, size_t j, unsigned char *w,
    size_t cap, size_t *end, int *first)
{
	struct winfo wi;

	*end = word_at(s, n, j, w, cap, &wi);
	*first = wi.first;
	if (*end == j || wi.dig || wi.flen > cap)
		return 0;
	return wi.flen;
}

/* What follows the number of m: a multiplier, a currency. */
static void
suffix(const unsigned char *s, size_t n, struct money *m)
{
	unsigned char w[32];
	size_t j = m->end, k, e, wl;
	int first = 0;

	m->b = m->end;
	m->mult = 1;
	k = skip_hspace(s, n, j);
	if ((e = currency_sign(s, n, k))) {
		m->post = 1;
		m->b = k + e;
		return;
	}
	wl = next_word(s, n, k, w, sizeof w, &e, &first);
	if (wl && (m->mkind = multiplier(w, wl, k == j, &m->mult))) {
		if (e < n && s[e] == '.')
			e++;
		m->b = e;
		k = skip_hspace(s, n, e);
		if ((e = currency_sign(s, n, k))) {
			m->post = 1;
			m->b = k + e;
			return;
		}
		wl = next_word(s, n, k, w, sizeof w, &e, &first);
	}
	if (wl && currency_word(w, wl)) {
		m->post = 1;
		m->b = e < n && s[e] == '.' ? e + 1 : e;
		return;
	}
	m->lower = first && !(first & L_UP);
}

static int
is_money(const struct money *m)
{
	return m->pre || m->post || (m->mkind == M_ABBR && !m->lower);
}

/* The amount in cents; 0 when it does not fit. */
static int
cents(const struct money *m, uint64_t *out)
{
	uint64_t f = 1, unit = m->mult * 100;
	int k;

	if (!m->v.ok || m->v.whole > UINT64_MAX / 4 / unit)
		return 0;
	for (k = 0; k < m->v.fd; k++)
		f *= 10;
	*out = m->v.whole * unit + m->v.frac * unit / f;
	return 1;
}

/* A price as written in the rules ("45 000 ₽", "45k"), in cents. */
static int
parse_price(const char *p, uint64_t *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t n = strlen(p), i;
	struct money m;

	for (i = 0; i < n && !is_digit(s[i]); i++)
		;
	if (i == n)
		return 0;
	memset(&m, 0, sizeof m);
	m.end = number(s, n, i, &m.v);
	suffix(s, n, &m);
	return cents(&m, out);
}

static int
allowed(const struct sl_tone_rules *r, uint64_t c)
{
	uint64_t a;
	size_t k;

	for (k = 0; k < r->nallowed; k++)
		if (r->allowed_prices[k] &&
		    parse_price(r->allowed_prices[k], &a) && a == c)
			return 1;
	return 0;
}

static void
fmt_cents(uint64_t c, char *buf, size_t size)
{
	unsigned f = (unsigned)(c % 100);

	if (f == 0)
		snprintf(buf, size, "%llu", (unsigned long long)(c / 100));
	else if (f % 10 == 0)
		snprintf(buf, size, "%llu.%u", (unsigned long long)(c / 100),
		    f / 10);
	else
		snprintf(buf, size, "%llu.%02u", (unsigned long long)(c / 100),
		    f);
}

static void
price(struct scan *sc, const struct money *m)
{
	struct sl_tone_hit *h;
	uint64_t c = 0;
	int ok;

	if (!is_money(m))
		return;
	ok = cents(m, &c);
	if (ok && allowed(sc->r, c))
		return;
	h = add(sc, SL_TONE_INVENTED_PRICE, m->a, m->b - m->a);
	if (ok)
		fmt_cents(c, h->amount, sizeof h->amount);
	else
		snprintf(h->amount, sizeof h->amount, "?");
}

/*
 * A range after m: "-", "–", "до", "to" and a number; the number's start
 * or 0, with 1 in *pre when a currency sign came before it.
 */
static size_t
range_to(const unsigned char *s, size_t n, const struct money *m, int *pre)
{
	unsigned char w[8];
	size_t k = skip_hspace(s, n, m->end), e, wl;
	int first;

	if (k < n && s[k] == '-')
		k++;
	else if (k + 2 < n && s[k] == 0xe2 && s[k + 1] == 0x80 &&
	    (s[k + 2] == 0x93 || s[k + 2] == 0x94))
		k += 3;
	else if ((wl = next_word(s, n, k, w, sizeof w, &e, &first)) &&
	    (is(w, wl, "до") || is(w, wl, "to")))
		k = e;
	else
		return 0;
	k = skip_hspace(s, n, k);
	e = currency_sign(s, n, k);
	*pre = e > 0;
	k = skip_hspace(s, n, k + e);
	return k < n && is_digit(s[k]) ? k : 0;
}

/* The money expression whose number starts at s[i]; returns its end. */
static size_t
money_at(struct scan *sc, size_t a, size_t i, int pre)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, k;
	struct money m, m2;
	int pre2;

	memset(&m, 0, sizeof m);
	m.a = a;
	m.pre = pre;
	m.end = number(s, n, i, &m.v);
	suffix(s, n, &m);
	if (!m.post && m.mkind == M_NONE && (k = range_to(s, n, &m, &pre2))) {
		memset(&m2, 0, sizeof m2);
		m2.a = k;
		m2.pre = pre2;
		m2.end = number(s, n, k, &m2.v);
		suffix(s, n, &m2);
		if (is_money(&m2) || m.pre) {
			m.post = m.post || is_money(&m2);
			m2.pre = 1;
			if (m2.mkind) {
				m.mult = m2.mult;
				m.mkind = m2.mkind;
			}
		}
		m.b = m.end;
		price(sc, &m);
		price(sc, &m2);
		return m2.b;
	}
	price(sc, &m);
	return m.b > m.end ? m.b : m.end;
}

static void
prices(struct scan *sc)
{
	const unsigned char *s = sc->s;
	size_t n = sc->n, i = 0, k, e;
	int ui = 0;

	while (i < n) {
		if (s[i] >= 0x80 && s[i] != 0xc2 && s[i] != 0xe2) {
			i++;		/* no sign, no digit */
			continue;
		}
		if ((k = skip_url(sc, &ui, i)) != i) {
			i = k;
			continue;
		}
		if (is_digit(s[i])) {
			if (after_letter(s, i)) {
				while (i < n && (is_digit(s[i]) ||
				    s[i] == '.' || s[i] == ','))
					i++;
				continue;
			}
			i = money_at(sc, i, i, 0);
			continue;
		}
		if ((s[i] == '$' || s[i] >= 0x80) &&
		    (e = currency_sign(s, n, i))) {
			k = skip_hspace(s, n, i + e);
			i = k < n && is_digit(s[k]) ? money_at(sc, i, k, 1) :
			    i + e;
			continue;
		}
		if (ascii_alnum(s[i])) {
			for (e = i; e < n && ascii_alnum(s[e]); e++)
				;
			k = skip_hspace(s, n, e);
			if (e - i == 3 && k > e && k < n && is_digit(s[k]) &&
			    (prefix_ci(s, n, i, "usd") ||
			    prefix_ci(s, n, i, "eur") ||
			    prefix_ci(s, n, i, "rub")))
				e = money_at(sc, i, k, 1);
			i = e;
			continue;
		}
		i++;
	}
}

/*
 * Pressure phrases
 */

/*
 * p folded as the text's words are, into out; returns its length (0 when
 * empty or too long), the gaps between its words in *ngaps, 1 in *star
 * when it ends in '*'.
 */
static size_t
fold_phrase(const char *p, unsigned char *out, size_t cap, size_t *ngaps,
    int *star)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t n = strlen(p), i = 0, len = 0, k;
	struct winfo wi;
	uint32_t c;
	int g = 0;

	*ngaps = 0;
	*star = 0;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n > 0 && s[n - 1] == '*') {
		*star = 1;
		n--;
	}
	while (i < n) {
		if (alnum_at(s, n, i)) {
			if (g && len) {
				if (len + 1 >= cap)
					return 0;
				out[len++] = (unsigned char)g;
				(*ngaps)++;
			}
			g = 0;
			i = word_at(s, n, i, out + len, cap - len, &wi);
			if (wi.flen > cap - len)
				return 0;
			len += wi.flen;
			continue;
		}
		if ((k = space_at(s, n, i))) {
			g = g ? g : ' ';
		} else {
			k = cp_at(s, n, i, &c);
			g = '|';
		}
		i += k;
	}
	return len;
}

/*
 * The key of the first word of phrase p, folded into w, or KEYS when p
 * may match a word it begins (a single word ending in '*').
 */
static uint32_t
first_key(const char *p, unsigned char *w, size_t cap)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t n = strlen(p), i = 0, e;
	struct winfo wi;

	while (i < n && !alnum_at(s, n, i))
		i++;
	e = word_at(s, n, i, w, cap, &wi);
	if (wi.flen == 0 || wi.flen > cap || (e < n && s[e] == '*'))
		return KEYS;
	return wkey(w, wi.flen);
}

static void
phrases(struct scan *sc)
{
	const struct sl_tone_rules *r = sc->r;
	unsigned char p[256];
	size_t k, wi, pl, ngaps, at, end;
	struct sl_tone_hit *h;
	uint32_t key;
	int star;

	for (k = 0; k < r->npressure; k++) {
		if (!r->pressure[k])
			continue;
		key = first_key(r->pressure[k], p, sizeof p);
		if (key < KEYS && !(sc->keys[key / 64] & UINT64_C(1) <<
		    key % 64))
			continue;
		if (!(pl = fold_phrase(r->pressure[k], p, sizeof p, &ngaps,
		    &star)))
			continue;
		for (wi = 0; wi + ngaps < sc->nw; wi++) {
			at = sc->w[wi].nb;
			if ((key < KEYS && sc->w[wi].key != key) ||
			    at + pl > sc->nn || memcmp(sc->nb + at, p, pl) != 0)
				continue;
			end = at + pl;
			if (!star && end < sc->nn && sc->nb[end] != ' ' &&
			    sc->nb[end] != '|')
				continue;
			h = add(sc, SL_TONE_PRESSURE, sc->w[wi].a,
			    sc->w[wi + ngaps].b - sc->w[wi].a);
			h->phrase = k;
		}
	}
}

/*
 * The API
 */

static void
sort_hits(struct sl_tone_hit *h, size_t n)
{
	struct sl_tone_hit x;
	size_t i, j;

	for (i = 1; i < n; i++) {
		if (h[i - 1].at <= h[i].at)
			continue;
		x = h[i];
		for (j = i; j > 0 && h[j - 1].at > x.at; j--)
			h[j] = h[j - 1];
		h[j] = x;
	}
}

static void
scan_init(struct scan *sc, const char *text, size_t len,
    const struct sl_tone_rules *r)
{
	memset(sc, 0, sizeof *sc);
	if (!text)
		len = 0;
	sc->s = (const unsigned char *)(text ? text : "");
	sc->n = len > SCAN_MAX ? SCAN_MAX : len;
	sc->r = r;
	find_urls(sc);
}

size_t
sl_tone_scan(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r, struct sl_tone_hit *hit, size_t max)
{
	unsigned char nb[NB_STACK];
	struct word w[W_STACK];
	struct sl_tone_rules def;
	struct scan sc;
	struct tally t;
	void *heap = NULL;

	if (!r) {
		sl_tone_rules_default(&def);
		r = &def;
	}
	scan_init(&sc, text, len, r);
	sc.hit = hit;
	sc.max = max;
	sc.wcap = sc.n / 2 + 1;
	if (sc.n + 1 <= sizeof nb && sc.wcap <= W_STACK) {
		sc.nb = nb;
		sc.w = w;
	} else {
		heap = sl_malloc(sc.wcap * sizeof *sc.w + sc.n + 1);
		sc.w = heap;
		sc.nb = (unsigned char *)(sc.w + sc.wcap);
	}
	memset(&t, 0, sizeof t);
	t.sp = t.line = 1;
	scan_text(&sc, &t);
	finish(&sc, &t, lang);
	small_rules(&sc);
	if (r->check_prices)
		prices(&sc);
	phrases(&sc);
	free(heap);
	sort_hits(hit, sc.nhit < max ? sc.nhit : max);
	return sc.nhit;
}

/* The bytes [at, at + len) of text for a message, cut and cleaned. */
static void
quote(const char *text, size_t at, size_t len, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = at, k, o = 0;
	uint32_t c;

	while (i < at + len) {
		k = cp_at(s, at + len, i, &c);
		if (o + k + 4 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == 0xfffd) {
			buf[o++] = ' ';
		} else {
			memcpy(buf + o, s + i, k);
			o += k;
		}
		i += k;
	}
	buf[o] = '\0';
}

static jv
hit_jv(const char *text, const struct sl_tone_hit *h)
{
	char d[192], q[64];
	jv o;

	quote(text, h->at, h->len, q, sizeof q);
	switch (h->rule) {
	case SL_TONE_SENTENCES:
		snprintf(d, sizeof d, "%ld sentences, at most %ld", h->count,
		    h->limit);
		break;
	case SL_TONE_LENGTH:
		snprintf(d, sizeof d, "%ld characters, at most %ld",
		    h->count, h->limit);
		break;
	case SL_TONE_EM_DASH:
		snprintf(d, sizeof d, h->count == 0x2013 ?
		    "an en dash between words: write ' - ' or a comma" :
		    "an em dash: write ' - ' or a comma");
		break;
	case SL_TONE_TY_FORM:
		snprintf(d, sizeof d, "'%s' is informal: address the "
		    "prospect as «Вы»", q);
		break;
	case SL_TONE_VY_LOWERCASE:
		snprintf(d, sizeof d, "'%s' in lower case: one prospect is "
		    "«Вы», «Вас», «Ваш»", q);
		break;
	case SL_TONE_LANGUAGE:
		snprintf(d, sizeof d, h->count == L_LAT ?
		    "mostly Latin letters, the prospect writes Russian" :
		    "mostly Cyrillic letters, the prospect writes English");
		break;
	case SL_TONE_QUESTIONS:
		snprintf(d, sizeof d, "%ld questions, at most %ld: one at a "
		    "time", h->count, h->limit);
		break;
	case SL_TONE_EMOJI:
		if (h->count > h->limit)
			snprintf(d, sizeof d, "%ld emoji, at most %ld",
			    h->count, h->limit);
		else
			snprintf(d, sizeof d, "emoji in a row");
		break;
	case SL_TONE_PRESSURE:
		snprintf(d, sizeof d, "pressure: '%s'", q);
		break;
	case SL_TONE_INVENTED_PRICE:
		snprintf(d, sizeof d, "'%s' (%s) is not an allowed price", q,
		    h->amount);
		break;
	case SL_TONE_CONTROL:
		snprintf(d, sizeof d, "%ld control or invisible format "
		    "characters", h->count);
		break;
	default:
		snprintf(d, sizeof d, "white space to trim (%ld places)",
		    h->count);
		break;
	}
	o = jv_object();
	o = jv_object_set(o, jv_string("rule"), jv_string(rule[h->rule].name));
	o = jv_object_set(o, jv_string("severity"), jv_string(h->severity ==
	    SL_TONE_WARNING ? "warning" : "error"));
	o = jv_object_set(o, jv_string("fixable"), jv_bool(h->fixable));
	o = jv_object_set(o, jv_string("at"), jv_number((double)h->at));
	return jv_object_set(o, jv_string("detail"), jv_string(d));
}

jv
sl_tone_check(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r)
{
	struct sl_tone_hit stack[SL_TONE_HITS], *hit = stack;
	size_t n, i;
	jv out;

	n = sl_tone_scan(text, len, lang, r, hit, SL_TONE_HITS);
	if (n > SL_TONE_HITS) {
		hit = sl_calloc(n, sizeof *hit);
		sl_tone_scan(text, len, lang, r, hit, n);
	}
	out = jv_array();
	for (i = 0; i < n; i++)
		out = jv_array_append(out, hit_jv(text, &hit[i]));
	if (hit != stack)
		free(hit);
	return out;
}

const char *
sl_tone_lang(const char *text, size_t len)
{
	struct winfo wi;
	struct scan sc;
	size_t i = 0, k;
	long v[4] = { 0, 0, 0, 0 };
	int ui = 0;

	scan_init(&sc, text, len, NULL);
	while (i < sc.n) {
		if ((k = skip_url(&sc, &ui, i)) != i) {
			i = k;
		} else if (!alnum_at(sc.s, sc.n, i)) {
			i++;
		} else {
			k = word_at(sc.s, sc.n, i, NULL, 0, &wi);
			count_script(sc.s, i, &wi, v);
			i = k > i ? k : i + 1;	/* a keycap */
		}
	}
	if (!v[2] && !v[3])
		return NULL;
	return script(v, 1) == L_CYR ? "ru" : "en";
}

const char *
sl_tone_rule_name(int r)
{
	return r >= 0 && r < SL_TONE_NRULES ? rule[r].name : NULL;
}

/*
 * The fixer
 */

struct buf {
	char *p;
	size_t n, cap;
};

static void
put(struct buf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = 2 * b->cap + n + 1;
		b->p = sl_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static size_t
trim_hspace(struct buf *b)
{
	size_t n = b->n;

	while (b->n > 0 && (b->p[b->n - 1] == ' ' || b->p[b->n - 1] == '\t'))
		b->n--;
	return n - b->n;
}

/* A dash between words, at s[i] (k bytes); returns where to go on. */
static size_t
fix_dash(struct buf *b, const unsigned char *s, size_t n, size_t i,
    size_t k)
{
	size_t e = i + k;
	uint32_t c;

	if (i > 0 && is_digit(s[i - 1]) && e < n && is_digit(s[e])) {
		put(b, "-", 1);
		return e;
	}
	trim_hspace(b);
	for (;;) {
		while (e < n && is_hspace(s[e]) && s[e] != '\r')
			e++;
		if (e < n && s[e] == '-') {
			e++;
		} else if (e < n && cp_at(s, n, e, &c) == 3 && c >= 0x2013 &&
		    c <= 0x2015) {
			e += 3;
		} else {
			break;
		}
	}
	if (e >= n || s[e] == '\n' || s[e] == '\r')
		return e;
	if (b->n == 0 || b->p[b->n - 1] == '\n')
		put(b, "- ", 2);
	else
		put(b, " - ", 3);
	return e;
}

/* The word at s[i], with a capital for a lower-case вы-form. */
static size_t
fix_word(struct buf *b, const unsigned char *s, size_t n, size_t i)
{
	unsigned char w[16];
	struct winfo wi;
	size_t e = word_at(s, n, i, w, sizeof w, &wi);

	if (wi.cyr && !wi.lat && !wi.dig && wi.flen <= sizeof w &&
	    !(wi.first & L_UP) && form(w, wi.flen) == F_VY) {
		put(b, "\xd0\x92", 2);		/* В */
		put(b, s + i + 2, e - i - 2);
	} else {
		put(b, s + i, e - i);
	}
	return e;
}

/*
 * The text without its control and format characters, those between
 * words as spaces (new, its length in *outlen); NULL when it has none.
 */
static char *
strip_controls(const unsigned char *s, size_t n, size_t *outlen)
{
	struct buf b = { NULL, 0, 0 };
	size_t i = 0, k, from = 0;
	int sep;

	while (i < n) {
		if ((k = control_at(s, n, i, &sep)) == 0) {
			i++;
			continue;
		}
		if (b.p == NULL) {
			b.cap = n + 1;
			b.p = sl_malloc(b.cap);
		}
		put(&b, s + from, i - from);
		if (sep)
			put(&b, " ", 1);
		i += k;
		from = i;
	}
	if (b.p == NULL)
		return NULL;
	put(&b, s + from, n - from);
	*outlen = b.n;
	return b.p;
}

/* White space: trimmed, runs collapsed, at most one empty line; in place. */
static void
tidy(struct buf *b)
{
	char *p = b->p;
	size_t i = 0, o = 0, run, nl;

	while (i < b->n && (is_hspace((unsigned char)p[i]) || p[i] == '\n'))
		i++;
	while (i < b->n) {
		if (is_hspace((unsigned char)p[i])) {
			for (run = 0; i + run < b->n &&
			    is_hspace((unsigned char)p[i + run]); run++)
				;
			if (i + run < b->n && p[i + run] != '\n')
				p[o++] = run == 1 ? p[i] : ' ';
			i += run;
		} else if (p[i] == '\n') {
			for (nl = 0; i < b->n && (p[i] == '\n' ||
			    is_hspace((unsigned char)p[i])); i++)
				nl += p[i] == '\n';
			if (i < b->n) {
				p[o++] = '\n';
				if (nl > 1)
					p[o++] = '\n';
			}
		} else {
			p[o++] = p[i++];
		}
	}
	b->n = o;
}

char *
sl_tone_fix(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r, size_t *outlen)
{
	struct sl_tone_rules def;
	struct signs g;
	struct scan sc;
	struct buf b;
	const unsigned char *s;
	char *clean;
	size_t n, i = 0, k;
	int ui = 0, strip;
	uint32_t c;

	(void)lang;
	if (!r) {
		sl_tone_rules_default(&def);
		r = &def;
	}
	if (text == NULL)
		len = 0;
	clean = strip_controls((const unsigned char *)(text ? text : ""),
	    len > SCAN_MAX ? SCAN_MAX : len, &k);
	if (clean) {
		text = clean;
		len = k;
	}
	scan_init(&sc, text, len, r);
	s = sc.s;
	n = sc.n;
	signs(&sc, &g);
	strip = g.bad_emoji;
	b.cap = n + 16;
	b.p = sl_malloc(b.cap);
	b.n = 0;
	while (i < n) {
		if ((k = skip_url(&sc, &ui, i)) != i) {
			put(&b, s + i, k - i);
			i = k;
			continue;
		}
		if (is_digit(s[i]) ? !keycap_at(s, n, i) : alnum_at(s, n, i)) {
			i = fix_word(&b, s, n, i);
			continue;
		}
		if (strip && (k = emoji_at(s, n, i))) {
			/* the space before goes; words stay apart */
			i += k;
			trim_hspace(&b);
			if (b.n > 0 && i < n && alnum_at(s, n, i) &&
			    !strchr("\n(\"'", b.p[b.n - 1]))
				put(&b, " ", 1);
			continue;
		}
		k = cp_at(s, n, i, &c);
		if (k == 3 && bad_dash(s, n, i, c))
			i = fix_dash(&b, s, n, i, k);
		else {
			put(&b, s + i, k);
			i += k;
		}
	}
	tidy(&b);
	b.p[b.n] = '\0';
	free(clean);
	if (outlen)
		*outlen = b.n;
	return b.p;
}

/*
 * Rules
 */

struct own {
	char **pressure;
	size_t np;
	char **prices;
	size_t na;
};

void
sl_tone_rules_default(struct sl_tone_rules *r)
{
	memset(r, 0, sizeof *r);
	r->max_sentences = 3;
	r->max_chars = 300;
	r->max_questions = 1;
	r->max_emoji = 1;
	r->pressure = default_pressure;
	r->npressure = NELEM(default_pressure);
	r->check_prices = 1;
}

void
sl_tone_rules_free(struct sl_tone_rules *r)
{
	struct own *o = r->own;
	size_t k;

	if (o) {
		for (k = 0; k < o->np; k++)
			free(o->pressure[k]);
		for (k = 0; k < o->na; k++)
			free(o->prices[k]);
		free(o->pressure);
		free(o->prices);
		free(o);
	}
	sl_tone_rules_default(r);
}

static void
push(char ***v, size_t *n, char *s)
{
	*v = sl_realloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

/* json[key] as a limit in [min, max] or -1; 0, 1 when set, -1 (err). */
static int
get_limit(jv json, const char *key, int min, int max, int *out, char *err,
    size_t errlen)
{
	jv v = jv_object_get(jv_copy(json), jv_string(key));
	double d;
	int r = 0;

	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0.5;
	if (d == -1 || (d >= min && d <= max && d == (double)(int)d)) {
		*out = (int)d;
		r = 1;
	} else {
		snprintf(err, errlen, "'%s': expected an integer from %d to "
		    "%d, or -1", key, min, max);
		r = -1;
	}
	jv_free(v);
	return r;
}

/* Adds the strings of the array a (borrowed), called name, to o. */
static int
add_phrases(struct own *o, jv a, const char *name, char *err,
    size_t errlen)
{
	int i, n;
	jv v;

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		snprintf(err, errlen, "'%s': expected an array of strings, "
		    "not %s", name, sl_kind_name(a));
		return -1;
	}
	n = jv_array_length(jv_copy(a));
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(a), i);
		if (jv_get_kind(v) != JV_KIND_STRING) {
			snprintf(err, errlen, "'%s[%d]': expected a string, "
			    "not %s", name, i, sl_kind_name(v));
			jv_free(v);
			return -1;
		}
		push(&o->pressure, &o->np, sl_strdup(jv_string_value(v)));
		jv_free(v);
	}
	return 0;
}

static int
load_pressure(struct own *o, jv json, char *err, size_t errlen)
{
	jv p = jv_object_get(jv_copy(json), jv_string("pressure")), keys, k, a;
	char name[96];
	int i, n, r = 0;

	if (!jv_is_valid(p) || jv_get_kind(p) == JV_KIND_NULL) {
		/* skills/tone-of-voice/rules.json calls it pressure_phrases */
		jv_free(p);
		p = jv_object_get(jv_copy(json), jv_string("pressure_phrases"));
	}
	if (!jv_is_valid(p) || jv_get_kind(p) == JV_KIND_NULL) {
		jv_free(p);
		return 0;
	}
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		r = add_phrases(o, p, "pressure", err, errlen);
		jv_free(p);
		return r < 0 ? -1 : 1;
	}
	keys = jv_keys(jv_copy(p));
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n && r == 0; i++) {
		k = jv_array_get(jv_copy(keys), i);
		snprintf(name, sizeof name, "pressure.%s", jv_string_value(k));
		a = jv_object_get(jv_copy(p), k);
		/* a string beside the lists is prose for people ("rule") */
		if (jv_get_kind(a) != JV_KIND_STRING)
			r = add_phrases(o, a, name, err, errlen);
		jv_free(a);
	}
	jv_free(keys);
	jv_free(p);
	return r < 0 ? -1 : 1;
}

static int
load_prices(struct own *o, jv json, char *err, size_t errlen)
{
	jv a = jv_object_get(jv_copy(json), jv_string("allowed_prices")), v;
	uint64_t c;
	double d;
	int i, n, r = 1;

	if (!jv_is_valid(a) || jv_get_kind(a) == JV_KIND_NULL) {
		jv_free(a);
		return 0;
	}
	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		snprintf(err, errlen, "'allowed_prices': expected an array, "
		    "not %s", sl_kind_name(a));
		jv_free(a);
		return -1;
	}
	n = jv_array_length(jv_copy(a));
	for (i = 0; i < n && r > 0; i++) {
		v = jv_array_get(jv_copy(a), i);
		if (jv_get_kind(v) == JV_KIND_NUMBER &&
		    (d = jv_number_value(v)) >= 0 && d < 1e15) {
			push(&o->prices, &o->na, d == (double)(int64_t)d ?
			    sl_asprintf("%.0f", d) : sl_asprintf("%.2f", d));
		} else if (jv_get_kind(v) == JV_KIND_STRING &&
		    parse_price(jv_string_value(v), &c)) {
			push(&o->prices, &o->na, sl_strdup(jv_string_value(v)));
		} else {
			snprintf(err, errlen, "'allowed_prices[%d]': expected "
			    "an amount, not %s", i, jv_get_kind(v) ==
			    JV_KIND_STRING ? "this string" : sl_kind_name(v));
			r = -1;
		}
		jv_free(v);
	}
	jv_free(a);
	return r;
}

int
sl_tone_rules_load(struct sl_tone_rules *r, jv json, char *err,
    size_t errlen)
{
	struct own *o;
	char dummy[1];
	jv v, lim;
	int p;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	sl_tone_rules_default(r);
	if (jv_get_kind(json) != JV_KIND_OBJECT) {
		snprintf(err, errlen, "tone rules: expected an object, not %s",
		    sl_kind_name(json));
		jv_free(json);
		return -1;
	}
	o = sl_calloc(1, sizeof *o);
	r->own = o;
	/* the limits at the top, or in a "message" object as rules.json has */
	lim = jv_object_get(jv_copy(json), jv_string("message"));
	if (jv_get_kind(lim) != JV_KIND_OBJECT) {
		jv_free(lim);
		lim = jv_copy(json);
	}
	p = get_limit(lim, "max_sentences", 1, 1000, &r->max_sentences,
	    err, errlen) < 0 ||
	    get_limit(lim, "max_chars", 1, 1000000, &r->max_chars, err,
	    errlen) < 0 ||
	    get_limit(lim, "max_questions", 0, 1000, &r->max_questions, err,
	    errlen) < 0 ||
	    get_limit(lim, "max_emoji", 0, 1000, &r->max_emoji, err,
	    errlen) < 0;
	jv_free(lim);
	if (p)
		goto fail;
	if ((p = load_pressure(o, json, err, errlen)) < 0)
		goto fail;
	if (p) {
		r->pressure = (const char *const *)o->pressure;
		r->npressure = o->np;
	}
	if ((p = load_prices(o, json, err, errlen)) < 0)
		goto fail;
	if (p) {
		r->allowed_prices = (const char *const *)o->prices;
		r->nallowed = o->na;
	}
	v = jv_object_get(jv_copy(json), jv_string("check_prices"));
	if (jv_get_kind(v) == JV_KIND_TRUE || jv_get_kind(v) == JV_KIND_FALSE) {
		r->check_prices = jv_get_kind(v) == JV_KIND_TRUE;
	} else if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
		snprintf(err, errlen, "'check_prices': expected a boolean, not "
		    "%s", sl_kind_name(v));
		jv_free(v);
		goto fail;
	}
	jv_free(v);
	jv_free(json);
	return 0;
fail:
	jv_free(json);
	sl_tone_rules_free(r);
	return -1;
}
