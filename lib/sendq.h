/*
 * sendq.h: sending messages out, for tg-send and any later channel
 * sender: each idempotency key at most once, strictly in order per chat,
 * at a human pace.  Two layers:
 *
 * 1. sl_sendq: per-chat send queues for one thread.  Items leave each
 *    chat's queue strictly in the order they came, one at a time, while
 *    chats take turns by time.  Every chat has a FIFO and a ready time (in
 *    ms, any clock the caller likes).  sl_sendq_due gives the chat whose
 *    ready time came first; the caller works on its head item and then
 *    either removes it (sl_sendq_pop) or keeps it and names when to look
 *    again (sl_sendq_defer: a wait for not_before, a typing pause, a
 *    429's retry_after).  A deferred chat holds up only itself.
 *
 * 2. sl_outbox: the whole sender around a channel's send function.  It
 *    reads message.out records on stdin, stores each in the ledger under
 *    its key before any send, schedules them with sl_sendq, keeps the
 *    ledger status (queued, sending, sent, failed, uncertain, dropped) and
 *    writes one message.sent or message.failed per record.  The channel
 *    supplies four callbacks (struct sl_outbox_ops); the rest is the same
 *    for every channel.  tg-send(1) describes the behaviour.
 */
#ifndef SL_SENDQ_H
#define SL_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "db.h"

struct sl_sendq;
struct sl_sendq_chat;

struct sl_sendq *sl_sendq_new(void);
/* Frees the queues, passing every item left to free_item (may be NULL). */
void sl_sendq_free(struct sl_sendq *q, void (*free_item)(void *));

/*
 * Appends item to the queue of chat (any string naming the chat); a
 * chat's first item is ready at the chat's ready time (0 for a new chat),
 * which outlives its items.
 */
struct sl_sendq_chat *sl_sendq_push(struct sl_sendq *q, const char *chat,
    void *item);
/* Puts item first in the queue of c (it goes before the head). */
void sl_sendq_push_front(struct sl_sendq *q, struct sl_sendq_chat *c,
    void *item);
/* The chat named chat, or NULL. */
struct sl_sendq_chat *sl_sendq_find(const struct sl_sendq *q,
    const char *chat);

/* The earliest ready time of a chat with items, or -1 when all are empty. */
int64_t sl_sendq_next(const struct sl_sendq *q);
/*
 * A chat with items whose ready time is at or before now: the earliest,
 * and of equal ones the one that waited longest; NULL when none.  It
 * stays the answer until sl_sendq_pop or sl_sendq_defer moves it.
 */
struct sl_sendq_chat *sl_sendq_due(const struct sl_sendq *q, int64_t now);

/* The chat's first item (NULL when its queue is empty), its name. */
void *sl_sendq_head(const struct sl_sendq_chat *c);
const char *sl_sendq_name(const struct sl_sendq_chat *c);
/*
 * The caller's data about a chat (NULL until set): a chat, once pushed
 * to, lives as long as the queues do, empty or not.
 */
void *sl_sendq_data(const struct sl_sendq_chat *c);
void sl_sendq_set_data(struct sl_sendq_chat *c, void *data);
/* Items in the chat's queue, in all queues. */
size_t sl_sendq_chat_len(const struct sl_sendq_chat *c);
size_t sl_sendq_len(const struct sl_sendq *q);

/* Removes the head item; the next one is ready at at. */
void sl_sendq_pop(struct sl_sendq *q, struct sl_sendq_chat *c, int64_t at);
/* Keeps the head item; the chat is ready again at at. */
void sl_sendq_defer(struct sl_sendq *q, struct sl_sendq_chat *c, int64_t at);

/*
 * One message on its way, owned by the engine.  The channel's callbacks
 * read the first group and may change the second (prepare fills parts and
 * meta; send may set degraded, add fields to base, and write the new
 * chat into moved_to of its result); the rest is the engine's.
 */
struct sl_out {
	char *key;
	char *chat;		/* where it goes now */
	char *bc;		/* business connection, or NULL */
	char *reply_to;		/* message id, or NULL */
	char *text;
	int64_t prospect;	/* ledger id, 0: unknown */

	char **parts;		/* the text as messages, by prepare */
	size_t nparts;
	jv meta;		/* the channel's fields kept in messages.meta */
	jv base;		/* the fields of the output record */
	int degraded;		/* sent other than asked (plain text) */

	jv msgs;		/* ids of the parts sent so far */
	char *from_chat;	/* the chat before it moved */
	int state, checked, tries, waits;
	int64_t due, typing_end, next_action;
};

enum sl_send_outcome {
	SL_SEND_OK,		/* sent: id holds the message id */
	SL_SEND_RETRY,		/* nothing was sent; try again later */
	SL_SEND_UNCERTAIN,	/* may have been delivered: never resent */
	SL_SEND_FAILED,		/* refused for good */
	SL_SEND_FATAL,		/* nothing can be sent (a bad token) */
};

struct sl_send_result {
	enum sl_send_outcome outcome;
	jv id;			/* OK: the message id, a string */
	char code[24];		/* "403", "429", "network", ... */
	char message[512];	/* for people; never a secret */
	long retry_after_ms;	/* RETRY: the server's wait, -1: back off */
	int unreachable;	/* FAILED: the prospect cannot be reached */
	int status;		/* FATAL: the exit status */
	char moved_to[64];	/* the chat moved there (and was resent) */
};

struct sl_outbox_ops {
	const char *channel;	/* "telegram"; others' records refused */
	/*
	 * Checks the channel's fields of rec, fills m->meta and splits
	 * m->text into m->parts.  rec is null for a message read back from
	 * the ledger (m->meta is then the stored one).  Returns 0, or -1
	 * with *why (a static text) to refuse the record.
	 */
	int (*prepare)(void *ctx, jv rec, struct sl_out *m, const char **why);
	/* How long a person would type part k, in ms. */
	long (*delay)(void *ctx, const struct sl_out *m, size_t k);
	/* Shows "typing", again every action_ms while the delay lasts. */
	void (*action)(void *ctx, const struct sl_out *m);
	/* Sends part k once (no retries) and says how it went in r. */
	void (*send)(void *ctx, struct sl_out *m, size_t k,
	    struct sl_send_result *r);
};

struct sl_outbox_opts {
	const char *bot;	/* messages.bot: the sender's identity */
	int pending;		/* take up the ledger's unfinished rows */
	int resend_uncertain;	/* send uncertain ones again */
	int no_delay;		/* no typing delay, no actions */
	long chat_interval_ms;	/* between two sends to one chat */
	long action_ms;		/* how often action is repeated */
	double rate;		/* sends a second in all; 0: no limit */
};

/*
 * Runs the sender until the input ends and every queue is empty (or a
 * fatal error, or sl_outbox_stop).  Returns the exit status: 0, 1 (input
 * rejected), 75 (messages left queued for a later run, or stopped), 77
 * or another FATAL status, 74 (output or input error), or the ledger's.
 * The caller closes stdout (sl_out_close) and the ledger afterwards.
 */
int sl_outbox_run(struct sl_db *db, const struct sl_outbox_ops *ops,
    void *ctx, const struct sl_outbox_opts *opts);
/* Asks a running sl_outbox_run to stop soon; async-signal-safe. */
void sl_outbox_stop(void);

#endif
