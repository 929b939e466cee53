/*
 * kb.c: the knowledge base (kb.h): splitting Markdown into passages,
 * indexing a tree of files into kb_chunks, and full-text search.
 *
 * Indexing reads the rows the ledger has (id, source, position, hash),
 * sorted here with strcmp so the engines' collations play no part, then
 * walks the tree in name order and compares each passage with its row by
 * hash.  The whole run is one transaction: BEGIN IMMEDIATE on SQLite, and
 * on PostgreSQL a SHARE ROW EXCLUSIVE lock on kb_chunks, which lets
 * searches go on but makes a second kb-index wait for the first.
 *
 * Search never passes the user's text to the engine's query parser: the
 * words are picked out here and written back as quoted terms (see
 * sl_kb_query), so no quote, bracket or operator of theirs can reach it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "db.h"
#include "db_impl.h"
#include "jsonl.h"
#include "kb.h"
#include "sl.h"

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

#define FILE_MAX (16L * 1024 * 1024)	/* a bigger file is refused */
#define DEPTH_MAX 32			/* directories, against link loops */
#define QUERY_BYTES 4096		/* of a query, only these are read */
#define TERM_BYTES 64			/* a longer word is left out */
#define TERMS_MAX 32

/* UTF-8. */

/*
 * The code point at s (n bytes left), its length in *len; -1 (length 1)
 * for a byte that starts no valid sequence: overlong forms, surrogates
 * and values past U+10FFFF are refused.
 */
static long
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	long cp, min;
	size_t k, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return -1;
	if (n < k)
		return -1;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return cp;
}

static size_t
utf8_put(long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * text as valid UTF-8 without NULs (both become U+FFFD), without a byte
 * order mark and with CR LF as LF: a new string.
 */
static char *
clean(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	struct sl_buf b = { 0 };
	size_t i = 0, n;
	long cp;

	sl_buf_add(&b, "", 0);
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		cp = utf8_next(s + i, len - i, &n);
		if (cp <= 0)
			sl_buf_add(&b, "\xef\xbf\xbd", 3);
		else if (!(cp == '\r' && i + 1 < len && s[i + 1] == '\n'))
			sl_buf_add(&b, text + i, n);
		i += n;
	}
	return b.s;
}

/* Characters (code points) in s[0..n). */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* Splitting. */

struct splitter {
	struct sl_kb_doc *doc;
	char *head[3];		/* the current H1, H2, H3 (NULL: none) */
	struct sl_buf text;	/* the current section */
	int blank;		/* a blank line is pending */
	char fence;		/* '`' or '~' inside a code block, else 0 */
	size_t fence_len;
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Leading spaces of a line (at most 3 count for Markdown), or 4. */
static size_t
indent(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 4 && s[i] == ' ')
		i++;
	return i;
}

/*
 * The level (1 to 3) of an ATX heading line and its text in *name,
 * *nlen; 0 when the line is no heading of those levels.
 */
static int
heading(const char *s, size_t n, const char **name, size_t *nlen)
{
	size_t i = indent(s, n), level = 0, e;

	if (i > 3)
		return 0;
	while (n > i && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	while (i < n && s[i] == '#' && level < 7)
		i++, level++;
	if (level == 0 || level > 3 || (i < n && !is_blank(s[i])))
		return 0;
	while (i < n && is_blank(s[i]))
		i++;
	e = n;
	while (e > i && s[e - 1] == '#')
		e--;
	if (e == i || is_blank(s[e - 1]))	// a closing sequence
		n = e;
	while (n > i && is_blank(s[n - 1]))
		n--;
	*name = s + i;
	*nlen = n - i;
	return (int)level;
}

/* Notes a line that opens (or, with sp->fence set, closes) a code fence. */
static void
fence(struct splitter *sp, const char *s, size_t n)
{
	size_t i = indent(s, n), k = 0;
	char c;

	if (i > 3 || i >= n || (s[i] != '`' && s[i] != '~'))
		return;
	c = s[i];
	while (i + k < n && s[i + k] == c)
		k++;
	if (k < 3)
		return;
	if (sp->fence == 0) {
		sp->fence = c;
		sp->fence_len = k;
		return;
	}
	if (c != sp->fence || k < sp->fence_len)
		return;
	for (i += k; i < n; i++)
		if (!is_blank(s[i]) && s[i] != '\r')
			return;
	sp->fence = 0;
}

static char *
title(const struct splitter *sp)
{
	struct sl_buf b = { 0 };
	int i;

	for (i = 0; i < 3; i++) {
		if (sp->head[i] == NULL || *sp->head[i] == '\0')
			continue;
		if (b.len)
			sl_buf_add(&b, " > ", 3);
		sl_buf_add(&b, sp->head[i], strlen(sp->head[i]));
	}
	return b.s;
}

static void
add_passage(struct splitter *sp, const char *body, size_t n)
{
	struct sl_kb_doc *d = sp->doc;
	struct sl_kb_passage *p;

	d->p = sl_realloc(d->p, (d->n + 1) * sizeof *d->p);
	p = &d->p[d->n++];
	p->position = (long)d->n;
	p->title = title(sp);
	p->body = sl_strndup(body, n);
	p->hash[0] = '\0';
}

/*
 * Where to end a passage that starts at s (n bytes, more than SL_KB_MAX
 * characters): after the last paragraph, else sentence, else line, else
 * word that fits, if it holds at least a third of SL_KB_MAX; else right
 * at the limit.  Never 0.
 */
static size_t
cut(const char *s, size_t n)
{
	size_t i, c = 0, para = 0, sentence = 0, line = 0, word = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == SL_KB_MAX)
			break;
		if (c < SL_KB_MAX / 3)
			continue;
		if (s[i] == '\n' && i + 1 < n && s[i + 1] == '\n')
			para = i;
		else if ((s[i] == ' ' || s[i] == '\n') && i > 0 &&
		    strchr(".!?", s[i - 1]))
			sentence = i;
		else if (s[i] == '\n')
			line = i;
		else if (s[i] == ' ')
			word = i;
	}
	if (para)
		return para;
	if (sentence)
		return sentence;
	if (line)
		return line;
	if (word)
		return word;
	return i;
}

/* The section gathered so far becomes passages. */
static void
flush(struct splitter *sp)
{
	const char *s = sp->text.s;
	size_t n = sp->text.len, e, k;

	while (n > 0) {
		e = k = chars(s, n) > SL_KB_MAX ? cut(s, n) : n;
		while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\n'))
			k--;
		if (k > 0)
			add_passage(sp, s, k);
		while (e < n && (s[e] == ' ' || s[e] == '\n'))
			e++;
		s += e;
		n -= e;
	}
	sp->text.len = 0;
	sp->blank = 0;
}

static void
add_line(struct splitter *sp, const char *s, size_t n)
{
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if (n == 0) {
		sp->blank = sp->text.len > 0;
		return;
	}
	if (sp->text.len)
		sl_buf_add(&sp->text, "\n\n", sp->blank ? 2 : 1);
	sl_buf_add(&sp->text, s, n);
	sp->blank = 0;
}

/* The next line of s at *pos (without its LF), or NULL at the end. */
static const char *
next_line(const char *s, size_t len, size_t *pos, size_t *n)
{
	const char *line = s + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - line) : len - *pos;
	*pos += *n + (nl != NULL);
	return line;
}

static int
is_rule(const char *s, size_t n, const char *rule)
{
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	return n == 3 && memcmp(s, rule, 3) == 0;
}

/* A language code as front matter may give it: 1 to 16 of [a-z0-9_-]. */
static char *
lang_value(const char *s, size_t n)
{
	char *v;
	size_t i;

	while (n > 0 && is_blank(*s))
		s++, n--;
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		s++, n -= 2;
	if (n == 0 || n > 16)
		return NULL;
	v = sl_strndup(s, n);
	for (i = 0; i < n; i++) {
		if (v[i] >= 'A' && v[i] <= 'Z')
			v[i] = (char)(v[i] - 'A' + 'a');
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' &&
		    v[i] <= '9') || v[i] == '-' || v[i] == '_')) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/*
 * Skips the YAML front matter at the top of s, if there is one, taking
 * its "lang:" into doc; returns where the Markdown starts.
 */
static size_t
front_matter(const char *s, size_t len, struct sl_kb_doc *doc)
{
	size_t pos = 0, n, end;
	const char *line;
	char *lang;

	line = next_line(s, len, &pos, &n);
	if (line == NULL || !is_rule(line, n, "---"))
		return 0;
	end = pos;
	while ((line = next_line(s, len, &end, &n)) != NULL)
		if (is_rule(line, n, "---") || is_rule(line, n, "..."))
			break;
	if (line == NULL)
		return 0;	// no end: a thematic break, not front matter
	while ((line = next_line(s, len, &pos, &n)) != NULL && pos < end) {
		if (n < 5 || memcmp(line, "lang:", 5) != 0)
			continue;
		if ((lang = lang_value(line + 5, n - 5)) != NULL) {
			free(doc->lang);
			doc->lang = lang;
		}
	}
	return end;
}

static void
hash(const char *lang, struct sl_kb_passage *p)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *c;
	const char *t = p->title ? p->title : "";
	const char *l = lang ? lang : "";

	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, l, strlen(l) + 1) != 1 ||
	    EVP_DigestUpdate(c, t, strlen(t) + 1) != 1 ||
	    EVP_DigestUpdate(c, p->body, strlen(p->body)) != 1 ||
	    EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32)
		sl_die(SL_EX_SOFTWARE, "SHA-256 failed");
	EVP_MD_CTX_free(c);
	for (i = 0; i < mdlen; i++) {
		p->hash[2 * i] = hex[md[i] >> 4];
		p->hash[2 * i + 1] = hex[md[i] & 15];
	}
	p->hash[2 * mdlen] = '\0';
}

void
sl_kb_split(const char *text, size_t len, const char *lang,
    struct sl_kb_doc *doc)
{
	struct splitter sp = { 0 };
	const char *line, *name;
	size_t pos, n, nlen, i;
	char *s;
	int level, j;

	memset(doc, 0, sizeof *doc);
	doc->lang = lang ? sl_strdup(lang) : NULL;
	sp.doc = doc;
	s = clean(text, len);
	len = strlen(s);
	pos = front_matter(s, len, doc);
	while ((line = next_line(s, len, &pos, &n)) != NULL) {
		if (sp.fence == 0 &&
		    (level = heading(line, n, &name, &nlen)) > 0) {
			flush(&sp);
			for (j = level - 1; j < 3; j++) {
				free(sp.head[j]);
				sp.head[j] = NULL;
			}
			sp.head[level - 1] = sl_strndup(name, nlen);
			continue;
		}
		fence(&sp, line, n);
		add_line(&sp, line, n);
	}
	flush(&sp);
	for (i = 0; i < doc->n; i++)
		hash(doc->lang, &doc->p[i]);
	for (j = 0; j < 3; j++)
		free(sp.head[j]);
	free(sp.text.s);
	free(s);
}

void
sl_kb_doc_free(struct sl_kb_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->n; i++) {
		free(doc->p[i].title);
		free(doc->p[i].body);
	}
	free(doc->p);
	free(doc->lang);
	memset(doc, 0, sizeof *doc);
}

/* Indexing. */

/* A passage the ledger holds. */
struct row {
	int64_t id;
	char *source;
	long position;
	char *hash;
	int seen;
};

struct indexer {
	struct sl_db *db;
	int64_t now;
	struct sl_kb_stats *st;
	struct row *rows;
	size_t nrows;
	char **failed;		/* sources, directories + "/", "" for all */
	size_t nfailed;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->source, y->source);

	if (c)
		return c;
	return (x->position > y->position) - (x->position < y->position);
}

static void
rollback_keep(struct sl_db *db)
{
	char *err = sl_strdup(sl_db_error(db));
	int temporary = sl_db_temporary(db), code = sl_db_exit_code(db);

	sl_db_rollback(db);
	sl_db_fail(db, temporary, code, "%s", err);
	free(err);
}

/* The ledger's passages into x->rows, sorted by source and position. */
static int
load_rows(struct indexer *x)
{
	const char *source, *h;
	int64_t id, pos;
	size_t i, n;
	jv rows, r;

	rows = sl_db_query(x->db, "SELECT id, source, position, hash "
	    "FROM kb_chunks", jv_array());
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return -1;
	}
	n = (size_t)jv_array_length(jv_copy(rows));
	x->rows = sl_calloc(n ? n : 1, sizeof *x->rows);
	for (i = 0; i < n; i++) {
		r = jv_array_get(jv_copy(rows), (int)i);
		if (sl_get_int(r, "id", &id) != 1 ||
		    sl_get_str(r, "source", &source) != 1 ||
		    sl_get_int(r, "position", &pos) != 1) {
			jv_free(r);
			continue;
		}
		if (sl_get_str(r, "hash", &h) != 1)
			h = "";
		x->rows[x->nrows].id = id;
		x->rows[x->nrows].source = sl_strdup(source);
		x->rows[x->nrows].position = (long)pos;
		x->rows[x->nrows].hash = sl_strdup(h);
		x->nrows++;
		jv_free(r);
	}
	jv_free(rows);
	qsort(x->rows, x->nrows, sizeof *x->rows, row_cmp);
	return 0;
}

static void
keep(struct indexer *x, const char *source, int dir)
{
	x->failed = sl_realloc(x->failed, (x->nfailed + 1) *
	    sizeof *x->failed);
	x->failed[x->nfailed++] = sl_asprintf("%s%s", source,
	    dir && *source ? "/" : "");
	x->st->failed++;
}

static int
kept(const struct indexer *x, const char *source)
{
	size_t i, n;

	for (i = 0; i < x->nfailed; i++) {
		if ((n = strlen(x->failed[i])) == 0)
			return 1;
		if (x->failed[i][n - 1] == '/' ?
		    strncmp(source, x->failed[i], n) == 0 :
		    strcmp(source, x->failed[i]) == 0)
			return 1;
	}
	return 0;
}

static jv
str_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}

/* Inserts, updates or leaves the passage p of source. */
static int
store(struct indexer *x, const char *source, const char *lang,
    const struct sl_kb_passage *p)
{
	struct row key = { 0 }, *r;
	jv params;

	key.source = (char *)source;
	key.position = p->position;
	r = bsearch(&key, x->rows, x->nrows, sizeof *x->rows, row_cmp);
	if (r)
		r->seen = 1;
	if (r && strcmp(r->hash, p->hash) == 0) {
		x->st->unchanged++;
		return 0;
	}
	params = jv_array();
	params = jv_array_append(params, str_or_null(lang));
	params = jv_array_append(params, str_or_null(p->title));
	params = jv_array_append(params, jv_string(p->body));
	params = jv_array_append(params, jv_string(p->hash));
	params = jv_array_append(params, jv_number((double)x->now));
	if (r) {
		params = jv_array_append(params, jv_number((double)r->id));
		if (sl_db_exec(x->db, "UPDATE kb_chunks SET lang = $1, "
		    "title = $2, body = $3, hash = $4, updated_at = $5 "
		    "WHERE id = $6", params) < 0)
			return -1;
		x->st->updated++;
		return 0;
	}
	params = jv_array_append(params, jv_string(source));
	params = jv_array_append(params, jv_number((double)p->position));
	if (sl_db_exec(x->db, "INSERT INTO kb_chunks (lang, title, body, "
	    "hash, updated_at, source, position) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7)", params) < 0)
		return -1;
	x->st->inserted++;
	return 0;
}

/* The whole of a file, or NULL with errno set. */
static char *
slurp(const char *path, size_t *len)
{
	struct sl_buf b = { 0 };
	char chunk[65536];
	size_t n;
	FILE *f;
	int e = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	sl_buf_add(&b, "", 0);
	while (e == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if ((long)(b.len + n) > FILE_MAX)
			e = EFBIG;
		else
			sl_buf_add(&b, chunk, n);
	}
	if (e == 0 && ferror(f))
		e = errno ? errno : EIO;
	if (e) {
		fclose(f);
		free(b.s);
		errno = e;
		return NULL;
	}
	fclose(f);
	*len = b.len;
	return b.s;
}

/* "ru" of "ru/prices.md": a first directory of 2 or 3 letters a-z. */
static char *
dir_lang(const char *source)
{
	const char *slash = strchr(source, '/');
	size_t i, n;

	if (slash == NULL)
		return NULL;
	n = (size_t)(slash - source);
	if (n < 2 || n > 3)
		return NULL;
	for (i = 0; i < n; i++)
		if (source[i] < 'a' || source[i] > 'z')
			return NULL;
	return sl_strndup(source, n);
}

static int
index_file(struct indexer *x, const char *path, const char *source)
{
	struct sl_kb_doc doc;
	char *text, *lang;
	size_t len, i;
	int rc = 0;

	errno = 0;
	if ((text = slurp(path, &len)) == NULL) {
		sl_error("cannot read '%s': %s", path, strerror(errno));
		keep(x, source, 0);
		return 0;
	}
	lang = dir_lang(source);
	sl_kb_split(text, len, lang, &doc);
	x->st->files++;
	x->st->passages += (long)doc.n;
	for (i = 0; i < doc.n && rc == 0; i++)
		rc = store(x, source, doc.lang, &doc.p[i]);
	sl_info("%s: %zu passage%s%s%s", source, doc.n, doc.n == 1 ? "" : "s",
	    doc.lang ? " in " : "", doc.lang ? doc.lang : "");
	sl_kb_doc_free(&doc);
	free(lang);
	free(text);
	return rc;
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
ends_md(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

/* Indexes the directory rel ("" for the top) under root. */
static int
walk(struct indexer *x, const char *root, const char *rel, int depth)
{
	struct dirent **ent = NULL;
	char *dir, *path, *source;
	struct stat sb;
	int n, i, rc = 0;

	dir = *rel ? sl_asprintf("%s/%s", root, rel) : sl_strdup(root);
	if ((n = scandir(dir, &ent, NULL, name_cmp)) < 0) {
		sl_error("cannot read directory '%s': %s", dir,
		    strerror(errno));
		keep(x, rel, 1);
		free(dir);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *name = ent[i]->d_name;

		if (rc < 0 || name[0] == '.') {
			free(ent[i]);
			continue;
		}
		path = sl_asprintf("%s/%s", dir, name);
		source = *rel ? sl_asprintf("%s/%s", rel, name) :
		    sl_strdup(name);
		if (stat(path, &sb) < 0) {
			sl_error("cannot read '%s': %s", path, strerror(errno));
			keep(x, source, 0);
		} else if (S_ISDIR(sb.st_mode) && depth < DEPTH_MAX) {
			rc = walk(x, root, source, depth + 1);
		} else if (S_ISDIR(sb.st_mode)) {
			sl_error("cannot read directory '%s': nested too deep",
			    path);
			keep(x, source, 1);
		} else if (S_ISREG(sb.st_mode) && ends_md(name) &&
		    strcasecmp(name, "README.md") != 0) {
			rc = index_file(x, path, source);
		}
		free(source);
		free(path);
		free(ent[i]);
	}
	free(ent);
	free(dir);
	return rc;
}

/* Deletes the rows of passages that are no more. */
static int
prune(struct indexer *x)
{
	size_t i;

	for (i = 0; i < x->nrows; i++) {
		if (x->rows[i].seen || kept(x, x->rows[i].source))
			continue;
		if (sl_db_exec(x->db, "DELETE FROM kb_chunks WHERE id = $1",
		    JV_ARRAY(jv_number((double)x->rows[i].id))) < 0)
			return -1;
		x->st->deleted++;
	}
	return 0;
}

int
sl_kb_index(struct sl_db *db, const char *dir, int64_t now, int dry_run,
    struct sl_kb_stats *st)
{
	struct indexer x = { 0 };
	int rc = -1;
	size_t i;

	memset(st, 0, sizeof *st);
	x.db = db;
	x.now = now;
	x.st = st;
	if (sl_db_begin_claim(db) < 0)
		return -1;
	if (strcmp(sl_db_engine(db), "postgres") == 0 &&
	    sl_db_exec(db, "LOCK TABLE kb_chunks IN SHARE ROW EXCLUSIVE MODE",
	    jv_array()) < 0)
		goto out;
	if (load_rows(&x) < 0 || walk(&x, dir, "", 0) < 0 || prune(&x) < 0)
		goto out;
	if ((dry_run ? sl_db_rollback(db) : sl_db_commit(db)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && sl_db_in_tx(db))
		rollback_keep(db);
	for (i = 0; i < x.nrows; i++) {
		free(x.rows[i].source);
		free(x.rows[i].hash);
	}
	free(x.rows);
	for (i = 0; i < x.nfailed; i++)
		free(x.failed[i]);
	free(x.failed);
	return rc;
}

/* Query words. */

static const char *const stop_words[] = {
	/* Russian */
	"без", "бы", "вам", "вас", "вы", "где", "да", "для", "до", "его",
	"если", "есть", "ее", "её", "же", "за", "из", "или", "их", "как",
	"ко", "кто", "ли", "мне", "мы", "на", "нам", "нас", "не", "нет",
	"ни", "но", "об", "он", "она", "они", "от", "по", "при", "про",
	"со", "так", "там", "то", "тот", "уже", "чем", "что", "чтобы",
	"ваш", "ваша", "ваше", "ваши", "это", "эта", "эти", "этот",
	/* English */
	"about", "am", "an", "and", "are", "as", "at", "be", "by", "can",
	"do", "does", "for", "from", "has", "have", "how", "if", "in",
	"into", "is", "it", "its", "me", "my", "no", "not", "of", "on",
	"or", "our", "so", "than", "that", "the", "their", "them", "then",
	"there", "these", "they", "this", "those", "to", "us", "was", "we",
	"were", "what", "when", "where", "which", "who", "why", "will",
	"with", "would", "you", "your",
};

enum script { S_NONE, S_LATIN, S_CYRILLIC, S_DIGITS, S_MIXED };

/* 1 for a letter or digit as the tokenizers see one (near enough). */
static int
is_word_cp(long cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9');
	if (cp == 0xd7 || cp == 0xf7)
		return 0;
	return (cp >= 0xc0 && cp <= 0x24f) ||
	    (cp >= 0x370 && cp <= 0x3ff && cp != 0x37e && cp != 0x387) ||
	    (cp >= 0x400 && cp <= 0x52f && (cp < 0x482 || cp > 0x489)) ||
	    (cp >= 0x5d0 && cp <= 0x5ea) || (cp >= 0x620 && cp <= 0x64a) ||
	    (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x4e00 && cp <= 0x9fff) ||
	    (cp >= 0xac00 && cp <= 0xd7a3);
}

static long
lower(long cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xc0 && cp <= 0xde) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	return cp;
}

static int
is_cyrillic(long cp)
{
	return cp >= 0x430 && cp <= 0x45f;
}

static int
ru_soft_end(long cp)
{
	static const long v[] = { 0x430, 0x435, 0x451, 0x438, 0x439, 0x43e,
		0x443, 0x44a, 0x44b, 0x44c, 0x44d, 0x44e, 0x44f };
	size_t i;

	for (i = 0; i < NELEM(v); i++)
		if (cp == v[i])
			return 1;
	return 0;
}

static int
ends(const long *w, size_t n, const char *end)
{
	size_t k = strlen(end), i;

	if (n < k)
		return 0;
	for (i = 0; i < k; i++)
		if (w[n - k + i] != end[i])
			return 0;
	return 1;
}

/*
 * Cuts a word (n lowercase code points of script sc) to its stem;
 * returns 1 when it is to match as a prefix.
 */
static int
stem(long *w, size_t *n, enum script sc)
{
	static const char *const endings[] = { "ies", "ing", "ed", "es",
		"s" };
	size_t i, k;

	if (sc == S_CYRILLIC && *n > 5) {
		*n = 5;
		return 1;
	}
	if (sc == S_CYRILLIC && *n >= 4) {
		if (ru_soft_end(w[*n - 1]))
			(*n)--;
		return 1;
	}
	if (sc != S_LATIN || *n < 4)
		return 0;
	for (i = 0; i < NELEM(endings); i++) {
		k = strlen(endings[i]);
		if (!ends(w, *n, endings[i]) || *n - k < 4)
			continue;
		if (k == 1 && strchr("sui", (int)w[*n - 2]))
			continue;
		*n -= k;
		break;
	}
	if (*n > 4 && (w[*n - 1] == 'e' || w[*n - 1] == 'y'))
		(*n)--;
	return 1;
}

struct term {
	char s[TERM_BYTES * 2];
	int prefix;
};

/* Adds the word w (n code points) to the terms unless it is left out. */
static void
add_term(long *w, size_t n, size_t bytes, struct term *t, size_t *nt)
{
	enum script sc = S_NONE;
	struct term x;
	size_t i, k = 0;

	if (n < 2 || bytes > TERM_BYTES || *nt == TERMS_MAX)
		return;
	for (i = 0; i < n; i++) {
		enum script c = w[i] < 0x80 ? (w[i] <= '9' ? S_DIGITS :
		    S_LATIN) : is_cyrillic(w[i]) ? S_CYRILLIC : S_MIXED;

		sc = sc == S_NONE || sc == c ? c : S_MIXED;
	}
	for (i = 0; i < n; i++)
		k += utf8_put(w[i], x.s + k);
	x.s[k] = '\0';
	for (i = 0; i < NELEM(stop_words); i++)
		if (strcmp(x.s, stop_words[i]) == 0)
			return;
	x.prefix = stem(w, &n, sc);
	for (i = 0, k = 0; i < n; i++)
		k += utf8_put(w[i], x.s + k);
	x.s[k] = '\0';
	for (i = 0; i < *nt; i++)
		if (strcmp(t[i].s, x.s) == 0 && t[i].prefix == x.prefix)
			return;
	t[(*nt)++] = x;
}

char *
sl_kb_query(const char *text, int postgres)
{
	const unsigned char *s = (const unsigned char *)text;
	struct term t[TERMS_MAX];
	long w[TERM_BYTES + 1], cp;
	size_t len = strlen(text), i = 0, n = 0, bytes = 0, k = 0, nt = 0;
	struct sl_buf b = { 0 };

	if (len > QUERY_BYTES)
		len = QUERY_BYTES;
	for (;;) {
		cp = i < len ? utf8_next(s + i, len - i, &k) : -1;
		if (i < len && is_word_cp(cp)) {
			if (n < TERM_BYTES)
				w[n++] = lower(cp);
			bytes += k;
			i += k;
			continue;
		}
		add_term(w, n, bytes, t, &nt);
		n = bytes = 0;
		if (i >= len)
			break;
		i += k;
	}
	sl_buf_add(&b, "", 0);
	for (i = 0; i < nt; i++) {
		if (i && postgres)
			sl_buf_add(&b, " | ", 3);
		else if (i)
			sl_buf_add(&b, " OR ", 4);
		sl_buf_add(&b, postgres ? "'" : "\"", 1);
		sl_buf_add(&b, t[i].s, strlen(t[i].s));
		sl_buf_add(&b, postgres ? "'" : "\"", 1);
		if (t[i].prefix)
			sl_buf_add(&b, postgres ? ":*" : "*", postgres ? 2 : 1);
	}
	return b.s;
}

/* Search. */

static const char search_sqlite[] =
    "SELECT c.source AS source, c.position AS position, c.lang AS lang, "
    "c.title AS title, c.body AS body, "
    "-bm25(kb_fts, 2.0, 1.0) AS score "
    "FROM kb_fts JOIN kb_chunks c ON c.id = kb_fts.rowid "
    "WHERE kb_fts MATCH $1 AND (CAST($2 AS TEXT) IS NULL OR "
    "c.lang = $2 OR c.lang IS NULL) "
    "ORDER BY score DESC, c.source, c.position LIMIT $3";

/*
 * ts_rank knows nothing of how rare a word is, so each term's rank is
 * weighted by ln(1 + passages / passages with the term), as bm25 does,
 * and the terms' ranks are added up: a passage with more of the words,
 * and with the rarer ones, comes first.  Title (A) counts twice the text
 * (B), as on SQLite.  The terms never hold '|', so splitting the
 * expression at " | " gives them back.  MATERIALIZED: counted once per
 * query, not once per passage.
 */
static const char search_pg[] =
    "WITH terms AS (SELECT to_tsquery('simple', w) AS q "
    "FROM unnest(string_to_array($1, ' | ')) AS w), "
    "idf AS MATERIALIZED (SELECT q, "
    "ln(1 + (SELECT count(*) FROM kb_chunks)::float8 / "
    "greatest(1, (SELECT count(*) FROM kb_chunks WHERE tsv @@ terms.q))) "
    "AS w FROM terms) "
    "SELECT source, position, lang, title, body, "
    "(SELECT sum(ts_rank('{0.1, 0.2, 0.5, 1.0}', c.tsv, idf.q, 1) * idf.w) "
    "FROM idf) AS score "
    "FROM kb_chunks c "
    "WHERE c.tsv @@ to_tsquery('simple', $1) AND (CAST($2 AS TEXT) IS NULL "
    "OR c.lang = $2 OR c.lang IS NULL) "
    "ORDER BY score DESC, source, position LIMIT $3";

jv
sl_kb_search(struct sl_db *db, const char *query, const char *lang,
    int limit)
{
	int pg = strcmp(sl_db_engine(db), "postgres") == 0;
	char *q = sl_kb_query(query, pg);
	jv rows;

	if (limit < 1)
		limit = 1;
	if (limit > SL_KB_LIMIT_MAX)
		limit = SL_KB_LIMIT_MAX;
	if (*q == '\0') {
		free(q);
		return jv_array();
	}
	rows = sl_db_query(db, pg ? search_pg : search_sqlite,
	    JV_ARRAY(jv_string(q), str_or_null(lang), jv_number(limit)));
	free(q);
	return rows;
}
