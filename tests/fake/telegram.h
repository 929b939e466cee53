/*
 * telegram.h: what the files of the Telegram module (telegram.c,
 * telegram_send.c, telegram_markup.c) share.  Not part of fake.h: the
 * core knows only the struct fake_module in telegram.c.
 *
 * Everything here is touched only with the emulator's state lock held
 * (handle() holds it; the module's threads take it with fake_lock).  The
 * jv values kept here are deep copies owned by the state (fake_own), never
 * shared with a request's values; updates and logs are kept as text.
 */
#ifndef FAKE_TELEGRAM_H
#define FAKE_TELEGRAM_H

#include <stddef.h>

#include <pthread.h>
#include <stdatomic.h>

#include <jv.h>

#include "fake.h"

/* A growing text buffer. */
struct tg_buf {
	char *s;
	size_t len, cap;
};

/* A queued update: its id, its kind (the payload's key), and its text. */
struct tg_update {
	long long id;
	char *kind;
	char *json;
};

/* A message that exists in a chat; text only for the bot's own. */
struct tg_msg {
	long long id;
	long long date;
	char *text;
};

/*
 * A chat, keyed by (business connection, chat id): a business chat is
 * independent of the bot's own chat with the same id.
 */
struct tg_chat {
	struct tg_chat *next;
	long long id;
	char *bc;		/* business connection, NULL: the bot's chat */
	jv obj;			/* the Chat object */
	int known;		/* seen in an update or created by a test */
	int blocked, deactivated;
	long long migrate_to;	/* 0, or the supergroup it became */
	long long last_id;	/* the highest message_id so far */
	struct tg_msg *msgs;
	size_t nmsgs, capmsgs;
	long long *sends;	/* times (ms) of the recent sends, for flood */
	size_t nsends;
	long long flood_until;	/* ms; sends before it get 429 */
};

struct tg_conn {
	struct tg_conn *next;
	char *id;
	jv obj;			/* the BusinessConnection, as last received */
};

struct tg_file {
	struct tg_file *next;
	char *id, *unique, *path;
	long long size;
};

struct tg_cbq {
	struct tg_cbq *next;
	char *id;
	int answered;
};

enum tg_worker_kind { TG_HOOK, TG_GEN };

/* A thread of the module: a webhook delivery or a generator. */
struct tg_worker {
	struct tg_worker *next;
	pthread_t thr;
	enum tg_worker_kind kind;
	atomic_int stop;
	int exited;		/* set by the thread as it leaves */
	int orphan;		/* its bot was forgotten by a reset */
	struct tg_bot *bot;	/* NULL once orphaned */
	/* The generator. */
	long count, chats, conns, interval_ms;
	double business;
	long produced;
	int done;
};


struct tg_bot {
	struct tg_bot *next;
	char *token;
	long long id;
	char *first_name, *username;
	long long next_update_id;
	long long confirmed_below;	/* the highest offset confirmed */
	struct tg_update *q;		/* unconfirmed: q[qhead..qlen) */
	size_t qhead, qlen, qcap;
	struct tg_buf all;		/* every update produced, JSON lines */
	unsigned long nall, ndropped;
	unsigned long allowed;		/* bit per known update type */
	jv allowed_list;		/* as last given, or null */
	struct tg_chat *chats;
	struct tg_conn *conns;
	struct tg_file *files;
	unsigned long nfiles;
	struct tg_cbq *cbqs;
	unsigned long ncbq;
	unsigned long poll_gen;		/* bumped by getUpdates, setWebhook */
	int pollers;			/* getUpdates calls waiting */
	char *hook_url, *hook_secret;
	int hook_max;
	long long hook_err_date;
	char *hook_err_msg;
	struct tg_worker *hook;		/* the delivery thread, or NULL */
	unsigned long nsent;
	struct tg_buf sent, actions, callbacks, edits;	/* JSON lines */
};

/* One call of a Bot API method. */
struct tg_call {
	const struct fake_req *req;
	struct tg_bot *bot;
	const char *method;
	jv params;
};

/* Flood control, for every bot (0: off). */
extern long tg_flood_per_sec, tg_flood_retry_after;
/* The -t tokens, the bots, the threads. */
extern char **tg_tokens;
extern size_t tg_ntokens;
extern struct tg_bot *tg_bots;
extern struct tg_worker *tg_workers;

/* Is t[0..n) a token fake-api accepts (-t, or well formed)? */
int tg_accepted(const char *t, size_t n);
/* The bot of token t[0..n), or NULL; tg_bot_for creates it. */
struct tg_bot *tg_bot_find(const char *t, size_t n);
struct tg_bot *tg_bot_for(const char *t, size_t n);
/* Updates waiting for confirmation (or webhook delivery). */
size_t tg_queued(const struct tg_bot *b);
/*
 * Queues update u (consumed) for bot b: assigns update_id when absent,
 * fills the payload, applies allowed_updates.  Returns 1 with the id in
 * *idp, 0 when allowed_updates dropped it, -1 when u is not an object.
 */
int tg_inject(struct tg_bot *b, jv u, long long *idp);
/* Starts fn(w) as a thread of bot b; w may be NULL (allocated here). */
struct tg_worker *tg_worker_start(struct tg_bot *b,
    enum tg_worker_kind kind, void *(*fn)(void *), struct tg_worker *w);
/* Forgets every queued update. */
void tg_drop_all(struct tg_bot *b);
/* allowed_updates as given (consumed): a list; empty = the default. */
void tg_set_allowed(struct tg_bot *b, jv list);
/* A control endpoint's error, {"ok":false,"error":msg}. */
void tg_ctl_error(struct fake_resp *resp, int status, const char *msg);
/* The control endpoints /_fake/telegram/... (telegram_ctl.c). */
void tg_control(const struct fake_req *req, struct fake_resp *resp);

void tg_buf_add(struct tg_buf *b, const char *s, size_t n);
void tg_buf_str(struct tg_buf *b, const char *s);
/* v as one JSON line; borrows v. */
void tg_buf_line(struct tg_buf *b, jv v);
void tg_buf_free(struct tg_buf *b);

/* Telegram's envelope: {"ok":true,"result":...}; consumes result. */
void tg_ok(struct fake_resp *resp, jv result);
/* An error; params (consumed) is Telegram's "parameters", or null. */
void tg_error(struct fake_resp *resp, int code, const char *description,
    jv params);

/*
 * Parameters, from a JSON body, a form or the query (all strings there).
 * Each returns 1 when present, 0 when absent or null, -1 when unusable.
 * tg_param_int: an integral number or a string of digits.
 * tg_param_str: a string, or a number as its text (*out lives as long as
 *               the call's params; a number's text in the static buffer).
 * tg_param_bool: true/false, or "true"/"false"/"1"/"0".
 * tg_param_json: an object or array, given as such or as JSON text (a
 *               form field); *out is a new value the caller frees.
 */
int tg_param_int(jv params, const char *key, long long *out);
int tg_param_str(jv params, const char *key, const char **out);
int tg_param_bool(jv params, const char *key, int *out);
int tg_param_json(jv params, const char *key, jv *out);

/* Unix seconds, the real clock. */
long long tg_unix_now(void);

/* The chat (bc may be NULL), or NULL; tg_chat_get creates it. */
struct tg_chat *tg_chat_find(struct tg_bot *b, const char *bc, long long id);
struct tg_chat *tg_chat_get(struct tg_bot *b, const char *bc, long long id);
/* Records that message id exists in c; text for the bot's own. */
struct tg_msg *tg_chat_add_msg(struct tg_chat *c, long long id,
    const char *text);
struct tg_msg *tg_chat_msg(struct tg_chat *c, long long id);
struct tg_conn *tg_conn_find(struct tg_bot *b, const char *id);
/* The bot as a User object. */
jv tg_bot_user(const struct tg_bot *b);
void tg_chat_free(struct tg_chat *c);

/* Webhooks (telegram_hook.c); tg_hook_cleanup once at exit. */
void tg_set_webhook(struct tg_call *call, struct fake_resp *resp);
void tg_delete_webhook(struct tg_call *call, struct fake_resp *resp);
void tg_get_webhook_info(struct tg_call *call, struct fake_resp *resp);
void tg_hook_cleanup(void);

/* Methods (telegram_send.c). */
void tg_send_message(struct tg_call *call, struct fake_resp *resp);
void tg_edit_message_text(struct tg_call *call, struct fake_resp *resp);
void tg_send_chat_action(struct tg_call *call, struct fake_resp *resp);
void tg_answer_callback_query(struct tg_call *call, struct fake_resp *resp);
void tg_get_file(struct tg_call *call, struct fake_resp *resp);
void tg_get_business_connection(struct tg_call *call,
    struct fake_resp *resp);
/* GET /file/bot<token>/<path> for bot b. */
void tg_download(struct tg_bot *b, const char *path, struct fake_resp *resp);

/*
 * Markup (telegram_markup.c).  Parses text[0..len) (NUL-terminated) in
 * parse mode mode ("HTML", "MarkdownV2", "Markdown"; NULL or "" for plain
 * text) as Telegram does.  Returns 0 with the text without markup, its
 * leading and trailing white space removed, in *plain (malloc'd) and the
 * entities in *entities (an array); or -1 with Telegram's description
 * ("Bad Request: can't parse entities: ...") in err.
 */
int tg_markup(const char *text, size_t len, const char *mode, char **plain,
    jv *entities, char *err, size_t errsize);
/* Length in UTF-16 code units, as Telegram counts. */
size_t tg_utf16_len(const char *s, size_t n);

#endif
