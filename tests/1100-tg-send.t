#!/bin/sh
# tests/1100-tg-send.t: tg-send against the Telegram emulator: delivery
# and its records, idempotency, the ledger re-check (human takeover,
# unreachable), 403, group migration, HTML and its plain-text fallback,
# business connections, long texts, bad input, the uncertain case, and
# the exit statuses.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
A=880011223
B=880011224
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

start() { # fresh emulator with chats A and B
	fake_start -t "$TOKEN"
	TELEGRAM_BOT_TOKEN=$TOKEN
	TELEGRAM_API_URL=$FAKE_URL
	export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL
	chat "$A"
	chat "$B"
}

chat() { # ID [JSON-FIELDS]: make the emulator know a chat
	curl -s -d "{\"id\":$1${2:+,$2}}" "$FAKE_URL/_fake/telegram/chat" \
		>/dev/null
}

out() { # KEY CHAT TEXT [EXTRA-FIELDS]: one message.out line
	printf '{"type":"message.out","channel":"telegram","key":"%s","chat":"%s","text":"%s"%s}\n' \
		"$1" "$2" "$3" "${4:+,$4}"
}

rule() { # JSON: add an emulator rule
	curl -s --data-binary "$1" "$FAKE_URL/_fake/rules" >/dev/null
}

sent() { # what the bot sent, as JSON lines, in $T/sent
	curl -s "$FAKE_URL/_fake/telegram/sent" >"$T/sent"
}

q() { # SQL [PARAM...]
	salesline-db --db "$DB" query "$@"
}

send() { # NAME STATUS [ARGS...]: tg-send on $T/in, quick
	_n=$1
	_w=$2
	shift 2
	check_exit "$_n" "$_w" tg-send --db "$DB" --no-delay \
		--chat-interval 0 "$@" <"$T/in"
}

sends() { # how many sendMessage calls with our token reached Telegram
	jq -s --arg p "/bot$TOKEN/sendMessage" \
		'[.[] | select(.path == $p)] | length' "$FAKE_LOG"
}

basics() {
	start
	{
		out k1 "$A" "Hello, Olga"
		out k2 "$B" "Hello, Ivan" '"reply_to":null,"extra":{"x":1}'
		printf '{"type":"message.out","key":"k3","chat":%s,"text":"How can I help?"}\n' "$A"
	} >"$T/in"
	send "three messages to two chats" 0
	jq -c '{type, key, chat, msg, msgs, parts, extra}' "$T/out" >"$T/got"
	check_json "one message.sent per record, in the record's fields" \
		'{"type":"message.sent","key":"k1","chat":"'$A'","msg":"1","msgs":["1"],"parts":1,"extra":null}
{"type":"message.sent","key":"k2","chat":"'$B'","msg":"1","msgs":["1"],"parts":1,"extra":{"x":1}}
{"type":"message.sent","key":"k3","chat":"'$A'","msg":"2","msgs":["2"],"parts":1,"extra":null}' \
		"$T/got"
	check_no_grep "no text in the output" '"text"' "$T/out"
	check_grep "at is RFC 3339" '"at":"[0-9-]{10}T[0-9:]{8}Z"' "$T/out"
	sent
	jq -c '[.chat_id, .text]' "$T/sent" >"$T/got"
	check_json "delivered, with numeric chat ids" \
		'['$A',"Hello, Olga"]
['$B',"Hello, Ivan"]
['$A',"How can I help?"]' "$T/got"
	q "SELECT key, status, msg, chat, direction, attempts FROM messages
		ORDER BY key" >"$T/got"
	check_json "the ledger has them sent" \
		'{"key":"k1","status":"sent","msg":"1","chat":"'$A'","direction":"out","attempts":1}
{"key":"k2","status":"sent","msg":"1","chat":"'$B'","direction":"out","attempts":1}
{"key":"k3","status":"sent","msg":"2","chat":"'$A'","direction":"out","attempts":1}' \
		"$T/got"
	q "SELECT count(*) AS n FROM messages WHERE claimed_by IS NOT NULL
		OR sent_at IS NULL" >"$T/got"
	check_json "no claim left, sent_at set" '{"n":0}' "$T/got"

	send "the same input again" 0
	jq -c '[.type, .key, .msg, .duplicate]' "$T/out" >"$T/got"
	check_json "reported as duplicates with the stored ids" \
		'["message.sent","k1","1",true]
["message.sent","k2","1",true]
["message.sent","k3","2",true]' "$T/got"
	is "nothing sent twice" 3 "$(sends)"

	{
		out k4 "$B" "Once"
		out k4 "$B" "Once"
		out k4 "$A" "Once, elsewhere"
	} >"$T/in"
	send "one key three times in one input" 0
	jq -c '[.key, .chat, .duplicate]' "$T/out" >"$T/got"
	check_json "one delivery, the repeats reported as duplicates" \
		'["k4","'$B'",null]
["k4","'$B'",true]
["k4","'$B'",true]' "$T/got"
	sent
	is "k4 delivered once" 1 \
		"$(jq -s '[.[] | select(.text == "Once")] | length' "$T/sent")"
}
for_each_db basics

passthrough() {
	start
	{
		printf '%s\n' '{"type":"escalation","prospect":"7","reason":"human_request"}'
		out k1 "$A" "Hello, Olga"
		printf '%s\n' '{"type":"human.takeover","chat":"1","prospect":"7"}'
	} >"$T/in"
	send "records of other types with a message: exit 0" 0
	jq -c 'select(.type != "message.sent")' "$T/out" >"$T/got"
	check_json "they go on to stdout unchanged" \
		'{"type":"escalation","prospect":"7","reason":"human_request"}
{"type":"human.takeover","chat":"1","prospect":"7"}' "$T/got"
	check_no_grep "with no complaint" . "$T/err"
	check_grep "and the message is sent" '"type":"message.sent","key":"k1"' \
		"$T/out"
	printf '%s\n' '{"type":"message.in","chat":"1","text":"hi"}' >"$T/in"
	send "a message.in is no record for tg-send: exit 1" 1
	check_grep "it is reported" "'type': expected" "$T/err"
}
for_each_db passthrough

prospects() {
	start
	chat 880011225
	q "INSERT INTO prospects (chat, name, created_at, updated_at) VALUES
		(\$1, 'Olga', 1, 1), (\$2, 'Ivan', 1, 1), (\$3, 'Petr', 1, 1)" \
		"$A" "$B" 880011225 >/dev/null
	q "UPDATE prospects SET human_active = 1 WHERE chat = \$1" "$B" \
		>/dev/null
	curl -s -d '{"id":880011225,"blocked":true}' \
		"$FAKE_URL/_fake/telegram/chat" >/dev/null
	{
		out p1 "$A" "Found by chat"
		out p2 "$B" "Composed before the takeover"
		out p3 880011225 "To a person who blocked the bot"
		out p4 880011225 "And again"
		out p5 "$A" "With the prospect given" '"prospect":"1"'
	} >"$T/in"
	send "prospects: found, taken over, blocked" 0
	# the chats take turns as they become ready: sorted, not in send order
	jq -c '[.key, .type, .prospect, .error.code, .error.temporary]' \
		"$T/out" | sort >"$T/got"
	check_json "sent, dropped (human_active), 403, dropped (unreachable)" \
		'["p1","message.sent","1",null,null]
["p2","message.failed","2","human_active",false]
["p3","message.failed","3","403",false]
["p4","message.failed","3","unreachable",false]
["p5","message.sent","1",null,null]' "$T/got"
	grep '"p3"' "$T/out" >"$T/got" || :
	check_grep "403 keeps Telegram's description" \
		'Forbidden: bot was blocked by the user' "$T/got"
	sent
	jq -c .text "$T/sent" >"$T/got"
	check_json "only the wanted ones delivered" \
		'"Found by chat"
"With the prospect given"' "$T/got"
	q "SELECT key, status, prospect_id FROM messages ORDER BY key" \
		>"$T/got"
	check_json "ledger: statuses and prospects" \
		'{"key":"p1","status":"sent","prospect_id":1}
{"key":"p2","status":"dropped","prospect_id":2}
{"key":"p3","status":"failed","prospect_id":3}
{"key":"p4","status":"dropped","prospect_id":3}
{"key":"p5","status":"sent","prospect_id":1}' "$T/got"
	q "SELECT id, unreachable, CASE WHEN last_out_at IS NULL THEN 0
		ELSE 1 END AS out FROM prospects ORDER BY id" >"$T/got"
	check_json "the blocked prospect is unreachable; last_out_at kept" \
		'{"id":1,"unreachable":0,"out":1}
{"id":2,"unreachable":0,"out":0}
{"id":3,"unreachable":1,"out":0}' "$T/got"
	q "SELECT error FROM messages WHERE key = 'p2'" | jq -c '.error |
		fromjson' >"$T/got"
	check_json "the error is stored as JSON" \
		'{"code":"human_active","message":"a person took the conversation over","temporary":false}' \
		"$T/got"
}
for_each_db prospects

migration() {
	start
	chat -4001 '"migrate_to":-1004001'
	q "INSERT INTO prospects (chat, created_at, updated_at) VALUES
		('-4001', 1, 1)" >/dev/null
	{
		out g1 -4001 "To the group"
		out g2 -4001 "And more"
	} >"$T/in"
	send "a group upgraded to a supergroup" 0
	jq -c '[.key, .chat, .moved_from]' "$T/out" >"$T/got"
	check_json "sent to the supergroup" \
		'["g1","-1004001","-4001"]
["g2","-1004001","-4001"]' "$T/got"
	sent
	jq -c '[.chat_id, .text]' "$T/sent" >"$T/got"
	check_json "delivered there, in order" \
		'[-1004001,"To the group"]
[-1004001,"And more"]' "$T/got"
	q "SELECT chat FROM prospects" >"$T/got"
	check_json "the prospect's chat follows" '{"chat":"-1004001"}' "$T/got"
	is "the migration answer came once" 3 "$(sends)"

	out n1 990000001 "To a stranger" >"$T/in"
	send "another 400 is a failure, not an error of tg-send" 0
	jq -c '[.key, .error]' "$T/out" >"$T/got"
	check_json "reported with Telegram's words" \
		'["n1",{"code":"400","message":"Bad Request: chat not found","temporary":false}]' \
		"$T/got"
	q "SELECT status FROM messages WHERE key = 'n1'" >"$T/got"
	check_json "failed in the ledger" '{"status":"failed"}' "$T/got"
}
for_each_db migration

html() {
	start
	{
		out h1 "$A" "<b>Bold</b> &amp; fine"
		out h2 "$A" "<b>Broken" '"parse_mode":"HTML"'
		out h3 "$B" "1 < 2 & <b>plain</b>"
	} >"$T/in"
	send "HTML by record, and plain text" 0
	jq -s -c 'sort_by(.key)[] | [.key, .html_fallback]' "$T/out" >"$T/got"
	check_json "the broken one fell back to plain text" \
		'["h1",null]
["h2",true]
["h3",null]' "$T/got"
	check_grep "the fallback is reported" \
		"tg-send: warning: 'h2': Telegram cannot parse the HTML" "$T/err"
	sent
	jq -s -c 'sort_by(.message_id, .chat_id)[] | [.text, .parse_mode]' \
		"$T/sent" >"$T/got"
	check_json "HTML only where asked; the fallback without tags" \
		'["<b>Bold</b> &amp; fine",null]
["1 < 2 & <b>plain</b>",null]
["Broken",null]' "$T/got"
	q "SELECT key, degraded FROM messages ORDER BY key" >"$T/got"
	check_json "the fallback is marked degraded" \
		'{"key":"h1","degraded":0}
{"key":"h2","degraded":1}
{"key":"h3","degraded":0}' "$T/got"
	out h4 "$A" "<i>all</i> &lt;html&gt;" >"$T/in"
	send "--html" 0 --html
	sent
	tail -n 1 "$T/sent" | jq -c '[.text, .parse_mode]' >"$T/got"
	check_json "--html sends HTML" '["<i>all</i> &lt;html&gt;","HTML"]' \
		"$T/got"
}
for_each_db html

business() {
	start
	printf '%s\n' \
		'{"business_connection":{"id":"QkNfZGVtb18wMDE","user":{"id":500100200,"is_bot":false,"first_name":"Ivan"},"user_chat_id":500100200,"date":1767225000,"rights":{"can_reply":true},"is_enabled":true}}' \
		'{"business_message":{"business_connection_id":"QkNfZGVtb18wMDE","message_id":4021,"from":{"id":880011229,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011229,"first_name":"Olga","type":"private"},"date":1767225660,"text":"How much?"}}' |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
	out b1 880011229 "199 EUR" \
		'"business_connection":"QkNfZGVtb18wMDE","reply_to":"4021"' \
		>"$T/in"
	send "through a rep's business connection" 0
	jq -c '[.key, .business_connection]' "$T/out" >"$T/got"
	check_json "sent" '["b1","QkNfZGVtb18wMDE"]' "$T/got"
	sent
	jq -c '[.chat_id, .business_connection_id, .text]' "$T/sent" \
		>"$T/got"
	check_json "with business_connection_id" \
		'[880011229,"QkNfZGVtb18wMDE","199 EUR"]' "$T/got"
	check_grep "as a reply" '"reply_to":"?4021' "$T/sent"
	q "SELECT business_connection, reply_to FROM messages" >"$T/got"
	check_json "the ledger keeps both" \
		'{"business_connection":"QkNfZGVtb18wMDE","reply_to":"4021"}' \
		"$T/got"
}
for_each_db business

long_text() {
	start
	s1="Здравствуйте, Ольга! Спасибо за интерес к нашему тарифу."
	s2="Стоимость составляет 199 евро в год, оплата частями возможна."
	: >"$T/long"
	i=0
	while [ $i -lt 90 ]; do
		i=$((i + 1))
		if [ $((i % 5)) -eq 0 ]; then
			printf '%s %s\n\n' "$s1" "$s2" >>"$T/long"
		else
			printf '%s %s ' "$s1" "$s2" >>"$T/long"
		fi
	done
	is "the text has over 10,000 characters" true \
		"$(jq -Rs 'length > 10000 and length < 12000' "$T/long")"
	jq -Rsc --arg c "$A" '{type:"message.out", key:"long",
		chat:$c, text:.}' "$T/long" >"$T/in"
	send "a text of 10,000 Russian characters" 0
	jq -c '[.parts, (.msgs | length), .msg]' "$T/out" >"$T/got"
	check_json "three parts, all ids, the last one in msg" '[3,3,"3"]' \
		"$T/got"
	sent
	jq -s -c '[.[] | .text | length] | map(. <= 4096 and . > 1000) | all' \
		"$T/sent" >"$T/got"
	check_json "each part within 4096 characters" true "$T/got"
	jq -j '.text' "$T/sent" | tr -d ' \n' >"$T/joined"
	tr -d ' \n' <"$T/long" >"$T/orig"
	ok "the parts in order are the text" cmp -s "$T/joined" "$T/orig"
	LC_ALL=C.UTF-8 iconv -f UTF-8 -t UTF-8 "$T/joined" >/dev/null 2>&1
	ok "valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/joined"
	jq -s -c '[.[] | .text | endswith("возможна.")] | .[0:2]' \
		"$T/sent" >"$T/got"
	check_json "cut at the end of a sentence or paragraph" '[true,true]' \
		"$T/got"
	q "SELECT meta FROM messages" | jq -c '.meta | fromjson' >"$T/got"
	check_json "the parts are kept in meta" \
		'{"parts":3,"msgs":["1","2","3"]}' "$T/got"
}
for_each_db long_text

bad_input() {
	start
	{
		out ok1 "$A" "Fine"
		echo '{"type":"message.out","key":5,"chat":"1","text":"x"}'
		echo 'not json'
		echo '[1,2]'
		echo '{"type":"message.out","key":"x2","text":"no chat"}'
		echo '{"type":"message.out","key":"x3","chat":"1","text":"   "}'
		echo '{"type":"message.out","key":"x4","chat":{},"text":"x"}'
		echo '{"type":"message.in","key":"x5","chat":"1","text":"x"}'
		echo '{"type":"message.out","key":"x6","chat":"1","text":"x","not_before":"soon"}'
		echo '{"type":"message.out","key":"x7","chat":"1","text":"x","parse_mode":"MarkdownV2"}'
		echo
		out ok2 "$B" "Also fine"
	} >"$T/in"
	send "bad lines are skipped, exit 1" 1
	jq -c .key "$T/out" >"$T/got"
	check_json "the good ones are sent" '"ok1"
"ok2"' "$T/got"
	check_grep "line 2" "^tg-send: stdin:2: 'key': expected a string$" \
		"$T/err"
	check_grep "line 3" "^tg-send: stdin:3: invalid JSON" "$T/err"
	check_grep "line 4" "^tg-send: stdin:4: expected an object, got an array$" \
		"$T/err"
	check_grep "line 5" "^tg-send: stdin:5: 'chat': expected a string$" \
		"$T/err"
	check_grep "line 6" "^tg-send: stdin:6: 'text': empty$" "$T/err"
	check_grep "line 7" "^tg-send: stdin:7: 'chat': expected a string$" \
		"$T/err"
	check_grep "line 8" "^tg-send: stdin:8: 'type'" "$T/err"
	check_grep "line 9" "^tg-send: stdin:9: 'not_before'" "$T/err"
	check_grep "line 10" "^tg-send: stdin:10: 'parse_mode'" "$T/err"
	is "nine lines reported" 9 "$(grep -c stdin: "$T/err")"
	q "SELECT count(*) AS n FROM messages" >"$T/got"
	check_json "only good lines reach the ledger" '{"n":2}' "$T/got"
}
for_each_db bad_input

uncertain() {
	start
	rule '{"path":"/bot*/sendMessage","json":{"chat_id":'$A'},"close":"mid","times":1}'
	{
		out u1 "$A" "Lost answer"
		out u2 "$A" "After it"
	} >"$T/in"
	send "an answer lost mid-way" 0
	jq -c '[.key, .type, .error.code, .error.temporary]' "$T/out" \
		>"$T/got"
	check_json "uncertain is reported, the next one sent" \
		'["u1","message.failed","uncertain",false]
["u2","message.sent",null,null]' "$T/got"
	check_grep "a warning names the key" \
		"warning: 'u1' may or may not have been delivered" "$T/err"
	check_grep "and the count" "1 message may or may not have been" \
		"$T/err"
	q "SELECT key, status FROM messages ORDER BY key" >"$T/got"
	check_json "the row is uncertain" \
		'{"key":"u1","status":"uncertain"}
{"key":"u2","status":"sent"}' "$T/got"
	: >"$T/in"
	send "--pending afterwards" 0 --pending
	is "--pending does not resend it" 2 "$(sends)"
	out u1 "$A" "Lost answer" >"$T/in"
	send "the key again" 0
	jq -c '[.error.code, .duplicate]' "$T/out" >"$T/got"
	check_json "is reported uncertain, not sent" '["uncertain",true]' \
		"$T/got"
	send "the key again, --resend-uncertain" 0 \
		--resend-uncertain
	jq -c '[.type, .key]' "$T/out" >"$T/got"
	check_json "is sent again when asked" '["message.sent","u1"]' \
		"$T/got"
	check_grep "with a warning" "warning: resending 'u1'" "$T/err"
	sent
	is "so the person got it twice" 2 \
		"$(jq -s '[.[] | select(.text == "Lost answer")] | length' \
		"$T/sent")"
}
for_each_db uncertain

exits() {
	start
	out e1 "$A" "Hi" >"$T/in"
	check_exit "--help exits 0" 0 tg-send --help
	check_grep "usage on stdout" '^usage: tg-send \[-v\]' "$T/out"
	check_exit "a bad option exits 64" 64 tg-send --bogus
	check_grep "it is named" "tg-send: unknown option '--bogus'" "$T/err"
	check_exit "a bad number exits 64" 64 tg-send --rate fast
	check_exit "an argument exits 64" 64 tg-send extra
	check_exit "no token exits 78" 78 env -u TELEGRAM_BOT_TOKEN \
		tg-send --db "$DB" <"$T/in"
	check_grep "naming the variable" TELEGRAM_BOT_TOKEN "$T/err"
	check_exit "a malformed token exits 78" 78 env \
		TELEGRAM_BOT_TOKEN=nonsense tg-send --db "$DB" <"$T/in"

	check_exit "Telegram unreachable exits 75" 75 env \
		TELEGRAM_API_URL=http://127.0.0.1:1 \
		tg-send --db "$DB" --no-delay <"$T/in"
	jq -c '[.key, .error.code, .error.temporary]' "$T/out" >"$T/got"
	check_json "reported as temporary" '["e1","network",true]' "$T/got"
	check_grep "giving up is said" "chat $A: giving up for now" "$T/err"

	check_exit "a token Telegram rejects exits 77" 77 env \
		TELEGRAM_BOT_TOKEN=7000000002:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9 \
		tg-send --db "$DB" --no-delay <"$T/in"
	jq -c '[.key, .error.code, .error.temporary]' "$T/out" >"$T/got"
	check_json "the message is reported, still queued" \
		'["e1","401",true]' "$T/got"
	check_grep "the token is blamed" \
		'rejected the bot token \(TELEGRAM_BOT_TOKEN\): Unauthorized' \
		"$T/err"
	check_no_grep "but never shown" 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9' \
		"$T/err"
	q "SELECT status, claimed_by FROM messages" >"$T/got"
	check_json "queued, unclaimed" \
		'{"status":"queued","claimed_by":null}' "$T/got"

	rule '{"path":"/bot*/sendMessage","status":500,"body":{"ok":false,"error_code":500,"description":"Internal Server Error"},"times":2}'
	: >"$T/in"
	send "two 500s, then --pending delivers" 0 --pending
	jq -c '[.type, .key]' "$T/out" >"$T/got"
	check_json "sent after retries" '["message.sent","e1"]' "$T/got"
	is "three tries" 3 "$(sends)"

	out e2 "$B" "To nowhere" >"$T/in"
	check_exit "standard output full exits 74" 74 sh -c 'tg-send --db "$1" --no-delay <"$2" \
		>/dev/full' sh "$DB" "$T/in"
	check_grep "the write error is reported" "error writing stdout" \
		"$T/err"
	q "SELECT status FROM messages WHERE key = 'e2'" >"$T/got"
	check_json "the message was sent all the same" '{"status":"sent"}' \
		"$T/got"
}
for_each_db exits

done_testing
