/*
 * db_pg.c: the ledger on a PostgreSQL server (libpq).
 *
 * The URL is a "postgres://" or "postgresql://" URI or a "key=value"
 * conninfo string; a password in it is registered as a secret so no
 * diagnostic can show it.  Parameters go as text of unknown type and the
 * server infers each type from its use (see db.h).  Result columns are
 * converted by type: integers, numeric and floating point to numbers,
 * boolean to true/false, everything else to strings, NULL to null.
 *
 * Temporary failures (exit 75): a lost or refused connection, and the
 * SQLSTATEs that mean "try again": class 08 (connection, but not 08P01
 * protocol violation, which a wrong parameter count gives), 40001
 * (serialization), 40P01 (deadlock), class 53 (resources), 57P01..57P03
 * (shutdown, cannot connect now), 55P03 (lock not available) and 57014
 * (statement timeout).  A lost connection is re-established once before
 * the next statement when no transaction was open.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_impl.h"
#include "jsonl.h"
#include "sl.h"

/*
 * libpq is opened with the first PostgreSQL ledger, not linked: it brings
 * some thirty libraries (Kerberos, LDAP, GnuTLS, ...) whose loading was
 * most of the start of every command, and an SQLite ledger needs none of
 * them.  The functions are called through pointers, under their own names
 * (the defines below).  $SALESLINE_LIBPQ names another libpq to open.
 */
#define PQ_FUNCS(X) X(PQclear) X(PQcmdStatus) X(PQcmdTuples) \
	X(PQconnectdbParams) X(PQconninfoFree) X(PQconninfoParse) \
	X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish) X(PQfname) \
	X(PQfreemem) X(PQftype) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) \
	X(PQnfields) X(PQntuples) X(PQreset) X(PQresultErrorField) \
	X(PQresultStatus) X(PQsetNoticeProcessor) X(PQstatus) \
	X(PQtransactionStatus)
#define PQ_PTR(f) static __typeof__(&f) p_##f;
PQ_FUNCS(PQ_PTR)
#define PQ_SYM(f) name = #f; \
	if ((sym = dlsym(lib, name)) == NULL) \
		goto missing; \
	memcpy(&p_##f, &sym, sizeof sym);

/* 0, or -1 after sl_db_fail (exit 78: the library is not installed) */
static int
pq_load(struct sl_db *db)
{
	static void *lib;
	const char *path = sl_env("SALESLINE_LIBPQ", "libpq.so.5"), *name;
	void *sym;

	if (lib)
		return 0;
	if ((lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return sl_db_fail(db, 0, SL_EX_CONFIG, "a PostgreSQL ledger "
		    "needs libpq (Debian: apt-get install libpq5): %s",
		    dlerror());
	PQ_FUNCS(PQ_SYM)
	return 0;
missing:
	dlclose(lib);
	lib = NULL;
	return sl_db_fail(db, 0, SL_EX_CONFIG, "'%s' has no %s: not libpq?",
	    path, name);
}

#define PQclear (*p_PQclear)
#define PQcmdStatus (*p_PQcmdStatus)
#define PQcmdTuples (*p_PQcmdTuples)
#define PQconnectdbParams (*p_PQconnectdbParams)
#define PQconninfoFree (*p_PQconninfoFree)
#define PQconninfoParse (*p_PQconninfoParse)
#define PQerrorMessage (*p_PQerrorMessage)
#define PQexec (*p_PQexec)
#define PQexecParams (*p_PQexecParams)
#define PQfinish (*p_PQfinish)
#define PQfname (*p_PQfname)
#define PQfreemem (*p_PQfreemem)
#define PQftype (*p_PQftype)
#define PQgetisnull (*p_PQgetisnull)
#define PQgetlength (*p_PQgetlength)
#define PQgetvalue (*p_PQgetvalue)
#define PQnfields (*p_PQnfields)
#define PQntuples (*p_PQntuples)
#define PQreset (*p_PQreset)
#define PQresultErrorField (*p_PQresultErrorField)
#define PQresultStatus (*p_PQresultStatus)
#define PQsetNoticeProcessor (*p_PQsetNoticeProcessor)
#define PQstatus (*p_PQstatus)
#define PQtransactionStatus (*p_PQtransactionStatus)

/* pg_advisory_xact_lock key serialising migrations: "SALE" */
#define MIGRATE_LOCK "1396788293"
/* first key of sl_db_trylock's two-key advisory locks: "SL" */
#define NAMED_LOCK_CLASS 21324

/* db->priv */
struct pg {
	int locks;		/* session locks held: never reconnect */
};

enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
};

static int
pg_temporary_state(const char *s)
{
	if (s == NULL || strlen(s) != 5 || strcmp(s, "08P01") == 0)
		return 0;	/* 08P01: protocol violation, e.g. a bad bind */
	return strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 ||
	    strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 ||
	    strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
	    strcmp(s, "57P03") == 0 || strcmp(s, "55P03") == 0 ||
	    strcmp(s, "57014") == 0;
}

/* One line of at most size-1 bytes: newlines and tabs become spaces. */
static void
one_line(char *buf, size_t size, const char *msg)
{
	size_t i, n = 0;

	for (i = 0; msg[i] && n + 1 < size; i++) {
		if (msg[i] == '\n' || msg[i] == '\t' || msg[i] == '\r') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else {
			buf[n++] = msg[i];
		}
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/*
 * Data exceptions (class 22) quote the offending value in their message,
 * and that value may be a parameter: replace every "..." with ***.
 */
static void
unquote_values(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		char *end;

		if (*r == '"' && (end = strchr(r + 1, '"')) != NULL) {
			memcpy(w, "***", 3);
			w += 3;
			r = end + 1;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static int
pg_fail_res(struct sl_db *db, PGresult *res)
{
	const char *state = NULL, *prim = NULL;
	char buf[512];
	int temporary;

	if (res) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	one_line(buf, sizeof buf, prim ? prim : PQerrorMessage(db->h));
	if (buf[0] == '\0')
		one_line(buf, sizeof buf, "the server gave no answer");
	if (state && strncmp(state, "22", 2) == 0)
		unquote_values(buf);
	temporary = pg_temporary_state(state) ||
	    PQstatus(db->h) == CONNECTION_BAD;
	if (state)
		return sl_db_fail(db, temporary, 0, "%s (SQLSTATE %s)", buf,
		    state);
	return sl_db_fail(db, temporary, 0, "%s", buf);
}

static int
pg_connected(struct sl_db *db)
{
	char buf[512];

	struct pg *pg = db->priv;

	if (PQstatus(db->h) == CONNECTION_OK)
		return 0;
	if (!db->in_tx && !(pg && pg->locks)) {
		PQreset(db->h);
		if (PQstatus(db->h) == CONNECTION_OK)
			return 0;
	}
	one_line(buf, sizeof buf, PQerrorMessage(db->h));
	return sl_db_fail(db, 1, 0, "connection to the server lost%s%s",
	    buf[0] ? ": " : "", buf);
}

static jv
pg_value(PGresult *res, int r, int c)
{
	const char *s;

	if (PQgetisnull(res, r, c))
		return jv_null();
	s = PQgetvalue(res, r, c);
	switch (PQftype(res, c)) {
	case OID_BOOL:
		return jv_bool(s[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return jv_number(strtod(s, NULL));
	default:
		return jv_string_sized(s, PQgetlength(res, r, c));
	}
}

static jv
pg_rows(PGresult *res)
{
	int r, c, nr = PQntuples(res), nc = PQnfields(res);
	jv rows = jv_array(), *names;

	names = sl_calloc(nc ? (size_t)nc : 1, sizeof *names);
	for (c = 0; c < nc; c++)
		names[c] = jv_string(PQfname(res, c));
	for (r = 0; r < nr; r++) {
		jv row = jv_object();

		for (c = 0; c < nc; c++)
			row = jv_object_set(row, jv_copy(names[c]),
			    pg_value(res, r, c));
		rows = jv_array_append(rows, row);
	}
	for (c = 0; c < nc; c++)
		jv_free(names[c]);
	free(names);
	return rows;
}

static int
pg_run(struct sl_db *db, const char *sql, const struct sl_db_param *p,
    int np, jv *rows, long *changes)
{
	const char **vals = NULL;
	char (*num)[32] = NULL;	/* numbers as text */
	PGresult *res;
	int i, st, ret = -1;

	if (pg_connected(db) < 0)
		return -1;
	/* ROLLBACK after the server already ended the transaction is fine */
	if (strcmp(sql, "ROLLBACK") == 0 &&
	    PQtransactionStatus(db->h) == PQTRANS_IDLE)
		return 0;
	if (np > 0) {
		vals = sl_calloc((size_t)np, sizeof *vals);
		num = sl_calloc((size_t)np, sizeof *num);
		for (i = 0; i < np; i++) {
			if (p[i].kind == SL_DB_PTEXT) {
				vals[i] = p[i].s;
			} else if (p[i].kind == SL_DB_PINT) {
				snprintf(num[i], sizeof num[i], "%lld",
				    (long long)p[i].i);
				vals[i] = num[i];
			} else if (p[i].kind == SL_DB_PREAL) {
				snprintf(num[i], sizeof num[i], "%.17g",
				    p[i].d);
				vals[i] = num[i];
			}
		}
	}
	res = PQexecParams(db->h, sql, np, NULL, vals, NULL, NULL, 0);
	free(vals);
	free(num);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_fail_res(db, res);
		goto out;
	}
	/* COMMIT of a transaction that had failed answers ROLLBACK */
	if (strcmp(sql, "COMMIT") == 0 &&
	    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		sl_db_fail(db, 0, 0, "the transaction had failed and was "
		    "rolled back");
		goto out;
	}
	if (strncmp(PQcmdStatus(res), "SELECT", 6) != 0)
		*changes = strtol(PQcmdTuples(res), NULL, 10);
	if (rows)
		*rows = pg_rows(res);
	ret = 0;
out:
	PQclear(res);
	return ret;
}

static int
pg_script(struct sl_db *db, const char *sql)
{
	PGresult *res;
	int st, ret = 0;

	if (pg_connected(db) < 0)
		return -1;
	res = PQexec(db->h, sql);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY)
		ret = pg_fail_res(db, res);
	PQclear(res);
	return ret;
}

static int
pg_has_migrations(struct sl_db *db)
{
	jv row = sl_db_query1(db, "SELECT to_regclass('schema_migrations') "
	    "IS NOT NULL AS x", jv_null());
	int has = -1;

	if (jv_get_kind(row) == JV_KIND_OBJECT) {
		jv x = jv_object_get(row, jv_string("x"));

		has = jv_get_kind(x) == JV_KIND_TRUE;
		jv_free(x);
	} else {
		jv_free(row);
	}
	return has;
}

static int
pg_begin_migrate(struct sl_db *db)
{
	if (sl_db_exec(db, "BEGIN", jv_null()) < 0)
		return -1;
	if (sl_db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")",
	    jv_null()) < 0) {
		char *err = db->err;
		int temporary = db->temporary;

		db->err = NULL;
		sl_db_exec(db, "ROLLBACK", jv_null());
		sl_db_fail(db, temporary, 0, "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* A session advisory lock on (NAMED_LOCK_CLASS, FNV-1a of name). */
static int
pg_trylock(struct sl_db *db, const char *name)
{
	struct pg *pg = db->priv;
	uint32_t h = 2166136261u;
	const char *p;
	jv row, v;
	int got;

	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	row = sl_db_query1(db, "SELECT pg_try_advisory_lock(CAST($1 AS "
	    "INTEGER), CAST($2 AS INTEGER)) AS ok",
	    JV_ARRAY(jv_number(NAMED_LOCK_CLASS),
	    jv_number((double)(int32_t)h)));
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		jv_free(row);
		return -1;
	}
	v = jv_object_get(row, jv_string("ok"));
	got = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	if (got) {
		if (pg == NULL)
			db->priv = pg = sl_calloc(1, sizeof *pg);
		pg->locks++;
	}
	return got;
}

static void
pg_close(struct sl_db *db)
{
	PQfinish(db->h);
	db->h = NULL;
	free(db->priv);
	db->priv = NULL;
}

static void
pg_notice(void *arg, const char *msg)
{
	char buf[512];

	(void)arg;
	one_line(buf, sizeof buf, msg);
	if (strncmp(buf, "WARNING", 7) == 0)
		sl_warn("ledger: %s", buf);
	else
		sl_info("ledger: %s", buf);
}

static const struct sl_db_ops pg_ops = {
	.engine = "postgres",
	.dir = "pg",
	.has_migrations = pg_has_migrations,
	.create_migrations = "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at BIGINT NOT NULL)",
	.begin_migrate = pg_begin_migrate,
	.list_tables = "SELECT tablename AS name FROM pg_tables WHERE "
	    "schemaname = current_schema() ORDER BY tablename",
	.run = pg_run,
	.script = pg_script,
	.begin_claim = "BEGIN",
	.claim_suffix = " FOR UPDATE SKIP LOCKED",
	.trylock = pg_trylock,
	.close = pg_close,
};

/* Registers the password of conninfo as a secret; -1 when unparsable. */
static int
pg_check_conninfo(struct sl_db *db, const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL, buf[256];

	opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		/* libpq quotes pieces of the string, which may be secret */
		one_line(buf, sizeof buf, perr ? perr : "out of memory");
		PQfreemem(perr);
		if (strstr(conninfo, "password") || strchr(conninfo, '@'))
			return sl_db_fail(db, 0, SL_EX_CONFIG,
			    "not a valid PostgreSQL URL");
		return sl_db_fail(db, 0, SL_EX_CONFIG,
		    "not a valid PostgreSQL URL: %s", buf);
	}
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			sl_secret_add(o->val);
	PQconninfoFree(opts);
	return 0;
}

int
sl_db_pg_open(struct sl_db *db, const char *conninfo)
{
	/* notices below warning are not wanted: set at connect, no round trip */
	const char *keys[] = { "connect_timeout", "application_name",
	    "options", "dbname", NULL };
	const char *vals[] = { "10", sl_prog ? sl_prog : "salesline",
	    "-c client_min_messages=warning", conninfo, NULL };
	char buf[512];
	int code = 0;

	if (pq_load(db) < 0 || pg_check_conninfo(db, conninfo) < 0)
		return -1;
	/* the URL's own connect_timeout, given later, wins */
	db->h = PQconnectdbParams(keys, vals, 1);
	db->ops = &pg_ops;
	if (db->h == NULL)
		return sl_db_fail(db, 0, SL_EX_OSERR, "out of memory");
	if (PQstatus(db->h) != CONNECTION_OK) {
		one_line(buf, sizeof buf, PQerrorMessage(db->h));
		if (strstr(buf, "password authentication failed") ||
		    strstr(buf, "no password supplied"))
			code = SL_EX_NOPERM;
		else if (strstr(buf, "does not exist") ||
		    strstr(buf, "connection option"))
			code = SL_EX_CONFIG;
		return sl_db_fail(db, code == 0, code, "%s", buf);
	}
	PQsetNoticeProcessor(db->h, pg_notice, NULL);
	return 0;
}
