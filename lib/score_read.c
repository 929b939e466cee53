/*
 * score_read.c: conversations for score-conv, from a "conversation"
 * record or from the records of `salesline-db export` (score.h).
 *
 * Every field is read through the type-checked getters; a field of the
 * wrong type or value rejects the record with a message naming it by its
 * path ("'messages[2].at': expected an RFC 3339 time or Unix seconds").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "score.h"
#include "sl.h"

static const char *const slot_names[SL_NSLOTS] = {
	"need", "budget", "authority", "timeline",
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static struct sl_conv *
conv_new(void)
{
	struct sl_conv *c = sl_calloc(1, sizeof *c);

	c->expected = jv_null();
	c->judge = jv_null();
	return c;
}

void
sl_conv_free(struct sl_conv *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nm; i++) {
		free(c->m[i].text);
		free(c->m[i].key);
	}
	for (i = 0; i < c->ne; i++) {
		free(c->e[i].id);
		free(c->e[i].email);
		free(c->e[i].join_url);
	}
	free(c->m);
	free(c->e);
	free(c->id);
	free(c->scenario);
	free(c->lang);
	free(c->email);
	jv_free(c->expected);
	jv_free(c->judge);
	free(c);
}

static struct sl_conv_msg *
add_msg(struct sl_conv *c)
{
	if (c->nm == c->cm) {
		c->cm = c->cm ? c->cm * 2 : 16;
		c->m = sl_realloc(c->m, c->cm * sizeof *c->m);
	}
	memset(&c->m[c->nm], 0, sizeof c->m[0]);
	c->m[c->nm].at = -1;
	return &c->m[c->nm++];
}

static struct sl_conv_event *
add_event(struct sl_conv *c, int kind, int64_t at)
{
	struct sl_conv_event *e;

	if (c->ne == c->ce) {
		c->ce = c->ce ? c->ce * 2 : 8;
		c->e = sl_realloc(c->e, c->ce * sizeof *c->e);
	}
	e = &c->e[c->ne++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->at = at;
	e->due = e->scheduled = -1;
	return e;
}

/* Getters that name the field by path on error; *out untouched when 0. */
static int
get_str(jv o, const char *key, const char *path, const char **out,
    char *err, size_t errlen)
{
	int r = sl_get_str(o, key, out);

	if (r < 0)
		return fail(err, errlen, "'%s%s': expected a string", path,
		    key);
	return r;
}

static int
get_time(jv o, const char *key, const char *path, int64_t *out, char *err,
    size_t errlen)
{
	int r = sl_get_time(o, key, out);

	if (r < 0)
		return fail(err, errlen, "'%s%s': expected an RFC 3339 time "
		    "or Unix seconds", path, key);
	return r;
}

static int
get_bool(jv o, const char *key, const char *path, int *out, char *err,
    size_t errlen)
{
	int r = sl_get_bool(o, key, out);

	if (r < 0)
		return fail(err, errlen, "'%s%s': expected true or false",
		    path, key);
	return r;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? sl_strdup(s) : NULL;
}

/* 1 a follow-up, 2 a reminder, 0 a reply, by kind or key; -1 bad kind. */
static int
followup_kind(const char *kind, const char *key)
{
	if (kind)
		return strcmp(kind, "followup") == 0 ? 1 :
		    strcmp(kind, "reminder") == 0 ? 2 :
		    strcmp(kind, "reply") == 0 ? 0 : -1;
	if (key && strncmp(key, "followup:", 9) == 0)
		return 1;
	return key && strncmp(key, "reminder", 8) == 0 ? 2 : 0;
}

/* One element of "messages" (borrowed). */
static int
read_msg(struct sl_conv *c, jv o, size_t i, char *err, size_t errlen)
{
	struct sl_conv_msg *m;
	const char *dir = NULL, *text = NULL, *key = NULL, *by = NULL,
	    *kind = NULL;
	char path[48];
	int64_t at = -1;
	int deg = 0, r;

	snprintf(path, sizeof path, "messages[%zu].", i);
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return fail(err, errlen, "'messages[%zu]': expected an object, "
		    "not %s", i, sl_kind_name(o));
	r = sl_get_str(o, "dir", &dir);
	if (r != 1 || (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0))
		return fail(err, errlen, "'%sdir': expected \"in\" or \"out\"",
		    path);
	if ((r = get_str(o, "text", path, &text, err, errlen)) < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "'%stext': missing", path);
	if (get_time(o, "at", path, &at, err, errlen) < 0 ||
	    get_str(o, "key", path, &key, err, errlen) < 0 ||
	    get_bool(o, "degraded", path, &deg, err, errlen) < 0 ||
	    get_str(o, "by", path, &by, err, errlen) < 0 ||
	    get_str(o, "kind", path, &kind, err, errlen) < 0)
		return -1;
	m = add_msg(c);
	m->out = dir[0] == 'o';
	m->by = m->out ? SL_BY_AGENT : SL_BY_PROSPECT;
	if (by && strcmp(by, "human") == 0)
		m->by = SL_BY_HUMAN;
	else if (by && strcmp(by, "agent") != 0 && strcmp(by, "prospect") != 0)
		return fail(err, errlen, "'%sby': expected \"agent\", "
		    "\"human\" or \"prospect\"", path);
	m->text = sl_strdup(text);
	m->len = strlen(text);
	m->at = at;
	m->key = dup_or_null(key);
	m->degraded = deg;
	m->followup = m->out ? followup_kind(kind, key) : 0;
	if (m->followup < 0)
		return fail(err, errlen, "'%skind': expected \"reply\", "
		    "\"followup\" or \"reminder\"", path);
	return 0;
}

static const struct {
	const char *name;
	int kind;
} event_kinds[] = {
	{ "takeover", SL_EV_TAKEOVER }, { "handback", SL_EV_HANDBACK },
	{ "booking", SL_EV_BOOKING }, { "escalation", SL_EV_ESCALATION },
	{ "followup", -1 },
};

static int
followup_status(const char *st)
{
	if (strcmp(st, "scheduled") == 0)
		return SL_EV_FOLLOWUP_SCHEDULED;
	if (strcmp(st, "sent") == 0)
		return SL_EV_FOLLOWUP_SENT;
	if (strcmp(st, "cancelled") == 0)
		return SL_EV_FOLLOWUP_CANCELLED;
	return -1;
}

/* One element of "events" (borrowed). */
static int
read_event(struct sl_conv *c, jv o, size_t i, char *err, size_t errlen)
{
	struct sl_conv_event *e;
	const char *name = NULL, *st = NULL, *email = NULL, *url = NULL;
	char path[48];
	int64_t at = -1, due = -1, sched = -1;
	jv id = jv_null();
	int kind = -2, r;
	size_t k;

	snprintf(path, sizeof path, "events[%zu].", i);
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return fail(err, errlen, "'events[%zu]': expected an object, "
		    "not %s", i, sl_kind_name(o));
	if ((r = get_str(o, "event", path, &name, err, errlen)) < 0)
		return -1;
	for (k = 0; r == 1 && k < sizeof event_kinds / sizeof *event_kinds;
	    k++)
		if (strcmp(name, event_kinds[k].name) == 0)
			kind = event_kinds[k].kind;
	if (kind == -2)
		return fail(err, errlen, "'%sevent': expected takeover, "
		    "handback, followup, booking or escalation", path);
	if (kind == -1) {
		if (get_str(o, "status", path, &st, err, errlen) < 0)
			return -1;
		if (st == NULL || (kind = followup_status(st)) < 0)
			return fail(err, errlen, "'%sstatus': expected "
			    "scheduled, sent or cancelled", path);
	}
	if (get_time(o, "at", path, &at, err, errlen) < 0 ||
	    get_time(o, "due", path, &due, err, errlen) < 0 ||
	    get_time(o, "scheduled_at", path, &sched, err, errlen) < 0 ||
	    get_str(o, "email", path, &email, err, errlen) < 0 ||
	    get_str(o, "join_url", path, &url, err, errlen) < 0)
		return -1;
	if (sl_get_id(o, "id", &id) < 0)
		return fail(err, errlen, "'%sid': expected a string", path);
	e = add_event(c, kind, at);
	e->due = due;
	e->scheduled = sched;
	e->email = dup_or_null(email);
	e->join_url = dup_or_null(url);
	if (jv_get_kind(id) == JV_KIND_STRING)
		e->id = sl_strdup(jv_string_value(id));
	jv_free(id);
	return 0;
}

/* Reads the array key of rec with fn; 0 or -1. */
static int
read_array(struct sl_conv *c, jv rec, const char *key, int required,
    int (*fn)(struct sl_conv *, jv, size_t, char *, size_t), char *err,
    size_t errlen)
{
	jv a;
	int r = sl_get_arr(rec, key, &a), n, i;

	if (r < 0)
		return fail(err, errlen, "'%s': expected an array", key);
	if (r == 0)
		return required ? fail(err, errlen, "'%s': missing", key) : 0;
	n = jv_array_length(jv_copy(a));
	for (i = 0, r = 0; i < n && r == 0; i++) {
		jv o = jv_array_get(jv_copy(a), i);

		r = fn(c, o, (size_t)i, err, errlen);
		jv_free(o);
	}
	jv_free(a);
	return r;
}

/* A value that says a slot was learned: not null, false, 0 or "". */
static int
truthy(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		return jv_string_length_bytes(jv_copy(v)) > 0;
	case JV_KIND_NUMBER:
	case JV_KIND_TRUE:
	case JV_KIND_OBJECT:
	case JV_KIND_ARRAY:
		return 1;
	default:
		return 0;
	}
}

/* The BANT slots and e-mail of obj (borrowed), a prospect or "slots". */
static void
read_slots(struct sl_conv *c, jv obj)
{
	const char *email = NULL;
	int i;

	c->has_state = 1;
	for (i = 0; i < SL_NSLOTS; i++) {
		jv v = jv_object_get(jv_copy(obj), jv_string(slot_names[i]));

		c->learned[i] = truthy(v);
		jv_free(v);
	}
	if (sl_get_str(obj, "email", &email) == 1 && *email) {
		free(c->email);
		c->email = sl_strdup(email);
	}
}

static int
read_expected(struct sl_conv *c, jv rec, char *err, size_t errlen)
{
	static const char *const keys[] = { "booked", "email", "followup",
		"escalated" };
	jv x;
	size_t i;
	int b, r = sl_get_obj(rec, "expected", &x);

	if (r < 0)
		return fail(err, errlen, "'expected': expected an object");
	if (r == 0)
		return 0;
	for (i = 0; i < sizeof keys / sizeof *keys; i++)
		if (get_bool(x, keys[i], "expected.", &b, err, errlen) < 0) {
			jv_free(x);
			return -1;
		}
	jv_free(c->expected);
	c->expected = x;
	return 0;
}

struct sl_conv *
sl_conv_from_record(jv rec, char *err, size_t errlen)
{
	struct sl_conv *c = conv_new();
	const char *s = NULL, *lang = NULL;
	jv id, slots;
	int r;

	if ((r = sl_get_id(rec, "id", &id)) != 1) {
		fail(err, errlen, r ? "'id': expected a string" :
		    "'id': missing");
		goto bad;
	}
	c->id = sl_strdup(jv_string_value(id));
	jv_free(id);
	if (get_str(rec, "scenario", "", &s, err, errlen) < 0 ||
	    get_str(rec, "lang", "", &lang, err, errlen) < 0)
		goto bad;
	c->scenario = dup_or_null(s);
	c->lang = dup_or_null(lang);
	if (read_array(c, rec, "messages", 1, read_msg, err, errlen) < 0 ||
	    read_array(c, rec, "events", 0, read_event, err, errlen) < 0 ||
	    read_expected(c, rec, err, errlen) < 0)
		goto bad;
	if ((r = sl_get_obj(rec, "slots", &slots)) < 0) {
		fail(err, errlen, "'slots': expected an object");
		goto bad;
	}
	if (r == 1) {
		read_slots(c, slots);
		jv_free(slots);
	}
	sl_conv_finish(c);
	return c;
bad:
	sl_conv_free(c);
	return NULL;
}

struct sl_conv *
sl_conv_from_prospect(jv rec, char *err, size_t errlen)
{
	struct sl_conv *c = conv_new();
	const char *lang = NULL, *scen = NULL;
	int64_t t;
	jv id;
	int r;

	if ((r = sl_get_id(rec, "prospect", &id)) != 1) {
		fail(err, errlen, r ? "'prospect': expected a string" :
		    "'prospect': missing");
		goto bad;
	}
	c->id = sl_strdup(jv_string_value(id));
	jv_free(id);
	if (get_str(rec, "lang", "", &lang, err, errlen) < 0 ||
	    get_str(rec, "scenario", "", &scen, err, errlen) < 0)
		goto bad;
	c->lang = dup_or_null(lang);
	c->scenario = dup_or_null(scen);
	read_slots(c, rec);
	if ((r = get_time(rec, "human_since", "", &t, err, errlen)) < 0)
		goto bad;
	if (r == 1)
		add_event(c, SL_EV_TAKEOVER, t);
	if ((r = get_time(rec, "escalated_at", "", &t, err, errlen)) < 0)
		goto bad;
	if (r == 1)
		add_event(c, SL_EV_ESCALATION, t);
	if (read_expected(c, rec, err, errlen) < 0)
		goto bad;
	return c;
bad:
	sl_conv_free(c);
	return NULL;
}

/* message.in / message.out of an export (borrowed). */
static int
add_message(struct sl_conv *c, jv rec, int out, char *err, size_t errlen)
{
	struct sl_conv_msg *m;
	const char *text = "", *key = NULL, *st = NULL;
	int64_t at = -1, sent = -1;
	int deg = 0;

	if (get_str(rec, "text", "", &text, err, errlen) < 0 ||
	    get_time(rec, "at", "", &at, err, errlen) < 0 ||
	    get_time(rec, "sent_at", "", &sent, err, errlen) < 0 ||
	    get_str(rec, "key", "", &key, err, errlen) < 0 ||
	    get_str(rec, "status", "", &st, err, errlen) < 0 ||
	    get_bool(rec, "degraded", "", &deg, err, errlen) < 0)
		return -1;
	/* what never reached the prospect is not part of the conversation */
	if (out && st && (strcmp(st, "failed") == 0 ||
	    strcmp(st, "dropped") == 0))
		return 1;
	m = add_msg(c);
	m->out = out;
	m->by = out ? SL_BY_AGENT : SL_BY_PROSPECT;
	m->text = sl_strdup(text ? text : "");
	m->len = strlen(m->text);
	m->at = out && sent >= 0 ? sent : at;
	m->key = dup_or_null(key);
	m->degraded = deg;
	m->followup = out ? followup_kind(NULL, key) : 0;
	return 1;
}

static int
add_action(struct sl_conv *c, jv rec, char *err, size_t errlen)
{
	struct sl_conv_event *e;
	const char *kind = NULL, *st = NULL;
	int64_t due = -1, created = -1, done = -1;
	jv id = jv_null();
	int k;

	if (get_str(rec, "kind", "", &kind, err, errlen) < 0 ||
	    get_str(rec, "status", "", &st, err, errlen) < 0 ||
	    get_time(rec, "due", "", &due, err, errlen) < 0 ||
	    get_time(rec, "created_at", "", &created, err, errlen) < 0 ||
	    get_time(rec, "done_at", "", &done, err, errlen) < 0)
		return -1;
	if (sl_get_id(rec, "id", &id) < 0)
		return fail(err, errlen, "'id': expected a string");
	if (kind == NULL || strcmp(kind, "followup") != 0) {
		jv_free(id);
		return 1;	/* reminders: their messages are enough */
	}
	e = add_event(c, SL_EV_FOLLOWUP_SCHEDULED, created);
	e->due = due;
	e->scheduled = created;
	if (jv_get_kind(id) == JV_KIND_STRING)
		e->id = sl_strdup(jv_string_value(id));
	k = st == NULL ? -1 : strcmp(st, "done") == 0 ? SL_EV_FOLLOWUP_SENT :
	    strcmp(st, "cancelled") == 0 ? SL_EV_FOLLOWUP_CANCELLED : -1;
	if (k >= 0) {
		e = add_event(c, k, done);
		e->due = due;
		e->scheduled = created;
		if (jv_get_kind(id) == JV_KIND_STRING)
			e->id = sl_strdup(jv_string_value(id));
	}
	jv_free(id);
	return 1;
}

static int
add_booking(struct sl_conv *c, jv rec, char *err, size_t errlen)
{
	struct sl_conv_event *e;
	const char *st = NULL, *email = NULL, *url = NULL;
	int64_t at = -1;

	if (get_str(rec, "status", "", &st, err, errlen) < 0 ||
	    get_str(rec, "email", "", &email, err, errlen) < 0 ||
	    get_str(rec, "join_url", "", &url, err, errlen) < 0 ||
	    get_time(rec, "created_at", "", &at, err, errlen) < 0)
		return -1;
	if (st && strcmp(st, "booked") != 0)
		return 1;
	e = add_event(c, SL_EV_BOOKING, at);
	e->email = dup_or_null(email);
	e->join_url = dup_or_null(url);
	return 1;
}

int
sl_conv_add(struct sl_conv *c, jv rec, char *err, size_t errlen)
{
	const char *type = NULL;
	int64_t at = -1;
	jv p;
	int r;

	if (sl_get_str(rec, "type", &type) != 1)
		return 0;
	if ((r = sl_get_id(rec, "prospect", &p)) < 0)
		return fail(err, errlen, "'prospect': expected a string");
	if (r == 1) {
		int same = strcmp(jv_string_value(p), c->id) == 0;

		jv_free(p);
		if (!same)
			return fail(err, errlen, "'prospect': not the prospect "
			    "'%s' of the export being read", c->id);
	}
	if (strcmp(type, "message.in") == 0)
		return add_message(c, rec, 0, err, errlen);
	if (strcmp(type, "message.out") == 0)
		return add_message(c, rec, 1, err, errlen);
	if (strcmp(type, "scheduled_action") == 0)
		return add_action(c, rec, err, errlen);
	if (strcmp(type, "booking") == 0)
		return add_booking(c, rec, err, errlen);
	if (strcmp(type, "human.takeover") == 0 ||
	    strcmp(type, "escalation") == 0) {
		if (get_time(rec, "at", "", &at, err, errlen) < 0)
			return -1;
		add_event(c, type[0] == 'h' ? SL_EV_TAKEOVER :
		    SL_EV_ESCALATION, at);
		return 1;
	}
	return 0;
}

/*
 * Messages in time order when every one has a time (an export lists
 * messages by composition time, a reply is stamped when it was sent):
 * an insertion sort, stable and linear on what is nearly sorted.
 */
void
sl_conv_finish(struct sl_conv *c)
{
	struct sl_conv_msg t;
	size_t i, j;

	for (i = 0; i < c->nm; i++)
		if (c->m[i].at < 0)
			return;
	for (i = 1; i < c->nm; i++) {
		t = c->m[i];
		for (j = i; j > 0 && c->m[j - 1].at > t.at; j--)
			c->m[j] = c->m[j - 1];
		c->m[j] = t;
	}
}
