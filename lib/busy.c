/*
 * busy.c: gathering a rep's busy time from the ledger, an .ics file and
 * Google Calendar (busy.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busy.h"
#include "db.h"
#include "google.h"
#include "ics.h"
#include "jsonl.h"
#include "rep.h"
#include "sl.h"
#include "timeutil.h"

#define DAY INT64_C(86400)

static void
warn(struct sl_busy *b, const char *fmt, ...) SL_PRINTF(2, 3);

static void
warn(struct sl_busy *b, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	b->warnings = jv_array_append(b->warnings, jv_string(buf));
}

static void
add_iv(struct sl_busy *b, int64_t start, int64_t end)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->iv = sl_realloc(b->iv, b->cap * sizeof *b->iv);
	}
	b->iv[b->n].start = start;
	b->iv[b->n].end = end;
	b->n++;
}

static void
add_booked(struct sl_busy *b, int64_t start)
{
	if (b->nbooked == b->capbooked) {
		b->capbooked = b->capbooked ? 2 * b->capbooked : 16;
		b->booked = sl_realloc(b->booked,
		    b->capbooked * sizeof *b->booked);
	}
	b->booked[b->nbooked++] = start;
}

/* The ledger's bookings and live holds. */
static int
from_ledger(struct sl_db *db, const struct sl_rep *rep, int64_t from,
    int64_t to, int64_t now, int64_t exclude, struct sl_busy *b)
{
	jv rows, row;
	int i, len;
	int64_t s, e;

	rows = sl_db_query(db, "SELECT start_at, end_at FROM bookings "
	    "WHERE rep_id = $1 AND start_at < $3 AND end_at > $2 "
	    "AND id <> $5 AND (status = 'booked' OR (status = 'held' "
	    "AND hold_until > $4))",
	    JV_ARRAY(jv_number((double)rep->id), jv_number((double)from),
	    jv_number((double)to), jv_number((double)now),
	    jv_number((double)exclude)));
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return -1;
	}
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len; i++) {
		row = jv_array_get(jv_copy(rows), i);
		if (sl_get_int(row, "start_at", &s) == 1 &&
		    sl_get_int(row, "end_at", &e) == 1) {
			add_iv(b, s, e);
			add_booked(b, s);
		}
		jv_free(row);
	}
	jv_free(rows);
	b->sources |= SL_SRC_BOOKINGS;
	return 0;
}

static int
from_ics(const struct sl_rep *rep, int64_t from, int64_t to, int strict,
    struct sl_busy *b)
{
	char err[512];
	size_t skipped = 0;

	if (rep->ics_path == NULL || *rep->ics_path == '\0')
		return 0;
	if (sl_ics_busy_file(rep->ics_path, from, to, rep->zone, &b->iv,
	    &b->n, &b->cap, &skipped, err, sizeof err) < 0) {
		if (strict) {
			snprintf(b->error, sizeof b->error,
			    "rep '%.64s': calendar file: %.400s", rep->name, err);
			b->exit_code = SL_EX_CONFIG;
			return -2;
		}
		warn(b, "rep '%s': calendar file not read: %s", rep->name,
		    err);
		return 0;
	}
	if (skipped > 0)
		warn(b, "rep '%s': %zu event%s of '%s' not understood, "
		    "taken as their first occurrence or left out", rep->name,
		    skipped, skipped == 1 ? "" : "s", rep->ics_path);
	b->sources |= SL_SRC_ICS;
	return 0;
}

static void
cal_errors(struct sl_busy *b, const struct sl_rep *rep, jv errs)
{
	const char *cal, *reason;
	jv e;
	int i, len;

	len = jv_get_kind(errs) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(errs)) : 0;
	for (i = 0; i < len; i++) {
		e = jv_array_get(jv_copy(errs), i);
		if (jv_get_kind(e) == JV_KIND_OBJECT &&
		    sl_get_str(e, "calendar", &cal) == 1) {
			if (sl_get_str(e, "reason", &reason) != 1)
				reason = "error";
			warn(b, "rep '%s': Google calendar '%s' not read (%s): "
			    "its busy time is missing", rep->name, cal, reason);
		}
		jv_free(e);
	}
	jv_free(errs);
}

static int
from_google(struct sl_db *db, struct sl_google *g, const struct sl_rep *rep,
    int64_t from, int64_t to, int strict, struct sl_busy *b)
{
	struct sl_svc_err err;
	jv errs = jv_null();

	if (rep->calendar_status == NULL ||
	    strcmp(rep->calendar_status, "connected") != 0) {
		if (rep->calendar_status != NULL &&
		    strcmp(rep->calendar_status, "disconnected") == 0)
			warn(b, "rep '%s': Google calendar disconnected: "
			    "reconnect it with 'rep-admin calendar connect "
			    "%s'", rep->name, rep->name);
		return 0;
	}
	if (g == NULL) {
		if (strict) {
			snprintf(b->error, sizeof b->error, "rep '%s' has a "
			    "Google calendar but GOOGLE_CLIENT_ID is not set",
			    rep->name);
			b->exit_code = SL_EX_CONFIG;
			return -2;
		}
		warn(b, "rep '%s': Google calendar not read: "
		    "GOOGLE_CLIENT_ID is not set", rep->name);
		return 0;
	}
	memset(&err, 0, sizeof err);
	if (sl_google_freebusy(g, db, rep, from, to, &b->iv, &b->n, &b->cap,
	    &errs, &err) < 0) {
		jv_free(errs);
		if (err.revoked) {
			warn(b, "rep '%s': Google calendar access was revoked "
			    "(%s): marked disconnected; reconnect it with "
			    "'rep-admin calendar connect %s'", rep->name,
			    err.reason[0] ? err.reason : "invalid_grant",
			    rep->name);
			return 0;
		}
		if (strict) {
			snprintf(b->error, sizeof b->error, "rep '%.64s': Google "
			    "calendar: %.400s", rep->name, err.message);
			b->temporary = err.class == SL_HTTP_TEMPORARY ||
			    err.class == SL_HTTP_UNCERTAIN;
			b->exit_code = sl_svc_exit_code(&err);
			return -2;
		}
		warn(b, "rep '%s': Google calendar not read: %s", rep->name,
		    err.message);
		return 0;
	}
	cal_errors(b, rep, errs);
	b->sources |= SL_SRC_GOOGLE;
	return 0;
}

int
sl_busy_gather(struct sl_db *db, struct sl_google *g,
    const struct sl_rep *rep, int64_t from, int64_t to, int64_t now,
    int64_t exclude, int strict, struct sl_busy *b)
{
	int rc;

	memset(b, 0, sizeof *b);
	b->warnings = jv_array();
	b->sources = SL_SRC_HOURS;
	from -= DAY;
	to += DAY;
	if (from_ledger(db, rep, from, to, now, exclude, b) < 0)
		return -1;
	if ((rc = from_ics(rep, from, to, strict, b)) < 0)
		return rc;
	if ((rc = from_google(db, g, rep, from, to, strict, b)) < 0)
		return rc;
	b->n = sl_iv_normalise(b->iv, b->n);
	return 0;
}

void
sl_busy_free(struct sl_busy *b)
{
	free(b->iv);
	free(b->booked);
	jv_free(b->warnings);
	memset(b, 0, sizeof *b);
	b->warnings = jv_null();
}

jv
sl_busy_sources(const struct sl_busy *b)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { SL_SRC_HOURS, "hours" },
		{ SL_SRC_BOOKINGS, "bookings" }, { SL_SRC_ICS, "ics" },
		{ SL_SRC_GOOGLE, "google" } };
	jv a = jv_array();
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (b->sources & names[i].bit)
			a = jv_array_append(a, jv_string(names[i].name));
	return a;
}

void
sl_busy_query(struct sl_slot_query *q, const struct sl_rep *rep,
    const struct sl_busy *b, int64_t now, int duration_min)
{
	memset(q, 0, sizeof *q);
	q->zone = rep->zone;
	q->hours = &rep->hours;
	q->now = now;
	q->duration_min = duration_min > 0 ? duration_min : rep->slot_min;
	q->step_min = rep->slot_min;
	q->buffer_before_min = rep->buffer_before_min;
	q->buffer_after_min = rep->buffer_after_min;
	q->notice_min = rep->notice_min;
	q->daily_cap = rep->daily_cap;
	q->busy = b->iv;
	q->nbusy = b->n;
	q->booked = b->booked;
	q->nbooked = b->nbooked;
}

char *
sl_slot_text(int64_t start, int64_t end, const struct sl_zone *z,
    const char *lang)
{
	static const char *const wd_en[] = { "Sun", "Mon", "Tue", "Wed",
		"Thu", "Fri", "Sat" };
	static const char *const mon_en[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char *const wd_ru[] = { "вс", "пн", "вт", "ср", "чт",
		"пт", "сб" };
	static const char *const mon_ru[] = { "января", "февраля", "марта",
		"апреля", "мая", "июня", "июля", "августа", "сентября",
		"октября", "ноября", "декабря" };
	struct sl_tm a, b;

	if (sl_to_local(start, z, &a) < 0 || sl_to_local(end, z, &b) < 0)
		return sl_strdup("");
	if (lang != NULL && strcmp(lang, "ru") == 0)
		return sl_asprintf("%s %d %s %02d:%02d-%02d:%02d %s",
		    wd_ru[a.wday], a.mday, mon_ru[a.mon - 1], a.hour, a.min,
		    b.hour, b.min, a.abbr);
	return sl_asprintf("%s %d %s %02d:%02d-%02d:%02d %s", wd_en[a.wday],
	    a.mday, mon_en[a.mon - 1], a.hour, a.min, b.hour, b.min, a.abbr);
}
