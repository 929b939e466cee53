#!/bin/sh
# 0340-fake-llm: fake-api's model APIs, Anthropic Messages and an
# OpenAI-compatible Chat Completions: a scripted conversation of tool calls
# and text with the tool results sent back right (200) and wrong (400),
# keys, anthropic-version, request checks, max_tokens, the default answer,
# the quirks of compatible servers, auto mode, rules (529, 429, 5xx,
# delays, dropped connections) over the module, the requests log, reset,
# and a clean exit.
. "$(dirname "$0")/lib.sh"

KEY=sk-ant-fake-0340
OKEY=sk-fake-0340
TOOLS='[{"name":"get_free_slots","description":"Free slots of the rep on a day","input_schema":{"type":"object","properties":{"day":{"type":"string"}},"required":["day"]}},{"name":"book_meeting","description":"Book a slot","input_schema":{"type":"object","properties":{"start":{"type":"string"}},"required":["start"]}}]'
OTOOLS=$(printf '%s' "$TOOLS" | jq -c 'map({type:"function",function:{name,description,parameters:.input_schema}})')
SYSTEM="You schedule meetings for Dana."

# req CURL-ARGS...: the body in $T/body, headers in $T/hdrs, status in
# $T/code.
req() {
	curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@" >"$T/code" ||
		true
}

# is NAME STATUS JQ: the last answer had STATUS and JQ holds on its body.
is() {
	if [ "$(cat "$T/code")" = "$2" ] &&
		jq -e "$3" "$T/body" >/dev/null 2>&1; then
		_result 0 "$1"
	else
		_result 1 "$1"
		echo "#   status $(cat "$T/code"), want $2; jq: $3"
		_show "$T/body" body
	fi
}

# an BODY [CURL-ARGS...]: POST /v1/messages with the key and the version.
an() {
	_b=$1
	shift
	req -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' \
		-H 'Content-Type: application/json' -d "$_b" "$@" "$U/v1/messages"
}

# oa BODY [CURL-ARGS...]: POST /v1/chat/completions with the key.
oa() {
	_b=$1
	shift
	req -H "Authorization: Bearer $OKEY" -H 'Content-Type: application/json' \
		-d "$_b" "$@" "$U/v1/chat/completions"
}

# abody MESSAGES: an Anthropic request with the system prompt and tools.
abody() {
	jq -nc --argjson m "$1" --argjson t "$TOOLS" --arg s "$SYSTEM" \
		'{model:"claude-sonnet-4-5",max_tokens:1024,system:$s,tools:$t,messages:$m}'
}

# obody MESSAGES: an OpenAI request with the tools.
obody() {
	jq -nc --argjson m "$1" --argjson t "$OTOOLS" \
		'{model:"LongCat-Flash-Chat",max_tokens:1024,tools:$t,messages:$m}'
}

# script LINE...: appends turns to the script.
script() {
	printf '%s\n' "$@" | curl -s --data-binary @- "$U/_fake/llm/script" \
		>"$T/ctl"
}

quirks() {
	curl -s -d "$1" "$U/_fake/llm/quirks" >"$T/ctl"
}

# left N: the script has N turns left.
left() {
	curl -s "$U/_fake/llm/state" >"$T/state"
	check_exit "$1" 0 jq -e ".script_left == $2" "$T/state"
}

# aerr NAME MESSAGE-REGEX: the last answer was Anthropic's 400.
aerr() {
	is "$1" 400 ".type == \"error\" and .error.type == \"invalid_request_error\" and
		(.error.message | test(\"$2\")) and (.request_id | startswith(\"req_\"))"
}

rules() {
	printf '%s\n' "$@" | curl -s --data-binary @- "$U/_fake/rules" >/dev/null
}

fake_start -k "$KEY" -k "$OKEY"
U=$FAKE_URL
# shellcheck disable=SC2154
MAIN_PID=${_pids##* }
# shellcheck disable=SC2154
MAIN_ERR=$T/fake-$_tap_n.err

# Anthropic: a scripted conversation.
script '{"text":"Let me check her calendar.","tool":"get_free_slots","input":{"day":"2025-03-11"}}' \
	'{"tool":"book_meeting","input":{"start":"2025-03-11T10:00:00Z"}}' \
	'{"text":"Booked: Tuesday 10:00 UTC."}'
check_exit "script: three turns" 0 jq -e '.ok and .added == 3 and .left == 3' \
	"$T/ctl"
M1='[{"role":"user","content":"Can we meet tomorrow?"}]'
an "$(abody "$M1")"
is "anthropic: 200, a message" 200 \
	'.type == "message" and .role == "assistant" and .model == "claude-sonnet-4-5" and
	 (.id | startswith("msg_")) and .stop_sequence == null'
is "... text, then a tool_use with an object input and a toolu_ id" 200 \
	'.content[0] == {"type":"text","text":"Let me check her calendar."} and
	 .content[1].type == "tool_use" and (.content[1].id | startswith("toolu_")) and
	 .content[1].name == "get_free_slots" and .content[1].input == {"day":"2025-03-11"}'
is "... stop_reason tool_use, usage" 200 \
	'.stop_reason == "tool_use" and (.usage.input_tokens | . > 0) and
	 (.usage.output_tokens | . > 0)'
check_grep "... a request-id header" '^request-id: req_' "$T/hdrs"
A1=$(jq -c .content "$T/body")
ID1=$(jq -r '.content[1].id' "$T/body")
SLOTS='{"slots":["2025-03-11T10:00:00Z","2025-03-11T14:00:00Z"]}'

M2=$(jq -nc --argjson m "$M1" --argjson a "$A1" \
	'$m + [{role:"assistant",content:$a},{role:"user",content:"and?"}]')
an "$(abody "$M2")"
aerr "the tool result missing: 400" \
	"^messages\\\\.1: tool_use ids were found without tool_result blocks immediately after: $ID1\\\\. Each tool_use block must have a corresponding tool_result block in the next message\\\\.$"
M2=$(jq -nc --argjson m "$M1" --argjson a "$A1" --arg id "$ID1" --arg r "$SLOTS" \
	'$m + [{role:"assistant",content:$a},{role:"user",content:[{type:"text",text:"here"},{type:"tool_result",tool_use_id:$id,content:$r}]}]')
an "$(abody "$M2")"
aerr "the tool result after text: 400" "tool_use ids were found without tool_result blocks immediately after: $ID1"
M2=$(jq -nc --argjson m "$M1" --argjson a "$A1" --arg r "$SLOTS" \
	'$m + [{role:"assistant",content:$a},{role:"user",content:[{type:"tool_result",tool_use_id:"toolu_01other",content:$r}]}]')
an "$(abody "$M2")"
aerr "a tool result for another id: 400" \
	"^messages\\\\.2\\\\.content\\\\.0: unexpected tool_use_id found in tool_result blocks: toolu_01other"
M2=$(jq -nc --argjson m "$M1" --argjson a "$A1" --arg id "$ID1" --arg r "$SLOTS" \
	'$m + [{role:"assistant",content:($a | .[1].input |= tojson)},{role:"user",content:[{type:"tool_result",tool_use_id:$id,content:$r}]}]')
an "$(abody "$M2")"
aerr "the tool_use input replayed as a string: 400" "tool_use\\\\.input: Input should be a valid dictionary"
M2=$(jq -nc --argjson m "$M1" --argjson a "$A1" --arg id "$ID1" --arg r "$SLOTS" \
	'$m + [{role:"assistant",content:$a},{role:"user",content:[{type:"tool_result",tool_use_id:$id,content:$r}]}]')
an "$(jq -nc --argjson m "$M2" '{model:"m",max_tokens:10,messages:$m}')"
aerr "tool blocks without tools: 400" "must define tools"
left "... the refusals took no turn" 2
an "$(abody "$M2")"
is "the tool result sent back right: the next tool call" 200 \
	'.stop_reason == "tool_use" and (.content | length) == 1 and
	 .content[0].name == "book_meeting" and .content[0].input.start == "2025-03-11T10:00:00Z"'
A2=$(jq -c .content "$T/body")
ID2=$(jq -r '.content[0].id' "$T/body")
check_exit "... a new toolu_ id" 0 test "$ID1" != "$ID2"
M3=$(jq -nc --argjson m "$M2" --argjson a "$A2" --arg id "$ID2" \
	'$m + [{role:"assistant",content:$a},{role:"user",content:[{type:"tool_result",tool_use_id:$id,content:"{\"booked\":true}"}]}]')
an "$(abody "$M3")"
is "... and the final text, end_turn" 200 \
	'.stop_reason == "end_turn" and .content == [{"type":"text","text":"Booked: Tuesday 10:00 UTC."}]'
curl -s "$U/_fake/llm/requests" >"$T/reqs"
check_exit "requests: the tool results as sent back" 0 jq -se --arg id1 "$ID1" --arg id2 "$ID2" --arg s "$SLOTS" '
	[.[] | select(.api == "anthropic" and .status == 200)] | length == 3 and
	 .[1].body.messages[2].content[0] == {"type":"tool_result","tool_use_id":$id1,"content":$s} and
	 .[2].body.messages[4].content[0].tool_use_id == $id2 and
	 (.[2].body.messages | length) == 5' "$T/reqs"
check_exit "... the system prompt, the tools, the version header" 0 jq -se --arg s "$SYSTEM" '
	map(select(.api == "anthropic" and .status == 200)) | all(.body.system == $s and
	 (.body.tools | map(.name)) == ["get_free_slots","book_meeting"] and
	 .headers["anthropic-version"] == "2023-06-01" and .source == "script")' "$T/reqs"
check_exit "... the refusals, with their reason" 0 jq -se '
	map(select(.api == "anthropic" and .status == 400)) | length == 5 and
	 all(.source == "error" and (.error | type) == "string")' "$T/reqs"
check_no_grep "... never the key" "$KEY|x-api-key" "$T/reqs"

# Keys and the version.
req -H 'anthropic-version: 2023-06-01' -d "$(abody "$M1")" "$U/v1/messages"
is "no x-api-key: 401 authentication_error" 401 \
	'.type == "error" and .error == {"type":"authentication_error","message":"x-api-key header is required"}'
req -H 'x-api-key: sk-ant-wrong' -H 'anthropic-version: 2023-06-01' \
	-d "$(abody "$M1")" "$U/v1/messages"
is "a wrong x-api-key: 401" 401 '.error == {"type":"authentication_error","message":"invalid x-api-key"}'
check_grep "... with a request-id" '^request-id: req_' "$T/hdrs"
req -H "x-api-key: $KEY" -d "$(abody "$M1")" "$U/v1/messages"
aerr "no anthropic-version: 400" '^anthropic-version: header is required$'
req -H "x-api-key: $KEY" -H 'anthropic-version: 2099-01-01' -d "$(abody "$M1")" \
	"$U/v1/messages"
aerr "an unknown anthropic-version: 400" "anthropic-version"
curl -s -d '{"keys":["sk-new"]}' "$U/_fake/llm/keys" >"$T/ctl"
check_exit "control: other keys" 0 jq -e '.ok and .keys == 1' "$T/ctl"
an "$(abody "$M1")"
is "... the -k key is refused now" 401 '.error.type == "authentication_error"'
req -H 'x-api-key: sk-new' -H 'anthropic-version: 2023-06-01' \
	-d "$(abody "$M1")" "$U/anthropic/v1/messages"
is "... the new one works, under a prefix too" 200 '.type == "message"'
curl -s -d '{"keys":[]}' "$U/_fake/llm/keys" >"$T/ctl"
req -H 'x-api-key: anything' -H 'anthropic-version: 2023-06-01' \
	-d "$(abody "$M1")" "$U/v1/messages"
is "keys []: any key" 200 '.type == "message"'
curl -s -d "{\"keys\":[\"$KEY\",\"$OKEY\"]}" "$U/_fake/llm/keys" >"$T/ctl"

# Request checks.
an '{"model":"m","messages":[{"role":"user","content":"hi"}]}'
aerr "no max_tokens: 400" '^max_tokens: Field required$'
an '{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
aerr "no model: 400" '^model: Field required$'
an '{"model":"m","max_tokens":5}'
aerr "no messages: 400" '^messages: Field required$'
an '{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"sys"},{"role":"user","content":"hi"}]}'
aerr "a system message: 400" "^messages\\\\.0\\\\.role: Input should be 'user' or 'assistant'$"
an '{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"hi"}]}'
aerr "the first message from the assistant: 400" 'first message must use the \"user\" role'
an '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}'
aerr "two user messages in a row: 400" 'roles must alternate'
an '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}'
aerr "an empty text block: 400" 'text content blocks must be non-empty'
an '{"model":"m","max_tokens":5,"tool_calls":[],"messages":[{"role":"user","content":"a"}]}'
aerr "an unknown field: 400" '^tool_calls: Extra inputs are not permitted$'
an '{"model":"m","max_tokens":5,"tools":[{"name":"x","input_schema":{"type":"object"}},{"name":"x","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"a"}]}'
aerr "tools with one name twice: 400" 'Tool names must be unique'
an '{"model":"m","max_tokens":5,"tools":[{"name":"x","description":"no schema"}],"messages":[{"role":"user","content":"a"}]}'
aerr "a tool without input_schema: 400" 'input_schema: Field required'
an '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"a"}]}'
aerr "stream: 400 (not emulated)" 'streaming is not emulated'
an 'not json'
aerr "a body that is not JSON: 400" 'JSON'

# The default answer, turns for one API, max_tokens.
an '{"model":"m","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"Is Tuesday free?"}]}]}'
is "an empty script: an echo of the user's text" 200 \
	'.content == [{"type":"text","text":"echo: Is Tuesday free?"}] and .stop_reason == "end_turn"'
oa '{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"Hola"}]}'
is "... for OpenAI too" 200 '.choices[0].message.content == "echo: Hola" and .choices[0].finish_reason == "stop"'
script '{"api":"openai","text":"for openai"}' '{"text":"for anyone"}'
an "$(abody "$M1")"
is "a turn for openai is skipped by anthropic" 200 '.content[0].text == "for anyone"'
curl -s "$U/_fake/llm/script" >"$T/left"
check_json "GET script: what is left" '{"api":"openai","text":"for openai"}' "$T/left"
oa "$(obody "$M1")"
is "... and taken by openai" 200 '.choices[0].message.content == "for openai"'
printf '%s\n' '{"text":"fine"}' '{"tool":"x","input":[1]}' |
	curl -s --data-binary @- "$U/_fake/llm/script" >"$T/ctl"
check_exit "a bad script line: 400 naming it" 0 jq -e \
	'.ok == false and (.error | startswith("line 2: "))' "$T/ctl"
left "... and nothing was added" 0
script '{"text":"0123456789012345678901234567890123456789","tool":"book_meeting","input":{}}'
an '{"model":"m","max_tokens":2,"tools":'"$TOOLS"',"messages":[{"role":"user","content":"hi"}]}'
is "a text over max_tokens: cut, no tool call, stop_reason max_tokens" 200 \
	'.stop_reason == "max_tokens" and .content == [{"type":"text","text":"01234567"}]'
script '{"tool":"book_meeting","input":{"start":"2025-03-11T1"},"stop":"max_tokens"}'
an "$(abody "$M1")"
is "a scripted stop: max_tokens with a cut tool_use" 200 \
	'.stop_reason == "max_tokens" and .content[0].type == "tool_use"'
script '{"text":"0123456789012345678901234567890123456789"}' '{"stop":"max_tokens","text":"x"}'
oa '{"model":"m","max_completion_tokens":3,"messages":[{"role":"user","content":"hi"}]}'
is "openai: over max_completion_tokens: length" 200 \
	'.choices[0].finish_reason == "length" and .choices[0].message.content == "012345678901"'
oa '{"model":"m","messages":[{"role":"user","content":"hi"}]}'
is "openai: a scripted max_tokens is length" 200 '.choices[0].finish_reason == "length"'
script '{"tool":"cancel_meeting","input":{}}'
an "$(abody "$M1")"
curl -s "$U/_fake/llm/requests" >"$T/reqs"
check_exit "a call of an undeclared tool is answered, and flagged" 0 jq -se \
	'.[-1].undeclared == ["cancel_meeting"]' "$T/reqs"

# OpenAI-compatible: a scripted conversation.
script '{"tool":"get_free_slots","input":{"day":"2025-03-11"}}' \
	'{"tool":"book_meeting","input":{"start":"2025-03-11T10:00:00Z"}}' \
	'{"text":"Booked."}'
O1=$(jq -nc --arg s "$SYSTEM" '[{role:"system",content:$s},{role:"user",content:"Can we meet tomorrow?"}]')
oa "$(obody "$O1")"
is "openai: 200, a chat.completion" 200 \
	'.object == "chat.completion" and (.id | startswith("chatcmpl-")) and
	 (.created | type) == "number" and .model == "LongCat-Flash-Chat" and
	 .choices[0].index == 0 and .choices[0].message.role == "assistant"'
is "... content null, a tool call with arguments as a JSON string" 200 \
	'.choices[0].message.content == null and
	 (.choices[0].message.tool_calls[0].id | startswith("call_")) and
	 .choices[0].message.tool_calls[0].type == "function" and
	 .choices[0].message.tool_calls[0].function.name == "get_free_slots" and
	 (.choices[0].message.tool_calls[0].function.arguments | type) == "string" and
	 (.choices[0].message.tool_calls[0].function.arguments | fromjson) == {"day":"2025-03-11"}'
is "... finish_reason tool_calls, usage" 200 \
	'.choices[0].finish_reason == "tool_calls" and
	 .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens'
OM1=$(jq -c '.choices[0].message' "$T/body")
C1=$(jq -r '.choices[0].message.tool_calls[0].id' "$T/body")
O2=$(jq -nc --argjson m "$O1" --argjson a "$OM1" '$m + [$a,{role:"user",content:"and?"}]')
oa "$(obody "$O2")"
is "openai: the tool message missing: 400" 400 \
	".error.message == \"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: $C1\" and
	 .error.type == \"invalid_request_error\" and .error.param == \"messages.[2].role\" and .error.code == null"
O2=$(jq -nc --argjson m "$O1" '$m + [{role:"tool",tool_call_id:"call_x",content:"{}"}]')
oa "$(obody "$O2")"
is "openai: a tool message with no tool_calls before: 400" 400 \
	'.error.message | test("must be a response to a preceeding message with .tool_calls")'
O2=$(jq -nc --argjson m "$O1" --argjson a "$OM1" --arg id "$C1" --arg r "$SLOTS" \
	'$m + [($a | .tool_calls[0].function.arguments |= fromjson),{role:"tool",tool_call_id:$id,content:$r}]')
oa "$(obody "$O2")"
is "openai: arguments replayed as an object: 400 invalid_type" 400 \
	'.error.code == "invalid_type" and .error.param == "messages[2].tool_calls[0].function.arguments"'
oa '{"model":"m"}'
is "openai: no messages: 400" 400 \
	'.error == {"message":"Missing required parameter: '"'messages'"'.","type":"invalid_request_error","param":"messages","code":"missing_required_parameter"}'
oa '{"model":"m","system":"s","messages":[{"role":"user","content":"a"}]}'
is "openai: an unknown field: 400" 400 '.error.message == "Unrecognized request argument supplied: system"'
oa '{"model":"m","messages":[{"role":"robot","content":"a"}]}'
is "openai: an unknown role: 400" 400 '.error.code == "invalid_value" and .error.param == "messages[0].role"'
left "... the refusals took no turn" 2
O2=$(jq -nc --argjson m "$O1" --argjson a "$OM1" --arg id "$C1" --arg r "$SLOTS" \
	'$m + [$a,{role:"tool",tool_call_id:$id,content:$r}]')
oa "$(obody "$O2")"
is "openai: the tool message sent back right: the next call" 200 \
	'.choices[0].message.tool_calls[0].function.name == "book_meeting" and
	 (.choices[0].message.tool_calls[0].function.arguments | fromjson) == {"start":"2025-03-11T10:00:00Z"}'
OM2=$(jq -c '.choices[0].message' "$T/body")
C2=$(jq -r '.choices[0].message.tool_calls[0].id' "$T/body")
O3=$(jq -nc --argjson m "$O2" --argjson a "$OM2" --arg id "$C2" \
	'$m + [$a,{role:"tool",tool_call_id:$id,content:"{\"booked\":true}"}]')
oa "$(obody "$O3")"
is "... and the final text, finish_reason stop, no tool_calls" 200 \
	'.choices[0].message.content == "Booked." and .choices[0].finish_reason == "stop" and
	 (.choices[0].message | has("tool_calls") | not)'
curl -s "$U/_fake/llm/requests" >"$T/reqs"
check_exit "requests: the tool messages as sent back" 0 jq -se --arg c1 "$C1" --arg c2 "$C2" --arg s "$SLOTS" '
	[.[] | select(.api == "openai" and .status == 200 and .body.model == "LongCat-Flash-Chat")] | .[-2:] |
	 .[0].body.messages[3] == {"role":"tool","tool_call_id":$c1,"content":$s} and
	 (.[0].body.messages[2].tool_calls[0].function.arguments | type) == "string" and
	 .[1].body.messages[5].tool_call_id == $c2' "$T/reqs"
check_no_grep "... never the bearer" "$OKEY|authorization" "$T/reqs"

req -d '{"model":"m","messages":[{"role":"user","content":"a"}]}' "$U/v1/chat/completions"
is "openai: no key: 401 in OpenAI's shape" 401 \
	'(.error.message | startswith("You didn'"'"'t provide an API key")) and
	 .error.type == "invalid_request_error" and .error.param == null and .error.code == null'
req -H 'Authorization: Bearer sk-wrong' -d '{"model":"m","messages":[{"role":"user","content":"a"}]}' \
	"$U/v1/chat/completions"
is "openai: a wrong key: 401 invalid_api_key" 401 '.error.code == "invalid_api_key"'

# Quirks of compatible servers.
curl -s "$U/_fake/llm/quirks" >"$T/ctl"
check_json "quirks: the defaults" \
	'{"arguments":"string","content":"null","finish_reason":"tool_calls","usage":true,"auth":true,"reasoning":null,"errors":"openai","tools":"native"}' \
	"$T/ctl"
quirks '{"arguments":"object","content":"empty","finish_reason":"stop","usage":false,"reasoning":"I should check."}'
check_exit "quirks: set" 0 jq -e '.arguments == "object" and .usage == false' "$T/ctl"
script '{"tool":"get_free_slots","input":{"day":"2025-03-11"}}'
oa "$(obody "$O1")"
is "... arguments as an object (llama.cpp)" 200 \
	'.choices[0].message.tool_calls[0].function.arguments == {"day":"2025-03-11"}'
is "... content \"\" beside the tool call" 200 '.choices[0].message.content == ""'
is "... finish_reason stop with a tool call (Ollama, vLLM)" 200 \
	'.choices[0].finish_reason == "stop" and (.choices[0].message.tool_calls | length) == 1'
is "... no usage" 200 'has("usage") | not'
is "... reasoning_content (LongCat)" 200 '.choices[0].message.reasoning_content == "I should check."'
OM=$(jq -c '.choices[0].message' "$T/body")
CX=$(jq -r '.choices[0].message.tool_calls[0].id' "$T/body")
oa "$(obody "$(jq -nc --argjson m "$O1" --argjson a "$OM" --arg id "$CX" '$m + [$a,{role:"tool",tool_call_id:$id,content:"[]"}]')")"
is "... and object arguments are taken back" 200 '.choices[0].message.content | startswith("echo: ")'
script '{"tool":"get_free_slots","arguments":"{\"day\":"}'
oa "$(obody "$O1")"
is "a scripted broken arguments text stays text" 200 \
	'.choices[0].message.tool_calls[0].function.arguments == "{\"day\":"'
quirks '{"arguments":"string","content":"null","finish_reason":"tool_calls","usage":true,"reasoning":null,"tools":"text"}'
script '{"text":"Sure.","tool":"get_free_slots","input":{"day":"2025-03-11"}}'
oa "$(obody "$O1")"
is "tools text: the call printed in content, no tool_calls, stop" 200 \
	'.choices[0].message.content == "Sure.\n{\"name\":\"get_free_slots\",\"arguments\":{\"day\":\"2025-03-11\"}}" and
	 (.choices[0].message | has("tool_calls") | not) and .choices[0].finish_reason == "stop"'
quirks '{"tools":"need_parser"}'
oa "$(obody "$O1")"
is "tools need_parser: vLLM's 400" 400 \
	'. == {"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}'
oa '{"model":"m","messages":[{"role":"user","content":"no tools"}]}'
is "... not without tools" 200 '.choices[0].message.content == "echo: no tools"'
quirks '{"tools":"need_jinja"}'
oa "$(obody "$O1")"
is "tools need_jinja: llama.cpp's 500" 500 \
	'. == {"error":{"code":500,"message":"tools param requires --jinja flag","type":"server_error"}}'
quirks '{"tools":"native","errors":"vllm"}'
oa '{"model":"m"}'
is "errors vllm: a top-level error" 400 \
	'.object == "error" and .type == "BadRequestError" and .code == 400 and .param == null and (.message | type) == "string"'
quirks '{"errors":"llamacpp"}'
oa '{"model":"m"}'
is "errors llamacpp: a numeric code" 400 '.error.code == 400 and (.error.message | type) == "string"'
quirks '{"errors":"empty"}'
oa '{"model":"m"}'
check_grep "errors empty: a 400" '^400$' "$T/code"
check_exit "... with no body" 0 test ! -s "$T/body"
quirks '{"errors":"openai","auth":false}'
req -d '{"model":"m","messages":[{"role":"user","content":"no key"}]}' "$U/v1/chat/completions"
is "auth false: no key needed (Ollama)" 200 '.choices[0].message.content == "echo: no key"'
quirks '{"auth":true}'
quirks '{"tools":"sometimes"}'
check_exit "quirks: a bad value is refused" 0 jq -e '.ok == false' "$T/ctl"
quirks '{"bogus":1}'
check_exit "quirks: an unknown quirk is refused" 0 jq -e '.ok == false' "$T/ctl"

# Rules over the module.
script '{"text":"after the storm"}'
rules '{"path":"/v1/messages","times":1,"status":529,"headers":{"x-should-retry":"true"},"body":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}' \
	'{"path":"/v1/messages","times":1,"status":429,"headers":{"retry-after":"2"},"body":{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}}' \
	'{"path":"/v1/messages","times":1,"status":500,"body":{"type":"error","error":{"type":"api_error","message":"Internal server error"}}}'
an "$(abody "$M1")"
is "a rule: 529 overloaded" 529 '.error == {"type":"overloaded_error","message":"Overloaded"}'
check_grep "... x-should-retry: true" '^x-should-retry: true' "$T/hdrs"
an "$(abody "$M1")"
is "... then 429" 429 '.error.type == "rate_limit_error"'
check_grep "... with retry-after: 2" '^retry-after: 2' "$T/hdrs"
an "$(abody "$M1")"
is "... then 500" 500 '.error.type == "api_error"'
left "... the rules took no turn" 1
an "$(abody "$M1")"
is "... and the retry gets it" 200 '.content[0].text == "after the storm"'
rules '{"path":"/v1/chat/completions","times":1,"status":429,"headers":{"retry-after-ms":"150"},"body":{"error":{"message":"Rate limit reached. Please try again in 150ms.","type":"requests","param":null,"code":"rate_limit_exceeded"}}}'
oa "$(obody "$O1")"
is "openai: a rule's 429" 429 '.error.code == "rate_limit_exceeded"'
check_grep "... with retry-after-ms" '^retry-after-ms: 150' "$T/hdrs"
script '{"text":"too late"}'
rules '{"path":"/v1/messages","times":1,"delay_ms":3000}'
st=0
curl -s -m 1 -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' \
	-d "$(abody "$M1")" "$U/v1/messages" >/dev/null 2>&1 || st=$?
check_exit "a delaying rule: the client times out (curl 28)" 0 test "$st" -eq 28
left "... the model had answered: the turn is spent" 0
script '{"text":"lost"}'
rules '{"path":"/v1/chat/completions","times":1,"close":"mid"}' \
	'{"path":"/v1/chat/completions","times":1,"status":200,"close":"before"}'
st=0
curl -s -H "Authorization: Bearer $OKEY" -d "$(obody "$O1")" \
	"$U/v1/chat/completions" >/dev/null 2>&1 || st=$?
check_exit "a shaping rule cuts the answer (curl 18)" 0 test "$st" -eq 18
left "... after the module answered" 0
script '{"text":"kept"}'
st=0
curl -s -H "Authorization: Bearer $OKEY" -d "$(obody "$O1")" \
	"$U/v1/chat/completions" >/dev/null 2>&1 || st=$?
check_exit "an answering rule closes the connection (curl 52)" 0 test "$st" -eq 52
left "... and the module never saw it" 1

# Auto mode.
curl -s -d '{"on":true,"text":"auto reply"}' "$U/_fake/llm/auto" >"$T/ctl"
check_exit "auto: on" 0 jq -e '.on and .text == "auto reply"' "$T/ctl"
curl -s "$U/_fake/llm/requests" | wc -l >"$T/n0"
an "$(abody "$M1")"
is "auto: the fixed text, whatever the script" 200 '.content == [{"type":"text","text":"auto reply"}]'
oa "$(obody "$O1")"
is "... for OpenAI too" 200 '.choices[0].message.content == "auto reply"'
left "... the script is untouched" 1
curl -s "$U/_fake/llm/requests" | wc -l >"$T/n1"
check_exit "... and no request is kept" 0 cmp -s "$T/n0" "$T/n1"
curl -s "$U/_fake/llm/state" >"$T/state"
check_exit "... but counted" 0 jq -e '.auto == 2' "$T/state"
curl -s -d '{"on":false}' "$U/_fake/llm/auto" >/dev/null
an "$(abody "$M1")"
is "auto off: the script again" 200 '.content[0].text == "kept"'

# Reset.
script '{"text":"forgotten"}'
quirks '{"usage":false}'
curl -s -X POST "$U/_fake/reset" >/dev/null
curl -s "$U/_fake/llm/state" >"$T/state"
check_exit "reset: script, counts and quirks are gone" 0 jq -e \
	'.script_left == 0 and .requests == 0 and .quirks.usage == true and .keys == 2' \
	"$T/state"
curl -s "$U/_fake/llm/requests" >"$T/reqs"
check_exit "... and the requests" 0 test ! -s "$T/reqs"
an "$(abody "$M1")"
is "... ids start again" 200 '.id == "msg_01fake0000000000000002"'

kill -TERM "$MAIN_PID"
st=0
wait "$MAIN_PID" || st=$?
check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
check_exit "... with nothing on stderr (no leak reports)" 0 test ! -s "$MAIN_ERR"
_show "$MAIN_ERR" "fake-api stderr"

done_testing
