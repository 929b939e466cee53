/*
 * tools.c: the tool table, its argument checks and the runner (tools.h).
 *
 * The runner forks and execs the command itself, no shell: the child
 * gets its own process group (so a timeout kills the command and
 * whatever it started), stdin from a socket pair (written with
 * MSG_NOSIGNAL, so a command that exits without reading its input gives
 * EPIPE here instead of killing us with SIGPIPE), stdout and stderr on
 * pipes.  An exec failure comes back over a close-on-exec pipe as the
 * child's errno, so "cannot run 'cal-free': No such file or directory"
 * is told apart from a command that ran and exited 127.  One poll(2)
 * loop writes the input, reads both outputs and watches the deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"
#include "tools.h"

#define NAME_MAX_LEN 64
#define FILE_MAX ((size_t)4 * 1024 * 1024)
#define OUT_MAX ((size_t)1024 * 1024)
#define ERR_KEEP 1024		/* bytes of stderr kept for the error text */
#define QUOTE_MAX 600		/* bytes of records quoted in an error */
#define GRACE_MS 1000		/* from SIGTERM to SIGKILL */

extern char **environ;

struct sl_tools {
	struct sl_tool *v;
	size_t n;
};

/*
 * Loading
 */

/* The file's contents, a new string; NULL with *err. */
static char *
read_file(const char *path, size_t *len, char **err)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		*err = sl_asprintf("cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = sl_realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0 || n > FILE_MAX)
			break;
	}
	if (ferror(f) || n > FILE_MAX) {
		*err = n > FILE_MAX ? sl_asprintf("'%s' is too large", path) :
		    sl_asprintf("cannot read '%s': %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	fclose(f);
	return buf;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_LEN && strspn(s, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* entry's command as a NULL-terminated argv, or NULL. Borrows entry. */
static char **
argv_of(jv entry)
{
	jv cmd, a;
	char **argv;
	int i, n;

	if (sl_get_arr(entry, "command", &cmd) != 1)
		return NULL;
	n = jv_array_length(jv_copy(cmd));
	if (n == 0) {
		jv_free(cmd);
		return NULL;
	}
	argv = sl_calloc((size_t)n + 1, sizeof *argv);
	for (i = 0; i < n; i++) {
		a = jv_array_get(jv_copy(cmd), i);
		if (jv_get_kind(a) != JV_KIND_STRING ||
		    !*jv_string_value(a)) {
			jv_free(a);
			while (i-- > 0)
				free(argv[i]);
			free(argv);
			jv_free(cmd);
			return NULL;
		}
		argv[i] = sl_strdup(jv_string_value(a));
		jv_free(a);
	}
	jv_free(cmd);
	return argv;
}

static void
tool_clear(struct sl_tool *tool)
{
	char **a;

	free(tool->name);
	jv_free(tool->spec);
	for (a = tool->argv; a && *a; a++)
		free(*a);
	free(tool->argv);
}

/* entries[i] into tool: 0, or -1 with *err. Borrows entry. */
static int
tool_load(struct sl_tool *tool, jv entry, int i, char **err)
{
	const char *name = NULL, *desc = "", *type = NULL, *bad = NULL;
	jv schema = jv_invalid();

	memset(tool, 0, sizeof *tool);
	tool->spec = jv_null();
	if (jv_get_kind(entry) != JV_KIND_OBJECT)
		bad = "expected an object";
	else if (sl_get_str(entry, "name", &name) != 1 || !name_ok(name))
		bad = "'name': expected [A-Za-z0-9_-], 1 to 64 characters";
	else if (sl_get_str(entry, "description", &desc) < 0)
		bad = "'description': expected a string";
	else if (sl_get_obj(entry, "input_schema", &schema) != 1 ||
	    sl_get_str(schema, "type", &type) != 1 ||
	    strcmp(type, "object") != 0)
		bad = "'input_schema': expected an object of type object";
	else if (!(tool->argv = argv_of(entry)))
		bad = "'command': expected a non-empty array of non-empty "
		    "strings";
	else if (sl_get_num(entry, "timeout_s", &tool->timeout_s) != 1 ||
	    !(tool->timeout_s > 0 && tool->timeout_s <= 24 * 3600))
		bad = "'timeout_s': expected a positive number of seconds";
	else if (sl_get_bool(entry, "planned", &tool->planned) < 0)
		bad = "'planned': expected a boolean";
	else if (sl_get_bool(entry, "builtin", &tool->builtin) < 0)
		bad = "'builtin': expected a boolean";
	if (bad) {
		*err = sl_asprintf("tool %d%s%s%s: %s", i, name ? " '" : "",
		    name ? name : "", name ? "'" : "", bad);
		jv_free(schema);
		tool_clear(tool);
		memset(tool, 0, sizeof *tool);
		return -1;
	}
	tool->name = sl_strdup(name);
	tool->spec = JV_OBJECT(jv_string("name"), jv_string(name),
	    jv_string("description"), jv_string(desc ? desc : ""),
	    jv_string("input_schema"), schema);
	return 0;
}

struct sl_tools *
sl_tools_load(const char *path, char **err)
{
	struct sl_tools *t = NULL;
	char *buf, *p = NULL, *why = NULL;
	size_t len = 0, i, j;
	jv doc = jv_invalid(), m, entry;
	int n;

	*err = NULL;
	if (!path)
		path = p = sl_asprintf("%s/skills/tools.json", sl_home());
	if (!(buf = read_file(path, &len, err)))
		goto out;
	doc = sl_parse(buf, len);
	free(buf);
	if (jv_get_kind(doc) != JV_KIND_ARRAY) {
		m = jv_is_valid(doc) ? jv_string("expected an array of tools") :
		    jv_invalid_get_msg(jv_copy(doc));
		*err = sl_asprintf("'%s': %s", path,
		    jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
		    "not JSON");
		jv_free(m);
		goto out;
	}
	n = jv_array_length(jv_copy(doc));
	t = sl_calloc(1, sizeof *t);
	t->v = sl_calloc((size_t)n + 1, sizeof *t->v);
	for (i = 0; i < (size_t)n; i++) {
		entry = jv_array_get(jv_copy(doc), (int)i);
		if (tool_load(&t->v[i], entry, (int)i, &why) < 0) {
			jv_free(entry);
			break;
		}
		jv_free(entry);
		t->n++;
		for (j = 0; j < i && !why; j++)
			if (strcmp(t->v[j].name, t->v[i].name) == 0)
				why = sl_asprintf("tool %zu: '%s' is already "
				    "tool %zu", i, t->v[i].name, j);
		if (why)
			break;
	}
	if (why) {
		*err = sl_asprintf("'%s': %s", path, why);
		free(why);
		sl_tools_free(t);
		t = NULL;
	}
out:
	jv_free(doc);
	free(p);
	return t;
}

void
sl_tools_free(struct sl_tools *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		tool_clear(&t->v[i]);
	free(t->v);
	free(t);
}

jv
sl_tools_specs(const struct sl_tools *t)
{
	jv out = jv_array();
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!t->v[i].planned)
			out = jv_array_append(out, jv_copy(t->v[i].spec));
	return out;
}

const struct sl_tool *
sl_tools_find(const struct sl_tools *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

/*
 * Arguments
 */

/* The field's name for messages: "'a.b'", "'list[2]'", or "arguments". */
static char *
where(const char *path)
{
	return *path ? sl_asprintf("'%s'", path) : sl_strdup("arguments");
}

static int SL_PRINTF(3, 4)
bad(char **err, const char *path, const char *fmt, ...)
{
	va_list ap;
	char *w = where(path), *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = sl_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*err = sl_asprintf("%s: %s", w, msg);
	free(msg);
	free(w);
	return -1;
}

static int
kind_is(const char *type, jv v)
{
	jv_kind k = jv_get_kind(v);
	double d;

	if (strcmp(type, "integer") == 0) {
		if (k != JV_KIND_NUMBER)
			return 0;
		d = jv_number_value(v);
		return isfinite(d) && floor(d) == d &&
		    fabs(d) <= 9007199254740992.0;	/* 2^53 */
	}
	return (strcmp(type, "object") == 0 && k == JV_KIND_OBJECT) ||
	    (strcmp(type, "array") == 0 && k == JV_KIND_ARRAY) ||
	    (strcmp(type, "string") == 0 && k == JV_KIND_STRING) ||
	    (strcmp(type, "number") == 0 && k == JV_KIND_NUMBER) ||
	    (strcmp(type, "boolean") == 0 && (k == JV_KIND_TRUE ||
	    k == JV_KIND_FALSE)) ||
	    (strcmp(type, "null") == 0 && k == JV_KIND_NULL);
}

static const char *
a_type(const char *type)
{
	if (strcmp(type, "integer") == 0 || strcmp(type, "object") == 0 ||
	    strcmp(type, "array") == 0)
		return type[0] == 'i' ? "an integer" : type[0] == 'o' ?
		    "an object" : "an array";
	if (strcmp(type, "null") == 0)
		return "null";
	return strcmp(type, "string") == 0 ? "a string" :
	    strcmp(type, "number") == 0 ? "a number" :
	    strcmp(type, "boolean") == 0 ? "a boolean" : type;
}

/* The schema's type (a name or a list): 0 when v has it. */
static int
check_type(jv schema, jv v, const char *path, char **err)
{
	jv type = jv_object_get(jv_copy(schema), jv_string("type")), e;
	char want[200] = "";
	int i, n, match = 0;
	size_t len;

	if (jv_get_kind(type) == JV_KIND_STRING) {
		match = kind_is(jv_string_value(type), v);
		snprintf(want, sizeof want, "%s",
		    a_type(jv_string_value(type)));
	} else if (jv_get_kind(type) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(type));
		for (i = 0; i < n; i++) {
			e = jv_array_get(jv_copy(type), i);
			if (jv_get_kind(e) == JV_KIND_STRING) {
				match |= kind_is(jv_string_value(e), v);
				len = strlen(want);
				snprintf(want + len, sizeof want - len, "%s%s",
				    len ? " or " : "", a_type(
				    jv_string_value(e)));
			}
			jv_free(e);
		}
	} else {
		match = 1;
	}
	jv_free(type);
	return match ? 0 : bad(err, path, "expected %s", want);
}

/* enum and const: 0 when v is one of the values. */
static int
check_enum(jv schema, jv v, const char *path, char **err)
{
	jv list, c, e;
	char want[200] = "";
	int i, n, found = 0;
	size_t len;

	if (sl_get_arr(schema, "enum", &list) != 1) {
		c = jv_object_get(jv_copy(schema), jv_string("const"));
		if (!jv_is_valid(c)) {
			jv_free(c);
			return 0;
		}
		list = JV_ARRAY(c);
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n && !found; i++)
		found = jv_equal(jv_array_get(jv_copy(list), i), jv_copy(v));
	for (i = 0; i < n && !found; i++) {
		e = jv_array_get(jv_copy(list), i);
		len = strlen(want);
		if (jv_get_kind(e) == JV_KIND_STRING)
			snprintf(want + len, sizeof want - len, "%s%s",
			    len ? ", " : "", jv_string_value(e));
		jv_free(e);
	}
	jv_free(list);
	if (found)
		return 0;
	return *want ? bad(err, path, "expected one of %s", want) :
	    bad(err, path, "not an allowed value");
}

/* Characters of a UTF-8 string. */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Loosely: local@domain.tld, no spaces, one @. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *dot;

	if (!at || at == s || strchr(at + 1, '@') || strpbrk(s, " \t\r\n<>,"))
		return 0;
	dot = strrchr(at + 1, '.');
	return dot && dot > at + 1 && dot[1] != '\0';
}

static int
check_string(jv schema, const char *s, const char *path, char **err)
{
	const char *format;
	double lim;
	size_t n = utf8_len(s);
	int64_t t;

	if (sl_get_num(schema, "minLength", &lim) == 1 && (double)n < lim)
		return lim <= 1 ? bad(err, path, "must not be empty") :
		    bad(err, path, "must be at least %.0f characters", lim);
	if (sl_get_num(schema, "maxLength", &lim) == 1 && (double)n > lim)
		return bad(err, path, "must be at most %.0f characters", lim);
	if (sl_get_str(schema, "format", &format) != 1)
		return 0;
	if (strcmp(format, "date-time") == 0 && sl_time_parse(s, &t) < 0)
		return bad(err, path, "expected an RFC 3339 time such as "
		    "2026-03-10T15:00:00+03:00");
	if (strcmp(format, "email") == 0 && !email_ok(s))
		return bad(err, path, "not an e-mail address");
	return 0;
}

static int
check_number(jv schema, double d, const char *path, char **err)
{
	double lim;

	if (sl_get_num(schema, "minimum", &lim) == 1 && d < lim)
		return bad(err, path, "must be at least %g", lim);
	if (sl_get_num(schema, "maximum", &lim) == 1 && d > lim)
		return bad(err, path, "must be at most %g", lim);
	return 0;
}

static int check_value(jv schema, jv v, const char *path, char **err);

static int
check_object(jv schema, jv v, const char *path, char **err)
{
	jv props = jv_invalid(), req = jv_invalid(), extra, sub, key;
	char *p;
	int i, n, it, rc = 0;

	if (sl_get_obj(schema, "properties", &props) != 1)
		props = jv_object();
	if (sl_get_arr(schema, "required", &req) == 1) {
		n = jv_array_length(jv_copy(req));
		for (i = 0; rc == 0 && i < n; i++) {
			key = jv_array_get(jv_copy(req), i);
			if (jv_get_kind(key) == JV_KIND_STRING &&
			    !jv_object_has(jv_copy(v), jv_copy(key))) {
				p = sl_asprintf("%s%s%s", path, *path ? "." :
				    "", jv_string_value(key));
				rc = bad(err, p, "required, but missing");
				free(p);
			}
			jv_free(key);
		}
	}
	extra = jv_object_get(jv_copy(schema),
	    jv_string("additionalProperties"));
	for (it = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		key = jv_object_iter_key(v, it);
		p = sl_asprintf("%s%s%s", path, *path ? "." : "",
		    jv_string_value(key));
		sub = jv_object_get(jv_copy(props), jv_copy(key));
		if (jv_get_kind(sub) == JV_KIND_OBJECT)
			rc = check_value(sub, jv_object_iter_value(v, it), p,
			    err);
		else if (jv_get_kind(extra) == JV_KIND_FALSE)
			rc = bad(err, p, "unknown field");
		else if (jv_get_kind(extra) == JV_KIND_OBJECT)
			rc = check_value(extra, jv_object_iter_value(v, it),
			    p, err);
		jv_free(sub);
		jv_free(key);
		free(p);
	}
	jv_free(extra);
	jv_free(req);
	jv_free(props);
	return rc;
}

static int
check_array(jv schema, jv v, const char *path, char **err)
{
	jv items = jv_invalid();
	double lim;
	char *p;
	int i, n = jv_array_length(jv_copy(v)), rc = 0;

	if (sl_get_num(schema, "minItems", &lim) == 1 && n < lim)
		return bad(err, path, "must have at least %.0f items", lim);
	if (sl_get_num(schema, "maxItems", &lim) == 1 && n > lim)
		return bad(err, path, "must have at most %.0f items", lim);
	if (sl_get_obj(schema, "items", &items) != 1)
		return 0;
	for (i = 0; rc == 0 && i < n; i++) {
		p = sl_asprintf("%s[%d]", path, i);
		rc = check_value(items, jv_array_get(jv_copy(v), i), p, err);
		free(p);
	}
	jv_free(items);
	return rc;
}

/* v (consumed) against schema (borrowed). */
static int
check_value(jv schema, jv v, const char *path, char **err)
{
	int rc;

	if ((rc = check_type(schema, v, path, err)) == 0 &&
	    (rc = check_enum(schema, v, path, err)) == 0) {
		switch (jv_get_kind(v)) {
		case JV_KIND_STRING:
			rc = check_string(schema, jv_string_value(v), path,
			    err);
			break;
		case JV_KIND_NUMBER:
			rc = check_number(schema, jv_number_value(v), path,
			    err);
			break;
		case JV_KIND_OBJECT:
			rc = check_object(schema, v, path, err);
			break;
		case JV_KIND_ARRAY:
			rc = check_array(schema, v, path, err);
			break;
		default:
			break;
		}
	}
	jv_free(v);
	return rc;
}

int
sl_tools_check(const struct sl_tools *t, const char *name, jv input,
    char **err)
{
	const struct sl_tool *tool = sl_tools_find(t, name);
	jv schema;
	int rc;

	*err = NULL;
	if (!tool) {
		*err = sl_asprintf("unknown tool '%s'", name ? name : "");
		return -1;
	}
	schema = jv_object_get(jv_copy(tool->spec), jv_string("input_schema"));
	rc = check_value(schema, jv_copy(input), "", err);
	jv_free(schema);
	return rc;
}

/*
 * Running
 */

struct child {
	pid_t pid;
	int in, out, err;	/* our ends; -1 when closed */
};


/* Keeps only the last ERR_KEEP bytes of stderr. */
static void
tail_add(struct sl_buf *b, const char *data, size_t n)
{
	sl_buf_add(b, data, n);
	if (b->len > ERR_KEEP) {
		memmove(b->s, b->s + b->len - ERR_KEEP, ERR_KEEP);
		b->len = ERR_KEEP;
		b->s[b->len] = '\0';
	}
}

/* The tool's timeout in ms: $SALESLINE_TOOL_TIMEOUT or timeout_s. */
static long
timeout_ms(const struct sl_tool *tool)
{
	const char *v = sl_env("SALESLINE_TOOL_TIMEOUT", NULL);
	char *end;
	double d;

	if (!v)
		return (long)ceil(tool->timeout_s * 1000);
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d > 0 && d <= 24 * 3600))
		sl_die(SL_EX_CONFIG, "bad SALESLINE_TOOL_TIMEOUT '%s': "
		    "expected seconds, more than 0", v);
	return (long)ceil(d * 1000);
}

/* environ with extra set on top: a new array of borrowed strings. */
static char **
env_with(char *const *extra)
{
	size_t n = 0, k = 0, i, j, len;
	char **env;
	const char *eq;

	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	env = sl_calloc(n + k + 1, sizeof *env);
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	for (j = 0; j < k; j++) {
		if (!(eq = strchr(extra[j], '=')))
			continue;
		len = (size_t)(eq - extra[j]) + 1;
		for (i = 0; i < n; i++)
			if (strncmp(env[i], extra[j], len) == 0)
				break;
		env[i] = extra[j];
		if (i == n)
			n++;
	}
	env[n] = NULL;
	return env;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: fd becomes target, the original closed. */
static void
move_fd(int fd, int target)
{
	if (fd != target) {
		dup2(fd, target);
		close(fd);
	}
}

/* Starts the command: 0, or -1 with *err (it could not be started). */
static int
spawn(const struct sl_tool *tool, char *const *extra, struct child *c,
    char **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	int ex[2] = { -1, -1 }, e = 0, rc = -1;
	char **envp = NULL;
	ssize_t r;

	c->pid = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) < 0 || pipe(out) < 0 ||
	    pipe(er) < 0 || pipe(ex) < 0 ||
	    fcntl(ex[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(ex[1], F_SETFD, FD_CLOEXEC) < 0) {
		*err = sl_asprintf("cannot run '%s': %s", tool->argv[0],
		    strerror(errno));
		goto out;
	}
	envp = env_with(extra);
	if ((c->pid = fork()) < 0) {
		*err = sl_asprintf("cannot run '%s': %s", tool->argv[0],
		    strerror(errno));
		goto out;
	}
	if (c->pid == 0) {
		setpgid(0, 0);
		close(in[0]);
		close(out[0]);
		close(er[0]);
		close(ex[0]);
		move_fd(in[1], STDIN_FILENO);
		move_fd(out[1], STDOUT_FILENO);
		move_fd(er[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		environ = envp;
		execvp(tool->argv[0], tool->argv);
		e = errno;
		if (write(ex[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(c->pid, c->pid);	/* either of us may win the race */
	close_fd(&ex[1]);
	close_fd(&in[1]);
	close_fd(&out[1]);
	close_fd(&er[1]);
	do
		r = read(ex[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof e) {
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
		*err = sl_asprintf("cannot run '%s': %s", tool->argv[0],
		    strerror(e));
		goto out;
	}
	c->in = in[0];
	c->out = out[0];
	c->err = er[0];
	in[0] = out[0] = er[0] = -1;
	fcntl(c->in, F_SETFL, O_NONBLOCK);
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
	rc = 0;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&er[0]);
	close_fd(&er[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	free(envp);
	return rc;
}

/* waitpid until deadline (ms on the monotonic clock): 1 when it ended. */
static int
reap(pid_t pid, long deadline, int *status)
{
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;
		if (sl_mono_ms() >= deadline)
			return 0;
		sl_sleep_ms(5);
	}
}

/* SIGTERM to the group, SIGKILL after GRACE_MS, then reaped. */
static void
kill_group(pid_t pid, int *status)
{
	kill(-pid, SIGTERM);
	if (reap(pid, sl_mono_ms() + GRACE_MS, status)) {
		kill(-pid, SIGKILL);	/* what it left behind */
		return;
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Reads what fd has; 0 at its end (closed), 1 for more to come. */
static int
drain(int *fd, struct sl_buf *b, int is_err)
{
	char chunk[8192];
	ssize_t r, w, off;

	for (;;) {
		r = read(*fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (r <= 0) {
			close_fd(fd);
			return 0;
		}
		if (!is_err) {
			sl_buf_add(b, chunk, (size_t)r);
			if (b->len > OUT_MAX)
				return 1;
			continue;
		}
		for (off = 0; off < r; off += w)
			if ((w = write(STDERR_FILENO, chunk + off,
			    (size_t)(r - off))) <= 0)
				break;
		tail_add(b, chunk, (size_t)r);
	}
}

/*
 * Feeds line to the child and collects its output until it closes both
 * or the deadline.  Returns 0, 1 for a timeout, 2 for too much output;
 * the child is reaped in every case, *status its wait status.
 */
static int
collect(struct child *c, const char *line, size_t len, long ms,
    struct sl_buf *out, struct sl_buf *errb, int *status)
{
	struct pollfd pfd[3];
	long deadline = sl_mono_ms() + ms, left;
	size_t sent = 0;
	ssize_t w;
	int n, i, rc = 0;

	while (c->in >= 0 || c->out >= 0 || c->err >= 0) {
		if ((left = deadline - sl_mono_ms()) <= 0) {
			rc = 1;
			break;
		}
		n = 0;
		if (c->in >= 0)
			pfd[n++] = (struct pollfd){ c->in, POLLOUT, 0 };
		if (c->out >= 0)
			pfd[n++] = (struct pollfd){ c->out, POLLIN, 0 };
		if (c->err >= 0)
			pfd[n++] = (struct pollfd){ c->err, POLLIN, 0 };
		if (poll(pfd, (nfds_t)n, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			rc = 1;
			break;
		}
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == c->in) {
				w = send(c->in, line + sent, len - sent,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					sent += (size_t)w;
				if ((w < 0 && errno != EAGAIN &&
				    errno != EWOULDBLOCK && errno != EINTR) ||
				    sent == len)
					close_fd(&c->in);
			} else if (pfd[i].fd == c->out) {
				drain(&c->out, out, 0);
			} else {
				drain(&c->err, errb, 1);
			}
		}
		if (out->len > OUT_MAX) {
			rc = 2;
			break;
		}
	}
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	if (rc == 0 && !reap(c->pid, deadline, status))
		rc = 1;
	if (rc != 0)
		kill_group(c->pid, status);
	return rc;
}

/* The records of out, or invalid with the line that is not one. */
static jv
records(const struct sl_buf *out)
{
	const char *p = out->s ? out->s : "", *end = p + out->len, *nl;
	jv list = jv_array(), v;
	int line = 0;

	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		line++;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue;
		v = sl_parse(p, (size_t)(nl - p));
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			jv_free(list);
			return jv_invalid_with_msg(jv_number(line));
		}
		list = jv_array_append(list, v);
	}
	return list;
}

/* The last line of stderr, control characters as '?', a new string. */
static char *
last_line(const struct sl_buf *b)
{
	const char *s = b->s ? b->s : "";
	size_t n = b->len, i;
	char *line;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	for (i = n; i > 0 && s[i - 1] != '\n'; i--)
		;
	line = sl_strndup(s + i, n - i);
	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	return line;
}

/* The error text after a non-zero exit or a signal. */
static char *
failed(const struct sl_tool *tool, int status, jv recs,
    const struct sl_buf *errb)
{
	char what[64], *detail, *msg;
	size_t len = 0;

	if (WIFSIGNALED(status))
		snprintf(what, sizeof what, "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(what, sizeof what, "failed (exit status %d)",
		    WEXITSTATUS(status));
	if (jv_get_kind(recs) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(recs)) > 0) {
		detail = sl_json_dump(recs, &len);
		if (len > QUOTE_MAX) {
			len = QUOTE_MAX - 3;
			while (len > 0 && ((unsigned char)detail[len] & 0xc0) ==
			    0x80)
				len--;
			memcpy(detail + len, "...", 4);
		}
	} else {
		detail = last_line(errb);
	}
	msg = sl_asprintf("%s %s%s%s", tool->name, what, *detail ? ": " : "",
	    detail);
	free(detail);
	return msg;
}

int
sl_tools_run(const struct sl_tools *t, const char *name, jv input,
    char *const *extra_env, jv *out, char **err)
{
	const struct sl_tool *tool = sl_tools_find(t, name);
	struct child c = { -1, -1, -1, -1 };
	struct sl_buf ob = { NULL, 0, 0 }, eb = { NULL, 0, 0 };
	char *line = NULL, *why = NULL;
	size_t len = 0;
	long ms;
	int st = 0, rc = -1, how;
	jv recs = jv_invalid();

	*out = jv_array();
	*err = NULL;
	if (!tool) {
		*err = sl_asprintf("unknown tool '%s'", name ? name : "");
		goto out;
	}
	if (tool->planned) {
		*err = sl_asprintf("the tool '%s' is not available yet", name);
		goto out;
	}
	if (tool->builtin) {
		*err = sl_asprintf("the tool '%s' is answered by its caller, "
		    "not run", name);
		goto out;
	}
	if (sl_tools_check(t, name, input, &why) < 0) {
		*err = sl_asprintf("bad arguments for %s: %s", name, why);
		goto out;
	}
	ms = timeout_ms(tool);
	line = sl_json_dump(input, &len);
	line = sl_realloc(line, len + 2);
	line[len++] = '\n';
	line[len] = '\0';
	if (spawn(tool, extra_env, &c, err) < 0)
		goto out;
	how = collect(&c, line, len, ms, &ob, &eb, &st);
	if (how == 1) {
		*err = sl_asprintf("%s timed out after %g s", name,
		    (double)ms / 1000);
		goto out;
	}
	if (how == 2) {
		*err = sl_asprintf("%s wrote more than %zu MiB", name,
		    OUT_MAX >> 20);
		goto out;
	}
	recs = records(&ob);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		*err = failed(tool, st, recs, &eb);
		if (jv_is_valid(recs)) {
			jv_free(*out);
			*out = recs;
			recs = jv_invalid();
		}
		goto out;
	}
	if (!jv_is_valid(recs)) {
		jv m = jv_invalid_get_msg(jv_copy(recs));

		*err = sl_asprintf("%s wrote something that is not a JSON "
		    "object on line %.0f of its output", name,
		    jv_get_kind(m) == JV_KIND_NUMBER ? jv_number_value(m) : 0);
		jv_free(m);
		goto out;
	}
	jv_free(*out);
	*out = recs;
	recs = jv_invalid();
	rc = 0;
out:
	jv_free(recs);
	jv_free(input);
	free(ob.s);
	free(eb.s);
	free(line);
	free(why);
	return rc;
}
