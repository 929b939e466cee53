/*
 * tests/bench/db.c: inserts per second into the ledger in one transaction,
 * through lib/db.h (parameters, cached statements), on a temporary SQLite
 * file and, when a DSN is given as argument or in $TEST_PG_DSN, on
 * PostgreSQL.  The rows go to a TEMP table, so no ledger is changed and
 * nothing is migrated.
 *
 *	db [DSN] [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "sl.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench(const char *url, long n)
{
	struct sl_db *db;
	char *err = NULL, text[64];
	int temporary;
	double t0, t;
	long i;

	db = sl_db_open_raw(url, &err, &temporary);
	if (db == NULL) {
		fprintf(stderr, "bench db: %s\n", err);
		free(err);
		return 1;
	}
	if (sl_db_exec_script(db, "CREATE TEMP TABLE bench (id BIGINT "
	    "PRIMARY KEY, chat TEXT NOT NULL, text TEXT, at BIGINT NOT NULL)")
	    < 0)
		goto fail;
	t0 = now();
	if (sl_db_begin(db) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof text, "message number %ld", i);
		if (sl_db_exec(db, "INSERT INTO bench (id, chat, text, at) "
		    "VALUES ($1, $2, $3, $4)", JV_ARRAY(jv_number((double)i),
		    jv_string("123456789"), jv_string(text),
		    jv_number(1700000000.0 + (double)i))) != 1)
			goto fail;
	}
	if (sl_db_commit(db) < 0)
		goto fail;
	t = now() - t0;
	printf("ledger %s: %ld inserts in one transaction, %.0f inserts/s\n",
	    sl_db_engine(db), n, (double)n / t);
	sl_db_close(db);
	return 0;
fail:
	fprintf(stderr, "bench db: %s\n", sl_db_error(db));
	sl_db_close(db);
	return 1;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/sl-bench-db.XXXXXX", *path;
	const char *dsn = argc > 1 && *argv[1] ? argv[1] :
	    getenv("TEST_PG_DSN");
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
	int rc = 0;

	sl_init("bench-db");
	if (n <= 0)
		n = 100000;
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	path = sl_asprintf("%s/bench.db", dir);
	rc |= bench(path, n);
	unlink(path);
	free(path);
	path = sl_asprintf("%s/bench.db-wal", dir);
	unlink(path);
	free(path);
	path = sl_asprintf("%s/bench.db-shm", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	if (dsn && *dsn)
		rc |= bench(dsn, n);
	return rc;
}
