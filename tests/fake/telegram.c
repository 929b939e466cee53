/*
 * telegram.c: the Telegram Bot API in fake-api.
 *
 * Calls are /bot<TOKEN>/<method>, GET or POST, with parameters in the
 * query, a form or a JSON body (fake_params merges them); method names are
 * case-insensitive.  A token is accepted when it is one given with -t, or,
 * when no -t was given, when it is well formed (digits:[A-Za-z0-9_-]{20,}).
 * Otherwise 401 Unauthorized, as Telegram does.  Unknown methods get 404.
 * Answers use Telegram's envelope: {"ok":true,"result":...} or
 * {"ok":false,"error_code":N,"description":"...","parameters":{...}?}
 * with the HTTP status equal to error_code.
 *
 * Each token has its own bot (struct tg_bot, telegram.h): the bot's id is
 * the token's digits (the token 123456789:... of the older tests is the
 * fixture bot 7000000001); the first -t token (without -t: the first bot
 * used) and 7000000001 are acme_sales_bot "Acme Sales", the others
 * acme_sales_<id>_bot.
 *
 * Updates come from tests (POST /_fake/telegram/updates, or the generator)
 * and wait in the bot's queue until they are confirmed, exactly as in
 * Telegram (reference: shared/reference/telegram.md section 1): getUpdates
 * with offset N forgets every update below N for ever; a negative offset
 * -N forgets all but the newest N; no offset returns the earliest
 * unconfirmed again.  limit 1-100 (default 100); timeout clamped to
 * 0..50 s, a long poll that returns as soon as an update arrives.  A
 * second getUpdates for a bot while one waits ends the older with 409; a
 * webhook makes getUpdates 409 and setWebhook ends a waiting poll with 409.
 * allowed_updates is kept per bot (omitted: as before; an empty list: all
 * but chat_member, message_reaction, message_reaction_count) and, as in
 * Telegram's server, it decides whether an update is queued at all when
 * it arrives: updates of a kind not allowed are dropped then, and a change
 * does not touch updates already queued.  Unknown kinds always pass.
 *
 * Webhooks (setWebhook, deleteWebhook, getWebhookInfo and the delivery
 * thread) are in telegram_hook.c.
 *
 * Sending (sendMessage and friends) is in telegram_send.c, parse modes in
 * telegram_markup.c, the control endpoints (tests/fake/README) and the
 * generator in telegram_ctl.c; telegram.h has what they share.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"
#include "telegram.h"

#define TG_FIXTURE_BOT 7000000001LL
#define TG_LEGACY_TOKEN_ID 123456789LL
#define TG_FIRST_UPDATE_ID 914200001LL
#define TG_POLL_MAX_S 50

struct tg_method {
	const char *name;
	void (*fn)(struct tg_call *call, struct fake_resp *resp);
};

long tg_flood_per_sec, tg_flood_retry_after;

char **tg_tokens;
size_t tg_ntokens;
struct tg_bot *tg_bots;
struct tg_worker *tg_workers;
static unsigned long epoch;	/* bumped by each reset */

/* The update types of the Bot API, for allowed_updates. */
static const char *const update_types[] = {
	"message", "edited_message", "channel_post", "edited_channel_post",
	"business_connection", "business_message", "edited_business_message",
	"deleted_business_messages", "message_reaction",
	"message_reaction_count", "inline_query", "chosen_inline_result",
	"callback_query", "shipping_query", "pre_checkout_query",
	"purchased_paid_media", "poll", "poll_answer", "my_chat_member",
	"chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
	NULL
};

/*
 * Small helpers shared by the module's files.
 */

void
tg_buf_add(struct tg_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = sl_realloc(b->s, b->cap);
	}
	if (n)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
tg_buf_str(struct tg_buf *b, const char *s)
{
	tg_buf_add(b, s, strlen(s));
}

void
tg_buf_line(struct tg_buf *b, jv v)
{
	size_t n;
	char *s = sl_json_dump(v, &n);

	tg_buf_add(b, s, n);
	tg_buf_add(b, "\n", 1);
	free(s);
}

void
tg_buf_free(struct tg_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

void
tg_ok(struct fake_resp *resp, jv result)
{
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "result", result));
}

void
tg_error(struct fake_resp *resp, int code, const char *description,
    jv params)
{
	jv e = sl_set(sl_set(sl_set(jv_object(), "ok", jv_false()),
	    "error_code", jv_number(code)), "description",
	    jv_string(description));

	if (jv_get_kind(params) == JV_KIND_OBJECT)
		e = sl_set(e, "parameters", params);
	else
		jv_free(params);
	fake_reply_json(resp, code, e);
}

/* A control endpoint's error: {"ok":false,"error":...}. */
void
tg_ctl_error(struct fake_resp *resp, int status, const char *msg)
{
	fake_reply_json(resp, status, sl_set(sl_set(jv_object(), "ok",
	    jv_false()), "error", jv_string(msg)));
}

int
tg_param_int(jv params, const char *key, long long *out)
{
	int64_t v;
	int r = sl_get_int(params, key, &v);

	if (r == 1)
		*out = (long long)v;
	return r;
}

int
tg_param_str(jv params, const char *key, const char **out)
{
	static char num[64];
	jv v;
	int r = sl_get_str(params, key, out);
	double d;

	if (r >= 0)
		return r;
	if (sl_get_num(params, key, &d) != 1)
		return -1;
	v = jv_number(d);
	{
		char *s = sl_json_dump(v, NULL);

		snprintf(num, sizeof num, "%s", s);
		free(s);
	}
	jv_free(v);
	*out = num;
	return 1;
}

int
tg_param_bool(jv params, const char *key, int *out)
{
	const char *s;
	int r = sl_get_bool(params, key, out);

	if (r >= 0)
		return r;
	if (sl_get_str(params, key, &s) != 1)
		return -1;
	if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
		*out = 1;
		return 1;
	}
	if (!strcasecmp(s, "false") || !strcmp(s, "0") || !*s) {
		*out = 0;
		return 1;
	}
	return -1;
}

int
tg_param_json(jv params, const char *key, jv *out)
{
	const char *s;
	jv v;
	int r;

	if (jv_get_kind(params) != JV_KIND_OBJECT)
		return 0;
	v = jv_object_get(jv_copy(params), jv_string(key));
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(v);
		return 0;
	case JV_KIND_OBJECT:
	case JV_KIND_ARRAY:
		*out = v;
		return 1;
	case JV_KIND_STRING:
		s = jv_string_value(v);
		*out = sl_parse(s, strlen(s));
		jv_free(v);
		r = jv_get_kind(*out) == JV_KIND_OBJECT ||
		    jv_get_kind(*out) == JV_KIND_ARRAY;
		if (!r) {
			jv_free(*out);
			*out = jv_null();
			return -1;
		}
		return 1;
	default:
		jv_free(v);
		return -1;
	}
}

long long
tg_unix_now(void)
{
	return (long long)time(NULL);
}

/*
 * Tokens and bots.
 */

static int
well_formed(const char *t, size_t n)
{
	size_t i = 0, secret;

	while (i < n && t[i] >= '0' && t[i] <= '9')
		i++;
	if (i == 0 || i == n || t[i] != ':')
		return 0;
	for (secret = ++i; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-'))
			return 0;
	return n - secret >= 20;
}

int
tg_accepted(const char *t, size_t n)
{
	size_t i;

	if (tg_ntokens == 0)
		return well_formed(t, n);
	for (i = 0; i < tg_ntokens; i++)
		if (strlen(tg_tokens[i]) == n &&
		    memcmp(tg_tokens[i], t, n) == 0)
			return 1;
	return 0;
}

static unsigned long
default_allowed(void)
{
	unsigned long m = 0;
	size_t i;

	for (i = 0; update_types[i]; i++)
		if (strcmp(update_types[i], "chat_member") != 0 &&
		    strcmp(update_types[i], "message_reaction") != 0 &&
		    strcmp(update_types[i], "message_reaction_count") != 0)
			m |= 1UL << i;
	return m;
}

struct tg_bot *
tg_bot_find(const char *t, size_t n)
{
	struct tg_bot *b;

	for (b = tg_bots; b; b = b->next)
		if (strlen(b->token) == n && memcmp(b->token, t, n) == 0)
			return b;
	return NULL;
}

/* The bot of an accepted token, created on first use. */
struct tg_bot *
tg_bot_for(const char *t, size_t n)
{
	struct tg_bot *b, **tail;
	int first;

	if ((b = tg_bot_find(t, n)))
		return b;
	b = sl_calloc(1, sizeof *b);
	b->token = sl_strndup(t, n);
	b->id = strtoll(b->token, NULL, 10);
	if (b->id == TG_LEGACY_TOKEN_ID)
		b->id = TG_FIXTURE_BOT;
	first = tg_ntokens ? strcmp(tg_tokens[0], b->token) == 0 :
	    tg_bots == NULL;
	if (first || b->id == TG_FIXTURE_BOT) {
		b->first_name = sl_strdup("Acme Sales");
		b->username = sl_strdup("acme_sales_bot");
	} else {
		b->first_name = sl_asprintf("Acme Sales %lld", b->id);
		b->username = sl_asprintf("acme_sales_%lld_bot", b->id);
	}
	b->next_update_id = TG_FIRST_UPDATE_ID;
	b->allowed = default_allowed();
	b->allowed_list = jv_null();
	for (tail = &tg_bots; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	return b;
}

jv
tg_bot_user(const struct tg_bot *b)
{
	jv u = jv_object();

	u = sl_set(u, "id", jv_number((double)b->id));
	u = sl_set(u, "is_bot", jv_true());
	u = sl_set(u, "first_name", jv_string(b->first_name));
	u = sl_set(u, "username", jv_string(b->username));
	return u;
}

static void
bot_free(struct tg_bot *b)
{
	struct tg_chat *c, *cn;
	struct tg_conn *k, *kn;
	struct tg_file *f, *fn;
	struct tg_cbq *q, *qn;
	size_t i;

	for (i = b->qhead; i < b->qlen; i++) {
		free(b->q[i].kind);
		free(b->q[i].json);
	}
	free(b->q);
	tg_buf_free(&b->all);
	jv_free(b->allowed_list);
	for (c = b->chats; c; c = cn) {
		cn = c->next;
		tg_chat_free(c);
	}
	for (k = b->conns; k; k = kn) {
		kn = k->next;
		free(k->id);
		jv_free(k->obj);
		free(k);
	}
	for (f = b->files; f; f = fn) {
		fn = f->next;
		free(f->id);
		free(f->unique);
		free(f->path);
		free(f);
	}
	for (q = b->cbqs; q; q = qn) {
		qn = q->next;
		free(q->id);
		free(q);
	}
	free(b->hook_url);
	free(b->hook_secret);
	free(b->hook_err_msg);
	tg_buf_free(&b->sent);
	tg_buf_free(&b->actions);
	tg_buf_free(&b->callbacks);
	tg_buf_free(&b->edits);
	free(b->token);
	free(b->first_name);
	free(b->username);
	free(b);
}

/*
 * The queue of updates.
 */

static int
type_index(const char *kind)
{
	int i;

	for (i = 0; update_types[i]; i++)
		if (strcmp(update_types[i], kind) == 0)
			return i;
	return -1;
}

/* allowed_updates as given (consumed): a list; empty = the default. */
void
tg_set_allowed(struct tg_bot *b, jv list)
{
	unsigned long m = 0;
	int i, n, t;
	jv e;

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(list), i);
		if (jv_get_kind(e) == JV_KIND_STRING &&
		    (t = type_index(jv_string_value(e))) >= 0)
			m |= 1UL << t;
		jv_free(e);
	}
	b->allowed = n == 0 ? default_allowed() : m;
	jv_free(b->allowed_list);
	b->allowed_list = fake_own(list);
}

size_t
tg_queued(const struct tg_bot *b)
{
	return b->qlen - b->qhead;
}

/* Takes kind and json. */
static void
enqueue(struct tg_bot *b, long long id, char *kind, char *json)
{
	size_t at;

	if (b->qhead > 0 && (b->qlen == b->qcap || b->qhead > b->qlen / 2)) {
		memmove(b->q, b->q + b->qhead, tg_queued(b) * sizeof *b->q);
		b->qlen -= b->qhead;
		b->qhead = 0;
	}
	if (b->qlen == b->qcap) {
		b->qcap = b->qcap ? b->qcap * 2 : 64;
		b->q = sl_realloc(b->q, b->qcap * sizeof *b->q);
	}
	/* Ordered by id; almost always at the end. */
	for (at = b->qlen; at > b->qhead && b->q[at - 1].id > id; at--)
		;
	memmove(b->q + at + 1, b->q + at, (b->qlen - at) * sizeof *b->q);
	b->q[at].id = id;
	b->q[at].kind = kind;
	b->q[at].json = json;
	b->qlen++;
}

static void
drop_front(struct tg_bot *b)
{
	free(b->q[b->qhead].kind);
	free(b->q[b->qhead].json);
	b->qhead++;
}

void
tg_drop_all(struct tg_bot *b)
{
	while (tg_queued(b))
		drop_front(b);
}

/* getUpdates' offset: confirms what is below it, or keeps the last -N. */
static void
confirm(struct tg_bot *b, long long offset)
{
	if (offset > 0) {
		while (tg_queued(b) && b->q[b->qhead].id < offset)
			drop_front(b);
		if (offset > b->confirmed_below)
			b->confirmed_below = offset;
	} else if (offset < 0) {
		while ((long long)tg_queued(b) > -offset)
			drop_front(b);
		if (tg_queued(b) && b->q[b->qhead].id > b->confirmed_below)
			b->confirmed_below = b->q[b->qhead].id;
	}
}

/*
 * Filling in an injected update.
 */

static const char *
bc_of(jv msg)
{
	const char *bc;

	return sl_get_str(msg, "business_connection_id", &bc) == 1 ? bc : NULL;
}

static void
file_add(struct tg_bot *b, jv f, const char *dir, const char *ext)
{
	struct tg_file *x;
	const char *id, *uid, *name, *dot;
	long long size;

	if (sl_get_str(f, "file_id", &id) != 1)
		return;
	for (x = b->files; x; x = x->next)
		if (strcmp(x->id, id) == 0)
			return;
	x = sl_calloc(1, sizeof *x);
	x->id = sl_strdup(id);
	if (sl_get_str(f, "file_unique_id", &uid) == 1)
		x->unique = sl_strdup(uid);
	else
		x->unique = sl_asprintf("AgAD%lu", b->nfiles + 1);
	x->size = tg_param_int(f, "file_size", &size) == 1 && size >= 0 ?
	    size : 4096;
	if (sl_get_str(f, "file_name", &name) == 1 &&
	    (dot = strrchr(name, '.')) && strlen(dot) < 10 &&
	    !strchr(dot, '/'))
		ext = dot;
	x->path = sl_asprintf("%s/file_%lu%s", dir, b->nfiles++, ext);
	x->next = b->files;
	b->files = x;
}

/* Remembers the file_ids of a message, so getFile knows them. */
static void
files_of(struct tg_bot *b, jv msg)
{
	static const char *const kinds[][3] = {
		{ "document", "documents", ".bin" },
		{ "voice", "voice", ".oga" },
		{ "video", "videos", ".mp4" },
		{ "audio", "music", ".mp3" },
		{ "sticker", "stickers", ".webp" },
		{ "animation", "animations", ".mp4" },
		{ "video_note", "video_notes", ".mp4" },
		{ NULL, NULL, NULL },
	};
	jv v;
	int i, n;

	if (sl_get_arr(msg, "photo", &v) == 1) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv p = jv_array_get(jv_copy(v), i);

			if (jv_get_kind(p) == JV_KIND_OBJECT)
				file_add(b, p, "photos", ".jpg");
			jv_free(p);
		}
		jv_free(v);
	}
	for (i = 0; kinds[i][0]; i++)
		if (sl_get_obj(msg, kinds[i][0], &v) == 1) {
			file_add(b, v, kinds[i][1], kinds[i][2]);
			jv_free(v);
		}
}

/* obj with key first, as Telegram orders them; consumes obj and v. */
static jv
set_first(jv obj, const char *key, jv v)
{
	jv out = sl_set(jv_object(), key, v), k;
	int i;

	for (i = jv_object_iter(obj); jv_object_iter_valid(obj, i);
	    i = jv_object_iter_next(obj, i)) {
		k = jv_object_iter_key(obj, i);
		if (strcmp(jv_string_value(k), key) != 0)
			out = jv_object_set(out, k, jv_object_iter_value(obj,
			    i));
		else
			jv_free(k);
	}
	jv_free(obj);
	return out;
}

/* The chat of a Chat object (borrowed), registered as known. */
static struct tg_chat *
chat_seen(struct tg_bot *b, const char *bc, jv chat)
{
	struct tg_chat *c;
	long long id;

	if (jv_get_kind(chat) != JV_KIND_OBJECT ||
	    tg_param_int(chat, "id", &id) != 1)
		return NULL;
	c = tg_chat_get(b, bc, id);
	c->known = 1;
	jv_free(c->obj);
	c->obj = fake_own(jv_copy(chat));
	return c;
}

/* Fills date, message_id (and edit_date) of a message; consumes it. */
static jv
fill_message(struct tg_bot *b, jv msg, int edited)
{
	struct tg_chat *c;
	long long mid = 0, now = tg_unix_now();
	jv chat;
	int r;

	if (jv_get_kind(msg) != JV_KIND_OBJECT)
		return msg;
	if (!jv_object_has(jv_copy(msg), jv_string("date")))
		msg = sl_set(msg, "date", jv_number((double)now));
	if (edited && !jv_object_has(jv_copy(msg), jv_string("edit_date")))
		msg = sl_set(msg, "edit_date", jv_number((double)now));
	chat = jv_object_get(jv_copy(msg), jv_string("chat"));
	c = chat_seen(b, bc_of(msg), chat);
	jv_free(chat);
	if (c && (r = tg_param_int(msg, "message_id", &mid)) >= 0) {
		if (r == 0) {
			mid = edited && c->last_id ? c->last_id :
			    c->last_id + 1;
			msg = set_first(msg, "message_id",
			    jv_number((double)mid));
		}
		if (mid > c->last_id) {
			c->last_id = mid;
			tg_chat_add_msg(c, mid, NULL);
		} else if (!tg_chat_msg(c, mid)) {
			tg_chat_add_msg(c, mid, NULL);
		}
	}
	files_of(b, msg);
	return msg;
}

static jv
fill_callback(struct tg_bot *b, jv q)
{
	struct tg_cbq *x;
	const char *id;
	jv m;

	if (jv_get_kind(q) != JV_KIND_OBJECT)
		return q;
	if (sl_get_str(q, "id", &id) != 1) {
		char buf[32];

		snprintf(buf, sizeof buf, "38114479%011lu", ++b->ncbq);
		q = sl_set(q, "id", jv_string(buf));
	}
	if (!jv_object_has(jv_copy(q), jv_string("chat_instance")))
		q = sl_set(q, "chat_instance",
		    jv_string("-5512873690012345678"));
	if (sl_get_obj(q, "message", &m) == 1)
		q = sl_set(q, "message", fill_message(b, m, 0));
	sl_get_str(q, "id", &id);
	for (x = b->cbqs; x; x = x->next)
		if (strcmp(x->id, id) == 0)
			break;
	if (!x) {
		x = sl_calloc(1, sizeof *x);
		x->id = sl_strdup(id);
		x->next = b->cbqs;
		b->cbqs = x;
	}
	x->answered = 0;
	return q;
}

static jv
fill_connection(struct tg_bot *b, jv bc)
{
	struct tg_conn *k;
	const char *id;

	if (jv_get_kind(bc) != JV_KIND_OBJECT)
		return bc;
	if (!jv_object_has(jv_copy(bc), jv_string("date")))
		bc = sl_set(bc, "date", jv_number((double)tg_unix_now()));
	if (sl_get_str(bc, "id", &id) != 1)
		return bc;
	if (!(k = tg_conn_find(b, id))) {
		k = sl_calloc(1, sizeof *k);
		k->id = sl_strdup(id);
		k->obj = jv_null();
		k->next = b->conns;
		b->conns = k;
	}
	/* Telegram re-sends the connection on every change: overwrite. */
	jv_free(k->obj);
	k->obj = fake_own(jv_copy(bc));
	return bc;
}

/*
 * Queues update u (consumed) for bot b: assigns update_id when absent,
 * fills the payload, applies allowed_updates.  Returns 1 with the id in
 * *idp, 0 when allowed_updates dropped it, -1 when u is not an object.
 */
int
tg_inject(struct tg_bot *b, jv u, long long *idp)
{
	const char *kind = NULL;
	long long id;
	jv p, k;
	int i, t;
	char *json;

	if (jv_get_kind(u) != JV_KIND_OBJECT) {
		jv_free(u);
		return -1;
	}
	/* The kind: the first key that is not update_id. */
	k = jv_invalid();
	for (i = jv_object_iter(u); jv_object_iter_valid(u, i);
	    i = jv_object_iter_next(u, i)) {
		p = jv_object_iter_key(u, i);
		if (strcmp(jv_string_value(p), "update_id") != 0) {
			k = p;
			break;
		}
		jv_free(p);
	}
	if (!jv_is_valid(k)) {
		jv_free(k);
		k = jv_string("");
	}
	kind = jv_string_value(k);
	if ((t = type_index(kind)) >= 0 && !(b->allowed & (1UL << t))) {
		b->ndropped++;
		jv_free(k);
		jv_free(u);
		return 0;
	}
	if (tg_param_int(u, "update_id", &id) == 1) {
		if (id >= b->next_update_id)
			b->next_update_id = id + 1;
	} else {
		id = b->next_update_id++;
		u = set_first(u, "update_id", jv_number((double)id));
	}
	p = jv_object_get(jv_copy(u), jv_string(kind));
	if (!strcmp(kind, "message") || !strcmp(kind, "channel_post") ||
	    !strcmp(kind, "business_message"))
		p = fill_message(b, p, 0);
	else if (!strcmp(kind, "edited_message") ||
	    !strcmp(kind, "edited_channel_post") ||
	    !strcmp(kind, "edited_business_message"))
		p = fill_message(b, p, 1);
	else if (!strcmp(kind, "callback_query"))
		p = fill_callback(b, p);
	else if (!strcmp(kind, "business_connection"))
		p = fill_connection(b, p);
	else if (!strcmp(kind, "my_chat_member") ||
	    !strcmp(kind, "chat_member") ||
	    !strcmp(kind, "chat_join_request")) {
		jv chat = jv_object_get(jv_copy(p), jv_string("chat"));

		chat_seen(b, NULL, chat);
		jv_free(chat);
	}
	if (jv_is_valid(p) && *kind)
		u = sl_set(u, kind, p);
	else
		jv_free(p);
	json = sl_json_dump(u, NULL);
	tg_buf_str(&b->all, json);
	tg_buf_add(&b->all, "\n", 1);
	b->nall++;
	enqueue(b, id, sl_strdup(kind), json);
	jv_free(k);
	jv_free(u);
	*idp = id;
	fake_notify();
	return 1;
}

/*
 * getMe, getUpdates.
 */

static void
tg_getme(struct tg_call *call, struct fake_resp *resp)
{
	jv me = tg_bot_user(call->bot);

	me = sl_set(me, "can_join_groups", jv_true());
	me = sl_set(me, "can_read_all_group_messages", jv_false());
	me = sl_set(me, "supports_inline_queries", jv_false());
	me = sl_set(me, "can_connect_to_business", jv_true());
	me = sl_set(me, "has_main_web_app", jv_false());
	tg_ok(resp, me);
}

static void
reply_updates(struct tg_bot *b, long long limit, struct fake_resp *resp)
{
	struct tg_buf out = { 0 };
	size_t i;

	tg_buf_str(&out, "{\"ok\":true,\"result\":[");
	for (i = b->qhead; i < b->qlen && (long long)(i - b->qhead) < limit;
	    i++) {
		if (i > b->qhead)
			tg_buf_add(&out, ",", 1);
		tg_buf_str(&out, b->q[i].json);
	}
	tg_buf_str(&out, "]}");
	fake_reply(resp, 200, "application/json", out.s, out.len);
	tg_buf_free(&out);
}

static void
conflict_webhook(struct fake_resp *resp)
{
	tg_error(resp, 409, "Conflict: can't use getUpdates method while "
	    "webhook is active; use deleteWebhook to delete the webhook "
	    "first", jv_null());
}

static void
tg_get_updates(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	unsigned long my, ep = epoch;
	long long offset, limit = 100, timeout = 0, deadline, now;
	jv list;
	int r;

	if (b->hook_url) {
		conflict_webhook(resp);
		return;
	}
	if (tg_param_int(call->params, "limit", &limit) == 1) {
		if (limit < 1)
			limit = 1;
		if (limit > 100)
			limit = 100;
	} else {
		limit = 100;
	}
	if (tg_param_int(call->params, "timeout", &timeout) != 1 ||
	    timeout < 0)
		timeout = 0;
	if (timeout > TG_POLL_MAX_S)
		timeout = TG_POLL_MAX_S;
	if (tg_param_json(call->params, "allowed_updates", &list) == 1)
		tg_set_allowed(b, list);
	/* A new call ends the one waiting, which answers 409. */
	my = ++b->poll_gen;
	if (b->pollers)
		fake_notify();
	if (tg_param_int(call->params, "offset", &offset) == 1)
		confirm(b, offset);
	deadline = fake_now_ms() + timeout * 1000;
	while (!tg_queued(b) && (now = fake_now_ms()) < deadline) {
		b->pollers++;
		r = fake_wait((long)(deadline - now));
		if (epoch != ep) {	/* a reset forgot the bot */
			tg_ok(resp, jv_array());
			return;
		}
		b->pollers--;
		if (r < 0)
			break;
		if (b->poll_gen != my) {
			if (b->hook_url)
				tg_error(resp, 409, "Conflict: terminated by "
				    "setWebhook request", jv_null());
			else
				tg_error(resp, 409, "Conflict: terminated by "
				    "other getUpdates request; make sure that "
				    "only one bot instance is running",
				    jv_null());
			return;
		}
	}
	reply_updates(b, limit, resp);
}

/*
 * Workers: the webhook deliveries and the generators.  Each is a thread
 * that takes the state lock to look at its bot.  A reset orphans them
 * (they stop at their next look); finished ones are joined by
 * reap_workers, all of them by tg_cleanup.
 */

static void
reap_workers(void)
{
	struct tg_worker **pp = &tg_workers, *w;

	while ((w = *pp)) {
		if (w->exited) {
			*pp = w->next;
			pthread_join(w->thr, NULL);
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

struct tg_worker *
tg_worker_start(struct tg_bot *b, enum tg_worker_kind kind,
    void *(*fn)(void *), struct tg_worker *w)
{
	int e;

	reap_workers();
	if (!w)
		w = sl_calloc(1, sizeof *w);
	w->kind = kind;
	w->bot = b;
	atomic_init(&w->stop, 0);
	if ((e = pthread_create(&w->thr, NULL, fn, w)) != 0) {
		sl_warn("cannot start a thread: %s", strerror(e));
		free(w);
		return NULL;
	}
	w->next = tg_workers;
	tg_workers = w;
	return w;
}

static const struct tg_method methods[] = {
	{ "getMe", tg_getme },
	{ "getUpdates", tg_get_updates },
	{ "setWebhook", tg_set_webhook },
	{ "deleteWebhook", tg_delete_webhook },
	{ "getWebhookInfo", tg_get_webhook_info },
	{ "sendMessage", tg_send_message },
	{ "editMessageText", tg_edit_message_text },
	{ "sendChatAction", tg_send_chat_action },
	{ "answerCallbackQuery", tg_answer_callback_query },
	{ "getFile", tg_get_file },
	{ "getBusinessConnection", tg_get_business_connection },
	{ NULL, NULL },
};

static int
tg_handle(const struct fake_req *req, struct fake_resp *resp)
{
	const struct tg_method *m;
	struct tg_call call;
	const char *token, *slash;
	struct tg_bot *b;

	if (strncmp(req->path, "/_fake/telegram/", 16) == 0) {
		tg_control(req, resp);
		return 1;
	}
	if (strncmp(req->path, "/file/bot", 9) == 0) {
		token = req->path + 9;
		if (!(slash = strchr(token, '/')) ||
		    !tg_accepted(token, (size_t)(slash - token)) ||
		    !(b = tg_bot_find(token, (size_t)(slash - token)))) {
			tg_error(resp, 404, "Not Found", jv_null());
			return 1;
		}
		tg_download(b, slash + 1, resp);
		return 1;
	}
	if (strncmp(req->path, "/bot", 4) != 0)
		return 0;
	token = req->path + 4;
	if (!(slash = strchr(token, '/'))) {
		tg_error(resp, 404, "Not Found", jv_null());
		return 1;
	}
	if (!tg_accepted(token, (size_t)(slash - token))) {
		tg_error(resp, 401, "Unauthorized", jv_null());
		return 1;
	}
	for (m = methods; m->name; m++)
		if (strcasecmp(m->name, slash + 1) == 0)
			break;
	if (!m->name) {
		tg_error(resp, 404, "Not Found", jv_null());
		return 1;
	}
	call.req = req;
	call.bot = tg_bot_for(token, (size_t)(slash - token));
	call.method = m->name;
	call.params = fake_params(req);
	m->fn(&call, resp);
	jv_free(call.params);
	return 1;
}

static int
tg_option(int c, const char *arg)
{
	(void)c;
	if (!*arg) {
		sl_error("-t: empty token");
		return -1;
	}
	tg_tokens = sl_realloc(tg_tokens, (tg_ntokens + 1) * sizeof *tg_tokens);
	tg_tokens[tg_ntokens++] = sl_strdup(arg);
	return 0;
}

/* Under the lock (POST /_fake/reset). */
static void
tg_reset(void)
{
	struct tg_bot *b, *next;
	struct tg_worker *w;

	for (w = tg_workers; w; w = w->next) {
		atomic_store(&w->stop, 1);
		w->orphan = 1;
		w->bot = NULL;
	}
	reap_workers();
	for (b = tg_bots; b; b = next) {
		next = b->next;
		bot_free(b);
	}
	tg_bots = NULL;
	epoch++;
	tg_flood_per_sec = 0;
	tg_flood_retry_after = 0;
	fake_notify();
}

/* At exit, after the server stopped: not under the lock. */
static void
tg_cleanup(void)
{
	struct tg_worker *w, *next;
	size_t i;

	fake_lock();
	tg_reset();
	w = tg_workers;
	tg_workers = NULL;
	fake_unlock();
	for (; w; w = next) {
		next = w->next;
		pthread_join(w->thr, NULL);
		free(w);
	}
	tg_hook_cleanup();
	for (i = 0; i < tg_ntokens; i++)
		free(tg_tokens[i]);
	free(tg_tokens);
	tg_tokens = NULL;
	tg_ntokens = 0;
}

const struct fake_module fake_telegram = {
	"telegram",
	"t:",
	"[-t telegram-token]...",
	tg_option,
	tg_handle,
	tg_reset,
	tg_cleanup,
};
