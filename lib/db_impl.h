/*
 * db_impl.h: what lib/db.c shares with the engines (lib/db_sqlite.c,
 * lib/db_pg.c).  Not for tools: they see db.h only.
 *
 * db.c owns the handle, the error state, parameter checking and the
 * migrations; an engine only talks to its library through the operations
 * below and reports failures with sl_db_fail.
 */
#ifndef SL_DB_IMPL_H
#define SL_DB_IMPL_H

#include <stdint.h>

#include <jv.h>

#include "db.h"

/* A parameter checked and converted by db.c. */
enum sl_db_pkind {
	SL_DB_PNULL,
	SL_DB_PINT,
	SL_DB_PREAL,
	SL_DB_PTEXT,
};

struct sl_db_param {
	enum sl_db_pkind kind;
	int64_t i;
	double d;
	const char *s;		/* points into the caller's jv */
	size_t len;
};

struct sl_db_ops {
	const char *engine;	/* "sqlite", "postgres" */
	const char *dir;	/* migrations: sqldir/dir/NNN-name.sql */
	/* 1 when schema_migrations exists, 0 when not, -1 on error */
	int (*has_migrations)(struct sl_db *db);
	/* CREATE TABLE IF NOT EXISTS schema_migrations ... */
	const char *create_migrations;
	/* BEGIN that serialises migrations between processes */
	int (*begin_migrate)(struct sl_db *db);
	/* A SELECT giving the ledger's tables as rows {"name": ...} */
	const char *list_tables;
	/*
	 * One statement.  When rows is not NULL the result rows are stored
	 * there as a jv array; *changes gets the rows changed.  Returns 0 or
	 * -1 after sl_db_fail.
	 */
	int (*run)(struct sl_db *db, const char *sql,
	    const struct sl_db_param *p, int np, jv *rows, long *changes);
	int (*script)(struct sl_db *db, const char *sql);
	/* BEGIN for sl_db_begin_claim */
	const char *begin_claim;
	/* appended to a claiming SELECT, or "" */
	const char *claim_suffix;
	/* sl_db_trylock: 1 acquired, 0 held elsewhere, -1 after sl_db_fail */
	int (*trylock)(struct sl_db *db, const char *name);
	void (*close)(struct sl_db *db);
};

struct sl_db {
	const struct sl_db_ops *ops;
	void *h;		/* the engine's connection */
	void *priv;		/* the engine's other state */
	char *err;
	int temporary;
	int code;		/* exit status for the last failure */
	int in_tx;
};

/*
 * Records a failure: the message (formatted; it must not contain any
 * parameter value), whether it is temporary, and the exit status (0: 75
 * when temporary, else 74).  Returns -1.
 */
int sl_db_fail(struct sl_db *db, int temporary, int code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/*
 * sl_db_exec with parameters already converted, for a statement run once
 * per row of a batch (no jv array to build and check each time).  The
 * strings must not contain NUL bytes.
 */
long sl_db_exec_params(struct sl_db *db, const char *sql,
    const struct sl_db_param *p, int np);

/*
 * The engines.  They fill db->ops, db->h and db->priv, or fail with
 * sl_db_fail and return -1 (db->h left NULL or closed).
 */
int sl_db_sqlite_open(struct sl_db *db, const char *path);
int sl_db_pg_open(struct sl_db *db, const char *conninfo);

/* 1 when url names a PostgreSQL server. */
int sl_db_is_pg_url(const char *url);

#endif
