/*
 * score_impl.h: what the files of the scorer share and nobody else needs:
 * cue lists and the text normaliser they are matched on.
 */
#ifndef SL_SCORE_IMPL_H
#define SL_SCORE_IMPL_H

#include <stddef.h>

/*
 * Cues, normalised (lower case, ё as е): a cue matches a whole word or
 * phrase of a normalised text; one ending in '*' matches a word that
 * begins with it (intents.json's syntax).
 */
struct sc_cues {
	char **cue;
	size_t n;
};

struct sc_cfg_cues {
	struct sc_cues stop, meeting, followup, is_bot, objection, escalate;
};

/*
 * A normalised text with a filter of its words' first two bytes, so
 * that most cues are refused without a search.
 */
struct sc_text {
	const char *s;
	unsigned char starts[512];	/* 4096 bits */
};

/* t over norm (borrowed, NUL-terminated). */
void sc_text_init(struct sc_text *t, const char *norm);

void sc_cues_add(struct sc_cues *c, const char *cue);
void sc_cues_free(struct sc_cues *c);
/* 1 when a cue of c is in t. */
int sc_cues_match(const struct sc_cues *c, const struct sc_text *t);
/* 1 when cue (normalised) is in t. */
int sc_cue_in(const struct sc_text *t, const char *cue);

/*
 * len bytes of s normalised into out (room for len + 1 bytes): ASCII
 * and Cyrillic letters in lower case, ё as е, control characters as
 * spaces; NUL-terminated.  Never longer than s.
 */
void sc_norm(const char *s, size_t len, char *out);

#endif
