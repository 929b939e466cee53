/*
 * fake_client.h: what a unit test needs to drive tests/fake/fake-api:
 * start it ($SL_BUILD/tests/fake/fake-api, its port read from its first
 * line), script its answers with rules, read its request log, stop it.
 * Included by the unit tests that talk HTTP; every function is static and
 * may go unused.
 */
#ifndef FAKE_CLIENT_H
#define FAKE_CLIENT_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jv.h>

#include "http.h"
#include "jsonl.h"
#include "sl.h"
#include "tap.h"

#define FAKE_UNUSED __attribute__((unused))

static pid_t fake_pid = -1;
static char fake_base[64];	/* http://127.0.0.1:PORT */

/* Starts the emulator, with "-t token" when token is not NULL. */
static FAKE_UNUSED int
fake_start(const char *token)
{
	const char *build = getenv("SL_BUILD");
	char path[4096], line[64];
	int fds[2];
	FILE *f;

	snprintf(path, sizeof path, "%s/tests/fake/fake-api",
	    build && *build ? build : ".");
	if (pipe(fds) < 0)
		return -1;
	if ((fake_pid = fork()) < 0)
		return -1;
	if (fake_pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (token)
			execl(path, "fake-api", "-t", token, (char *)NULL);
		else
			execl(path, "fake-api", (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (!(f = fdopen(fds[0], "r")))
		return -1;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(fake_base, sizeof fake_base, "http://127.0.0.1:%d",
	    atoi(line));
	return 0;
}

/* Stops it; its exit status (128 + signal when killed), or -1. */
static FAKE_UNUSED int
fake_stop(void)
{
	int st;

	if (fake_pid <= 0)
		return -1;
	kill(fake_pid, SIGTERM);
	if (waitpid(fake_pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * A GET (body NULL) or POST to a control endpoint: the answer's body (a
 * new string), or NULL after a diagnostic.
 */
static FAKE_UNUSED char *
fake_control(const char *path, const char *body)
{
	struct sl_http_req rq = { 0 };
	struct sl_http_resp resp;
	char u[128], *out = NULL;

	snprintf(u, sizeof u, "%s%s", fake_base, path);
	rq.url = u;
	rq.body = body;
	if (sl_http_do(&rq, &resp) != SL_HTTP_OK)
		diag("%s failed: %s: %s", path, resp.error, resp.body);
	else
		out = sl_strdup(resp.body);
	sl_http_resp_free(&resp);
	return out;
}

/* Forgets the emulator's rules, log and state, then adds these rules. */
static FAKE_UNUSED void
fake_rules(const char *lines)
{
	free(fake_control("/_fake/reset", ""));
	free(fake_control("/_fake/rules", lines));
}

/* The logged requests to method path since the last reset, oldest first. */
static FAKE_UNUSED jv
fake_requests(const char *method, const char *path)
{
	char *log = fake_control("/_fake/log", NULL), *p, *nl;
	const char *m, *pa;
	jv out = jv_array(), e;

	for (p = log; p && *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p);
		e = sl_parse(p, (size_t)(nl - p));
		if (jv_get_kind(e) == JV_KIND_OBJECT &&
		    sl_get_str(e, "method", &m) == 1 && strcmp(m, method) == 0 &&
		    sl_get_str(e, "path", &pa) == 1 && strcmp(pa, path) == 0)
			out = jv_array_append(out, e);
		else
			jv_free(e);
		if (!*nl)
			break;
	}
	free(log);
	return out;
}

/* How many requests to method path were logged since the last reset. */
static FAKE_UNUSED int
fake_count(const char *method, const char *path)
{
	return jv_array_length(fake_requests(method, path));
}

/* How many requests of any kind were logged since the last reset. */
static FAKE_UNUSED int
fake_received(void)
{
	char *log = fake_control("/_fake/log", NULL), *p;
	int n = 0;

	for (p = log; p && *p; p++)
		n += *p == '\n';
	free(log);
	return n;
}

#endif
