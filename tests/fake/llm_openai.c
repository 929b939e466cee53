/*
 * llm_openai.c: an OpenAI-compatible Chat Completions API in fake-api
 * (POST /v1/chat/completions; shared/reference/apis.md section 2).  llm.c
 * has the script, the module and the quirk settings (lm_cfg).
 *
 * Authorization: Bearer first, then the body, with OpenAI's error shape
 * {"error":{"message","type","param","code"}} and texts.  The pairing
 * rule: an assistant message with tool_calls is followed by one tool
 * message per tool_call_id, a tool message comes nowhere else, and the
 * arguments go back as the string they came as.  The quirks of
 * compatible servers (vLLM, llama.cpp, Ollama, LongCat) change the
 * answer and the error bodies, or refuse tools, as lm_cfg says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake.h"
#include "jsonl.h"
#include "llm.h"
#include "sl.h"

static const char *const oa_fields[] = {
	"model", "messages", "tools", "tool_choice", "max_tokens",
	"max_completion_tokens", "temperature", "top_p", "n", "stream",
	"stream_options", "stop", "presence_penalty", "frequency_penalty",
	"logit_bias", "logprobs", "top_logprobs", "user", "seed",
	"response_format", "parallel_tool_calls", "reasoning_effort",
	"metadata", "store", "service_tier", "modalities", "prediction",
	"audio", "web_search_options", "verbosity", "prompt_cache_key",
	"safety_identifier", "functions", "function_call", NULL
};
static const char *const oa_roles[] = {
	"system", "developer", "user", "assistant", "tool", "function", NULL
};

static int oa_fail(struct lm_call *c, const char *code, const char *param,
    const char *fmt, ...) SL_PRINTF(4, 5);
static const char *at(struct lm_call *c, const char *fmt, ...)
    SL_PRINTF(2, 3);

/* OpenAI's refusal: code and param may be NULL (null in the answer). */
static int
oa_fail(struct lm_call *c, const char *code, const char *param,
    const char *fmt, ...)
{
	va_list ap;

	c->code = code;
	if (param != c->param)
		snprintf(c->param, sizeof c->param, "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* A param naming a place in the request, for oa_fail. */
static const char *
at(struct lm_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->param, sizeof c->param, fmt, ap);
	va_end(ap);
	return c->param;
}

/* The refusal of c, in the shape of the server emulated. */
static void
oa_error(struct lm_call *c, int status, const char *type)
{
	jv e;

	if (lm_cfg.errors == LM_ERRORS_EMPTY) {
		fake_reply(c->resp, status, NULL, "", 0);
	} else if (lm_cfg.errors == LM_ERRORS_VLLM && status == 401) {
		fake_reply_json(c->resp, status, sl_set(jv_object(), "error",
		    jv_string("Unauthorized")));
	} else if (lm_cfg.errors == LM_ERRORS_VLLM) {
		e = sl_set(jv_object(), "object", jv_string("error"));
		e = sl_set(e, "message", jv_string(c->err));
		e = sl_set(e, "type", jv_string(status >= 500 ?
		    "InternalServerError" : status == 404 ? "NotFoundError" :
		    "BadRequestError"));
		e = sl_set(e, "param", jv_null());
		fake_reply_json(c->resp, status, sl_set(e, "code",
		    jv_number(status)));
	} else if (lm_cfg.errors == LM_ERRORS_LLAMACPP) {
		e = sl_set(jv_object(), "code", jv_number(status));
		e = sl_set(e, "message", jv_string(status == 401 ?
		    "Invalid API Key" : c->err));
		e = sl_set(e, "type", jv_string(status == 401 ?
		    "authentication_error" : status >= 500 ? "server_error" :
		    "invalid_request_error"));
		fake_reply_json(c->resp, status, sl_set(jv_object(), "error",
		    e));
	} else {
		e = sl_set(jv_object(), "message", jv_string(c->err));
		e = sl_set(e, "type", jv_string(type));
		e = sl_set(e, "param", *c->param ? jv_string(c->param) :
		    jv_null());
		e = sl_set(e, "code", c->code ? jv_string(c->code) :
		    jv_null());
		fake_reply_json(c->resp, status, sl_set(jv_object(), "error",
		    e));
	}
	fake_header(c->resp, "x-request-id", c->rid);
}

/* Content: a string, or an array of parts with a type (text: "text"). */
static int
oa_check_content(struct lm_call *c, int i, jv m, int required)
{
	const char *type;
	jv content = lm_field(m, "content"), p;
	int j, n, ret = 0;

	if (!jv_is_valid(content) || jv_get_kind(content) == JV_KIND_NULL)
		ret = required ? oa_fail(c, "missing_required_parameter",
		    at(c, "messages[%d].content", i), "Missing required "
		    "parameter: 'messages[%d].content'.", i) : 0;
	else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		n = lm_len(content);
		for (j = 0; ret == 0 && j < n; j++) {
			p = jv_array_get(jv_copy(content), j);
			type = lm_str(p, "type");
			if (!type || (strcmp(type, "text") == 0 &&
			    !lm_str(p, "text")))
				ret = oa_fail(c, "invalid_type", at(c,
				    "messages[%d].content[%d]", i, j),
				    "Invalid 'messages[%d].content[%d]': "
				    "expected a content part with 'type' (and "
				    "'text' for text).", i, j);
			jv_free(p);
		}
	} else if (jv_get_kind(content) != JV_KIND_STRING) {
		ret = oa_fail(c, "invalid_type", at(c, "messages[%d].content",
		    i), "Invalid type for 'messages[%d].content': expected "
		    "one of a string or array of objects, but got %s "
		    "instead.", i, sl_kind_name(content));
	}
	jv_free(content);
	return ret;
}

static int
oa_check_calls(struct lm_call *c, int i, jv calls)
{
	jv tc, f, args;
	int j, n = lm_len(calls), ret = 0, k;

	if (n == 0)
		return oa_fail(c, "empty_array", at(c, "messages[%d]."
		    "tool_calls", i), "Invalid 'messages[%d].tool_calls': "
		    "empty array. Expected an array with minimum length 1, "
		    "but got an empty array instead.", i);
	for (j = 0; ret == 0 && j < n; j++) {
		tc = jv_array_get(jv_copy(calls), j);
		f = lm_field(tc, "function");
		args = lm_field(f, "arguments");
		k = jv_get_kind(args);
		if (!lm_str(tc, "id"))
			ret = oa_fail(c, "missing_required_parameter", at(c,
			    "messages[%d].tool_calls[%d].id", i, j),
			    "Missing required parameter: "
			    "'messages[%d].tool_calls[%d].id'.", i, j);
		else if (!lm_streq(lm_str(tc, "type"), "function"))
			ret = oa_fail(c, "invalid_value", at(c,
			    "messages[%d].tool_calls[%d].type", i, j),
			    "Invalid value: '%s'. Supported values are: "
			    "'function'.", lm_str(tc, "type") ?
			    lm_str(tc, "type") : "");
		else if (!lm_str(f, "name"))
			ret = oa_fail(c, "missing_required_parameter", at(c,
			    "messages[%d].tool_calls[%d].function.name", i,
			    j), "Missing required parameter: "
			    "'messages[%d].tool_calls[%d].function.name'.", i,
			    j);
		else if (!jv_is_valid(args))
			ret = oa_fail(c, "missing_required_parameter", at(c,
			    "messages[%d].tool_calls[%d].function.arguments",
			    i, j), "Missing required parameter: "
			    "'messages[%d].tool_calls[%d].function."
			    "arguments'.", i, j);
		else if (k != JV_KIND_STRING && !(lm_cfg.args_object &&
		    k == JV_KIND_OBJECT))
			ret = oa_fail(c, "invalid_type", at(c,
			    "messages[%d].tool_calls[%d].function.arguments",
			    i, j), "Invalid type for "
			    "'messages[%d].tool_calls[%d].function."
			    "arguments': expected a string, but got %s "
			    "instead.", i, j, sl_kind_name(args));
		jv_free(args);
		jv_free(f);
		jv_free(tc);
	}
	return ret;
}

static int
oa_check_message(struct lm_call *c, int i, jv m)
{
	const char *role;
	jv calls;
	int ret = 0, kc;

	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return oa_fail(c, "invalid_type", at(c, "messages[%d]", i),
		    "Invalid type for 'messages[%d]': expected an object, but "
		    "got %s instead.", i, sl_kind_name(m));
	if (!(role = lm_str(m, "role")))
		return oa_fail(c, "missing_required_parameter", at(c,
		    "messages[%d].role", i), "Missing required parameter: "
		    "'messages[%d].role'.", i);
	if (lm_find(oa_roles, role) < 0)
		return oa_fail(c, "invalid_value", at(c, "messages[%d].role",
		    i), "Invalid value: '%s'. Supported values are: 'system', "
		    "'assistant', 'user', 'function', 'tool', and "
		    "'developer'.", role);
	if (strcmp(role, "assistant") == 0) {
		calls = jv_invalid();
		if ((kc = sl_get_arr(m, "tool_calls", &calls)) < 0)
			ret = oa_fail(c, "invalid_type", at(c,
			    "messages[%d].tool_calls", i), "Invalid type for "
			    "'messages[%d].tool_calls': expected an array of "
			    "objects.", i);
		else if (kc == 1)
			ret = oa_check_calls(c, i, calls);
		if (ret == 0)
			ret = oa_check_content(c, i, m, kc == 0);
		jv_free(calls);
		return ret;
	}
	if (strcmp(role, "tool") == 0 && !lm_str(m, "tool_call_id"))
		return oa_fail(c, NULL, at(c, "messages.[%d].tool_call_id", i),
		    "Missing parameter 'tool_call_id': messages with role "
		    "'tool' must have a 'tool_call_id'.");
	return oa_check_content(c, i, m, strcmp(role, "function") != 0);
}

/* The ids of open (borrowed) not in answered: 0, or -1 naming them. */
static int
oa_unanswered(struct lm_call *c, jv open, jv answered, int i)
{
	char list[512];
	jv missing = jv_array(), v;
	int j, n = lm_len(open), ret = 0;

	for (j = 0; j < n; j++) {
		v = jv_array_get(jv_copy(open), j);
		if (!lm_has_str(answered, jv_string_value(v)))
			missing = jv_array_append(missing, v);
		else
			jv_free(v);
	}
	if (lm_len(missing) > 0)
		ret = oa_fail(c, NULL, at(c, "messages.[%d].role", i), "An "
		    "assistant message with 'tool_calls' must be followed by "
		    "tool messages responding to each 'tool_call_id'. The "
		    "following tool_call_ids did not have response messages: "
		    "%s", lm_join(missing, list, sizeof list));
	jv_free(missing);
	return ret;
}

/*
 * The order: an assistant message with tool_calls, then a tool message
 * for each of its ids; a tool message nowhere else.
 */
static int
oa_check_messages(struct lm_call *c, jv msgs)
{
	const char *role, *id;
	jv m, open = jv_null(), answered = jv_array(), calls, tc;
	int i, j, n = lm_len(msgs), ret = 0, opened_at = 0;

	for (i = 0; ret == 0 && i < n; i++) {
		m = jv_array_get(jv_copy(msgs), i);
		if ((ret = oa_check_message(c, i, m)) < 0) {
			jv_free(m);
			break;
		}
		role = lm_str(m, "role");
		if (strcmp(role, "tool") == 0) {
			id = lm_str(m, "tool_call_id");
			if (jv_get_kind(open) != JV_KIND_ARRAY ||
			    !lm_has_str(open, id))
				ret = oa_fail(c, NULL, at(c,
				    "messages.[%d].role", i), "Invalid "
				    "parameter: messages with role 'tool' "
				    "must be a response to a preceeding "
				    "message with 'tool_calls'.");
			else
				answered = jv_array_append(answered,
				    jv_string(id));
			jv_free(m);
			continue;
		}
		if (jv_get_kind(open) == JV_KIND_ARRAY)
			ret = oa_unanswered(c, open, answered, opened_at);
		jv_free(open);
		open = jv_null();
		jv_free(answered);
		answered = jv_array();
		calls = lm_field(m, "tool_calls");
		if (strcmp(role, "assistant") == 0 &&
		    jv_get_kind(calls) == JV_KIND_ARRAY) {
			open = jv_array();
			for (j = 0; j < lm_len(calls); j++) {
				tc = jv_array_get(jv_copy(calls), j);
				open = jv_array_append(open,
				    jv_string(lm_str(tc, "id")));
				jv_free(tc);
			}
			opened_at = i;
		}
		jv_free(calls);
		jv_free(m);
	}
	if (ret == 0 && jv_get_kind(open) == JV_KIND_ARRAY)
		ret = oa_unanswered(c, open, answered, opened_at);
	jv_free(open);
	jv_free(answered);
	return ret;
}

static int
oa_check_tools(struct lm_call *c)
{
	const char *name, *s;
	jv tools = lm_field(c->body, "tools"), tool, f, params, choice;
	int i, n, ret = 0;

	if (jv_is_valid(tools) && jv_get_kind(tools) != JV_KIND_ARRAY)
		ret = oa_fail(c, "invalid_type", "tools", "Invalid type for "
		    "'tools': expected an array of objects, but got %s "
		    "instead.", sl_kind_name(tools));
	n = jv_get_kind(tools) == JV_KIND_ARRAY ? lm_len(tools) : 0;
	for (i = 0; ret == 0 && i < n; i++) {
		tool = jv_array_get(jv_copy(tools), i);
		f = lm_field(tool, "function");
		params = lm_field(f, "parameters");
		name = lm_str(f, "name");
		if (!lm_streq(lm_str(tool, "type"), "function"))
			ret = oa_fail(c, "invalid_value", at(c,
			    "tools[%d].type", i), "Invalid value: '%s'. "
			    "Supported values are: 'function' and 'custom'.",
			    lm_str(tool, "type") ? lm_str(tool, "type") : "");
		else if (!name)
			ret = oa_fail(c, "missing_required_parameter", at(c,
			    "tools[%d].function.name", i), "Missing required "
			    "parameter: 'tools[%d].function.name'.", i);
		else if (!lm_name_ok(name, 64))
			ret = oa_fail(c, "invalid_value", at(c,
			    "tools[%d].function.name", i), "Invalid "
			    "'tools[%d].function.name': string does not match "
			    "pattern. Expected a string that matches the "
			    "pattern '^[a-zA-Z0-9_-]+$'.", i);
		else if (jv_is_valid(params) && jv_get_kind(params) !=
		    JV_KIND_OBJECT)
			ret = oa_fail(c, "invalid_type", at(c,
			    "tools[%d].function.parameters", i), "Invalid "
			    "type for 'tools[%d].function.parameters': "
			    "expected an object, but got %s instead.", i,
			    sl_kind_name(params));
		jv_free(params);
		jv_free(f);
		jv_free(tool);
	}
	choice = lm_field(c->body, "tool_choice");
	if (ret == 0 && jv_is_valid(choice)) {
		s = jv_get_kind(choice) == JV_KIND_STRING ?
		    jv_string_value(choice) : NULL;
		if (s && strcmp(s, "none") != 0 && strcmp(s, "auto") != 0 &&
		    strcmp(s, "required") != 0)
			ret = oa_fail(c, "invalid_value", "tool_choice",
			    "Invalid value: '%s'. Supported values are: "
			    "'none', 'auto', and 'required'.", s);
		else if (!s && !lm_streq(lm_str(choice, "type"), "function"))
			ret = oa_fail(c, "invalid_value", "tool_choice",
			    "Invalid 'tool_choice': expected 'none', 'auto', "
			    "'required' or {\"type\":\"function\","
			    "\"function\":{\"name\"}}.");
		else if (n == 0)
			ret = oa_fail(c, NULL, "tool_choice", "Invalid value "
			    "for 'tool_choice': 'tool_choice' is only allowed "
			    "when 'tools' are specified.");
	}
	jv_free(choice);
	jv_free(tools);
	return ret;
}

static int
oa_check(struct lm_call *c)
{
	char *bad;
	jv msgs;
	int st = 0, ret;

	if ((bad = lm_unknown_field(c->body, oa_fields))) {
		oa_fail(c, NULL, NULL, "Unrecognized request argument "
		    "supplied: %s", bad);
		free(bad);
		return -1;
	}
	if (!lm_str(c->body, "model"))
		return oa_fail(c, NULL, NULL, "you must provide a model "
		    "parameter");
	msgs = lm_field(c->body, "messages");
	if (!jv_is_valid(msgs))
		ret = oa_fail(c, "missing_required_parameter", "messages",
		    "Missing required parameter: 'messages'.");
	else if (jv_get_kind(msgs) != JV_KIND_ARRAY)
		ret = oa_fail(c, "invalid_type", "messages", "Invalid type "
		    "for 'messages': expected an array of objects, but got "
		    "%s instead.", sl_kind_name(msgs));
	else if (lm_len(msgs) == 0)
		ret = oa_fail(c, "empty_array", "messages", "Invalid "
		    "'messages': empty array. Expected an array with minimum "
		    "length 1, but got an empty array instead.");
	else if (sl_get_bool(c->body, "stream", &st) < 0 || st)
		ret = oa_fail(c, NULL, "stream", "fake-api: streaming is not "
		    "emulated");
	else if ((ret = oa_check_tools(c)) == 0)
		ret = oa_check_messages(c, msgs);
	jv_free(msgs);
	return ret;
}

/* The quirks of servers that refuse tools: 1 when c was answered. */
static int
oa_refuse_tools(struct lm_call *c)
{
	jv tools = lm_field(c->body, "tools");
	const char *choice = lm_str(c->body, "tool_choice");
	int n = jv_get_kind(tools) == JV_KIND_ARRAY ? lm_len(tools) : 0;
	jv e;

	jv_free(tools);
	if (n == 0)
		return 0;
	if (lm_cfg.tools == LM_TOOLS_NEED_PARSER && (lm_streq(choice, "auto") ||
	    !lm_has(c->body, "tool_choice"))) {
		lm_fail(c, "\"auto\" tool choice requires "
		    "--enable-auto-tool-choice and --tool-call-parser to be "
		    "set");
		e = sl_set(jv_object(), "object", jv_string("error"));
		e = sl_set(e, "message", jv_string(c->err));
		e = sl_set(e, "type", jv_string("BadRequestError"));
		e = sl_set(e, "param", jv_null());
		fake_reply_json(c->resp, 400, sl_set(e, "code",
		    jv_number(400)));
		return 1;
	}
	if (lm_cfg.tools == LM_TOOLS_NEED_JINJA) {
		lm_fail(c, "tools param requires --jinja flag");
		e = sl_set(jv_object(), "code", jv_number(500));
		e = sl_set(e, "message", jv_string(c->err));
		e = sl_set(e, "type", jv_string("server_error"));
		fake_reply_json(c->resp, 500, sl_set(jv_object(), "error", e));
		return 1;
	}
	return 0;
}

static void
oa_answer(struct lm_call *c)
{
	struct lm_turn t;
	const char *finish;
	double max = 0;
	size_t out = 0, tl;
	char *text;
	jv calls = jv_array(), call, f, msg, o;
	int i, n, cut;

	if (sl_get_num(c->body, "max_completion_tokens", &max) != 1)
		sl_get_num(c->body, "max_tokens", &max);
	lm_turn_take(c, &t);
	lm_undeclared(c, &t);
	cut = lm_turn_limit(&t, max);
	n = lm_len(t.calls);
	for (i = 0; i < n; i++) {
		call = jv_array_get(jv_copy(t.calls), i);
		if (lm_cfg.tools == LM_TOOLS_TEXT) {
			/* Printed, as by a template that knows no tools. */
			o = jv_dump_string(sl_set(sl_set(jv_object(), "name",
			    jv_string(lm_str(call, "name"))), "arguments",
			    lm_call_input(call)), 0);
			text = sl_asprintf("%s%s%s", t.text ? t.text : "",
			    t.text ? "\n" : "", jv_string_value(o));
			free(t.text);
			t.text = text;
			jv_free(o);
			jv_free(call);
			continue;
		}
		f = sl_set(jv_object(), "name", jv_string(lm_str(call,
		    "name")));
		f = sl_set(f, "arguments", lm_cfg.args_object ?
		    lm_call_object(call) : lm_call_arguments(call));
		o = sl_set(jv_object(), "id", jv_string_fmt("call_fake%014lu",
		    lm_next_id()));
		o = sl_set(o, "type", jv_string("function"));
		out += strlen(lm_str(call, "name")) + 16;
		calls = jv_array_append(calls, sl_set(o, "function", f));
		jv_free(call);
	}
	tl = t.text ? strlen(t.text) : 0;
	out += tl;
	msg = sl_set(jv_object(), "role", jv_string("assistant"));
	if (t.text)
		msg = sl_set(msg, "content", jv_string(t.text));
	else
		msg = sl_set(msg, "content", lm_len(calls) &&
		    !lm_cfg.content_empty ? jv_null() : jv_string(""));
	msg = sl_set(msg, "refusal", jv_null());
	if (lm_cfg.reasoning)
		msg = sl_set(msg, "reasoning_content",
		    jv_string(lm_cfg.reasoning));
	if (lm_len(calls))
		msg = sl_set(msg, "tool_calls", jv_copy(calls));
	if (cut)
		finish = "length";
	else if (t.stop)
		finish = lm_stop_map(t.stop, LM_OPENAI);
	else
		finish = lm_len(calls) && !lm_cfg.finish_stop ? "tool_calls" :
		    "stop";
	o = sl_set(jv_object(), "id", jv_string_fmt("chatcmpl-fake%012lu",
	    lm_next_id()));
	o = sl_set(o, "object", jv_string("chat.completion"));
	o = sl_set(o, "created", jv_number((double)time(NULL)));
	o = sl_set(o, "model", lm_field(c->body, "model"));
	o = sl_set(o, "choices", jv_array_append(jv_array(), sl_set(sl_set(
	    sl_set(sl_set(jv_object(), "index", jv_number(0)), "message",
	    msg), "logprobs", jv_null()), "finish_reason",
	    jv_string(finish))));
	if (!lm_cfg.no_usage)
		o = sl_set(o, "usage", sl_set(sl_set(sl_set(jv_object(),
		    "prompt_tokens", jv_number(lm_tokens(c->req->body_len))),
		    "completion_tokens", jv_number(lm_tokens(out))),
		    "total_tokens", jv_number(lm_tokens(c->req->body_len) +
		    lm_tokens(out))));
	fake_header(c->resp, "x-request-id", c->rid);
	fake_reply_json(c->resp, 200, o);
	jv_free(calls);
	lm_turn_free(&t);
}

void
lm_openai(struct lm_call *c)
{
	const char *h = lm_header(c, "authorization");

	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		for (h += 7; *h == ' '; h++)
			;
	else
		h = NULL;
	if (!lm_cfg.no_auth && !h) {
		oa_fail(c, NULL, NULL, "You didn't provide an API key. You "
		    "need to provide your API key in an Authorization header "
		    "using Bearer auth (i.e. Authorization: Bearer "
		    "YOUR_KEY).");
		oa_error(c, 401, "invalid_request_error");
	} else if (!lm_cfg.no_auth && !lm_key_ok(h)) {
		oa_fail(c, "invalid_api_key", NULL, "Incorrect API key "
		    "provided. You can find your API key at "
		    "https://platform.openai.com/account/api-keys.");
		oa_error(c, 401, "invalid_request_error");
	} else if (strcmp(c->req->method, "POST") != 0) {
		oa_fail(c, NULL, NULL, "Invalid method for URL (%s %s)",
		    c->req->method, c->req->path);
		oa_error(c, 405, "invalid_request_error");
	} else if (jv_get_kind(c->body) != JV_KIND_OBJECT) {
		oa_fail(c, NULL, NULL, "We could not parse the JSON body of "
		    "your request. (HINT: This likely means you aren't using "
		    "your HTTP library correctly. The OpenAI API expects a "
		    "JSON payload, but what was sent was not valid JSON.)");
		oa_error(c, 400, "invalid_request_error");
	} else if (oa_check(c) < 0) {
		oa_error(c, 400, "invalid_request_error");
	} else if (!oa_refuse_tools(c)) {
		oa_answer(c);
	}
}

