#!/bin/sh
# tests/5000-score-conv.t: score-conv tells a good conversation from bad
# ones: a hand-written transcript that books a meeting by the method
# scores 100, and copies that each break one rule (an em dash, «ты», four
# sentences, a booking without an e-mail, a message after a human took
# over, a follow-up after the client wrote) get that violation and a lower
# total.  Also: many conversations in a stream, a real conversation of the
# rules agent exported from the ledger (SQLite and PostgreSQL), bad lines,
# output errors, the Markdown and HTML reports, and --judge against the
# emulated model, reachable and not.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

FIX=$TESTS_DIR/fixtures/score
jq -c . "$FIX/good.json" >"$T/good.jsonl"

check_exit "--help exits 0" 0 score-conv --help
check_grep "--help prints the usage" '^usage: score-conv' "$T/out"
check_exit "a bad option exits 64" 64 score-conv --bogus
check_exit "a bad --report exits 64" 64 score-conv --report pdf
check_exit "-o without --report exits 64" 64 score-conv -o "$T/x"
check_exit "no skills exits 78" 78 \
	env SALESLINE_HOME="$T/none" score-conv </dev/null
check_grep "and says where it looked" "skills '$T/none/skills'" "$T/err"
check_exit "--judge without a model exits 78" 78 score-conv --judge </dev/null
check_grep "and says what to set" 'LLM_PROVIDER' "$T/err"

# --- a good conversation -------------------------------------------------
check_exit "the good transcript: exit 0" 0 score-conv "$T/good.jsonl"
cp "$T/out" "$T/good.score"
jq -c '{type, conversation, scenario, total, n: (.violations | length),
	outcome, expected_met}' "$T/good.score" >"$T/x"
check_json "scores 100 with no violation, booked with an e-mail" \
	'{"type":"score","conversation":"good","scenario":"booking","total":100,"n":0,"outcome":{"booked":true,"email":true,"followup":false,"escalated":false},"expected_met":true}' \
	"$T/x"
jq -c '.qualification' "$T/good.score" >"$T/x"
check_json "every BANT slot asked and learned" \
	'{"asked":["need","budget","authority","timeline"],"learned":["need","budget","authority","timeline"]}' \
	"$T/x"
jq -c '.timing | {responses, p50, p95, p99, replies_per_burst}' \
	"$T/good.score" >"$T/x"
check_json "response times in seconds" \
	'{"responses":7,"p50":15,"p95":20,"p99":20,"replies_per_burst":1}' "$T/x"
GOOD=$(jq .total "$T/good.score")

# broken NAME RULE PART JQ: the good transcript changed by JQ gets RULE
# in PART and a lower total than the good one.
broken() {
	jq -c "$4" "$T/good.jsonl" >"$T/bad.jsonl"
	check_exit "$1: exit 0" 0 score-conv "$T/bad.jsonl"
	jq -c "[.violations[] | select(.rule == \"$2\") | .part] | unique" \
		"$T/out" >"$T/x"
	check_json "$1: $2 is reported" "[\"$3\"]" "$T/x"
	check_exit "$1: the total drops" 0 \
		test "$(jq .total "$T/out")" -lt "$GOOD"
}
broken "an em dash" em_dash tone \
	'.messages[3].text |= sub("Понятно, спасибо."; "Понятно — спасибо.")'
broken "«ты»" ty_form tone \
	'.messages[7].text = "Когда тебе хотелось бы запустить CRM?"'
broken "four sentences" sentences tone \
	'.messages[3].text = "Понятно, спасибо. Это частая задача. Мы с ней помогаем. Подскажите, на какой бюджет Вы ориентируетесь?"'
broken "a booking without an e-mail" booking_without_email outcome \
	'del(.events[0].email)'
broken "a booking before the e-mail" booking_without_email outcome \
	'.events[0].at = "2026-12-01T09:05:30Z"'
broken "a message after a takeover" message_after_takeover outcome \
	'.events += [{"event":"takeover","at":"2026-12-01T09:05:30Z"}]'
broken "a follow-up after the client wrote" followup_after_client_wrote \
	outcome '.messages += [
	  {"dir":"in","text":"Спасибо, до встречи","at":"2026-12-01T09:10:00Z"},
	  {"dir":"out","text":"Пожалуйста. Если появятся вопросы, пишите.","at":"2026-12-01T09:10:10Z"},
	  {"dir":"out","kind":"followup","text":"Добрый день. Как и договаривались, пишу насчёт встречи. Появились ли у Вас вопросы?","at":"2026-12-01T09:30:00Z"}]
	| .events += [{"event":"followup","status":"scheduled","at":"2026-12-01T09:06:20Z","due":"2026-12-01T09:30:00Z"}]
	| .expected.followup = true'
broken "a slow reply" slow_reply timing \
	'.messages |= (to_entries | map(if .key >= 3
		then .value.at |= (fromdate + 600 | todate) else . end | .value))
	| .events[0].at |= (fromdate + 600 | todate)'
broken "two BANT questions at once" stacked_questions qualification \
	'.messages[3].text = "Подскажите бюджет и кто принимает решение?"'
broken "an invented price" invented_price tone \
	'.messages[9].text = "Пакет стоит 99 999 ₽. Обсудим на встрече 2 декабря в 10:00?"'
broken "the escalation the scenario needed" escalation_missing outcome \
	'.expected.escalated = true'

jq -c '.messages[3].text |= sub("Понятно, спасибо."; "Понятно — спасибо.")' \
	"$T/good.jsonl" | score-conv >"$T/x"
jq -c '.violations[0] | {rule, message, at, severity}' "$T/x" >"$T/y"
check_json "a violation names the message and the byte offset" \
	'{"rule":"em_dash","message":3,"at":15,"severity":"error"}' "$T/y"

# --- many conversations, bad lines, output errors -------------------------
{
	cat "$T/good.jsonl"
	jq -c '.id = "second" | .scenario = "other"' "$T/good.jsonl"
	jq -c '.id = 3' "$T/good.jsonl"
} >"$T/three.jsonl"
check_exit "three conversations: exit 0" 0 score-conv <"$T/three.jsonl"
jq -r .conversation "$T/out" | tr '\n' ' ' >"$T/x"
check_grep "one score line each, in order, ids as strings" '^good second 3 $' \
	"$T/x"

{
	cat "$T/good.jsonl"
	echo '{"type":"conversation","id":"x",'
	jq -c '.id = "t1" | .messages[1].dir = 5' "$T/good.jsonl"
	jq -c '.id = "t2" | .messages = "none"' "$T/good.jsonl"
	jq -c '.id = "t3" | .messages[2].at = "yesterday"' "$T/good.jsonl"
	jq -c '.id = "t4" | .events[0].event = "party"' "$T/good.jsonl"
	jq -c '.id = "t5" | .expected.booked = "yes"' "$T/good.jsonl"
	jq -c 'del(.id)' "$T/good.jsonl"
	echo '{"type":"message.in","prospect":"9","text":"hi"}'
	echo '[1,2]'
	jq -c '.id = "last"' "$T/good.jsonl"
} >"$T/bad.jsonl"
check_exit "bad lines: exit 1" 1 score-conv <"$T/bad.jsonl"
jq -r .conversation "$T/out" | tr '\n' ' ' >"$T/x"
check_grep "the good lines around them are scored" '^good last $' "$T/x"
check_grep "malformed JSON: the line is named" '^score-conv: stdin:2: ' \
	"$T/err"
check_grep "a wrong type: the field is named" \
	"stdin:3: 'messages\[1\].dir': expected \"in\" or \"out\"" "$T/err"
check_grep "messages not an array" "stdin:4: 'messages': expected an array" \
	"$T/err"
check_grep "a bad time" "stdin:5: 'messages\[2\].at': expected an RFC 3339" \
	"$T/err"
check_grep "an unknown event" "stdin:6: 'events\[0\].event': expected" \
	"$T/err"
check_grep "a bad expected outcome" \
	"stdin:7: 'expected.booked': expected true or false" "$T/err"
check_grep "no id" "stdin:8: 'id': missing" "$T/err"
check_grep "an export record out of place" \
	"stdin:9: a 'message.in' record before any prospect" "$T/err"
check_grep "not an object" '^score-conv: stdin:10: ' "$T/err"
check_no_grep "no message text in the diagnostics" 'Заявки' "$T/err"

check_exit "stdout on /dev/full exits 74" 74 \
	sh -c 'score-conv <"$1" >/dev/full' sh "$T/three.jsonl"
check_grep "and says so" '^score-conv: .*(write|space)' "$T/err"
check_exit "a missing file exits 74" 74 score-conv "$T/nonesuch"
check_grep "naming it" "cannot open '$T/nonesuch'" "$T/err"

# --- an export of the ledger: the rules agent's own conversation ---------
TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
fake_start -t "$TOKEN"
export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
export SALESLINE_NOW=2026-12-01T00:00:00Z SALESLINE_HTTP_BACKOFF_SCALE=0.01

# say TEXT: the prospect writes a minute after the last turn, and the
# pipeline answers 12 seconds later on the virtual clock
T0=$(date -u -d 2026-12-01T00:00:00Z +%s)
turn=0
say() {
	turn=$((turn + 1))
	printf '{"message":{"date":%s,"chat":{"id":880011223,"type":"private"},"from":{"id":880011223,"first_name":"Olga","language_code":"ru"},"text":"%s"}}\n' \
		$((T0 + 60 * turn)) "$1" | curl -s --data-binary @- \
		"$FAKE_URL/_fake/telegram/updates" >/dev/null
	SALESLINE_NOW=$((T0 + 60 * turn + 12))
	export SALESLINE_NOW
	tg-fetch --db "$DB" 2>/dev/null |
		agent-reply --db "$DB" --no-debounce 2>/dev/null |
		tg-send --db "$DB" --no-delay >/dev/null 2>&1 || true
}

exported() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	turn=0
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		--display-name "Анна" >/dev/null
	for w in "Здравствуйте" \
		"Нам нужна CRM для отдела продаж, у нас 20 менеджеров" \
		"Бюджет около 300 тысяч" "Решаю я" \
		"Хотим начать в январе" "Давайте первый вариант" \
		"olga@example.com"; do
		say "$w"
	done
	p=$(salesline-db --db "$DB" query "SELECT id FROM prospects" | jq -r .id)
	salesline-db --db "$DB" export --prospect "$p" >"$T/export.jsonl"
	check_exit "an export: exit 0" 0 score-conv "$T/export.jsonl"
	jq -c "{conversation, booked: .outcome.booked, email: .outcome.email,
		tone: .parts.tone, learned: .qualification.learned}" "$T/out" >"$T/x"
	check_json "booked with an e-mail, clean tone, BANT from the ledger" \
		"{\"conversation\":\"$p\",\"booked\":true,\"email\":true,\"tone\":100,\"learned\":[\"need\",\"budget\",\"authority\",\"timeline\"]}" \
		"$T/x"
	jq -r '.violations[].rule' "$T/out" >"$T/x"
	check_no_grep "no outcome or timing violation" \
		'booking_without|message_after|no_outcome|no_reply|flood|slow' "$T/x"
	jq -c '.timing | {p50, bursts, replies_per_burst}' "$T/out" >"$T/x"
	check_json "one reply 12 s after each message" \
		'{"p50":12,"bursts":7,"replies_per_burst":1}' "$T/x"
	# two exports in one stream, and a stray record of another prospect
	{
		cat "$T/export.jsonl"
		jq -c 'if .type == "prospect" then .prospect = "77" else .prospect = "77" end' \
			"$T/export.jsonl"
		printf '{"type":"message.in","prospect":"%s","text":"x"}\n' "$p"
	} >"$T/two.jsonl"
	check_exit "two exports and a stray line: exit 1" 1 \
		score-conv "$T/two.jsonl"
	check_grep "the stray line is named" \
		"two.jsonl:[0-9]+: 'prospect': not the prospect '77'" "$T/err"
	check_exit "two score lines" 0 test "$(wc -l <"$T/out")" -eq 2
}
for_each_db exported

# --- reports --------------------------------------------------------------
{
	cat "$T/good.jsonl"
	jq -c '.id = "dash" | .scenario = "tone"
		| .messages[3].text |= sub("Понятно, спасибо."; "Понятно — спасибо.")' \
		"$T/good.jsonl"
	jq -c '.id = "xss" | .scenario = "<b>odd</b>"
		| .messages[0].text = "<script>alert(1)</script> & \"q\""' \
		"$T/good.jsonl"
} >"$T/r.jsonl"
printf '%s\n' '{"type":"score","conversation":"a","total":60}' \
	'{"type":"score","conversation":"b","total":80}' >"$T/prev1.jsonl"
check_exit "--report md: exit 0" 0 score-conv --report md \
	--previous "$T/prev1.jsonl" "$T/r.jsonl"
cp "$T/out" "$T/r.md"
for h in '^# Conversation scores' '^## Scenarios' '^## Charts' \
	'^### Score distribution' '^### Response times' '^### Trend' \
	'^## Conversations' '^### dash · tone · '; do
	check_grep "md has $h" "$h" "$T/r.md"
done
check_exit "md: one <svg> per chart" 0 test "$(grep -o '<svg' "$T/r.md" | wc -l)" -eq 3
check_grep "md: the scenario table" '^\| tone \| 1 \| ' "$T/r.md"
check_grep "md: the em dash is marked" '<mark>—</mark>' "$T/r.md"
check_grep "md: and explained" '\*\*em\\_dash\*\* \(tone\)' "$T/r.md"
check_grep "md: the earlier run is in the trend" 'prev1.jsonl' "$T/r.md"
check_no_grep "md: no score lines" '"type":"score"' "$T/r.md"
check_no_grep "md: no raw HTML from the input" '<script>|<b>odd' "$T/r.md"

check_exit "--report html -o FILE: exit 0" 0 score-conv --report html \
	-o "$T/r.html" --previous "$T/prev1.jsonl" "$T/r.jsonl"
check_exit "the score lines still go to stdout" 0 test "$(wc -l <"$T/out")" -eq 3
for h in '<!DOCTYPE html>' '<h1>Conversation scores</h1>' \
	'<h2>Scenarios</h2>' '<h2>Charts</h2>' '<h3>Score distribution</h3>' \
	'<h3>Response times</h3>' '<h3>Trend</h3>' '<h2>Conversations</h2>'; do
	check_grep "html has $h" "$h" "$T/r.html"
done
check_exit "html: one <svg> per chart" 0 \
	test "$(grep -o '<svg' "$T/r.html" | wc -l)" -eq 3
check_grep "html: the input is escaped" \
	'&lt;script&gt;alert\(1\)&lt;/script&gt; &amp; &quot;q&quot;' "$T/r.html"
check_grep "html: so is the scenario" '&lt;b&gt;odd&lt;/b&gt;' "$T/r.html"
check_no_grep "html: no script, nothing fetched" \
	'<script|<link|src=|@import|url\(' "$T/r.html"
check_grep "html: the em dash is marked" '<mark>—</mark>' "$T/r.html"
if command -v xmllint >/dev/null 2>&1; then
	ok "html: every SVG is well-formed XML" sh -c \
		'grep -o "<svg.*</svg>" "$1" | while read -r s; do printf "%s" "$s" | xmllint --noout - || exit 1; done' \
		sh "$T/r.html"
else
	skip "html: every SVG is well-formed XML" "no xmllint"
fi
check_exit "a report to /dev/full exits 74" 74 \
	sh -c 'score-conv --report md <"$1" >/dev/full' sh "$T/r.jsonl"
check_exit "a report to a missing directory exits 74" 74 \
	score-conv --report html -o "$T/no/r.html" "$T/r.jsonl"
check_grep "naming it" "cannot create '$T/no/r.html'" "$T/err"

# --- the judge ------------------------------------------------------------
export LLM_BASE_URL="$FAKE_URL" LLM_PROVIDER=anthropic \
	ANTHROPIC_API_KEY=test-key-5000
curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
printf '%s\n' '{"text":"{\"score\": 60, \"rationale\": \"polite, booked\"}"}' |
	curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
check_exit "--judge: exit 0" 0 score-conv --judge "$T/good.jsonl"
jq -c '{total, deterministic, judge: (.judge | {score, rationale})}' "$T/out" \
	>"$T/x"
check_json "the judge's score apart, and 20% of the total" \
	'{"total":92,"deterministic":100,"judge":{"score":60,"rationale":"polite, booked"}}' \
	"$T/x"
curl -s "$FAKE_URL/_fake/llm/requests" >"$T/req"
check_grep "the model saw the transcript" 'Заявки теряются' "$T/req"
check_exit "one call per conversation" 0 test "$(wc -l <"$T/req")" -eq 1

printf '%s\n' '{"text":"I like it"}' |
	curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
check_exit "an answer without a score exits 69" 69 score-conv --judge \
	"$T/good.jsonl"
check_exit "with the deterministic total" 0 test "$(jq .total "$T/out")" -eq 100

check_exit "an unreachable model exits 75" 75 \
	env LLM_BASE_URL=http://127.0.0.1:1 score-conv --judge "$T/three.jsonl"
check_grep "with a warning" "warning: conversation 'good': the judge failed" \
	"$T/err"
check_no_grep "no key in the diagnostics" 'test-key-5000' "$T/err"
cp "$T/out" "$T/j"
jq -c '{total, e: (.judge.error | length > 0)}' "$T/j" | head -n 1 >"$T/x"
check_json "deterministically" '{"total":100,"e":true}' "$T/x"
check_grep "the model is not asked again" 'not asked: the model failed' "$T/j"
check_exit "every conversation still scored" 0 test "$(wc -l <"$T/j")" -eq 3

done_testing
