/*
 * timeparse.h: times written by people, in Russian and English, as an
 * instant: "напишите через неделю", "tomorrow after lunch", "в пятницу в
 * 15:00 по мск", "mid December".
 *
 * The parser is a hand-written tokenizer over UTF-8 and small keyword
 * tables; it allocates nothing per call and takes well under a
 * microsecond for a chat message.  Calendar arithmetic happens on the
 * civil date in a zone and is converted with sl_from_local, so "tomorrow
 * at 10" is 10:00 on the wall clock across a DST change.  The conventions
 * (a bare day is 10:00, "at 3" is 15:00, ...) are listed in time-parse(1).
 */
#ifndef SL_TIMEPARSE_H
#define SL_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "timeutil.h"

/* Only the first SL_TP_SCAN_MAX bytes of a text are read. */
#define SL_TP_SCAN_MAX 8192
/* ... and at most this many words, numbers and signs of them. */
#define SL_TP_TOKENS_MAX 2048
#define SL_TP_SPANS 8

/* A part of the text that was understood: bytes [off, off + len). */
struct sl_tp_span {
	size_t off, len;
};

struct sl_tp_result {
	int found;		/* 1 when the text holds a time */
	int64_t at;		/* Unix seconds, when found */
	const char *lang;	/* "ru" or "en" */
	/*
	 * The zone the text's civil time was read in: the one it named
	 * ("по мск", "3pm EST"; zone_named is 1) or the caller's.
	 */
	const struct sl_zone *zone;
	int zone_named;
	int nspans;		/* spans of the words understood, in order */
	struct sl_tp_span span[SL_TP_SPANS];
};

/*
 * Reads the first time in text (len bytes, any bytes at all) said at
 * instant now by someone in zone z.  Returns 1 and fills res when a time
 * was found, 0 when there is none (res->found is 0, lang and zone are
 * still set), -1 when z is NULL or now is out of range.  Not thread-safe
 * on the first call, which builds the keyword tables.
 */
int sl_timeparse(const char *text, size_t len, int64_t now,
    const struct sl_zone *z, struct sl_tp_result *res);

/*
 * The words understood, as written: the spans of res joined, with what
 * lay between two spans kept when it was only spaces and punctuation, and
 * one space otherwise.  Writes at most size - 1 bytes and a NUL to buf;
 * returns the length of the whole match (as snprintf does), 0 when none.
 */
size_t sl_timeparse_match(const char *text, const struct sl_tp_result *res,
    char *buf, size_t size);

/*
 * Internal: shared by lib/timeparse.c and lib/timeparse_words.c.
 */

/* Word kinds. */
enum {
	SL_TP_K_UNKNOWN,
	SL_TP_K_NONE,		/* a known word with no meaning here */
	SL_TP_K_V,		/* в, во */
	SL_TP_K_NA,		/* на */
	SL_TP_K_K,		/* к, ко, by */
	SL_TP_K_S,		/* с, со, from */
	SL_TP_K_DO,		/* до, to, till, until */
	SL_TP_K_PO,		/* по */
	SL_TP_K_AT,		/* at */
	SL_TP_K_ON,		/* on */
	SL_TP_K_IN,		/* in, within */
	SL_TP_K_THROUGH,	/* через; спустя (val 1: also after) */
	SL_TP_K_AFTER,		/* после, after */
	SL_TP_K_BEFORE,		/* перед, before */
	SL_TP_K_ABOUT,		/* около, примерно, around, about */
	SL_TP_K_NEXT,		/* следующий, next */
	SL_TP_K_THIS,		/* этот, ближайший, this */
	SL_TP_K_LAST,		/* прошлый, last, past */
	SL_TP_K_AGO,		/* назад, ago */
	SL_TP_K_YESTERDAY,
	SL_TP_K_TODAY,		/* val 1: tonight */
	SL_TP_K_TOMORROW,
	SL_TP_K_DAYAFTER,	/* послезавтра */
	SL_TP_K_WDAY,		/* val 0 Sunday .. 6 Saturday */
	SL_TP_K_MONTH,		/* val 1..12 */
	SL_TP_K_UNIT,		/* val SL_TP_U_* */
	SL_TP_K_NUMW,		/* a number word, val in tenths */
	SL_TP_K_ORDH,		/* (половина) четвёртого: val 4 */
	SL_TP_K_HALFORD,	/* полчетвёртого: val 4 */
	SL_TP_K_HALF,		/* половина, пол, half */
	SL_TP_K_QUARTER,	/* четверть, quarter */
	SL_TP_K_WITHOUT,	/* без */
	SL_TP_K_PART,		/* part of the day, val SL_TP_P_* */
	SL_TP_K_AMPM,		/* val 0 am, 1 pm */
	SL_TP_K_OCLOCK,
	SL_TP_K_PPART,		/* начало, середина, конец: val SL_TP_PP_* */
	SL_TP_K_WEEKEND,
	SL_TP_K_DATESFX,	/* -го, числа, th */
	SL_TP_K_FROMNOW,	/* later */
	SL_TP_K_NOW,
	SL_TP_K_ZONE,		/* val: index of the zone table */
	SL_TP_K_TIMEWORD,	/* время, времени, time */
	SL_TP_K_NOT,
	SL_TP_K_OR,
	SL_TP_K_IF,
	SL_TP_K_OTHERWISE,
	SL_TP_K_AND,
	SL_TP_K_BETWEEN,
	SL_TP_K_EVERY,
	SL_TP_K_COUNT,		/* лицензии, users: the number is no time */
	SL_TP_K_VERSION,
	SL_TP_K_GOOD,		/* добрый (вечер), good (morning) */
	SL_TP_K_FILLER,		/* the, of */
	SL_TP_K_DAYHALF,	/* первой (половине дня): val 1 or 2 */
	SL_TP_K_EOX,		/* EOD, EOW, EOM: val SL_TP_U_DAY/WEEK/MONTH */
	SL_TP_K_FIRST,		/* first (thing) */
	SL_TP_K_PREFER,		/* лучше, better: what follows stays */
};

/* Keyword flags. */
enum {
	SL_TP_F_STEM = 1 << 0,	/* also matches the word with an ending */
	SL_TP_F_FUZZ = 1 << 1,	/* also matches with one typo */
	SL_TP_F_WEAK = 1 << 2,	/* means a time only next to one */
	SL_TP_F_AM = 1 << 3,	/* after a clock: утра, am */
	SL_TP_F_PM = 1 << 4,	/* after a clock: дня, вечера, pm */
	SL_TP_F_NIGHT = 1 << 5,	/* after a clock: ночи */
	SL_TP_F_LOC = 1 << 6,	/* на неделе, в месяце: a period */
	SL_TP_F_SUFFIX = 1 << 7,	/* may follow a number unspaced */
	SL_TP_F_PLURAL = 1 << 8,	/* mondays: a habit, not a day */
	SL_TP_F_OKAFTER = 1 << 9,	/* may follow "at 3" */
	SL_TP_F_NEEDCTX = 1 << 10,	/* a zone only after по or before time */
};

/* Units. */
enum {
	SL_TP_U_SEC = 1, SL_TP_U_MIN, SL_TP_U_HOUR, SL_TP_U_HALFHOUR,
	SL_TP_U_DAY, SL_TP_U_DAY24, SL_TP_U_WEEK, SL_TP_U_FORTNIGHT,
	SL_TP_U_MONTH, SL_TP_U_QUARTER, SL_TP_U_HALFYEAR, SL_TP_U_YEAR,
};

/* Parts of the day. */
enum {
	SL_TP_P_MORNING = 1, SL_TP_P_EARLY, SL_TP_P_NOON, SL_TP_P_LUNCH,
	SL_TP_P_BEFORELUNCH, SL_TP_P_AFTERLUNCH, SL_TP_P_AFTERNOON,
	SL_TP_P_EOD, SL_TP_P_EVENING, SL_TP_P_NIGHT, SL_TP_P_MIDNIGHT,
};

/* Parts of a period. */
enum { SL_TP_PP_START = 1, SL_TP_PP_MID, SL_TP_PP_END };

struct sl_tp_kw {
	uint8_t kind;
	uint16_t flags;
	int16_t val;
};

/* Zones a text may name. */
struct sl_tp_zone {
	const char *name;	/* for sl_zone_load */
	int16_t base;		/* minutes east of UTC for "UTC+3", "мск+1" */
	uint8_t fixed;		/* 1 when "+N" may follow */
};

/*
 * Looks up a word normalised by sl_tp_norm: exactly, then with an ending
 * of up to four letters cut off (F_STEM entries), then with one typo
 * (F_FUZZ entries, words of five letters or more).  Returns 1 and fills
 * kw when found.
 */
int sl_tp_lookup(const unsigned char *w, size_t n, struct sl_tp_kw *kw);
/* Builds the tables; idempotent.  Called by sl_timeparse. */
void sl_tp_init(void);
const struct sl_tp_zone *sl_tp_zone(int i);

/*
 * Word normalisation: one byte per letter, ASCII letters in lower case,
 * Cyrillic а-я as 0xe0-0xff (ё as е), other Cyrillic letters in 0x80-0xbf.
 */
int sl_tp_letter(const unsigned char *s, size_t n, unsigned char *out,
    size_t *used);

#endif
