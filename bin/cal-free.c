/*
 * cal-free: the free meeting slots in a rep's calendar.
 *
 * Reads {"rep", "from"?, "days"?, "duration"?, "limit"?, "prospect"?,
 * "tz"?} lines (or takes one query from the arguments: cal-free anna) and
 * writes one slot record per free slot, chronologically:
 *
 *	{"type":"slot","rep":"anna","start":"...Z","end":"...Z",
 *	 "duration":30,"local":"Tue 1 Dec 10:00-10:30 WITA",
 *	 "local_ru":"вт 1 декабря 10:00-10:30 WITA",
 *	 "prospect_local"?:..., "sources":["hours","bookings","ics","google"]}
 *
 * Other fields of the query pass through into every slot, so a prospect
 * or chat carried in reaches zoom-book.  Free is the rep's working hours
 * minus busy time from every source (lib/busy.h), with buffers, notice,
 * horizon and the daily cap applied (lib/slots.h).  A source that could
 * not be read is left out of "sources" and said on stderr; nothing free
 * is an empty answer and exit 0.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busy.h"
#include "db.h"
#include "google.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "slots.h"
#include "timeutil.h"

static const char usage_text[] =
    "usage: cal-free [-v] [--db URL] [--rep NAME] [--from TIME] "
    "[--days N] [--duration MIN]\n"
    "                [--limit N] [REP]\n"
    "       cal-free -h\n";

#define DAY INT64_C(86400)

static const char *dbflag, *repflag, *fromflag;
static long daysflag, durationflag, limitflag;

struct ctx {
	struct sl_db *db;
	struct sl_google *g;
};

static SL_NORETURN void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

static long
number(const char *opt, const char *s, long min, long max)
{
	double v;

	if (sl_option_number(opt, s, (double)min, (double)max, 1, &v) < 0)
		usage(SL_EX_USAGE);
	return (long)v;
}

static void
options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "days", required_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "limit", required_argument, NULL, 'l' },
		{ "rep", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t t;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dbflag = optarg; break;
		case 'D': daysflag = number("--days", optarg, 1, 366); break;
		case 'm':
			durationflag = number("--duration", optarg, 5, 720);
			break;
		case 'f':
			if (sl_time_parse(optarg, &t) < 0) {
				sl_error("--from: expected an RFC 3339 time, "
				    "not '%.64s'", optarg);
				usage(SL_EX_USAGE);
			}
			fromflag = optarg;
			break;
		case 'h': usage(SL_EX_OK);
		case 'l': limitflag = number("--limit", optarg, 0, 100000); break;
		case 'r': repflag = optarg; break;
		case 'v': sl_verbose = 1; break;
		default:
			sl_option_error(c, argv);
			usage(SL_EX_USAGE);
		}
	}
}

/* An integer field in [min, max]: 1, 0 when absent, -1 (rejected). */
static int
get_num(struct sl_reader *r, jv rec, const char *key, long min, long max,
    long *out)
{
	int64_t v;
	int st;

	if ((st = sl_get_int(rec, key, &v)) < 0 ||
	    (st == 1 && (v < min || v > max)))
		return sl_reader_reject(r, "'%s': expected a whole number "
		    "from %ld to %ld", key, min, max);
	if (st == 1)
		*out = (long)v;
	return st;
}

/* The prospect's zone from the ledger, or NULL. */
static const struct sl_zone *
prospect_zone(struct sl_db *db, jv rec)
{
	const struct sl_zone *z = NULL;
	const char *tz;
	jv id, row;

	if (sl_get_str(rec, "tz", &tz) == 1)
		return sl_zone_load(tz);
	if (sl_get_id(rec, "prospect", &id) != 1)
		return NULL;
	row = sl_db_query1(db, "SELECT tz FROM prospects WHERE "
	    "CAST(id AS TEXT) = $1", JV_ARRAY(id));
	if (jv_get_kind(row) == JV_KIND_OBJECT &&
	    sl_get_str(row, "tz", &tz) == 1)
		z = sl_zone_load(tz);
	jv_free(row);
	return z;
}

/* The query's own fields, which do not pass through into the slots. */
static jv
passthrough(jv rec)
{
	static const char *const own[] = { "type", "rep", "from", "days",
		"duration", "limit", "tz" };
	size_t i;

	for (i = 0; i < sizeof own / sizeof own[0]; i++)
		rec = jv_object_delete(rec, jv_string(own[i]));
	return rec;
}

/* Writes the slots, each base (consumed) with its fields and sources. */
static int
emit_slots(const struct sl_rep *rep,
    const struct sl_iv *s, size_t n, int duration, jv base, jv sources,
    const struct sl_zone *pz)
{
	char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ], *t;
	size_t i;
	jv slot;

	for (i = 0; i < n; i++) {
		slot = jv_copy(base);
		slot = sl_set(slot, "type", jv_string("slot"));
		slot = sl_set(slot, "rep", jv_string(rep->name));
		slot = sl_set(slot, "start", jv_string(sl_time_fmt(s[i].start,
		    a)));
		slot = sl_set(slot, "end", jv_string(sl_time_fmt(s[i].end, b)));
		slot = sl_set(slot, "duration", jv_number(duration));
		t = sl_slot_text(s[i].start, s[i].end, rep->zone, "en");
		slot = sl_set(slot, "local", jv_string(t));
		free(t);
		t = sl_slot_text(s[i].start, s[i].end, rep->zone, "ru");
		slot = sl_set(slot, "local_ru", jv_string(t));
		free(t);
		if (pz != NULL) {
			t = sl_slot_text(s[i].start, s[i].end, pz, "en");
			slot = sl_set(slot, "prospect_local", jv_string(t));
			free(t);
		}
		slot = sl_set(slot, "sources", jv_copy(sources));
		if (sl_emit(slot) < 0) {
			jv_free(base);
			return SL_EX_IOERR;
		}
	}
	jv_free(base);
	return 0;
}

static int
query(struct sl_reader *r, struct ctx *c, jv rec)
{
	const struct sl_zone *pz;
	struct sl_slot_query q;
	struct sl_busy b;
	struct sl_rep *rep = NULL;
	struct sl_iv *slots = NULL;
	const char *name, *err;
	long days = daysflag, duration = durationflag, limit = limitflag;
	int64_t now = sl_now(), from, to, t;
	size_t n = 0, i;
	jv idv, w, sources;
	int st, temporary = 0, rc = 0;

	memset(&b, 0, sizeof b);
	b.warnings = jv_null();
	if ((st = sl_get_str(rec, "rep", &name)) < 0) {
		if (sl_get_id(rec, "rep", &idv) == 1) {
			name = NULL;
			rep = sl_rep_load(c->db, jv_string_value(idv), &err,
			    &temporary);
			jv_free(idv);
			st = 2;
		} else {
			rc = sl_reader_reject(r, "'rep': expected a name");
			goto out;
		}
	} else if (st == 0) {
		if (repflag == NULL) {
			rc = sl_reader_reject(r, "'rep': missing");
			goto out;
		}
		name = repflag;
	}
	if ((st = sl_get_time(rec, "from", &from)) < 0) {
		rc = sl_reader_reject(r, "'from': expected an RFC 3339 time");
		goto out;
	}
	if (st == 0 && (fromflag == NULL || sl_time_parse(fromflag,
	    &from) < 0))
		from = now;
	if (get_num(r, rec, "days", 1, 366, &days) < 0 ||
	    get_num(r, rec, "duration", 5, 720, &duration) < 0 ||
	    get_num(r, rec, "limit", 0, 100000, &limit) < 0) {
		rc = -1;
		goto out;
	}
	if (rep == NULL && name != NULL)
		rep = sl_rep_load(c->db, name, &err, &temporary);
	if (rep == NULL) {
		if (err == sl_db_error(c->db)) {
			sl_error("%s", err);
			rc = sl_db_exit_code(c->db);
			goto out;
		}
		rc = sl_reader_reject(r, "'rep': %s", err);
		goto out;
	}
	if (!rep->enabled) {
		rc = sl_reader_reject(r, "'rep': rep '%s' is disabled",
		    rep->name);
		goto out;
	}
	if (from < now)
		from = now;
	if (days == 0)
		days = rep->horizon_days;
	to = from + days * DAY;
	t = now + (int64_t)rep->horizon_days * DAY;
	if (to > t)
		to = t;
	if (to < from)
		to = from;
	if (sl_busy_gather(c->db, c->g, rep, from, to, now, 0, 0, &b) < 0) {
		sl_error("%s", sl_db_error(c->db));
		rc = sl_db_exit_code(c->db);
		goto out;
	}
	for (i = 0; i < (size_t)jv_array_length(jv_copy(b.warnings)); i++) {
		w = jv_array_get(jv_copy(b.warnings), (int)i);
		sl_warn("stdin:%lu: %s", sl_reader_lineno(r),
		    jv_string_value(w));
		jv_free(w);
	}
	sl_busy_query(&q, rep, &b, now, (int)duration);
	q.from = from;
	q.to = to;
	q.limit = (size_t)limit;
	if (sl_slots_free(&q, &slots, &n) < 0) {
		rc = sl_reader_reject(r, "no slots can be computed for rep "
		    "'%s'", rep->name);
		goto out;
	}
	pz = prospect_zone(c->db, rec);
	sources = sl_busy_sources(&b);
	rc = emit_slots(rep, slots, n, q.duration_min, passthrough(
	    jv_copy(rec)), sources, pz);
	jv_free(sources);
out:
	free(slots);
	sl_busy_free(&b);
	sl_rep_free(rep);
	jv_free(rec);
	return rc;
}

static int
handle(struct sl_reader *r, jv rec, void *ctx)
{
	return query(r, ctx, rec);
}

int
main(int argc, char **argv)
{
	struct ctx c;
	struct sl_reader *r;
	jv rec;
	int st;

	sl_init("cal-free");
	options(argc, argv);
	if (optind + 1 < argc)
		usage(SL_EX_USAGE);
	(void)sl_now();		/* a bad SALESLINE_NOW exits 78 */
	c.g = sl_google_open();
	c.db = sl_db_open_or_die(sl_db_url(dbflag), NULL, 1);
	if (optind < argc) {
		/* one query from the arguments */
		rec = JV_OBJECT(jv_string("rep"), jv_string(argv[optind]));
		r = sl_reader_new(stdin, "arguments");
		st = query(r, &c, rec);
		if (st == -1)
			st = SL_EX_REJECT;
		sl_reader_free(r);
	} else {
		st = sl_jsonl_loop(stdin, "stdin", handle, &c);
	}
	if (sl_out_close() != 0 && st == SL_EX_OK)
		st = SL_EX_IOERR;
	sl_db_close(c.db);
	sl_google_close(c.g);
	sl_http_cleanup();
	sl_zone_free_all();
	return st;
}
