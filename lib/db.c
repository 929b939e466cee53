/*
 * db.c: the ledger's engine-neutral half: the handle and its errors,
 * parameters checked before they reach an engine, transactions, the claim
 * helper, migrations and URL redaction.  lib/db_sqlite.c and lib/db_pg.c
 * talk to the libraries (db_impl.h).
 *
 * Migrations are files sql/ENGINE/NNN-name.sql, applied in numeric order.
 * Each runs in its own transaction together with its schema_migrations
 * row, and the transaction is opened so that a second process waits for
 * the first (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL)
 * and then finds the migration applied.  When every migration is already
 * recorded no lock is taken at all, so opening a migrated ledger is cheap.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_impl.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"

#define MIGRATION_MAX (16 * 1024 * 1024)

struct migration {
	long version;
	char *file;		/* "001-init.sql" */
	char *name;		/* "init" */
	char *path;
};

int
sl_db_fail(struct sl_db *db, int temporary, int code, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	free(db->err);
	db->err = sl_strdup(buf);
	db->temporary = temporary != 0;
	if (code == 0)
		code = temporary ? SL_EX_TEMPFAIL : SL_EX_IOERR;
	db->code = code;
	return -1;
}

static void
db_clear(struct sl_db *db)
{
	free(db->err);
	db->err = NULL;
	db->temporary = 0;
	db->code = 0;
}

int
sl_db_is_pg_url(const char *url)
{
	const char *p;

	if (strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0)
		return 1;
	/* a libpq conninfo: "host=... dbname=..." starts with keyword= */
	for (p = url; *p == ' ' || *p == '\t'; p++)
		;
	if (!islower((unsigned char)*p))
		return 0;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

static struct sl_db *
db_open(const char *url, const char *sqldir, int migrate, char **err,
    int *code)
{
	struct sl_db *db;
	int rc;

	*err = NULL;
	*code = 0;
	if (url == NULL || *url == '\0') {
		*err = sl_strdup("no ledger given (SALESLINE_DB)");
		*code = SL_EX_CONFIG;
		return NULL;
	}
	db = sl_calloc(1, sizeof *db);
	if (sl_db_is_pg_url(url))
		rc = sl_db_pg_open(db, url);
	else
		rc = sl_db_sqlite_open(db, url);
	if (rc == 0 && migrate && sl_db_migrate(db, sqldir) < 0)
		rc = -1;
	if (rc < 0) {
		*err = db->err ? db->err : sl_strdup("cannot open the ledger");
		db->err = NULL;
		*code = db->code ? db->code : SL_EX_IOERR;
		sl_db_close(db);
		return NULL;
	}
	return db;
}

struct sl_db *
sl_db_open(const char *url, const char *sqldir, char **err, int *temporary)
{
	struct sl_db *db;
	int code;

	db = db_open(url, sqldir, 1, err, &code);
	if (temporary)
		*temporary = code == SL_EX_TEMPFAIL;
	return db;
}

struct sl_db *
sl_db_open_raw(const char *url, char **err, int *temporary)
{
	struct sl_db *db;
	int code;

	db = db_open(url, NULL, 0, err, &code);
	if (temporary)
		*temporary = code == SL_EX_TEMPFAIL;
	return db;
}

struct sl_db *
sl_db_open_or_die(const char *url, const char *sqldir, int migrate)
{
	struct sl_db *db;
	char *err, *shown;
	int code;

	db = db_open(url, sqldir, migrate, &err, &code);
	if (db)
		return db;
	shown = sl_db_url_redact(url ? url : "");
	sl_error("cannot open ledger '%s': %s%s", shown, err,
	    code == SL_EX_CONFIG && !strstr(err, "SALESLINE_") ?
	    " (check --db, SALESLINE_DB or DATABASE_URL)" : "");
	free(shown);
	free(err);
	exit(code);
}

void
sl_db_close(struct sl_db *db)
{
	if (db == NULL)
		return;
	if (db->ops)
		db->ops->close(db);
	free(db->err);
	free(db);
}

const char *
sl_db_engine(const struct sl_db *db)
{
	return db->ops->engine;
}

jv
sl_db_column(struct sl_db *db, const char *sql, jv params, const char *col)
{
	jv rows, out;
	int i, len;

	rows = sl_db_query(db, sql, params);
	if (!jv_is_valid(rows))
		return rows;
	out = jv_array();
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len; i++) {
		jv row = jv_array_get(jv_copy(rows), i);

		out = jv_array_append(out, jv_object_get(row, jv_string(col)));
	}
	jv_free(rows);
	return out;
}

jv
sl_db_tables(struct sl_db *db)
{
	return sl_db_column(db, db->ops->list_tables, jv_null(), "name");
}

const char *
sl_db_error(const struct sl_db *db)
{
	return db->err ? db->err : "no error";
}

int
sl_db_temporary(const struct sl_db *db)
{
	return db->temporary;
}

int
sl_db_exit_code(const struct sl_db *db)
{
	if (db->temporary)
		return SL_EX_TEMPFAIL;
	return db->code ? db->code : SL_EX_IOERR;
}

/*
 * Checks and converts params (consumed by the caller, not here: the
 * strings point into it).  Never puts a value into a message.
 */
static int
db_params(struct sl_db *db, jv params, struct sl_db_param **out, int *n)
{
	struct sl_db_param *p;
	int i, len;

	*out = NULL;
	*n = 0;
	if (jv_get_kind(params) == JV_KIND_NULL)
		return 0;
	if (!jv_is_valid(params))
		return sl_db_fail(db, 0, 0, "parameters: not a valid value");
	if (jv_get_kind(params) != JV_KIND_ARRAY)
		return sl_db_fail(db, 0, 0,
		    "parameters: expected an array, not %s",
		    sl_kind_name(params));
	len = jv_array_length(jv_copy(params));
	if (len == 0)
		return 0;
	p = sl_calloc((size_t)len, sizeof *p);
	for (i = 0; i < len; i++) {
		jv v = jv_array_get(jv_copy(params), i);
		double d;

		switch (jv_get_kind(v)) {
		case JV_KIND_NULL:
			p[i].kind = SL_DB_PNULL;
			break;
		case JV_KIND_TRUE:
		case JV_KIND_FALSE:
			p[i].kind = SL_DB_PINT;
			p[i].i = jv_get_kind(v) == JV_KIND_TRUE;
			break;
		case JV_KIND_NUMBER:
			d = jv_number_value(v);
			if (!isfinite(d)) {
				jv_free(v);
				free(p);
				return sl_db_fail(db, 0, 0,
				    "parameter $%d: not a finite number", i + 1);
			}
			if (d == floor(d) && d >= -9223372036854775808.0 &&
			    d < 9223372036854775808.0) {
				p[i].kind = SL_DB_PINT;
				p[i].i = (int64_t)d;
			} else {
				p[i].kind = SL_DB_PREAL;
				p[i].d = d;
			}
			break;
		case JV_KIND_STRING:
			p[i].kind = SL_DB_PTEXT;
			p[i].s = jv_string_value(v);
			p[i].len = (size_t)jv_string_length_bytes(jv_copy(v));
			if (memchr(p[i].s, '\0', p[i].len)) {
				jv_free(v);
				free(p);
				return sl_db_fail(db, 0, 0,
				    "parameter $%d: a string with a NUL byte",
				    i + 1);
			}
			break;
		default:
			sl_db_fail(db, 0, 0, "parameter $%d: %s cannot be bound",
			    i + 1, sl_kind_name(v));
			jv_free(v);
			free(p);
			return -1;
		}
		/* the array keeps the string alive */
		jv_free(v);
	}
	*out = p;
	*n = len;
	return 0;
}

static int
db_run(struct sl_db *db, const char *sql, jv params, jv *rows, long *changes)
{
	struct sl_db_param *p;
	int n, rc;

	db_clear(db);
	*changes = 0;
	if (db_params(db, params, &p, &n) < 0) {
		jv_free(params);
		return -1;
	}
	rc = db->ops->run(db, sql, p, n, rows, changes);
	free(p);
	jv_free(params);
	return rc;
}

long
sl_db_exec_params(struct sl_db *db, const char *sql,
    const struct sl_db_param *p, int np)
{
	long changes = 0;

	db_clear(db);
	if (db->ops->run(db, sql, p, np, NULL, &changes) < 0)
		return -1;
	return changes;
}

long
sl_db_exec(struct sl_db *db, const char *sql, jv params)
{
	long changes;

	if (db_run(db, sql, params, NULL, &changes) < 0)
		return -1;
	return changes;
}

jv
sl_db_query(struct sl_db *db, const char *sql, jv params)
{
	jv rows = jv_null();
	long changes;

	if (db_run(db, sql, params, &rows, &changes) < 0)
		return jv_invalid_with_msg(jv_string(sl_db_error(db)));
	return rows;
}

jv
sl_db_query1(struct sl_db *db, const char *sql, jv params)
{
	jv rows = sl_db_query(db, sql, params);

	if (!jv_is_valid(rows))
		return rows;
	if (jv_array_length(jv_copy(rows)) == 0) {
		jv_free(rows);
		return jv_null();
	}
	return jv_array_get(rows, 0);
}

int
sl_db_exec_script(struct sl_db *db, const char *sql)
{
	db_clear(db);
	return db->ops->script(db, sql);
}

static int
db_begin(struct sl_db *db, const char *sql)
{
	long changes;

	if (db->in_tx) {
		db_clear(db);
		return sl_db_fail(db, 0, SL_EX_SOFTWARE,
		    "a transaction is already open");
	}
	if (db_run(db, sql, jv_null(), NULL, &changes) < 0)
		return -1;
	db->in_tx = 1;
	return 0;
}

int
sl_db_begin(struct sl_db *db)
{
	return db_begin(db, "BEGIN");
}

int
sl_db_begin_claim(struct sl_db *db)
{
	return db_begin(db, db->ops->begin_claim);
}

int
sl_db_commit(struct sl_db *db)
{
	long changes;
	char *err;
	int temporary, code;

	if (db_run(db, "COMMIT", jv_null(), NULL, &changes) == 0) {
		db->in_tx = 0;
		return 0;
	}
	/* a failed COMMIT may leave the transaction open: end it */
	err = db->err;
	db->err = NULL;
	temporary = db->temporary;
	code = db->code;
	db_run(db, "ROLLBACK", jv_null(), NULL, &changes);
	db->in_tx = 0;
	free(db->err);
	db->err = err;
	db->temporary = temporary;
	db->code = code;
	return -1;
}

int
sl_db_rollback(struct sl_db *db)
{
	long changes;
	int rc;

	rc = db_run(db, "ROLLBACK", jv_null(), NULL, &changes);
	db->in_tx = 0;
	return rc;
}

int
sl_db_in_tx(const struct sl_db *db)
{
	return db->in_tx;
}

int
sl_db_trylock(struct sl_db *db, const char *name)
{
	db_clear(db);
	if (name == NULL || *name == '\0')
		return sl_db_fail(db, 0, SL_EX_SOFTWARE, "a lock needs a name");
	return db->ops->trylock(db, name);
}

jv
sl_db_claim(struct sl_db *db, const char *select_sql, jv params)
{
	size_t len;
	char *sql;
	jv rows;

	if (!db->in_tx) {
		jv_free(params);
		db_clear(db);
		sl_db_fail(db, 0, SL_EX_SOFTWARE,
		    "a claim needs sl_db_begin_claim first");
		return jv_invalid_with_msg(jv_string(sl_db_error(db)));
	}
	len = strlen(select_sql);
	while (len > 0 && (isspace((unsigned char)select_sql[len - 1]) ||
	    select_sql[len - 1] == ';'))
		len--;
	sql = sl_asprintf("%.*s%s", (int)len, select_sql,
	    db->ops->claim_suffix);
	rows = sl_db_query(db, sql, params);
	free(sql);
	return rows;
}

/* Migrations. */

static int
migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static void
migrations_free(struct migration *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].file);
		free(m[i].name);
		free(m[i].path);
	}
	free(m);
}

/* "001-init.sql" gives 1 and "init"; anything else 0. */
static long
migration_name(const char *file, char **name)
{
	const char *p = file;
	size_t len = strlen(file);
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		if (v > 100000000)
			return 0;
		v = v * 10 + (*p++ - '0');
	}
	if (*p != '-' || len < 5 || strcmp(file + len - 4, ".sql") != 0 ||
	    (size_t)(p - file) + 1 >= len - 4)
		return 0;
	*name = sl_strndup(p + 1, len - 4 - (size_t)(p + 1 - file));
	return v;
}

static int
migrations_list(struct sl_db *db, const char *sqldir, struct migration **out,
    size_t *n)
{
	struct migration *m = NULL;
	size_t len = 0, cap = 0, i;
	struct dirent *de;
	char *dir;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (sqldir == NULL || *sqldir == '\0')
		dir = sl_asprintf("%s/sql/%s", sl_home(), db->ops->dir);
	else
		dir = sl_asprintf("%s/%s", sqldir, db->ops->dir);
	d = opendir(dir);
	if (d == NULL) {
		sl_db_fail(db, 0, SL_EX_CONFIG,
		    "cannot open migrations directory '%s': %s (SALESLINE_HOME)",
		    dir, strerror(errno));
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *name;
		long v = migration_name(de->d_name, &name);

		if (v <= 0)
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			m = sl_realloc(m, cap * sizeof *m);
		}
		m[len].version = v;
		m[len].name = name;
		m[len].file = sl_strdup(de->d_name);
		m[len].path = sl_asprintf("%s/%s", dir, de->d_name);
		len++;
	}
	closedir(d);
	qsort(m, len, sizeof *m, migration_cmp);
	for (i = 1; i < len; i++) {
		if (m[i].version == m[i - 1].version) {
			sl_db_fail(db, 0, SL_EX_CONFIG,
			    "migrations '%s' and '%s' have the same number",
			    m[i - 1].file, m[i].file);
			migrations_free(m, len);
			free(dir);
			return -1;
		}
	}
	free(dir);
	*out = m;
	*n = len;
	return 0;
}

/* The applied versions as a jv array of numbers (empty on a fresh ledger). */
static jv
migrations_applied(struct sl_db *db)
{
	jv v;
	int has;

	/*
	 * Asked straight away, since the table is there but on a fresh
	 * ledger: one round trip where a command opens it under cron.
	 */
	v = sl_db_column(db, "SELECT version FROM schema_migrations",
	    jv_null(), "version");
	if (jv_is_valid(v))
		return v;
	jv_free(v);
	has = db->ops->has_migrations(db);
	if (has < 0)
		return jv_invalid();
	if (has == 0) {
		db_clear(db);
		return jv_array();
	}
	return sl_db_column(db, "SELECT version FROM schema_migrations",
	    jv_null(), "version");
}

static int
applied_has(jv applied, long version)
{
	int i, len = jv_array_length(jv_copy(applied));

	for (i = 0; i < len; i++) {
		jv v = jv_array_get(jv_copy(applied), i);
		int same = jv_get_kind(v) == JV_KIND_NUMBER &&
		    jv_number_value(v) == (double)version;

		jv_free(v);
		if (same)
			return 1;
	}
	return 0;
}

static char *
read_file(struct sl_db *db, const char *path)
{
	size_t len = 0, cap = 8192, r;
	char *buf;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		sl_db_fail(db, 0, SL_EX_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	buf = sl_malloc(cap);
	while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap) {
			if (cap >= MIGRATION_MAX)
				break;
			cap *= 2;
			buf = sl_realloc(buf, cap);
		}
	}
	if (ferror(f) || len + 1 >= MIGRATION_MAX ||
	    memchr(buf, '\0', len) != NULL) {
		sl_db_fail(db, 0, SL_EX_CONFIG, "cannot read '%s': %s", path,
		    ferror(f) ? strerror(errno) : "not a text file");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Applies m under the migration lock; 1 applied, 0 already there, -1. */
static int
migration_apply(struct sl_db *db, const struct migration *m)
{
	char *sql = NULL, *err;
	jv row;
	int rc = -1, temporary, code;

	if (db->ops->begin_migrate(db) < 0)
		return -1;
	db->in_tx = 1;
	if (sl_db_exec_script(db, db->ops->create_migrations) < 0)
		goto out;
	row = sl_db_query1(db,
	    "SELECT version FROM schema_migrations WHERE version = $1",
	    JV_ARRAY(jv_number((double)m->version)));
	if (!jv_is_valid(row))
		goto out;
	if (jv_get_kind(row) != JV_KIND_NULL) {
		jv_free(row);
		rc = sl_db_rollback(db) < 0 ? -1 : 0;
		return rc;
	}
	if ((sql = read_file(db, m->path)) == NULL)
		goto out;
	if (sl_db_exec_script(db, sql) < 0 ||
	    sl_db_exec(db, "INSERT INTO schema_migrations (version, name, "
	    "applied_at) VALUES ($1, $2, $3)",
	    JV_ARRAY(jv_number((double)m->version), jv_string(m->name),
	    jv_number((double)sl_now()))) < 0)
		goto out;
	free(sql);
	sql = NULL;
	if (sl_db_commit(db) < 0)
		goto fail;
	return 1;
out:
	err = db->err;
	db->err = NULL;
	temporary = db->temporary;
	code = db->code;
	sl_db_rollback(db);
	free(db->err);
	db->err = err;
	db->temporary = temporary;
	db->code = code;
fail:
	free(sql);
	err = db->err;
	db->err = NULL;
	sl_db_fail(db, db->temporary, db->code, "migration '%s': %s", m->file,
	    err ? err : "failed");
	free(err);
	return -1;
}

int
sl_db_migrate(struct sl_db *db, const char *sqldir)
{
	struct migration *m;
	size_t n, i;
	int applied = 0, rc;
	jv done;

	db_clear(db);
	if (db->in_tx)
		return sl_db_fail(db, 0, SL_EX_SOFTWARE,
		    "cannot migrate inside a transaction");
	if (migrations_list(db, sqldir, &m, &n) < 0)
		return -1;
	done = migrations_applied(db);
	if (!jv_is_valid(done)) {
		jv_free(done);
		migrations_free(m, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (applied_has(done, m[i].version))
			continue;
		rc = migration_apply(db, &m[i]);
		if (rc < 0) {
			applied = -1;
			break;
		}
		applied += rc;
		if (rc)
			sl_info("ledger: applied migration '%s'", m[i].file);
	}
	jv_free(done);
	migrations_free(m, n);
	return applied;
}

long
sl_db_version(struct sl_db *db)
{
	long v = 0;
	int has;
	jv row, x;

	db_clear(db);
	has = db->ops->has_migrations(db);
	if (has <= 0)
		return has;
	row = sl_db_query1(db, "SELECT max(version) AS v FROM schema_migrations",
	    jv_null());
	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	if (jv_get_kind(row) == JV_KIND_OBJECT) {
		x = jv_object_get(row, jv_string("v"));
		if (jv_get_kind(x) == JV_KIND_NUMBER)
			v = (long)jv_number_value(x);
		jv_free(x);
	} else {
		jv_free(row);
	}
	return v;
}

int
sl_db_pending(struct sl_db *db, const char *sqldir)
{
	struct migration *m;
	size_t n, i;
	int pending = 0;
	jv done;

	db_clear(db);
	if (migrations_list(db, sqldir, &m, &n) < 0)
		return -1;
	done = migrations_applied(db);
	if (!jv_is_valid(done)) {
		jv_free(done);
		migrations_free(m, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		pending += !applied_has(done, m[i].version);
	jv_free(done);
	migrations_free(m, n);
	return pending;
}

/* Redaction. */

/* Replaces [from, to) of s by "***"; returns a new string. */
static char *
splice(const char *s, size_t from, size_t to)
{
	return sl_asprintf("%.*s***%s", (int)from, s, s + to);
}

/* password=VALUE in a conninfo string or a URL's query, from offset. */
static char *
redact_keyword(char *s, int in_url)
{
	size_t pos = 0;

	for (;;) {
		char *p = strstr(s + pos, "password"), *q, *t;
		size_t from, to;

		if (p == NULL)
			return s;
		pos = (size_t)(p - s) + 8;
		/* a whole keyword: at the start or after a separator */
		if (p != s && !(p[-1] == ' ' || p[-1] == '\t' ||
		    p[-1] == '?' || p[-1] == '&'))
			continue;
		q = p + 8;
		while (!in_url && (*q == ' ' || *q == '\t'))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (!in_url && (*q == ' ' || *q == '\t'))
			q++;
		from = (size_t)(q - s);
		if (in_url) {
			to = from + strcspn(q, "&#");
		} else if (*q == '\'') {
			for (t = q + 1; *t && *t != '\''; t++)
				if (*t == '\\' && t[1])
					t++;
			to = (size_t)(t - s) + (*t == '\'');
		} else {
			to = from + strcspn(q, " \t");
		}
		t = splice(s, from, to);
		free(s);
		s = t;
		pos = from + 3;
	}
}

char *
sl_db_url_redact(const char *url)
{
	const char *auth, *end, *at, *colon;
	char *s;

	if (!sl_db_is_pg_url(url))
		return sl_strdup(url);
	if (strncmp(url, "postgres", 8) != 0 || strstr(url, "://") == NULL)
		return redact_keyword(sl_strdup(url), 0);
	auth = strstr(url, "://") + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (colon = auth; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	s = NULL;
	if (at) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon)
			s = splice(url, (size_t)(colon + 1 - url),
			    (size_t)(at - url));
	}
	if (s == NULL)
		s = sl_strdup(url);
	return redact_keyword(s, 1);
}
