/*
 * tone.c: unit tests for lib/tone.c.
 *
 * Good replies in both languages pass; each rule is broken alone by the
 * smallest text that breaks it and reported by name; texts that look like
 * violations and are none (1.5 million, т.е., 10:30, URLs, addresses, a
 * hyphen, a minus) pass; the fixer fixes what it may, and its result
 * passes; money in its usual forms is found and compared with the allowed
 * amounts; rules load from JSON and bad types are refused by key; any
 * bytes at all, and a 50 KB text, are handled.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "sl.h"
#include "tap.h"
#include "tone.h"

/* The rules broken by text, by name in order, joined by ','. */
static const char *
rules_r(const char *text, const char *lang, const struct sl_tone_rules *r)
{
	static char buf[512];
	struct sl_tone_hit hit[SL_TONE_HITS];
	size_t n, i, o = 0;

	n = sl_tone_scan(text, strlen(text), lang, r, hit, SL_TONE_HITS);
	buf[0] = '\0';
	for (i = 0; i < n && i < SL_TONE_HITS; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s",
		    i ? "," : "", sl_tone_rule_name(hit[i].rule));
	return buf;
}

static const char *
rules(const char *text, const char *lang)
{
	return rules_r(text, lang, NULL);
}

static void
is_rules(const char *text, const char *lang, const char *want)
{
	char name[512];

	snprintf(name, sizeof name, "'%s' (%s): %s", text, lang ? lang : "-",
	    *want ? want : "clean");
	is_str(rules(text, lang), want, name);
}

static void
clean(void)
{
	static const char *const ru[] = {
		"Здравствуйте, Анна! Спасибо за интерес к нашим услугам.",
		"Стоимость сайта от 45 000 ₽. Срок около двух недель. "
		    "Вам удобно созвониться завтра в 10:30?",
		"Да, конечно. Вы можете оплатить частями.",
		"Мы делаем сайты, т.е. всё под ключ: дизайн, вёрстку и т.д. "
		    "Когда Вам удобно обсудить детали?",
		"Отлично 🙂 Пришлю ссылку на онлайн-встречу.",
		"Подробнее здесь: https://example.com/a.b?x=1&y=2. "
		    "Или напишите на o@example.com.",
		"Внедрение занимает 1.5 месяца, до 10–12 недель для "
		    "больших команд.",
		"Температура −5 не помешает: всё онлайн.",
		"Вас устроит четверг?",
	};
	static const char *const en[] = {
		"Hi Anna, thanks for reaching out!",
		"A website starts at $45,000. It takes about two weeks. "
		    "Would Tuesday at 10:30 work for you?",
		"We serve 1.5 million users, e.g. retailers, banks etc.",
		"Mr. Smith will call you at 3 p.m. tomorrow.",
		"Sure... I will send the details to o@example.com today.",
		"See https://example.com/pricing?plan=pro for more.",
	};
	struct sl_tone_rules r;
	const char *allowed[] = { "45000" };
	size_t i;

	sl_tone_rules_default(&r);
	r.allowed_prices = allowed;
	r.nallowed = 1;
	for (i = 0; i < sizeof ru / sizeof ru[0]; i++)
		is_str(rules_r(ru[i], "ru", &r), "", ru[i]);
	for (i = 0; i < sizeof en / sizeof en[0]; i++)
		is_str(rules_r(en[i], "en", &r), "", en[i]);
	is_rules("", "ru", "");
	is_rules("", NULL, "");
	ok(sl_tone_scan(NULL, 5, "ru", NULL, NULL, 0) == 0,
	    "NULL text: clean");
}

static void
each_rule(void)
{
	struct sl_tone_hit hit[SL_TONE_HITS];
	const char *s;
	char buf[1024];
	size_t n, i;

	is_rules("Раз. Два. Три. Четыре.", "ru", "sentences");
	is_rules("One. Two. Three. Four.", "en", "sentences");
	is_rules("Раз! Два? Три… Четыре", "ru", "sentences");
	for (i = 0, n = 0; i < 301; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "ю");
	is_rules(buf, "ru", "length");
	buf[600] = '\0';		/* 300 letters: 600 bytes */
	is_rules(buf, "ru", "");
	is_rules("Стоимость — 45 000 ₽", NULL, "em_dash,invented_price");
	is_rules("Price — on request", "en", "em_dash");
	is_rules("Москва – Питер", "ru", "em_dash");
	is_rules("Можем начать—хоть завтра", "ru", "em_dash");
	is_rules("Как тебе удобно", "ru", "ty_form");
	is_rules("Что ТЫ думаешь", "ru", "ty_form");
	is_rules("Это твоё решение", "ru", "ty_form");
	is_rules("Это твое решение", "ru", "ty_form");
	is_rules("По-твоему, так лучше", "ru", "ty_form");
	is_rules("Тобою довольны", "ru", "ty_form");
	is_rules("Если вам удобно", "ru", "vy_lowercase");
	is_rules("вы правы", "ru", "vy_lowercase");
	is_rules("Это ваша заявка", "ru", "vy_lowercase");
	is_rules("Hello, how are you doing today", "ru", "language");
	is_rules("Здравствуйте, чем могу помочь", "en", "language");
	is_rules("Вам удобно? А завтра?", "ru", "questions");
	is_rules("Are you free? Tomorrow?", "en", "questions");
	is_rules("Спасибо 🙂🙂", "ru", "emoji");
	is_rules("Спасибо 🙂 до встречи 👍", "ru", "emoji");
	is_rules("Спасибо 🙂 🙂", "ru", "emoji");
	is_rules("Только сегодня скидка", "ru", "pressure");
	is_rules("Это последний ШАНС", "ru", "pressure");
	is_rules("Act now, please", "en", "pressure");
	is_rules("It is a limited  time offer", "en", "pressure,whitespace");
	is_rules("Стоимость 50 000 ₽", "ru", "invented_price");
	is_rules(" Здравствуйте", "ru", "whitespace");
	is_rules("Здравствуйте ", "ru", "whitespace");
	is_rules("Да,  конечно", "ru", "whitespace");
	is_rules("Да \nконечно", "ru", "whitespace");
	is_rules("Да.\n\n\nКонечно.", "ru", "whitespace");

	/* the details of a violation */
	s = "Ну что, ты готов?";
	n = sl_tone_scan(s, strlen(s), "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].rule == SL_TONE_TY_FORM &&
	    hit[0].severity == SL_TONE_ERROR && !hit[0].fixable &&
	    hit[0].at == strlen("Ну что, ") && hit[0].len == strlen("ты"),
	    "ty_form: an error, not fixable, at the word");
	s = "Когда вам удобно?";
	n = sl_tone_scan(s, strlen(s), "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].severity == SL_TONE_WARNING && hit[0].fixable &&
	    hit[0].at == strlen("Когда "), "vy_lowercase: a fixable warning");
	s = "Раз. Два. Три. Четыре. Пять.";
	n = sl_tone_scan(s, strlen(s), "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].count == 5 && hit[0].limit == 3 &&
	    hit[0].at == strlen("Раз. Два. Три. "),
	    "sentences: counted, at the first one too many");
	s = "А? Б? В?";
	n = sl_tone_scan(s, strlen(s), "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].count == 3 && hit[0].at == strlen("А? Б"),
	    "questions: counted, at the second mark");
	s = "a — b — c";
	n = sl_tone_scan(s, strlen(s), NULL, NULL, hit, SL_TONE_HITS);
	ok(n == 2 && hit[0].at == 2 && hit[1].at == 8,
	    "em_dash: each dash, in order");
	n = sl_tone_scan(s, strlen(s), NULL, NULL, hit, 1);
	ok(n == 2 && hit[0].at == 2, "more violations than room: all counted");
}

static void
tricky(void)
{
	/* none of these is a violation */
	is_rules("Нас выбрали 1.5 миллиона клиентов.", "ru", "");
	is_rules("Это значит, т.е. по сути, одно. Второе. Третье.", "ru", "");
	is_rules("Сайты, лендинги и т.д. и т.п. мы делаем. Да. Нет.", "ru",
	    "");
	is_rules("См. раздел 2. Напр. этот. Ещё один.", "ru", "");
	is_rules("Встреча в 10:30. Потом в 11:45. Всё.", "ru", "");
	is_rules("Цены: https://example.com/a.b. Или www.example.com/x?y=1.",
	    "ru", "");
	is_rules("Пишите на o.smith@example.com. Отвечу. Быстро.", "ru", "");
	is_rules("Вы правы. Вам удобно завтра, или Вас устроит пятница?",
	    "ru", "");
	is_rules("Давайте созвонимся, Вы свободны?", "ru", "");
	is_rules("Пришлю ссылку на онлайн-встречу.", "ru", "");
	is_rules("Разница −5 или -5 градусов, 10–12 или 10 – 12 дней.", "ru",
	    "");
	is_rules("Ну... давайте завтра. Или… послезавтра.", "ru", "");
	is_rules("Правда?! Отлично. Договорились.", "ru", "");
	is_rules("Dr. Brown and Mr. Green, i.e. both. Yes. No.", "en", "");
	is_rules("А. С. Пушкин писал письма. Много. Да.", "ru", "");
	is_rules("Этапы:\n1. Бриф\n2. Дизайн\n3. Запуск", "ru", "");
	is_rules("Это (т.е. главное) просто. Да. Нет.", "ru", "");
	is_rules("Что скажете?» Он ответил. Да.", "ru", "");
	is_rules("Мы на связи 24/7.", "ru", "");
	is_rules("Наши клиенты: ВТБ, Сбер, МТС. Это всё.", "ru", "");
	is_rules("В 2024 г. мы выросли. Сильно. Очень.", "ru", "");
	is_rules("Вы в Zoom или Google Meet? Skype тоже подойдёт.", "ru", "");
	is_rules("Тыква и ваты нет, тыл и твоюжка.", "ru", "");
	is_rules("Этот вариант выгоднее.", "ru", "");
	is_rules("Итак 🎉", "ru", "");
	is_rules("Москва🇷🇺", "ru", "");
	is_rules("Семья 👨‍👩‍👧‍👦 и все", "ru", "");
	is_rules("Отлично 👍🏽", "ru", "");
	is_rules("Звоните: +7 999 123-45-67.", "ru", "");
	is_rules("У нас 10 тыс. пользователей.", "ru", "");
	is_rules("Займёт 10-15 минут.", "ru", "");
	is_rules("Rated 4.9 by 1,200 users.", "en", "");
	is_rules("Не спешите, подумайте.", "ru", "");
	is_rules("Act, now", "en", "");
	is_rules("Reactnow", "en", "");
	is_rules("Спасибо!\n\nДо встречи.", "ru", "");
	is_rules("Спасибо.\tДо встречи.", "ru", "");
}

static void
prices(void)
{
	static const char *const found[][2] = {
		{ "Стоимость 45 000 ₽.", "45000" },
		{ "Стоимость 45 000 ₽.", "45000" },
		{ "Стоимость 45000 руб. в месяц.", "45000" },
		{ "Бюджет от 120 тыс. рублей.", "120000" },
		{ "Бюджет от 120 тыс.", "120000" },
		{ "It costs $1,200.", "1200" },
		{ "It costs 1 200 USD.", "1200" },
		{ "Цена 1 200 USD.", "1200" },
		{ "Цена 99,90 €.", "99.9" },
		{ "Цена €12.50.", "12.5" },
		{ "Цена 12.05 EUR.", "12.05" },
		{ "Цена 300 р. за час", "300" },
		{ "Цена 300р", "300" },
		{ "Цена 1,5 млн ₽", "1500000" },
		{ "Цена 1.5 million dollars", "1500000" },
		{ "It is $45k.", "45000" },
		{ "Около 2 500 000 рублей", "2500000" },
		{ "USD 300", "300" },
		{ "Цена 45 000 ₽", "45000" },
		{ "Цена 45 000 ₽", "45000" },
		{ "Всего 700 евро", "700" },
		{ "Всего 700 долларов", "700" },
		{ "Скидка −500 ₽", "500" },
	};
	struct sl_tone_rules r;
	struct sl_tone_hit hit[SL_TONE_HITS];
	const char *allowed[] = { "45000", "120 тыс. ₽", "$1,200", "99.9",
	    "1.5 млн", "300" };
	char name[256];
	const char *s;
	size_t i, n;

	sl_tone_rules_default(&r);
	for (i = 0; i < sizeof found / sizeof found[0]; i++) {
		s = found[i][0];
		n = sl_tone_scan(s, strlen(s), NULL, &r, hit, SL_TONE_HITS);
		snprintf(name, sizeof name, "'%s': %s", s, found[i][1]);
		if (!ok(n == 1 && hit[0].rule == SL_TONE_INVENTED_PRICE &&
		    strcmp(hit[0].amount, found[i][1]) == 0, "%s", name))
			diag("%zu violations, amount '%s'", n,
			    n ? hit[0].amount : "");
	}
	s = "Стоимость 45 000 ₽ в месяц";
	n = sl_tone_scan(s, strlen(s), NULL, &r, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].at == strlen("Стоимость ") &&
	    hit[0].len == strlen("45 000 ₽"), "the span of a price");
	s = "Доступно $ 99";
	n = sl_tone_scan(s, strlen(s), NULL, &r, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].at == strlen("Доступно "),
	    "a price starts at its sign");

	r.allowed_prices = allowed;
	r.nallowed = sizeof allowed / sizeof allowed[0];
	is_str(rules_r("Стоимость 45 000 ₽, или $1,200, или 120 тыс. руб.",
	    NULL, &r), "", "allowed prices pass in any form");
	is_str(rules_r("Всего 99,90 € или 1,5 млн рублей или 300р.", NULL,
	    &r), "", "decimals and multipliers compare as numbers");
	is_str(rules_r("Стоимость 46 000 ₽", NULL, &r), "invented_price",
	    "a price not in the list");
	is_str(rules_r("От 45 до 60 тыс. ₽", NULL, &r), "invented_price",
	    "a range: 45000 allowed, 60000 invented");
	s = "От 45 до 60 тыс. ₽";
	n = sl_tone_scan(s, strlen(s), NULL, &r, hit, SL_TONE_HITS);
	ok(n == 1 && strcmp(hit[0].amount, "60000") == 0,
	    "the range's first end takes the multiplier");
	is_str(rules_r("От 120–150 тыс. рублей", NULL, &r), "invented_price",
	    "a range with a dash");
	is_str(rules_r("$300-450", NULL, &r), "invented_price",
	    "a range after a sign");
	is_str(rules_r("Цена 45 000 ₽ – 46 000 ₽", NULL, &r),
	    "invented_price", "a spaced en dash between numbers is a range");
	r.check_prices = 0;
	is_str(rules_r("Стоимость 46 000 ₽", NULL, &r), "",
	    "check_prices 0: prices unchecked");
	/* not money */
	sl_tone_rules_default(&r);
	is_str(rules_r("Нас 45 000 человек, работаем 24 часа, скидка 15%, "
	    "версия 2.5, ИНН 7707083893, B2B, 1С, 10:30, 2024 год.", NULL, &r),
	    "", "numbers that are no money");
}

static void
fixer(void)
{
	static const char *const fixes[][2] = {
		{ "Стоимость — по запросу", "Стоимость - по запросу" },
		{ "Можем начать—хоть завтра", "Можем начать - хоть завтра" },
		{ "Москва – Питер", "Москва - Питер" },
		{ "— Да, конечно", "- Да, конечно" },
		{ "Итак —\nдалее", "Итак\nдалее" },
		{ "Срок 10—12 дней", "Срок 10-12 дней" },
		{ "Срок 10–12 дней", "Срок 10–12 дней" },
		{ "Если вам удобно, ваш менеджер позвонит",
		    "Если Вам удобно, Ваш менеджер позвонит" },
		{ "вы правы", "Вы правы" },
		{ "Спасибо 🙂🙂🙂", "Спасибо" },
		{ "Спасибо 🙂 до встречи 👍!", "Спасибо до встречи!" },
		{ "Привет🙂🙂Как дела", "Привет Как дела" },
		{ "Отлично 🙂", "Отлично 🙂" },
		{ "  Да,   конечно.  \n\n\n\nДо встречи.  ",
		    "Да, конечно.\n\nДо встречи." },
		{ "Ссылка https://example.com/a?x=вам—тут",
		    "Ссылка https://example.com/a?x=вам - тут" },
		{ "Вам 🙂🙂https://x.y/вам", "Вам https://x.y/вам" },
		{ "", "" },
	};
	struct sl_tone_hit hit[SL_TONE_HITS];
	const char *s;
	char *out;
	size_t i, n, len;

	for (i = 0; i < sizeof fixes / sizeof fixes[0]; i++) {
		out = sl_tone_fix(fixes[i][0], strlen(fixes[i][0]), "ru", NULL,
		    &len);
		is_str(out, fixes[i][1], fixes[i][0]);
		ok(len == strlen(out), "fix: the length returned");
		free(out);
	}
	/* the result passes */
	s = "Здравствуйте!  Стоимость — по запросу 🙂🙂 Когда вам удобно? ";
	out = sl_tone_fix(s, strlen(s), "ru", NULL, NULL);
	is_str(rules(out, "ru"), "", "fixed: the result passes");
	is_str(out, "Здравствуйте! Стоимость - по запросу Когда Вам удобно?",
	    "fixed: the text");
	free(out);
	/* what cannot be fixed stays, reported as such */
	s = "Как тебе — удобно?";
	out = sl_tone_fix(s, strlen(s), "ru", NULL, NULL);
	is_str(out, "Как тебе - удобно?", "ты stays, the dash goes");
	n = sl_tone_scan(out, strlen(out), "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].rule == SL_TONE_TY_FORM && !hit[0].fixable,
	    "ты: reported as not fixable after the fix");
	free(out);
	/* bytes that are no UTF-8 are kept as they are */
	s = "a\xff—\xd0 b";
	out = sl_tone_fix(s, strlen(s), NULL, NULL, &len);
	ok(len == strlen("a\xff - \xd0 b") &&
	    memcmp(out, "a\xff - \xd0 b", len) == 0, "fix: bad bytes kept");
	free(out);
}

/* Hostile characters from a prospect's name or a model's echo. */
static void
controls(void)
{
	static const char *const bad[] = {
		"Здравствуйте, Ol\x1b[31mga.", "Да\a.", "Да\x7f.",
		"Да\x01 нет.", "Да\f нет.", "Да\xc2\x85 нет.",
		"\xe2\x80\xaeОльга.", "Ольга\xe2\x81\xa6.",
		"\xef\xbb\xbfДа.", "Да\xe2\x80\xa8нет.", "Да\xe2\x80\x8f.",
	};
	static const char *const fixes[][2] = {
		{ "Здравствуйте, Ol\x1b[31mga\x07.", "Здравствуйте, Olga." },
		{ "Да\x1b[1;31m, конечно\x1b[0m.\x1b", "Да, конечно." },
		{ "Да\fнет\vи\xc2\x85так", "Да нет и так" },
		{ "\xe2\x80\xaeОльга\xe2\x80\xac, добрый день.",
		    "Ольга, добрый день." },
		{ "Да\xe2\x80\xa8нет", "Да нет" },
		{ "в\xe2\x80\xaeам удобно?", "Вам удобно?" },
		{ "\x1b[0m", "" },
		{ "\x1b", "" },
		{ "\x1b[", "" },
	};
	struct sl_tone_hit hit[SL_TONE_HITS];
	static const char z[] = "Да\0 нет.";
	const char *s;
	char *out, name[96];
	size_t i, n, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = sl_tone_scan(bad[i], strlen(bad[i]), "ru", NULL, hit,
		    SL_TONE_HITS);
		snprintf(name, sizeof name, "control: bad[%zu] is reported", i);
		ok(n >= 1 && hit[n - 1].rule == SL_TONE_CONTROL &&
		    hit[n - 1].fixable && hit[n - 1].severity == SL_TONE_ERROR,
		    "%s", name);
	}
	n = sl_tone_scan(z, sizeof z - 1, "ru", NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].rule == SL_TONE_CONTROL && hit[0].at == 4 &&
	    hit[0].count == 1,
	    "control: a NUL inside the text is one, where it is");
	is_rules("Да,\tконечно.\nДо встречи.", "ru", "");
	is_rules("Спасибо 👨‍👩‍👧", "ru", "");
	for (i = 0; i < sizeof fixes / sizeof fixes[0]; i++) {
		out = sl_tone_fix(fixes[i][0], strlen(fixes[i][0]), "ru", NULL,
		    &len);
		is_str(out, fixes[i][1], "control: fixed");
		ok(len == strlen(out) && sl_tone_scan(out, len, NULL, NULL, hit,
		    SL_TONE_HITS) == 0, "control: the fix passes");
		free(out);
	}
	out = sl_tone_fix(z, sizeof z - 1, "ru", NULL, &len);
	is_str(out, "Да нет.", "control: a NUL inside the text is fixed");
	free(out);
	s = "Ol\x1b[31mga";
	n = sl_tone_scan(s, strlen(s), NULL, NULL, hit, SL_TONE_HITS);
	ok(n == 1 && hit[0].at == 2 && hit[0].len == 5 && hit[0].count == 1,
	    "control: an ANSI escape sequence is one, all of it");
}

static void
lang(void)
{
	const char *s;

	is_str(sl_tone_lang("Здравствуйте", strlen("Здравствуйте")), "ru",
	    "lang: ru");
	is_str(sl_tone_lang("Hello", 5), "en", "lang: en");
	ok(sl_tone_lang("12:30 🙂 !", strlen("12:30 🙂 !")) == NULL,
	    "lang: no letters");
	ok(sl_tone_lang(NULL, 3) == NULL, "lang: NULL");
	s = "Напишите в Telegram или WhatsApp";
	is_str(sl_tone_lang(s, strlen(s)), "ru", "lang: brands in Russian");
	s = "Смотрите https://example.com/very/long/english/path/words";
	is_str(sl_tone_lang(s, strlen(s)), "ru", "lang: a URL counts nothing");
	s = "ЁЖИК";
	is_str(sl_tone_lang(s, strlen(s)), "ru", "lang: capitals, Ё");
	s = "Café crème";
	is_str(sl_tone_lang(s, strlen(s)), "en", "lang: Latin-1 letters");
	is_rules("Созвонимся в Zoom?", "ru", "");
	is_rules("Let's meet in Zoom", "de", "");
	is_rules("Ок, Zoom", "ru", "");
	is_rules("OK", "ru", "language");
	is_rules("Пришлите ваш e-mail: o@example.com", "ru", "vy_lowercase");
	is_rules("Это B2B-сервис для CRM", "ru", "");
}

static void
load(void)
{
	struct sl_tone_rules r;
	char err[256];
	const char *s;
	int rc;

	rc = sl_tone_rules_load(&r, sl_parse("{\"max_sentences\":2,"
	    "\"max_chars\":50,\"max_questions\":0,\"max_emoji\":-1,"
	    "\"pressure\":{\"ru\":[\"горит\"],\"en\":[\"buy*\"]},"
	    "\"allowed_prices\":[\"45 000 ₽\",1200,12.5],"
	    "\"check_prices\":true,\"tone\":\"friendly\",\"extra\":[1]}",
	    strlen("{\"max_sentences\":2,\"max_chars\":50,"
	    "\"max_questions\":0,\"max_emoji\":-1,\"pressure\":{\"ru\":"
	    "[\"горит\"],\"en\":[\"buy*\"]},\"allowed_prices\":[\"45 000 ₽\","
	    "1200,12.5],\"check_prices\":true,\"tone\":\"friendly\","
	    "\"extra\":[1]}")), err, sizeof err);
	ok(rc == 0, "load: good rules, unknown keys ignored");
	ok(r.max_sentences == 2 && r.max_chars == 50 &&
	    r.max_questions == 0 && r.max_emoji == -1 && r.npressure == 2 &&
	    r.nallowed == 3 && r.check_prices == 1, "load: the values");
	is_str(rules_r("Да? Горит, это buying 🙂🙂🙂", "ru", &r),
	    "questions,pressure,pressure", "load: the loaded rules");
	is_str(rules_r("45000 ₽, $1200 и 12,50 €", NULL, &r), "",
	    "load: allowed prices from strings and numbers");
	sl_tone_rules_free(&r);
	ok(r.own == NULL && r.max_chars == 300, "free: back to the defaults");

	rc = sl_tone_rules_load(&r, sl_parse("{\"pressure\":[\"a\",\"b\"]}",
	    22), err, sizeof err);
	ok(rc == 0 && r.npressure == 2, "load: pressure as one array");
	sl_tone_rules_free(&r);
	rc = sl_tone_rules_load(&r, sl_parse("{\"max_chars\":null}", 18), err,
	    sizeof err);
	ok(rc == 0 && r.max_chars == 300, "load: null is absent");
	sl_tone_rules_free(&r);

#define BAD(json, want) do { \
		s = json; \
		err[0] = '\0'; \
		rc = sl_tone_rules_load(&r, sl_parse(s, strlen(s)), err, \
		    sizeof err); \
		ok(rc == -1 && strstr(err, want) != NULL && r.own == NULL && \
		    r.max_chars == 300, "bad rules %s: %s", s, err); \
		sl_tone_rules_free(&r); \
	} while (0)
	BAD("{\"max_chars\":\"300\"}", "'max_chars'");
	BAD("{\"max_chars\":0}", "'max_chars'");
	BAD("{\"max_sentences\":2.5}", "'max_sentences'");
	BAD("{\"max_questions\":-2}", "'max_questions'");
	BAD("{\"max_emoji\":true}", "'max_emoji'");
	BAD("{\"max_emoji\":1e300}", "'max_emoji'");
	BAD("{\"pressure\":\"act now\"}", "'pressure'");
	BAD("{\"pressure\":{\"ru\":[\"a\",2]}}", "'pressure.ru[1]'");
	BAD("{\"pressure\":{\"en\":{}}}", "'pressure.en'");
	BAD("{\"allowed_prices\":{}}", "'allowed_prices'");
	BAD("{\"allowed_prices\":[\"45000\",\"free\"]}",
	    "'allowed_prices[1]'");
	BAD("{\"allowed_prices\":[null]}", "'allowed_prices[0]'");
	BAD("{\"check_prices\":1}", "'check_prices'");
	BAD("[1]", "expected an object");
#undef BAD
	rc = sl_tone_rules_load(&r, jv_invalid(), NULL, 0);
	ok(rc == -1, "load: an invalid value, no message buffer");
	sl_tone_rules_free(&r);
}

static void
check_jv(void)
{
	const char *s = "Ну — ты где?";
	jv v, e;

	v = sl_tone_check(s, strlen(s), "ru", NULL);
	ok(jv_get_kind(v) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(v)) == 2, "check: an array of two");
	e = jv_array_get(jv_copy(v), 0);
	ok(jv_get_kind(e) == JV_KIND_OBJECT, "check: objects");
	if (jv_get_kind(e) == JV_KIND_OBJECT) {
		jv d = jv_dump_string(jv_copy(e), JV_PRINT_SORTED);

		is_str(jv_string_value(d), "{\"at\":5,\"detail\":\"an em dash: "
		    "write ' - ' or a comma\",\"fixable\":true,\"rule\":"
		    "\"em_dash\",\"severity\":\"error\"}", "check: em_dash");
		jv_free(d);
	}
	jv_free(e);
	e = jv_array_get(jv_copy(v), 1);
	if (jv_get_kind(e) == JV_KIND_OBJECT) {
		jv d = jv_dump_string(jv_copy(e), JV_PRINT_SORTED);

		is_str(jv_string_value(d), "{\"at\":9,\"detail\":\"'ты' is "
		    "informal: address the prospect as «Вы»\",\"fixable\":"
		    "false,\"rule\":\"ty_form\",\"severity\":\"error\"}",
		    "check: ty_form");
		jv_free(d);
	}
	jv_free(e);
	jv_free(v);
	v = sl_tone_check("Да.", 3, "ru", NULL);
	ok(jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(v) == 0,
	    "check: [] when clean");
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
robust(void)
{
	static const char *const parts[] = {
		"ты", " ", "вам", "Вы", ".", "?", "!", "…", "—", "–", "-", "🙂",
		"👨‍👩‍👧", "🇷🇺", "1️⃣", "45", " 000", "₽", "$", "тыс.", "руб.",
		"https://x.y/", "@", "a.b", "\n", "\xd0", "\xff", "\xf0\x9f",
		"\0", "только сегодня", "act now", ",", "т.е.", "10:30", "\t",
		"\xe2\x80", "\xc2\xa0", "‍", "️", "k", "млн", "-", "до",
	};
	struct sl_tone_hit hit[SL_TONE_HITS];
	struct sl_tone_rules r;
	const char *allowed[] = { "45000" };
	char *big, *out;
	size_t n, k, i, j, len, m;
	int bad = 0, it;
	jv v;

	sl_tone_rules_default(&r);
	r.allowed_prices = allowed;
	r.nallowed = 1;
	big = sl_malloc(1 << 20);
	for (it = 0; it < 20000; it++) {
		n = next() % 300;
		for (i = 0; i < n; i++)
			big[i] = (char)(next() & 0xff);
		m = sl_tone_scan(big, n, "ru", &r, hit, SL_TONE_HITS);
		for (j = 0; j < m && j < SL_TONE_HITS; j++)
			if (hit[j].at > n || hit[j].at + hit[j].len > n ||
			    (j > 0 && hit[j].at < hit[j - 1].at))
				bad++;
		out = sl_tone_fix(big, n, "ru", &r, &len);
		if (len > n + 1 || strlen(out) > len)
			bad++;
		free(out);
	}
	ok(!bad, "random bytes: no crash, spans within the text, in order");
	bad = 0;
	for (it = 0; it < 20000; it++) {
		n = 0;
		k = next() % 16;
		for (i = 0; i < k; i++) {
			const char *p = parts[next() % (sizeof parts /
			    sizeof parts[0])];
			size_t l = *p ? strlen(p) : 1;

			memcpy(big + n, p, l);
			n += l;
			if (next() % 2)
				big[n++] = ' ';
		}
		m = sl_tone_scan(big, n, "ru", &r, hit, SL_TONE_HITS);
		for (j = 0; j < m && j < SL_TONE_HITS; j++)
			if (hit[j].at + hit[j].len > n)
				bad++;
		out = sl_tone_fix(big, n, "ru", &r, &len);
		/* the fixed text has no fixable violation left */
		m = sl_tone_scan(out, len, "ru", &r, hit, SL_TONE_HITS);
		for (j = 0; j < m && j < SL_TONE_HITS; j++)
			if (hit[j].fixable && bad++ < 3)
				diag("still %s in the fix of '%.*s'",
				    sl_tone_rule_name(hit[j].rule), (int)n,
				    big);
		free(out);
		v = sl_tone_check(big, n, "ru", &r);
		if (jv_get_kind(v) != JV_KIND_ARRAY)
			bad++;
		jv_free(v);
	}
	ok(!bad, "keyword soup: spans within the text, fixes complete");

	/* 50 KB: a long reply, many violations, all reported */
	for (n = 0; n + 64 < 50 * 1024;)
		n += (size_t)snprintf(big + n, 1024, "Ты — вам 🙂 цена 7 ₽? ");
	m = sl_tone_scan(big, n, "ru", &r, hit, SL_TONE_HITS);
	ok(m > 5000, "50 KB: %zu violations counted", m);
	v = sl_tone_check(big, n, "ru", &r);
	ok(jv_get_kind(v) == JV_KIND_ARRAY &&
	    (size_t)jv_array_length(jv_copy(v)) == m,
	    "50 KB: every violation in the array");
	jv_free(v);
	out = sl_tone_fix(big, n, "ru", &r, &len);
	ok(len < n && strstr(out, "—") == NULL && strstr(out, " вам") ==
	    NULL, "50 KB: fixed");
	free(out);
	memset(big, 'a', 50 * 1024);
	ok(sl_tone_scan(big, 50 * 1024, "en", &r, hit, SL_TONE_HITS) == 1 &&
	    hit[0].rule == SL_TONE_LENGTH && hit[0].count == 50 * 1024,
	    "50 KB of one word: length only");
	free(big);
}

/* The company's own rules, as the agent loads them. */
static void
skills_rules(void)
{
	static const char *const path = "skills/tone-of-voice/rules.json";
	struct sl_tone_rules r;
	char err[256] = "";
	FILE *f = fopen(path, "r");
	char *text;
	size_t len;
	jv v;

	if (!ok(f != NULL, "%s is there", path))
		return;
	text = sl_malloc(1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	v = sl_parse(text, len);
	free(text);
	ok(sl_tone_rules_load(&r, v, err, sizeof err) == 0,
	    "skills' rules.json loads ('%s')", err);
	ok(r.max_sentences == 3 && r.max_chars == 300 &&
	    r.max_questions == 1 && r.max_emoji == 1,
	    "its limits: 3 sentences, 300 characters, 1 question, 1 emoji");
	is_str(rules_r("Это последний шанс.", "ru", &r), "pressure",
	    "its pressure phrases are used");
	sl_tone_rules_free(&r);
}

int
main(void)
{
	sl_init("tone-test");
	clean();
	each_rule();
	tricky();
	prices();
	fixer();
	controls();
	lang();
	load();
	check_jv();
	robust();
	skills_rules();
	return done_testing();
}
