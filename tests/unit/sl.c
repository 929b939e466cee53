/*
 * Unit tests for lib/sl.c: masking, diagnostics, configuration.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl.h"
#include "tap.h"

static char tmpdir[] = "/tmp/sl-unit.XXXXXX";

static void
mask_is(const char *in, const char *want)
{
	char *got = sl_mask(in);

	is_str(got, want, in);
	free(got);
}

/* Runs fn in a child with stderr to a file; returns its exit status. */
static int
in_child(void (*fn)(void), char *err, size_t size)
{
	char path[256];
	pid_t pid;
	int st, fd;
	ssize_t n;

	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		close(fd);
		fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	fd = open(path, O_RDONLY);
	n = read(fd, err, size - 1);
	close(fd);
	err[n > 0 ? n : 0] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
die_config(void)
{
	sl_init("unit");
	sl_env_require("SL_UNIT_SURELY_UNSET");
}

static void
error_masked(void)
{
	sl_init("unit");
	sl_secret_add("123456:AAbbCCddEEffGG");
	sl_error("call to /bot123456:AAbbCCddEEffGG/getMe by olga.k@example.com "
	    "tel +7 916 123-45-67\x01 done");
	exit(3);
}

static void
secret_file_missing(void)
{
	sl_init("unit");
	setenv("SL_UNIT_TOKEN_FILE", "/nonexistent/token", 1);
	unsetenv("SL_UNIT_TOKEN");
	sl_secret("SL_UNIT_TOKEN");
}

static void
bad_int(void)
{
	sl_init("unit");
	setenv("SL_UNIT_INT", "12x", 1);
	sl_env_int("SL_UNIT_INT", 5, 0, 100);
}

static void
bad_number(void)
{
	double v;

	sl_init("unit");
	exit(sl_option_number("--limit", "1.5", 1, 100, 1, &v) < 0 ? 3 : 0);
}

/* sl_option_number: 1 when arg is accepted with the value want. */
static int
number_ok(const char *arg, double min, double max, int whole, double want)
{
	double v = -12345;

	return sl_option_number("--x", arg, min, max, whole, &v) == 0 &&
	    v == want;
}

static int
number_refused(const char *arg, double min, double max, int whole)
{
	double v = -12345;
	int fd = dup(2), null = open("/dev/null", O_WRONLY), rc;

	dup2(null, 2);
	rc = sl_option_number("--x", arg, min, max, whole, &v) < 0 &&
	    v == -12345;
	dup2(fd, 2);
	close(fd);
	close(null);
	return rc;
}

int
main(void)
{
	char err[4096], path[256];
	char *s;
	FILE *f;

	if (!mkdtemp(tmpdir))
		return 2;
	sl_init("unit");

	/* masking */
	mask_is("no personal data here", "no personal data here");
	mask_is("write to olga.k@example.com now", "write to o***@example.com now");
	mask_is("a@b.co", "a***@b.co");
	mask_is("not an address: a@b, @x.com, x@", "not an address: a@b, @x.com, x@");
	mask_is("call +7 916 123-45-67", "call +*********67");
	mask_is("call +79161234567.", "call +*********67.");
	mask_is("call 8 (916) 123-45-67 today", "call *********67 today");
	mask_is("89161234567", "*********67");
	mask_is("at 1767225600 chat 880011223", "at 1767225600 chat 880011223");
	mask_is("group -1001234567890", "group -1001234567890");
	mask_is("stdin:12: bad", "stdin:12: bad");
	mask_is("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z");
	mask_is("id abc12345678901xyz", "id abc12345678901xyz");
	mask_is("", "");
	sl_secret_add("s3cr3t-token");
	sl_secret_add("abc");	/* too short to mask */
	mask_is("Authorization: Bearer s3cr3t-token; again s3cr3t-token",
	    "Authorization: Bearer ***; again ***");
	mask_is("abc stays", "abc stays");
	sl_secret_clear();
	mask_is("s3cr3t-token", "s3cr3t-token");

	/* diagnostics */
	is_int(in_child(die_config, err, sizeof err), SL_EX_CONFIG,
	    "missing variable exits 78");
	is_str(err, "unit: SL_UNIT_SURELY_UNSET is not set\n",
	    "missing variable is named");
	is_int(in_child(error_masked, err, sizeof err), 3, "sl_error returns");
	is_str(err, "unit: call to /bot***/getMe by o***@example.com tel "
	    "+*********67? done\n", "secret, e-mail, phone, control masked");
	is_int(in_child(secret_file_missing, err, sizeof err), SL_EX_CONFIG,
	    "unreadable _FILE exits 78");
	ok(strstr(err, "SL_UNIT_TOKEN_FILE") != NULL, "and names the variable");
	is_int(in_child(bad_int, err, sizeof err), SL_EX_CONFIG,
	    "bad integer exits 78");
	ok(strstr(err, "bad SL_UNIT_INT '12x'") != NULL, "and names it");

	/* configuration */
	unsetenv("SL_UNIT_X");
	is_str(sl_env("SL_UNIT_X", "def"), "def", "unset gives default");
	setenv("SL_UNIT_X", "", 1);
	is_str(sl_env("SL_UNIT_X", "def"), "def", "empty counts as unset");
	setenv("SL_UNIT_X", "val", 1);
	is_str(sl_env("SL_UNIT_X", "def"), "val", "set value wins");
	setenv("SL_UNIT_INT", "42", 1);
	is_int(sl_env_int("SL_UNIT_INT", 5, 0, 100), 42, "integer variable");
	unsetenv("SL_UNIT_INT");
	is_int(sl_env_int("SL_UNIT_INT", 5, 0, 100), 5, "integer default");

	snprintf(path, sizeof path, "%s/token", tmpdir);
	f = fopen(path, "w");
	fputs("file-secret-value\n\n", f);
	fclose(f);
	unsetenv("SL_UNIT_TOKEN");
	setenv("SL_UNIT_TOKEN_FILE", path, 1);
	s = sl_secret("SL_UNIT_TOKEN");
	is_str(s, "file-secret-value", "secret from _FILE, newline stripped");
	free(s);
	s = sl_mask("token file-secret-value");
	is_str(s, "token ***", "a secret read from a file is masked");
	free(s);
	setenv("SL_UNIT_TOKEN", "env-secret-value", 1);
	s = sl_secret("SL_UNIT_TOKEN");
	is_str(s, "env-secret-value", "the variable wins over _FILE");
	free(s);
	unsetenv("SL_UNIT_TOKEN");
	unsetenv("SL_UNIT_TOKEN_FILE");
	ok(sl_secret("SL_UNIT_TOKEN") == NULL, "unset secret is NULL");

	unsetenv("SALESLINE_DB");
	unsetenv("DATABASE_URL");
	setenv("SALESLINE_HOME", "/srv/sl", 1);
	is_str(sl_db_url(NULL), "/srv/sl/var/salesline.db",
	    "default ledger under SALESLINE_HOME");
	setenv("DATABASE_URL", "postgres://db/x", 1);
	is_str(sl_db_url(NULL), "postgres://db/x", "DATABASE_URL");
	setenv("SALESLINE_DB", "/tmp/a.db", 1);
	is_str(sl_db_url(NULL), "/tmp/a.db", "SALESLINE_DB over DATABASE_URL");
	is_str(sl_db_url("/tmp/flag.db"), "/tmp/flag.db", "flag over both");

	/* numeric options */
	ok(number_ok("100", 1, 100, 1, 100) && number_ok("1", 1, 100, 1, 1),
	    "sl_option_number: the bounds are in");
	ok(number_ok("0.25", 0, 600, 0, 0.25) && number_ok("-3", -5, 5, 1, -3),
	    "a fraction, and a negative whole number");
	ok(number_refused("0", 1, 100, 1) && number_refused("101", 1, 100, 1),
	    "out of bounds is refused");
	ok(number_refused("", 0, 9, 0) && number_refused(" 5", 0, 9, 0) &&
	    number_refused("5x", 0, 9, 0) && number_refused("nan", 0, 9, 0),
	    "empty, a space, trailing junk, nan are refused");
	ok(number_refused("1.5", 1, 9, 1) && number_refused("1e1", 1, 99, 1) &&
	    number_refused("+5", 1, 9, 1), "a whole number is digits only");
	ok(in_child(bad_number, err, sizeof err) == 3 &&
	    strcmp(err, "unit: --limit: expected a number from 1 to 100, not "
	    "'1.5'\n") == 0, "the refusal names the option and value: %s",
	    err);

	s = sl_asprintf("%s-%d", "x", 42);
	is_str(s, "x-42", "sl_asprintf");
	free(s);

	unlink(path);
	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return done_testing();
}
