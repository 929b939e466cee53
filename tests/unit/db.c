/*
 * tests/unit/db.c: the ledger interface (lib/db.h) on SQLite, and on
 * PostgreSQL when $TEST_PG_DSN names a server where we may create and drop
 * a scratch database.  The same suite runs on both engines; then come the
 * things only one engine has (busy SQLite file, SKIP LOCKED claims).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"
#include "tap.h"

static char sqldir[4096];

/* How many migrations sql/sqlite holds (the pg ones are the same). */
static int
migrations(void)
{
	char pat[4200];
	glob_t g;
	int n;

	snprintf(pat, sizeof pat, "%s/sqlite/[0-9]*.sql", sqldir);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* Compact sorted JSON of v (consumed), in a static buffer. */
static const char *
dump(jv v)
{
	static char buf[4096];
	jv s;

	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);

		snprintf(buf, sizeof buf, "invalid: %s",
		    jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "?");
		jv_free(msg);
		return buf;
	}
	s = jv_dump_string(v, JV_PRINT_SORTED);
	snprintf(buf, sizeof buf, "%s", jv_string_value(s));
	jv_free(s);
	return buf;
}

static const char *
scalar(struct sl_db *db, const char *sql)
{
	return dump(sl_db_query1(db, sql, jv_null()));
}

/* Opens url, applying migrations; reports the failure as a test point. */
static struct sl_db *
open_db(const char *url, const char *name)
{
	char *err = NULL;
	int temporary = 0;
	struct sl_db *db = sl_db_open(url, sqldir, &err, &temporary);

	if (!ok(db != NULL, "%s", name))
		diag("%s", err ? err : "?");
	free(err);
	return db;
}

/*
 * Forks n processes that each open the fresh ledger url at once; all must
 * succeed and the migration must be recorded once.
 */
static void
concurrent_open(const char *url, int n)
{
	char want[64];
	int i, status, good = 0;
	pid_t pid;
	struct sl_db *db;

	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid == 0) {
			char *err = NULL;
			int temporary = 0;

			db = sl_db_open(url, sqldir, &err, &temporary);
			if (db == NULL)
				fprintf(stderr, "# child: %s\n", err);
			sl_db_close(db);
			free(err);
			_exit(db ? 0 : 1);
		}
	}
	for (i = 0; i < n; i++)
		if (wait(&status) > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			good++;
	is_int(good, n, "concurrent first open: every process succeeds");
	db = open_db(url, "concurrent first open: open afterwards");
	if (db) {
		snprintf(want, sizeof want, "{\"n\":%d,\"v\":1}",
		    migrations());
		is_str(scalar(db, "SELECT count(*) AS n, min(version) AS v "
		    "FROM schema_migrations"), want,
		    "concurrent first open: each migration recorded once");
		sl_db_close(db);
	}
}

/* 1 when a new process opening url gets the lock name: its exit status. */
static int
child_trylock(const char *url, const char *name)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *err = NULL;
		int temporary = 0, r = -1;
		struct sl_db *db = sl_db_open(url, sqldir, &err, &temporary);

		if (db)
			r = sl_db_trylock(db, name);
		sl_db_close(db);
		free(err);
		_exit(r < 0 ? 2 : r);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* sl_db_trylock: one holder per name, until the holder closes. */
static void
named_locks(const char *url)
{
	struct sl_db *a = open_db(url, "lock: first handle");
	struct sl_db *b = open_db(url, "lock: second handle");

	if (!a || !b)
		goto out;
	is_int(sl_db_trylock(a, "tg-fetch:7000000001"), 1, "lock: acquired");
	is_int(sl_db_trylock(a, "tg-fetch:7000000001"), 1,
	    "lock: the holder may ask again");
	is_int(sl_db_trylock(b, "tg-fetch:7000000001"), 0,
	    "lock: another handle is refused");
	is_int(child_trylock(url, "tg-fetch:7000000001"), 0,
	    "lock: another process is refused");
	is_int(sl_db_trylock(b, "tg-fetch:7000000002"), 1,
	    "lock: another name is free");
	is_int(child_trylock(url, "tg-fetch:7000000003"), 1,
	    "lock: another process gets a free name");
	ok(sl_db_trylock(a, "") == -1 && strstr(sl_db_error(a), "name"),
	    "lock: an empty name is an error");
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == 0,
	    "lock: the handle works after taking locks");
	sl_db_close(a);
	a = NULL;
	is_int(child_trylock(url, "tg-fetch:7000000001"), 1,
	    "lock: released when the holder closes");
	is_int(sl_db_trylock(b, "tg-fetch:7000000001"), 1,
	    "lock: then the other handle gets it");
out:
	sl_db_close(a);
	sl_db_close(b);
}

static void
params_suite(struct sl_db *db)
{
	long n;
	jv r;

	ok(sl_db_exec_script(db, "CREATE TEMP TABLE t (s TEXT, i BIGINT, "
	    "r DOUBLE PRECISION, b INTEGER, n TEXT, u TEXT UNIQUE)") == 0,
	    "create a table");
	n = sl_db_exec(db, "INSERT INTO t (s, i, r, b, n) VALUES "
	    "($1, $2, $3, $4, $5)", JV_ARRAY(jv_string("Здравствуйте"),
	    jv_number(-1234567890123.0), jv_number(2.5), jv_true(),
	    jv_null()));
	is_int(n, 1, "insert with a string, integer, real, bool and null");
	n = sl_db_exec(db, "INSERT INTO t (s, i, b) VALUES ($1, $2, $3)",
	    JV_ARRAY(jv_string("second"), jv_string("42"), jv_false()));
	is_int(n, 1, "a string given for an integer column");
	is_str(dump(sl_db_query(db, "SELECT s, i, r, b, n FROM t ORDER BY s",
	    jv_null())),
	    "[{\"b\":0,\"i\":42,\"n\":null,\"r\":null,\"s\":\"second\"},"
	    "{\"b\":1,\"i\":-1234567890123,\"n\":null,\"r\":2.5,"
	    "\"s\":\"Здравствуйте\"}]", "rows come back as typed values");
	is_str(dump(sl_db_query1(db, "SELECT s FROM t WHERE i = $1 AND b = $2",
	    JV_ARRAY(jv_number(42), jv_number(0)))), "{\"s\":\"second\"}",
	    "query1 with parameters");
	is_str(dump(sl_db_query1(db, "SELECT s FROM t WHERE i = $1",
	    JV_ARRAY(jv_number(7)))), "null", "query1 without a row is null");
	is_str(dump(sl_db_query1(db, "SELECT count(*) AS n FROM t "
	    "WHERE s = $1 OR s = $1", JV_ARRAY(jv_string("second")))),
	    "{\"n\":1}", "a placeholder used twice");
	is_str(dump(sl_db_query1(db, "SELECT CAST($1 AS TEXT) IS NULL AS x",
	    JV_ARRAY(jv_null()))),
	    strcmp(sl_db_engine(db), "sqlite") == 0 ? "{\"x\":1}" :
	    "{\"x\":true}", "CAST($1 AS TEXT) for an untyped parameter");

	n = sl_db_exec(db, "INSERT INTO t (s, i) VALUES ($1, $2)",
	    JV_ARRAY(jv_string("x"), JV_OBJECT(jv_string("a"),
	    jv_string("geheim"))));
	ok(n == -1 && strstr(sl_db_error(db), "$2") &&
	    strstr(sl_db_error(db), "an object") &&
	    !strstr(sl_db_error(db), "geheim"),
	    "an object parameter is an error naming $2, not an abort");
	diag("%s", sl_db_error(db));
	ok(!sl_db_temporary(db) && sl_db_exit_code(db) == 74,
	    "a bad parameter is not temporary");
	n = sl_db_exec(db, "INSERT INTO t (s) VALUES ($1)",
	    JV_ARRAY(JV_ARRAY(jv_number(1))));
	ok(n == -1 && strstr(sl_db_error(db), "an array"),
	    "an array parameter is an error");
	r = sl_db_query(db, "SELECT s FROM t", jv_string("oops"));
	ok(!jv_is_valid(r) && strstr(sl_db_error(db), "expected an array"),
	    "parameters that are not an array");
	jv_free(r);
	n = sl_db_exec(db, "INSERT INTO t (s) VALUES ($1)",
	    JV_ARRAY(jv_string_sized("a\0b", 3)));
	ok(n == -1 && strstr(sl_db_error(db), "NUL"),
	    "a string with a NUL byte is refused");
	n = sl_db_exec(db, "INSERT INTO t (s, i) VALUES ($1, $2)",
	    JV_ARRAY(jv_string("only one")));
	ok(n == -1 && !sl_db_temporary(db), "too few parameters: an error, "
	    "not temporary");
	diag("%s", sl_db_error(db));
	ok(sl_db_exec(db, "INSERT INTO t (u) VALUES ($1)",
	    JV_ARRAY(jv_string("secret-value-1"))) == 1 &&
	    sl_db_exec(db, "INSERT INTO t (u) VALUES ($1)",
	    JV_ARRAY(jv_string("secret-value-1"))) == -1 &&
	    strstr(sl_db_error(db), "secret-value") == NULL,
	    "a unique violation does not show the value");
	diag("%s", sl_db_error(db));
	if (strcmp(sl_db_engine(db), "postgres") == 0) {
		ok(sl_db_exec(db, "INSERT INTO t (i) VALUES ($1)",
		    JV_ARRAY(jv_string("not-a-number-secret"))) == -1 &&
		    strstr(sl_db_error(db), "secret") == NULL,
		    "a bad value for a column does not show the value");
		diag("%s", sl_db_error(db));
	} else {
		ok(1, "a bad value for a column # SKIP SQLite stores it");
	}
	ok(sl_db_exec(db, "SELEC 1", jv_null()) == -1 &&
	    !sl_db_temporary(db) && sl_db_exit_code(db) == 74,
	    "a syntax error: -1, not temporary, exit 74");
	ok(sl_db_exec(db, "SELECT 1; SELECT 2", jv_null()) == -1,
	    "two statements are refused");
	is_str(dump(sl_db_query(db, "SELECT 1 AS a; ", jv_null())),
	    "[{\"a\":1}]", "a trailing semicolon is fine");
}

static void
tx_suite(struct sl_db *db)
{
	jv rows;

	ok(sl_db_begin(db) == 0, "begin");
	ok(sl_db_begin(db) == -1, "a second begin is an error");
	sl_db_exec(db, "INSERT INTO t (s) VALUES ('rolled back')", jv_null());
	ok(sl_db_rollback(db) == 0, "rollback");
	is_str(scalar(db, "SELECT count(*) AS n FROM t WHERE s = 'rolled back'"),
	    "{\"n\":0}", "a rolled back insert is gone");
	ok(sl_db_begin(db) == 0 && sl_db_exec(db, "INSERT INTO t (s) VALUES "
	    "('committed')", jv_null()) == 1 && sl_db_commit(db) == 0,
	    "begin, insert, commit");
	is_str(scalar(db, "SELECT count(*) AS n FROM t WHERE s = 'committed'"),
	    "{\"n\":1}", "a committed insert stays");

	rows = sl_db_claim(db, "SELECT s FROM t", jv_null());
	ok(!jv_is_valid(rows), "a claim outside a transaction is an error");
	jv_free(rows);
	ok(sl_db_begin_claim(db) == 0, "begin_claim");
	rows = sl_db_claim(db, "SELECT s FROM t WHERE s = $1 ORDER BY s;\n",
	    JV_ARRAY(jv_string("committed")));
	is_str(dump(rows), "[{\"s\":\"committed\"}]", "claim returns the rows");
	ok(sl_db_exec(db, "UPDATE t SET s = 'claimed' WHERE s = 'committed'",
	    jv_null()) == 1 && sl_db_commit(db) == 0, "claimed rows updated");
}

static void
schema_suite(struct sl_db *db, const char *url)
{
	int pg = strcmp(sl_db_engine(db), "postgres") == 0;
	char buf[1024];
	jv tables;

	is_int(sl_db_version(db), migrations(), "the last version");
	is_int(sl_db_pending(db, sqldir), 0, "nothing pending");
	tables = sl_db_tables(db);
	snprintf(buf, sizeof buf, "%s", dump(tables));
	ok(strstr(buf, "\"scheduled_actions\"") && !strstr(buf, "kb_fts_"),
	    "tables listed, without FTS shadow tables");
	if (!pg) {
		is_str(scalar(db, "PRAGMA journal_mode"),
		    "{\"journal_mode\":\"wal\"}", "WAL mode");
		is_str(scalar(db, "PRAGMA foreign_keys"),
		    "{\"foreign_keys\":1}", "foreign keys on");
	}
	ok(sl_db_exec(db, "INSERT INTO reps (name, created_at, updated_at) "
	    "VALUES ('anna', 1, 1)", jv_null()) == 1 &&
	    sl_db_exec(db, "INSERT INTO prospects (chat, rep_id, created_at, "
	    "updated_at) VALUES ('100', 1, 1, 1) RETURNING id", jv_null()) == 1,
	    "insert a rep and a prospect");
	is_int(sl_db_exec(db, "INSERT INTO prospects (chat, created_at, "
	    "updated_at) VALUES ('100', 2, 2) ON CONFLICT DO NOTHING",
	    jv_null()), 0, "one prospect per channel, connection and chat");
	ok(sl_db_exec(db, "INSERT INTO prospects (chat, created_at, "
	    "updated_at) VALUES ('100', 2, 2)", jv_null()) == -1,
	    "a duplicate prospect without ON CONFLICT fails");
	ok(sl_db_exec(db, "INSERT INTO messages (direction, prospect_id, chat, "
	    "status, at, created_at, updated_at) VALUES ('in', 999, '1', "
	    "'new', 1, 1, 1)", jv_null()) == -1,
	    "foreign keys are enforced");
	ok(sl_db_exec(db, "INSERT INTO scheduled_actions (prospect_id, kind, "
	    "due, created_at, updated_at) VALUES (1, 'followup', 10, 1, 1)",
	    jv_null()) == 1 &&
	    sl_db_exec(db, "INSERT INTO scheduled_actions (prospect_id, kind, "
	    "due, created_at, updated_at) VALUES (1, 'followup', 20, 1, 1) "
	    "ON CONFLICT DO NOTHING", jv_null()) == 0,
	    "at most one pending follow-up per prospect");
	ok(sl_db_exec(db, "INSERT INTO bookings (rep_id, start_at, end_at, "
	    "status, created_at, updated_at) VALUES (1, 100, 200, 'booked', "
	    "1, 1)", jv_null()) == 1 &&
	    sl_db_exec(db, "INSERT INTO bookings (rep_id, start_at, end_at, "
	    "created_at, updated_at) VALUES (1, 100, 200, 1, 1) ON CONFLICT "
	    "DO NOTHING", jv_null()) == 0,
	    "one live booking per rep and start");
	ok(sl_db_exec(db, "UPDATE bookings SET status = 'cancelled'",
	    jv_null()) == 1 &&
	    sl_db_exec(db, "INSERT INTO bookings (rep_id, start_at, end_at, "
	    "created_at, updated_at) VALUES (1, 100, 200, 1, 1)",
	    jv_null()) == 1, "a cancelled booking frees its slot");
	ok(sl_db_exec(db, "INSERT INTO kb_chunks (source, position, title, "
	    "body, updated_at) VALUES ('prices.md', 1, 'Цены', 'Стоимость "
	    "внедрения от 100 000 рублей', 1), ('faq.md', 1, 'Price', "
	    "'Implementation starts at 1,500 USD', 1)", jv_null()) == 2,
	    "knowledge base chunks");
	is_str(dump(sl_db_query(db, pg ?
	    "SELECT source FROM kb_chunks WHERE tsv @@ "
	    "plainto_tsquery('simple', $1)" :
	    "SELECT c.source FROM kb_fts JOIN kb_chunks c ON c.id = "
	    "kb_fts.rowid WHERE kb_fts MATCH $1",
	    JV_ARRAY(jv_string("стоимость")))), "[{\"source\":\"prices.md\"}]",
	    "full-text search finds a Russian word");
	is_str(dump(sl_db_query(db, pg ?
	    "SELECT source FROM kb_chunks WHERE tsv @@ "
	    "plainto_tsquery('simple', $1)" :
	    "SELECT c.source FROM kb_fts JOIN kb_chunks c ON c.id = "
	    "kb_fts.rowid WHERE kb_fts MATCH $1",
	    JV_ARRAY(jv_string("implementation")))),
	    "[{\"source\":\"faq.md\"}]", "full-text search finds an English "
	    "word");
	(void)url;
}

static void
reopen_suite(const char *url)
{
	char *err = NULL;
	int temporary = 0;
	struct sl_db *db = sl_db_open_raw(url, &err, &temporary);

	ok(db != NULL, "open_raw a migrated ledger");
	if (db) {
		is_int(sl_db_migrate(db, sqldir), 0,
		    "the second open applies nothing");
		sl_db_close(db);
	}
	free(err);
}

static void
suite(const char *url)
{
	struct sl_db *db = open_db(url, "open and migrate");

	if (db == NULL)
		return;
	schema_suite(db, url);
	params_suite(db);
	tx_suite(db);
	sl_db_close(db);
	reopen_suite(url);
}

/* A failing migration is rolled back whole and named; others stay. */
static void
bad_migration(const char *dir)
{
	char *cmd, *bad, *url, *err = NULL;
	struct sl_db *db;
	int temporary = 0;
	FILE *f;

	cmd = sl_asprintf("mkdir -p '%s/bad/sqlite' && cp '%s/sqlite/001-init.sql' "
	    "'%s/bad/sqlite/' && echo x >'%s/bad/sqlite/README' && "
	    "echo x >'%s/bad/sqlite/abc.sql'", dir, sqldir, dir, dir, dir);
	ok(system(cmd) == 0, "a migrations directory with a bad 002");
	free(cmd);
	bad = sl_asprintf("%s/bad/sqlite/002-broken.sql", dir);
	if ((f = fopen(bad, "w")) != NULL) {
		fputs("CREATE TABLE half (a INTEGER);\nSELEC 1;\n", f);
		fclose(f);
	}
	free(bad);
	bad = sl_asprintf("%s/bad", dir);
	url = sl_asprintf("%s/bad.db", dir);
	db = sl_db_open(url, bad, &err, &temporary);
	ok(db == NULL && err && strstr(err, "002-broken.sql") && !temporary,
	    "the failing migration is named");
	diag("%s", err ? err : "");
	free(err);
	sl_db_close(db);
	db = sl_db_open_raw(url, &err, &temporary);
	if (db) {
		is_int(sl_db_version(db), 1, "the good migration stays applied");
		is_int(sl_db_pending(db, bad), 1, "the bad one is pending");
		is_str(scalar(db, "SELECT count(*) AS n FROM sqlite_master "
		    "WHERE name = 'half'"), "{\"n\":0}",
		    "its first statement was rolled back");
		sl_db_close(db);
	}
	free(url);
	free(bad);
}

static void
sqlite_only(const char *dir)
{
	struct sl_db *a, *b;
	char *url, *err = NULL;
	int temporary = 0, i;
	FILE *f;

	url = sl_asprintf("%s/busy.db", dir);
	a = open_db(url, "open a first connection");
	setenv("SALESLINE_DB_BUSY_MS", "100", 1);
	b = open_db(url, "open a second connection with a 100 ms timeout");
	unsetenv("SALESLINE_DB_BUSY_MS");
	if (a && b) {
		ok(sl_db_begin_claim(a) == 0, "the first takes the write lock");
		ok(sl_db_begin_claim(b) == -1 && sl_db_temporary(b) &&
		    sl_db_exit_code(b) == 75, "the second is busy: temporary, "
		    "exit 75");
		diag("%s", sl_db_error(b));
		ok(sl_db_exec(b, "INSERT INTO state (key, updated_at) VALUES "
		    "('k', 1)", jv_null()) == -1 && sl_db_temporary(b),
		    "a write without a transaction is busy too");
		is_str(scalar(b, "SELECT count(*) AS n FROM state"),
		    "{\"n\":0}", "reading goes on beside the writer (WAL)");
		ok(sl_db_commit(a) == 0 && sl_db_begin_claim(b) == 0 &&
		    sl_db_rollback(b) == 0, "after the commit the second "
		    "gets the lock");
	}
	sl_db_close(a);
	sl_db_close(b);
	free(url);

	url = sl_asprintf("%s/not-a-db", dir);
	f = fopen(url, "w");
	for (i = 0; f && i < 200; i++)
		fputs("this is not an SQLite database file\n", f);
	if (f)
		fclose(f);
	a = sl_db_open(url, sqldir, &err, &temporary);
	ok(a == NULL && err && !temporary, "a file that is not a database");
	diag("%s", err ? err : "");
	free(err);
	err = NULL;
	free(url);

	url = sl_asprintf("%s/m.db", dir);
	a = sl_db_open(url, "/nonexistent/sql", &err, &temporary);
	ok(a == NULL && err && strstr(err, "migrations directory") &&
	    !temporary, "a missing migrations directory");
	diag("%s", err ? err : "");
	free(err);
	free(url);

	bad_migration(dir);
	for (i = 0; i < 3; i++) {
		url = sl_asprintf("%s/race-%d/ledger.db", dir, i);
		concurrent_open(url, 4);
		free(url);
	}
}

/* base with its database replaced by name. */
static char *
dsn_with_db(const char *base, const char *name)
{
	const char *p, *q;

	if (strncmp(base, "postgres", 8) != 0 || !strstr(base, "://"))
		return sl_asprintf("%s dbname=%s", base, name);
	p = strstr(base, "://") + 3;
	p += strcspn(p, "/?");
	q = p;
	if (*q == '/')
		q += strcspn(q, "?");
	return sl_asprintf("%.*s/%s%s", (int)(p - base), base, name, q);
}

static void
pg_claims(const char *url)
{
	struct sl_db *a = open_db(url, "claims: first connection");
	struct sl_db *b = open_db(url, "claims: second connection");
	const char *sel = "SELECT id FROM scheduled_actions WHERE status = "
	    "'pending' AND kind = 'reminder_1h' ORDER BY id LIMIT 5";
	int i, j, same = 0;
	jv ra, rb;

	if (!a || !b)
		goto out;
	for (i = 0; i < 10; i++)
		sl_db_exec(a, "INSERT INTO scheduled_actions (prospect_id, kind, "
		    "due, created_at, updated_at) VALUES (1, 'reminder_1h', $1, "
		    "1, 1)", JV_ARRAY(jv_number(i)));
	ok(sl_db_begin_claim(a) == 0 && sl_db_begin_claim(b) == 0,
	    "two claiming transactions");
	ra = sl_db_claim(a, sel, jv_null());
	rb = sl_db_claim(b, sel, jv_null());
	ok(jv_is_valid(ra) && jv_is_valid(rb) &&
	    jv_array_length(jv_copy(ra)) == 5 &&
	    jv_array_length(jv_copy(rb)) == 5, "each claimer gets five rows");
	for (i = 0; i < 5 && jv_is_valid(ra) && jv_is_valid(rb); i++)
		for (j = 0; j < 5; j++)
			same += jv_equal(jv_array_get(jv_copy(ra), i),
			    jv_array_get(jv_copy(rb), j));
	is_int(same, 0, "the second claimer skips the first one's rows");
	jv_free(ra);
	jv_free(rb);
	ok(sl_db_commit(a) == 0 && sl_db_commit(b) == 0, "both commit");

	ok(sl_db_begin(a) == 0 && sl_db_exec(a, "SELEC", jv_null()) == -1 &&
	    sl_db_commit(a) == -1 && strstr(sl_db_error(a), "rolled back"),
	    "COMMIT after a failed statement reports the rollback");
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == 0,
	    "the connection is usable afterwards");
out:
	sl_db_close(a);
	sl_db_close(b);
}

/* The server ends a connection: temporary, then reconnected. */
static void
pg_lost(struct sl_db *admin, const char *url)
{
	struct sl_db *a = open_db(url, "lost connection: open");
	jv pid;

	if (a == NULL)
		return;
	pid = sl_db_query1(a, "SELECT pg_backend_pid() AS pid", jv_null());
	pid = jv_get_kind(pid) == JV_KIND_OBJECT ?
	    jv_object_get(pid, jv_string("pid")) : (jv_free(pid), jv_null());
	ok(jv_get_kind(pid) == JV_KIND_NUMBER && sl_db_exec(admin,
	    "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 5000)",
	    JV_ARRAY(pid)) == 0,
	    "lost connection: the server terminates it");
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == -1 && sl_db_temporary(a) &&
	    sl_db_exit_code(a) == 75, "the next statement fails: temporary");
	diag("%s", sl_db_error(a));
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == 0,
	    "the one after that reconnects");
	sl_db_close(a);
}

/* A handle holding a named lock never reconnects behind its holder's back. */
static void
pg_lost_lock(struct sl_db *admin, const char *url)
{
	struct sl_db *a = open_db(url, "lost connection with a lock: open");
	jv pid;

	if (a == NULL)
		return;
	ok(sl_db_trylock(a, "tg-fetch:9") == 1, "lost connection: lock taken");
	pid = sl_db_query1(a, "SELECT pg_backend_pid() AS pid", jv_null());
	pid = jv_get_kind(pid) == JV_KIND_OBJECT ?
	    jv_object_get(pid, jv_string("pid")) : (jv_free(pid), jv_null());
	sl_db_exec(admin, "SELECT pg_terminate_backend(CAST($1 AS INTEGER), "
	    "5000)", JV_ARRAY(pid));
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == -1 && sl_db_temporary(a),
	    "lost connection with a lock: the next statement fails");
	ok(sl_db_exec(a, "SELECT 1", jv_null()) == -1 && sl_db_temporary(a),
	    "lost connection with a lock: no silent reconnection");
	is_int(child_trylock(url, "tg-fetch:9"), 1,
	    "lost connection with a lock: the lock is free for others");
	sl_db_close(a);
}

static void
pg_all(const char *dsn)
{
	struct sl_db *admin;
	char *err = NULL, *name, *url;
	int temporary = 0, i;

	admin = sl_db_open_raw(dsn, &err, &temporary);
	if (!ok(admin != NULL, "[postgres] connect to TEST_PG_DSN")) {
		diag("%s", err ? err : "");
		free(err);
		return;
	}
	name = sl_asprintf("t_unit_%ld", (long)getpid());
	url = dsn_with_db(dsn, name);
	{
		char *sql = sl_asprintf("CREATE DATABASE %s", name);

		ok(sl_db_exec(admin, sql, jv_null()) == 0,
		    "[postgres] create a scratch database");
		free(sql);
	}
	suite(url);
	named_locks(url);
	pg_claims(url);
	pg_lost(admin, url);
	pg_lost_lock(admin, url);
	for (i = 0; i < 2; i++) {
		char *n2 = sl_asprintf("%s_race%d", name, i);
		char *sql = sl_asprintf("CREATE DATABASE %s", n2);
		char *u2 = dsn_with_db(dsn, n2);

		sl_db_exec(admin, sql, jv_null());
		free(sql);
		concurrent_open(u2, 4);
		sql = sl_asprintf("DROP DATABASE %s WITH (FORCE)", n2);
		sl_db_exec(admin, sql, jv_null());
		free(sql);
		free(u2);
		free(n2);
	}
	{
		char *sql = sl_asprintf("DROP DATABASE %s WITH (FORCE)", name);

		ok(sl_db_exec(admin, sql, jv_null()) == 0,
		    "[postgres] drop the scratch database");
		free(sql);
	}
	free(url);
	free(name);
	sl_db_close(admin);
}

static void
errors_and_redaction(void)
{
	struct {
		const char *in, *want;
	} red[] = {
		{ "postgres://u:secret@h/db", "postgres://u:***@h/db" },
		{ "postgresql://u:p%40ss@h:5432/db?sslmode=require",
		    "postgresql://u:***@h:5432/db?sslmode=require" },
		{ "postgres://u@h/db", "postgres://u@h/db" },
		{ "postgres://h/db?user=u&password=pw&x=1",
		    "postgres://h/db?user=u&password=***&x=1" },
		{ "host=h dbname=d password=secret user=u",
		    "host=h dbname=d password=*** user=u" },
		{ "host=h password = 'se cr\\'et' dbname=d",
		    "host=h password = *** dbname=d" },
		{ "var/salesline.db", "var/salesline.db" },
	};
	size_t i;
	char *s, *err = NULL;
	int temporary = 0;
	struct sl_db *db;

	for (i = 0; i < sizeof red / sizeof red[0]; i++) {
		s = sl_db_url_redact(red[i].in);
		is_str(s, red[i].want, red[i].in);
		free(s);
	}
	db = sl_db_open("postgres://u:topsecretpw@127.0.0.1:1/x", sqldir, &err,
	    &temporary);
	ok(db == NULL && temporary && err && !strstr(err, "topsecretpw"),
	    "unreachable PostgreSQL: temporary, no password in the message");
	diag("%s", err ? err : "");
	free(err);
	err = NULL;
	db = sl_db_open("host=h port=notaport =", sqldir, &err, &temporary);
	ok(db == NULL && !temporary, "a bad conninfo is not temporary");
	diag("%s", err ? err : "");
	free(err);
}

int
main(void)
{
	char dir[] = "/tmp/sl-db-test.XXXXXX", *url, *cmd;
	const char *home, *dsn;

	sl_init("db-test");
	home = getenv("SALESLINE_HOME");
	snprintf(sqldir, sizeof sqldir, "%s/sql", home ? home : ".");
	if (access(sqldir, R_OK) != 0)
		snprintf(sqldir, sizeof sqldir, "sql");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	diag("sqlite");
	url = sl_asprintf("%s/new/dir/ledger.db", dir);
	suite(url);
	named_locks(url);
	free(url);
	sqlite_only(dir);
	errors_and_redaction();
	dsn = getenv("TEST_PG_DSN");
	if (dsn && *dsn) {
		diag("postgres");
		pg_all(dsn);
	} else {
		ok(1, "PostgreSQL # SKIP TEST_PG_DSN is not set");
	}
	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
