/*
 * zoom.h: Zoom Server-to-Server OAuth and meetings, for zoom-book and
 * rep-admin (shared/reference/apis.md section 5).
 *
 * Configuration: $ZOOM_ACCOUNT_ID, $ZOOM_CLIENT_ID, $ZOOM_CLIENT_SECRET
 * (or _FILE; secrets), $ZOOM_OAUTH_URL (default https://zoom.us: BASE/
 * oauth/token), $ZOOM_API_URL (default https://api.zoom.us: BASE/v2/...).
 *
 * The account token is cached in the ledger's tokens table (provider
 * 'zoom', account '', kind 'access', sealed) until less than 60 s remain;
 * a 401 (code 124) gets a new token and one retry.  Meeting ids are 64-bit
 * and kept as strings.  Error bodies may be XML or empty: tolerated;
 * err->reason is Zoom's code ("124", "300") or the token endpoint's error
 * ("invalid_client").  A 429 or 5xx is retried after Retry-After or a
 * backoff, except a daily limit (X-RateLimit-Type: Daily...) or a
 * Retry-After over a minute, which fail temporary at once.
 */
#ifndef SL_ZOOM_H
#define SL_ZOOM_H

#include <stdint.h>

#include <jv.h>

#include "google.h"	/* struct sl_svc_err */

struct sl_db;
struct sl_zoom;

/*
 * The account from the environment.  NULL when none of the three
 * variables is set (meetings get Jitsi links); exits 78 naming the
 * variable when only some are set, or a base URL is not http(s).
 */
struct sl_zoom *sl_zoom_open(void);
void sl_zoom_close(struct sl_zoom *z);

/*
 * Creates a scheduled meeting (type 2) for user (NULL: "me") starting at
 * start (sent as UTC "yyyy-MM-ddTHH:mm:ssZ") for duration_min minutes,
 * labelled with the zone tz, with a random password and a waiting room.
 * *meeting is Zoom's answer with "id" as a string; its start_url (the
 * host's key) is registered as a secret.  Returns 0, or -1 with err
 * (class uncertain when the meeting may exist but its id is unknown).
 */
int sl_zoom_create(struct sl_zoom *z, struct sl_db *db, const char *user,
    const char *topic, int64_t start, int duration_min, const char *tz,
    jv *meeting, struct sl_svc_err *err);
/* Deletes a meeting; 404 (already gone) counts as success. */
int sl_zoom_delete(struct sl_zoom *z, struct sl_db *db,
    const char *meeting_id, struct sl_svc_err *err);
/*
 * Moves a meeting (PATCH start_time, duration).  Returns 0 or -1 with
 * err.
 */
int sl_zoom_update(struct sl_zoom *z, struct sl_db *db,
    const char *meeting_id, int64_t start, int duration_min,
    const char *tz, struct sl_svc_err *err);
/*
 * rep-admin zoom verify: gets a token and GET /v2/users/{user} ("me");
 * *account is {"id","email","account_id","type"?} from the answer, no
 * token.  Returns 0 or -1 with err.
 */
int sl_zoom_verify(struct sl_zoom *z, struct sl_db *db, const char *user,
    jv *account, struct sl_svc_err *err);

#endif
