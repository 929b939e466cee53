/*
 * libFuzzer target for the JSON-lines reader, the writer, the getters and
 * sl_mask: whatever the bytes, nothing may abort, leak or read out of
 * bounds, and what the writer prints reads back as the same value.
 * Run by make fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "sl.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"type", "text", "chat", "id", "at", "from", "msg", "", NULL
};

static void
poke(jv rec)
{
	const char *s;
	int64_t i;
	double d;
	int b;
	jv v;
	size_t k;

	for (k = 0; keys[k]; k++) {
		sl_get_str(rec, keys[k], &s);
		sl_get_int(rec, keys[k], &i);
		sl_get_num(rec, keys[k], &d);
		sl_get_bool(rec, keys[k], &b);
		sl_get_time(rec, keys[k], &i);
		if (sl_get_id(rec, keys[k], &v) == 1)
			jv_free(v);
		if (sl_get_obj(rec, keys[k], &v) == 1)
			jv_free(v);
		if (sl_get_arr(rec, keys[k], &v) == 1)
			jv_free(v);
	}
	/* What the writer prints reads back as the same value. */
	{
		size_t n;
		char *text = sl_json_dump(rec, &n);
		jv back = sl_parse(text, n);

		if (!jv_equal(jv_copy(rec), back))
			abort();
		free(text);
	}
	jv_free(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct sl_reader *r;
	FILE *f;
	char *str, *m;
	jv rec;

	if (!init) {
		/* Diagnostics are expected: run with -close_fd_mask=2. */
		sl_init("fuzz");
		init = 1;
	}
	if (!(f = tmpfile()))
		return 0;
	if (fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	rewind(f);
	r = sl_reader_new(f, "stdin");
	sl_reader_set_max(r, 4096);
	while (sl_reader_next(r, &rec) == 1)
		poke(rec);
	sl_reader_free(r);
	fclose(f);

	str = malloc(size + 1);
	memcpy(str, data, size);
	str[size] = '\0';
	m = sl_mask(str);
	free(m);
	free(str);
	return 0;
}
