/*
 * telegram_ctl.c: the test's side of fake-api's Telegram: the control
 * endpoints under /_fake/telegram/ (tests/fake/README lists them) and the
 * generator of prospect messages.
 *
 * The bot a control request is about: ?token=T (or "token" in the body),
 * else the first -t token, else the only bot used so far; otherwise 400.
 * The logs (sent, actions, callbacks, edits) without a token are those of
 * every bot.
 *
 * The generator (POST /_fake/telegram/generate) is a thread that injects
 * count prospect messages, one every interval_ms (0: as fast as it can),
 * over chats chats 880000000+i ("Prospect i", i from 1; language ru for
 * odd i, en for even), the fraction business of them (spread evenly)
 * through business connections: first one business_connection update per
 * connection (owner 500100200 "Ivan", id "QkNfZ2VuXzAwMQ" = base64 of
 * BC_gen_001; more with "connections": N), then business_message updates
 * in those chats.  Texts are "gen <n> chat <chat id>", n from 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "jsonl.h"
#include "sl.h"
#include "telegram.h"

/*
 * The generator: count prospect messages over chats chats, a fraction
 * business of them through business connections.
 */

/* "BC_gen_001" in base64 without padding, as Telegram's ids look. */
static char *
gen_conn_id(long k)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
	    "stuvwxyz0123456789+/";
	char raw[32], out[64];
	size_t n, i, o = 0;
	unsigned long v;

	n = (size_t)snprintf(raw, sizeof raw, "BC_gen_%03ld", k);
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)(unsigned char)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)(unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned long)(unsigned char)raw[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
	return sl_strdup(out);
}

/* Is generated chat i (1-based) a business chat? Spread evenly. */
static int
gen_is_business(const struct tg_worker *w, long i)
{
	return (long)(i * w->business + 1e-9) >
	    (long)((i - 1) * w->business + 1e-9);
}

/* Connection k (1-based) of the generator; owner 500100200 + k - 1. */
static jv
gen_connection(long k)
{
	jv user = jv_object(), bc = jv_object(), rights = jv_object();
	char *id = gen_conn_id(k);
	long long owner = 500100200LL + k - 1;

	user = sl_set(user, "id", jv_number((double)owner));
	user = sl_set(user, "is_bot", jv_false());
	user = sl_set(user, "first_name", jv_string(k == 1 ? "Ivan" :
	    "Rep"));
	if (k > 1)
		user = sl_set(user, "last_name", sl_id_jv(k));
	user = sl_set(user, "username", k == 1 ? jv_string("ivan_sales") :
	    jv_string_fmt("rep_%ld", k));
	rights = sl_set(rights, "can_reply", jv_true());
	rights = sl_set(rights, "can_read_messages", jv_true());
	bc = sl_set(bc, "id", jv_string(id));
	bc = sl_set(bc, "user", user);
	bc = sl_set(bc, "user_chat_id", jv_number((double)owner));
	bc = sl_set(bc, "date", jv_number((double)tg_unix_now()));
	bc = sl_set(bc, "rights", rights);
	bc = sl_set(bc, "is_enabled", jv_true());
	free(id);
	return sl_set(jv_object(), "business_connection", bc);
}

/* Message n (1-based) of the generator. */
static jv
gen_message(const struct tg_worker *w, long n, long *nbiz)
{
	long i = (n - 1) % w->chats + 1, bi;
	long long chat = 880000000LL + i;
	jv from = jv_object(), c = jv_object(), m = jv_object();
	char name[32], *id;
	int biz = gen_is_business(w, i);

	snprintf(name, sizeof name, "Prospect %ld", i);
	from = sl_set(from, "id", jv_number((double)chat));
	from = sl_set(from, "is_bot", jv_false());
	from = sl_set(from, "first_name", jv_string(name));
	from = sl_set(from, "language_code", jv_string(i % 2 ? "ru" : "en"));
	c = sl_set(c, "id", jv_number((double)chat));
	c = sl_set(c, "first_name", jv_string(name));
	c = sl_set(c, "type", jv_string("private"));
	if (biz) {
		/* The business chats in order, round-robin over conns. */
		for (bi = 0, *nbiz = 0; bi < i; bi++)
			if (gen_is_business(w, bi + 1))
				(*nbiz)++;
		id = gen_conn_id((*nbiz - 1) % w->conns + 1);
		m = sl_set(m, "business_connection_id", jv_string(id));
		free(id);
	}
	m = sl_set(m, "from", from);
	m = sl_set(m, "chat", c);
	m = sl_set(m, "text", jv_string_fmt("gen %ld chat %lld", n, chat));
	return sl_set(jv_object(), biz ? "business_message" : "message", m);
}

static void *
gen_main(void *arg)
{
	struct tg_worker *w = arg;
	struct timespec ts = { 0, 100000 };
	long k, nbiz;
	long long id, next = 0, now;
	int stop = 0;

	fake_lock();
	for (k = 1; k <= w->conns && !stop; k++) {
		if (atomic_load(&w->stop) || !w->bot)
			stop = 1;
		else
			tg_inject(w->bot, gen_connection(k), &id);
	}
	while (!stop && w->produced < w->count) {
		if (atomic_load(&w->stop) || !w->bot)
			break;
		now = fake_now_ms();
		if (w->interval_ms > 0 && now < next) {
			if (fake_wait((long)(next - now)) < 0)
				break;
			continue;
		}
		tg_inject(w->bot, gen_message(w, w->produced + 1, &nbiz), &id);
		w->produced++;
		next = now + w->interval_ms;
		if (w->interval_ms == 0 && w->produced % 64 == 0) {
			/* Let requests in between. */
			fake_unlock();
			nanosleep(&ts, NULL);
			fake_lock();
		}
	}
	w->done = 1;
	w->exited = 1;
	fake_unlock();
	return NULL;
}

/*
 * Control endpoints: /_fake/telegram/...
 */

/* The bot a control request is about, or NULL after answering 400. */
static struct tg_bot *
ctl_bot(const struct fake_req *req, jv params, struct fake_resp *resp,
    int create)
{
	const char *t;
	struct tg_bot *b;
	size_t n = 0;

	if (sl_get_str(params, "token", &t) == 1 ||
	    sl_get_str(req->query, "token", &t) == 1) {
		if (!tg_accepted(t, strlen(t))) {
			tg_ctl_error(resp, 400, "fake-api: the token is not "
			    "accepted (see -t)");
			return NULL;
		}
		return create ? tg_bot_for(t, strlen(t)) :
		    tg_bot_find(t, strlen(t));
	}
	if (tg_ntokens)
		return create ? tg_bot_for(tg_tokens[0], strlen(tg_tokens[0])) :
		    tg_bot_find(tg_tokens[0], strlen(tg_tokens[0]));
	for (b = tg_bots; b; b = b->next)
		n++;
	if (n == 1)
		return tg_bots;
	if (!create && n == 0)
		return NULL;
	tg_ctl_error(resp, 400, "fake-api: which bot? give ?token=T");
	return NULL;
}

static void
ctl_post_updates(const struct fake_req *req, struct fake_resp *resp)
{
	struct tg_bot *b;
	const char *p = req->body, *end = req->body + req->body_len, *nl;
	size_t lineno = 0, ll;
	long long id;
	jv ids = jv_array(), lines = jv_array(), v, e;
	unsigned long dropped = 0;
	char msg[300];
	int i, n;

	if (!(b = ctl_bot(req, req->query, resp, 1))) {
		jv_free(ids);
		jv_free(lines);
		return;
	}
	/* All or nothing: parse every line first. */
	for (; p < end; p = nl + 1) {
		lineno++;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		ll = (size_t)(nl - p);
		while (ll && (p[ll - 1] == '\r' || p[ll - 1] == ' ' ||
		    p[ll - 1] == '\t'))
			ll--;
		if (ll && *p != '#') {
			v = sl_parse(p, ll);
			if (jv_get_kind(v) != JV_KIND_OBJECT) {
				e = jv_is_valid(v) ? jv_null() :
				    jv_invalid_get_msg(jv_copy(v));
				snprintf(msg, sizeof msg, "line %zu: %s",
				    lineno, jv_get_kind(e) == JV_KIND_STRING ?
				    jv_string_value(e) :
				    "an update must be an object");
				jv_free(e);
				jv_free(v);
				jv_free(ids);
				jv_free(lines);
				tg_ctl_error(resp, 400, msg);
				return;
			}
			lines = jv_array_append(lines, v);
		}
		if (nl == end)
			break;
	}
	n = jv_array_length(jv_copy(lines));
	for (i = 0; i < n; i++) {
		if (tg_inject(b, jv_array_get(jv_copy(lines), i), &id) == 1)
			ids = jv_array_append(ids, jv_number((double)id));
		else
			dropped++;
	}
	jv_free(lines);
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "update_ids", ids), "dropped",
	    jv_number((double)dropped)));
}

enum tg_log { LOG_SENT, LOG_ACTIONS, LOG_CALLBACKS, LOG_EDITS };

static struct tg_buf *
log_of(struct tg_bot *b, enum tg_log which)
{
	switch (which) {
	case LOG_SENT: return &b->sent;
	case LOG_ACTIONS: return &b->actions;
	case LOG_CALLBACKS: return &b->callbacks;
	case LOG_EDITS: return &b->edits;
	}
	return &b->sent;
}

/* One of the per-bot logs: of the bot asked for (?token=T), or of all. */
static void
ctl_log(const struct fake_req *req, struct fake_resp *resp,
    enum tg_log which)
{
	struct tg_buf out = { 0 };
	struct tg_bot *b;
	struct tg_buf *log;
	const char *t = NULL;

	sl_get_str(req->query, "token", &t);
	for (b = tg_bots; b; b = b->next)
		if (!t || strcmp(t, b->token) == 0) {
			log = log_of(b, which);
			tg_buf_add(&out, log->s ? log->s : "", log->len);
		}
	fake_reply(resp, 200, "application/x-ndjson", out.s ? out.s : "",
	    out.len);
	tg_buf_free(&out);
}

static void
ctl_get_updates(const struct fake_req *req, struct fake_resp *resp)
{
	struct tg_bot *b;

	if (!(b = ctl_bot(req, req->query, resp, 0))) {
		if (!resp->status)
			fake_reply(resp, 200, "application/x-ndjson", "", 0);
		return;
	}
	fake_reply(resp, 200, "application/x-ndjson", b->all.s ? b->all.s :
	    "", b->all.len);
}

static int
ctl_number(jv p, const char *key, long min, long max, long *out,
    struct fake_resp *resp)
{
	long long v = 0;
	char msg[200];
	int r = tg_param_int(p, key, &v);

	if (r == 0)
		return 0;
	if (r < 0 || v < min || v > max) {
		snprintf(msg, sizeof msg, "'%s': expected an integer from %ld "
		    "to %ld", key, min, max);
		tg_ctl_error(resp, 400, msg);
		return -1;
	}
	*out = (long)v;
	return 1;
}

static void
ctl_generate(const struct fake_req *req, jv p, struct fake_resp *resp)
{
	struct tg_worker *w;
	struct tg_bot *b;
	long count = 100, chats = 10, interval = 0, conns = 1;
	double business = 0;

	if (ctl_number(p, "count", 0, 10000000, &count, resp) < 0 ||
	    ctl_number(p, "chats", 1, 1000000, &chats, resp) < 0 ||
	    ctl_number(p, "interval_ms", 0, 3600000, &interval, resp) < 0 ||
	    ctl_number(p, "connections", 1, 999, &conns, resp) < 0)
		return;
	if (sl_get_num(p, "business", &business) < 0 || business < 0 ||
	    business > 1) {
		tg_ctl_error(resp, 400, "'business': expected a fraction "
		    "from 0 to 1");
		return;
	}
	if (!(b = ctl_bot(req, p, resp, 1)))
		return;
	w = sl_calloc(1, sizeof *w);
	w->count = count;
	w->chats = chats;
	w->interval_ms = interval;
	w->business = business;
	w->conns = business > 0 ? conns : 0;
	if (!tg_worker_start(b, TG_GEN, gen_main, w)) {
		tg_ctl_error(resp, 500, "fake-api: cannot start a thread");
		return;
	}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "count", jv_number((double)count)));
}

static void
ctl_generated(struct fake_resp *resp)
{
	struct tg_worker *w;
	long produced = 0;
	int done = 1;

	for (w = tg_workers; w; w = w->next)
		if (w->kind == TG_GEN && !w->orphan) {
			produced += w->produced;
			done = done && w->done;
		}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "produced",
	    jv_number((double)produced)), "done", jv_bool(done)));
}

static void
ctl_chat(const struct fake_req *req, jv p, struct fake_resp *resp)
{
	struct tg_bot *b;
	struct tg_chat *c, *m;
	long long id, to = 0;
	const char *s, *bc = NULL;
	int v, r;

	if (tg_param_int(p, "id", &id) != 1) {
		tg_ctl_error(resp, 400, "'id': expected a chat id");
		return;
	}
	if (!(b = ctl_bot(req, p, resp, 1)))
		return;
	sl_get_str(p, "business_connection_id", &bc);
	c = tg_chat_get(b, bc, id);
	c->known = 1;
	if (jv_get_kind(c->obj) != JV_KIND_OBJECT) {
		jv o = sl_set(jv_object(), "id", jv_number((double)id));

		if (id < 0) {
			o = sl_set(o, "title", jv_string_fmt("Group %lld",
			    -id));
			o = sl_set(o, "type", jv_string(id < -1000000000000LL ?
			    "supergroup" : "group"));
		} else {
			o = sl_set(o, "first_name", jv_string_fmt("User %lld",
			    id));
			o = sl_set(o, "type", jv_string("private"));
		}
		jv_free(c->obj);
		c->obj = o;
	}
	if (sl_get_str(p, "username", &s) == 1)
		c->obj = sl_set(c->obj, "username", jv_string(s));
	if (sl_get_str(p, "type", &s) == 1)
		c->obj = sl_set(c->obj, "type", jv_string(s));
	if ((r = tg_param_int(p, "migrate_to", &to)) == 1 && to != 0) {
		m = tg_chat_get(b, NULL, to);
		m->known = 1;
		if (jv_get_kind(m->obj) != JV_KIND_OBJECT) {
			jv_free(m->obj);
			m->obj = sl_set(sl_set(sl_set(jv_object(), "id",
			    jv_number((double)to)), "title",
			    jv_string_fmt("Group %lld", -id)), "type",
			    jv_string("supergroup"));
		}
	}
	for (c = b->chats; c; c = c->next) {
		if (c->id != id)
			continue;
		if (tg_param_bool(p, "blocked", &v) == 1)
			c->blocked = v;
		if (tg_param_bool(p, "deactivated", &v) == 1)
			c->deactivated = v;
		if (r == 1)
			c->migrate_to = to;
	}
	fake_reply_json(resp, 200, sl_set(jv_object(), "ok", jv_true()));
}

static void
ctl_flood(jv p, struct fake_resp *resp)
{
	long per = tg_flood_per_sec, after = tg_flood_retry_after;

	if (ctl_number(p, "per_chat_per_sec", 0, 1000000, &per, resp) < 0 ||
	    ctl_number(p, "retry_after", 1, 3600, &after, resp) < 0)
		return;
	tg_flood_per_sec = per;
	tg_flood_retry_after = after ? after : 1;
	fake_reply_json(resp, 200, sl_set(jv_object(), "ok", jv_true()));
}

static void
ctl_state(struct fake_resp *resp)
{
	struct tg_bot *b;
	jv all = jv_array(), o;

	for (b = tg_bots; b; b = b->next) {
		o = sl_set(jv_object(), "bot", sl_id_jv(b->id));
		o = sl_set(o, "username", jv_string(b->username));
		o = sl_set(o, "next_update_id",
		    jv_number((double)b->next_update_id));
		o = sl_set(o, "queued", jv_number((double)tg_queued(b)));
		o = sl_set(o, "confirmed_below",
		    jv_number((double)b->confirmed_below));
		o = sl_set(o, "produced", jv_number((double)b->nall));
		o = sl_set(o, "dropped", jv_number((double)b->ndropped));
		o = sl_set(o, "pollers", jv_number(b->pollers));
		o = sl_set(o, "webhook", b->hook_url ? sl_set(jv_object(),
		    "url", jv_string(b->hook_url)) : jv_null());
		o = sl_set(o, "allowed_updates", jv_copy(b->allowed_list));
		o = sl_set(o, "sent", jv_number((double)b->nsent));
		all = jv_array_append(all, o);
	}
	o = sl_set(jv_object(), "bots", all);
	o = sl_set(o, "flood", sl_set(sl_set(jv_object(), "per_chat_per_sec",
	    jv_number((double)tg_flood_per_sec)), "retry_after",
	    jv_number((double)tg_flood_retry_after)));
	fake_reply_json(resp, 200, o);
}

void
tg_control(const struct fake_req *req, struct fake_resp *resp)
{
	const char *what = req->path + strlen("/_fake/telegram/");
	int get = strcmp(req->method, "GET") == 0;
	int post = strcmp(req->method, "POST") == 0;
	jv p = fake_params(req), body;

	/* JSON even when curl -d sent it as a form. */
	body = req->body_len ? sl_parse(req->body, req->body_len) : jv_null();
	if (jv_get_kind(body) == JV_KIND_OBJECT) {
		jv_free(p);
		p = jv_object_merge(jv_copy(req->query), body);
	} else {
		jv_free(body);
	}

	if (!strcmp(what, "updates") && post)
		ctl_post_updates(req, resp);
	else if (!strcmp(what, "updates") && get)
		ctl_get_updates(req, resp);
	else if (!strcmp(what, "generate") && post)
		ctl_generate(req, p, resp);
	else if (!strcmp(what, "generated") && get)
		ctl_generated(resp);
	else if (!strcmp(what, "sent") && get)
		ctl_log(req, resp, LOG_SENT);
	else if (!strcmp(what, "actions") && get)
		ctl_log(req, resp, LOG_ACTIONS);
	else if (!strcmp(what, "callbacks") && get)
		ctl_log(req, resp, LOG_CALLBACKS);
	else if (!strcmp(what, "edits") && get)
		ctl_log(req, resp, LOG_EDITS);
	else if (!strcmp(what, "chat") && post)
		ctl_chat(req, p, resp);
	else if (!strcmp(what, "flood") && post)
		ctl_flood(p, resp);
	else if (!strcmp(what, "state") && get)
		ctl_state(resp);
	else
		tg_ctl_error(resp, 404, "fake-api: no such Telegram control "
		    "endpoint (or wrong method)");
	jv_free(p);
}

