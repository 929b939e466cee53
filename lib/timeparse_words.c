/*
 * timeparse_words.c: the words time-parse knows, and how a word written
 * by a person is found among them.
 *
 * Words are compared in a one-byte-per-letter form (see sl_tp_letter):
 * lower case, ё as е.  The table below is written in UTF-8 and converted
 * once, into an open-addressing hash table.  A word is looked up whole,
 * then (for Russian endings) with up to four letters cut off the end
 * against F_STEM entries, then, when it has five letters or more, with
 * one typo (a letter added, dropped, changed or two swapped) against the
 * F_FUZZ entries of about its length.  Frequent chat words that mean
 * nothing here are in the table as K_NONE, which makes them cheap and
 * keeps them from being read as a typo of a keyword ("четверо" is not
 * "четверг").
 */
#include <stdint.h>
#include <string.h>

#include "timeparse.h"

#define K(x) SL_TP_K_##x
#define U(x) SL_TP_U_##x
#define P(x) SL_TP_P_##x
#define STEM SL_TP_F_STEM
#define FUZZ SL_TP_F_FUZZ
#define WEAK SL_TP_F_WEAK
#define AM SL_TP_F_AM
#define PM SL_TP_F_PM
#define NIGHT SL_TP_F_NIGHT
#define LOC SL_TP_F_LOC
#define SFX SL_TP_F_SUFFIX
#define PLUR SL_TP_F_PLURAL
#define OKA SL_TP_F_OKAFTER
#define CTX SL_TP_F_NEEDCTX

struct entry {
	const char *w;
	uint8_t kind;
	uint16_t flags;
	int16_t val;
};

/* Zone table: K_ZONE entries name an index here. */
enum {
	Z_UTC, Z_MSK, Z_NY, Z_LA, Z_CHI, Z_DEN, Z_LON, Z_BER, Z_EET, Z_WET,
	Z_KIEV, Z_MINSK, Z_YEKB, Z_NOVOSIB, Z_VLAD, Z_KALIN, Z_SAMARA, Z_OMSK,
	Z_KRASN, Z_IRK, Z_ALMATY, Z_TASHKENT, Z_MAKASSAR, Z_JAKARTA,
	Z_JAYAPURA, Z_SINGAPORE, Z_DUBAI, Z_KOLKATA, Z_TOKYO, Z_SEOUL,
	Z_HONGKONG, Z_BANGKOK, Z_SYDNEY, Z_PERTH, Z_HONOLULU, Z_ANCHORAGE,
	Z_ISTANBUL, Z_TBILISI, Z_YEREVAN, Z_BAKU, Z_BISHKEK, Z_SHANGHAI,
	Z_PARIS,
};

static const struct sl_tp_zone zones[] = {
	[Z_UTC] = { "UTC", 0, 1 },
	[Z_MSK] = { "Europe/Moscow", 180, 1 },
	[Z_NY] = { "America/New_York", 0, 0 },
	[Z_LA] = { "America/Los_Angeles", 0, 0 },
	[Z_CHI] = { "America/Chicago", 0, 0 },
	[Z_DEN] = { "America/Denver", 0, 0 },
	[Z_LON] = { "Europe/London", 0, 0 },
	[Z_BER] = { "Europe/Berlin", 0, 0 },
	[Z_EET] = { "Europe/Helsinki", 0, 0 },
	[Z_WET] = { "Europe/Lisbon", 0, 0 },
	[Z_KIEV] = { "Europe/Kiev", 0, 0 },
	[Z_MINSK] = { "Europe/Minsk", 0, 0 },
	[Z_YEKB] = { "Asia/Yekaterinburg", 0, 0 },
	[Z_NOVOSIB] = { "Asia/Novosibirsk", 0, 0 },
	[Z_VLAD] = { "Asia/Vladivostok", 0, 0 },
	[Z_KALIN] = { "Europe/Kaliningrad", 0, 0 },
	[Z_SAMARA] = { "Europe/Samara", 0, 0 },
	[Z_OMSK] = { "Asia/Omsk", 0, 0 },
	[Z_KRASN] = { "Asia/Krasnoyarsk", 0, 0 },
	[Z_IRK] = { "Asia/Irkutsk", 0, 0 },
	[Z_ALMATY] = { "Asia/Almaty", 0, 0 },
	[Z_TASHKENT] = { "Asia/Tashkent", 0, 0 },
	[Z_MAKASSAR] = { "Asia/Makassar", 0, 0 },
	[Z_JAKARTA] = { "Asia/Jakarta", 0, 0 },
	[Z_JAYAPURA] = { "Asia/Jayapura", 0, 0 },
	[Z_SINGAPORE] = { "Asia/Singapore", 0, 0 },
	[Z_DUBAI] = { "Asia/Dubai", 0, 0 },
	[Z_KOLKATA] = { "Asia/Kolkata", 0, 0 },
	[Z_TOKYO] = { "Asia/Tokyo", 0, 0 },
	[Z_SEOUL] = { "Asia/Seoul", 0, 0 },
	[Z_HONGKONG] = { "Asia/Hong_Kong", 0, 0 },
	[Z_BANGKOK] = { "Asia/Bangkok", 0, 0 },
	[Z_SYDNEY] = { "Australia/Sydney", 0, 0 },
	[Z_PERTH] = { "Australia/Perth", 0, 0 },
	[Z_HONOLULU] = { "Pacific/Honolulu", 0, 0 },
	[Z_ANCHORAGE] = { "America/Anchorage", 0, 0 },
	[Z_ISTANBUL] = { "Europe/Istanbul", 0, 0 },
	[Z_TBILISI] = { "Asia/Tbilisi", 0, 0 },
	[Z_YEREVAN] = { "Asia/Yerevan", 0, 0 },
	[Z_BAKU] = { "Asia/Baku", 0, 0 },
	[Z_BISHKEK] = { "Asia/Bishkek", 0, 0 },
	[Z_SHANGHAI] = { "Asia/Shanghai", 0, 0 },
	[Z_PARIS] = { "Europe/Paris", 0, 0 },
};

static const struct entry words[] = {
	/* Prepositions and small words. */
	{ "в", K(V), 0, 0 }, { "во", K(V), 0, 0 }, { "на", K(NA), 0, 0 },
	{ "к", K(K), 0, 0 }, { "ко", K(K), 0, 0 }, { "by", K(K), 0, 0 },
	{ "с", K(S), 0, 0 }, { "со", K(S), 0, 0 }, { "from", K(S), 0, 0 },
	{ "до", K(DO), 0, 0 }, { "to", K(DO), 0, 0 }, { "till", K(DO), 0, 0 },
	{ "til", K(DO), 0, 0 }, { "until", K(DO), 0, 0 },
	{ "untill", K(DO), 0, 0 }, { "по", K(PO), 0, 0 },
	{ "at", K(AT), 0, 0 }, { "on", K(ON), 0, 0 }, { "in", K(IN), 0, 0 },
	{ "within", K(IN), 0, 0 }, { "через", K(THROUGH), FUZZ, 0 },
	{ "чрез", K(THROUGH), 0, 0 }, { "черз", K(THROUGH), 0, 0 },
	{ "спустя", K(THROUGH), 0, 1 }, { "после", K(AFTER), 0, 0 },
	{ "after", K(AFTER), 0, 0 }, { "перед", K(BEFORE), 0, 0 },
	{ "before", K(BEFORE), 0, 0 }, { "около", K(ABOUT), 0, 0 },
	{ "примерно", K(ABOUT), 0, 0 }, { "районе", K(ABOUT), 0, 0 }, { "ориентировочно", K(ABOUT), 0, 0 },
	{ "around", K(ABOUT), 0, 0 },
	{ "about", K(ABOUT), 0, 0 }, { "approx", K(ABOUT), 0, 0 },
	{ "approximately", K(ABOUT), 0, 0 }, { "ближе", K(ABOUT), 0, 0 },
	{ "between", K(BETWEEN), 0, 0 }, { "между", K(BETWEEN), 0, 0 },
	{ "and", K(AND), 0, 0 }, { "и", K(AND), 0, 0 },
	{ "or", K(OR), 0, 0 }, { "или", K(OR), 0, 0 },
	{ "либо", K(OR), 0, 0 }, { "if", K(IF), 0, 0 },
	{ "если", K(IF), 0, 0 }, { "otherwise", K(OTHERWISE), 0, 0 },
	{ "иначе", K(OTHERWISE), 0, 0 }, { "не", K(NOT), 0, 0 },
	{ "not", K(NOT), 0, 0 }, { "every", K(EVERY), 0, 0 },
	{ "each", K(EVERY), 0, 0 }, { "кажд", K(EVERY), STEM, 0 },
	{ "ежедневно", K(EVERY), 0, 0 }, { "the", K(FILLER), 0, 0 },
	{ "of", K(FILLER), 0, 0 }, { "during", K(IN), 0, 0 },
	{ "over", K(IN), 0, 0 }, { "течение", K(NONE), 0, 0 },

	/* Modifiers. */
	{ "следующ", K(NEXT), STEM, 0 }, { "следущ", K(NEXT), STEM, 0 },
	{ "следующей", K(NEXT), FUZZ, 0 }, { "следующий", K(NEXT), FUZZ, 0 },
	{ "следующую", K(NEXT), FUZZ, 0 }, { "след", K(NEXT), 0, 0 },
	{ "next", K(NEXT), 0, 0 }, { "nxt", K(NEXT), 0, 0 },
	{ "coming", K(NEXT), 0, 1 }, { "upcoming", K(NEXT), 0, 1 },
	{ "following", K(NEXT), 0, 0 },
	{ "этот", K(THIS), 0, 0 }, { "эта", K(THIS), 0, 0 },
	{ "эту", K(THIS), 0, 0 }, { "это", K(THIS), 0, 0 },
	{ "этой", K(THIS), 0, 0 }, { "этом", K(THIS), 0, 0 },
	{ "этого", K(THIS), 0, 0 }, { "эти", K(THIS), 0, 0 },
	{ "этих", K(THIS), 0, 0 }, { "this", K(THIS), 0, 0 },
	{ "these", K(THIS), 0, 0 },
	{ "ближайш", K(THIS), STEM, 0 }, { "текущ", K(THIS), STEM, 0 },
	{ "прошл", K(LAST), STEM, 0 }, { "прошедш", K(LAST), STEM, 0 },
	{ "last", K(LAST), 0, 0 }, { "past", K(LAST), 0, 0 },
	{ "previous", K(LAST), 0, 0 }, { "назад", K(AGO), 0, 0 },
	{ "ago", K(AGO), 0, 0 },

	/* Days. */
	{ "вчера", K(YESTERDAY), 0, 0 }, { "позавчера", K(YESTERDAY), 0, 0 },
	{ "yesterday", K(YESTERDAY), FUZZ, 0 },
	{ "сегодня", K(TODAY), FUZZ, 0 }, { "седня", K(TODAY), 0, 0 },
	{ "сегодне", K(TODAY), 0, 0 }, { "сёдня", K(TODAY), 0, 0 },
	{ "today", K(TODAY), FUZZ, 0 }, { "tdy", K(TODAY), 0, 0 },
	{ "2day", K(TODAY), 0, 0 }, { "tonight", K(TODAY), FUZZ, 1 },
	{ "tonite", K(TODAY), 0, 1 }, { "2nite", K(TODAY), 0, 1 },
	{ "завтра", K(TOMORROW), FUZZ, 0 }, { "завтро", K(TOMORROW), 0, 0 },
	{ "зафтра", K(TOMORROW), 0, 0 }, { "tomorrow", K(TOMORROW), FUZZ, 0 },
	{ "tomorow", K(TOMORROW), 0, 0 }, { "tommorow", K(TOMORROW), 0, 0 },
	{ "tommorrow", K(TOMORROW), 0, 0 }, { "tmrw", K(TOMORROW), 0, 0 },
	{ "tmr", K(TOMORROW), 0, 0 }, { "tmrow", K(TOMORROW), 0, 0 },
	{ "tmw", K(TOMORROW), 0, 0 }, { "tomoz", K(TOMORROW), 0, 0 },
	{ "2morrow", K(TOMORROW), 0, 0 }, { "2moro", K(TOMORROW), 0, 0 },
	{ "2mrw", K(TOMORROW), 0, 0 },
	{ "послезавтра", K(DAYAFTER), FUZZ, 0 },
	{ "послезавтро", K(DAYAFTER), 0, 0 },
	{ "overmorrow", K(DAYAFTER), 0, 0 },
	{ "завтрак", K(NONE), STEM, 0 },

	/* Weekdays. */
	{ "понедельник", K(WDAY), STEM | FUZZ, 1 },
	{ "понедельника", K(WDAY), FUZZ, 1 },
	{ "пн", K(WDAY), WEAK, 1 }, { "пнд", K(WDAY), WEAK, 1 },
	{ "вторник", K(WDAY), STEM | FUZZ, 2 }, { "вт", K(WDAY), WEAK, 2 },
	{ "среда", K(WDAY), WEAK, 3 }, { "среду", K(WDAY), 0, 3 },
	{ "среды", K(WDAY), 0, 3 }, { "среде", K(WDAY), 0, 3 },
	{ "средам", K(WDAY), PLUR, 3 }, { "ср", K(WDAY), WEAK, 3 },
	{ "четверг", K(WDAY), STEM | FUZZ, 4 }, { "чт", K(WDAY), WEAK, 4 },
	{ "четверо", K(NONE), 0, 0 },
	{ "пятниц", K(WDAY), STEM, 5 }, { "пятницу", K(WDAY), FUZZ, 5 },
	{ "пятница", K(WDAY), FUZZ, 5 }, { "пятницы", K(WDAY), FUZZ, 5 },
	{ "пт", K(WDAY), WEAK, 5 },
	{ "суббот", K(WDAY), STEM, 6 }, { "субботу", K(WDAY), FUZZ, 6 },
	{ "суббота", K(WDAY), FUZZ, 6 }, { "субботы", K(WDAY), FUZZ, 6 },
	{ "сб", K(WDAY), WEAK, 6 },
	{ "воскресень", K(WDAY), STEM, 0 },
	{ "воскресенье", K(WDAY), FUZZ, 0 },
	{ "воскресенья", K(WDAY), FUZZ, 0 },
	{ "воскресение", K(WDAY), 0, 0 }, { "вс", K(WDAY), WEAK, 0 },
	{ "вскр", K(WDAY), WEAK, 0 },
	{ "monday", K(WDAY), FUZZ, 1 }, { "mon", K(WDAY), WEAK, 1 },
	{ "mondays", K(WDAY), PLUR, 1 }, { "tuesday", K(WDAY), FUZZ, 2 },
	{ "tue", K(WDAY), WEAK, 2 }, { "tues", K(WDAY), 0, 2 },
	{ "tuesdays", K(WDAY), PLUR, 2 }, { "wednesday", K(WDAY), FUZZ, 3 },
	{ "wed", K(WDAY), WEAK, 3 }, { "weds", K(WDAY), 0, 3 },
	{ "wensday", K(WDAY), 0, 3 }, { "wednesdays", K(WDAY), PLUR, 3 },
	{ "thursday", K(WDAY), FUZZ, 4 }, { "thu", K(WDAY), WEAK, 4 },
	{ "thur", K(WDAY), 0, 4 }, { "thurs", K(WDAY), 0, 4 },
	{ "thursdays", K(WDAY), PLUR, 4 }, { "friday", K(WDAY), FUZZ, 5 },
	{ "fri", K(WDAY), 0, 5 }, { "fridays", K(WDAY), PLUR, 5 },
	{ "saturday", K(WDAY), FUZZ, 6 }, { "sat", K(WDAY), WEAK, 6 },
	{ "saturdays", K(WDAY), PLUR, 6 }, { "sunday", K(WDAY), FUZZ, 0 },
	{ "sun", K(WDAY), WEAK, 0 }, { "sundays", K(WDAY), PLUR, 0 },

	/* Months. */
	{ "январ", K(MONTH), STEM, 1 }, { "января", K(MONTH), FUZZ, 1 },
	{ "янв", K(MONTH), WEAK, 1 }, { "феврал", K(MONTH), STEM, 2 },
	{ "февраля", K(MONTH), FUZZ, 2 }, { "фев", K(MONTH), WEAK, 2 },
	{ "февр", K(MONTH), WEAK, 2 }, { "март", K(MONTH), STEM, 3 },
	{ "мар", K(MONTH), WEAK, 3 }, { "апрел", K(MONTH), STEM, 4 },
	{ "апреля", K(MONTH), FUZZ, 4 }, { "апр", K(MONTH), WEAK, 4 },
	{ "мая", K(MONTH), 0, 5 }, { "май", K(MONTH), WEAK, 5 },
	{ "мае", K(MONTH), 0, 5 }, { "июн", K(MONTH), STEM, 6 },
	{ "июл", K(MONTH), STEM, 7 }, { "август", K(MONTH), STEM, 8 },
	{ "августа", K(MONTH), FUZZ, 8 }, { "авг", K(MONTH), WEAK, 8 },
	{ "сентябр", K(MONTH), STEM, 9 }, { "сентября", K(MONTH), FUZZ, 9 },
	{ "сен", K(MONTH), WEAK, 9 }, { "сент", K(MONTH), WEAK, 9 },
	{ "октябр", K(MONTH), STEM, 10 }, { "октября", K(MONTH), FUZZ, 10 },
	{ "окт", K(MONTH), WEAK, 10 }, { "ноябр", K(MONTH), STEM, 11 },
	{ "ноября", K(MONTH), FUZZ, 11 }, { "ноя", K(MONTH), WEAK, 11 },
	{ "нояб", K(MONTH), WEAK, 11 }, { "декабр", K(MONTH), STEM, 12 },
	{ "декабря", K(MONTH), FUZZ, 12 }, { "дек", K(MONTH), WEAK, 12 },
	{ "january", K(MONTH), FUZZ, 1 }, { "jan", K(MONTH), WEAK, 1 },
	{ "february", K(MONTH), FUZZ, 2 }, { "feb", K(MONTH), WEAK, 2 },
	{ "march", K(MONTH), WEAK, 3 }, { "mar", K(MONTH), WEAK, 3 },
	{ "april", K(MONTH), 0, 4 }, { "apr", K(MONTH), WEAK, 4 },
	{ "may", K(MONTH), WEAK, 5 }, { "june", K(MONTH), 0, 6 },
	{ "jun", K(MONTH), WEAK, 6 }, { "july", K(MONTH), 0, 7 },
	{ "jul", K(MONTH), WEAK, 7 }, { "august", K(MONTH), FUZZ, 8 },
	{ "aug", K(MONTH), WEAK, 8 }, { "september", K(MONTH), FUZZ, 9 },
	{ "sep", K(MONTH), WEAK, 9 }, { "sept", K(MONTH), WEAK, 9 },
	{ "october", K(MONTH), FUZZ, 10 }, { "oct", K(MONTH), WEAK, 10 },
	{ "november", K(MONTH), FUZZ, 11 }, { "nov", K(MONTH), WEAK, 11 },
	{ "december", K(MONTH), FUZZ, 12 }, { "dec", K(MONTH), WEAK, 12 },

	/* Units. */
	{ "секунд", K(UNIT), STEM, U(SEC) }, { "сек", K(UNIT), SFX, U(SEC) },
	{ "second", K(UNIT), 0, U(SEC) }, { "seconds", K(UNIT), 0, U(SEC) },
	{ "sec", K(UNIT), SFX, U(SEC) }, { "secs", K(UNIT), SFX, U(SEC) },
	{ "минут", K(UNIT), STEM | SFX, U(MIN) },
	{ "минуты", K(UNIT), FUZZ | SFX, U(MIN) },
	{ "минуточку", K(UNIT), 0, U(MIN) }, { "мин", K(UNIT), SFX, U(MIN) },
	{ "минус", K(NONE), 0, 0 },
	{ "minute", K(UNIT), FUZZ, U(MIN) },
	{ "minutes", K(UNIT), FUZZ | SFX, U(MIN) },
	{ "min", K(UNIT), SFX, U(MIN) }, { "mins", K(UNIT), SFX, U(MIN) },
	{ "m", K(UNIT), SFX | WEAK, U(MIN) },
	{ "час", K(UNIT), SFX, U(HOUR) }, { "часа", K(UNIT), SFX, U(HOUR) },
	{ "часов", K(UNIT), SFX, U(HOUR) }, { "часу", K(UNIT), 0, U(HOUR) },
	{ "часик", K(UNIT), 0, U(HOUR) }, { "часика", K(UNIT), 0, U(HOUR) },
	{ "часок", K(UNIT), 0, U(HOUR) }, { "часиков", K(UNIT), 0, U(HOUR) },
	{ "ч", K(UNIT), SFX | WEAK, U(HOUR) },
	{ "hour", K(UNIT), SFX, U(HOUR) }, { "hours", K(UNIT), FUZZ | SFX, U(HOUR) },
	{ "hr", K(UNIT), SFX, U(HOUR) }, { "hrs", K(UNIT), SFX, U(HOUR) },
	{ "h", K(UNIT), SFX | WEAK, U(HOUR) },
	{ "полчаса", K(UNIT), FUZZ, U(HALFHOUR) },
	{ "полчасика", K(UNIT), 0, U(HALFHOUR) },
	{ "день", K(UNIT), 0, U(DAY) }, { "дня", K(UNIT), SFX | PM, U(DAY) },
	{ "дней", K(UNIT), SFX, U(DAY) }, { "дню", K(UNIT), 0, U(DAY) },
	{ "денек", K(UNIT), 0, U(DAY) }, { "денька", K(UNIT), 0, U(DAY) },
	{ "деньков", K(UNIT), 0, U(DAY) }, { "дн", K(UNIT), SFX, U(DAY) },
	{ "day", K(UNIT), SFX, U(DAY) }, { "days", K(UNIT), SFX, U(DAY) },
	{ "d", K(UNIT), SFX | WEAK, U(DAY) },
	{ "сутки", K(UNIT), 0, U(DAY24) }, { "суток", K(UNIT), 0, U(DAY24) },
	{ "недел", K(UNIT), STEM, U(WEEK) }, { "неделю", K(UNIT), FUZZ, U(WEEK) },
	{ "неделе", K(UNIT), LOC, U(WEEK) }, { "нед", K(UNIT), SFX, U(WEEK) },
	{ "week", K(UNIT), SFX, U(WEEK) }, { "weeks", K(UNIT), SFX, U(WEEK) },
	{ "wk", K(UNIT), SFX, U(WEEK) }, { "wks", K(UNIT), SFX, U(WEEK) },
	{ "fortnight", K(UNIT), 0, U(FORTNIGHT) },
	{ "месяц", K(UNIT), STEM, U(MONTH) }, { "месяце", K(UNIT), LOC, U(MONTH) },
	{ "месяца", K(UNIT), FUZZ, U(MONTH) }, { "мес", K(UNIT), SFX, U(MONTH) },
	{ "month", K(UNIT), 0, U(MONTH) }, { "months", K(UNIT), FUZZ, U(MONTH) },
	{ "mo", K(UNIT), WEAK, U(MONTH) }, { "mos", K(UNIT), WEAK, U(MONTH) },
	{ "квартал", K(UNIT), STEM, U(QUARTER) },
	{ "квартале", K(UNIT), LOC, U(QUARTER) },
	{ "полгода", K(UNIT), 0, U(HALFYEAR) },
	{ "полгодика", K(UNIT), 0, U(HALFYEAR) },
	{ "год", K(UNIT), 0, U(YEAR) }, { "года", K(UNIT), 0, U(YEAR) },
	{ "году", K(UNIT), LOC, U(YEAR) }, { "годик", K(UNIT), 0, U(YEAR) },
	{ "лет", K(UNIT), 0, U(YEAR) }, { "г", K(UNIT), WEAK, U(YEAR) },
	{ "year", K(UNIT), 0, U(YEAR) }, { "years", K(UNIT), 0, U(YEAR) },
	{ "yr", K(UNIT), 0, U(YEAR) }, { "yrs", K(UNIT), 0, U(YEAR) },

	/* Numbers in words (tenths). */
	{ "один", K(NUMW), 0, 10 }, { "одна", K(NUMW), 0, 10 },
	{ "одну", K(NUMW), 0, 10 }, { "два", K(NUMW), 0, 20 },
	{ "две", K(NUMW), 0, 20 }, { "три", K(NUMW), 0, 30 },
	{ "четыре", K(NUMW), 0, 40 }, { "пять", K(NUMW), 0, 50 },
	{ "шесть", K(NUMW), 0, 60 }, { "семь", K(NUMW), 0, 70 },
	{ "восемь", K(NUMW), 0, 80 }, { "девять", K(NUMW), 0, 90 },
	{ "десять", K(NUMW), 0, 100 }, { "одиннадцать", K(NUMW), 0, 110 },
	{ "двенадцать", K(NUMW), 0, 120 }, { "пятнадцать", K(NUMW), 0, 150 },
	{ "двадцать", K(NUMW), 0, 200 }, { "тридцать", K(NUMW), 0, 300 },
	{ "сорок", K(NUMW), 0, 400 }, { "пятьдесят", K(NUMW), 0, 500 },
	{ "пяти", K(NUMW), 0, 50 }, { "десяти", K(NUMW), 0, 100 },
	{ "пятнадцати", K(NUMW), 0, 150 }, { "двадцати", K(NUMW), 0, 200 },
	{ "двух", K(NUMW), 0, 20 }, { "трех", K(NUMW), 0, 30 },
	{ "полтора", K(NUMW), 0, 15 }, { "полторы", K(NUMW), 0, 15 },
	{ "пару", K(NUMW), 0, 20 }, { "пара", K(NUMW), 0, 20 },
	{ "парочку", K(NUMW), 0, 20 }, { "несколько", K(NUMW), 0, 30 },
	{ "a", K(NUMW), WEAK, 10 }, { "an", K(NUMW), WEAK, 10 },
	{ "one", K(NUMW), 0, 10 }, { "two", K(NUMW), 0, 20 },
	{ "three", K(NUMW), 0, 30 }, { "four", K(NUMW), 0, 40 },
	{ "five", K(NUMW), 0, 50 }, { "six", K(NUMW), 0, 60 },
	{ "seven", K(NUMW), 0, 70 }, { "eight", K(NUMW), 0, 80 },
	{ "nine", K(NUMW), 0, 90 }, { "ten", K(NUMW), 0, 100 },
	{ "eleven", K(NUMW), 0, 110 }, { "twelve", K(NUMW), 0, 120 },
	{ "fifteen", K(NUMW), 0, 150 }, { "twenty", K(NUMW), 0, 200 },
	{ "thirty", K(NUMW), 0, 300 }, { "forty", K(NUMW), 0, 400 },
	{ "fifty", K(NUMW), 0, 500 }, { "couple", K(NUMW), 0, 20 },
	{ "few", K(NUMW), 0, 30 }, { "several", K(NUMW), 0, 30 },

	/* Hours as ordinals: половина четвёртого. */
	{ "первого", K(ORDH), 0, 1 }, { "второго", K(ORDH), 0, 2 },
	{ "третьего", K(ORDH), 0, 3 }, { "четвертого", K(ORDH), 0, 4 },
	{ "пятого", K(ORDH), 0, 5 }, { "шестого", K(ORDH), 0, 6 },
	{ "седьмого", K(ORDH), 0, 7 }, { "восьмого", K(ORDH), 0, 8 },
	{ "девятого", K(ORDH), 0, 9 }, { "десятого", K(ORDH), 0, 10 },
	{ "одиннадцатого", K(ORDH), 0, 11 },
	{ "двенадцатого", K(ORDH), 0, 12 },
	{ "полпервого", K(HALFORD), 0, 1 }, { "полвторого", K(HALFORD), 0, 2 },
	{ "полтретьего", K(HALFORD), 0, 3 },
	{ "полчетвертого", K(HALFORD), 0, 4 },
	{ "полпятого", K(HALFORD), 0, 5 }, { "полшестого", K(HALFORD), 0, 6 },
	{ "полседьмого", K(HALFORD), 0, 7 },
	{ "полвосьмого", K(HALFORD), 0, 8 },
	{ "полдевятого", K(HALFORD), 0, 9 },
	{ "полдесятого", K(HALFORD), 0, 10 },
	{ "полодиннадцатого", K(HALFORD), 0, 11 },
	{ "полдвенадцатого", K(HALFORD), 0, 12 },
	{ "половина", K(HALF), 0, 0 }, { "половине", K(HALF), 0, 0 },
	{ "половину", K(HALF), 0, 0 }, { "пол", K(HALF), 0, 0 },
	{ "half", K(HALF), 0, 0 }, { "четверть", K(QUARTER), 0, 0 },
	{ "четверти", K(QUARTER), 0, 0 }, { "quarter", K(QUARTER), 0, 0 },
	{ "без", K(WITHOUT), 0, 0 },

	/* Parts of the day. */
	{ "утром", K(PART), FUZZ, P(MORNING) },
	{ "утречком", K(PART), 0, P(MORNING) },
	{ "поутру", K(PART), 0, P(MORNING) },
	{ "утра", K(PART), AM | SFX | WEAK, P(MORNING) },
	{ "утро", K(PART), WEAK, P(MORNING) },
	{ "утру", K(PART), WEAK, P(MORNING) },
	{ "morning", K(PART), FUZZ, P(MORNING) },
	{ "morn", K(PART), 0, P(MORNING) },
	{ "mornings", K(PART), PLUR, P(MORNING) },
	{ "днем", K(PART), 0, P(AFTERNOON) },
	{ "пополудни", K(PART), PM, P(AFTERNOON) },
	{ "afternoon", K(PART), FUZZ, P(AFTERNOON) },
	{ "arvo", K(PART), 0, P(AFTERNOON) },
	{ "обед", K(PART), WEAK, P(LUNCH) }, { "обеда", K(PART), WEAK, P(LUNCH) },
	{ "обеду", K(PART), WEAK, P(LUNCH) },
	{ "обедом", K(PART), WEAK, P(LUNCH) },
	{ "обеденное", K(PART), WEAK, P(LUNCH) },
	{ "lunch", K(PART), WEAK, P(LUNCH) },
	{ "lunchtime", K(PART), 0, P(LUNCH) },
	{ "вечером", K(PART), FUZZ, P(EVENING) },
	{ "вечерком", K(PART), 0, P(EVENING) },
	{ "вечерочком", K(PART), 0, P(EVENING) },
	{ "вечера", K(PART), PM | SFX | WEAK, P(EVENING) },
	{ "вечер", K(PART), WEAK, P(EVENING) },
	{ "вечеру", K(PART), WEAK, P(EVENING) },
	{ "evening", K(PART), FUZZ, P(EVENING) },
	{ "evenings", K(PART), PLUR, P(EVENING) },
	{ "eve", K(NONE), 0, 0 },
	{ "ночью", K(PART), 0, P(NIGHT) },
	{ "ночи", K(PART), NIGHT | SFX | WEAK, P(NIGHT) },
	{ "ночь", K(PART), WEAK, P(NIGHT) },
	{ "night", K(PART), WEAK, P(NIGHT) }, { "nite", K(PART), WEAK, P(NIGHT) },
	{ "полдень", K(PART), 0, P(NOON) }, { "полдня", K(NONE), 0, 0 },
	{ "полудня", K(PART), WEAK, P(NOON) },
	{ "noon", K(PART), 0, P(NOON) }, { "midday", K(PART), 0, P(NOON) },
	{ "полночь", K(PART), 0, P(MIDNIGHT) },
	{ "полуночи", K(PART), WEAK, P(MIDNIGHT) },
	{ "midnight", K(PART), 0, P(MIDNIGHT) },
	{ "рано", K(PPART), 0, SL_TP_PP_START },
	{ "пораньше", K(PPART), 0, SL_TP_PP_START },
	{ "первой", K(DAYHALF), 0, 1 }, { "второй", K(DAYHALF), 0, 2 },
	{ "first", K(FIRST), 0, 0 }, { "thing", K(FILLER), 0, 0 },
	{ "eod", K(EOX), 0, U(DAY) }, { "cob", K(EOX), 0, U(DAY) },
	{ "eob", K(EOX), 0, U(DAY) }, { "eow", K(EOX), 0, U(WEEK) },
	{ "eom", K(EOX), 0, U(MONTH) },

	/* Clock words. */
	{ "am", K(AMPM), SFX, 0 }, { "pm", K(AMPM), SFX, 1 },
	{ "p", K(AMPM), SFX | WEAK, 1 },
	{ "oclock", K(OCLOCK), SFX, 0 },

	/* Periods. */
	{ "начало", K(PPART), 0, SL_TP_PP_START },
	{ "начале", K(PPART), 0, SL_TP_PP_START },
	{ "начала", K(PPART), 0, SL_TP_PP_START },
	{ "началу", K(PPART), 0, SL_TP_PP_START },
	{ "beginning", K(PPART), 0, SL_TP_PP_START },
	{ "start", K(PPART), 0, SL_TP_PP_START },
	{ "early", K(PPART), 0, SL_TP_PP_START },
	{ "середина", K(PPART), 0, SL_TP_PP_MID },
	{ "середине", K(PPART), FUZZ, SL_TP_PP_MID },
	{ "середины", K(PPART), 0, SL_TP_PP_MID },
	{ "середину", K(PPART), 0, SL_TP_PP_MID },
	{ "mid", K(PPART), 0, SL_TP_PP_MID },
	{ "middle", K(PPART), 0, SL_TP_PP_MID },
	{ "конец", K(PPART), 0, SL_TP_PP_END },
	{ "конце", K(PPART), 0, SL_TP_PP_END },
	{ "конца", K(PPART), 0, SL_TP_PP_END },
	{ "концу", K(PPART), 0, SL_TP_PP_END },
	{ "end", K(PPART), 0, SL_TP_PP_END },
	{ "late", K(PPART), 0, SL_TP_PP_END },
	{ "выходные", K(WEEKEND), 0, 0 }, { "выходных", K(WEEKEND), 0, 0 },
	{ "выходным", K(WEEKEND), 0, 0 }, { "уикенд", K(WEEKEND), 0, 0 },
	{ "уикэнд", K(WEEKEND), 0, 0 }, { "викенд", K(WEEKEND), 0, 0 },
	{ "weekend", K(WEEKEND), 0, 0 },
	{ "weekends", K(WEEKEND), PLUR, 0 },

	/* Dates. */
	{ "го", K(DATESFX), SFX, 0 }, { "ого", K(DATESFX), SFX, 0 },
	{ "е", K(DATESFX), SFX | WEAK, 0 }, { "числа", K(DATESFX), 0, 0 },
	{ "число", K(DATESFX), 0, 0 }, { "числу", K(DATESFX), 0, 0 },
	{ "th", K(DATESFX), SFX, 0 }, { "st", K(DATESFX), SFX, 0 },
	{ "nd", K(DATESFX), SFX, 0 }, { "rd", K(DATESFX), SFX, 0 },
	{ "later", K(FROMNOW), 0, 0 }, { "now", K(NOW), 0, 0 },
	{ "сейчас", K(NOW), 0, 0 }, { "щас", K(NOW), 0, 0 },

	/* Zones. */
	{ "мск", K(ZONE), 0, Z_MSK }, { "msk", K(ZONE), 0, Z_MSK },
	{ "московск", K(ZONE), STEM | CTX, Z_MSK },
	{ "москве", K(ZONE), CTX, Z_MSK }, { "москва", K(ZONE), CTX, Z_MSK },
	{ "moscow", K(ZONE), CTX, Z_MSK }, { "питеру", K(ZONE), CTX, Z_MSK },
	{ "utc", K(ZONE), 0, Z_UTC }, { "gmt", K(ZONE), 0, Z_UTC },
	{ "гринвичу", K(ZONE), CTX, Z_UTC },
	{ "est", K(ZONE), 0, Z_NY }, { "edt", K(ZONE), 0, Z_NY },
	{ "et", K(ZONE), WEAK, Z_NY }, { "eastern", K(ZONE), CTX, Z_NY },
	{ "york", K(ZONE), CTX, Z_NY }, { "nyc", K(ZONE), CTX, Z_NY },
	{ "pst", K(ZONE), 0, Z_LA }, { "pdt", K(ZONE), 0, Z_LA },
	{ "pt", K(ZONE), WEAK, Z_LA }, { "pacific", K(ZONE), CTX, Z_LA },
	{ "cst", K(ZONE), 0, Z_CHI }, { "cdt", K(ZONE), 0, Z_CHI },
	{ "ct", K(ZONE), WEAK, Z_CHI }, { "central", K(ZONE), CTX, Z_CHI },
	{ "mst", K(ZONE), 0, Z_DEN }, { "mdt", K(ZONE), 0, Z_DEN },
	{ "mountain", K(ZONE), CTX, Z_DEN },
	{ "bst", K(ZONE), 0, Z_LON }, { "london", K(ZONE), CTX, Z_LON },
	{ "uk", K(ZONE), CTX, Z_LON }, { "лондону", K(ZONE), CTX, Z_LON },
	{ "лондонск", K(ZONE), STEM | CTX, Z_LON },
	{ "cet", K(ZONE), 0, Z_BER }, { "cest", K(ZONE), 0, Z_BER },
	{ "berlin", K(ZONE), CTX, Z_BER }, { "берлину", K(ZONE), CTX, Z_BER },
	{ "берлинск", K(ZONE), STEM | CTX, Z_BER },
	{ "европейск", K(ZONE), STEM | CTX, Z_BER },
	{ "paris", K(ZONE), CTX, Z_PARIS }, { "парижу", K(ZONE), CTX, Z_PARIS },
	{ "eet", K(ZONE), 0, Z_EET }, { "eest", K(ZONE), 0, Z_EET },
	{ "wet", K(ZONE), 0, Z_WET },
	{ "киеву", K(ZONE), CTX, Z_KIEV }, { "киевск", K(ZONE), STEM | CTX, Z_KIEV },
	{ "kyiv", K(ZONE), CTX, Z_KIEV }, { "kiev", K(ZONE), CTX, Z_KIEV },
	{ "минску", K(ZONE), CTX, Z_MINSK },
	{ "минск", K(ZONE), STEM | CTX, Z_MINSK },
	{ "екб", K(ZONE), CTX, Z_YEKB }, { "екатеринбургу", K(ZONE), CTX, Z_YEKB },
	{ "екатеринбургск", K(ZONE), STEM | CTX, Z_YEKB },
	{ "новосибирску", K(ZONE), CTX, Z_NOVOSIB },
	{ "новосибирск", K(ZONE), STEM | CTX, Z_NOVOSIB },
	{ "нск", K(ZONE), CTX, Z_NOVOSIB },
	{ "владивостоку", K(ZONE), CTX, Z_VLAD },
	{ "владивостокск", K(ZONE), STEM | CTX, Z_VLAD },
	{ "калининградск", K(ZONE), STEM | CTX, Z_KALIN },
	{ "калининграду", K(ZONE), CTX, Z_KALIN },
	{ "самарск", K(ZONE), STEM | CTX, Z_SAMARA },
	{ "самаре", K(ZONE), CTX, Z_SAMARA },
	{ "омск", K(ZONE), STEM | CTX, Z_OMSK },
	{ "красноярск", K(ZONE), STEM | CTX, Z_KRASN },
	{ "иркутск", K(ZONE), STEM | CTX, Z_IRK },
	{ "алматы", K(ZONE), CTX, Z_ALMATY },
	{ "алматинск", K(ZONE), STEM | CTX, Z_ALMATY },
	{ "ташкенту", K(ZONE), CTX, Z_TASHKENT },
	{ "ташкентск", K(ZONE), STEM | CTX, Z_TASHKENT },
	{ "бали", K(ZONE), CTX, Z_MAKASSAR },
	{ "балийск", K(ZONE), STEM | CTX, Z_MAKASSAR },
	{ "bali", K(ZONE), CTX, Z_MAKASSAR }, { "wita", K(ZONE), 0, Z_MAKASSAR },
	{ "wib", K(ZONE), 0, Z_JAKARTA }, { "jakarta", K(ZONE), CTX, Z_JAKARTA },
	{ "джакарте", K(ZONE), CTX, Z_JAKARTA },
	{ "wit", K(ZONE), WEAK, Z_JAYAPURA },
	{ "sgt", K(ZONE), 0, Z_SINGAPORE },
	{ "singapore", K(ZONE), CTX, Z_SINGAPORE },
	{ "сингапуру", K(ZONE), CTX, Z_SINGAPORE },
	{ "gst", K(ZONE), WEAK, Z_DUBAI }, { "dubai", K(ZONE), CTX, Z_DUBAI },
	{ "дубаю", K(ZONE), CTX, Z_DUBAI }, { "дубай", K(ZONE), CTX, Z_DUBAI },
	{ "ist", K(ZONE), 0, Z_KOLKATA }, { "india", K(ZONE), CTX, Z_KOLKATA },
	{ "jst", K(ZONE), 0, Z_TOKYO }, { "tokyo", K(ZONE), CTX, Z_TOKYO },
	{ "kst", K(ZONE), 0, Z_SEOUL }, { "hkt", K(ZONE), 0, Z_HONGKONG },
	{ "ict", K(ZONE), WEAK, Z_BANGKOK }, { "bangkok", K(ZONE), CTX, Z_BANGKOK },
	{ "бангкоку", K(ZONE), CTX, Z_BANGKOK },
	{ "aest", K(ZONE), 0, Z_SYDNEY }, { "aedt", K(ZONE), 0, Z_SYDNEY },
	{ "sydney", K(ZONE), CTX, Z_SYDNEY }, { "awst", K(ZONE), 0, Z_PERTH },
	{ "hst", K(ZONE), 0, Z_HONOLULU }, { "akst", K(ZONE), 0, Z_ANCHORAGE },
	{ "стамбулу", K(ZONE), CTX, Z_ISTANBUL },
	{ "istanbul", K(ZONE), CTX, Z_ISTANBUL },
	{ "тбилиси", K(ZONE), CTX, Z_TBILISI },
	{ "еревану", K(ZONE), CTX, Z_YEREVAN }, { "баку", K(ZONE), CTX, Z_BAKU },
	{ "бишкеку", K(ZONE), CTX, Z_BISHKEK },
	{ "пекину", K(ZONE), CTX, Z_SHANGHAI },
	{ "beijing", K(ZONE), CTX, Z_SHANGHAI },
	{ "время", K(TIMEWORD), 0, 0 }, { "времени", K(TIMEWORD), 0, 0 },
	{ "time", K(TIMEWORD), 0, 0 },

	/* Counted things: a number before them is no time. */
	{ "раз", K(COUNT), 0, 0 }, { "раза", K(COUNT), 0, 0 },
	{ "лиценз", K(COUNT), STEM, 0 }, { "пользовател", K(COUNT), STEM, 0 },
	{ "юзер", K(COUNT), STEM, 0 }, { "человек", K(COUNT), STEM, 0 },
	{ "чел", K(COUNT), 0, 0 }, { "штук", K(COUNT), STEM, 0 },
	{ "шт", K(COUNT), 0, 0 }, { "процент", K(COUNT), STEM, 0 },
	{ "руб", K(COUNT), STEM, 0 }, { "р", K(COUNT), 0, 0 },
	{ "тыс", K(COUNT), 0, 0 }, { "тысяч", K(COUNT), STEM, 0 },
	{ "млн", K(COUNT), 0, 0 }, { "миллион", K(COUNT), STEM, 0 },
	{ "сотрудник", K(COUNT), STEM, 0 }, { "менеджер", K(COUNT), STEM, 0 },
	{ "мест", K(COUNT), 0, 0 }, { "места", K(COUNT), 0, 0 },
	{ "место", K(COUNT), 0, 0 }, { "компьютер", K(COUNT), STEM, 0 },
	{ "филиал", K(COUNT), STEM, 0 }, { "офис", K(COUNT), STEM, 0 },
	{ "отдел", K(COUNT), STEM, 0 }, { "позици", K(COUNT), STEM, 0 },
	{ "вариант", K(COUNT), STEM, 0 }, { "этаж", K(COUNT), STEM, 0 },
	{ "аккаунт", K(COUNT), STEM, 0 }, { "доллар", K(COUNT), STEM, 0 },
	{ "евро", K(COUNT), 0, 0 }, { "бакс", K(COUNT), STEM, 0 },
	{ "звонк", K(COUNT), STEM, 0 }, { "заявк", K(COUNT), STEM, 0 },
	{ "клиент", K(COUNT), STEM, 0 }, { "сделк", K(COUNT), STEM, 0 },
	{ "users", K(COUNT), 0, 0 }, { "user", K(COUNT), 0, 0 },
	{ "licenses", K(COUNT), 0, 0 }, { "license", K(COUNT), 0, 0 },
	{ "licences", K(COUNT), 0, 0 }, { "seats", K(COUNT), 0, 0 },
	{ "seat", K(COUNT), 0, 0 }, { "times", K(COUNT), 0, 0 },
	{ "people", K(COUNT), 0, 0 }, { "persons", K(COUNT), 0, 0 },
	{ "percent", K(COUNT), 0, 0 }, { "employees", K(COUNT), 0, 0 },
	{ "reps", K(COUNT), 0, 0 }, { "agents", K(COUNT), 0, 0 },
	{ "members", K(COUNT), 0, 0 }, { "accounts", K(COUNT), 0, 0 },
	{ "dollars", K(COUNT), 0, 0 }, { "bucks", K(COUNT), 0, 0 },
	{ "euros", K(COUNT), 0, 0 }, { "usd", K(COUNT), 0, 0 },
	{ "eur", K(COUNT), 0, 0 }, { "rub", K(COUNT), 0, 0 },
	{ "items", K(COUNT), 0, 0 }, { "units", K(COUNT), 0, 0 },
	{ "pcs", K(COUNT), 0, 0 }, { "x", K(COUNT), 0, 0 },
	{ "х", K(COUNT), 0, 0 }, { "k", K(COUNT), 0, 0 },
	{ "calls", K(COUNT), 0, 0 },
	{ "leads", K(COUNT), 0, 0 }, { "deals", K(COUNT), 0, 0 },
	{ "teams", K(COUNT), 0, 0 }, { "offices", K(COUNT), 0, 0 },
	{ "locations", K(COUNT), 0, 0 }, { "stars", K(COUNT), 0, 0 },
	{ "версия", K(VERSION), 0, 0 }, { "версии", K(VERSION), 0, 0 },
	{ "версию", K(VERSION), 0, 0 }, { "версией", K(VERSION), 0, 0 },
	{ "version", K(VERSION), 0, 0 }, { "ver", K(VERSION), 0, 0 },
	{ "v", K(VERSION), 0, 0 }, { "build", K(VERSION), 0, 0 },
	{ "release", K(VERSION), 0, 0 }, { "релиз", K(VERSION), STEM, 0 },
	{ "сборк", K(VERSION), STEM, 0 }, { "цена", K(VERSION), 0, 0 },
	{ "стоимость", K(VERSION), 0, 0 }, { "price", K(VERSION), 0, 0 },
	{ "costs", K(VERSION), 0, 0 }, { "cost", K(VERSION), 0, 0 },
	{ "тариф", K(VERSION), STEM, 0 }, { "номер", K(VERSION), STEM, 0 },

	{ "добрый", K(GOOD), 0, 0 }, { "доброе", K(GOOD), 0, 0 },
	{ "доброго", K(GOOD), 0, 0 }, { "доброй", K(GOOD), 0, 0 },
	{ "спокойной", K(GOOD), 0, 0 }, { "хорошего", K(GOOD), 0, 0 },
	{ "хорошей", K(GOOD), 0, 0 }, { "good", K(GOOD), 0, 0 },
	{ "gm", K(NONE), 0, 0 },

	/* Words that may follow "в 3" / "at 3". */
	{ "удобно", K(NONE), OKA, 0 }, { "подойдет", K(NONE), OKA, 0 },
	{ "пойдет", K(NONE), OKA, 0 }, { "норм", K(NONE), OKA, 0 },
	{ "нормально", K(NONE), OKA, 0 }, { "созвонимся", K(NONE), OKA, 0 },
	{ "созвон", K(NONE), OKA, 0 }, { "позвоните", K(NONE), OKA, 0 },
	{ "позвони", K(NONE), OKA, 0 }, { "позвоню", K(NONE), OKA, 0 },
	{ "наберите", K(NONE), OKA, 0 }, { "набери", K(NONE), OKA, 0 },
	{ "наберу", K(NONE), OKA, 0 }, { "напишите", K(NONE), OKA, 0 },
	{ "напиши", K(NONE), OKA, 0 }, { "напишу", K(NONE), OKA, 0 },
	{ "встретимся", K(NONE), OKA, 0 }, { "давайте", K(NONE), OKA, 0 },
	{ "давай", K(NONE), OKA, 0 }, { "можно", K(NONE), OKA, 0 },
	{ "буду", K(NONE), OKA, 0 }, { "жду", K(NONE), OKA, 0 },
	{ "ок", K(NONE), OKA, 0 }, { "окей", K(NONE), OKA, 0 },
	{ "хорошо", K(NONE), OKA, 0 }, { "свободен", K(NONE), OKA, 0 },
	{ "свободна", K(NONE), OKA, 0 }, { "смогу", K(NONE), OKA, 0 },
	{ "сможем", K(NONE), OKA, 0 }, { "устроит", K(NONE), OKA, 0 },
	{ "ok", K(NONE), OKA, 0 }, { "okay", K(NONE), OKA, 0 },
	{ "works", K(NONE), OKA, 0 }, { "work", K(NONE), OKA, 0 },
	{ "fine", K(NONE), OKA, 0 }, { "then", K(NONE), OKA, 0 },
	{ "please", K(NONE), OKA, 0 }, { "pls", K(NONE), OKA, 0 },
	{ "plz", K(NONE), OKA, 0 }, { "is", K(NONE), OKA, 0 },
	{ "would", K(NONE), OKA, 0 }, { "sounds", K(NONE), OKA, 0 },
	{ "suits", K(NONE), OKA, 0 }, { "call", K(NONE), OKA, 0 },
	{ "ring", K(NONE), OKA, 0 }, { "talk", K(NONE), OKA, 0 },
	{ "meet", K(NONE), OKA, 0 }, { "chat", K(NONE), OKA, 0 },
	{ "sharp", K(NONE), OKA, 0 }, { "ровно", K(NONE), OKA, 0 },
	{ "тогда", K(NONE), OKA, 0 }, { "пожалуйста", K(NONE), OKA, 0 },

	/* Frequent words of no meaning here (cheap, and never typos). */
	{ "мне", K(NONE), 0, 0 }, { "нам", K(NONE), 0, 0 },
	{ "вам", K(NONE), 0, 0 }, { "вас", K(NONE), 0, 0 },
	{ "я", K(NONE), 0, 0 }, { "мы", K(NONE), 0, 0 },
	{ "вы", K(NONE), 0, 0 }, { "а", K(NONE), 0, 0 },
	{ "но", K(NONE), 0, 0 }, { "да", K(NONE), 0, 0 },
	{ "нет", K(NONE), 0, 0 }, { "лучше", K(PREFER), 0, 0 },
	{ "удобнее", K(PREFER), 0, 0 }, { "желательно", K(PREFER), 0, 0 },
	{ "better", K(PREFER), 0, 0 }, { "preferably", K(PREFER), 0, 0 },
	{ "ideally", K(PREFER), 0, 0 },
	{ "спасибо", K(NONE), 0, 0 }, { "здравствуйте", K(NONE), 0, 0 },
	{ "привет", K(NONE), 0, 0 }, { "сможете", K(NONE), 0, 0 },
	{ "свяжитесь", K(NONE), 0, 0 }, { "напомните", K(NONE), 0, 0 },
	{ "перезвоните", K(NONE), 0, 0 }, { "занят", K(NONE), 0, 0 },
	{ "занята", K(NONE), 0, 0 }, { "могу", K(NONE), 0, 0 },
	{ "получится", K(NONE), 0, 0 }, { "будет", K(NONE), 0, 0 },
	{ "когда", K(NONE), 0, 0 },
	{ "потом", K(NONE), 0, 0 }, { "позже", K(NONE), 0, 0 },
	{ "попозже", K(NONE), 0, 0 }, { "скоро", K(NONE), 0, 0 },
	{ "обсудим", K(NONE), 0, 0 }, { "обсудить", K(NONE), 0, 0 },
	{ "вернемся", K(NONE), 0, 0 }, { "вернусь", K(NONE), 0, 0 },
	{ "отпуске", K(NONE), 0, 0 }, { "командировке", K(NONE), 0, 0 },
	{ "неделька", K(UNIT), 0, U(WEEK) },
	{ "me", K(NONE), 0, 0 }, { "us", K(NONE), 0, 0 },
	{ "you", K(NONE), 0, 0 }, { "we", K(NONE), 0, 0 },
	{ "i", K(NONE), 0, 0 }, { "it", K(NONE), 0, 0 },
	{ "let", K(NONE), 0, 0 }, { "lets", K(NONE), 0, 0 },
	{ "can", K(NONE), 0, 0 }, { "could", K(NONE), 0, 0 },
	{ "will", K(NONE), 0, 0 }, { "back", K(NONE), 0, 0 },
	{ "thanks", K(NONE), 0, 0 }, { "thank", K(NONE), 0, 0 },
	{ "hello", K(NONE), 0, 0 }, { "hi", K(NONE), 0, 0 },
	{ "ping", K(NONE), 0, 0 }, { "reach", K(NONE), 0, 0 },
	{ "out", K(NONE), 0, 0 }, { "follow", K(NONE), 0, 0 },
	{ "up", K(NONE), 0, 0 }, { "touch", K(NONE), 0, 0 },
	{ "busy", K(NONE), 0, 0 }, { "free", K(NONE), 0, 0 },
	{ "maybe", K(NONE), 0, 0 }, { "sure", K(NONE), 0, 0 },
	{ "write", K(NONE), 0, 0 }, { "text", K(NONE), 0, 0 },
	{ "message", K(NONE), 0, 0 }, { "email", K(NONE), 0, 0 },
	{ "demo", K(NONE), 0, 0 }, { "meeting", K(NONE), 0, 0 },
	{ "what", K(NONE), 0, 0 },
	{ "for", K(NONE), 0, 0 }, { "with", K(NONE), 0, 0 },
	{ "that", K(NONE), 0, 0 }, { "there", K(NONE), 0, 0 },
	{ "have", K(NONE), 0, 0 }, { "has", K(NONE), 0, 0 },
	{ "are", K(NONE), 0, 0 },
	{ "be", K(NONE), 0, 0 }, { "do", K(NONE), 0, 0 },
	{ "my", K(NONE), 0, 0 }, { "our", K(NONE), 0, 0 },
	{ "your", K(NONE), 0, 0 }, { "yes", K(NONE), 0, 0 },
	{ "no", K(NONE), 0, 0 }, { "again", K(NONE), 0, 0 },
	{ "soon", K(NONE), 0, 0 }, { "still", K(NONE), 0, 0 },
	{ "just", K(NONE), 0, 0 }, { "some", K(NONE), 0, 0 },
	{ "probably", K(NONE), 0, 0 }, { "right", K(NONE), 0, 0 },
	{ "how", K(NONE), 0, 0 }, { "so", K(NONE), 0, 0 },
	{ "mouse", K(NONE), 0, 0 }, { "house", K(NONE), 0, 0 },
	{ "match", K(NONE), 0, 0 }, { "monkey", K(NONE), 0, 0 },
	{ "среди", K(NONE), 0, 0 }, { "карта", K(NONE), 0, 0 },
	{ "марта", K(MONTH), 0, 3 }, { "неделей", K(UNIT), 0, U(WEEK) },
};

/*
 * The hash table.
 */

#define WMAX 32			/* longest word in the table, in letters */
#define NSLOT 2048		/* a power of two, over twice the entries */
#define NWORDS (sizeof words / sizeof words[0])

struct slot {
	uint8_t len;
	unsigned char w[WMAX];
	struct sl_tp_kw kw;
};

static struct slot table[NSLOT];
static int ready;
/* F_FUZZ entries by length. */
#define FUZZ_MAX 128
static uint16_t fuzz[FUZZ_MAX];
static int nfuzz;

static uint32_t
hash(const unsigned char *w, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

int
sl_tp_letter(const unsigned char *s, size_t n, unsigned char *out,
    size_t *used)
{
	unsigned c = s[0], d;

	if (c < 0x80) {
		if (c >= 'a' && c <= 'z') {
			*out = (unsigned char)c;
			*used = 1;
			return 1;
		}
		if (c >= 'A' && c <= 'Z') {
			*out = (unsigned char)(c + 32);
			*used = 1;
			return 3;
		}
		return 0;
	}
	if ((c != 0xd0 && c != 0xd1) || n < 2)
		return 0;
	d = s[1];
	if (d < 0x80 || d > 0xbf)
		return 0;
	*used = 2;
	if (c == 0xd0) {
		if (d >= 0x90 && d <= 0xaf) {		/* А-П, Р-Я */
			*out = (unsigned char)(0xe0 + d - 0x90);
			return 7;
		}
		if (d >= 0xb0) {			/* а-п */
			*out = (unsigned char)(0xe0 + d - 0xb0);
			return 5;
		}
		if (d == 0x81) {			/* Ё */
			*out = 0xe5;
			return 7;
		}
		*out = (unsigned char)(0x80 + (d & 0x3f));	/* Ѐ-Џ */
		return 7;
	}
	if (d <= 0x8f) {				/* р-я */
		*out = (unsigned char)(0xf0 + d - 0x80);
		return 5;
	}
	if (d == 0x91) {				/* ё */
		*out = 0xe5;
		return 5;
	}
	*out = (unsigned char)(0x80 + (d & 0x3f));	/* ѐ-џ */
	return 5;
}

/* A word of the table in normalised form; -1 if it does not fit. */
static int
norm(const char *s, unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used;
	int len = 0;

	while (n > 0) {
		if (sl_tp_letter(p, n, out + len, &used) == 0) {
			/* digits are kept as they are: 2day, 2moro */
			if (*p < '0' || *p > '9')
				return -1;
			out[len] = *p;
			used = 1;
		}
		if (++len >= WMAX)
			return -1;
		p += used;
		n -= used;
	}
	return len;
}

static struct slot *
find(const unsigned char *w, size_t n)
{
	uint32_t i = hash(w, n) & (NSLOT - 1);

	while (table[i].len) {
		if (table[i].len == n && memcmp(table[i].w, w, n) == 0)
			return &table[i];
		i = (i + 1) & (NSLOT - 1);
	}
	return NULL;
}

void
sl_tp_init(void)
{
	unsigned char w[WMAX];
	struct slot *s;
	size_t k;
	uint32_t i;
	int n;

	if (ready)
		return;
	for (k = 0; k < NWORDS; k++) {
		n = norm(words[k].w, w);
		if (n <= 0 || find(w, (size_t)n))
			continue;	// the first entry of a word wins
		i = hash(w, (size_t)n) & (NSLOT - 1);
		while (table[i].len)
			i = (i + 1) & (NSLOT - 1);
		s = &table[i];
		s->len = (uint8_t)n;
		memcpy(s->w, w, (size_t)n);
		s->kw.kind = words[k].kind;
		s->kw.flags = words[k].flags;
		s->kw.val = words[k].val;
		if ((s->kw.flags & SL_TP_F_FUZZ) && n >= 5 && nfuzz < FUZZ_MAX)
			fuzz[nfuzz++] = (uint16_t)i;
	}
	ready = 1;
}

const struct sl_tp_zone *
sl_tp_zone(int i)
{
	if (i < 0 || (size_t)i >= sizeof zones / sizeof zones[0])
		return NULL;
	return &zones[i];
}

/* 1 when a and b (lengths na, nb) differ by at most one edit. */
static int
near(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
	size_t i = 0, j;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	if (na == nb) {
		if (i == na)
			return 1;
		/* one substitution, or two neighbours swapped */
		if (i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		    memcmp(a + i + 2, b + i + 2, na - i - 2) == 0)
			return 1;
		return memcmp(a + i + 1, b + i + 1, na - i - 1) == 0;
	}
	if (na + 1 == nb) {
		for (j = i; j < na; j++)
			if (a[j] != b[j + 1])
				return 0;
		return 1;
	}
	if (nb + 1 == na) {
		for (j = i; j < nb; j++)
			if (a[j + 1] != b[j])
				return 0;
		return 1;
	}
	return 0;
}

int
sl_tp_lookup(const unsigned char *w, size_t n, struct sl_tp_kw *kw)
{
	const struct slot *s;
	size_t k;
	int i;

	if (n == 0 || n >= WMAX)
		return 0;
	if ((s = find(w, n))) {
		*kw = s->kw;
		return 1;
	}
	for (k = 1; k <= 4 && n - k >= 3; k++) {
		if ((s = find(w, n - k)) && (s->kw.flags & SL_TP_F_STEM)) {
			*kw = s->kw;
			return 1;
		}
	}
	if (n < 5)
		return 0;
	for (i = 0; i < nfuzz; i++) {
		s = &table[fuzz[i]];
		if ((size_t)s->len + 1 < n || s->len > n + 1 || s->w[0] != w[0])
			continue;
		if (near(w, n, s->w, s->len)) {
			*kw = s->kw;
			kw->flags &= (uint16_t)~SL_TP_F_STEM;
			return 1;
		}
	}
	return 0;
}
