#!/bin/sh
# tests/1101-tg-send-order.t: tg-send's timing: per-chat order under 429s
# on one chat while others flow, Telegram's flood control, the pace per
# chat and overall, typing, not_before, a takeover while typing, giving
# up on a chat and its order across runs, and a graceful stop.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
A=880011223
B=880011224
C=880011225
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

start() {
	fake_start -t "$TOKEN"
	TELEGRAM_BOT_TOKEN=$TOKEN
	TELEGRAM_API_URL=$FAKE_URL
	export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL
	for c in "$A" "$B" "$C" 880011226; do
		curl -s -d "{\"id\":$c}" "$FAKE_URL/_fake/telegram/chat" \
			>/dev/null
	done
}

out() { # KEY CHAT TEXT [EXTRA-FIELDS]
	printf '{"type":"message.out","key":"%s","chat":"%s","text":"%s"%s}\n' \
		"$1" "$2" "$3" "${4:+,$4}"
}

ctl() { # PATH JSON
	curl -s --data-binary "$2" "$FAKE_URL/_fake/$1" >/dev/null
}

sent() {
	curl -s "$FAKE_URL/_fake/telegram/sent" >"$T/sent"
}

q() {
	salesline-db --db "$DB" query "$@"
}

texts() { # CHAT: the texts delivered to CHAT, in order, on one line
	jq -r --argjson c "$1" 'select(.chat_id == $c) | .text' "$T/sent" |
		tr '\n' ' '
}

flood_429() {
	start
	ctl rules '{"path":"/bot*/sendMessage","json":{"chat_id":'$A'},"status":429,"headers":{"Retry-After":"1"},"body":{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}},"times":2}'
	{
		out a1 "$A" A1
		out b1 "$B" B1
		out a2 "$A" A2
		out b2 "$B" B2
		out a3 "$A" A3
		out b3 "$B" B3
	} >"$T/in"
	check_exit "429 twice on one chat" 0 tg-send --db "$DB" --no-delay \
		--chat-interval 50 <"$T/in"
	is "every record sent" 6 \
		"$(jq -s '[.[] | select(.type == "message.sent")] | length' \
		"$T/out")"
	sent
	is "chat A in order" "A1 A2 A3 " "$(texts "$A")"
	is "chat B in order" "B1 B2 B3 " "$(texts "$B")"
	is "B flowed while A waited" true "$(jq -s '
		(map(select(.text == "B3")) | .[0].at_ms) <
		(map(select(.text == "A1")) | .[0].at_ms)' "$T/sent")"
	is "A waited retry_after twice" true "$(jq -s '
		(map(select(.text == "A1")) | .[0].at_ms) -
		(map(select(.text == "B1")) | .[0].at_ms) >= 1900' "$T/sent")"
	is "nothing twice" 6 "$(jq -s 'map(.text) | unique | length' \
		"$T/sent")"

	ctl telegram/flood '{"per_chat_per_sec":1,"retry_after":1}'
	{
		out f1 "$C" F1
		out f2 "$C" F2
		out f3 "$C" F3
	} >"$T/in"
	check_exit "Telegram's flood control on one chat" 0 tg-send \
		--db "$DB" --no-delay --chat-interval 0 <"$T/in"
	ctl telegram/flood '{"per_chat_per_sec":0}'
	sent
	is "delivered in order despite 429s" "F1 F2 F3 " "$(texts "$C")"
	is "the emulator did refuse some" true "$(jq -s --argjson c "$C" \
		'[.[] | select(.json.chat_id == $c)] | length > 3' "$FAKE_LOG")"
}
for_each_db flood_429

pace() {
	start
	{
		out p1 "$A" P1
		out p2 "$A" P2
		out p3 "$A" P3
	} >"$T/in"
	check_exit "--chat-interval 300" 0 tg-send --db "$DB" --no-delay \
		--chat-interval 300 <"$T/in"
	sent
	is "sends to one chat at least 300 ms apart" true \
		"$(jq -s '[.[1].at_ms - .[0].at_ms, .[2].at_ms - .[1].at_ms] |
		all(. >= 290)' "$T/sent")"
	{
		out r1 "$A" R1
		out r2 "$B" R2
		out r3 "$C" R3
		out r4 880011226 R4
	} >"$T/in"
	check_exit "--rate 5" 0 tg-send --db "$DB" --no-delay \
		--chat-interval 0 --rate 5 <"$T/in"
	sent
	is "sends overall at most 5 a second" true \
		"$(jq -s '.[3:] | [.[1].at_ms - .[0].at_ms,
		.[2].at_ms - .[1].at_ms, .[3].at_ms - .[2].at_ms] |
		all(. >= 190)' "$T/sent")"
}
for_each_db pace

typing() {
	start
	out t1 "$A" "Typing first" >"$T/in"
	check_exit "a small typing delay" 0 tg-send --db "$DB" \
		--max-delay 0.4 <"$T/in"
	curl -s "$FAKE_URL/_fake/telegram/actions" >"$T/actions"
	sent
	jq -c '[.chat_id, .action]' "$T/actions" >"$T/got"
	check_json "typing shown in the chat" "[$A,\"typing\"]" "$T/got"
	is "for the delay, then the message" true "$(jq -n \
		--slurpfile a "$T/actions" --slurpfile s "$T/sent" \
		'$s[0].at_ms - $a[0].at_ms >= 350')"
	out t2 "$B" "No typing" >"$T/in"
	check_exit "--no-delay" 0 tg-send --db "$DB" --no-delay <"$T/in"
	curl -s "$FAKE_URL/_fake/telegram/actions" >"$T/actions"
	is "--no-delay shows no typing" 1 "$(wc -l <"$T/actions" | tr -d ' ')"
}
for_each_db typing

not_before() {
	start
	{
		out n1 "$A" Later '"not_before":"2026-01-01T00:00:02Z"'
		out n2 "$B" Now '"not_before":"2025-12-31T23:00:00Z"'
		out n3 "$C" "Also now"
	} >"$T/in"
	check_exit "not_before, with SALESLINE_NOW" 0 env \
		SALESLINE_NOW=2026-01-01T00:00:00Z tg-send --db "$DB" \
		--no-delay <"$T/in"
	sent
	jq -c .text "$T/sent" >"$T/got"
	check_json "the others first" '"Now"
"Also now"
"Later"' "$T/got"
	is "the later one waited about 2 s" true \
		"$(jq -s '.[2].at_ms - .[0].at_ms >= 1800 and
		.[2].at_ms - .[0].at_ms < 4000' "$T/sent")"
	q "SELECT key, not_before FROM messages ORDER BY key" >"$T/got"
	check_json "not_before is kept in the ledger" \
		'{"key":"n1","not_before":1767225602}
{"key":"n2","not_before":1767222000}
{"key":"n3","not_before":null}' "$T/got"
}
for_each_db not_before

takeover() {
	start
	q "INSERT INTO prospects (chat, created_at, updated_at) VALUES
		(\$1, 1, 1)" "$A" >/dev/null
	out h1 "$A" "A reply composed before the rep took over" >"$T/in"
	tg-send --db "$DB" --max-delay 2 <"$T/in" >"$T/out" 2>"$T/err" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! curl -s "$FAKE_URL/_fake/telegram/actions" |
		grep -q typing; do
		sleep 0.05
		i=$((i + 1))
	done
	q "UPDATE prospects SET human_active = 1" >/dev/null
	st=0
	wait "$pid" || st=$?
	is "a takeover while typing: exit 0" 0 "$st"
	jq -c '[.type, .error.code]' "$T/out" >"$T/got"
	check_json "the reply is dropped" '["message.failed","human_active"]' \
		"$T/got"
	sent
	is "nothing delivered" 0 "$(wc -c <"$T/sent" | tr -d ' ')"
	q "SELECT status FROM messages" >"$T/got"
	check_json "dropped in the ledger" '{"status":"dropped"}' "$T/got"
}
for_each_db takeover

give_up() {
	start
	ctl rules '{"path":"/bot*/sendMessage","json":{"chat_id":'$A'},"status":503,"body":{"ok":false,"error_code":503,"description":"Service Unavailable"},"times":4}'
	{
		out g1 "$A" G1
		out g2 "$A" G2
		out g3 "$B" G3
	} >"$T/in"
	check_exit "503s on one chat: exit 75" 75 tg-send --db "$DB" \
		--no-delay --chat-interval 0 <"$T/in"
	jq -s -c 'sort_by(.key)[] | [.key, .type, .error.code,
		.error.temporary]' "$T/out" >"$T/got"
	check_json "the chat is given up for now, the other one sent" \
		'["g1","message.failed","503",true]
["g2","message.failed","deferred",true]
["g3","message.sent",null,null]' "$T/got"
	q "SELECT key, status, claimed_by FROM messages ORDER BY key" \
		>"$T/got"
	check_json "the two stay queued, unclaimed" \
		'{"key":"g1","status":"queued","claimed_by":null}
{"key":"g2","status":"queued","claimed_by":null}
{"key":"g3","status":"sent","claimed_by":null}' "$T/got"
	out g4 "$A" G4 >"$T/in"
	check_exit "a new message to that chat, without --pending" 0 \
		tg-send --db "$DB" --no-delay --chat-interval 0 <"$T/in"
	jq -c '[.key, .type]' "$T/out" >"$T/got"
	check_json "the older ones go first" '["g1","message.sent"]
["g2","message.sent"]
["g4","message.sent"]' "$T/got"
	sent
	is "delivered in order across runs" "G1 G2 G4 " "$(texts "$A")"
}
for_each_db give_up

stop() {
	start
	ctl rules '{"path":"/bot*/sendMessage","delay_ms":600}'
	{
		out s1 "$A" S1
		out s2 "$A" S2
		out s3 "$A" S3
	} >"$T/in"
	tg-send --db "$DB" --no-delay --chat-interval 0 <"$T/in" \
		>"$T/out" 2>"$T/err" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q sendMessage "$FAKE_LOG"; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	is "SIGTERM: exit 75" 75 "$st"
	jq -c '[.key, .type, .error.code]' "$T/out" >"$T/got"
	check_json "the send under way is finished, the rest reported" \
		'["s1","message.sent",null]
["s2","message.failed","stopped"]
["s3","message.failed","stopped"]' "$T/got"
	q "SELECT key, status, claimed_by FROM messages ORDER BY key" \
		>"$T/got"
	check_json "and left queued for later" \
		'{"key":"s1","status":"sent","claimed_by":null}
{"key":"s2","status":"queued","claimed_by":null}
{"key":"s3","status":"queued","claimed_by":null}' "$T/got"
}
for_each_db stop

done_testing
