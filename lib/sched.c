/*
 * sched.c: scheduled actions in the ledger (sched.h).
 *
 * Sets of ids travel as one parameter, so that every statement has one
 * fixed text (SQLite keeps it prepared): a JSON array read with json_each
 * on SQLite, an array literal cast to BIGINT[] on PostgreSQL.  Stored
 * actions get their ids before the INSERT (SQLite: max(id) under the write
 * lock that BEGIN IMMEDIATE took; PostgreSQL: nextval of the identity's
 * sequence), so each item knows its id and message key without relying on
 * the order of RETURNING rows.  A batch is a few multi-row statements on
 * PostgreSQL (a round trip each); SQLite, in the process, runs one
 * prepared INSERT per item instead.
 * On PostgreSQL the prospects (and bookings) of a batch are locked FOR NO
 * KEY UPDATE in id order, so two processes adding a follow-up for the
 * same prospect take turns instead of both inserting a pending one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_impl.h"
#include "jsonl.h"
#include "sched.h"
#include "sl.h"
#include "timeutil.h"


static const char *const kinds[] = { "followup", "reminder_24h",
	"reminder_1h" };
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* Why a claimed action is cancelled instead of handed out. */
enum { C_ERASED, C_HUMAN, C_UNREACHABLE, C_CLOSED, C_WROTE, C_BOOKING,
	C_EXPIRED, NCANCEL };
static const char *const cancel_reasons[NCANCEL] = { "erased",
	"human_takeover", "unreachable", "closed", "client_wrote",
	"booking_cancelled", "expired" };

struct ids {
	int64_t *v;
	size_t n, cap;
};

int
sl_sched_kind_ok(const char *kind)
{
	size_t i;

	for (i = 0; kind && i < NKINDS; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	return 0;
}

int
sl_sched_kind_reminder(const char *kind)
{
	return sl_sched_kind_ok(kind) && strcmp(kind, "followup") != 0;
}

int64_t
sl_sched_id(const char *s)
{
	int64_t v = 0;
	int i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 18; i++)
		v = v * 10 + (s[i] - '0');
	return s[i] == '\0' && i > 0 ? v : 0;
}

/* Formats a reason into err; returns -1. */
static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* An optional ledger id field: 1 with *id, 0 absent, -1 after bad(). */
static int
parse_id(jv rec, const char *key, int64_t *id, char *err, size_t errlen)
{
	jv v;
	int g;

	if ((g = sl_get_id(rec, key, &v)) < 0)
		return bad(err, errlen, "'%s': expected a string or a number",
		    key);
	if (g == 0)
		return 0;
	*id = sl_sched_id(jv_string_value(v));
	jv_free(v);
	if (*id <= 0)
		return bad(err, errlen, "'%s': not a ledger id", key);
	return 1;
}

int
sl_sched_parse(jv rec, struct sl_sched_item *it, char *err, size_t errlen)
{
	static const char *const strs[] = { "kind", "reason", "text",
		"source" };
	const char **dst[] = { &it->kind, &it->reason, &it->text,
		&it->source };
	char buf[SL_TIME_BUFSZ];
	size_t i;
	int g;
	jv v;

	memset(it, 0, sizeof *it);
	if ((g = parse_id(rec, "prospect", &it->prospect, err, errlen)) <= 0)
		return g < 0 ? -1 : bad(err, errlen, "no 'prospect'");
	if ((g = sl_get_time(rec, "due", &it->due)) <= 0)
		return bad(err, errlen, g ? "'due': expected an RFC 3339 time "
		    "or Unix seconds" : "no 'due'");
	if (it->due < SL_SCHED_MIN_DUE || it->due > SL_TIME_MAX)
		return bad(err, errlen, "'due': %s is %s",
		    sl_time_fmt(it->due, buf) ? buf : "out of range",
		    it->due > SL_TIME_MAX ? "after 9999" : "before 2000");
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if (sl_get_str(rec, strs[i], dst[i]) < 0)
			return bad(err, errlen, "'%s': expected a string",
			    strs[i]);
		if (*dst[i] == NULL)
			continue;
		/* PostgreSQL text holds no NUL character */
		v = jv_object_get(jv_copy(rec), jv_string(strs[i]));
		g = (size_t)jv_string_length_bytes(v) != strlen(*dst[i]);
		if (g)
			return bad(err, errlen, "'%s': contains a NUL character",
			    strs[i]);
	}
	if (it->kind && !sl_sched_kind_ok(it->kind))
		return bad(err, errlen, "'kind': expected followup, "
		    "reminder_24h or reminder_1h");
	if (parse_id(rec, "booking", &it->booking, err, errlen) < 0)
		return -1;
	if (sl_sched_kind_reminder(it->kind) && it->booking == 0)
		return bad(err, errlen, "no 'booking' for a reminder");
	return 0;
}

static int
is_pg(struct sl_db *db)
{
	return strcmp(sl_db_engine(db), "postgres") == 0;
}

static void
ids_add(struct ids *s, int64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = sl_realloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = id;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts and removes duplicates. */
static void
ids_uniq(struct ids *s)
{
	size_t i, w = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof *s->v, cmp_i64);
	for (i = 0; i < s->n; i++)
		if (w == 0 || s->v[w - 1] != s->v[i])
			s->v[w++] = s->v[i];
	s->n = w;
}

/* The set as one parameter: "[1,2]" for SQLite, "{1,2}" for PostgreSQL. */
static jv
ids_param(struct sl_db *db, const struct ids *s)
{
	size_t i, len = 0, cap = 24 * s->n + 3;
	char *buf = sl_malloc(cap);
	int pg = is_pg(db);
	jv out;

	buf[len++] = pg ? '{' : '[';
	for (i = 0; i < s->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%lld",
		    i ? "," : "", (long long)s->v[i]);
	buf[len++] = pg ? '}' : ']';
	out = jv_string_sized(buf, (int)len);
	free(buf);
	return out;
}

/*
 * fmt with every "@IN(col,$k)" replaced by the engine's test that col is
 * in the set held by parameter $k.  A new string.
 */
static char *
sql_in(struct sl_db *db, const char *fmt)
{
	const char *p = fmt, *q, *comma, *end;
	int pg = is_pg(db);
	char *out = sl_strdup(""), *t;

	while ((q = strstr(p, "@IN(")) != NULL) {
		comma = strchr(q, ',');
		end = strchr(q, ')');
		t = sl_asprintf(pg ?
		    "%s%.*s%.*s = ANY (CAST(%.*s AS BIGINT[]))" :
		    "%s%.*s%.*s IN (SELECT value FROM json_each(%.*s))", out,
		    (int)(q - p), p, (int)(comma - q - 4), q + 4,
		    (int)(end - comma - 1), comma + 1);
		free(out);
		out = t;
		p = end + 1;
	}
	t = sl_asprintf("%s%s", out, p);
	free(out);
	return t;
}

static long
exec_in(struct sl_db *db, const char *fmt, jv params)
{
	char *sql = sql_in(db, fmt);
	long n = sl_db_exec(db, sql, params);

	free(sql);
	return n;
}

static jv
query_in(struct sl_db *db, const char *fmt, jv params)
{
	char *sql = sql_in(db, fmt);
	jv rows = sl_db_query(db, sql, params);

	free(sql);
	return rows;
}

/* row[key] as an integer (borrows row); def when null or absent. */
static int64_t
row_int(jv row, const char *key, int64_t def)
{
	jv v = jv_object_get(jv_copy(row), sl_key(key));
	int64_t x = def;

	if (jv_get_kind(v) == JV_KIND_NUMBER)
		x = (int64_t)jv_number_value(v);
	jv_free(v);
	return x;
}

/* 1 when row[key] is the string s (borrows row). */
static int
row_is(jv row, const char *key, const char *s)
{
	jv v = jv_object_get(jv_copy(row), sl_key(key));
	int same = jv_get_kind(v) == JV_KIND_STRING &&
	    strcmp(jv_string_value(v), s) == 0;

	jv_free(v);
	return same;
}

static jv
num(int64_t x)
{
	return jv_number((double)x);
}

static jv
str_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}

/* Rolls back, keeping the error that made it necessary. */
static void
rollback_keep(struct sl_db *db)
{
	char *err = sl_strdup(sl_db_error(db));
	int temporary = sl_db_temporary(db), code = sl_db_exit_code(db);

	sl_db_rollback(db);
	sl_db_fail(db, temporary, code, "%s", err);
	free(err);
}

/* Adding. */

/* What makes two items the same slot: the prospect, or booking and kind. */
struct slot {
	int reminder;
	int64_t key;
	const char *kind;
	size_t idx;
};

static int
slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c;

	if (x->reminder != y->reminder)
		return x->reminder - y->reminder;
	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	if (x->reminder && (c = strcmp(x->kind, y->kind)) != 0)
		return c;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int
same_slot(const struct slot *x, const struct slot *y)
{
	return x->reminder == y->reminder && x->key == y->key &&
	    (!x->reminder || strcmp(x->kind, y->kind) == 0);
}

/* The rows (sorted by id) as arrays of id and of column col (-1: null). */
struct found {
	int64_t *id, *col;
	size_t n;
};

static void
found_load(struct found *f, jv rows, const char *col)
{
	size_t i;

	f->n = (size_t)jv_array_length(jv_copy(rows));
	f->id = sl_calloc(f->n + 1, sizeof *f->id);
	f->col = sl_calloc(f->n + 1, sizeof *f->col);
	for (i = 0; i < f->n; i++) {
		jv row = jv_array_get(jv_copy(rows), (int)i);

		f->id[i] = row_int(row, "id", 0);
		f->col[i] = row_int(row, col, -1);
		jv_free(row);
	}
}

/* The index of id in f, or -1. */
static long
found_find(const struct found *f, int64_t id)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->id[mid] == id)
			return (long)mid;
		if (f->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Checks prospects and bookings; fills rep[] (-1: none). */
static int
add_check(struct sl_db *db, struct sl_sched_item *it, size_t n,
    int64_t *rep)
{
	struct ids ps = { 0 }, bs = { 0 };
	struct found f = { 0 };
	size_t i;
	long k;
	int rc = -1;
	jv rows;

	for (i = 0; i < n; i++) {
		if (it[i].error)
			continue;
		ids_add(&ps, it[i].prospect);
		if (it[i].booking)
			ids_add(&bs, it[i].booking);
	}
	ids_uniq(&ps);
	ids_uniq(&bs);
	rows = query_in(db, is_pg(db) ? "SELECT id, rep_id FROM prospects "
	    "WHERE @IN(id,$1) ORDER BY id FOR NO KEY UPDATE" :
	    "SELECT id, rep_id FROM prospects WHERE @IN(id,$1) ORDER BY id",
	    JV_ARRAY(ids_param(db, &ps)));
	if (!jv_is_valid(rows))
		goto out;
	found_load(&f, rows, "rep_id");
	jv_free(rows);
	for (i = 0; i < n; i++) {
		if (it[i].error)
			continue;
		if ((k = found_find(&f, it[i].prospect)) < 0)
			it[i].error = "unknown prospect";
		else
			rep[i] = f.col[k];
	}
	rc = 0;
	if (bs.n == 0)
		goto out;
	rc = -1;
	rows = query_in(db, is_pg(db) ? "SELECT id, prospect_id, CASE WHEN "
	    "status IN ('booked', 'held') THEN 1 ELSE 0 END AS live FROM "
	    "bookings WHERE @IN(id,$1) ORDER BY id FOR NO KEY UPDATE" :
	    "SELECT id, prospect_id, CASE WHEN status IN ('booked', 'held') "
	    "THEN 1 ELSE 0 END AS live FROM bookings WHERE @IN(id,$1) "
	    "ORDER BY id", JV_ARRAY(ids_param(db, &bs)));
	if (!jv_is_valid(rows))
		goto out;
	free(f.id);
	free(f.col);
	found_load(&f, rows, "prospect_id");
	for (i = 0; i < n; i++) {
		jv row;

		if (it[i].error || it[i].booking == 0)
			continue;
		if ((k = found_find(&f, it[i].booking)) < 0) {
			it[i].error = "unknown booking";
			continue;
		}
		row = jv_array_get(jv_copy(rows), (int)k);
		if (f.col[k] >= 0 && f.col[k] != it[i].prospect)
			it[i].error = "not this prospect's booking";
		else if (row_int(row, "live", 0) == 0)
			it[i].error = "cancelled or expired booking";
		jv_free(row);
	}
	jv_free(rows);
	rc = 0;
out:
	free(f.id);
	free(f.col);
	free(ps.v);
	free(bs.v);
	return rc;
}

/*
 * PostgreSQL: k new ids from the identity's sequence, in one row as an
 * array's text "{11,12,...}"; -1 when the text is not that.  The CTE is
 * materialised so that the sequence is looked up once, not once a row.
 */
static int
pg_ids(struct sl_db *db, size_t k, int64_t *out)
{
	jv v = sl_db_column(db, "WITH q AS MATERIALIZED (SELECT CAST("
	    "pg_get_serial_sequence('scheduled_actions', 'id') AS regclass) "
	    "AS s) SELECT CAST(array_agg(nextval(q.s)) AS TEXT) AS ids FROM q, "
	    "generate_series(1, CAST($1 AS BIGINT))", JV_ARRAY(num((int64_t)k)),
	    "ids"), s;
	const char *p;
	char *end;
	size_t i;
	int rc = -1;

	if (!jv_is_valid(v))
		return -1;
	s = jv_array_get(jv_copy(v), 0);
	if (jv_get_kind(s) != JV_KIND_STRING ||
	    *(p = jv_string_value(s)) != '{')
		goto out;
	p++;
	for (i = 0; i < k; i++) {
		out[i] = (int64_t)strtoll(p, &end, 10);
		if (end == p || *end != (i + 1 < k ? ',' : '}'))
			goto out;
		p = end + 1;
	}
	rc = 0;
out:
	if (rc < 0)
		sl_db_fail(db, 0, 0, "unexpected ids from the sequence");
	jv_free(s);
	jv_free(v);
	return rc;
}

/* Gives the k items without error their ids, in input order. */
static int
add_ids(struct sl_db *db, struct sl_sched_item *it, size_t n, size_t k)
{
	int64_t *ids = sl_malloc(k * sizeof *ids), base;
	size_t i, j;
	jv row;

	if (is_pg(db)) {
		if (pg_ids(db, k, ids) < 0) {
			free(ids);
			return -1;
		}
	} else {
		row = sl_db_query1(db, "SELECT coalesce(max(id), 0) AS m FROM "
		    "scheduled_actions", jv_null());
		if (!jv_is_valid(row)) {
			jv_free(row);
			free(ids);
			return -1;
		}
		base = row_int(row, "m", 0);
		jv_free(row);
		for (j = 0; j < k; j++)
			ids[j] = base + 1 + (int64_t)j;
	}
	for (i = j = 0; i < n; i++)
		if (!it[i].error)
			it[i].id = ids[j++];
	free(ids);
	return 0;
}

/*
 * Cancels the pending actions that the first item of each slot replaces
 * and notes their ids.
 */
/* Notes the replaced rows on the first item of their slot. */
static void
replaced_note(struct sl_sched_item *it, const struct slot *s, size_t k,
    jv rows)
{
	int j, len = jv_array_length(jv_copy(rows));

	for (j = 0; j < len; j++) {
		jv row = jv_array_get(jv_copy(rows), j);
		struct slot key;
		size_t lo = 0, hi = k;

		key.reminder = !row_is(row, "kind", "followup");
		key.key = row_int(row, key.reminder ? "booking_id" :
		    "prospect_id", 0);
		key.kind = key.reminder && row_is(row, "kind", "reminder_1h") ?
		    "reminder_1h" : "reminder_24h";
		key.idx = 0;	/* sorts before every item of the slot */
		/* the first item of the slot is the first one after key */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (slot_cmp(&s[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < k && same_slot(&s[lo], &key))
			it[s[lo].idx].replaced = row_int(row, "id", 0);
		jv_free(row);
	}
}

static int
add_replace(struct sl_db *db, struct sl_sched_item *it, struct slot *s,
    size_t k, int64_t now)
{
	struct ids set[NKINDS] = { { 0 } };
	size_t i, j;
	int rc = -1;
	jv rows;

	for (i = 0; i < k; i++) {
		if (i > 0 && same_slot(&s[i - 1], &s[i]))
			continue;	/* not the first of its slot */
		for (j = 0; j < NKINDS; j++)
			if (strcmp(s[i].reminder ? s[i].kind : "followup",
			    kinds[j]) == 0)
				ids_add(&set[j], s[i].key);
	}
	for (j = 0; j < NKINDS; j++) {
		if (set[j].n == 0)
			continue;
		rows = query_in(db, j == 0 ? "UPDATE scheduled_actions SET "
		    "status = 'cancelled', cancel_reason = 'replaced', "
		    "updated_at = $3 WHERE @IN(prospect_id,$1) AND kind = $2 "
		    "AND status = 'pending' RETURNING id, prospect_id, "
		    "booking_id, kind" : "UPDATE scheduled_actions SET "
		    "status = 'cancelled', cancel_reason = 'replaced', "
		    "updated_at = $3 WHERE @IN(booking_id,$1) AND kind = $2 "
		    "AND status = 'pending' RETURNING id, prospect_id, "
		    "booking_id, kind", JV_ARRAY(ids_param(db, &set[j]),
		    jv_string(kinds[j]), num(now)));
		if (!jv_is_valid(rows))
			goto out;
		replaced_note(it, s, k, rows);
		jv_free(rows);
	}
	rc = 0;
out:
	for (j = 0; j < NKINDS; j++)
		free(set[j].v);
	return rc;
}

static void
buf_int(struct sl_buf *b, int64_t x, int null_if_negative)
{
	char tmp[32];
	int n;

	if (null_if_negative && x < 0) {
		sl_buf_add(b, "null,", 5);
		return;
	}
	n = snprintf(tmp, sizeof tmp, "%lld,", (long long)x);
	sl_buf_add(b, tmp, (size_t)n);
}

/* s as a JSON string (null when NULL), then sep. */
static void
buf_str(struct sl_buf *b, const char *s, const char *sep)
{
	static const char hex[] = "0123456789abcdef";
	const char *p, *run;
	char esc[8];

	if (s == NULL) {
		sl_buf_add(b, "null", 4);
		sl_buf_add(b, sep, strlen(sep));
		return;
	}
	sl_buf_add(b, "\"", 1);
	for (p = run = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sl_buf_add(b, run, (size_t)(p - run));
		esc[0] = '\\';
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			sl_buf_add(b, esc, 2);
		} else {
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			sl_buf_add(b, esc, 6);
		}
		run = p + 1;
	}
	sl_buf_add(b, run, (size_t)(p - run));
	sl_buf_add(b, "\"", 1);
	sl_buf_add(b, sep, strlen(sep));
}

static struct sl_db_param
p_int(int64_t x, int null_if_negative)
{
	struct sl_db_param v = { SL_DB_PINT, x, 0, NULL, 0 };

	if (null_if_negative && x < 0)
		v.kind = SL_DB_PNULL;
	return v;
}

static struct sl_db_param
p_str(const char *s)
{
	struct sl_db_param v = { SL_DB_PNULL, 0, 0, NULL, 0 };

	if (s) {
		v.kind = SL_DB_PTEXT;
		v.s = s;
		v.len = strlen(s);
	}
	return v;
}

/*
 * SQLite: one prepared INSERT run per item, its values bound as they are;
 * a JSON parameter would be parsed again for every column it gives.
 */
static int
add_insert_rows(struct sl_db *db, struct sl_sched_item *it,
    const struct slot *s, size_t k, const int64_t *rep, int64_t now)
{
	struct sl_db_param p[13];
	char key[64];
	size_t i;

	for (i = 0; i < k; i++) {
		const struct sl_sched_item *x = &it[s[i].idx];

		snprintf(key, sizeof key, "%s:%lld", x->kind, (long long)x->id);
		p[0] = p_int(x->id, 0);
		p[1] = p_int(x->prospect, 0);
		p[2] = p_int(rep[s[i].idx], 1);
		p[3] = p_int(x->booking ? x->booking : -1, 1);
		p[4] = p_str(x->kind);
		p[5] = p_int(x->due, 0);
		p[6] = p_str(x->superseded ? "cancelled" : "pending");
		p[7] = p_str(x->reason);
		p[8] = p_str(x->text);
		p[9] = p_str(key);
		p[10] = p_str(x->source);
		p[11] = p_str(x->superseded ? "replaced" : NULL);
		p[12] = p_int(now, 0);
		if (sl_db_exec_params(db, "INSERT INTO scheduled_actions (id, "
		    "prospect_id, rep_id, booking_id, kind, due, status, reason, "
		    "text, message_key, source, cancel_reason, created_at, "
		    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
		    "$11, $12, $13, $13)", p, 13) < 0)
			return -1;
	}
	return 0;
}

/*
 * PostgreSQL: the stored items go in as one JSON parameter, an array of
 * rows: one statement and one round trip per batch.
 */
static int
add_insert(struct sl_db *db, struct sl_sched_item *it, const struct slot *s,
    size_t k, const int64_t *rep, int64_t now)
{
	struct sl_buf b = { 0 };
	char key[64];
	size_t i;
	long r;

	if (!is_pg(db))
		return add_insert_rows(db, it, s, k, rep, now);
	sl_buf_add(&b, "[", 1);
	for (i = 0; i < k; i++) {
		const struct sl_sched_item *x = &it[s[i].idx];

		snprintf(key, sizeof key, "%s:%lld", x->kind, (long long)x->id);
		sl_buf_add(&b, i ? ",[" : "[", i ? 2 : 1);
		buf_int(&b, x->id, 0);
		buf_int(&b, x->prospect, 0);
		buf_int(&b, rep[s[i].idx], 1);
		buf_int(&b, x->booking ? x->booking : -1, 1);
		buf_str(&b, x->kind, ",");
		buf_int(&b, x->due, 0);
		buf_str(&b, x->superseded ? "cancelled" : "pending", ",");
		buf_str(&b, x->reason, ",");
		buf_str(&b, x->text, ",");
		buf_str(&b, key, ",");
		buf_str(&b, x->source, ",");
		buf_str(&b, x->superseded ? "replaced" : NULL, "]");
	}
	sl_buf_add(&b, "]", 1);
	r = sl_db_exec(db, "INSERT INTO scheduled_actions (id, "
	    "prospect_id, rep_id, booking_id, kind, due, status, reason, text, "
	    "message_key, source, cancel_reason, created_at, updated_at) "
	    "SELECT CAST(v ->> 0 AS BIGINT), CAST(v ->> 1 AS BIGINT), "
	    "CAST(v ->> 2 AS BIGINT), CAST(v ->> 3 AS BIGINT), v ->> 4, "
	    "CAST(v ->> 5 AS BIGINT), v ->> 6, v ->> 7, v ->> 8, v ->> 9, "
	    "v ->> 10, v ->> 11, CAST($2 AS BIGINT), CAST($2 AS BIGINT) "
	    "FROM jsonb_array_elements(CAST($1 AS JSONB)) AS j(v)",
	    JV_ARRAY(jv_string_sized(b.s, (int)b.len), num(now)));
	free(b.s);
	return r < 0 ? -1 : 0;
}

int
sl_sched_add(struct sl_db *db, struct sl_sched_item *it, size_t n,
    int64_t now, int dry_run)
{
	struct slot *s = NULL;
	int64_t *rep = NULL;
	size_t i, k = 0;
	int any = 0, own = !sl_db_in_tx(db);

	for (i = 0; i < n; i++) {
		it[i].id = it[i].replaced = 0;
		it[i].superseded = 0;
		if (it[i].error)
			continue;
		if (it[i].kind == NULL)
			it[i].kind = "followup";
		if (!sl_sched_kind_ok(it[i].kind))
			it[i].error = "unknown kind for prospect";
		else if (sl_sched_kind_reminder(it[i].kind) &&
		    it[i].booking == 0)
			it[i].error = "reminder with no booking for prospect";
		else if (it[i].due < SL_SCHED_MIN_DUE ||
		    it[i].due > SL_TIME_MAX)
			it[i].error = "due time out of range for prospect";
		else if (it[i].prospect <= 0)
			it[i].error = "unknown prospect";
		else
			any = 1;
	}
	if (!any)
		return 0;
	rep = sl_malloc(n * sizeof *rep);
	if (own && sl_db_begin_claim(db) < 0)
		goto fail;
	if (add_check(db, it, n, rep) < 0)
		goto fail;
	s = sl_calloc(n, sizeof *s);
	for (i = 0; i < n; i++) {
		if (it[i].error)
			continue;
		s[k].reminder = sl_sched_kind_reminder(it[i].kind);
		s[k].key = s[k].reminder ? it[i].booking : it[i].prospect;
		s[k].kind = it[i].kind;
		s[k].idx = i;
		k++;
	}
	if (k == 0) {
		if (own)
			sl_db_rollback(db);
		goto done;
	}
	qsort(s, k, sizeof *s, slot_cmp);
	if (add_ids(db, it, n, k) < 0 || add_replace(db, it, s, k, now) < 0)
		goto fail;
	/* within a slot each item replaces the one before it */
	for (i = 1; i < k; i++) {
		if (same_slot(&s[i - 1], &s[i])) {
			it[s[i - 1].idx].superseded = 1;
			it[s[i].idx].replaced = it[s[i - 1].idx].id;
		}
	}
	if (add_insert(db, it, s, k, rep, now) < 0)
		goto fail;
	if (own && (dry_run ? sl_db_rollback(db) : sl_db_commit(db)) < 0)
		goto fail;
done:
	free(s);
	free(rep);
	return 0;
fail:
	if (own)
		rollback_keep(db);
	for (i = 0; i < n; i++)
		it[i].id = it[i].replaced = 0;
	free(s);
	free(rep);
	return -1;
}

/* Claiming. */

/* followup.due of a claimed row (borrowed). */
static jv
due_record(jv row)
{
	static const char *const strs[][2] = { { "channel", "channel" },
		{ "chat", "chat" }, { "business_connection",
		"business_connection" }, { "rep", "rep" }, { "kind", "kind" },
		{ "reason", "reason" }, { "text", "text" },
		{ "message_key", "key" } };
	char buf[SL_TIME_BUFSZ];
	jv rec, v;
	size_t i;

	rec = JV_OBJECT(jv_string("type"), jv_string("followup.due"),
	    jv_string("id"), sl_id_jv(row_int(row, "id", 0)),
	    jv_string("prospect"), sl_id_jv(row_int(row, "prospect_id", 0)));
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		v = jv_object_get(jv_copy(row), jv_string(strs[i][0]));
		if (jv_get_kind(v) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(v)) > 0)
			rec = jv_object_set(rec, jv_string(strs[i][1]), v);
		else if (jv_get_kind(v) == JV_KIND_NUMBER)
			rec = jv_object_set(rec, jv_string(strs[i][1]),
			    sl_id_jv((int64_t)jv_number_value(v)));
		else
			jv_free(v);
		if (i == 4)
			rec = jv_object_set(rec, jv_string("due"),
			    jv_string(sl_time_fmt(row_int(row, "due", 0),
			    buf)));
	}
	rec = jv_object_set(rec, jv_string("attempt"),
	    num(row_int(row, "attempts", 1)));
	if (row_int(row, "booking_id", 0) > 0) {
		rec = jv_object_set(rec, jv_string("booking"),
		    sl_id_jv(row_int(row, "booking_id", 0)));
		if (row_int(row, "start_at", 0) > 0)
			rec = jv_object_set(rec, jv_string("start"),
			    jv_string(sl_time_fmt(row_int(row, "start_at", 0),
			    buf)));
	}
	return rec;
}

/*
 * What to do with a claimed row, decided in SQL (the "verdict" column of
 * the claim query): NULL hand it out; 'done' its key was sent; 'busy' its
 * message is being sent (queued, sending, uncertain): keep the claim;
 * 'failed' claimed too often; else a cancel reason.
 */
enum { HAND_OUT = -1, DONE = NCANCEL, BUSY, FAILED };

static int
verdict(jv row)
{
	jv v = jv_object_get(jv_copy(row), jv_string("verdict"));
	const char *s;
	int r = HAND_OUT, i;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		s = jv_string_value(v);
		r = strcmp(s, "done") == 0 ? DONE : strcmp(s, "busy") == 0 ?
		    BUSY : FAILED;
		for (i = 0; i < NCANCEL; i++)
			if (strcmp(s, cancel_reasons[i]) == 0)
				r = i;
	}
	jv_free(v);
	return r;
}

static int
claim_ids(struct sl_db *db, const char *sql, int64_t now, int limit,
    int64_t after, struct ids *out)
{
	jv rows = sl_db_claim(db, sql, after < 0 ? JV_ARRAY(num(now),
	    num(limit)) : JV_ARRAY(num(now), num(limit), num(after)));
	int i, len;

	if (!jv_is_valid(rows))
		return -1;
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len; i++) {
		jv row = jv_array_get(jv_copy(rows), i);

		ids_add(out, row_int(row, "id", 0));
		jv_free(row);
	}
	jv_free(rows);
	return 0;
}

/* Closes the rows of each verdict other than HAND_OUT and BUSY. */
static int
claim_close(struct sl_db *db, struct ids *by, const struct sl_sched_claim *c)
{
	char err[128];
	int v;

	if (by[DONE].n && exec_in(db, "UPDATE scheduled_actions SET status = "
	    "'done', done_at = $2, lease_until = NULL, updated_at = $2 WHERE "
	    "@IN(id,$1)", JV_ARRAY(ids_param(db, &by[DONE]), num(c->now))) < 0)
		return -1;
	snprintf(err, sizeof err, "{\"code\":\"attempts\",\"message\":"
	    "\"claimed %d times and never sent\",\"temporary\":false}",
	    c->max_attempts + 1);
	if (by[FAILED].n && exec_in(db, "UPDATE scheduled_actions SET status = "
	    "'failed', error = $2, lease_until = NULL, updated_at = $3 WHERE "
	    "@IN(id,$1)", JV_ARRAY(ids_param(db, &by[FAILED]), jv_string(err),
	    num(c->now))) < 0)
		return -1;
	for (v = 0; v < NCANCEL; v++)
		if (by[v].n && exec_in(db, "UPDATE scheduled_actions SET "
		    "status = 'cancelled', cancel_reason = $2, lease_until = "
		    "NULL, updated_at = $3 WHERE @IN(id,$1)",
		    JV_ARRAY(ids_param(db, &by[v]),
		    jv_string(cancel_reasons[v]), num(c->now))) < 0)
			return -1;
	return 0;
}

/*
 * The claimed rows with what a followup.due needs and the verdict; $2 is
 * now, $3 the attempts allowed.  "The client wrote since" compares the
 * ledger's own clock (when a message was received), never the channel's
 * date of it: a Telegram clock a second ahead must not cancel the
 * follow-up the same message asked for.
 */
#define CLAIM_COLS \
	"SELECT a.id, a.prospect_id, a.booking_id, a.kind, a.due, a.reason, " \
	"a.text, coalesce(a.message_key, a.kind || ':' || " \
	"CAST(a.id AS TEXT)) " \
	"AS message_key, a.attempts, p.channel, p.chat, " \
	"p.business_connection, r.name AS rep, b.start_at, CASE " \
	"WHEN m.status = 'sent' THEN 'done' " \
	"WHEN p.erased_at IS NOT NULL THEN 'erased' " \
	"WHEN p.human_active <> 0 THEN 'human_takeover' " \
	"WHEN p.unreachable <> 0 THEN 'unreachable' " \
	"WHEN p.stage IN ('closed', 'lost') THEN 'closed' " \
	"WHEN a.kind = 'followup' AND (p.last_in_at > a.created_at OR " \
	"EXISTS (SELECT 1 FROM messages i WHERE i.prospect_id = " \
	"a.prospect_id AND i.direction = 'in' AND " \
	"i.created_at > a.created_at)) " \
	"THEN 'client_wrote' " \
	"WHEN a.kind <> 'followup' AND a.booking_id IS NOT NULL AND " \
	"(b.status IS NULL OR b.status <> 'booked') THEN 'booking_cancelled' " \
	"WHEN a.kind <> 'followup' AND b.start_at <= $2 THEN 'expired' " \
	"WHEN m.status IN ('queued', 'sending', 'uncertain') THEN 'busy' " \
	"WHEN a.attempts > $3 THEN 'failed' END AS verdict "
#define CLAIM_JOINS \
	"JOIN prospects p ON p.id = a.prospect_id " \
	"LEFT JOIN reps r ON r.id = p.rep_id " \
	"LEFT JOIN messages m ON m.key = coalesce(a.message_key, a.kind || " \
	"':' || CAST(a.id AS TEXT)) " \
	"LEFT JOIN bookings b ON b.id = a.booking_id "

/*
 * Claims by ids already selected (and locked): the claim, then the rows.
 * message_key is not set here: SQLite rewrites the index of every column
 * that is assigned, even to the same value.
 */
static jv
claim_by_ids(struct sl_db *db, const struct sl_sched_claim *c,
    const struct ids *got)
{
	if (exec_in(db, "UPDATE scheduled_actions SET status = 'claimed', "
	    "lease_until = $2, claimed_by = $3, attempts = attempts + 1, "
	    "updated_at = $4 WHERE @IN(id,$1)",
	    JV_ARRAY(ids_param(db, got), num(c->now + c->lease),
	    jv_string(c->worker ? c->worker : "?"), num(c->now))) < 0)
		return jv_invalid();
	return query_in(db, CLAIM_COLS "FROM scheduled_actions a " CLAIM_JOINS
	    "WHERE @IN(a.id,$1) ORDER BY a.due, a.id",
	    JV_ARRAY(ids_param(db, got), num(c->now), num(c->max_attempts)));
}

/*
 * PostgreSQL, pending actions only: the claim and its rows in one
 * statement, one round trip and one plan per batch.
 */
static jv
claim_pending_pg(struct sl_db *db, const struct sl_sched_claim *c)
{
	return sl_db_query(db, "WITH a AS (UPDATE scheduled_actions SET "
	    "status = 'claimed', lease_until = $4, claimed_by = $5, "
	    "attempts = attempts + 1, updated_at = $1 WHERE id IN (SELECT id "
	    "FROM scheduled_actions WHERE status = 'pending' AND due <= $1 "
	    "AND due >= $7 ORDER BY due LIMIT $6 FOR UPDATE SKIP LOCKED) "
	    "RETURNING *) " CLAIM_COLS "FROM a " CLAIM_JOINS
	    "ORDER BY a.due, a.id",
	    JV_ARRAY(num(c->now), num(c->now), num(c->max_attempts),
	    num(c->now + c->lease), jv_string(c->worker ? c->worker : "?"),
	    num(c->batch), num(c->after)));
}

jv
sl_sched_claim(struct sl_db *db, struct sl_sched_claim *c)
{
	struct ids got = { 0 }, by[FAILED + 1];
	jv rows = jv_invalid(), out = jv_array();
	int i, len, v, fused = 0;

	memset(by, 0, sizeof by);
	c->claimed = 0;
	if (sl_db_begin_claim(db) < 0)
		goto fail;
	/* expired leases first: they are the oldest work */
	if (claim_ids(db, "SELECT id FROM scheduled_actions WHERE status = "
	    "'claimed' AND lease_until <= $1 ORDER BY lease_until LIMIT $2",
	    c->now, c->batch, -1, &got) < 0)
		goto fail;
	if (got.n == 0 && is_pg(db)) {
		fused = 1;
		rows = claim_pending_pg(db, c);
		if (!jv_is_valid(rows))
			goto fail;
		c->claimed = jv_array_length(jv_copy(rows));
	} else {
		if ((int)got.n < c->batch && claim_ids(db, "SELECT id FROM "
		    "scheduled_actions WHERE status = 'pending' AND due <= $1 "
		    "AND due >= $3 ORDER BY due LIMIT $2", c->now,
		    c->batch - (int)got.n, c->after, &got) < 0)
			goto fail;
		c->claimed = (int)got.n;
		if (got.n > 0)
			rows = claim_by_ids(db, c, &got);
	}
	if (c->claimed == 0) {
		sl_db_rollback(db);
		goto out;
	}
	if (!jv_is_valid(rows))
		goto fail;
	len = jv_array_length(jv_copy(rows));
	for (i = 0; i < len; i++) {
		jv row = jv_array_get(jv_copy(rows), i);

		if (fused && row_int(row, "due", 0) > c->after)
			c->after = row_int(row, "due", 0);
		v = verdict(row);
		if (v == HAND_OUT)
			out = jv_array_append(out, due_record(row));
		else
			ids_add(&by[v], row_int(row, "id", 0));
		jv_free(row);
	}
	if (claim_close(db, by, c) < 0)
		goto fail;
	if ((c->dry_run ? sl_db_rollback(db) : sl_db_commit(db)) < 0)
		goto fail;
	c->emitted += jv_array_length(jv_copy(out));
	c->done += (long)by[DONE].n;
	c->failed += (long)by[FAILED].n;
	c->busy += (long)by[BUSY].n;
	for (v = 0; v < NCANCEL; v++)
		c->cancelled += (long)by[v].n;
	goto out;
fail:
	rollback_keep(db);
	jv_free(out);
	out = jv_invalid_with_msg(jv_string(sl_db_error(db)));
out:
	jv_free(rows);
	free(got.v);
	for (v = 0; v <= FAILED; v++)
		free(by[v].v);
	return out;
}

int
sl_sched_any_due(struct sl_db *db, int64_t now)
{
	jv row = sl_db_query1(db, "SELECT CASE WHEN EXISTS (SELECT 1 FROM "
	    "scheduled_actions WHERE status = 'pending' AND due <= $1) OR "
	    "EXISTS (SELECT 1 FROM scheduled_actions WHERE status = 'claimed' "
	    "AND lease_until <= $1) THEN 1 ELSE 0 END AS x",
	    JV_ARRAY(num(now)));
	int r;

	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	r = row_int(row, "x", 0) != 0;
	jv_free(row);
	return r;
}

int
sl_sched_next(struct sl_db *db, int64_t *at)
{
	jv row = sl_db_query1(db, "SELECT (SELECT min(due) FROM "
	    "scheduled_actions WHERE status = 'pending') AS d, (SELECT "
	    "min(lease_until) FROM scheduled_actions WHERE status = "
	    "'claimed') AS l", jv_null());
	int64_t d, l;

	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	d = row_int(row, "d", 0);
	l = row_int(row, "l", 0);
	jv_free(row);
	*at = d == 0 ? l : l == 0 ? d : d < l ? d : l;
	return 0;
}

long
sl_sched_cancel(struct sl_db *db, int64_t prospect, const char *kind,
    const char *reason, int64_t now, jv *ids)
{
	jv rows;
	long n;

	rows = sl_db_query(db, "UPDATE scheduled_actions SET status = "
	    "'cancelled', cancel_reason = $2, lease_until = NULL, "
	    "updated_at = $3 WHERE prospect_id = $1 AND status = 'pending' "
	    "AND (CAST($4 AS TEXT) IS NULL OR kind = CAST($4 AS TEXT)) "
	    "RETURNING id, kind, due", JV_ARRAY(num(prospect),
	    jv_string(reason), num(now), str_or_null(kind)));
	if (!jv_is_valid(rows)) {
		jv_free(rows);
		return -1;
	}
	n = jv_array_length(jv_copy(rows));
	if (ids)
		*ids = rows;
	else
		jv_free(rows);
	return n;
}

int
sl_sched_close(struct sl_db *db, int64_t id, const char *key, int ok,
    const char *error, int64_t now, char *status, size_t statuslen)
{
	jv match = id ? num(id) : jv_string(key ? key : ""), row, st;
	const char *where = id ? "id = $1" : "message_key = $1";
	char *sql;
	long n;
	int r;

	if (ok)
		sql = sl_asprintf("UPDATE scheduled_actions SET status = "
		    "'done', done_at = $2, lease_until = NULL, updated_at = $2 "
		    "WHERE %s AND status IN ('pending', 'claimed', 'failed')",
		    where);
	else
		sql = sl_asprintf("UPDATE scheduled_actions SET status = "
		    "'failed', error = $3, lease_until = NULL, updated_at = $2 "
		    "WHERE %s AND status IN ('pending', 'claimed')", where);
	n = sl_db_exec(db, sql, ok ? JV_ARRAY(jv_copy(match), num(now)) :
	    JV_ARRAY(jv_copy(match), num(now), str_or_null(error)));
	free(sql);
	if (n != 0) {
		jv_free(match);
		return n < 0 ? -1 : 1;
	}
	sql = sl_asprintf("SELECT status FROM scheduled_actions WHERE %s",
	    where);
	row = sl_db_query1(db, sql, JV_ARRAY(match));
	free(sql);
	if (!jv_is_valid(row)) {
		jv_free(row);
		return -1;
	}
	if (jv_get_kind(row) == JV_KIND_NULL)
		return -2;
	st = jv_object_get(row, jv_string("status"));
	r = jv_get_kind(st) == JV_KIND_STRING &&
	    strcmp(jv_string_value(st), ok ? "done" : "failed") == 0 ? 0 : -3;
	if (r == -3 && status && statuslen)
		snprintf(status, statuslen, "%s", jv_get_kind(st) ==
		    JV_KIND_STRING ? jv_string_value(st) : "?");
	jv_free(st);
	return r;
}
