#!/bin/sh
# tests/2000-agent-reply.t: agent-reply with the rules engine behind the
# real pipeline (the Telegram emulator, tg-fetch, and the tools cal-free,
# zoom-book and schedule-due), on SQLite and PostgreSQL: a cooperative
# Russian prospect from "Здравствуйте" to a booked meeting with its link,
# a follow-up a week ahead, a burst answered once, a replay answered
# never, a human who took the chat, an escalation, --pending, bad lines,
# configuration and output errors.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9

check_exit "--help exits 0" 0 agent-reply --help
check_grep "--help prints the usage" '^usage: agent-reply' "$T/out"
check_exit "a bad option exits 64" 64 agent-reply --bogus
check_exit "a bad --debounce exits 64" 64 agent-reply --debounce x
check_exit "a bad SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon agent-reply --db "$T/c.db" </dev/null
check_exit "no skills exits 78" 78 \
	env SALESLINE_HOME="$T/none" agent-reply --db "$T/c.db" </dev/null
check_grep "and says where it looked" "skills '$T/none/skills'" "$T/err"
check_exit "unreachable PostgreSQL exits 75" 75 \
	agent-reply --db postgres://u:pw-secret-5@127.0.0.1:1/x </dev/null
check_no_grep "the password is never shown" 'pw-secret-5' "$T/err"

fake_start -t "$TOKEN"
export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
export SALESLINE_NOW=2026-12-01T00:00:00Z

q() {
	salesline-db --db "$DB" query "$@"
}

# say TEXT [CHAT]: the prospect writes; tg-fetch stores it and the agent
# answers; the records in $T/r, stderr in $T/re, all replies in $T/all
say() {
	case ${2:-880011223} in
	99*) _who='"first_name":"John","language_code":"en"' ;;
	*) _who='"first_name":"Olga","language_code":"ru"' ;;
	esac
	printf '{"message":{"chat":{"id":%s,"type":"private"},"from":{"id":%s,%s},"text":"%s"}}\n' \
		"${2:-880011223}" "${2:-880011223}" "$_who" "$1" |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
	tg-fetch --db "$DB" 2>"$T/fe" |
		agent-reply --db "$DB" --no-debounce >"$T/r" 2>"$T/re" || true
	jq -r 'select(.type == "message.out") | .text' "$T/r" >>"$T/all"
}

replies() {
	grep -c '"type":"message.out"' "$T/r" || true
}

pid() { # CHAT: the prospect's ledger id
	q "SELECT id FROM prospects WHERE chat = '$1'" | jq -r .id
}

talk() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	: >"$T/all"
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		--display-name "Анна" --tg-user 5550001 >/dev/null
	say "Здравствуйте"
	check_exit "a greeting is answered once" 0 test "$(replies)" -eq 1
	check_grep "asking what the prospect needs" 'задачу|нужн|CRM' "$T/all"
	jq -r 'select(.type == "message.out") | .key' "$T/r" >"$T/k"
	check_grep "under a key of the burst" "^reply:$(pid 880011223):[0-9]+\$" \
		"$T/k"
	say "Нам нужна CRM для отдела продаж, у нас 20 менеджеров"
	say "Бюджет около 300 тысяч"
	q "SELECT budget FROM prospects" >"$T/p"
	check_grep "the need and the budget are in the ledger" \
		'"budget":"300000"' "$T/p"
	say "Решение принимаю я"
	say "Хотим начать в январе"
	check_grep "free slots of Anna's are offered" '10:00-10:30 WITA' "$T/r"
	say "Давайте первый вариант"
	check_grep "an e-mail is asked before booking" 'e-mail' "$T/r"
	q "SELECT count(*) AS n FROM bookings" >"$T/p"
	check_json "and nothing is booked yet" '{"n":0}' "$T/p"
	say "olga@example.com"
	check_grep "the meeting is confirmed with its link" \
		'https://meet.jit.si/salesline-[a-z2-9]{24}' "$T/r"
	q "SELECT status, provider, email FROM bookings" >"$T/p"
	check_json "the booking is in the ledger" \
		'{"status":"booked","provider":"jitsi","email":"olga@example.com"}' \
		"$T/p"
	q "SELECT stage, email FROM prospects" >"$T/p"
	check_json "the prospect is booked" \
		'{"stage":"booked","email":"olga@example.com"}' "$T/p"
	say "Напишите мне через неделю"
	q "SELECT kind, due, status FROM scheduled_actions WHERE kind = 'followup'" \
		>"$T/p"
	check_json "a follow-up a week ahead, at the same time of day" \
		"{\"kind\":\"followup\",\"due\":$(date -u -d 2026-12-08T00:00:00Z +%s),\"status\":\"pending\"}" \
		"$T/p"
	check_no_grep "no reply has an em-dash" '—' "$T/all"
	check_no_grep "or says ты" '(^|[^а-яё])(ты|тебя|тебе|твой)([^а-яё]|$)' \
		"$T/all"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in' AND
		status <> 'answered'" >"$T/p"
	check_json "every message is answered" '{"n":0}' "$T/p"

	# the same records again: nothing is answered twice
	tg-fetch --db "$DB" --pending >/dev/null 2>&1 || true
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'" >"$T/p"
	printf '{"type":"message.in","prospect":"%s","chat":"880011223"}\n' \
		"$(pid 880011223)" |
		agent-reply --db "$DB" --no-debounce >"$T/r" 2>"$T/re" || true
	check_exit "a replayed record gets no second reply" 0 \
		test "$(replies)" -eq 0

	# a burst of three is one turn
	for w in "Ещё вопрос" "сколько стоит пакет Рост" "и что в него входит"; do
		printf '{"message":{"chat":{"id":880011224,"type":"private"},"from":{"id":880011224,"first_name":"Ivan","language_code":"ru"},"text":"%s"}}\n' "$w"
	done | curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
		>/dev/null
	tg-fetch --db "$DB" 2>/dev/null |
		agent-reply --db "$DB" --debounce 0.5 >"$T/r" 2>"$T/re" || true
	check_exit "a burst of three messages: one reply" 0 \
		test "$(replies)" -eq 1
	check_grep "from the knowledge base's prices" '290 000 ₽' "$T/r"

	# a human took the chat over: silence
	rep-admin --db "$DB" takeover --prospect "$(pid 880011224)" on >/dev/null
	say "Алло, есть кто?" 880011224
	check_exit "a human has the chat: no reply" 0 test "$(replies)" -eq 0
	q "SELECT status FROM messages WHERE direction = 'in' AND
		prospect_id = $(pid 880011224) ORDER BY id DESC LIMIT 1" >"$T/p"
	check_json "the message is closed as ignored" '{"status":"ignored"}' \
		"$T/p"

	say "Позовите человека, пожалуйста" 880011225
	check_grep "an escalation record" \
		"\"type\":\"escalation\".*\"prospect\":\"$(pid 880011225)\"" "$T/r"
	check_exit "with a short honest message" 0 \
		test "$(grep -c '"type":"message.out","channel":"telegram","bot":"7000000001","chat":"880011225"' "$T/r")" -eq 1
	jq -c 'select(.to == "rep") | {chat, bot, to,
		ok: (.text | test("просит живого человека"))}' "$T/r" >"$T/p"
	check_json "and the rep is told in the bot's chat with them" \
		'{"chat":"5550001","bot":"7000000001","to":"rep","ok":true}' "$T/p"
	q "SELECT CASE WHEN escalated_at IS NULL THEN 0 ELSE 1 END AS e
		FROM prospects WHERE chat = '880011225'" >"$T/p"
	check_json "the prospect is marked" '{"e":1}' "$T/p"
	say "Ну где же человек?" 880011225
	check_exit "a second escalation does not tell the rep again" 0 \
		test "$(grep -c '"to":"rep"' "$T/r")" -eq 0
	rep-admin --db "$DB" takeover --prospect "$(pid 880011225)" on >/dev/null
	rep-admin --db "$DB" takeover --prospect "$(pid 880011225)" off \
		>/dev/null
	q "SELECT count(*) AS n FROM prospects WHERE chat = '880011225'
		AND escalated_at IS NULL" >"$T/p"
	check_json "handing the chat back ends the escalation" '{"n":1}' "$T/p"

	printf '{"message":{"chat":{"id":880011226,"type":"private"},"from":{"id":880011226,"first_name":"Pavel","language_code":"ru"},"text":"Добрый день"}}\n' |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
	tg-fetch --db "$DB" >/dev/null 2>&1
	check_exit "--pending answers what the pipe lost" 0 \
		agent-reply --db "$DB" --pending </dev/null
	check_grep "the stored message is answered" \
		"\"prospect\":\"$(pid 880011226)\"" "$T/out"
}
for_each_db talk

english() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	: >"$T/all"
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		--display-name Anna >/dev/null
	for w in "Hello" "We need a CRM for our sales team of 15 people" \
		"Our budget is about 150000 roubles" "I am the CEO, I decide" \
		"We want to start next month" "The second one works"; do
		say "$w" 990011223
	done
	check_grep "[en] an English prospect is answered in English" \
		'^Hello John|^Hello' "$T/all"
	check_no_grep "[en] never in Russian" '[а-яА-Я]' "$T/all"
	check_grep "[en] the offer survives a timeline past the horizon" \
		'e-mail' "$T/r"
	say "john@example.com" 990011223
	check_grep "[en] the second slot is booked, with its link" \
		'booked for Tue 1 Dec 10:30-11:00 WITA.*https://meet.jit.si/' "$T/r"
	q "SELECT status, email FROM bookings" >"$T/p"
	check_json "[en] the booking is in the ledger" \
		'{"status":"booked","email":"john@example.com"}' "$T/p"
}
for_each_db english

input() {
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	printf '%s\n' 'not json' '{"type":"message.in","prospect":"x"}' \
		'{"type":"other","keep":1}' >"$T/in"
	check_exit "bad lines: exit 1" 1 sh -c \
		"agent-reply --db '$DB' --no-debounce <'$T/in'"
	check_grep "a line that is not JSON is named" '^agent-reply: stdin:1: ' \
		"$T/err"
	check_grep "a wrong prospect names the field" \
		"^agent-reply: stdin:2: 'prospect'" "$T/err"
	check_grep "other records pass through" '"type":"other","keep":1' \
		"$T/out"
	check_exit "output errors exit 74" 74 sh -c \
		"echo '{\"type\":\"other\"}' | agent-reply --db '$DB' >/dev/full"
}
for_each_db input

# A follow-up that comes due when a person has the chat gets no message,
# and its action is closed at once, not left claimed until its lease.
quiet_followup() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	say "Здравствуйте"
	say "Напишите мне через неделю"
	SALESLINE_NOW=2026-12-08T01:00:00Z schedule-due --db "$DB" --due \
		>"$T/due" 2>/dev/null
	check_grep "the follow-up is due" '"type":"followup.due"' "$T/due"
	q "UPDATE prospects SET human_active = 1" >/dev/null
	st=0
	agent-reply --db "$DB" <"$T/due" >"$T/r" 2>"$T/re" || st=$?
	check_exit "a person has the chat: exit 0" 0 test "$st" -eq 0
	check_exit "no message" 0 test "$(replies)" -eq 0
	q "SELECT status, cancel_reason FROM scheduled_actions
		WHERE kind = 'followup'" >"$T/p"
	check_json "the action is cancelled at once" \
		'{"status":"cancelled","cancel_reason":"human_takeover"}' "$T/p"
}
for_each_db quiet_followup

# The reply is in the ledger before it is on stdout: when the sender dies
# before it reads the record, tg-send --pending sends it, once.
queued() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	say "Здравствуйте"
	key=$(jq -r 'select(.type == "message.out") | .key' "$T/r")
	q "SELECT status, CASE WHEN text IS NULL THEN 0 ELSE 1 END AS t FROM messages
		WHERE direction = 'out' AND key = '$key'" >"$T/p"
	check_json "the reply waits in the ledger, queued" \
		'{"status":"queued","t":1}' "$T/p"
	check_exit "tg-send --pending, with no input" 0 \
		tg-send --db "$DB" --pending --no-delay --chat-interval 0 </dev/null
	curl -s "$FAKE_URL/_fake/telegram/sent" | jq -r .text >"$T/sent"
	check_exit "sends it" 0 test "$(grep -c . "$T/sent")" -eq 1
	jq -c 'select(.type == "message.out")' "$T/r" |
		tg-send --db "$DB" --no-delay --chat-interval 0 >"$T/o" 2>&1 || :
	curl -s "$FAKE_URL/_fake/telegram/sent" | jq -r .text >"$T/sent"
	check_exit "and the record read late sends nothing twice" 0 \
		test "$(grep -c . "$T/sent")" -eq 1
}
for_each_db queued

done_testing
