/*
 * Benchmark helper for the JSON-lines reader and writer.
 *
 *	jsonl gen MB	writes MB megabytes of Telegram-sized update records
 *	jsonl read	reads records from stdin through sl_reader only
 *	jsonl copy	reads records from stdin and writes them to stdout
 *			through sl_reader and sl_emit (what every tool does)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "jsonl.h"

static const char *const texts[] = {
	"Здравствуйте! Сколько стоит внедрение для команды из 20 человек?",
	"How much is the 2-year plan? We are a team of 12 and need it by March.",
	"Напишите через неделю, сейчас бюджет на согласовании у директора.",
	"Can we talk tomorrow after lunch? I am the one who decides on tools here.",
	"Добрый день. Интересует интеграция с нашей CRM, есть ли у вас API и сколько занимает запуск проекта в среднем?",
};

static int
gen(long mb)
{
	long long bytes = 0, limit = mb * 1024LL * 1024LL;
	long id = 914200001, n = 0;

	while (bytes < limit) {
		int w = printf("{\"update_id\":%ld,\"business_message\":{"
		    "\"business_connection_id\":\"QkNfZGVtb18wMDE\","
		    "\"message_id\":%ld,\"from\":{\"id\":%ld,\"is_bot\":false,"
		    "\"first_name\":\"Olga\",\"last_name\":\"Kuznetsova\","
		    "\"username\":\"olga_k%ld\",\"language_code\":\"ru\"},"
		    "\"chat\":{\"id\":%ld,\"first_name\":\"Olga\","
		    "\"last_name\":\"Kuznetsova\",\"username\":\"olga_k%ld\","
		    "\"type\":\"private\"},\"date\":%ld,\"text\":\"%s\","
		    "\"entities\":[{\"offset\":0,\"length\":5,\"type\":\"bold\"}]}}\n",
		    id + n, 4000 + n, 880000000 + n % 5000, n % 5000,
		    880000000 + n % 5000, n % 5000, 1767225600 + n,
		    texts[n % 5]);

		if (w < 0)
			return 1;
		bytes += w;
		n++;
	}
	return fflush(stdout) == EOF;
}

static int
drop_rec(struct sl_reader *r, jv rec, void *ctx)
{
	(void)r;
	(void)ctx;
	jv_free(rec);
	return 0;
}

static int
copy_rec(struct sl_reader *r, jv rec, void *ctx)
{
	(void)r;
	(void)ctx;
	return sl_emit(rec) == 0 ? 0 : SL_EX_IOERR;
}

int
main(int argc, char **argv)
{
	int st;

	sl_init("bench-jsonl");
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		return gen(atol(argv[2]));
	if (argc == 2 && strcmp(argv[1], "copy") == 0) {
		st = sl_jsonl_loop(stdin, "stdin", copy_rec, NULL);
		if (sl_out_close() && !st)
			st = SL_EX_IOERR;
		return st;
	}
	if (argc == 2 && strcmp(argv[1], "read") == 0)
		return sl_jsonl_loop(stdin, "stdin", drop_rec, NULL);
	fprintf(stderr, "usage: jsonl gen MB | jsonl read | jsonl copy\n");
	return SL_EX_USAGE;
}
