/*
 * Unit tests for lib/llm*.c against fake-api's model APIs.
 *
 * Starts $SL_BUILD/tests/fake/fake-api, scripts what the model says with
 * POST /_fake/llm/script and reads what it was sent with GET
 * /_fake/llm/requests.  For both providers: a tool round trip whose
 * second request must pass the emulator's pairing checks (a wrong id is
 * refused with its 400, which proves the checks are on), text answers,
 * the OpenAI quirks of compatible servers, 529 once and for ever, 429s,
 * 401 (77), error bodies of every shape, a timeout; then the
 * configuration (78 in forked children), the llm_calls rows and the
 * spending caps on an SQLite ledger in a temporary directory.  Backoff
 * is scaled down; SALESLINE_NOW fixes the day.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "db.h"
#include "google.h"
#include "http.h"
#include "jsonl.h"
#include "llm.h"
#include "sl.h"
#include "timeutil.h"
#include "tap.h"
#include "fake_client.h"

#define NOW "2026-03-10T12:00:00Z"
#define KEY "sk-test-4f9Qz7Lm2"
#define SYSTEM "You book meetings for Anna."
#define SLOT "{\"type\":\"slot\",\"rep\":\"anna\",\"start\":" \
	"\"2026-03-11T02:00:00Z\",\"end\":\"2026-03-11T02:30:00Z\"," \
	"\"local\":\"Wed 11 Mar 10:00\"}"
#define OVERLOADED "{\"type\":\"error\",\"error\":{\"type\":" \
	"\"overloaded_error\",\"message\":\"Overloaded\"}}"

static struct sl_db *db;
static char dir[] = "/tmp/sl-llm-test.XXXXXX";
static jv tools;

static const char *const vars[] = { "LLM_PROVIDER", "LLM_MODEL",
	"LLM_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY_FILE",
	"OPENAI_API_KEY", "OPENAI_API_KEY_FILE", "LLM_API_KEY",
	"LLM_API_KEY_FILE", NULL };

static jv
json(const char *s)
{
	return sl_parse(s, strlen(s));
}

static int
contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* v at a path like "messages.2.content.0.type" (borrows v), new value. */
static jv
at(jv v, const char *path)
{
	char *p = sl_strdup(path), *s = p, *dot;
	jv cur = jv_copy(v), next;

	for (; s; s = dot) {
		if ((dot = strchr(s, '.')))
			*dot++ = '\0';
		if (jv_get_kind(cur) == JV_KIND_ARRAY && *s >= '0' && *s <= '9')
			next = jv_array_get(jv_copy(cur), atoi(s));
		else if (jv_get_kind(cur) == JV_KIND_OBJECT)
			next = jv_object_get(jv_copy(cur), jv_string(s));
		else
			next = jv_invalid();
		jv_free(cur);
		cur = next;
		if (!jv_is_valid(cur))
			break;
	}
	free(p);
	return cur;
}

/* The string at path, copied into a static buffer, or NULL. */
static const char *
str(jv v, const char *path)
{
	static char buf[4][2048];
	static int k;
	jv s = at(v, path);
	const char *out = NULL;

	if (jv_get_kind(s) == JV_KIND_STRING) {
		k = (k + 1) % 4;
		snprintf(buf[k], sizeof buf[k], "%s", jv_string_value(s));
		out = buf[k];
	}
	jv_free(s);
	return out;
}

static double
num(jv v, const char *path)
{
	jv n = at(v, path);
	double d = jv_get_kind(n) == JV_KIND_NUMBER ? jv_number_value(n) : -1;

	jv_free(n);
	return d;
}

static int
kind(jv v, const char *path)
{
	jv n = at(v, path);
	int k = jv_get_kind(n);

	jv_free(n);
	return k;
}

/* Forgets the emulator's state, then sets rules and a script. */
static void
reset(const char *rules, const char *script)
{
	free(fake_control("/_fake/reset", ""));
	if (rules)
		free(fake_control("/_fake/rules", rules));
	if (script)
		free(fake_control("/_fake/llm/script", script));
}

/* The model requests the emulator answered, as an array. */
static jv
requests(void)
{
	char *log = fake_control("/_fake/llm/requests", NULL), *p, *nl;
	jv out = jv_array(), e;

	for (p = log; p && *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p);
		e = sl_parse(p, (size_t)(nl - p));
		if (jv_is_valid(e))
			out = jv_array_append(out, e);
		else
			jv_free(e);
		if (!*nl)
			break;
	}
	free(log);
	return out;
}

static void
clear_env(void)
{
	int i;

	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	sl_secret_clear();
}

/* A provider at the emulator with key (NULL: none). */
static struct sl_llm *
open_as(const char *provider, const char *key)
{
	clear_env();
	setenv("LLM_PROVIDER", provider, 1);
	setenv("LLM_BASE_URL", fake_base, 1);
	if (key)
		setenv(strcmp(provider, "anthropic") == 0 ?
		    "ANTHROPIC_API_KEY" : "OPENAI_API_KEY", key, 1);
	return sl_llm_open();
}

static int
complete(struct sl_llm *l, jv msgs, jv *a, struct sl_svc_err *err)
{
	int rc = sl_llm_complete(l, SYSTEM, msgs, tools, 512, a, err);

	if (rc < 0)
		diag("%s: %s", err->reason, err->message);
	return rc;
}

/*
 * The tool round trip
 */

static void
test_round_trip(const char *provider)
{
	struct sl_llm *l = open_as(provider, KEY);
	struct sl_svc_err err;
	int an = strcmp(provider, "anthropic") == 0;
	char id[128] = "", *bad;
	jv msgs, a, reqs, body;
	int rc;

	reset(NULL, "{\"text\":\"Let me check.\",\"tool\":\"get_free_slots\","
	    "\"input\":{\"rep\":\"anna\",\"days\":3}}\n"
	    "{\"text\":\"Wednesday 10:00 or 14:00?\"}\n");
	msgs = json("[{\"role\":\"user\",\"text\":\"Can we meet this "
	    "week?\"}]");
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, an ? "anthropic: the first turn" : "openai: the first "
	    "turn");
	is_str(str(a, "stop"), "tool_use", "the model asks for a tool");
	is_str(str(a, "tool_calls.0.name"), "get_free_slots", "its name");
	is_str(str(a, "tool_calls.0.input.rep"), "anna", "its input, an "
	    "object");
	is_int((long long)num(a, "tool_calls.0.input.days"), 3, "input.days");
	is_str(str(a, "text"), "Let me check.", "the text before the call");
	if (str(a, "tool_calls.0.id"))
		snprintf(id, sizeof id, "%s", str(a, "tool_calls.0.id"));
	ok(strncmp(id, an ? "toolu_" : "call_", an ? 6 : 5) == 0,
	    "the call's id '%s'", id);
	ok(num(a, "input_tokens") > 0 && num(a, "output_tokens") > 0,
	    "tokens counted");
	ok(num(a, "cost") > 0, "a known model has a cost: %g",
	    num(a, "cost"));
	ok(num(a, "latency_ms") >= 0, "latency_ms");
	is_str(str(a, "provider"), provider, "provider");

	msgs = jv_array_append(msgs, at(a, "message"));
	msgs = jv_array_append(msgs, JV_OBJECT(jv_string("role"),
	    jv_string("tool"), jv_string("tool_call_id"), jv_string(id),
	    jv_string("name"), jv_string("get_free_slots"),
	    jv_string("content"), jv_string(SLOT)));
	jv_free(a);
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, "the second turn, with the tool result, is accepted");
	is_str(str(a, "stop"), "end_turn", "end_turn");
	is_str(str(a, "text"), "Wednesday 10:00 or 14:00?", "the reply");
	is_int(kind(a, "tool_calls"), JV_KIND_ARRAY, "tool_calls: []");
	jv_free(a);

	reqs = requests();
	body = at(reqs, "1.body");
	is_int((long long)num(reqs, "1.status"), 200, "the emulator "
	    "answered 200");
	if (an) {
		is_str(str(body, "system"), SYSTEM, "system is top-level");
		is_str(str(body, "messages.1.role"), "assistant",
		    "messages.1: the assistant turn");
		is_str(str(body, "messages.1.content.1.type"), "tool_use",
		    "with its tool_use");
		is_str(str(body, "messages.1.content.1.id"), id, "of the id");
		is_str(str(body, "messages.2.role"), "user",
		    "messages.2: user");
		is_str(str(body, "messages.2.content.0.type"), "tool_result",
		    "starting with the tool_result");
		is_str(str(body, "messages.2.content.0.tool_use_id"), id,
		    "tool_use_id matches");
		is_str(str(body, "messages.2.content.0.content"), SLOT,
		    "the tool's output as text");
		is_str(str(body, "tools.0.input_schema.type"), "object",
		    "tools: input_schema");
		is_str(str(reqs, "1.headers.anthropic-version"), "2023-06-01",
		    "anthropic-version");
	} else {
		is_str(str(body, "messages.0.role"), "system",
		    "system is the first message");
		is_str(str(body, "messages.2.tool_calls.0.id"), id,
		    "the assistant's tool call");
		is_int(kind(body, "messages.2.tool_calls.0.function.arguments"),
		    JV_KIND_STRING, "arguments go back as a string");
		is_str(str(body, "messages.3.role"), "tool", "then a tool "
		    "message");
		is_str(str(body, "messages.3.tool_call_id"), id,
		    "tool_call_id matches");
		is_str(str(body, "tools.0.type"), "function",
		    "tools: function");
		is_str(str(body, "tools.0.function.parameters.type"), "object",
		    "tools: parameters");
		ok(kind(body, "max_tokens") == JV_KIND_NUMBER,
		    "max_tokens for a compatible server");
	}
	ok(kind(body, an ? "tools.0.command" : "tools.0.function.command") ==
	    JV_KIND_INVALID, "the tool's command is not sent");
	jv_free(body);
	jv_free(reqs);

	/* The result left out: the emulator refuses the pairing. */
	msgs = jv_array_set(msgs, 2, json("{\"role\":\"user\",\"text\":"
	    "\"and?\"}"));
	free(fake_control("/_fake/llm/script", "{\"text\":\"unused\"}\n"));
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 512, &a, &err);
	bad = err.message;
	ok(rc == -1 && err.status == 400 && err.class == SL_HTTP_PERMANENT &&
	    contains(bad, an ? "tool_use ids were found without tool_result" :
	    "must be followed by tool messages"), "a wrong pairing is a "
	    "permanent 400: '%s'", bad);
	is_int(sl_svc_exit_code(&err), 69, "exit status 69");
	ok(!contains(bad, KEY), "the key is not in the message");
	jv_free(msgs);
	sl_llm_close(l);
}

/* Anthropic: turns merged, results before text, a placeholder first. */
static void
test_anthropic_shape(void)
{
	struct sl_llm *l = open_as("anthropic", KEY);
	struct sl_svc_err err;
	jv msgs, a, reqs;
	int rc;

	reset(NULL, NULL);
	msgs = json("[{\"role\":\"assistant\",\"text\":\"Hello! Shall we "
	    "meet?\"},{\"role\":\"user\",\"text\":\"Yes\"},{\"role\":"
	    "\"assistant\",\"tool_calls\":[{\"id\":\"toolu_a\",\"name\":"
	    "\"get_free_slots\",\"input\":{\"rep\":\"anna\"}},{\"id\":"
	    "\"toolu_b\",\"name\":\"parse_time\",\"input\":{\"text\":"
	    "\"fri\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"toolu_a\","
	    "\"content\":\"[]\"},"
	    "{\"role\":\"user\",\"text\":\"Friday please\"},"
	    "{\"role\":\"tool\",\"tool_call_id\":\"toolu_b\",\"content\":"
	    "\"bad\",\"is_error\":true},{\"role\":\"user\",\"text\":\"\"}]");
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, "anthropic: a follow-up with two parallel calls is "
	    "accepted");
	is_str(str(a, "text"), "echo: Friday please", "the emulator echoes "
	    "the last user text");
	reqs = requests();
	is_str(str(reqs, "0.body.messages.0.role"), "user",
	    "a placeholder user turn comes first");
	is_str(str(reqs, "0.body.messages.4.content.1.type"), "tool_result",
	    "both results first in one user message");
	is_str(str(reqs, "0.body.messages.4.content.1.tool_use_id"), "toolu_b",
	    "the second result");
	ok(kind(reqs, "0.body.messages.4.content.1.is_error") ==
	    JV_KIND_TRUE, "is_error kept");
	is_str(str(reqs, "0.body.messages.4.content.2.text"), "Friday please",
	    "then the text");
	ok(kind(reqs, "0.body.messages.5") == JV_KIND_INVALID,
	    "an empty text adds no message");
	jv_free(reqs);
	jv_free(a);
	jv_free(msgs);

	msgs = json("[{\"role\":\"robot\",\"text\":\"x\"}]");
	rc = sl_llm_complete(l, NULL, msgs, tools, 512, &a, &err);
	ok(rc == -1 && strcmp(err.reason, "invalid_request") == 0 &&
	    contains(err.message, "messages[0]: 'role'"),
	    "a bad conversation is refused before sending: '%s'", err.message);
	jv_free(msgs);
	msgs = json("[{\"role\":\"tool\",\"content\":\"x\"}]");
	rc = sl_llm_complete(l, NULL, msgs, tools, 512, &a, &err);
	ok(rc == -1 && contains(err.message, "'tool_call_id'"),
	    "a tool result without its id: '%s'", err.message);
	jv_free(msgs);

	/* max_tokens: the text is cut, the calls dropped. */
	reset(NULL, "{\"text\":\"A very long answer that goes on and on and on "
	    "and on, far past what was allowed\",\"tool\":\"get_free_slots\","
	    "\"input\":{\"rep\":\"anna\"}}\n");
	msgs = json("[{\"role\":\"user\",\"text\":\"hi\"}]");
	rc = sl_llm_complete(l, NULL, msgs, tools, 4, &a, &err);
	ok(rc == 0 && strcmp(str(a, "stop"), "max_tokens") == 0 &&
	    jv_array_length(at(a, "tool_calls")) == 0,
	    "max_tokens: stop max_tokens, no calls");
	jv_free(a);
	jv_free(msgs);
	sl_llm_close(l);
}

/*
 * Compatible servers
 */

static void
test_quirks(void)
{
	struct sl_llm *l = open_as("openai", KEY);
	struct sl_svc_err err;
	char id[128] = "";
	jv msgs, a, reqs;
	int rc;

	reset(NULL, "{\"tool\":\"get_free_slots\",\"input\":{\"rep\":\"anna\"}}"
	    "\n{\"text\":\"done\"}\n");
	free(fake_control("/_fake/llm/quirks", "{\"arguments\":\"object\","
	    "\"content\":\"empty\",\"finish_reason\":\"stop\",\"usage\":false,"
	    "\"reasoning\":\"The prospect wants a slot.\"}"));
	msgs = json("[{\"role\":\"user\",\"text\":\"Any time tomorrow?\"}]");
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, "quirks: the answer is taken");
	is_str(str(a, "stop"), "tool_use", "finish_reason stop with tool "
	    "calls: tool_use");
	is_str(str(a, "tool_calls.0.input.rep"), "anna", "object arguments");
	is_str(str(a, "text"), "", "content \"\": no text");
	ok(kind(a, "usage_estimated") == JV_KIND_TRUE &&
	    num(a, "input_tokens") > 0, "no usage: tokens estimated (%g)",
	    num(a, "input_tokens"));
	is_str(str(a, "reasoning"), "The prospect wants a slot.",
	    "reasoning_content");
	if (str(a, "tool_calls.0.id"))
		snprintf(id, sizeof id, "%s", str(a, "tool_calls.0.id"));
	msgs = jv_array_append(msgs, at(a, "message"));
	msgs = jv_array_append(msgs, JV_OBJECT(jv_string("role"),
	    jv_string("tool"), jv_string("tool_call_id"), jv_string(id),
	    jv_string("content"), jv_string("[]")));
	jv_free(a);
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, "quirks: the round trip is accepted");
	reqs = requests();
	is_str(str(reqs, "1.body.messages.2.reasoning_content"),
	    "The prospect wants a slot.", "reasoning_content replayed");
	jv_free(reqs);
	jv_free(a);
	jv_free(msgs);

	/* Arguments that are not JSON. */
	reset(NULL, "{\"tools\":[{\"name\":\"get_free_slots\",\"arguments\":"
	    "\"{\\\"rep\\\": anna\"}]}\n");
	msgs = json("[{\"role\":\"user\",\"text\":\"slots?\"}]");
	rc = complete(l, msgs, &a, &err);
	ok(rc == 0 && contains(str(a, "tool_calls.0.error"), "not a JSON "
	    "object") && kind(a, "tool_calls.0.input") == JV_KIND_OBJECT,
	    "invalid arguments: the call has an error, input {}");
	is_str(str(a, "message.tool_calls.0.arguments"), "{\"rep\": anna",
	    "the arguments text is kept for the replay");
	jv_free(a);
	jv_free(msgs);

	/* vLLM's error shape, and an empty 400. */
	reset(NULL, NULL);
	free(fake_control("/_fake/llm/quirks", "{\"errors\":\"vllm\","
	    "\"tools\":\"need_parser\"}"));
	msgs = json("[{\"role\":\"user\",\"text\":\"hi\"}]");
	rc = sl_llm_complete(l, NULL, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.status == 400 && err.class == SL_HTTP_PERMANENT &&
	    strcmp(err.reason, "BadRequestError") == 0 &&
	    contains(err.message, "--enable-auto-tool-choice"),
	    "vLLM without a tool parser: '%s' (%s)", err.message, err.reason);
	free(fake_control("/_fake/llm/quirks", "{\"errors\":\"empty\"}"));
	jv_free(msgs);
	msgs = json("[{\"role\":\"tool\",\"tool_call_id\":\"x\",\"content\":"
	    "\"orphan\"}]");
	rc = sl_llm_complete(l, NULL, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.status == 400 && contains(err.message, "(no body)"),
	    "an empty 400: '%s'", err.message);
	jv_free(msgs);
	sl_llm_close(l);

	/* Ollama: no key on a loopback URL. */
	reset(NULL, "{\"text\":\"hi from ollama\"}\n");
	free(fake_control("/_fake/llm/quirks", "{\"auth\":false}"));
	clear_env();
	setenv("LLM_PROVIDER", "openai", 1);
	setenv("LLM_BASE_URL", fake_base, 1);
	setenv("LLM_MODEL", "llama3.1:8b", 1);
	l = sl_llm_open();
	msgs = json("[{\"role\":\"user\",\"text\":\"hi\"}]");
	rc = complete(l, msgs, &a, &err);
	ok(rc == 0 && contains(str(a, "text"), "hi from ollama"),
	    "openai on a loopback URL without a key");
	reqs = requests();
	ok(kind(reqs, "0.headers.authorization") == JV_KIND_INVALID,
	    "no Authorization header sent");
	ok(num(a, "cost") == 0 && strcmp(str(a, "model"), "llama3.1:8b") == 0,
	    "a model without a price costs 0");
	jv_free(reqs);
	jv_free(a);
	jv_free(msgs);
	sl_llm_close(l);
}

/*
 * Failures
 */

static void
test_errors(void)
{
	struct sl_llm *l = open_as("anthropic", KEY);
	struct sl_svc_err err;
	long long t0;
	jv msgs = json("[{\"role\":\"user\",\"text\":\"hello\"}]"), a;
	int rc;

	reset("{\"path\":\"/v1/messages\",\"times\":1,\"status\":529,"
	    "\"headers\":{\"x-should-retry\":\"true\"},\"body\":" OVERLOADED
	    "}\n", "{\"text\":\"after the storm\"}\n");
	rc = complete(l, msgs, &a, &err);
	ok(rc == 0 && contains(str(a, "text"), "after the storm"),
	    "529 once, then an answer");
	is_int(fake_count("POST", "/v1/messages"), 2, "one retry");
	jv_free(a);

	reset("{\"path\":\"/v1/messages\",\"status\":529,\"headers\":"
	    "{\"x-should-retry\":\"true\"},\"body\":" OVERLOADED "}\n", NULL);
	t0 = now_ms();
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	t0 = now_ms() - t0;
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY && err.status == 529 &&
	    strcmp(err.reason, "overloaded_error") == 0,
	    "529 for ever: temporary, overloaded_error (%s)", err.reason);
	ok(contains(err.message, "Overloaded") && contains(err.message,
	    "(3 tries)"), "the message: '%s'", err.message);
	is_int(fake_count("POST", "/v1/messages"), 3, "three tries");
	ok(t0 < 2000, "quickly with a small backoff scale: %lld ms", t0);
	is_int(sl_svc_exit_code(&err), 75, "exit status 75");
	is_int(sl_llm_log(db, l, 0, "reply", NULL, &err), 0, "logged");

	reset("{\"path\":\"/v1/messages\",\"status\":529,\"headers\":"
	    "{\"x-should-retry\":\"false\"},\"body\":" OVERLOADED "}\n", NULL);
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.class == SL_HTTP_PERMANENT &&
	    fake_count("POST", "/v1/messages") == 1,
	    "x-should-retry: false is honoured");

	reset("{\"path\":\"/v1/messages\",\"times\":1,\"status\":409,"
	    "\"body\":{\"type\":\"error\",\"error\":{\"type\":\"conflict\","
	    "\"message\":\"busy\"}}}\n", "{\"text\":\"ok\"}\n");
	rc = complete(l, msgs, &a, &err);
	ok(rc == 0 && fake_count("POST", "/v1/messages") == 2,
	    "409 is retried");
	jv_free(a);

	reset("{\"path\":\"/v1/messages\",\"status\":200,\"body\":\"<html>"
	    "proxy</html>\"}\n", NULL);
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.class == SL_HTTP_PERMANENT &&
	    strcmp(err.reason, "bad_answer") == 0 && contains(err.message,
	    "not a JSON object"), "a 200 that is not JSON: '%s'",
	    err.message);

	reset("{\"path\":\"/v1/messages\",\"status\":503,\"body\":\"<html>"
	    "Service Unavailable</html>\"}\n", NULL);
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY && err.status == 503 &&
	    fake_count("POST", "/v1/messages") == 3,
	    "an HTML 503: temporary after 3 tries: '%s'", err.message);

	reset(NULL, NULL);
	free(fake_control("/_fake/llm/keys", "{\"keys\":[\"sk-other\"]}"));
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.status == 401 && err.class == SL_HTTP_PERMANENT &&
	    strcmp(err.reason, "authentication_error") == 0,
	    "anthropic 401: '%s' (%s)", err.message, err.reason);
	is_int(sl_svc_exit_code(&err), 77, "401: exit status 77");
	is_int(fake_count("POST", "/v1/messages"), 1, "401 is not retried");
	ok(!contains(err.message, KEY), "no key in the message");
	is_int(sl_llm_log(db, l, 0, "reply", NULL, &err), 0, "logged");
	sl_llm_close(l);

	l = open_as("openai", KEY);
	reset(NULL, NULL);
	free(fake_control("/_fake/llm/keys", "{\"keys\":[\"sk-other\"]}"));
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.status == 401 && strcmp(err.reason,
	    "invalid_api_key") == 0 && sl_svc_exit_code(&err) == 77,
	    "openai 401: exit 77, invalid_api_key (%s)", err.reason);

	reset("{\"path\":\"/v1/chat/completions\",\"times\":1,\"status\":429,"
	    "\"headers\":{\"retry-after-ms\":\"50\"},\"body\":{\"error\":"
	    "{\"message\":\"Rate limit reached. Please try again in 50ms.\","
	    "\"type\":\"requests\",\"param\":null,\"code\":"
	    "\"rate_limit_exceeded\"}}}\n", "{\"text\":\"later\"}\n");
	t0 = now_ms();
	rc = complete(l, msgs, &a, &err);
	t0 = now_ms() - t0;
	ok(rc == 0 && fake_count("POST", "/v1/chat/completions") == 2 &&
	    t0 >= 50, "429 with retry-after-ms 50: waited %lld ms, then ok",
	    t0);
	jv_free(a);

	reset("{\"path\":\"/v1/chat/completions\",\"status\":429,\"body\":"
	    "{\"error\":{\"message\":\"You exceeded your current quota\","
	    "\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
	    "\"insufficient_quota\"}}}\n", NULL);
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.class == SL_HTTP_PERMANENT &&
	    fake_count("POST", "/v1/chat/completions") == 1 &&
	    sl_svc_exit_code(&err) == 69, "insufficient_quota: permanent at "
	    "once: '%s'", err.message);

	/* A timeout: LLM_TIMEOUT is 1 s, the answer comes after 3. */
	setenv("LLM_TIMEOUT", "1", 1);
	sl_llm_close(l);
	l = open_as("openai", KEY);
	unsetenv("LLM_TIMEOUT");
	reset("{\"path\":\"/v1/chat/completions\",\"delay_ms\":3000}\n", NULL);
	rc = sl_llm_complete(l, SYSTEM, msgs, tools, 64, &a, &err);
	ok(rc == -1 && err.class == SL_HTTP_TEMPORARY && err.status == 0 &&
	    strcmp(err.reason, "timeout") == 0, "a timeout: temporary, "
	    "reason timeout: '%s'", err.message);
	is_int(sl_llm_log(db, l, 0, "reply", NULL, &err), 0, "logged");
	jv_free(msgs);
	sl_llm_close(l);
}

/*
 * Configuration
 */

static char child_err[4096];

/* sl_llm_open in a child: its exit status (0 when it returned). */
static int
open_status(void)
{
	char *path = sl_asprintf("%s/child.err", dir);
	pid_t pid;
	int st, fd;
	FILE *f;
	size_t n;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0)
			dup2(fd, STDERR_FILENO);
		sl_llm_close(sl_llm_open());
		exit(0);
	}
	child_err[0] = '\0';
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		free(path);
		return -1;
	}
	if ((f = fopen(path, "r"))) {
		n = fread(child_err, 1, sizeof child_err - 1, f);
		child_err[n] = '\0';
		fclose(f);
	}
	free(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* provider, model and URL of what sl_llm_open makes now. */
static void
is_config(const char *provider, const char *model, const char *url,
    const char *name)
{
	struct sl_llm *l = sl_llm_open();
	char got[512], want[512];

	snprintf(got, sizeof got, "%s %s %s", l ? sl_llm_provider(l) : "rules",
	    l ? sl_llm_model(l) : "-", l ? sl_llm_url(l) : "-");
	snprintf(want, sizeof want, "%s %s %s", provider, model, url);
	is_str(got, want, name);
	sl_llm_close(l);
}

static void
test_config(void)
{
	struct sl_llm *l;
	struct sl_svc_err err;
	char *path;
	FILE *f;
	jv msgs, a;
	int rc;

	clear_env();
	is_config("rules", "-", "-", "nothing set: rules (NULL)");
	setenv("ANTHROPIC_API_KEY", KEY, 1);
	is_config("anthropic", "claude-sonnet-4-5",
	    "https://api.anthropic.com/v1/messages", "ANTHROPIC_API_KEY: "
	    "anthropic and its defaults");
	setenv("OPENAI_API_KEY", KEY, 1);
	is_config("anthropic", "claude-sonnet-4-5",
	    "https://api.anthropic.com/v1/messages", "both keys: anthropic");
	unsetenv("ANTHROPIC_API_KEY");
	is_config("openai", "gpt-4o-mini",
	    "https://api.openai.com/v1/chat/completions",
	    "OPENAI_API_KEY: openai and its defaults");
	unsetenv("OPENAI_API_KEY");
	setenv("LLM_API_KEY", KEY, 1);
	setenv("LLM_MODEL", "LongCat-Flash-Chat", 1);
	setenv("LLM_BASE_URL", "https://api.longcat.chat/openai/v1/", 1);
	is_config("openai", "LongCat-Flash-Chat",
	    "https://api.longcat.chat/openai/v1/chat/completions",
	    "LLM_API_KEY: openai; a base ending in /v1/");
	setenv("LLM_BASE_URL", "http://127.0.0.1:8000/v1/chat/completions", 1);
	is_config("openai", "LongCat-Flash-Chat",
	    "http://127.0.0.1:8000/v1/chat/completions",
	    "a base that is the whole endpoint");
	setenv("LLM_PROVIDER", "anthropic", 1);
	setenv("LLM_BASE_URL", "https://api.longcat.chat/anthropic", 1);
	is_config("anthropic", "LongCat-Flash-Chat",
	    "https://api.longcat.chat/anthropic/v1/messages",
	    "anthropic with LLM_API_KEY and a prefix");
	setenv("LLM_PROVIDER", "rules", 1);
	is_config("rules", "-", "-", "LLM_PROVIDER=rules with a key: NULL");

	clear_env();
	setenv("LLM_PROVIDER", "anthropic", 1);
	is_int(open_status(), 78, "anthropic without a key: exit 78");
	ok(contains(child_err, "ANTHROPIC_API_KEY"), "naming the variable: "
	    "'%.*s'", (int)strcspn(child_err, "\n"), child_err);
	setenv("LLM_PROVIDER", "openai", 1);
	is_int(open_status(), 78, "openai at api.openai.com without a key: "
	    "exit 78");
	ok(contains(child_err, "OPENAI_API_KEY"), "naming the variable");
	setenv("LLM_BASE_URL", "http://localhost:11434/v1", 1);
	is_int(open_status(), 0, "openai at localhost (Ollama) without a key: "
	    "runs");
	setenv("LLM_BASE_URL", "localhost:11434", 1);
	setenv("OPENAI_API_KEY", KEY, 1);
	is_int(open_status(), 78, "a base URL that is not http(s): exit 78");
	setenv("LLM_PROVIDER", "gemini", 1);
	is_int(open_status(), 78, "an unknown LLM_PROVIDER: exit 78");
	ok(!contains(child_err, KEY), "no key on stderr");

	clear_env();
	path = sl_asprintf("%s/anthropic.key", dir);
	if ((f = fopen(path, "w"))) {
		fputs(KEY "\n", f);
		fclose(f);
	}
	setenv("ANTHROPIC_API_KEY_FILE", path, 1);
	setenv("LLM_BASE_URL", fake_base, 1);
	reset(NULL, "{\"text\":\"from a file\"}\n");
	free(fake_control("/_fake/llm/keys", "{\"keys\":[\"" KEY "\"]}"));
	msgs = json("[{\"role\":\"user\",\"text\":\"hi\"}]");
	l = sl_llm_open();
	rc = l ? complete(l, msgs, &a, &err) : -1;
	ok(rc == 0 && strcmp(sl_llm_provider(l), "anthropic") == 0,
	    "ANTHROPIC_API_KEY_FILE: anthropic, the key read from the file");
	if (rc == 0)
		jv_free(a);
	jv_free(msgs);
	sl_llm_close(l);
	free(path);
	clear_env();
}

/*
 * The ledger
 */

static jv
rows(const char *sql)
{
	jv r = sl_db_query(db, sql, jv_array());

	if (!jv_is_valid(r)) {
		diag("%s", sl_db_error(db));
		r = jv_array();
	}
	return r;
}

static void
test_ledger(void)
{
	struct sl_llm *l = open_as("anthropic", KEY);
	struct sl_svc_err err;
	jv msgs = json("[{\"role\":\"user\",\"text\":\"hello\"}]"), a, r;
	int rc;

	/* The failures test_errors logged: 529s, 401, a timeout. */
	r = rows("SELECT provider, status, http_status, error FROM llm_calls "
	    "ORDER BY id");
	is_str(str(r, "0.provider"), "anthropic", "row 1: anthropic");
	is_str(str(r, "0.status"), "error", "529 for ever: status error");
	is_int((long long)num(r, "0.http_status"), 529, "http_status 529");
	ok(contains(str(r, "0.error"), "Overloaded"), "the error text");
	is_int((long long)num(r, "1.http_status"), 401, "row 2: 401");
	ok(!contains(str(r, "1.error"), KEY), "no key in the ledger");
	is_str(str(r, "2.provider"), "openai", "row 3: openai");
	is_str(str(r, "2.status"), "timeout", "a timeout: status timeout");
	ok(kind(r, "2.http_status") == JV_KIND_NULL, "no http_status");
	jv_free(r);
	sl_db_exec(db, "DELETE FROM llm_calls", jv_array());

	reset(NULL, "{\"text\":\"Hi!\"}\n");
	rc = complete(l, msgs, &a, &err);
	is_int(rc, 0, "a call to log");
	is_int(sl_llm_log(db, l, 1, "reply", &a, NULL), 0, "sl_llm_log ok");
	r = rows("SELECT * FROM llm_calls");
	is_str(str(r, "0.status"), "ok", "status ok");
	is_str(str(r, "0.purpose"), "reply", "purpose");
	is_str(str(r, "0.model"), "claude-sonnet-4-5", "model");
	is_int((long long)num(r, "0.prospect_id"), 1, "prospect_id");
	is_int((long long)num(r, "0.input_tokens"),
	    (long long)num(a, "input_tokens"), "input_tokens");
	is_int((long long)num(r, "0.output_tokens"),
	    (long long)num(a, "output_tokens"), "output_tokens");
	ok(num(r, "0.cost") > 0 && num(r, "0.cost") == num(a, "cost"),
	    "cost %g", num(r, "0.cost"));
	is_int((long long)num(r, "0.http_status"), 200, "http_status 200");
	is_int((long long)num(r, "0.at"), 1773144000, "at: SALESLINE_NOW");
	ok(kind(r, "0.error") == JV_KIND_NULL, "no error");
	jv_free(r);
	jv_free(a);
	jv_free(msgs);
	sl_llm_close(l);
}

static void
test_budget(void)
{
	struct sl_llm *l = open_as("anthropic", KEY);
	char *why = NULL;
	jv r;
	int rc;

	/* 1 call for prospect 1 logged by test_ledger; more today. */
	sl_db_exec(db, "DELETE FROM llm_calls", jv_array());
	sl_db_exec(db, "INSERT INTO llm_calls (at, provider, prospect_id, "
	    "cost, status) VALUES (1773144000, 'anthropic', 1, 0.75, 'ok'), "
	    "(1773140000, 'anthropic', 1, 0.5, 'ok'), "
	    "(1773057600, 'anthropic', 1, 99, 'ok'), "
	    "(1773100000, 'anthropic', 1, 0, 'budget')", jv_array());
	setenv("LLM_DAILY_BUDGET", "2", 1);
	setenv("LLM_PROSPECT_CAP", "3", 1);
	rc = sl_llm_budget_ok(db, l, 1, &why);
	ok(rc == 1 && !why, "$1.25 of $2 today, 2 of 3 calls: ok (yesterday's "
	    "$99 and budget rows do not count)");
	free(why);
	setenv("LLM_DAILY_BUDGET", "1.25", 1);
	rc = sl_llm_budget_ok(db, l, 1, &why);
	ok(rc == 0 && contains(why, "cost $1.25, LLM_DAILY_BUDGET is $1.25"),
	    "the daily budget reached: '%s'", why ? why : "");
	free(why);
	r = rows("SELECT status, error, prospect_id FROM llm_calls WHERE "
	    "status = 'budget' AND at = 1773144000");
	ok(jv_array_length(jv_copy(r)) == 1 && contains(str(r, "0.error"),
	    "LLM_DAILY_BUDGET"), "the refusal is a row with status budget");
	jv_free(r);
	setenv("LLM_DAILY_BUDGET", "0", 1);
	rc = sl_llm_budget_ok(db, l, 1, &why);
	ok(rc == 1, "LLM_DAILY_BUDGET=0: no cap");
	free(why);
	setenv("LLM_PROSPECT_CAP", "2", 1);
	rc = sl_llm_budget_ok(db, l, 1, &why);
	ok(rc == 0 && contains(why, "prospect 1 had 2 model calls today, "
	    "LLM_PROSPECT_CAP is 2"), "the prospect's cap: '%s'",
	    why ? why : "");
	free(why);
	rc = sl_llm_budget_ok(db, l, 0, &why);
	ok(rc == 1, "no prospect: no per-prospect cap");
	free(why);
	unsetenv("LLM_DAILY_BUDGET");
	unsetenv("LLM_PROSPECT_CAP");
	rc = sl_llm_budget_ok(db, l, 1, &why);
	ok(rc == 1, "the defaults ($10, 50 calls): ok");
	free(why);
	is_int((long long)(sl_llm_cost("claude-sonnet-4-5-20250929", 1000000,
	    1000000) * 100 + 0.5), 1800, "price: sonnet 4.5 $3 + $15");
	is_int((long long)(sl_llm_cost("gpt-4o-mini", 1000000, 0) * 100 + 0.5),
	    15, "price: gpt-4o-mini $0.15 in");
	ok(sl_llm_cost("mistral-large", 1000, 1000) == 0, "price: unknown 0");
	sl_llm_close(l);
}

int
main(void)
{
	char sqldir[4096], *url, *err = NULL, *cmd;
	const char *home = getenv("SALESLINE_HOME");
	int t = 0;

	sl_init("test-llm");
	snprintf(sqldir, sizeof sqldir, "%s/sql", home ? home : ".");
	if (access(sqldir, R_OK) != 0)
		snprintf(sqldir, sizeof sqldir, "sql");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("SALESLINE_NOW", NOW, 1);
	setenv("SALESLINE_HTTP_BACKOFF_SCALE", "0.01", 1);
	tools = json("[{\"name\":\"get_free_slots\",\"description\":\"Free "
	    "slots\",\"input_schema\":{\"type\":\"object\",\"properties\":"
	    "{\"rep\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}},"
	    "\"required\":[\"rep\"]},\"command\":[\"cal-free\"],"
	    "\"timeout_s\":30},{\"name\":\"parse_time\",\"input_schema\":"
	    "{\"type\":\"object\"}}]");
	url = sl_asprintf("%s/ledger.db", dir);
	db = sl_db_open(url, sqldir, &err, &t);
	free(url);
	if (!ok(db != NULL, "ledger opened")) {
		diag("%s", err ? err : "");
		free(err);
		goto out;
	}
	sl_db_exec(db, "INSERT INTO prospects (id, chat, created_at, "
	    "updated_at) VALUES (1, '42', 0, 0)", jv_array());
	if (!ok(fake_start(NULL) == 0, "fake-api started"))
		goto out;
	test_config();
	test_round_trip("anthropic");
	test_round_trip("openai");
	test_anthropic_shape();
	test_quirks();
	test_errors();
	test_ledger();
	test_budget();
	is_int(fake_stop(), 0, "fake-api exits 0 on SIGTERM");
out:
	if (db)
		sl_db_close(db);
	jv_free(tools);
	sl_http_cleanup();
	cmd = sl_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
