#!/bin/sh
# 0300-fake-api: the loopback API emulator itself (tests/fake/fake-api):
# Telegram getMe, scripted rules, late / broken / malformed answers, the
# request log, reset, and a clean exit.
. "$(dirname "$0")/lib.sh"

TOKEN=123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
GETME='{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Acme Sales","username":"acme_sales_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false,"can_connect_to_business":true,"has_main_web_app":false}}'

# req NAME STATUS CURL-ARGS...: the answer's status must be STATUS; the
# body is left in $T/body, the headers in $T/hdrs.
req() {
	_name=$1
	_want=$2
	shift 2
	_code=$(curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@") || true
	if [ "$_code" = "$_want" ]; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		echo "#   status $_code, want $_want"
		_show "$T/body" body
	fi
}

# rules LINES: replaces the fake's rules.
rules() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	printf '%s\n' "$1" | curl -s --data-binary @- \
		"$FAKE_URL/_fake/rules" >"$T/rules.out"
}

fake_start -t "$TOKEN"
U=$FAKE_URL
printf '%s\n' "$U" >"$T/url"
check_grep "the port is printed" '^http://127\.0\.0\.1:[1-9][0-9]*$' "$T/url"

# Telegram getMe.
req "getMe with the token: 200" 200 "$U/bot$TOKEN/getMe"
check_json "getMe: the bot" "$GETME" "$T/body"
check_grep "getMe: JSON content type" '^Content-Type: application/json' \
	"$T/hdrs"
req "POST getme (method names are case-insensitive)" 200 \
	-H 'Content-Type: application/json' -d '{}' "$U/bot$TOKEN/getme"
check_json "POST getme: the bot" "$GETME" "$T/body"
req "another token: 401" 401 \
	"$U/bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9/getMe"
check_json "401: Telegram's error" \
	'{"ok":false,"error_code":401,"description":"Unauthorized"}' "$T/body"
req "unknown method: 404" 404 "$U/bot$TOKEN/noSuchMethod"
check_json "404: Telegram's error" \
	'{"ok":false,"error_code":404,"description":"Not Found"}' "$T/body"
req "no API at the path: 404" 404 "$U/nothing/here"
check_grep "404: says what was not found" 'GET /nothing/here' "$T/body"

# Rules: status, headers and body.
rules '{"method":"POST","path":"/bot*/sendMessage","times":1,"status":429,"headers":{"Retry-After":"2"},"body":{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}}}'
check_json "rules are accepted" '{"ok":true,"added":1,"rules":1}' \
	"$T/rules.out"
req "rule: status 429" 429 -d 'chat_id=1&text=hi' "$U/bot$TOKEN/sendMessage"
check_grep "rule: Retry-After header" '^Retry-After: 2' "$T/hdrs"
check_json "rule: body" '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}}' "$T/body"
req "rule with times 1 is used up: the API answers again (chat not found)" 400 \
	-d 'chat_id=1&text=hi' "$U/bot$TOKEN/sendMessage"
req "rule: method must match" 200 "$U/bot$TOKEN/getMe"

rules '{"path":"/v1/messages","status":500,"body":"plain text"}'
printf '%s\n' '{"path":"/v1/messages","status":529,"body":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}' |
	curl -s --data-binary @- "$U/_fake/rules?prepend=1" >/dev/null
req "prepend=1 puts a rule first" 529 -d '{}' "$U/v1/messages"
check_grep "a string body is sent as it is" 'overloaded_error' "$T/body"
curl -s "$U/_fake/rules" >"$T/list"
check_exit "GET /_fake/rules lists them in order" 0 \
	jq -se '[.[].status] == [529, 500]' "$T/list"
rules '{"path":"/bot*/sendMessage","json":{"chat_id":"42"},"status":403}'
req "json match: the rule applies only to its chat" 403 \
	-d 'chat_id=42&text=x' "$U/bot$TOKEN/sendMessage"
req "json match: other chats go to the API (chat not found)" 400 \
	-d 'chat_id=43&text=x' "$U/bot$TOKEN/sendMessage"

printf '{"path":"/x","status":"soon"}\n' | curl -s -o "$T/bad" \
	-w '%{http_code}' --data-binary @- "$U/_fake/rules" >"$T/code"
check_grep "a bad rule is refused with 400" '^400$' "$T/code"
check_grep "the refusal names the line and the field" \
	'line 1: .status.: expected an integer' "$T/bad"
printf '{"path":"/x","sttaus":200}\n' | curl -s --data-binary @- \
	"$U/_fake/rules" >"$T/bad"
check_grep "a misspelt field is refused" "unknown field 'sttaus'" "$T/bad"

# Late, broken and malformed answers.
rules '{"path":"/slow","delay_ms":600,"body":{"ok":true}}'
curl -s -o /dev/null -w '%{time_total}\n' "$U/slow" >"$T/time"
check_exit "delay_ms: the answer comes late" 0 \
	awk '{ exit !($1 >= 0.55) }' "$T/time"
check_exit "delay_ms: a client timeout fires (curl 28)" 28 \
	curl -s --max-time 0.2 "$U/slow"

rules '{"path":"/bot*/sendMessage","close":"before","status":200}'
check_exit "close before: no answer at all (curl 52)" 52 \
	curl -s -d 'chat_id=1&text=hi' "$U/bot$TOKEN/sendMessage"
rules '{"path":"/bot*/getMe","close":"mid"}'
check_exit "close mid: the body breaks off (curl 18)" 18 \
	curl -s "$U/bot$TOKEN/getMe"
check_grep "close mid: part of the API's answer arrived" '^\{"ok":true' \
	"$T/out"
rules '{"path":"/bot*/getMe","malformed":true}'
req "malformed: status 200" 200 "$U/bot$TOKEN/getMe"
fails() { ! "$@"; }
ok "malformed: the body is not JSON" fails jq . "$T/body"
rules '{"path":"/bot*/getMe","headers":{"X-Extra":"yes"},"delay_ms":100}'
req "a rule without status or body shapes the API's answer" 200 \
	"$U/bot$TOKEN/getMe"
check_json "shaped answer: the API's body" "$GETME" "$T/body"
check_grep "shaped answer: the rule's header" '^X-Extra: yes' "$T/hdrs"
rules '{"path":"/chunks","body":"abcdefgh","chunk_delay_ms":100,"chunk_bytes":2}'
curl -s -w ' %{time_total}\n' "$U/chunks" >"$T/chunks"
check_exit "chunk_delay_ms: the whole body, slowly" 0 \
	awk '$1 == "abcdefgh" && $2 >= 0.25 { ok = 1 } END { exit !ok }' \
	"$T/chunks"

# The log: what was received, in order.
curl -s -X POST "$U/_fake/reset" >/dev/null
curl -s -H 'X-Test: One' -H 'Content-Type: application/json' \
	-d '{"chat_id":880011223,"text":"Привет"}' \
	"$U/bot$TOKEN/sendMessage?x=a%20b" >/dev/null
curl -s -d 'chat_id=1&text=a+b%21' "$U/bot$TOKEN/sendMessage" >/dev/null
curl -s "$U/bot$TOKEN/getMe" >/dev/null
curl -s "$U/_fake/log" >"$T/log"
check_exit "log: one line per request, /_fake/ not logged" 0 \
	jq -se 'length == 3 and ([.[].seq] == [1, 2, 3])' "$T/log"
jq -c 'select(.seq == 1) | {method, path, query, body, json,
	t: .headers["x-test"]}' "$T/log" >"$T/first"
check_json "log: method, path, query, headers and body of a JSON call" \
	"{\"method\":\"POST\",\"path\":\"/bot$TOKEN/sendMessage\",\"query\":{\"x\":\"a b\"},\"body\":\"{\\\"chat_id\\\":880011223,\\\"text\\\":\\\"Привет\\\"}\",\"json\":{\"chat_id\":880011223,\"text\":\"Привет\"},\"t\":\"One\"}" \
	"$T/first"
jq -c 'select(.seq == 2) | .json' "$T/log" >"$T/second"
check_json "log: a form body as an object" '{"chat_id":"1","text":"a b!"}' \
	"$T/second"
check_exit "log: arrival times in ms" 0 \
	jq -se 'all(.[]; (.at | type) == "number" and .at >= 0)' "$T/log"
check_exit "log: the -l file holds the same lines" 0 cmp "$T/log" "$FAKE_LOG"

# Reset.
rules '{"path":"/x","status":418}'
curl -s -X POST "$U/_fake/reset" >"$T/reset"
check_json "reset: answered" '{"ok":true}' "$T/reset"
req "reset: rules are gone" 404 "$U/x"
curl -s "$U/_fake/rules" >"$T/list"
check_exit "reset: no rules listed" 0 test ! -s "$T/list"
curl -s "$U/_fake/log" >"$T/log"
check_exit "reset: the log starts again at seq 1" 0 \
	jq -se 'length == 1 and .[0].seq == 1 and .[0].path == "/x"' "$T/log"
check_exit "reset: the -l file too" 0 cmp "$T/log" "$FAKE_LOG"

# Without -t any well-formed token is accepted; rules from -r.
printf '%s\n' '# scripted at start' \
	'{"path":"/bot*/getUpdates","status":409,"body":{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}}' \
	>"$T/rules.jsonl"
fake_start -r "$T/rules.jsonl"
req "no -t: a well-formed token is accepted" 200 \
	"$FAKE_URL/bot42:abcdefghijklmnopqrstuvwxyz_-/getMe"
req "no -t: a malformed token is not" 401 "$FAKE_URL/bot42:short/getMe"
req "-r: rules from a file" 409 "$FAKE_URL/bot$TOKEN/getUpdates"

printf '{"path":"/x"}\n[1]\n' >"$T/bad.jsonl"
check_exit "-r with a bad rule: exit 65" 65 "$FAKE_API" -r "$T/bad.jsonl"
check_grep "-r with a bad rule: names the file and line" \
	'bad\.jsonl: line 2: a rule must be an object' "$T/err"
check_exit "-h: usage on stdout" 0 "$FAKE_API" -h
check_grep "-h: shows the Telegram option" '-t telegram-token' "$T/out"
check_exit "a bad option: exit 64" 64 "$FAKE_API" -Q

# SIGTERM: a clean exit (and, in the sanitizer build, no leaks).
"$FAKE_API" -l "$T/term.log" >"$T/term.port" 2>"$T/term.err" &
pid=$!
i=0
while [ ! -s "$T/term.port" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
curl -s "http://127.0.0.1:$(cat "$T/term.port")/bot$TOKEN/getMe" >/dev/null
printf '{"path":"/y","delay_ms":5000,"status":200}\n' | curl -s \
	--data-binary @- "http://127.0.0.1:$(cat "$T/term.port")/_fake/rules" \
	>/dev/null
curl -s --max-time 5 "http://127.0.0.1:$(cat "$T/term.port")/y" \
	>/dev/null 2>&1 &
cpid=$!
sleep 0.2
kill -TERM "$pid"
st=0
wait "$pid" || st=$?
wait "$cpid" 2>/dev/null || true
check_exit "SIGTERM during a delayed answer: exit 0" 0 test "$st" -eq 0
_show "$T/term.err" "fake-api stderr"

done_testing
