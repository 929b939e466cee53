/*
 * llm.h: what the files of the model API module (llm.c, llm_anthropic.c,
 * llm_openai.c) share.  Not part of fake.h: the core knows only the
 * struct fake_module in llm.c.
 *
 * Everything here runs in handle(), with the emulator's state lock held.
 * The script lines are deep copies owned by the state (fake_own); a
 * struct lm_turn borrows nothing from a request and is freed before
 * handle() returns.
 */
#ifndef FAKE_LLM_H
#define FAKE_LLM_H

#include <stddef.h>

#include <jv.h>

#include "fake.h"
#include "sl.h"

#define LM_ERR_MAX 1024

enum lm_api {
	LM_ANTHROPIC,
	LM_OPENAI,
};

enum lm_errors {
	LM_ERRORS_OPENAI,
	LM_ERRORS_VLLM,
	LM_ERRORS_LLAMACPP,
	LM_ERRORS_EMPTY,
};

enum lm_tools {
	LM_TOOLS_NATIVE,
	LM_TOOLS_TEXT,
	LM_TOOLS_NEED_PARSER,
	LM_TOOLS_NEED_JINJA,
};

/* A model request being answered. */
struct lm_call {
	enum lm_api api;
	const struct fake_req *req;
	struct fake_resp *resp;
	jv body;		/* the request parsed, or null */
	const char *source;	/* "script", "default", "auto" or "error" */
	jv undeclared;		/* called, but not in the request's tools */
	char rid[48];		/* request-id */
	char err[LM_ERR_MAX];	/* why it was refused */
	char param[128];	/* OpenAI's "param"; "": null */
	const char *code;	/* OpenAI's "code"; NULL: null */
};

/* What the model says. */
struct lm_turn {
	jv line;		/* the script line, or null */
	char *text;		/* NULL: no text */
	jv calls;		/* [{"name","input"?,"arguments"?}] */
	const char *stop;	/* NULL: from the content; points into line */
};

struct lm_cfg {
	char **keys;		/* accepted keys; none: any but "" */
	size_t nkeys;
	int autoans;
	char *auto_text;
	/* The OpenAI endpoint's quirks. */
	int args_object, content_empty, finish_stop, no_usage, no_auth;
	char *reasoning;
	enum lm_errors errors;
	enum lm_tools tools;
};

extern struct lm_cfg lm_cfg;

/* The two APIs: check c's request and answer it (llm_*.c). */
void lm_anthropic(struct lm_call *c);
void lm_openai(struct lm_call *c);

/*
 * Helpers (llm.c).  jv arguments are borrowed unless said otherwise.
 *
 * lm_field: obj[key], a new value, or invalid when obj is no object or
 * lacks it.  lm_str: obj[key] as a string that obj keeps alive, or NULL.
 * lm_find: the index of s in a NULL-terminated list, or -1.
 * lm_unknown_field: the first field of obj not in list (a new string), or
 * NULL.  lm_join: the strings of a joined with ", " into buf.
 */
int lm_streq(const char *a, const char *b);
int lm_find(const char *const *list, const char *s);
jv lm_field(jv obj, const char *key);
int lm_has(jv obj, const char *key);
const char *lm_str(jv obj, const char *key);
int lm_len(jv a);
int lm_has_str(jv a, const char *s);
const char *lm_join(jv a, char *buf, size_t size);
char *lm_unknown_field(jv obj, const char *const *list);
/* A tool name: [a-zA-Z0-9_-]{1,max}. */
int lm_name_ok(const char *s, size_t max);
/* Puts the reason in c->err; returns -1. */
int lm_fail(struct lm_call *c, const char *fmt, ...) SL_PRINTF(2, 3);
const char *lm_header(const struct lm_call *c, const char *name);
int lm_key_ok(const char *key);
/* Rough token counts: bytes / 4, at least 1. */
double lm_tokens(size_t bytes);
/* 1, 2, ... since the last reset: the serial in every id made. */
unsigned long lm_next_id(void);

/*
 * The turn that answers c (the request passed the checks): the script's
 * next for its API, the default echo, or auto mode's text.  lm_turn_limit
 * cuts the text to max tokens and drops the calls (1 when it did).
 */
void lm_turn_take(struct lm_call *c, struct lm_turn *t);
void lm_turn_free(struct lm_turn *t);
int lm_turn_limit(struct lm_turn *t, double max);
/* Notes in c->undeclared the calls of t that the request's tools lack. */
void lm_undeclared(struct lm_call *c, const struct lm_turn *t);
/*
 * A scripted call's input (an object), its arguments as OpenAI sends them
 * (JSON text) and as servers with object arguments do; new values.
 */
jv lm_call_input(jv t);
jv lm_call_arguments(jv t);
jv lm_call_object(jv t);
/* A stop reason in the words of api (end_turn <-> stop, ...). */
const char *lm_stop_map(const char *stop, enum lm_api api);

#endif
