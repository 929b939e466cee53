#!/bin/sh
# tests/1102-tg-send-crash.t: nothing sent twice, nothing lost: tg-send
# killed with SIGKILL at random points while sending 50 messages, then
# run again with --pending; and two tg-send at once over the same rows.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
CHATS="880011221 880011222 880011223 880011224 880011225"
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

start() {
	fake_start -t "$TOKEN"
	TELEGRAM_BOT_TOKEN=$TOKEN
	TELEGRAM_API_URL=$FAKE_URL
	export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL
	for c in $CHATS; do
		curl -s -d "{\"id\":$c}" "$FAKE_URL/_fake/telegram/chat" \
			>/dev/null
	done
	# Every answer comes 15 ms late, so kills land in mid-flight.
	curl -s -d '{"path":"/bot*/sendMessage","delay_ms":15}' \
		"$FAKE_URL/_fake/rules" >/dev/null
}

q() {
	salesline-db --db "$DB" query "$@"
}

messages() { # N: N messages over the chats, "m<i> <chat>"
	awk -v n="$1" -v chats="$CHATS" 'BEGIN {
		k = split(chats, c, " ")
		for (i = 1; i <= n; i++)
			printf "{\"type\":\"message.out\",\"key\":\"k%d\"," \
			    "\"chat\":\"%s\",\"text\":\"m%d %s\"}\n", i,
			    c[(i - 1) % k + 1], i, c[(i - 1) % k + 1]
	}'
}

ms() { # a random number of milliseconds below $1
	echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1))
}

# Kills tg-send ARGS... after a random time; stdin from $IN.
run_and_kill() {
	tg-send --db "$DB" --no-delay --chat-interval 0 --rate 0 "$@" \
		<"$IN" >>"$T/outs" 2>>"$T/errs" &
	_p=$!
	sleep "$(printf '0.%03d' "$(ms 700)")"
	kill -9 "$_p" 2>/dev/null || :
	wait "$_p" 2>/dev/null || :
}

check_delivery() { # the checks after the last run
	curl -s "$FAKE_URL/_fake/telegram/sent" >"$T/sent"
	is "no text delivered twice" true \
		"$(jq -s 'map(.text) | length == (unique | length)' "$T/sent")"
	q "SELECT count(*) AS n FROM messages WHERE status NOT IN
		('sent', 'uncertain')" >"$T/got"
	check_json "every key is sent or uncertain" '{"n":0}' "$T/got"
	q "SELECT count(*) AS n FROM messages" >"$T/got"
	check_json "every key is in the ledger" "{\"n\":$1}" "$T/got"
	q "SELECT text FROM messages WHERE status = 'sent'" |
		jq -r .text | sort >"$T/sentrows"
	jq -r .text "$T/sent" | sort >"$T/delivered"
	is "every 'sent' row was delivered" "" \
		"$(comm -23 "$T/sentrows" "$T/delivered" | head -3)"
	is "and only uncertain ones beyond them" "" "$(q "SELECT text FROM
		messages WHERE status = 'uncertain'" | jq -r .text | sort |
		comm -13 - "$T/delivered" | comm -23 - "$T/sentrows" |
		head -3)"
	is "each chat got its messages in order" true "$(jq -s '
		group_by(.chat_id) | map(map(.text | split(" ")[0][1:] |
		tonumber) | . == sort) | all' "$T/sent")"
}

kill9() {
	start
	IN=$T/in
	messages 50 >"$IN"
	: >"$T/outs"
	: >"$T/errs"
	run_and_kill
	IN=/dev/null
	for _ in 1 2 3 4 5 6; do
		run_and_kill --pending
	done
	IN=$T/in
	run_and_kill
	check_exit "a last run with the input and --pending completes" 0 \
		tg-send --db "$DB" --no-delay --chat-interval 0 --rate 0 \
		--pending <"$IN"
	check_delivery 50
	n=$(q "SELECT count(*) AS n FROM messages WHERE status =
		'uncertain'" | jq .n)
	echo "# $ENGINE: $n of 50 uncertain after 8 kills"
	check_no_grep "no sanitizer or other crash report" \
		'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error' \
		"$T/errs"
}
for_each_db kill9

together() {
	start
	IN=$T/in
	messages 40 >"$IN"
	# Stored first, by a run killed before it sent anything.
	tg-send --db "$DB" --no-delay --rate 0 <"$IN" >/dev/null 2>&1 &
	p=$!
	i=0
	while [ $i -lt 100 ] && ! q "SELECT count(*) AS n FROM messages" |
		grep -q '"n":40'; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -9 "$p" 2>/dev/null || :
	wait "$p" 2>/dev/null || :
	tg-send --db "$DB" --no-delay --chat-interval 0 --rate 0 --pending \
		</dev/null >"$T/o1" 2>"$T/e1" &
	p1=$!
	tg-send --db "$DB" --no-delay --chat-interval 0 --rate 0 --pending \
		</dev/null >"$T/o2" 2>"$T/e2" &
	p2=$!
	s1=0
	s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	is "two senders at once: both exit 0" "0 0" "$s1 $s2"
	tg-send --db "$DB" --no-delay --pending </dev/null >/dev/null \
		2>"$T/e3" || :
	check_delivery 40
	is "each record reported by one of them" "" "$(cat "$T/o1" \
		"$T/o2" | jq -r 'select(.type == "message.sent") | .key' |
		sort | uniq -d | head -3)"
}
for_each_db together

done_testing
