/*
 * agent-reply: the next message of a sales conversation.
 *
 *   message.in lines   -> message.out (and escalation) records
 *   followup.due lines -> message.out
 *   --pending          -> answers what the ledger holds unanswered
 *
 * A message.in is only a signal: the ledger (where tg-fetch stored the
 * message) is the truth.  A prospect's unanswered messages that arrive
 * within the debounce window of each other are one turn: when the window
 * of the last one ends, all of that prospect's new messages are claimed in
 * one statement ('new' -> 'answering', with a lease, so two workers never
 * answer one burst and a crashed claim is taken again), answered together,
 * and closed ('answered', with the reply's key) in the transaction that
 * stores what the turn learned.  The reply's key is "reply:PROSPECT:ID",
 * ID the last message answered, so the same burst always gives the same
 * key and tg-send sends it once.
 *
 * With a model (lib/llm.h: Anthropic, or any OpenAI-compatible server)
 * the turn is a tool loop: the prompt holds the skills' method, the time,
 * the state and the knowledge passages of the turn; the model's tool
 * calls run the commands of skills/tools.json (lib/tools.h: cal-free,
 * zoom-book, schedule-due --add) and their output goes back to it.  Its
 * reply must pass the guard (lib/guard.h: the tone rules, and no price,
 * discount or quote of the prompt the knowledge base does not back); a
 * reply that fails is sent back once with the reason.  When the model
 * fails, the budget is spent or its reply fails twice, the rules engine
 * (lib/rules.h) answers, marked degraded; without a model it answers
 * always.  A message that comes while a reply is composed is claimed and
 * the reply composed again, once, when the turn booked, scheduled and
 * escalated nothing; else it gets a turn of its own.  Escalation is done here: the prospect is marked
 * escalated and an escalation record is written.  A human who has
 * the chat (human_active) gets no reply from us: the messages are closed
 * as 'ignored'.  Records of other types pass through.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "google.h"
#include "guard.h"
#include "jsonl.h"
#include "kb.h"
#include "llm.h"
#include "prompt.h"
#include "rules.h"
#include "sched.h"
#include "sl.h"
#include "timeutil.h"
#include "tone.h"
#include "tools.h"

static const char usage_text[] =
    "usage: agent-reply [-v] [--db URL] [--debounce S | --no-debounce] "
    "[--pending [--bot ID]]\n"
    "       agent-reply -h\n";

#define LEASE 300
#define MAX_BURSTS 4096

static const char *dbflag;
static const char *botflag;	/* --pending: this bot's prospects only */
static long debounce_ms = 3000;
static int pflag;

/* A prospect whose turn waits for its debounce window to end. */
struct burst {
	int64_t prospect;
	long long deadline;	/* monotonic ms */
};

struct ctx {
	struct sl_db *db;
	struct sl_rules *rules;
	struct sl_tools *tools;
	struct sl_llm *llm;		/* NULL: the rules engine answers */
	struct sl_guard *guard;		/* what a model's reply must pass */
	char *method;			/* the skills' method, for the prompt */
	size_t history;			/* tokens of conversation for it */
	int acted;			/* a tool of the turn changed things */
	char *env_db;		/* SALESLINE_DB=... for the tools */
	struct burst b[MAX_BURSTS];
	size_t nb;
	unsigned long lineno, rejected;
	int status;
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static jv
num(int64_t v)
{
	return jv_number((double)v);
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bot", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "debounce", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-debounce", no_argument, NULL, 'N' },
		{ "pending", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	double s;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (*optarg == '\0' || optarg[strspn(optarg,
			    "0123456789")] != '\0') {
				sl_error("--bot: expected a bot's id (the "
				    "digits of its token), not '%.32s'", optarg);
				usage(SL_EX_USAGE);
			}
			botflag = optarg;
			break;
		case 'd': dbflag = optarg; break;
		case 'D':
			if (sl_option_number("--debounce", optarg, 0, 600, 0,
			    &s) < 0)
				usage(SL_EX_USAGE);
			debounce_ms = (long)(s * 1000);
			break;
		case 'h': usage(SL_EX_OK);
		case 'N': debounce_ms = 0; break;
		case 'p': pflag = 1; break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
	if (optind < argc)
		usage(SL_EX_USAGE);
}

/*
 * The conversation's state for the engine: the prospect's row, its rep,
 * and what the engine keeps of its own in prospects.notes ({"agent":
 * {...}}).  NULL row (prospect unknown): null.
 */
static jv
load_state(struct ctx *c, int64_t prospect, jv *row)
{
	static const char *const cols[] = { "lang", "stage", "name", "need",
		"budget", "authority", "timeline", "email" };
	const char *v;
	int64_t h;
	jv st, notes, agent;
	size_t i;

	*row = sl_db_query1(c->db, "SELECT p.*, r.name AS rep_name_, "
	    "r.display_name AS rep_display, r.tz AS rep_tz, r.horizon_days AS "
	    "rep_horizon, r.tg_user_id AS rep_tg_user, r.bot AS rep_bot "
	    "FROM prospects p "
	    "LEFT JOIN reps r ON r.id = p.rep_id WHERE p.id = $1",
	    JV_ARRAY(num(prospect)));
	if (jv_get_kind(*row) != JV_KIND_OBJECT)
		return jv_null();
	st = jv_object();
	if (sl_get_str(*row, "notes", &v) == 1) {
		notes = sl_parse(v, strlen(v));
		agent = jv_get_kind(notes) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(notes), jv_string("agent")) :
		    jv_null();
		if (jv_get_kind(agent) == JV_KIND_OBJECT)
			st = jv_object_merge(st, agent);
		else
			jv_free(agent);
		jv_free(notes);
	}
	for (i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (sl_get_str(*row, cols[i], &v) == 1)
			st = sl_set(st, cols[i], jv_string(v));
	if (sl_get_str(*row, "rep_name_", &v) == 1)
		st = sl_set(st, "rep", jv_string(v));
	if (sl_get_str(*row, "rep_display", &v) == 1)
		st = sl_set(st, "rep_name", jv_string(v));
	st = sl_set(st, "tz", jv_string(sl_get_str(*row, "rep_tz", &v) == 1 ?
	    v : sl_env("SALESLINE_TZ", "Asia/Makassar")));
	if (sl_get_str(*row, "tz", &v) == 1)
		st = sl_set(st, "prospect_tz", jv_string(v));
	if (sl_get_int(*row, "rep_horizon", &h) == 1)
		st = sl_set(st, "horizon_days", num(h));
	return sl_set(st, "prospect", sl_id_jv(prospect));
}

/* Stores updates (borrowed) into the prospect's row and its notes. */
static int
store_state(struct ctx *c, int64_t prospect, jv state, jv updates,
    int64_t now)
{
	static const char *const cols[] = { "lang", "stage", "need", "budget",
		"authority", "timeline", "email", "lead_class" };
	jv st = jv_object_merge(jv_copy(state), jv_copy(updates)), v, rec;
	char *notes;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		v = jv_object_get(jv_copy(updates), jv_string(cols[i]));
		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			notes = sl_asprintf("%.0f", jv_number_value(v));
			jv_free(v);
			v = jv_string(notes);
			free(notes);
		}
		if (jv_get_kind(v) == JV_KIND_STRING) {
			notes = sl_asprintf("UPDATE prospects SET %s = $2 "
			    "WHERE id = $1", cols[i]);
			rc = (int)sl_db_exec(c->db, notes, JV_ARRAY(num(prospect),
			    v));
			free(notes);
			if (rc < 0) {
				jv_free(st);
				return -1;
			}
		} else {
			jv_free(v);
		}
	}
	rec = JV_OBJECT(jv_string("agent"), st);
	notes = sl_json_dump(rec, &len);
	jv_free(rec);
	rc = sl_db_exec(c->db, "UPDATE prospects SET notes = $2, "
	    "updated_at = $3, last_out_at = $3 WHERE id = $1",
	    JV_ARRAY(num(prospect), jv_string(notes), num(now))) < 0 ? -1 : 0;
	free(notes);
	return rc;
}

/* Tools that only look things up: a turn that ran no other may be redone. */
static int
acts(const char *name)
{
	return strcmp(name, "get_free_slots") != 0 &&
	    strcmp(name, "parse_time") != 0 &&
	    strcmp(name, "search_knowledge") != 0;
}

/* Runs plan.tool; its records in *out (an array). */
static void
run_tool(struct ctx *c, jv tool, jv *out)
{
	char *const env[] = { c->env_db, NULL };
	const char *name;
	char *err = NULL;
	jv input;

	*out = jv_array();
	if (sl_get_str(tool, "name", &name) != 1)
		return;
	if (sl_get_obj(tool, "input", &input) != 1)
		input = jv_object();
	c->acted |= acts(name);
	jv_free(*out);
	if (sl_tools_run(c->tools, name, input, c->env_db ? env : NULL, out,
	    &err) < 0) {
		sl_warn("tool '%s': %s", name, err ? err : "failed");
		free(err);
	}
}

/* What the rep reads when a chat is handed over, by reason. */
static const char *
handover_words(const char *reason)
{
	static const char *const words[][2] = {
		{ "human_request", "просит живого человека" },
		{ "legal_threat", "пишет о юридических претензиях" },
		{ "refund_demand", "требует вернуть деньги" },
		{ "data_erasure", "просит удалить свои данные" },
		{ "negative_sentiment", "очень недоволен" },
		{ "negative", "очень недоволен" },
		{ "complaint", "жалуется на нашу работу" },
		{ "cannot_answer", "спрашивает то, на что у ассистента нет "
		    "ответа" },
		{ "tool_failure", "не смог записаться из-за сбоя" },
	};
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(reason, words[i][0]) == 0)
			return words[i][1];
	return "ждёт человека";
}

/*
 * The rep hears of the handover in the bot's private chat with them
 * (their Telegram user id, which a Business connection gives): a
 * message.out under a key of its own.
 */
static int
notify_rep(jv row, int64_t prospect, const char *reason, jv e, int64_t now)
{
	const char *user, *v, *name = NULL, *summary = NULL;
	char *text, key[96];
	jv rec;

	if (sl_get_str(row, "rep_tg_user", &user) != 1 || !*user)
		return 0;
	sl_get_str(row, "name", &name);
	if (jv_get_kind(e) == JV_KIND_OBJECT)
		sl_get_str(e, "summary", &summary);
	if (name && *name)
		text = sl_asprintf("Клиент «%s» %s, ему нужен Ваш ответ в "
		    "чате.%s%s", name, handover_words(reason), summary ? " " :
		    "", summary ? summary : "");
	else
		text = sl_asprintf("Клиент №%lld %s, ему нужен Ваш ответ в "
		    "чате.%s%s", (long long)prospect, handover_words(reason),
		    summary ? " " : "", summary ? summary : "");
	snprintf(key, sizeof key, "escalation:%lld:%lld", (long long)prospect,
	    (long long)now);
	rec = JV_OBJECT(jv_string("type"), jv_string("message.out"),
	    jv_string("channel"), jv_string("telegram"));
	if ((sl_get_str(row, "rep_bot", &v) == 1 && *v) ||
	    (sl_get_str(row, "bot", &v) == 1 && *v))
		rec = sl_set(rec, "bot", jv_string(v));
	rec = sl_set(rec, "chat", jv_string(user));
	rec = sl_set(rec, "text", jv_string(text));
	rec = sl_set(rec, "key", jv_string(key));
	rec = sl_set(rec, "to", jv_string("rep"));
	free(text);
	return sl_emit(rec) < 0 ? SL_EX_IOERR : 0;
}

/*
 * Escalation: the prospect is marked, an escalation record written, and
 * the rep told in Telegram the first time (escalated_at was unset).
 */
static int
escalate(struct ctx *c, jv row, int64_t prospect, jv plan, int64_t now)
{
	const char *reason = "requested", *v;
	char at[SL_TIME_BUFSZ];
	long long first;
	jv e, rec;

	if (sl_get_obj(plan, "escalate", &e) == 1) {
		if (sl_get_str(e, "reason", &v) == 1)
			reason = v;
	} else {
		e = jv_null();
	}
	rec = JV_OBJECT(jv_string("type"), jv_string("escalation"),
	    jv_string("prospect"), sl_id_jv(prospect),
	    jv_string("reason"), jv_string(reason),
	    jv_string("at"), jv_string(sl_time_fmt(now, at)));
	if (sl_get_str(row, "chat", &v) == 1)
		rec = sl_set(rec, "chat", jv_string(v));
	if (sl_get_str(row, "rep_name_", &v) == 1)
		rec = sl_set(rec, "rep", jv_string(v));
	c->acted = 1;
	if ((first = sl_db_exec(c->db, "UPDATE prospects SET escalated_at = "
	    "$2 WHERE id = $1 AND escalated_at IS NULL",
	    JV_ARRAY(num(prospect), num(now)))) < 0) {
		jv_free(e);
		jv_free(rec);
		return -1;
	}
	if (sl_emit(rec) < 0 || (first > 0 && notify_rep(row, prospect, reason,
	    e, now) != 0)) {
		jv_free(e);
		return SL_EX_IOERR;
	}
	jv_free(e);
	return 0;
}

/* Runs the plan's tools until it has a reply: at most three rounds. */
static jv
plan_turn(struct ctx *c, jv state, jv texts, jv row, int64_t prospect,
    int64_t now)
{
	jv plan = sl_rules_turn(c->rules, state, texts, now, jv_null());
	jv tool, out, next, up, st;
	const char *name;
	int round;

	for (round = 0; round < 3 && jv_is_valid(plan); round++) {
		if (sl_get_obj(plan, "tool", &tool) != 1)
			break;
		if (sl_get_str(tool, "name", &name) == 1 &&
		    strcmp(name, "escalate_to_human") == 0) {
			if (escalate(c, row, prospect, plan, now) != 0)
				c->status = SL_EX_IOERR;
			jv_free(tool);
			break;
		}
		run_tool(c, tool, &out);
		jv_free(tool);
		if (sl_get_obj(plan, "updates", &up) != 1)
			up = jv_object();
		st = jv_object_merge(jv_copy(state), jv_copy(up));
		next = sl_rules_after_tool(c->rules, st, plan, out, now);
		jv_free(st);
		jv_free(out);
		if (jv_get_kind(next) == JV_KIND_OBJECT) {
			jv nu;

			if (sl_get_obj(next, "updates", &nu) != 1)
				nu = jv_object();
			next = sl_set(next, "updates", jv_object_merge(up, nu));
		} else {
			jv_free(up);
		}
		jv_free(plan);
		plan = next;
	}
	return plan;
}

static int
emit_out(jv row, int64_t prospect, const char *text, const char *key,
    const char *chat_fallback, int degraded)
{
	static const char *const pass[] = { "channel", "bot",
		"business_connection" };
	const char *v;
	size_t i;
	jv rec = JV_OBJECT(jv_string("type"), jv_string("message.out"));

	for (i = 0; i < sizeof pass / sizeof pass[0]; i++)
		if (sl_get_str(row, pass[i], &v) == 1 && *v)
			rec = sl_set(rec, pass[i], jv_string(v));
	if (sl_get_str(row, "chat", &v) != 1)
		v = chat_fallback;
	rec = sl_set(rec, "chat", jv_string(v ? v : ""));
	rec = sl_set(rec, "prospect", sl_id_jv(prospect));
	rec = sl_set(rec, "text", jv_string(text));
	rec = sl_set(rec, "key", jv_string(key));
	/* the model was wanted but the rules engine answered */
	if (degraded)
		rec = sl_set(rec, "degraded", jv_true());
	return sl_emit(rec) < 0 ? SL_EX_IOERR : 0;
}

/* Claims the prospect's new messages; their texts in *texts, last id. */
static int
claim(struct ctx *c, int64_t prospect, int64_t now, const char *worker,
    jv *texts, int64_t *last)
{
	const char *t;
	jv rows, r;
	int i, n;

	*texts = jv_array();
	*last = 0;
	if (sl_db_exec(c->db, "UPDATE messages SET status = 'answering', "
	    "claimed_until = $3, claimed_by = $4, updated_at = $2 WHERE "
	    "direction = 'in' AND prospect_id = $1 AND (status = 'new' OR "
	    "(status = 'answering' AND claimed_until <= $2))",
	    JV_ARRAY(num(prospect), num(now), num(now + LEASE),
	    jv_string(worker))) < 0)
		return -1;
	rows = sl_db_query(c->db, "SELECT id, text FROM messages WHERE "
	    "prospect_id = $1 AND direction = 'in' AND status = 'answering' "
	    "AND claimed_by = $2 ORDER BY id", JV_ARRAY(num(prospect),
	    jv_string(worker)));
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return -1;
	}
	n = jv_array_length(jv_copy(rows));
	for (i = 0; i < n; i++) {
		r = jv_array_get(jv_copy(rows), i);
		sl_get_int(r, "id", last);
		if (sl_get_str(r, "text", &t) == 1)
			*texts = jv_array_append(*texts, jv_string(t));
		jv_free(r);
	}
	jv_free(rows);
	return n;
}

static int queue(struct ctx *c, int64_t prospect);

/* One tool call of the model: its result as a tool message. */
static jv
model_tool(struct ctx *c, jv call, jv row, int64_t prospect, int64_t now)
{
	char *const env[] = { c->env_db, NULL };
	const char *id = "", *name = "";
	char *err = NULL, *text;
	jv input, out, m, plan;
	int bad;

	sl_get_str(call, "id", &id);
	sl_get_str(call, "name", &name);
	m = JV_OBJECT(jv_string("role"), jv_string("tool"),
	    jv_string("tool_call_id"), jv_string(id), jv_string("name"),
	    jv_string(name));
	if (sl_get_obj(call, "input", &input) != 1)
		input = jv_object();
	c->acted |= acts(name);
	if (strcmp(name, "escalate_to_human") == 0) {
		plan = JV_OBJECT(jv_string("escalate"), input);
		if (escalate(c, row, prospect, plan, now) != 0)
			c->status = SL_EX_IOERR;
		jv_free(plan);
		return sl_set(m, "content", jv_string("escalated: a person "
		    "will answer"));
	}
	bad = sl_tools_run(c->tools, name, input, env, &out, &err) < 0;
	text = bad ? NULL : sl_json_dump(out, NULL);
	m = sl_set(m, "content", jv_string(bad ? (err ? err : "failed") :
	    text));
	if (bad)
		m = sl_set(m, "is_error", jv_true());
	free(text);
	free(err);
	jv_free(out);
	return m;
}

/* The model's text, fixed, when the guard passes it; else NULL, *why. */
static char *
vet(struct ctx *c, const char *text, const char *lang, char **why)
{
	size_t flen;
	char *fixed;
	jv v;

	fixed = sl_tone_fix(text, strlen(text), lang, sl_rules_tone(c->rules),
	    &flen);
	v = sl_guard_check(c->guard, fixed, flen, lang);
	*why = NULL;
	if (jv_array_length(jv_copy(v)) > 0) {
		*why = sl_guard_describe(v);
		free(fixed);
		fixed = NULL;
	}
	jv_free(v);
	return fixed;
}

/* The conversation with the refused reply and what was wrong with it. */
static jv
ask_again(jv msgs, const char *text, const char *why, const char *lang)
{
	char *t;

	msgs = jv_array_append(msgs, JV_OBJECT(jv_string("role"),
	    jv_string("assistant"), jv_string("text"), jv_string(text)));
	t = sl_asprintf("[salesline, not the prospect] That reply cannot be "
	    "sent: %s.  Write the reply again, within the tone of voice, in "
	    "%s, with no price, discount or promise that the knowledge "
	    "passages do not contain.", why, lang && strcmp(lang, "en") == 0 ?
	    "English" : "Russian");
	msgs = jv_array_append(msgs, JV_OBJECT(jv_string("role"),
	    jv_string("user"), jv_string("text"), jv_string(t)));
	free(t);
	return msgs;
}

/*
 * The model's turn: the tool loop, at most five rounds.  The reply in
 * *reply (a new string) when the model answered with text that passes
 * the guard (after the tone fixer), at once or when asked once more;
 * -1 when the rules engine must answer instead (the model failed, the
 * budget is spent, the reply broke a rule twice).
 */
static int
model_turn(struct ctx *c, jv state, jv texts, jv row, int64_t prospect,
    int64_t now, char **reply)
{
	struct sl_svc_err err;
	char *system, *why = NULL, *summary = NULL;
	const char *text, *lang = NULL;
	jv msgs, specs, ans, calls, call, v;
	int round, i, n, rc = -1, ok, again = 0;

	*reply = NULL;
	sl_get_str(state, "lang", &lang);
	msgs = sl_prompt_history(c->db, prospect, c->history, &summary);
	if (!jv_is_valid(msgs)) {
		sl_warn("prospect %lld: %s: the rules engine answers",
		    (long long)prospect, sl_db_error(c->db));
		jv_free(msgs);
		return -1;
	}
	system = sl_prompt_system(c->db, c->method, state, texts, now,
	    summary);
	free(summary);
	specs = sl_tools_specs(c->tools);
	for (round = 0; round < 5 + again; round++) {
		if ((ok = sl_llm_budget_ok(c->db, c->llm, prospect, &why)) != 1) {
			sl_warn("prospect %lld: %s: the rules engine answers",
			    (long long)prospect, why ? why : "no budget");
			free(why);
			break;
		}
		memset(&err, 0, sizeof err);
		ok = sl_llm_complete(c->llm, system, msgs, specs, 1024, &ans,
		    &err) == 0;
		if (sl_llm_log(c->db, c->llm, prospect, again ? "regenerate" :
		    "reply", ok ? &ans : NULL, ok ? NULL : &err) < 0)
			sl_warn("llm_calls: %s", sl_db_error(c->db));
		if (!ok) {
			sl_warn("prospect %lld: the model failed (%s): the rules "
			    "engine answers", (long long)prospect, err.message);
			break;
		}
		if (sl_get_arr(ans, "tool_calls", &calls) != 1)
			calls = jv_array();
		n = jv_array_length(jv_copy(calls));
		if (n == 0) {
			jv_free(calls);
			if (sl_get_str(ans, "text", &text) != 1 || !*text) {
				jv_free(ans);
				break;
			}
			if ((*reply = vet(c, text, lang, &why)) != NULL) {
				rc = 0;
			} else if (!again) {
				sl_warn("prospect %lld: the model's reply breaks "
				    "the rules (%s): it is asked once more",
				    (long long)prospect, why);
				msgs = ask_again(msgs, text, why, lang);
				again = 1;
				free(why);
				jv_free(ans);
				continue;
			} else {
				sl_warn("prospect %lld: the model's reply breaks "
				    "the rules again (%s): the rules engine "
				    "answers", (long long)prospect, why);
			}
			free(why);
			jv_free(ans);
			break;
		}
		if (sl_get_obj(ans, "message", &v) == 1)
			msgs = jv_array_append(msgs, v);
		for (i = 0; i < n; i++) {
			call = jv_array_get(jv_copy(calls), i);
			msgs = jv_array_append(msgs, model_tool(c, call, row,
			    prospect, now));
			jv_free(call);
		}
		jv_free(calls);
		jv_free(ans);
	}
	jv_free(msgs);
	jv_free(specs);
	free(system);
	return rc;
}

/* Closes the claimed messages as status, in the open transaction. */
static int
close_claim(struct ctx *c, int64_t prospect, const char *worker,
    const char *status, const char *key, int64_t now)
{
	return sl_db_exec(c->db, "UPDATE messages SET status = $3, "
	    "reply_key = $4, claimed_until = NULL, claimed_by = NULL, "
	    "updated_at = $5 WHERE prospect_id = $1 AND direction = 'in' AND "
	    "status = 'answering' AND claimed_by = $2",
	    JV_ARRAY(num(prospect), jv_string(worker), jv_string(status),
	    key ? jv_string(key) : jv_null(), num(now))) < 0 ? -1 : 0;
}

static void
allow(void *g, const char *text)
{
	sl_guard_allow(g, text);
}

/* What a turn with a model needs: the method, the guard, the budget. */
static void
model_setup(struct ctx *c)
{
	char *path = sl_asprintf("%s/skills/tone-of-voice/rules.json",
	    sl_home()), *txt = sl_malloc(1 << 20);
	FILE *f = fopen(path, "r");
	size_t k = f ? fread(txt, 1, (1 << 20) - 1, f) : 0;
	jv rules;

	if (f)
		fclose(f);
	rules = sl_parse(txt, k);
	if (jv_get_kind(rules) != JV_KIND_OBJECT)
		sl_die(SL_EX_CONFIG, "'%s': not a JSON object", path);
	c->guard = sl_guard_new(sl_rules_tone(c->rules), rules);
	sl_rules_each_passage(c->rules, allow, c->guard);
	c->method = sl_prompt_method();
	sl_llm_preamble(c->llm, c->method);
	sl_guard_secret(c->guard, c->method);
	c->history = (size_t)sl_env_int("LLM_HISTORY_TOKENS",
	    SL_PROMPT_HISTORY_TOKENS, 200, 1000000);
	jv_free(rules);
	free(txt);
	free(path);
}

static int
ledger_error(struct ctx *c)
{
	sl_error("%s", sl_db_error(c->db));
	sl_db_rollback(c->db);
	return sl_db_exit_code(c->db);
}

/*
 * The reply, queued in the ledger in the turn's transaction, so that a
 * sender that dies before it reads the record loses nothing: tg-send
 * takes the row up under its key (and tg-send --pending finds it).
 */
static int
store_out(struct ctx *c, jv row, int64_t prospect, const char *text,
    const char *key, int degraded, int64_t now)
{
	const char *chat = "", *v;
	jv bot = jv_null(), bc = jv_null(), channel = jv_string("telegram");

	sl_get_str(row, "chat", &chat);
	if (sl_get_str(row, "bot", &v) == 1 && *v)
		bot = jv_string(v);
	if (sl_get_str(row, "business_connection", &v) == 1 && *v)
		bc = jv_string(v);
	if (sl_get_str(row, "channel", &v) == 1 && *v) {
		jv_free(channel);
		channel = jv_string(v);
	}
	return sl_db_exec(c->db, "INSERT INTO messages (direction, "
	    "prospect_id, channel, bot, business_connection, chat, text, key, "
	    "status, degraded, at, created_at, updated_at) VALUES ('out', $1, "
	    "$2, $3, $4, $5, $6, $7, 'queued', $8, $9, $9, $9) ON CONFLICT "
	    "(key) DO NOTHING", JV_ARRAY(num(prospect), channel, bot, bc,
	    jv_string(chat), jv_string(text), jv_string(key), num(degraded),
	    num(now))) < 0 ? -1 : 0;
}

/* How many of the prospect's messages nobody claimed yet; -1: error. */
static int
unclaimed(struct ctx *c, int64_t prospect)
{
	int64_t n = -1;
	jv r;

	r = sl_db_query1(c->db, "SELECT count(*) AS n FROM messages WHERE "
	    "prospect_id = $1 AND direction = 'in' AND status = 'new'",
	    JV_ARRAY(num(prospect)));
	if (jv_get_kind(r) == JV_KIND_OBJECT)
		sl_get_int(r, "n", &n);
	jv_free(r);
	return (int)n;
}

/* The reply of a turn (plan: the rules engine's, when it answered). */
static const char *
compose(struct ctx *c, jv state, jv texts, jv row, int64_t prospect,
    int64_t now, char **mreply, jv *plan, int *degraded)
{
	const char *reply = NULL;

	c->acted = 0;
	if (c->llm && model_turn(c, state, texts, row, prospect, now,
	    mreply) == 0)
		return *mreply;
	*degraded = c->llm != NULL;
	*plan = plan_turn(c, state, texts, row, prospect, now);
	if (sl_get_str(*plan, "reply", &reply) != 1)
		reply = NULL;
	return reply;
}

/*
 * One turn of a prospect: claim, decide, store, write.  A message that
 * came while the reply was composed is claimed too and the reply composed
 * again, once, when the turn changed nothing outside the ledger (no
 * booking, follow-up or escalation); else it gets a turn of its own.
 */
static int
answer(struct ctx *c, int64_t prospect)
{
	char worker[64], key[96], *mreply = NULL;
	const char *reply = NULL;
	int64_t now = sl_now(), last, flag = 0;
	jv texts, state, row = jv_null(), plan = jv_null(), up;
	int n, rc = 0, quiet, degraded = 0, redo;

	snprintf(worker, sizeof worker, "agent-reply:%ld", (long)getpid());
	if ((n = claim(c, prospect, now, worker, &texts, &last)) <= 0) {
		jv_free(texts);
		return n < 0 ? ledger_error(c) : 0;
	}
	state = load_state(c, prospect, &row);
	quiet = jv_get_kind(row) != JV_KIND_OBJECT ||
	    (sl_get_int(row, "human_active", &flag) == 1 && flag) ||
	    (sl_get_int(row, "unreachable", &flag) == 1 && flag) ||
	    sl_get_int(row, "erased_at", &flag) == 1;
	for (redo = 0; !quiet; redo++) {
		reply = compose(c, state, texts, row, prospect, now, &mreply,
		    &plan, &degraded);
		if (redo || c->acted || unclaimed(c, prospect) <= 0)
			break;
		sl_info("prospect %lld: a message came while the reply was "
		    "composed: it is composed again", (long long)prospect);
		free(mreply);
		mreply = NULL;
		jv_free(plan);
		plan = jv_null();
		degraded = 0;
		jv_free(texts);
		if (claim(c, prospect, now, worker, &texts, &last) < 0)
			goto dberr;
	}
	snprintf(key, sizeof key, "reply:%lld:%lld", (long long)prospect,
	    (long long)last);
	if (sl_db_begin(c->db) < 0)
		goto dberr;
	if (!quiet && sl_get_obj(plan, "updates", &up) == 1) {
		n = store_state(c, prospect, state, up, now);
		jv_free(up);
		if (n < 0)
			goto dberr;
	}
	if (!quiet && sl_get_bool(plan, "stop", &n) == 1 && n &&
	    sl_db_exec(c->db, "UPDATE scheduled_actions SET status = "
	    "'cancelled', cancel_reason = 'stopped', updated_at = $2 WHERE "
	    "prospect_id = $1 AND status = 'pending'",
	    JV_ARRAY(num(prospect), num(now))) < 0)
		goto dberr;
	if (reply && store_out(c, row, prospect, reply, key, degraded,
	    now) < 0)
		goto dberr;
	if (close_claim(c, prospect, worker, reply ? "answered" : "ignored",
	    reply ? key : NULL, now) < 0 || sl_db_commit(c->db) < 0)
		goto dberr;
	if (reply)
		rc = emit_out(row, prospect, reply, key, NULL, degraded);
	/* what came in meanwhile is answered next, not forgotten */
	if (rc == 0 && !quiet && unclaimed(c, prospect) > 0)
		rc = queue(c, prospect);
	goto out;
dberr:
	rc = ledger_error(c);
out:
	free(mreply);
	jv_free(texts);
	jv_free(state);
	jv_free(row);
	jv_free(plan);
	return rc;
}

/*
 * A claimed action that gets no message is cancelled with why, rather
 * than left to its lease (when the record names the action's id).
 */
static int
drop_action(struct ctx *c, jv rec, const char *why)
{
	int64_t id;
	jv v;

	if (sl_get_id(rec, "id", &v) != 1)
		return 0;
	id = sl_sched_id(jv_string_value(v));
	jv_free(v);
	if (id <= 0)
		return 0;
	if (sl_db_exec(c->db, "UPDATE scheduled_actions SET status = "
	    "'cancelled', cancel_reason = $2, lease_until = NULL, updated_at = "
	    "$3 WHERE id = $1 AND status = 'claimed'", JV_ARRAY(num(id),
	    jv_string(why), num(sl_now()))) < 0) {
		sl_error("%s", sl_db_error(c->db));
		return sl_db_exit_code(c->db);
	}
	sl_info("action %lld: no message (%s): cancelled", (long long)id, why);
	return 0;
}

/* A follow-up or reminder that is due: its message, under its key. */
static int
followup(struct ctx *c, jv rec)
{
	const char *key, *chat = NULL, *reply;
	int64_t prospect, flag = 0;
	jv id = jv_null(), state, row = jv_null(), plan;
	int rc = 0, n;

	if (sl_get_id(rec, "prospect", &id) != 1 ||
	    (prospect = sl_sched_id(jv_string_value(id))) <= 0 ||
	    sl_get_str(rec, "key", &key) != 1) {
		if (jv_is_valid(id))
			jv_free(id);
		sl_error("stdin:%lu: followup.due: 'prospect' and 'key' are "
		    "needed", c->lineno);
		c->rejected++;
		return 0;
	}
	jv_free(id);
	sl_get_str(rec, "chat", &chat);
	state = load_state(c, prospect, &row);
	if (jv_get_kind(row) != JV_KIND_OBJECT ||
	    (sl_get_int(row, "human_active", &flag) == 1 && flag)) {
		rc = drop_action(c, rec, "human_takeover");
		jv_free(state);
		jv_free(row);
		return rc;
	}
	plan = sl_rules_followup(c->rules, state, rec, sl_now());
	if (sl_get_str(plan, "reply", &reply) == 1)
		rc = store_out(c, row, prospect, reply, key, 0, sl_now()) < 0 ?
		    ledger_error(c) : emit_out(row, prospect, reply, key, chat,
		    0);
	else
		rc = drop_action(c, rec, sl_get_bool(state, "stopped", &n) ==
		    1 && n ? "stopped" : sl_get_bool(state, "escalated", &n) ==
		    1 && n ? "escalated" : "nothing_to_say");
	jv_free(plan);
	jv_free(state);
	jv_free(row);
	return rc;
}

/* The prospect's turn waits until debounce_ms after its last message. */
static int
queue(struct ctx *c, int64_t prospect)
{
	long long deadline = sl_mono_ms() + debounce_ms;
	size_t i;

	for (i = 0; i < c->nb; i++)
		if (c->b[i].prospect == prospect) {
			c->b[i].deadline = deadline;
			return 0;
		}
	if (c->nb == MAX_BURSTS)
		return answer(c, prospect);
	c->b[c->nb].prospect = prospect;
	c->b[c->nb].deadline = deadline;
	c->nb++;
	return 0;
}

/* Answers the turns whose window ended (all of them with all). */
static int
fire(struct ctx *c, int all)
{
	long long now = sl_mono_ms();
	size_t i = 0;
	int64_t p;
	int rc;

	while (i < c->nb) {
		if (!all && c->b[i].deadline > now) {
			i++;
			continue;
		}
		p = c->b[i].prospect;
		c->b[i] = c->b[--c->nb];
		if ((rc = answer(c, p)) != 0)
			return rc;
	}
	return 0;
}

/* ms until the next window ends, -1 when none waits. */
static int
next_wait(const struct ctx *c)
{
	long long now = sl_mono_ms(), best = -1, d;
	size_t i;

	for (i = 0; i < c->nb; i++) {
		d = c->b[i].deadline - now;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best > 60000 ? 60000 : (int)best;
}

static int
line(struct ctx *c, const char *s, size_t len)
{
	const char *type = NULL;
	int64_t prospect;
	jv rec, id;

	c->lineno++;
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	rec = sl_parse(s, len);
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		if (!jv_is_valid(rec)) {
			jv msg = jv_invalid_get_msg(jv_copy(rec));

			sl_error("stdin:%lu: %s", c->lineno,
			    jv_get_kind(msg) == JV_KIND_STRING ?
			    jv_string_value(msg) : "not JSON");
			jv_free(msg);
		} else {
			sl_error("stdin:%lu: expected an object, not %s",
			    c->lineno, sl_kind_name(rec));
		}
		jv_free(rec);
		c->rejected++;
		return 0;
	}
	sl_get_str(rec, "type", &type);
	if (type && strcmp(type, "message.in") == 0) {
		if (sl_get_id(rec, "prospect", &id) != 1 ||
		    (prospect = sl_sched_id(jv_string_value(id))) <= 0) {
			sl_error("stdin:%lu: 'prospect': expected a ledger id",
			    c->lineno);
			c->rejected++;
		} else {
			jv_free(rec);
			jv_free(id);
			return queue(c, prospect);
		}
		jv_free(rec);
		return 0;
	}
	if (type && strcmp(type, "followup.due") == 0) {
		int rc = followup(c, rec);

		jv_free(rec);
		return rc;
	}
	return sl_emit(rec) < 0 ? SL_EX_IOERR : 0;
}

/* Reads stdin, answering each turn when its window ends. */
static int
run(struct ctx *c)
{
	char *buf = sl_malloc(65536), *nl;
	size_t len = 0, cap = 65536, start;
	struct pollfd pfd = { 0, POLLIN, 0 };
	int eof = 0, rc = 0, w;
	ssize_t got;

	while (rc == 0 && (!eof || c->nb > 0)) {
		w = next_wait(c);
		if (eof) {
			if (w > 0)
				sl_sleep_ms(w);
		} else if (poll(&pfd, 1, w) > 0) {
			if (len == cap) {
				if (cap >= SL_LINE_MAX) {
					sl_error("stdin:%lu: line too long",
					    c->lineno + 1);
					rc = SL_EX_DATAERR;
					break;
				}
				cap *= 2;
				buf = sl_realloc(buf, cap);
			}
			got = read(0, buf + len, cap - len);
			if (got < 0 && errno != EINTR) {
				sl_error("cannot read stdin: %s",
				    strerror(errno));
				rc = SL_EX_IOERR;
				break;
			}
			if (got == 0)
				eof = 1;
			if (got > 0)
				len += (size_t)got;
			start = 0;
			while (rc == 0 && (nl = memchr(buf + start, '\n',
			    len - start)) != NULL) {
				rc = line(c, buf + start,
				    (size_t)(nl - (buf + start)));
				start = (size_t)(nl - buf) + 1;
			}
			memmove(buf, buf + start, len - start);
			len -= start;
			if (eof && len > 0 && rc == 0) {
				rc = line(c, buf, len);
				len = 0;
			}
		}
		if (rc == 0)
			rc = fire(c, 0);
	}
	free(buf);
	return rc;
}

/* What the ledger holds unanswered, every prospect's turn at once. */
static int
pending(struct ctx *c)
{
	int64_t now = sl_now(), p;
	jv ids, v;
	int i, n, rc = 0;

	ids = sl_db_column(c->db, "SELECT DISTINCT prospect_id FROM messages "
	    "WHERE direction = 'in' AND prospect_id IS NOT NULL AND "
	    "(status = 'new' OR (status = 'answering' AND claimed_until <= $1)) "
	    "AND ($2 = '' OR bot = $2) ORDER BY prospect_id",
	    JV_ARRAY(num(now), jv_string(botflag ? botflag : "")),
	    "prospect_id");
	if (!jv_is_valid(ids)) {
		jv_free(ids);
		return ledger_error(c);
	}
	n = jv_array_length(jv_copy(ids));
	for (i = 0; i < n && rc == 0; i++) {
		v = jv_array_get(jv_copy(ids), i);
		p = jv_get_kind(v) == JV_KIND_NUMBER ?
		    (int64_t)jv_number_value(v) : 0;
		jv_free(v);
		if (p > 0)
			rc = answer(c, p);
	}
	jv_free(ids);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctx *c;
	char err[512], *terr = NULL, *dir;
	const char *url;
	int st;

	sl_init("agent-reply");
	options(argc, argv);
	(void)sl_now();		/* a bad SALESLINE_NOW exits 78 */
	c = sl_calloc(1, sizeof *c);
	dir = sl_asprintf("%s/skills", sl_home());
	if ((c->rules = sl_rules_load(dir, err, sizeof err)) == NULL)
		sl_die(SL_EX_CONFIG, "skills '%s': %s (set SALESLINE_HOME)",
		    dir, err);
	if ((c->tools = sl_tools_load(NULL, &terr)) == NULL)
		sl_die(SL_EX_CONFIG, "%s", terr ? terr : "no tool table");
	free(dir);
	c->llm = sl_llm_open();
	if (c->llm)
		model_setup(c);
	url = sl_db_url(dbflag);
	c->env_db = sl_asprintf("SALESLINE_DB=%s", url);
	c->db = sl_db_open_or_die(url, NULL, 1);
	st = pflag ? pending(c) : 0;
	if (st == 0)
		st = run(c);
	if (st == 0)
		st = fire(c, 1);
	if (st == 0 && c->status)
		st = c->status;
	if (st == 0 && c->rejected)
		st = SL_EX_REJECT;
	if (sl_out_close() != 0 && st == SL_EX_OK)
		st = SL_EX_IOERR;
	sl_db_close(c->db);
	sl_rules_free(c->rules);
	sl_tools_free(c->tools);
	sl_guard_free(c->guard);
	sl_llm_close(c->llm);
	free(c->method);
	sl_http_cleanup();
	free(c->env_db);
	free(c);
	sl_zone_free_all();
	return st;
}
