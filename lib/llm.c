/*
 * llm.c: the model providers (llm.h): configuration, one request with
 * its retries, errors, the llm_calls ledger and the spending caps.  The
 * two wire formats are in llm_anthropic.c and llm_openai.c.
 *
 * Retries (apis.md section 0, as the official SDKs do them) are made
 * here rather than in http.c, which is asked for one try at a time:
 * connection failures, timeouts, 408, 409, 429 and every 5xx (529
 * included) are tried again, 3 tries in all, unless x-should-retry says
 * false.  The wait is the server's retry-after-ms or retry-after when it
 * is more than 0 and at most 60 s, else http.c's backoff (0.5 s doubling,
 * jitter, $SALESLINE_HTTP_BACKOFF_SCALE).  A 429 for an exhausted quota
 * (OpenAI's insufficient_quota, Anthropic's enforced_spend_limit_reached
 * without retry-after) is permanent at once.  A model request is
 * repeatable (it changes nothing but the bill), so it is marked
 * idempotent: a read timeout or a 502 is retried too.
 *
 * No usage in an answer (some compatible servers): the tokens are
 * estimated at 4 bytes each, from the request body and the reply, so the
 * daily budget still counts something.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "llm.h"
#include "llm_impl.h"
#include "sl.h"
#include "timeutil.h"

#define ANTHROPIC_URL "https://api.anthropic.com"
#define OPENAI_URL "https://api.openai.com"
#define ANTHROPIC_MODEL "claude-sonnet-4-5"
#define OPENAI_MODEL "gpt-4o-mini"
#define ANTHROPIC_VERSION "2023-06-01"
#define TRIES 3
#define MAX_SERVER_WAIT_MS 60000
#define DEF_TIMEOUT_S 120
#define DEF_BUDGET 10.0
#define DEF_PROSPECT_CAP 50

enum provider {
	ANTHROPIC,
	OPENAI,
};

struct sl_llm {
	enum provider provider;
	char *model;
	char *url;
	char *auth;			/* the key's header, or NULL */
	int openai_itself;		/* max_completion_tokens */
	long timeout_ms;
	long last_latency_ms;		/* of the last sl_llm_complete */
	long last_status;
	int last_tries;
	char *pre;			/* sl_llm_preamble, and as a jv */
	size_t prelen;
	jv prejv;
};

/* Per million tokens, US dollars; the first prefix that matches wins. */
static const struct price {
	const char *prefix;
	double in, out;
} prices[] = {
	{ "claude-opus-4-5", 5, 25 },
	{ "claude-opus-4", 15, 75 },
	{ "claude-3-opus", 15, 75 },
	{ "claude-sonnet-4", 3, 15 },
	{ "claude-3-7-sonnet", 3, 15 },
	{ "claude-3-5-sonnet", 3, 15 },
	{ "claude-haiku-4", 1, 5 },
	{ "claude-3-5-haiku", 0.8, 4 },
	{ "claude-3-haiku", 0.25, 1.25 },
	{ "gpt-4o-mini", 0.15, 0.6 },
	{ "gpt-4o", 2.5, 10 },
	{ "gpt-4.1-nano", 0.1, 0.4 },
	{ "gpt-4.1-mini", 0.4, 1.6 },
	{ "gpt-4.1", 2, 8 },
	{ "gpt-5-nano", 0.05, 0.4 },
	{ "gpt-5-mini", 0.25, 2 },
	{ "gpt-5", 1.25, 10 },
	{ "o4-mini", 1.1, 4.4 },
	{ "o3-mini", 1.1, 4.4 },
	{ "o3", 2, 8 },
};

/*
 * Configuration
 */

static const char *
provider_name(enum provider prov)
{
	return prov == ANTHROPIC ? "anthropic" : "openai";
}

static int
is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0;
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The API's URL from a base: BASE/v1/PATH, BASE/PATH after /v1, or BASE. */
static char *
api_url(const char *base, const char *path)
{
	size_t n = strlen(base);
	char full[64];

	while (n > 0 && base[n - 1] == '/')
		n--;
	snprintf(full, sizeof full, "/v1%s", path);
	if (ends_with(base, n, full))
		return sl_strndup(base, n);
	if (ends_with(base, n, "/v1"))
		return sl_asprintf("%.*s%s", (int)n, base, path);
	return sl_asprintf("%.*s%s", (int)n, base, full);
}

/* http://127.0.0.1..., http://localhost..., http://[::1]... */
static int
is_loopback(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (!h)
		return 0;
	h += 3;
	if (strncmp(h, "[::1]", 5) == 0)
		return 1;
	n = strcspn(h, ":/?#");
	return (n == 9 && strncmp(h, "localhost", 9) == 0) ||
	    (n >= 4 && strncmp(h, "127.", 4) == 0);
}

/* The first of the two secrets that is set, a new string, or NULL. */
static char *
key_of(const char *first, const char *second)
{
	char *k = sl_secret(first);

	return k ? k : sl_secret(second);
}

struct sl_llm *
sl_llm_open(void)
{
	const char *p = sl_env("LLM_PROVIDER", NULL), *base, *var;
	struct sl_llm *l;
	enum provider prov;
	char *key = NULL, *bearer;

	if (p && strcmp(p, "rules") == 0)
		return NULL;
	if (p && strcmp(p, "anthropic") == 0) {
		prov = ANTHROPIC;
	} else if (p && strcmp(p, "openai") == 0) {
		prov = OPENAI;
	} else if (p) {
		sl_die(SL_EX_CONFIG, "bad LLM_PROVIDER '%s': expected "
		    "anthropic, openai or rules", p);
	} else if ((key = sl_secret("ANTHROPIC_API_KEY"))) {
		prov = ANTHROPIC;
	} else if ((key = key_of("OPENAI_API_KEY", "LLM_API_KEY"))) {
		prov = OPENAI;
	} else {
		return NULL;
	}
	base = sl_env("LLM_BASE_URL", prov == ANTHROPIC ? ANTHROPIC_URL :
	    OPENAI_URL);
	if (!is_http(base)) {
		free(key);
		sl_die(SL_EX_CONFIG, "bad LLM_BASE_URL '%.200s': not an "
		    "http(s) URL", base);
	}
	var = prov == ANTHROPIC ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
	if (!key)
		key = key_of(var, "LLM_API_KEY");
	/* Only set explicitly can a provider lack its key. */
	if (!key && !(prov == OPENAI && is_loopback(base)))
		sl_die(SL_EX_CONFIG, "LLM_PROVIDER is %s, but %s (or %s_FILE, "
		    "or LLM_API_KEY) is not set", provider_name(prov), var, var);
	l = sl_calloc(1, sizeof *l);
	l->provider = prov;
	l->model = sl_strdup(sl_env("LLM_MODEL", prov == ANTHROPIC ?
	    ANTHROPIC_MODEL : OPENAI_MODEL));
	l->url = api_url(base, prov == ANTHROPIC ? "/messages" :
	    "/chat/completions");
	l->openai_itself = strncmp(base, OPENAI_URL, strlen(OPENAI_URL)) == 0;
	if (key && prov == ANTHROPIC) {
		l->auth = sl_http_header("x-api-key", key);
	} else if (key) {
		bearer = sl_asprintf("Bearer %s", key);
		l->auth = sl_http_header("Authorization", bearer);
		free(bearer);
	}
	l->timeout_ms = (long)sl_env_int("LLM_TIMEOUT", DEF_TIMEOUT_S, 1,
	    24 * 3600) * 1000;
	free(key);
	return l;
}

void
sl_llm_close(struct sl_llm *l)
{
	if (!l)
		return;
	if (l->pre)
		jv_free(l->prejv);
	free(l->pre);
	free(l->model);
	free(l->url);
	free(l->auth);
	free(l);
}

const char *
sl_llm_provider(const struct sl_llm *l)
{
	return provider_name(l->provider);
}

const char *
sl_llm_model(const struct sl_llm *l)
{
	return l->model;
}

const char *
sl_llm_url(const struct sl_llm *l)
{
	return l->url;
}

const char *
sl_llm_str(jv obj, const char *key)
{
	const char *s;

	if (jv_get_kind(obj) != JV_KIND_OBJECT || sl_get_str(obj, key, &s) != 1)
		return "";
	return s;
}

double
sl_llm_cost(const char *model, long input_tokens, long output_tokens)
{
	size_t i;

	for (i = 0; model && i < sizeof prices / sizeof prices[0]; i++)
		if (strncmp(model, prices[i].prefix,
		    strlen(prices[i].prefix)) == 0)
			return (input_tokens * prices[i].in +
			    output_tokens * prices[i].out) / 1e6;
	return 0;
}

/*
 * The conversation
 */

/* One tool call of messages[i]: 0, or -1 with why.  Consumes c. */
static int
check_call(jv c, int i, int j, char *why, size_t size)
{
	const char *s, *bad = NULL;
	jv v;
	int k;

	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		bad = "expected an object";
	} else if (sl_get_str(c, "id", &s) != 1 || !*s ||
	    sl_get_str(c, "name", &s) != 1 || !*s) {
		bad = "'id' and 'name' must be strings";
	} else {
		if ((k = sl_get_obj(c, "input", &v)) == 1)
			jv_free(v);
		if (k < 0 || sl_get_str(c, "arguments", &s) < 0)
			bad = "'input' must be an object";
	}
	jv_free(c);
	if (!bad)
		return 0;
	snprintf(why, size, "messages[%d].tool_calls[%d]: %s", i, j, bad);
	return -1;
}

/* One message: 0, or -1 with why. Borrows m. */
static int
check_message(jv m, int i, char *why, size_t size)
{
	const char *role, *s, *bad = NULL;
	jv calls = jv_invalid();
	int j, n, b, rc = 0;

	if (jv_get_kind(m) != JV_KIND_OBJECT ||
	    sl_get_str(m, "role", &role) != 1) {
		snprintf(why, size, "messages[%d]: expected an object with "
		    "a role", i);
		return -1;
	}
	if (strcmp(role, "user") == 0) {
		if (sl_get_str(m, "text", &s) != 1)
			bad = "'text': expected a string";
	} else if (strcmp(role, "assistant") == 0) {
		if (sl_get_str(m, "text", &s) < 0)
			bad = "'text': expected a string";
		else if (sl_get_str(m, "reasoning", &s) < 0)
			bad = "'reasoning': expected a string";
		else if (sl_get_arr(m, "tool_calls", &calls) < 0)
			bad = "'tool_calls': expected an array";
	} else if (strcmp(role, "tool") == 0) {
		if (sl_get_str(m, "tool_call_id", &s) != 1 || !*s)
			bad = "'tool_call_id': expected a string";
		else if (sl_get_str(m, "content", &s) != 1)
			bad = "'content': expected a string";
		else if (sl_get_bool(m, "is_error", &b) < 0)
			bad = "'is_error': expected a boolean";
	} else {
		bad = "'role': expected user, assistant or tool";
	}
	if (bad) {
		snprintf(why, size, "messages[%d]: %s", i, bad);
		rc = -1;
	}
	n = jv_get_kind(calls) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(calls)) : 0;
	for (j = 0; rc == 0 && j < n; j++)
		rc = check_call(jv_array_get(jv_copy(calls), j), i, j, why,
		    size);
	jv_free(calls);
	return rc;
}

int
sl_llm_check(jv messages, char *why, size_t size)
{
	int i, n;
	jv m;

	if (jv_get_kind(messages) != JV_KIND_ARRAY) {
		snprintf(why, size, "messages: expected an array");
		return -1;
	}
	n = jv_array_length(jv_copy(messages));
	for (i = 0; i < n; i++) {
		m = jv_array_get(jv_copy(messages), i);
		if (check_message(m, i, why, size) < 0) {
			jv_free(m);
			return -1;
		}
		jv_free(m);
	}
	return 0;
}

/*
 * Requests and errors
 */

/*
 * The API's name for an error: Anthropic's error.type, OpenAI's
 * error.code (else error.type), vLLM's top-level type; "" when the body
 * says nothing.  A 429 for an exhausted quota or spending limit sets
 * *quota.
 */
static void
error_reason(const struct sl_http_resp *resp, char *buf, size_t size,
    int *quota)
{
	const char *s = "", *p = resp->body ? resp->body : "";
	jv body = jv_invalid(), e = jv_invalid(), d = jv_invalid();

	buf[0] = '\0';
	*quota = 0;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '{')
		return;
	body = sl_http_json(resp);
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		jv_free(body);
		return;
	}
	if (sl_get_obj(body, "error", &e) == 1) {
		if (!*(s = sl_llm_str(e, "code")))
			s = sl_llm_str(e, "type");
		if (sl_get_obj(e, "details", &d) == 1 &&
		    strcmp(sl_llm_str(d, "error_code"),
		    "enforced_spend_limit_reached") == 0 &&
		    resp->retry_after_ms < 0)
			*quota = 1;
	} else if (strcmp(sl_llm_str(body, "object"), "error") == 0) {
		s = sl_llm_str(body, "type");
	}
	snprintf(buf, size, "%s", s);
	if (strcmp(buf, "insufficient_quota") == 0)
		*quota = 1;
	jv_free(d);
	jv_free(e);
	jv_free(body);
}

/* The LLM's view of one try: 409 is worth repeating, a quota is not. */
static enum sl_http_class
classify(const struct sl_http_resp *resp)
{
	char reason[64];
	const char *v;
	int quota;

	if (resp->class == SL_HTTP_OK)
		return SL_HTTP_OK;
	if (resp->status == 409 && !(sl_get_str(resp->headers,
	    "x-should-retry", &v) == 1 && strcmp(v, "false") == 0))
		return SL_HTTP_TEMPORARY;
	if (resp->status == 429) {
		error_reason(resp, reason, sizeof reason, &quota);
		if (quota)
			return SL_HTTP_PERMANENT;
	}
	return resp->class == SL_HTTP_UNCERTAIN ? SL_HTTP_TEMPORARY :
	    resp->class;
}

/* sl_http_do with the retries of the model APIs; resp to free. */
static void
perform(struct sl_llm *l, struct sl_http_req *req,
    struct sl_http_resp *resp)
{
	long wait;

	req->max_tries = 1;
	for (l->last_tries = 1; ; l->last_tries++) {
		sl_http_do(req, resp);
		resp->class = classify(resp);
		if (resp->class != SL_HTTP_TEMPORARY || l->last_tries >= TRIES)
			return;
		wait = resp->retry_after_ms > 0 &&
		    resp->retry_after_ms <= MAX_SERVER_WAIT_MS ?
		    resp->retry_after_ms :
		    sl_http_backoff_ms(l->last_tries + 1);
		sl_http_resp_free(resp);
		sl_sleep_ms(wait);
	}
}

/*
 * err from a failed request.  http.c's text already quotes the server's
 * message; reason comes from the body, or from the kind of transport
 * failure (http.c words a timeout "... within N ms" or "timed out").
 */
static int
resp_fail(struct sl_llm *l, const struct sl_http_resp *resp,
    struct sl_svc_err *err)
{
	char reason[64], tries[32] = "";
	int quota;

	err->status = resp->status;
	error_reason(resp, reason, sizeof reason, &quota);
	if (resp->status == 0)
		snprintf(reason, sizeof reason, "%s",
		    strstr(resp->error, " within ") ||
		    strstr(resp->error, "timed out") ? "timeout" :
		    "connection");
	if (l->last_tries > 1)
		snprintf(tries, sizeof tries, " (%d tries)", l->last_tries);
	return sl_svc_fail(err, resp->class, reason, "%s: %s%s%s", sl_llm_provider(l),
	    resp->error, resp->status >= 400 && resp->body_len == 0 ?
	    " (no body)" : "", tries);
}

/* stop as end_turn, tool_use, max_tokens or refusal. */
static const char *
stop_word(const char *stop, int calls)
{
	if (strcmp(stop, "max_tokens") == 0 || strcmp(stop, "length") == 0 ||
	    strcmp(stop, "model_context_window_exceeded") == 0)
		return "max_tokens";
	if (strcmp(stop, "refusal") == 0 ||
	    strcmp(stop, "content_filter") == 0)
		return "refusal";
	return calls ? "tool_use" : "end_turn";
}

/* The assistant turn for the conversation, from the answer (borrowed). */
static jv
message_of(jv a)
{
	jv m = JV_OBJECT(jv_string("role"), jv_string("assistant"));
	jv calls = jv_invalid();

	if (*sl_llm_str(a, "text"))
		m = sl_set(m, "text", jv_string(sl_llm_str(a, "text")));
	if (sl_get_arr(a, "tool_calls", &calls) == 1 &&
	    jv_array_length(jv_copy(calls)) > 0)
		m = sl_set(m, "tool_calls", calls);
	else
		jv_free(calls);
	if (*sl_llm_str(a, "reasoning"))
		m = sl_set(m, "reasoning", jv_string(sl_llm_str(a,
		    "reasoning")));
	return m;
}

/* The parser's answer completed: stop, tokens, cost, latency, message. */
static jv
complete_answer(struct sl_llm *l, jv a, size_t request_len)
{
	int64_t in = 0, out = 0;
	jv calls;
	const char *stop;
	int n, estimated = 0;

	if (sl_get_arr(a, "tool_calls", &calls) != 1)
		calls = jv_array();
	n = jv_array_length(jv_copy(calls));
	stop = stop_word(sl_llm_str(a, "stop"), n > 0);
	if (strcmp(stop, "max_tokens") == 0 && n > 0) {
		jv_free(calls);
		calls = jv_array();
	}
	a = sl_set(a, "tool_calls", calls);
	a = sl_set(a, "stop", jv_string(stop));
	if (sl_get_int(a, "input_tokens", &in) != 1) {
		in = (int64_t)(request_len / 4);
		estimated = 1;
	}
	if (sl_get_int(a, "output_tokens", &out) != 1) {
		out = (int64_t)(strlen(sl_llm_str(a, "text")) / 4) + 1;
		estimated = 1;
	}
	if (estimated)
		a = sl_set(a, "usage_estimated", jv_true());
	a = sl_set(a, "input_tokens", jv_number((double)in));
	a = sl_set(a, "output_tokens", jv_number((double)out));
	if (!*sl_llm_str(a, "model"))
		a = sl_set(a, "model", jv_string(l->model));
	a = sl_set(a, "provider", jv_string(sl_llm_provider(l)));
	a = sl_set(a, "latency_ms", jv_number(l->last_latency_ms));
	a = sl_set(a, "cost", jv_number(sl_llm_cost(sl_llm_str(a, "model"),
	    (long)in, (long)out)));
	return sl_set(a, "message", message_of(a));
}

void
sl_llm_preamble(struct sl_llm *l, const char *text)
{
	free(l->pre);
	if (l->pre)
		jv_free(l->prejv);
	l->pre = sl_strdup(text);
	l->prelen = strlen(text);
	l->prejv = jv_string_sized(text, (int)l->prelen);
}

/* The system prompt as a jv (null: none), its preamble taken as it is. */
static jv
system_jv(struct sl_llm *l, const char *system)
{
	size_t n;

	if (system == NULL || *system == '\0')
		return jv_null();
	n = strlen(system);
	if (l->pre && n >= l->prelen && memcmp(system, l->pre, l->prelen) == 0)
		return jv_string_append_buf(jv_copy(l->prejv),
		    system + l->prelen, (int)(n - l->prelen));
	return jv_string_sized(system, (int)n);
}

int
sl_llm_complete(struct sl_llm *l, const char *system, jv messages,
    jv tools, int max_tokens, jv *answer, struct sl_svc_err *err)
{
	const char *headers[] = { "Content-Type: application/json", NULL,
		NULL, NULL };
	struct sl_http_req req = { 0 };
	struct sl_http_resp resp;
	char why[256], *text = NULL;
	size_t len = 0;
	jv body, a = jv_invalid();
	long t0;
	int rc = -1;

	memset(err, 0, sizeof *err);
	*answer = jv_invalid();
	memset(&resp, 0, sizeof resp);
	resp.headers = jv_null();
	l->last_latency_ms = 0;
	l->last_status = 0;
	l->last_tries = 0;
	if (sl_llm_check(messages, why, sizeof why) < 0)
		return sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_request", "%s: %s",
		    sl_llm_provider(l), why);
	if (max_tokens < 1)
		max_tokens = 1024;
	body = l->provider == ANTHROPIC ?
	    sl_llm_an_request(l->model, system_jv(l, system), messages, tools,
	    max_tokens) :
	    sl_llm_oa_request(l->model, system_jv(l, system), messages, tools,
	    max_tokens,
	    l->openai_itself ? "max_completion_tokens" : "max_tokens");
	if (!jv_is_valid(body)) {
		jv m = jv_invalid_get_msg(body);

		sl_svc_fail(err, SL_HTTP_PERMANENT, "invalid_request", "%s: %s",
		    sl_llm_provider(l), jv_get_kind(m) == JV_KIND_STRING ?
		    jv_string_value(m) : "bad conversation");
		jv_free(m);
		return -1;
	}
	text = sl_json_dump(body, &len);
	jv_free(body);
	headers[1] = l->auth;
	if (l->provider == ANTHROPIC)
		headers[l->auth ? 2 : 1] = "anthropic-version: "
		    ANTHROPIC_VERSION;
	req.method = "POST";
	req.url = l->url;
	req.headers = headers;
	req.body = text;
	req.body_len = len;
	req.timeout_ms = l->timeout_ms;
	req.idempotent = 1;
	t0 = sl_mono_ms();
	perform(l, &req, &resp);
	l->last_latency_ms = sl_mono_ms() - t0;
	l->last_status = resp.status;
	if (resp.class != SL_HTTP_OK) {
		resp_fail(l, &resp, err);
		goto out;
	}
	a = sl_http_json(&resp);
	if (jv_get_kind(a) != JV_KIND_OBJECT) {
		jv_free(a);
		a = jv_invalid_with_msg(jv_string("the answer is not a JSON "
		    "object"));
	} else {
		a = l->provider == ANTHROPIC ? sl_llm_an_answer(a) :
		    sl_llm_oa_answer(a);
	}
	if (!jv_is_valid(a)) {
		jv m = jv_invalid_get_msg(a);

		err->status = resp.status;
		sl_svc_fail(err, SL_HTTP_PERMANENT, "bad_answer", "%s: HTTP %ld: %s",
		    sl_llm_provider(l), resp.status,
		    jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
		    "not JSON");
		jv_free(m);
		a = jv_invalid();
		goto out;
	}
	*answer = complete_answer(l, a, len);
	a = jv_invalid();
	rc = 0;
out:
	jv_free(a);
	sl_http_resp_free(&resp);
	free(text);
	return rc;
}

/*
 * The ledger
 */

static jv
id_or_null(int64_t id)
{
	return id > 0 ? jv_number((double)id) : jv_null();
}

static int
insert(struct sl_db *db, const struct sl_llm *l, int64_t prospect_id,
    const char *purpose, const char *model, int64_t in, int64_t out,
    double cost, const char *status, long http_status, const char *error)
{
	char *masked = error ? sl_mask(error) : NULL;
	jv p;
	long n;

	p = JV_ARRAY(jv_number((double)sl_now()),
	    jv_string(sl_llm_provider(l)), jv_string(model),
	    id_or_null(prospect_id), purpose ? jv_string(purpose) : jv_null(),
	    jv_number((double)in), jv_number((double)out));
	p = jv_array_concat(p, JV_ARRAY(jv_number(l->last_latency_ms),
	    jv_number(cost), jv_string(status), http_status > 0 ?
	    jv_number(http_status) : jv_null(), masked ? jv_string(masked) :
	    jv_null()));
	n = sl_db_exec(db, "INSERT INTO llm_calls (at, provider, model, "
	    "prospect_id, purpose, input_tokens, output_tokens, latency_ms, "
	    "cost, status, http_status, error) VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, $8, $9, $10, $11, $12)", p);
	free(masked);
	return n < 0 ? -1 : 0;
}

int
sl_llm_log(struct sl_db *db, const struct sl_llm *l, int64_t prospect_id,
    const char *purpose, const jv *answer, const struct sl_svc_err *err)
{
	int64_t in = 0, out = 0;
	double cost = 0;
	const char *model = l->model, *status = "error";

	if (answer && jv_get_kind(*answer) == JV_KIND_OBJECT) {
		sl_get_int(*answer, "input_tokens", &in);
		sl_get_int(*answer, "output_tokens", &out);
		sl_get_num(*answer, "cost", &cost);
		if (*sl_llm_str(*answer, "model"))
			model = sl_llm_str(*answer, "model");
		return insert(db, l, prospect_id, purpose, model, in, out,
		    cost, "ok", l->last_status, NULL);
	}
	if (err && strcmp(err->reason, "timeout") == 0)
		status = "timeout";
	else if (err && strcmp(err->reason, "budget") == 0)
		status = "budget";
	return insert(db, l, prospect_id, purpose, model, 0, 0, 0, status,
	    err ? err->status : l->last_status, err ? err->message :
	    "unknown error");
}

/* $LLM_DAILY_BUDGET in dollars, >= 0; anything else exits 78. */
static double
daily_budget(void)
{
	const char *v = sl_env("LLM_DAILY_BUDGET", NULL);
	char *end;
	double d;

	if (!v)
		return DEF_BUDGET;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0 && d <= 1e9))
		sl_die(SL_EX_CONFIG, "bad LLM_DAILY_BUDGET '%s': expected "
		    "US dollars, 0 for no cap", v);
	return d;
}

/* A number from the first row's column, or -1 on a ledger error. */
static double
scalar(struct sl_db *db, const char *sql, jv params, const char *col)
{
	jv row = sl_db_query1(db, sql, params);
	double d = -1;

	if (jv_get_kind(row) == JV_KIND_OBJECT &&
	    sl_get_num(row, col, &d) != 1)
		d = 0;
	jv_free(row);
	return d;
}

int
sl_llm_budget_ok(struct sl_db *db, const struct sl_llm *l,
    int64_t prospect_id, char **why)
{
	struct sl_llm quiet = *l;
	double budget = daily_budget(), spent = 0, calls = 0;
	long long cap = sl_env_int("LLM_PROSPECT_CAP", DEF_PROSPECT_CAP, 0,
	    1000000000);
	int64_t now = sl_now(), day = now - ((now % 86400) + 86400) % 86400;
	int rc = -1;

	*why = NULL;
	if (budget > 0 && (spent = scalar(db, "SELECT COALESCE(SUM(cost), 0) "
	    "AS cost FROM llm_calls WHERE at >= $1",
	    JV_ARRAY(jv_number((double)day)), "cost")) < 0)
		goto out;
	if (budget > 0 && spent >= budget)
		*why = sl_asprintf("the model calls of today cost $%.2f, "
		    "LLM_DAILY_BUDGET is $%.2f", spent, budget);
	if (!*why && cap > 0 && prospect_id > 0 && (calls = scalar(db,
	    "SELECT COUNT(*) AS n FROM llm_calls WHERE prospect_id = $1 AND "
	    "at >= $2 AND status <> 'budget'",
	    JV_ARRAY(jv_number((double)prospect_id), jv_number((double)day)),
	    "n")) < 0)
		goto out;
	if (!*why && cap > 0 && prospect_id > 0 && calls >= (double)cap)
		*why = sl_asprintf("prospect %lld had %.0f model calls today, "
		    "LLM_PROSPECT_CAP is %lld", (long long)prospect_id, calls,
		    cap);
	if (!*why)
		return 1;
	/* The refusal's row has no latency and no HTTP status. */
	quiet.last_latency_ms = 0;
	if (insert(db, &quiet, prospect_id, NULL, l->model, 0, 0, 0, "budget",
	    0, *why) < 0)
		goto out;
	return 0;
out:
	free(*why);
	*why = sl_asprintf("cannot check the model budget: %s",
	    sl_db_error(db));
	return rc;
}
