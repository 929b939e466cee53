/*
 * guard.c: unit tests for lib/guard.c and lib/prompt.c's cutting.
 *
 * A clean reply passes; each check is broken alone and reported by name:
 * a tone error, a discount the knowledge base does not name (in several
 * spellings), a banned phrase in any case and with ё, a quote of twelve
 * words of the secret method; discounts the knowledge base names, and
 * percentages that are no discount, pass; any bytes are handled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "jsonl.h"
#include "prompt.h"
#include "sl.h"
#include "tap.h"

static struct sl_guard *g;

/* The rules text breaks, by name, joined by ','. */
static const char *
rules(const char *text, const char *lang)
{
	static char buf[512];
	const char *r;
	size_t o = 0;
	jv v = sl_guard_check(g, text, strlen(text), lang), e;
	int i, n = jv_array_length(jv_copy(v));

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(v), i);
		if (sl_get_str(e, "rule", &r) == 1)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s",
			    i ? "," : "", r);
		jv_free(e);
	}
	jv_free(v);
	return buf;
}

int
main(void)
{
	static const char rules_json[] = "{\"banned_phrases\": {\"ru\": "
	    "[\"системный промпт\", \"мои инструкции\"], \"en\": "
	    "[\"system prompt\", \"as an AI language model\"]}}";
	static const char method[] = "You are the sales assistant of the "
	    "company the knowledge base describes, writing to a prospect on "
	    "Telegram on behalf of a sales rep.";
	struct sl_tone_rules tone;
	char *big, *cut;
	const char *d;
	char *desc;
	jv v;

	sl_init("guard-test");
	sl_tone_rules_default(&tone);
	v = sl_parse(rules_json, strlen(rules_json));
	g = sl_guard_new(&tone, v);
	jv_free(v);
	sl_guard_allow(g, "Скидка 5% при полной предоплате, 10 % за год.");
	sl_guard_allow(g, "Оплата 40% при подписании и 60% после приёмки.");
	sl_guard_secret(g, method);

	is_str(rules("Здравствуйте! Чем мы можем Вам помочь?", "ru"), "",
	    "a clean Russian reply passes");
	is_str(rules("Hello. How can we help you?", "en"), "",
	    "a clean English reply passes");
	is_str(rules("Здравствуйте — чем помочь?", "ru"), "em_dash",
	    "a tone error is reported by the linter's name");
	is_str(rules("Могу дать скидку 30% до пятницы.", "ru"),
	    "invented_discount", "an invented discount is refused");
	is_str(rules("Сделаем скидку 15 процентов.", "ru"),
	    "invented_discount", "in words too");
	is_str(rules("We can give you 20 % off.", "en"),
	    "invented_discount", "and as '% off'");
	is_str(rules("I can offer a 12.5% discount.", "en"),
	    "invented_discount", "a fraction");
	is_str(rules("При полной предоплате скидка 5%.", "ru"), "",
	    "a discount the knowledge base names passes");
	is_str(rules("Care on a 12-month plan has a 10% discount.", "en"), "",
	    "and in the other language");
	is_str(rules("Дадим скидку 40% при подписании.", "ru"),
	    "invented_discount", "a percentage the KB names for no discount "
	    "is no discount");
	is_str(rules("Конверсия выросла на 30% за квартал.", "ru"), "",
	    "a percentage that is no discount passes");
	is_str(rules("Мой Системный Промпт секретный.", "ru"), "banned_phrase",
	    "a banned phrase in any case");
	is_str(rules("As an AI language model, I cannot.", "en"),
	    "banned_phrase", "an English one");
	is_str(rules("Sure. You are the sales assistant of the company the "
	    "knowledge base describes, writing to a prospect.", "en"),
	    "prompt_leak", "twelve words of the method are a leak");
	is_str(rules("We are the company the knowledge base describes.",
	    "en"), "", "a few of its words are not");
	d = "скидка 40%, системный промпт";
	v = sl_guard_check(g, d, strlen(d), "ru");
	desc = sl_guard_describe(v);
	ok(strstr(desc, "invented_discount ('40%'") != NULL &&
	    strstr(desc, "banned_phrase ('системный промпт')") != NULL,
	    "the description names each rule and its detail: %s", desc);
	free(desc);
	jv_free(v);
	big = sl_malloc(51201);
	memset(big, '\xd0', 51200);
	big[51200] = '\0';
	v = sl_guard_check(g, big, 51200, "ru");
	ok(jv_is_valid(v), "50 KB of broken UTF-8 is checked");
	jv_free(v);
	cut = sl_prompt_cut("Привет", 3);
	is_str(cut, "П [...]", "a cut keeps whole characters");
	free(cut);
	cut = sl_prompt_cut("short", 100);
	is_str(cut, "short", "a short text stays");
	free(cut);
	free(big);
	sl_guard_free(g);
	sl_tone_rules_free(&tone);
	return done_testing();
}
