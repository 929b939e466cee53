/*
 * Unit tests for lib/jsonl.c: a reader that survives anything, the
 * type-checked getters, IDs without loss, and the writer's error handling.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl.h"
#include "jsonl.h"
#include "tap.h"

static char tmpdir[] = "/tmp/sl-jsonl.XXXXXX";
static char errpath[300];

/* Writes len bytes to a temp file and opens it for reading. */
static FILE *
input(const char *data, size_t len)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/in", tmpdir);
	f = fopen(path, "w");
	fwrite(data, 1, len, f);
	fclose(f);
	return fopen(path, "r");
}

/* stderr to a file, and back; the file's contents into buf. */
static int saved_err = -1;

static void
capture_stderr(void)
{
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	saved_err = dup(2);
	dup2(fd, 2);
	close(fd);
}

static const char *
release_stderr(void)
{
	static char buf[8192];
	int fd;
	ssize_t n;

	dup2(saved_err, 2);
	close(saved_err);
	fd = open(errpath, O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

struct seen {
	int n;
	char texts[16][64];
};

static int
collect(struct sl_reader *r, jv rec, void *ctx)
{
	struct seen *s = ctx;
	const char *t = NULL;
	int rc;

	rc = sl_get_str(rec, "text", &t);
	if (rc < 0) {
		jv_free(rec);
		return sl_reader_reject(r, "'text': expected a string");
	}
	if (s->n < 16)
		snprintf(s->texts[s->n], sizeof s->texts[0], "%s",
		    rc ? t : "(none)");
	s->n++;
	jv_free(rec);
	return 0;
}

static void
test_reader(void)
{
	static const char data[] =
	    "{\"text\":\"one\"}\n"
	    "\n"
	    "   \r\n"
	    "{\"text\":\"two\"\n"				/* 4: truncated */
	    "[1,2]\n"						/* 5: array */
	    "\"str\"\n"						/* 6: string */
	    "{\"a\":1} {\"b\":2}\n"				/* 7: two values */
	    "{\"text\":\"nul\\u0000inside\"}\n"			/* 8: ok */
	    "{\"text\":\"x\0y\"}\n"				/* 9: raw NUL */
	    "{\"text\":\"bad \xff\xfe utf8\"}\n"		/* 10: ok, replaced */
	    "\xef\xbb\xbf{\"text\":\"bom\"}\n"			/* 11: BOM */
	    "{\"text\":42}\n"					/* 12: wrong type */
	    "nul\0l\n"						/* 13 */
	    "{\"text\":\"last\"}";				/* 14: no newline */
	struct seen s = { 0 };
	const char *err;
	FILE *f = input(data, sizeof data - 1);
	int st;

	capture_stderr();
	st = sl_jsonl_loop(f, "stdin", collect, &s);
	err = release_stderr();
	fclose(f);
	is_int(st, SL_EX_REJECT, "loop exits 1 when lines were rejected");
	ok(s.n >= 5, "good records reach the handler (%d)", s.n);
	is_str(s.texts[0], "one", "first record");
	ok(strstr(err, "unit: stdin:4: invalid JSON") != NULL,
	    "truncated object reported with its line");
	ok(strstr(err, "stdin:5: expected an object, got an array") != NULL,
	    "array reported");
	ok(strstr(err, "stdin:6: expected an object, got a string") != NULL,
	    "string reported");
	ok(strstr(err, "stdin:7: ") != NULL, "two values on one line reported");
	ok(strstr(err, "stdin:12: 'text': expected a string") != NULL,
	    "handler rejection names line and field");
	ok(strstr(err, "stdin:13: invalid JSON") != NULL, "NUL garbage reported");
	ok(strstr(err, "stdin:1:") == NULL && strstr(err, "stdin:2:") == NULL &&
	    strstr(err, "stdin:3:") == NULL, "blank lines are not errors");
	is_str(s.texts[s.n - 1], "last", "a last line without newline is read");
	ok(strstr(err, "\"two\"") == NULL, "the line itself is not quoted");
}

static void
test_long_lines(void)
{
	size_t big = 10 * 1024 * 1024, i;
	char *data = malloc(big + 64);
	struct sl_reader *r;
	const char *err;
	FILE *f;
	jv rec;
	int n = 0, rc;

	/* A 10 MB record is read whole. */
	memcpy(data, "{\"text\":\"", 9);
	for (i = 9; i < big; i++)
		data[i] = 'a' + (char)(i % 26);
	memcpy(data + big, "\"}\n{\"text\":\"after\"}\n", 20);
	f = input(data, big + 20);
	r = sl_reader_new(f, "stdin");
	while ((rc = sl_reader_next(r, &rec)) == 1) {
		const char *t;

		if (sl_get_str(rec, "text", &t) == 1 && n == 0)
			is_int((long long)strlen(t), (long long)big - 9,
			    "10 MB line read whole");
		n++;
		jv_free(rec);
	}
	is_int(n, 2, "and the next line too");
	is_int(sl_reader_rejected(r), 0, "nothing rejected");
	sl_reader_free(r);
	fclose(f);

	/* Over the limit: skipped, reported, the rest goes on. */
	f = input(data, big + 20);
	r = sl_reader_new(f, "stdin");
	sl_reader_set_max(r, 1024 * 1024);
	capture_stderr();
	n = 0;
	while ((rc = sl_reader_next(r, &rec)) == 1) {
		const char *t = "";

		sl_get_str(rec, "text", &t);
		is_str(t, "after", "the line after an over-long one is read");
		is_int((long long)sl_reader_lineno(r), 2, "with its own number");
		n++;
		jv_free(rec);
	}
	err = release_stderr();
	is_int(n, 1, "one record survives");
	is_int(sl_reader_rejected(r), 1, "the long line is rejected");
	ok(strstr(err, "stdin:1: line too long (10485762 bytes, at most 1048576)")
	    != NULL, "and reported with its size");
	sl_reader_free(r);
	fclose(f);

	/* An over-long last line without a newline. */
	f = input(data, big);
	r = sl_reader_new(f, "stdin");
	sl_reader_set_max(r, 4096);
	capture_stderr();
	rc = sl_reader_next(r, &rec);
	err = release_stderr();
	is_int(rc, 0, "an over-long unterminated line ends the input");
	is_int(sl_reader_rejected(r), 1, "and is rejected");
	sl_reader_free(r);
	fclose(f);
	free(data);
}

static void
test_getters(void)
{
	static const char obj[] = "{\"s\":\"str\",\"i\":42,\"f\":1.5,\"big\":9007199254740993,"
	    "\"neg\":-1001234567890,\"is\":\"-9223372036854775808\","
	    "\"over\":\"9223372036854775808\",\"b\":true,\"n\":null,"
	    "\"o\":{\"k\":1},\"a\":[1],\"t\":\"2026-11-22T10:00:00+08:00\","
	    "\"tn\":1767225600,\"bad\":\"yesterday\",\"e\":\"\"}";
	jv o;
	const char *s = NULL;
	int64_t i = 0;
	double d = 0;
	int b = 0;
	jv v;

	o = sl_parse(obj, sizeof obj - 1);
	ok(jv_get_kind(o) == JV_KIND_OBJECT, "parsed the test object");
	is_int(sl_get_str(o, "s", &s), 1, "string as string");
	is_str(s, "str", "string value");
	is_int(sl_get_str(o, "i", &s), -1, "number as string: wrong kind");
	is_int(sl_get_str(o, "missing", &s), 0, "absent field");
	is_int(sl_get_str(o, "n", &s), 0, "null counts as absent");
	is_int(sl_get_int(o, "i", &i), 1, "integer");
	is_int(i, 42, "integer value");
	is_int(sl_get_int(o, "f", &i), -1, "fraction is not an integer");
	is_int(sl_get_int(o, "big", &i), -1, "beyond 2^53 refused, not rounded");
	is_int(sl_get_int(o, "neg", &i), 1, "negative group id");
	is_int(i, -1001234567890LL, "negative id value");
	is_int(sl_get_int(o, "is", &i), 1, "int64 min as a string");
	ok(i == INT64_MIN, "int64 min value");
	is_int(sl_get_int(o, "over", &i), -1, "int64 overflow as a string");
	is_int(sl_get_int(o, "s", &i), -1, "non-numeric string");
	is_int(sl_get_int(o, "o", &i), -1, "object as integer");
	is_int(sl_get_num(o, "f", &d), 1, "number");
	ok(d == 1.5, "number value");
	is_int(sl_get_bool(o, "b", &b), 1, "boolean");
	is_int(b, 1, "boolean value");
	is_int(sl_get_bool(o, "i", &b), -1, "number as boolean");
	is_int(sl_get_obj(o, "o", &v), 1, "object");
	jv_free(v);
	is_int(sl_get_obj(o, "a", &v), -1, "array as object");
	is_int(sl_get_arr(o, "a", &v), 1, "array");
	jv_free(v);
	is_int(sl_get_id(o, "neg", &v), 1, "numeric id");
	is_str(jv_string_value(v), "-1001234567890", "id printed without loss");
	jv_free(v);
	is_int(sl_get_id(o, "s", &v), 1, "string id");
	jv_free(v);
	is_int(sl_get_id(o, "e", &v), -1, "empty string id refused");
	is_int(sl_get_id(o, "f", &v), -1, "fractional id refused");
	is_int(sl_get_time(o, "t", &i), 1, "RFC 3339 time");
	is_int(i, 1795312800, "time with offset in UTC seconds");
	is_int(sl_get_time(o, "tn", &i), 1, "Unix seconds time");
	is_int(sl_get_time(o, "bad", &i), -1, "bad time");
	/* Getters on something that is not an object never abort. */
	is_int(sl_get_str(jv_null(), "s", &s), 0, "getter on null");
	v = jv_array();
	is_int(sl_get_int(v, "i", &i), 0, "getter on an array");
	jv_free(v);
	jv_free(o);

	v = sl_id_jv(9007199254740991LL);
	is_str(jv_string_value(v), "9007199254740991", "2^53-1 as a string");
	jv_free(v);
	v = sl_id_jv(INT64_MAX);
	is_str(jv_string_value(v), "9223372036854775807", "int64 max as a string");
	jv_free(v);
	v = sl_set(jv_null(), "k", jv_true());
	ok(!jv_is_valid(v), "sl_set on a non-object is invalid, not an abort");
	jv_free(v);
	v = sl_parse("{\"a\":1} 2", 9);
	ok(!jv_is_valid(v), "two values refused");
	jv_free(v);
	v = sl_parse("", 0);
	ok(!jv_is_valid(v), "empty input refused");
	jv_free(v);
}

/* sl_parse(text) dumped back compactly, or "!" and the error. */
static void
parse_is(const char *in, const char *want)
{
	jv v = sl_parse(in, strlen(in));
	char got[512];

	if (jv_is_valid(v)) {
		jv d = jv_dump_string(v, 0);

		snprintf(got, sizeof got, "%s", jv_string_value(d));
		jv_free(d);
	} else {
		jv m = jv_invalid_get_msg(v);

		snprintf(got, sizeof got, "!%s", jv_get_kind(m) ==
		    JV_KIND_STRING ? jv_string_value(m) : "?");
		jv_free(m);
	}
	is_str(got, want, in);
}

static void
test_parser(void)
{
	char deep[1200];
	int i;

	parse_is("{\"a\":[1,2.5,-3e2,true,false,null,\"x\"]}",
	    "{\"a\":[1,2.5,-300,true,false,null,\"x\"]}");
	parse_is(" {\"k\" : \"v\" } \r", "{\"k\":\"v\"}");
	parse_is("{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
	    "{\"e\":\"\\\"\\\\/\\b\\f\\n\\r\\t\"}");
	parse_is("{\"u\":\"\\u041f\\u0440\\u0438\"}", "{\"u\":\"\xd0\x9f\xd1\x80\xd0\xb8\"}");
	parse_is("{\"u\":\"\\ud83d\\ude00\"}", "{\"u\":\"\xf0\x9f\x98\x80\"}");
	parse_is("{\"u\":\"\\ud83dx\"}", "{\"u\":\"\xef\xbf\xbdx\"}");
	parse_is("{\"u\":\"\\u0000\"}", "{\"u\":\"\\u0000\"}");
	parse_is("{\"u\":\"\xff\"}", "{\"u\":\"\xef\xbf\xbd\"}");
	parse_is("{\"a\":1,\"a\":2}", "{\"a\":2}");
	parse_is("{\"typ\"\"e\":1}", "!expected ':' at column 7");
	parse_is("{\"a\":1,}", "!expected a string key at column 8");
	parse_is("[1 2]", "!expected ',' or ']' at column 4");
	parse_is("{\"a\":01}", "!expected ',' or '}' at column 7");
	parse_is("{\"a\":1.}", "!bad number at column 6");
	parse_is("{\"a\":-}", "!bad number at column 6");
	parse_is("{\"a\":1e999}", "!number out of range at column 6");
	parse_is("{\"a\":tru}", "!invalid literal at column 6");
	parse_is("{\"a\":\"x", "!unterminated string at column 8");
	parse_is("{\"a\":\"\\x\"}", "!bad escape in a string at column 7");
	parse_is("{\"a\":\"\\u12\"}", "!bad \\u escape at column 7");
	parse_is("{\"a\":\"\t\"}", "!control character in a string at column 7");
	parse_is("{} x", "!unexpected data after the value at column 4");
	parse_is("   ", "!no JSON value at column 4");
	parse_is("NaN", "!bad number at column 1");
	for (i = 0; i < 300; i++)
		deep[i] = '[';
	deep[300] = '\0';
	parse_is(deep, "!nested too deeply at column 257");
	for (i = 0; i < 200; i++) {
		deep[i] = '[';
		deep[200 + i] = ']';
	}
	deep[400] = '\0';
	{
		jv v = sl_parse(deep, 400);

		ok(jv_is_valid(v), "200 levels of nesting are fine");
		jv_free(v);
	}
}

static void
dump_is(jv v, const char *want, const char *name)
{
	size_t n;
	char *got = sl_json_dump(v, &n);

	is_str(got, want, name);
	is_int((long long)n, (long long)strlen(want), "length of the dump");
	free(got);
	jv_free(v);
}

static void
test_dump(void)
{
	static const char in[] = "{\"z\":1,\"a\":[0.1,1e20,-0.0,1.5e-7,"
	    "-1001234567890,1767225600,3.141592653589793],"
	    "\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001d\\u007f\xd0\x9f\"}";
	jv v = sl_parse(in, sizeof in - 1);

	dump_is(v, "{\"z\":1,\"a\":[0.1,1e+20,0,1.5e-07,-1001234567890,"
	    "1767225600,3.141592653589793],\"s\":\"q\\\"b\\\\n\\nt\\tc"
	    "\\u0001d\\u007f\xd0\x9f\"}",
	    "keys in insertion order, exact numbers, escapes");
	dump_is(jv_number(0.0 / 0.0), "null", "NaN is written as null");
	dump_is(jv_array(), "[]", "empty array");
	dump_is(jv_object(), "{}", "empty object");
	dump_is(jv_string_sized("a\0b", 3), "\"a\\u0000b\"", "NUL escaped");
}

static void
emit_full(void)
{
	sl_init("unit");
	if (!freopen("/dev/full", "w", stdout))
		_exit(99);
	sl_emit(jv_parse("{\"type\":\"x\"}"));
	sl_emit(jv_parse("{\"type\":\"y\"}"));
	_exit(sl_out_close());
}

static void
test_writer(void)
{
	const char *err;
	pid_t pid;
	int st;

	capture_stderr();
	fflush(stdout);
	if ((pid = fork()) == 0)
		emit_full();
	waitpid(pid, &st, 0);
	err = release_stderr();
	is_int(WEXITSTATUS(st), SL_EX_IOERR, "write to /dev/full gives 74");
	is_str(err, "unit: error writing stdout: No space left on device\n",
	    "reported once");
}

static void
more_full(void)
{
	sl_init("unit");
	if (!freopen("/dev/full", "w", stdout))
		_exit(99);
	sl_emit_more(jv_parse("{\"type\":\"x\"}"));
	sl_emit_more(jv_parse("{\"type\":\"y\"}"));
	_exit(sl_out_flush() == -1 && sl_out_status() == SL_EX_IOERR ? 0 : 1);
}

/* Records held by sl_emit_more reach the pipe at sl_out_flush. */
static void
test_batch_writer(void)
{
	char buf[128];
	int fd[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(fd) < 0)
		_exit(99);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fd[0]);
		dup2(fd[1], 1);
		sl_emit_more(jv_parse("{\"type\":\"a\"}"));
		sl_emit_more(jv_parse("{\"n\":2}"));
		sl_out_flush();
		_exit(0);
	}
	close(fd[1]);
	waitpid(pid, &st, 0);
	n = read(fd[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	is_str(buf, "{\"type\":\"a\"}\n{\"n\":2}\n", "held records written "
	    "at the flush, in order");
	capture_stderr();
	if ((pid = fork()) == 0)
		more_full();
	waitpid(pid, &st, 0);
	is_str(release_stderr(), "unit: error writing stdout: No space left on "
	    "device\n", "a failed flush reported once");
	is_int(WEXITSTATUS(st), 0, "sl_out_flush -1, status 74 after it");
}

/* sl_key: the same text for the same address, and a reused buffer. */
static void
test_keys(void)
{
	char buf[16];
	jv a, b, o;

	a = sl_key("prospect");
	b = sl_key("prospect");
	is_str(jv_string_value(a), "prospect", "a key's text");
	ok(jv_equal(a, b), "the same key twice");	/* consumes a, b */
	snprintf(buf, sizeof buf, "chat");
	a = sl_key(buf);
	snprintf(buf, sizeof buf, "due");
	b = sl_key(buf);
	is_str(jv_string_value(a), "chat", "the first text of a buffer");
	is_str(jv_string_value(b), "due", "a buffer that now holds another "
	    "key");
	jv_free(a);
	jv_free(b);
	o = sl_set(sl_set(jv_object(), "k", jv_number(1)), buf, jv_number(2));
	snprintf(buf, sizeof buf, "k");
	o = sl_set(o, buf, jv_number(3));
	dump_is(o, "{\"k\":3,\"due\":2}", "sl_set through the cache");
}

int
main(void)
{
	if (!mkdtemp(tmpdir))
		return 2;
	snprintf(errpath, sizeof errpath, "%s/err", tmpdir);
	sl_init("unit");
	test_reader();
	test_long_lines();
	test_getters();
	test_parser();
	test_dump();
	test_writer();
	test_batch_writer();
	test_keys();
	unlink(errpath);
	{
		char p[300];

		snprintf(p, sizeof p, "%s/in", tmpdir);
		unlink(p);
	}
	rmdir(tmpdir);
	return done_testing();
}
