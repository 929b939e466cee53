#!/bin/sh
# tests/1010-tg-fetch-load.t: tg-fetch under load and under SIGKILL.
# 1,000 updates from 50 chats, half of them through business connections,
# each written once and stored once; then tg-fetch killed with SIGKILL 20
# times at random moments while the emulator keeps producing: after a
# final run the ledger holds exactly the messages produced, and no record
# was ever written twice.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

fake_start -t "$TOKEN"
TELEGRAM_BOT_TOKEN=$TOKEN
TELEGRAM_API_URL=$FAKE_URL
export TELEGRAM_BOT_TOKEN TELEGRAM_API_URL

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

q() {
	salesline-db --db "$DB" query "$1"
}

# stored N: the ledger holds N inbound messages
stored() {
	[ "$(q "SELECT count(*) AS n FROM messages WHERE direction = 'in'" |
		jq .n)" = "$1" ]
}

generated() { # the generator has finished
	curl -s "$FAKE_URL/_fake/telegram/generated" | jq -e .done >/dev/null
}

# wait_for SECONDS CMD...: polls CMD; 0 when it succeeded in time
wait_for() {
	_lim=$(($1 * 10))
	shift
	_w=0
	while [ $_w -lt $_lim ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}

# produced: the texts of the prospects' messages the emulator produced
produced() {
	curl -s "$FAKE_URL/_fake/telegram/updates" |
		jq -r '(.message // .business_message // empty) | .text' |
		sort
}

load() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	curl -s -H 'Content-Type: application/json' -d \
		'{"count":1000,"chats":50,"business":0.5,"connections":3}' \
		"$FAKE_URL/_fake/telegram/generate" >/dev/null
	tg-fetch --follow --timeout 1 --db "$DB" >"$T/load.out" \
		2>"$T/load.err" &
	pid=$!
	ok "1,000 updates are produced" wait_for 30 generated
	ok "and stored" wait_for 60 stored 1000
	kill -TERM $pid
	reap $pid
	check_exit "SIGTERM: exit 0" 0 test $st -eq 0
	check_exit "nothing on stderr" 0 test ! -s "$T/load.err"
	produced >"$T/want"
	check_exit "the emulator produced 1,000 messages" 0 \
		test "$(wc -l <"$T/want")" -eq 1000
	jq -r 'select(.type == "message.in") | .text' "$T/load.out" |
		sort >"$T/got"
	ok "every message is written exactly once" cmp -s "$T/want" "$T/got"
	q "SELECT text FROM messages WHERE direction = 'in'" | jq -r .text |
		sort >"$T/ledger"
	ok "and stored exactly once" cmp -s "$T/want" "$T/ledger"
	jq -r 'select(.type == "message.in" and .business_connection) |
		.rep' "$T/load.out" | sort -u | tr '\n' ' ' >"$T/r"
	echo >>"$T/r"
	check_grep "business messages have the connections' reps" \
		'^ivan_sales rep_2 rep_3 $' "$T/r"
	jq -r 'select(.type == "message.in") | .business_connection != null' \
		"$T/load.out" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ' \
		>"$T/r"
	echo >>"$T/r"
	check_grep "half of them through business connections" '^500 500 $' \
		"$T/r"
	q "SELECT count(*) AS n FROM prospects" >"$T/r"
	check_json "one prospect per chat" '{"n":50}' "$T/r"
	jq -c 'select(.type == "rep.connection") | .rep' "$T/load.out" |
		sort | tr '\n' ' ' >"$T/r"
	echo >>"$T/r"
	check_grep "three connections" '^"ivan_sales" "rep_2" "rep_3" $' "$T/r"
}
for_each_db load

kills() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	curl -s -H 'Content-Type: application/json' -d \
		'{"count":1000,"chats":50,"business":0.5,"interval_ms":5}' \
		"$FAKE_URL/_fake/telegram/generate" >/dev/null
	i=0
	while [ $i -lt 20 ]; do
		tg-fetch --follow --timeout 1 --db "$DB" >"$T/k$i.out" \
			2>"$T/k$i.err" &
		pid=$!
		sleep "$(awk -v s="$(od -An -N4 -tu4 /dev/urandom)" \
			'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 0.5 }')"
		kill -KILL $pid
		wait $pid 2>/dev/null || true
		i=$((i + 1))
	done
	ok "the generator finishes" wait_for 60 generated
	produced >"$T/want"
	n=$(wc -l <"$T/want")
	check_exit "it produced 1,000 messages" 0 test "$n" -eq 1000
	tg-fetch --follow --timeout 1 --db "$DB" >"$T/final.out" \
		2>"$T/final.err" &
	pid=$!
	ok "a final run stores the rest" wait_for 60 stored "$n"
	kill -TERM $pid
	reap $pid
	q "SELECT text FROM messages WHERE direction = 'in'" | jq -r .text |
		sort >"$T/ledger"
	ok "the ledger holds exactly the messages produced" \
		cmp -s "$T/want" "$T/ledger"
	if ! cmp -s "$T/want" "$T/ledger"; then
		diff "$T/want" "$T/ledger" | head -5 | sed 's/^/#   /'
	fi
	# A killed run may have written half a line: skip what is not JSON.
	cat "$T"/k*.out "$T/final.out" |
		jq -R -r 'fromjson? | select(.type == "message.in") | .text' |
		sort >"$T/written"
	uniq -d "$T/written" >"$T/dups"
	ok "no message was written twice" test ! -s "$T/dups"
	ok "none was written that was not produced" \
		test -z "$(comm -13 "$T/want" "$T/written")"
	# Only a kill between a commit and its write loses a copy.
	lost=$((n - $(wc -l <"$T/written")))
	ok "at most one copy lost per kill ($lost)" test "$lost" -le 20
	q "SELECT count(*) AS n FROM updates WHERE processed_at IS NULL" >"$T/r"
	check_json "every stored update is processed" '{"n":0}' "$T/r"
}
for_each_db kills

done_testing
