/*
 * tests/bench/agent-ledger.c: the ledger of the agent-reply benchmark
 * (tests/bench/agent).  Into a migrated ledger it writes two reps, N
 * prospects (default 1,000), each with a history of TURNS turns (default
 * 20: a message in, answered, and our reply out, sent) and what the
 * conversation has learned so far (stage, BANT fields, the engine's notes),
 * then one new unanswered message per prospect; it prints the message.in
 * records of those new messages, as tg-fetch would, for agent-reply.
 *
 *	agent-ledger URL [N [TURNS [EN]]]
 *
 * EN is the percentage of prospects who write English (default 33), the
 * others write Russian.
 * The new messages are questions the knowledge base answers, or a need or
 * a budget that does not yet complete the qualification, so that no turn
 * runs a tool: the benchmark measures agent-reply itself.  Everything is
 * written in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "jsonl.h"
#include "sl.h"

#define BOT "7000000001"
#define NTEXT(a) (sizeof (a) / sizeof (a)[0])

/* Earlier turns: what the prospect wrote, and what we answered. */
static const char *const hist_ru[][2] = {
	{ "Здравствуйте", "Здравствуйте! Расскажите, пожалуйста, какую задачу "
	  "Вы хотите решить?" },
	{ "Нам нужна CRM для отдела продаж", "Понял Вас. Сколько менеджеров "
	  "будет работать в системе?" },
	{ "Около двадцати человек, плюс два руководителя", "Спасибо. Какие "
	  "системы нужно связать с CRM?" },
	{ "Почта, телефония и 1С", "Эти интеграции мы делаем регулярно. Есть "
	  "ли у Вас сейчас какая-то система учёта клиентов?" },
	{ "Пока ведём всё в таблицах", "Понимаю, это частая отправная точка. "
	  "Что в таблицах мешает больше всего?" },
	{ "Теряем заявки и не видим воронку", "Это мы решаем в первую очередь. "
	  "Как быстро Вы хотели бы начать?" },
	{ "Пока изучаем варианты", "Хорошо, не тороплю Вас. Могу рассказать, "
	  "как у нас устроено внедрение." },
	{ "Да, расскажите", "Сначала диагностика, затем настройка и обучение, "
	  "потом сопровождение. С какого этапа Вам удобнее начать?" },
	{ "А обучение сотрудников входит?", "Да, обучение входит в каждый "
	  "пакет внедрения. Сколько сотрудников нужно обучить?" },
	{ "Все двадцать", "Спасибо, учту. Есть ли у Вас ещё вопросы?" },
};

static const char *const hist_en[][2] = {
	{ "Hello", "Hello! What task would you like to solve?" },
	{ "We need a CRM for our sales team", "Thank you. How many people "
	  "will use it?" },
	{ "About fifteen reps and a manager", "Got it. Which systems should "
	  "the CRM connect to?" },
	{ "Email, telephony and our accounting system", "We build those "
	  "integrations often. What do you use to track clients today?" },
	{ "Mostly spreadsheets", "That is a common starting point. What "
	  "bothers you most about them?" },
	{ "Leads get lost and we cannot see the pipeline", "That is what we "
	  "fix first. How soon would you like to start?" },
	{ "We are still comparing options", "Of course, take your time. I "
	  "can tell you how our rollout works." },
	{ "Yes, please", "First an audit, then setup and training, then "
	  "support. Where would you like to begin?" },
	{ "Is staff training included?", "Yes, training is part of every "
	  "package. How many people need it?" },
	{ "All of them", "Thank you, noted. Do you have other questions?" },
};

/* The new message: a question, or a slot that keeps the lead open. */
static const char *const new_ru[] = {
	"Сколько стоит пакет «Рост»?",
	"Что входит в «Диагностику»?",
	"Сколько длится внедрение пакета «Старт»?",
	"Есть ли у вас интеграция с 1С?",
	"Как проходит обучение сотрудников?",
	"Бюджет около 300 тысяч",
	"Нам нужна CRM для отдела продаж, у нас 20 менеджеров",
};

static const char *const new_en[] = {
	"How much is the Growth package?",
	"What does the audit include?",
	"How long does the Start rollout take?",
	"Do you integrate with accounting systems?",
	"How is staff training done?",
	"Our budget is about 300000 roubles",
	"We need a CRM for the sales team, we have 20 reps",
};

static jv
num(int64_t v)
{
	return jv_number((double)v);
}

static int
insert_reps(struct sl_db *db, int64_t now)
{
	return sl_db_exec(db, "INSERT INTO reps (name, display_name, bot, tz, "
	    "created_at, updated_at) VALUES ('anna', 'Анна', '" BOT "', "
	    "'Asia/Makassar', $1, $1), ('ben', 'Ben', '" BOT "', "
	    "'Europe/London', $1, $1)", JV_ARRAY(num(now))) == 2 ? 0 : -1;
}

/*
 * The prospect's row: kind 0 knows nothing yet, 1 its need, 2 also the
 * budget, 3 also the authority.  Returns its id, or -1.
 */
static int64_t
insert_prospect(struct sl_db *db, long i, int en, int kind, int64_t now)
{
	static const char *const stage[] = { "engaged", "qualifying",
		"qualifying", "qualifying" };
	static const char *const question[] = { "need", "budget",
		"authority", "timeline" };
	char chat[32], notes[256];
	int64_t id = -1;
	jv row;

	snprintf(chat, sizeof chat, "%ld", 880000000L + i);
	snprintf(notes, sizeof notes, "{\"agent\":{\"turns\":20,\"question\":"
	    "\"%s\",\"asks\":{\"%s\":1},\"misses\":0}}", question[kind],
	    question[kind]);
	row = sl_db_query1(db, "INSERT INTO prospects (bot, chat, rep_id, "
	    "user_id, name, lang, stage, need, budget, authority, notes, "
	    "last_in_at, last_out_at, created_at, updated_at) VALUES ('" BOT
	    "', $1, $2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $10) "
	    "RETURNING id", jv_array_concat(JV_ARRAY(jv_string(chat),
	    num(en ? 2 : 1), jv_string(en ? "John" : "Ольга"),
	    jv_string(en ? "en" : "ru"), jv_string(stage[kind])),
	    JV_ARRAY(kind >= 1 ? jv_string(en ?
	    "a CRM for 15 sales reps" : "CRM для отдела продаж") : jv_null(),
	    kind >= 2 ? jv_string("300000") : jv_null(),
	    kind >= 3 ? jv_string("decision_maker") : jv_null(),
	    jv_string(notes), num(now - 3600), num(now - 3 * 86400))));
	if (jv_get_kind(row) == JV_KIND_OBJECT)
		sl_get_int(row, "id", &id);
	jv_free(row);
	return id;
}

/* A message in (status st); its id, or -1. */
static int64_t
insert_in(struct sl_db *db, int64_t p, const char *chat, long msg,
    const char *text, const char *st, int64_t at)
{
	char key[96];
	int64_t id = -1;
	jv row;

	snprintf(key, sizeof key, "tg:in:" BOT "::%s:%ld", chat, msg);
	row = sl_db_query1(db, "INSERT INTO messages (direction, prospect_id, "
	    "bot, business_connection, chat, msg, from_id, text, key, status, "
	    "meta, at, created_at, updated_at) VALUES ('in', $1, '" BOT "', "
	    "'', $2, $3, $2, $4, $5, $6, '{}', $7, $7, $7) RETURNING id",
	    JV_ARRAY(num(p), jv_string(chat), jv_string_fmt("%ld", msg),
	    jv_string(text), jv_string(key), jv_string(st), num(at)));
	if (jv_get_kind(row) == JV_KIND_OBJECT)
		sl_get_int(row, "id", &id);
	jv_free(row);
	return id;
}

/* One earlier turn: the message in, answered by our reply out. */
static int
insert_turn(struct sl_db *db, int64_t p, const char *chat, long t,
    const char *in, const char *out, int64_t at)
{
	char key[64];
	int64_t id;

	if ((id = insert_in(db, p, chat, 2 * t + 1, in, "answered", at)) < 0)
		return -1;
	snprintf(key, sizeof key, "reply:%lld:%lld", (long long)p,
	    (long long)id);
	if (sl_db_exec(db, "UPDATE messages SET reply_key = $2 WHERE id = $1",
	    JV_ARRAY(num(id), jv_string(key))) != 1)
		return -1;
	return sl_db_exec(db, "INSERT INTO messages (direction, prospect_id, "
	    "bot, business_connection, chat, msg, text, key, status, meta, at, "
	    "sent_at, created_at, updated_at) VALUES ('out', $1, '" BOT "', '', "
	    "$2, $3, $4, $5, 'sent', '{\"author\":\"agent\"}', $6, $6, $6, $6)",
	    JV_ARRAY(num(p), jv_string(chat), jv_string_fmt("%ld", 2 * t + 2),
	    jv_string(out), jv_string(key), num(at + 20))) == 1 ? 0 : -1;
}

/* The prospect, its history and its new message; prints the message.in. */
static int
prospect(struct sl_db *db, long i, long turns, long pct, int64_t now)
{
	int en = (i * 37) % 100 < pct, kind = (int)(i % 4);
	const char *text;
	char chat[32];
	int64_t p, at = now - 2 * 86400;
	size_t k;
	long t;
	jv rec;

	if ((p = insert_prospect(db, i, en, kind, now)) < 0)
		return -1;
	snprintf(chat, sizeof chat, "%ld", 880000000L + i);
	for (t = 0; t < turns; t++, at += 600) {
		k = (size_t)(t + i) % NTEXT(hist_ru);
		if (insert_turn(db, p, chat, t, en ? hist_en[k][0] :
		    hist_ru[k][0], en ? hist_en[k][1] : hist_ru[k][1], at) < 0)
			return -1;
	}
	/* the budget or need only where it does not qualify the lead */
	k = (size_t)i % (kind == 0 ? NTEXT(new_ru) : kind == 1 ? 6 : 5);
	if (kind == 0 && k == 5)
		k = 6;
	text = en ? new_en[k] : new_ru[k];
	if (insert_in(db, p, chat, 2 * turns + 1, text, "new", now - 5) < 0)
		return -1;
	rec = JV_OBJECT(jv_string("type"), jv_string("message.in"),
	    jv_string("channel"), jv_string("telegram"),
	    jv_string("bot"), jv_string(BOT),
	    jv_string("rep"), jv_string(en ? "ben" : "anna"),
	    jv_string("chat"), jv_string(chat),
	    jv_string("prospect"), sl_id_jv(p),
	    jv_string("msg"), jv_string_fmt("%ld", 2 * turns + 1),
	    jv_string("text"), jv_string(text),
	    jv_string("at"), num(now - 5));
	return sl_emit(rec) < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
	long turns = argc > 3 ? strtol(argv[3], NULL, 10) : 20, i;
	long pct = argc > 4 ? strtol(argv[4], NULL, 10) : 33;
	int64_t now = (int64_t)time(NULL);
	struct sl_db *db;

	sl_init("agent-ledger");
	if (argc < 2 || argc > 5 || n < 1 || turns < 0 || turns > 10000 ||
	    pct < 0 || pct > 100) {
		fputs("usage: agent-ledger URL [N [TURNS [EN]]]\n", stderr);
		return SL_EX_USAGE;
	}
	db = sl_db_open_or_die(argv[1], NULL, 1);
	if (sl_db_begin(db) < 0 || insert_reps(db, now) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (prospect(db, i, turns, pct, now) < 0)
			goto fail;
	if (sl_db_commit(db) < 0)
		goto fail;
	sl_db_close(db);
	return sl_out_close() != 0 ? SL_EX_IOERR : SL_EX_OK;
fail:
	sl_error("%s", sl_db_error(db));
	sl_db_rollback(db);
	sl_db_close(db);
	return SL_EX_SOFTWARE;
}
