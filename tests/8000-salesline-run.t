#!/bin/sh
# tests/8000-salesline-run.t: the supervised pipeline of one bot against
# the Telegram emulator, on SQLite and PostgreSQL: a reply to
# "Здравствуйте"; SIGTERM while replies are being sent, then a restart:
# every message answered once, every reply delivered once (the ledger and
# the emulator's log agree); a stage that dies is restarted; a rejected
# token ends it with 77; usage and configuration errors.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
NOW=2026-12-01T00:00:00Z
NOW_S=$(date -u -d "$NOW" +%s)
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

check_exit "--help exits 0" 0 salesline-run --help
check_grep "--help prints the usage" '^usage: salesline-run' "$T/out"
check_exit "a bad option exits 64" 64 salesline-run --bogus
check_exit "a bad --stop-timeout exits 64" 64 salesline-run --stop-timeout x
check_exit "no token exits 78" 78 salesline-run --db "$T/c.db"
check_grep "naming the variable" 'TELEGRAM_BOT_TOKEN' "$T/err"
check_exit "an unknown --bot exits 78" 78 \
	env SALESLINE_BOT_DIR="$T" salesline-run --bot nobody
check_grep "saying where it looked" "'$T/nobody.env'" "$T/err"

q() {
	salesline-db --db "$DB" query "$@"
}

# say CHAT TEXT: the prospect writes (Telegram's date a little before NOW)
say() {
	printf '{"message":{"chat":{"id":%s,"type":"private"},"from":{"id":%s,"first_name":"Olga","language_code":"ru"},"date":%s,"text":"%s"}}\n' \
		"$1" "$1" "$((NOW_S - 5))" "$2" |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
}

sent() { # the emulator's accepted sends
	curl -s "$FAKE_URL/_fake/telegram/sent"
}

# until N CMD...: waits up to N seconds for CMD to succeed
until_ok() {
	_n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$_n" -gt 0 ] || return 1
		sleep 0.1
		_n=$((_n - 1))
	done
}

nsent() {
	sent | grep -c . || true
}

at_least() { # N: at least N sends
	[ "$(nsent)" -ge "$1" ]
}

run_start() {
	salesline-run --db "$DB" --no-delay --debounce 0.3 --beat 1 "$@" \
		>>"$T/run.out" 2>>"$T/run.err" &
	RUN=$!
}

run_stop() {
	kill -TERM "$RUN" 2>/dev/null || true
	_st=0
	wait "$RUN" || _st=$?
	return "$_st"
}

pipeline() {
	fake_start -t "$TOKEN"
	export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
	export SALESLINE_NOW="$NOW"
	: >"$T/run.out"
	: >"$T/run.err"
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null

	say 880011223 "Здравствуйте"
	run_start
	until_ok 20 at_least 1 || true
	sent | jq -r .text >"$T/texts"
	check_grep "a reply to Здравствуйте through salesline-run" \
		'Здравствуйте.*Чем могу помочь' "$T/texts"
	check_exit "SIGTERM stops it with status 0" 0 run_stop
	check_grep "and says so in its log" \
		'^[0-9T:-]+Z salesline-run: stopped' "$T/run.err"
	q "SELECT status FROM messages WHERE direction = 'out'" >"$T/p"
	check_json "the reply is sent in the ledger" '{"status":"sent"}' "$T/p"
	q "SELECT updated_at FROM state WHERE key = 'heartbeat.run.7000000001'" \
		>"$T/p"
	check_json "a heartbeat was written" "{\"updated_at\":$NOW_S}" "$T/p"

	# SIGTERM mid-stream: slow sends, a short stop timeout, so tg-send
	# is stopped holding replies; the restart sends the rest
	curl -s -d '{"path":"/bot*/sendMessage","delay_ms":600}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	for c in 880011301 880011302 880011303 880011304 880011305; do
		say "$c" "Здравствуйте"
	done
	run_start --stop-timeout 1
	until_ok 20 at_least 2 || true
	run_stop || true
	check_grep "tg-send was stopped holding replies" \
		'tg-send still sending' "$T/run.err"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'out' AND
		status = 'queued'" >"$T/p"
	check_no_grep "what it held stays queued in the ledger" '"n":0' "$T/p"
	n1=$(nsent)
	run_start
	until_ok 30 at_least 6 || true
	sleep 1
	run_stop || true
	is "after the restart every prospect has one reply" 6 "$(nsent)"
	sent | jq -r .chat_id | sort | uniq -d >"$T/dup"
	is "no chat got a reply twice" "" "$(cat "$T/dup")"
	check_exit "some were sent before the stop, some after" 0 \
		test "$n1" -ge 1 -a "$n1" -lt 6
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in' AND
		status <> 'answered'" >"$T/p"
	check_json "every message is answered in the ledger" '{"n":0}' "$T/p"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'out' AND
		status = 'sent'" >"$T/p"
	check_json "and every reply is sent, once" '{"n":6}' "$T/p"

	# a stage that dies is restarted, and the pipeline goes on
	: >"$T/run.err"
	run_start
	until_ok 10 grep -q 'started' "$T/run.err" || true
	fpid=$(sed -n 's/.*(tg-fetch \([0-9]*\),.*/\1/p' "$T/run.err" | tail -1)
	kill -9 "$fpid" 2>/dev/null || true
	until_ok 10 grep -q 'restarting in 1s' "$T/run.err" || true
	check_grep "a killed tg-fetch is reported" \
		'tg-fetch exited with status 137' "$T/run.err"
	check_grep "and the pipeline restarted after a backoff" \
		'restarting in 1s' "$T/run.err"
	until_ok 10 test "$(grep -c 'started' "$T/run.err")" -ge 2 || true
	say 880011401 "Добрый день"
	until_ok 20 at_least 7 || true
	is "the restarted pipeline answers" 880011401 \
		"$(sent | jq -r .chat_id | tail -1)"
	run_stop || true

	# a token Telegram rejects: not restarted, 77
	check_exit "a rejected token ends it with 77" 77 env \
		TELEGRAM_BOT_TOKEN=7000000009:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0 \
		salesline-run --db "$DB" --no-delay
	check_grep "saying it will not restart" 'not restarting' "$T/err"
	check_no_grep "the token is never shown" 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw' \
		"$T/err"
	unset SALESLINE_NOW
}

for_each_db pipeline
done_testing
