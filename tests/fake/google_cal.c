/*
 * google_cal.c: Google Calendar v3 in fake-api (shared/reference/apis.md
 * section 4), under /calendar/v3/ with Authorization: Bearer (google.c
 * checks the token and its scope):
 *
 *	POST   /calendar/v3/freeBusy
 *	POST   /calendar/v3/calendars/{calendarId}/events
 *	GET    /calendar/v3/calendars/{calendarId}/events/{eventId}
 *	DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}
 *
 * Calendars exist when a test made them (POST /_fake/google/calendar);
 * "primary" always does, until a test deletes it.  A calendar's busy time
 * is the list the test gave plus its events (not deleted, not
 * "transparency":"transparent"); freeBusy merges overlapping intervals,
 * clips them to [timeMin, timeMax) and writes them in UTC with Z, or with
 * the offset of "timeZone" when one is given.  timeMin and timeMax are
 * echoed in UTC with milliseconds, as Google does.  An unknown calendar
 * gets {"errors":[{"domain":"global","reason":"notFound"}],"busy":[]}
 * inside the 200.
 *
 * events.insert answers 200 with the event: the body as sent plus id,
 * status, htmlLink, etag, created, updated, creator and organizer,
 * iCalUID, sequence, reminders, eventType; attendees get responseStatus
 * needsAction; start and end are echoed with the offset of their
 * timeZone (UTC with Z when none is given).  A dateTime without an offset
 * needs a timeZone: otherwise 400 required "Missing time zone definition
 * for start time.".  conferenceData is dropped unless
 * conferenceDataVersion=1; then a createRequest for hangoutsMeet gets a
 * Meet link (status success).  A client-chosen "id" ([a-v0-9]{5,1024})
 * is kept; reused, it gets 409 duplicate.  All-day events ("date") are
 * busy from midnight UTC.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "fake_oauth.h"
#include "jsonl.h"
#include "sl.h"
#include "timeutil.h"

#define GG_DAY 86400
#define GG_OWNER "fake-user@example.com"

struct gg_iv {
	int64_t start, end;
};

struct gg_cal {
	struct gg_cal *next;
	char *id;
	struct gg_iv *busy;
	size_t nbusy;
};

struct gg_event {
	struct gg_event *next;
	char *cal, *id;
	jv obj;			/* as answered; status cancelled once deleted */
	int64_t start, end;
	int transparent, deleted;
	char *send_updates;	/* as the insert asked, or NULL */
};

static const char *const freebusy_scopes[] = {
	"calendar", "calendar.readonly", "calendar.freebusy",
	"calendar.events.freebusy", NULL
};
static const char *const write_scopes[] = {
	"calendar", "calendar.events", "calendar.events.owned", NULL
};
static const char *const read_scopes[] = {
	"calendar", "calendar.readonly", "calendar.events",
	"calendar.events.readonly", "calendar.events.owned",
	"calendar.events.owned.readonly", NULL
};

static struct gg_cal *cals;
static struct gg_event *events, **events_tail = &events;
static unsigned long nevents;

static struct gg_cal *
cal_find(const char *id)
{
	struct gg_cal *c;

	for (c = cals; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static struct gg_cal *
cal_get(const char *id)
{
	struct gg_cal *c = cal_find(id);

	if (c)
		return c;
	c = sl_calloc(1, sizeof *c);
	c->id = sl_strdup(id);
	c->next = cals;
	cals = c;
	return c;
}

static void
cal_free(struct gg_cal *c)
{
	free(c->id);
	free(c->busy);
	free(c);
}

static struct gg_event *
event_find(const char *cal, const char *id)
{
	struct gg_event *e;

	for (e = events; e; e = e->next)
		if ((!cal || strcmp(e->cal, cal) == 0) &&
		    strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* RFC 3339 in UTC with milliseconds, as Google writes timeMin. */
static jv
time_ms(int64_t t)
{
	char buf[SL_TIME_BUFSZ];
	size_t n;

	if (!sl_time_fmt(t, buf))
		return jv_null();
	n = strlen(buf);
	return jv_string_fmt("%.*s.000Z", (int)(n - 1), buf);
}

static jv
time_in(int64_t t, const struct sl_zone *z)
{
	char buf[SL_TIME_BUFSZ];

	if (z ? !sl_time_fmt_local(t, z, buf) : !sl_time_fmt(t, buf))
		return jv_null();
	return jv_string(buf);
}

/*
 * A dateTime without an offset ("2025-03-11T10:00:00", perhaps with a
 * fraction) as civil time.  Returns 0, or -1 when s is not one.
 */
static int
civil_parse(const char *s, struct sl_tm *tm)
{
	char buf[64];
	int64_t t, days;

	if (snprintf(buf, sizeof buf, "%sZ", s) >= (int)sizeof buf ||
	    sl_time_parse(buf, &t) < 0)
		return -1;
	memset(tm, 0, sizeof *tm);
	days = t >= 0 ? t / GG_DAY : (t - GG_DAY + 1) / GG_DAY;
	sl_civil_from_days(days, &tm->year, &tm->mon, &tm->mday);
	t -= days * GG_DAY;
	tm->hour = (int)(t / 3600);
	tm->min = (int)(t / 60 % 60);
	tm->sec = (int)(t % 60);
	return 0;
}

static int
digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "2025-03-11" as midnight UTC; 0, or -1. */
static int
date_parse(const char *s, int64_t *t)
{
	char buf[32];

	if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return -1;
	snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
	return sl_time_parse(buf, t);
}

/* The request body as an object, or null (then answered 400). */
static jv
body_object(const struct fake_req *req, struct fake_resp *resp)
{
	jv v = req->body_len ? sl_parse(req->body, req->body_len) :
	    jv_invalid();

	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	gg_error(resp, 400, "parseError", "Parse Error");
	return jv_null();
}

/*
 * freeBusy.
 */

static int
iv_cmp(const void *a, const void *b)
{
	const struct gg_iv *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The busy list of c over [from, to): merged, clipped; an array. */
static jv
busy_of(const struct gg_cal *c, int64_t from, int64_t to,
    const struct sl_zone *z)
{
	struct gg_iv *iv;
	struct gg_event *e;
	size_t n = 0, i, cap = c->nbusy + 1;
	jv out = jv_array();
	int64_t s, end;

	for (e = events; e; e = e->next)
		cap++;
	iv = sl_calloc(cap, sizeof *iv);
	for (i = 0; i < c->nbusy; i++)
		iv[n++] = c->busy[i];
	for (e = events; e; e = e->next)
		if (!e->deleted && !e->transparent &&
		    strcmp(e->cal, c->id) == 0) {
			iv[n].start = e->start;
			iv[n++].end = e->end;
		}
	qsort(iv, n, sizeof *iv, iv_cmp);
	for (i = 0; i < n; ) {
		s = iv[i].start;
		end = iv[i].end;
		for (i++; i < n && iv[i].start <= end; i++)
			if (iv[i].end > end)
				end = iv[i].end;
		if (s < from)
			s = from;
		if (end > to)
			end = to;
		if (s < end)
			out = jv_array_append(out, sl_set(sl_set(jv_object(),
			    "start", time_in(s, z)), "end", time_in(end, z)));
	}
	free(iv);
	return out;
}

/* timeMin or timeMax: 0, or -1 after answering 400. */
static int
bound(jv body, const char *key, int64_t *t, struct fake_resp *resp)
{
	const char *s;
	char msg[64];

	if (sl_get_str(body, key, &s) != 1) {
		snprintf(msg, sizeof msg, "Missing %s parameter.", key);
		gg_error(resp, 400, "invalid", msg);
		return -1;
	}
	if (sl_time_parse(s, t) < 0) {
		gg_error(resp, 400, "invalid", "Bad Request");
		return -1;
	}
	return 0;
}

static void
freebusy(const struct fake_req *req, struct fake_resp *resp)
{
	const struct sl_zone *z = NULL;
	const struct gg_cal *c;
	const char *tz, *id;
	jv body, items = jv_null(), out = jv_object(), it, entry;
	int64_t from, to;
	int i, n, k;

	if (!gg_authorize(req, resp, freebusy_scopes))
		goto out;
	body = body_object(req, resp);
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		goto out;
	if (bound(body, "timeMin", &from, resp) < 0 ||
	    bound(body, "timeMax", &to, resp) < 0)
		goto out_body;
	if (to <= from) {
		gg_error(resp, 400, "timeRangeEmpty",
		    "The specified time range is empty.");
		goto out_body;
	}
	if ((k = sl_get_str(body, "timeZone", &tz)) < 0 ||
	    (k == 1 && !(z = sl_zone_load(tz)))) {
		gg_error(resp, 400, "invalid", "Invalid time zone definition.");
		goto out_body;
	}
	if (sl_get_arr(body, "items", &items) < 0) {
		gg_error(resp, 400, "invalid", "Invalid value for: items");
		goto out_body;
	}
	n = jv_get_kind(items) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(items)) : 0;
	for (i = 0; i < n; i++) {
		it = jv_array_get(jv_copy(items), i);
		if (sl_get_str(it, "id", &id) != 1) {
			jv_free(it);
			gg_error(resp, 400, "required", "Missing id.");
			goto out_body;
		}
		if ((c = cal_find(id)))
			entry = sl_set(jv_object(), "busy",
			    busy_of(c, from, to, z));
		else
			entry = sl_set(sl_set(jv_object(), "errors",
			    jv_array_append(jv_array(), sl_set(sl_set(
			    jv_object(), "domain", jv_string("global")),
			    "reason", jv_string("notFound")))), "busy",
			    jv_array());
		out = jv_object_set(out, jv_string(id), entry);
		jv_free(it);
	}
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(sl_set(jv_object(),
	    "kind", jv_string("calendar#freeBusy")), "timeMin",
	    time_ms(from)), "timeMax", time_ms(to)), "calendars", out));
	out = jv_null();
out_body:
	jv_free(body);
out:
	jv_free(items);
	jv_free(out);
}

/*
 * events.
 */

/*
 * The instant of an event's start or end (which), and its echo in *echo;
 * 0, or -1 after answering 400.
 */
static int
event_time(jv body, const char *which, int64_t *t, jv *echo,
    struct fake_resp *resp)
{
	const struct sl_zone *z = NULL;
	const char *dt, *date, *tz = NULL;
	struct sl_tm tm;
	char msg[96];
	jv w;
	int k;

	if (sl_get_obj(body, which, &w) != 1) {
		snprintf(msg, sizeof msg, "Missing %s time.", which);
		gg_error(resp, 400, "required", msg);
		return -1;
	}
	if ((k = sl_get_str(w, "timeZone", &tz)) < 0 ||
	    (k == 1 && !(z = sl_zone_load(tz)))) {
		snprintf(msg, sizeof msg, "Invalid time zone definition for "
		    "%s time.", which);
		gg_error(resp, 400, "invalid", msg);
		goto fail;
	}
	if (sl_get_str(w, "dateTime", &dt) == 1) {
		if (sl_time_parse(dt, t) == 0) {
			/* an offset: it decides */
		} else if (civil_parse(dt, &tm) == 0) {
			if (!z) {
				snprintf(msg, sizeof msg, "Missing time zone "
				    "definition for %s time.", which);
				gg_error(resp, 400, "required", msg);
				goto fail;
			}
			if (sl_from_local(&tm, z, t) < 0)
				goto bad;
		} else {
			goto bad;
		}
		*echo = sl_set(jv_object(), "dateTime", time_in(*t, z));
	} else if (sl_get_str(w, "date", &date) == 1) {
		if (date_parse(date, t) < 0)
			goto bad;
		*echo = sl_set(jv_object(), "date", jv_string(date));
	} else {
		snprintf(msg, sizeof msg, "Missing %s time.", which);
		gg_error(resp, 400, "required", msg);
		goto fail;
	}
	if (tz)
		*echo = sl_set(*echo, "timeZone", jv_string(tz));
	jv_free(w);
	return 0;
bad:
	snprintf(msg, sizeof msg, "Invalid value for: %s", which);
	gg_error(resp, 400, "invalid", msg);
fail:
	jv_free(w);
	return -1;
}

/* [a-v0-9]{5,1024}: base32hex, as Google's event ids. */
static int
event_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 5 || n > 1024)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'v') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* The attendees with responseStatus; null after answering 400. */
static jv
attendees(jv list, struct fake_resp *resp)
{
	jv out = jv_array(), a;
	const char *email;
	int i, n = jv_array_length(jv_copy(list));

	for (i = 0; i < n; i++) {
		a = jv_array_get(jv_copy(list), i);
		if (sl_get_str(a, "email", &email) != 1 || !*email) {
			jv_free(a);
			jv_free(out);
			jv_free(list);
			gg_error(resp, 400, "required", "Missing attendee "
			    "email.");
			return jv_null();
		}
		if (!jv_object_has(jv_copy(a), jv_string("responseStatus")))
			a = sl_set(a, "responseStatus",
			    jv_string("needsAction"));
		out = jv_array_append(out, a);
	}
	jv_free(list);
	return out;
}

/*
 * conferenceData with conferenceDataVersion=1: a Meet link for a
 * createRequest; consumes cd.  *link is the Meet URL, or null.
 */
static jv
conference(jv cd, unsigned long n, jv *link, struct fake_resp *resp)
{
	jv cr, key;
	const char *type = "hangoutsMeet";
	char id[16];

	*link = jv_null();
	if (sl_get_obj(cd, "createRequest", &cr) != 1)
		return cd;
	if (sl_get_obj(cr, "conferenceSolutionKey", &key) == 1) {
		sl_get_str(key, "type", &type);
		if (strcmp(type, "hangoutsMeet") != 0) {
			jv_free(key);
			jv_free(cr);
			jv_free(cd);
			gg_error(resp, 400, "invalid", "Invalid conference "
			    "type value.");
			return jv_null();
		}
		jv_free(key);
	}
	snprintf(id, sizeof id, "fak-%c%c%c%c-evt", 'a' + (int)(n / 17576 % 26),
	    'a' + (int)(n / 676 % 26), 'a' + (int)(n / 26 % 26),
	    'a' + (int)(n % 26));
	*link = jv_string_fmt("https://meet.google.com/%s", id);
	cr = sl_set(cr, "status", sl_set(jv_object(), "statusCode",
	    jv_string("success")));
	cd = sl_set(cd, "createRequest", cr);
	cd = sl_set(cd, "conferenceId", jv_string(id));
	cd = sl_set(cd, "entryPoints", jv_array_append(jv_array(), sl_set(
	    sl_set(sl_set(jv_object(), "entryPointType", jv_string("video")),
	    "uri", jv_copy(*link)), "label",
	    jv_string_fmt("meet.google.com/%s", id))));
	return sl_set(cd, "conferenceSolution", sl_set(sl_set(jv_object(),
	    "key", sl_set(jv_object(), "type", jv_string("hangoutsMeet"))),
	    "name", jv_string("Google Meet")));
}

static void
insert(const struct fake_req *req, const char *cal, struct fake_resp *resp)
{
	struct gg_event *e = NULL;
	const char *id = NULL, *su = NULL, *cdv = NULL, *tr;
	const char *owner = strcmp(cal, "primary") == 0 ? GG_OWNER : cal;
	jv body = jv_null(), st = jv_null(), en = jv_null(), v, link;
	int64_t start, end;
	char *eid = NULL;

	if (!gg_authorize(req, resp, write_scopes))
		goto out;
	if (!cal_find(cal)) {
		gg_error(resp, 404, "notFound", "Not Found");
		goto out;
	}
	sl_get_str(req->query, "sendUpdates", &su);
	sl_get_str(req->query, "conferenceDataVersion", &cdv);
	if (su && strcmp(su, "all") != 0 && strcmp(su, "externalOnly") != 0 &&
	    strcmp(su, "none") != 0) {
		gg_error(resp, 400, "invalid",
		    "Invalid value for: sendUpdates");
		goto out;
	}
	body = body_object(req, resp);
	if (jv_get_kind(body) != JV_KIND_OBJECT)
		goto out;
	if (event_time(body, "start", &start, &st, resp) < 0 ||
	    event_time(body, "end", &end, &en, resp) < 0)
		goto out;
	if (end < start) {
		gg_error(resp, 400, "timeRangeEmpty",
		    "The specified time range is empty.");
		goto out;
	}
	if (sl_get_str(body, "id", &id) < 0 || (id && !event_id_ok(id))) {
		gg_error(resp, 400, "invalid", "Invalid resource id value.");
		goto out;
	}
	if (id && event_find(NULL, id)) {
		gg_error(resp, 409, "duplicate",
		    "The requested identifier already exists.");
		goto out;
	}
	if (sl_get_arr(body, "attendees", &v) == 1) {
		v = attendees(v, resp);
		if (jv_get_kind(v) != JV_KIND_ARRAY)
			goto out;
		body = sl_set(body, "attendees", v);
	}
	nevents++;
	eid = id ? sl_strdup(id) : sl_asprintf("fake%010lu", nevents);
	v = jv_null();
	if (sl_get_obj(body, "conferenceData", &v) == 1 && cdv &&
	    strcmp(cdv, "1") == 0) {
		v = conference(v, nevents, &link, resp);
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			jv_free(link);
			goto out;
		}
		body = sl_set(body, "conferenceData", v);
		if (jv_get_kind(link) == JV_KIND_STRING)
			body = sl_set(body, "hangoutLink", link);
		else
			jv_free(link);
	} else {
		/* Google ignores it without conferenceDataVersion=1. */
		jv_free(v);
		body = jv_object_delete(body, jv_string("conferenceData"));
	}
	body = sl_set(body, "kind", jv_string("calendar#event"));
	body = sl_set(body, "etag", jv_string_fmt("\"33%014lu\"", nevents));
	body = sl_set(body, "id", jv_string(eid));
	body = sl_set(body, "status", jv_string("confirmed"));
	body = sl_set(body, "htmlLink", jv_string_fmt(
	    "https://www.google.com/calendar/event?eid=%s", eid));
	body = sl_set(body, "created", time_ms(gg_unix_now()));
	body = sl_set(body, "updated", time_ms(gg_unix_now()));
	body = sl_set(body, "creator", sl_set(sl_set(jv_object(), "email",
	    jv_string(owner)), "self", jv_true()));
	body = sl_set(body, "organizer", sl_set(sl_set(jv_object(), "email",
	    jv_string(owner)), "self", jv_true()));
	body = sl_set(body, "start", st);
	body = sl_set(body, "end", en);
	st = en = jv_null();
	body = sl_set(body, "iCalUID", jv_string_fmt("%s@google.com", eid));
	body = sl_set(body, "sequence", jv_number(0));
	if (!jv_object_has(jv_copy(body), jv_string("reminders")))
		body = sl_set(body, "reminders", sl_set(jv_object(),
		    "useDefault", jv_true()));
	body = sl_set(body, "eventType", jv_string("default"));

	e = sl_calloc(1, sizeof *e);
	e->cal = sl_strdup(cal);
	e->id = eid;
	eid = NULL;
	e->start = start;
	e->end = end;
	e->transparent = sl_get_str(body, "transparency", &tr) == 1 &&
	    strcmp(tr, "transparent") == 0;
	e->send_updates = su ? sl_strdup(su) : NULL;
	e->obj = fake_own(jv_copy(body));
	*events_tail = e;
	events_tail = &e->next;
	fake_reply_json(resp, 200, body);
	body = jv_null();
out:
	free(eid);
	jv_free(st);
	jv_free(en);
	jv_free(body);
}

static void
event_one(const struct fake_req *req, const char *cal, const char *id,
    struct fake_resp *resp)
{
	int del = strcmp(req->method, "DELETE") == 0;
	struct gg_event *e;

	if (!gg_authorize(req, resp, del ? write_scopes : read_scopes))
		return;
	if (!cal_find(cal) || !(e = event_find(cal, id))) {
		gg_error(resp, 404, "notFound", "Not Found");
		return;
	}
	if (!del) {
		fake_reply_json(resp, 200, jv_copy(e->obj));
		return;
	}
	if (e->deleted) {
		gg_error(resp, 410, "deleted", "Resource has been deleted");
		return;
	}
	e->deleted = 1;
	e->obj = sl_set(e->obj, "status", jv_string("cancelled"));
	fake_reply(resp, 204, NULL, "", 0);
}

void
gg_calendar(const struct fake_req *req, struct fake_resp *resp)
{
	const char *p = req->path + strlen("/calendar/v3/"), *slash, *ev;
	char *cal;

	if (strcmp(p, "freeBusy") == 0 && strcmp(req->method, "POST") == 0) {
		freebusy(req, resp);
		return;
	}
	if (strncmp(p, "calendars/", 10) != 0 ||
	    !(slash = strchr(p + 10, '/')) || slash == p + 10 ||
	    strncmp(slash, "/events", 7) != 0) {
		gg_error(resp, 404, "notFound", "Not Found");
		return;
	}
	cal = sl_strndup(p + 10, (size_t)(slash - p - 10));
	ev = slash + 7;
	if (*ev == '\0' && strcmp(req->method, "POST") == 0)
		insert(req, cal, resp);
	else if (*ev == '/' && ev[1] && !strchr(ev + 1, '/') &&
	    (strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "DELETE") == 0))
		event_one(req, cal, ev + 1, resp);
	else
		gg_error(resp, 404, "notFound", "Not Found");
	free(cal);
}

/*
 * Control endpoints: /_fake/google/calendar, /_fake/google/events.
 */

/*
 * {"id","busy":[{"start","end"}...]}: creates the calendar or replaces
 * its busy list; {"id","delete":true} removes it.
 */
static void
ctl_calendar(jv p, struct fake_resp *resp)
{
	struct gg_cal *c, **pp;
	struct gg_iv *iv = NULL;
	const char *id, *s, *e;
	jv busy = jv_null(), b;
	char msg[160];
	int i, n = 0, del = 0;

	if (sl_get_str(p, "id", &id) != 1 || !*id) {
		gg_ctl_error(resp, 400, "'id': expected a calendar id");
		return;
	}
	if (sl_get_bool(p, "delete", &del) < 0 ||
	    sl_get_arr(p, "busy", &busy) < 0) {
		gg_ctl_error(resp, 400, "'busy': expected an array, 'delete' "
		    "true or false");
		return;
	}
	if (del) {
		for (pp = &cals; (c = *pp); pp = &c->next)
			if (strcmp(c->id, id) == 0) {
				*pp = c->next;
				cal_free(c);
				break;
			}
		jv_free(busy);
		fake_reply_json(resp, 200, sl_set(jv_object(), "ok",
		    jv_true()));
		return;
	}
	if (jv_get_kind(busy) == JV_KIND_ARRAY)
		n = jv_array_length(jv_copy(busy));
	iv = sl_calloc((size_t)n + 1, sizeof *iv);
	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(busy), i);
		if (sl_get_str(b, "start", &s) != 1 ||
		    sl_get_str(b, "end", &e) != 1 ||
		    sl_time_parse(s, &iv[i].start) < 0 ||
		    sl_time_parse(e, &iv[i].end) < 0 ||
		    iv[i].end <= iv[i].start) {
			jv_free(b);
			snprintf(msg, sizeof msg, "busy[%d]: expected "
			    "{\"start\",\"end\"}, RFC 3339 with an offset, "
			    "end after start", i);
			gg_ctl_error(resp, 400, msg);
			free(iv);
			jv_free(busy);
			return;
		}
		jv_free(b);
	}
	c = cal_get(id);
	free(c->busy);
	c->busy = iv;
	c->nbusy = (size_t)n;
	jv_free(busy);
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "id", jv_string(id)), "busy", jv_number(n)));
}

static void
ctl_events(struct fake_resp *resp)
{
	struct gg_event *e;
	char *line, *all = NULL;
	size_t len = 0, n;
	jv o;

	for (e = events; e; e = e->next) {
		o = sl_set(jv_copy(e->obj), "calendar", jv_string(e->cal));
		o = sl_set(o, "send_updates", e->send_updates ?
		    jv_string(e->send_updates) : jv_null());
		if (e->deleted)
			o = sl_set(o, "deleted", jv_true());
		line = sl_json_dump(o, &n);
		jv_free(o);
		all = sl_realloc(all, len + n + 2);
		memcpy(all + len, line, n);
		len += n;
		all[len++] = '\n';
		free(line);
	}
	fake_reply(resp, 200, "application/x-ndjson", all ? all : "", len);
	free(all);
}

int
gg_cal_control(const struct fake_req *req, const char *what,
    struct fake_resp *resp)
{
	jv p;

	if (strcmp(what, "calendar") == 0 && strcmp(req->method, "POST") == 0) {
		p = gg_ctl_params(req);
		ctl_calendar(p, resp);
		jv_free(p);
		return 1;
	}
	if (strcmp(what, "events") == 0 && strcmp(req->method, "GET") == 0) {
		ctl_events(resp);
		return 1;
	}
	return 0;
}

void
gg_cal_cleanup(void)
{
	struct gg_cal *c;
	struct gg_event *e;

	while ((c = cals)) {
		cals = c->next;
		cal_free(c);
	}
	while ((e = events)) {
		events = e->next;
		free(e->cal);
		free(e->id);
		free(e->send_updates);
		jv_free(e->obj);
		free(e);
	}
	events_tail = &events;
	nevents = 0;
}

void
gg_cal_reset(void)
{
	gg_cal_cleanup();
	cal_get("primary");
}
