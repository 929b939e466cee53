/*
 * tests/bench/timeparse.c: how fast and how right sl_timeparse is on the
 * phrase corpus (tests/fixtures/time-corpus.jsonl, or the file given).
 *
 *	timeparse [CORPUS [SECONDS]]
 *
 * Prints the expressions parsed per second on one core, cycling through
 * the corpus phrases (each call finds the time and computes the instant,
 * no JSON, no formatting), and the share of phrases whose instant is the
 * expected one, per language, with the number of times found in phrases
 * that hold none.  tests/bench/chrono.js prints the same figures for
 * chrono-node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonl.h"
#include "sl.h"
#include "timeparse.h"
#include "timeutil.h"

struct tcase {
	char *text;
	size_t len;
	int64_t now;
	const struct sl_zone *z;
	int has_want;
	int64_t want;
	int ru;
};

static volatile int64_t sink;

static double
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the corpus; returns the number of cases (exits on a bad file). */
static size_t
load(const char *path, struct tcase **out)
{
	struct tcase *c = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *line = NULL;
	const char *s;
	size_t lcap = 0;
	ssize_t len;
	FILE *f;
	jv v, w;

	if (!(f = fopen(path, "r")))
		sl_die(SL_EX_IOERR, "cannot open '%s'", path);
	while ((len = getline(&line, &lcap, f)) > 0) {
		lineno++;
		v = sl_parse(line, (size_t)len);
		if (jv_get_kind(v) != JV_KIND_OBJECT ||
		    sl_get_str(v, "text", &s) != 1)
			sl_die(SL_EX_DATAERR, "%s:%zu: not a case", path,
			    lineno);
		if (n == cap) {
			cap = cap ? 2 * cap : 512;
			c = sl_realloc(c, cap * sizeof *c);
		}
		memset(&c[n], 0, sizeof c[n]);
		w = jv_object_get(jv_copy(v), jv_string("text"));
		c[n].len = (size_t)jv_string_length_bytes(jv_copy(w));
		c[n].text = sl_malloc(c[n].len + 1);
		memcpy(c[n].text, jv_string_value(w), c[n].len + 1);
		jv_free(w);
		if (sl_get_time(v, "now", &c[n].now) != 1 ||
		    sl_get_str(v, "tz", &s) != 1 ||
		    !(c[n].z = sl_zone_load(s)))
			sl_die(SL_EX_DATAERR, "%s:%zu: bad now or tz", path,
			    lineno);
		c[n].has_want = sl_get_time(v, "want", &c[n].want) == 1;
		c[n].ru = sl_get_str(v, "lang", &s) == 1 &&
		    strcmp(s, "ru") == 0;
		jv_free(v);
		n++;
	}
	free(line);
	fclose(f);
	*out = c;
	return n;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] :
	    "tests/fixtures/time-corpus.jsonl";
	double secs = argc > 2 ? atof(argv[2]) : 1.0, t0, t;
	struct sl_tp_result res;
	struct tcase *c;
	size_t n, i;
	long total = 0, calls;
	int right[2] = { 0, 0 }, all[2] = { 0, 0 }, falsetimes = 0, r;
	int64_t acc = 0;

	sl_init("bench-timeparse");
	n = load(path, &c);
	if (n == 0)
		sl_die(SL_EX_DATAERR, "%s: no cases", path);
	for (i = 0; i < n; i++) {
		r = sl_timeparse(c[i].text, c[i].len, c[i].now, c[i].z, &res);
		all[c[i].ru]++;
		if (c[i].has_want ? r == 1 && res.at == c[i].want : r == 0)
			right[c[i].ru]++;
		if (!c[i].has_want && r == 1)
			falsetimes++;
	}
	/* warm up, then whole passes over the corpus for secs seconds */
	for (i = 0; i < n; i++)
		sl_timeparse(c[i].text, c[i].len, c[i].now, c[i].z, &res);
	t0 = clock_now();
	do {
		for (calls = 0; calls < 20; calls++)
			for (i = 0; i < n; i++) {
				sl_timeparse(c[i].text, c[i].len, c[i].now,
				    c[i].z, &res);
				acc += res.at;
			}
		total += 20 * (long)n;
		t = clock_now() - t0;
	} while (t < secs);
	sink = acc;
	printf("time-parse: %.0f expressions/s on one core "
	    "(%.0f ns each, %zu corpus phrases)\n", (double)total / t,
	    t / (double)total * 1e9, n);
	printf("time-parse accuracy: ru %.1f %%, en %.1f %% "
	    "(%d/%d, %d/%d; %d false times in phrases without one)\n",
	    all[1] ? 100.0 * right[1] / all[1] : 0.0,
	    all[0] ? 100.0 * right[0] / all[0] : 0.0, right[1], all[1],
	    right[0], all[0], falsetimes);
	for (i = 0; i < n; i++)
		free(c[i].text);
	free(c);
	sl_zone_free_all();
	return 0;
}
