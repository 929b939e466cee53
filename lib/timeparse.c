/*
 * timeparse.c: reads a time out of a chat message.
 *
 * Three passes over a bounded prefix of the text, with no allocation:
 *
 * 1. Tokens: words (looked up in lib/timeparse_words.c as they are read),
 *    numbers and signs, with their byte offsets.  Numbers that cannot be a
 *    time are marked dead: glued to letters (1С, B2B), part of a phone
 *    number, after '#', '$', "version", before '%'.
 * 2. Clauses (split at ! ? ; a new line, and a full stop before a capital
 *    letter) are read left to right by small hand-written patterns, each
 *    of which fills a slot of a frame: an offset (через 2 часа), a day
 *    (завтра, в пятницу, 5 декабря), a period (в конце недели), a clock
 *    (в 15:30), a part of the day (вечером), a zone (по мск).  A later
 *    mention replaces an earlier one in the same slot (сегодня не могу,
 *    давайте завтра); a negated or past mention (не в пятницу, вчера, 2
 *    дня назад) is dropped.  The last clause with a time wins, unless it
 *    only offers an alternative (если нет, или ...); a clause with only a
 *    day and the next with only a clock are joined.
 * 3. The frame becomes an instant by the conventions of time-parse(1),
 *    computed on the civil calendar of the zone and converted with
 *    sl_from_local.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "timeparse.h"
#include "timeutil.h"

#define K(x) SL_TP_K_##x
#define B(x) (UINT64_C(1) << SL_TP_K_##x)
#define WMAX 32
#define DAY 86400

enum { T_WORD = 1, T_NUM, T_PUNCT };

/* Token flags. */
enum {
	TF_SP = 1 << 0,		/* space (or the start) before it */
	TF_CAP = 1 << 1,	/* a word starting with a capital */
	TF_UPPER = 1 << 2,	/* a word of capitals only */
	TF_LZ = 1 << 3,		/* a number with a leading zero */
	TF_DEAD = 1 << 4,	/* a number that is no time */
	TF_CYR = 1 << 5,	/* a Cyrillic word */
};

struct tok {
	uint32_t off;
	uint16_t len;
	uint16_t kf;		/* word: keyword flags */
	int32_t val;		/* word: keyword value; number: its value */
	uint8_t type, flags;
	uint8_t kind;		/* word: K_*; sign: the character */
	uint8_t nd;		/* number: digits */
};

/* Slots of a frame. */
enum {
	H_REL = 1 << 0, H_RELDAY = 1 << 1, H_WDAY = 1 << 2, H_DATE = 1 << 3,
	H_PERIOD = 1 << 4, H_CLOCK = 1 << 5, H_PART = 1 << 6, H_ZONE = 1 << 7,
};
#define H_DAYISH (H_REL | H_RELDAY | H_WDAY | H_DATE | H_PERIOD)
#define H_TOD (H_CLOCK | H_PART)
#define H_TIME (H_DAYISH | H_TOD)

enum { WM_PLAIN, WM_THIS, WM_NEXT };
enum { AP_NONE, AP_AM, AP_PM, AP_NIGHT };
/* Period kinds besides the units. */
enum { PK_WEEKEND = 100, PK_MONTHNAMED };

#define NSPAN 16

struct frame {
	int has;
	int locked;		/* slots a preference fixed: лучше вечером */
	int written;		/* slots the last pattern wrote */
	int64_t rel_sec;
	int rel_days, rel_months;
	int relday;
	int wday, wmode;
	int dy, dm, dd;
	int pkind, pwhich, ppart, pmon, pyear;
	int hh, mi, ampm, h24, weak;
	int part;
	const struct sl_zone *zone;
	int nsp;
	struct {
		int a, b, slot;
	} sp[NSPAN];
};

struct ctx {
	const char *s;
	struct tok *t;
	int n;			/* tokens */
	int end;		/* end of the clause being read */
	int en;			/* the text is English */
	int drop;		/* the match is past, habitual or negated */
	struct frame *f;
};

/*
 * Tokens
 */

/* Length of the UTF-8 sequence at s, or 0 when it is invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c = s[0];

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
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Latin letters that look Cyrillic, for words typed in a mix of both. */
static unsigned char
cyr_twin(unsigned char c)
{
	switch (c) {
	case 'a': return 0xe0;
	case 'b': return 0xe2;
	case 'c': return 0xf1;
	case 'e': return 0xe5;
	case 'h': return 0xed;
	case 'k': return 0xea;
	case 'm': return 0xec;
	case 'o': return 0xee;
	case 'p': return 0xf0;
	case 't': return 0xf2;
	case 'x': return 0xf5;
	case 'y': return 0xf3;
	default: return c;
	}
}

static int
is_prep(int kind)
{
	return kind == K(V) || kind == K(AT) || kind == K(K) ||
	    kind == K(S) || kind == K(DO) || kind == K(NA) ||
	    kind == K(ABOUT) || kind == K(AFTER) || kind == K(BEFORE);
}

/* Reads a word at s[*i]; returns its token. */
static void
word(const unsigned char *s, size_t n, size_t *i, struct tok *t, int *ncyr,
    int *nlat)
{
	unsigned char w[WMAX];
	struct sl_tp_kw kw;
	size_t p = *i, used;
	int len = 0, cyr = 0, lat = 0, upper = 0, lf, k;
	unsigned char ch;

	t->off = (uint32_t)p;
	t->type = T_WORD;
	t->kind = K(UNKNOWN);
	t->kf = 0;
	t->val = 0;
	while (p < n) {
		lf = sl_tp_letter(s + p, n - p, &ch, &used);
		if (lf == 0) {
			/* an apostrophe between letters: o'clock, don't */
			size_t al = s[p] == '\'' ? 1 : (p + 2 < n &&
			    s[p] == 0xe2 && s[p + 1] == 0x80 &&
			    s[p + 2] == 0x99) ? 3 : 0;

			if (al && len > 0 && p + al < n &&
			    sl_tp_letter(s + p + al, n - p - al, &ch, &used)) {
				p += al;
				continue;
			}
			break;
		}
		if (len == 0 && (lf & 2))
			t->flags |= TF_CAP;
		if (lf & 2)
			upper++;
		if (lf & 4)
			cyr++;
		else
			lat++;
		if (len < WMAX)
			w[len] = ch;
		len++;
		p += used;
	}
	*ncyr += cyr;
	*nlat += lat;
	if (cyr > lat)
		t->flags |= TF_CYR;
	if (upper == len && len >= 2)
		t->flags |= TF_UPPER;
	/* a.m., p.m. */
	if (len == 1 && (w[0] == 'a' || w[0] == 'p') && p + 1 < n &&
	    s[p] == '.' && (s[p + 1] | 0x20) == 'm' &&
	    (p + 2 >= n || !sl_tp_letter(s + p + 2, n - p - 2, &ch, &used))) {
		p += 2;
		if (p < n && s[p] == '.')
			p++;
		t->kind = K(AMPM);
		t->kf = SL_TP_F_SUFFIX;
		t->val = w[0] == 'p';
	} else if (len < WMAX) {
		if (cyr && lat)
			for (k = 0; k < len; k++)
				w[k] = cyr_twin(w[k]);
		if (sl_tp_lookup(w, (size_t)len, &kw)) {
			t->kind = kw.kind;
			t->kf = kw.flags;
			t->val = kw.val;
		}
	}
	t->len = (uint16_t)(p - *i);
	*i = p;
}

/*
 * A word written right after a number.  "2moro" and "2nite" become one
 * word (returns 1: x is merged into num); a word that may not follow a
 * number unspaced (1С, 3D) makes the number dead.
 */
static int
glue(const unsigned char *s, size_t n, struct tok *num, const struct tok *x)
{
	unsigned char w[WMAX + 1], ch;
	size_t k = 0, p = x->off, u;
	struct sl_tp_kw kw;

	if (num->nd == 1 && num->val == 2 && x->kind == K(UNKNOWN)) {
		w[k++] = '2';
		while (p < x->off + x->len && k < WMAX &&
		    sl_tp_letter(s + p, n - p, &ch, &u)) {
			w[k++] = ch;
			p += u;
		}
		if (sl_tp_lookup(w, k, &kw) && (kw.kind == K(TODAY) ||
		    kw.kind == K(TOMORROW))) {
			num->type = T_WORD;
			num->kind = kw.kind;
			num->kf = kw.flags;
			num->val = kw.val;
			num->nd = 0;
			num->len = (uint16_t)(x->off + x->len - num->off);
			num->flags &= TF_SP;
			return 1;
		}
	}
	if (!(x->kf & SL_TP_F_SUFFIX))
		num->flags |= TF_DEAD;
	return 0;
}

/* Fills t with the tokens of s; returns their number. */
static int
tokenize(const unsigned char *s, size_t n, struct tok *t, int max, int *ncyr,
    int *nlat)
{
	size_t i = 0, len, start;
	uint32_t cp;
	int nt = 0, sp = 1, c;
	unsigned char ch;
	struct tok *x;

	while (i < n && nt < max) {
		c = s[i];
		x = &t[nt];
		memset(x, 0, sizeof *x);
		if (c >= '0' && c <= '9') {
			uint32_t v = 0;
			int nd = 0;

			x->off = (uint32_t)i;
			x->type = T_NUM;
			if (c == '0')
				x->flags |= TF_LZ;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (nd < 9)
					v = v * 10 + (uint32_t)(s[i] - '0');
				nd++;
				i++;
			}
			x->val = (int32_t)v;
			x->nd = (uint8_t)(nd > 255 ? 255 : nd);
			if (nd < 2)
				x->flags &= (uint8_t)~TF_LZ;
			if (nd > 4)
				x->flags |= TF_DEAD;
			x->len = (uint16_t)(i - x->off);
			if (sp)
				x->flags |= TF_SP;
			/* glued to a word that is not a preposition: B2B, в15 is ok */
			if (!sp && nt > 0 && t[nt - 1].type == T_WORD &&
			    !is_prep(t[nt - 1].kind) && t[nt - 1].kind != K(ZONE))
				x->flags |= TF_DEAD;
			nt++;
			sp = 0;
			continue;
		}
		if (sl_tp_letter(s + i, n - i, &ch, &len)) {
			if (sp)
				x->flags |= TF_SP;
			word(s, n, &i, x, ncyr, nlat);
			if (!sp && nt > 0 && t[nt - 1].type == T_NUM &&
			    glue(s, n, &t[nt - 1], x)) {
				sp = 0;
				continue;
			}
			nt++;
			sp = 0;
			continue;
		}
		start = i;
		if (c < 0x80) {
			i++;
			switch (c) {
			case ':': case '.': case ',': case '/': case '-':
			case '%': case '+': case '#': case '$': case '@':
			case '(': case ')': case '~': case '&':
				break;
			case '!': case '?': case ';': case '\n':
				c = '|';
				break;
			default:	/* spaces, quotes, control bytes, NUL */
				sp = 1;
				continue;
			}
		} else {
			len = utf8_len(s + i, n - i, &cp);
			if (len == 0) {
				i++;
				sp = 1;
				continue;
			}
			i += len;
			if (cp == 0x2013 || cp == 0x2014 || cp == 0x2212)
				c = '-';
			else if (cp == 0x2026)
				c = '.';
			else if (cp == 0x2116)
				c = '#';
			else if (cp == 0x20ac || cp == 0x20bd || cp == 0xa3 ||
			    cp == 0x20b4 || cp == 0x20b8)
				c = '$';
			else {
				sp = 1;
				continue;
			}
		}
		x->off = (uint32_t)start;
		x->len = (uint16_t)(i - start);
		x->type = T_PUNCT;
		x->kind = (uint8_t)c;
		if (sp)
			x->flags |= TF_SP;
		nt++;
		sp = 0;
	}
	return nt;
}

static int
is_sign(const struct tok *t, int c)
{
	return t->type == T_PUNCT && t->kind == c;
}

/*
 * Second look at the tokens: sentence ends, and numbers that are no
 * time (phone numbers, prices, versions, percentages).
 */
static void
mark(struct tok *t, int n)
{
	int i, j, run;

	for (i = 0; i < n; i++) {
		if (is_sign(&t[i], '.') && (i + 1 == n ||
		    ((t[i + 1].flags & TF_SP) && t[i + 1].type == T_WORD &&
		    (t[i + 1].flags & TF_CAP))))
			t[i].kind = '|';
		if (t[i].type != T_NUM)
			continue;
		if (i > 0 && (is_sign(&t[i - 1], '#') ||
		    is_sign(&t[i - 1], '$') || is_sign(&t[i - 1], '+') ||
		    (t[i - 1].type == T_WORD &&
		    t[i - 1].kind == K(VERSION))))
			t[i].flags |= TF_DEAD;
		if (i + 1 < n && (is_sign(&t[i + 1], '%') ||
		    is_sign(&t[i + 1], '$')))
			t[i].flags |= TF_DEAD;
		/* 8 800 555-35-35, +7 (999) 123-45-67 */
		run = 1;
		j = i;
		while (j + 1 < n) {
			if (t[j + 1].type == T_NUM && (t[j + 1].flags & TF_SP)) {
				j++;
			} else if (j + 2 < n && (is_sign(&t[j + 1], '-') ||
			    is_sign(&t[j + 1], '(') ||
			    is_sign(&t[j + 1], ')')) &&
			    t[j + 2].type == T_NUM) {
				j += 2;
			} else if (j + 3 < n && is_sign(&t[j + 1], ')') &&
			    t[j + 3].type == T_NUM && (is_sign(&t[j + 2], '-') ||
			    is_sign(&t[j + 2], '('))) {
				j += 3;
			} else {
				break;
			}
			run++;
		}
		if (run >= 3 && !(run == 3 && t[i].nd == 4 && j == i + 4 &&
		    is_sign(&t[i + 1], '-') && is_sign(&t[i + 3], '-')))
			for (; i <= j; i++)
				if (t[i].type == T_NUM)
					t[i].flags |= TF_DEAD;
	}
}

/*
 * Token access within the clause being read.
 */

static int
kind(const struct ctx *c, int i)
{
	if (i < 0 || i >= c->end || c->t[i].type != T_WORD)
		return -1;
	return c->t[i].kind;
}

static int
in(const struct ctx *c, int i, uint64_t set)
{
	int k = kind(c, i);

	return k >= 0 && (set & (UINT64_C(1) << k));
}

static int
num(const struct ctx *c, int i)
{
	return i >= 0 && i < c->end && c->t[i].type == T_NUM &&
	    !(c->t[i].flags & TF_DEAD);
}

static int
sign(const struct ctx *c, int i, int ch)
{
	return i >= 0 && i < c->end && is_sign(&c->t[i], ch);
}

static int
glued(const struct ctx *c, int i)
{
	return i < c->end && !(c->t[i].flags & TF_SP);
}

static int
val(const struct ctx *c, int i)
{
	return c->t[i].val;
}

static int
kflag(const struct ctx *c, int i, int flag)
{
	return i < c->end && c->t[i].type == T_WORD && (c->t[i].kf & flag);
}

/*
 * Frames
 */

static void
span(struct frame *f, int slot, int a, int b)
{
	int i, j;

	f->written |= slot;
	for (i = j = 0; i < f->nsp; i++)
		if (f->sp[i].slot != slot)
			f->sp[j++] = f->sp[i];
	f->nsp = j;
	if (f->nsp < NSPAN) {
		f->sp[f->nsp].a = a;
		f->sp[f->nsp].b = b;
		f->sp[f->nsp].slot = slot;
		f->nsp++;
	}
}

static void
unset(struct frame *f, int slot)
{
	int i, j;

	f->has &= ~slot;
	for (i = j = 0; i < f->nsp; i++)
		if (f->sp[i].slot != slot)
			f->sp[j++] = f->sp[i];
	f->nsp = j;
}

/*
 * Amounts: 2, 1.5, 1,5, два, полтора, пару, a couple of, a few, twenty
 * five, 2-3.  Stores tenths; returns the tokens used.
 */
static int
amount(struct ctx *c, int i, int *tenths)
{
	int j = i, v;

	if (num(c, i) && c->t[i].nd <= 4) {
		v = val(c, i) * 10;
		j = i + 1;
		if ((sign(c, j, '.') || sign(c, j, ',')) && glued(c, j) &&
		    num(c, j + 1) && glued(c, j + 1) && c->t[j + 1].nd == 1) {
			v += val(c, j + 1);
			j += 2;
		}
	} else if (kind(c, i) == K(NUMW)) {
		v = val(c, i);
		j = i + 1;
		if (v == 10 && kind(c, j) == K(NUMW) && val(c, j) > 10 &&
		    val(c, j) <= 30) {		/* a couple, a few */
			v = val(c, j);
			j++;
		}
		if (v >= 200 && v % 100 == 0 && kind(c, j) == K(NUMW) &&
		    val(c, j) < 100 && val(c, j) % 10 == 0) {
			v += val(c, j);
			j++;
		}
		if (kind(c, j) == K(AND) && (kind(c, j + 1) == K(HALF) ||
		    (kind(c, j + 1) == K(NUMW) && val(c, j + 1) == 10 &&
		    kind(c, j + 2) == K(HALF)))) {	/* one and a half */
			v += 5;
			j += kind(c, j + 1) == K(HALF) ? 2 : 3;
		}
		if (kind(c, j) == K(FILLER))	/* a couple of */
			j++;
	} else {
		return 0;
	}
	/* 2-3, два-три, пару-тройку, 2 or 3: the first */
	if (sign(c, j, '-') && j + 1 < c->end &&
	    (num(c, j + 1) || c->t[j + 1].type == T_WORD) &&
	    kind(c, j + 1) != K(UNIT))
		j += 2;
	else if (kind(c, j) == K(OR) && (num(c, j + 1) ||
	    kind(c, j + 1) == K(NUMW)))
		j += 2;
	*tenths = v;
	return j - i;
}

/* A unit at i (after a number at i - 1 when glued). */
static int
unit_at(const struct ctx *c, int i)
{
	if (kind(c, i) != K(UNIT))
		return 0;
	if (kflag(c, i, SL_TP_F_WEAK) && (glued(c, i) == 0 || i == 0 ||
	    c->t[i - 1].type != T_NUM))
		return 0;
	return val(c, i);
}

static int
set_rel(struct frame *f, int unit, int tenths)
{
	if (tenths <= 0 || tenths > 10000 || unit < SL_TP_U_SEC ||
	    unit > SL_TP_U_YEAR)
		return 0;
	f->rel_sec = 0;
	f->rel_days = f->rel_months = 0;
	switch (unit) {
	case SL_TP_U_SEC: f->rel_sec = tenths / 10; break;
	case SL_TP_U_MIN: f->rel_sec = (int64_t)tenths * 6; break;
	case SL_TP_U_HOUR: f->rel_sec = (int64_t)tenths * 360; break;
	case SL_TP_U_HALFHOUR: f->rel_sec = (int64_t)tenths * 180; break;
	case SL_TP_U_DAY:
	case SL_TP_U_DAY24:
		if (tenths % 10)
			f->rel_sec = (int64_t)tenths * 8640;
		else
			f->rel_days = tenths / 10;
		break;
	case SL_TP_U_WEEK: f->rel_days = tenths * 7 / 10; break;
	case SL_TP_U_FORTNIGHT: f->rel_days = tenths * 14 / 10; break;
	case SL_TP_U_MONTH:
		f->rel_months = tenths / 10;
		f->rel_days = tenths % 10 * 3;
		break;
	case SL_TP_U_QUARTER: f->rel_months = tenths * 3 / 10; break;
	case SL_TP_U_HALFYEAR: f->rel_months = tenths * 6 / 10; break;
	default: f->rel_months = tenths * 12 / 10; break;	/* years */
	}
	f->has |= H_REL;
	return 1;
}

/*
 * Patterns.  Each looks at the tokens from i, and when they match fills
 * its slot of the frame and returns the number of tokens used, else 0.
 */

/* через 2 часа, через неделю, in a couple of days, 2 weeks from now */
static int
p_offset(struct ctx *c, int i)
{
	int j = i, n, tenths = 10, u, half = 0, k = kind(c, i);

	if ((k == K(THROUGH)) || k == K(IN)) {
		j++;
		while (in(c, j, B(FILLER) | B(NEXT)))
			j++;			/* in the next 2 hours */
		if ((n = amount(c, j, &tenths)) > 0) {
			j += n;
		} else if (kind(c, j) == K(HALF)) {
			tenths = 5;
			half = 1;
			j++;
			if (kind(c, j) == K(NUMW) && val(c, j) == 10)
				j++;		/* half an hour */
		} else if (k == K(IN) && !in(c, j - 1, B(NEXT))) {
			return 0;		/* but: within the next hour */
		}
		if (!(u = unit_at(c, j)))
			return 0;
		if (k == K(IN) && kflag(c, j, SL_TP_F_LOC))
			return 0;
		j++;
		if (!half && ((kind(c, j) == K(AND) || kind(c, j) == K(S)) &&
		    (kind(c, j + 1) == K(HALF) || (kind(c, j + 1) == K(NUMW) &&
		    val(c, j + 1) == 10 && kind(c, j + 2) == K(HALF))))) {
			tenths += 5;		/* с половиной, and a half */
			j += kind(c, j + 1) == K(HALF) ? 2 : 3;
		}
		if (sign(c, j, '-') && glued(c, j) && glued(c, j + 1) &&
		    j + 1 < c->end && c->t[j + 1].type != T_PUNCT)
			j += 2;			/* неделю-две, час-полтора */
		else if (kind(c, j) == K(OR) && (kind(c, j + 1) == K(NUMW) ||
		    num(c, j + 1)))
			j += 2;			/* a day or two */
		if (!set_rel(c->f, u, tenths))
			return 0;
		span(c->f, H_REL, i, j);
		return j - i;
	}
	if ((n = amount(c, i, &tenths)) > 0)
		j = i + n;
	if (!(u = unit_at(c, j)))
		return 0;
	if (n == 0 && kflag(c, j, SL_TP_F_LOC))
		return 0;
	j++;
	k = kind(c, j);
	if (k == K(AGO)) {
		c->drop = 1;
		return j + 1 - i;
	}
	if (k == K(FROMNOW) || (k == K(THROUGH) && val(c, j) == 1)) {
		j++;
	} else if (k == K(S) && in(c, j + 1, B(NOW) | B(TODAY))) {
		j += 2;
	} else {
		return 0;
	}
	if (n == 0 && k != K(THROUGH))
		return 0;
	if (!set_rel(c->f, u, tenths))
		return 0;
	span(c->f, H_REL, i, j);
	return j - i;
}

/* сегодня, завтра, послезавтра, tonight, the day after tomorrow */
static int
p_relday(struct ctx *c, int i)
{
	int j = i, n = -1;

	if (in(c, j, B(NA) | B(DO) | B(K) | B(ON) | B(V) | B(S)) &&
	    in(c, j + 1, B(TODAY) | B(TOMORROW) | B(DAYAFTER)))
		j++;
	switch (kind(c, j)) {
	case K(TODAY):
		n = 0;
		if (val(c, j) == 1) {
			c->f->part = SL_TP_P_NIGHT;
			c->f->has |= H_PART;
			span(c->f, H_PART, j, j + 1);
		}
		break;
	case K(TOMORROW):
		n = 1;
		break;
	case K(DAYAFTER):
		n = 2;
		break;
	case K(AFTER):
		if (kind(c, j + 1) == K(TOMORROW)) {
			n = 2;
			j++;
		}
		break;
	case K(UNIT):
		if (val(c, j) == SL_TP_U_DAY && kind(c, j + 1) == K(AFTER) &&
		    kind(c, j + 2) == K(TOMORROW)) {
			n = 2;
			j += 2;
		}
		break;
	case K(YESTERDAY):
		c->drop = 1;
		return j + 1 - i;
	}
	if (n < 0)
		return 0;
	c->f->relday = n;
	c->f->has |= H_RELDAY;
	span(c->f, H_RELDAY, i, j + 1);
	return j + 1 - i;
}

/* в пятницу, в следующий вторник, в эту среду, on Friday, next Tuesday */
static int
p_wday(struct ctx *c, int i)
{
	int j = i, prep = 0, mode = WM_PLAIN, k, rec = 0;

	if (in(c, j, B(V) | B(NA) | B(K) | B(DO) | B(ON) | B(PO) | B(S) |
	    B(AFTER) | B(BEFORE) | B(AT))) {
		rec = kind(c, j) == K(PO);
		prep = 1;
		j++;
	}
	for (;;) {
		k = kind(c, j);
		if (k == K(EVERY))
			rec = 1;
		else if (k == K(THIS))
			mode = WM_THIS;
		else if (k == K(NEXT))
			mode = val(c, j) == 1 && mode == WM_PLAIN ? WM_PLAIN :
			    mode == WM_THIS ? WM_THIS : WM_NEXT;
		else if (k == K(LAST))
			c->drop = 1;
		else if (k == K(FILLER) && prep)
			;
		else
			break;
		j++;
	}
	if (kind(c, j) != K(WDAY))
		return 0;
	if (kflag(c, j, SL_TP_F_WEAK) && !prep && mode == WM_PLAIN &&
	    j == i && !num(c, j + 1) && !in(c, j + 1, B(PART) | B(AT) |
	    B(V) | B(MONTH) | B(NEXT) | B(THIS) | B(TOMORROW)) &&
	    !(in(c, j + 1, B(OR) | B(AND)) && kind(c, j + 2) == K(WDAY)))
		return 0;
	if (rec || kflag(c, j, SL_TP_F_PLURAL) || c->drop) {
		c->drop = 1;		/* по пятницам, last Friday */
		return j + 1 - i;
	}
	c->f->wday = val(c, j);
	c->f->wmode = mode;
	c->f->has |= H_WDAY;
	/* Tuesday next (but not "Tuesday next week") */
	if (kind(c, j + 1) == K(NEXT) && kind(c, j + 2) != K(UNIT)) {
		c->f->wmode = WM_NEXT;
		j++;
	}
	span(c->f, H_WDAY, i, j + 1);
	return j + 1 - i;
}

static int
days_in(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m < 1 || m > 12)
		return 0;	/* no such month: no day fits */
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int
set_date(struct ctx *c, int y, int m, int d, int a, int b)
{
	if (y && y < 100)
		y += 2000;
	if (y && (y < 1970 || y > 2200))
		return 0;
	if (m < 0 || m > 12 || d < 1 || d > (m ? days_in(y ? y : 2000, m) :
	    31))
		return 0;
	c->f->dy = y;
	c->f->dm = m;
	c->f->dd = d;
	c->f->has |= H_DATE;
	span(c->f, H_DATE, a, b);
	return b - a;
}

/* A year after a date: 2026, 2026 г., 2026 года */
static int
year_at(const struct ctx *c, int j, int *y)
{
	int k = j;

	if (sign(c, k, ','))
		k++;
	if (!num(c, k) || c->t[k].nd != 4)
		return 0;
	*y = val(c, k);
	k++;
	if (kind(c, k) == K(UNIT) && val(c, k) == SL_TP_U_YEAR) {
		k++;
		if (sign(c, k, '.') && glued(c, k))
			k++;
	}
	return k - j;
}

/* 5 декабря, 05.12, 25-го, на 25 число, on the 25th, December 5th, 12/05 */
static int
p_date(struct ctx *c, int i)
{
	int j = i, prep = 0, the = 0, d, m, y = 0, k, sfx, n;

	if (in(c, j, B(V) | B(NA) | B(K) | B(DO) | B(ON) | B(S) | B(AT) |
	    B(AFTER) | B(BEFORE))) {
		prep = kind(c, j);
		j++;
	}
	if (kind(c, j) == K(FILLER)) {
		the = 1;
		j++;
	}
	if (kind(c, j) == K(MONTH)) {		/* December 5th, Dec 5 */
		m = val(c, j);
		k = j + 1;
		if (!num(c, k) || c->t[k].nd > 2 || val(c, k) < 1 ||
		    val(c, k) > 31 || sign(c, k + 1, ':') ||
		    sign(c, k + 1, '.'))
			return 0;
		d = val(c, k++);
		if (kind(c, k) == K(DATESFX) && glued(c, k))
			k++;
		else if (sign(c, k, '-') && glued(c, k) &&
		    kind(c, k + 1) == K(DATESFX) && glued(c, k + 1))
			k += 2;			/* декабря 3-го */
		k += year_at(c, k, &y);
		return set_date(c, y, m, d, i, k);
	}
	if (!num(c, j))
		return 0;
	d = val(c, j);
	/* dd.mm, dd.mm.yyyy */
	if (sign(c, j + 1, '.') && glued(c, j + 1) && num(c, j + 2) &&
	    glued(c, j + 2) && c->t[j].nd <= 2) {
		m = val(c, j + 2);
		k = j + 3;
		if (sign(c, k, '.') && glued(c, k) && num(c, k + 1) &&
		    glued(c, k + 1) && (c->t[k + 1].nd == 2 ||
		    c->t[k + 1].nd == 4)) {
			y = val(c, k + 1);
			k += 2;
		} else if (c->t[j + 2].nd != 2) {
			return 0;
		}
		if (!y && (m > 12 || prep == K(V) || prep == K(AT) ||
		    prep == K(K) || prep == K(S) || kflag(c, k,
		    SL_TP_F_AM | SL_TP_F_PM | SL_TP_F_NIGHT) ||
		    kind(c, k) == K(AMPM) || kind(c, k) == K(PART)))
			return 0;		/* a clock: в 10.30 */
		return set_date(c, y, m, d, i, k);
	}
	/* mm/dd[/yyyy] in English */
	if (sign(c, j + 1, '/') && glued(c, j + 1) && num(c, j + 2) &&
	    glued(c, j + 2)) {
		if (!c->en)
			return 0;
		m = d;
		d = val(c, j + 2);
		k = j + 3;
		if (sign(c, k, '/') && glued(c, k) && num(c, k + 1) &&
		    glued(c, k + 1) && (c->t[k + 1].nd == 2 ||
		    c->t[k + 1].nd == 4)) {
			y = val(c, k + 1);
			k += 2;
		}
		if (!y && !prep && c->t[j].nd + c->t[j + 2].nd < 3)
			return 0;
		if (in(c, k, B(COUNT) | B(FILLER)))
			return 0;
		return set_date(c, y, m, d, i, k);
	}
	/* yyyy-mm-dd */
	if (c->t[j].nd == 4 && sign(c, j + 1, '-') && num(c, j + 2) &&
	    sign(c, j + 3, '-') && num(c, j + 4) && glued(c, j + 1) &&
	    glued(c, j + 2) && glued(c, j + 3) && glued(c, j + 4))
		return set_date(c, d, val(c, j + 2), val(c, j + 4), i, j + 5);
	if (c->t[j].nd > 2 || d < 1 || d > 31)
		return 0;
	k = j + 1;
	sfx = 0;
	if (sign(c, k, '-') && glued(c, k) && kind(c, k + 1) == K(DATESFX) &&
	    glued(c, k + 1)) {
		k += 2;
		sfx = 1;
	} else if (kind(c, k) == K(DATESFX) && !kflag(c, k, SL_TP_F_WEAK) &&
	    (glued(c, k) || !kflag(c, k, SL_TP_F_SUFFIX))) {
		sfx = kflag(c, k, SL_TP_F_SUFFIX) && !(c->t[k].flags & TF_CYR) ?
		    2 : 1;		/* 2: an English ordinal */
		k++;
	}
	if (kind(c, k) == K(FILLER) && kind(c, k + 1) == K(MONTH))
		k++;				/* 5th of December */
	if (kind(c, k) == K(MONTH)) {
		m = val(c, k++);
		n = year_at(c, k, &y);
		return set_date(c, y, m, d, i, k + n);
	}
	if (!sfx || (sfx == 2 && !prep && !the))
		return 0;
	return set_date(c, 0, 0, d, i, k);
}

/* The hour of a clock given in words: в три, at ten. */
static int
hour_word(const struct ctx *c, int i)
{
	int v;

	if (kind(c, i) != K(NUMW) || kflag(c, i, SL_TP_F_WEAK))
		return -1;
	v = val(c, i);
	return v % 10 == 0 && v >= 10 && v <= 120 ? v / 10 : -1;
}

/* am/pm or утра/дня/вечера/ночи at i: AP_*, or AP_NONE. */
static int
marker(const struct ctx *c, int i)
{
	if (kind(c, i) == K(AMPM)) {
		if (kflag(c, i, SL_TP_F_WEAK) && !glued(c, i))
			return AP_NONE;
		return val(c, i) ? AP_PM : AP_AM;
	}
	if (kflag(c, i, SL_TP_F_AM))
		return AP_AM;
	if (kflag(c, i, SL_TP_F_PM))
		return AP_PM;
	if (kflag(c, i, SL_TP_F_NIGHT))
		return AP_NIGHT;
	return AP_NONE;
}

/*
 * A clock without its preposition: 15:30, 3pm, 3 часа дня, 9 утра,
 * половина четвёртого, без четверти пять, half past three.  Fills
 * h, mi, ap, h24 and strong; returns the tokens used.
 */
static int
clock_at(const struct ctx *c, int j, int pk, int *h, int *mi, int *ap,
    int *h24, int *strong)
{
	int k = j, x, hw = 0;

	*mi = 0;
	*ap = AP_NONE;
	*h24 = 0;
	*strong = 0;
	if (num(c, j) && c->t[j].nd <= 2) {
		*h = val(c, j);
		*h24 = (c->t[j].flags & TF_LZ) || *h >= 13 || *h == 0;
		k = j + 1;
		if ((sign(c, k, ':') || sign(c, k, '.')) && glued(c, k) &&
		    num(c, k + 1) && glued(c, k + 1) && c->t[k + 1].nd == 2 &&
		    val(c, k + 1) <= 59) {
			if (sign(c, k, '.') && !pk && c->t[j].nd < 2)
				return 0;	/* 2.50 is a price */
			*mi = val(c, k + 1);
			*strong = 1;
			k += 2;
			if (sign(c, k, ':') && glued(c, k) && num(c, k + 1) &&
			    c->t[k + 1].nd == 2)
				k += 2;		/* seconds */
		} else if (pk && sign(c, k, '-') && glued(c, k) &&
		    num(c, k + 1) && glued(c, k + 1) && c->t[k + 1].nd == 2 &&
		    (val(c, k + 1) == 0 || (val(c, k + 1) >= 25 &&
		    val(c, k + 1) <= 59))) {
			*mi = val(c, k + 1);	/* в 15-00, в 9-30 */
			*strong = 1;
			k += 2;
		}
		if (*h > 24 || (*h == 24 && *mi > 0))
			return 0;
	} else if ((x = hour_word(c, j)) > 0 && pk) {
		*h = x;
		k = j + 1;
	} else if (kind(c, j) == K(UNIT) && val(c, j) == SL_TP_U_HOUR &&
	    (c->t[j].flags & TF_CYR) && (pk == K(V) || pk == K(K)) &&
	    c->t[j].len <= 8) {
		*h = 1;			/* в час, к часу */
		k = j + 1;
		hw = 1;
	} else if (kind(c, j) == K(HALFORD) || (kind(c, j) == K(HALF) &&
	    kind(c, j + 1) == K(ORDH))) {
		k = kind(c, j) == K(HALFORD) ? j + 1 : j + 2;
		*h = val(c, k - 1) - 1;
		if (*h == 0)
			*h = 12;
		*mi = 30;
		*strong = 1;
	} else if (kind(c, j) == K(WITHOUT)) {
		k = j + 1;
		if (kind(c, k) == K(QUARTER))
			x = 15;
		else if (kind(c, k) == K(NUMW))
			x = val(c, k) / 10;
		else if (num(c, k) && val(c, k) <= 30)
			x = val(c, k);
		else
			return 0;
		k++;
		if (kind(c, k) == K(UNIT) && val(c, k) == SL_TP_U_MIN)
			k++;
		if (num(c, k) && val(c, k) >= 1 && val(c, k) <= 12)
			*h = val(c, k);
		else if ((*h = hour_word(c, k)) < 0)
			return 0;
		k++;
		*h -= 1;
		if (*h == 0)
			*h = 12;
		*mi = 60 - x;
		*strong = 1;
	} else if (kind(c, j) == K(HALF) && !(c->t[j].flags & TF_CYR) && pk &&
	    ((num(c, j + 1) && val(c, j + 1) >= 1 && val(c, j + 1) <= 12 &&
	    c->t[j + 1].nd <= 2) || hour_word(c, j + 1) > 0)) {
		*h = num(c, j + 1) ? val(c, j + 1) : hour_word(c, j + 1);
		*mi = 30;		/* half five: 5:30 */
		*strong = 1;
		k = j + 2;
	} else if (in(c, j, B(HALF) | B(QUARTER)) ||
	    (kind(c, j) == K(NUMW) && val(c, j) == 10 &&
	    kind(c, j + 1) == K(QUARTER))) {
		if (kind(c, j) == K(NUMW))
			j++;
		x = kind(c, j) == K(HALF) ? 30 : 15;
		k = j + 1;
		if (kind(c, k) == K(LAST) || (kind(c, k) == K(DO) &&
		    x == 15)) {		/* half past, quarter past/to */
			int to = kind(c, k) == K(DO);

			k++;
			if (num(c, k) && val(c, k) >= 1 && val(c, k) <= 12)
				*h = val(c, k);
			else if ((*h = hour_word(c, k)) < 0)
				return 0;
			k++;
			if (to) {
				*h -= 1;
				if (*h == 0)
					*h = 12;
				*mi = 45;
			} else {
				*mi = x;
			}
			*strong = 1;
		} else {
			return 0;
		}
	} else {
		return 0;
	}
	if (kind(c, k) == K(UNIT) && val(c, k) == SL_TP_U_HOUR &&
	    (c->t[k].flags & TF_CYR) && !hw) {
		hw = 1;			/* 3 часа, 15ч */
		k++;
	} else if (kind(c, k) == K(OCLOCK)) {
		k++;
		*strong = 1;
	} else if (kind(c, k) == K(UNIT) && val(c, k) == SL_TP_U_HOUR &&
	    glued(c, k) && kflag(c, k, SL_TP_F_WEAK)) {
		*strong = 1;		/* 15h */
		k++;
	}
	if ((*ap = marker(c, k)) != AP_NONE) {
		*strong = 1;
		k++;
		if (*h > 12 && *ap != AP_PM)
			return 0;
		if (*h == 0)
			return 0;
	}
	if (hw && !*strong && !pk)
		return 0;			/* 3 часа: a duration */
	if (!*strong && !pk)
		return 0;
	return k - j;
}

/*
 * в 15:30, at 3pm, в 3 часа дня, в 9 утра, к 5, часов в 7, с 10 до 12,
 * половина четвёртого.
 */
static int
p_clock(struct ctx *c, int i)
{
	int j = i, pk = 0, h, mi, ap, h24, strong, n, k, nk, h2, m2, ap2;
	int s2, weak = 0, range = 0;

	if (kind(c, j) == K(UNIT) && val(c, j) == SL_TP_U_HOUR &&
	    in(c, j + 1, B(V) | B(NA)) && (num(c, j + 2) ||
	    hour_word(c, j + 2) > 0)) {
		j++;				/* часов в 5, часов на 11 */
		pk = K(V);
	}
	if (in(c, j, B(V) | B(AT) | B(K) | B(ABOUT) | B(S) | B(DO) |
	    B(AFTER) | B(BEFORE) | B(BETWEEN) | B(NA)) || sign(c, j, '@') ||
	    sign(c, j, '~')) {
		if (!pk)
			pk = c->t[j].type == T_WORD ? kind(c, j) : K(AT);
		j++;
		if (in(c, j, B(V) | B(ABOUT) | B(AT)))
			j++;			/* около в 5, at around 3 */
	}
	if (!(n = clock_at(c, j, pk, &h, &mi, &ap, &h24, &strong)))
		return 0;
	if (pk == K(NA) && !strong)
		return 0;			/* на 2 часа: a duration */
	k = j + n;
	/* с 10 до 12, 3-5pm, between 2 and 4 */
	if ((in(c, k, B(DO) | B(AND)) || (sign(c, k, '-') && glued(c, k))) &&
	    (nk = clock_at(c, k + 1, K(AT), &h2, &m2, &ap2, &s2, &s2)) > 0) {
		if (ap == AP_NONE && ap2 != AP_NONE && h <= 12 && h2 <= 12) {
			ap = ap2;
			strong = 1;
		}
		k += 1 + nk;
		range = 1;
	}
	if (!strong) {
		/* a bare hour after a preposition: what follows decides */
		nk = kind(c, k);
		if (k >= c->end) {
			;
		} else if (c->t[k].type == T_PUNCT) {
			if (is_sign(&c->t[k], '%') || is_sign(&c->t[k], '/') ||
			    is_sign(&c->t[k], '$') || is_sign(&c->t[k], '+') ||
			    is_sign(&c->t[k], ':'))
				return 0;
		} else if (c->t[k].type == T_NUM) {
			return 0;
		} else if (nk == K(COUNT) || nk == K(VERSION) ||
		    (nk == K(UNIT) && !kflag(c, k, SL_TP_F_PM))) {
			return 0;
		} else if ((nk == K(UNKNOWN) || nk == K(NONE)) &&
		    !kflag(c, k, SL_TP_F_OKAFTER)) {
			weak = 1;
		}
	}
	if (pk == K(S) || (range && !strong) || (pk == K(DO) && !strong) ||
	    (pk == K(BETWEEN) && !strong))
		weak = 1;		/* с 9 до 18 may be opening hours */
	c->f->hh = h;
	c->f->mi = mi;
	c->f->ampm = ap;
	c->f->h24 = h24;
	c->f->weak = weak;
	c->f->has |= H_CLOCK;
	span(c->f, H_CLOCK, i, k);
	return k - i;
}

/* в конце недели, на следующей неделе, next month, mid December */
static int
p_period(struct ctx *c, int i)
{
	int j = i, pk = 0, part = 0, which = 0, explicit = 0, k, u, y = 0;
	int pkind, pmon = 0;
	struct frame *f = c->f;

	if (in(c, j, B(V) | B(NA) | B(K) | B(DO) | B(IN) | B(ON) | B(AT) |
	    B(AFTER) | B(S) | B(PO))) {
		pk = kind(c, j);
		j++;
	} else if (kind(c, j) == K(ABOUT) && kind(c, j + 1) == K(K)) {
		pk = K(K);		/* ближе к */
		j += 2;
	}
	if (kind(c, j) == K(FROMNOW))		/* later this week */
		j++;
	if (kind(c, j) == K(FILLER))
		j++;
	if (kind(c, j) == K(PPART)) {
		part = val(c, j);
		j++;
		if (sign(c, j, '-') && glued(c, j))
			j++;			/* mid-December */
		while (kind(c, j) == K(FILLER))
			j++;
	}
	if (part && (f->has & H_PERIOD) && !f->ppart &&
	    f->pkind != PK_WEEKEND && !in(c, j, B(THIS) | B(NEXT) | B(LAST) |
	    B(UNIT) | B(MONTH) | B(WEEKEND) | B(QUARTER))) {
		f->ppart = part;	/* в следующем месяце, ближе к середине */
		span(f, H_PERIOD, i, j);
		return j - i;
	}
	k = kind(c, j);
	if (k == K(THIS)) {
		explicit = 1;
		j++;
		if (kind(c, j) == K(NEXT) && val(c, j) == 1)
			j++;		/* this coming weekend */
	} else if (k == K(NEXT)) {
		explicit = 1;
		/* "coming" is the nearest: the coming weekend is this one */
		which = val(c, j) == 1 && kind(c, j + 1) == K(WEEKEND) ? 0 : 1;
		j++;
	} else if (k == K(LAST)) {
		c->drop = 1;
		explicit = 1;
		j++;
	}
	k = kind(c, j);
	if (k == K(UNIT) || (k == K(QUARTER) && (explicit || part))) {
		u = k == K(QUARTER) ? SL_TP_U_QUARTER : val(c, j);
		if (u == SL_TP_U_DAY && part && !explicit && !c->drop) {
			/* в конце дня, end of the day, в начале дня */
			f->part = part == SL_TP_PP_END ? SL_TP_P_EOD :
			    part == SL_TP_PP_START ? SL_TP_P_MORNING :
			    SL_TP_P_NOON;
			f->has |= H_PART;
			span(f, H_PART, i, j + 1);
			return j + 1 - i;
		}
		if (u != SL_TP_U_WEEK && u != SL_TP_U_MONTH &&
		    u != SL_TP_U_QUARTER && u != SL_TP_U_YEAR)
			return 0;
		j++;
		if (kind(c, j) == K(AFTER) && kind(c, j + 1) == K(NEXT)) {
			which = 2;		/* the week after next */
			explicit = 1;
			j += 2;
		}
		if (!part && !explicit && !(pk == K(NA) &&
		    kflag(c, j - 1, SL_TP_F_LOC) && u == SL_TP_U_WEEK))
			return 0;
		pkind = u;
	} else if (k == K(WEEKEND)) {
		if (!pk && !part && !explicit)
			return 0;
		if (kflag(c, j, SL_TP_F_PLURAL) && !explicit) {
			c->drop = 1;
			return j + 1 - i;
		}
		j++;
		if (pk == K(AFTER)) {
			pkind = SL_TP_U_WEEK;
			which++;
			part = 0;
		} else {
			pkind = PK_WEEKEND;
		}
	} else if (k == K(MONTH)) {
		if (!pk && !part && !explicit)
			return 0;
		if (kflag(c, j, SL_TP_F_WEAK) && !part && !explicit &&
		    !(c->t[j].flags & TF_CAP))
			return 0;
		if (pk == K(PO) || pk == K(S))
			return 0;
		pkind = PK_MONTHNAMED;
		pmon = val(c, j);
		j++;
		j += year_at(c, j, &y);
	} else if (k == K(EOX)) {
		u = val(c, j);
		j++;
		if (u == SL_TP_U_DAY) {
			f->part = SL_TP_P_EOD;
			f->has |= H_PART;
			span(f, H_PART, i, j);
			return j - i;
		}
		pkind = u;
		part = SL_TP_PP_END;
	} else {
		return 0;
	}
	if (c->drop)
		return j - i;		/* last week: nothing to write */
	f->pkind = pkind;
	f->pmon = pmon;
	f->pwhich = which;
	f->ppart = part;
	f->pyear = y;
	f->has |= H_PERIOD;
	span(f, H_PERIOD, i, j);
	return j - i;
}

/* утром, после обеда, вечером, tonight, in the morning, at noon */
static int
p_part(struct ctx *c, int i)
{
	int j = i, pk = 0, p, this = 0, about = 0;
	struct frame *f = c->f;

	if (kind(c, j) == K(GOOD) && (kind(c, j + 1) == K(PART) ||
	    (kind(c, j + 1) == K(UNIT) && val(c, j + 1) == SL_TP_U_DAY))) {
		c->drop = 1;			/* добрый вечер, good morning */
		return 2;
	}
	while (in(c, j, B(V) | B(S) | B(K) | B(DO) | B(AFTER) | B(BEFORE) |
	    B(IN) | B(AT) | B(THIS) | B(ON) | B(ABOUT) | B(NA) | B(FILLER))) {
		if (kind(c, j) == K(THIS))
			this = 1;
		else if (kind(c, j) == K(ABOUT))
			about = 1;
		else if (kind(c, j) != K(FILLER))
			pk = kind(c, j);
		j++;
		if (j - i > 3)
			return 0;
	}
	if (kind(c, j) == K(PPART) && val(c, j) == SL_TP_PP_START &&
	    kind(c, j + 1) == K(PART) && val(c, j + 1) == SL_TP_P_MORNING) {
		p = SL_TP_P_EARLY;		/* рано утром, early morning */
		j += 2;
	} else if (kind(c, j) == K(FIRST) && kind(c, j + 1) == K(FILLER)) {
		p = SL_TP_P_EARLY;		/* first thing (in the morning) */
		j += 2;
		if (kind(c, j) == K(IN) && kind(c, j + 1) == K(FILLER) &&
		    kind(c, j + 2) == K(PART) &&
		    val(c, j + 2) == SL_TP_P_MORNING)
			j += 3;
	} else if (kind(c, j) == K(DAYHALF) && kind(c, j + 1) == K(HALF) &&
	    kind(c, j + 2) == K(UNIT) && val(c, j + 2) == SL_TP_U_DAY) {
		p = val(c, j) == 1 ? SL_TP_P_MORNING : SL_TP_P_AFTERNOON;
		j += 3;
	} else if (kind(c, j) == K(PART)) {
		p = val(c, j);
		if (kflag(c, j, SL_TP_F_WEAK) && !pk && !this && !about &&
		    !in(c, j - 1, B(TODAY) | B(TOMORROW) | B(DAYAFTER) |
		    B(WDAY)))
			return 0;
		if (kflag(c, j, SL_TP_F_PLURAL)) {
			c->drop = 1;
			return j + 1 - i;
		}
		if (p == SL_TP_P_LUNCH && pk == K(AFTER))
			p = SL_TP_P_AFTERLUNCH;
		else if (p == SL_TP_P_LUNCH && (pk == K(BEFORE) ||
		    pk == K(DO)))
			p = SL_TP_P_BEFORELUNCH;
		else if (p == SL_TP_P_NOON && pk == K(AFTER))
			p = SL_TP_P_AFTERNOON;
		else if (p == SL_TP_P_NOON && pk == K(BEFORE))
			p = SL_TP_P_BEFORELUNCH;
		j++;
	} else {
		return 0;
	}
	f->part = p;
	f->has |= H_PART;
	span(f, H_PART, i, j);
	if (this) {
		f->relday = 0;
		f->has |= H_RELDAY;
	}
	return j - i;
}

/* по мск, по московскому времени, GMT+3, UTC-5, 3pm EST, Moscow time */
static int
p_zone(struct ctx *c, int i)
{
	const struct sl_tp_zone *zt;
	const struct sl_zone *z;
	int j = i, po = 0, tw, k, off, hh, mm = 0, sg;
	char name[16];

	if (kind(c, j) == K(PO)) {
		po = 1;
		j++;
		if (sign(c, j, '-') && glued(c, j))
			j++;
	} else if (in(c, j, B(IN) | B(AT)) && kind(c, j + 1) == K(ZONE)) {
		j++;
	}
	if (kind(c, j) != K(ZONE) || !(zt = sl_tp_zone(val(c, j))))
		return 0;
	tw = kind(c, j + 1) == K(TIMEWORD);
	if (kflag(c, j, SL_TP_F_NEEDCTX) && !po && !tw)
		return 0;
	if (!kflag(c, j, SL_TP_F_NEEDCTX) && !po && !tw &&
	    !(c->t[j].flags & TF_UPPER) && !(c->f->has & H_CLOCK) &&
	    !(sign(c, j + 1, '+') || sign(c, j + 1, '-')))
		return 0;
	if (kflag(c, j, SL_TP_F_WEAK) && !(c->t[j].flags & TF_UPPER))
		return 0;
	k = j + 1;
	off = zt->base;
	if (zt->fixed && (sign(c, k, '+') || sign(c, k, '-')) &&
	    k + 1 < c->end && c->t[k + 1].type == T_NUM &&
	    c->t[k + 1].nd <= 2 && val(c, k + 1) <= 14) {
		sg = sign(c, k, '-') ? -1 : 1;
		hh = val(c, k + 1);
		k += 2;
		if (sign(c, k, ':') && glued(c, k) && k + 1 < c->end &&
		    c->t[k + 1].type == T_NUM && c->t[k + 1].nd == 2 &&
		    val(c, k + 1) < 60) {
			mm = val(c, k + 1);
			k += 2;
		}
		off += sg * (hh * 60 + mm);
		if (off < -14 * 60 || off > 14 * 60)
			return 0;
		sg = off < 0 ? -off : off;
		if (sg % 60)
			snprintf(name, sizeof name, "UTC%c%d:%02d",
			    off < 0 ? '-' : '+', sg / 60, sg % 60);
		else if (sg)
			snprintf(name, sizeof name, "UTC%c%d",
			    off < 0 ? '-' : '+', sg / 60);
		else
			snprintf(name, sizeof name, "UTC");
		z = sl_zone_load(name);
	} else {
		z = sl_zone_load(zt->name);
	}
	if (kind(c, k) == K(TIMEWORD))
		k++;
	if (!z)
		return k - i;
	c->f->zone = z;
	c->f->has |= H_ZONE;
	span(c->f, H_ZONE, i, k);
	return k - i;
}

/*
 * "во вторник или в среду после обеда": what the second option says
 * again (the day) is dropped, what it adds (after lunch) stays.
 */
static void
keep_first(struct frame *f, const struct frame *save)
{
	struct frame x = *f;
	int drop = x.written & save->has, i;

	if (drop & H_DAYISH)
		drop |= x.written & H_DAYISH;
	*f = *save;
	f->has |= x.has & ~drop;
	for (i = 0; i < x.nsp; i++)
		if ((x.sp[i].slot & x.written & ~drop) && f->nsp < NSPAN)
			f->sp[f->nsp++] = x.sp[i];
	if ((x.written & ~drop) & H_CLOCK) {
		f->hh = x.hh;
		f->mi = x.mi;
		f->ampm = x.ampm;
		f->h24 = x.h24;
		f->weak = x.weak;
	}
	if ((x.written & ~drop) & H_PART)
		f->part = x.part;
	if ((x.written & ~drop) & H_ZONE)
		f->zone = x.zone;
}

static void
parse_clause(struct ctx *c, int a, int b, struct frame *f)
{
	struct frame save;
	int i, n, neg, prefer, alt;

	memset(f, 0, sizeof *f);
	c->f = f;
	c->end = b;
	for (i = a; i < b;) {
		if (c->t[i].type == T_PUNCT ||
		    (c->t[i].type == T_WORD && c->t[i].kind <= K(NONE))) {
			i++;
			continue;
		}
		neg = i > a && kind(c, i - 1) == K(NOT);
		alt = i > a && kind(c, i - 1) == K(OR);
		prefer = i > a && (kind(c, i - 1) == K(PREFER) ||
		    (i > a + 1 && kind(c, i - 2) == K(PREFER) &&
		    kind(c, i - 1) == K(NONE)));
		/* patterns write nothing when they fail or drop (c->drop) */
		if (neg || alt || f->locked)
			save = *f;
		c->drop = 0;
		f->written = 0;
		if (!(n = p_offset(c, i)) && !(n = p_relday(c, i)) &&
		    !(n = p_date(c, i)) && !(n = p_clock(c, i)) &&
		    !(n = p_wday(c, i)) && !(n = p_period(c, i)) &&
		    !(n = p_part(c, i)) && !(n = p_zone(c, i))) {
			i++;
			continue;
		}
		if (c->drop) {
			;
		} else if (alt && (f->written & save.has & ~H_ZONE)) {
			keep_first(f, &save);
		} else if (neg || (f->written & f->locked)) {
			*f = save;	/* f->locked is save.locked */
		}
		else if (prefer)
			f->locked |= f->written;
		i += n;
	}
	if ((f->has & H_CLOCK) && f->weak && !(f->has & (H_DAYISH | H_PART)))
		unset(f, H_CLOCK);
}

/*
 * 1 when token i starts an alternative within a sentence: "если не",
 * "if not", "otherwise", "иначе", or "или"/"or" after a comma or dash.
 */
static int
starts_alternative(const struct tok *t, int i, int n)
{
	if (t[i].type != T_WORD)
		return 0;
	if (t[i].kind == K(OTHERWISE))
		return 1;
	if (t[i].kind == K(IF) && i + 1 < n && t[i + 1].type == T_WORD &&
	    t[i + 1].kind == K(NOT))
		return 1;
	return t[i].kind == K(OR) && i > 0 && (is_sign(&t[i - 1], ',') ||
	    is_sign(&t[i - 1], '-'));
}

/* 1 when the clause starts with "или", "если нет", "otherwise", "or". */
static int
alternative(const struct ctx *c, int a, int b)
{
	int i = a;

	while (i < b && (c->t[i].type == T_PUNCT || (c->t[i].type ==
	    T_WORD && c->t[i].kind == K(NONE) && c->t[i].len <= 2)))
		i++;			/* "а если нет" */
	if (i >= b || c->t[i].type != T_WORD)
		return 0;
	if (c->t[i].kind == K(OR) || c->t[i].kind == K(OTHERWISE))
		return 1;
	return c->t[i].kind == K(IF) && i + 1 < b &&
	    c->t[i + 1].type == T_WORD && c->t[i + 1].kind == K(NOT);
}

static void
merge(struct frame *to, const struct frame *from)
{
	int i;

	to->has |= from->has & H_TOD;
	to->hh = from->hh;
	to->mi = from->mi;
	to->ampm = from->ampm;
	to->h24 = from->h24;
	to->part = from->part;
	for (i = 0; i < from->nsp && to->nsp < NSPAN; i++)
		if (from->sp[i].slot & H_TOD)
			to->sp[to->nsp++] = from->sp[i];
}

/* Reads the clauses; the chosen frame goes to *best.  0 when none. */
static int
parse(struct ctx *c, struct frame *best)
{
	struct frame f;
	const struct sl_zone *zone = NULL;
	int a, b, found = 0, last = -2, k = 0, zs = 0, za = 0, zb = 0;

	for (a = 0; a < c->n; a = b + (b < c->n && is_sign(&c->t[b], '|')),
	    k++) {
		for (b = a; b < c->n && !is_sign(&c->t[b], '|') &&
		    !(b > a && starts_alternative(c->t, b, c->n)); b++)
			;
		if (b == a)
			continue;
		parse_clause(c, a, b, &f);
		if (f.has & H_ZONE) {
			int i;

			zone = f.zone;
			for (i = 0; i < f.nsp; i++)
				if (f.sp[i].slot == H_ZONE) {
					za = f.sp[i].a;
					zb = f.sp[i].b;
					zs = 1;
				}
		}
		if (!(f.has & H_TIME))
			continue;
		if (found && alternative(c, a, b))
			continue;
		if (found && last == k - 1 && (((best->has & H_DAYISH) &&
		    !(best->has & H_TOD) && !(f.has & H_DAYISH)) ||
		    (!(best->has & H_DAYISH) && (best->has & H_TOD) &&
		    !(f.has & (H_TOD | H_REL))))) {
			if (f.has & H_TOD) {
				merge(best, &f);
			} else {
				struct frame tod = *best;

				*best = f;
				merge(best, &tod);
			}
		} else {
			*best = f;
		}
		found = 1;
		last = k;
	}
	if (found && !(best->has & H_ZONE) && zone) {
		best->zone = zone;
		best->has |= H_ZONE;
		if (zs && best->nsp < NSPAN) {
			best->sp[best->nsp].a = za;
			best->sp[best->nsp].b = zb;
			best->sp[best->nsp].slot = H_ZONE;
			best->nsp++;
		}
	}
	return found;
}

/*
 * Resolution: the frame as an instant.
 */

static int
wday_of(int64_t day)
{
	return (int)(((day + 4) % 7 + 7) % 7);
}

static int
workday(int64_t day)
{
	int w = wday_of(day), y, m, d;

	if (w == 0 || w == 6)
		return 0;
	sl_civil_from_days(day, &y, &m, &d);
	return !(m == 1 && d == 1);
}

/* Local midnight of day plus tod seconds, in z. */
static int
mk(int64_t day, int tod, const struct sl_zone *z, int64_t *at)
{
	struct sl_tm tm;

	memset(&tm, 0, sizeof tm);
	sl_civil_from_days(day, &tm.year, &tm.mon, &tm.mday);
	tm.hour = tod / 3600;
	tm.min = tod / 60 % 60;
	tm.sec = tod % 60;
	return sl_from_local(&tm, z, at);
}

static int64_t
month_start(int y, int m)
{
	while (m > 12) {
		m -= 12;
		y++;
	}
	while (m < 1) {
		m += 12;
		y--;
	}
	return sl_days_from_civil(y, m, 1);
}

static const int part_time[] = {
	[SL_TP_P_MORNING] = 10 * 3600, [SL_TP_P_EARLY] = 9 * 3600,
	[SL_TP_P_NOON] = 12 * 3600, [SL_TP_P_LUNCH] = 13 * 3600,
	[SL_TP_P_BEFORELUNCH] = 11 * 3600,
	[SL_TP_P_AFTERLUNCH] = 15 * 3600, [SL_TP_P_AFTERNOON] = 15 * 3600,
	[SL_TP_P_EOD] = 18 * 3600, [SL_TP_P_EVENING] = 19 * 3600,
	[SL_TP_P_NIGHT] = 20 * 3600, [SL_TP_P_MIDNIGHT] = 24 * 3600,
};

/* The time of day in seconds, or -1 when the frame has none. */
static int
time_of_day(const struct frame *f)
{
	int h = f->hh;

	if (f->has & H_CLOCK) {
		switch (f->ampm) {
		case AP_AM:
			if (h == 12)
				h = 0;
			break;
		case AP_PM:
			if (h < 12)
				h += 12;
			break;
		case AP_NIGHT:
			if (h == 12)
				h = 24;
			else if (h >= 6 && h < 12)
				h += 12;
			break;
		default:
			if (!(f->has & H_PART)) {
				if (!f->h24 && h >= 1 && h <= 7)
					h += 12;
				break;
			}
			switch (f->part) {
			case SL_TP_P_MORNING:
			case SL_TP_P_EARLY:
			case SL_TP_P_BEFORELUNCH:
				break;
			case SL_TP_P_NIGHT:
				if (h == 12)
					h = 24;
				else if (h >= 6 && h < 12)
					h += 12;
				break;
			case SL_TP_P_MIDNIGHT:
				break;
			default:
				if (h < 12)
					h += 12;
			}
		}
		return h * 3600 + f->mi * 60;
	}
	if (f->has & H_PART)
		return part_time[f->part];
	return -1;
}

/* First and last day of a period, which = 0 this, 1 next, ... */
static int
period_days(const struct frame *f, const struct sl_tm *L, int64_t today,
    int which, int64_t *first, int64_t *last)
{
	int64_t mon = today - (wday_of(today) + 6) % 7 + 7 * which;
	int y, m;

	switch (f->pkind) {
	case SL_TP_U_WEEK:
		*first = mon;
		*last = mon + 6;
		return 0;
	case PK_WEEKEND:
		*first = mon + 5;
		*last = mon + 6;
		return 0;
	case SL_TP_U_MONTH:
		*first = month_start(L->year, L->mon + which);
		*last = month_start(L->year, L->mon + which + 1) - 1;
		return 0;
	case SL_TP_U_QUARTER:
		m = (L->mon - 1) / 3 * 3 + 1 + 3 * which;
		*first = month_start(L->year, m);
		*last = month_start(L->year, m + 3) - 1;
		return 0;
	case SL_TP_U_YEAR:
		*first = sl_days_from_civil(L->year + which, 1, 1);
		*last = sl_days_from_civil(L->year + which, 12, 31);
		return 0;
	case PK_MONTHNAMED:
		y = f->pyear ? f->pyear : L->year;
		if (!f->pyear && (f->pmon < L->mon || (f->pwhich &&
		    f->pmon == L->mon)))
			y++;
		*first = month_start(y + (f->pyear ? 0 : which), f->pmon);
		*last = month_start(y + (f->pyear ? 0 : which),
		    f->pmon + 1) - 1;
		return 0;
	}
	return -1;
}

/* A vague period: its first working day at 10:00 still ahead, or for
 * "the end of" its last working day at 17:00. */
static int
resolve_period(const struct frame *f, const struct sl_tm *L, int64_t today,
    int nowsec, int tod, const struct sl_zone *z, int64_t *at)
{
	int64_t first, last, a, b, d;
	int which, tries;

	which = f->pkind == PK_MONTHNAMED ? 0 : f->pwhich;
	for (tries = 0; tries < 3; tries++, which++) {
		if (period_days(f, L, today, which, &first, &last) < 0)
			return -1;
		if (f->pkind == PK_MONTHNAMED && f->pyear && tries > 0)
			return -1;
		if (f->ppart == SL_TP_PP_END) {
			d = last;
			while (d > first && (f->pkind == PK_WEEKEND ? 0 :
			    !workday(d)))
				d--;
			if (d > today || (d == today && (tod < 0 ? 17 * 3600 :
			    tod) > nowsec))
				return mk(d, tod < 0 ? 17 * 3600 : tod, z, at);
			continue;
		}
		a = first;
		b = last;
		if (f->ppart == SL_TP_PP_START) {
			b = first + (f->pkind == SL_TP_U_WEEK ? 1 :
			    f->pkind == SL_TP_U_YEAR ? 30 : 9);
		} else if (f->ppart == SL_TP_PP_MID) {
			if (f->pkind == SL_TP_U_WEEK) {
				a = first + 2;
				b = first + 3;
			} else if (f->pkind == SL_TP_U_YEAR) {
				a = first + 181;
				b = a + 14;
			} else if (f->pkind == SL_TP_U_QUARTER) {
				a = first + 44;
				b = a + 5;
			} else {
				a = first + 14;
				b = first + 19;
			}
		}
		if (b > last)
			b = last;
		if (tod < 0)
			tod = 10 * 3600;
		for (d = a > today ? a : today; d <= b; d++) {
			if (f->pkind != PK_WEEKEND && !workday(d))
				continue;
			if (d == today && tod <= nowsec)
				continue;
			return mk(d, tod, z, at);
		}
	}
	return -1;
}

static int
resolve(const struct frame *f, int64_t now, const struct sl_zone *z,
    int64_t *at)
{
	struct sl_tm L;
	int64_t today, day, first;
	int tod, nowsec, y, m, d, w, delta, i;

	if (sl_to_local(now, z, &L) < 0)
		return -1;
	today = sl_days_from_civil(L.year, L.mon, L.mday);
	nowsec = L.hour * 3600 + L.min * 60 + L.sec;
	tod = time_of_day(f);
	if (f->has & H_REL) {
		if (f->rel_sec && !f->rel_days && !f->rel_months) {
			*at = now + f->rel_sec;
			return 0;
		}
		y = L.year;
		m = L.mon + f->rel_months;
		while (m > 12) {
			m -= 12;
			y++;
		}
		while (m < 1) {
			m += 12;
			y--;
		}
		d = L.mday < days_in(y, m) ? L.mday : days_in(y, m);
		day = sl_days_from_civil(y, m, d) + f->rel_days;
		if (mk(day, tod < 0 ? nowsec : tod, z, at) < 0)
			return -1;
		*at += f->rel_sec;
		return 0;
	}
	if (f->has & H_DATE) {
		d = f->dd;
		m = f->dm;
		y = f->dy;
		if (!m && (f->has & H_PERIOD) && f->pkind == PK_MONTHNAMED)
			m = f->pmon;
		if (y) {
			if (d > days_in(y, m))
				return -1;
		} else if (m) {
			y = L.year;
			if (m < L.mon || (m == L.mon && d < L.mday))
				y++;
			for (i = 0; i < 8 && d > days_in(y, m); i++)
				y++;
			if (d > days_in(y, m))
				return -1;
		} else {
			y = L.year;
			m = L.mon;
			if (d < L.mday)
				m++;
			for (i = 0; i < 13; i++, m++) {
				if (m > 12) {
					m = 1;
					y++;
				}
				if (d <= days_in(y, m))
					break;
			}
		}
		day = sl_days_from_civil(y, m, d);
	} else if (f->has & H_WDAY) {
		w = f->wday;
		first = today - (L.wday + 6) % 7;	/* this Monday */
		if ((f->has & H_PERIOD) && f->pkind == SL_TP_U_WEEK) {
			day = first + 7 * f->pwhich + (w + 6) % 7;
			if (day < today)
				day += 7;
		} else if (f->wmode == WM_NEXT) {
			day = first + 7 + (w + 6) % 7;
		} else {
			delta = (w - L.wday + 7) % 7;
			if (delta == 0 && f->wmode == WM_PLAIN)
				delta = 7;
			day = today + delta;
		}
	} else if (f->has & H_RELDAY) {
		day = today + f->relday;
	} else if (f->has & H_PERIOD) {
		return resolve_period(f, &L, today, nowsec, tod, z, at);
	} else {
		if (tod < 0)
			return -1;
		day = today;
		if (tod <= nowsec)
			day++;
		return mk(day, tod, z, at);
	}
	if (day == today) {
		if (tod < 0) {
			if (10 * 3600 > nowsec)
				return mk(day, 10 * 3600, z, at);
			*at = now + 3600;	/* "today": in an hour */
			return 0;
		}
		/* сегодня в 9, said in the afternoon: 21:00 */
		if ((f->has & H_CLOCK) && !(f->has & H_PART) &&
		    f->ampm == AP_NONE && !f->h24 && tod <= nowsec &&
		    f->hh >= 8 && f->hh <= 11 && tod + 12 * 3600 > nowsec)
			tod += 12 * 3600;
	}
	return mk(day, tod < 0 ? 10 * 3600 : tod, z, at);
}

/*
 * The API
 */

static int
gap_is_blank(const char *s, size_t a, size_t b)
{
	size_t i;
	unsigned char c;

	for (i = a; i < b; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			return 0;
	}
	return 1;
}

static void
spans(struct ctx *c, const struct frame *f, struct sl_tp_result *res)
{
	size_t a[NSPAN], b[NSPAN], ta, tb;
	int i, j, n = 0;

	for (i = 0; i < f->nsp; i++) {
		if (f->sp[i].b <= f->sp[i].a)
			continue;
		ta = c->t[f->sp[i].a].off;
		tb = c->t[f->sp[i].b - 1].off + c->t[f->sp[i].b - 1].len;
		for (j = n; j > 0 && a[j - 1] > ta; j--) {
			a[j] = a[j - 1];
			b[j] = b[j - 1];
		}
		a[j] = ta;
		b[j] = tb;
		n++;
	}
	res->nspans = 0;
	for (i = 0; i < n; i++) {
		j = res->nspans;
		if (j > 0 && a[i] <= res->span[j - 1].off +
		    res->span[j - 1].len + 8 && gap_is_blank(c->s,
		    res->span[j - 1].off + res->span[j - 1].len, a[i])) {
			if (b[i] > res->span[j - 1].off + res->span[j - 1].len)
				res->span[j - 1].len = b[i] -
				    res->span[j - 1].off;
			continue;
		}
		if (j > 0 && a[i] < res->span[j - 1].off +
		    res->span[j - 1].len) {
			if (b[i] > res->span[j - 1].off + res->span[j - 1].len)
				res->span[j - 1].len = b[i] -
				    res->span[j - 1].off;
			continue;
		}
		if (j == SL_TP_SPANS)
			break;
		res->span[j].off = a[i];
		res->span[j].len = b[i] - a[i];
		res->nspans++;
	}
}

int
sl_timeparse(const char *text, size_t len, int64_t now,
    const struct sl_zone *z, struct sl_tp_result *res)
{
	struct tok t[SL_TP_TOKENS_MAX];
	struct frame f;
	struct ctx c;
	int ncyr = 0, nlat = 0;

	memset(res, 0, sizeof *res);
	res->lang = "en";
	res->zone = z;
	if (!z || now < SL_TIME_MIN || now > SL_TIME_MAX)
		return -1;
	if (!text)
		len = 0;
	if (len > SL_TP_SCAN_MAX)
		len = SL_TP_SCAN_MAX;
	sl_tp_init();
	memset(&c, 0, sizeof c);
	c.s = text;
	c.t = t;
	c.n = tokenize((const unsigned char *)text, len, t, SL_TP_TOKENS_MAX,
	    &ncyr, &nlat);
	mark(t, c.n);
	c.en = ncyr <= nlat;
	res->lang = c.en ? "en" : "ru";
	if (!parse(&c, &f))
		return 0;
	if (f.has & H_ZONE) {
		res->zone = f.zone;
		res->zone_named = 1;
	}
	if (resolve(&f, now, res->zone, &res->at) < 0 ||
	    res->at < SL_TIME_MIN || res->at > SL_TIME_MAX) {
		res->at = 0;
		res->zone = z;
		res->zone_named = 0;
		return 0;
	}
	res->found = 1;
	spans(&c, &f, res);
	return 1;
}

size_t
sl_timeparse_match(const char *text, const struct sl_tp_result *res,
    char *buf, size_t size)
{
	size_t n = 0, k;
	int i;

	if (size)
		buf[0] = '\0';
	if (!res->found)
		return 0;
	for (i = 0; i < res->nspans; i++) {
		if (i > 0) {
			if (n + 1 < size)
				buf[n] = ' ';
			n++;
		}
		for (k = 0; k < res->span[i].len; k++, n++)
			if (n + 1 < size)
				buf[n] = text[res->span[i].off + k];
	}
	if (size)
		buf[n < size ? n : size - 1] = '\0';
	return n;
}
