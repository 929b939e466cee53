/*
 * tests/unit/kb.c: the knowledge base without a ledger (lib/kb.c):
 * Markdown split into passages (titles, positions, front matter, code
 * blocks, long sections, bad bytes, hashes) and the query words as FTS5
 * and tsquery expressions, hostile text included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "sl.h"
#include "tap.h"

static void
split(const char *md, const char *lang, struct sl_kb_doc *doc)
{
	sl_kb_split(md, strlen(md), lang, doc);
}

/* Characters (code points) of s. */
static size_t
nchars(const char *s)
{
	size_t c = 0;

	for (; *s; s++)
		c += ((unsigned char)*s & 0xc0) != 0x80;
	return c;
}

/* s without blanks and newlines (a new string). */
static char *
squeeze(const char *s)
{
	char *out = sl_malloc(strlen(s) + 1), *o = out;

	for (; *s; s++)
		if (*s != ' ' && *s != '\n')
			*o++ = *s;
	*o = '\0';
	return out;
}

static void
test_titles(void)
{
	static const char md[] =
	    "Intro text.\n"
	    "\n"
	    "# Prices\n"
	    "## Packages ##\n"
	    "Two packages.   \n"
	    "\n\n\n"
	    "Both monthly.\n"
	    "### Starter\n"
	    "Small teams.\n"
	    "#### Details\n"
	    "Still Starter.\n"
	    "## Discounts\n"
	    "```\n"
	    "# not a heading\n"
	    "```\n"
	    "#hashtag is text\n"
	    "# Other\n"
	    "### Deep\n"
	    "Under an H1 only.\n";
	struct sl_kb_doc d;

	split(md, "en", &d);
	if (!is_int((long long)d.n, 5, "five passages"))
		goto out;
	ok(d.p[0].title == NULL, "text before the first heading: no title");
	is_str(d.p[0].body, "Intro text.", "its text");
	is_str(d.p[1].title, "Prices > Packages",
	    "an empty H1 gives no passage; closing #s go");
	is_str(d.p[1].body, "Two packages.\n\nBoth monthly.",
	    "blanks at line ends go, blank lines become one");
	is_str(d.p[2].title, "Prices > Packages > Starter", "an H3's path");
	is_str(d.p[2].body, "Small teams.\n#### Details\nStill Starter.",
	    "an H4 stays in the text");
	is_str(d.p[3].title, "Prices > Discounts", "an H2 ends the H3");
	is_str(d.p[3].body, "```\n# not a heading\n```\n#hashtag is text",
	    "no heading in a code block, none without a blank");
	is_str(d.p[4].title, "Other > Deep", "an H3 under an H1");
	is_int(d.p[4].position, 5, "positions count from 1");
	is_str(d.lang, "en", "the language given");
out:
	sl_kb_doc_free(&d);
}

static void
test_front_matter(void)
{
	struct sl_kb_doc d;

	split("---\ntitle: x\nlang: \"RU\"\n---\n# A\ntext\n", "en", &d);
	is_str(d.lang, "ru", "front matter's lang wins, lowercased");
	is_int((long long)d.n, 1, "front matter is no passage");
	sl_kb_doc_free(&d);
	split("---\nlang: ru\n\n# A\ntext\n", NULL, &d);
	ok(d.lang == NULL, "an unclosed block is no front matter");
	is_int((long long)d.n, 2, "but text");
	sl_kb_doc_free(&d);
	split("\xef\xbb\xbf# A\r\ntext\r\nmore\r\n", NULL, &d);
	is_str(d.n ? d.p[0].title : "", "A", "a byte order mark goes");
	is_str(d.n ? d.p[0].body : "", "text\nmore", "CR LF is LF");
	sl_kb_doc_free(&d);
	split("# A\nbad \xff\xc0\xaf byte\n", NULL, &d);
	is_str(d.n ? d.p[0].body : "", "bad \xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd byte", "bad bytes become U+FFFD");
	sl_kb_doc_free(&d);
	sl_kb_split("# A\nx\0y\n", 8, NULL, &d);
	is_str(d.n ? d.p[0].body : "", "x\xef\xbf\xbdy", "so does NUL");
	sl_kb_doc_free(&d);
	split("", NULL, &d);
	is_int((long long)d.n, 0, "an empty file has no passages");
	sl_kb_doc_free(&d);
}

static void
test_hash(void)
{
	struct sl_kb_doc a, b, c, e;

	split("# T\nbody\n", "ru", &a);
	split("# T\n\nbody  \n\n", "ru", &b);
	split("# U\nbody\n", "ru", &c);
	split("# T\nbody\n", "en", &e);
	is_int((long long)strlen(a.p[0].hash), 64, "SHA-256 in hex");
	is_str(a.p[0].hash, b.p[0].hash, "blank lines do not change it");
	ok(strcmp(a.p[0].hash, c.p[0].hash) != 0, "the title does");
	ok(strcmp(a.p[0].hash, e.p[0].hash) != 0, "the language does");
	sl_kb_doc_free(&a);
	sl_kb_doc_free(&b);
	sl_kb_doc_free(&c);
	sl_kb_doc_free(&e);
}

static void
test_long(void)
{
	char *md, *whole, *got, *s;
	struct sl_kb_doc d;
	size_t i, len = 0;
	int fits = 1, paras = 1;

	/* 40 paragraphs of about 200 characters */
	md = sl_strdup("## Long\n");
	for (i = 0; i < 40; i++) {
		s = sl_asprintf("%sАбзац %zu: это длинный текст про внедрение. "
		    "Он нужен, чтобы раздел вышел длиннее полутора тысяч "
		    "знаков, и его пришлось резать. Режем между абзацами, а не "
		    "посреди фразы.\n\n", md, i);
		free(md);
		md = s;
	}
	split(md, NULL, &d);
	ok(d.n >= 5, "a long section gives several passages (%zu)", d.n);
	whole = sl_strdup("");
	for (i = 0; i < d.n; i++) {
		fits &= nchars(d.p[i].body) <= SL_KB_MAX;
		paras &= strncmp(d.p[i].body, "Абзац ", 11) == 0;
		paras &= strcmp(d.p[i].title, "Long") == 0;
		s = sl_asprintf("%s%s", whole, d.p[i].body);
		free(whole);
		whole = s;
		len += strlen(d.p[i].body);
	}
	ok(fits, "each at most %d characters", SL_KB_MAX);
	ok(paras, "each starts a paragraph and keeps the title");
	got = squeeze(whole);
	s = squeeze(md + 8);
	is_str(got, s, "nothing is lost");
	free(s);
	free(got);
	free(whole);
	sl_kb_doc_free(&d);
	free(md);

	/* one paragraph of 4000 letters, no blank */
	md = sl_malloc(8 + 2 * 4000 + 1);
	memcpy(md, "## Word\n", 8);
	for (i = 0; i < 4000; i++)
		memcpy(md + 8 + 2 * i, "я", 2);
	md[8 + 2 * 4000] = '\0';
	split(md, NULL, &d);
	is_int((long long)d.n, 3, "a word of 4000 letters: 3 passages");
	for (i = 0, fits = 1; i < d.n; i++)
		fits &= nchars(d.p[i].body) <= SL_KB_MAX &&
		    strlen(d.p[i].body) % 2 == 0;
	ok(fits, "cut at the limit, between characters");
	sl_kb_doc_free(&d);
	free(md);
}

static void
query(const char *text, const char *fts, const char *pg)
{
	char *q, name[160];

	q = sl_kb_query(text, 0);
	snprintf(name, sizeof name, "fts5: %.120s", text);
	is_str(q, fts, name);
	free(q);
	q = sl_kb_query(text, 1);
	snprintf(name, sizeof name, "tsquery: %.120s", text);
	is_str(q, pg, name);
	free(q);
}

static void
test_query(void)
{
	char *big, *text, *q;
	size_t i;

	query("стоимость внедрения", "\"стоим\"* OR \"внедр\"*",
	    "'стоим':* | 'внедр':*");
	query("Цены и сроки", "\"цен\"* OR \"срок\"*", "'цен':* | 'срок':*");
	query("ДЕМО", "\"дем\"*", "'дем':*");
	query("Ёлка", "\"ёлк\"*", "'ёлк':*");
	query("как, что, и в", "", "");
	query("prices packages pricing", "\"pric\"* OR \"packag\"*",
	    "'pric':* | 'packag':*");
	query("business status companies", "\"business\"* OR \"status\"* OR "
	    "\"compan\"*", "'business':* | 'status':* | 'compan':*");
	query("CRM 1С B2B 2024 x", "\"crm\" OR \"1с\" OR \"b2b\" OR \"2024\"",
	    "'crm' | '1с' | 'b2b' | '2024'");
	query("онлайн-курс", "\"онлай\"* OR \"курс\"*",
	    "'онлай':* | 'курс':*");
	query("\"", "", "");
	query("*", "", "");
	query("\" OR \"", "", "");
	query("NEAR(a b) AND c NOT d", "\"near\"*", "'near':*");
	query("'; DROP TABLE kb_chunks; --",
	    "\"drop\"* OR \"tabl\"* OR \"kb\" OR \"chunk\"*",
	    "'drop':* | 'tabl':* | 'kb' | 'chunk':*");
	query("цена^2 col:цена {a b} -x +y", "\"цен\"* OR \"col\"", "'цен':* | "
	    "'col'");
	query("\xff\xfe цены \xc0", "\"цен\"*", "'цен':*");
	query("😀 ։ №5", "", "");

	big = sl_malloc(100 * 6 + 1);
	for (i = 0; i < 100; i++)
		snprintf(big + 6 * i, 7, "w%03zu  ", i);
	q = sl_kb_query(big, 0);
	ok(strstr(q, "\"w031\"") && !strstr(q, "\"w032\""),
	    "at most 32 words");
	free(q);
	free(big);
	big = sl_malloc(71);
	memset(big, 'a', 70);
	big[70] = '\0';
	text = sl_asprintf("%s цены", big);
	q = sl_kb_query(text, 1);
	is_str(q, "'цен':*", "a word over 64 bytes is left out");
	free(q);
	free(text);
	free(big);
}

int
main(void)
{
	sl_init("kb");
	test_titles();
	test_front_matter();
	test_hash();
	test_long();
	test_query();
	return done_testing();
}
