/*
 * kb-index: the knowledge base in the ledger, and searching it.
 *
 * Without --search, splits the Markdown files under --dir (default
 * $SALESLINE_HOME/skills/knowledge) into passages and brings kb_chunks in
 * line with them in one transaction, then prints one kb.indexed record
 * with the counts.  Run it after every change to the files (or from
 * cron): an unchanged passage is not written, so a run over an unchanged
 * tree changes nothing.
 *
 * With --search, prints passage records, best first: for the TEXT
 * arguments, or, without them, for each {"query"|"text", "lang"?,
 * "limit"?} line of stdin, the record's other fields passing through into
 * each of its passages, so that agent-reply can run it as a tool with one
 * JSON line.  A query that matches nothing prints nothing.
 *
 * The splitting rules and the query rule (Russian words match by their
 * first five letters) live in lib/kb.h and kb-index(1).  A missing
 * directory exits 78: the knowledge base is configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "jsonl.h"
#include "kb.h"
#include "sl.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: kb-index [-nv] [--db URL] [--dir DIR]\n"
    "       kb-index [-v] [--db URL] --search [--lang L] [--limit N] "
    "[TEXT ...]\n"
    "       kb-index -h\n";

static const char *dbflag, *dirflag, *langflag;
static int nflag, sflag;
static long limitflag = SL_KB_LIMIT;

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

/* A decimal number in [min, max] or exit 64 naming what. */
static long
number(const char *what, const char *s, long min, long max)
{
	double v;

	if (sl_option_number(what, s, (double)min, (double)max, 1, &v) < 0)
		exit(SL_EX_USAGE);
	return (long)v;
}

static void
options(int argc, char **argv)
{
	enum { O_DB = 256, O_DIR, O_LANG, O_LIMIT };
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "dir", required_argument, NULL, O_DIR },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "lang", required_argument, NULL, O_LANG },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "search", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c, limit = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hnsv", longopts, NULL)) != -1) {
		switch (c) {
		case O_DB: dbflag = optarg; break;
		case O_DIR: dirflag = optarg; break;
		case O_LANG: langflag = optarg; break;
		case O_LIMIT:
			limitflag = number("--limit", optarg, 1,
			    SL_KB_LIMIT_MAX);
			limit = 1;
			break;
		case 'n': nflag = 1; break;
		case 's': sflag = 1; break;
		case 'v': sl_verbose = 1; break;
		case 'h': usage(SL_EX_OK);
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (sflag && (nflag || dirflag))
		sl_error("%s does not go with --search", nflag ? "-n" :
		    "--dir");
	else if (!sflag && (langflag || limit))
		sl_error("%s goes with --search", langflag ? "--lang" :
		    "--limit");
	else if (!sflag && optind < argc)
		sl_error("unexpected argument '%s'", argv[optind]);
	else if (langflag && *langflag == '\0')
		sl_error("--lang: expected a language such as ru or en");
	else
		return;
	usage(SL_EX_USAGE);
}

/* Indexing. */

static int
cmd_index(struct sl_db *db, const char *dir)
{
	struct sl_kb_stats st;
	jv rec;

	if (sl_kb_index(db, dir, sl_now(), nflag, &st) < 0) {
		sl_error("%s", sl_db_error(db));
		return sl_db_exit_code(db);
	}
	rec = jv_object();
	rec = sl_set(rec, "type", jv_string("kb.indexed"));
	rec = sl_set(rec, "files", jv_number(st.files));
	rec = sl_set(rec, "passages", jv_number(st.passages));
	rec = sl_set(rec, "inserted", jv_number(st.inserted));
	rec = sl_set(rec, "updated", jv_number(st.updated));
	rec = sl_set(rec, "deleted", jv_number(st.deleted));
	rec = sl_set(rec, "unchanged", jv_number(st.unchanged));
	rec = sl_set(rec, "failed", jv_number(st.failed));
	if (nflag)
		rec = sl_set(rec, "dry_run", jv_true());
	if (sl_emit(rec) < 0)
		return SL_EX_IOERR;
	return st.failed ? SL_EX_REJECT : SL_EX_OK;
}

/* Searching. */

/*
 * Writes the passages for query, each a copy of base (consumed) with the
 * passage's fields; 0, or an exit status.
 */
static int
emit_passages(struct sl_db *db, jv base, const char *query,
    const char *lang, int limit)
{
	static const char *const fields[] = { "source", "position", "lang",
		"title", "body", "score" };
	jv rows, row, rec;
	int i, n, st = 0;
	size_t f;

	rows = sl_kb_search(db, query, lang, limit);
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		jv_free(base);
		sl_error("%s", sl_db_error(db));
		return sl_db_exit_code(db);
	}
	base = sl_set(base, "type", jv_string("passage"));
	n = jv_array_length(jv_copy(rows));
	for (i = 0; i < n && st == 0; i++) {
		row = jv_array_get(jv_copy(rows), i);
		rec = jv_copy(base);
		for (f = 0; f < sizeof fields / sizeof fields[0]; f++)
			rec = sl_set(rec, fields[f], jv_object_get(jv_copy(row),
			    jv_string(fields[f])));
		jv_free(row);
		if (sl_emit(rec) < 0)
			st = SL_EX_IOERR;
	}
	jv_free(rows);
	jv_free(base);
	return st;
}

static int
search_record(struct sl_reader *r, jv rec, void *ctx)
{
	struct sl_db *db = ctx;
	const char *query, *lang = langflag;
	int64_t limit = limitflag;
	int g;

	if ((g = sl_get_str(rec, "query", &query)) == 0)
		g = sl_get_str(rec, "text", &query);
	if (g <= 0) {
		jv_free(rec);
		return sl_reader_reject(r, g == 0 ? "'query': missing" :
		    "'query': expected a string");
	}
	if ((g = sl_get_str(rec, "lang", &lang)) < 0) {
		jv_free(rec);
		return sl_reader_reject(r, "'lang': expected a string");
	}
	if (g == 0)
		lang = langflag;
	if ((g = sl_get_int(rec, "limit", &limit)) < 0 ||
	    (g == 1 && (limit < 1 || limit > SL_KB_LIMIT_MAX))) {
		jv_free(rec);
		return sl_reader_reject(r, "'limit': expected a number from 1 "
		    "to %d", SL_KB_LIMIT_MAX);
	}
	if (g == 0)
		limit = limitflag;
	return emit_passages(db, rec, query, lang, (int)limit);
}

/* The words of argv joined by spaces, as one query. */
static int
search_args(struct sl_db *db, int argc, char **argv)
{
	size_t len = 0, k;
	char *text;
	int i, st;
	jv base;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	text = sl_malloc(len + 1);
	for (i = 0, k = 0; i < argc; i++) {
		if (i)
			text[k++] = ' ';
		memcpy(text + k, argv[i], strlen(argv[i]));
		k += strlen(argv[i]);
	}
	text[k] = '\0';
	base = sl_set(jv_object(), "query", jv_string(text));
	st = emit_passages(db, base, text, langflag, (int)limitflag);
	free(text);
	return st;
}

int
main(int argc, char **argv)
{
	struct sl_db *db;
	struct stat sb;
	char *dir = NULL;
	int st;

	sl_init("kb-index");
	options(argc, argv);
	if (!sflag) {
		dir = dirflag ? sl_strdup(dirflag) :
		    sl_asprintf("%s/skills/knowledge", sl_home());
		if (stat(dir, &sb) < 0)
			sl_die(SL_EX_CONFIG, "cannot open knowledge directory "
			    "'%s': %s", dir, strerror(errno));
		if (!S_ISDIR(sb.st_mode))
			sl_die(SL_EX_CONFIG, "cannot open knowledge directory "
			    "'%s': not a directory", dir);
		sl_now();	/* a bad SALESLINE_NOW exits 78 here */
	}
	db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	if (!sflag)
		st = cmd_index(db, dir);
	else if (optind < argc)
		st = search_args(db, argc - optind, argv + optind);
	else
		st = sl_jsonl_loop(stdin, "stdin", search_record, db);
	sl_db_close(db);
	free(dir);
	if (sl_out_close() != 0 && (st == SL_EX_OK || st == SL_EX_REJECT))
		st = SL_EX_IOERR;
	return st;
}
