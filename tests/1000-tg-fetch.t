#!/bin/sh
# tests/1000-tg-fetch.t: tg-fetch against the Telegram emulator: the
# reference updates end to end (direct and business chats, takeover, away
# message, bot echo, callback, deletion, edit, groups, blocking), follow-ups
# cancelled, replays without duplicates, --pending, malformed updates, the
# per-bot lock, 409 and --delete-webhook, and the error exits.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
FIX=$TESTS_DIR/fixtures
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

fake_start -t "$TOKEN"
TELEGRAM_BOT_TOKEN=$TOKEN
TELEGRAM_API_URL=$FAKE_URL
export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL

inject() { # FILE: updates as JSON lines into the bot's queue
	curl -s --data-binary @"$1" "$FAKE_URL/_fake/telegram/updates" \
		>"$T/inject.out"
}

# reap PID: waits for the child PID, killed after 30 s if need be;
# its exit status in $st
reap() {
	_r=0
	while [ $_r -lt 300 ]; do
		case $(ps -o stat= -p "$1" 2>/dev/null) in
		Z* | '') break ;;
		esac
		sleep 0.1
		_r=$((_r + 1))
	done
	[ $_r -lt 300 ] || kill -KILL "$1" 2>/dev/null || true
	st=0
	wait "$1" || st=$?
}

q() { # SQL: rows as JSON lines
	salesline-db --db "$DB" query "$1"
}

# wait_for CMD...: polls CMD for up to 20 s; 0 when it succeeded
wait_for() {
	_w=0
	while [ $_w -lt 400 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_w=$((_w + 1))
	done
	return 1
}

long_polls() { # how many long polls (timeout 50) the emulator received
	jq -c 'select(.json.timeout == 50)' "$FAKE_LOG" | wc -l
}

polled() { # N: more than N long polls arrived
	[ "$(long_polls)" -gt "$1" ]
}

recs() { # TYPE: the records of that type in $T/out, compact, sorted keys
	jq -cS "select(.type == \"$1\")" "$T/out"
}

# Usage and configuration, no ledger needed.
check_exit "--help exits 0" 0 tg-fetch --help
check_grep "--help prints the usage" '^usage: tg-fetch \[-v\] \[--db URL\]' \
	"$T/out"
check_exit "a bad option exits 64" 64 tg-fetch --bogus
check_grep "the bad option is named" "unknown option '--bogus'" "$T/err"
check_exit "--limit out of range exits 64" 64 tg-fetch --limit 101
check_exit "--timeout out of range exits 64" 64 tg-fetch --timeout x
check_exit "a missing token exits 78" 78 \
	env -u TELEGRAM_BOT_TOKEN tg-fetch --db "$T/c.db"
check_grep "the variable is named" 'TELEGRAM_BOT_TOKEN' "$T/err"
check_exit "a malformed token exits 78" 78 \
	env TELEGRAM_BOT_TOKEN=nonsense tg-fetch --db "$T/c.db"
check_no_grep "the token is not shown" 'nonsense' "$T/err"
check_exit "an unreachable API exits 75" 75 \
	env TELEGRAM_API_URL=http://127.0.0.1:1 tg-fetch --db "$T/c.db"
check_grep "the failure is described" 'getUpdates: .*127\.0\.0\.1:1' "$T/err"
check_exit "a rejected token exits 77" 77 env \
	TELEGRAM_BOT_TOKEN=7000000009:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9 \
	tg-fetch --db "$T/c.db"
check_grep "401 says which variable" 'rejected the token in TELEGRAM_BOT_TOKEN' \
	"$T/err"
check_no_grep "the token never shows" 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9' \
	"$T/err"
check_exit "an unknown --rep exits 78" 78 tg-fetch --db "$T/c.db" --rep nobody
check_grep "the rep is named" "rep 'nobody' is not in the ledger" "$T/err"

reference() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	q "INSERT INTO reps (name, bot, created_at, updated_at)
		VALUES ('anna', '7000000001', 1, 1)" >/dev/null

	inject "$FIX/tg-updates-1.jsonl"
	check_exit "first batch" 0 tg-fetch --db "$DB"
	recs message.in | head -n 1 >"$T/r"
	check_json "a direct message: message.in" '{"type":"message.in",
		"channel":"telegram","bot":"7000000001","rep":"anna",
		"chat":"880011223","prospect":"1","msg":"17",
		"from":{"id":"880011223","name":"Olga K","username":"olga_k",
		"lang":"ru"},"text":"/start promo_spring",
		"at":"2026-01-01T00:00:00Z","update_id":"914200001"}' "$T/r"
	recs rep.connection >"$T/r"
	check_json "a business connection: rep.connection" \
		'{"type":"rep.connection","channel":"telegram","bot":"7000000001",
		"rep":"ivan_sales","business_connection":"QkNfZGVtb18wMDE",
		"user":"500100200","enabled":true,"can_reply":true,
		"at":"2025-12-31T23:50:00Z","update_id":"914200002"}' "$T/r"
	recs message.in | sed -n 2p >"$T/r"
	check_json "a customer's business message: message.in with the rep" \
		'{"type":"message.in","channel":"telegram","bot":"7000000001",
		"rep":"ivan_sales","chat":"880011223","prospect":"2",
		"business_connection":"QkNfZGVtb18wMDE","msg":"4021",
		"from":{"id":"880011223","name":"Olga","username":null,
		"lang":"ru"},"text":"How much is the 2-year plan?",
		"at":"2026-01-01T00:01:00Z","update_id":"914200003"}' "$T/r"
	q "SELECT name, tg_user_id, business_connection, business_enabled,
		business_can_reply FROM reps WHERE name = 'ivan_sales'" >"$T/r"
	check_json "the connection is kept in reps" '{"name":"ivan_sales",
		"tg_user_id":"500100200","business_connection":"QkNfZGVtb18wMDE",
		"business_enabled":1,"business_can_reply":1}' "$T/r"
	q "SELECT direction, prospect_id, business_connection, chat, msg,
		from_id, text, key, status FROM messages ORDER BY id" >"$T/r"
	check_json "both messages are in the ledger, keyed" '
		{"direction":"in","prospect_id":1,"business_connection":null,
		"chat":"880011223","msg":"17","from_id":"880011223",
		"text":"/start promo_spring",
		"key":"tg:in:7000000001::880011223:17","status":"new"}
		{"direction":"in","prospect_id":2,
		"business_connection":"QkNfZGVtb18wMDE","chat":"880011223",
		"msg":"4021","from_id":"880011223",
		"text":"How much is the 2-year plan?",
		"key":"tg:in:7000000001:QkNfZGVtb18wMDE:880011223:4021",
		"status":"new"}' "$T/r"
	q "SELECT id, business_connection, chat, rep_id, user_id, name,
		username, lang FROM prospects ORDER BY id" >"$T/r"
	check_json "one prospect per (connection, chat)" '
		{"id":1,"business_connection":"","chat":"880011223","rep_id":1,
		"user_id":"880011223","name":"Olga K","username":"olga_k",
		"lang":"ru"}
		{"id":2,"business_connection":"QkNfZGVtb18wMDE",
		"chat":"880011223","rep_id":2,"user_id":"880011223",
		"name":"Olga","username":null,"lang":"ru"}' "$T/r"
	q "SELECT update_offset FROM bots WHERE id = '7000000001'" >"$T/r"
	check_json "the offset is in the ledger" '{"update_offset":914200004}' \
		"$T/r"

	# Follow-ups of both conversations, then the second batch.
	q "INSERT INTO scheduled_actions (prospect_id, kind, due, created_at,
		updated_at) VALUES (1, 'followup', 2000000000, 1, 1),
		(2, 'followup', 2000000000, 1, 1),
		(2, 'reminder_1h', 2000000000, 1, 1)" >/dev/null
	inject "$FIX/tg-updates-2.jsonl"
	check_exit "second batch" 0 tg-fetch -v --db "$DB"
	cp "$T/err" "$T/err2"
	jq -r '.type' "$T/out" | tr '\n' ' ' >"$T/r"
	echo >>"$T/r"
	check_grep "records in update order; echo, away message, group: none" \
		'^human\.takeover callback message\.deleted rep\.connection message\.edit message\.in $' \
		"$T/r"
	recs human.takeover >"$T/r"
	check_json "the rep typing: human.takeover" '{"type":"human.takeover",
		"channel":"telegram","bot":"7000000001","rep":"ivan_sales",
		"chat":"880011223","prospect":"2",
		"business_connection":"QkNfZGVtb18wMDE","msg":"4022",
		"at":"2026-01-01T00:01:40Z","update_id":"914200004"}' "$T/r"
	q "SELECT human_active, human_since FROM prospects WHERE id = 2" >"$T/r"
	check_json "the prospect is human_active" \
		'{"human_active":1,"human_since":1767225700}' "$T/r"
	q "SELECT direction, status, text, meta FROM messages WHERE msg = '4022'" \
		>"$T/r"
	check_json "the rep's message is kept as a human one" '{"direction":"out",
		"status":"sent","text":"Hi Olga, I'\''ll take it from here.",
		"meta":"{\"author\":\"human\",\"update_id\":\"914200004\"}"}' "$T/r"
	q "SELECT prospect_id, kind, status, cancel_reason FROM scheduled_actions
		ORDER BY id" >"$T/r"
	check_json "follow-ups cancelled: client_wrote, human_takeover" '
		{"prospect_id":1,"kind":"followup","status":"cancelled",
		"cancel_reason":"client_wrote"}
		{"prospect_id":2,"kind":"followup","status":"cancelled",
		"cancel_reason":"human_takeover"}
		{"prospect_id":2,"kind":"reminder_1h","status":"pending",
		"cancel_reason":null}' "$T/r"
	q "SELECT action, subject FROM audit" >"$T/r"
	check_json "the takeover is audited" \
		'{"action":"takeover","subject":"2"}' "$T/r"
	check_grep "the away message is no takeover" \
		"update 914200007: the rep's away message: ignored" "$T/err2"
	check_grep "the bot's own echo is ignored" \
		'update 914200009: sent by a bot for the rep: ignored' "$T/err2"
	q "SELECT count(*) AS n FROM messages WHERE msg IN ('4023', '4030')" \
		>"$T/r"
	check_json "neither is kept as a message" '{"n":0}' "$T/r"
	recs callback | jq -c 'del(.at)' >"$T/r"
	check_json "a button: callback" '{"type":"callback","channel":"telegram",
		"bot":"7000000001","rep":"anna","chat":"880011223",
		"prospect":"1","msg":"18","data":"plan:2y",
		"from":{"id":"880011223","name":"Olga","username":null,
		"lang":"ru"},"update_id":"914200005"}' "$T/r"
	curl -s "$FAKE_URL/_fake/telegram/callbacks" |
		jq -c '{callback_query_id}' >"$T/r"
	check_json "the callback query is answered" \
		'{"callback_query_id":"3811447912345678901"}' "$T/r"
	recs message.deleted | jq -c 'del(.at)' >"$T/r"
	check_json "deleted: message.deleted" '{"type":"message.deleted",
		"channel":"telegram","bot":"7000000001","rep":"ivan_sales",
		"chat":"880011223","prospect":"2",
		"business_connection":"QkNfZGVtb18wMDE","msgs":["4021"],
		"update_id":"914200006"}' "$T/r"
	q "SELECT status FROM messages WHERE msg = '4021'" >"$T/r"
	check_json "a deleted, unanswered message is not to be answered" \
		'{"status":"ignored"}' "$T/r"
	q "SELECT business_can_reply FROM reps WHERE name = 'ivan_sales'" \
		>"$T/r"
	check_json "the older connection shape (can_reply) overwrites" \
		'{"business_can_reply":0}' "$T/r"
	recs message.edit >"$T/r"
	check_json "an edit: message.edit" '{"type":"message.edit",
		"channel":"telegram","bot":"7000000001","rep":"anna",
		"chat":"880011223","prospect":"1","msg":"17",
		"from":{"id":"880011223","name":"Olga K","username":"olga_k",
		"lang":"ru"},"text":"/start promo_summer",
		"at":"2026-01-01T00:00:00Z","edited_at":"2026-01-01T00:05:00Z",
		"update_id":"914200010"}' "$T/r"
	q "SELECT text FROM messages WHERE msg = '17'" >"$T/r"
	check_json "the stored text is replaced" '{"text":"/start promo_summer"}' \
		"$T/r"
	recs message.in | jq -c '{text, reply_to, attachments}' >"$T/r"
	check_json "media: the caption, the attachment, the reply" '{
		"text":"my company'\''s card","reply_to":"18",
		"attachments":[{"kind":"document","file_id":"BQACAgIAAxkBAAIB",
		"file_name":"card.pdf","mime_type":"application/pdf",
		"file_size":48213}]}' "$T/r"
	check_grep "a group message is stored, not emitted" \
		'update 914200012: supergroup chat ignored' "$T/err2"
	q "SELECT count(*) AS n FROM updates WHERE update_id = 914200012" >"$T/r"
	check_json "the group message is in updates" '{"n":1}' "$T/r"
	q "SELECT unreachable FROM prospects WHERE id = 1" >"$T/r"
	check_json "blocking the bot marks the prospect unreachable" \
		'{"unreachable":1}' "$T/r"
	q "SELECT count(*) AS n FROM updates WHERE processed_at IS NULL" >"$T/r"
	check_json "every update is processed" '{"n":0}' "$T/r"

	printf '%s\n' '{"business_message":{"business_connection_id":"QkNfZGVtb18wMDE","message_id":4040,"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"first_name":"Olga","type":"private"},"date":1767226500,"text":"Ivan, are you there?"}}' \
		>"$T/b3"
	inject "$T/b3"
	check_exit "the customer writes in the rep's chat" 0 tg-fetch --db "$DB"
	jq -c '{type, rep, text, human_active}' "$T/out" >"$T/r"
	check_json "message.in says that the rep has the chat" \
		'{"type":"message.in","rep":"ivan_sales",
		"text":"Ivan, are you there?","human_active":true}' "$T/r"

	# Nothing twice: a rerun, and a replay of everything.
	check_exit "a rerun" 0 tg-fetch --db "$DB"
	cp "$T/out" "$T/o2"
	ok "a rerun writes nothing" test ! -s "$T/o2"
	q "UPDATE bots SET update_offset = 0" >/dev/null
	cat "$FIX/tg-updates-1.jsonl" "$FIX/tg-updates-2.jsonl" >"$T/all"
	inject "$T/all"
	printf '%s\n' '{"message":{"message_id":20,"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"first_name":"Olga","type":"private"},"date":1767226300,"text":"still there?"}}' >"$T/one"
	inject "$T/one"
	check_exit "a replay of stored updates" 0 tg-fetch --db "$DB"
	jq -c '{type, text}' "$T/out" >"$T/r"
	check_json "only the new update is written" \
		'{"type":"message.in","text":"still there?"}' "$T/r"
	q "SELECT count(*) AS n FROM messages" >"$T/r"
	check_json "and stored once" '{"n":6}' "$T/r"

	# A stored update that was not processed (a crash before it was).
	q "INSERT INTO updates (bot, update_id, kind, chat, raw, received_at)
		VALUES ('7000000001', 914200100, 'message', '880099',
		'{\"update_id\":914200100,\"message\":{\"message_id\":1,\"date\":1767226400,\"chat\":{\"id\":880099,\"type\":\"private\",\"first_name\":\"Petr\"},\"from\":{\"id\":880099,\"is_bot\":false,\"first_name\":\"Petr\"},\"text\":\"left over\"}}',
		1)" >/dev/null
	polls=$(grep -c getUpdates "$FAKE_LOG")
	check_exit "--pending" 0 tg-fetch --pending --db "$DB" \
		--rep ivan_sales
	jq -c '{type, text, rep}' "$T/out" >"$T/r"
	check_json "--pending writes what was left" \
		'{"type":"message.in","text":"left over","rep":"ivan_sales"}' \
		"$T/r"
	check_exit "--pending again" 0 tg-fetch --pending --db "$DB"
	cp "$T/out" "$T/o2"
	ok "writes nothing" test ! -s "$T/o2"
	check_exit "--pending does not call Telegram" 0 \
		test "$(grep -c getUpdates "$FAKE_LOG")" -eq "$polls"
}
for_each_db reference

followups() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	printf '%s\n' '{"message":{"message_id":1,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"text":"hi"}}' >"$T/m1"
	inject "$T/m1"
	check_exit "a first message" 0 tg-fetch --db "$DB"
	q "INSERT INTO scheduled_actions (prospect_id, kind, due, created_at,
		updated_at) SELECT id, 'followup', 2000000000, 1, 1
		FROM prospects WHERE chat = '42'" >/dev/null
	printf '%s\n' '{"message":{"message_id":2,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"text":"any news?"}}' >"$T/m2"
	inject "$T/m2"
	check_exit "the prospect writes again" 0 tg-fetch --db "$DB"
	q "SELECT status, cancel_reason FROM scheduled_actions" >"$T/r"
	check_json "the pending follow-up is cancelled" \
		'{"status":"cancelled","cancel_reason":"client_wrote"}' "$T/r"
	# a poll that brings nothing still says the bot was polled
	q "UPDATE bots SET last_fetch_at = 1" >/dev/null
	check_exit "an empty poll" 0 tg-fetch --db "$DB" --timeout 0
	q "SELECT count(*) AS n FROM bots WHERE last_fetch_at > 1" >"$T/r"
	check_json "bots.last_fetch_at moves on an empty poll" '{"n":1}' "$T/r"
}
for_each_db followups

malformed() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	big=$(head -c 100000 /dev/zero | tr '\0' 'x')
	jq -cn --arg big "$big" '{path:"/bot*/getUpdates", times:1,
	  body:{ok:true, result:[
	    "not an update",
	    {message:{message_id:1}},
	    {update_id:"ten", message:{}},
	    {update_id:10, message:{message_id:5, date:1767225600,
	      from:{id:42, is_bot:false, first_name:"Ann"}, text:"no chat"}},
	    {update_id:11, message:{message_id:6, date:1767225600,
	      chat:{id:42, type:"private"}, from:{id:42, is_bot:false},
	      text:42}},
	    {update_id:12, message:{message_id:7, date:"yesterday",
	      chat:{id:42, type:"private"}, text:"bad date"}},
	    {update_id:13, brand_new_kind:{x:1}},
	    {update_id:14, message:"not an object"},
	    {update_id:15, business_message:{message_id:8, date:1767225600,
	      business_connection_id:"QkNfZGVtb18wMDE",
	      chat:{id:42, type:"private"}, text:"who wrote me?"}},
	    {update_id:16, callback_query:{id:"1", from:{first_name:"Ann"}}},
	    {update_id:17, deleted_business_messages:{
	      business_connection_id:"QkNfZGVtb18wMDE",
	      chat:{id:42, type:"private"}, message_ids:[1,{}]}},
	    {update_id:18, message:{message_id:9, date:1767225600,
	      chat:{id:42, type:"private", first_name:"Ann"},
	      from:{id:42, is_bot:false, first_name:"Ann"}, text:$big}},
	    {update_id:19, message:{message_id:10, date:1767225600,
	      chat:{id:42, type:"private", first_name:"Ann"},
	      from:{id:42, is_bot:false, first_name:"Ann"}, text:"fine"}}
	  ]}}' | curl -s --data-binary @- "$FAKE_URL/_fake/rules" >/dev/null
	check_exit "malformed updates: exit 1" 1 tg-fetch --db "$DB"
	cp "$T/out" "$T/mout"
	for want in \
		"update \?: entry 0 is a string, not an object" \
		"update \?: entry 1: 'update_id' is missing" \
		"update \?: entry 2: 'update_id' is not an integer" \
		"update 10: 'message.chat' is missing" \
		"update 11: 'message.text' is not a string" \
		"update 12: 'message.date' is not a Unix time" \
		"update 14: 'message' is a string, not an object" \
		"update 15: 'business_message.from' is missing" \
		"update 16: 'callback_query.from.id' is missing" \
		"update 17: 'deleted_business_messages.message_ids' holds"
	do
		check_grep "logged: $want" "^tg-fetch: $want" "$T/err"
	done
	check_no_grep "an unknown kind is not an error" 'update 13' "$T/err"
	check_exit "every malformed update is one line" 0 \
		test "$(grep -c '^tg-fetch: update ' "$T/err")" -eq 10
	jq -c '[.update_id, (.text | length)]' "$T/mout" >"$T/r"
	check_json "the others are written, the huge text whole" \
		'["18",100000] ["19",4]' "$T/r"
	q "SELECT length(text) AS n FROM messages WHERE msg = '9'" >"$T/r"
	check_json "the huge text is stored whole" '{"n":100000}' "$T/r"
	q "SELECT count(*) AS n FROM updates WHERE processed_at IS NULL" >"$T/r"
	check_json "malformed updates are stored and marked processed" \
		'{"n":0}' "$T/r"
	q "SELECT count(*) AS n, max(update_id) AS m FROM updates" >"$T/r"
	check_json "every update with an id is stored" '{"n":10,"m":19}' "$T/r"
	q "SELECT update_offset FROM bots" >"$T/r"
	check_json "the offset moves past them" '{"update_offset":20}' "$T/r"

	printf '%s\n' '{"path":"/bot*/getUpdates","times":1,"body":{"ok":true,"result":{"update_id":1}}}' |
		curl -s --data-binary @- "$FAKE_URL/_fake/rules" >/dev/null
	check_exit "a result that is not an array: exit 1" 1 tg-fetch --db "$DB"
	check_grep "it is reported" \
		'getUpdates: the result is an object, not an array' "$T/err"
	printf '%s\n' '{"path":"/bot*/getUpdates","times":1,"status":200,"body":"{\"ok\":tr"}' |
		curl -s --data-binary @- "$FAKE_URL/_fake/rules" >/dev/null
	check_exit "an answer that is not JSON: temporary, exit 75" 75 tg-fetch --db "$DB"
	check_grep "it is reported" 'getUpdates: .*not JSON' "$T/err"
}
for_each_db malformed

errors() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	printf '%s\n' '{"message":{"message_id":1,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"text":"hi"}}' >"$T/m1"
	inject "$T/m1"
	check_exit "standard output full exits 74" 74 \
		sh -c 'tg-fetch --db "$DB" >/dev/full'
	check_grep "the output error is reported" 'tg-fetch: error writing stdout' \
		"$T/err"
	q "SELECT text, status FROM messages" >"$T/r"
	check_json "the message is in the ledger all the same" \
		'{"text":"hi","status":"new"}' "$T/r"

	# One tg-fetch per bot; SIGTERM during the long poll ends it at once.
	n=$(long_polls)
	tg-fetch --follow --timeout 50 --db "$DB" >"$T/f1.out" 2>"$T/f1.err" &
	f1=$!
	ok "the first tg-fetch polls" wait_for polled "$n"
	check_exit "a second tg-fetch exits 75" 75 tg-fetch --db "$DB"
	check_grep "and says why" \
		'^tg-fetch: another tg-fetch is running for bot 7000000001$' \
		"$T/err"
	kill -TERM $f1
	reap $f1
	check_exit "SIGTERM in the long poll: exit 0 at once" 0 test $st -eq 0

	# 409: another poller takes over.
	n=$(long_polls)
	tg-fetch --follow --timeout 50 --db "$DB" >"$T/f1.out" 2>"$T/f1.err" &
	f1=$!
	ok "tg-fetch polls again" wait_for polled "$n"
	curl -s "$FAKE_URL/bot$TOKEN/getUpdates?timeout=0" >/dev/null
	reap $f1
	check_exit "another poller: 409, exit 69" 0 test $st -eq 69
	check_grep "it says so" 'another program polls with this bot' \
		"$T/f1.err"

	# 409: a webhook is set.
	curl -s "$FAKE_URL/bot$TOKEN/setWebhook?url=http://127.0.0.1:1/hook" \
		>/dev/null
	check_exit "a webhook set: exit 69" 69 tg-fetch --db "$DB"
	check_grep "it says what to do" \
		'a webhook is set for this bot: run tg-fetch --delete-webhook' \
		"$T/err"
	printf '%s\n' '{"message":{"message_id":2,"from":{"id":42,"is_bot":false,"first_name":"Ann"},"chat":{"id":42,"type":"private","first_name":"Ann"},"text":"after the hook"}}' >"$T/m2"
	curl -s "$FAKE_URL/bot$TOKEN/deleteWebhook" >/dev/null
	inject "$T/m2"
	curl -s "$FAKE_URL/bot$TOKEN/setWebhook?url=http://127.0.0.1:1/hook" \
		>/dev/null
	check_exit "--delete-webhook, then polling works" 0 \
		tg-fetch --delete-webhook --db "$DB"
	jq -c '{text}' "$T/out" >"$T/r"
	check_json "the update queued meanwhile arrives" \
		'{"text":"after the hook"}' "$T/r"
	curl -s "$FAKE_URL/_fake/telegram/state" |
		jq -c '.bots[0].webhook' >"$T/r"
	check_json "the webhook is gone" 'null' "$T/r"
}
for_each_db errors

done_testing
