/*
 * tests/unit/rep.c: lib/rep.c: working hours in and out, reps rows into
 * struct sl_rep (zones, defaults, broken columns), sl_rep_json, and
 * sl_rep_load on a scratch SQLite ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "tap.h"
#include "timeutil.h"

/* Compact sorted JSON of v (consumed), in a static buffer. */
static const char *
dump(jv v)
{
	static char buf[4096];
	jv s = jv_dump_string(v, JV_PRINT_SORTED);

	snprintf(buf, sizeof buf, "%s", jv_string_value(s));
	jv_free(s);
	return buf;
}

/* Parses in and checks the canonical text (or the error) against want. */
static void
hours_is(const char *in, const char *want, const char *name)
{
	struct sl_rep_hours h;
	char err[160];
	char *s;

	err[0] = '\0';
	if (sl_rep_hours_parse(in, &h, err, sizeof err) < 0) {
		is_str(err, want, name);
		return;
	}
	s = sl_rep_hours_format(&h);
	is_str(s, want, name);
	free(s);
}

static void
hours(void)
{
	static const char mf[] = "{\"mon\":[[\"09:00\",\"18:00\"]],"
	    "\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\",\"18:00\"]],"
	    "\"thu\":[[\"09:00\",\"18:00\"]],\"fri\":[[\"09:00\",\"18:00\"]]}";
	struct sl_rep_hours h;
	char err[160], *s;
	int i;

	hours_is(NULL, mf, "NULL is Monday to Friday, 9 to 18");
	hours_is("", mf, "\"\" is the default too");
	hours_is("null", mf, "JSON null is the default too");
	hours_is("{}", "{}", "{} works no day");
	hours_is("{\"sun\":[[\"10:00\",\"14:00\"]],\"mon\":[]}",
	    "{\"sun\":[[\"10:00\",\"14:00\"]]}", "[] is a day off; one day");
	hours_is("{\"fri\":[[\"14:00\",\"18:00\"],[\"9:00\",\"13:00\"]],"
	    "\"mon\":[[\"00:00\",\"24:00\"]],\"sat\":null}",
	    "{\"mon\":[[\"00:00\",\"24:00\"]],\"fri\":[[\"09:00\",\"13:00\"],"
	    "[\"14:00\",\"18:00\"]]}",
	    "sorted, Monday first, 24:00 as an end, 9:00 read as 09:00");
	hours_is("{\"tue\":[[\"09:00\",\"13:00\"],[\"13:00\",\"18:00\"]]}",
	    "{\"tue\":[[\"09:00\",\"13:00\"],[\"13:00\",\"18:00\"]]}",
	    "intervals that touch do not overlap");

	hours_is("{\"tue\":[[\"09:00\",\"08:00\"]]}",
	    "'tue': end 08:00 before start 09:00", "end before start");
	hours_is("{\"wed\":[[\"09:00\",\"09:00\"]]}",
	    "'wed': empty interval 09:00-09:00", "empty interval");
	hours_is("{\"thu\":[[\"12:00\",\"18:00\"],[\"09:00\",\"13:00\"]]}",
	    "'thu': 09:00-13:00 overlaps 12:00-18:00", "overlap, named sorted");
	hours_is("{\"mon\":[[\"24:00\",\"24:00\"]]}",
	    "'mon': 24:00 can only end an interval", "24:00 as a start");
	hours_is("{\"mon\":[[\"09:00\",\"24:30\"]]}",
	    "'mon': '24:30' is not a time (HH:MM)", "24:30");
	hours_is("{\"mon\":[[\"9am\",\"18:00\"]]}",
	    "'mon': '9am' is not a time (HH:MM)", "9am");
	hours_is("{\"mon\":[[\"09:60\",\"18:00\"]]}",
	    "'mon': '09:60' is not a time (HH:MM)", "minute 60");
	hours_is("{\"mon\":[[\"123:00\",\"18:00\"]]}",
	    "'mon': '123:00' is not a time (HH:MM)", "three digits");
	hours_is("{\"mon\":[[\"09:00\",\"18:00:00\"]]}",
	    "'mon': '18:00:00' is not a time (HH:MM)", "seconds");
	hours_is("{\"mon\":[[9,18]]}", "'mon': times are strings \"HH:MM\"",
	    "numbers");
	hours_is("{\"mon\":[[\"09:00\"]]}",
	    "'mon': expected [start, end] pairs such as [\"09:00\",\"18:00\"]",
	    "a pair of one");
	hours_is("{\"mon\":\"09:00-18:00\"}",
	    "'mon': expected a list of [start, end] pairs, not a string",
	    "a string for a day");
	hours_is("{\"monday\":[]}",
	    "'monday': not a weekday (mon, tue, wed, thu, fri, sat, sun)",
	    "an unknown day");
	hours_is("[]", "expected an object of weekdays such as "
	    "{\"mon\":[[\"09:00\",\"18:00\"]]}, not an array", "an array");
	hours_is("{\"mon\":", "not valid JSON", "not JSON");
	hours_is("{} {}", "not valid JSON", "two values");

	s = sl_asprintf("{\"sat\":[%s]}", "[\"00:00\",\"01:00\"],"
	    "[\"02:00\",\"03:00\"],[\"04:00\",\"05:00\"],[\"06:00\",\"07:00\"],"
	    "[\"08:00\",\"09:00\"],[\"10:00\",\"11:00\"],[\"12:00\",\"13:00\"],"
	    "[\"14:00\",\"15:00\"]");
	ok(sl_rep_hours_parse(s, &h, err, sizeof err) == 0 && h.n[6] == 8 &&
	    h.iv[6][7].start == 14 * 60 && h.iv[6][7].end == 15 * 60,
	    "%d intervals a day are fine", SL_REP_MAX_IV);
	free(s);
	s = sl_asprintf("{\"sat\":[%s,[\"16:00\",\"17:00\"]]}",
	    "[\"00:00\",\"01:00\"],[\"02:00\",\"03:00\"],[\"04:00\",\"05:00\"],"
	    "[\"06:00\",\"07:00\"],[\"08:00\",\"09:00\"],[\"10:00\",\"11:00\"],"
	    "[\"12:00\",\"13:00\"],[\"14:00\",\"15:00\"]");
	hours_is(s, "'sat': more than 8 intervals", "nine are not");
	free(s);

	ok(sl_rep_hours_parse("{\"sun\":[[\"10:00\",\"24:00\"]]}", &h, err,
	    sizeof err) == 0 && h.n[0] == 1 && h.iv[0][0].start == 600 &&
	    h.iv[0][0].end == 1440,
	    "index 0 is Sunday, minutes after midnight");
	for (i = 1; i < 7; i++)
		if (h.n[i] != 0)
			break;
	is_int(i, 7, "the other days are off");
	is_int(sl_rep_hours_parse("{\"mon\":[[\"09:00\",\"08:00\"]]}", &h,
	    err, sizeof err), -1, "a failed parse returns -1");
	is_int(h.n[1], 0, "and leaves no hours behind");
}

static void
names(void)
{
	static const char *const good[] = { "anna", "a", "tg12345", "anna.b",
		"team_2-east", "0x", "1.", "_" };
	static const char *const bad[] = { "", "Anna", "anna b", "-anna",
		"42", "анна", "anna/../x", "a'b" };
	char longest[66];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(sl_rep_name_ok(good[i]), "'%s' is a name", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(!sl_rep_name_ok(bad[i]), "'%s' is not a name", bad[i]);
	memset(longest, 'a', 64);
	longest[64] = '\0';
	ok(sl_rep_name_ok(longest), "64 letters are a name");
	longest[64] = 'a';
	longest[65] = '\0';
	ok(!sl_rep_name_ok(longest), "65 are not");
}

/* A reps row as the ledger gives it, with column col replaced by v. */
static jv
row_with(const char *col, jv v)
{
	jv row = jv_object();

	row = sl_set(row, "id", jv_number(7));
	row = sl_set(row, "name", jv_string("anna"));
	row = sl_set(row, "display_name", jv_string("Anna Petrova"));
	row = sl_set(row, "email", jv_string("anna@example.com"));
	row = sl_set(row, "tg_user_id", jv_string("5550001"));
	row = sl_set(row, "bot", jv_null());
	row = sl_set(row, "business_connection", jv_string("bc-1"));
	row = sl_set(row, "business_enabled", jv_number(1));
	row = sl_set(row, "business_can_reply", jv_number(0));
	row = sl_set(row, "tz", jv_string("Europe/Moscow"));
	row = sl_set(row, "working_hours", jv_null());
	row = sl_set(row, "slot_min", jv_number(45));
	row = sl_set(row, "buffer_before_min", jv_number(5));
	row = sl_set(row, "buffer_after_min", jv_number(10));
	row = sl_set(row, "notice_min", jv_number(60));
	row = sl_set(row, "horizon_days", jv_number(21));
	row = sl_set(row, "daily_cap", jv_null());
	row = sl_set(row, "calendar_status", jv_string("connected"));
	row = sl_set(row, "calendar_ids",
	    jv_string("[\"primary\",\"team@group.calendar.google.com\"]"));
	row = sl_set(row, "calendar_error", jv_null());
	row = sl_set(row, "ics_path", jv_null());
	row = sl_set(row, "zoom_user", jv_string("anna@example.com"));
	row = sl_set(row, "enabled", jv_number(1));
	row = sl_set(row, "created_at", jv_number(1795000000));
	row = sl_set(row, "updated_at", jv_number(1795000060));
	return col ? sl_set(row, col, v) : (jv_free(v), row);
}

/* The error of sl_rep_from_row for a row with col set to v. */
static void
row_err(const char *col, jv v, const char *want)
{
	const char *err = NULL;
	jv row = row_with(col, v);
	struct sl_rep *rep = sl_rep_from_row(row, &err);

	jv_free(row);
	if (!ok(rep == NULL && err && strcmp(err, want) == 0,
	    "row with bad '%s': %s", col, want))
		diag("got '%s'", err ? err : "(a rep)");
	sl_rep_free(rep);
}

static void
rows(void)
{
	const char *err = "x";
	struct sl_rep *rep;
	jv row, j;

	row = row_with(NULL, jv_null());
	rep = sl_rep_from_row(row, &err);
	jv_free(row);
	if (!ok(rep != NULL && err == NULL, "a full row"))
		return;
	is_int(rep->id, 7, "id");
	is_str(rep->name, "anna", "name");
	is_str(rep->tz, "Europe/Moscow", "tz");
	ok(rep->zone != NULL && !rep->tz_default, "its zone is loaded");
	ok(rep->hours_default && rep->hours.n[1] == 1 && rep->hours.n[6] == 0,
	    "NULL hours: the default");
	is_int(rep->slot_min, 45, "slot_min");
	is_int(rep->daily_cap, -1, "NULL daily_cap is -1");
	is_int(rep->business_enabled, 1, "business_enabled");
	ok(rep->bot == NULL && rep->ics_path == NULL, "NULL text is NULL");
	is_int(jv_array_length(jv_copy(rep->calendar_ids)), 2,
	    "calendar_ids parsed");
	j = sl_rep_json(rep);
	is_str(dump(j), "{\"bot\":null,\"buffer_after_min\":10,"
	    "\"buffer_before_min\":5,\"business_can_reply\":false,"
	    "\"business_connection\":\"bc-1\",\"business_enabled\":true,"
	    "\"calendar_error\":null,\"calendar_ids\":[\"primary\","
	    "\"team@group.calendar.google.com\"],\"calendar_status\":"
	    "\"connected\",\"created_at\":\"2026-11-18T11:06:40Z\","
	    "\"daily_cap\":null,\"display_name\":\"Anna Petrova\","
	    "\"email\":\"anna@example.com\",\"enabled\":true,"
	    "\"horizon_days\":21,\"hours_default\":true,\"ics_path\":null,"
	    "\"id\":\"7\",\"name\":\"anna\",\"notice_min\":60,\"slot_min\":45,"
	    "\"tg_user_id\":\"5550001\",\"type\":\"rep\",\"tz\":"
	    "\"Europe/Moscow\",\"tz_default\":false,\"updated_at\":"
	    "\"2026-11-18T11:07:40Z\",\"working_hours\":{\"fri\":[[\"09:00\","
	    "\"18:00\"]],\"mon\":[[\"09:00\",\"18:00\"]],\"thu\":[[\"09:00\","
	    "\"18:00\"]],\"tue\":[[\"09:00\",\"18:00\"]],\"wed\":[[\"09:00\","
	    "\"18:00\"]]},\"zoom_user\":\"anna@example.com\"}",
	    "sl_rep_json: every field, e-mail unmasked");
	sl_rep_free(rep);

	row = row_with("tz", jv_null());
	row = sl_set(row, "daily_cap", jv_number(3));
	row = sl_set(row, "calendar_ids", jv_null());
	row = sl_set(row, "working_hours",
	    jv_string("{\"sat\":[[\"10:00\",\"12:00\"]]}"));
	unsetenv("SALESLINE_TZ");
	rep = sl_rep_from_row(row, &err);
	ok(rep && strcmp(rep->tz, "Asia/Makassar") == 0 && rep->tz_default,
	    "no tz: Asia/Makassar");
	ok(rep && rep->daily_cap == 3 && !rep->hours_default &&
	    rep->hours.n[6] == 1 && rep->hours.n[1] == 0,
	    "daily_cap and hours from the row");
	ok(rep && jv_array_length(jv_copy(rep->calendar_ids)) == 0,
	    "NULL calendar_ids: []");
	sl_rep_free(rep);
	setenv("SALESLINE_TZ", "America/New_York", 1);
	rep = sl_rep_from_row(row, &err);
	ok(rep && strcmp(rep->tz, "America/New_York") == 0,
	    "no tz: $SALESLINE_TZ");
	sl_rep_free(rep);
	setenv("SALESLINE_TZ", "Mars/Olympus", 1);
	rep = sl_rep_from_row(row, &err);
	ok(rep == NULL && err &&
	    strcmp(err, "SALESLINE_TZ: unknown time zone 'Mars/Olympus'") == 0,
	    "a bad $SALESLINE_TZ is named");
	sl_rep_free(rep);
	unsetenv("SALESLINE_TZ");
	jv_free(row);

	row_err("tz", jv_string("Mars/Olympus"),
	    "rep 'anna': unknown time zone 'Mars/Olympus'");
	row_err("working_hours", jv_string("{\"mon\":[[\"18:00\",\"09:00\"]]}"),
	    "rep 'anna': working hours: 'mon': end 09:00 before start 18:00");
	row_err("calendar_ids", jv_string("primary"),
	    "rep 'anna': 'calendar_ids': expected a JSON array of strings");
	row_err("calendar_ids", jv_string("[1]"),
	    "rep 'anna': 'calendar_ids': expected a JSON array of strings");
	row_err("slot_min", jv_string("thirty"),
	    "rep 'anna': 'slot_min': expected a number");
	row_err("email", jv_number(1), "rep 'anna': 'email': expected text");
	row_err("name", jv_null(), "a reps row without a name");
}

static void
load(const char *dir)
{
	char *url = sl_asprintf("%s/ledger.db", dir), *err = NULL;
	const char *home = getenv("SALESLINE_HOME"), *e = NULL;
	char *sqldir = sl_asprintf("%s/sql", home ? home : ".");
	struct sl_db *db;
	struct sl_rep *rep;
	int temporary = 1;

	db = sl_db_open(url, sqldir, &err, &temporary);
	if (!ok(db != NULL, "open a scratch ledger")) {
		diag("%s", err ? err : "?");
		goto out;
	}
	sl_db_exec(db, "INSERT INTO reps (name, tz, working_hours, created_at, "
	    "updated_at) VALUES ('anna', 'UTC', NULL, 1, 1), ('bob', "
	    "'Nowhere/City', NULL, 1, 1)", jv_null());
	rep = sl_rep_load(db, "anna", &e, &temporary);
	ok(rep && rep->id == 1 && temporary == 0, "by name");
	ok(rep && rep->slot_min == 30 && rep->notice_min == 120 &&
	    rep->horizon_days == 14 && rep->enabled &&
	    strcmp(rep->calendar_status, "none") == 0,
	    "the schema's defaults");
	sl_rep_free(rep);
	rep = sl_rep_load(db, "1", &e, &temporary);
	ok(rep && strcmp(rep->name, "anna") == 0, "by id");
	sl_rep_free(rep);
	rep = sl_rep_load(db, "carol", &e, &temporary);
	ok(rep == NULL && e && strcmp(e, "no rep 'carol'") == 0 &&
	    temporary == 0, "unknown: no rep 'carol'");
	rep = sl_rep_load(db, "99", &e, &temporary);
	ok(rep == NULL && e && strcmp(e, "no rep '99'") == 0, "unknown id");
	rep = sl_rep_load(db, "bob", &e, &temporary);
	ok(rep == NULL && e &&
	    strcmp(e, "rep 'bob': unknown time zone 'Nowhere/City'") == 0,
	    "an unusable row says why");
	sl_db_close(db);
out:
	free(err);
	free(sqldir);
	free(url);
}

int
main(void)
{
	char dir[] = "/tmp/sl-rep-test.XXXXXX", *cmd;

	sl_init("rep-test");
	hours();
	names();
	rows();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	load(dir);
	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	sl_zone_free_all();
	return done_testing();
}
