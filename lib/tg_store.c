/*
 * tg_store.c: the store step of tg_update.h: updates into `updates` with
 * the bot's offset, as Telegram sent them; and the receiver's handle.
 */
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

/* Best effort: payload.path (ids only), for the chat and connection columns. */
static jv
dig(jv upd, const char *kind, const char *a, const char *b)
{
	jv v = jv_object_get(jv_copy(upd), jv_string(kind)), o, id;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return jv_null();
	}
	if (b) {
		if (sl_get_obj(v, a, &o) != 1) {
			jv_free(v);
			return jv_null();
		}
		jv_free(v);
		v = o;
		a = b;
	}
	if (sl_get_id(v, a, &id) != 1)
		id = jv_null();
	jv_free(v);
	return id;
}

/*
 * Inserts one checked update (borrowed): 1 when it is new (and then in
 * *fresh under its update_id), 0 when it was stored before, -1 on a
 * ledger failure.
 */
static int
insert(struct sl_tgu *u, jv upd, int64_t uid, int64_t now, jv *fresh,
    const char *text, size_t text_len)
{
	char kbuf[64];
	const char *kind = sl_tgu_kind(upd, kbuf, sizeof kbuf);
	jv chat, bc;
	size_t len;
	char *raw = NULL;
	long n;

	chat = kind ? dig(upd, kind, "chat", "id") : jv_null();
	if (kind && jv_get_kind(chat) == JV_KIND_NULL)
		chat = dig(upd, kind, "user_chat_id", NULL);
	bc = kind ? dig(upd, kind, "business_connection_id", NULL) : jv_null();
	if (kind && strcmp(kind, "business_connection") == 0) {
		jv_free(bc);
		bc = dig(upd, kind, "id", NULL);
	}
	/* a NUL byte cannot be stored as text: write the parsed value */
	if (text && memchr(text, '\0', text_len))
		text = NULL;
	if (!text) {
		raw = sl_json_dump(upd, &len);
		text = raw;
		text_len = len;
	}
	n = sl_db_exec(u->db, "INSERT INTO updates (channel, bot, update_id, "
	    "kind, chat, business_connection, raw, received_at) VALUES "
	    "('telegram', $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel, "
	    "bot, update_id) DO NOTHING", JV_ARRAY(jv_string(u->tg->bot),
	    jv_number((double)uid), kind ? jv_string(kind) : jv_null(), chat,
	    bc, jv_string_sized(text, (int)text_len), jv_number((double)now)));
	free(raw);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	*fresh = jv_object_set(*fresh, sl_id_jv(uid), jv_copy(upd));
	return 1;
}

/*
 * The update_id of entry i of a batch (-1: a lone update; borrowed), or
 * -1 after reporting it.
 */
static int
check(struct sl_tgu *u, jv upd, int i, int64_t *uid)
{
	char where[32] = "the update";
	int r;

	if (i >= 0)
		snprintf(where, sizeof where, "entry %d", i);
	if (jv_get_kind(upd) != JV_KIND_OBJECT) {
		sl_error("update ?: %s is %s, not an object", where,
		    sl_kind_name(upd));
		u->rejected++;
		return -1;
	}
	if ((r = sl_get_int(upd, "update_id", uid)) != 1) {
		sl_error("update ?: %s: 'update_id' %s", where,
		    r == 0 ? "is missing" : "is not an integer");
		u->rejected++;
		return -1;
	}
	return 0;
}

/* Reports the ledger's failure, rolls back, returns its exit status. */
static int
fail(struct sl_tgu *u)
{
	int code = sl_db_exit_code(u->db);

	sl_error("%s", sl_db_error(u->db));
	sl_db_rollback(u->db);
	return code;
}

/*
 * Finding the updates in the text of a getUpdates answer, which has been
 * parsed already (so it is JSON): only the structure is followed.
 */
static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* The end of the value that starts at s[i]; i when there is none. */
static size_t
value_end(const char *s, size_t i, size_t n)
{
	size_t start = i;
	int depth = 0, str = 0;

	for (; i < n; i++) {
		if (str) {
			if (s[i] == '\\') {
				i++;
			} else if (s[i] == '"') {
				str = 0;
				if (depth == 0)
					return i + 1;
			}
			continue;
		}
		switch (s[i]) {
		case '"':
			str = 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return i;
			break;
		}
	}
	return depth == 0 && !str ? n : start;
}

/*
 * Where the n entries of the answer's top-level "result" array are in s:
 * off[i], len[i].  Returns 0, or -1 when the text does not show them.
 */
static int
result_spans(const char *s, size_t n, int count, size_t *off, size_t *len)
{
	size_t i = skip_ws(s, 0, n), k, ke, e, rs = 0, re = 0;
	int c;

	if (i >= n || s[i] != '{')
		return -1;
	for (i = skip_ws(s, i + 1, n); i < n && s[i] != '}';) {
		k = i;
		if (s[i] != '"' || (ke = value_end(s, i, n)) == i ||
		    memchr(s + k, '\\', ke - k))
			return -1;	/* an escaped key: leave it to the parse */
		i = skip_ws(s, ke, n);
		if (i >= n || s[i] != ':')
			return -1;
		i = skip_ws(s, i + 1, n);
		if ((e = value_end(s, i, n)) == i)
			return -1;
		if (ke - k == 8 && memcmp(s + k, "\"result\"", 8) == 0) {
			rs = i;	/* the last one counts, as in the parse */
			re = e;
		}
		i = skip_ws(s, e, n);
		if (i < n && s[i] == ',')
			i = skip_ws(s, i + 1, n);
	}
	if (re == 0 || s[rs] != '[')
		return -1;
	for (c = 0, i = skip_ws(s, rs + 1, re); i < re && s[i] != ']'; c++) {
		if (c >= count || (e = value_end(s, i, re)) == i)
			return -1;
		off[c] = i;
		len[c] = e - i;
		i = skip_ws(s, e, re);
		if (i < re && s[i] == ',')
			i = skip_ws(s, i + 1, re);
	}
	return c == count ? 0 : -1;
}

int
sl_tgu_store_batch(struct sl_tgu *u, jv result, const char *body,
    size_t body_len, int64_t *offset)
{
	int64_t now = sl_now(), uid, max = 0;
	int i, n, any = 0, rc = 0;
	size_t *off = NULL, *len = NULL;
	jv fresh;

	if (jv_get_kind(result) != JV_KIND_ARRAY) {
		sl_error("getUpdates: the result is %s, not an array",
		    sl_kind_name(result));
		u->rejected++;
		jv_free(result);
		return 0;
	}
	n = jv_array_length(jv_copy(result));
	if (n == 0) {
		jv_free(result);
		/* a quiet bot still polls: health reads the time */
		if (now - u->beat < 30)
			return 0;
		u->beat = now;
		if (sl_db_exec(u->db, "UPDATE bots SET last_fetch_at = $2 "
		    "WHERE id = $1", JV_ARRAY(jv_string(u->tg->bot),
		    jv_number((double)now))) < 0)
			sl_warn("bots.last_fetch_at: %s", sl_db_error(u->db));
		return 0;
	}
	if (sl_db_begin_claim(u->db) < 0) {
		jv_free(result);
		return fail(u);
	}
	if (body) {
		off = sl_calloc((size_t)n, sizeof *off);
		len = sl_calloc((size_t)n, sizeof *len);
		if (result_spans(body, body_len, n, off, len) < 0) {
			free(off);
			free(len);
			off = len = NULL;
		}
	}
	fresh = jv_object();
	for (i = 0; i < n; i++) {
		jv upd = jv_array_get(jv_copy(result), i);

		if (check(u, upd, i, &uid) == 0) {
			if (insert(u, upd, uid, now, &fresh, off ? body + off[i] :
			    NULL, off ? len[i] : 0) < 0) {
				jv_free(upd);
				rc = -1;
				break;
			}
			if (!any || uid > max)
				max = uid;
			any = 1;
		}
		jv_free(upd);
	}
	free(off);
	free(len);
	jv_free(result);
	if (rc == 0 && any && sl_db_exec(u->db, "INSERT INTO bots (id, "
	    "update_offset, last_fetch_at, created_at, updated_at) VALUES ($1, "
	    "$2, $3, $3, $3) ON CONFLICT (id) DO UPDATE SET update_offset = "
	    "excluded.update_offset, last_fetch_at = excluded.last_fetch_at, "
	    "updated_at = excluded.updated_at", JV_ARRAY(jv_string(u->tg->bot),
	    jv_number((double)(max + 1)), jv_number((double)now))) < 0)
		rc = -1;
	if (rc < 0 || sl_db_commit(u->db) < 0) {
		jv_free(fresh);
		return fail(u);
	}
	/* normalised from these, not from the stored text read back */
	u->cache = jv_object_merge(u->cache, fresh);
	if (any)
		*offset = max + 1;
	return 0;
}

int
sl_tgu_store_one(struct sl_tgu *u, jv update)
{
	int64_t uid;
	int rc = 0;

	if (check(u, update, -1, &uid) < 0)
		rc = SL_EX_DATAERR;
	else if (insert(u, update, uid, sl_now(), &u->cache, NULL, 0) < 0)
		rc = fail(u);
	jv_free(update);
	return rc;
}

int
sl_tgu_offset(struct sl_tgu *u, int64_t *offset)
{
	jv row = sl_db_query1(u->db, "SELECT update_offset FROM bots WHERE "
	    "id = $1", JV_ARRAY(jv_string(u->tg->bot))), v;

	if (!jv_is_valid(row)) {
		jv_free(row);
		return fail(u);
	}
	v = sl_tgu_col(row, "update_offset");
	*offset = jv_get_kind(v) == JV_KIND_NUMBER ?
	    (int64_t)jv_number_value(v) : 0;
	jv_free(v);
	jv_free(row);
	return 0;
}

unsigned long
sl_tgu_rejected(const struct sl_tgu *u)
{
	return u->rejected;
}

struct sl_tgu *
sl_tgu_new(struct sl_db *db, struct sl_tg *tg, const char *rep, int *code)
{
	struct sl_tgu *u;
	jv row;

	*code = 0;
	u = sl_calloc(1, sizeof *u);
	u->db = db;
	u->tg = tg;
	u->rep_id = jv_null();
	u->cache = jv_object();
	u->direct = jv_invalid();
	if (!rep)
		rep = sl_env("SALESLINE_REP", NULL);
	if (!rep)
		return u;
	row = sl_db_query1(db, "SELECT id FROM reps WHERE name = $1",
	    JV_ARRAY(jv_string(rep)));
	if (jv_get_kind(row) == JV_KIND_OBJECT) {
		u->rep_id = sl_tgu_col(row, "id");
		jv_free(row);
		return u;
	}
	if (jv_is_valid(row)) {
		sl_error("rep '%s' is not in the ledger (--rep or "
		    "SALESLINE_REP)", rep);
		*code = SL_EX_CONFIG;
	} else {
		sl_error("%s", sl_db_error(db));
		*code = sl_db_exit_code(db);
	}
	jv_free(row);
	sl_tgu_free(u);
	return NULL;
}

void
sl_tgu_free(struct sl_tgu *u)
{
	if (!u)
		return;
	jv_free(u->rep_id);
	jv_free(u->cache);
	jv_free(u->direct);
	free(u);
}
