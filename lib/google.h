/*
 * google.h: Google OAuth 2.0 and Calendar v3, for rep-admin, cal-free and
 * zoom-book (shared/reference/apis.md sections 3 and 4).
 *
 * Configuration: $GOOGLE_CLIENT_ID and $GOOGLE_CLIENT_SECRET (or _FILE;
 * a secret), $GOOGLE_OAUTH_URL (default https://oauth2.googleapis.com:
 * BASE/token, BASE/device/code), $GOOGLE_AUTH_URL (the consent page,
 * default https://accounts.google.com/o/oauth2/v2/auth), $GOOGLE_API_URL
 * (default https://www.googleapis.com: BASE/calendar/v3/...).
 *
 * Tokens are per rep in the ledger's tokens table (provider 'google',
 * account = the rep's name, kinds 'access' and 'refresh'), sealed with
 * vault.h; expires_at is kept in clear.  An access token is refreshed when
 * less than 60 s remain, and once more after a 401 from the API; the call
 * is then retried once.  A refresh answered with invalid_grant marks the
 * rep's calendar disconnected (reps.calendar_status = 'disconnected',
 * calendar_error, an audit row 'calendar.disconnected') and the call fails
 * with err->revoked set: the callers fall back to their other sources and
 * say so.  A 403 rateLimitExceeded or userRateLimitExceeded is retried
 * twice with backoff, then fails temporary.
 *
 * These functions run their own short transactions: do not call them
 * inside one.
 */
#ifndef SL_GOOGLE_H
#define SL_GOOGLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#include "http.h"
#include "slots.h"

struct sl_db;
struct sl_rep;

struct sl_google;

struct sl_svc_err {
	long status;		/* HTTP status, 0 when none arrived */
	enum sl_http_class class;
	int revoked;		/* the grant is gone: reconnect the calendar */
	char reason[64];	/* "invalid_grant", "authError", "notFound" */
	char message[512];	/* human text, no secret */
};

/*
 * Fills err (class, reason, the message from fmt) and returns -1, so a
 * client can `return sl_svc_fail(...)`.  The message must hold no secret.
 */
int sl_svc_fail(struct sl_svc_err *err, enum sl_http_class class,
    const char *reason, const char *fmt, ...) __attribute__((format(printf,
    4, 5)));

/*
 * The client from the environment.  NULL when GOOGLE_CLIENT_ID is unset
 * (the calendar is off); exits 78 when the id is set but the secret is
 * not, or a base URL is not http(s).
 */
struct sl_google *sl_google_open(void);
void sl_google_close(struct sl_google *g);

/*
 * Exit status for err: 75 temporary or uncertain (or a consent that did
 * not come in time, reason "timeout"), 78 when a stored token
 * cannot be sealed or opened (reason "vault": the key is configuration),
 * 74 for a ledger failure (reason "ledger"), 77 auth (401, 403, a revoked
 * grant, invalid_client), 69 otherwise.
 */
int sl_svc_exit_code(const struct sl_svc_err *err);

/*
 * Busy time of every calendar in rep->calendar_ids (["primary"] when
 * empty) over [from, to), appended to *iv (*n, *cap as in ics.h).
 * Calendars that answered with errors inside the 200 (or are missing from
 * the answer, or have a busy time that does not parse) are listed in
 * *cal_errors (a new array of {"calendar","reason"}), and are not free:
 * the whole of [from, to) is appended as busy for each, and the caller
 * reports them.  *cal_errors is set also on failure (then []).  Returns
 * 0, or -1 with err.
 */
int sl_google_freebusy(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, int64_t from, int64_t to, struct sl_iv **iv,
    size_t *n, size_t *cap, jv *cal_errors, struct sl_svc_err *err);

/*
 * Inserts event (an events.insert body; consumed) into the rep's first
 * calendar with sendUpdates=all; *event_id is a new string.  Returns 0 or
 * -1 with err.
 */
int sl_google_event_insert(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, jv event, char **event_id,
    struct sl_svc_err *err);
/* Deletes an event; a 404 or 410 (already gone) counts as success. */
int sl_google_event_delete(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, const char *event_id, struct sl_svc_err *err);

/*
 * Connecting a calendar (rep-admin calendar connect).  Scopes asked:
 * calendar.freebusy and calendar.events.
 *
 * Loopback flow: sl_google_auth_url builds the consent URL for
 * redirect_uri and PKCE challenge of verifier, with state; after the
 * browser comes back with ?code=, sl_google_exchange trades the code.
 * sl_google_pkce makes a random verifier (43 characters) and state (22)
 * for it, new strings; 0 or -1 when no random bytes could be had.
 * Device flow: sl_google_device_start returns the device_code answer
 * (user_code, verification_url, interval, expires_in) and
 * sl_google_device_poll (consuming answer) polls until success,
 * access_denied, expiry or timeout_s, honouring authorization_pending and
 * slow_down (switching on the JSON error, never on the status; slow_down
 * adds 5 s to the interval for good).  Its waits are multiplied by
 * $SALESLINE_POLL_SCALE (default 1; tests make it small), while expiry
 * and timeout_s count the unscaled intervals.
 *
 * On success the tokens are stored for rep (sealed) and the rep's
 * calendar marked connected.  Returns 0 or -1 with err.
 */
char *sl_google_auth_url(struct sl_google *g, const char *redirect_uri,
    const char *verifier, const char *state);
int sl_google_pkce(char **verifier, char **state);
int sl_google_exchange(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, const char *code, const char *redirect_uri,
    const char *verifier, struct sl_svc_err *err);
int sl_google_device_start(struct sl_google *g, jv *answer,
    struct sl_svc_err *err);
int sl_google_device_poll(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, jv answer, long timeout_s,
    struct sl_svc_err *err);

/*
 * The whole loopback flow for a terminal (lib/google_connect.c, which
 * needs libmicrohttpd): listens on 127.0.0.1 (port $GOOGLE_REDIRECT_PORT,
 * default any free one), writes "open this URL to connect the calendar:
 * URL" to tell, waits up to timeout_s for the browser's redirect, checks
 * its state, answers the browser with a short page, exchanges the code
 * and stores the tokens.  Returns 0 or -1 with err (access_denied, a
 * timeout, a bad state, the exchange's error).
 */
int sl_google_connect_loopback(struct sl_google *g, struct sl_db *db,
    const struct sl_rep *rep, long timeout_s, FILE *tell,
    struct sl_svc_err *err);

/*
 * Forgets the rep's Google tokens and marks the calendar 'none'
 * (rep-admin calendar disconnect).  Returns 0 or -1 (ledger error).
 */
int sl_google_disconnect(struct sl_db *db, const struct sl_rep *rep);

#endif
