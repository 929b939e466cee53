/*
 * llm_openai.c: the neutral conversation as an OpenAI-compatible Chat
 * Completions request, and its answer back (shared/reference/apis.md
 * section 2).
 *
 * The system prompt is the first message.  An assistant turn's calls go
 * back with their arguments as a JSON string: the text the server sent
 * when the turn kept it ("arguments"), else the input serialised; its
 * reasoning_content goes back too.  Each tool result is a tool message
 * with its tool_call_id; OpenAI has no error flag, so a failed tool's
 * text is prefixed "error: ".
 *
 * Answers from compatible servers vary (apis.md "Pitfalls"): arguments
 * may be an object instead of a string, or invalid JSON; content null,
 * "" or an array of parts beside tool calls; finish_reason "stop" with
 * tool calls (llm.c decides on the calls, not the word); no usage;
 * reasoning_content.  All are taken.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "llm_impl.h"
#include "sl.h"

static jv
assistant(jv m)
{
	const char *text = sl_llm_str(m, "text"), *args;
	jv calls, c, input, list = jv_array(), o, f;
	char *dump;
	int i, n;

	if (sl_get_arr(m, "tool_calls", &calls) != 1)
		calls = jv_array();
	n = jv_array_length(jv_copy(calls));
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(calls), i);
		if (sl_get_str(c, "arguments", &args) == 1) {
			f = jv_string(args);
		} else {
			if (sl_get_obj(c, "input", &input) != 1)
				input = jv_object();
			dump = sl_json_dump(input, NULL);
			f = jv_string(dump);
			free(dump);
			jv_free(input);
		}
		f = JV_OBJECT(jv_string("name"), jv_string(sl_llm_str(c,
		    "name")), jv_string("arguments"), f);
		list = jv_array_append(list, JV_OBJECT(jv_string("id"),
		    jv_string(sl_llm_str(c, "id")), jv_string("type"),
		    jv_string("function"), jv_string("function"), f));
		jv_free(c);
	}
	jv_free(calls);
	o = JV_OBJECT(jv_string("role"), jv_string("assistant"),
	    jv_string("content"), *text ? jv_string(text) :
	    n > 0 ? jv_null() : jv_string(""));
	if (n > 0)
		o = sl_set(o, "tool_calls", list);
	else
		jv_free(list);
	if (*sl_llm_str(m, "reasoning"))
		o = sl_set(o, "reasoning_content", jv_string(sl_llm_str(m,
		    "reasoning")));
	return o;
}

static jv
tool_message(jv m)
{
	int is_error = 0;
	jv content;

	if (sl_get_bool(m, "is_error", &is_error) == 1 && is_error)
		content = jv_string_fmt("error: %s", sl_llm_str(m, "content"));
	else
		content = jv_string(sl_llm_str(m, "content"));
	return JV_OBJECT(jv_string("role"), jv_string("tool"),
	    jv_string("tool_call_id"), jv_string(sl_llm_str(m,
	    "tool_call_id")), jv_string("content"), content);
}

jv
sl_llm_oa_request(const char *model, jv system, jv messages,
    jv tools, int max_tokens, const char *max_name)
{
	const char *role;
	jv msgs = jv_array(), m, t, f, schema, body, list = jv_array();
	int i, n = jv_array_length(jv_copy(messages));

	if (jv_get_kind(system) == JV_KIND_STRING)
		msgs = jv_array_append(msgs, JV_OBJECT(jv_string("role"),
		    jv_string("system"), jv_string("content"), system));
	else
		jv_free(system);
	for (i = 0; i < n; i++) {
		m = jv_array_get(jv_copy(messages), i);
		role = sl_llm_str(m, "role");
		if (strcmp(role, "user") == 0)
			msgs = jv_array_append(msgs, JV_OBJECT(
			    jv_string("role"), jv_string("user"),
			    jv_string("content"),
			    jv_string(sl_llm_str(m, "text"))));
		else if (strcmp(role, "assistant") == 0)
			msgs = jv_array_append(msgs, assistant(m));
		else if (strcmp(role, "tool") == 0)
			msgs = jv_array_append(msgs, tool_message(m));
		jv_free(m);
	}
	body = JV_OBJECT(jv_string("model"), jv_string(model),
	    jv_string("messages"), msgs, jv_string(max_name),
	    jv_number(max_tokens));
	n = jv_get_kind(tools) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(tools)) : 0;
	for (i = 0; i < n; i++) {
		t = jv_array_get(jv_copy(tools), i);
		if (jv_get_kind(t) == JV_KIND_OBJECT &&
		    sl_get_obj(t, "input_schema", &schema) == 1) {
			f = JV_OBJECT(jv_string("name"),
			    jv_string(sl_llm_str(t, "name")));
			if (*sl_llm_str(t, "description"))
				f = sl_set(f, "description",
				    jv_string(sl_llm_str(t, "description")));
			f = sl_set(f, "parameters", schema);
			list = jv_array_append(list, JV_OBJECT(
			    jv_string("type"), jv_string("function"),
			    jv_string("function"), f));
		}
		jv_free(t);
	}
	if (jv_array_length(jv_copy(list)) > 0)
		body = sl_set(body, "tools", list);
	else
		jv_free(list);
	return body;
}

/* content: a string, null, or parts of which the text ones count. */
static char *
content_text(jv msg)
{
	jv content = jv_object_get(jv_copy(msg), jv_string("content")), p;
	char *text = sl_strdup(""), *t;
	const char *s;
	int i, n;

	if (jv_get_kind(content) == JV_KIND_STRING) {
		free(text);
		text = sl_strdup(jv_string_value(content));
	} else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(content));
		for (i = 0; i < n; i++) {
			p = jv_array_get(jv_copy(content), i);
			if (jv_get_kind(p) == JV_KIND_OBJECT &&
			    strcmp(sl_llm_str(p, "type"), "text") == 0 &&
			    *(s = sl_llm_str(p, "text"))) {
				t = sl_asprintf("%s%s", text, s);
				free(text);
				text = t;
			}
			jv_free(p);
		}
	}
	jv_free(content);
	return text;
}

/*
 * One tool call of the answer (consumed) as {"id","name","input",
 * "arguments"?,"error"?}.
 */
static jv
call(jv tc, int i)
{
	const char *id = jv_get_kind(tc) == JV_KIND_OBJECT ?
	    sl_llm_str(tc, "id") : "";
	jv f = jv_invalid(), args, input = jv_invalid(), out;
	const char *err = NULL;

	if (jv_get_kind(tc) != JV_KIND_OBJECT ||
	    sl_get_obj(tc, "function", &f) != 1)
		f = jv_object();
	out = JV_OBJECT(jv_string("id"), *id ? jv_string(id) :
	    jv_string_fmt("call_%d", i), jv_string("name"),
	    jv_string(sl_llm_str(f, "name")));
	args = jv_object_get(jv_copy(f), jv_string("arguments"));
	if (jv_get_kind(args) == JV_KIND_STRING) {
		out = sl_set(out, "arguments", jv_copy(args));
		/* Some servers send "" for a call without arguments. */
		input = *jv_string_value(args) ? sl_parse(jv_string_value(args),
		    strlen(jv_string_value(args))) : jv_object();
		if (jv_get_kind(input) != JV_KIND_OBJECT)
			err = "the arguments are not a JSON object";
	} else if (jv_get_kind(args) == JV_KIND_OBJECT) {
		input = jv_copy(args);
	} else if (jv_is_valid(args) && jv_get_kind(args) != JV_KIND_NULL) {
		err = "the arguments are not a JSON object";
	} else {
		input = jv_object();
	}
	if (err) {
		jv_free(input);
		input = jv_object();
		out = sl_set(out, "error", jv_string(err));
	}
	jv_free(args);
	jv_free(f);
	jv_free(tc);
	return sl_set(out, "input", input);
}

jv
sl_llm_oa_answer(jv body)
{
	jv choices, choice = jv_invalid(), msg = jv_invalid(), tcs, usage;
	jv calls = jv_array(), out;
	char *text;
	int64_t v;
	int i, n;

	if (jv_get_kind(body) != JV_KIND_OBJECT ||
	    sl_get_arr(body, "choices", &choices) != 1) {
		jv_free(body);
		return jv_invalid_with_msg(jv_string("an answer without "
		    "choices"));
	}
	if (jv_array_length(jv_copy(choices)) > 0)
		choice = jv_array_get(jv_copy(choices), 0);
	jv_free(choices);
	if (jv_get_kind(choice) != JV_KIND_OBJECT ||
	    sl_get_obj(choice, "message", &msg) != 1) {
		jv_free(choice);
		jv_free(body);
		return jv_invalid_with_msg(jv_string("an answer without a "
		    "message"));
	}
	if (sl_get_arr(msg, "tool_calls", &tcs) == 1) {
		n = jv_array_length(jv_copy(tcs));
		for (i = 0; i < n; i++)
			calls = jv_array_append(calls,
			    call(jv_array_get(jv_copy(tcs), i), i));
		jv_free(tcs);
	}
	text = content_text(msg);
	out = JV_OBJECT(jv_string("text"), jv_string(text),
	    jv_string("tool_calls"), calls, jv_string("stop"),
	    jv_string(sl_llm_str(choice, "finish_reason")));
	free(text);
	if (*sl_llm_str(msg, "reasoning_content"))
		out = sl_set(out, "reasoning", jv_string(sl_llm_str(msg,
		    "reasoning_content")));
	if (*sl_llm_str(body, "model"))
		out = sl_set(out, "model", jv_string(sl_llm_str(body,
		    "model")));
	if (sl_get_obj(body, "usage", &usage) == 1) {
		if (sl_get_int(usage, "prompt_tokens", &v) == 1)
			out = sl_set(out, "input_tokens", jv_number(v));
		if (sl_get_int(usage, "completion_tokens", &v) == 1)
			out = sl_set(out, "output_tokens", jv_number(v));
		jv_free(usage);
	}
	jv_free(msg);
	jv_free(choice);
	jv_free(body);
	return out;
}
