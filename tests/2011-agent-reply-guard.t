#!/bin/sh
# tests/2011-agent-reply-guard.t: what agent-reply does with a model's
# reply before a prospect reads it, on SQLite and PostgreSQL, against the
# emulated Anthropic API:
#   - a reply with a discount the knowledge base does not name is sent
#     back to the model once, with the reason; the second, clean reply
#     goes out, not degraded, and both calls are in llm_calls;
#   - a model that breaks the rules twice leaves the answer to the rules
#     engine, marked degraded;
#   - a long conversation reaches the model trimmed to LLM_HISTORY_TOKENS,
#     the older part summarised in the system prompt, the prospect first;
#   - a message that comes while the reply is being composed is claimed
#     and the reply composed again: one reply, whose key covers both;
#   - the model may call escalate_to_human: the escalation record, the
#     prospect marked, the model's short message sent.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
fake_start -t "$TOKEN"
export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
export SALESLINE_NOW=2026-12-01T00:00:00Z LLM_BASE_URL="$FAKE_URL"
export SALESLINE_HTTP_BACKOFF_SCALE=0.01
export LLM_PROVIDER=anthropic ANTHROPIC_API_KEY=test-key-2

q() {
	salesline-db --db "$DB" query "$@"
}

inject() { # TEXT: the prospect's message reaches the emulator
	printf '{"message":{"chat":{"id":880022334,"type":"private"},"from":{"id":880022334,"first_name":"Irina","language_code":"ru"},"text":"%s"}}\n' \
		"$1" | curl -s --data-binary @- \
		"$FAKE_URL/_fake/telegram/updates" >/dev/null
}

say() { # TEXT: the prospect writes; the agent answers into $T/r
	inject "$1"
	st=0
	tg-fetch --db "$DB" 2>"$T/fe" |
		agent-reply --db "$DB" --no-debounce >"$T/r" 2>"$T/re" || st=$?
}

script() { # TEXT...: what the model answers, one text a call
	for t in "$@"; do
		jq -cn --arg t "$t" '{text: $t}'
	done | curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
}

setup() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	kb-index --db "$DB" >/dev/null 2>&1 || true
}

regenerate() {
	setup
	script "Для Вас сделаем скидку 30% до пятницы." \
		"При полной предоплате пакета действует скидка 5%."
	say "А скидку дадите?"
	check_exit "exit 0" 0 test "$st" -eq 0
	check_grep "the second, clean reply is sent" \
		'"type":"message.out".*скидка 5%' "$T/r"
	check_no_grep "not the invented discount" '30%' "$T/r"
	check_no_grep "not degraded" '"degraded"' "$T/r"
	check_grep "stderr says the model was asked once more" \
		'invented_discount.*asked once more' "$T/re"
	curl -s "$FAKE_URL/_fake/llm/requests" >"$T/req"
	check_exit "two model calls" 0 test "$(wc -l <"$T/req")" -eq 2
	tail -n 1 "$T/req" | jq -c '.body.messages[-1] | {role,
		why: (.content | tostring | test("not the prospect.*invented_discount"))}' >"$T/x"
	check_json "the second call says what was wrong" \
		'{"role":"user","why":true}' "$T/x"
	q "SELECT purpose, status FROM llm_calls ORDER BY id" | jq -sc . >"$T/p"
	check_json "both calls are in llm_calls" \
		'[{"purpose":"reply","status":"ok"},{"purpose":"regenerate","status":"ok"}]' "$T/p"
}
for_each_db regenerate

twice() {
	setup
	script "Скидка 30% только для Вас." "Хорошо, скидка 25% за быстрое решение."
	say "Сделайте скидку"
	check_exit "twice wrong: exit 0" 0 test "$st" -eq 0
	check_grep "the rules engine answers" '"type":"message.out"' "$T/r"
	check_grep "marked degraded" '"degraded":true' "$T/r"
	check_no_grep "with neither discount" '(30|25)%' "$T/r"
	check_grep "stderr says why" 'breaks the rules again' "$T/re"
}
for_each_db twice

history() {
	setup
	script "Спасибо, что вернулись. Чем можем помочь сейчас?"
	inject "Здравствуйте"
	tg-fetch --db "$DB" >/dev/null 2>&1
	p=$(q "SELECT id FROM prospects" | jq -r .id)
	q "UPDATE messages SET status = 'answered' WHERE direction = 'in'" \
		>/dev/null
	q "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s
		WHERE i < 120)
		INSERT INTO messages (direction, prospect_id, chat, text, status,
			at, created_at, updated_at)
		SELECT CASE WHEN i % 2 = 0 THEN 'out' ELSE 'in' END, $p,
			'880022334', 'Старое сообщение номер ' || i ||
			', в котором довольно много слов о задачах компании и о сроках',
			CASE WHEN i % 2 = 0 THEN 'sent' ELSE 'answered' END,
			1764000000 + i * 60, 1764000000, 1764000000 FROM s" >/dev/null
	LLM_HISTORY_TOKENS=1000 say "Я снова здесь"
	check_exit "a long history: exit 0" 0 test "$st" -eq 0
	check_grep "the reply is sent" 'Чем можем помочь сейчас' "$T/r"
	curl -s "$FAKE_URL/_fake/llm/requests" | tail -n 1 >"$T/req"
	n=$(jq '.body.messages | length' "$T/req")
	check_exit "the history is trimmed ($n messages)" 0 \
		test "$n" -gt 5 -a "$n" -lt 40
	jq -r '.body.messages[0].role' "$T/req" >"$T/x"
	check_grep "the prospect speaks first" '^user$' "$T/x"
	jq -r '.body.messages[-1].content | if type == "string" then . else
		.[0].text end' "$T/req" >"$T/x"
	check_grep "the newest message is last" 'Я снова здесь' "$T/x"
	jq -r '.body.system | if type == "string" then . else
		map(.text) | join("") end' "$T/req" >"$T/x"
	check_grep "the older part is summarised" \
		'Earlier in the conversation' "$T/x"
	check_grep "with the count and the first words" \
		'earlier messages.*left out' "$T/x"
	check_grep "quoting the prospect" 'Старое сообщение номер 1,' "$T/x"
}
for_each_db history

race() {
	setup
	script "Здравствуйте, чем можем помочь?" \
		"Спасибо, адрес записали. Какая задача у Вас сейчас главная?"
	curl -s -d '{"path":"/v1/messages","times":1,"delay_ms":2000}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	inject "Здравствуйте"
	tg-fetch --db "$DB" >"$T/in1" 2>/dev/null
	agent-reply --db "$DB" --no-debounce <"$T/in1" >"$T/r" 2>"$T/re" &
	a=$!
	sleep 0.7
	inject "Мой адрес irina@example.com"
	tg-fetch --db "$DB" >/dev/null 2>&1
	st=0
	wait $a || st=$?
	check_exit "a message while composing: exit 0" 0 test "$st" -eq 0
	check_exit "one reply" 0 test "$(grep -c '"message.out"' "$T/r")" -eq 1
	check_grep "the one composed again" 'адрес записали' "$T/r"
	last=$(q "SELECT max(id) AS id FROM messages WHERE direction = 'in'" |
		jq -r .id)
	p=$(q "SELECT id FROM prospects" | jq -r .id)
	check_grep "its key covers the second message" \
		"\"key\":\"reply:$p:$last\"" "$T/r"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'
		AND status = 'answered' AND reply_key = 'reply:$p:$last'" >"$T/p"
	check_json "both messages are answered by it" '{"n":2}' "$T/p"
	curl -s "$FAKE_URL/_fake/llm/requests" | tail -n 1 |
		jq -r '.body.messages[-1].content | tostring' >"$T/x"
	check_grep "the second call read the new message" 'irina@' "$T/x"
}
for_each_db race

handover() {
	setup
	rep-admin --db "$DB" set anna --tg-user 5550002 >/dev/null
	inject "Здравствуйте"
	tg-fetch --db "$DB" >/dev/null 2>&1
	q "UPDATE messages SET status = 'answered'" >/dev/null
	p=$(q "SELECT id FROM prospects" | jq -r .id)
	printf '%s\n' \
		"{\"tool\":\"escalate_to_human\",\"input\":{\"prospect\":\"$p\",\"reason\":\"human_request\",\"summary\":\"Просит живого менеджера\"}}" \
		'{"text":"Передала Ваш вопрос менеджеру, он ответит Вам здесь."}' |
		curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
	say "Позовите, пожалуйста, живого человека"
	check_exit "the model hands over: exit 0" 0 test "$st" -eq 0
	check_grep "an escalation record for the rep" \
		'"type":"escalation".*"reason":"human_request"' "$T/r"
	check_grep "the prospect is told" 'ответит Вам здесь' "$T/r"
	jq -c 'select(.to == "rep") | {chat, ok: (.text |
		test("просит живого человека.*Просит живого менеджера"))}' \
		"$T/r" >"$T/x"
	check_json "the rep is told, with the model's summary" \
		'{"chat":"5550002","ok":true}' "$T/x"
	q "SELECT count(*) AS n FROM prospects WHERE escalated_at IS NOT NULL" \
		>"$T/p"
	check_json "the prospect is marked escalated" '{"n":1}' "$T/p"
	curl -s "$FAKE_URL/_fake/llm/requests" | head -n 1 |
		jq -c '[.body.tools[].name] | index("escalate_to_human") != null' \
		>"$T/x"
	check_json "the model is offered escalate_to_human" 'true' "$T/x"
}
for_each_db handover

done_testing
