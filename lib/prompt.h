/*
 * prompt.h: what a model reads in a turn of agent-reply.
 *
 * The system prompt is the method of skills/ (tone of voice and the
 * qualification path, read once), the time in the rep's zone, what the
 * ledger knows of the prospect, the knowledge passages of the turn and a
 * summary of the conversation older than the history.  The history is
 * the conversation newest first until a token budget is spent, oldest
 * first as the model reads it, each text cut to SL_PROMPT_TEXT_MAX bytes.
 */
#ifndef SL_PROMPT_H
#define SL_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "db.h"

/* A message longer than this reaches the model cut, marked with " [...]". */
#define SL_PROMPT_TEXT_MAX 2000
/* Tokens of history by default (LLM_HISTORY_TOKENS). */
#define SL_PROMPT_HISTORY_TOKENS 3000

/* The method of SALESLINE_HOME/skills, as one text (new). */
char *sl_prompt_method(void);

/*
 * The system prompt of a turn (new): method, state (borrowed), the
 * passages sl_kb_search finds for texts (borrowed, the turn's messages),
 * the time now, and summary (NULL: none).
 */
char *sl_prompt_system(struct sl_db *db, const char *method, jv state,
    jv texts, int64_t now, const char *summary);

/*
 * The conversation of prospect for the model, oldest first:
 * [{"role": "user"|"assistant", "text": ...}], starting with the
 * prospect's words, at most budget tokens (estimated: a token per three
 * bytes).  What is older goes into *summary (a new string, NULL when
 * nothing was left out): how many messages, since when, and the first
 * words of what the prospect wrote.  Invalid on a ledger error.
 */
jv sl_prompt_history(struct sl_db *db, int64_t prospect, size_t budget,
    char **summary);

/* At most max bytes of s, cut at a character boundary (new). */
char *sl_prompt_cut(const char *s, size_t max);

#endif
