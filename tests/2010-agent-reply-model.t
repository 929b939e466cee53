#!/bin/sh
# tests/2010-agent-reply-model.t: agent-reply with a model, against the
# emulated Anthropic Messages and OpenAI-compatible APIs, on SQLite and
# PostgreSQL: the model calls get_free_slots, then book_meeting; the real
# cal-free and zoom-book run, their results go back to the model in the
# API's own shape, and the model's final text reaches message.out; every
# call is in llm_calls.  A model that stays overloaded (529) leaves the
# answer to the rules engine, marked degraded, exit 0.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
fake_start -t "$TOKEN"
export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
export SALESLINE_NOW=2026-12-01T00:00:00Z LLM_BASE_URL="$FAKE_URL"
export SALESLINE_HTTP_BACKOFF_SCALE=0.01

q() {
	salesline-db --db "$DB" query "$@"
}

say() { # TEXT: the prospect writes; the agent answers into $T/r
	printf '{"message":{"chat":{"id":880011223,"type":"private"},"from":{"id":880011223,"first_name":"Olga","language_code":"ru"},"text":"%s"}}\n' \
		"$1" | curl -s --data-binary @- \
		"$FAKE_URL/_fake/telegram/updates" >/dev/null
	st=0
	tg-fetch --db "$DB" 2>"$T/fe" |
		agent-reply --db "$DB" --no-debounce >"$T/r" 2>"$T/re" || st=$?
}

script() {
	printf '%s\n' \
		'{"tool":"get_free_slots","input":{"rep":"anna","days":2,"limit":2}}' \
		"{\"tool\":\"book_meeting\",\"input\":{\"rep\":\"anna\",\"prospect\":\"$1\",\"email\":\"olga@example.com\",\"start\":\"2026-12-01T02:00:00Z\"}}" \
		'{"text":"Встреча назначена на вторник, 10:00. Приглашение со ссылкой отправлено Вам на почту."}' |
		curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
}

model() { # PROVIDER
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	# the prospect exists once the first message is stored
	printf '{"message":{"chat":{"id":880011223,"type":"private"},"from":{"id":880011223,"first_name":"Olga","language_code":"ru"},"text":"Здравствуйте"}}\n' |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
	tg-fetch --db "$DB" >/dev/null 2>&1
	p=$(q "SELECT id FROM prospects" | jq -r .id)
	script "$p"
	say "Запишите меня на встречу, мой адрес olga@example.com"
	check_exit "[$1] exit 0" 0 test "$st" -eq 0
	check_grep "[$1] the model's answer is sent" \
		'"type":"message.out".*Приглашение со ссылкой' "$T/r"
	check_no_grep "[$1] not degraded" '"degraded"' "$T/r"
	q "SELECT status, provider FROM bookings" >"$T/p"
	check_json "[$1] zoom-book booked the slot the model chose" \
		'{"status":"booked","provider":"jitsi"}' "$T/p"
	curl -s "$FAKE_URL/_fake/llm/requests" >"$T/req"
	check_exit "[$1] three model calls" 0 test "$(wc -l <"$T/req")" -eq 3
	check_no_grep "[$1] the emulator refused none" '"status":4' "$T/req"
	if [ "$1" = anthropic ]; then
		jq -c '.body.messages[-1].content[0] | {type, ok: (.content | test("join_url"))}' \
			"$T/req" | tail -n 1 >"$T/x"
		check_json "[$1] the booking went back as a tool_result" \
			'{"type":"tool_result","ok":true}' "$T/x"
	else
		jq -c '.body.messages[-1] | {role, ok: (.content | test("join_url"))}' \
			"$T/req" | tail -n 1 >"$T/x"
		check_json "[$1] the booking went back as a tool message" \
			'{"role":"tool","ok":true}' "$T/x"
	fi
	q "SELECT count(*) AS n FROM llm_calls WHERE status = 'ok'
		AND provider = '$1'" >"$T/p"
	check_json "[$1] every call is in llm_calls" '{"n":3}' "$T/p"
	check_no_grep "[$1] no key anywhere" 'test-key-1' "$T/re"
	q "SELECT count(*) AS n FROM llm_calls WHERE error LIKE '%test-key%'" \
		>"$T/p"
	check_json "[$1] nor in the ledger" '{"n":0}' "$T/p"
}

anthropic() {
	LLM_PROVIDER=anthropic ANTHROPIC_API_KEY=test-key-1 model anthropic
}
for_each_db anthropic

openai() {
	LLM_PROVIDER=openai OPENAI_API_KEY=test-key-1 model openai
}
for_each_db openai

outage() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	curl -s -d '{"path":"*/v1/messages","status":529,"body":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	LLM_PROVIDER=anthropic ANTHROPIC_API_KEY=test-key-1 say "Здравствуйте"
	check_exit "529 for ever: exit 0" 0 test "$st" -eq 0
	check_grep "the rules engine answers" '"type":"message.out"' "$T/r"
	check_grep "marked degraded" '"degraded":true' "$T/r"
	check_grep "and said on stderr" 'the model failed' "$T/re"
	q "SELECT status FROM llm_calls" >"$T/p"
	check_json "the failed call is logged" '{"status":"error"}' "$T/p"
}
for_each_db outage

done_testing
