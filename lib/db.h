/*
 * db.h: the ledger, one narrow interface over SQLite and PostgreSQL.
 *
 * The engine is chosen by the URL: "postgres://" or "postgresql://" (or a
 * libpq "host=... dbname=..." string) is PostgreSQL, anything else is the
 * path of an SQLite file.  SQL is written once for both: $1, $2 ...
 * placeholders, INSERT ... ON CONFLICT DO NOTHING, RETURNING, times as
 * integer Unix seconds, JSON kept as text.
 *
 * Parameters are a jv array: strings, numbers (integral ones bound as
 * 64-bit integers), true/false (as 1/0) and null.  Rows come back as a jv
 * array of objects keyed by column name: integers as numbers, text as
 * strings, NULL as null.
 *
 * Errors: every function that fails returns -1 (or an invalid jv) and
 * leaves a message in sl_db_error(), with no parameter value in it.
 * sl_db_temporary() tells whether the failure is worth retrying later
 * (busy or locked database, lost connection, serialization failure,
 * deadlock): the tool then exits 75.
 *
 * PostgreSQL receives the parameters as text of unknown type and infers
 * each type from its use, so "WHERE id = $1" takes the string "42" as well
 * as the number 42.  Where no type can be inferred ("$1 IS NULL", "SELECT
 * $1") write CAST($1 AS TEXT) or CAST($1 AS BIGINT), which both engines
 * accept.  Flags are integer columns holding 0 or 1 on both engines.
 * sl_db_exec and sl_db_query run exactly one statement.
 */
#ifndef SL_DB_H
#define SL_DB_H

#include <jv.h>

struct sl_db;

/*
 * Opens the ledger and applies pending migrations from sqldir (NULL:
 * $SALESLINE_HOME/sql), each exactly once and recorded in
 * schema_migrations; two processes opening a fresh ledger at once are
 * safe.  SQLite files are created (with their directory), in WAL mode with
 * a busy timeout ($SALESLINE_DB_BUSY_MS, default 5000).  Returns NULL and a message in *err (to free) on failure;
 * *temporary is set when it is worth retrying.
 */
struct sl_db *sl_db_open(const char *url, const char *sqldir, char **err,
    int *temporary);
/* Opens without migrating (for salesline-db status). */
struct sl_db *sl_db_open_raw(const char *url, char **err, int *temporary);
/*
 * sl_db_open (migrate 1) or sl_db_open_raw (migrate 0), or exits after
 * "prog: cannot open ledger 'URL': reason" (password redacted): 75 when
 * worth retrying (unreachable, locked), 77 when the server rejected the
 * credentials, 78 for a URL or migrations directory that cannot work
 * (naming SALESLINE_DB), else 74.
 */
struct sl_db *sl_db_open_or_die(const char *url, const char *sqldir,
    int migrate);
void sl_db_close(struct sl_db *db);

/* Applies pending migrations; returns how many were applied or -1. */
int sl_db_migrate(struct sl_db *db, const char *sqldir);
/* The highest migration applied (0 for a fresh ledger), or -1. */
long sl_db_version(struct sl_db *db);
/* How many migrations in sqldir are not applied yet, or -1. */
int sl_db_pending(struct sl_db *db, const char *sqldir);

/* "sqlite" or "postgres". */
const char *sl_db_engine(const struct sl_db *db);
/* The names of the ledger's tables, sorted (a jv array), or invalid. */
jv sl_db_tables(struct sl_db *db);

/* Runs one statement; returns the number of rows changed, or -1. */
long sl_db_exec(struct sl_db *db, const char *sql, jv params);
/* Runs one statement and returns its rows (array of objects) or invalid. */
jv sl_db_query(struct sl_db *db, const char *sql, jv params);
/* The first row, null when there is none, invalid on error. */
jv sl_db_query1(struct sl_db *db, const char *sql, jv params);
/* One column of every row, as an array; invalid on error. */
jv sl_db_column(struct sl_db *db, const char *sql, jv params, const char *col);
/* Runs a script of several statements without parameters. */
int sl_db_exec_script(struct sl_db *db, const char *sql);

/*
 * Transactions.  sl_db_begin starts a plain transaction; sl_db_begin_claim
 * one that will claim rows: BEGIN IMMEDIATE on SQLite (the write lock is
 * taken at once, so two workers never pick the same row).  sl_db_claim
 * runs a SELECT inside such a transaction and returns its rows, appending
 * FOR UPDATE SKIP LOCKED on PostgreSQL so concurrent workers skip each
 * other's rows; the caller updates the rows and commits.  The SELECT may
 * end with ORDER BY and LIMIT but not with a locking clause of its own.
 *
 * A failed sl_db_commit leaves no transaction open (it was rolled back).
 * After a failed statement inside a transaction, roll back: PostgreSQL
 * refuses everything else until then.  sl_db_rollback when nothing is open
 * is harmless.
 */
int sl_db_begin(struct sl_db *db);
int sl_db_begin_claim(struct sl_db *db);
jv sl_db_claim(struct sl_db *db, const char *select_sql, jv params);
int sl_db_commit(struct sl_db *db);
int sl_db_rollback(struct sl_db *db);
/* 1 while a transaction begun here is open. */
int sl_db_in_tx(const struct sl_db *db);

/*
 * A named lock between processes, held until sl_db_close: one tg-fetch
 * per bot, say.  Returns 1 when acquired (or already held by this
 * handle), 0 when another process holds it, -1 on error.  PostgreSQL: a
 * session advisory lock on a hash of the name (a handle holding one never
 * reconnects silently, since that would drop the lock: the next statement
 * fails, temporary).  SQLite: flock(2) on the file "<ledger>.<name>.lock"
 * beside the ledger (characters other than [A-Za-z0-9._-] in the name
 * become '_'); an in-memory ledger always succeeds.
 */
int sl_db_trylock(struct sl_db *db, const char *name);

const char *sl_db_error(const struct sl_db *db);
int sl_db_temporary(const struct sl_db *db);
/*
 * The exit status for the last failure: 75 when temporary, 78 when the
 * configuration is at fault (a missing migrations directory), else 74.
 */
int sl_db_exit_code(const struct sl_db *db);

/* A URL for messages: the password replaced by "***". New string. */
char *sl_db_url_redact(const char *url);

#endif
