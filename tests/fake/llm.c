/*
 * llm.c: the model APIs of agent-reply in fake-api: Anthropic's Messages
 * API and an OpenAI-compatible Chat Completions API (shared/reference/
 * apis.md sections 1 and 2), non-streaming.
 *
 *	POST /v1/messages		x-api-key, anthropic-version
 *	POST /v1/chat/completions	Authorization: Bearer
 *
 * (also under a prefix, as LongCat's /anthropic/v1/messages).  A key is
 * accepted when it is one given with -k (or POST /_fake/llm/keys), or,
 * with none given, when it is not empty.
 *
 * Requests are checked as the services check them, with their error
 * shapes and, where apis.md or their issue threads quote it, their text:
 * required fields, unknown fields, roles (Anthropic: user and assistant
 * alternating from user, system on top; OpenAI: system, developer, user,
 * assistant, tool), content blocks, tools, tool_choice, and above all the
 * pairing of tool calls with their results: Anthropic wants a tool_result
 * for every tool_use id at the start of the very next user message, and
 * no tool_result without its tool_use; OpenAI wants a tool message for
 * every tool_call_id right after the assistant message, no tool message
 * elsewhere, and arguments replayed as a string.
 *
 * What the model says comes from a script (POST /_fake/llm/script): one
 * queue of turns, shared by both APIs, each used by the next request of
 * its "api" (or of either, without one) that passes the checks.  A
 * request rejected here, or answered by a rule (a 429, a 529: they never
 * reach the module), uses nothing, so the retry gets the turn.  An empty
 * script answers "echo: " and the last user text; auto mode answers a
 * fixed text whatever the script and keeps no request log (benchmarks).
 *
 * Tool calls get ids toolu_01fake... and call_fake...; input is an object
 * for Anthropic and arguments a JSON text for OpenAI.  Token counts are
 * bytes / 4.  A text over max_tokens (bytes / 4) is cut, its tool calls
 * dropped, and the stop reason is max_tokens (length).
 *
 * The quirks of compatible servers (apis.md section 2) are modes of the
 * OpenAI endpoint, set by POST /_fake/llm/quirks: arguments as an object
 * (llama.cpp), content "" beside tool calls, finish_reason "stop" with
 * tool calls (Ollama, vLLM), no usage, reasoning_content (LongCat), no
 * authentication (Ollama), the error bodies of vLLM or llama.cpp or none
 * at all, and tools printed as text, refused by vLLM without a tool-call
 * parser, or by llama.cpp without --jinja.
 *
 * Every request the module answers is kept for GET /_fake/llm/requests:
 * the parsed body and the headers without the key.
 *
 * This file has the script, the turns, the log, the control endpoints
 * and the module; llm_anthropic.c and llm_openai.c check and answer the
 * two APIs; llm.h is what they share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "jsonl.h"
#include "llm.h"
#include "sl.h"

#define LM_AUTO_TEXT "ok"
#define LM_ECHO "echo: "

static const char *const api_names[] = { "anthropic", "openai", NULL };
static const char *const errors_names[] = {
	"openai", "vllm", "llamacpp", "empty", NULL
};
static const char *const tools_names[] = {
	"native", "text", "need_parser", "need_jinja", NULL
};

static const char *const line_keys[] = {
	"text", "tool", "input", "arguments", "tools", "stop", "api", NULL
};
static const char *const call_keys[] = {
	"name", "input", "arguments", NULL
};
static const char *const quirk_keys[] = {
	"arguments", "content", "finish_reason", "usage", "auth",
	"reasoning", "errors", "tools", NULL
};

struct lm_line {
	struct lm_line *next;
	jv v;			/* as given (checked), a deep copy */
};

struct lm_cfg lm_cfg;

static char **opt_keys;		/* -k */
static size_t nopt_keys;
static int ready;
static struct lm_line *script, **script_tail = &script;
static size_t script_len;
static char *reqlog;
static size_t reqlog_len, reqlog_cap;
static unsigned long serial, n_requests, n_rejected, n_script, n_default,
    n_auto;

int
lm_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The index of s in the NULL-terminated list, or -1. */
int
lm_find(const char *const *list, const char *s)
{
	int i;

	for (i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/* obj[key] (a new value), or invalid when obj is no object or lacks it. */
jv
lm_field(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(obj), jv_string(key));
}

int
lm_has(jv obj, const char *key)
{
	jv v = lm_field(obj, key);
	int r = jv_is_valid(v);

	jv_free(v);
	return r;
}

/* obj[key] as a string, or NULL; borrows obj, which keeps it alive. */
const char *
lm_str(jv obj, const char *key)
{
	const char *s;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	return sl_get_str(obj, key, &s) == 1 ? s : NULL;
}

int
lm_len(jv a)
{
	return jv_array_length(jv_copy(a));
}

/* Is s in the array of strings a?  Borrows a. */
int
lm_has_str(jv a, const char *s)
{
	int i, n = lm_len(a), r = 0;
	jv v;

	if (!s)
		return 0;
	for (i = 0; !r && i < n; i++) {
		v = jv_array_get(jv_copy(a), i);
		r = jv_get_kind(v) == JV_KIND_STRING &&
		    strcmp(jv_string_value(v), s) == 0;
		jv_free(v);
	}
	return r;
}

/* The strings of a joined with ", " into buf; borrows a. */
const char *
lm_join(jv a, char *buf, size_t size)
{
	size_t used = 0;
	int i, n = lm_len(a);
	jv v;

	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		v = jv_array_get(jv_copy(a), i);
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    i ? ", " : "", jv_string_value(v));
		jv_free(v);
	}
	return buf;
}

/* The first field of obj not in list, or NULL; borrows obj. */
char *
lm_unknown_field(jv obj, const char *const *list)
{
	char *bad = NULL;
	int i;

	for (i = jv_object_iter(obj); !bad && jv_object_iter_valid(obj, i);
	    i = jv_object_iter_next(obj, i)) {
		jv k = jv_object_iter_key(obj, i);

		if (lm_find(list, jv_string_value(k)) < 0)
			bad = sl_strdup(jv_string_value(k));
		jv_free(k);
	}
	return bad;
}

/* A tool name as both APIs take it: [a-zA-Z0-9_-]{1,max}. */
int
lm_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n >= 1 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int
lm_fail(struct lm_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

static void
ctl_error(struct fake_resp *resp, int status, const char *msg)
{
	fake_reply_json(resp, status, sl_set(sl_set(jv_object(), "ok",
	    jv_false()), "error", jv_string(msg)));
}

/* A header of the request, or NULL. */
const char *
lm_header(const struct lm_call *c, const char *name)
{
	return lm_str(c->req->headers, name);
}

int
lm_key_ok(const char *key)
{
	size_t i;

	if (!key || !*key)
		return 0;
	if (lm_cfg.nkeys == 0)
		return 1;
	for (i = 0; i < lm_cfg.nkeys; i++)
		if (strcmp(lm_cfg.keys[i], key) == 0)
			return 1;
	return 0;
}

/* Rough token counts: bytes / 4, at least 1. */
double
lm_tokens(size_t bytes)
{
	return bytes < 4 ? 1 : (double)(bytes / 4);
}

unsigned long
lm_next_id(void)
{
	return ++serial;
}

/*
 * The script.
 */

/* Checks one scripted call ({"name",...} in "tools"); borrows t. */
static int
call_check(jv t, const char *what, char *err, size_t errsize)
{
	const char *s;
	char *bad;
	jv v;
	int ok;

	if (jv_get_kind(t) != JV_KIND_OBJECT) {
		snprintf(err, errsize, "'%s': expected objects", what);
		return -1;
	}
	if ((bad = lm_unknown_field(t, call_keys))) {
		snprintf(err, errsize, "'%s': unknown field '%s'", what, bad);
		free(bad);
		return -1;
	}
	if (sl_get_str(t, "name", &s) != 1 || !lm_name_ok(s, 64)) {
		snprintf(err, errsize, "'%s': 'name' must be a tool name "
		    "([a-zA-Z0-9_-], 1 to 64)", what);
		return -1;
	}
	v = lm_field(t, "input");
	ok = !jv_is_valid(v) || jv_get_kind(v) == JV_KIND_OBJECT;
	jv_free(v);
	if (!ok || sl_get_str(t, "arguments", &s) < 0) {
		snprintf(err, errsize, "'%s': 'input' must be an object and "
		    "'arguments' a string", what);
		return -1;
	}
	return 0;
}

/* Checks a script line (borrowed): 0, or -1 with a reason in err. */
static int
line_check(jv v, char *err, size_t errsize)
{
	const char *s;
	char *bad;
	jv calls, t;
	int i, n, k, r = 0;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		snprintf(err, errsize, "expected an object");
		return -1;
	}
	if ((bad = lm_unknown_field(v, line_keys))) {
		snprintf(err, errsize, "unknown field '%s'", bad);
		free(bad);
		return -1;
	}
	if (sl_get_str(v, "text", &s) < 0 || sl_get_str(v, "stop", &s) < 0 ||
	    (sl_get_str(v, "stop", &s) == 1 && !*s)) {
		snprintf(err, errsize, "'text' and 'stop' must be strings");
		return -1;
	}
	if ((k = sl_get_str(v, "api", &s)) < 0 || (k == 1 &&
	    lm_find(api_names, s) < 0)) {
		snprintf(err, errsize, "'api': \"anthropic\" or \"openai\"");
		return -1;
	}
	if (lm_has(v, "tool") && lm_has(v, "tools")) {
		snprintf(err, errsize, "'tool' or 'tools', not both");
		return -1;
	}
	if (lm_has(v, "tool")) {
		t = sl_set(jv_object(), "name", lm_field(v, "tool"));
		if (lm_has(v, "input"))
			t = sl_set(t, "input", lm_field(v, "input"));
		if (lm_has(v, "arguments"))
			t = sl_set(t, "arguments", lm_field(v, "arguments"));
		r = call_check(t, "tool", err, errsize);
		jv_free(t);
		return r;
	}
	if (lm_has(v, "input") || lm_has(v, "arguments")) {
		snprintf(err, errsize, "'input' and 'arguments' go with "
		    "'tool'");
		return -1;
	}
	if (!lm_has(v, "tools"))
		return 0;
	if (sl_get_arr(v, "tools", &calls) != 1) {
		snprintf(err, errsize, "'tools': expected an array");
		return -1;
	}
	n = lm_len(calls);
	for (i = 0; r == 0 && i < n; i++) {
		t = jv_array_get(jv_copy(calls), i);
		r = call_check(t, "tools", err, errsize);
		jv_free(t);
	}
	jv_free(calls);
	return r;
}

static void
script_clear(void)
{
	struct lm_line *l;

	while ((l = script)) {
		script = l->next;
		jv_free(l->v);
		free(l);
	}
	script_tail = &script;
	script_len = 0;
}

/*
 * Appends JSON lines of turns (blank lines and lines starting with # are
 * skipped): all of them, or none and -1 with "line N: reason" in err.
 */
static int
script_add(const char *text, size_t size, size_t *added, char *err,
    size_t errsize)
{
	struct lm_line *first = NULL, **tail = &first, *l;
	const char *p = text, *end = text + size, *nl;
	size_t lineno = 0, ll;
	char why[300];
	jv v, e;

	*added = 0;
	for (; p < end; p = nl + 1) {
		lineno++;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		ll = (size_t)(nl - p);
		while (ll && strchr("\r \t", p[ll - 1]))
			ll--;
		while (ll && (*p == ' ' || *p == '\t')) {
			p++;
			ll--;
		}
		if (ll && *p != '#') {
			v = sl_parse(p, ll);
			if (!jv_is_valid(v)) {
				e = jv_invalid_get_msg(v);
				snprintf(why, sizeof why, "%s",
				    jv_get_kind(e) == JV_KIND_STRING ?
				    jv_string_value(e) : "not JSON");
				jv_free(e);
				goto fail;
			}
			if (line_check(v, why, sizeof why) < 0) {
				jv_free(v);
				goto fail;
			}
			l = sl_calloc(1, sizeof *l);
			l->v = fake_own(v);
			*tail = l;
			tail = &l->next;
			(*added)++;
		}
		if (nl == end)
			break;
	}
	if (first) {
		*script_tail = first;
		script_tail = tail;
		script_len += *added;
	}
	return 0;
fail:
	snprintf(err, errsize, "line %zu: %s", lineno, why);
	while ((l = first)) {
		first = l->next;
		jv_free(l->v);
		free(l);
	}
	*added = 0;
	return -1;
}

/* The next line for api, taken off the script; null when there is none. */
static jv
script_take(enum lm_api api)
{
	struct lm_line **pp, *l;
	const char *a;
	jv v;

	for (pp = &script; (l = *pp); pp = &l->next) {
		a = lm_str(l->v, "api");
		if (!a || strcmp(a, api_names[api]) == 0)
			break;
	}
	if (!l)
		return jv_null();
	*pp = l->next;
	if (script_tail == &l->next)
		script_tail = pp;
	script_len--;
	v = l->v;
	free(l);
	return v;
}

/* The text of the last user message that has one; a new string or NULL. */
static char *
last_user_text(jv body)
{
	const char *role, *s;
	char *found = NULL;
	int i, j;
	jv msgs, m, content, b;

	msgs = lm_field(body, "messages");
	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		return NULL;
	}
	for (i = lm_len(msgs) - 1; !found && i >= 0; i--) {
		m = jv_array_get(jv_copy(msgs), i);
		role = lm_str(m, "role");
		content = lm_field(m, "content");
		if (lm_streq(role, "user") && jv_get_kind(content) ==
		    JV_KIND_STRING && jv_string_length_bytes(jv_copy(content)))
			found = sl_strdup(jv_string_value(content));
		if (lm_streq(role, "user") && jv_get_kind(content) ==
		    JV_KIND_ARRAY)
			for (j = lm_len(content) - 1; !found && j >= 0; j--) {
				b = jv_array_get(jv_copy(content), j);
				if (lm_streq(lm_str(b, "type"), "text") &&
				    (s = lm_str(b, "text")) && *s)
					found = sl_strdup(s);
				jv_free(b);
			}
		jv_free(content);
		jv_free(m);
	}
	jv_free(msgs);
	return found;
}

/* What to answer c with (the request passed the checks). */
void
lm_turn_take(struct lm_call *c, struct lm_turn *t)
{
	const char *s;
	char *echo;
	jv v;

	memset(t, 0, sizeof *t);
	t->line = jv_null();
	t->calls = jv_array();
	if (lm_cfg.autoans) {
		c->source = "auto";
		n_auto++;
		t->text = sl_strdup(lm_cfg.auto_text);
		return;
	}
	t->line = script_take(c->api);
	if (jv_get_kind(t->line) != JV_KIND_OBJECT) {
		c->source = "default";
		n_default++;
		echo = last_user_text(c->body);
		t->text = echo ? sl_asprintf(LM_ECHO "%s", echo) :
		    sl_strdup(LM_AUTO_TEXT);
		free(echo);
		return;
	}
	c->source = "script";
	n_script++;
	if ((s = lm_str(t->line, "text")))
		t->text = sl_strdup(s);
	t->stop = lm_str(t->line, "stop");
	if (lm_has(t->line, "tool")) {
		v = sl_set(jv_object(), "name", lm_field(t->line, "tool"));
		if (lm_has(t->line, "input"))
			v = sl_set(v, "input", lm_field(t->line, "input"));
		if (lm_has(t->line, "arguments"))
			v = sl_set(v, "arguments", lm_field(t->line,
			    "arguments"));
		t->calls = jv_array_append(t->calls, v);
	} else if (lm_has(t->line, "tools")) {
		jv_free(t->calls);
		t->calls = lm_field(t->line, "tools");
	}
}

void
lm_turn_free(struct lm_turn *t)
{
	jv_free(t->line);
	jv_free(t->calls);
	free(t->text);
}

/*
 * Cuts the text of t to max_tokens (bytes / 4) of the request, dropping
 * the calls after it.  Returns 1 when it did.
 */
int
lm_turn_limit(struct lm_turn *t, double max)
{
	size_t n = t->text ? strlen(t->text) : 0, cut;

	if (!t->text || max < 1 || lm_tokens(n) <= max)
		return 0;
	cut = (size_t)(max * 4);
	while (cut > 0 && ((unsigned char)t->text[cut] & 0xc0) == 0x80)
		cut--;
	t->text[cut] = '\0';
	jv_free(t->calls);
	t->calls = jv_array();
	return 1;
}

/* A scripted call's input: an object (new). */
jv
lm_call_input(jv t)
{
	const char *s;
	jv v = lm_field(t, "input");

	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	if ((s = lm_str(t, "arguments"))) {
		v = sl_parse(s, strlen(s));
		if (jv_get_kind(v) == JV_KIND_OBJECT)
			return v;
		jv_free(v);
	}
	return jv_object();
}

/* Its arguments as OpenAI sends them: JSON text (a new string). */
jv
lm_call_arguments(jv t)
{
	const char *s;

	if ((s = lm_str(t, "arguments")))
		return jv_string(s);
	return jv_dump_string(lm_call_input(t), 0);
}

/*
 * Its arguments as a server with object arguments sends them: the input,
 * or the arguments when they are an object, else their text (new).
 */
jv
lm_call_object(jv t)
{
	const char *s = lm_str(t, "arguments");
	jv v;

	if (lm_has(t, "input") || !s)
		return lm_call_input(t);
	v = sl_parse(s, strlen(s));
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	return jv_string(s);
}

/* The names of the calls of t that the request's tools lack. */
void
lm_undeclared(struct lm_call *c, const struct lm_turn *t)
{
	const char *name;
	jv tools = lm_field(c->body, "tools"), names = jv_array(), tool, f;
	int i, n = jv_get_kind(tools) == JV_KIND_ARRAY ? lm_len(tools) : 0;

	for (i = 0; i < n; i++) {
		tool = jv_array_get(jv_copy(tools), i);
		f = c->api == LM_OPENAI ? lm_field(tool, "function") :
		    jv_copy(tool);
		if ((name = lm_str(f, "name")))
			names = jv_array_append(names, jv_string(name));
		jv_free(f);
		jv_free(tool);
	}
	n = lm_len(t->calls);
	for (i = 0; i < n; i++) {
		tool = jv_array_get(jv_copy(t->calls), i);
		if (!lm_has_str(names, lm_str(tool, "name")))
			c->undeclared = jv_array_append(c->undeclared,
			    jv_string(lm_str(tool, "name")));
		jv_free(tool);
	}
	jv_free(names);
	jv_free(tools);
}

/* A stop reason in the vocabulary of the other API, or as it is. */
const char *
lm_stop_map(const char *stop, enum lm_api api)
{
	static const char *const map[][2] = {
		{ "end_turn", "stop" },
		{ "max_tokens", "length" },
		{ "tool_use", "tool_calls" },
		{ "refusal", "content_filter" },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(stop, map[i][api == LM_ANTHROPIC]) == 0)
			return map[i][api == LM_OPENAI];
	if (api == LM_OPENAI && strcmp(stop, "stop_sequence") == 0)
		return "stop";
	return stop;
}

/*
 * Model requests: checked, answered, logged.
 */

static void
log_call(const struct lm_call *c)
{
	char *line;
	size_t n;
	jv e, h;

	if (lm_cfg.autoans)
		return;
	h = jv_copy(c->req->headers);
	h = jv_object_delete(h, jv_string("x-api-key"));
	h = jv_object_delete(h, jv_string("authorization"));
	e = sl_set(jv_object(), "seq", jv_number((double)c->req->seq));
	e = sl_set(e, "api", jv_string(api_names[c->api]));
	e = sl_set(e, "path", jv_string(c->req->path));
	e = sl_set(e, "status", jv_number(c->resp->status));
	e = sl_set(e, "source", jv_string(c->source));
	if (c->resp->status != 200)
		e = sl_set(e, "error", jv_string(c->err));
	if (lm_len(c->undeclared) > 0)
		e = sl_set(e, "undeclared", jv_copy(c->undeclared));
	e = sl_set(e, "headers", h);
	e = sl_set(e, "body", jv_copy(c->body));
	line = sl_json_dump(e, &n);
	jv_free(e);
	if (reqlog_len + n + 2 > reqlog_cap) {
		while (reqlog_len + n + 2 > reqlog_cap)
			reqlog_cap = reqlog_cap ? reqlog_cap * 2 : 65536;
		reqlog = sl_realloc(reqlog, reqlog_cap);
	}
	memcpy(reqlog + reqlog_len, line, n);
	reqlog_len += n;
	reqlog[reqlog_len++] = '\n';
	reqlog[reqlog_len] = '\0';
	free(line);
}

static void
model(const struct fake_req *req, struct fake_resp *resp, enum lm_api api)
{
	struct lm_call c;

	memset(&c, 0, sizeof c);
	c.api = api;
	c.req = req;
	c.resp = resp;
	c.source = "error";
	c.undeclared = jv_array();
	c.body = req->body_len ? sl_parse(req->body, req->body_len) :
	    jv_null();
	if (!jv_is_valid(c.body)) {
		jv_free(c.body);
		c.body = jv_null();
	}
	snprintf(c.rid, sizeof c.rid, "req_01fake%016lu", ++serial);
	n_requests++;
	if (api == LM_ANTHROPIC)
		lm_anthropic(&c);
	else
		lm_openai(&c);
	if (resp->status != 200)
		n_rejected++;
	log_call(&c);
	jv_free(c.undeclared);
	jv_free(c.body);
}

/*
 * Control endpoints: /_fake/llm/...
 */

static jv
ctl_params(const struct fake_req *req)
{
	jv v;

	if (!req->body_len)
		return jv_object();
	v = sl_parse(req->body, req->body_len);
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	jv_free(v);
	return jv_null();
}

static void
ctl_script(const struct fake_req *req, struct fake_resp *resp)
{
	struct lm_line *l;
	const char *replace = NULL;
	char err[400], *line, *all = NULL;
	size_t n, total = 0, added;

	if (strcmp(req->method, "GET") == 0) {
		for (l = script; l; l = l->next) {
			line = sl_json_dump(l->v, &n);
			all = sl_realloc(all, total + n + 2);
			memcpy(all + total, line, n);
			total += n;
			all[total++] = '\n';
			free(line);
		}
		fake_reply(resp, 200, "application/x-ndjson", all ? all : "",
		    total);
		free(all);
		return;
	}
	sl_get_str(req->query, "replace", &replace);
	if (replace && *replace && strcmp(replace, "0") != 0)
		script_clear();
	if (script_add(req->body, req->body_len, &added, err,
	    sizeof err) < 0) {
		ctl_error(resp, 400, err);
		return;
	}
	fake_reply_json(resp, 200, sl_set(sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "added", jv_number((double)added)), "left",
	    jv_number((double)script_len)));
}

static jv
quirks(void)
{
	jv q = jv_object();

	q = sl_set(q, "arguments", jv_string(lm_cfg.args_object ? "object" :
	    "string"));
	q = sl_set(q, "content", jv_string(lm_cfg.content_empty ? "empty" :
	    "null"));
	q = sl_set(q, "finish_reason", jv_string(lm_cfg.finish_stop ? "stop" :
	    "tool_calls"));
	q = sl_set(q, "usage", jv_bool(!lm_cfg.no_usage));
	q = sl_set(q, "auth", jv_bool(!lm_cfg.no_auth));
	q = sl_set(q, "reasoning", lm_cfg.reasoning ?
	    jv_string(lm_cfg.reasoning) : jv_null());
	q = sl_set(q, "errors", jv_string(errors_names[lm_cfg.errors]));
	return sl_set(q, "tools", jv_string(tools_names[lm_cfg.tools]));
}

/* One of two words: 1 or 0 and *out, or -1 when it is neither. */
static int
one_of(jv p, const char *key, const char *no, const char *yes, int *out)
{
	const char *s;
	int r = sl_get_str(p, key, &s);

	if (r == 0)
		return lm_has(p, key) ? -1 : 0;
	if (r < 0 || (strcmp(s, no) != 0 && strcmp(s, yes) != 0))
		return -1;
	*out = strcmp(s, yes) == 0;
	return 1;
}

static void
ctl_quirks(jv p, struct fake_resp *resp)
{
	const char *s = NULL, *errs = NULL, *tools = NULL;
	char *bad;
	int args = lm_cfg.args_object, content = lm_cfg.content_empty;
	int finish = lm_cfg.finish_stop, usage = !lm_cfg.no_usage;
	int auth = !lm_cfg.no_auth, ok = 1;

	if ((bad = lm_unknown_field(p, quirk_keys))) {
		ctl_error(resp, 400, "unknown quirk");
		free(bad);
		return;
	}
	if (one_of(p, "arguments", "string", "object", &args) < 0 ||
	    one_of(p, "content", "null", "empty", &content) < 0 ||
	    one_of(p, "finish_reason", "tool_calls", "stop", &finish) < 0 ||
	    sl_get_bool(p, "usage", &usage) < 0 ||
	    sl_get_bool(p, "auth", &auth) < 0 ||
	    sl_get_str(p, "reasoning", &s) < 0 ||
	    sl_get_str(p, "errors", &errs) < 0 ||
	    (errs && lm_find(errors_names, errs) < 0) ||
	    sl_get_str(p, "tools", &tools) < 0 ||
	    (tools && lm_find(tools_names, tools) < 0))
		ok = 0;
	if (!ok) {
		ctl_error(resp, 400, "expected any of {\"arguments\":"
		    "\"string\"|\"object\",\"content\":\"null\"|\"empty\","
		    "\"finish_reason\":\"tool_calls\"|\"stop\",\"usage\":bool,"
		    "\"auth\":bool,\"reasoning\":string|null,\"errors\":"
		    "\"openai\"|\"vllm\"|\"llamacpp\"|\"empty\",\"tools\":"
		    "\"native\"|\"text\"|\"need_parser\"|\"need_jinja\"}");
		return;
	}
	lm_cfg.args_object = args;
	lm_cfg.content_empty = content;
	lm_cfg.finish_stop = finish;
	lm_cfg.no_usage = !usage;
	lm_cfg.no_auth = !auth;
	if (lm_has(p, "reasoning")) {
		free(lm_cfg.reasoning);
		lm_cfg.reasoning = s ? sl_strdup(s) : NULL;
	}
	if (errs)
		lm_cfg.errors = (enum lm_errors)lm_find(errors_names, errs);
	if (tools)
		lm_cfg.tools = (enum lm_tools)lm_find(tools_names, tools);
	fake_reply_json(resp, 200, quirks());
}

static void
keys_set(char **keys, size_t n)
{
	size_t i;

	for (i = 0; i < lm_cfg.nkeys; i++)
		free(lm_cfg.keys[i]);
	free(lm_cfg.keys);
	lm_cfg.keys = n ? sl_calloc(n, sizeof *lm_cfg.keys) : NULL;
	for (i = 0; i < n; i++)
		lm_cfg.keys[i] = sl_strdup(keys[i]);
	lm_cfg.nkeys = n;
}

static void
ctl_keys(jv p, struct fake_resp *resp)
{
	char **keys;
	jv a = jv_invalid(), k;
	int i, n, ok;

	if (sl_get_arr(p, "keys", &a) != 1) {
		jv_free(a);
		ctl_error(resp, 400, "expected {\"keys\":[strings]}");
		return;
	}
	n = lm_len(a);
	keys = sl_calloc((size_t)n + 1, sizeof *keys);
	for (i = 0, ok = 1; ok && i < n; i++) {
		k = jv_array_get(jv_copy(a), i);
		ok = jv_get_kind(k) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(k)) > 0;
		keys[i] = ok ? sl_strdup(jv_string_value(k)) : NULL;
		jv_free(k);
	}
	if (ok)
		keys_set(keys, (size_t)n);
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	jv_free(a);
	if (!ok) {
		ctl_error(resp, 400, "'keys': expected non-empty strings");
		return;
	}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "ok",
	    jv_true()), "keys", jv_number((double)lm_cfg.nkeys)));
}

static void
ctl_auto(jv p, struct fake_resp *resp, int post)
{
	const char *text = NULL;
	int on = lm_cfg.autoans;

	if (post && (sl_get_bool(p, "on", &on) != 1 ||
	    sl_get_str(p, "text", &text) < 0)) {
		ctl_error(resp, 400, "expected {\"on\":bool,\"text\"?}");
		return;
	}
	lm_cfg.autoans = on;
	if (text) {
		free(lm_cfg.auto_text);
		lm_cfg.auto_text = sl_strdup(text);
	}
	fake_reply_json(resp, 200, sl_set(sl_set(jv_object(), "on",
	    jv_bool(lm_cfg.autoans)), "text", jv_string(lm_cfg.auto_text)));
}

static void
ctl_state(struct fake_resp *resp)
{
	jv o = jv_object();

	o = sl_set(o, "requests", jv_number((double)n_requests));
	o = sl_set(o, "rejected", jv_number((double)n_rejected));
	o = sl_set(o, "scripted", jv_number((double)n_script));
	o = sl_set(o, "defaults", jv_number((double)n_default));
	o = sl_set(o, "auto", jv_number((double)n_auto));
	o = sl_set(o, "script_left", jv_number((double)script_len));
	o = sl_set(o, "keys", jv_number((double)lm_cfg.nkeys));
	fake_reply_json(resp, 200, sl_set(o, "quirks", quirks()));
}

static void
control(const struct fake_req *req, const char *what, struct fake_resp *resp)
{
	int get = strcmp(req->method, "GET") == 0;
	int post = strcmp(req->method, "POST") == 0;
	jv p;

	if (strcmp(what, "script") == 0 && (get || post)) {
		ctl_script(req, resp);
		return;
	}
	if (strcmp(what, "requests") == 0 && get) {
		fake_reply(resp, 200, "application/x-ndjson",
		    reqlog ? reqlog : "", reqlog_len);
		return;
	}
	if (strcmp(what, "state") == 0 && get) {
		ctl_state(resp);
		return;
	}
	p = post ? ctl_params(req) : jv_object();
	if (jv_get_kind(p) != JV_KIND_OBJECT)
		ctl_error(resp, 400, "expected a JSON object");
	else if (strcmp(what, "quirks") == 0 && post)
		ctl_quirks(p, resp);
	else if (strcmp(what, "quirks") == 0 && get)
		fake_reply_json(resp, 200, quirks());
	else if (strcmp(what, "keys") == 0 && post)
		ctl_keys(p, resp);
	else if (strcmp(what, "auto") == 0 && (get || post))
		ctl_auto(p, resp, post);
	else
		ctl_error(resp, 404, "fake-api: no such LLM control endpoint "
		    "(or wrong method)");
	jv_free(p);
}

/*
 * The module.
 */

static int
suffix(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && strcmp(s + n - m, end) == 0;
}

static void
forget(void)
{
	script_clear();
	free(reqlog);
	reqlog = NULL;
	reqlog_len = reqlog_cap = 0;
	keys_set(NULL, 0);
	free(lm_cfg.auto_text);
	free(lm_cfg.reasoning);
	memset(&lm_cfg, 0, sizeof lm_cfg);
}

/* Under the lock (POST /_fake/reset), and lazily before the first use. */
static void
lm_reset(void)
{
	forget();
	keys_set(opt_keys, nopt_keys);
	lm_cfg.auto_text = sl_strdup(LM_AUTO_TEXT);
	serial = n_requests = n_rejected = n_script = n_default = n_auto = 0;
	ready = 1;
}

static int
lm_handle(const struct fake_req *req, struct fake_resp *resp)
{
	if (!ready)
		lm_reset();
	if (strncmp(req->path, "/_fake/llm/", 11) == 0)
		control(req, req->path + 11, resp);
	else if (suffix(req->path, "/v1/messages"))
		model(req, resp, LM_ANTHROPIC);
	else if (suffix(req->path, "/v1/chat/completions"))
		model(req, resp, LM_OPENAI);
	else
		return 0;
	return 1;
}

static int
lm_option(int c, const char *arg)
{
	(void)c;
	if (!*arg) {
		sl_error("-k: empty key");
		return -1;
	}
	opt_keys = sl_realloc(opt_keys, (nopt_keys + 1) * sizeof *opt_keys);
	opt_keys[nopt_keys++] = sl_strdup(arg);
	return 0;
}

/* At exit, after the server stopped. */
static void
lm_cleanup(void)
{
	size_t i;

	forget();
	for (i = 0; i < nopt_keys; i++)
		free(opt_keys[i]);
	free(opt_keys);
	opt_keys = NULL;
	nopt_keys = 0;
	ready = 0;
}

const struct fake_module fake_llm = {
	"llm",
	"k:",
	"[-k llm-key]...",
	lm_option,
	lm_handle,
	lm_reset,
	lm_cleanup,
};
