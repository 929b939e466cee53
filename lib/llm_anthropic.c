/*
 * llm_anthropic.c: the neutral conversation as an Anthropic Messages
 * request, and its answer back (shared/reference/apis.md section 1).
 *
 * The system prompt is top-level.  Roles alternate from user: the
 * results of one assistant turn's tool calls, and any user text after
 * them, become one user message whose content starts with a tool_result
 * for each tool_use (results before any text, as the API demands); two
 * turns of the same role are merged.  A conversation that starts with
 * the assistant (a follow-up) gets a placeholder user turn before it.
 * Empty texts are left out, since the API refuses empty text blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "llm_impl.h"
#include "sl.h"

#define START "(start of the conversation)"

/* The turn being built: its role, its tool results, its other blocks. */
static jv
turn(const char *role)
{
	return JV_OBJECT(jv_string("role"), jv_string(role),
	    jv_string("results"), jv_array(), jv_string("blocks"), jv_array());
}

/*
 * Adds result (a tool_result) or block (any other) to the last turn of
 * out when it has role, else to a new one.  Consumes out, result, block.
 */
static jv
add(jv out, const char *role, jv result, jv block)
{
	int n = jv_array_length(jv_copy(out));
	jv last = n > 0 ? jv_array_get(jv_copy(out), n - 1) : jv_null();
	const char *key = jv_is_valid(result) ? "results" : "blocks";
	jv list;

	if (n == 0 || strcmp(sl_llm_str(last, "role"), role) != 0) {
		jv_free(last);
		last = turn(role);
		n++;
	}
	list = jv_object_get(jv_copy(last), jv_string(key));
	list = jv_array_append(list, jv_is_valid(result) ? result : block);
	if (jv_is_valid(result))
		jv_free(block);
	last = sl_set(last, key, list);
	return jv_array_set(out, n - 1, last);
}

static jv
text_block(const char *text)
{
	return JV_OBJECT(jv_string("type"), jv_string("text"),
	    jv_string("text"), jv_string(text));
}

/* An assistant message's blocks into out. Consumes out, borrows m. */
static jv
add_assistant(jv out, jv m)
{
	const char *text = sl_llm_str(m, "text");
	jv calls, c, b, input;
	int i, n;

	if (*text)
		out = add(out, "assistant", jv_invalid(), text_block(text));
	if (sl_get_arr(m, "tool_calls", &calls) != 1)
		calls = jv_array();
	n = jv_array_length(jv_copy(calls));
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(calls), i);
		if (sl_get_obj(c, "input", &input) != 1)
			input = jv_object();
		b = JV_OBJECT(jv_string("type"), jv_string("tool_use"),
		    jv_string("id"), jv_string(sl_llm_str(c, "id")),
		    jv_string("name"), jv_string(sl_llm_str(c, "name")),
		    jv_string("input"), input);
		out = add(out, "assistant", jv_invalid(), b);
		jv_free(c);
	}
	jv_free(calls);
	return out;
}

static jv
result_block(jv m)
{
	jv b;
	int is_error = 0;

	b = JV_OBJECT(jv_string("type"), jv_string("tool_result"),
	    jv_string("tool_use_id"), jv_string(sl_llm_str(m,
	    "tool_call_id")), jv_string("content"),
	    jv_string(sl_llm_str(m, "content")));
	if (sl_get_bool(m, "is_error", &is_error) == 1 && is_error)
		b = sl_set(b, "is_error", jv_true());
	return b;
}

/* The turns as API messages: content = results, then the other blocks. */
static jv
finish(jv turns)
{
	jv out = jv_array(), t, content;
	int i, n = jv_array_length(jv_copy(turns));

	for (i = 0; i < n; i++) {
		t = jv_array_get(jv_copy(turns), i);
		content = jv_array_concat(jv_object_get(jv_copy(t),
		    jv_string("results")), jv_object_get(jv_copy(t),
		    jv_string("blocks")));
		if (i == 0 && strcmp(sl_llm_str(t, "role"), "assistant") == 0)
			out = jv_array_append(out, JV_OBJECT(jv_string("role"),
			    jv_string("user"), jv_string("content"),
			    jv_string(START)));
		out = jv_array_append(out, JV_OBJECT(jv_string("role"),
		    jv_string(sl_llm_str(t, "role")), jv_string("content"),
		    content));
		jv_free(t);
	}
	jv_free(turns);
	return out;
}

jv
sl_llm_an_request(const char *model, jv system, jv messages,
    jv tools, int max_tokens)
{
	const char *role, *text;
	jv turns = jv_array(), m, t, spec, schema, body, list = jv_array();
	int i, n = jv_array_length(jv_copy(messages));

	for (i = 0; i < n; i++) {
		m = jv_array_get(jv_copy(messages), i);
		role = sl_llm_str(m, "role");
		text = sl_llm_str(m, "text");
		if (strcmp(role, "user") == 0 && *text)
			turns = add(turns, "user", jv_invalid(),
			    text_block(text));
		else if (strcmp(role, "assistant") == 0)
			turns = add_assistant(turns, m);
		else if (strcmp(role, "tool") == 0)
			turns = add(turns, "user", result_block(m), jv_null());
		jv_free(m);
	}
	if (jv_array_length(jv_copy(turns)) == 0) {
		jv_free(turns);
		jv_free(list);
		jv_free(system);
		return jv_invalid_with_msg(jv_string("the conversation has no "
		    "text"));
	}
	body = JV_OBJECT(jv_string("model"), jv_string(model),
	    jv_string("max_tokens"), jv_number(max_tokens),
	    jv_string("messages"), finish(turns));
	if (jv_get_kind(system) == JV_KIND_STRING)
		body = sl_set(body, "system", system);
	else
		jv_free(system);
	n = jv_get_kind(tools) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(tools)) : 0;
	for (i = 0; i < n; i++) {
		t = jv_array_get(jv_copy(tools), i);
		if (jv_get_kind(t) == JV_KIND_OBJECT &&
		    sl_get_obj(t, "input_schema", &schema) == 1) {
			spec = JV_OBJECT(jv_string("name"),
			    jv_string(sl_llm_str(t, "name")));
			if (*sl_llm_str(t, "description"))
				spec = sl_set(spec, "description",
				    jv_string(sl_llm_str(t, "description")));
			list = jv_array_append(list, sl_set(spec,
			    "input_schema", schema));
		}
		jv_free(t);
	}
	if (jv_array_length(jv_copy(list)) > 0)
		body = sl_set(body, "tools", list);
	else
		jv_free(list);
	return body;
}

jv
sl_llm_an_answer(jv body)
{
	const char *type, *s;
	jv content, b, input, usage, calls = jv_array(), out;
	char *text = sl_strdup(""), *t;
	int64_t v;
	int i, n;

	if (jv_get_kind(body) != JV_KIND_OBJECT ||
	    sl_get_arr(body, "content", &content) != 1) {
		jv_free(body);
		free(text);
		return jv_invalid_with_msg(jv_string("an answer without "
		    "content"));
	}
	n = jv_array_length(jv_copy(content));
	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(content), i);
		type = jv_get_kind(b) == JV_KIND_OBJECT ?
		    sl_llm_str(b, "type") : "";
		if (strcmp(type, "text") == 0 && *(s = sl_llm_str(b, "text"))) {
			t = sl_asprintf("%s%s%s", text, *text ? "\n" : "", s);
			free(text);
			text = t;
		} else if (strcmp(type, "tool_use") == 0) {
			out = JV_OBJECT(jv_string("id"),
			    jv_string(sl_llm_str(b, "id")), jv_string("name"),
			    jv_string(sl_llm_str(b, "name")));
			if (sl_get_obj(b, "input", &input) != 1) {
				input = jv_object();
				out = sl_set(out, "error", jv_string("the "
				    "input is not an object"));
			}
			calls = jv_array_append(calls, sl_set(out, "input",
			    input));
		}
		jv_free(b);
	}
	out = JV_OBJECT(jv_string("text"), jv_string(text),
	    jv_string("tool_calls"), calls, jv_string("stop"),
	    jv_string(sl_llm_str(body, "stop_reason")));
	if (*sl_llm_str(body, "model"))
		out = sl_set(out, "model", jv_string(sl_llm_str(body,
		    "model")));
	if (sl_get_obj(body, "usage", &usage) == 1) {
		if (sl_get_int(usage, "input_tokens", &v) == 1)
			out = sl_set(out, "input_tokens", jv_number(v));
		if (sl_get_int(usage, "output_tokens", &v) == 1)
			out = sl_set(out, "output_tokens", jv_number(v));
		jv_free(usage);
	}
	free(text);
	jv_free(content);
	jv_free(body);
	return out;
}
