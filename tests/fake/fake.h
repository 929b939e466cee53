/*
 * fake.h: the loopback API emulator (fake-api): its core and the interface
 * of the emulated APIs ("modules", one file each: telegram.c, later llm.c,
 * google.c, zoom.c).
 *
 * The core (fake.c) serves HTTP on 127.0.0.1, records every request, and
 * answers it from the scripted rules first (README has the rule format);
 * a request that no rule answers is offered to each module in the order
 * of the table in fake.c, and the first module whose handle() returns 1
 * answers it.  Nothing answers: 404 with a JSON error.
 *
 * A module is a struct fake_module:
 *
 *	name      for messages
 *	optstring getopt letters of its command-line options ("t:"), or NULL;
 *	          option(c, arg) is called for each (0 ok, -1 bad value);
 *	          usage is their part of the usage line ("[-t token]...")
 *	handle    answers a request: fills resp and returns 1, or returns 0
 *	          when the request is not for this module
 *	reset     forgets the module's state (POST /_fake/reset); may be NULL
 *	cleanup   frees everything at exit; may be NULL
 *
 * handle() runs with the emulator's state lock held, so module state needs
 * no locking of its own; one request at a time is inside a module.  A
 * module that must wait (Telegram long polling) calls fake_wait(), which
 * releases the lock while it waits, and wakes waiters with fake_notify().
 * A module may serve control endpoints of its own under /_fake/NAME/ (for
 * a test to inject updates or read state); they are not logged and rules
 * never apply to them.
 *
 * libjq's reference counts are not atomic and every connection has its own
 * thread: the jv values of a struct fake_req belong to that request's
 * thread.  Anything a module keeps in its state must be a deep copy
 * (fake_own), never a jv_copy of a request's value.
 */
#ifndef FAKE_H
#define FAKE_H

#include <stddef.h>

#include <jv.h>

#define FAKE_MAX_HEADERS 32

enum fake_close {
	FAKE_CLOSE_NONE = 0,
	FAKE_CLOSE_BEFORE,	/* close without any answer */
	FAKE_CLOSE_MID,		/* headers, part of the body, then close */
};

struct fake_req {
	unsigned long seq;	/* 1, 2, ... since start or the last reset */
	long long at_ms;	/* when it arrived, ms since start */
	const char *method;	/* "GET", "POST", ... as sent */
	const char *path;	/* percent-decoded, without the query */
	jv query;		/* object: decoded query parameters */
	jv headers;		/* object: lower-case name -> value */
	const char *body;	/* raw, NUL-terminated (may hold NULs) */
	size_t body_len;
	jv json;		/* the body parsed: JSON, or a form as an
				   object; null when it is neither */
};

struct fake_header {
	char *name;
	char *value;
};

struct fake_resp {
	int status;
	struct fake_header hdr[FAKE_MAX_HEADERS];
	int nhdr;
	char *body;		/* malloc'd, may be NULL */
	size_t body_len;
	/* How the answer travels; set by rules, modules leave them 0. */
	long delay_ms;		/* before the answer */
	long chunk_delay_ms;	/* between chunks of the body */
	size_t chunk_bytes;	/* chunk size with chunk_delay_ms */
	long repeat;		/* the body is sent this many times */
	enum fake_close close;
	int malformed;		/* cut the body in half */
};

struct fake_module {
	const char *name;
	const char *optstring;
	const char *usage;
	int (*option)(int c, const char *arg);
	int (*handle)(const struct fake_req *req, struct fake_resp *resp);
	void (*reset)(void);
	void (*cleanup)(void);
};

extern const struct fake_module fake_telegram;
extern const struct fake_module fake_google;
extern const struct fake_module fake_zoom;
extern const struct fake_module fake_llm;

/* Answers: status, content type and body (copied). */
void fake_reply(struct fake_resp *resp, int status, const char *type,
    const char *body, size_t len);
/* Answers with body serialised as JSON; consumes body. */
void fake_reply_json(struct fake_resp *resp, int status, jv body);
/* Sets a header (copied), replacing one of the same name in any case. */
void fake_header(struct fake_resp *resp, const char *name, const char *value);

/* The request's parameters: query fields, then body fields over them. */
jv fake_params(const struct fake_req *req);
/* A deep copy of v that shares nothing with it; consumes v. */
jv fake_own(jv v);

/* Milliseconds since the emulator started. */
long long fake_now_ms(void);
/*
 * Waits up to ms for fake_notify(), releasing the state lock meanwhile
 * (from handle(), or from a module's thread between fake_lock and
 * fake_unlock).  Returns 0 when notified (or woken spuriously: check the
 * condition again), 1 on timeout, -1 when the emulator is shutting down
 * (answer at once).  Rules and other requests may have changed the state
 * meanwhile.
 */
int fake_wait(long ms);
void fake_notify(void);

/*
 * A module's own threads (a generator, a webhook delivery) take the state
 * lock with fake_lock before touching module state, and must not hold it
 * while they do anything slow (an HTTP request).  handle(), reset() and
 * cleanup() must not call them: the first two already hold the lock, and
 * cleanup() runs after the server stopped, without it, so it may take it
 * to stop its threads and then join them.  fake_stopping() is 1 once the
 * emulator is shutting down; it needs no lock.
 */
void fake_lock(void);
void fake_unlock(void);
int fake_stopping(void);

#endif
