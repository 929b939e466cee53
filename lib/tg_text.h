/*
 * tg_text.h: message text for Telegram: length as Telegram counts it,
 * splitting a long text into messages, HTML escaping, and how long a
 * person would take to type it.
 *
 * Telegram limits a message to 4096 characters counted in UTF-16 code
 * units (an emoji outside the BMP counts two).  Texts are UTF-8; every
 * function here cuts only between code points, so no part ever holds half
 * a UTF-8 sequence or half a surrogate pair.
 */
#ifndef SL_TG_TEXT_H
#define SL_TG_TEXT_H

#include <stddef.h>

/* The longest text of one message, in UTF-16 code units. */
#define SL_TG_TEXT_MAX 4096

/* UTF-16 code units of s[0..n) (a stray byte counts one). */
size_t sl_utf16_len(const char *s, size_t n);

/*
 * Splits text into parts of at most max UTF-16 units (max >= 16), in
 * order.  A part ends at the last paragraph break in its second half,
 * else the last line break, else the last sentence end (. ! ? … followed
 * by a space), else the last space; only a text without any of these is
 * cut in the middle of a word.  White space around a cut is dropped, and
 * a text that is only white space gives no part.
 *
 * With html, the text is Telegram HTML: no cut falls inside a tag or an
 * entity (&amp;), and the tags open at a cut are closed at the end of the
 * part and opened again at the start of the next one, so each part parses
 * on its own.  Tags count towards max, so the parts are within the limit
 * before and after Telegram parses them.
 *
 * Returns a NULL-terminated array of new strings, their number in *n.
 * Free it with sl_tg_parts_free.
 */
char **sl_tg_split(const char *text, size_t max, int html, size_t *n);
void sl_tg_parts_free(char **parts);

/* s with & < > " escaped for Telegram HTML.  A new string. */
char *sl_tg_html_escape(const char *s);
/*
 * Telegram HTML as plain text: tags removed, the entities Telegram knows
 * (&lt; &gt; &amp; &quot; and numeric ones) decoded.  A new string.  For
 * resending a text whose markup Telegram could not parse.
 */
char *sl_tg_html_to_plain(const char *s);

/*
 * How long a person takes to type text at cps characters a second, in
 * ms, kept within [min_ms, max_ms] (min_ms is lowered to max_ms when it
 * is larger).  cps <= 0 gives max_ms.
 */
long sl_tg_typing_ms(const char *text, double cps, long min_ms, long max_ms);

#endif
