/*
 * tests/unit/sendq.c: per-chat send queues (lib/sendq.c): order within a
 * chat, turns between chats, deferral of one chat only, the pace after a
 * queue ran empty, and a random run against a simple model.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sendq.h"
#include "sl.h"
#include "tap.h"

static int items[1000];

static void
test_order(void)
{
	struct sl_sendq *q = sl_sendq_new();
	struct sl_sendq_chat *c;
	char got[64] = "";
	int i;

	ok(sl_sendq_next(q) == -1 && !sl_sendq_due(q, 0),
	    "an empty queue has nothing due");
	for (i = 0; i < 6; i++) {
		items[i] = i;
		sl_sendq_push(q, i % 2 ? "b" : "a", &items[i]);
	}
	is_int((long long)sl_sendq_len(q), 6, "six items queued");
	while ((c = sl_sendq_due(q, 0)))
		sl_sendq_pop(q, c, 0);
	ok(sl_sendq_len(q) == 0, "with no pace everything is due at once");
	for (i = 0; i < 6; i++)
		sl_sendq_push(q, i % 2 ? "b" : "a", &items[i]);
	/* Pace 10 per chat: a0 b1 at 0, a2 b3 at 10, a4 b5 at 20. */
	for (i = 0; i < 6; i++) {
		int64_t t = sl_sendq_next(q);

		c = sl_sendq_due(q, t);
		snprintf(got + strlen(got), sizeof got - strlen(got),
		    "%s%d@%d ", sl_sendq_name(c), *(int *)sl_sendq_head(c),
		    (int)t);
		sl_sendq_pop(q, c, t + 10);
	}
	is_str(got, "a0@0 b1@0 a2@10 b3@10 a4@20 b5@20 ",
	    "chats take turns, each in order, at its pace");
	ok(sl_sendq_next(q) == -1, "all done");
	sl_sendq_push(q, "a", &items[7]);
	is_int(sl_sendq_next(q), 30, "a late item waits for its chat's pace");
	sl_sendq_push_front(q, sl_sendq_find(q, "a"), &items[8]);
	c = sl_sendq_due(q, 30);
	ok(c && sl_sendq_head(c) == &items[8] && sl_sendq_chat_len(c) == 2,
	    "an item pushed in front goes first");
	ok(sl_sendq_find(q, "zzz") == NULL, "an unknown chat is not found");
	sl_sendq_free(q, NULL);
}

static void
test_defer(void)
{
	struct sl_sendq *q = sl_sendq_new();
	struct sl_sendq_chat *c;
	char got[128] = "";
	int i, tries = 0;

	for (i = 0; i < 4; i++) {
		sl_sendq_push(q, "slow", &items[i]);
		sl_sendq_push(q, "fast", &items[10 + i]);
		items[10 + i] = 10 + i;
	}
	for (;;) {
		int64_t t = sl_sendq_next(q);

		if (t < 0)
			break;
		c = sl_sendq_due(q, t);
		/* The first item of "slow" gets a 429 twice: retry at +100. */
		if (strcmp(sl_sendq_name(c), "slow") == 0 &&
		    sl_sendq_head(c) == &items[0] && tries++ < 2) {
			sl_sendq_defer(q, c, t + 100);
			continue;
		}
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d ",
		    sl_sendq_name(c), *(int *)sl_sendq_head(c));
		sl_sendq_pop(q, c, t + 1);
	}
	is_str(got, "fast10 fast11 fast12 fast13 slow0 slow1 slow2 slow3 ",
	    "a deferred chat keeps its order and holds up only itself");
	sl_sendq_free(q, NULL);
}

static void
free_int(void *p)
{
	*(int *)p = -1;
}

/* Many chats, random deferrals: per-chat order always holds. */
static void
test_random(void)
{
	struct sl_sendq *q = sl_sendq_new();
	struct sl_sendq_chat *c;
	int last[50], i, bad = 0, done = 0, early = 0;
	char name[16];
	int64_t now = 0, t;
	unsigned r = 12345;

	for (i = 0; i < 50; i++)
		last[i] = -1;
	for (i = 0; i < 1000; i++) {
		items[i] = i;
		snprintf(name, sizeof name, "chat%d", i % 50);
		sl_sendq_push(q, name, &items[i]);
	}
	while ((t = sl_sendq_next(q)) >= 0) {
		if (t > now)
			now = t;
		c = sl_sendq_due(q, now);
		if (!c || sl_sendq_next(q) > now) {
			early++;
			break;
		}
		r = r * 1103515245u + 12345u;
		if ((r >> 16) % 4 == 0) {
			sl_sendq_defer(q, c, now + (r >> 20) % 50);
			continue;
		}
		i = *(int *)sl_sendq_head(c);
		if (i <= last[i % 50])
			bad++;
		last[i % 50] = i;
		done++;
		sl_sendq_pop(q, c, now + 5);
	}
	is_int(done, 1000, "1000 items from 50 chats all leave");
	is_int(bad, 0, "each chat's items leave in order");
	is_int(early, 0, "the due chat is always the earliest");
	sl_sendq_push(q, "left", &items[0]);
	sl_sendq_free(q, free_int);
	is_int(items[0], -1, "items left are passed to free_item");
}

int
main(void)
{
	sl_init("sendq");
	test_order();
	test_defer();
	test_random();
	return done_testing();
}
