/*
 * time-parse: finds the time in what a prospect wrote ("напишите через
 * неделю", "tomorrow after lunch", "в пятницу в 15:00 по мск").
 *
 * Reads {"text", "now"?, "tz"?} lines and writes each back with "at" (the
 * time in the rep's zone as local RFC 3339 with offset, or null), "match"
 * (the words understood, as written, or null), "lang" ("ru" or "en"), and
 * "zone" when the text named one.  Other fields pass through; "type" is
 * set to "time" when the record has none.  With TEXT arguments, prints one
 * such record for them instead.
 *
 * now is the record's, else --now, else $SALESLINE_NOW or the clock, read
 * per record so that a long-running pipe stays current.  tz is the
 * record's, else --tz, else $SALESLINE_TZ, else Asia/Makassar.  The
 * conventions (a bare day is 10:00, ...) live in lib/timeparse.c and
 * time-parse(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "sl.h"
#include "timeparse.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: time-parse [-v] [--now TIME] [--tz ZONE] [TEXT ...]\n"
    "       time-parse -h\n";

static const char *nowflag;
static const char *tzflag;

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "now", required_argument, NULL, 'N' },
		{ "tz", required_argument, NULL, 'z' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(SL_EX_OK);
		case 'N': nowflag = optarg; break;
		case 'z': tzflag = optarg; break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
}

/* RFC 3339 or Unix seconds, as SALESLINE_NOW is read; -1 when neither. */
static int
parse_now(const char *s, int64_t *t)
{
	char *end;
	long long v;

	if (sl_time_parse(s, t) == 0)
		return 0;
	if (*s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < SL_TIME_MIN || v > SL_TIME_MAX)
		return -1;
	*t = v;
	return 0;
}

/*
 * Adds at, match, lang (and zone) to rec for text (len bytes) said at now
 * in zone z; consumes rec.
 */
static jv
annotate(jv rec, const char *text, size_t len, int64_t now,
    const struct sl_zone *z)
{
	struct sl_tp_result res;
	char at[SL_TIME_BUFSZ], mbuf[512], *m = mbuf;
	size_t n;

	if (!jv_object_has(jv_copy(rec), jv_string("type")))
		rec = sl_set(rec, "type", jv_string("time"));
	if (sl_timeparse(text, len, now, z, &res) == 1 &&
	    sl_time_fmt_local(res.at, z, at)) {
		n = sl_timeparse_match(text, &res, mbuf, sizeof mbuf);
		if (n >= sizeof mbuf) {
			m = sl_malloc(n + 1);
			sl_timeparse_match(text, &res, m, n + 1);
		}
		rec = sl_set(rec, "at", jv_string(at));
		rec = sl_set(rec, "match", jv_string_sized(m, (int)n));
		if (m != mbuf)
			free(m);
	} else {
		rec = sl_set(rec, "at", jv_null());
		rec = sl_set(rec, "match", jv_null());
	}
	rec = sl_set(rec, "lang", jv_string(res.lang));
	if (res.found && res.zone_named)
		rec = sl_set(rec, "zone", jv_string(sl_zone_name(res.zone)));
	return rec;
}

struct defaults {
	const struct sl_zone *zone;
	int has_now;
	int64_t now;
};

static int
handle(struct sl_reader *r, jv rec, void *ctx)
{
	const struct defaults *d = ctx;
	const struct sl_zone *z = d->zone;
	const char *text, *tz;
	int64_t now;
	jv tv;
	int st;

	if ((st = sl_get_str(rec, "text", &text)) <= 0) {
		jv_free(rec);
		return sl_reader_reject(r, st == 0 ? "'text': missing" :
		    "'text': expected a string");
	}
	if ((st = sl_get_time(rec, "now", &now)) < 0 ||
	    (st == 1 && (now < SL_TIME_MIN || now > SL_TIME_MAX))) {
		jv_free(rec);
		return sl_reader_reject(r, "'now': expected RFC 3339 or "
		    "Unix seconds");
	}
	if (st == 0)
		now = d->has_now ? d->now : sl_now();
	if ((st = sl_get_str(rec, "tz", &tz)) < 0) {
		jv_free(rec);
		return sl_reader_reject(r, "'tz': expected a string");
	}
	if (st == 1 && !(z = sl_zone_load(tz))) {
		st = sl_reader_reject(r, "'tz': unknown time zone '%.64s'",
		    tz);
		jv_free(rec);
		return st;
	}
	/* the text's length, NUL bytes included (its kind was checked) */
	tv = jv_object_get(jv_copy(rec), jv_string("text"));
	rec = annotate(rec, jv_string_value(tv),
	    (size_t)jv_string_length_bytes(jv_copy(tv)), now, z);
	jv_free(tv);
	return sl_emit(rec);
}

/* The words of argv joined by spaces, as one record. */
static int
from_args(int argc, char **argv, const struct defaults *d)
{
	size_t len = 0, k;
	char *text;
	int i;
	jv rec;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	text = sl_malloc(len + 1);
	for (i = 0, k = 0; i < argc; i++) {
		if (i)
			text[k++] = ' ';
		memcpy(text + k, argv[i], strlen(argv[i]));
		k += strlen(argv[i]);
	}
	text[k] = '\0';
	rec = jv_object();
	rec = sl_set(rec, "type", jv_string("time"));
	rec = sl_set(rec, "text", jv_string_sized(text, (int)k));
	rec = annotate(rec, text, k, d->has_now ? d->now : sl_now(), d->zone);
	free(text);
	return sl_emit(rec) < 0 ? SL_EX_IOERR : SL_EX_OK;
}

int
main(int argc, char **argv)
{
	struct defaults d = { NULL, 0, 0 };
	const char *tz;
	int st;

	sl_init("time-parse");
	options(argc, argv);
	if (nowflag) {
		if (parse_now(nowflag, &d.now) < 0) {
			sl_error("--now: expected RFC 3339 or Unix seconds, "
			    "not '%.64s'", nowflag);
			usage(SL_EX_USAGE);
		}
		d.has_now = 1;
	} else {
		(void)sl_now();		/* a bad SALESLINE_NOW exits 78 */
	}
	if (tzflag) {
		if (!(d.zone = sl_zone_load(tzflag))) {
			sl_error("--tz: unknown time zone '%.64s'", tzflag);
			usage(SL_EX_USAGE);
		}
	} else {
		tz = sl_env("SALESLINE_TZ", "Asia/Makassar");
		if (!(d.zone = sl_zone_load(tz)))
			sl_die(SL_EX_CONFIG, "SALESLINE_TZ: unknown time zone "
			    "'%.64s'", tz);
	}
	if (optind < argc)
		st = from_args(argc - optind, argv + optind, &d);
	else
		st = sl_jsonl_loop(stdin, "stdin", handle, &d);
	if (sl_out_close() != 0 && st == SL_EX_OK)
		st = SL_EX_IOERR;
	sl_zone_free_all();
	return st;
}
