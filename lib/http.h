/*
 * http.h: HTTP over libcurl for every external API.
 *
 * One curl handle per process, reused so connections stay open.  Every
 * request has a connect timeout and a total timeout.  Failures are
 * classified so callers can keep DESIGN.md section 8:
 *
 *   SL_HTTP_TEMPORARY  nothing can have been done: DNS or connect failure,
 *                      429, 408, 5xx on a request that is safe to repeat.
 *                      Retried with exponential backoff and jitter,
 *                      honouring Retry-After, retry-after-ms and Telegram's
 *                      parameters.retry_after.
 *   SL_HTTP_PERMANENT  the request was refused (4xx other than the above);
 *                      repeating it will not help.
 *   SL_HTTP_UNCERTAIN  the request may have had its effect: a timeout or a
 *                      dropped connection after the request was sent, or a
 *                      502/504 answer.  Never retried for a request that is
 *                      not idempotent (req.idempotent = 0).
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stddef.h>

#include <jv.h>

enum sl_http_class {
	SL_HTTP_OK = 0,
	SL_HTTP_TEMPORARY,
	SL_HTTP_PERMANENT,
	SL_HTTP_UNCERTAIN,
};

struct sl_http_req {
	const char *method;		/* "GET", "POST", ...; NULL = GET or POST with body */
	const char *url;		/* may contain a secret: never printed whole */
	const char *const *headers;	/* "Name: value", NULL-terminated; may be NULL */
	const char *body;		/* may be NULL */
	size_t body_len;		/* 0 with a body: strlen(body) */
	long connect_timeout_ms;	/* 0: $SALESLINE_HTTP_CONNECT_TIMEOUT (s) or 10 s */
	long timeout_ms;		/* 0: $SALESLINE_HTTP_TIMEOUT (s) or 60 s */
	int max_tries;			/* 0: 3 */
	int idempotent;			/* may be repeated after an uncertain failure
					   (GET and HEAD always are) */
	long max_wait_ms;		/* longest single retry wait honoured; 0: 60 s */
};

struct sl_http_resp {
	long status;			/* HTTP status, 0 if none arrived */
	char *body;			/* NUL-terminated, may be "" */
	size_t body_len;
	jv headers;			/* object: lower-case name -> last value */
	enum sl_http_class class;
	long retry_after_ms;		/* the server's requested wait, -1 if none */
	int tries;			/* attempts made */
	char error[256];		/* human text, no secret, for class != OK */
};

/*
 * Performs req, retrying temporary failures.  Returns the class (also in
 * resp->class).  resp must be released with sl_http_resp_free.  A 2xx
 * status is SL_HTTP_OK; any other final status is classified as above and
 * its body is kept for the caller.
 */
enum sl_http_class sl_http_do(const struct sl_http_req *req,
    struct sl_http_resp *resp);
void sl_http_resp_free(struct sl_http_resp *resp);

/* The body parsed as JSON; invalid (with message) if it is not JSON. */
jv sl_http_json(const struct sl_http_resp *resp);

/*
 * The wait asked for by a response in ms, -1 if none: retry-after-ms,
 * then Retry-After (seconds or an HTTP date), then a JSON body's
 * parameters.retry_after (Telegram).  Borrows headers.  Exposed for tests.
 */
long sl_http_retry_after(long status, jv headers, const char *body);
/*
 * The backoff before try n (1-based) with jitter, in ms: 0 for n = 1, then
 * 500 ms doubling up to 8 s, minus up to 25 %, times
 * $SALESLINE_HTTP_BACKOFF_SCALE (default 1).  For tests.
 */
long sl_http_backoff_ms(int n);

/* "x-api-key: secret" style header string; the value is registered as a secret. */
char *sl_http_header(const char *name, const char *value);
/* Percent-encodes s for a URL query or path segment. */
char *sl_http_escape(const char *s);

/* Releases the process's curl handle; call once before exit. */
void sl_http_cleanup(void);

/* Exit status for a failed request: 75 temporary/uncertain, 77 for 401/403, 69 otherwise. */
int sl_http_exit_code(const struct sl_http_resp *resp);

#endif
