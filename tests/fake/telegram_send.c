/*
 * telegram_send.c: what a bot does in fake-api's Telegram: sendMessage,
 * editMessageText, sendChatAction, answerCallbackQuery, getFile and the
 * file download, getBusinessConnection; and the chats, business
 * connections and files they need.
 *
 * A chat can be written to once Telegram showed it to the bot (an update
 * from it) or a test created it (POST /_fake/telegram/chat); otherwise
 * 400 "Bad Request: chat not found", as for a user who never wrote.  A
 * business chat is keyed by (connection, chat): a send with
 * business_connection_id needs a known, enabled connection that can
 * reply (the pre-9.0 "can_reply" or the 9.0 "rights.can_reply") and a
 * chat seen through it; an unknown connection is 400 "Bad Request:
 * business connection not found", the rest 400 "Bad Request:
 * BUSINESS_PEER_INVALID" (the reference knows no other text; the 24 h
 * window after the customer's last message is not enforced).
 *
 * The checks come in this order: connection, chat, can reply, migrated
 * group, text (empty, markup, too long: 4096 UTF-16 code units after the
 * markup), the message replied to, blocked or deactivated (403), flood
 * control (429 with Retry-After, when POST /_fake/telegram/flood set
 * it).  Flood: a chat that got more than per_chat_per_sec sends within a
 * second gets 429 with retry_after, and keeps getting it (with the
 * seconds left) until retry_after has passed, as Telegram punishes a
 * client that does not wait.
 *
 * Every accepted send is recorded for GET /_fake/telegram/sent; the bot's
 * own messages never come back as updates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"
#include "telegram.h"

#define TG_TEXT_MAX 4096
#define TG_DOWNLOAD_MAX (20LL << 20)

/*
 * Chats, connections.
 */

static int
same_bc(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

struct tg_chat *
tg_chat_find(struct tg_bot *b, const char *bc, long long id)
{
	struct tg_chat *c;

	for (c = b->chats; c; c = c->next)
		if (c->id == id && same_bc(c->bc, bc))
			return c;
	return NULL;
}

struct tg_chat *
tg_chat_get(struct tg_bot *b, const char *bc, long long id)
{
	struct tg_chat *c, *o;

	if ((c = tg_chat_find(b, bc, id)))
		return c;
	c = sl_calloc(1, sizeof *c);
	c->id = id;
	c->bc = bc ? sl_strdup(bc) : NULL;
	c->obj = jv_null();
	/* Blocked, deactivated: the person, in every chat with them. */
	for (o = b->chats; o; o = o->next)
		if (o->id == id) {
			c->blocked = o->blocked;
			c->deactivated = o->deactivated;
			c->migrate_to = o->migrate_to;
			break;
		}
	c->next = b->chats;
	b->chats = c;
	return c;
}

struct tg_msg *
tg_chat_add_msg(struct tg_chat *c, long long id, const char *text)
{
	struct tg_msg *m;

	if (c->nmsgs == c->capmsgs) {
		c->capmsgs = c->capmsgs ? c->capmsgs * 2 : 16;
		c->msgs = sl_realloc(c->msgs, c->capmsgs * sizeof *c->msgs);
	}
	m = &c->msgs[c->nmsgs++];
	m->id = id;
	m->date = tg_unix_now();
	m->text = text ? sl_strdup(text) : NULL;
	return m;
}

struct tg_msg *
tg_chat_msg(struct tg_chat *c, long long id)
{
	size_t i;

	for (i = c->nmsgs; i > 0; i--)
		if (c->msgs[i - 1].id == id)
			return &c->msgs[i - 1];
	return NULL;
}

void
tg_chat_free(struct tg_chat *c)
{
	size_t i;

	for (i = 0; i < c->nmsgs; i++)
		free(c->msgs[i].text);
	free(c->msgs);
	free(c->sends);
	free(c->bc);
	jv_free(c->obj);
	free(c);
}

struct tg_conn *
tg_conn_find(struct tg_bot *b, const char *id)
{
	struct tg_conn *k;

	for (k = b->conns; k; k = k->next)
		if (strcmp(k->id, id) == 0)
			return k;
	return NULL;
}

/* Enabled, and allowed to reply (7.2-8.3 can_reply, 9.0 rights)? */
static int
conn_can_reply(const struct tg_conn *k)
{
	jv rights;
	int v;

	if (sl_get_bool(k->obj, "is_enabled", &v) == 1 && !v)
		return 0;
	if (sl_get_bool(k->obj, "can_reply", &v) == 1 && v)
		return 1;
	if (sl_get_obj(k->obj, "rights", &rights) == 1) {
		v = sl_get_bool(rights, "can_reply", &v) == 1 && v;
		jv_free(rights);
		return v;
	}
	return 0;
}

static jv
chat_obj(const struct tg_chat *c)
{
	if (jv_get_kind(c->obj) == JV_KIND_OBJECT)
		return jv_copy(c->obj);
	return sl_set(sl_set(jv_object(), "id", jv_number((double)c->id)),
	    "type", jv_string(c->id < 0 ? "group" : "private"));
}

static void
bad_request(struct fake_resp *resp, const char *what)
{
	char d[512];

	snprintf(d, sizeof d, "Bad Request: %s", what);
	tg_error(resp, 400, d, jv_null());
}

/*
 * The business connection of a call: 0 when there is none, 1 with it in
 * *kp, -1 after answering 400.
 */
static int
business_of(struct tg_call *call, struct tg_conn **kp,
    struct fake_resp *resp)
{
	const char *id;

	*kp = NULL;
	if (tg_param_str(call->params, "business_connection_id", &id) != 1 ||
	    !*id)
		return 0;
	if (!(*kp = tg_conn_find(call->bot, id))) {
		bad_request(resp, "business connection not found");
		return -1;
	}
	return 1;
}

/*
 * The chat a call is for (chat_id: a number, digits, or @username), known
 * to the bot, through connection k when not NULL; NULL after answering.
 */
static struct tg_chat *
chat_of(struct tg_call *call, struct tg_conn *k, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	struct tg_chat *c = NULL;
	const char *s, *u;
	long long id;
	int r;

	if ((r = tg_param_int(call->params, "chat_id", &id)) == 1) {
		c = tg_chat_find(b, k ? k->id : NULL, id);
	} else if (r == 0) {
		bad_request(resp, "chat_id is empty");
		return NULL;
	} else if (tg_param_str(call->params, "chat_id", &s) == 1 &&
	    s[0] == '@') {
		for (c = b->chats; c; c = c->next)
			if (same_bc(c->bc, k ? k->id : NULL) && c->known &&
			    sl_get_str(c->obj, "username", &u) == 1 &&
			    strcasecmp(u, s + 1) == 0)
				break;
	}
	if (!c || !c->known) {
		bad_request(resp, k ? "BUSINESS_PEER_INVALID" :
		    "chat not found");
		return NULL;
	}
	if (k && !conn_can_reply(k)) {
		bad_request(resp, "BUSINESS_PEER_INVALID");
		return NULL;
	}
	if (c->migrate_to) {
		tg_error(resp, 400, "Bad Request: group chat was upgraded to a "
		    "supergroup chat", sl_set(jv_object(),
		    "migrate_to_chat_id", jv_number((double)c->migrate_to)));
		return NULL;
	}
	return c;
}

/* 403 for a person who blocked the bot or is gone; 1 when answered. */
static int
unreachable(const struct tg_chat *c, struct fake_resp *resp)
{
	if (c->deactivated)
		tg_error(resp, 403, "Forbidden: user is deactivated",
		    jv_null());
	else if (c->blocked)
		tg_error(resp, 403, "Forbidden: bot was blocked by the user",
		    jv_null());
	else
		return 0;
	return 1;
}

static void
too_many(struct fake_resp *resp, long long secs)
{
	char d[64], n[32];

	snprintf(d, sizeof d, "Too Many Requests: retry after %lld", secs);
	snprintf(n, sizeof n, "%lld", secs);
	tg_error(resp, 429, d, sl_set(jv_object(), "retry_after",
	    jv_number((double)secs)));
	fake_header(resp, "Retry-After", n);
}

/* Flood control; 1 when it answered 429, else the send is counted. */
static int
flood(struct tg_chat *c, struct fake_resp *resp)
{
	long long now = fake_now_ms();
	size_t i, k;

	if (tg_flood_per_sec <= 0)
		return 0;
	if (now < c->flood_until) {
		too_many(resp, (c->flood_until - now + 999) / 1000);
		return 1;
	}
	for (i = k = 0; i < c->nsends; i++)
		if (c->sends[i] > now - 1000)
			c->sends[k++] = c->sends[i];
	c->nsends = k;
	if ((long)c->nsends >= tg_flood_per_sec) {
		c->flood_until = now + tg_flood_retry_after * 1000;
		too_many(resp, tg_flood_retry_after);
		return 1;
	}
	c->sends = sl_realloc(c->sends, (c->nsends + 1) * sizeof *c->sends);
	c->sends[c->nsends++] = now;
	return 0;
}

/*
 * The text of a send, checked and without markup: 0 with *plain and
 * *entities, -1 after answering 400.
 */
static int
text_of(struct tg_call *call, char **plain, jv *entities,
    struct fake_resp *resp)
{
	const char *text, *mode = NULL;
	char err[512];

	if (tg_param_str(call->params, "text", &text) != 1 || !*text) {
		bad_request(resp, "message text is empty");
		return -1;
	}
	tg_param_str(call->params, "parse_mode", &mode);
	if (tg_markup(text, strlen(text), mode, plain, entities, err,
	    sizeof err) < 0) {
		tg_error(resp, 400, err, jv_null());
		return -1;
	}
	if (!**plain || tg_utf16_len(*plain, strlen(*plain)) > TG_TEXT_MAX) {
		bad_request(resp, **plain ? "message is too long" :
		    "message text is empty");
		free(*plain);
		jv_free(*entities);
		return -1;
	}
	return 0;
}

/*
 * The message a send replies to: 0 for none (or a missing one allowed
 * to be missing), else its id; -1 after answering 400.
 */
static long long
reply_of(struct tg_call *call, struct tg_chat *c, int business,
    struct fake_resp *resp)
{
	long long id = 0;
	int allow = business;
	jv rp;

	tg_param_bool(call->params, "allow_sending_without_reply", &allow);
	if (tg_param_json(call->params, "reply_parameters", &rp) == 1) {
		tg_param_int(rp, "message_id", &id);
		tg_param_bool(rp, "allow_sending_without_reply", &allow);
		jv_free(rp);
	} else {
		tg_param_int(call->params, "reply_to_message_id", &id);
	}
	if (id == 0 || tg_chat_msg(c, id))
		return id;
	if (allow || business)
		return 0;
	bad_request(resp, "message to be replied not found");
	return -1;
}

/* The Message the bot sent, as Telegram returns it. */
static jv
message_obj(struct tg_bot *b, struct tg_chat *c, struct tg_conn *k,
    const struct tg_msg *m, const char *text, jv entities)
{
	jv msg = sl_set(jv_object(), "message_id", jv_number((double)m->id));
	jv owner;

	if (k && sl_get_obj(k->obj, "user", &owner) == 1) {
		msg = sl_set(msg, "from", owner);
		msg = sl_set(msg, "sender_business_bot", tg_bot_user(b));
		msg = sl_set(msg, "business_connection_id", jv_string(k->id));
	} else {
		msg = sl_set(msg, "from", tg_bot_user(b));
		if (k)
			msg = sl_set(msg, "business_connection_id",
			    jv_string(k->id));
	}
	msg = sl_set(msg, "chat", chat_obj(c));
	msg = sl_set(msg, "date", jv_number((double)m->date));
	msg = sl_set(msg, "text", jv_string(text));
	if (jv_array_length(jv_copy(entities)) > 0)
		msg = sl_set(msg, "entities", entities);
	else
		jv_free(entities);
	return msg;
}

void
tg_send_message(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	struct tg_conn *k;
	struct tg_chat *c;
	struct tg_msg *m, *r;
	long long reply;
	const char *raw, *mode;
	char *plain;
	jv ents, msg, rec, markup;

	if (business_of(call, &k, resp) < 0 || !(c = chat_of(call, k, resp)))
		return;
	if (text_of(call, &plain, &ents, resp) < 0)
		return;
	if ((reply = reply_of(call, c, k != NULL, resp)) < 0 ||
	    unreachable(c, resp) || flood(c, resp)) {
		free(plain);
		jv_free(ents);
		return;
	}
	m = tg_chat_add_msg(c, ++c->last_id, plain);
	msg = message_obj(b, c, k, m, plain, ents);
	if (reply && (r = tg_chat_msg(c, reply))) {
		jv rm = sl_set(jv_object(), "message_id",
		    jv_number((double)reply));

		rm = sl_set(rm, "chat", chat_obj(c));
		rm = sl_set(rm, "date", jv_number((double)r->date));
		if (r->text)
			rm = sl_set(rm, "text", jv_string(r->text));
		msg = sl_set(msg, "reply_to_message", rm);
	}
	if (tg_param_json(call->params, "reply_markup", &markup) == 1) {
		if (jv_object_has(jv_copy(markup),
		    jv_string("inline_keyboard")))
			msg = sl_set(msg, "reply_markup", fake_own(markup));
		else
			jv_free(markup);
	}
	rec = sl_set(jv_object(), "message_id", jv_number((double)m->id));
	rec = sl_set(rec, "chat_id", jv_number((double)c->id));
	if (k)
		rec = sl_set(rec, "business_connection_id", jv_string(k->id));
	tg_param_str(call->params, "text", &raw);
	rec = sl_set(rec, "text", jv_string(raw));
	if (tg_param_str(call->params, "parse_mode", &mode) == 1 && *mode)
		rec = sl_set(rec, "parse_mode", jv_string(mode));
	if (reply)
		rec = sl_set(rec, "reply_to", jv_number((double)reply));
	rec = sl_set(rec, "at_ms", jv_number((double)fake_now_ms()));
	tg_buf_line(&b->sent, rec);
	jv_free(rec);
	b->nsent++;
	free(plain);
	tg_ok(resp, msg);
}

void
tg_edit_message_text(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_bot *b = call->bot;
	struct tg_conn *k;
	struct tg_chat *c;
	struct tg_msg *m;
	long long id;
	char *plain;
	const char *raw;
	jv ents, msg, rec;

	if (tg_param_str(call->params, "inline_message_id", &raw) == 1) {
		bad_request(resp, "MESSAGE_ID_INVALID");
		return;
	}
	if (business_of(call, &k, resp) < 0 || !(c = chat_of(call, k, resp)))
		return;
	if (tg_param_int(call->params, "message_id", &id) != 1) {
		bad_request(resp, "message identifier is not specified");
		return;
	}
	if (text_of(call, &plain, &ents, resp) < 0)
		return;
	if (!(m = tg_chat_msg(c, id)) || !m->text) {
		bad_request(resp, "message to edit not found");
	} else if (strcmp(m->text, plain) == 0) {
		bad_request(resp, "message is not modified: specified new "
		    "message content and reply markup are exactly the same as "
		    "a current content and reply markup of the message");
	} else {
		free(m->text);
		m->text = sl_strdup(plain);
		msg = message_obj(b, c, k, m, plain, ents);
		ents = jv_null();
		msg = sl_set(msg, "edit_date",
		    jv_number((double)tg_unix_now()));
		rec = sl_set(jv_object(), "message_id", jv_number((double)id));
		rec = sl_set(rec, "chat_id", jv_number((double)c->id));
		if (k)
			rec = sl_set(rec, "business_connection_id",
			    jv_string(k->id));
		tg_param_str(call->params, "text", &raw);
		rec = sl_set(rec, "text", jv_string(raw));
		rec = sl_set(rec, "at_ms", jv_number((double)fake_now_ms()));
		tg_buf_line(&b->edits, rec);
		jv_free(rec);
		tg_ok(resp, msg);
	}
	jv_free(ents);
	free(plain);
}

void
tg_send_chat_action(struct tg_call *call, struct fake_resp *resp)
{
	static const char *const actions[] = {
		"typing", "upload_photo", "record_video", "upload_video",
		"record_voice", "upload_voice", "upload_document",
		"choose_sticker", "find_location", "record_video_note",
		"upload_video_note", NULL
	};
	struct tg_conn *k;
	struct tg_chat *c;
	const char *action = "";
	size_t i;
	jv rec;

	if (business_of(call, &k, resp) < 0 || !(c = chat_of(call, k, resp)))
		return;
	tg_param_str(call->params, "action", &action);
	for (i = 0; actions[i]; i++)
		if (strcmp(actions[i], action) == 0)
			break;
	if (!actions[i]) {
		bad_request(resp, *action ?
		    "wrong parameter action in request" : "action is empty");
		return;
	}
	if (unreachable(c, resp))
		return;
	rec = sl_set(jv_object(), "chat_id", jv_number((double)c->id));
	rec = sl_set(rec, "action", jv_string(action));
	if (k)
		rec = sl_set(rec, "business_connection_id", jv_string(k->id));
	rec = sl_set(rec, "at_ms", jv_number((double)fake_now_ms()));
	tg_buf_line(&call->bot->actions, rec);
	jv_free(rec);
	tg_ok(resp, jv_true());
}

void
tg_answer_callback_query(struct tg_call *call, struct fake_resp *resp)
{
	struct tg_cbq *q = NULL;
	const char *id = "", *s;
	int v, ok;
	long long n;
	jv rec;

	tg_param_str(call->params, "callback_query_id", &id);
	for (q = call->bot->cbqs; q; q = q->next)
		if (strcmp(q->id, id) == 0)
			break;
	ok = q && !q->answered;
	rec = sl_set(jv_object(), "callback_query_id", jv_string(id));
	if (tg_param_str(call->params, "text", &s) == 1)
		rec = sl_set(rec, "text", jv_string(s));
	if (tg_param_bool(call->params, "show_alert", &v) == 1)
		rec = sl_set(rec, "show_alert", jv_bool(v));
	if (tg_param_str(call->params, "url", &s) == 1)
		rec = sl_set(rec, "url", jv_string(s));
	if (tg_param_int(call->params, "cache_time", &n) == 1)
		rec = sl_set(rec, "cache_time", jv_number((double)n));
	rec = sl_set(rec, "ok", jv_bool(ok));
	rec = sl_set(rec, "at_ms", jv_number((double)fake_now_ms()));
	tg_buf_line(&call->bot->callbacks, rec);
	jv_free(rec);
	if (!ok) {
		bad_request(resp, "query is too old and response timeout "
		    "expired or query ID is invalid");
		return;
	}
	q->answered = 1;
	tg_ok(resp, jv_true());
}

static struct tg_file *
file_find(struct tg_bot *b, const char *id, const char *path)
{
	struct tg_file *f;

	for (f = b->files; f; f = f->next)
		if ((id && strcmp(f->id, id) == 0) ||
		    (path && strcmp(f->path, path) == 0))
			return f;
	return NULL;
}

void
tg_get_file(struct tg_call *call, struct fake_resp *resp)
{
	const char *id = "";
	struct tg_file *f;
	jv r;

	tg_param_str(call->params, "file_id", &id);
	if (!(f = file_find(call->bot, id, NULL))) {
		bad_request(resp, "invalid file_id");
		return;
	}
	if (f->size > TG_DOWNLOAD_MAX) {
		bad_request(resp, "file is too big");
		return;
	}
	r = sl_set(jv_object(), "file_id", jv_string(f->id));
	r = sl_set(r, "file_unique_id", jv_string(f->unique));
	r = sl_set(r, "file_size", jv_number((double)f->size));
	r = sl_set(r, "file_path", jv_string(f->path));
	tg_ok(resp, r);
}

/* The file's bytes: byte i is i % 251, file_size of them. */
void
tg_download(struct tg_bot *b, const char *path, struct fake_resp *resp)
{
	struct tg_file *f = file_find(b, NULL, path);
	size_t i, n;
	char *data;

	if (!f || f->size > TG_DOWNLOAD_MAX) {
		tg_error(resp, 404, "Not Found", jv_null());
		return;
	}
	n = (size_t)f->size;
	data = sl_malloc(n + 1);
	for (i = 0; i < n; i++)
		data[i] = (char)(i % 251);
	fake_reply(resp, 200, "application/octet-stream", data, n);
	free(data);
}

void
tg_get_business_connection(struct tg_call *call, struct fake_resp *resp)
{
	const char *id = "";
	struct tg_conn *k;

	tg_param_str(call->params, "business_connection_id", &id);
	if (!(k = tg_conn_find(call->bot, id))) {
		bad_request(resp, "business connection not found");
		return;
	}
	tg_ok(resp, jv_copy(k->obj));
}
