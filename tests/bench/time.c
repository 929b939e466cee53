/*
 * tests/bench/time.c: nanoseconds per call of the civil-time functions on
 * loaded zones, over instants of 2020-2030 (the transition table) and of
 * 2100-2110 (the footer rule), plus RFC 3339 parsing and formatting.
 *
 *	time [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl.h"
#include "timeutil.h"

#define NT 4096

static int64_t ts[NT];
static struct sl_tm tms[NT];
static volatile int64_t sink;

static double
now(void)
{
	struct timespec ts0;

	clock_gettime(CLOCK_MONOTONIC, &ts0);
	return (double)ts0.tv_sec + (double)ts0.tv_nsec / 1e9;
}

/* NT pseudo-random instants in [from, from + span), and their local times. */
static void
fill(const struct sl_zone *z, int64_t from, int64_t span)
{
	uint64_t x = 0x2545f4914f6cdd1du;
	int i;

	for (i = 0; i < NT; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ts[i] = from + (int64_t)(x % (uint64_t)span);
		sl_to_local(ts[i], z, &tms[i]);
	}
}

static void
bench_zone(const char *name, int64_t from, const char *years, long n)
{
	const struct sl_zone *z = sl_zone_load(name);
	struct sl_tm tm;
	int64_t t, acc = 0;
	double t0, a, b;
	long i;

	if (!z) {
		fprintf(stderr, "bench time: cannot load zone '%s'\n", name);
		return;
	}
	fill(z, from, INT64_C(10) * 365 * 86400);
	t0 = now();
	for (i = 0; i < n; i++) {
		sl_to_local(ts[i % NT], z, &tm);
		acc += tm.hour;
	}
	a = (now() - t0) / (double)n * 1e9;
	t0 = now();
	for (i = 0; i < n; i++) {
		sl_from_local(&tms[i % NT], z, &t);
		acc += t;
	}
	b = (now() - t0) / (double)n * 1e9;
	sink = acc;
	printf("  %-22s %s  sl_to_local %6.1f ns  sl_from_local %6.1f ns\n",
	    name, years, a, b);
}

int
main(int argc, char **argv)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Asia/Makassar",
		"Australia/Lord_Howe", "UTC+3",
	};
	char buf[SL_TIME_BUFSZ];
	long n = argc > 1 ? atol(argv[1]) : 4000000, i;
	const struct sl_zone *z;
	int64_t t, acc = 0;
	double t0;
	size_t k;

	sl_init("bench-time");
	if (n <= 0)
		n = 4000000;
	printf("Civil time: %ld calls each\n", n);
	for (k = 0; k < sizeof zones / sizeof zones[0]; k++) {
		bench_zone(zones[k], INT64_C(1577836800), "2020-2030", n);
		bench_zone(zones[k], INT64_C(4102444800), "2100-2110", n);
	}
	z = sl_zone_load("Europe/Berlin");
	if (z) {
		fill(z, INT64_C(1577836800), INT64_C(10) * 365 * 86400);
		t0 = now();
		for (i = 0; i < n; i++)
			acc += sl_time_fmt_local(ts[i % NT], z, buf)[5];
		printf("  %-33s %6.1f ns\n", "sl_time_fmt_local Europe/Berlin",
		    (now() - t0) / (double)n * 1e9);
		t0 = now();
		for (i = 0; i < n; i++) {
			sl_time_parse("2026-11-22T18:00:00.25+08:00", &t);
			acc += t;
		}
		printf("  %-33s %6.1f ns\n", "sl_time_parse",
		    (now() - t0) / (double)n * 1e9);
	}
	sink = acc;
	sl_zone_free_all();
	return 0;
}
