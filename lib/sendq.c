/*
 * sendq.c: per-chat send queues, and the outbox that sends through them.
 * See sendq.h.
 *
 * The queues: chats live in a hash table by name; the chats that have
 * items sit in a binary min-heap ordered by (ready time, sequence), the
 * sequence being bumped whenever a chat is (re)scheduled, so chats that
 * are ready at the same moment take turns.  Every operation is O(log
 * chats).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "jsonl.h"
#include "sendq.h"
#include "sl.h"
#include "timeutil.h"

struct node {
	void *item;
	struct node *next;
};

struct sl_sendq_chat {
	char *name;
	struct sl_sendq_chat *hnext;	/* hash chain */
	struct node *head, *tail;
	size_t len;
	int64_t ready;
	uint64_t seq;
	size_t heap;			/* index in the heap, or NOWHERE */
	void *data;			/* the caller's */
};

#define NOWHERE ((size_t)-1)

struct sl_sendq {
	struct sl_sendq_chat **tab;
	size_t nbuckets, nchats;
	struct sl_sendq_chat **heap;
	size_t nheap, capheap;
	size_t items;
	uint64_t seq;
};

static size_t
hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct sl_sendq *
sl_sendq_new(void)
{
	struct sl_sendq *q = sl_calloc(1, sizeof *q);

	q->nbuckets = 64;
	q->tab = sl_calloc(q->nbuckets, sizeof *q->tab);
	return q;
}

void
sl_sendq_free(struct sl_sendq *q, void (*free_item)(void *))
{
	struct sl_sendq_chat *c, *next;
	struct node *n, *nn;
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->nbuckets; i++)
		for (c = q->tab[i]; c; c = next) {
			next = c->hnext;
			for (n = c->head; n; n = nn) {
				nn = n->next;
				if (free_item)
					free_item(n->item);
				free(n);
			}
			free(c->name);
			free(c);
		}
	free(q->tab);
	free(q->heap);
	free(q);
}

static int
before(const struct sl_sendq_chat *a, const struct sl_sendq_chat *b)
{
	return a->ready < b->ready || (a->ready == b->ready && a->seq < b->seq);
}

static void
place(struct sl_sendq *q, size_t i, struct sl_sendq_chat *c)
{
	q->heap[i] = c;
	c->heap = i;
}

static void
sift_up(struct sl_sendq *q, size_t i)
{
	struct sl_sendq_chat *c = q->heap[i];

	while (i > 0 && before(c, q->heap[(i - 1) / 2])) {
		place(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(q, i, c);
}

static void
sift_down(struct sl_sendq *q, size_t i)
{
	struct sl_sendq_chat *c = q->heap[i];
	size_t k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= q->nheap)
			break;
		if (k + 1 < q->nheap && before(q->heap[k + 1], q->heap[k]))
			k++;
		if (!before(q->heap[k], c))
			break;
		place(q, i, q->heap[k]);
		i = k;
	}
	place(q, i, c);
}

/* Puts c into the heap, or moves it after its key changed. */
static void
schedule(struct sl_sendq *q, struct sl_sendq_chat *c)
{
	c->seq = ++q->seq;
	if (c->heap == NOWHERE) {
		if (q->nheap == q->capheap) {
			q->capheap = q->capheap ? 2 * q->capheap : 16;
			q->heap = sl_realloc(q->heap,
			    q->capheap * sizeof *q->heap);
		}
		place(q, q->nheap++, c);
		sift_up(q, c->heap);
		return;
	}
	sift_up(q, c->heap);
	sift_down(q, c->heap);
}

static void
unschedule(struct sl_sendq *q, struct sl_sendq_chat *c)
{
	size_t i = c->heap;

	c->heap = NOWHERE;
	if (--q->nheap == i)
		return;
	place(q, i, q->heap[q->nheap]);
	sift_up(q, i);
	sift_down(q, i);
}

static void
grow(struct sl_sendq *q)
{
	struct sl_sendq_chat **tab, *c, *next;
	size_t n = q->nbuckets * 2, i, h;

	tab = sl_calloc(n, sizeof *tab);
	for (i = 0; i < q->nbuckets; i++)
		for (c = q->tab[i]; c; c = next) {
			next = c->hnext;
			h = hash(c->name) & (n - 1);
			c->hnext = tab[h];
			tab[h] = c;
		}
	free(q->tab);
	q->tab = tab;
	q->nbuckets = n;
}

struct sl_sendq_chat *
sl_sendq_find(const struct sl_sendq *q, const char *chat)
{
	struct sl_sendq_chat *c;

	for (c = q->tab[hash(chat) & (q->nbuckets - 1)]; c; c = c->hnext)
		if (strcmp(c->name, chat) == 0)
			return c;
	return NULL;
}

struct sl_sendq_chat *
sl_sendq_push(struct sl_sendq *q, const char *chat, void *item)
{
	struct sl_sendq_chat *c = sl_sendq_find(q, chat);
	struct node *n = sl_calloc(1, sizeof *n);
	size_t h;

	if (!c) {
		if (q->nchats >= q->nbuckets)
			grow(q);
		c = sl_calloc(1, sizeof *c);
		c->name = sl_strdup(chat);
		c->heap = NOWHERE;
		h = hash(chat) & (q->nbuckets - 1);
		c->hnext = q->tab[h];
		q->tab[h] = c;
		q->nchats++;
	}
	n->item = item;
	if (c->tail)
		c->tail->next = n;
	else
		c->head = n;
	c->tail = n;
	c->len++;
	q->items++;
	if (c->heap == NOWHERE)
		schedule(q, c);
	return c;
}

void
sl_sendq_push_front(struct sl_sendq *q, struct sl_sendq_chat *c, void *item)
{
	struct node *n = sl_calloc(1, sizeof *n);

	n->item = item;
	n->next = c->head;
	c->head = n;
	if (!c->tail)
		c->tail = n;
	c->len++;
	q->items++;
	if (c->heap == NOWHERE)
		schedule(q, c);
}

int64_t
sl_sendq_next(const struct sl_sendq *q)
{
	return q->nheap ? q->heap[0]->ready : -1;
}

struct sl_sendq_chat *
sl_sendq_due(const struct sl_sendq *q, int64_t now)
{
	return q->nheap && q->heap[0]->ready <= now ? q->heap[0] : NULL;
}

void *
sl_sendq_head(const struct sl_sendq_chat *c)
{
	return c->head ? c->head->item : NULL;
}

const char *
sl_sendq_name(const struct sl_sendq_chat *c)
{
	return c->name;
}

void *
sl_sendq_data(const struct sl_sendq_chat *c)
{
	return c->data;
}

void
sl_sendq_set_data(struct sl_sendq_chat *c, void *data)
{
	c->data = data;
}

size_t
sl_sendq_chat_len(const struct sl_sendq_chat *c)
{
	return c->len;
}

size_t
sl_sendq_len(const struct sl_sendq *q)
{
	return q->items;
}

void
sl_sendq_pop(struct sl_sendq *q, struct sl_sendq_chat *c, int64_t at)
{
	struct node *n = c->head;

	c->ready = at;
	if (!n)
		return;
	c->head = n->next;
	if (!c->head)
		c->tail = NULL;
	free(n);
	c->len--;
	q->items--;
	if (c->len == 0) {
		if (c->heap != NOWHERE)
			unschedule(q, c);
	} else {
		schedule(q, c);
	}
}

void
sl_sendq_defer(struct sl_sendq *q, struct sl_sendq_chat *c, int64_t at)
{
	c->ready = at;
	if (c->len > 0)
		schedule(q, c);
}

/*
 * The outbox.
 *
 * At most once: a record is stored (messages, status 'queued') under its
 * key before any send; a key already stored is reported, not sent.  Right
 * before a send the row becomes 'sending' (committed), after it 'sent'.  A crash in between
 * leaves 'sending', which a later run reports as 'uncertain' and does not
 * send again; so does a send whose answer was lost.  Only
 * resend_uncertain sends those.  Between the parts of a long text the row
 * is 'queued' again with the ids sent so far in meta, so a later run goes
 * on with the next part.
 *
 * Claims: rows this process holds carry claimed_by "host:pid:nonce" and
 * a lease (claimed_until, real clock, renewed while it runs).  Another
 * process takes a row over only when the lease ran out or, on the same
 * host, the holder is gone; each takeover is a compare-and-set on the old
 * holder, so two processes never both own a row, and a send needs the
 * claim ('queued' -> 'sending' where claimed_by is ours).
 *
 * Order across runs and senders: before a message goes, older unfinished
 * rows of its chat must be done: one another live sender holds is waited
 * for, one nobody holds (a run stopped) is taken up and sent first.  A
 * chat given up on after temporary failures releases its messages for a
 * later run and takes no new one for HOLD_MS.
 *
 * Transactions: every write joins one open transaction (BEGIN IMMEDIATE
 * on SQLite), which is committed before anything leaves the process that
 * depends on it: before every call to the channel (so a row is 'queued'
 * and then 'sending' in the ledger before its send), before waiting for
 * input or time, and after SETTLE_MS at the latest.  Records for stdout
 * are held until that commit, so nothing is reported that the ledger does
 * not have yet.  One commit thus carries a message's 'sent', the lines
 * read after it and the next message's 'sending'; a crash before it
 * leaves that message 'sending', reported as 'uncertain' and not sent
 * again, exactly as a crash during the send would.
 *
 * A chat's head moves through NEW (not_before; the prospect re-checked:
 * a person took over, or unreachable, drops it; older rows first),
 * TYPING (the channel's action every action_ms while the delay lasts),
 * SEND (the pace of the chat and the global rate; the prospect checked
 * once more after typing).  CHECK is
 * a key that came twice in this run: it waits for the first one's
 * outcome and reports it.
 */

#define LEASE_S 300
#define HEARTBEAT_MS 60000
#define MAX_TRIES 4		/* tries of a part: temporary failures */
#define MAX_WAITS 20		/* retry_after waits of a part */
#define MAX_RETRY_AFTER_MS (10L * 60 * 1000)
#define HOLD_MS 30000
#define CHECK_MS 250
#define CHUNK (64 * 1024)
#define SETTLE_MS 50		/* longest a transaction stays open */

enum { NEW, TYPING, SEND, CHECK };

/* What the outbox remembers of a chat. */
struct note {
	struct note *next;
	char *moved_to;
	int64_t held_until, pace;
};

struct outbox {
	struct sl_db *db;
	const struct sl_outbox_ops *ops;
	void *cb;
	const struct sl_outbox_opts *o;
	struct sl_sendq *q;
	struct note *notes;
	char me[160];
	int in_tx, fatal;
	int64_t tx_at;		/* when the open transaction began */
	jv held;		/* records to write after the commit */
	const char *fatal_code;
	char code[24], why[512];
	int64_t global_next, heartbeat;
	unsigned long rejected, uncertain, deferred;
};

struct input {
	char *buf;
	size_t len, cap;
	unsigned long lineno;
	int eof, skipping;
};

static volatile sig_atomic_t stopping;

static const char SQL_INSERT[] =
    "INSERT INTO messages (direction, prospect_id, channel, bot, "
    "business_connection, chat, reply_to, text, key, status, claimed_by, "
    "claimed_until, not_before, meta, at, created_at, updated_at) VALUES "
    "('out', $1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $12, "
    "$13, $13, $13) ON CONFLICT (key) DO NOTHING";
static const char SQL_GET[] = "SELECT * FROM messages WHERE key = $1";
static const char SQL_TAKE[] =
    "UPDATE messages SET status = $2, claimed_by = $3, claimed_until = $4, "
    "updated_at = $5 WHERE key = $1 AND status = $6 AND "
    "coalesce(claimed_by, '') = $7";
static const char SQL_SENDING[] =
    "UPDATE messages SET status = 'sending', attempts = attempts + 1, "
    "claimed_until = $3, updated_at = $4 WHERE key = $1 AND "
    "status = 'queued' AND claimed_by = $2";
static const char SQL_REQUEUE[] =
    "UPDATE messages SET status = 'queued', meta = $3, error = $4, "
    "updated_at = $5 WHERE key = $1 AND claimed_by = $2";
static const char SQL_REQUEUE_MOVED[] =
    "UPDATE messages SET status = 'queued', meta = $3, error = $4, "
    "updated_at = $5, chat = $6 WHERE key = $1 AND claimed_by = $2";
/*
 * The chat is set only where it moved: SQLite rewrites the entries of
 * every index on a column that is set, to the same value or not.
 */
static const char SQL_SENT[] =
    "UPDATE messages SET status = 'sent', msg = $2, meta = $3, "
    "degraded = $4, error = NULL, sent_at = $5, updated_at = $5, "
    "claimed_by = NULL, claimed_until = NULL WHERE key = $1 AND "
    "status IN ('sending', 'uncertain')";
static const char SQL_SENT_MOVED[] =
    "UPDATE messages SET status = 'sent', msg = $2, meta = $3, "
    "degraded = $4, error = NULL, sent_at = $5, updated_at = $5, "
    "claimed_by = NULL, claimed_until = NULL, chat = $6 WHERE key = $1 "
    "AND status IN ('sending', 'uncertain')";
static const char SQL_END[] =
    "UPDATE messages SET status = $2, error = $3, meta = $4, chat = $5, "
    "claimed_by = NULL, claimed_until = NULL, updated_at = $6 "
    "WHERE key = $1 AND claimed_by = $7";
static const char SQL_RELEASE[] =
    "UPDATE messages SET claimed_by = NULL, claimed_until = NULL "
    "WHERE claimed_by = $1 AND status = 'queued'";
static const char SQL_RENEW[] =
    "UPDATE messages SET claimed_until = $2 WHERE claimed_by = $1";
static const char SQL_PENDING[] =
    "SELECT * FROM messages WHERE direction = 'out' AND channel = $1 AND "
    "(bot = $2 OR bot IS NULL) AND (status IN ('queued', 'sending') OR "
    "(status = 'uncertain' AND CAST($3 AS BIGINT) = 1)) ORDER BY id";
static const char SQL_OLDER[] =
    "SELECT * FROM messages WHERE direction = 'out' AND channel = $1 AND "
    "chat = $2 AND coalesce(business_connection, '') = $3 AND "
    "status IN ('queued', 'sending') AND id < (SELECT o.id FROM messages o "
    "WHERE o.key = $4) AND (bot = $5 OR "
    "bot IS NULL) AND coalesce(claimed_by, '') <> $6 ORDER BY id";
/* the same for a chat that moved: its old name too */
static const char SQL_OLDER_MOVED[] =
    "SELECT * FROM messages WHERE direction = 'out' AND channel = $1 AND "
    "chat IN ($2, $7) AND coalesce(business_connection, '') = $3 AND "
    "status IN ('queued', 'sending') AND id < (SELECT o.id FROM messages o "
    "WHERE o.key = $4) AND (bot = $5 OR "
    "bot IS NULL) AND coalesce(claimed_by, '') <> $6 ORDER BY id";
static const char SQL_PROSPECT_ID[] =
    "SELECT id, human_active, unreachable FROM prospects WHERE id = $1";
static const char SQL_PROSPECT_CHAT[] =
    "SELECT id, human_active, unreachable FROM prospects WHERE "
    "channel = $1 AND business_connection = $2 AND chat = $3";
static const char SQL_UNREACHABLE[] =
    "UPDATE prospects SET unreachable = 1, updated_at = $2 WHERE id = $1";
static const char SQL_LAST_OUT[] =
    "UPDATE prospects SET last_out_at = $2, updated_at = $2 WHERE id = $1";
static const char SQL_MOVE[] =
    "UPDATE prospects SET chat = $2, updated_at = $3 WHERE id = $1 AND "
    "NOT EXISTS (SELECT 1 FROM prospects o WHERE o.channel = "
    "prospects.channel AND o.business_connection = "
    "prospects.business_connection AND o.chat = $2)";

void
sl_outbox_stop(void)
{
	stopping = 1;
}

static int64_t
lease(void)
{
	return (int64_t)time(NULL) + LEASE_S;
}

static jv
num(int64_t v)
{
	return jv_number((double)v);
}

static jv
str_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}

/* A decimal integer within +-10^15. */
static int
int_id(const char *s, int64_t *v)
{
	const char *p = s + (*s == '-');

	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 15)
		return 0;
	*v = strtoll(s, NULL, 10);
	return 1;
}

static void
out_rec(struct outbox *x, jv rec)
{
	if (sl_emit(rec) < 0 && !x->fatal) {
		x->fatal = SL_EX_IOERR;
		x->fatal_code = "output";
	}
}

/*
 * Writes the records held for the commit.  After a failed one too: what
 * they report (a send that went out, say) happened all the same.
 */
static void
release_held(struct outbox *x)
{
	int i, n = jv_array_length(jv_copy(x->held));

	for (i = 0; i < n; i++)
		out_rec(x, jv_array_get(jv_copy(x->held), i));
	if (n > 0) {
		jv_free(x->held);
		x->held = jv_array();
	}
}

static void
db_fail(struct outbox *x)
{
	if (x->fatal)
		return;
	sl_error("%s", sl_db_error(x->db));
	x->fatal = sl_db_exit_code(x->db);
	x->fatal_code = "ledger";
	if (x->in_tx)
		sl_db_rollback(x->db);
	x->in_tx = 0;
	release_held(x);
}

static void
tx_begin(struct outbox *x)
{
	if (x->in_tx || x->fatal)
		return;
	if (sl_db_begin_claim(x->db) < 0) {
		db_fail(x);
	} else {
		x->in_tx = 1;
		x->tx_at = sl_mono_ms();
	}
}

/* Commits the open transaction, then writes the records it held. */
static void
tx_end(struct outbox *x)
{
	if (!x->in_tx)
		return;
	x->in_tx = 0;
	if (sl_db_commit(x->db) < 0)
		db_fail(x);
	release_held(x);
}

/* A write: it joins the open transaction (begun when none is). */
static long
exec(struct outbox *x, const char *sql, jv params)
{
	long n;

	tx_begin(x);
	if (x->fatal) {
		jv_free(params);
		return -1;
	}
	if ((n = sl_db_exec(x->db, sql, params)) < 0)
		db_fail(x);
	return n;
}

/* The first row, or null (also after an error, which is fatal). */
static jv
query1(struct outbox *x, const char *sql, jv params)
{
	jv row;

	if (x->fatal) {
		jv_free(params);
		return jv_null();
	}
	row = sl_db_query1(x->db, sql, params);
	if (!jv_is_valid(row)) {
		jv_free(row);
		db_fail(x);
		return jv_null();
	}
	return row;
}

static jv
query(struct outbox *x, const char *sql, jv params)
{
	jv rows;

	if (x->fatal) {
		jv_free(params);
		return jv_array();
	}
	rows = sl_db_query(x->db, sql, params);
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		db_fail(x);
		return jv_array();
	}
	return rows;
}

/* What the outbox remembers of chat c (made on first use). */
static struct note *
note_for(struct outbox *x, struct sl_sendq_chat *c)
{
	struct note *n = sl_sendq_data(c);

	if (n)
		return n;
	n = sl_calloc(1, sizeof *n);
	n->next = x->notes;
	x->notes = n;
	sl_sendq_set_data(c, n);
	return n;
}

static void
parts_free(char **parts)
{
	char **p;

	for (p = parts; p && *p; p++)
		free(*p);
	free(parts);
}

static void
out_free(void *p)
{
	struct sl_out *m = p;

	if (!m)
		return;
	free(m->key);
	free(m->chat);
	free(m->bc);
	free(m->reply_to);
	free(m->text);
	free(m->from_chat);
	parts_free(m->parts);
	jv_free(m->meta);
	jv_free(m->base);
	jv_free(m->msgs);
	free(m);
}

/* A string column (borrowed from row), or NULL. */
static const char *
col(jv row, const char *name)
{
	const char *s = NULL;

	return sl_get_str(row, name, &s) == 1 ? s : NULL;
}

static int64_t
icol(jv row, const char *name)
{
	int64_t v = 0;

	return sl_get_int(row, name, &v) == 1 ? v : 0;
}

/* JSON text column name of row as a value (an object), or def. */
static jv
json_col(jv row, const char *name, jv def)
{
	const char *s = col(row, name);
	jv v = s ? sl_parse(s, strlen(s)) : jv_invalid();

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return def;
	}
	jv_free(def);
	return v;
}

/* v as JSON text (consumed). */
static jv
text_of(jv v)
{
	char *s;
	jv t;

	if (jv_get_kind(v) == JV_KIND_NULL)
		return v;
	s = sl_json_dump(v, NULL);
	t = jv_string(s);
	free(s);
	jv_free(v);
	return t;
}

static jv
meta(const struct sl_out *m)
{
	jv v = jv_copy(m->meta);

	if (m->nparts)
		v = sl_set(v, "parts", num((int64_t)m->nparts));
	if (jv_array_length(jv_copy(m->msgs)) > 0)
		v = sl_set(v, "msgs", jv_copy(m->msgs));
	if (m->from_chat)
		v = sl_set(v, "moved_from", jv_string(m->from_chat));
	return text_of(v);
}

static jv
failure(const char *code, const char *message, int temporary)
{
	return sl_set(sl_set(sl_set(jv_object(), "code", jv_string(code)),
	    "message", jv_string(message)), "temporary", jv_bool(temporary));
}

/* An output record: type, key, chat, prospect?, then base (consumed). */
static jv
record(const char *type, jv base, const char *key, const char *chat,
    int64_t prospect)
{
	jv rec = sl_set(jv_object(), "type", jv_string(type));

	rec = sl_set(sl_set(rec, "key", jv_string(key)), "chat",
	    jv_string(chat));
	if (prospect > 0)
		rec = sl_set(rec, "prospect", sl_id_jv(prospect));
	rec = jv_object_merge(rec, base);
	rec = sl_set(sl_set(rec, "type", jv_string(type)), "key",
	    jv_string(key));
	return sl_set(rec, "chat", jv_string(chat));
}

/* Writes rec on stdout, after the commit when a transaction is open. */
static void
emit(struct outbox *x, jv rec)
{
	if (x->in_tx)
		x->held = jv_array_append(x->held, rec);
	else
		out_rec(x, rec);
}

/* Reports a stored row as it stands, as a repeat (base consumed). */
static void
emit_stored(struct outbox *x, jv row, jv base)
{
	const char *status = col(row, "status"), *msg = col(row, "msg");
	char at[SL_TIME_BUFSZ];
	jv rec, m = json_col(row, "meta", jv_object()), msgs;
	int sent = status && strcmp(status, "sent") == 0;

	rec = record(sent ? "message.sent" : "message.failed", base,
	    col(row, "key"), col(row, "chat"), icol(row, "prospect_id"));
	if (sl_get_arr(m, "msgs", &msgs) != 1)
		msgs = sent && msg ? JV_ARRAY(jv_string(msg)) : jv_invalid();
	if (sent) {
		rec = sl_set(rec, "msg", str_or_null(msg));
		rec = sl_set(rec, "msgs", msgs);
		rec = sl_set(rec, "parts", num(icol(m, "parts") > 0 ?
		    icol(m, "parts") : 1));
		if (sl_time_fmt(icol(row, "sent_at"), at))
			rec = sl_set(rec, "at", jv_string(at));
	} else {
		rec = sl_set(rec, "error", json_col(row, "error",
		    failure(status ? status : "unknown", "no error recorded",
		    0)));
		if (jv_is_valid(msgs))
			rec = sl_set(rec, "msgs", msgs);
	}
	jv_free(m);
	emit(x, sl_set(rec, "duplicate", jv_true()));
}

/* Ends m with status (failed, dropped, uncertain, or queued for later). */
static void
end_msg(struct outbox *x, struct sl_out *m, const char *status, jv err)
{
	jv rec;

	exec(x, SQL_END, JV_ARRAY(jv_string(m->key), jv_string(status),
	    text_of(jv_copy(err)), meta(m), jv_string(m->chat),
	    num(sl_now()), jv_string(x->me)));
	rec = record("message.failed", jv_copy(m->base), m->key, m->chat,
	    m->prospect);
	rec = sl_set(rec, "error", err);
	if (jv_array_length(jv_copy(m->msgs)) > 0)
		rec = sl_set(rec, "msgs", jv_copy(m->msgs));
	emit(x, rec);
}

/* Back to 'queued' after a try that sent nothing, or between parts. */
static void
requeue(struct outbox *x, struct sl_out *m, jv err)
{
	jv p = JV_ARRAY(jv_string(m->key), jv_string(x->me), meta(m),
	    text_of(err), num(sl_now()));

	if (m->from_chat)
		p = jv_array_append(p, jv_string(m->chat));
	exec(x, m->from_chat ? SQL_REQUEUE_MOVED : SQL_REQUEUE, p);
}

/* The prospect's row {id, human_active, unreachable}, or null. */
static jv
prospect_row(struct outbox *x, struct sl_out *m)
{
	jv row = jv_null();

	if (m->prospect > 0)
		row = query1(x, SQL_PROSPECT_ID, JV_ARRAY(num(m->prospect)));
	if (jv_get_kind(row) == JV_KIND_NULL)
		row = query1(x, SQL_PROSPECT_CHAT, JV_ARRAY(jv_string(
		    x->ops->channel), jv_string(m->bc ? m->bc : ""),
		    jv_string(m->chat)));
	m->prospect = icol(row, "id");
	return row;
}

/* May a row held by someone else be taken over? */
static int
claim_free(jv row)
{
	const char *by = col(row, "claimed_by"), *p, *q;
	char host[128];
	long pid;

	if (!by || !*by || icol(row, "claimed_until") < (int64_t)time(NULL))
		return 1;
	/* host:pid:nonce: on this host, is the pid gone? */
	if (!(q = strrchr(by, ':')) || q == by)
		return 0;
	for (p = q - 1; p > by && *p != ':'; p--)
		;
	if (*p != ':' || gethostname(host, sizeof host) < 0)
		return 0;
	host[sizeof host - 1] = '\0';
	if ((size_t)(p - by) != strlen(host) ||
	    strncmp(by, host, (size_t)(p - by)) != 0)
		return 0;
	pid = strtol(p + 1, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Compare-and-set of a row's status and holder: 1 when it was taken. */
static int
take(struct outbox *x, jv row, const char *status)
{
	const char *by = col(row, "claimed_by");

	return exec(x, SQL_TAKE, JV_ARRAY(jv_string(col(row, "key")),
	    jv_string(status), jv_string(x->me), num(lease()), num(sl_now()),
	    jv_string(col(row, "status")), jv_string(by ? by : ""))) == 1;
}

static void enqueue(struct outbox *x, struct sl_out *m, int64_t not_before,
    int front);

/* The message of a stored row; base (consumed) null: from the row. */
static struct sl_out *
out_from_row(jv row, jv base)
{
	struct sl_out *m = sl_calloc(1, sizeof *m);
	const char *s;
	jv msgs;

	m->key = sl_strdup(col(row, "key"));
	m->chat = sl_strdup(col(row, "chat"));
	m->text = sl_strdup(col(row, "text") ? col(row, "text") : "");
	if ((s = col(row, "business_connection")) && *s)
		m->bc = sl_strdup(s);
	if ((s = col(row, "reply_to")))
		m->reply_to = sl_strdup(s);
	m->prospect = icol(row, "prospect_id");
	m->meta = json_col(row, "meta", jv_object());
	m->msgs = sl_get_arr(m->meta, "msgs", &msgs) == 1 ? msgs : jv_array();
	if ((s = col(m->meta, "moved_from")))
		m->from_chat = sl_strdup(s);
	m->meta = jv_object_delete(jv_object_delete(jv_object_delete(
	    m->meta, jv_string("msgs")), jv_string("parts")),
	    jv_string("moved_from"));
	if (jv_get_kind(base) == JV_KIND_NULL) {
		jv_free(base);
		base = sl_set(jv_object(), "channel", jv_string(col(row,
		    "channel") ? col(row, "channel") : ""));
		if (m->bc)
			base = sl_set(base, "business_connection",
			    jv_string(m->bc));
		if (m->reply_to)
			base = sl_set(base, "reply_to", jv_string(m->reply_to));
	}
	m->base = base;
	return m;
}

/*
 * A row that exists (its key came again, --pending, or an older message
 * to a chat): report it, or take it over and queue it (in front of its
 * chat's queue with front).  base holds the input's fields (consumed), or
 * is null when no input line asked.
 */
static void
take_row(struct outbox *x, jv row, jv base, int front)
{
	const char *st = col(row, "status"), *by = col(row, "claimed_by");
	int asked = jv_get_kind(base) != JV_KIND_NULL;
	struct sl_out *m;

	if (st && (strcmp(st, "queued") == 0 || strcmp(st, "sending") == 0) &&
	    by && strcmp(by, x->me) == 0) {
		/* the same key earlier in this run */
		m = out_from_row(row, base);
		m->state = CHECK;
		enqueue(x, m, 0, 0);
		return;
	}
	if (!st || (strcmp(st, "queued") && strcmp(st, "sending") &&
	    (strcmp(st, "uncertain") || !x->o->resend_uncertain))) {
		if (asked)
			emit_stored(x, row, base);
		else
			jv_free(base);
		return;
	}
	if (!claim_free(row)) {
		if (asked)
			emit(x, sl_set(record("message.failed", base,
			    col(row, "key"), col(row, "chat"),
			    icol(row, "prospect_id")), "error", failure("busy",
			    "another sender holds this key", 1)));
		else
			jv_free(base);
		return;
	}
	m = out_from_row(row, base);
	if (strcmp(st, "sending") == 0 && !x->o->resend_uncertain) {
		/* stopped while sending: the outcome is unknown */
		if (take(x, row, "sending")) {
			x->uncertain++;
			sl_warn("'%s' may or may not have been delivered (the "
			    "sender stopped while sending it)", m->key);
			end_msg(x, m, "uncertain", failure("uncertain", "the "
			    "sender stopped while sending it; it may have been "
			    "delivered", 0));
		}
		out_free(m);
		return;
	}
	if (!take(x, row, "queued")) {
		out_free(m);
		return;
	}
	if (strcmp(st, "queued") != 0)
		sl_warn("resending '%s', which may have been delivered "
		    "already", m->key);
	enqueue(x, m, icol(row, "not_before"), front);
}

static void
enqueue(struct outbox *x, struct sl_out *m, int64_t not_before, int front)
{
	char *name = sl_asprintf("%s\x1f%s", m->bc ? m->bc : "",
	    m->from_chat ? m->from_chat : m->chat);
	struct sl_sendq_chat *c = sl_sendq_find(x->q, name);
	/* a chat is held (or paced, or moved) only after it had a queue */
	struct note *n = c ? sl_sendq_data(c) : NULL;
	int64_t now = sl_mono_ms(), wait = not_before - sl_now();
	const char *why = NULL;

	m->due = not_before > 0 && wait > 0 ? now + wait * 1000 : 0;
	if (m->state != CHECK && !m->parts &&
	    (x->ops->prepare(x->cb, jv_null(), m, &why) < 0 ||
	    m->nparts == 0)) {
		end_msg(x, m, "failed", failure("invalid", why ? why :
		    "'text': empty", 0));
		out_free(m);
	} else if (m->state != CHECK && !front && n && n->held_until > now) {
		x->deferred++;
		end_msg(x, m, "queued", failure("deferred", "an earlier "
		    "message to this chat could not be sent yet", 1));
		out_free(m);
	} else if (front && c) {
		sl_sendq_push_front(x->q, c, m);
	} else {
		sl_sendq_push(x->q, name, m);
	}
	free(name);
}

/*
 * Older unfinished messages to m's chat go first: those another live
 * sender holds are waited for; those nobody holds (a run stopped) are
 * taken up and put in front of m.  Returns 1 when m may go on.
 */
static int
older_done(struct outbox *x, struct sl_sendq_chat *c, struct sl_out *m,
    int64_t now)
{
	jv rows, row, p;
	int i, len, wait = 0;

	/* older: before m's row, found by its key in the same statement */
	p = JV_ARRAY(jv_string(x->ops->channel), jv_string(m->chat),
	    jv_string(m->bc ? m->bc : ""), jv_string(m->key),
	    jv_string(x->o->bot), jv_string(x->me));
	if (m->from_chat)
		p = jv_array_append(p, jv_string(m->from_chat));
	rows = query(x, m->from_chat ? SQL_OLDER_MOVED : SQL_OLDER, p);
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len && !wait; i++) {
		row = jv_array_get(jv_copy(rows), i);
		wait = !claim_free(row);
		jv_free(row);
	}
	if (wait) {
		sl_sendq_defer(x->q, c, now + CHECK_MS);
	} else {
		for (i = len; i > 0 && !x->fatal; i--) {
			row = jv_array_get(jv_copy(rows), i - 1);
			take_row(x, row, jv_null(), 1);
			jv_free(row);
		}
	}
	jv_free(rows);
	return len == 0 && !x->fatal;
}

/* sl_get_id's answer for an optional field, the value dropped. */
static int
id_kind(jv rec, const char *key)
{
	jv v;
	int r = sl_get_id(rec, key, &v);

	if (r == 1)
		jv_free(v);
	return r;
}

/* An optional numeric ID field: 1 (*out new), 0 absent, -1 bad. */
static int
opt_id(jv rec, const char *key, char **out)
{
	int64_t id;
	jv v;
	int r = sl_get_id(rec, key, &v);

	*out = NULL;
	if (r != 1)
		return r;
	if (int_id(jv_string_value(v), &id))
		*out = sl_strdup(jv_string_value(v));
	else
		r = -1;
	jv_free(v);
	return r;
}

/* Checks an input record; the message, or NULL with *why. */
static struct sl_out *
parse_out(struct outbox *x, jv rec, const char **why)
{
	const char *key = NULL, *text = NULL, *bc = NULL, *s = NULL;
	char *reply_to = NULL;
	jv chat = jv_invalid();
	struct sl_out *m;
	int64_t t;
	int r;

	*why = NULL;
	if ((r = sl_get_str(rec, "type", &s)) < 0 ||
	    (r == 1 && strcmp(s, "message.out") != 0))
		*why = "'type': expected \"message.out\"";
	else if ((r = sl_get_str(rec, "channel", &s)) < 0 ||
	    (r == 1 && strcmp(s, x->ops->channel) != 0))
		*why = "'channel': not this channel";
	else if (sl_get_str(rec, "key", &key) != 1 || !*key)
		*why = "'key': expected a string";
	else if (sl_get_id(rec, "chat", &chat) != 1)
		*why = "'chat': expected a string";
	else if (sl_get_str(rec, "text", &text) != 1)
		*why = "'text': expected a string";
	else if (text[strspn(text, " \t\r\n")] == '\0')
		*why = "'text': empty";
	else if (sl_get_str(rec, "business_connection", &bc) < 0)
		*why = "'business_connection': expected a string";
	else if (sl_get_time(rec, "not_before", &t) < 0)
		*why = "'not_before': expected an RFC 3339 time";
	else if (id_kind(rec, "prospect") < 0)
		*why = "'prospect': expected a string";
	else if (opt_id(rec, "reply_to", &reply_to) < 0)
		*why = "'reply_to': expected a message id";
	if (*why) {
		jv_free(chat);
		return NULL;
	}
	m = sl_calloc(1, sizeof *m);
	m->key = sl_strdup(key);
	m->chat = sl_strdup(jv_string_value(chat));
	m->text = sl_strdup(text);
	m->bc = bc && *bc ? sl_strdup(bc) : NULL;
	m->reply_to = reply_to;
	if (opt_id(rec, "prospect", &reply_to) == 1 &&
	    int_id(reply_to, &t) && t > 0)
		m->prospect = t;
	free(reply_to);
	m->base = sl_set(jv_object_delete(jv_copy(rec), jv_string("text")),
	    "chat", chat);
	m->meta = jv_object();
	m->msgs = jv_array();
	if (x->ops->prepare(x->cb, rec, m, why) < 0 || m->nparts == 0) {
		if (!*why)
			*why = "'text': empty";
		out_free(m);
		return NULL;
	}
	return m;
}

static void
reject(struct outbox *x, unsigned long line, const char *why)
{
	x->rejected++;
	sl_error("stdin:%lu: %s", line, why);
}

/*
 * A record of another type (escalation, human.takeover, ...) goes on to
 * stdout untouched, as every filter of the pipeline passes what is not
 * its own.
 */
static int
passes(jv rec)
{
	const char *type;

	return sl_get_str(rec, "type", &type) == 1 && *type &&
	    strcmp(type, "message.out") != 0 &&
	    strncmp(type, "message.", 8) != 0;
}

/*
 * A message of another bot is not ours to send (our token would reach a
 * chat that bot knows): it is left to that bot's sender, which finds it
 * queued in the ledger when agent-reply stored it there.
 */
static int
other_bot(struct outbox *x, jv rec, unsigned long n)
{
	const char *bot;

	if (sl_get_str(rec, "bot", &bot) != 1 || !*bot || !x->o->bot ||
	    strcmp(bot, x->o->bot) == 0)
		return 0;
	sl_warn("stdin:%lu: a message of bot %s, not of this one: left to "
	    "its own sender", n, bot);
	return 1;
}

/* One input line: check it, store it, queue it. */
static void
handle_line(struct outbox *x, const char *line, size_t len, unsigned long n)
{
	const char *why;
	struct sl_out *m;
	int64_t nb = 0;
	long added;
	jv rec, row, p;

	if (strspn(line, " \t\r") >= len)
		return;
	rec = sl_parse(line, len);
	if (jv_get_kind(rec) == JV_KIND_INVALID) {
		p = jv_invalid_get_msg(rec);
		sl_error("stdin:%lu: invalid JSON: %s", n, jv_get_kind(p) ==
		    JV_KIND_STRING ? jv_string_value(p) : "bad value");
		x->rejected++;
		jv_free(p);
		return;
	}
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		sl_error("stdin:%lu: expected an object, got %s", n,
		    sl_kind_name(rec));
		x->rejected++;
		jv_free(rec);
		return;
	}
	if (passes(rec)) {
		emit(x, rec);
		return;
	}
	if (other_bot(x, rec, n)) {
		jv_free(rec);
		return;
	}
	m = parse_out(x, rec, &why);
	sl_get_time(rec, "not_before", &nb);
	jv_free(rec);
	if (!m) {
		reject(x, n, why);
		return;
	}
	tx_begin(x);
	jv_free(prospect_row(x, m));
	if (m->prospect > 0)
		m->base = sl_set(m->base, "prospect", sl_id_jv(m->prospect));
	p = JV_ARRAY(m->prospect > 0 ? num(m->prospect) : jv_null(),
	    jv_string(x->ops->channel), jv_string(x->o->bot),
	    str_or_null(m->bc), jv_string(m->chat), str_or_null(m->reply_to),
	    jv_string(m->text), jv_string(m->key), jv_string(x->me));
	p = jv_array_append(p, num(lease()));
	p = jv_array_append(p, nb ? num(nb) : jv_null());
	p = jv_array_append(p, meta(m));
	p = jv_array_append(p, num(sl_now()));
	added = exec(x, SQL_INSERT, p);
	if (x->fatal) {
		out_free(m);
	} else if (added == 1) {
		enqueue(x, m, nb, 0);
	} else {
		row = query1(x, SQL_GET, JV_ARRAY(jv_string(m->key)));
		if (jv_get_kind(row) == JV_KIND_OBJECT)
			take_row(x, row, jv_copy(m->base), 0);
		jv_free(row);
		out_free(m);
	}
}

/* Takes the head of c out of its queue, done with. */
static void
finish(struct outbox *x, struct sl_sendq_chat *c)
{
	out_free(sl_sendq_head(c));
	sl_sendq_pop(x->q, c, sl_mono_ms());
}

/* Drops m if a person took the chat over or it cannot be reached. */
static int
still_wanted(struct outbox *x, struct sl_sendq_chat *c, struct sl_out *m)
{
	jv p = prospect_row(x, m);
	const char *code = NULL, *why = NULL;

	if (icol(p, "human_active")) {
		code = "human_active";
		why = "a person took the conversation over";
	} else if (icol(p, "unreachable")) {
		code = "unreachable";
		why = "the prospect cannot be reached (blocked the bot?)";
	}
	jv_free(p);
	if (x->fatal)
		return 0;
	if (!code)
		return 1;
	sl_info("dropping '%s': %s", m->key, why);
	end_msg(x, m, "dropped", failure(code, why, 0));
	finish(x, c);
	return 0;
}

static void
sent(struct outbox *x, struct sl_sendq_chat *c, struct sl_out *m)
{
	int n = jv_array_length(jv_copy(m->msgs));
	jv last = n > 0 ? jv_array_get(jv_copy(m->msgs), n - 1) : jv_null();
	char at[SL_TIME_BUFSZ];
	int64_t now = sl_now();
	jv rec, p;

	p = JV_ARRAY(jv_string(m->key), jv_copy(last), meta(m),
	    num(m->degraded != 0), num(now));
	if (m->from_chat)
		p = jv_array_append(p, jv_string(m->chat));
	exec(x, m->from_chat ? SQL_SENT_MOVED : SQL_SENT, p);
	if (m->prospect > 0)
		exec(x, SQL_LAST_OUT, JV_ARRAY(num(m->prospect), num(now)));
	rec = record("message.sent", jv_copy(m->base), m->key, m->chat,
	    m->prospect);
	rec = sl_set(sl_set(rec, "msg", last), "msgs", jv_copy(m->msgs));
	rec = sl_set(rec, "parts", num((int64_t)m->nparts));
	if (sl_time_fmt(now, at))
		rec = sl_set(rec, "at", jv_string(at));
	if (m->from_chat)
		rec = sl_set(rec, "moved_from", jv_string(m->from_chat));
	sl_info("sent '%s' (%d part%s) to chat %s", m->key, n,
	    n == 1 ? "" : "s", m->chat);
	emit(x, rec);
	finish(x, c);
}

/*
 * Gives up on c for now after temporary failures: its messages go back
 * to the ledger, unclaimed, for a later run.  err is the head's.
 */
static void
give_up(struct outbox *x, struct sl_sendq_chat *c, struct note *n, jv err)
{
	struct sl_out *m;
	jv row;

	n->held_until = sl_mono_ms() + HOLD_MS;
	sl_warn("chat %s: giving up for now: %s",
	    ((struct sl_out *)sl_sendq_head(c))->chat, col(err, "message"));
	while ((m = sl_sendq_head(c)) && !x->fatal) {
		if (m->state == CHECK) {
			row = query1(x, SQL_GET, JV_ARRAY(jv_string(m->key)));
			if (jv_get_kind(row) == JV_KIND_OBJECT)
				emit_stored(x, row, jv_copy(m->base));
			jv_free(row);
		} else {
			x->deferred++;
			end_msg(x, m, "queued", jv_is_valid(err) ? err :
			    failure("deferred", "an earlier message to this "
			    "chat could not be sent yet", 1));
			err = jv_invalid();
		}
		finish(x, c);
	}
	jv_free(err);
}

/* The chat of m moved to r->moved_to (and the channel sent it there). */
static void
moved(struct outbox *x, struct note *n, struct sl_out *m, const char *to)
{
	sl_warn("chat %s moved to %s; sending there", m->chat, to);
	if (m->prospect > 0)
		exec(x, SQL_MOVE, JV_ARRAY(num(m->prospect), jv_string(to),
		    num(sl_now())));
	free(n->moved_to);
	n->moved_to = sl_strdup(to);
	if (!m->from_chat)
		m->from_chat = m->chat;
	else
		free(m->chat);
	m->chat = sl_strdup(to);
}

/* What to do after a send that did not go through (at now). */
static void
failed(struct outbox *x, struct sl_sendq_chat *c, struct note *n,
    struct sl_out *m, const struct sl_send_result *r, int64_t now)
{
	switch (r->outcome) {
	case SL_SEND_UNCERTAIN:
		x->uncertain++;
		sl_warn("'%s' may or may not have been delivered: %s", m->key,
		    r->message);
		n->pace = now + x->o->chat_interval_ms;
		end_msg(x, m, "uncertain", failure("uncertain", r->message, 0));
		finish(x, c);
		return;
	case SL_SEND_FATAL:
		requeue(x, m, failure(r->code, r->message, 1));
		x->fatal = r->status ? r->status : SL_EX_UNAVAILABLE;
		snprintf(x->code, sizeof x->code, "%s", r->code);
		snprintf(x->why, sizeof x->why, "%s", r->message);
		x->fatal_code = x->code;
		return;
	case SL_SEND_RETRY:
		requeue(x, m, failure(r->code, r->message, 1));
		m->state = SEND;
		m->checked = 0;
		if (r->retry_after_ms >= 0) {
			if (++m->waits <= MAX_WAITS &&
			    r->retry_after_ms <= MAX_RETRY_AFTER_MS) {
				sl_info("chat %s: waiting %ld ms (%s)", m->chat,
				    r->retry_after_ms, r->code);
				sl_sendq_defer(x->q, c, now +
				    r->retry_after_ms);
				return;
			}
		} else if (++m->tries < MAX_TRIES) {
			sl_sendq_defer(x->q, c, now +
			    sl_http_backoff_ms(m->tries + 1));
			return;
		}
		give_up(x, c, n, failure(r->code, r->message, 1));
		return;
	default:
		if (r->unreachable && m->prospect > 0)
			exec(x, SQL_UNREACHABLE, JV_ARRAY(num(m->prospect),
			    num(sl_now())));
		end_msg(x, m, "failed", failure(r->code, r->message, 0));
		finish(x, c);
	}
}

/* Sends the next part of m, the head of c. */
static void
send_part(struct outbox *x, struct sl_sendq_chat *c, struct note *n,
    struct sl_out *m)
{
	struct sl_send_result r;
	size_t k = (size_t)jv_array_length(jv_copy(m->msgs));
	int64_t t;
	long st;

	st = exec(x, SQL_SENDING, JV_ARRAY(jv_string(m->key),
	    jv_string(x->me), num(lease()), num(sl_now())));
	if (st < 0)
		return;
	if (st == 0) {
		sl_warn("'%s' was taken over by another sender", m->key);
		emit(x, sl_set(record("message.failed", jv_copy(m->base),
		    m->key, m->chat, m->prospect), "error", failure("busy",
		    "another sender took this key over", 1)));
		finish(x, c);
		return;
	}
	tx_end(x);	/* 'sending' is in the ledger before the send */
	if (x->fatal)
		return;
	memset(&r, 0, sizeof r);
	r.id = jv_null();
	r.retry_after_ms = -1;
	t = sl_mono_ms();
	if (x->o->rate > 0)
		x->global_next = t + (int64_t)(1000.0 / x->o->rate);
	x->ops->send(x->cb, m, k, &r);
	t = sl_mono_ms();
	if (r.moved_to[0])
		moved(x, n, m, r.moved_to);
	if (r.outcome != SL_SEND_OK) {
		jv_free(r.id);
		failed(x, c, n, m, &r, t);
		return;
	}
	m->msgs = jv_array_append(m->msgs, r.id);
	n->pace = t + x->o->chat_interval_ms;
	m->tries = m->waits = 0;
	if (k + 1 < m->nparts) {
		requeue(x, m, jv_null());
		m->state = NEW;
		m->due = 0;
		sl_sendq_defer(x->q, c, t);
		return;
	}
	sent(x, c, m);
}

/* A key repeated in this run: report the first one's outcome. */
static void
check_repeat(struct outbox *x, struct sl_sendq_chat *c, struct sl_out *m,
    int64_t now)
{
	jv row = query1(x, SQL_GET, JV_ARRAY(jv_string(m->key)));
	const char *st = col(row, "status"), *by = col(row, "claimed_by");

	if (st && (strcmp(st, "queued") == 0 || strcmp(st, "sending") == 0) &&
	    by && strcmp(by, x->me) == 0) {
		sl_sendq_defer(x->q, c, now + CHECK_MS);
	} else {
		if (jv_get_kind(row) == JV_KIND_OBJECT)
			emit_stored(x, row, jv_copy(m->base));
		finish(x, c);
	}
	jv_free(row);
}

/* Moves the head of c on: wait, check, type, send. */
static void
step(struct outbox *x, struct sl_sendq_chat *c, int64_t now)
{
	struct sl_out *m = sl_sendq_head(c);
	struct note *n = note_for(x, c);
	size_t k = (size_t)jv_array_length(jv_copy(m->msgs));
	int64_t at;

	if (m->state == CHECK) {
		check_repeat(x, c, m, now);
		return;
	}
	if (m->state == NEW) {
		if (now < m->due) {
			sl_sendq_defer(x->q, c, m->due);
			return;
		}
		if (n->moved_to && !m->from_chat) {
			m->from_chat = m->chat;
			m->chat = sl_strdup(n->moved_to);
		}
		if (!still_wanted(x, c, m) || !older_done(x, c, m, now))
			return;
		if (k >= m->nparts) {
			sent(x, c, m);
			return;
		}
		m->checked = 1;
		m->state = SEND;
		if (!x->o->no_delay) {
			m->typing_end = now + x->ops->delay(x->cb, m, k);
			m->next_action = now;
			m->state = TYPING;
		}
	}
	if (m->state == TYPING) {
		if (now < m->typing_end) {
			if (now >= m->next_action) {
				tx_end(x);
				if (x->fatal)
					return;
				x->ops->action(x->cb, m);
				m->next_action = now + (x->o->action_ms > 0 ?
				    x->o->action_ms : 4000);
			}
			sl_sendq_defer(x->q, c, m->next_action < m->typing_end ?
			    m->next_action : m->typing_end);
			return;
		}
		m->state = SEND;
		m->checked = 0;
	}
	at = x->o->rate > 0 && x->global_next > n->pace ? x->global_next :
	    n->pace;
	if (now < at) {
		sl_sendq_defer(x->q, c, at);
		return;
	}
	if (!m->checked && !still_wanted(x, c, m))
		return;
	m->checked = 0;
	send_part(x, c, n, m);
}

/* One read(2) of stdin; its complete lines join the open transaction. */
static void
read_input(struct outbox *x, struct input *in)
{
	size_t start = 0, scan = in->len, end;
	ssize_t n;
	char *nl;

	if (in->cap - in->len < CHUNK) {
		in->cap = in->cap * 2 > in->len + CHUNK ? in->cap * 2 :
		    in->len + CHUNK;
		in->buf = sl_realloc(in->buf, in->cap);
	}
	n = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		sl_error("error reading stdin: %s", strerror(errno));
		x->fatal = SL_EX_IOERR;
		x->fatal_code = "input";
		return;
	}
	in->eof = n == 0;
	in->len += (size_t)n;
	while (!x->fatal && ((nl = memchr(in->buf + scan, '\n',
	    in->len - scan)) || (in->eof && start < in->len))) {
		end = nl ? (size_t)(nl - in->buf) : in->len;
		in->lineno++;
		if (in->skipping || end - start > SL_LINE_MAX) {
			x->rejected++;
			sl_error("stdin:%lu: line too long (more than %d "
			    "bytes)", in->lineno, SL_LINE_MAX);
		} else {
			handle_line(x, in->buf + start, end - start,
			    in->lineno);
		}
		in->skipping = 0;
		start = scan = nl ? end + 1 : in->len;
	}
	memmove(in->buf, in->buf + start, in->len - start);
	in->len -= start;
	if (in->len > SL_LINE_MAX) {
		in->skipping = 1;
		in->len = 0;
	}
}

/* Takes up the ledger's unfinished messages (--pending). */
static void
load_pending(struct outbox *x)
{
	jv rows = query(x, SQL_PENDING, JV_ARRAY(jv_string(x->ops->channel),
	    jv_string(x->o->bot), num(x->o->resend_uncertain != 0))), row;
	int i, len = jv_array_length(jv_copy(rows));

	tx_begin(x);
	for (i = 0; i < len && !x->fatal; i++) {
		row = jv_array_get(jv_copy(rows), i);
		if (claim_free(row))
			take_row(x, row, jv_null(), 0);
		jv_free(row);
	}
	tx_end(x);
	jv_free(rows);
}

static void
loop(struct outbox *x)
{
	struct input in = { NULL, 0, 0, 0, 0, 0 };
	struct sl_sendq_chat *c;
	struct pollfd pfd;
	int64_t now, next, timeout;
	int r;

	x->heartbeat = sl_mono_ms() + HEARTBEAT_MS;
	while (!x->fatal && !stopping) {
		now = sl_mono_ms();
		if (x->in_tx && now - x->tx_at >= SETTLE_MS)
			tx_end(x);
		if (now >= x->heartbeat) {
			exec(x, SQL_RENEW, JV_ARRAY(jv_string(x->me),
			    num(lease())));
			x->heartbeat = now + HEARTBEAT_MS;
		}
		if ((c = sl_sendq_due(x->q, now))) {
			step(x, c, now);
			continue;
		}
		if (in.eof && sl_sendq_len(x->q) == 0)
			break;
		next = sl_sendq_next(x->q);
		timeout = x->heartbeat - now;
		if (next >= 0 && next - now < timeout)
			timeout = next - now;
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (x->in_tx) {
			/* input already there joins the open transaction */
			r = in.eof ? 0 : poll(&pfd, 1, 0);
			if (r > 0) {
				read_input(x, &in);
				continue;
			}
			tx_end(x);
			if (x->fatal)
				break;
			pfd.revents = 0;
		}
		r = poll(&pfd, in.eof ? 0 : 1, (int)timeout);
		if (r < 0 && errno != EINTR) {
			sl_error("poll: %s", strerror(errno));
			x->fatal = SL_EX_OSERR;
			x->fatal_code = "poll";
		} else if (r > 0) {
			read_input(x, &in);
		}
	}
	free(in.buf);
}

/* After a fatal error or a stop: report what is left, release it. */
static void
drain(struct outbox *x)
{
	struct sl_sendq_chat *c;
	struct sl_out *m;
	const char *code = x->fatal_code ? x->fatal_code : "stopped";
	char *why = sl_asprintf("not sent (%s); it stays queued in the "
	    "ledger", x->why[0] ? x->why : "the sender stopped");

	while ((c = sl_sendq_due(x->q, INT64_MAX))) {
		m = sl_sendq_head(c);
		if (m->state != CHECK)
			emit(x, sl_set(record("message.failed",
			    jv_copy(m->base), m->key, m->chat, m->prospect),
			    "error", failure(code, why, 1)));
		out_free(m);
		sl_sendq_pop(x->q, c, 0);
	}
	free(why);
	if (strcmp(code, "ledger") != 0 &&
	    sl_db_exec(x->db, SQL_RELEASE, JV_ARRAY(jv_string(x->me))) < 0)
		sl_error("%s", sl_db_error(x->db));
}

int
sl_outbox_run(struct sl_db *db, const struct sl_outbox_ops *ops, void *cb,
    const struct sl_outbox_opts *opts)
{
	struct outbox x;
	struct note *n, *next;
	char host[128];
	int st;

	memset(&x, 0, sizeof x);
	x.db = db;
	x.ops = ops;
	x.cb = cb;
	x.o = opts;
	x.q = sl_sendq_new();
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(x.me, sizeof x.me, "%s:%ld:%llx", host, (long)getpid(),
	    (unsigned long long)sl_mono_ms() ^ (unsigned long long)time(NULL));
	x.held = jv_array();
	if (opts->pending)
		load_pending(&x);
	loop(&x);
	tx_end(&x);
	if (sl_sendq_len(x.q) > 0)
		drain(&x);
	if (x.uncertain)
		sl_warn("%lu message%s may or may not have been delivered "
		    "(left 'uncertain', not resent)", x.uncertain,
		    x.uncertain == 1 ? "" : "s");
	if (sl_out_status())
		st = SL_EX_IOERR;
	else if (x.fatal)
		st = x.fatal;
	else if (stopping || x.deferred)
		st = SL_EX_TEMPFAIL;
	else
		st = x.rejected ? SL_EX_REJECT : SL_EX_OK;
	sl_sendq_free(x.q, out_free);
	jv_free(x.held);
	for (n = x.notes; n; n = next) {
		next = n->next;
		free(n->moved_to);
		free(n);
	}
	return st;
}
