/*
 * tests/bench/floor.c: the least CPU a durable reply can cost here.
 *
 * tg-send promises that a reply is in the ledger as 'sending' before its
 * request leaves, so each reply costs at least one durable commit and one
 * HTTP request.  This measures both bare, with nothing of salesline around
 * them:
 *
 *   commit   BEGIN IMMEDIATE; UPDATE of one row; COMMIT, on an SQLite
 *            file in WAL mode with synchronous=FULL (the ledger's settings)
 *   request  a sendMessage POST to the Telegram emulator on a kept-alive
 *            connection, the answer read (libcurl, as tg-send uses it)
 *
 * and prints the CPU (user + sys of this process) of each, and their sum
 * next to the target of a tenth of python-telegram-bot's CPU.
 *
 *	floor [N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#define TOKEN "7000000001:AAfloorfloorfloorfloorfloorfloor"

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
exec(sqlite3 *h, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	fprintf(stderr, "bench floor: %s\n", err ? err : "sqlite error");
	sqlite3_free(err);
	return -1;
}

/* CPU seconds per durable commit, or -1. */
static double
commits(const char *dir, long n)
{
	char path[512];
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	double t0, t = -1;
	long i;

	snprintf(path, sizeof path, "%s/floor.db", dir);
	if (sqlite3_open(path, &h) != SQLITE_OK ||
	    exec(h, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	    "CREATE TABLE m (id INTEGER PRIMARY KEY, status TEXT); "
	    "INSERT INTO m VALUES (1, 'queued')") < 0 ||
	    sqlite3_prepare_v2(h, "UPDATE m SET status = ?1 WHERE id = 1", -1,
	    &st, NULL) != SQLITE_OK)
		goto out;
	t0 = cpu();
	for (i = 0; i < n; i++) {
		if (exec(h, "BEGIN IMMEDIATE") < 0)
			goto out;
		sqlite3_bind_text(st, 1, i & 1 ? "sent" : "sending", -1,
		    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
		if (exec(h, "COMMIT") < 0)
			goto out;
	}
	t = (cpu() - t0) / (double)n;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	unlink(path);
	snprintf(path, sizeof path, "%s/floor.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/floor.db-shm", dir);
	unlink(path);
	return t;
}

static size_t
sink(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* CPU seconds per sendMessage request to the emulator at port, or -1. */
static double
requests(const char *port, long n)
{
	char url[256];
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	double t0, t = -1;
	long i, code;

	if (c == NULL)
		return -1;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* the chat the bot may write to, as if its user had written */
	snprintf(url, sizeof url, "http://127.0.0.1:%s/_fake/telegram/chat",
	    port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"id\":1001}");
	if (curl_easy_perform(c) != CURLE_OK) {
		fprintf(stderr, "bench floor: the emulator does not answer\n");
		goto out;
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%s/bot%s/sendMessage",
	    port, TOKEN);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS,
	    "{\"chat_id\":1001,\"text\":\"re: hello, how much is it?\"}");
	t0 = cpu();
	for (i = 0; i < n; i++) {
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) !=
		    CURLE_OK || code != 200) {
			fprintf(stderr, "bench floor: sendMessage failed\n");
			goto out;
		}
	}
	t = (cpu() - t0) / (double)n;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return t;
}

/* Starts the emulator (fake-api beside this program); its pid, port. */
static pid_t
start_fake(const char *self, char *port, size_t len)
{
	char path[1024];
	const char *slash = strrchr(self, '/');
	int fd[2];
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof path, "%.*s/../fake/fake-api",
	    slash ? (int)(slash - self) : 1, slash ? self : ".");
	if (pipe(fd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl(path, path, "-t", TOKEN, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	if (f == NULL || fgets(port, (int)len, f) == NULL) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	port[strcspn(port, "\n")] = '\0';
	fclose(f);
	return pid;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/salesline-floor.XXXXXX", port[32];
	long n = argc > 1 ? atol(argv[1]) : 3000;
	double c, r;
	pid_t fake;

	if (n < 1 || mkdtemp(dir) == NULL)
		return 1;
	c = commits(dir, n);
	rmdir(dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((fake = start_fake(argv[0], port, sizeof port)) < 0) {
		fprintf(stderr, "bench floor: cannot start fake-api\n");
		return 1;
	}
	r = requests(port, n);
	kill(fake, SIGTERM);
	waitpid(fake, NULL, 0);
	curl_global_cleanup();
	if (c < 0 || r < 0)
		return 1;
	printf("Floor of a durable reply (%ld of each): one commit %.0f us "
	    "CPU, one sendMessage %.0f us; %.3f CPU s per 1000 replies "
	    "before any work\n", n, c * 1e6, r * 1e6, (c + r) * 1e3);
	return 0;
}
