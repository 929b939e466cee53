/*
 * kb.h: the knowledge base: Markdown files under skills/knowledge/ split
 * into passages, kept in the ledger's kb_chunks table, and searched with
 * SQLite FTS5 or PostgreSQL full-text search, for kb-index and
 * agent-reply.
 *
 * A passage is a heading of level 1 to 3 and the text under it up to the
 * next heading of level 1 to 3, whatever its level: a section's
 * subsections are passages of their own, so no text is in two passages.
 * Its title is the path of headings above it and its own, joined by
 * " > " ("Prices > Packages"); text before the first heading is a passage
 * without a title.  Headings are ATX lines ("## Packages"); "####" and
 * deeper stay in the text, and so does anything in a fenced code block.
 * Lines lose their trailing blanks, runs of blank lines become one, and a
 * heading with no text under it gives no passage (its name is still part
 * of the titles below it).  A text longer than SL_KB_MAX characters is cut
 * into several passages with the same title: between paragraphs, or, for
 * a paragraph that long, after a sentence, else at a blank.
 *
 * A passage is known by its file and its position there (1, 2, ...); its
 * hash, the SHA-256 of its language, title and text, tells whether it
 * changed since it was stored.
 */
#ifndef SL_KB_H
#define SL_KB_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

struct sl_db;

/* Longest text of a passage, in characters (code points). */
#define SL_KB_MAX 1500
/* Passages a search returns by default, and at most. */
#define SL_KB_LIMIT 5
#define SL_KB_LIMIT_MAX 100

struct sl_kb_passage {
	long position;		/* 1, 2, ... in the file */
	char *title;		/* NULL before the first heading */
	char *body;
	char hash[65];		/* SHA-256 in hex */
};

struct sl_kb_doc {
	char *lang;		/* the file's language, or NULL */
	struct sl_kb_passage *p;
	size_t n;
};

/*
 * Splits the Markdown text (len bytes, UTF-8; invalid bytes and NULs
 * become U+FFFD, CR LF is LF) into doc's passages.  lang is the language
 * the file's directory gives (NULL: none); a "lang:" line in the YAML
 * front matter (between "---" lines at the very top) overrides it.
 * doc is freed with sl_kb_doc_free.
 */
void sl_kb_split(const char *text, size_t len, const char *lang,
    struct sl_kb_doc *doc);
void sl_kb_doc_free(struct sl_kb_doc *doc);

/* What sl_kb_index did. */
struct sl_kb_stats {
	long files;		/* Markdown files read */
	long passages;		/* their passages */
	long inserted, updated, deleted, unchanged;
	long failed;		/* files or directories not read */
};

/*
 * Indexes the tree under dir into kb_chunks in one transaction: every
 * *.md file (names starting with '.' and README.md are skipped) is split,
 * source being its path under dir ("ru/prices.md") and its language the
 * first directory of that path when it is two or three lowercase letters
 * ("ru", "en"), unless its front matter says otherwise.  New passages are
 * inserted, changed ones updated, those of files or positions that are no
 * more deleted; unchanged ones are not touched.  A file or directory that
 * cannot be read is reported (sl_error), counted in failed, and keeps its
 * passages.  With dry_run the counts are computed and everything rolled
 * back.  now is the updated_at of what is written.  Returns 0, or -1
 * with nothing changed and the reason in sl_db_error().
 */
int sl_kb_index(struct sl_db *db, const char *dir, int64_t now,
    int dry_run, struct sl_kb_stats *st);

/*
 * The query words of text as a full-text expression: for SQLite FTS5
 * (postgres 0: "\"стоим\"* OR \"price\"") or for PostgreSQL's to_tsquery
 * (postgres 1: "'стоим':* | 'price'").  Words are runs of letters and
 * digits, lowercased; everything else (quotes, operators, brackets) only
 * separates them, and a word such as AND, NEAR or NOT is just a word.
 * One-letter words, a few stop words ("и", "the") and words over 64 bytes
 * are left out, and at most 32 words of the first 4096 bytes are used.
 * Then a word of Cyrillic letters of more than 5 letters is cut to its
 * first 5 and matches as a prefix ("внедрения" -> внедр*); one of 4 or 5
 * letters loses a final vowel, й or ь and matches as a prefix ("цены" ->
 * цен*).  A word of Latin letters of 4 or more letters loses one ending
 * (ies, ing, ed, es, or s not after s, u or i), then a final e or y, as
 * long as 4 letters remain, and matches as a prefix ("prices" -> pric*).
 * Shorter words, numbers and words mixing scripts match exactly.  The
 * words are OR-ed.  Returns a new string, "" when no word is left.
 */
char *sl_kb_query(const char *text, int postgres);

/*
 * The limit best passages for query, best first: a new jv array of
 * {source, position, lang, title, body, score}, where score is higher for
 * a better match: bm25 on SQLite; on PostgreSQL the sum over the words
 * of ts_rank times the word's rarity, ln(1 + passages / passages with
 * it).  Both count the title twice the text.  The two scales differ, and
 * so may the order of passages that score close.  With lang, only
 * passages in that language or in none.  A query without words gives [].
 * Invalid on a ledger error (sl_db_error()).
 */
jv sl_kb_search(struct sl_db *db, const char *query, const char *lang,
    int limit);

#endif
