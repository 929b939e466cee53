/*
 * guard.h: what a model's reply must pass before a prospect reads it.
 *
 * The rules engine writes from templates and the knowledge base; a model
 * writes whatever it likes, so its reply is checked against more than the
 * tone rules:
 *
 *   tone             every error of the tone linter (lib/tone.h) in the
 *                    prospect's language, amounts of money checked
 *                    against the prices the knowledge base names
 *   invented_discount
 *                    a percentage in a sentence that speaks of a discount
 *                    (скидк*, discount*, "% off"), when the knowledge base
 *                    names no such percentage
 *   banned_phrase    a phrase of the tone rules' "banned_phrases" (talk
 *                    about the model or its instructions, bureaucratic
 *                    salutations, promises such as "100% гарантия")
 *   prompt_leak      twelve words in a row of the text the prompt keeps
 *                    to itself (the method): a reply that quotes its
 *                    instructions
 *
 * Words are compared in lower case with ё as е, so "Системный Промпт"
 * is "системный промпт".  Checking allocates only the result.
 */
#ifndef SL_GUARD_H
#define SL_GUARD_H

#include <stddef.h>

#include <jv.h>

#include "tone.h"

struct sl_guard;

/*
 * A guard over tone (borrowed: the caller keeps it alive), with the
 * banned phrases of rules (the object of skills/tone-of-voice/rules.json,
 * borrowed; its "banned_phrases" {"ru": [...], "en": [...]} or one array).
 */
struct sl_guard *sl_guard_new(const struct sl_tone_rules *tone, jv rules);
void sl_guard_free(struct sl_guard *g);

/*
 * When text (a knowledge passage) speaks of a discount, the percentages
 * it names become allowed discounts.
 */
void sl_guard_allow(struct sl_guard *g, const char *text);

/* Text that a reply must never quote (the method of the prompt). */
void sl_guard_secret(struct sl_guard *g, const char *text);

/*
 * The violations of len bytes of text written to a prospect whose language
 * is lang ("ru", "en", NULL): [] when it may be sent, else
 *	[{"rule": "invented_discount", "detail": "'30%' ..."}, ...]
 * with the tone linter's own rule names for its errors.
 */
jv sl_guard_check(const struct sl_guard *g, const char *text, size_t len,
    const char *lang);

/* The violations as one line for a log or for the model: "a, b (detail)". */
char *sl_guard_describe(jv violations);

#endif
