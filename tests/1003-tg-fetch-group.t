#!/bin/sh
# tests/1003-tg-fetch-group.t: the updates of a batch are normalised
# together (one transaction, a savepoint each): a malformed update that
# had already changed the ledger is undone alone, the others around it
# are kept and written in update_id order, also across a callback (whose
# answer is a call to Telegram in the middle of the batch); a replay
# writes nothing.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

fake_start -t "$TOKEN"
TELEGRAM_BOT_TOKEN=$TOKEN
TELEGRAM_API_URL=$FAKE_URL
export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL

BC=QkNfZGVtb18wMDE
cat >"$T/batch" <<EOT
{"update_id":500,"business_connection":{"id":"$BC","user":{"id":500100200,"is_bot":false,"first_name":"Ivan","username":"ivan_sales"},"user_chat_id":500100200,"date":1767225000,"rights":{"can_reply":true},"is_enabled":true}}
{"update_id":501,"business_message":{"business_connection_id":"$BC","message_id":4021,"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"first_name":"Olga","type":"private"},"date":1767225660,"text":"keep me"}}
{"update_id":502,"message":{"message_id":1,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"date":1767225700,"text":"first"}}
{"update_id":503,"deleted_business_messages":{"business_connection_id":"$BC","chat":{"id":880011223,"first_name":"Olga","type":"private"},"message_ids":[4021,{}]}}
{"update_id":504,"message":{"message_id":2,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"date":1767225710,"text":"second"}}
{"update_id":505,"callback_query":{"id":"381144791","from":{"id":42,"is_bot":false,"first_name":"Ann"},"message":{"message_id":3,"chat":{"id":42,"type":"private","first_name":"Ann"},"date":1767225720,"text":"Pick:"},"chat_instance":"-1","data":"plan:1y"}}
{"update_id":506,"message":{"message_id":4,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"date":1767225730,"text":"third"}}
EOT

q() { # SQL: rows as JSON lines
	salesline-db --db "$DB" query "$1"
}

group() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	curl -s --data-binary @"$T/batch" "$FAKE_URL/_fake/telegram/updates" \
		>/dev/null
	check_exit "a batch with a malformed update: exit 1" 1 \
		tg-fetch --db "$DB"
	jq -c '[.update_id, .type, .text // .data // .rep]' "$T/out" >"$T/r"
	check_json "the others are written, in update_id order" '
		["500","rep.connection","ivan_sales"]
		["501","message.in","keep me"]
		["502","message.in","first"]
		["504","message.in","second"]
		["505","callback","plan:1y"]
		["506","message.in","third"]' "$T/r"
	check_grep "the malformed one is reported" \
		"^tg-fetch: update 503: 'deleted_business_messages.message_ids' holds" \
		"$T/err"
	q "SELECT status FROM messages WHERE msg = '4021'" >"$T/r"
	check_json "what it had changed is undone" '{"status":"new"}' "$T/r"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'" >"$T/r"
	check_json "every message is in the ledger once" '{"n":4}' "$T/r"
	q "SELECT count(*) AS n FROM updates WHERE processed_at IS NULL" >"$T/r"
	check_json "every update is processed" '{"n":0}' "$T/r"
	check_exit "the callback was answered" 0 test "$(jq -c \
		'select(.path | test("answerCallbackQuery"))' "$FAKE_LOG" |
		wc -l)" -eq 1
	curl -s --data-binary @"$T/batch" "$FAKE_URL/_fake/telegram/updates" \
		>/dev/null
	check_exit "the batch again" 0 tg-fetch --db "$DB"
	check_exit "a replay writes nothing" 0 test ! -s "$T/out"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'" >"$T/r"
	check_json "and stores nothing twice" '{"n":4}' "$T/r"
}
for_each_db group

done_testing
