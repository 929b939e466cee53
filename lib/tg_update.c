/*
 * tg_update.c: stored Telegram updates into the ledger's conversations and
 * into records (the process step of tg_update.h; storing is tg_store.c).
 *
 * Who wrote a business_message (reference telegram.md section 3): the
 * connection's owner is the rep (reps.tg_user_id of the row holding the
 * connection).  from != owner: the customer, message.in.  from == owner
 * with sender_business_bot: a bot wrote for the rep (our echo), ignored.
 * is_from_offline: Telegram's away or greeting message, ignored.
 * Otherwise the rep typed it: the prospect becomes human_active, pending
 * follow-ups are cancelled (human_takeover), the message is kept as an
 * outbound one with meta {"author":"human"}, and human.takeover is emitted
 * when the prospect was not human_active yet.  When the connection is not
 * known yet it is asked for (getBusinessConnection); failing that, the
 * customer is the one whose id is the chat's (a business chat is the
 * private chat with the customer).
 *
 * Group chats are stored but produce no record: salesline talks to people
 * one to one.  A message with neither text, caption nor a known
 * attachment (a poll, a dice, a service message) is ignored too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"
#include "tg.h"
#include "tg_update.h"
#include "tg_update_impl.h"
#include "timeutil.h"

#define PENDING_BATCH 200	/* rows read at a time */
#define GROUP_MAX 100		/* updates normalised in one transaction */
#define STR(x) STR_(x)
#define STR_(x) #x


/* One update being normalised. */
struct upd {
	struct sl_tgu *u;
	const char *id;		/* update_id as text */
	const char *kind;
	int64_t now;
	jv conn;		/* getBusinessConnection's answer, or null */
	jv out;			/* records to emit after the commit */
	char why[200];		/* set when the update is malformed */
	int dberr;		/* a ledger statement failed */
	int followups;		/* the prospect has pending follow-ups */
};

/* A Message, its fields checked. */
struct tmsg {
	jv chat, chat_type, msg, bc, text, reply_to, attachments;
	jv from;		/* the User object, or null */
	jv chat_obj;
	int64_t date, edit_date;
	int bot_sent, offline;
};

struct person {
	jv id, name, username, lang;	/* strings or null */
};

static const char *const kinds[] = {
	"message", "edited_message", "callback_query", "my_chat_member",
	"business_connection", "business_message", "edited_business_message",
	"deleted_business_messages", NULL
};

jv
sl_tgu_allowed_updates(void)
{
	jv a = jv_array();
	int i;

	for (i = 0; kinds[i]; i++)
		a = jv_array_append(a, jv_string(kinds[i]));
	return a;
}

static int
bad(struct upd *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* An array of n parameters (consumed); JV_ARRAY stops at nine. */
static jv
args(int n, ...)
{
	va_list ap;
	jv a = jv_array();

	va_start(ap, n);
	while (n-- > 0)
		a = jv_array_append(a, va_arg(ap, jv));
	va_end(ap);
	return a;
}

static long
x_exec(struct upd *p, const char *sql, jv params)
{
	long n = sl_db_exec(p->u->db, sql, params);

	if (n < 0)
		p->dberr = 1;
	return n;
}

/* The first row (null when none), or invalid after a failure. */
static jv
x_row(struct upd *p, const char *sql, jv params)
{
	jv row = sl_db_query1(p->u->db, sql, params);

	if (!jv_is_valid(row))
		p->dberr = 1;
	return row;
}

jv
sl_tgu_col(jv row, const char *name)
{
	if (jv_get_kind(row) != JV_KIND_OBJECT)
		return jv_null();
	return jv_object_get(jv_copy(row), jv_string(name));
}

static jv
time_jv(int64_t t)
{
	char buf[SL_TIME_BUFSZ];

	return sl_time_fmt(t, buf) ? jv_string(buf) : jv_null();
}

/* An integer column as a string (IDs in records), or null. */
static jv
id_str(jv v)
{
	jv s = jv_null();

	if (jv_get_kind(v) == JV_KIND_NUMBER)
		s = sl_id_jv((int64_t)jv_number_value(v));
	jv_free(v);
	return s;
}

/* Field getters that explain what is wrong: 0, or -1 with p->why. */
static int
get_id(struct upd *p, jv obj, const char *path, const char *key, int need,
    jv *out)
{
	int r = sl_get_id(obj, key, out);

	if (r == 1)
		return 0;
	*out = jv_null();
	if (r == 0 && !need)
		return 0;
	return bad(p, "'%s%s' %s", path, key, r == 0 ? "is missing" :
	    "is not an id");
}

static int
get_obj(struct upd *p, jv obj, const char *path, const char *key, int need,
    jv *out)
{
	int r = sl_get_obj(obj, key, out);

	if (r == 1)
		return 0;
	*out = jv_null();
	if (r == 0 && !need)
		return 0;
	return bad(p, "'%s%s' %s", path, key, r == 0 ? "is missing" :
	    "is not an object");
}

static int
get_str(struct upd *p, jv obj, const char *path, const char *key, jv *out)
{
	const char *s;
	int r = sl_get_str(obj, key, &s), n, i, k;
	char *t;
	jv v;

	*out = jv_null();
	if (r == 1) {
		/* a NUL (\u0000) is dropped: the ledger's text cannot hold it */
		v = jv_object_get(jv_copy(obj), jv_string(key));
		n = jv_string_length_bytes(jv_copy(v));
		s = jv_string_value(v);
		t = sl_malloc((size_t)n + 1);
		for (i = k = 0; i < n; i++)
			if (s[i])
				t[k++] = s[i];
		*out = jv_string_sized(t, k);
		free(t);
		jv_free(v);
	}
	if (r >= 0)
		return 0;
	return bad(p, "'%s%s' is not a string", path, key);
}

static int
get_date(struct upd *p, jv obj, const char *path, const char *key,
    int64_t *out)
{
	char buf[SL_TIME_BUFSZ];
	int r = sl_get_int(obj, key, out);

	if (r == 0) {
		*out = 0;
		return 0;
	}
	if (r < 0 || !sl_time_fmt(*out, buf))
		return bad(p, "'%s%s' is not a Unix time", path, key);
	return 0;
}

/* A string field or null, ignoring a wrong kind (names are optional). */
static jv
str_or_null(jv obj, const char *key)
{
	const char *s;

	if (jv_get_kind(obj) == JV_KIND_OBJECT && sl_get_str(obj, key, &s) == 1)
		return jv_string(s);
	return jv_null();
}

/* "first last" of a User or Chat (borrowed), or null. */
static jv
full_name(jv o)
{
	jv first = str_or_null(o, "first_name"), last = str_or_null(o,
	    "last_name"), name;

	if (jv_get_kind(first) != JV_KIND_STRING) {
		jv_free(first);
		name = jv_get_kind(last) == JV_KIND_STRING ? last : jv_null();
		return jv_get_kind(name) == JV_KIND_NULL ?
		    str_or_null(o, "title") : name;
	}
	if (jv_get_kind(last) != JV_KIND_STRING) {
		jv_free(last);
		return first;
	}
	return jv_string_concat(jv_string_concat(first, jv_string(" ")), last);
}

static void
person_free(struct person *w)
{
	jv_free(w->id);
	jv_free(w->name);
	jv_free(w->username);
	jv_free(w->lang);
}

/* The person behind a User object (borrowed); id must be checked before. */
static void
person_of(jv user, jv id, struct person *w)
{
	w->id = id;
	w->name = full_name(user);
	w->username = str_or_null(user, "username");
	w->lang = str_or_null(user, "language_code");
}

static jv
person_jv(const struct person *w)
{
	jv o = jv_object();

	o = sl_set(o, "id", jv_copy(w->id));
	o = sl_set(o, "name", jv_copy(w->name));
	o = sl_set(o, "username", jv_copy(w->username));
	return sl_set(o, "lang", jv_copy(w->lang));
}

static void
tmsg_free(struct tmsg *m)
{
	jv_free(m->chat);
	jv_free(m->chat_type);
	jv_free(m->msg);
	jv_free(m->bc);
	jv_free(m->text);
	jv_free(m->reply_to);
	jv_free(m->attachments);
	jv_free(m->from);
	jv_free(m->chat_obj);
}

/* Attachment metadata of a media object (borrowed), or null. */
static jv
attachment(const char *kind, jv o)
{
	static const char *const keys[] = { "file_name", "mime_type", NULL };
	jv a, id;
	int64_t n;
	int i;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_null();
	a = sl_set(jv_object(), "kind", jv_string(kind));
	if (strcmp(kind, "contact") == 0) {
		a = sl_set(a, "phone", str_or_null(o, "phone_number"));
		a = sl_set(a, "name", full_name(o));
		if (sl_get_id(o, "user_id", &id) == 1)
			a = sl_set(a, "user_id", id);
		return a;
	}
	if (strcmp(kind, "location") == 0) {
		double lat, lon;

		if (sl_get_num(o, "latitude", &lat) != 1 ||
		    sl_get_num(o, "longitude", &lon) != 1) {
			jv_free(a);
			return jv_null();
		}
		a = sl_set(a, "latitude", jv_number(lat));
		return sl_set(a, "longitude", jv_number(lon));
	}
	if (sl_get_id(o, "file_id", &id) != 1) {
		jv_free(a);
		return jv_null();
	}
	a = sl_set(a, "file_id", id);
	for (i = 0; keys[i]; i++) {
		jv v = str_or_null(o, keys[i]);

		if (jv_get_kind(v) == JV_KIND_STRING)
			a = sl_set(a, keys[i], v);
		else
			jv_free(v);
	}
	if (sl_get_int(o, "file_size", &n) == 1)
		a = sl_set(a, "file_size", jv_number((double)n));
	return a;
}

/* The attachments of a Message (borrowed): an array, maybe empty. */
static jv
attachments(jv msg)
{
	static const char *const media[] = { "document", "voice", "video",
	    "audio", "animation", "video_note", "sticker", "contact",
	    "location", NULL };
	jv out = jv_array(), v, a;
	int i, n;

	if (sl_get_arr(msg, "photo", &v) == 1) {
		n = jv_array_length(jv_copy(v));
		/* the last size is the largest */
		a = n > 0 ? attachment("photo", jv_array_get(jv_copy(v),
		    n - 1)) : jv_null();
		if (jv_get_kind(a) == JV_KIND_OBJECT)
			out = jv_array_append(out, a);
		else
			jv_free(a);
		jv_free(v);
	}
	for (i = 0; media[i]; i++) {
		if (sl_get_obj(msg, media[i], &v) != 1)
			continue;
		a = attachment(media[i], v);
		jv_free(v);
		if (jv_get_kind(a) == JV_KIND_OBJECT)
			out = jv_array_append(out, a);
		else
			jv_free(a);
	}
	return out;
}

/*
 * Checks a Message (borrowed) found under name and fills m.  Returns 0,
 * or -1 with p->why.
 */
static int
parse_message(struct upd *p, jv msg, const char *name, struct tmsg *m)
{
	char path[64], cpath[72];
	jv v;

	memset(m, 0, sizeof *m);
	m->chat = m->chat_type = m->msg = m->bc = m->text = jv_null();
	m->reply_to = m->from = m->chat_obj = jv_null();
	m->attachments = jv_array();
	snprintf(path, sizeof path, "%s.", name);
	snprintf(cpath, sizeof cpath, "%s.chat.", name);
	if (get_id(p, msg, path, "message_id", 1, &m->msg) < 0 ||
	    get_obj(p, msg, path, "chat", 1, &m->chat_obj) < 0 ||
	    get_id(p, m->chat_obj, cpath, "id", 1, &m->chat) < 0 ||
	    get_str(p, m->chat_obj, cpath, "type", &m->chat_type) < 0 ||
	    get_obj(p, msg, path, "from", 0, &m->from) < 0 ||
	    get_id(p, msg, path, "business_connection_id", 0, &m->bc) < 0 ||
	    get_date(p, msg, path, "date", &m->date) < 0 ||
	    get_date(p, msg, path, "edit_date", &m->edit_date) < 0 ||
	    get_str(p, msg, path, "text", &m->text) < 0)
		return -1;
	if (jv_get_kind(m->text) == JV_KIND_NULL) {
		jv_free(m->text);
		if (get_str(p, msg, path, "caption", &m->text) < 0)
			return -1;
	}
	if (jv_get_kind(m->from) == JV_KIND_OBJECT) {
		snprintf(cpath, sizeof cpath, "%s.from.", name);
		if (get_id(p, m->from, cpath, "id", 1, &v) < 0)
			return -1;
		jv_free(v);
	}
	if (sl_get_obj(msg, "reply_to_message", &v) == 1) {
		if (sl_get_id(v, "message_id", &m->reply_to) != 1)
			m->reply_to = jv_null();
		jv_free(v);
	}
	v = jv_object_get(jv_copy(msg), jv_string("sender_business_bot"));
	m->bot_sent = jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL;
	jv_free(v);
	if (sl_get_bool(msg, "is_from_offline", &m->offline) != 1)
		m->offline = 0;
	jv_free(m->attachments);
	m->attachments = attachments(msg);
	if (m->date == 0)
		m->date = p->now;
	return 0;
}

/* reps.name of a rep id (a number or null), or null. */
static jv
rep_name(struct upd *p, jv rep_id)
{
	jv row;

	if (jv_get_kind(rep_id) != JV_KIND_NUMBER) {
		jv_free(rep_id);
		return jv_null();
	}
	row = x_row(p, "SELECT name FROM reps WHERE id = $1",
	    JV_ARRAY(rep_id));
	if (jv_is_valid(row)) {
		jv name = sl_tgu_col(row, "name");

		jv_free(row);
		return name;
	}
	return row;
}

/*
 * The rep of a direct chat: the one given, or the bot's first rep, read
 * once per group (only connection() writes reps, and it forgets it).
 */
static jv
direct_rep(struct upd *p)
{
	jv row;

	if (jv_get_kind(p->u->rep_id) == JV_KIND_NUMBER)
		return jv_copy(p->u->rep_id);
	if (jv_is_valid(p->u->direct))
		return jv_copy(p->u->direct);
	row = x_row(p, "SELECT id FROM reps WHERE bot = $1 AND enabled = 1 "
	    "ORDER BY id LIMIT 1", JV_ARRAY(jv_string(p->u->tg->bot)));
	if (!jv_is_valid(row)) {
		jv_free(row);
		return jv_null();
	}
	p->u->direct = sl_tgu_col(row, "id");
	jv_free(row);
	return jv_copy(p->u->direct);
}

/* The next group reads the ledger's reps again. */
static void
forget_rep(struct sl_tgu *u)
{
	jv_free(u->direct);
	u->direct = jv_invalid();
}

/*
 * A prospect found without a rep takes rep_id (consumed), when there is
 * one: apart from the upsert, which would otherwise rewrite the index on
 * rep_id at every message.  *row (the upsert's) gets the rep_id.
 */
static int
adopt(struct upd *p, jv *row, jv rep_id)
{
	jv had = sl_tgu_col(*row, "rep_id");
	long n;

	if (jv_get_kind(had) != JV_KIND_NULL ||
	    jv_get_kind(rep_id) != JV_KIND_NUMBER) {
		jv_free(had);
		jv_free(rep_id);
		return 0;
	}
	jv_free(had);
	n = x_exec(p, "UPDATE prospects SET rep_id = $2 WHERE id = $1 AND "
	    "rep_id IS NULL", JV_ARRAY(sl_tgu_col(*row, "id"), jv_copy(rep_id)));
	if (n < 0) {
		jv_free(rep_id);
		jv_free(*row);
		*row = jv_null();
		return -1;
	}
	if (n > 0)
		*row = sl_set(*row, "rep_id", rep_id);
	else
		jv_free(rep_id);
	return 0;
}

/*
 * The conversation (channel, bc or "", chat): created or refreshed with
 * what w tells about the person.  last_in: when the ledger received the
 * prospect's message (its clock, not Telegram's), or 0.  *pid gets the
 * prospect's id (a string), *rep its rep's name or null, *human its
 * human_active; p->followups whether follow-ups wait for it.  Returns
 * 0 or -1 (p->dberr).
 */
static int
prospect(struct upd *p, jv bc, jv chat, jv rep_id, const struct person *w,
    int64_t last_in, jv *pid, jv *rep, int *human)
{
	jv row, v;

	row = x_row(p, "INSERT INTO prospects (channel, bot, "
	    "business_connection, chat, rep_id, user_id, name, username, "
	    "lang, last_in_at, created_at, updated_at) VALUES ('telegram', "
	    "$1, $2, $3, CAST($4 AS BIGINT), $5, $6, $7, $8, "
	    "CAST($9 AS BIGINT), $10, $10) "
	    "ON CONFLICT (channel, business_connection, chat) DO UPDATE SET "
	    "user_id = COALESCE(excluded.user_id, prospects.user_id), "
	    "name = COALESCE(excluded.name, prospects.name), "
	    "username = COALESCE(excluded.username, prospects.username), "
	    "lang = COALESCE(excluded.lang, prospects.lang), "
	    "last_in_at = COALESCE(excluded.last_in_at, prospects.last_in_at), "
	    "updated_at = excluded.updated_at "
	    "RETURNING id, rep_id, human_active, CASE WHEN EXISTS (SELECT 1 "
	    "FROM scheduled_actions s WHERE s.prospect_id = prospects.id AND "
	    "s.kind = 'followup' AND s.status = 'pending') THEN 1 ELSE 0 END "
	    "AS followups",
	    args(10, jv_string(p->u->tg->bot),
	    jv_get_kind(bc) == JV_KIND_STRING ? jv_copy(bc) : jv_string(""),
	    jv_copy(chat), jv_copy(rep_id), jv_copy(w->id), jv_copy(w->name),
	    jv_copy(w->username), jv_copy(w->lang),
	    last_in ? jv_number((double)last_in) : jv_null(),
	    jv_number((double)p->now)));
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		jv_free(row);
		jv_free(rep_id);
		p->dberr = 1;
		return -1;
	}
	if (adopt(p, &row, rep_id) < 0)
		return -1;
	*pid = id_str(sl_tgu_col(row, "id"));
	v = sl_tgu_col(row, "human_active");
	*human = jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) != 0;
	jv_free(v);
	v = sl_tgu_col(row, "followups");
	p->followups = jv_get_kind(v) != JV_KIND_NUMBER ||
	    jv_number_value(v) != 0;
	jv_free(v);
	*rep = rep_name(p, sl_tgu_col(row, "rep_id"));
	jv_free(row);
	if (!jv_is_valid(*rep)) {
		jv_free(*pid);
		jv_free(*rep);
		*pid = *rep = jv_null();
		return -1;
	}
	return 0;
}

/* Cancels the prospect's pending follow-ups (prospect() saw whether any). */
static int
cancel_followups(struct upd *p, jv pid, const char *reason)
{
	if (!p->followups)
		return 0;
	return x_exec(p, "UPDATE scheduled_actions SET status = 'cancelled', "
	    "cancel_reason = $2, updated_at = $3 WHERE prospect_id = $1 AND "
	    "kind = 'followup' AND status = 'pending'",
	    JV_ARRAY(jv_copy(pid), jv_string(reason),
	    jv_number((double)p->now))) < 0 ? -1 : 0;
}

/* "tg:in:<bot>:<bc>:<chat>:<msg>" */
static jv
msg_key(struct upd *p, const char *dir, const struct tmsg *m)
{
	return jv_string_fmt("tg:%s:%s:%s:%s:%s", dir, p->u->tg->bot,
	    jv_get_kind(m->bc) == JV_KIND_STRING ? jv_string_value(m->bc) : "",
	    jv_string_value(m->chat), jv_string_value(m->msg));
}

/*
 * Keeps a message in the ledger: in from the prospect (status new) or
 * out from the rep (status sent, author human).  Returns 1 when it was
 * new, 0 when its key was there already, -1 on failure.
 */
static int
store_message(struct upd *p, const struct tmsg *m, jv pid, jv from_id,
    int human)
{
	jv meta = jv_object();
	size_t len;
	char *s;
	long n;

	if (jv_array_length(jv_copy(m->attachments)) > 0)
		meta = sl_set(meta, "attachments", jv_copy(m->attachments));
	if (human)
		meta = sl_set(meta, "author", jv_string("human"));
	meta = sl_set(meta, "update_id", jv_string(p->id));
	s = sl_json_dump(meta, &len);
	jv_free(meta);
	n = x_exec(p, "INSERT INTO messages (direction, prospect_id, channel, "
	    "bot, business_connection, chat, msg, reply_to, from_id, text, "
	    "key, status, meta, at, sent_at, created_at, updated_at) VALUES "
	    "($1, $2, 'telegram', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
	    "$13, CAST($14 AS BIGINT), $15, $15) ON CONFLICT (key) DO NOTHING",
	    args(15, jv_string(human ? "out" : "in"), jv_copy(pid),
	    jv_string(p->u->tg->bot), jv_copy(m->bc), jv_copy(m->chat),
	    jv_copy(m->msg), jv_copy(m->reply_to), from_id,
	    jv_get_kind(m->text) == JV_KIND_STRING ? jv_copy(m->text) :
	    jv_string(""), msg_key(p, human ? "human" : "in", m),
	    jv_string(human ? "sent" : "new"), jv_string(s),
	    jv_number((double)m->date),
	    human ? jv_number((double)m->date) : jv_null(),
	    jv_number((double)p->now)));
	free(s);
	return n < 0 ? -1 : n > 0;
}

/* The common fields of a record about a conversation. */
static jv
record(struct upd *p, const char *type, jv rep, jv chat, jv pid, jv bc)
{
	jv r = sl_set(jv_object(), "type", jv_string(type));

	r = sl_set(r, "channel", jv_string("telegram"));
	r = sl_set(r, "bot", jv_string(p->u->tg->bot));
	r = sl_set(r, "rep", rep);
	r = sl_set(r, "chat", chat);
	r = sl_set(r, "prospect", pid);
	if (jv_get_kind(bc) == JV_KIND_STRING)
		r = sl_set(r, "business_connection", bc);
	else
		jv_free(bc);
	return r;
}

static void
emit_later(struct upd *p, jv rec)
{
	rec = sl_set(rec, "update_id", jv_string(p->id));
	p->out = jv_array_append(p->out, rec);
}

/* message.in or message.edit from the prospect. */
static int
from_prospect(struct upd *p, const struct tmsg *m, jv rep_id, int edit)
{
	struct person w;
	jv pid, rep, rec, id;
	int human, fresh = 1, rc = -1;

	if (jv_get_kind(m->from) == JV_KIND_OBJECT)
		sl_get_id(m->from, "id", &id);
	else
		id = jv_copy(m->chat);
	person_of(jv_get_kind(m->from) == JV_KIND_OBJECT ? m->from :
	    m->chat_obj, id, &w);
	if (prospect(p, m->bc, m->chat, rep_id, &w, edit ? 0 : p->now, &pid,
	    &rep, &human) < 0)
		goto out;
	if (edit) {
		if (x_exec(p, "UPDATE messages SET text = $1, updated_at = $2 "
		    "WHERE key = $3", JV_ARRAY(jv_get_kind(m->text) ==
		    JV_KIND_STRING ? jv_copy(m->text) : jv_string(""),
		    jv_number((double)p->now), msg_key(p, "in", m))) < 0)
			goto fail;
	} else {
		if ((fresh = store_message(p, m, pid, jv_copy(w.id), 0)) < 0 ||
		    cancel_followups(p, pid, "client_wrote") < 0)
			goto fail;
	}
	if (!fresh) {
		sl_info("update %s: message %s stored before", p->id,
		    jv_string_value(m->msg));
		rc = 0;
		goto fail;
	}
	rec = record(p, edit ? "message.edit" : "message.in", rep,
	    jv_copy(m->chat), pid, jv_copy(m->bc));
	rec = sl_set(rec, "msg", jv_copy(m->msg));
	rec = sl_set(rec, "from", person_jv(&w));
	rec = sl_set(rec, "text", jv_get_kind(m->text) == JV_KIND_STRING ?
	    jv_copy(m->text) : jv_string(""));
	rec = sl_set(rec, "at", time_jv(m->date));
	if (edit)
		rec = sl_set(rec, "edited_at", time_jv(m->edit_date ?
		    m->edit_date : p->now));
	if (jv_get_kind(m->reply_to) == JV_KIND_STRING)
		rec = sl_set(rec, "reply_to", jv_copy(m->reply_to));
	if (jv_array_length(jv_copy(m->attachments)) > 0)
		rec = sl_set(rec, "attachments", jv_copy(m->attachments));
	if (human)	/* the rep has the chat: no answer from the agent */
		rec = sl_set(rec, "human_active", jv_true());
	emit_later(p, rec);
	person_free(&w);
	return 0;
fail:
	jv_free(pid);
	jv_free(rep);
out:
	person_free(&w);
	return rc;
}

/* The rep typed in a business chat: takeover. */
static int
from_rep(struct upd *p, const struct tmsg *m, jv rep_id, jv owner, int edit)
{
	struct person w;
	jv pid = jv_null(), rep = jv_null(), rec;
	int human, rc = -1;
	long n;

	/* the prospect is the chat, not the sender */
	person_of(m->chat_obj, jv_copy(m->chat), &w);
	if (prospect(p, m->bc, m->chat, rep_id, &w, 0, &pid, &rep,
	    &human) < 0)
		goto out;
	if (edit) {
		rc = x_exec(p, "UPDATE messages SET text = $1, updated_at = $2 "
		    "WHERE key = $3", JV_ARRAY(jv_get_kind(m->text) ==
		    JV_KIND_STRING ? jv_copy(m->text) : jv_string(""),
		    jv_number((double)p->now), msg_key(p, "human", m))) < 0 ?
		    -1 : 0;
		goto out;
	}
	n = store_message(p, m, pid, owner, 1);
	owner = jv_null();
	if (n < 0 || cancel_followups(p, pid, "human_takeover") < 0)
		goto out;
	n = x_exec(p, "UPDATE prospects SET human_active = 1, human_since = "
	    "$2, updated_at = $3 WHERE id = $1 AND human_active = 0",
	    JV_ARRAY(jv_copy(pid), jv_number((double)m->date),
	    jv_number((double)p->now)));
	if (n < 0)
		goto out;
	rc = 0;
	if (n == 0)
		goto out;	/* already in the rep's hands */
	if (x_exec(p, "INSERT INTO audit (at, actor, action, subject, detail) "
	    "VALUES ($1, $2, 'takeover', $3, $4)",
	    JV_ARRAY(jv_number((double)p->now), jv_string(sl_prog),
	    jv_copy(pid), jv_string_fmt("{\"update_id\":\"%s\"}",
	    p->id))) < 0) {
		rc = -1;
		goto out;
	}
	rec = record(p, "human.takeover", rep, jv_copy(m->chat), pid,
	    jv_copy(m->bc));
	rec = sl_set(rec, "msg", jv_copy(m->msg));
	rec = sl_set(rec, "at", time_jv(m->date));
	emit_later(p, rec);
	person_free(&w);
	return 0;
out:
	jv_free(owner);
	jv_free(pid);
	jv_free(rep);
	person_free(&w);
	return rc;
}

/* message, edited_message: direct chats with the bot. */
static int
on_message(struct upd *p, jv msg, int edit)
{
	struct tmsg m;
	jv rep_id;
	int rc = -1;

	if (parse_message(p, msg, p->kind, &m) < 0)
		goto out;
	rc = 0;
	if (jv_get_kind(m.chat_type) == JV_KIND_STRING &&
	    strcmp(jv_string_value(m.chat_type), "private") != 0) {
		sl_info("update %s: %s chat ignored", p->id,
		    jv_string_value(m.chat_type));
		goto out;
	}
	if (!edit && jv_get_kind(m.text) != JV_KIND_STRING &&
	    jv_array_length(jv_copy(m.attachments)) == 0) {
		sl_info("update %s: a message without text or media ignored",
		    p->id);
		goto out;
	}
	rep_id = direct_rep(p);
	if (p->dberr) {
		jv_free(rep_id);
		rc = -1;
		goto out;
	}
	rc = from_prospect(p, &m, rep_id, edit);
out:
	tmsg_free(&m);
	return rc;
}

/*
 * Keeps a BusinessConnection (borrowed) in reps: the rep whose
 * tg_user_id is its user, else the rep holding the connection, else a new
 * rep named after the user.  Emits rep.connection.
 */
static int
connection(struct upd *p, jv c)
{
	jv id = jv_null(), user = jv_null(), uid = jv_null(), rights, row;
	jv rep_id = jv_null(), name = jv_null(), rec;
	int enabled, can_reply = 0, r, rc = -1;
	int64_t date = 0;

	forget_rep(p->u);	/* it may change who that is */
	if (get_id(p, c, "business_connection.", "id", 1, &id) < 0 ||
	    get_obj(p, c, "business_connection.", "user", 1, &user) < 0 ||
	    get_id(p, user, "business_connection.user.", "id", 1, &uid) < 0 ||
	    get_date(p, c, "business_connection.", "date", &date) < 0)
		goto out;
	if ((r = sl_get_bool(c, "is_enabled", &enabled)) != 1) {
		bad(p, "'business_connection.is_enabled' %s", r == 0 ?
		    "is missing" : "is not a boolean");
		goto out;
	}
	if (sl_get_obj(c, "rights", &rights) == 1) {	/* Bot API 9.0 */
		if (sl_get_bool(rights, "can_reply", &can_reply) != 1)
			can_reply = 0;
		jv_free(rights);
	} else if (sl_get_bool(c, "can_reply", &can_reply) != 1) {
		can_reply = 0;				/* 7.2 to 8.3 */
	}
	row = x_row(p, "SELECT id, name FROM reps WHERE tg_user_id = $1 "
	    "ORDER BY id LIMIT 1", JV_ARRAY(jv_copy(uid)));
	if (jv_get_kind(row) == JV_KIND_NULL)
		row = x_row(p, "SELECT id, name FROM reps WHERE "
		    "business_connection = $1", JV_ARRAY(jv_copy(id)));
	if (jv_get_kind(row) == JV_KIND_NULL) {
		jv u = str_or_null(user, "username");
		const char *cand[2];
		char *lower = NULL, *tgname;
		int i;

		tgname = sl_asprintf("tg%s", jv_string_value(uid));
		if (jv_get_kind(u) == JV_KIND_STRING) {
			lower = sl_strdup(jv_string_value(u));
			for (i = 0; lower[i]; i++)
				if (lower[i] >= 'A' && lower[i] <= 'Z')
					lower[i] += 'a' - 'A';
		}
		jv_free(u);
		cand[0] = lower ? lower : tgname;
		cand[1] = tgname;
		for (i = 0; i < 2 && jv_get_kind(row) == JV_KIND_NULL; i++)
			row = x_row(p, "INSERT INTO reps (name, display_name, "
			    "tg_user_id, created_at, updated_at) VALUES ($1, "
			    "$2, $3, $4, $4) ON CONFLICT DO NOTHING "
			    "RETURNING id, name", JV_ARRAY(jv_string(cand[i]),
			    full_name(user), jv_copy(uid),
			    jv_number((double)p->now)));
		free(lower);
		free(tgname);
		if (jv_get_kind(row) == JV_KIND_NULL) {
			bad(p, "no name is free for the rep of user %s",
			    jv_string_value(uid));
			goto out;
		}
	}
	if (!jv_is_valid(row)) {
		jv_free(row);
		goto out;
	}
	rep_id = sl_tgu_col(row, "id");
	name = sl_tgu_col(row, "name");
	jv_free(row);
	if (x_exec(p, "UPDATE reps SET business_connection = NULL, "
	    "updated_at = $3 WHERE business_connection = $1 AND id <> $2",
	    JV_ARRAY(jv_copy(id), jv_copy(rep_id),
	    jv_number((double)p->now))) < 0 ||
	    x_exec(p, "UPDATE reps SET tg_user_id = $2, business_connection "
	    "= $3, business_enabled = $4, business_can_reply = $5, "
	    "updated_at = $6 WHERE id = $1", JV_ARRAY(jv_copy(rep_id),
	    jv_copy(uid), jv_copy(id), jv_number(enabled),
	    jv_number(can_reply), jv_number((double)p->now))) < 0)
		goto out;
	rec = sl_set(jv_object(), "type", jv_string("rep.connection"));
	rec = sl_set(rec, "channel", jv_string("telegram"));
	rec = sl_set(rec, "bot", jv_string(p->u->tg->bot));
	rec = sl_set(rec, "rep", jv_copy(name));
	rec = sl_set(rec, "business_connection", jv_copy(id));
	rec = sl_set(rec, "user", jv_copy(uid));
	rec = sl_set(rec, "enabled", jv_bool(enabled));
	rec = sl_set(rec, "can_reply", jv_bool(can_reply));
	rec = sl_set(rec, "at", time_jv(date ? date : p->now));
	emit_later(p, rec);
	rc = 0;
out:
	jv_free(id);
	jv_free(user);
	jv_free(uid);
	jv_free(rep_id);
	jv_free(name);
	return rc;
}

/* The rep holding connection bc: row {id, tg_user_id} or null. */
static jv
conn_rep(struct upd *p, jv bc)
{
	return x_row(p, "SELECT id, tg_user_id FROM reps WHERE "
	    "business_connection = $1", JV_ARRAY(jv_copy(bc)));
}

/* business_message, edited_business_message. */
static int
on_business(struct upd *p, jv msg, int edit)
{
	struct tmsg m;
	jv row = jv_null(), owner = jv_null(), from_id = jv_null();
	int rc = -1, mine;

	if (parse_message(p, msg, p->kind, &m) < 0)
		goto out;
	if (jv_get_kind(m.bc) != JV_KIND_STRING) {
		bad(p, "'%s.business_connection_id' is missing", p->kind);
		goto out;
	}
	if (jv_get_kind(m.from) != JV_KIND_OBJECT) {
		bad(p, "'%s.from' is missing", p->kind);
		goto out;
	}
	sl_get_id(m.from, "id", &from_id);
	row = conn_rep(p, m.bc);
	if (jv_get_kind(row) == JV_KIND_NULL &&
	    jv_get_kind(p->conn) == JV_KIND_OBJECT) {
		if (connection(p, p->conn) < 0)
			goto out;
		row = conn_rep(p, m.bc);
	}
	if (!jv_is_valid(row))
		goto out;
	owner = sl_tgu_col(row, "tg_user_id");
	if (jv_get_kind(owner) == JV_KIND_STRING)
		mine = jv_equal(jv_copy(owner), jv_copy(from_id));
	else	/* unknown owner: the customer's id is the chat's */
		mine = !jv_equal(jv_copy(m.chat), jv_copy(from_id));
	rc = 0;
	if (mine && m.bot_sent) {
		sl_info("update %s: sent by a bot for the rep: ignored", p->id);
	} else if (mine && m.offline) {
		sl_info("update %s: the rep's away message: ignored", p->id);
	} else if (mine) {
		rc = from_rep(p, &m, sl_tgu_col(row, "id"), from_id, edit);
		from_id = jv_null();
	} else {
		rc = from_prospect(p, &m, sl_tgu_col(row, "id"), edit);
	}
out:
	jv_free(row);
	jv_free(owner);
	jv_free(from_id);
	tmsg_free(&m);
	return rc;
}

/* callback_query: already answered; the record for the agent. */
static int
on_callback(struct upd *p, jv q)
{
	struct person w = { jv_null(), jv_null(), jv_null(), jv_null() };
	jv from = jv_null(), msg = jv_null(), chat = jv_null(), bc = jv_null();
	jv mid = jv_null(), data = jv_null(), chat_obj = jv_null(), type;
	jv pid = jv_null(), rep = jv_null(), rec, id = jv_null(), rep_id;
	int human, rc = -1;

	if (get_obj(p, q, "callback_query.", "from", 1, &from) < 0 ||
	    get_id(p, from, "callback_query.from.", "id", 1, &id) < 0 ||
	    get_str(p, q, "callback_query.", "data", &data) < 0 ||
	    get_obj(p, q, "callback_query.", "message", 0, &msg) < 0)
		goto out;
	person_of(from, id, &w);
	id = jv_null();
	if (jv_get_kind(msg) == JV_KIND_OBJECT) {
		if (get_obj(p, msg, "callback_query.message.", "chat", 1,
		    &chat_obj) < 0 || get_id(p, chat_obj,
		    "callback_query.message.chat.", "id", 1, &chat) < 0 ||
		    get_id(p, msg, "callback_query.message.", "message_id", 0,
		    &mid) < 0 || get_id(p, msg, "callback_query.message.",
		    "business_connection_id", 0, &bc) < 0)
			goto out;
		type = str_or_null(chat_obj, "type");
		if (jv_get_kind(type) == JV_KIND_STRING &&
		    strcmp(jv_string_value(type), "private") != 0) {
			sl_info("update %s: %s chat ignored", p->id,
			    jv_string_value(type));
			jv_free(type);
			rc = 0;
			goto out;
		}
		jv_free(type);
	} else {
		chat = jv_copy(w.id);
	}
	if (jv_get_kind(bc) == JV_KIND_STRING) {
		jv row = conn_rep(p, bc);

		if (!jv_is_valid(row)) {
			jv_free(row);
			goto out;
		}
		rep_id = sl_tgu_col(row, "id");
		jv_free(row);
	} else {
		rep_id = direct_rep(p);
	}
	if (p->dberr || prospect(p, bc, chat, rep_id, &w, p->now, &pid, &rep,
	    &human) < 0 || cancel_followups(p, pid, "client_wrote") < 0)
		goto out;
	rec = record(p, "callback", rep, jv_copy(chat), pid, jv_copy(bc));
	pid = rep = jv_null();
	rec = sl_set(rec, "msg", jv_copy(mid));
	rec = sl_set(rec, "data", jv_copy(data));
	rec = sl_set(rec, "from", person_jv(&w));
	rec = sl_set(rec, "at", time_jv(p->now));
	emit_later(p, rec);
	rc = 0;
out:
	person_free(&w);
	jv_free(id);
	jv_free(from);
	jv_free(msg);
	jv_free(chat);
	jv_free(chat_obj);
	jv_free(bc);
	jv_free(mid);
	jv_free(data);
	jv_free(pid);
	jv_free(rep);
	return rc;
}

/* deleted_business_messages: new messages never to be answered. */
static int
on_deleted(struct upd *p, jv d)
{
	jv bc = jv_null(), chat_obj = jv_null(), chat = jv_null();
	jv ids = jv_null();
	jv msgs = jv_array(), row = jv_null(), rec, pid, rep;
	int i, n, rc = -1;

	if (get_id(p, d, "deleted_business_messages.",
	    "business_connection_id", 1, &bc) < 0 ||
	    get_obj(p, d, "deleted_business_messages.", "chat", 1,
	    &chat_obj) < 0 || get_id(p, chat_obj,
	    "deleted_business_messages.chat.", "id", 1, &chat) < 0)
		goto out;
	if (sl_get_arr(d, "message_ids", &ids) != 1) {
		bad(p, "'deleted_business_messages.message_ids' is not an "
		    "array");
		goto out;
	}
	n = jv_array_length(jv_copy(ids));
	for (i = 0; i < n; i++) {
		jv one = sl_set(jv_object(), "m",
		    jv_array_get(jv_copy(ids), i));
		jv mid;

		if (sl_get_id(one, "m", &mid) != 1) {
			jv_free(one);
			bad(p, "'deleted_business_messages.message_ids' holds "
			    "something that is not an id");
			goto out;
		}
		jv_free(one);
		if (x_exec(p, "UPDATE messages SET status = 'ignored', "
		    "updated_at = $2 WHERE key = $1 AND status = 'new'",
		    JV_ARRAY(jv_string_fmt("tg:in:%s:%s:%s:%s", p->u->tg->bot,
		    jv_string_value(bc), jv_string_value(chat),
		    jv_string_value(mid)), jv_number((double)p->now))) < 0) {
			jv_free(mid);
			goto out;
		}
		msgs = jv_array_append(msgs, mid);
	}
	row = x_row(p, "SELECT id, rep_id FROM prospects WHERE channel = "
	    "'telegram' AND business_connection = $1 AND chat = $2",
	    JV_ARRAY(jv_copy(bc), jv_copy(chat)));
	if (!jv_is_valid(row))
		goto out;
	pid = id_str(sl_tgu_col(row, "id"));
	rep = rep_name(p, sl_tgu_col(row, "rep_id"));
	if (!jv_is_valid(rep)) {
		jv_free(pid);
		goto out;
	}
	rec = record(p, "message.deleted", rep, jv_copy(chat), pid,
	    jv_copy(bc));
	rec = sl_set(rec, "msgs", msgs);
	msgs = jv_null();
	rec = sl_set(rec, "at", time_jv(p->now));
	emit_later(p, rec);
	rc = 0;
out:
	jv_free(bc);
	jv_free(chat_obj);
	jv_free(chat);
	jv_free(ids);
	jv_free(msgs);
	jv_free(row);
	return rc;
}

/* my_chat_member: a person blocking the bot (kicked) or coming back. */
static int
on_member(struct upd *p, jv c)
{
	jv chat_obj = jv_null(), chat = jv_null(), member = jv_null();
	jv type = jv_null(), status = jv_null();
	int rc = -1, kicked;

	if (get_obj(p, c, "my_chat_member.", "chat", 1, &chat_obj) < 0 ||
	    get_id(p, chat_obj, "my_chat_member.chat.", "id", 1, &chat) < 0 ||
	    get_obj(p, c, "my_chat_member.", "new_chat_member", 1,
	    &member) < 0 || get_str(p, member,
	    "my_chat_member.new_chat_member.", "status", &status) < 0)
		goto out;
	rc = 0;
	type = str_or_null(chat_obj, "type");
	if (jv_get_kind(status) != JV_KIND_STRING ||
	    (jv_get_kind(type) == JV_KIND_STRING &&
	    strcmp(jv_string_value(type), "private") != 0))
		goto out;
	kicked = strcmp(jv_string_value(status), "kicked") == 0;
	if (!kicked && strcmp(jv_string_value(status), "member") != 0)
		goto out;
	if (x_exec(p, "UPDATE prospects SET unreachable = $1, updated_at = $2 "
	    "WHERE channel = 'telegram' AND business_connection = '' AND "
	    "chat = $3", JV_ARRAY(jv_number(kicked), jv_number((double)p->now),
	    jv_copy(chat))) < 0)
		rc = -1;
	else
		sl_info("update %s: chat %s %s the bot", p->id,
		    jv_string_value(chat), kicked ? "blocked" : "unblocked");
out:
	jv_free(chat_obj);
	jv_free(chat);
	jv_free(member);
	jv_free(type);
	jv_free(status);
	return rc;
}

const char *
sl_tgu_kind(jv upd, char *buf, size_t size)
{
	jv keys, k;
	int i, n;

	for (i = 0; kinds[i]; i++) {
		jv v = jv_object_get(jv_copy(upd), jv_string(kinds[i]));
		int there = jv_is_valid(v);

		jv_free(v);
		if (there)
			return kinds[i];
	}
	keys = jv_keys(jv_copy(upd));
	n = jv_array_length(jv_copy(keys));
	buf[0] = '\0';
	for (i = 0; i < n && !buf[0]; i++) {
		k = jv_array_get(jv_copy(keys), i);
		if (strcmp(jv_string_value(k), "update_id") != 0)
			snprintf(buf, size, "%s", jv_string_value(k));
		jv_free(k);
	}
	jv_free(keys);
	return buf[0] ? buf : NULL;
}

/* Dispatches p's update (borrowed) to its kind's handler. */
static int
normalise(struct upd *p, jv upd)
{
	jv payload = jv_object_get(jv_copy(upd), jv_string(p->kind));
	int rc = 0;

	if (jv_get_kind(payload) != JV_KIND_OBJECT) {
		rc = bad(p, "'%s' is %s, not an object", p->kind,
		    sl_kind_name(payload));
	} else if (strcmp(p->kind, "message") == 0 ||
	    strcmp(p->kind, "edited_message") == 0) {
		rc = on_message(p, payload, p->kind[0] == 'e');
	} else if (strcmp(p->kind, "business_message") == 0 ||
	    strcmp(p->kind, "edited_business_message") == 0) {
		rc = on_business(p, payload, p->kind[0] == 'e');
	} else if (strcmp(p->kind, "callback_query") == 0) {
		rc = on_callback(p, payload);
	} else if (strcmp(p->kind, "business_connection") == 0) {
		rc = connection(p, payload);
	} else if (strcmp(p->kind, "deleted_business_messages") == 0) {
		rc = on_deleted(p, payload);
	} else if (strcmp(p->kind, "my_chat_member") == 0) {
		rc = on_member(p, payload);
	} else {
		sl_info("update %s: kind '%s' not handled", p->id, p->kind);
	}
	jv_free(payload);
	return rc;
}

/*
 * Updates are normalised in groups: one transaction for up to GROUP_MAX
 * stored updates that come without a call to Telegram between them, each
 * update inside a savepoint of its own, so that a malformed one is undone
 * alone.  The group's records are written after its commit.
 */
struct group {
	int open;		/* its transaction is */
	int n;			/* updates in it */
	jv out;			/* records to write after the commit */
};

/* Commits the group, then writes its records: 0, or an exit status. */
static int
group_end(struct sl_tgu *u, struct group *g)
{
	int i, len, rc = 0;

	forget_rep(u);
	if (g->open) {
		g->open = 0;
		g->n = 0;
		if (sl_db_commit(u->db) < 0) {
			sl_error("%s", sl_db_error(u->db));
			jv_free(g->out);
			g->out = jv_array();
			return sl_db_exit_code(u->db);
		}
	}
	len = jv_array_length(jv_copy(g->out));
	for (i = 0; i < len && rc == 0; i++)
		if (sl_emit_more(jv_array_get(jv_copy(g->out), i)) < 0)
			rc = SL_EX_IOERR;
	if (len > 0 && sl_out_flush() < 0)
		rc = SL_EX_IOERR;
	jv_free(g->out);
	g->out = jv_array();
	return rc;
}

/* Drops the group after a failure: none of it is processed. */
static void
group_abort(struct sl_tgu *u, struct group *g)
{
	forget_rep(u);
	if (g->open)
		sl_db_rollback(u->db);
	g->open = 0;
	g->n = 0;
	jv_free(g->out);
	g->out = jv_array();
}

/*
 * Calls to Telegram that belong before the update is claimed: answering
 * a callback query (at once, so the client stops spinning; a failure is
 * only a warning) and looking up a business connection not seen yet.
 * The group so far is committed first, so that no transaction stays open
 * across a call.  Returns 0, or an exit status.
 */
static int
before(struct upd *p, jv upd, struct group *g)
{
	struct sl_tg_error err;
	jv payload, v, row;
	int rc = 0;

	if (!p->u->tg)
		return 0;
	payload = jv_object_get(jv_copy(upd), jv_string(p->kind));
	if (jv_get_kind(payload) != JV_KIND_OBJECT) {
		jv_free(payload);
		return 0;
	}
	if (strcmp(p->kind, "callback_query") == 0 &&
	    sl_get_id(payload, "id", &v) == 1) {
		struct sl_tg_opts o = { 10000, 1, 1, 0 };

		if ((rc = group_end(p->u, g)) != 0) {
			jv_free(v);
			jv_free(payload);
			return rc;
		}
		v = sl_tg_call(p->u->tg, "answerCallbackQuery",
		    sl_set(jv_object(), "callback_query_id", v), &o, &err);
		if (!jv_is_valid(v))
			sl_warn("update %s: answerCallbackQuery: %s", p->id,
			    err.description);
		jv_free(v);
	} else if (strstr(p->kind, "business_message") &&
	    sl_get_id(payload, "business_connection_id", &v) == 1) {
		row = sl_db_query1(p->u->db, "SELECT id FROM reps WHERE "
		    "business_connection = $1", JV_ARRAY(jv_copy(v)));
		if (jv_get_kind(row) == JV_KIND_NULL &&
		    (rc = group_end(p->u, g)) == 0) {
			struct sl_tg_opts o = { 10000, 2, 1, 0 };

			p->conn = sl_tg_call(p->u->tg, "getBusinessConnection",
			    sl_set(jv_object(), "business_connection_id",
			    jv_copy(v)), &o, &err);
			if (jv_get_kind(p->conn) != JV_KIND_OBJECT) {
				sl_warn("update %s: getBusinessConnection: %s",
				    p->id, jv_is_valid(p->conn) ?
				    "not an object" : err.description);
				jv_free(p->conn);
				p->conn = jv_null();
			}
		}
		jv_free(row);
		jv_free(v);
	}
	jv_free(payload);
	return rc;
}

/* Marks update row id processed (in the group's transaction if open). */
static int
mark(struct sl_tgu *u, jv id, int64_t now)
{
	return sl_db_exec(u->db, "UPDATE updates SET processed_at = $2 WHERE "
	    "id = $1 AND processed_at IS NULL", JV_ARRAY(id,
	    jv_number((double)now))) < 0 ? -1 : 0;
}

static int
savepoint(struct sl_tgu *u, const char *sql)
{
	return sl_db_exec(u->db, sql, jv_null()) < 0 ? -1 : 0;
}

/*
 * The update of stored row id: the one stored by this process when it is
 * still at hand, else the stored text parsed; null when there is none,
 * invalid after a failure of the ledger.
 */
static jv
update_of(struct sl_tgu *u, jv id, jv uid)
{
	jv upd = jv_invalid(), row, raw;

	if (jv_get_kind(uid) == JV_KIND_STRING)
		upd = jv_object_get(jv_copy(u->cache), jv_copy(uid));
	if (jv_is_valid(upd))
		return upd;
	jv_free(upd);
	row = sl_db_query1(u->db, "SELECT raw FROM updates WHERE id = $1",
	    JV_ARRAY(jv_copy(id)));
	if (!jv_is_valid(row))
		return row;
	raw = sl_tgu_col(row, "raw");
	upd = jv_get_kind(raw) == JV_KIND_STRING ?
	    sl_parse(jv_string_value(raw),
	    (size_t)jv_string_length_bytes(jv_copy(raw))) : jv_null();
	jv_free(raw);
	jv_free(row);
	return upd;
}

/*
 * Normalises the stored update row {id, update_id} (consumed) in group g:
 * claim and records in a savepoint.  Returns 0 or an exit status (the
 * group is then dropped).
 */
static int
process_one(struct sl_tgu *u, jv row, struct group *g)
{
	struct upd p;
	jv id = sl_tgu_col(row, "id"), uid = id_str(sl_tgu_col(row, "update_id"));
	jv upd = update_of(u, id, uid);
	char kbuf[64];
	long n;
	int rc = 0;

	memset(&p, 0, sizeof p);
	p.u = u;
	p.id = jv_get_kind(uid) == JV_KIND_STRING ? jv_string_value(uid) : "?";
	p.now = sl_now();
	p.conn = jv_null();
	p.out = jv_array();
	if (!jv_is_valid(upd))
		goto dberr;
	if (jv_get_kind(upd) != JV_KIND_OBJECT ||
	    !(p.kind = sl_tgu_kind(upd, kbuf, sizeof kbuf))) {
		bad(&p, "%s", jv_get_kind(upd) == JV_KIND_OBJECT ?
		    "no payload" : "stored text is not an update");
		goto rejected;
	}
	if ((rc = before(&p, upd, g)) != 0)
		goto out;
	if (!g->open) {
		if (sl_db_begin_claim(u->db) < 0)
			goto dberr;
		g->open = 1;
	}
	g->n++;
	if (savepoint(u, "SAVEPOINT sl_update") < 0)
		goto dberr;
	n = sl_db_exec(u->db, "UPDATE updates SET processed_at = $2 WHERE "
	    "id = $1 AND processed_at IS NULL", JV_ARRAY(jv_copy(id),
	    jv_number((double)p.now)));
	if (n < 0)
		goto dberr;
	if (n > 0 && normalise(&p, upd) < 0) {
		if (p.dberr) {
			if (sl_db_temporary(u->db))
				goto dberr;
			/* about this update's data, say: skip it */
			bad(&p, "ledger: %s", sl_db_error(u->db));
		}
		if (savepoint(u, "ROLLBACK TO sl_update") < 0 ||
		    savepoint(u, "RELEASE sl_update") < 0)
			goto dberr;
		goto rejected;
	}
	/* n == 0: another process has it */
	if (savepoint(u, "RELEASE sl_update") < 0)
		goto dberr;
	g->out = jv_array_concat(g->out, p.out);
	p.out = jv_array();
	goto out;
rejected:
	sl_error("update %s: %s", p.id, p.why);
	u->rejected++;
	if (mark(u, jv_copy(id), p.now) < 0) {
		sl_error("%s", sl_db_error(u->db));
		rc = sl_db_exit_code(u->db);
		group_abort(u, g);
	}
	goto out;
dberr:
	sl_error("update %s: %s", p.id, sl_db_error(u->db));
	rc = sl_db_exit_code(u->db);
	group_abort(u, g);
out:
	jv_free(p.conn);
	jv_free(p.out);
	jv_free(upd);
	jv_free(uid);
	jv_free(id);
	jv_free(row);
	return rc;
}

int
sl_tgu_process(struct sl_tgu *u)
{
	struct group g = { 0, 0, jv_array() };
	double last = -1;
	jv rows, row, v;
	int i, n = 0, rc = 0;

	do {
		rows = sl_db_query(u->db, "SELECT id, update_id FROM "
		    "updates WHERE channel = 'telegram' AND bot = $1 AND "
		    "processed_at IS NULL AND update_id > $2 "
		    "ORDER BY update_id LIMIT " STR(PENDING_BATCH),
		    JV_ARRAY(jv_string(u->tg->bot), jv_number(last)));
		if (!jv_is_valid(rows)) {
			jv_free(rows);
			sl_error("%s", sl_db_error(u->db));
			rc = sl_db_exit_code(u->db);
			group_abort(u, &g);
			break;
		}
		n = jv_array_length(jv_copy(rows));
		for (i = 0; i < n && rc == 0; i++) {
			row = jv_array_get(jv_copy(rows), i);
			v = sl_tgu_col(row, "update_id");
			if (jv_get_kind(v) == JV_KIND_NUMBER)
				last = jv_number_value(v);
			jv_free(v);
			rc = process_one(u, row, &g);
			if (rc == 0 && g.n >= GROUP_MAX)
				rc = group_end(u, &g);
		}
		jv_free(rows);
	} while (rc == 0 && n == PENDING_BATCH);
	if (rc == 0)
		rc = group_end(u, &g);
	group_abort(u, &g);	/* open only after a failure */
	jv_free(g.out);
	jv_free(u->cache);
	u->cache = jv_object();
	return rc;
}

