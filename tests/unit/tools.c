/*
 * Unit tests for lib/tools.c: the real skills/tools.json, tables with
 * mistakes (tests/fixtures/tools-bad.jsonl: one table and the error it
 * must give per line), the argument checks, and the runner over small
 * shell scripts put first on PATH (tests/fixtures/tools-fake.json names
 * them): records back, extra environment, a non-zero exit, output that
 * is not JSON lines, a timeout that kills the process group, a command
 * that does not read its input, too much output, a signal, a missing
 * command and a planned tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "jsonl.h"
#include "sl.h"
#include "tools.h"
#include "tap.h"

static char dir[] = "/tmp/sl-tools-test.XXXXXX";

static int
contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static jv
json(const char *s)
{
	return sl_parse(s, strlen(s));
}

static void
write_file(const char *name, const char *text, int mode)
{
	char *path = sl_asprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, (mode_t)mode);
	free(path);
}

static void
test_real_table(void)
{
	struct sl_tools *t;
	const struct sl_tool *tool;
	char *err = NULL;
	jv specs, s, keys, out;
	int i, n, rc, clean = 1;

	t = sl_tools_load("skills/tools.json", &err);
	if (!ok(t != NULL, "skills/tools.json loads")) {
		diag("%s", err ? err : "");
		free(err);
		return;
	}
	specs = sl_tools_specs(t);
	n = jv_array_length(jv_copy(specs));
	is_int(n, 6, "six tools for the model");
	for (i = 0; i < n; i++) {
		s = jv_array_get(jv_copy(specs), i);
		keys = jv_keys(jv_copy(s));
		clean &= jv_equal(keys, json("[\"description\","
		    "\"input_schema\",\"name\"]"));
		jv_free(s);
	}
	ok(clean, "a spec is name, description and input_schema only");
	jv_free(specs);
	tool = sl_tools_find(t, "get_free_slots");
	ok(tool && strcmp(tool->argv[0], "cal-free") == 0 && !tool->argv[1] &&
	    tool->timeout_s == 30 && !tool->planned,
	    "get_free_slots runs cal-free, 30 s");
	tool = sl_tools_find(t, "schedule_followup");
	ok(tool && strcmp(tool->argv[1], "--add") == 0,
	    "schedule_followup runs schedule-due --add");
	tool = sl_tools_find(t, "search_knowledge");
	ok(tool && !tool->planned && strcmp(tool->argv[0], "kb-index") == 0,
	    "search_knowledge runs kb-index");
	tool = sl_tools_find(t, "escalate_to_human");
	ok(tool && tool->builtin && !tool->planned,
	    "escalate_to_human is offered, answered by agent-reply");
	rc = sl_tools_run(t, "escalate_to_human", json("{\"prospect\":\"1\","
	    "\"reason\":\"human_request\",\"summary\":\"wants a person\"}"),
	    NULL, &out, &err);
	ok(rc == -1 && contains(err, "answered by its caller"),
	    "a builtin tool is not run: '%s'", err);
	jv_free(out);
	free(err);
	ok(sl_tools_find(t, "nope") == NULL, "an unknown name is not found");
	sl_tools_free(t);

	t = sl_tools_load("/nonexistent/tools.json", &err);
	ok(!t && contains(err, "cannot open '/nonexistent/tools.json'"),
	    "a missing table: '%s'", err ? err : "");
	free(err);
}

static void
test_bad_tables(void)
{
	FILE *f = fopen("tests/fixtures/tools-bad.jsonl", "r");
	struct sl_tools *t;
	const char *want;
	char *line = NULL, *text, *err, *path;
	size_t cap = 0;
	ssize_t len;
	jv rec, table;
	int n = 0;

	if (!ok(f != NULL, "tests/fixtures/tools-bad.jsonl"))
		return;
	path = sl_asprintf("%s/bad.json", dir);
	while ((len = getline(&line, &cap, f)) > 0) {
		rec = sl_parse(line, (size_t)len);
		table = jv_object_get(jv_copy(rec), jv_string("table"));
		want = "";
		sl_get_str(rec, "error", &want);
		text = sl_json_dump(table, NULL);
		write_file("bad.json", text, 0644);
		err = NULL;
		t = sl_tools_load(path, &err);
		ok(!t && contains(err, want), "bad table %d: '%s'", ++n,
		    err ? err : "(loaded)");
		sl_tools_free(t);
		free(err);
		free(text);
		jv_free(table);
		jv_free(rec);
	}
	free(line);
	free(path);
	fclose(f);
	write_file("bad.json", "[{\"name\": ", 0644);
	path = sl_asprintf("%s/bad.json", dir);
	t = sl_tools_load(path, &err);
	ok(!t && contains(err, "bad.json"), "not JSON: '%s'", err ? err : "");
	free(err);
	free(path);
}

/* sl_tools_check's message for input, or NULL when it passes. */
static char *
check(struct sl_tools *t, const char *name, const char *input)
{
	jv in = json(input);
	char *err = NULL;

	if (sl_tools_check(t, name, in, &err) == 0) {
		free(err);
		err = NULL;
	}
	jv_free(in);
	return err;
}

static void
is_check(struct sl_tools *t, const char *name, const char *input,
    const char *want)
{
	char *got = check(t, name, input);

	is_str(got, want, strlen(input) < 120 ? input : "a long topic");
	free(got);
}

static void
test_check(void)
{
	struct sl_tools *t;
	char *err = NULL, *topic, *args;
	size_t i;

	if (!(t = sl_tools_load("skills/tools.json", &err))) {
		ok(0, "skills/tools.json: %s", err);
		free(err);
		return;
	}
	is_check(t, "get_free_slots", "{\"rep\":\"anna\",\"days\":3,"
	    "\"from\":\"2026-03-10T12:00:00+08:00\"}", NULL);
	is_check(t, "get_free_slots", "{\"days\":3}",
	    "'rep': required, but missing");
	is_check(t, "get_free_slots", "{\"rep\":5}",
	    "'rep': expected a string");
	is_check(t, "get_free_slots", "{\"rep\":\"\"}", "'rep': must not be "
	    "empty");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"days\":0}",
	    "'days': must be at least 1");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"days\":367}",
	    "'days': must be at most 366");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"days\":2.5}",
	    "'days': expected an integer");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"days\":\"3\"}",
	    "'days': expected an integer");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"bogus\":1}",
	    "'bogus': unknown field");
	is_check(t, "get_free_slots", "{\"rep\":\"a\",\"from\":\"tomorrow\"}",
	    "'from': expected an RFC 3339 time such as "
	    "2026-03-10T15:00:00+03:00");
	is_check(t, "get_free_slots", "[]", "arguments: expected an object");
	is_check(t, "book_meeting", "{\"rep\":\"anna\",\"prospect\":\"7\","
	    "\"email\":\"bob@example.com\",\"start\":\"2026-03-11T09:00:00Z\"}",
	    NULL);
	is_check(t, "book_meeting", "{\"rep\":\"anna\",\"prospect\":\"7\","
	    "\"email\":\"bob at example\",\"start\":\"2026-03-11T09:00:00Z\"}",
	    "'email': not an e-mail address");
	is_check(t, "book_meeting", "{\"rep\":\"anna\",\"prospect\":\"7\","
	    "\"email\":5,\"start\":\"2026-03-11T09:00:00Z\"}",
	    "'email': expected a string");
	is_check(t, "search_knowledge", "{\"query\":\"price\",\"lang\":\"de\"}",
	    "'lang': expected one of ru, en");
	is_check(t, "escalate_to_human", "{\"prospect\":\"7\",\"reason\":"
	    "\"bored\",\"summary\":\"x\"}", "'reason': expected one of "
	    "human_request, legal_threat, refund_demand, data_erasure, "
	    "negative_sentiment, complaint, cannot_answer, tool_failure");
	is_check(t, "nope", "{}", "unknown tool 'nope'");

	/* 150 Cyrillic letters are 300 bytes but 150 characters. */
	topic = sl_malloc(150 * 2 + 1);
	for (i = 0; i < 150; i++)
		memcpy(topic + 2 * i, "\xd0\xb0", 2);
	topic[300] = '\0';
	args = sl_asprintf("{\"rep\":\"anna\",\"prospect\":\"7\",\"email\":"
	    "\"b@x.io\",\"start\":\"2026-03-11T09:00:00Z\",\"topic\":\"%s\"}",
	    topic);
	is_check(t, "book_meeting", args, NULL);
	free(args);
	args = sl_asprintf("{\"rep\":\"anna\",\"prospect\":\"7\",\"email\":"
	    "\"b@x.io\",\"start\":\"2026-03-11T09:00:00Z\",\"topic\":\"%s%s\"}",
	    topic, topic);
	is_check(t, "book_meeting", args, "'topic': must be at most 200 "
	    "characters");
	free(args);
	free(topic);
	sl_tools_free(t);
}

/* sl_tools_run of name with input; *out and *err as it left them. */
static int
run(struct sl_tools *t, const char *name, const char *input,
    char *const *env, jv *out, char **err)
{
	return sl_tools_run(t, name, json(input), env, out, err);
}

/* Gone or a zombie: the process pid is no more. */
static int
dead(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int i, gone = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 100 && !gone; i++) {
		if (!(f = fopen(path, "r"))) {
			gone = 1;
			break;
		}
		if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) &&
		    (p[2] == 'Z' || p[2] == 'X'))
			gone = 1;
		fclose(f);
		if (!gone)
			sl_sleep_ms(10);
	}
	return gone;
}

static void
test_run(void)
{
	struct sl_tools *t;
	char var[] = "SL_TEST_VAR=hello world", *env[] = { var, NULL };
	char *err = NULL, *path, *big;
	const char *s = NULL;
	long long t0;
	jv out, r;
	FILE *f;
	long pid = 0;
	int rc, saved, fd;

	if (!(t = sl_tools_load("tests/fixtures/tools-fake.json", &err))) {
		ok(0, "tests/fixtures/tools-fake.json: %s", err);
		free(err);
		return;
	}
	rc = run(t, "echo", "{\"text\":\"привет\"}", env, &out, &err);
	is_int(rc, 0, "echo: ok");
	if (rc < 0)
		diag("%s", err);
	is_int(jv_array_length(jv_copy(out)), 2, "echo: two records");
	r = jv_array_get(jv_copy(out), 0);
	ok(jv_equal(jv_copy(r), json("{\"type\":\"echo\",\"argv\":\"--flag\","
	    "\"got\":{\"text\":\"привет\"}}")), "echo: the input as one JSON "
	    "line, the argv of the table");
	jv_free(r);
	r = jv_array_get(jv_copy(out), 1);
	ok(sl_get_str(r, "env", &s) == 1 && strcmp(s, "hello world") == 0,
	    "echo: extra_env reaches the command");
	jv_free(r);
	jv_free(out);
	free(err);

	/* stderr goes on to ours; the last line names the failure. */
	path = sl_asprintf("%s/stderr", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = run(t, "fail", "{}", NULL, &out, &err);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ok(rc == -1 && contains(err, "fail failed (exit status 3): sl-fail: "
	    "unknown rep 'bob'"), "non-zero exit: '%s'", err);
	is_int(jv_array_length(out), 0, "non-zero exit: no records");
	free(err);
	big = NULL;
	if ((f = fopen(path, "r"))) {
		big = sl_calloc(1, 4096);
		if (fread(big, 1, 4095, f) == 0)
			big[0] = '\0';
		fclose(f);
	}
	ok(contains(big, "sl-fail: working\nsl-fail: unknown rep 'bob'\n"),
	    "the command's stderr passed through");
	free(big);
	free(path);

	rc = run(t, "fail_records", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "fail_records failed (exit status 1): "
	    "[{\"type\":\"booking.failed\""), "non-zero exit with records: "
	    "'%s'", err);
	is_int(jv_array_length(out), 1, "non-zero exit: its records kept");
	free(err);

	rc = run(t, "garbage", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "garbage wrote something that is not a "
	    "JSON object on line 2"), "garbage: '%s'", err);
	is_int(jv_array_length(out), 0, "garbage: no records");
	free(err);

	setenv("SALESLINE_TOOL_TIMEOUT", "0.3", 1);
	t0 = now_ms();
	rc = run(t, "sleeper", "{}", NULL, &out, &err);
	t0 = now_ms() - t0;
	unsetenv("SALESLINE_TOOL_TIMEOUT");
	ok(rc == -1 && contains(err, "sleeper timed out after 0.3 s"),
	    "timeout: '%s'", err);
	ok(t0 >= 250 && t0 < 3000, "timeout: after %lld ms", t0);
	jv_free(out);
	free(err);
	path = sl_asprintf("%s/bgpid", dir);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	free(path);
	ok(pid > 0 && dead((pid_t)pid), "timeout: the background child of "
	    "the command is killed too (%ld)", pid);

	big = sl_malloc(300 * 1024 + 32);
	memset(big, 'x', 300 * 1024 + 32);
	memcpy(big, "{\"text\":\"", 9);
	memcpy(big + 300 * 1024 + 29, "\"}", 3);
	rc = run(t, "noread", big, NULL, &out, &err);
	ok(rc == 0, "a command that does not read 300 KiB of input: ok, "
	    "no SIGPIPE");
	is_int(jv_array_length(out), 0, "noread: no records");
	free(err);
	free(big);

	rc = run(t, "big", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "big wrote more than 1 MiB"),
	    "too much output: '%s'", err);
	jv_free(out);
	free(err);

	rc = run(t, "killed", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "killed was killed by signal 9"),
	    "a signal: '%s'", err);
	jv_free(out);
	free(err);

	rc = run(t, "missing", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "cannot run 'sl-no-such-command': No such "
	    "file or directory"), "missing command: '%s'", err);
	jv_free(out);
	free(err);

	rc = run(t, "later", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "the tool 'later' is not available yet"),
	    "planned: '%s'", err);
	jv_free(out);
	free(err);

	rc = run(t, "nope", "{}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "unknown tool 'nope'"), "unknown: '%s'",
	    err);
	jv_free(out);
	free(err);

	rc = run(t, "echo", "{\"text\":5}", NULL, &out, &err);
	ok(rc == -1 && contains(err, "bad arguments for echo: 'text': "
	    "expected a string"), "bad arguments: '%s'", err);
	jv_free(out);
	free(err);
	sl_tools_free(t);
}

int
main(void)
{
	char *path, *cmd;
	const char *old = getenv("PATH");

	sl_init("test-tools");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	path = sl_asprintf("%s:%s", dir, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	free(path);
	setenv("SL_TEST_DIR", dir, 1);
	write_file("sl-echo", "#!/bin/sh\nread -r line\n"
	    "printf '{\"type\":\"echo\",\"argv\":\"%s\",\"got\":%s}\\n' \"$1\" "
	    "\"$line\"\nprintf '{\"type\":\"env\",\"env\":\"%s\"}\\n' "
	    "\"$SL_TEST_VAR\"\n", 0755);
	write_file("sl-fail", "#!/bin/sh\necho 'sl-fail: working' >&2\n"
	    "echo \"sl-fail: unknown rep 'bob'\" >&2\nexit 3\n", 0755);
	write_file("sl-fail-records", "#!/bin/sh\n"
	    "echo '{\"type\":\"booking.failed\",\"error\":{\"code\":\"taken\","
	    "\"message\":\"rep anna was booked\",\"temporary\":false}}'\n"
	    "exit 1\n", 0755);
	write_file("sl-garbage", "#!/bin/sh\necho '{\"type\":\"ok\"}'\n"
	    "echo 'hello'\n", 0755);
	write_file("sl-sleeper", "#!/bin/sh\nsleep 30 &\n"
	    "echo $! >\"$SL_TEST_DIR/bgpid\"\nwait\n", 0755);
	write_file("sl-noread", "#!/bin/sh\nexit 0\n", 0755);
	write_file("sl-big", "#!/bin/sh\nwhile :; do "
	    "echo '{\"type\":\"x\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}'; "
	    "done\n", 0755);
	write_file("sl-killed", "#!/bin/sh\nkill -9 $$\n", 0755);

	test_real_table();
	test_bad_tables();
	test_check();
	test_run();

	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
