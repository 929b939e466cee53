/*
 * rep.c: sales reps from the ledger's reps table, and their working hours
 * (rep.h).
 *
 * A row is read through the type-checked getters of jsonl.h, so a column
 * that an old migration or a hand-written UPDATE left with the wrong kind
 * makes the rep unusable with a message naming the column, never an
 * assertion in libjq.  Messages that name the rep live in one static
 * buffer: the next failing call overwrites them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "timeutil.h"

/* Index = struct sl_tm's wday; JSON lists them from Monday. */
static const char *const days[7] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };
static const int order[7] = { 1, 2, 3, 4, 5, 6, 0 };

static char errbuf[256];

/* The text columns, each copied to a char * of the struct (NULL: null). */
static const struct {
	const char *col;
	size_t off;
} str_cols[] = {
	{ "display_name", offsetof(struct sl_rep, display_name) },
	{ "email", offsetof(struct sl_rep, email) },
	{ "tg_user_id", offsetof(struct sl_rep, tg_user_id) },
	{ "bot", offsetof(struct sl_rep, bot) },
	{ "business_connection", offsetof(struct sl_rep, business_connection) },
	{ "calendar_error", offsetof(struct sl_rep, calendar_error) },
	{ "ics_path", offsetof(struct sl_rep, ics_path) },
	{ "zoom_user", offsetof(struct sl_rep, zoom_user) },
};

/* The integer columns and their defaults (the schema's; NULL cap: -1). */
static const struct {
	const char *col;
	size_t off;
	int def;
} int_cols[] = {
	{ "slot_min", offsetof(struct sl_rep, slot_min), 30 },
	{ "buffer_before_min", offsetof(struct sl_rep, buffer_before_min), 0 },
	{ "buffer_after_min", offsetof(struct sl_rep, buffer_after_min), 0 },
	{ "notice_min", offsetof(struct sl_rep, notice_min), 120 },
	{ "horizon_days", offsetof(struct sl_rep, horizon_days), 14 },
	{ "daily_cap", offsetof(struct sl_rep, daily_cap), -1 },
	{ "enabled", offsetof(struct sl_rep, enabled), 1 },
	{ "business_enabled", offsetof(struct sl_rep, business_enabled), 0 },
	{ "business_can_reply", offsetof(struct sl_rep, business_can_reply),
	    0 },
};

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

static int
bad(char *err, size_t errlen, const char *fmt, ...) SL_PRINTF(3, 4);

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* "9:00", "09:00", "24:00" as minutes after midnight, or -1. */
static int
hhmm(const char *s)
{
	int h = 0, m, i = 0;

	while (i < 2 && is_digit(s[i]))
		h = h * 10 + (s[i++] - '0');
	if (i == 0 || s[i] != ':' || !is_digit(s[i + 1]) ||
	    !is_digit(s[i + 2]) || s[i + 3] != '\0')
		return -1;
	m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static void
fmt_hhmm(int min, char buf[8])
{
	snprintf(buf, 8, "%02d:%02d", min / 60 % 100, min % 60);
}

static void
default_hours(struct sl_rep_hours *h)
{
	int d;

	memset(h, 0, sizeof *h);
	for (d = 1; d <= 5; d++) {
		h->iv[d][0].start = 9 * 60;
		h->iv[d][0].end = 18 * 60;
		h->n[d] = 1;
	}
}

/* One [start, end] pair (borrowed) of day into *iv; 0 or -1 with err. */
static int
parse_iv(jv pair, const char *day, struct sl_rep_iv *iv, char *err,
    size_t errlen)
{
	jv a, b;
	int rc = -1;

	if (jv_get_kind(pair) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(pair)) != 2)
		return bad(err, errlen, "'%s': expected [start, end] pairs "
		    "such as [\"09:00\",\"18:00\"]", day);
	a = jv_array_get(jv_copy(pair), 0);
	b = jv_array_get(jv_copy(pair), 1);
	if (jv_get_kind(a) != JV_KIND_STRING ||
	    jv_get_kind(b) != JV_KIND_STRING) {
		bad(err, errlen, "'%s': times are strings \"HH:MM\"", day);
		goto out;
	}
	if ((iv->start = hhmm(jv_string_value(a))) < 0 ||
	    (iv->end = hhmm(jv_string_value(b))) < 0) {
		bad(err, errlen, "'%s': '%.16s' is not a time (HH:MM)", day,
		    jv_string_value(iv->start < 0 ? a : b));
		goto out;
	}
	if (iv->start == 24 * 60)
		bad(err, errlen, "'%s': 24:00 can only end an interval", day);
	else if (iv->end < iv->start)
		bad(err, errlen, "'%s': end %s before start %s", day,
		    jv_string_value(b), jv_string_value(a));
	else if (iv->end == iv->start)
		bad(err, errlen, "'%s': empty interval %s-%s", day,
		    jv_string_value(a), jv_string_value(b));
	else
		rc = 0;
out:
	jv_free(a);
	jv_free(b);
	return rc;
}

/* The intervals of one day (borrowed list) into h; 0 or -1 with err. */
static int
parse_day(jv list, int d, struct sl_rep_hours *h, char *err, size_t errlen)
{
	struct sl_rep_iv *iv = h->iv[d], t;
	char a[8], b[8], c[8], e[8];
	int i, j, n;

	if (jv_get_kind(list) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return bad(err, errlen, "'%s': expected a list of [start, end] "
		    "pairs, not %s", days[d], sl_kind_name(list));
	n = jv_array_length(jv_copy(list));
	if (n > SL_REP_MAX_IV)
		return bad(err, errlen, "'%s': more than %d intervals",
		    days[d], SL_REP_MAX_IV);
	for (i = 0; i < n; i++) {
		jv pair = jv_array_get(jv_copy(list), i);
		int r = parse_iv(pair, days[d], &t, err, errlen);

		jv_free(pair);
		if (r < 0)
			return -1;
		for (j = i; j > 0 && iv[j - 1].start > t.start; j--)
			iv[j] = iv[j - 1];
		iv[j] = t;
	}
	h->n[d] = n;
	for (i = 1; i < n; i++) {
		if (iv[i].start >= iv[i - 1].end)
			continue;
		fmt_hhmm(iv[i - 1].start, a);
		fmt_hhmm(iv[i - 1].end, b);
		fmt_hhmm(iv[i].start, c);
		fmt_hhmm(iv[i].end, e);
		return bad(err, errlen, "'%s': %s-%s overlaps %s-%s", days[d],
		    a, b, c, e);
	}
	return 0;
}

/* The weekday index of a key, or -1. */
static int
day_index(const char *key)
{
	int d;

	for (d = 0; d < 7; d++)
		if (strcmp(key, days[d]) == 0)
			return d;
	return -1;
}

int
sl_rep_hours_parse(const char *json, struct sl_rep_hours *h, char *err,
    size_t errlen)
{
	jv v;
	int it, d, rc = -1;

	default_hours(h);
	if (json == NULL || *json == '\0')
		return 0;
	v = sl_parse(json, strlen(json));
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	memset(h, 0, sizeof *h);
	if (!jv_is_valid(v)) {
		bad(err, errlen, "not valid JSON");
		goto out;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		bad(err, errlen, "expected an object of weekdays such as "
		    "{\"mon\":[[\"09:00\",\"18:00\"]]}, not %s",
		    sl_kind_name(v));
		goto out;
	}
	for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		jv key = jv_object_iter_key(v, it);
		jv val = jv_object_iter_value(v, it);
		int r = 0;

		if ((d = day_index(jv_string_value(key))) < 0)
			r = bad(err, errlen, "'%.16s': not a weekday (mon, "
			    "tue, wed, thu, fri, sat, sun)",
			    jv_string_value(key));
		else
			r = parse_day(val, d, h, err, errlen);
		jv_free(key);
		jv_free(val);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	jv_free(v);
	if (rc < 0)
		memset(h, 0, sizeof *h);
	return rc;
}

jv
sl_rep_hours_json(const struct sl_rep_hours *h)
{
	char a[8], b[8];
	jv o = jv_object(), list;
	int i, k, d;

	for (k = 0; k < 7; k++) {
		d = order[k];
		if (h->n[d] == 0)
			continue;
		list = jv_array();
		for (i = 0; i < h->n[d] && i < SL_REP_MAX_IV; i++) {
			fmt_hhmm(h->iv[d][i].start, a);
			fmt_hhmm(h->iv[d][i].end, b);
			list = jv_array_append(list, JV_ARRAY(jv_string(a),
			    jv_string(b)));
		}
		o = jv_object_set(o, jv_string(days[d]), list);
	}
	return o;
}

char *
sl_rep_hours_format(const struct sl_rep_hours *h)
{
	jv o = sl_rep_hours_json(h);
	char *s = sl_json_dump(o, NULL);

	jv_free(o);
	return s;
}

int
sl_rep_name_ok(const char *name)
{
	size_t i;
	int digits = 1;

	for (i = 0; name[i]; i++) {
		if (!is_digit(name[i]))
			digits = 0;
		if (!(name[i] >= 'a' && name[i] <= 'z') && !is_digit(name[i]) &&
		    !strchr("_.-", name[i]))
			return 0;
	}
	return i >= 1 && i <= 64 && name[0] != '-' && !digits;
}

/* The row's calendar_ids text into rep; 0 or -1 with errbuf set. */
static int
calendar_ids(jv row, struct sl_rep *rep)
{
	const char *s = NULL;
	jv v;
	int i, n, r;

	if ((r = sl_get_str(row, "calendar_ids", &s)) == 0 || (r > 0 && !*s))
		return 0;
	v = r > 0 ? sl_parse(s, strlen(s)) : jv_invalid();
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);

			r = jv_get_kind(x) == JV_KIND_STRING;
			jv_free(x);
			if (!r)
				break;
		}
		if (i == n) {
			jv_free(rep->calendar_ids);
			rep->calendar_ids = v;
			return 0;
		}
	}
	jv_free(v);
	snprintf(errbuf, sizeof errbuf, "rep '%s': 'calendar_ids': expected "
	    "a JSON array of strings", rep->name);
	return -1;
}

/* The rep's zone and hours; 0 or -1 with errbuf set. */
static int
zone_and_hours(jv row, struct sl_rep *rep)
{
	const char *tz = NULL, *wh = NULL;
	char err[160];

	if (sl_get_str(row, "tz", &tz) < 0 || (tz && !*tz))
		tz = NULL;
	rep->tz_default = tz == NULL;
	if (tz == NULL)
		tz = sl_env("SALESLINE_TZ", "Asia/Makassar");
	if ((rep->zone = sl_zone_load(tz)) == NULL) {
		if (rep->tz_default)
			snprintf(errbuf, sizeof errbuf, "SALESLINE_TZ: unknown "
			    "time zone '%.64s'", tz);
		else
			snprintf(errbuf, sizeof errbuf, "rep '%s': unknown "
			    "time zone '%.64s'", rep->name, tz);
		return -1;
	}
	rep->tz = sl_strdup(sl_zone_name(rep->zone));
	if (sl_get_str(row, "working_hours", &wh) < 0) {
		snprintf(errbuf, sizeof errbuf, "rep '%s': 'working_hours': "
		    "expected text", rep->name);
		return -1;
	}
	rep->hours_default = wh == NULL || *wh == '\0';
	if (sl_rep_hours_parse(wh, &rep->hours, err, sizeof err) < 0) {
		snprintf(errbuf, sizeof errbuf, "rep '%s': working hours: %s",
		    rep->name, err);
		return -1;
	}
	return 0;
}

/* The text and integer columns; 0 or -1 with errbuf set. */
static int
columns(jv row, struct sl_rep *rep)
{
	const char *s;
	int64_t x;
	size_t i;

	for (i = 0; i < NELEM(str_cols); i++) {
		s = NULL;
		if (sl_get_str(row, str_cols[i].col, &s) < 0) {
			snprintf(errbuf, sizeof errbuf, "rep '%s': '%s': "
			    "expected text", rep->name, str_cols[i].col);
			return -1;
		}
		*(char **)(void *)((char *)rep + str_cols[i].off) =
		    s ? sl_strdup(s) : NULL;
	}
	for (i = 0; i < NELEM(int_cols); i++) {
		x = int_cols[i].def;
		if (sl_get_int(row, int_cols[i].col, &x) < 0 || x < -1 ||
		    x > 1000000) {
			snprintf(errbuf, sizeof errbuf, "rep '%s': '%s': "
			    "expected a number", rep->name, int_cols[i].col);
			return -1;
		}
		*(int *)(void *)((char *)rep + int_cols[i].off) = (int)x;
	}
	return 0;
}

struct sl_rep *
sl_rep_from_row(jv row, const char **err)
{
	struct sl_rep *rep;
	const char *name = NULL, *cs = NULL;

	*err = errbuf;
	if (jv_get_kind(row) != JV_KIND_OBJECT ||
	    sl_get_str(row, "name", &name) <= 0) {
		snprintf(errbuf, sizeof errbuf, "a reps row without a name");
		return NULL;
	}
	rep = sl_calloc(1, sizeof *rep);
	rep->name = sl_strdup(name);
	rep->calendar_ids = jv_array();
	sl_get_int(row, "id", &rep->id);
	sl_get_int(row, "created_at", &rep->created_at);
	sl_get_int(row, "updated_at", &rep->updated_at);
	if (sl_get_str(row, "calendar_status", &cs) < 0 || cs == NULL)
		cs = "none";
	rep->calendar_status = sl_strdup(cs);
	if (calendar_ids(row, rep) < 0 || columns(row, rep) < 0 ||
	    zone_and_hours(row, rep) < 0) {
		sl_rep_free(rep);
		return NULL;
	}
	*err = NULL;
	return rep;
}

struct sl_rep *
sl_rep_load(struct sl_db *db, const char *name, const char **err,
    int *temporary)
{
	struct sl_rep *rep;
	size_t i;
	jv row;

	if (temporary)
		*temporary = 0;
	for (i = 0; is_digit(name[i]); i++)
		;
	if (i > 0 && i <= 18 && name[i] == '\0')
		row = sl_db_query1(db, "SELECT * FROM reps WHERE id = $1",
		    JV_ARRAY(jv_number((double)strtoll(name, NULL, 10))));
	else
		row = sl_db_query1(db, "SELECT * FROM reps WHERE name = $1",
		    JV_ARRAY(jv_string(name)));
	if (!jv_is_valid(row)) {
		jv_free(row);
		*err = sl_db_error(db);
		if (temporary)
			*temporary = sl_db_temporary(db);
		return NULL;
	}
	if (jv_get_kind(row) == JV_KIND_NULL) {
		snprintf(errbuf, sizeof errbuf, "no rep '%.64s'", name);
		*err = errbuf;
		return NULL;
	}
	rep = sl_rep_from_row(row, err);
	jv_free(row);
	return rep;
}

void
sl_rep_free(struct sl_rep *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < NELEM(str_cols); i++)
		free(*(char **)(void *)((char *)rep + str_cols[i].off));
	free(rep->name);
	free(rep->tz);
	free(rep->calendar_status);
	jv_free(rep->calendar_ids);
	free(rep);
}

static jv
str_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}

static jv
time_or_null(int64_t t)
{
	char buf[SL_TIME_BUFSZ];

	return t > 0 && sl_time_fmt(t, buf) ? jv_string(buf) : jv_null();
}

jv
sl_rep_json(const struct sl_rep *rep)
{
	jv o = jv_object();

	o = sl_set(o, "type", jv_string("rep"));
	o = sl_set(o, "id", sl_id_jv(rep->id));
	o = sl_set(o, "name", jv_string(rep->name));
	o = sl_set(o, "display_name", str_or_null(rep->display_name));
	o = sl_set(o, "email", str_or_null(rep->email));
	o = sl_set(o, "tg_user_id", str_or_null(rep->tg_user_id));
	o = sl_set(o, "bot", str_or_null(rep->bot));
	o = sl_set(o, "business_connection",
	    str_or_null(rep->business_connection));
	o = sl_set(o, "business_enabled", jv_bool(rep->business_enabled));
	o = sl_set(o, "business_can_reply", jv_bool(rep->business_can_reply));
	o = sl_set(o, "tz", jv_string(rep->tz));
	o = sl_set(o, "tz_default", jv_bool(rep->tz_default));
	o = sl_set(o, "working_hours", sl_rep_hours_json(&rep->hours));
	o = sl_set(o, "hours_default", jv_bool(rep->hours_default));
	o = sl_set(o, "slot_min", jv_number(rep->slot_min));
	o = sl_set(o, "buffer_before_min", jv_number(rep->buffer_before_min));
	o = sl_set(o, "buffer_after_min", jv_number(rep->buffer_after_min));
	o = sl_set(o, "notice_min", jv_number(rep->notice_min));
	o = sl_set(o, "horizon_days", jv_number(rep->horizon_days));
	o = sl_set(o, "daily_cap", rep->daily_cap < 0 ? jv_null() :
	    jv_number(rep->daily_cap));
	o = sl_set(o, "calendar_status", jv_string(rep->calendar_status));
	o = sl_set(o, "calendar_error", str_or_null(rep->calendar_error));
	o = sl_set(o, "calendar_ids", jv_copy(rep->calendar_ids));
	o = sl_set(o, "ics_path", str_or_null(rep->ics_path));
	o = sl_set(o, "zoom_user", str_or_null(rep->zoom_user));
	o = sl_set(o, "enabled", jv_bool(rep->enabled));
	o = sl_set(o, "created_at", time_or_null(rep->created_at));
	o = sl_set(o, "updated_at", time_or_null(rep->updated_at));
	return o;
}
