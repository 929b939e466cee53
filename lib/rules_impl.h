/*
 * rules_impl.h: internal to lib/rules*.c, the rules engine.
 *
 *	rules.c		loading skills/, the knowledge base, templates
 *	rules_nlu.c	words, cues, e-mail, money, slot choice
 *	rules_turn.c	the dialogue: a turn, after a tool, a follow-up
 */
#ifndef SL_RULES_IMPL_H
#define SL_RULES_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "rules.h"
#include "tone.h"

/*
 * A cue, normalised (" word word"); prefix: it ended in '*'; stem: a
 * single Russian word of 4 letters or more, which also matches with
 * another ending (цена: цены, цену, ценой), s then being its stem.
 */
struct rl_cue {
	char *s;
	size_t len;
	int prefix;
	int stem;
};

struct rl_cues {
	struct rl_cue *v;
	size_t n;
};

/* Intents in the priority order of intents.json. */
struct rl_intent {
	char *name;
	struct rl_cues cues;
};

/* A knowledge passage: heading and body as written, norm for search. */
struct rl_passage {
	char lang[4];
	char *heading;
	char *body;
	char *norm;		/* " heading words body words " */
	char *hnorm;		/* " heading words " */
	int faq;		/* the heading is a question */
};

/* The services of intents.json's service_names. */
enum { RL_SVC_MAX = 8 };

struct rl_facts {
	char *name;		/* «Рост» / Growth, as the price list writes */
	char *price;		/* 290 000 ₽ */
	char *duration;		/* 6 недель */
	char *includes;		/* a short list, lower case first */
};

struct rl_service {
	char *id;
	struct rl_cues stems;	/* prefixes */
	struct rl_facts f[2];	/* 0 ru, 1 en */
};

/* What rules_nlu.c found in a turn's text. */
struct rl_nlu {
	char *norm;		/* normalised text, " a b c " */
	size_t nlen;
	int nintent;
	const char *intent[32];	/* matched intents, in priority order */
	int inject, callme, write, question, service;
	char email[256];
	int at_sign;		/* an '@' without a valid address */
	int has_time;
	int64_t at;
	int clock;		/* the time named hours */
	char match[160];	/* the time words understood */
	int words;		/* words with letters */
	double budget;		/* roubles, 0 when none said */
	const char *budget_word;	/* "none", "flexible" */
	const char *authority;
	const char *timeline;
	int need;		/* need cues or a service named */
};

struct sl_rules {
	jv templates;		/* templates.json's "templates" */
	struct rl_intent *intent;
	size_t nintent;
	struct rl_cues need, budget, dm, influencer;
	struct rl_cues tl_now, tl_later, tl_unknown;
	struct rl_cues inject, callme, write, qwords, budget_none,
	    budget_flex;
	struct rl_service svc[RL_SVC_MAX];
	size_t nsvc;
	struct rl_passage *kb;
	size_t nkb;
	struct sl_tone_rules tone;
	char **prices;
	size_t nprices;
	char *deck, *cases;
	char *topic[2];		/* booking.topic_ru, topic_en */
	int slots_to_offer, search_days, min_besides_need, max_asks;
};

/* rules_nlu.c */
size_t rl_norm(const char *s, size_t len, char *out, size_t size);
int rl_cues_add(struct rl_cues *c, const char *cue);
int rl_cues_from(struct rl_cues *c, jv list);
void rl_cues_free(struct rl_cues *c);
int rl_match(const struct rl_cues *c, const char *norm, size_t *at,
    size_t *len);
void rl_analyse(const struct sl_rules *r, const char *text, size_t len,
    int64_t now, const char *tz, struct rl_nlu *n);
void rl_nlu_free(struct rl_nlu *n);
int rl_has(const struct rl_nlu *n, const char *intent);
int rl_valid_email(const char *s, size_t len);
int rl_choose_slot(const struct rl_nlu *n, jv offered, const char *tz);

/* rules.c */
int rl_lang_index(const char *lang);
/*
 * The first variant of templates[key][lang], from the hashed start,
 * whose placeholders vars (borrowed object of strings) fills and that
 * passes the tone rules; NULL when none does.  A new string.
 */
char *rl_fill(const struct sl_rules *r, const char *key, const char *lang,
    jv vars, uint32_t seed);
int rl_lint(const struct sl_rules *r, const char *text, const char *lang);
uint32_t rl_hash(const char *a, const char *b, long n);
/* The best passage for the text in lang, its score in *score; -1. */
int rl_search(const struct sl_rules *r, const char *norm, const char *lang,
    double *score);
double rl_search_in(const char *qnorm, const char *pnorm);

#endif
