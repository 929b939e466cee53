#!/bin/sh
# tests/1200-tg-webhook.t: tg-webhook: the secret token, store then 200,
# 503 while the ledger is locked (and Telegram's redelivery), the
# emulator's webhook delivery end to end, each update written once,
# --register, SIGTERM, and the error exits.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
SECRET=hook_Secret-42
FIX=$TESTS_DIR/fixtures
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

fake_start -t "$TOKEN"
TELEGRAM_BOT_TOKEN=$TOKEN
TELEGRAM_API_URL=$FAKE_URL
TELEGRAM_WEBHOOK_SECRET=$SECRET
export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL TELEGRAM_WEBHOOK_SECRET

q() {
	salesline-db --db "$DB" query "$1"
}

# wait_for SECONDS CMD...: polls CMD; 0 when it succeeded in time
wait_for() {
	_lim=$(($1 * 20))
	shift
	_w=0
	while [ $_w -lt $_lim ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_w=$((_w + 1))
	done
	return 1
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

# hook_start [DB-URL] [ARGS...]: starts tg-webhook on a free port; sets
# HOOK (its URL), HOOK_PID, HOOK_PORT; output in $T/hook.out, .err
hook_start() {
	_db=$1
	shift
	rm -f "$T/port"
	tg-webhook -v --db "$_db" --listen 127.0.0.1:0 --port-file "$T/port" \
		"$@" >"$T/hook.out" 2>"$T/hook.err" &
	HOOK_PID=$!
	wait_for 20 test -s "$T/port"
	HOOK_PORT=$(cat "$T/port")
	HOOK=http://127.0.0.1:$HOOK_PORT/telegram
}

post() { # STATUS NAME FILE [CURL-ARGS...]: POSTs FILE to the hook
	_want=$1
	_name=$2
	_file=$3
	shift 3
	_code=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary @"$_file" \
		"$@" "$HOOK") || true
	check_exit "$_name: $_want" 0 test "$_code" = "$_want"
}

records() { # N: $T/hook.out has N records
	[ "$(wc -l <"$T/hook.out")" -eq "$1" ]
}

stored_in() { # N: the ledger holds N inbound messages
	[ "$(q "SELECT count(*) AS n FROM messages WHERE direction = 'in'" |
		jq .n)" = "$1" ]
}

# Usage and configuration.
check_exit "--help exits 0" 0 tg-webhook --help
check_grep "--help prints the usage" '^usage: tg-webhook \[-v\]' "$T/out"
check_exit "a bad option exits 64" 64 tg-webhook --bogus
check_exit "a path without / exits 64" 64 tg-webhook --path telegram
check_exit "a missing token exits 78" 78 \
	env -u TELEGRAM_BOT_TOKEN tg-webhook --db "$T/c.db"
check_grep "the token's variable is named" 'TELEGRAM_BOT_TOKEN' "$T/err"
check_exit "a missing secret exits 78" 78 \
	env -u TELEGRAM_WEBHOOK_SECRET tg-webhook --db "$T/c.db"
check_grep "the secret's variable is named" \
	'TELEGRAM_WEBHOOK_SECRET .*--insecure-no-secret' "$T/err"
check_exit "a secret Telegram refuses exits 78" 78 \
	env TELEGRAM_WEBHOOK_SECRET='no spaces' tg-webhook --db "$T/c.db"
check_no_grep "the secret is never shown" 'no spaces' "$T/err"
check_exit "a bad --listen exits 64" 64 \
	tg-webhook --db "$T/c.db" --listen nowhere

printf '%s\n' '{"update_id":700,"message":{"message_id":1,"date":1767225600,"chat":{"id":42,"type":"private","first_name":"Ann"},"from":{"id":42,"is_bot":false,"first_name":"Ann"},"text":"by hand"}}' \
	>"$T/u700"
printf 'not json' >"$T/junk"
printf '%s\n' '{"message":{"message_id":2}}' >"$T/noid"

direct() {
	hook_start "$DB"
	ok "it listens" test -n "$HOOK_PORT"
	check_grep "-v says where" "listening on 127\.0\.0\.1:$HOOK_PORT" \
		"$T/hook.err"
	post 401 "no secret" "$T/u700"
	post 401 "a wrong secret" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: ${SECRET}x"
	post 401 "a prefix of the secret" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: hook_"
	q "SELECT count(*) AS n FROM updates" >"$T/r"
	check_json "nothing is stored without the secret" '{"n":0}' "$T/r"
	check_grep "a wrong secret is reported" 'wrong secret token' \
		"$T/hook.err"
	check_no_grep "the secret is never shown" "$SECRET" "$T/hook.err"
	_code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET" \
		"http://127.0.0.1:$HOOK_PORT/other") || true
	check_exit "another path: 404" 0 test "$_code" = 404
	_code=$(curl -s -o /dev/null -w '%{http_code}' "$HOOK") || true
	check_exit "GET: 405" 0 test "$_code" = 405
	post 400 "a body that is not JSON" "$T/junk" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	post 400 "an update without update_id" "$T/noid" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	check_grep "is reported" "update \?: the update: 'update_id' is missing" \
		"$T/hook.err"
	post 200 "an update" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	q "SELECT update_id FROM updates" >"$T/r"
	check_json "it is stored before the answer" '{"update_id":700}' "$T/r"
	ok "then written" wait_for 20 records 1
	jq -c '{type, text, update_id}' "$T/hook.out" >"$T/r"
	check_json "as message.in" \
		'{"type":"message.in","text":"by hand","update_id":"700"}' "$T/r"
	post 200 "the same update again" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	kill -TERM "$HOOK_PID"
	reap "$HOOK_PID"
	check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
	ok "a redelivered update is written once" records 1

	unset TELEGRAM_WEBHOOK_SECRET
	hook_start "$DB" --insecure-no-secret
	TELEGRAM_WEBHOOK_SECRET=$SECRET
	export TELEGRAM_WEBHOOK_SECRET
	sed 's/"update_id":700/"update_id":701/' "$T/u700" >"$T/u701"
	post 200 "--insecure-no-secret: no header needed" "$T/u701"
	kill -TERM "$HOOK_PID"
	reap "$HOOK_PID"
	check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
}
for_each_db direct

# lock DB-URL / unlock: another session holds the ledger's write lock
lock() {
	rm -f "$T/locked" "$T/ctl"
	mkfifo "$T/ctl"
	if [ "$ENGINE" = sqlite ]; then
		sqlite3 "$DB" <"$T/ctl" >/dev/null 2>&1 &
	else
		psql -q -X -d "$DB" <"$T/ctl" >/dev/null 2>&1 &
	fi
	LOCKER=$!
	exec 3>"$T/ctl"
	if [ "$ENGINE" = sqlite ]; then
		printf 'BEGIN IMMEDIATE;\n.shell touch %s\n' "$T/locked" >&3
	else
		printf 'BEGIN;\nLOCK TABLE updates IN ACCESS EXCLUSIVE MODE;\n\\! touch %s\n' \
			"$T/locked" >&3
	fi
	wait_for 20 test -e "$T/locked"
}

unlock() {
	echo 'COMMIT;' >&3
	exec 3>&-
	wait "$LOCKER" || true
}

busy() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	salesline-db --db "$DB" migrate >/dev/null
	if [ "$ENGINE" = sqlite ]; then
		url=$DB
	else
		url="$DB?options=-c%20lock_timeout%3D200"
	fi
	SALESLINE_DB_BUSY_MS=200
	export SALESLINE_DB_BUSY_MS
	hook_start "$url"
	unset SALESLINE_DB_BUSY_MS
	lock
	ok "another session holds the ledger" test -e "$T/locked"
	post 503 "a locked ledger" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	check_grep "Telegram is asked to retry later" '"ledger busy"' "$T/body"
	curl -s "$FAKE_URL/bot$TOKEN/setWebhook?url=$HOOK&secret_token=$SECRET" \
		>/dev/null
	inject_one=$T/u701
	printf '%s\n' '{"message":{"message_id":3,"from":{"id":43,"is_bot":false,"first_name":"Bob"},"chat":{"id":43,"type":"private","first_name":"Bob"},"text":"while locked"}}' \
		>"$inject_one"
	curl -s --data-binary @"$inject_one" \
		"$FAKE_URL/_fake/telegram/updates" >/dev/null
	ok "Telegram's delivery meets 503" wait_for 20 sh -c \
		"curl -s '$FAKE_URL/bot$TOKEN/getWebhookInfo' |
		jq -e '.result.last_error_message | test(\"503\")'"
	unlock
	ok "after the lock, Telegram's retry is stored and written" \
		wait_for 20 records 1
	jq -c '{type, text}' "$T/hook.out" >"$T/r"
	check_json "once" '{"type":"message.in","text":"while locked"}' "$T/r"
	post 200 "a direct post works again" "$T/u700" \
		-H "X-Telegram-Bot-Api-Secret-Token: $SECRET"
	kill -TERM "$HOOK_PID"
	reap "$HOOK_PID"
	check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
}
for_each_db busy

delivery() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	hook_start "$DB"
	port=$HOOK_PORT
	kill -TERM "$HOOK_PID"
	reap "$HOOK_PID"
	# The same port again, now known in advance: --register.
	tg-webhook --db "$DB" --listen "127.0.0.1:$port" \
		--register "http://127.0.0.1:$port/telegram" \
		>"$T/hook.out" 2>"$T/hook.err" &
	HOOK_PID=$!
	ok "--register sets the webhook" wait_for 20 sh -c \
		"curl -s '$FAKE_URL/_fake/telegram/state' |
		jq -e '.bots[0].webhook.url == \"http://127.0.0.1:$port/telegram\"'"
	cat "$FIX/tg-updates-1.jsonl" "$FIX/tg-updates-2.jsonl" |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
		>/dev/null
	ok "the reference updates arrive" wait_for 30 records 9
	jq -r '.type' "$T/hook.out" | tr '\n' ' ' >"$T/r"
	echo >>"$T/r"
	check_grep "as tg-fetch writes them" \
		'^message\.in rep\.connection message\.in human\.takeover callback message\.deleted rep\.connection message\.edit message\.in $' \
		"$T/r"
	q "SELECT human_active FROM prospects WHERE business_connection <> ''" \
		>"$T/r"
	check_json "the takeover reaches the ledger" '{"human_active":1}' "$T/r"
	curl -s "$FAKE_URL/_fake/telegram/callbacks" | jq -c .callback_query_id \
		>"$T/r"
	check_json "the callback is answered" '"3811447912345678901"' "$T/r"

	curl -s -H 'Content-Type: application/json' -d \
		'{"count":300,"chats":30,"business":0.5,"connections":2}' \
		"$FAKE_URL/_fake/telegram/generate" >/dev/null
	ok "300 generated messages are stored" wait_for 60 stored_in 303
	kill -TERM "$HOOK_PID"
	reap "$HOOK_PID"
	check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
	curl -s "$FAKE_URL/_fake/telegram/updates" |
		jq -r '(.message // .business_message // empty) | .text' |
		grep '^gen ' | sort >"$T/want"
	check_exit "300 were produced" 0 test "$(wc -l <"$T/want")" -eq 300
	jq -r 'select(.type == "message.in") | .text' "$T/hook.out" |
		grep '^gen ' | sort >"$T/got"
	ok "every message is written exactly once" cmp -s "$T/want" "$T/got"
	q "SELECT text FROM messages WHERE direction = 'in'" | jq -r .text |
		grep '^gen ' | sort >"$T/ledger"
	ok "and stored exactly once" cmp -s "$T/want" "$T/ledger"
}
for_each_db delivery

done_testing
