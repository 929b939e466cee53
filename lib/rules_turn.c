/*
 * rules_turn.c: the dialogue of the rules engine (rules.h): one turn of
 * the prospect's messages, the step after a tool ran, and a follow-up
 * that is due.  Each builds a plan from a struct turn: the state with the
 * updates of this turn applied (cur), the updates alone, the tool, the
 * reply and its template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "rules_impl.h"
#include "sl.h"
#include "timeutil.h"

#define DEFAULT_TZ "Asia/Makassar"

static const char *const slot_order[] = { "need", "budget", "authority",
	"timeline" };
static const char *const slot_ask[] = { "ask_need", "ask_budget",
	"ask_authority", "ask_timeline" };

struct turn {
	struct sl_rules *r;
	jv cur;			/* state with the updates applied */
	jv updates;
	jv intents;
	jv tool;		/* null or {name, input} */
	jv escalate;
	jv context;
	char *reply;
	const char *template;
	const char *lang;
	int li;
	int stop;
	long turns;
	int64_t now;
	char prospect[128], rep[128], tz[64];
	struct rl_nlu n;
};

/* cur[key] as a string that is not empty, or NULL. */
static const char *
cur_str(const struct turn *t, const char *key)
{
	const char *s;

	return sl_get_str(t->cur, key, &s) == 1 && *s != '\0' ? s : NULL;
}

static int
known(const struct turn *t, const char *key)
{
	jv v;
	int k;

	if (jv_get_kind(t->cur) != JV_KIND_OBJECT)
		return 0;
	v = jv_object_get(jv_copy(t->cur), jv_string(key));
	k = jv_get_kind(v) == JV_KIND_NUMBER ||
	    (jv_get_kind(v) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(v)) > 0);
	jv_free(v);
	return k;
}

static int
cur_bool(const struct turn *t, const char *key)
{
	int b = 0;

	return sl_get_bool(t->cur, key, &b) == 1 && b;
}

static int
cur_is(const struct turn *t, const char *key, const char *want)
{
	const char *s = cur_str(t, key);

	return s != NULL && strcmp(s, want) == 0;
}

/* cur[key] (an array or object), a copy; null when it is neither. */
static jv
cur_get(const struct turn *t, const char *key, jv_kind kind)
{
	jv v = jv_null();
	int rc = kind == JV_KIND_ARRAY ? sl_get_arr(t->cur, key, &v) :
	    sl_get_obj(t->cur, key, &v);

	return rc == 1 ? v : jv_null();
}

/* Stores key: value (consumed) in the updates and in cur. */
static void
set(struct turn *t, const char *key, jv v)
{
	t->updates = sl_set(t->updates, key, jv_copy(v));
	t->cur = sl_set(t->cur, key, v);
}

static void
copy_str(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s != NULL ? s : "");
}

static void
turn_init(struct turn *t, struct sl_rules *r, jv state, int64_t now)
{
	int64_t turns = 0;

	memset(t, 0, sizeof *t);
	t->r = r;
	t->now = now;
	t->cur = jv_get_kind(state) == JV_KIND_OBJECT ? jv_copy(state) :
	    jv_object();
	t->updates = jv_object();
	t->intents = jv_array();
	t->tool = jv_null();
	t->escalate = jv_null();
	t->context = jv_object();
	if (sl_get_int(t->cur, "turns", &turns) == 1 && turns >= 0 &&
	    turns < 1000000)
		t->turns = (long)turns;
	copy_str(t->prospect, sizeof t->prospect, cur_str(t, "prospect"));
	copy_str(t->rep, sizeof t->rep, cur_str(t, "rep"));
	copy_str(t->tz, sizeof t->tz, cur_str(t, "tz"));
	if (t->tz[0] == '\0' || sl_zone_load(t->tz) == NULL)
		copy_str(t->tz, sizeof t->tz, sl_env("SALESLINE_TZ",
		    DEFAULT_TZ));
	t->lang = cur_is(t, "lang", "en") ? "en" : "ru";
	t->li = rl_lang_index(t->lang);
}

static void
turn_free(struct turn *t)
{
	jv_free(t->cur);
	jv_free(t->updates);
	jv_free(t->intents);
	jv_free(t->tool);
	jv_free(t->escalate);
	jv_free(t->context);
	free(t->reply);
	rl_nlu_free(&t->n);
}

/* The reply from template key with vars (consumed); fallback if none of
 * its variants can be sent. */
static void
say(struct turn *t, const char *key, jv vars)
{
	uint32_t seed = rl_hash(t->prospect, key, t->turns);

	free(t->reply);
	t->reply = rl_fill(t->r, key, t->lang, vars, seed);
	t->template = key;
	if (t->reply == NULL) {
		t->reply = rl_fill(t->r, "fallback", t->lang, vars, seed);
		t->template = "fallback";
	}
	jv_free(vars);
}

/*
 * vars.key: the name of the state's key as the tone fixer leaves it
 * (control characters, a right-to-left override, stray white space
 * gone), when it is short enough to be a name.
 */
static jv
set_name(jv vars, const struct turn *t, const char *key)
{
	const char *s = cur_str(t, key);
	size_t len;
	char *name;

	if (s == NULL || strlen(s) >= 64)
		return vars;
	name = sl_tone_fix(s, strlen(s), NULL, NULL, &len);
	if (len > 0)
		vars = sl_set(vars, key, jv_string(name));
	free(name);
	return vars;
}

static jv
vars_base(const struct turn *t)
{
	jv v = jv_object();

	v = set_name(v, t, "name");
	v = set_name(v, t, "rep_name");
	if (t->r->deck != NULL)
		v = sl_set(v, "deck", jv_string(t->r->deck));
	if (t->r->cases != NULL)
		v = sl_set(v, "cases", jv_string(t->r->cases));
	return v;
}

static void
say_base(struct turn *t, const char *key)
{
	say(t, key, vars_base(t));
}

static int
asks_of(const struct turn *t, const char *slot)
{
	jv a = cur_get(t, "asks", JV_KIND_OBJECT);
	int64_t n = 0;

	if (sl_get_int(a, slot, &n) != 1)
		n = 0;
	jv_free(a);
	return (int)n;
}

static void
set_asks(struct turn *t, const char *slot, int n)
{
	jv a = cur_get(t, "asks", JV_KIND_OBJECT);

	if (jv_get_kind(a) != JV_KIND_OBJECT) {
		jv_free(a);
		a = jv_object();
	}
	set(t, "asks", sl_set(a, slot, jv_number(n)));
}

static int
qualified(const struct turn *t)
{
	int n = 0;
	size_t i;

	for (i = 1; i < 4; i++)
		n += known(t, slot_order[i]);
	return known(t, "need") && n >= t->r->min_besides_need;
}

static void
request_slots(struct turn *t, const char *next, int64_t from)
{
	jv in = jv_object();
	char buf[SL_TIME_BUFSZ];
	const char *ptz = cur_str(t, "prospect_tz");

	in = sl_set(in, "rep", jv_string(t->rep));
	in = sl_set(in, "prospect", jv_string(t->prospect));
	in = sl_set(in, "days", jv_number(t->r->search_days));
	in = sl_set(in, "limit", jv_number(t->r->slots_to_offer));
	if (ptz != NULL && sl_zone_load(ptz) != NULL)
		in = sl_set(in, "tz", jv_string(ptz));
	if (from > t->now && sl_time_fmt(from, buf) != NULL) {
		in = sl_set(in, "from", jv_string(buf));
		t->context = sl_set(t->context, "want", jv_string(buf));
	}
	jv_free(t->tool);
	t->tool = sl_set(sl_set(jv_object(), "name",
	    jv_string("get_free_slots")), "input", in);
	t->context = sl_set(t->context, "next", jv_string(next));
	free(t->reply);
	t->reply = NULL;
	t->template = NULL;
	if (!cur_is(t, "stage", "booked"))
		set(t, "stage", jv_string("qualified"));
}

/* The slot record without the fields the state need not keep. */
static jv
slot_brief(jv s)
{
	static const char *const keep[] = { "start", "end", "local",
		"local_ru", "prospect_local" };
	jv out = jv_object();
	const char *v;
	size_t i;

	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (sl_get_str(s, keep[i], &v) == 1)
			out = sl_set(out, keep[i], jv_string(v));
	jv_free(s);
	return out;
}

/* A slot's or a booking's time for people in the reply's language. */
static const char *
slot_text(const struct turn *t, jv s)
{
	const char *v;

	if (t->li == 1 && sl_get_str(s, "prospect_local", &v) == 1)
		return v;
	if (t->li == 0 && sl_get_str(s, "local_ru", &v) == 1)
		return v;
	if (sl_get_str(s, "local", &v) == 1)
		return v;
	return NULL;
}

static void
book(struct turn *t, jv slot, int round)
{
	const char *start = NULL, *email = cur_str(t, "email");
	jv in = jv_object();

	sl_get_str(slot, "start", &start);
	in = sl_set(in, "rep", jv_string(t->rep));
	in = sl_set(in, "prospect", jv_string(t->prospect));
	in = sl_set(in, "email", jv_string(email != NULL ? email : ""));
	in = sl_set(in, "start", jv_string(start != NULL ? start : ""));
	in = sl_set(in, "topic", jv_string(t->r->topic[t->li]));
	jv_free(t->tool);
	t->tool = sl_set(sl_set(jv_object(), "name",
	    jv_string("book_meeting")), "input", in);
	t->context = sl_set(t->context, "next", jv_string("confirm_booking"));
	t->context = sl_set(t->context, "round", jv_number(round));
	set(t, "asked", slot_brief(slot));
	free(t->reply);
	t->reply = NULL;
	t->template = NULL;
}

/* The chosen slot (consumed): book it, or ask for the e-mail first. */
static void
chosen(struct turn *t, jv slot, int round)
{
	const char *time;

	if (cur_str(t, "email") != NULL) {
		book(t, slot, round);
		return;
	}
	time = slot_text(t, slot);
	say(t, "ask_email", sl_set(vars_base(t), "time",
	    jv_string(time != NULL ? time : "")));
	set(t, "asked", slot_brief(slot));
	set(t, "question", jv_string("email"));
}

static void
escalate(struct turn *t, const char *reason)
{
	char sum[1000];
	const char *s;
	jv in = jv_object();
	size_t i, o;

	o = (size_t)snprintf(sum, sizeof sum, "handed over: %s; stage %s",
	    reason, (s = cur_str(t, "stage")) != NULL ? s : "new");
	for (i = 0; i < 4 && o < sizeof sum; i++) {
		if (!known(t, slot_order[i]))
			continue;
		if ((s = cur_str(t, slot_order[i])) != NULL)
			o += (size_t)snprintf(sum + o, sizeof sum - o,
			    "; %s: %.200s", slot_order[i], s);
		else
			o += (size_t)snprintf(sum + o, sizeof sum - o,
			    "; %s: %s", slot_order[i], "given");
	}
	in = sl_set(in, "prospect", jv_string(t->prospect));
	in = sl_set(in, "reason", jv_string(reason));
	in = sl_set(in, "summary", jv_string(sum));
	jv_free(t->tool);
	t->tool = sl_set(sl_set(jv_object(), "name",
	    jv_string("escalate_to_human")), "input", in);
	jv_free(t->escalate);
	t->escalate = sl_set(jv_object(), "reason", jv_string(reason));
	set(t, "escalated", jv_true());
	say_base(t, "escalate_human");
}

/* The next step of the path: the next slot to ask, or free slots. */
static void
path_step(struct turn *t)
{
	size_t i;

	if (cur_is(t, "stage", "booked") || cur_is(t, "stage", "closed")) {
		say_base(t, "thanks_ack");
		return;
	}
	if (qualified(t)) {
		request_slots(t, "propose_meeting", 0);
		return;
	}
	for (i = 0; i < 4; i++) {
		if (known(t, slot_order[i]) ||
		    asks_of(t, slot_order[i]) >= t->r->max_asks)
			continue;
		say_base(t, slot_ask[i]);
		set(t, "question", jv_string(slot_order[i]));
		set_asks(t, slot_order[i], asks_of(t, slot_order[i]) + 1);
		return;
	}
	request_slots(t, "propose_meeting", 0);
}

/*
 * The reply of key with vars (consumed), followed by the next question of
 * the path when the reply asks none and both pass the tone rules as one.
 */
static void
answer_then_ask(struct turn *t, const char *key, jv vars)
{
	char *answer, *both;
	const char *tpl;
	jv saved_cur, saved_upd;

	say(t, key, vars);
	if (t->reply == NULL || strchr(t->reply, '?') != NULL ||
	    strcmp(t->template, key) != 0 || qualified(t) ||
	    cur_is(t, "stage", "booked"))
		return;
	answer = t->reply;
	tpl = t->template;
	t->reply = NULL;
	saved_cur = jv_copy(t->cur);
	saved_upd = jv_copy(t->updates);
	path_step(t);
	if (t->reply != NULL && jv_get_kind(t->tool) == JV_KIND_NULL) {
		both = sl_asprintf("%s %s", answer, t->reply);
		if (rl_lint(t->r, both, t->lang) == 0) {
			free(answer);
			free(t->reply);
			t->reply = both;
			t->template = tpl;
			jv_free(saved_cur);
			jv_free(saved_upd);
			return;
		}
		free(both);
	}
	/* the answer alone, as if the path had not moved */
	jv_free(t->cur);
	jv_free(t->updates);
	t->cur = saved_cur;
	t->updates = saved_upd;
	jv_free(t->tool);
	t->tool = jv_null();
	jv_free(t->context);
	t->context = jv_object();
	free(t->reply);
	t->reply = answer;
	t->template = tpl;
}

static void
price(struct turn *t)
{
	const struct rl_facts *f;
	jv v;

	if (t->n.service >= 0) {
		f = &t->r->svc[t->n.service].f[t->li];
		if (f->name != NULL && f->price != NULL) {
			v = vars_base(t);
			v = sl_set(v, "service", jv_string(f->name));
			v = sl_set(v, "price", jv_string(f->price));
			if (f->duration != NULL)
				v = sl_set(v, "duration",
				    jv_string(f->duration));
			if (f->includes != NULL)
				v = sl_set(v, "includes",
				    jv_string(f->includes));
			answer_then_ask(t, "price_answer", v);
			if (strcmp(t->template, "price_answer") == 0)
				return;
		}
	}
	answer_then_ask(t, "price_list", vars_base(t));
}

/* A passage's text, when it can be sent as it is; a new string. */
static char *
passage_reply(const struct turn *t, const char *body)
{
	if (strlen(body) > 1200 || rl_lint(t->r, body, t->lang) < 0)
		return NULL;
	return sl_strdup(body);
}

/* The best of the caller's passages ([{title, body, lang}]), or NULL. */
static char *
from_passages(const struct turn *t, jv passages)
{
	const char *title, *body, *lang;
	double best = 0, s;
	char *out = NULL, *txt, *norm;
	size_t size;

	if (jv_get_kind(passages) != JV_KIND_ARRAY)
		return NULL;
	jv_array_foreach(passages, i, p) {
		(void)i;
		if (jv_get_kind(p) == JV_KIND_OBJECT &&
		    sl_get_str(p, "body", &body) == 1 &&
		    (sl_get_str(p, "lang", &lang) != 1 ||
		    strcmp(lang, t->lang) == 0)) {
			if (sl_get_str(p, "title", &title) != 1)
				title = "";
			txt = sl_asprintf("%.500s\n%.4000s", title, body);
			size = 3 * strlen(txt) + 4;
			norm = sl_malloc(size);
			rl_norm(txt, strlen(txt), norm, size);
			s = rl_search_in(t->n.norm, norm);
			free(norm);
			free(txt);
			if (s > best && s >= 0.5) {
				char *c = passage_reply(t, body);

				if (c != NULL) {
					free(out);
					out = c;
					best = s;
				}
			}
		}
		jv_free(p);
	}
	return out;
}

static void
question(struct turn *t, jv passages)
{
	double score = 0;
	char *body = from_passages(t, passages);
	int i;

	if (body == NULL && (jv_get_kind(passages) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(passages)) == 0)) {
		i = rl_search(t->r, t->n.norm, t->lang, &score);
		if (i >= 0 && score >= 2.0)
			body = passage_reply(t, t->r->kb[i].body);
	}
	if (body != NULL) {
		free(t->reply);
		t->reply = body;
		t->template = "knowledge";
		return;
	}
	if (t->n.service >= 0 && t->r->svc[t->n.service].f[t->li].includes) {
		const struct rl_facts *f = &t->r->svc[t->n.service].f[t->li];
		jv v = vars_base(t);

		v = sl_set(v, "service", jv_string(f->name));
		v = sl_set(v, "includes", jv_string(f->includes));
		v = sl_set(v, "price", jv_string(f->price));
		if (f->duration != NULL)
			v = sl_set(v, "duration", jv_string(f->duration));
		say(t, "service_info", v);
		if (strcmp(t->template, "service_info") == 0)
			return;
	}
	say_base(t, score > 0.5 || t->n.need ? "kb_not_found" : "off_topic");
}

static const char *const wday_ru[] = { "вс", "пн", "вт", "ср", "чт", "пт",
	"сб" };
static const char *const wday_en[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };
static const char *const mon_ru[] = { "января", "февраля", "марта",
	"апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
	"ноября", "декабря" };
static const char *const mon_en[] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "через неделю (пн 7 декабря, 10:00 WITA)": the words and the date. */
static void
followup_time(const struct turn *t, const struct sl_tm *tm, char *buf,
    size_t size)
{
	char words[sizeof t->n.match];
	unsigned char *w = (unsigned char *)words;

	copy_str(words, sizeof words, t->n.match);
	if (t->li == 0 && w[0] == 0xd0 && w[1] >= 0x90 && w[1] <= 0x9f &&
	    !(w[2] == 0xd0 && w[3] >= 0x90 && w[3] <= 0xaf))
		w[1] += 0x20;
	else if (t->li == 0 && w[0] == 0xd0 && w[1] >= 0xa0 &&
	    w[1] <= 0xaf && !(w[2] == 0xd0 && w[3] >= 0x90 && w[3] <= 0xaf)) {
		w[0] = 0xd1;
		w[1] -= 0x20;
	}
	if (t->li == 0)
		snprintf(buf, size, "%s (%s %d %s, %02d:%02d %s)", words,
		    wday_ru[tm->wday], tm->mday, mon_ru[tm->mon - 1],
		    tm->hour, tm->min, tm->abbr);
	else
		snprintf(buf, size, "%s (%s %d %s, %02d:%02d %s)", words,
		    wday_en[tm->wday], tm->mday, mon_en[tm->mon - 1],
		    tm->hour, tm->min, tm->abbr);
}

static void
schedule_followup(struct turn *t)
{
	const struct sl_zone *z = sl_zone_load(t->tz);
	char due[SL_TIME_BUFSZ], when[256];
	struct sl_tm tm;
	jv in = jv_object();

	if (z == NULL || sl_time_fmt_local(t->n.at, z, due) == NULL ||
	    sl_to_local(t->n.at, z, &tm) < 0) {
		jv_free(in);
		say_base(t, "followup_ask_when");
		return;
	}
	followup_time(t, &tm, when, sizeof when);
	in = sl_set(in, "prospect", jv_string(t->prospect));
	in = sl_set(in, "due", jv_string(due));
	in = sl_set(in, "reason", jv_string(t->n.match));
	jv_free(t->tool);
	t->tool = sl_set(sl_set(jv_object(), "name",
	    jv_string("schedule_followup")), "input", in);
	t->context = sl_set(t->context, "next", jv_string("followup_ack"));
	t->context = sl_set(t->context, "time", jv_string(when));
	set(t, "question", jv_null());
	free(t->reply);
	t->reply = NULL;
	t->template = NULL;
}

/* Is the word of n bytes at s part of a phone number ("+7", "(913)")? */
static int
phoneish(const char *s, size_t n, size_t *digits)
{
	size_t i;

	*digits = 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			(*digits)++;
		else if (strchr("+-().,", s[i]) == NULL)
			return 0;
	}
	return *digits > 0;
}

/*
 * s without the words that are contacts, in place: an e-mail address,
 * and a run of number words with seven digits or more (a phone number).
 * The address has a column of its own, and a slot is read by people.
 */
static char *
no_contacts(char *s)
{
	char *r = s, *w = s, *q;
	size_t n, d, run;

	while (*r) {
		n = strcspn(r, " ");
		if (phoneish(r, n, &d)) {
			/* the whole run of number words */
			for (q = r + n, run = d; *q == ' ' &&
			    phoneish(q + 1, strcspn(q + 1, " "), &d); ) {
				run += d;
				q += 1 + strcspn(q + 1, " ");
			}
			n = (size_t)(q - r);
			if (run >= 7) {
				r = q;
				while (*r == ' ')
					r++;
				continue;
			}
		} else if (memchr(r, '@', n)) {
			r += n;
			while (*r == ' ')
				r++;
			continue;
		}
		if (w != s)
			*w++ = ' ';
		memmove(w, r, n);
		w += n;
		r += n;
		while (*r == ' ')
			r++;
	}
	*w = '\0';
	return s;
}

/* The prospect's words for a slot: control characters out, at most 200
 * bytes cut on a character, white space trimmed and single. */
static jv
clean_words(const char *s, size_t len)
{
	char out[201];
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len && o < sizeof out - 1; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = (char)c;
	}
	while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80 &&
	    i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		o--;		/* a character cut in two */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return jv_string(no_contacts(out));
}

static const char *const escalations[][2] = {
	{ "legal_threat", "legal_threat" },
	{ "refund_demand", "refund_demand" },
	{ "data_erasure", "data_erasure" },
	{ "human_request", "human_request" },
	{ "negative", "negative_sentiment" },
};

static const char *const objections[] = {
	"objection_expensive", "objection_no_time", "objection_think",
	"objection_send_materials", "objection_have_vendor",
	"objection_not_decision_maker",
};

/* Fills the slots from what was said; 1 when one was filled. */
static int
fill_slots(struct turn *t, const char *text, size_t len)
{
	int filled = 0;
	int answer = cur_is(t, "question", "need") && t->n.words >= 3;

	if (!known(t, "need") && (t->n.need || answer)) {
		set(t, "need", clean_words(text, len));
		filled = 1;
	}
	if (t->n.budget > 0) {
		set(t, "budget", jv_number(t->n.budget));
		filled = 1;
	} else if (t->n.budget_word != NULL) {
		set(t, "budget", jv_string(t->n.budget_word));
		filled = 1;
	}
	if (t->n.authority != NULL || rl_has(&t->n,
	    "objection_not_decision_maker")) {
		set(t, "authority", jv_string(t->n.authority != NULL ?
		    t->n.authority : "influencer"));
		filled = 1;
	}
	if (t->n.timeline != NULL) {
		set(t, "timeline", jv_string(t->n.timeline));
		filled = 1;
	}
	if (t->n.email[0] != '\0') {
		set(t, "email", jv_string(t->n.email));
		filled = 1;
	}
	return filled;
}

static void
list_intents(struct turn *t)
{
	int i;

	for (i = 0; i < t->n.nintent; i++)
		t->intents = jv_array_append(t->intents,
		    jv_string(t->n.intent[i]));
	if (t->n.inject)
		t->intents = jv_array_append(t->intents,
		    jv_string("prompt_injection"));
	if (t->n.callme)
		t->intents = jv_array_append(t->intents, jv_string("call_me"));
	if (t->n.email[0] != '\0' && !rl_has(&t->n, "email"))
		t->intents = jv_array_append(t->intents, jv_string("email"));
	if (t->n.question)
		t->intents = jv_array_append(t->intents,
		    jv_string("question"));
	if (t->n.has_time)
		t->intents = jv_array_append(t->intents, jv_string("time"));
}

/* The lead class of stages.json's lead_classes, roughly. */
static const char *
lead_class(const struct turn *t)
{
	double b = 0;
	int hot_time = cur_is(t, "timeline", "now");

	sl_get_num(t->cur, "budget", &b);
	if (cur_is(t, "timeline", "later") || cur_is(t, "budget", "none") ||
	    (b > 0 && b < 45000))
		return "cold";
	if (cur_bool(t, "meeting") || (known(t, "need") && hot_time &&
	    (b >= 45000 || cur_is(t, "authority", "decision_maker"))))
		return "hot";
	return known(t, "need") ? "warm" : "cold";
}

/* The stage the slots and the prospect's writing move to. */
static void
advance(struct turn *t)
{
	const char *st = cur_str(t, "stage");

	if (t->stop || cur_bool(t, "escalated"))
		return;
	if (st == NULL || strcmp(st, "new") == 0 || strcmp(st, "lost") == 0)
		set(t, "stage", jv_string("engaged"));
	if (known(t, "need") && (cur_is(t, "stage", "engaged")))
		set(t, "stage", jv_string("qualifying"));
	if (qualified(t) && (cur_is(t, "stage", "engaged") ||
	    cur_is(t, "stage", "qualifying")))
		set(t, "stage", jv_string("qualified"));
}

static jv
plan(struct turn *t)
{
	jv p = jv_object();

	if (!t->stop && !cur_bool(t, "escalated") &&
	    !cur_bool(t, "stopped"))
		set(t, "lead_class", jv_string(lead_class(t)));
	p = sl_set(p, "intents", jv_copy(t->intents));
	p = sl_set(p, "lang", jv_string(t->lang));
	p = sl_set(p, "updates", jv_copy(t->updates));
	p = sl_set(p, "tool", jv_copy(t->tool));
	p = sl_set(p, "reply", t->reply != NULL ? jv_string(t->reply) :
	    jv_null());
	p = sl_set(p, "template", t->template != NULL ?
	    jv_string(t->template) : jv_null());
	p = sl_set(p, "escalate", jv_copy(t->escalate));
	if (t->stop)
		p = sl_set(p, "stop", jv_true());
	p = sl_set(p, "context", jv_copy(t->context));
	return p;
}

/* The texts of the turn joined by line breaks, at most the scan limit. */
static char *
join_texts(jv texts, const char **lang, size_t *len)
{
	size_t n = 0, k;
	char *buf = sl_malloc(SL_RULES_SCAN_MAX + 1);
	const char *l;

	*lang = NULL;
	if (jv_get_kind(texts) == JV_KIND_STRING)
		texts = jv_array_append(jv_array(), jv_copy(texts));
	else if (jv_get_kind(texts) == JV_KIND_ARRAY)
		texts = jv_copy(texts);
	else
		texts = jv_array();
	jv_array_foreach(texts, i, s) {
		(void)i;
		if (jv_get_kind(s) == JV_KIND_STRING && n < SL_RULES_SCAN_MAX) {
			k = (size_t)jv_string_length_bytes(jv_copy(s));
			l = sl_tone_lang(jv_string_value(s), k);
			if (l != NULL)
				*lang = l;
			if (n > 0)
				buf[n++] = '\n';
			if (k > SL_RULES_SCAN_MAX - n)
				k = SL_RULES_SCAN_MAX - n;
			memcpy(buf + n, jv_string_value(s), k);
			n += k;
		}
		jv_free(s);
	}
	jv_free(texts);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* 1 when a meeting is being arranged: slots were offered or asked for. */
static int
arranging(const struct turn *t)
{
	jv o = cur_get(t, "offered", JV_KIND_ARRAY);
	int n = jv_get_kind(o) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(o)) > 0;

	jv_free(o);
	return n || cur_is(t, "question", "slot");
}

static int
has_any(const struct turn *t, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rl_has(&t->n, names[i]))
			return 1;
	return 0;
}

/* Stop, escalation, prompt injection: 1 when one of them decided. */
static int
guardrails(struct turn *t)
{
	size_t i;

	if (rl_has(&t->n, "stop")) {
		t->stop = 1;
		set(t, "stage", jv_string("lost"));
		set(t, "stopped", jv_true());
		set(t, "offered", jv_array());
		set(t, "question", jv_null());
		say_base(t, "stop_ack");
		return 1;
	}
	for (i = 0; i < sizeof escalations / sizeof escalations[0]; i++)
		if (rl_has(&t->n, escalations[i][0])) {
			escalate(t, escalations[i][1]);
			return 1;
		}
	if (t->n.inject) {
		say_base(t, rl_has(&t->n, "discount") ? "discount_answer" :
		    "prompt_refusal");
		return 1;
	}
	return 0;
}

/*
 * 1 when the time the prospect named can be a meeting's: within the
 * rep's booking horizon (state.horizon_days, default 14).  Past it ("we
 * want to start next month") it answers the timeline, not the offer.
 */
static int
bookable(const struct turn *t)
{
	int64_t days = 0;

	if (sl_get_int(t->cur, "horizon_days", &days) != 1 || days <= 0)
		days = 14;
	return t->n.at < t->now + days * 86400;
}

/*
 * The meeting: an e-mail for the slot waiting for it, a slot chosen, a
 * time preferred, a meeting asked for or moved.  1 when one decided.
 */
static int
meeting(struct turn *t)
{
	jv offered = cur_get(t, "offered", JV_KIND_ARRAY);
	jv asked = cur_get(t, "asked", JV_KIND_OBJECT);
	int idx, rc = 1, booked = cur_is(t, "stage", "booked");
	int wants = rl_has(&t->n, "meeting_request") || t->n.callme;

	if (t->n.email[0] != '\0' && jv_get_kind(asked) == JV_KIND_OBJECT) {
		book(t, jv_copy(asked), 1);
	} else if (t->n.at_sign && t->n.email[0] == '\0') {
		say_base(t, "email_invalid");
		set(t, "question", jv_string("email"));
	} else if ((idx = rl_choose_slot(&t->n, offered, t->tz)) >= 0) {
		chosen(t, jv_array_get(jv_copy(offered), idx), 1);
	} else if (t->n.has_time && !t->n.write && arranging(t) &&
	    bookable(t)) {
		request_slots(t, "propose_meeting", t->n.at);
	} else if (rl_has(&t->n, "is_bot")) {
		say_base(t, "is_bot_answer");
	} else if (rl_has(&t->n, "reschedule") || (wants && booked)) {
		request_slots(t, booked ? "meeting_reschedule" :
		    "propose_meeting", 0);
	} else if (wants) {
		set(t, "meeting", jv_true());
		request_slots(t, "propose_meeting", 0);
	} else if (rl_has(&t->n, "cancel_meeting")) {
		escalate(t, "cannot_answer");
	} else {
		rc = 0;
	}
	jv_free(asked);
	jv_free(offered);
	return rc;
}

/* A follow-up, an objection, a discount, a price, a question: 1. */
static int
topic(struct turn *t, jv passages)
{
	static const char *const substantive[] = { "meeting_request",
		"discount", "price", "is_bot", "objection_expensive",
		"objection_send_materials" };
	int fl = rl_has(&t->n, "followup_later");
	size_t i;

	if (t->n.has_time && (t->n.write || cur_is(t, "question",
	    "followup_when") || (fl && !cur_is(t, "question", "timeline")))) {
		schedule_followup(t);
		return 1;
	}
	if (fl && !t->n.has_time && !has_any(t, substantive,
	    sizeof substantive / sizeof substantive[0]) && !t->n.question) {
		say_base(t, "followup_ask_when");
		set(t, "question", jv_string("followup_when"));
		return 1;
	}
	for (i = 0; i < sizeof objections / sizeof objections[0]; i++)
		if (rl_has(&t->n, objections[i])) {
			say_base(t, objections[i]);
			set(t, "question", i >= 1 && i <= 4 ?
			    jv_string("followup_when") : jv_null());
			return 1;
		}
	if (rl_has(&t->n, "discount"))
		answer_then_ask(t, "discount_answer", vars_base(t));
	else if (rl_has(&t->n, "price"))
		price(t);
	else if (t->n.question)
		question(t, passages);
	else
		return 0;
	return 1;
}

/* Nothing was understood: fallback, and a human on the third time. */
static void
miss(struct turn *t)
{
	int64_t misses = 0;

	if (sl_get_int(t->cur, "misses", &misses) != 1 || misses < 0)
		misses = 0;
	set(t, "misses", jv_number((double)misses + 1));
	if (misses + 1 >= 3)
		escalate(t, "cannot_answer");
	else
		say_base(t, "fallback");
}

/* The decisions of a turn, in the order of rules.h. */
static void
decide(struct turn *t, const char *text, size_t len, jv passages)
{
	const char *q = cur_str(t, "question");
	int filled;
	size_t i;

	if (guardrails(t))
		return;
	if (cur_bool(t, "stopped"))
		set(t, "stopped", jv_false());
	filled = fill_slots(t, text, len);
	if (meeting(t) || topic(t, passages))
		return;
	if (t->n.has_time && (!known(t, "timeline") || cur_is(t, "question",
	    "timeline"))) {
		set(t, "timeline", jv_string(t->n.match));
		filled = 1;
	}
	if (!filled && rl_has(&t->n, "greeting")) {
		say_base(t, t->turns > 0 ? "greeting_returning" : "greeting");
		set(t, "question", jv_string("need"));
	} else if (!filled && rl_has(&t->n, "thanks")) {
		say_base(t, "thanks_ack");
	} else if (!filled && rl_has(&t->n, "goodbye")) {
		say_base(t, "goodbye");
	} else {
		/* a slot question with no answer is not asked again */
		for (i = 1; !filled && t->n.words > 0 && q != NULL && i < 4;
		    i++)
			if (strcmp(q, slot_order[i]) == 0) {
				set_asks(t, slot_order[i], t->r->max_asks);
				filled = 1;
			}
		if (filled || cur_is(t, "question", "email")) {
			set(t, "misses", jv_number(0));
			path_step(t);
		} else {
			miss(t);
		}
	}
}

jv
sl_rules_turn(struct sl_rules *r, jv state, jv texts, int64_t now,
    jv passages)
{
	struct turn t;
	const char *lang;
	size_t len;
	char *text;
	jv p;

	turn_init(&t, r, state, now);
	text = join_texts(texts, &lang, &len);
	if (lang != NULL) {
		t.lang = lang;
		t.li = rl_lang_index(lang);
	}
	set(&t, "lang", jv_string(t.lang));
	set(&t, "turns", jv_number((double)t.turns + 1));
	rl_analyse(r, text, len, now, t.tz, &t.n);
	list_intents(&t);
	if (!cur_bool(&t, "escalated")) {
		decide(&t, text, len, passages);
		advance(&t);
	}
	free(text);
	p = plan(&t);
	turn_free(&t);
	return p;
}

/* The slots of a get_free_slots answer: up to slots_to_offer. */
static jv
slots_of(const struct turn *t, jv output)
{
	jv out = jv_array();
	const char *s, *type;
	int n = 0;

	if (jv_get_kind(output) != JV_KIND_ARRAY)
		return out;
	jv_array_foreach(output, i, rec) {
		(void)i;
		if (n < t->r->slots_to_offer &&
		    jv_get_kind(rec) == JV_KIND_OBJECT &&
		    (sl_get_str(rec, "type", &type) != 1 ||
		    strcmp(type, "slot") == 0) &&
		    sl_get_str(rec, "start", &s) == 1 &&
		    slot_text(t, rec) != NULL) {
			out = jv_array_append(out, slot_brief(rec));
			n++;
		} else {
			jv_free(rec);
		}
	}
	return out;
}

/* "A, B или C" of the slots' times for people. */
static jv
slots_words(const struct turn *t, jv slots)
{
	int n = jv_array_length(jv_copy(slots)), i;
	size_t o = 0;
	char buf[1024];
	jv s;

	buf[0] = '\0';
	for (i = 0; i < n && o < sizeof buf; i++) {
		s = jv_array_get(jv_copy(slots), i);
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.200s",
		    i == 0 ? "" : i == n - 1 ? (t->li ? " or " : " или ") :
		    ", ", slot_text(t, s));
		jv_free(s);
	}
	return jv_string(buf);
}

static void
after_slots(struct turn *t, jv output, const char *next, int round)
{
	jv slots = slots_of(t, output), s;
	const char *want = NULL;
	int64_t w = 0, start;
	int i, n = jv_array_length(jv_copy(slots));

	sl_get_str(t->context, "want", &want);
	if (want != NULL && sl_time_parse(want, &w) == 0)
		for (i = 0; i < n; i++) {
			s = jv_array_get(jv_copy(slots), i);
			if (sl_get_time(s, "start", &start) == 1 &&
			    start == w) {
				jv_free(slots);
				set(t, "offered", jv_array_append(jv_array(),
				    jv_copy(s)));
				chosen(t, s, round + 1);
				return;
			}
			jv_free(s);
		}
	set(t, "asked", jv_null());
	if (n == 0) {
		jv_free(slots);
		set(t, "offered", jv_array());
		set(t, "question", jv_string("slot"));
		say_base(t, "no_slots");
		return;
	}
	say(t, next, sl_set(vars_base(t), "slots", slots_words(t, slots)));
	set(t, "offered", slots);
	set(t, "question", jv_string("slot"));
}

static void
after_booking(struct turn *t, jv output, int round)
{
	jv rec = jv_null(), err = jv_null(), v;
	const char *type = NULL, *code = NULL, *link = NULL, *time, *email;

	if (jv_get_kind(output) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(output)) > 0)
		rec = jv_array_get(jv_copy(output), 0);
	if (jv_get_kind(rec) == JV_KIND_OBJECT)
		sl_get_str(rec, "type", &type);
	if (type != NULL && strcmp(type, "booking") == 0 &&
	    sl_get_str(rec, "join_url", &link) == 1 && *link != '\0') {
		jv asked = cur_get(t, "asked", JV_KIND_OBJECT);

		time = slot_text(t, rec);
		if (time == NULL)
			time = slot_text(t, asked);
		email = cur_str(t, "email");
		v = vars_base(t);
		v = sl_set(v, "time", jv_string(time != NULL ? time : ""));
		v = sl_set(v, "link", jv_string(link));
		v = sl_set(v, "email", jv_string(email != NULL ? email : ""));
		say(t, "confirm_booking", v);
		v = slot_brief(jv_copy(jv_get_kind(asked) == JV_KIND_OBJECT ?
		    asked : rec));
		v = sl_set(v, "join_url", jv_string(link));
		jv_free(asked);
		set(t, "booking", v);
		set(t, "stage", jv_string("booked"));
		set(t, "offered", jv_array());
		set(t, "asked", jv_null());
		set(t, "question", jv_null());
		goto out;
	}
	if (jv_get_kind(rec) == JV_KIND_OBJECT &&
	    sl_get_obj(rec, "error", &err) == 1)
		sl_get_str(err, "code", &code);
	if (code != NULL && (strcmp(code, "taken") == 0 ||
	    strcmp(code, "not_free") == 0) && round < 2) {
		set(t, "asked", jv_null());
		set(t, "offered", jv_array());
		request_slots(t, "slot_taken", 0);
		t->context = sl_set(t->context, "round", jv_number(round + 1));
		goto out;
	}
	if (code != NULL && strcmp(code, "bad_email") == 0) {
		set(t, "email", jv_null());
		set(t, "question", jv_string("email"));
		say_base(t, "email_invalid");
		goto out;
	}
	escalate(t, "tool_failure");
	say_base(t, "booking_failed");
out:
	jv_free(err);
	jv_free(rec);
}

jv
sl_rules_after_tool(struct sl_rules *r, jv state, jv plan_in, jv output,
    int64_t now)
{
	struct turn t;
	jv upd = jv_null(), tool = jv_null(), ctx = jv_null(), p;
	const char *name = NULL, *next = NULL, *lang = NULL, *type;
	int64_t round = 1;

	turn_init(&t, r, state, now);
	if (jv_get_kind(plan_in) == JV_KIND_OBJECT) {
		if (sl_get_obj(plan_in, "updates", &upd) == 1)
			jv_object_foreach(upd, k, v) {
				set(&t, jv_string_value(k), v);
				jv_free(k);
			}
		if (sl_get_arr(plan_in, "intents", &p) == 1) {
			jv_free(t.intents);
			t.intents = p;
		}
		sl_get_obj(plan_in, "tool", &tool);
		sl_get_obj(plan_in, "context", &ctx);
		if (sl_get_str(plan_in, "lang", &lang) == 1) {
			t.lang = strcmp(lang, "en") == 0 ? "en" : "ru";
			t.li = rl_lang_index(t.lang);
		}
	}
	if (jv_get_kind(ctx) == JV_KIND_OBJECT) {
		jv_free(t.context);
		t.context = jv_copy(ctx);
		sl_get_str(ctx, "next", &next);
		if (sl_get_int(ctx, "round", &round) != 1)
			round = 1;
	}
	sl_get_str(tool, "name", &name);
	if (name != NULL && strcmp(name, "get_free_slots") == 0) {
		after_slots(&t, output, next != NULL ? next :
		    "propose_meeting", (int)round);
	} else if (name != NULL && strcmp(name, "book_meeting") == 0) {
		after_booking(&t, output, (int)round);
	} else if (name != NULL && strcmp(name, "schedule_followup") == 0) {
		jv rec = jv_get_kind(output) == JV_KIND_ARRAY &&
		    jv_array_length(jv_copy(output)) > 0 ?
		    jv_array_get(jv_copy(output), 0) : jv_null();
		const char *when = NULL;

		sl_get_str(ctx, "time", &when);
		if (jv_get_kind(rec) == JV_KIND_OBJECT &&
		    sl_get_str(rec, "type", &type) == 1 &&
		    strcmp(type, "followup.scheduled") == 0 && when != NULL)
			say(&t, "followup_ack", sl_set(vars_base(&t), "time",
			    jv_string(when)));
		else
			escalate(&t, "tool_failure");
		jv_free(rec);
	} else if (name != NULL && strcmp(name, "escalate_to_human") == 0) {
		const char *s = NULL;

		if (sl_get_str(plan_in, "reply", &s) == 1)
			t.reply = sl_strdup(s);
		sl_get_str(plan_in, "template", &t.template);
		t.escalate = sl_set(jv_object(), "reason", jv_string(
		    "handed over"));
	} else {
		say_base(&t, "fallback");
	}
	p = plan(&t);
	jv_free(upd);
	jv_free(tool);
	jv_free(ctx);
	turn_free(&t);
	return p;
}

jv
sl_rules_followup(struct sl_rules *r, jv state, jv due, int64_t now)
{
	struct turn t;
	const char *kind = "followup", *text = NULL, *time, *link = NULL;
	jv b, v, p;

	turn_init(&t, r, state, now);
	if (jv_get_kind(due) == JV_KIND_OBJECT) {
		sl_get_str(due, "kind", &kind);
		sl_get_str(due, "text", &text);
	}
	if (cur_bool(&t, "stopped") || cur_bool(&t, "escalated") ||
	    cur_is(&t, "stage", "lost") || kind == NULL)
		goto out;
	set(&t, "turns", jv_number((double)t.turns + 1));
	if (strcmp(kind, "reminder_24h") == 0 ||
	    strcmp(kind, "reminder_1h") == 0) {
		b = cur_get(&t, "booking", JV_KIND_OBJECT);
		time = slot_text(&t, b);
		if (time != NULL && sl_get_str(b, "join_url", &link) == 1) {
			v = sl_set(vars_base(&t), "time", jv_string(time));
			say(&t, kind, sl_set(v, "link", jv_string(link)));
		}
		jv_free(b);
		goto out;
	}
	if (text != NULL && strlen(text) <= 1200 &&
	    rl_lint(r, text, t.lang) == 0) {
		t.reply = sl_strdup(text);
		t.template = "followup_text";
		goto out;
	}
	say(&t, "followup_message", sl_set(vars_base(&t), "topic",
	    jv_string(t.li ? "the CRM implementation" : "внедрения CRM")));
out:
	p = plan(&t);
	turn_free(&t);
	return p;
}
