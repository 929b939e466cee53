/*
 * tone.h: the tone-of-voice linter.  Every reply to a prospect, whoever
 * wrote it, is checked against the company's rules before it is sent, and
 * score-conv counts the same violations in a transcript.
 *
 * The rules, by name (the "rule" of a violation):
 *
 *   sentences       error    more than max_sentences sentences
 *   length          error    more than max_chars characters (code points;
 *                            a byte that is no UTF-8 counts one)
 *   em_dash         error*   an em dash (U+2014, U+2015), or an en dash
 *                            (U+2013) used as a dash: anywhere but between
 *                            two numbers (10–12 is a range and stays)
 *   ty_form         error    an informal ты-form (ты, тебя, тебе, тобой,
 *                            тобою, твой, твоя, твоё, твои, твоего, твоей,
 *                            твоему, твоём, твоим, твоих, твоими, твою):
 *                            whole words, any case, ё or е
 *   vy_lowercase    warning* вы, вас, вам, вами, ваш, ваша, ваше, ваши, вашу
 *                            and the other forms of ваш, written in lower
 *                            case: one prospect is addressed as Вы, Вас,
 *                            Ваш (a warning, since a group is «вы»)
 *   language        error    the reply is mostly in the other script:
 *                            more Latin than Cyrillic words when lang is
 *                            "ru", the reverse when it is "en" (a word is
 *                            of the script of most of its letters, the
 *                            part after a hyphen is no new word; a tie is
 *                            no violation, so "Ок, Zoom" passes)
 *   questions       error    more than max_questions questions (a run of
 *                            marks such as "?!" or "??" is one)
 *   emoji           error*   more than max_emoji emoji, or two emoji in a
 *                            row (a ZWJ sequence, a flag, a keycap or an
 *                            emoji with its modifiers is one emoji)
 *   pressure        error    a pressure phrase of the rules
 *   invented_price  error    an amount of money that is not among the
 *                            allowed prices
 *   whitespace      warning* white space at either end, two spaces in a
 *                            row, spaces at the end of a line, more than
 *                            one empty line
 *   control         error*   a control character (C0 but tab, line feed
 *                            and carriage return; DEL; C1) or an invisible
 *                            format character (the bidirectional marks,
 *                            embeddings, overrides and isolates U+200E,
 *                            U+200F, U+061C, U+202A-202E, U+2066-2069; the
 *                            byte order mark; the line and paragraph
 *                            separators U+2028, U+2029; an ANSI escape
 *                            sequence is one): an escape or a
 *                            right-to-left override must not reach a
 *                            prospect
 *
 * (* fixable: sl_tone_fix removes the violation.)
 *
 * Words are runs of Latin or Cyrillic letters and digits, compared in lower
 * case with ё as е; URLs (http://, https://, www.) and e-mail addresses are
 * read as one word, so their dots, question marks and letters count for
 * nothing.  Sentences end at . ! ? … and runs of them; a full stop or an
 * ellipsis ends one only before a space and something other than a lower
 * case letter, and not after an abbreviation that never ends a sentence
 * (т.е., напр., см., e.g., i.e., Mr., Dr., ...), an initial or a list
 * number, so "1.5", "10:30", "т.е. мы", "45 тыс. рублей" and
 * "example.com/a.b" end nothing.  A line break ends a sentence unless the
 * line ends with , : ; ( or a dash.
 *
 * Money is a number ("45000", "45 000", "1,200", "1.5", "2 500 000")
 * with a currency before it ($ € £ ₽ USD EUR RUB) or after it (₽, руб.,
 * рублей, р., $, €, USD, EUR, евро, долларов, dollars, ...), perhaps with a
 * multiplier (тыс., тысяч, млн, миллионов, k, thousand, million, ...).  A
 * number with an abbreviated multiplier (тыс., млн, млрд, 45k) and no
 * currency is money too, unless a lower-case word follows ("10 тыс.
 * пользователей").  In a range ("45-60 тыс. ₽", "от 45 000 до 60 000 ₽")
 * both ends are money and the first takes the multiplier of the second.
 * Amounts are compared as numbers, normalised as in "45000", "1200",
 * "12.5" (the currency is not part of the amount); an allowed price may be
 * written in any of the forms above ("45 000 ₽" and "45k" both allow
 * 45000).
 *
 * Checking allocates nothing for a text of up to 2 KB (the result array of
 * sl_tone_check aside) and reads the text in a few linear passes; only
 * the first 16 MiB of a text are read.
 */
#ifndef SL_TONE_H
#define SL_TONE_H

#include <stddef.h>

#include <jv.h>

enum sl_tone_rule {
	SL_TONE_SENTENCES,
	SL_TONE_LENGTH,
	SL_TONE_EM_DASH,
	SL_TONE_TY_FORM,
	SL_TONE_VY_LOWERCASE,
	SL_TONE_LANGUAGE,
	SL_TONE_QUESTIONS,
	SL_TONE_EMOJI,
	SL_TONE_PRESSURE,
	SL_TONE_INVENTED_PRICE,
	SL_TONE_WHITESPACE,
	SL_TONE_CONTROL,
	SL_TONE_NRULES
};

/*
 * The rules.  A limit of -1 turns its rule off.  The phrase and price
 * lists are borrowed: the caller keeps them alive while the rules are in
 * use (those of sl_tone_rules_load live until sl_tone_rules_free).
 */
struct sl_tone_rules {
	int max_sentences;		/* 3 */
	int max_chars;			/* 300 */
	int max_questions;		/* 1 */
	int max_emoji;			/* 1 */
	/*
	 * Pressure phrases, any language, in any case; words must follow
	 * one another with only white space between.  A phrase ending in
	 * '*' matches its last word as a prefix ("успей*").
	 */
	const char *const *pressure;
	size_t npressure;
	const char *const *allowed_prices;	/* "45000", "45 000 ₽", ... */
	size_t nallowed;
	int check_prices;		/* 1: every amount must be allowed */
	void *own;			/* what sl_tone_rules_load allocated */
};

/* Defaults: the limits above, a built-in list of Russian and English
 * pressure phrases, no allowed prices, prices checked. */
void sl_tone_rules_default(struct sl_tone_rules *r);

/*
 * Sets r to the defaults, then to the keys of json (consumed), the object
 * of skills/tone-of-voice/rules.json:
 *
 *	{
 *	  "max_sentences": 3,		integer >= 1, or -1
 *	  "max_chars": 300,		integer >= 1, or -1
 *	  "max_questions": 1,		integer >= 0, or -1
 *	  "max_emoji": 1,		integer >= 0, or -1
 *	  "pressure": {"ru": ["только сегодня", ...], "en": [...]},
 *					or one array; replaces the defaults
 *	  "allowed_prices": ["45000", "120 тыс. ₽", 1200],
 *					strings or numbers, each an amount
 *	  "check_prices": true
 *	}
 *
 * The limits may instead sit in a "message" object, and "pressure" may be
 * called "pressure_phrases", whose strings beside the lists (a "rule"
 * for people) are skipped: the shape the skills file has.  Other keys are
 * ignored, and null is the same as absent.  Returns 0, or
 * -1 with a message naming the key in err ("'pressure.ru[2]': expected a
 * string"); r then holds the defaults.  Free with sl_tone_rules_free.
 */
int sl_tone_rules_load(struct sl_tone_rules *r, jv json, char *err,
    size_t errlen);
void sl_tone_rules_free(struct sl_tone_rules *r);

enum { SL_TONE_ERROR, SL_TONE_WARNING };

/* One violation, for callers that count rather than report. */
struct sl_tone_hit {
	int rule;		/* SL_TONE_* */
	int severity;		/* SL_TONE_ERROR or SL_TONE_WARNING */
	int fixable;		/* sl_tone_fix removes it */
	size_t at, len;		/* the bytes of the text concerned */
	long count, limit;	/* counted rules: found, and allowed */
	size_t phrase;		/* pressure: the index in r->pressure */
	char amount[24];	/* invented_price: the amount, normalised */
};

/* Enough for any reply; sl_tone_check takes more when there are more. */
#define SL_TONE_HITS 32

/*
 * Checks len bytes of text (any bytes) written to a prospect whose
 * language is lang ("ru", "en", or NULL or anything else to skip the
 * language rule) against r (NULL: the defaults).  Stores the first max
 * violations found in hit, ordered by offset, and returns how many there
 * are in all.  Allocates nothing for texts up to 2 KB.
 */
size_t sl_tone_scan(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r, struct sl_tone_hit *hit, size_t max);

/*
 * The same as a jv array of objects, [] when the text is clean:
 *	{"rule": "em_dash", "severity": "error", "fixable": true,
 *	 "at": 17, "detail": "an em dash"}
 * at is a byte offset in text.
 */
jv sl_tone_check(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r);

/*
 * The text with its fixable violations fixed, and nothing else changed:
 *   - a dash between words becomes " - " (the spaces around it become
 *     these two), one at the start of a line "- ", one between two
 *     numbers without spaces "-", one at the end of a line goes;
 *   - lower-case вы-forms get a capital: вам -> Вам;
 *   - when the emoji rule is broken, every emoji goes, with the space
 *     before it;
 *   - control characters, ANSI escape sequences and invisible format
 *     characters go, those that stand between words (form feed, vertical
 *     tab, NEL, U+2028, U+2029) as a space, before anything else is
 *     fixed;
 *   - white space is trimmed at both ends, runs of spaces and tabs become
 *     one space, spaces at the end of a line go, and more than one empty
 *     line becomes one.
 * What is not fixable (ты, a price, a long text) is left for the caller.
 * lang is as for sl_tone_check; the fixes do not depend on it today.
 * Returns a new NUL-terminated string, its length in *outlen (may be
 * NULL).
 */
char *sl_tone_fix(const char *text, size_t len, const char *lang,
    const struct sl_tone_rules *r, size_t *outlen);

/*
 * The language of a text by its words outside URLs: "ru" when Cyrillic
 * words are more than Latin ones, "en" when fewer; on a tie, by the
 * letters, and "en" when they tie too.  NULL with no letters.
 */
const char *sl_tone_lang(const char *text, size_t len);

/* "em_dash", ...; NULL for an unknown rule. */
const char *sl_tone_rule_name(int rule);

#endif
