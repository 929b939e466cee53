#!/bin/sh
# 0310-fake-telegram: fake-api's Telegram Bot API: getUpdates' offsets and
# long polling, conflicts, webhooks, sendMessage and its errors, flood
# control, chat actions, callback answers, files, the generator, reset.
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
TOKEN2=7000000002:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9

# tg METHOD [JSON]: calls the bot with a JSON body; the answer's body is
# left in $T/body, its headers in $T/hdrs, its status in $T/code.
tg() {
	curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' \
		-H 'Content-Type: application/json' -d "${2:-"{}"}" \
		"$U/bot$TOKEN/$1" >"$T/code" || true
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

# fails NAME STATUS DESCRIPTION: the last answer was Telegram's error.
fails() {
	if [ "$(cat "$T/code")" = "$2" ] && jq -e --arg d "$3" \
		--argjson c "$2" \
		'.ok == false and .error_code == $c and .description == $d' \
		"$T/body" >/dev/null 2>&1; then
		_result 0 "$1"
	else
		_result 1 "$1"
		echo "#   status $(cat "$T/code"), want $2: $3"
		_show "$T/body" body
	fi
}

# inject LINE...: updates for the bot; the answer in $T/inj.
inject() {
	printf '%s\n' "$@" | curl -s --data-binary @- \
		"$U/_fake/telegram/updates" >"$T/inj"
}

# ctl ENDPOINT JSON: a control endpoint (plain curl -d, as a form: the
# endpoints take JSON anyway).
ctl() {
	curl -s -d "$2" "$U/_fake/telegram/$1" >"$T/ctl"
}

# msg CHAT TEXT [EXTRA]: a prospect's message update.
msg() {
	printf '{"message":{"from":{"id":%s,"is_bot":false,"first_name":"P%s"},"chat":{"id":%s,"first_name":"P%s","type":"private"},"text":"%s"%s}}' \
		"$1" "$1" "$1" "$1" "$2" "${3:-}"
}

fake_start -t "$TOKEN" -t "$TOKEN2"
U=$FAKE_URL
# The instance's pid and stderr, from lib.sh, for the leak check at the end.
# shellcheck disable=SC2154
MAIN_PID=${_pids##* }
# shellcheck disable=SC2154
MAIN_ERR=$T/fake-$_tap_n.err

# The bots.
tg getMe
is "getMe: the bot of the token" 200 \
	'.result.id == 7000000001 and .result.username == "acme_sales_bot"'
curl -s "$U/bot$TOKEN2/getMe" >"$T/body"
check_exit "getMe: another token, another bot" 0 jq -e \
	'.result.id == 7000000002 and .result.username == "acme_sales_7000000002_bot"' \
	"$T/body"
tg nosuchMethod
fails "an unknown method: 404" 404 "Not Found"
curl -s -o "$T/body" -w '%{http_code}' \
	"$U/bot7000000003:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9/getMe" >"$T/code"
fails "a token not given with -t: 401" 401 "Unauthorized"

# Offsets.
inject "$(msg 880011223 one)" "$(msg 880011223 two)" "$(msg 880011224 three)"
check_exit "injected updates get ids from 914200001" 0 jq -e \
	'.update_ids == [914200001, 914200002, 914200003]' "$T/inj"
tg getUpdates
is "getUpdates without offset: every update" 200 \
	'[.result[].update_id] == [914200001, 914200002, 914200003]'
is "the update is filled in: date, message_id per chat" 200 \
	'[.result[].message | .message_id] == [1, 2, 1] and
	 (.result[0].message.date | type) == "number"'
tg getUpdates
is "without offset again: the same updates (unconfirmed)" 200 \
	'[.result[].update_id] == [914200001, 914200002, 914200003]'
tg getUpdates '{"offset":914200002}'
is "offset confirms what is below it" 200 \
	'[.result[].update_id] == [914200002, 914200003]'
tg getUpdates '{"offset":914200001}'
is "a confirmed update is gone for ever" 200 \
	'[.result[].update_id] == [914200002, 914200003]'
curl -s -o "$T/body" -w '%{http_code}' \
	-d 'offset=914200003&limit=1' "$U/bot$TOKEN/getUpdates" >"$T/code"
is "a form: offset and limit" 200 '[.result[].update_id] == [914200003]'
inject "$(msg 880011223 four)" "$(msg 880011223 five)" \
	"$(msg 880011223 six)"
curl -s -o "$T/body" -w '%{http_code}' \
	"$U/bot$TOKEN/getUpdates?offset=-2" >"$T/code"
is "negative offset: the newest N (query)" 200 \
	'[.result[].update_id] == [914200005, 914200006]'
is "a message id continues per chat" 200 \
	'.result[-1].message.message_id == 5'
tg getUpdates
is "negative offset forgot the older ones" 200 \
	'[.result[].update_id] == [914200005, 914200006]'
curl -s "$U/_fake/telegram/state" >"$T/state"
check_exit "state: queued, confirmed_below, next_update_id" 0 jq -e \
	'.bots[0] | .bot == "7000000001" and .queued == 2 and
	 .confirmed_below == 914200005 and .next_update_id == 914200007' \
	"$T/state"
tg getUpdates '{"offset":914200007,"timeout":1}'
is "a timeout with nothing queued: []" 200 '.result == []'
curl -s -o /dev/null -w '%{time_total}\n' -d 'timeout=1' \
	"$U/bot$TOKEN/getUpdates" >"$T/time"
check_exit "timeout 1: the answer comes after about 1 s" 0 \
	awk '{ exit !($1 >= 0.9 && $1 < 3) }' "$T/time"

# Long polling.
curl -s -o "$T/poll" -w '%{time_total}\n' -d 'timeout=20' \
	"$U/bot$TOKEN/getUpdates" >"$T/polltime" &
pid=$!
sleep 0.4
curl -s "$U/_fake/telegram/state" >"$T/state"
check_exit "state: a poller waits" 0 jq -e '.bots[0].pollers == 1' \
	"$T/state"
inject "$(msg 880011223 seven)"
wait "$pid"
check_exit "a long poll returns as soon as an update arrives" 0 \
	awk '{ exit !($1 < 5) }' "$T/polltime"
check_exit "... with the update" 0 jq -e \
	'[.result[].message.text] == ["seven"]' "$T/poll"

curl -s -o "$T/poll" -w '%{http_code}' -d 'offset=914200008&timeout=20' \
	"$U/bot$TOKEN/getUpdates" >"$T/pollcode" &
pid=$!
sleep 0.4
tg getUpdates '{"offset":914200008}'
is "a second poller is answered" 200 '.ok'
wait "$pid"
cp "$T/poll" "$T/body"
cp "$T/pollcode" "$T/code"
fails "the older poll gets 409" 409 \
	"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

# allowed_updates.
tg getUpdates '{"allowed_updates":["message"]}'
inject '{"callback_query":{"id":"q1","from":{"id":880011223,"is_bot":false,"first_name":"P"},"data":"x"}}' \
	"$(msg 880011223 eight)"
check_exit "allowed_updates: other kinds are dropped on arrival" 0 jq -e \
	'.dropped == 1 and (.update_ids | length) == 1' "$T/inj"
tg getUpdates '{"offset":914200008}'
is "allowed_updates: omitted keeps the last setting" 200 \
	'[.result[].message.text] == ["eight"]'
curl -s -o "$T/body" -w '%{http_code}' \
	--data-urlencode 'allowed_updates=[]' "$U/bot$TOKEN/getUpdates" \
	>"$T/code"
inject '{"chat_member":{"chat":{"id":-100,"type":"group","title":"g"}}}' \
	'{"message_reaction":{"chat":{"id":880011223,"type":"private"}}}' \
	'{"callback_query":{"id":"q2","from":{"id":880011223,"is_bot":false,"first_name":"P"},"data":"x"}}'
check_exit "allowed_updates []: the default set" 0 jq -e \
	'.dropped == 2 and (.update_ids | length) == 1' "$T/inj"
inject '{"some_future_kind":{"x":1}}' 'not json'
check_exit "a bad line: 400 naming it, nothing queued" 0 jq -e \
	'.ok == false and (.error | startswith("line 2"))' "$T/inj"
inject '{"some_future_kind":{"x":1}}' '{"update_id":914200100,"message":"malformed"}'
check_exit "unknown kinds and malformed payloads are queued as given" 0 \
	jq -e '.update_ids == [914200010, 914200100]' "$T/inj"
tg getUpdates '{"offset":914200101}'

# Webhooks.
FAKE1_URL=$U
fake_start
RECV=$FAKE_URL
RECV_LOG=$FAKE_LOG
printf '%s\n' '{"path":"/hook","times":1,"status":500}' \
	'{"path":"/hook","status":200,"body":{"ok":true}}' |
	curl -s --data-binary @- "$RECV/_fake/rules" >/dev/null
U=$FAKE1_URL
curl -s -o "$T/poll" -w '%{http_code}' -d 'timeout=20' \
	"$U/bot$TOKEN/getUpdates" >"$T/pollcode" &
pid=$!
sleep 0.4
tg setWebhook "{\"url\":\"$RECV/hook\",\"secret_token\":\"s3cr3t-_X\"}"
is "setWebhook: true" 200 '.result == true and .description == "Webhook was set"'
wait "$pid"
cp "$T/poll" "$T/body"
cp "$T/pollcode" "$T/code"
fails "setWebhook ends a waiting poll with 409" 409 \
	"Conflict: terminated by setWebhook request"
tg getUpdates
fails "getUpdates while a webhook is set: 409" 409 \
	"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
inject "$(msg 880011223 hook1)" "$(msg 880011223 hook2)"
i=0
while [ "$(grep -c /hook "$RECV_LOG" 2>/dev/null)" -lt 3 ] && [ $i -lt 100 ]
do
	sleep 0.05
	i=$((i + 1))
done
check_exit "webhook: delivered in order, the first again after a 500" 0 \
	jq -se '[.[] | select(.path == "/hook") | .json.message.text] ==
		["hook1", "hook1", "hook2"]' "$RECV_LOG"
check_exit "webhook: the secret header on every request" 0 jq -se \
	'[.[] | select(.path == "/hook") |
	  .headers["x-telegram-bot-api-secret-token"]] | unique == ["s3cr3t-_X"]' \
	"$RECV_LOG"
check_exit "webhook: JSON bodies" 0 jq -se \
	'[.[] | select(.path == "/hook") | .headers["content-type"]] | unique ==
	 ["application/json"]' "$RECV_LOG"
tg getWebhookInfo
is "getWebhookInfo: url, nothing pending, the last error" 200 \
	".result.url == \"$RECV/hook\" and .result.pending_update_count == 0 and
	 .result.last_error_message == \"Wrong response from the webhook: 500 Internal Server Error\" and
	 (.result.last_error_date | type) == \"number\""
tg setWebhook '{"url":"https://example.org/x","secret_token":"bad token!"}'
fails "setWebhook: a bad secret_token" 400 \
	"Bad Request: secret token contains unallowed characters"
tg deleteWebhook
is "deleteWebhook: true" 200 '.result == true'
tg getWebhookInfo
is "getWebhookInfo after deleteWebhook: url empty" 200 '.result.url == ""'
tg getUpdates
is "getUpdates works again" 200 '.result == []'

# sendMessage.
tg sendMessage '{"chat_id":880011223,"text":"Hello Olga"}'
is "sendMessage: the Message" 200 \
	'.ok and .result.message_id == 10 and .result.from.id == 7000000001 and
	 .result.from.is_bot and .result.chat.id == 880011223 and
	 .result.chat.type == "private" and .result.text == "Hello Olga" and
	 (.result.date | type) == "number"'
curl -s -o "$T/body" -w '%{http_code}' -d 'chat_id=880011223&text=form' \
	"$U/bot$TOKEN/sendMessage" >"$T/code"
is "sendMessage: a form, chat_id as a string" 200 \
	'.result.message_id == 11 and .result.text == "form"'
curl -s -o "$T/body" -w '%{http_code}' -G --data-urlencode 'chat_id=880011224' \
	--data-urlencode 'text=query' "$U/bot$TOKEN/sendMessage" >"$T/code"
is "sendMessage: parameters in the query" 200 '.result.message_id == 2'
inject '{"business_connection":{"id":"QkNfZGVtb18wMDE","user":{"id":500100200,"is_bot":false,"first_name":"Ivan","username":"ivan_sales"},"user_chat_id":500100200,"rights":{"can_reply":true,"can_read_messages":true},"is_enabled":true}}' \
	'{"business_message":{"business_connection_id":"QkNfZGVtb18wMDE","message_id":4021,"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"first_name":"Olga","type":"private"},"text":"How much?"}}' \
	'{"business_connection":{"id":"QkNfb2xkXzAwMQ","user":{"id":500100201,"is_bot":false,"first_name":"Anna"},"user_chat_id":500100201,"can_reply":true,"is_enabled":true}}' \
	'{"business_message":{"business_connection_id":"QkNfb2xkXzAwMQ","from":{"id":880011225,"is_bot":false,"first_name":"Oleg"},"chat":{"id":880011225,"first_name":"Oleg","type":"private"},"text":"Hi"}}'
tg sendMessage '{"chat_id":880011223,"business_connection_id":"QkNfZGVtb18wMDE","text":"199 EUR","reply_parameters":{"message_id":4021}}'
is "business sendMessage: from the owner, sent by the bot" 200 \
	'.result.message_id == 4022 and .result.from.id == 500100200 and
	 .result.from.is_bot == false and
	 .result.sender_business_bot.id == 7000000001 and
	 .result.business_connection_id == "QkNfZGVtb18wMDE" and
	 .result.chat.id == 880011223 and .result.text == "199 EUR" and
	 .result.reply_to_message.message_id == 4021'
tg sendMessage '{"chat_id":880011225,"business_connection_id":"QkNfb2xkXzAwMQ","text":"ok"}'
is "business sendMessage: the pre-9.0 can_reply shape" 200 \
	'.result.from.id == 500100201'
tg getBusinessConnection '{"business_connection_id":"QkNfZGVtb18wMDE"}'
is "getBusinessConnection" 200 \
	'.result.user.id == 500100200 and .result.rights.can_reply'

# Its errors.
tg sendMessage '{"chat_id":880099999,"text":"x"}'
fails "a chat that never wrote" 400 "Bad Request: chat not found"
tg sendMessage '{"chat_id":"@nobody","text":"x"}'
fails "an unknown @username" 400 "Bad Request: chat not found"
tg sendMessage '{"chat_id":880011223,"text":""}'
fails "empty text" 400 "Bad Request: message text is empty"
tg sendMessage '{"chat_id":880011223,"text":"  \n "}'
fails "text of white space only" 400 "Bad Request: message text is empty"
long=$(awk 'BEGIN { while (i++ < 4096) printf "x" }')
tg sendMessage "{\"chat_id\":880011223,\"text\":\"$long\"}"
is "4096 characters: sent" 200 '.ok'
tg sendMessage "{\"chat_id\":880011223,\"text\":\"${long}y\"}"
fails "4097 characters: too long" 400 "Bad Request: message is too long"
emoji=$(awk 'BEGIN { while (i++ < 2049) printf "\\ud83d\\ude00" }')
tg sendMessage "{\"chat_id\":880011223,\"text\":\"$emoji\"}"
fails "2049 emoji are 4098 UTF-16 units: too long" 400 \
	"Bad Request: message is too long"
tg sendMessage "{\"chat_id\":880011223,\"text\":\"<b>$long</b>\",\"parse_mode\":\"HTML\"}"
is "the limit counts the text without the markup" 200 \
	'.result.entities == [{"offset":0,"length":4096,"type":"bold"}]'
tg sendMessage '{"chat_id":880011223,"text":"a <x>b</x>","parse_mode":"HTML"}'
fails "HTML: an unsupported tag" 400 \
	"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 2"
tg sendMessage '{"chat_id":880011223,"text":"<b>bold","parse_mode":"HTML"}'
fails "HTML: an unclosed tag" 400 \
	"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
tg sendMessage '{"chat_id":880011223,"text":"<b><i>x</b></i>","parse_mode":"HTML"}'
fails "HTML: tags that do not nest" 400 \
	"Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""
tg sendMessage '{"chat_id":880011223,"text":"<b>1 &lt; 2 &amp;&amp; &#51; &gt; &quot;x&quot;</b> <a href=\"https://x.org\">l</a> <span class=\"tg-spoiler\">s</span> <code>c</code>","parse_mode":"HTML"}'
is "HTML: entities and the allowed tags" 200 \
	'.result.text == "1 < 2 && 3 > \"x\" l s c" and
	 [.result.entities[].type] == ["bold", "text_link", "spoiler", "code"]'
tg sendMessage '{"chat_id":880011223,"text":"Hello.","parse_mode":"MarkdownV2"}'
fails "MarkdownV2: an unescaped reserved character" 400 \
	"Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"
tg sendMessage '{"chat_id":880011223,"text":"*Hi* \\. _there_ [x](https://x.org)","parse_mode":"MarkdownV2"}'
is "MarkdownV2: escaped and marked up" 200 \
	'.result.text == "Hi . there x" and
	 [.result.entities[].type] == ["bold", "italic", "text_link"]'
tg sendMessage '{"chat_id":880011223,"text":"x","parse_mode":"Klingon"}'
fails "an unknown parse_mode" 400 "Bad Request: unsupported parse_mode"
tg sendMessage '{"chat_id":880011223,"text":"x","reply_parameters":{"message_id":999}}'
fails "a reply to a missing message" 400 \
	"Bad Request: message to be replied not found"
tg sendMessage '{"chat_id":880011223,"text":"x","reply_parameters":{"message_id":999,"allow_sending_without_reply":true}}'
is "... allowed to be missing: sent, not as a reply" 200 \
	'.ok and (.result | has("reply_to_message") | not)'
tg sendMessage '{"chat_id":880011223,"business_connection_id":"nope","text":"x"}'
fails "an unknown business connection" 400 \
	"Bad Request: business connection not found"
tg sendMessage '{"chat_id":880011224,"business_connection_id":"QkNfZGVtb18wMDE","text":"x"}'
fails "a chat not reached through the connection" 400 \
	"Bad Request: BUSINESS_PEER_INVALID"
inject '{"business_connection":{"id":"QkNfZGVtb18wMDE","user":{"id":500100200,"is_bot":false,"first_name":"Ivan"},"user_chat_id":500100200,"rights":{"can_reply":false},"is_enabled":true}}'
tg sendMessage '{"chat_id":880011223,"business_connection_id":"QkNfZGVtb18wMDE","text":"x"}'
fails "a connection without can_reply" 400 "Bad Request: BUSINESS_PEER_INVALID"
inject '{"business_connection":{"id":"QkNfb2xkXzAwMQ","user":{"id":500100201,"is_bot":false,"first_name":"Anna"},"user_chat_id":500100201,"can_reply":true,"is_enabled":false}}'
tg sendMessage '{"chat_id":880011225,"business_connection_id":"QkNfb2xkXzAwMQ","text":"x"}'
fails "a disabled connection" 400 "Bad Request: BUSINESS_PEER_INVALID"

ctl chat '{"id":880011226,"blocked":true}'
check_exit "POST /_fake/telegram/chat" 0 jq -e '.ok' "$T/ctl"
tg sendMessage '{"chat_id":880011226,"text":"x"}'
fails "a user who blocked the bot: 403" 403 \
	"Forbidden: bot was blocked by the user"
ctl chat '{"id":"880011227","deactivated":true}'
tg sendMessage '{"chat_id":880011227,"text":"x"}'
fails "a deleted account: 403" 403 "Forbidden: user is deactivated"
ctl chat '{"id":-4001234567,"migrate_to":-1004001234567}'
tg sendMessage '{"chat_id":-4001234567,"text":"x"}'
fails "an upgraded group: 400" 400 \
	"Bad Request: group chat was upgraded to a supergroup chat"
is "... with migrate_to_chat_id" 400 \
	'.parameters.migrate_to_chat_id == -1004001234567'
tg sendMessage '{"chat_id":-1004001234567,"text":"x"}'
is "the supergroup takes messages" 200 '.result.chat.type == "supergroup"'
ctl chat '{"id":880011228,"username":"olga_k"}'
tg sendMessage '{"chat_id":"@olga_k","text":"x"}'
is "a known @username" 200 '.result.chat.id == 880011228'

# Flood control.
ctl flood '{"per_chat_per_sec":1,"retry_after":2}'
tg sendMessage '{"chat_id":880011224,"text":"f1"}'
is "flood: the first send in a second passes" 200 '.ok'
tg sendMessage '{"chat_id":880011224,"text":"f2"}'
fails "flood: the second gets 429" 429 "Too Many Requests: retry after 2"
is "... with parameters.retry_after" 429 '.parameters.retry_after == 2'
check_grep "... and a Retry-After header" '^Retry-After: 2' "$T/hdrs"
tg sendMessage '{"chat_id":880011223,"text":"other chat"}'
is "flood: other chats flow" 200 '.ok'
sleep 1.2
tg sendMessage '{"chat_id":880011224,"text":"f3"}'
is "flood: too early again is still 429" 429 '.parameters.retry_after == 1'
sleep 1
tg sendMessage '{"chat_id":880011224,"text":"f4"}'
is "flood: after retry_after it passes" 200 '.result.text == "f4"'
ctl flood '{"per_chat_per_sec":0}'

# The json of a rule matches chat_id as a number or as a string.
printf '%s\n' '{"path":"/bot*/sendMessage","json":{"chat_id":880011223},"times":1,"status":502}' \
	'{"path":"/bot*/sendMessage","json":{"chat_id":"880011224"},"times":1,"status":503}' |
	curl -s --data-binary @- "$U/_fake/rules" >/dev/null
curl -s -o /dev/null -w '%{http_code}' -d 'chat_id=880011223&text=x' \
	"$U/bot$TOKEN/sendMessage" >"$T/code"
check_grep "a rule's number matches a form's string" '^502$' "$T/code"
tg sendMessage '{"chat_id":880011224,"text":"x"}'
check_grep "a rule's string matches a JSON number" '^503$' "$T/code"

# What was sent.
curl -s "$U/_fake/telegram/sent" >"$T/sent"
check_exit "/sent: one line per accepted send" 0 jq -se \
	'length == 15 and all(.[]; .at_ms >= 0)' "$T/sent"
check_json "/sent: the fields" \
	'{"message_id":4022,"chat_id":880011223,"business_connection_id":"QkNfZGVtb18wMDE","text":"199 EUR","reply_to":4021}' \
	"$(jq -c 'select(.business_connection_id == "QkNfZGVtb18wMDE") | del(.at_ms)' "$T/sent" >"$T/sent1"; echo "$T/sent1")"
check_exit "/sent: parse_mode kept, text as sent" 0 jq -se \
	'any(.[]; .parse_mode == "MarkdownV2" and .text == "*Hi* \\. _there_ [x](https://x.org)")' \
	"$T/sent"
curl -s "$U/_fake/telegram/updates" >"$T/all"
check_no_grep "the bot's own messages are not updates" '199 EUR|Hello Olga' \
	"$T/all"
tg editMessageText '{"chat_id":880011223,"message_id":10,"text":"Hello again"}'
is "editMessageText" 200 '.result.text == "Hello again" and .result.message_id == 10'
tg editMessageText '{"chat_id":880011223,"message_id":10,"text":"Hello again"}'
is "editMessageText: not modified" 400 \
	'.description | startswith("Bad Request: message is not modified")'

# Chat actions, callback queries.
tg sendChatAction '{"chat_id":880011223,"action":"typing"}'
is "sendChatAction: true" 200 '.result == true'
tg sendChatAction '{"chat_id":880011223,"action":"typing","business_connection_id":"QkNfb2xkXzAwMQ"}'
fails "sendChatAction: the connection is checked too" 400 \
	"Bad Request: BUSINESS_PEER_INVALID"
tg sendChatAction '{"chat_id":880011223,"action":"dancing"}'
fails "sendChatAction: an unknown action" 400 \
	"Bad Request: wrong parameter action in request"
curl -s "$U/_fake/telegram/actions" >"$T/actions"
check_exit "/actions: the accepted ones" 0 jq -se \
	'length == 1 and .[0].chat_id == 880011223 and .[0].action == "typing"' \
	"$T/actions"
inject '{"callback_query":{"id":"3811447912345678901","from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"message":{"message_id":10,"chat":{"id":880011223,"type":"private"},"text":"Pick"},"data":"plan:2y"}}'
tg answerCallbackQuery '{"callback_query_id":"3811447912345678901","text":"ok"}'
is "answerCallbackQuery: true" 200 '.result == true'
tg answerCallbackQuery '{"callback_query_id":"3811447912345678901"}'
fails "answerCallbackQuery twice: 400" 400 \
	"Bad Request: query is too old and response timeout expired or query ID is invalid"
tg answerCallbackQuery '{"callback_query_id":"nope"}'
fails "answerCallbackQuery: an unknown id" 400 \
	"Bad Request: query is too old and response timeout expired or query ID is invalid"
curl -s "$U/_fake/telegram/callbacks" >"$T/cb"
check_exit "/callbacks: every call, with its outcome" 0 jq -se \
	'[.[].ok] == [true, false, false] and .[0].text == "ok"' "$T/cb"

# Files.
inject '{"message":{"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"type":"private"},"document":{"file_id":"BQACAgDOC1","file_unique_id":"AgADdoc1","file_name":"brief.pdf","mime_type":"application/pdf","file_size":1000},"caption":"see"}}' \
	'{"message":{"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"type":"private"},"photo":[{"file_id":"AgACPHOTOs","file_unique_id":"AQADs","width":90,"height":90,"file_size":900},{"file_id":"AgACPHOTOl","file_unique_id":"AQADl","width":800,"height":800,"file_size":52000}]}}' \
	'{"message":{"from":{"id":880011223,"is_bot":false,"first_name":"Olga"},"chat":{"id":880011223,"type":"private"},"video":{"file_id":"BAACHUGE","file_unique_id":"AgADhuge","file_size":30000000}}}'
tg getFile '{"file_id":"BQACAgDOC1"}'
is "getFile: a File" 200 \
	'.result.file_id == "BQACAgDOC1" and .result.file_unique_id == "AgADdoc1" and
	 .result.file_size == 1000 and (.result.file_path | endswith(".pdf"))'
path=$(jq -r .result.file_path "$T/body")
curl -s -o "$T/file" "$U/file/bot$TOKEN/$path"
check_exit "the download has file_size bytes" 0 test "$(wc -c <"$T/file")" -eq 1000
check_exit "... deterministic ones (byte i is i % 251)" 0 test \
	"$(od -An -tu1 -j 252 -N 2 "$T/file" | tr -s ' ')" = " 1 2"
tg getFile '{"file_id":"AgACPHOTOl"}'
is "getFile: a photo size" 200 '.result.file_size == 52000'
tg getFile '{"file_id":"BAACHUGE"}'
fails "getFile: over 20 MB" 400 "Bad Request: file is too big"
tg getFile '{"file_id":"nope"}'
fails "getFile: an unknown file_id" 400 "Bad Request: invalid file_id"
curl -s -o /dev/null -w '%{http_code}' "$U/file/bot$TOKEN/documents/nope.pdf" \
	>"$T/code"
check_grep "a download of an unknown path: 404" '^404$' "$T/code"

# The generator.
curl -s -X POST "$U/_fake/reset" >/dev/null
curl -s "$U/_fake/telegram/state" >"$T/state"
check_exit "reset forgets the bots" 0 jq -e '.bots == []' "$T/state"
curl -s "$U/_fake/telegram/sent" >"$T/sent"
check_exit "reset forgets what was sent" 0 test ! -s "$T/sent"
ctl generate '{"count":300,"chats":10,"business":0.5,"interval_ms":0}'
check_exit "generate: accepted" 0 jq -e '.ok' "$T/ctl"
i=0
while ! curl -s "$U/_fake/telegram/generated" | jq -e .done >/dev/null &&
	[ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
curl -s "$U/_fake/telegram/generated" >"$T/gen"
check_json "generated: produced and done" '{"produced":300,"done":true}' \
	"$T/gen"
curl -s "$U/_fake/telegram/updates" >"$T/all"
check_exit "generator: one business_connection first" 0 jq -se \
	'.[0].business_connection.id == "QkNfZ2VuXzAwMQ" and
	 .[0].business_connection.user.id == 500100200 and
	 .[0].business_connection.rights.can_reply and
	 ([.[] | select(.business_connection)] | length) == 1' "$T/all"
check_exit "generator: count unique texts" 0 jq -se \
	'[.[] | (.message // .business_message) | select(.) | .text] |
	 length == 300 and (unique | length) == 300' "$T/all"
check_exit "generator: chats, business ones, names, languages" 0 jq -se \
	'[.[] | (.message // .business_message) | select(.)] |
	 ([.[].chat.id] | unique) == [range(880000001; 880000011)] and
	 ([.[] | select(.business_connection_id) | .chat.id] | unique | length) == 5 and
	 (.[0].from.first_name == "Prospect 1") and (.[0].from.language_code == "ru") and
	 (.[1].from.language_code == "en") and .[0].text == "gen 1 chat 880000001"' \
	"$T/all"
: >"$T/got"
off=0
while :; do
	tg getUpdates "{\"offset\":$off,\"limit\":100}"
	[ "$(jq '.result | length' "$T/body")" -gt 0 ] || break
	jq -c '.result[]' "$T/body" >>"$T/got"
	off=$(($(jq '.result[-1].update_id' "$T/body") + 1))
done
check_exit "getUpdates in batches of 100 gets exactly /updates" 0 \
	cmp "$T/got" "$T/all"
tg sendMessage '{"chat_id":880000002,"business_connection_id":"QkNfZ2VuXzAwMQ","text":"hi"}'
is "a generated business chat takes a business send" 200 \
	'.result.from.id == 500100200'

# A clean exit with a poll waiting, a webhook retrying and a generator.
curl -s -X POST "$RECV/_fake/reset" >/dev/null
printf '%s\n' '{"path":"/hook","status":500}' |
	curl -s --data-binary @- "$RECV/_fake/rules" >/dev/null
"$FAKE_API" -t "$TOKEN" -t "$TOKEN2" >"$T/term.port" 2>"$T/term.err" &
fpid=$!
i=0
while [ ! -s "$T/term.port" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
U=http://127.0.0.1:$(cat "$T/term.port")
curl -s -d 'timeout=30' "$U/bot$TOKEN2/getUpdates" >/dev/null 2>&1 &
cpid=$!
tg setWebhook "{\"url\":\"$RECV/hook\"}"
ctl generate "{\"count\":100000,\"chats\":5,\"interval_ms\":5,\"token\":\"$TOKEN\"}"
sleep 0.5
kill -TERM "$fpid"
st=0
wait "$fpid" || st=$?
wait "$cpid" 2>/dev/null || true
check_exit "SIGTERM with threads running: exit 0" 0 test "$st" -eq 0
check_exit "... and nothing on stderr (no leak reports)" 0 test ! -s "$T/term.err"
_show "$T/term.err" "fake-api stderr"
kill -TERM "$MAIN_PID"
st=0
wait "$MAIN_PID" || st=$?
check_exit "the instance of the whole test exits 0 on SIGTERM" 0 test "$st" -eq 0
check_exit "... with nothing on stderr (no leak reports)" 0 test ! -s "$MAIN_ERR"
_show "$MAIN_ERR" "fake-api stderr"

done_testing
