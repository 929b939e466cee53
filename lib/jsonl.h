/*
 * jsonl.h: JSON lines in and out, and type-checked access to records.
 *
 * libjq's accessors assert on a value of the wrong kind, so a record from
 * outside is only ever read through the sl_get_* getters below, which check
 * the kind first.  Ownership follows libjq (jv.h): functions consume their
 * jv arguments unless the comment says "borrows".
 */
#ifndef SL_JSONL_H
#define SL_JSONL_H

#include <stdint.h>
#include <stdio.h>

#include <jv.h>

/* Longest line accepted; a longer one is reported and skipped. */
#define SL_LINE_MAX (64 * 1024 * 1024)

struct sl_reader;

/*
 * A reader over f, called name in messages ("stdin").  sl_reader_next
 * stores the next record (an object) in *rec and returns 1; returns 0 at
 * the end of input and -1 on a read error (reported).  A line that is not
 * a JSON object is reported as "name:LINE: reason", counted and skipped.
 */
struct sl_reader *sl_reader_new(FILE *f, const char *name);
int sl_reader_next(struct sl_reader *r, jv *rec);
/* Line number of the record last returned. */
unsigned long sl_reader_lineno(const struct sl_reader *r);
/* Lines rejected so far, by the reader or by sl_reader_reject. */
unsigned long sl_reader_rejected(const struct sl_reader *r);
/*
 * Reports a problem with the record last returned as
 * "prog: name:LINE: message", counts it as rejected, returns -1.
 */
int sl_reader_reject(struct sl_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Lowers the longest line accepted (tests). */
void sl_reader_set_max(struct sl_reader *r, size_t max);
void sl_reader_free(struct sl_reader *r);

/*
 * The usual loop: every record of f goes to fn, which consumes it and
 * returns 0 when it was handled, -1 when it was rejected (reported with
 * sl_reader_reject, or counted here if it was not), or an exit status > 1
 * to stop the loop at once after a fatal condition it has reported (75
 * when the ledger is down, say).  Returns that status, or SL_EX_IOERR on a
 * read or write error, SL_EX_REJECT when any record was rejected, else
 * SL_EX_OK.
 */
typedef int sl_record_fn(struct sl_reader *r, jv rec, void *ctx);
int sl_jsonl_loop(FILE *f, const char *name, sl_record_fn *fn, void *ctx);

/*
 * Output: one compact object per line on stdout, flushed.  Returns 0, or -1
 * after the first write error, which is reported once; later calls return
 * -1 without writing.  sl_out_status() is SL_EX_IOERR after a write error.
 * sl_out_close() flushes and closes stdout and reports a late error.
 * sl_emit_more() is sl_emit() without the flush, for a batch that ends with
 * sl_out_flush(): one write(2) for many records.
 */
int sl_emit(jv rec);
int sl_emit_more(jv rec);
int sl_out_flush(void);
/* v as compact JSON text (borrows v); a new string, its length in *len. */
char *sl_json_dump(jv v, size_t *len);
int sl_out_status(void);
int sl_out_close(void);

/*
 * Getters.  They borrow obj (which must be an object) and return 1 when the
 * field is present with the right kind, 0 when it is absent or null, and -1
 * when it has the wrong kind; then the caller reports it with the field
 * name, e.g. sl_reader_reject(r, "'chat': expected a string").
 *
 * sl_get_str: *out points into obj and lives as long as obj.
 * sl_get_int: a number with no fraction within +-2^53, or a string of
 *             decimal digits within int64 (IDs arrive both ways).
 * sl_get_id:  an ID as a string: a string as it is, an integral number
 *             printed without exponent; *out is a new jv string.
 * sl_get_obj, sl_get_arr: *out is a copy the caller frees.
 * sl_get_time: an RFC 3339 string or Unix seconds, as Unix seconds.
 */
int sl_get_str(jv obj, const char *key, const char **out);
int sl_get_int(jv obj, const char *key, int64_t *out);
int sl_get_num(jv obj, const char *key, double *out);
int sl_get_bool(jv obj, const char *key, int *out);
int sl_get_id(jv obj, const char *key, jv *out);
int sl_get_obj(jv obj, const char *key, jv *out);
int sl_get_arr(jv obj, const char *key, jv *out);
int sl_get_time(jv obj, const char *key, int64_t *out);

/* A kind name for messages: "a string", "a number", "an object", ... */
const char *sl_kind_name(jv v);	/* borrows v */

/* int64 as a jv string, without loss. */
jv sl_id_jv(int64_t id);
/* obj[key] = value; consumes obj and value (jv_object_set, checked). */
jv sl_set(jv obj, const char *key, jv value);
/* The jv string for a key, from a small per-thread cache: a new reference. */
jv sl_key(const char *key);

/*
 * Parses one line (which need not be NUL-terminated) into a value.
 * Returns an invalid jv with a short message on failure (never containing
 * the whole line).
 */
jv sl_parse(const char *buf, size_t len);

#endif
