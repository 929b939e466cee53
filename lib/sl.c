/*
 * sl.c: tool name, diagnostics with masking, allocation, configuration.
 *
 * Every diagnostic is built whole, masked (registered secrets, e-mail
 * addresses, phone numbers), stripped of control characters, and written
 * to stderr with a single write(2), so lines from several processes in one
 * pipeline do not interleave.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "sl.h"

#ifndef SL_SHAREDIR
#define SL_SHAREDIR "/usr/local/share/salesline"
#endif

#define MSG_MAX 2048		/* longest diagnostic, masked */
#define SECRET_MIN 4		/* shorter values are not worth masking */

const char *sl_prog = "salesline";
int sl_verbose;

static char **secrets;
static size_t nsecrets;
static char *home;
static char *dburl;

static void
cleanup(void)
{
	sl_secret_clear();
	free(home);
	free(dburl);
	home = dburl = NULL;
}

void
sl_init(const char *prog)
{
	sl_prog = prog;
	atexit(cleanup);
}

static int
is_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '%' ||
	    c == '+' || c == '-';
}

static int
is_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_word(unsigned char c)
{
	return is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
is_phone_sep(unsigned char c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.';
}

void
sl_buf_add(struct sl_buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 128;
		b->s = sl_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_addc(struct sl_buf *b, char c)
{
	sl_buf_add(b, &c, 1);
}

/*
 * An e-mail address at s[at] ('@'): its local part starts at *start, the
 * address ends before *end.  Returns 0 when it does not look like one.
 */
static int
find_email(const char *s, size_t at, size_t len, size_t *start, size_t *end)
{
	size_t i = at, j = at + 1, dot = 0;

	while (i > 0 && is_local_char((unsigned char)s[i - 1]))
		i--;
	if (i == at)
		return 0;
	while (j < len && is_domain_char((unsigned char)s[j])) {
		if (s[j] == '.' && j > at + 1)
			dot = j;
		j++;
	}
	while (j > at + 1 && (s[j - 1] == '.' || s[j - 1] == '-'))
		j--;
	if (!dot || dot >= j - 1)
		return 0;
	*start = i;
	*end = j;
	return 1;
}

/*
 * A phone number starting at s[i]: an optional '+', then digits with
 * spaces, dashes, dots or brackets between them.  It counts as a phone
 * when it has 7 to 15 digits after a '+', or 10 to 15 digits written with
 * separators, or 11 to 15 plain digits.  Plain 10-digit numbers (Unix
 * times, Telegram IDs) and numbers after a '-' (group chat IDs) are kept.
 */
static size_t
phone_len(const char *s, size_t i, size_t len, size_t *ndigits)
{
	size_t j = i, n = 0, last = i;
	int plus = 0, seps = 0;

	if (i > 0 && (is_word((unsigned char)s[i - 1]) || s[i - 1] == '-' ||
	    s[i - 1] == '.'))
		return 0;
	if (s[j] == '+') {
		plus = 1;
		j++;
	} else if (s[j] == '(') {
		j++;
	}
	while (j < len) {
		if (is_digit((unsigned char)s[j])) {
			n++;
			last = ++j;
		} else if (is_phone_sep((unsigned char)s[j]) && n > 0 &&
		    j + 1 < len && (is_digit((unsigned char)s[j + 1]) ||
		    is_phone_sep((unsigned char)s[j + 1]))) {
			seps++;
			j++;
		} else {
			break;
		}
	}
	if (last < len && is_word((unsigned char)s[last]))
		return 0;
	if (n > 15 || (plus ? n < 7 : seps ? n < 10 : n < 11))
		return 0;
	*ndigits = n;
	return last - i;
}

char *
sl_mask(const char *s)
{
	struct sl_buf b = { 0 };
	struct sl_buf t = { 0 };
	size_t len, i, k;

	if (!s)
		return sl_strdup("");
	/* Pass 1: secrets. */
	sl_buf_add(&t, s, strlen(s));
	for (k = 0; k < nsecrets; k++) {
		size_t sl = strlen(secrets[k]);
		char *p;

		while ((p = strstr(t.s, secrets[k]))) {
			struct sl_buf u = { 0 };

			sl_buf_add(&u, t.s, (size_t)(p - t.s));
			sl_buf_add(&u, "***", 3);
			sl_buf_add(&u, p + sl, strlen(p + sl));
			free(t.s);
			t = u;
		}
	}
	/* Pass 2: e-mail addresses and phone numbers. */
	len = t.len;
	for (i = 0; i < len; ) {
		size_t start, end, n, nd;

		if (t.s[i] == '@' && find_email(t.s, i, len, &start, &end) &&
		    b.len >= i - start) {
			b.len -= i - start - 1;	/* keep the first letter */
			sl_buf_add(&b, "***", 3);
			sl_buf_add(&b, t.s + i, end - i);
			i = end;
			continue;
		}
		if ((t.s[i] == '+' || t.s[i] == '(' || is_digit((unsigned char)t.s[i])) &&
		    (n = phone_len(t.s, i, len, &nd)) > 0) {
			size_t m = 0, p;

			if (t.s[i] == '+')
				buf_addc(&b, '+');
			for (p = i; p < i + n; p++) {
				if (!is_digit((unsigned char)t.s[p]))
					continue;
				buf_addc(&b, ++m + 2 > nd ? t.s[p] : '*');
			}
			i += n;
			continue;
		}
		buf_addc(&b, t.s[i++]);
	}
	free(t.s);
	if (!b.s)
		return sl_strdup("");
	return b.s;
}

void
sl_secret_add(const char *secret)
{
	size_t i;

	if (!secret || strlen(secret) < SECRET_MIN)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	secrets = sl_realloc(secrets, (nsecrets + 1) * sizeof *secrets);
	secrets[nsecrets++] = sl_strdup(secret);
}

void
sl_secret_clear(void)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

void
sl_vmessage(const char *prefix, const char *fmt, va_list ap)
{
	char raw[MSG_MAX];
	char *masked, *line;
	size_t n, i;
	int r;

	r = vsnprintf(raw, sizeof raw, fmt, ap);
	if (r < 0)
		snprintf(raw, sizeof raw, "(unprintable message)");
	else if ((size_t)r >= sizeof raw)
		memcpy(raw + sizeof raw - 4, "...", 4);
	masked = sl_mask(raw);
	for (i = 0; masked[i]; i++)
		if ((unsigned char)masked[i] < 0x20 || masked[i] == 0x7f)
			masked[i] = '?';
	line = sl_asprintf("%s: %s%s\n", sl_prog, prefix, masked);
	n = strlen(line);
	for (i = 0; i < n; ) {
		ssize_t w = write(STDERR_FILENO, line + i, n - i);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		i += (size_t)w;
	}
	free(line);
	free(masked);
}

void
sl_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vmessage("", fmt, ap);
	va_end(ap);
	exit(code);
}

int
sl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vmessage("", fmt, ap);
	va_end(ap);
	return -1;
}

void
sl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void
sl_info(const char *fmt, ...)
{
	va_list ap;

	if (!sl_verbose)
		return;
	va_start(ap, fmt);
	sl_vmessage("", fmt, ap);
	va_end(ap);
}

static SL_NORETURN void
oom(void)
{
	static const char msg[] = ": out of memory\n";

	ssize_t w = write(STDERR_FILENO, sl_prog, strlen(sl_prog));

	if (w > 0)
		w = write(STDERR_FILENO, msg, sizeof msg - 1);
	exit(SL_EX_OSERR);
}

void *
sl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *
sl_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *
sl_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *
sl_strdup(const char *s)
{
	return sl_strndup(s, strlen(s));
}

char *
sl_strndup(const char *s, size_t n)
{
	char *p = sl_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
sl_asprintf(const char *fmt, ...)
{
	va_list ap, aq;
	char *p;
	int n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		oom();
	p = sl_malloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

const char *
sl_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *
sl_env_require(const char *name)
{
	const char *v = sl_env(name, NULL);

	if (!v)
		sl_die(SL_EX_CONFIG, "%s is not set", name);
	return v;
}

static char *
read_secret_file(const char *var, const char *path)
{
	char buf[65536];
	FILE *f;
	size_t n;

	if (!(f = fopen(path, "r")))
		sl_die(SL_EX_CONFIG, "cannot read %s '%s': %s", var, path,
		    strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	if (ferror(f)) {
		fclose(f);
		sl_die(SL_EX_CONFIG, "cannot read %s '%s': %s", var, path,
		    strerror(errno));
	}
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0 || memchr(buf, '\0', n))
		sl_die(SL_EX_CONFIG, "%s '%s' holds no usable value", var, path);
	return sl_strndup(buf, n);
}

char *
sl_secret(const char *name)
{
	const char *v = sl_env(name, NULL);
	char *fvar, *s;
	const char *path;

	if (v) {
		sl_secret_add(v);
		return sl_strdup(v);
	}
	fvar = sl_asprintf("%s_FILE", name);
	path = sl_env(fvar, NULL);
	s = path ? read_secret_file(fvar, path) : NULL;
	free(fvar);
	if (s)
		sl_secret_add(s);
	return s;
}

char *
sl_secret_require(const char *name)
{
	char *s = sl_secret(name);

	if (!s)
		sl_die(SL_EX_CONFIG, "%s (or %s_FILE) is not set", name, name);
	return s;
}

long long
sl_env_int(const char *name, long long def, long long min, long long max)
{
	const char *v = sl_env(name, NULL);
	char *end;
	long long n;

	if (!v)
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		sl_die(SL_EX_CONFIG, "bad %s '%s': expected an integer from "
		    "%lld to %lld", name, v, min, max);
	return n;
}

/*
 * The directory above the running executable that holds sql/ (a source
 * or build tree), or PREFIX/share/salesline above PREFIX/bin (an install,
 * wherever it was moved).
 */
static char *
home_from_exe(void)
{
	char path[PATH_MAX], probe[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	int up;

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	for (up = 0; up < 4; up++) {
		char *slash = strrchr(path, '/');

		if (!slash || slash == path)
			return NULL;
		*slash = '\0';
		if ((size_t)snprintf(probe, sizeof probe, "%s/sql/sqlite", path)
		    < sizeof probe && access(probe, F_OK) == 0)
			return sl_strdup(path);
		/* An installed tree: PREFIX/bin/tool, PREFIX/share/salesline. */
		if ((size_t)snprintf(probe, sizeof probe,
		    "%s/share/salesline/sql/sqlite", path) < sizeof probe &&
		    access(probe, F_OK) == 0) {
			probe[strlen(probe) - strlen("/sql/sqlite")] = '\0';
			return sl_strdup(probe);
		}
	}
	return NULL;
}

const char *
sl_home(void)
{
	const char *v;

	if (home)
		return home;
	if ((v = sl_env("SALESLINE_HOME", NULL)))
		home = sl_strdup(v);
	else if (!(home = home_from_exe()))
		home = sl_strdup(SL_SHAREDIR);
	return home;
}

const char *
sl_db_url(const char *flag)
{
	const char *v;

	if (flag && *flag)
		return flag;
	if ((v = sl_env("SALESLINE_DB", NULL)) ||
	    (v = sl_env("DATABASE_URL", NULL)))
		return v;
	if (!dburl)
		dburl = sl_asprintf("%s/var/salesline.db", sl_home());
	return dburl;
}

int
sl_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

char *
sl_random_name(size_t len)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char *r = sl_malloc(len);
	char *s = sl_malloc(len + 1);
	size_t i;

	if (sl_random(r, len) < 0)
		sl_die(SL_EX_OSERR, "cannot get random bytes: %s",
		    strerror(errno));
	for (i = 0; i < len; i++)
		s[i] = alphabet[r[i] & 31];
	s[len] = '\0';
	free(r);
	return s;
}

void
sl_option_error(int c, char *const argv[])
{
	if (c == ':')
		sl_error("option '%s' needs a value", argv[optind - 1]);
	else if (optopt)
		sl_error("unknown option '-%c'", optopt);
	else
		sl_error("unknown option '%s'", argv[optind - 1]);
}

int
sl_option_number(const char *opt, const char *arg, double min, double max,
    int whole, double *out)
{
	const char *p = arg + (*arg == '-');
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (whole && (*p == '\0' || p[strspn(p, "0123456789")] != '\0'))
		end = (char *)arg;
	if (*arg == '\0' || *arg == ' ' || *arg == '\t' || end == arg ||
	    *end != '\0' || errno == ERANGE || !(v >= min && v <= max)) {
		sl_error("%s: expected a number from %.15g to %.15g, not "
		    "'%.32s'", opt, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

void
sl_sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int64_t
sl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
