/*
 * tg.h: the Telegram Bot API, for tg-fetch, tg-webhook and tg-send.
 *
 * sl_tg_open reads the token ($TELEGRAM_BOT_TOKEN or _FILE; registered as
 * a secret, so it never appears in a message) and the base URL
 * ($TELEGRAM_API_URL, default https://api.telegram.org).  sl_tg_call
 * posts the parameters as JSON to BASE/bot<TOKEN>/<method> and returns the
 * "result", or an invalid jv with the failure described in *err:
 *
 *	err->code         Telegram's error_code (or the HTTP status, or 0 when
 *	                  no answer came)
 *	err->description  Telegram's description, or the transport's error
 *	err->class        SL_HTTP_TEMPORARY, _PERMANENT or _UNCERTAIN (a send
 *	                  that may have been delivered: never resend blindly)
 *	err->retry_after_ms  parameters.retry_after of a 429, else -1
 *	err->migrate_to   parameters.migrate_to_chat_id, "" when absent
 *
 * Normalising updates into salesline records lives in tg_update.c.
 */
#ifndef SL_TG_H
#define SL_TG_H

#include <stdint.h>

#include <jv.h>

#include "http.h"

struct sl_tg {
	char *token;		/* secret */
	char *base;		/* without a trailing slash */
	char bot[32];		/* the bot's user id: the token before ':' */
};

struct sl_tg_error {
	long code;
	char description[512];
	enum sl_http_class class;
	long retry_after_ms;
	char migrate_to[32];
};

struct sl_tg_opts {
	long timeout_ms;	/* 0: the HTTP default */
	int max_tries;		/* 0: the HTTP default (3); 1: no retries */
	int idempotent;		/* safe to repeat after an uncertain failure */
	long max_wait_ms;	/* longest retry wait slept; 0: HTTP default */
};

/*
 * The bot from the environment; exits 78 when the token is missing or not
 * of the form digits:secret, or the base URL is not http(s).
 */
struct sl_tg *sl_tg_open(void);
void sl_tg_close(struct sl_tg *tg);

/* Calls method with params (an object or null; consumed). */
jv sl_tg_call(struct sl_tg *tg, const char *method, jv params,
    const struct sl_tg_opts *opts, struct sl_tg_error *err);
/*
 * sl_tg_call that also hands over the answer's text when it succeeds
 * (*body, NUL-terminated, to free; NULL after a failure), for a caller
 * that keeps what Telegram sent as it was sent.
 */
jv sl_tg_call_body(struct sl_tg *tg, const char *method, jv params,
    const struct sl_tg_opts *opts, struct sl_tg_error *err, char **body,
    size_t *body_len);

/*
 * The exit status for a failed call: 75 temporary or uncertain, 77 for
 * 401 (a bad token), 69 otherwise.
 */
int sl_tg_exit_code(const struct sl_tg_error *err);

#endif
