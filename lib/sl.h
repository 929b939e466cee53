/*
 * sl.h: what every salesline tool needs: its name in messages, the exit
 * codes, diagnostics that never leak a secret or a person's contact, memory
 * wrappers that die instead of returning NULL, and configuration from the
 * environment (with *_FILE variables for secrets).
 */
#ifndef SL_H
#define SL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "banned.h"

/* Exit codes: a subset of <sysexits.h>, see salesline(7). */
enum {
	SL_EX_OK = 0,
	SL_EX_REJECT = 1,	/* the run finished, some records failed */
	SL_EX_USAGE = 64,
	SL_EX_DATAERR = 65,
	SL_EX_UNAVAILABLE = 69,
	SL_EX_SOFTWARE = 70,
	SL_EX_OSERR = 71,
	SL_EX_IOERR = 74,
	SL_EX_TEMPFAIL = 75,
	SL_EX_NOPERM = 77,
	SL_EX_CONFIG = 78,
};

#define SL_NORETURN _Noreturn
#define SL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The tool's name, set once by main from a constant, never from argv[0]. */
extern const char *sl_prog;
/* 1 with -v: sl_info prints, and sl_mask_text leaves message text alone. */
extern int sl_verbose;

void sl_init(const char *prog);

/*
 * Diagnostics go to stderr as one write: "prog: message".  Every message
 * passes through sl_mask first, so registered secrets, e-mail addresses and
 * phone numbers never reach a log; control characters become '?'.
 * sl_error returns -1 so a handler can `return sl_error(...)`.
 */
SL_NORETURN void sl_die(int code, const char *fmt, ...) SL_PRINTF(2, 3);
int sl_error(const char *fmt, ...) SL_PRINTF(1, 2);
void sl_warn(const char *fmt, ...) SL_PRINTF(1, 2);
void sl_info(const char *fmt, ...) SL_PRINTF(1, 2);
void sl_vmessage(const char *prefix, const char *fmt, va_list ap);

/*
 * Masking.  sl_secret_add remembers a value (a token, a password) that must
 * never be printed; copies of it in any diagnostic become "***".
 * sl_mask returns a new string with secrets replaced, e-mail addresses
 * reduced to their first letter and domain (o***@example.com) and phone
 * numbers to their last two digits (+*********23).
 */
void sl_secret_add(const char *secret);
char *sl_mask(const char *s);
/* Clears the registered secrets (for tests and at exit). */
void sl_secret_clear(void);

/*
 * What getopt_long (with opterr 0 and an optstring starting with ':')
 * refused, reported: "option '--db' needs a value" when it returned ':',
 * "unknown option '--bogus'" otherwise.  The caller prints its usage and
 * exits 64.
 */
void sl_option_error(int c, char *const argv[]);

/*
 * The value of option opt (named as the user writes it, "--limit"): arg
 * as a number from min to max, a whole one ("-"? digits) when whole is
 * set, in *out.  Otherwise "--limit: expected a number from 1 to 100,
 * not 'x'" is reported and -1 returned; the caller prints its usage and
 * exits 64.
 */
int sl_option_number(const char *opt, const char *arg, double min,
    double max, int whole, double *out);

/* Sleeps ms milliseconds, on through signals. */
void sl_sleep_ms(long ms);
/* Milliseconds of the monotonic clock, for timeouts and latencies. */
int64_t sl_mono_ms(void);

/*
 * A growing text buffer: s is NUL-terminated after every sl_buf_add (NULL
 * before the first), len bytes long; free(b.s) when done.  Start it as
 * { NULL, 0, 0 }.
 */
struct sl_buf {
	char *s;
	size_t len, cap;
};
void sl_buf_add(struct sl_buf *b, const void *data, size_t n);

/* Allocation that dies with exit 71 instead of returning NULL. */
void *sl_malloc(size_t n);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
char *sl_asprintf(const char *fmt, ...) SL_PRINTF(1, 2);

/*
 * Configuration: flags first (the caller checks them), then environment,
 * then defaults.  An empty variable counts as unset.
 *
 * sl_env:          $name, or def.
 * sl_env_require:  $name, or exit 78 naming the variable.
 * sl_secret:       $name, or the contents of the file named by $name_FILE
 *                  (trailing newlines removed); NULL when neither is set.
 *                  The value is registered with sl_secret_add.  An unreadable
 *                  _FILE exits 78.  Returns a new string.
 * sl_secret_require: the same, but exit 78 naming both variables when unset.
 * sl_env_int:      $name as an integer in [min, max], or def; anything else
 *                  exits 78.
 */
const char *sl_env(const char *name, const char *def);
const char *sl_env_require(const char *name);
char *sl_secret(const char *name);
char *sl_secret_require(const char *name);
long long sl_env_int(const char *name, long long def, long long min,
    long long max);

/*
 * Randomness from the kernel (getrandom(2)): 0, or -1 with errno.
 * sl_random_name: len characters of [a-z2-9] without look-alikes (5 bits
 * each), for unguessable names: a new string; dies with 71 when the
 * kernel has no random bytes to give.
 */
int sl_random(void *buf, size_t n);
char *sl_random_name(size_t len);

/* SALESLINE_HOME: where skills/ and var/ live. */
const char *sl_home(void);
/* The ledger URL: flag (may be NULL), $SALESLINE_DB, $DATABASE_URL, default. */
const char *sl_db_url(const char *flag);

#endif
