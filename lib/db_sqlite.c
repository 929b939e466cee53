/*
 * db_sqlite.c: the ledger on an SQLite file, the embedded default.
 *
 * The file (and its directory) is created when missing, readable by its
 * owner only.  WAL mode lets readers run beside the one writer; a busy
 * timeout (5 s, $SALESLINE_DB_BUSY_MS) makes a second writer wait instead
 * of failing, and SQLITE_BUSY/SQLITE_LOCKED after it counts as temporary.
 * Foreign keys are enforced.  Placeholders $1, $2 ... are SQLite's named
 * parameters, bound by name.  Prepared statements are kept in a small cache
 * keyed by their text, so a loop of inserts does not parse each one again;
 * an entry also remembers where the caller's text was (a static string is
 * found again by its address, its text compared once) and which $N each
 * placeholder is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db_impl.h"
#include "jsonl.h"
#include "sl.h"

#define CACHE_N 32

struct sq_stmt {
	char *sql;
	const char *at;		/* the caller's text last time */
	sqlite3_stmt *st;
	int *arg;		/* placeholder i + 1 is $arg[i] */
	int nargs;
};

struct sq_lock {
	char *name;
	int fd;
};

struct sq {
	struct sq_stmt cache[CACHE_N];
	unsigned next;
	struct sq_lock *locks;	/* sl_db_trylock's, held until close */
	size_t nlocks;
};

static int
sq_fail(struct sl_db *db, int rc, const char *what)
{
	sqlite3 *h = db->h;
	int prim = rc & 0xff;
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);

	if (prim == SQLITE_NOTADB)
		return sl_db_fail(db, 0, SL_EX_CONFIG, "%s%s", what, msg);
	return sl_db_fail(db, prim == SQLITE_BUSY || prim == SQLITE_LOCKED, 0,
	    "%s%s", what, msg);
}

/* Creates the directories leading to path (mkdir -p of its dirname). */
static int
make_parents(struct sl_db *db, const char *path)
{
	char *dir = sl_strdup(path), *p;

	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			sl_db_fail(db, 0, 0, "cannot create directory '%s': %s",
			    dir, strerror(errno));
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

static int
sq_prepare(struct sl_db *db, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt *st = NULL, *more = NULL;
	const char *tail = NULL;
	int rc;

	rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    &tail);
	if (rc != SQLITE_OK)
		return sq_fail(db, rc, "");
	if (st == NULL)
		return sl_db_fail(db, 0, 0, "no statement to run");
	if (tail && *tail) {
		/* only whitespace and comments may follow */
		rc = sqlite3_prepare_v2(db->h, tail, -1, &more, NULL);
		if (rc != SQLITE_OK || more != NULL) {
			sqlite3_finalize(more);
			sqlite3_finalize(st);
			return sl_db_fail(db, 0, 0,
			    "more than one statement given");
		}
	}
	*out = st;
	return 0;
}

/* Which $N each placeholder of st is, into e; -1 for one that is not. */
static int
sq_args(struct sl_db *db, sqlite3_stmt *st, struct sq_stmt *e)
{
	int i, n = sqlite3_bind_parameter_count(st);

	e->arg = n > 0 ? sl_calloc((size_t)n, sizeof *e->arg) : NULL;
	e->nargs = n;
	for (i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i), *c;

		if (name == NULL || name[0] != '$' || name[1] == '\0')
			return sl_db_fail(db, 0, 0, "placeholder '%s' is not "
			    "supported: write $1, $2 ...", name ? name : "?");
		for (c = name + 1; *c; c++)
			if (*c < '0' || *c > '9' || c - name > 6)
				return sl_db_fail(db, 0, 0, "placeholder '%s' "
				    "is not supported: write $1, $2 ...", name);
		e->arg[i - 1] = (int)strtol(name + 1, NULL, 10);
	}
	return 0;
}

static void
sq_entry_free(struct sq_stmt *e)
{
	free(e->sql);
	sqlite3_finalize(e->st);
	free(e->arg);
	memset(e, 0, sizeof *e);
}

static int
sq_stmt_get(struct sl_db *db, const char *sql, struct sq_stmt **out)
{
	struct sq *q = db->priv;
	sqlite3_stmt *st = NULL;
	struct sq_stmt *e;
	unsigned i;

	for (i = 0; i < CACHE_N; i++) {
		e = &q->cache[i];
		if (e->at == sql && e->sql && strcmp(e->sql, sql) == 0) {
			*out = e;
			return 0;
		}
	}
	for (i = 0; i < CACHE_N; i++) {
		e = &q->cache[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->at = sql;
			*out = e;
			return 0;
		}
	}
	if (sq_prepare(db, sql, &st) < 0)
		return -1;
	e = &q->cache[q->next];
	q->next = (q->next + 1) % CACHE_N;
	sq_entry_free(e);
	e->st = st;
	if (sq_args(db, st, e) < 0) {
		sq_entry_free(e);
		return -1;
	}
	e->sql = sl_strdup(sql);
	e->at = sql;
	*out = e;
	return 0;
}

static int
sq_bind(struct sl_db *db, const struct sq_stmt *e,
    const struct sl_db_param *p, int np)
{
	sqlite3_stmt *st = e->st;
	int i, rc = SQLITE_OK;

	for (i = 1; i <= e->nargs; i++) {
		const struct sl_db_param *v;
		int k = e->arg[i - 1];

		if (k < 1 || k > np)
			return sl_db_fail(db, 0, 0, "the statement uses $%d "
			    "but %d parameters were given", k, np);
		v = &p[k - 1];
		switch (v->kind) {
		case SL_DB_PNULL:
			rc = sqlite3_bind_null(st, i);
			break;
		case SL_DB_PINT:
			rc = sqlite3_bind_int64(st, i, v->i);
			break;
		case SL_DB_PREAL:
			rc = sqlite3_bind_double(st, i, v->d);
			break;
		case SL_DB_PTEXT:
			rc = sqlite3_bind_text64(st, i, v->s, v->len,
			    SQLITE_STATIC, SQLITE_UTF8);
			break;
		}
		if (rc != SQLITE_OK)
			return sq_fail(db, rc, "cannot bind a parameter: ");
	}
	return 0;
}

static jv
sq_row(sqlite3_stmt *st)
{
	int i, n = sqlite3_column_count(st);
	jv row = jv_object();

	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		const void *b;
		jv v;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = jv_number((double)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = jv_number(sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			b = sqlite3_column_text(st, i);
			v = jv_string_sized(b ? b : "",
			    sqlite3_column_bytes(st, i));
			break;
		case SQLITE_BLOB:
			b = sqlite3_column_blob(st, i);
			v = jv_string_sized(b ? b : "",
			    sqlite3_column_bytes(st, i));
			break;
		default:
			v = jv_null();
			break;
		}
		row = jv_object_set(row, sl_key(name ? name : "?"), v);
	}
	return row;
}

static int
sq_run(struct sl_db *db, const char *sql, const struct sl_db_param *p,
    int np, jv *rows, long *changes)
{
	struct sq_stmt *e;
	sqlite3_stmt *st;
	int rc, ret = -1;
	jv out;

	/* ROLLBACK after SQLite already ended the transaction is fine */
	if (strcmp(sql, "ROLLBACK") == 0 && sqlite3_get_autocommit(db->h))
		return 0;
	if (sq_stmt_get(db, sql, &e) < 0)
		return -1;
	st = e->st;
	out = jv_array();
	if (sq_bind(db, e, p, np) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (rows)
			out = jv_array_append(out, sq_row(st));
	if (rc != SQLITE_DONE) {
		sq_fail(db, rc, "");
		goto out;
	}
	*changes = sqlite3_stmt_readonly(st) ? 0 :
	    (long)sqlite3_changes64(db->h);
	if (rows) {
		*rows = out;
		out = jv_invalid();
	}
	ret = 0;
out:
	jv_free(out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
sq_script(struct sl_db *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int prim = rc & 0xff;

		sl_db_fail(db, prim == SQLITE_BUSY || prim == SQLITE_LOCKED, 0,
		    "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
sq_has_migrations(struct sl_db *db)
{
	jv row = sl_db_query1(db, "SELECT 1 AS x FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'schema_migrations'", jv_null());
	int kind = jv_get_kind(row);

	jv_free(row);
	if (kind == JV_KIND_INVALID)
		return -1;
	return kind == JV_KIND_OBJECT;
}

static int
sq_begin_migrate(struct sl_db *db)
{
	return sl_db_exec(db, "BEGIN IMMEDIATE", jv_null()) < 0 ? -1 : 0;
}

/* flock(2) on "<ledger>.<name>.lock": the lock dies with the process. */
static int
sq_trylock(struct sl_db *db, const char *name)
{
	struct sq *q = db->priv;
	const char *file = sqlite3_db_filename(db->h, "main");
	char *path, *p;
	size_t i;
	int fd;

	for (i = 0; i < q->nlocks; i++)
		if (strcmp(q->locks[i].name, name) == 0)
			return 1;
	if (file == NULL || *file == '\0')
		return 1;	/* in memory: no other process can share it */
	path = sl_asprintf("%s.%s.lock", file, name);
	for (p = path + strlen(file) + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		sl_db_fail(db, 0, 0, "cannot open lock file '%s': %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK) {
			free(path);
			return 0;
		}
		sl_db_fail(db, 0, 0, "cannot lock '%s': %s", path, strerror(e));
		free(path);
		return -1;
	}
	free(path);
	q->locks = sl_realloc(q->locks, (q->nlocks + 1) * sizeof *q->locks);
	q->locks[q->nlocks].name = sl_strdup(name);
	q->locks[q->nlocks].fd = fd;
	q->nlocks++;
	return 1;
}

static void
sq_close(struct sl_db *db)
{
	struct sq *q = db->priv;
	unsigned i;

	if (q) {
		for (i = 0; i < CACHE_N; i++)
			sq_entry_free(&q->cache[i]);
		for (i = 0; i < q->nlocks; i++) {
			close(q->locks[i].fd);
			free(q->locks[i].name);
		}
		free(q->locks);
		free(q);
	}
	sqlite3_close(db->h);
	db->h = NULL;
	db->priv = NULL;
}

static const struct sl_db_ops sq_ops = {
	.engine = "sqlite",
	.dir = "sqlite",
	.has_migrations = sq_has_migrations,
	.create_migrations = "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at INTEGER NOT NULL)",
	.begin_migrate = sq_begin_migrate,
	.list_tables = "SELECT name FROM pragma_table_list WHERE schema = "
	    "'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' "
	    "ORDER BY name",
	.run = sq_run,
	.script = sq_script,
	.begin_claim = "BEGIN IMMEDIATE",
	.claim_suffix = "",
	.trylock = sq_trylock,
	.close = sq_close,
};

int
sl_db_sqlite_open(struct sl_db *db, const char *path)
{
	static int configured;
	sqlite3 *h = NULL;
	long long busy, tries;
	int rc, fd;
	jv mode;

	if (strncmp(path, "sqlite://", 9) == 0)
		path += 9;
	else if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	if (*path == '\0')
		return sl_db_fail(db, 0, SL_EX_CONFIG, "no SQLite file named");
	busy = sl_env_int("SALESLINE_DB_BUSY_MS", 5000, 0, 3600000);
	if (strcmp(path, ":memory:") != 0) {
		if (make_parents(db, path) < 0)
			return -1;
		/* created here so that it is the owner's only */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return sl_db_fail(db, 0, errno == EISDIR ?
			    SL_EX_CONFIG : 0, "cannot open '%s': %s", path,
			    strerror(errno));
		close(fd);
	}
	/*
	 * No memory statistics: they take a global mutex on every malloc.
	 * Only possible before SQLite initialises, so once, at the first open.
	 */
	if (!configured) {
		configured = 1;
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	db->h = h;
	db->ops = &sq_ops;
	db->priv = sl_calloc(1, sizeof(struct sq));
	if (rc != SQLITE_OK)
		return sq_fail(db, rc, "");
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, (int)busy);
	/*
	 * Turning a new file to WAL takes its exclusive lock, and SQLite
	 * answers "locked" without waiting when another process opening the
	 * same new file holds it: wait here, as the busy timeout would.
	 */
	for (tries = 0;; tries++) {
		mode = sl_db_query1(db, "PRAGMA journal_mode = WAL", jv_null());
		if (jv_is_valid(mode))
			break;
		jv_free(mode);
		if (!sl_db_temporary(db) || tries * 10 >= busy)
			return -1;
		sl_sleep_ms(10);
	}
	jv_free(mode);
	if (sl_db_exec(db, "PRAGMA foreign_keys = ON", jv_null()) < 0)
		return -1;
	return 0;
}
