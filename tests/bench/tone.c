/*
 * tests/bench/tone.c: how long the tone linter takes on a reply.
 *
 *	tone [SECONDS]
 *
 * Prints the time per call on one core of sl_tone_scan (the counts, no
 * allocation), sl_tone_check (the jv array) and sl_tone_fix, on replies of
 * about 300 characters in Russian and English, clean and with violations,
 * checked against the default rules and ten allowed prices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl.h"
#include "tone.h"

static const char *const replies[] = {
	"Здравствуйте, Анна! Спасибо за интерес к нашим услугам. Стоимость "
	"лендинга от 45 000 ₽, корпоративного сайта от 120 тыс. рублей, "
	"т.е. всё зависит от объёма. Срок около двух недель, оплата частями. "
	"Вам удобно созвониться завтра в 10:30, чтобы обсудить детали и "
	"показать примеры работ? Ссылка на кейсы: https://example.com/cases.",
	"Здравствуйте — только сегодня скидка! Твой сайт за 39 990 ₽ 🔥🔥🔥 "
	"Успейте, предложение ограничено. Когда удобно? Завтра? Послезавтра? "
	"вам понравится, мы делаем сайты, лендинги и т.д. уже 10 лет. Пишите "
	"на o@example.com или звоните +7 999 123-45-67 в любое время!!!",
	"Hi John, thanks for reaching out! A landing page starts at $1,200 "
	"and a full website at $4,500, depending on scope, i.e. the number of "
	"pages and integrations. It usually takes about two weeks. Would "
	"Tuesday at 10:30 work for a quick call to go through the details? "
	"Our cases: https://example.com/cases.",
	"Act now — limited time offer: your site for $999 only today! 🚀🚀 "
	"Do you want it? Really? We built 1.5 million pages for clients like "
	"Acme Inc. and Globex Corp. etc. over the years, e.g. shops, blogs. "
	"Mr. Smith will call you at 3 p.m. Write to sales@example.com now.",
};

static volatile size_t sink;

static double
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { SCAN, CHECK, FIX };

/* Nanoseconds per call of what on the replies, for about secs seconds. */
static double
run(int what, const struct sl_tone_rules *r, double secs)
{
	struct sl_tone_hit hit[SL_TONE_HITS];
	const size_t nr = sizeof replies / sizeof replies[0];
	size_t len[sizeof replies / sizeof replies[0]], i, calls = 0, n;
	double t0 = clock_now(), t;
	char *s;
	jv v;

	for (i = 0; i < nr; i++)
		len[i] = strlen(replies[i]);
	do {
		for (n = 0; n < 1000; n++, calls++) {
			i = calls % nr;
			switch (what) {
			case SCAN:
				sink += sl_tone_scan(replies[i], len[i],
				    i < 2 ? "ru" : "en", r, hit, SL_TONE_HITS);
				break;
			case CHECK:
				v = sl_tone_check(replies[i], len[i],
				    i < 2 ? "ru" : "en", r);
				sink += (size_t)jv_array_length(v);
				break;
			default:
				s = sl_tone_fix(replies[i], len[i], NULL, r,
				    NULL);
				sink += (size_t)s[0];
				free(s);
			}
		}
		t = clock_now() - t0;
	} while (t < secs);
	return t * 1e9 / (double)calls;
}

int
main(int argc, char **argv)
{
	static const char *const allowed[] = {
		"45000", "120000", "1200", "4500", "90000", "15000", "300",
		"2 500 000", "99", "1.5 млн",
	};
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	struct sl_tone_rules r;
	size_t i, chars = 0;

	sl_init("bench-tone");
	sl_tone_rules_default(&r);
	r.allowed_prices = allowed;
	r.nallowed = sizeof allowed / sizeof allowed[0];
	for (i = 0; i < sizeof replies / sizeof replies[0]; i++)
		chars += strlen(replies[i]);
	printf("tone: %zu replies, %zu bytes on average\n",
	    sizeof replies / sizeof replies[0],
	    chars / (sizeof replies / sizeof replies[0]));
	printf("  sl_tone_scan  %8.0f ns per reply\n", run(SCAN, &r, secs));
	printf("  sl_tone_check %8.0f ns per reply\n", run(CHECK, &r, secs));
	printf("  sl_tone_fix   %8.0f ns per reply\n", run(FIX, &r, secs));
	return 0;
}
