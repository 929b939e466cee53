/*
 * fake_oauth.h: what the files of fake-api's Google module share:
 * google.c (OAuth: the consent page, /token, /device/code, /revoke, the
 * tokens, the module and its control endpoints) and google_cal.c
 * (Calendar v3: freeBusy and events, the calendars and their control
 * endpoints).  Not part of fake.h: the core knows only the struct
 * fake_module in google.c.
 *
 * Everything here runs with the emulator's state lock held (handle()
 * holds it).  jv values kept in the state are deep copies (fake_own).
 */
#ifndef FAKE_OAUTH_H
#define FAKE_OAUTH_H

#include <stdint.h>

#include <jv.h>

#include "fake.h"

/* Scopes are named without this prefix in gg_authorize's lists. */
#define GG_SCOPE_PREFIX "https://www.googleapis.com/auth/"

/* Unix seconds, the real clock. */
int64_t gg_unix_now(void);

/*
 * An error in the shape of every Google JSON API:
 * {"error":{"code","message","errors":[{"domain","reason","message"}],
 * "status"}}.
 */
void gg_error(struct fake_resp *resp, int status, const char *reason,
    const char *message);

/*
 * Checks the request's bearer token: present, issued, not expired, and
 * granted one of scopes (names after GG_SCOPE_PREFIX).  Returns 1, or 0
 * after answering 401 authError or 403 insufficientPermissions.  Counts
 * the call.
 */
int gg_authorize(const struct fake_req *req, struct fake_resp *resp,
    const char *const *scopes);

/* A control endpoint's answer: {"ok":false,"error":msg}. */
void gg_ctl_error(struct fake_resp *resp, int status, const char *msg);
/* A control request's parameters: the query, then a JSON or form body. */
jv gg_ctl_params(const struct fake_req *req);

/* Calendar v3 under /calendar/v3/ (google_cal.c). */
void gg_calendar(const struct fake_req *req, struct fake_resp *resp);
/* /_fake/google/calendar and /_fake/google/events; 0: not one of them. */
int gg_cal_control(const struct fake_req *req, const char *what,
    struct fake_resp *resp);
/* Forgets the calendars and events; "primary" exists again, empty. */
void gg_cal_reset(void);
/* Frees them all, at exit. */
void gg_cal_cleanup(void);

#endif
