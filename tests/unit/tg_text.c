/*
 * tests/unit/tg_text.c: Telegram text length, splitting, HTML and typing
 * time (lib/tg_text.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "tap.h"
#include "tg_text.h"

/* Is s valid UTF-8 (no overlongs, no surrogates)? */
static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long c;
	int k, i;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p < 0xe0) {
			k = 1;
			c = *p & 0x1f;
		} else if (*p >= 0xe0 && *p < 0xf0) {
			k = 2;
			c = *p & 0x0f;
		} else if (*p >= 0xf0 && *p < 0xf5) {
			k = 3;
			c = *p & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((k == 2 && c < 0x800) || (k == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c < 0xe000) || c > 0x10ffff)
			return 0;
		p += k + 1;
	}
	return 1;
}

/* s without any white space (a new string). */
static char *
squeeze(const char *s)
{
	char *out = sl_malloc(strlen(s) + 1), *o = out;

	for (; *s; s++)
		if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
			*o++ = *s;
	*o = '\0';
	return out;
}

/* The parts joined (a new string). */
static char *
joined(char **parts)
{
	size_t n = 1, i;
	char *out;

	for (i = 0; parts[i]; i++)
		n += strlen(parts[i]);
	out = sl_malloc(n);
	out[0] = '\0';
	for (i = 0; parts[i]; i++)
		memcpy(out + strlen(out), parts[i], strlen(parts[i]) + 1);
	return out;
}

/* Checks the parts of text: count, limit, UTF-8, nothing lost, order. */
static void
check_split(const char *name, const char *text, size_t max, int html,
    size_t want_n)
{
	size_t n, i, worst = 0, u;
	char **parts = sl_tg_split(text, max, html, &n);
	char *a, *b, *j;
	int utf8 = 1;

	if (want_n)
		is_int((long long)n, (long long)want_n, name);
	for (i = 0; i < n; i++) {
		u = sl_utf16_len(parts[i], strlen(parts[i]));
		if (u > worst)
			worst = u;
		if (!valid_utf8(parts[i]) || parts[i][0] == '\0')
			utf8 = 0;
	}
	ok(worst <= max, "%s: every part within %zu units (longest %zu)",
	    name, max, worst);
	ok(utf8, "%s: every part is non-empty valid UTF-8", name);
	if (!html) {
		j = joined(parts);
		a = squeeze(text);
		b = squeeze(j);
		ok(strcmp(a, b) == 0, "%s: the parts in order are the text",
		    name);
		free(a);
		free(b);
		free(j);
	}
	sl_tg_parts_free(parts);
}

static char *
repeat(const char *s, size_t times)
{
	size_t n = strlen(s), i;
	char *out = sl_malloc(n * times + 1);

	for (i = 0; i < times; i++)
		memcpy(out + i * n, s, n);
	out[n * times] = '\0';
	return out;
}

static void
test_length(void)
{
	is_int((long long)sl_utf16_len("abc", 3), 3, "ASCII: one unit each");
	is_int((long long)sl_utf16_len("привет", strlen("привет")), 6,
	    "Cyrillic: one unit each");
	is_int((long long)sl_utf16_len("a\xf0\x9f\x98\x80" "b", 6), 4,
	    "an emoji outside the BMP counts two");
	is_int((long long)sl_utf16_len("\xe2\x80\xa6", 3), 1, "… counts one");
	is_int((long long)sl_utf16_len("\xff" "a", 2), 2,
	    "a stray byte counts one");
	is_int((long long)sl_utf16_len("\xd0", 1), 1,
	    "a cut sequence counts one");
}

static void
test_short(void)
{
	size_t n;
	char **p;

	p = sl_tg_split("  Hello, world!\n\n", 4096, 0, &n);
	is_int((long long)n, 1, "a short text is one part");
	is_str(p[0], "Hello, world!", "white space around it is dropped");
	ok(p[1] == NULL, "the array ends with NULL");
	sl_tg_parts_free(p);
	p = sl_tg_split(" \n\t ", 4096, 0, &n);
	is_int((long long)n, 0, "white space alone gives no part");
	ok(p && p[0] == NULL, "an empty array is still an array");
	sl_tg_parts_free(p);
	p = sl_tg_split("", 4096, 1, &n);
	is_int((long long)n, 0, "an empty text gives no part");
	sl_tg_parts_free(p);
	p = sl_tg_split("<b> </b>", 4096, 1, &n);
	is_int((long long)n, 0, "HTML with no text gives no part");
	sl_tg_parts_free(p);
}

static void
test_russian(void)
{
	static const char *sentences[] = {
		"Здравствуйте, Ольга! ",
		"Спасибо за интерес к нашему тарифу на два года. ",
		"Стоимость составляет 199 евро, оплата возможна частями. ",
		"Если удобно, я могу предложить время для звонка? ",
		"Наш менеджер расскажет подробнее о внедрении…\n",
	};
	char text[40000];
	size_t len = 0, i, chars = 0, n;
	char **p;

	for (i = 0; chars < 10000; i++) {
		const char *s = sentences[i % 5];

		memcpy(text + len, s, strlen(s));
		len += strlen(s);
		chars += sl_utf16_len(s, strlen(s));
		if (i % 7 == 6) {
			text[len++] = '\n';
			chars++;
		}
	}
	text[len] = '\0';
	check_split("10,000 Russian characters", text, 4096, 0, 3);
	p = sl_tg_split(text, 4096, 0, &n);
	ok(n == 3 && strcmp(p[0] + strlen(p[0]) - strlen("внедрении…"),
	    "внедрении…") == 0, "the first part ends at a paragraph break");
	sl_tg_parts_free(p);
}

static void
test_breaks(void)
{
	char *a = repeat("Line of words. ", 150);	/* 2250 chars */
	char *b = repeat("w", 1000);
	char *t = NULL, **p;
	size_t n;

	/* A paragraph break in the second half wins over later lines. */
	a[strlen(a) - 1] = '\0';
	free(t);
	t = sl_asprintf("%s\n\n%s\nmore\n%s", a, a, b);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n >= 2 && strcmp(p[0], a) == 0, "cut at the paragraph break");
	sl_tg_parts_free(p);
	check_split("paragraphs", t, 4096, 0, 2);

	/* No paragraph: the last line break. */
	free(t);
	t = sl_asprintf("%s\n%s\n%s", a, b, a);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n == 2 && strlen(p[0]) == strlen(a) + 1 + strlen(b),
	    "cut at the last line break");
	sl_tg_parts_free(p);

	/* No line break: the last sentence. */
	free(t);
	t = repeat("Short one. Then words without end ", 200);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n >= 2 && p[0][strlen(p[0]) - 1] == '.', "cut after a sentence");
	sl_tg_parts_free(p);
	check_split("sentences", t, 4096, 0, 0);

	/* No sentence: a space, never inside a word. */
	free(t);
	t = repeat("abcdefghij ", 500);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n == 2 && strlen(p[0]) % 11 == 10 && p[0][strlen(p[0]) - 1] == 'j',
	    "cut between words");
	sl_tg_parts_free(p);

	/* No space at all: a hard cut at the limit. */
	free(t);
	t = repeat("я", 5000);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n == 2 && sl_utf16_len(p[0], strlen(p[0])) == 4096 &&
	    sl_utf16_len(p[1], strlen(p[1])) == 904,
	    "a text without breaks is cut at 4096");
	sl_tg_parts_free(p);

	/* An emoji across the limit moves to the next part whole. */
	free(t);
	free(b);
	b = repeat("a", 4095);
	t = sl_asprintf("%s\xf0\x9f\x98\x80xyz", b);
	p = sl_tg_split(t, 4096, 0, &n);
	ok(n == 2 && strlen(p[0]) == 4095 &&
	    strcmp(p[1], "\xf0\x9f\x98\x80xyz") == 0,
	    "a surrogate pair is never split");
	sl_tg_parts_free(p);
	check_split("emoji everywhere", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 16, 0, 2);
	free(a);
	free(b);
	free(t);
}

static void
test_html(void)
{
	char *body = repeat("word &amp; <i>more</i> words. ", 300);
	char *t = sl_asprintf("<b>%s</b>", body), *plain;
	char **p;
	size_t n, i;
	int balanced = 1, entities = 1;

	check_split("HTML", t, 4096, 1, 3);
	p = sl_tg_split(t, 4096, 1, &n);
	for (i = 0; i < n; i++) {
		const char *s;

		if (strncmp(p[i], "<b>", 3) != 0 ||
		    strcmp(p[i] + strlen(p[i]) - 4, "</b>") != 0)
			balanced = 0;
		for (s = p[i]; (s = strchr(s, '&')); s++)
			if (strncmp(s, "&amp;", 5) != 0)
				entities = 0;
	}
	ok(balanced, "bold is closed at each cut and opened again");
	ok(entities, "no cut inside an entity");
	sl_tg_parts_free(p);
	free(t);
	free(body);

	p = sl_tg_split("<a href=\"u v\">one two three four five six seven "
	    "eight nine ten eleven twelve thirteen fourteen fifteen "
	    "sixteen</a>", 64, 1, &n);
	for (i = 0, balanced = 1; i < n; i++)
		if (strncmp(p[i], "<a href=\"u v\">", 14) != 0 ||
		    strcmp(p[i] + strlen(p[i]) - 4, "</a>") != 0)
			balanced = 0;
	ok(n == 3 && balanced, "no cut inside a tag; a link goes on with "
	    "its attributes");
	sl_tg_parts_free(p);
	check_split("a tag longer than a quarter of the limit", "<a href=\"u "
	    "v w x y z\">one two three four five six</a>", 32, 1, 0);

	t = sl_tg_html_escape("a < b & \"c\" > d");
	is_str(t, "a &lt; b &amp; &quot;c&quot; &gt; d", "HTML escaping");
	plain = sl_tg_html_to_plain(t);
	is_str(plain, "a < b & \"c\" > d", "and back");
	free(plain);
	free(t);
	plain = sl_tg_html_to_plain("<b>Bold</b> <a href=\"x\">link</a> "
	    "&#128512; &#x41; &nope; 1 < 2");
	is_str(plain, "Bold link \xf0\x9f\x98\x80 A &nope; 1 < 2",
	    "tags removed, entities decoded, the rest kept");
	free(plain);
}

static void
test_typing(void)
{
	is_int(sl_tg_typing_ms("hello", 10, 1000, 8000), 1000,
	    "a short text takes the minimum");
	is_int(sl_tg_typing_ms("привет мир, как дела? всё хорошо, спасибо! "
	    "до встречи", 10, 1000, 8000), 5300,
	    "characters, not bytes, at 10 a second");
	is_int(sl_tg_typing_ms("1234567890123456789012345678901234567890"
	    "1234567890123456789012345678901234567890123456789012345678901",
	    10, 1000, 8000), 8000, "a long text takes the maximum");
	is_int(sl_tg_typing_ms("hi", 0, 1000, 8000), 8000,
	    "no speed: the maximum");
	is_int(sl_tg_typing_ms("hi", 10, 1000, 300), 300,
	    "a maximum below the minimum wins");
}

int
main(void)
{
	sl_init("tg_text");
	test_length();
	test_short();
	test_russian();
	test_breaks();
	test_html();
	test_typing();
	return done_testing();
}
