/*
 * timeparse.c: unit tests for lib/timeparse.c.
 *
 * The conventions of time-parse(1) one by one (expected values written
 * from the manual, not from the parser), the words reported as matched,
 * the language, named zones, and robustness: any bytes, invalid UTF-8,
 * NUL bytes, a megabyte of text, must never crash nor read past the
 * scan limit.  The phrase corpus lives in tests/fixtures and is checked
 * by tests/3000-time-parse.t.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "tap.h"
#include "timeparse.h"
#include "timeutil.h"

/* Wednesday 2026-11-18 14:23 in Makassar (UTC+8) */
#define NOW "2026-11-18T14:23:00+08:00"

static int64_t
utc(const char *s)
{
	int64_t t = INT64_MIN;

	if (sl_time_parse(s, &t) < 0) {
		diag("test bug: cannot parse '%s'", s);
		exit(2);
	}
	return t;
}

/* The local time found in text, or "null". */
static const char *
parse(const char *text, const char *now, const char *tz)
{
	static char buf[SL_TIME_BUFSZ];
	const struct sl_zone *z = sl_zone_load(tz);
	struct sl_tp_result res;

	if (sl_timeparse(text, strlen(text), utc(now), z, &res) != 1)
		return "null";
	if (!sl_time_fmt_local(res.at, z, buf))
		return "bad time";
	return buf;
}

static void
is_at(const char *text, const char *want)
{
	char name[256];

	snprintf(name, sizeof name, "'%s' -> %s", text, want);
	is_str(parse(text, NOW, "Asia/Makassar"), want, name);
}

static void
conventions(void)
{
	/* a bare day is 10:00 */
	is_at("завтра", "2026-11-19T10:00:00+08:00");
	is_at("on Friday", "2026-11-20T10:00:00+08:00");
	is_at("5 декабря", "2026-12-05T10:00:00+08:00");
	/* parts of the day */
	is_at("завтра утром", "2026-11-19T10:00:00+08:00");
	is_at("tomorrow after lunch", "2026-11-19T15:00:00+08:00");
	is_at("завтра днём", "2026-11-19T15:00:00+08:00");
	is_at("tomorrow evening", "2026-11-19T19:00:00+08:00");
	is_at("tomorrow night", "2026-11-19T20:00:00+08:00");
	is_at("завтра в обед", "2026-11-19T13:00:00+08:00");
	is_at("завтра до обеда", "2026-11-19T11:00:00+08:00");
	is_at("tomorrow at noon", "2026-11-19T12:00:00+08:00");
	is_at("tomorrow first thing", "2026-11-19T09:00:00+08:00");
	is_at("в конце дня", "2026-11-18T18:00:00+08:00");
	/* end of the week: Friday 17:00 */
	is_at("в конце недели", "2026-11-20T17:00:00+08:00");
	is_at("end of the week", "2026-11-20T17:00:00+08:00");
	/* a clock time already past today means tomorrow */
	is_at("в 10", "2026-11-19T10:00:00+08:00");
	is_at("at 2pm", "2026-11-19T14:00:00+08:00");
	is_at("в 15:30", "2026-11-18T15:30:00+08:00");
	/* 1-7 without am/pm is afternoon; 8-11 morning; 24-hour forms */
	is_at("at 3", "2026-11-18T15:00:00+08:00");
	is_at("в 7", "2026-11-18T19:00:00+08:00");
	is_at("at 8", "2026-11-19T08:00:00+08:00");
	is_at("в 07:00", "2026-11-19T07:00:00+08:00");
	is_at("at 3am", "2026-11-19T03:00:00+08:00");
	is_at("в 2 ночи", "2026-11-19T02:00:00+08:00");
	is_at("в 12 ночи", "2026-11-19T00:00:00+08:00");
	is_at("сегодня в 9", "2026-11-18T21:00:00+08:00");
	/* offsets in days keep the time of day; in hours are exact */
	is_at("через неделю", "2026-11-25T14:23:00+08:00");
	is_at("через 2 часа", "2026-11-18T16:23:00+08:00");
	is_at("in 90 minutes", "2026-11-18T15:53:00+08:00");
	is_at("через неделю в 11", "2026-11-25T11:00:00+08:00");
	/* vague periods: first working day at 10:00 */
	is_at("на следующей неделе", "2026-11-23T10:00:00+08:00");
	is_at("в начале следующего месяца", "2026-12-01T10:00:00+08:00");
	is_at("в январе", "2027-01-04T10:00:00+08:00");
	is_at("end of the month", "2026-11-30T17:00:00+08:00");
	/* a weekday that is today means next week's */
	is_at("в среду", "2026-11-25T10:00:00+08:00");
	is_at("next Tuesday", "2026-11-24T10:00:00+08:00");
	is_at("в следующую пятницу", "2026-11-27T10:00:00+08:00");
	/* dates already past this year are next year's */
	is_at("10 ноября", "2027-11-10T10:00:00+08:00");
	is_at("на 5 число", "2026-12-05T10:00:00+08:00");
	/* "today" with nothing else: 10:00 when ahead, else in an hour */
	is_at("сегодня", "2026-11-18T15:23:00+08:00");
	is_str(parse("today", "2026-11-18T08:00:00+08:00", "Asia/Makassar"),
	    "2026-11-18T10:00:00+08:00", "'today' at 08:00 -> 10:00");
	/* месяц from January 31 */
	is_str(parse("через месяц", "2026-01-31T09:00:00+08:00",
	    "Asia/Makassar"), "2026-02-28T09:00:00+08:00",
	    "a month after January 31 is February 28");
}

static void
nothing(void)
{
	static const char *const texts[] = {
		"", " ", "2 лицензии", "3 пользователя", "когда будет время",
		"через CRM", "в 2 раза дешевле", "24/7", "version 2.5",
		"15% discount", "Добрый вечер", "Good morning", "позже",
		"later", "скоро", "вчера", "2 дня назад", "last week",
		"8 800 555-35-35", "ИНН 7707083893", "$15.30", "1С", "B2B",
		"по понедельникам", "on Mondays", "не завтра", "at",
		"в", "через", "in", "12/05 users", "мы работаем с 9 до 18",
	};
	struct sl_tp_result res;
	size_t i;
	char name[128];
	int r;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		r = sl_timeparse(texts[i], strlen(texts[i]), utc(NOW),
		    sl_zone_load("Asia/Makassar"), &res);
		snprintf(name, sizeof name, "no time in '%s'", texts[i]);
		ok(r == 0 && !res.found, "%s", name);
	}
}

static void
match_and_lang(void)
{
	const struct sl_zone *z = sl_zone_load("Asia/Makassar");
	struct sl_tp_result res;
	const char *s;
	char buf[128], small[8];
	size_t n;

	s = "Здравствуйте! Напишите, пожалуйста, завтра после обеда";
	sl_timeparse(s, strlen(s), utc(NOW), z, &res);
	sl_timeparse_match(s, &res, buf, sizeof buf);
	is_str(buf, "завтра после обеда", "match: the words as written");
	is_str(res.lang, "ru", "lang ru");
	s = "ok, tomorrow, if that works, at 3pm";
	sl_timeparse(s, strlen(s), utc(NOW), z, &res);
	sl_timeparse_match(s, &res, buf, sizeof buf);
	is_str(buf, "tomorrow at 3pm", "match: spans apart are joined");
	is_str(res.lang, "en", "lang en");
	s = "ЗАВТРА, в 15:00";
	sl_timeparse(s, strlen(s), utc(NOW), z, &res);
	sl_timeparse_match(s, &res, buf, sizeof buf);
	is_str(buf, "ЗАВТРА, в 15:00", "match: punctuation between is kept");
	n = sl_timeparse_match(s, &res, small, sizeof small);
	ok(n == strlen("ЗАВТРА, в 15:00") && strlen(small) == 7,
	    "match: truncated like snprintf");
	s = "15:30";
	sl_timeparse(s, strlen(s), utc(NOW), z, &res);
	is_str(res.lang, "en", "no letters: lang en");
	s = "нет времени";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 0 &&
	    strcmp(res.lang, "ru") == 0 && res.nspans == 0,
	    "no time: lang still set");
	ok(sl_timeparse_match(s, &res, buf, sizeof buf) == 0 &&
	    buf[0] == '\0', "no time: empty match");
}

static void
words(void)
{
	/* case, ё, mixed scripts, typos */
	is_at("ЗАВТРА В 11", "2026-11-19T11:00:00+08:00");
	is_at("в четвёртом часу", "null");
	is_at("в половине четвёртого", "2026-11-18T15:30:00+08:00");
	is_at("в половине четвертого", "2026-11-18T15:30:00+08:00");
	is_at("вечеpом", "2026-11-18T19:00:00+08:00");	/* Latin p */
	is_at("в пятнитцу", "2026-11-20T10:00:00+08:00");
	is_at("tommorow", "2026-11-19T10:00:00+08:00");
	is_at("wendesday", "2026-11-25T10:00:00+08:00");
	is_at("нас четверо", "null");
	is_at("после завтрака", "null");
	is_at("2moro", "2026-11-19T10:00:00+08:00");
	is_at("TMRW 10AM", "2026-11-19T10:00:00+08:00");
	is_at("at 5 o'clock", "2026-11-18T17:00:00+08:00");
	is_at("at 5 o’clock", "2026-11-18T17:00:00+08:00");
	is_at("at 9 p.m.", "2026-11-18T21:00:00+08:00");
	is_at("в 15—00", "2026-11-18T15:00:00+08:00");
}

static void
zones(void)
{
	const struct sl_zone *z = sl_zone_load("Asia/Makassar");
	struct sl_tp_result res;
	const char *s;

	s = "завтра в 10 по мск";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    res.zone_named && strcmp(sl_zone_name(res.zone),
	    "Europe/Moscow") == 0 && res.at == utc("2026-11-19T07:00:00Z"),
	    "по мск: the instant is 10:00 in Moscow");
	s = "at 15:00 UTC-5";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    strcmp(sl_zone_name(res.zone), "UTC-5") == 0 &&
	    res.at == utc("2026-11-18T20:00:00Z"), "UTC-5: a fixed offset");
	s = "в 11 мск+2";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    strcmp(sl_zone_name(res.zone), "UTC+5") == 0 &&
	    res.at == utc("2026-11-18T06:00:00Z") + 86400,
	    "мск+2 is UTC+5");
	s = "10am PST tomorrow";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    res.at == utc("2026-11-18T18:00:00Z"),
	    "PST: tomorrow is the day after today in Los Angeles");
	s = "завтра в 10";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    !res.zone_named && res.zone == z, "no zone named: the caller's");
	s = "Я в Москве. Давайте завтра в 10";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 1 &&
	    res.zone == z, "a city alone names no zone");
	s = "est la vie";
	ok(sl_timeparse(s, strlen(s), utc(NOW), z, &res) == 0,
	    "a lower-case code alone is no zone");
}

static void
dst(void)
{
	/* expectations from the zone database, by hand (zdump) */
	is_str(parse("завтра в 10", "2026-03-28T15:00:00+01:00",
	    "Europe/Berlin"), "2026-03-29T10:00:00+02:00",
	    "Berlin: tomorrow 10:00 across spring forward");
	is_str(parse("tomorrow at 2:30am", "2026-03-28T02:30:00+01:00",
	    "Europe/Berlin"), "2026-03-29T03:30:00+02:00",
	    "Berlin: a time in the gap moves forward by the gap");
	is_str(parse("in 2 hours", "2026-03-29T01:30:00+01:00",
	    "Europe/Berlin"), "2026-03-29T04:30:00+02:00",
	    "Berlin: hours are exact across the change");
	is_str(parse("tomorrow at 1:30am", "2026-10-31T18:00:00-04:00",
	    "America/New_York"), "2026-11-01T01:30:00-04:00",
	    "New York: an ambiguous time is the earlier one");
	is_str(parse("через неделю", "2026-10-28T11:00:00-04:00",
	    "America/New_York"), "2026-11-04T11:00:00-05:00",
	    "New York: a week keeps the wall clock");
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
		"завтра", " ", "в", "15", ":", "30", ".", ",", "через", "2",
		"часа", "\xd0", "\xff", "\0", "-", "/", "25", "го", "pm",
		"next", "friday", "по", "мск", "+", "3", "\n", "!", "UTC",
		"полтора", "half", "past", "без", "четверти", "пять", "#",
		"%", "1С", "в конце", "недели", "mid", "December", "’",
	};
	const struct sl_zone *z = sl_zone_load("Europe/Berlin");
	struct sl_tp_result res;
	char *big, buf[64];
	const char *s;
	size_t n, k, i;
	int r, bad = 0, it;

	/* random bytes and random keyword soup */
	big = sl_malloc(1 << 20);
	for (it = 0; it < 20000; it++) {
		n = next() % 200;
		for (i = 0; i < n; i++)
			big[i] = (char)(next() & 0xff);
		r = sl_timeparse(big, n, utc(NOW), z, &res);
		if (r < 0 || (r == 1 && res.nspans < 1))
			bad++;
		sl_timeparse_match(big, &res, buf, sizeof buf);
	}
	ok(!bad, "random bytes: no crash, results consistent");
	bad = 0;
	for (it = 0; it < 20000; it++) {
		n = 0;
		k = next() % 12;
		for (i = 0; i < k; i++) {
			const char *p = parts[next() % (sizeof parts /
			    sizeof parts[0])];
			size_t l = *p ? strlen(p) : 1;

			memcpy(big + n, p, l);
			n += l;
			if (next() % 2)
				big[n++] = ' ';
		}
		r = sl_timeparse(big, n, utc(NOW), z, &res);
		if (r < 0 || (r == 1 && (res.at < utc(NOW) - 86400 * 400 ||
		    res.at > utc(NOW) + 86400 * 3700)))
			bad++;
		for (i = 0; (int)i < res.nspans; i++)
			if (res.span[i].off + res.span[i].len > n)
				bad++;
	}
	ok(!bad, "keyword soup: no crash, spans within the text");

	/* NUL bytes are no end of the text */
	ok(sl_timeparse("\0\0завтра", 2 + strlen("завтра"), utc(NOW), z,
	    &res) == 1, "a NUL byte before the time");
	/* a megabyte: only the first SL_TP_SCAN_MAX bytes are read */
	memset(big, 'a', 1 << 20);
	for (i = 0; i + 2 < 1 << 20; i += 3)
		big[i + 2] = ' ';
	memcpy(big + (1 << 20) - 20, " завтра", strlen(" завтра"));
	ok(sl_timeparse(big, 1 << 20, utc(NOW), z, &res) == 0,
	    "a time after the scan limit is not seen");
	memcpy(big + 100, " завтра ", strlen(" завтра "));
	ok(sl_timeparse(big, 1 << 20, utc(NOW), z, &res) == 1,
	    "a time at the start of a megabyte is found");
	/* more tokens than fit: one character words */
	for (i = 0; i < SL_TP_SCAN_MAX; i += 2) {
		big[i] = ',';
		big[i + 1] = ' ';
	}
	memcpy(big + SL_TP_SCAN_MAX - 20, " завтра ", strlen(" завтра "));
	r = sl_timeparse(big, SL_TP_SCAN_MAX, utc(NOW), z, &res);
	ok(r == 0, "tokens past SL_TP_TOKENS_MAX are not read");
	/* a long word and a long number */
	memset(big, 'z', 5000);
	s = " 123456789012345678901234567890 завтра";
	memcpy(big + 5000, s, strlen(s));
	ok(sl_timeparse(big, 5000 + strlen(s), utc(NOW), z, &res) == 1,
	    "long words and numbers are skipped");
	/* a truncated UTF-8 sequence at the end */
	ok(sl_timeparse("завтра \xd0", strlen("завтра \xd0"), utc(NOW), z,
	    &res) == 1, "a truncated UTF-8 sequence at the end");
	ok(sl_timeparse("завтра", 1, utc(NOW), z, &res) == 0,
	    "half a letter is no letter");
	free(big);

	ok(sl_timeparse("завтра", 12, utc(NOW), NULL, &res) == -1,
	    "no zone: -1");
	ok(sl_timeparse("завтра", 12, SL_TIME_MAX + 1, z, &res) == -1,
	    "now out of range: -1");
	ok(sl_timeparse(NULL, 5, utc(NOW), z, &res) == 0, "NULL text: 0");
	ok(sl_timeparse("через 1000 лет", strlen("через 1000 лет"),
	    utc("9990-01-01T00:00:00Z"), z, &res) == 0,
	    "a result past year 9999 is no result");
}

int
main(void)
{
	sl_init("unit-timeparse");
	conventions();
	nothing();
	match_and_lang();
	words();
	zones();
	dst();
	robust();
	sl_zone_free_all();
	return done_testing();
}
