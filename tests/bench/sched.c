/*
 * tests/bench/sched.c: schedule-due on a big ledger.  Seeds PENDING
 * follow-ups due in a month (default 1,000,000, one prospect each), then
 * times the command itself, as cron runs it:
 *
 *   tick   `schedule-due --due` with nothing due: process start, opening
 *          and checking the ledger, the claim query; the median of 21 runs
 *   add    `schedule-due --add` of N follow-ups (default 100,000) from a
 *          file, echo to /dev/null
 *   claim  `schedule-due --due` over the N now due: claim, re-check,
 *          commit, print (into a file: batches of 1000); again with the
 *          due times in random order, and in order with --batch 100, the
 *          batch it takes into a pipe
 *
 * and, on PostgreSQL, the server's own floor: a process that only connects
 * and runs SELECT 1, and N follow-ups inserted inside the server by one
 * statement,
 *
 * on a temporary SQLite file and, when a DSN is given as argument or in
 * $TEST_PG_DSN, on PostgreSQL in a schema of its own that is dropped at
 * the end.  The command is $SL_BUILD/bin/schedule-due, or bin/schedule-due
 * beside this program's build directory.
 *
 *	sched [DSN] [PENDING] [N]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "sched.h"
#include "sl.h"

static char *cmd, *self;
static long pending = 1000000, n = 100000;

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Runs cmd --db url mode [--batch batch], stdin and stdout from/to files;
 * seconds or -1.
 */
static double
run_batch(const char *in, const char *out, const char *url, const char *mode,
    const char *batch)
{
	double t0 = mono(), t;
	int st, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(in, O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(127);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		if (batch)
			execl(cmd, cmd, "--db", url, mode, "--batch", batch,
			    (char *)NULL);
		else
			execl(cmd, cmd, "--db", url, mode, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	t = mono() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench sched: %s %s exited %d\n", cmd, mode,
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -1;
	}
	return t;
}

static double
run(const char *in, const char *out, const char *url, const char *mode)
{
	return run_batch(in, out, url, mode, NULL);
}

static long
lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long k = 0;
	int c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		k += c == '\n';
	fclose(f);
	return k;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * n follow-ups for the prospects after the seeded ones, due in the past
 * hour: in the order they are added, or in random order.
 */
static int
write_adds(const char *path, int64_t now, int shuffle)
{
	FILE *f = fopen(path, "w");
	long k, j;

	if (f == NULL)
		return -1;
	for (k = 0; k < n; k++) {
		j = shuffle ? (k * 7919) % n : k;
		fprintf(f, "{\"type\":\"followup\",\"prospect\":\"%ld\","
		    "\"due\":%lld,\"reason\":\"asked to write next week\"}\n",
		    pending + 1 + k, (long long)(now - 3600 + j * 3600 / n));
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int
seed(struct sl_db *db, int64_t now)
{
	int pg = strcmp(sl_db_engine(db), "postgres") == 0;
	const char *series = pg ? "SELECT i FROM generate_series(1, "
	    "CAST($1 AS BIGINT)) AS s(i)" : "WITH RECURSIVE s(i) AS (SELECT 1 "
	    "UNION ALL SELECT i + 1 FROM s WHERE i < $1) SELECT i FROM s";
	char *sql;
	long r;

	if (sl_db_begin(db) < 0)
		return -1;
	sql = sl_asprintf("INSERT INTO prospects (id, chat, created_at, "
	    "updated_at) SELECT i, 'c' || CAST(i AS TEXT), $2, $2 FROM (%s) x",
	    series);
	r = sl_db_exec(db, sql, JV_ARRAY(jv_number((double)(pending + n)),
	    jv_number((double)now)));
	free(sql);
	if (r < 0)
		return -1;
	sql = sl_asprintf("INSERT INTO scheduled_actions (id, prospect_id, "
	    "kind, due, status, reason, message_key, created_at, updated_at) "
	    "SELECT i, i, 'followup', $2 + 2592000 + i, 'pending', 'bench', "
	    "'followup:' || CAST(i AS TEXT), $2, $2 FROM (%s) x", series);
	r = sl_db_exec(db, sql, JV_ARRAY(jv_number((double)pending),
	    jv_number((double)now)));
	free(sql);
	if (r < 0)
		return -1;
	if (pg && (sl_db_exec(db, "SELECT setval(pg_get_serial_sequence("
	    "'scheduled_actions', 'id'), (SELECT max(id) FROM "
	    "scheduled_actions)), setval(pg_get_serial_sequence('prospects', "
	    "'id'), (SELECT max(id) FROM prospects))", jv_null()) < 0))
		return -1;
	if (sl_db_commit(db) < 0)
		return -1;
	return sl_db_exec_script(db, "ANALYZE");
}

/*
 * PostgreSQL's own floor on this machine, nothing of salesline in it: a
 * new process that connects and runs SELECT 1 (the median of 21), and n
 * follow-ups inserted by one INSERT ... SELECT inside the server (rolled
 * back).  The n prospects after the seeded ones have none pending now.
 */
static void
pg_floor(const char *url, int64_t now)
{
	double t[21], t0, tins;
	char *err = NULL;
	int i, st, temporary;
	struct sl_db *db;
	long r;
	pid_t pid;

	for (i = 0; i < 21; i++) {
		t0 = mono();
		if ((pid = fork()) == 0) {
			execl(self, self, "--connect", url, (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench sched: --connect failed\n");
			return;
		}
		t[i] = mono() - t0;
	}
	qsort(t, 21, sizeof t[0], cmp_double);
	if ((db = sl_db_open(url, NULL, &err, &temporary)) == NULL ||
	    sl_db_begin(db) < 0) {
		fprintf(stderr, "bench sched: %s\n", db ? sl_db_error(db) : err);
		free(err);
		sl_db_close(db);
		return;
	}
	t0 = mono();
	r = sl_db_exec(db, "INSERT INTO scheduled_actions (prospect_id, kind, "
	    "due, status, reason, message_key, created_at, updated_at) SELECT "
	    "i, 'followup', CAST($1 AS BIGINT) + i, 'pending', 'floor', "
	    "'floor:' || CAST(i AS TEXT), CAST($1 AS BIGINT), CAST($1 AS "
	    "BIGINT) FROM generate_series(CAST($2 AS BIGINT), CAST($3 AS "
	    "BIGINT)) AS s(i)", JV_ARRAY(jv_number((double)now),
	    jv_number((double)(pending + 1)), jv_number((double)(pending + n))));
	tins = mono() - t0;
	sl_db_rollback(db);
	if (r != n)
		fprintf(stderr, "bench sched: %s\n", sl_db_error(db));
	else
		printf("PostgreSQL alone here: a process that connects and runs "
		    "SELECT 1: %.1f ms; %ld follow-ups in one INSERT ... SELECT "
		    "inside the server: %.0f/s\n", t[10] * 1e3, n,
		    (double)n / tins);
	sl_db_close(db);
}

/* connects to url and runs SELECT 1: 0, or 1 */
static int
connect_once(const char *url)
{
	PGconn *c = PQconnectdb(url);
	PGresult *res;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench sched: %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	res = PQexec(c, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : 1;
}

/* Marks the n claimed actions done, as the pipeline would. */
static int
close_claimed(const char *url)
{
	char *err = NULL;
	int temporary, rc = 0;
	struct sl_db *db = sl_db_open(url, NULL, &err, &temporary);

	if (db == NULL || sl_db_exec(db, "UPDATE scheduled_actions SET "
	    "status = 'done' WHERE status = 'claimed'", jv_null()) != n) {
		fprintf(stderr, "bench sched: %s\n", db ? sl_db_error(db) : err);
		rc = -1;
	}
	free(err);
	sl_db_close(db);
	return rc;
}

static int
bench(const char *url, const char *dir)
{
	char *null = sl_asprintf("%s/null", dir), *in = sl_asprintf("%s/add",
	    dir), *out = sl_asprintf("%s/out", dir);
	double tick[21], tq = 0, t_add, t_claim, t_random, t_small;
	int64_t now = (int64_t)time(NULL);
	struct sl_db *db;
	char *err = NULL;
	int i, rc = 1, temporary;
	long k;

	db = sl_db_open(url, NULL, &err, &temporary);
	if (db == NULL) {
		fprintf(stderr, "bench sched: %s\n", err);
		free(err);
		goto out;
	}
	if (seed(db, now) < 0 || (strcmp(sl_db_engine(db), "sqlite") == 0 &&
	    sl_db_exec_script(db, "PRAGMA wal_checkpoint(TRUNCATE)") < 0)) {
		fprintf(stderr, "bench sched: %s\n", sl_db_error(db));
		goto out;
	}
	/* the commands run alone, as under cron: no other connection open */
	sl_db_close(db);
	db = NULL;
	fclose(fopen(null, "w"));
	for (i = 0; i < 21; i++)
		if ((tick[i] = run(null, out, url, "--due")) < 0 ||
		    lines(out) != 0)
			goto out;
	qsort(tick, 21, sizeof tick[0], cmp_double);
	/* the query alone, as --due --follow runs it on every wake-up */
	if ((db = sl_db_open(url, NULL, &err, &temporary)) == NULL) {
		fprintf(stderr, "bench sched: %s\n", err);
		free(err);
		goto out;
	}
	for (i = 0; i < 21; i++) {
		double t0 = mono();

		if (sl_sched_any_due(db, (int64_t)time(NULL)) != 0)
			goto out;
		tq += mono() - t0;
	}
	sl_db_close(db);
	db = NULL;
	if (write_adds(in, now, 0) < 0 ||
	    (t_add = run(in, out, url, "--add")) < 0 || lines(out) != n)
		goto out;
	if ((t_claim = run(null, out, url, "--due")) < 0)
		goto out;
	if ((k = lines(out)) != n) {
		fprintf(stderr, "bench sched: claimed %ld of %ld\n", k, n);
		goto out;
	}
	/* again with the due times in random order: more pages per batch */
	if (close_claimed(url) < 0 || write_adds(in, now, 1) < 0 ||
	    run(in, out, url, "--add") < 0 ||
	    (t_random = run(null, out, url, "--due")) < 0 || lines(out) != n)
		goto out;
	/* and in order, 100 a transaction, as into a pipe */
	if (close_claimed(url) < 0 || write_adds(in, now, 0) < 0 ||
	    run(in, out, url, "--add") < 0 || (t_small = run_batch(null, out,
	    url, "--due", "100")) < 0 || lines(out) != n)
		goto out;
	if ((db = sl_db_open(url, NULL, &err, &temporary)) == NULL) {
		fprintf(stderr, "bench sched: %s\n", err);
		free(err);
		goto out;
	}
	printf("schedule-due %s: tick with nothing due over %ld pending: "
	    "%.1f ms (the query alone %.2f ms); add %ld: %.0f/s; claim %ld "
	    "due: %.0f/s (due in random order: %.0f/s; in batches of 100, "
	    "as into a pipe: %.0f/s)\n", sl_db_engine(db), pending,
	    tick[10] * 1e3, tq / 21 * 1e3, n, (double)n / t_add, n,
	    (double)n / t_claim, (double)n / t_random, (double)n / t_small);
	if (strcmp(sl_db_engine(db), "postgres") == 0)
		pg_floor(url, now);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench sched: %s failed\n", url);
	sl_db_close(db);
	unlink(null);
	unlink(in);
	unlink(out);
	free(null);
	free(in);
	free(out);
	return rc;
}

/* The DSN with search_path set to schema. */
static char *
with_schema(const char *dsn, const char *schema)
{
	if (strncmp(dsn, "postgres", 8) == 0 && strstr(dsn, "://"))
		return sl_asprintf("%s%soptions=-csearch_path%%3D%s", dsn,
		    strchr(dsn, '?') ? "&" : "?", schema);
	return sl_asprintf("%s options=-csearch_path=%s", dsn, schema);
}

static int
bench_pg(const char *dsn, const char *dir)
{
	char schema[64], *sql, *url;
	struct sl_db *db;
	char *err;
	int rc, temporary;

	snprintf(schema, sizeof schema, "sl_bench_sched_%ld", (long)getpid());
	db = sl_db_open_raw(dsn, &err, &temporary);
	if (db == NULL) {
		fprintf(stderr, "bench sched: %s\n", err);
		free(err);
		return 1;
	}
	sql = sl_asprintf("CREATE SCHEMA %s", schema);
	rc = sl_db_exec_script(db, sql);
	free(sql);
	if (rc < 0) {
		fprintf(stderr, "bench sched: %s\n", sl_db_error(db));
		sl_db_close(db);
		return 1;
	}
	url = with_schema(dsn, schema);
	rc = bench(url, dir);
	free(url);
	sql = sl_asprintf("DROP SCHEMA %s CASCADE", schema);
	if (sl_db_exec_script(db, sql) < 0)
		fprintf(stderr, "bench sched: %s\n", sl_db_error(db));
	free(sql);
	sl_db_close(db);
	return rc;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/sl-bench-sched.XXXXXX", *path, *cwd;
	const char *dsn = argc > 1 && *argv[1] ? argv[1] :
	    getenv("TEST_PG_DSN");
	const char *build = getenv("SL_BUILD");
	static const char *const junk[] = { "bench.db", "bench.db-wal",
		"bench.db-shm" };
	size_t i;
	int rc = 0;

	if (argc == 3 && strcmp(argv[1], "--connect") == 0)
		return connect_once(argv[2]);
	sl_init("bench-sched");
	self = argv[0];
	if (argc > 2 && atol(argv[2]) > 0)
		pending = atol(argv[2]);
	if (argc > 3 && atol(argv[3]) > 0)
		n = atol(argv[3]);
	if (getenv("SALESLINE_HOME") == NULL && (cwd = getcwd(NULL, 0))) {
		setenv("SALESLINE_HOME", cwd, 1);
		free(cwd);
	}
	unsetenv("SALESLINE_NOW");
	if (build && *build)
		cmd = sl_asprintf("%s/bin/schedule-due", build);
	else
		cmd = sl_asprintf("%.*s/../../bin/schedule-due",
		    (int)(strrchr(argv[0], '/') ? strrchr(argv[0], '/') -
		    argv[0] : 1), strrchr(argv[0], '/') ? argv[0] : ".");
	if (access(cmd, X_OK) < 0) {
		fprintf(stderr, "bench sched: no '%s'\n", cmd);
		return 1;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	path = sl_asprintf("%s/bench.db", dir);
	rc |= bench(path, dir);
	free(path);
	for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		path = sl_asprintf("%s/%s", dir, junk[i]);
		unlink(path);
		free(path);
	}
	if (dsn && *dsn)
		rc |= bench_pg(dsn, dir);
	rmdir(dir);
	free(cmd);
	return rc;
}
