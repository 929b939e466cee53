/*
 * llm_anthropic.c: Anthropic's Messages API in fake-api (POST /v1/messages;
 * shared/reference/apis.md section 1).  llm.c has the script and the
 * module; tests/fake/README the checks and the answer.
 *
 * x-api-key first (401 authentication_error), then anthropic-version
 * (400), then the body, field by field, in the words of Anthropic's
 * validation errors ("messages.1.content.0.tool_use.input: Input should
 * be a valid dictionary").  The pairing rule is the one clients break:
 * every tool_use id of an assistant message needs a tool_result block at
 * the start of the next user message, and every tool_result its
 * tool_use in the message before.  The answer's content is the turn's
 * text block, then a tool_use block per call with an object input.
 */
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "jsonl.h"
#include "llm.h"
#include "sl.h"

static const char *const an_fields[] = {
	"model", "messages", "max_tokens", "system", "tools", "tool_choice",
	"metadata", "stop_sequences", "stream", "temperature", "top_k",
	"top_p", "thinking", "service_tier", "container", "mcp_servers",
	"context_management", NULL
};
static const char *const an_message_keys[] = { "role", "content", NULL };
static const char *const an_blocks[] = {
	"text", "image", "document", "search_result", "tool_use",
	"tool_result", "thinking", "redacted_thinking", NULL
};

static void
an_error(struct lm_call *c, int status, const char *type)
{
	fake_header(c->resp, "request-id", c->rid);
	fake_reply_json(c->resp, status, sl_set(sl_set(sl_set(jv_object(),
	    "type", jv_string("error")), "error", sl_set(sl_set(jv_object(),
	    "type", jv_string(type)), "message", jv_string(c->err))),
	    "request_id", jv_string(c->rid)));
}

static int
an_check_block(struct lm_call *c, int i, int j, jv b, int assistant)
{
	const char *type, *s;
	jv v;
	int k, bad;

	if (jv_get_kind(b) != JV_KIND_OBJECT)
		return lm_fail(c, "messages.%d.content.%d: Input should be a "
		    "valid dictionary", i, j);
	if (!(type = lm_str(b, "type")))
		return lm_fail(c, "messages.%d.content.%d.type: Field required",
		    i, j);
	if (lm_find(an_blocks, type) < 0)
		return lm_fail(c, "messages.%d.content.%d: Input tag '%s' "
		    "found using 'type' does not match any of the expected "
		    "tags: 'text', 'image', 'document', 'search_result', "
		    "'tool_use', 'tool_result', 'thinking', "
		    "'redacted_thinking'", i, j, type);
	if (strcmp(type, "text") == 0) {
		if ((k = sl_get_str(b, "text", &s)) != 1)
			return lm_fail(c, "messages.%d.content.%d.text.text: "
			    "%s", i, j, k ? "Input should be a valid string" :
			    "Field required");
		if (!*s)
			return lm_fail(c, "messages: text content blocks must "
			    "be non-empty");
	} else if (strcmp(type, "tool_use") == 0) {
		if (!assistant)
			return lm_fail(c, "messages.%d.content.%d: tool_use "
			    "blocks are only allowed in assistant messages",
			    i, j);
		if (!lm_str(b, "id") || !lm_str(b, "name"))
			return lm_fail(c, "messages.%d.content.%d.tool_use: "
			    "'id' and 'name': Field required", i, j);
		v = lm_field(b, "input");
		bad = jv_get_kind(v) != JV_KIND_OBJECT;
		jv_free(v);
		if (bad)
			return lm_fail(c, "messages.%d.content.%d.tool_use."
			    "input: Input should be a valid dictionary", i, j);
	} else if (strcmp(type, "tool_result") == 0) {
		if (assistant)
			return lm_fail(c, "messages.%d.content.%d: tool_result "
			    "blocks are only allowed in user messages", i, j);
		if (!lm_str(b, "tool_use_id"))
			return lm_fail(c, "messages.%d.content.%d.tool_result."
			    "tool_use_id: Field required", i, j);
		v = lm_field(b, "content");
		bad = jv_is_valid(v) && jv_get_kind(v) != JV_KIND_STRING &&
		    jv_get_kind(v) != JV_KIND_ARRAY;
		jv_free(v);
		if (bad || sl_get_bool(b, "is_error", &k) < 0)
			return lm_fail(c, "messages.%d.content.%d.tool_result: "
			    "'content' should be a string or a list, "
			    "'is_error' a boolean", i, j);
	} else if (assistant == 0 && (strcmp(type, "thinking") == 0 ||
	    strcmp(type, "redacted_thinking") == 0)) {
		return lm_fail(c, "messages.%d.content.%d: %s blocks are only "
		    "allowed in assistant messages", i, j, type);
	}
	return 0;
}

/*
 * One message: its role (in order), its content.  *role is 1 for user,
 * 2 for assistant.
 */
static int
an_check_message(struct lm_call *c, jv m, int i, int n, int *role)
{
	const char *r;
	char *bad;
	jv content, b;
	int j, k, prev = *role, ret = 0;

	if (jv_get_kind(m) != JV_KIND_OBJECT)
		return lm_fail(c, "messages.%d: Input should be a valid "
		    "dictionary", i);
	if ((bad = lm_unknown_field(m, an_message_keys))) {
		lm_fail(c, "messages.%d.%s: Extra inputs are not permitted", i,
		    bad);
		free(bad);
		return -1;
	}
	if (!(r = lm_str(m, "role")))
		return lm_fail(c, "messages.%d.role: Field required", i);
	if (strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0)
		return lm_fail(c, "messages.%d.role: Input should be 'user' or "
		    "'assistant'", i);
	*role = strcmp(r, "user") == 0 ? 1 : 2;
	if (i == 0 && *role != 1)
		return lm_fail(c, "messages: first message must use the "
		    "\"user\" role");
	if (*role == prev)
		return lm_fail(c, "messages: roles must alternate between "
		    "\"user\" and \"assistant\", but found multiple \"%s\" "
		    "roles in a row", r);
	content = lm_field(m, "content");
	if (jv_get_kind(content) == JV_KIND_STRING) {
		if (!jv_string_length_bytes(jv_copy(content)) &&
		    !(i == n - 1 && *role == 2))
			ret = lm_fail(c, "messages.%d: all messages must have "
			    "non-empty content except for the optional final "
			    "assistant message", i);
	} else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		k = lm_len(content);
		if (k == 0 && !(i == n - 1 && *role == 2))
			ret = lm_fail(c, "messages.%d: all messages must have "
			    "non-empty content except for the optional final "
			    "assistant message", i);
		for (j = 0; ret == 0 && j < k; j++) {
			b = jv_array_get(jv_copy(content), j);
			ret = an_check_block(c, i, j, b, *role == 2);
			jv_free(b);
		}
	} else {
		ret = lm_fail(c, jv_is_valid(content) ? "messages.%d.content: "
		    "Input should be a valid list" : "messages.%d.content: "
		    "Field required", i);
	}
	jv_free(content);
	return ret;
}

/* The ids of the blocks of type of m's content, as an array. */
static jv
block_ids(jv m, const char *type, const char *key)
{
	jv content = lm_field(m, "content"), ids = jv_array(), b;
	int j, n = jv_get_kind(content) == JV_KIND_ARRAY ? lm_len(content) : 0;

	for (j = 0; j < n; j++) {
		b = jv_array_get(jv_copy(content), j);
		if (lm_streq(lm_str(b, "type"), type) && lm_str(b, key))
			ids = jv_array_append(ids, jv_string(lm_str(b, key)));
		jv_free(b);
	}
	jv_free(content);
	return ids;
}

/*
 * The tool_result blocks of message i against the tool_use ids of the
 * message before it (uses, borrowed): every id needs its result at the
 * start of message i, and every result its tool_use.
 */
static int
an_check_results(struct lm_call *c, jv m, int i, jv uses)
{
	const char *id;
	char list[512];
	jv content = lm_field(m, "content"), lead = jv_array(), missing, b;
	int j, n = jv_get_kind(content) == JV_KIND_ARRAY ? lm_len(content) : 0;
	int leading = 1, ret = 0;

	for (j = 0; ret == 0 && j < n; j++) {
		b = jv_array_get(jv_copy(content), j);
		if (lm_streq(lm_str(b, "type"), "tool_result")) {
			id = lm_str(b, "tool_use_id");
			if (!lm_has_str(uses, id))
				ret = lm_fail(c, "messages.%d.content.%d: "
				    "unexpected tool_use_id found in "
				    "tool_result blocks: %s. Each tool_result "
				    "block must have a corresponding tool_use "
				    "block in the previous message.", i, j, id);
			else if (leading)
				lead = jv_array_append(lead, jv_string(id));
		} else {
			leading = 0;
		}
		jv_free(b);
	}
	missing = jv_array();
	n = lm_len(uses);
	for (j = 0; j < n; j++) {
		b = jv_array_get(jv_copy(uses), j);
		if (!lm_has_str(lead, jv_string_value(b)))
			missing = jv_array_append(missing, jv_copy(b));
		jv_free(b);
	}
	if (ret == 0 && lm_len(missing) > 0)
		ret = lm_fail(c, "messages.%d: tool_use ids were found without "
		    "tool_result blocks immediately after: %s. Each tool_use "
		    "block must have a corresponding tool_result block in the "
		    "next message.", i - 1, lm_join(missing, list,
		    sizeof list));
	jv_free(missing);
	jv_free(lead);
	jv_free(content);
	return ret;
}

/* The messages; *calls is the count of their tool_use blocks. */
static int
an_check_messages(struct lm_call *c, jv msgs, int *calls)
{
	int i, n = lm_len(msgs), role = 0, ret = 0;
	jv m, uses = jv_array();

	*calls = 0;
	if (n == 0)
		ret = lm_fail(c, "messages: at least one message is required");
	for (i = 0; ret == 0 && i < n; i++) {
		m = jv_array_get(jv_copy(msgs), i);
		ret = an_check_message(c, m, i, n, &role);
		if (ret == 0)
			ret = an_check_results(c, m, i, uses);
		jv_free(uses);
		uses = block_ids(m, "tool_use", "id");
		*calls += lm_len(uses);
		jv_free(m);
	}
	if (ret == 0 && lm_len(uses) > 0) {
		/* The last message asks for tools: nothing answers them. */
		m = jv_object();
		ret = an_check_results(c, m, n, uses);
		jv_free(m);
	}
	jv_free(uses);
	return ret;
}

static int
an_check_tools(struct lm_call *c)
{
	const char *name, *type, *ct;
	jv tools = lm_field(c->body, "tools"), tool, schema, names = jv_array();
	jv choice;
	int i, n, ret = 0;

	if (jv_is_valid(tools) && jv_get_kind(tools) != JV_KIND_ARRAY)
		ret = lm_fail(c, "tools: Input should be a valid list");
	n = jv_get_kind(tools) == JV_KIND_ARRAY ? lm_len(tools) : 0;
	for (i = 0; ret == 0 && i < n; i++) {
		tool = jv_array_get(jv_copy(tools), i);
		type = lm_str(tool, "type");
		name = lm_str(tool, "name");
		schema = lm_field(tool, "input_schema");
		if (jv_get_kind(tool) != JV_KIND_OBJECT)
			ret = lm_fail(c, "tools.%d: Input should be a valid "
			    "dictionary", i);
		else if (type && strcmp(type, "custom") != 0)
			;	/* a server tool (web_search_...) */
		else if (!name)
			ret = lm_fail(c, "tools.%d.custom.name: Field "
			    "required", i);
		else if (!lm_name_ok(name, 128))
			ret = lm_fail(c, "tools.%d.custom.name: String should "
			    "match pattern '^[a-zA-Z0-9_-]{1,128}$'", i);
		else if (lm_has_str(names, name))
			ret = lm_fail(c, "tools: Tool names must be unique.");
		else if (jv_get_kind(schema) != JV_KIND_OBJECT)
			ret = lm_fail(c, "tools.%d.custom.input_schema: Field "
			    "required", i);
		else if (!lm_streq(lm_str(schema, "type"), "object"))
			ret = lm_fail(c, "tools.%d.custom.input_schema.type: "
			    "Input should be 'object'", i);
		else if (lm_has(tool, "description") && !lm_str(tool,
		    "description"))
			ret = lm_fail(c, "tools.%d.custom.description: Input "
			    "should be a valid string", i);
		if (name)
			names = jv_array_append(names, jv_string(name));
		jv_free(schema);
		jv_free(tool);
	}
	choice = lm_field(c->body, "tool_choice");
	ct = lm_str(choice, "type");
	if (ret == 0 && jv_is_valid(choice)) {
		if (jv_get_kind(choice) != JV_KIND_OBJECT)
			ret = lm_fail(c, "tool_choice: Input should be a valid "
			    "dictionary");
		else if (!ct || (strcmp(ct, "auto") != 0 && strcmp(ct,
		    "any") != 0 && strcmp(ct, "tool") != 0 && strcmp(ct,
		    "none") != 0))
			ret = lm_fail(c, "tool_choice.type: Input tag '%s' "
			    "does not match any of the expected tags: 'auto', "
			    "'any', 'tool', 'none'", ct ? ct : "");
		else if (strcmp(ct, "tool") == 0 && !lm_str(choice, "name"))
			ret = lm_fail(c, "tool_choice.tool.name: Field "
			    "required");
		else if (strcmp(ct, "none") != 0 && n == 0)
			ret = lm_fail(c, "tool_choice may only be specified "
			    "while providing tools");
	}
	jv_free(choice);
	jv_free(names);
	jv_free(tools);
	return ret;
}

static int
an_check_system(struct lm_call *c)
{
	jv sys = lm_field(c->body, "system"), b;
	int i, n, ret = 0;

	if (!jv_is_valid(sys) || jv_get_kind(sys) == JV_KIND_STRING) {
		jv_free(sys);
		return 0;
	}
	if (jv_get_kind(sys) != JV_KIND_ARRAY)
		ret = lm_fail(c, "system: Input should be a valid list");
	n = ret == 0 ? lm_len(sys) : 0;
	for (i = 0; ret == 0 && i < n; i++) {
		b = jv_array_get(jv_copy(sys), i);
		if (!lm_streq(lm_str(b, "type"), "text") || !lm_str(b, "text"))
			ret = lm_fail(c, "system.%d: expected a text block "
			    "with 'text'", i);
		else if (!*lm_str(b, "text"))
			ret = lm_fail(c, "system: text content blocks must be "
			    "non-empty");
		jv_free(b);
	}
	jv_free(sys);
	return ret;
}

/* The request's body and fields; 0, or -1 with the reason in c->err. */
static int
an_check(struct lm_call *c)
{
	const char *s;
	char *bad;
	int64_t max;
	jv_kind kind;
	jv v, msgs;
	int st = 0, ret, calls;

	if ((bad = lm_unknown_field(c->body, an_fields))) {
		lm_fail(c, "%s: Extra inputs are not permitted", bad);
		free(bad);
		return -1;
	}
	if (!(s = lm_str(c->body, "model")) || !*s)
		return lm_fail(c, lm_has(c->body, "model") ? "model: Input "
		    "should be a valid string" : "model: Field required");
	v = lm_field(c->body, "max_tokens");
	kind = jv_get_kind(v);
	jv_free(v);
	if (kind == JV_KIND_INVALID)
		return lm_fail(c, "max_tokens: Field required");
	if (kind != JV_KIND_NUMBER || sl_get_int(c->body, "max_tokens",
	    &max) != 1)
		return lm_fail(c, "max_tokens: Input should be a valid "
		    "integer");
	if (max < 1)
		return lm_fail(c, "max_tokens: Input should be greater than or "
		    "equal to 1");
	msgs = lm_field(c->body, "messages");
	if (jv_get_kind(msgs) != JV_KIND_ARRAY) {
		ret = lm_fail(c, "messages: %s", jv_is_valid(msgs) ? "Input "
		    "should be a valid list" : "Field required");
		jv_free(msgs);
		return ret;
	}
	if (sl_get_bool(c->body, "stream", &st) < 0)
		ret = lm_fail(c, "stream: Input should be a valid boolean");
	else if (st)
		ret = lm_fail(c, "fake-api: streaming is not emulated");
	else if ((ret = an_check_system(c)) == 0 &&
	    (ret = an_check_tools(c)) == 0 &&
	    (ret = an_check_messages(c, msgs, &calls)) == 0 && calls > 0) {
		v = lm_field(c->body, "tools");
		if (jv_get_kind(v) != JV_KIND_ARRAY || lm_len(v) == 0)
			ret = lm_fail(c, "Requests which include tool_use or "
			    "tool_result blocks must define tools.");
		jv_free(v);
	}
	jv_free(msgs);
	return ret;
}

static void
an_answer(struct lm_call *c)
{
	struct lm_turn t;
	const char *stop;
	double max = 0;
	size_t out = 0;
	jv content = jv_array(), call, o, in;
	int i, n, cut;

	sl_get_num(c->body, "max_tokens", &max);
	lm_turn_take(c, &t);
	lm_undeclared(c, &t);
	cut = lm_turn_limit(&t, max);
	if (t.text) {
		content = jv_array_append(content, sl_set(sl_set(jv_object(),
		    "type", jv_string("text")), "text", jv_string(t.text)));
		out += strlen(t.text);
	}
	n = lm_len(t.calls);
	for (i = 0; i < n; i++) {
		call = jv_array_get(jv_copy(t.calls), i);
		in = lm_call_input(call);
		o = sl_set(jv_object(), "type", jv_string("tool_use"));
		o = sl_set(o, "id", jv_string_fmt("toolu_01fake%014lu",
		    lm_next_id()));
		o = sl_set(o, "name", jv_string(lm_str(call, "name")));
		out += strlen(lm_str(call, "name")) + 16;
		content = jv_array_append(content, sl_set(o, "input", in));
		jv_free(call);
	}
	if (cut)
		stop = "max_tokens";
	else if (t.stop)
		stop = lm_stop_map(t.stop, LM_ANTHROPIC);
	else
		stop = n ? "tool_use" : "end_turn";
	o = sl_set(jv_object(), "id", jv_string_fmt("msg_01fake%016lu",
	    lm_next_id()));
	o = sl_set(o, "type", jv_string("message"));
	o = sl_set(o, "role", jv_string("assistant"));
	o = sl_set(o, "model", lm_field(c->body, "model"));
	o = sl_set(o, "content", content);
	o = sl_set(o, "stop_reason", jv_string(stop));
	o = sl_set(o, "stop_sequence", jv_null());
	o = sl_set(o, "usage", sl_set(sl_set(sl_set(sl_set(sl_set(jv_object(),
	    "input_tokens", jv_number(lm_tokens(c->req->body_len))),
	    "output_tokens", jv_number(lm_tokens(out))),
	    "cache_creation_input_tokens", jv_number(0)),
	    "cache_read_input_tokens", jv_number(0)), "service_tier",
	    jv_string("standard")));
	fake_header(c->resp, "request-id", c->rid);
	fake_reply_json(c->resp, 200, o);
	lm_turn_free(&t);
}

void
lm_anthropic(struct lm_call *c)
{
	const char *key = lm_header(c, "x-api-key");
	const char *ver = lm_header(c, "anthropic-version");

	if (!key || !*key) {
		lm_fail(c, "x-api-key header is required");
		an_error(c, 401, "authentication_error");
	} else if (!lm_key_ok(key)) {
		lm_fail(c, "invalid x-api-key");
		an_error(c, 401, "authentication_error");
	} else if (!ver || !*ver) {
		lm_fail(c, "anthropic-version: header is required");
		an_error(c, 400, "invalid_request_error");
	} else if (strcmp(ver, "2023-06-01") != 0 &&
	    strcmp(ver, "2023-01-01") != 0) {
		lm_fail(c, "anthropic-version: '%s' is not a valid version",
		    ver);
		an_error(c, 400, "invalid_request_error");
	} else if (strcmp(c->req->method, "POST") != 0) {
		lm_fail(c, "Method Not Allowed: use POST");
		an_error(c, 405, "invalid_request_error");
	} else if (jv_get_kind(c->body) != JV_KIND_OBJECT) {
		lm_fail(c, jv_get_kind(c->body) == JV_KIND_NULL ? "There was "
		    "an issue with the JSON body of your request: not JSON" :
		    "Input should be a valid dictionary");
		an_error(c, 400, "invalid_request_error");
	} else if (an_check(c) < 0) {
		an_error(c, 400, "invalid_request_error");
	} else {
		an_answer(c);
	}
}

