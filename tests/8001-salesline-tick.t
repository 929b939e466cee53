#!/bin/sh
# tests/8001-salesline-tick.t: the periodic work, on SQLite and
# PostgreSQL: a prospect who says "напишите через неделю" through
# salesline-run gets the follow-up from salesline-tick a fast-forwarded
# week later, once; two overlapping ticks: one works, the other exits 75;
# retention removes old raw updates and keeps the conversation; the
# heartbeat and the metrics file.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
NOW=2026-12-01T00:00:00Z
NOW_S=$(date -u -d "$NOW" +%s)
WEEK=2026-12-08T00:30:00Z
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

check_exit "--help exits 0" 0 salesline-tick --help
check_grep "--help prints the usage" '^usage: salesline-tick' "$T/out"
check_exit "a bad option exits 64" 64 salesline-tick --bogus
check_exit "a bad --retention-days exits 64" 64 \
	salesline-tick --retention-days soon

q() {
	salesline-db --db "$DB" query "$@"
}

say() { # CHAT TEXT
	printf '{"message":{"chat":{"id":%s,"type":"private"},"from":{"id":%s,"first_name":"Olga","language_code":"ru"},"date":%s,"text":"%s"}}\n' \
		"$1" "$1" "$((NOW_S - 5))" "$2" |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
}

sent() {
	curl -s "$FAKE_URL/_fake/telegram/sent"
}

until_ok() {
	_n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$_n" -gt 0 ] || return 1
		sleep 0.1
		_n=$((_n - 1))
	done
}

at_least() {
	[ "$(sent | grep -c .)" -ge "$1" ]
}

tick() { # salesline-tick with the ledger and var/ of this run
	salesline-tick --db "$DB" --no-delay "$@"
}

ticks() {
	fake_start -t "$TOKEN"
	export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
	export SALESLINE_VAR="$T/var-$ENGINE"
	rm -rf "$SALESLINE_VAR"
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null

	# the conversation, through salesline-run
	export SALESLINE_NOW="$NOW"
	say 880011223 "Здравствуйте"
	say 880011224 "Здравствуйте"
	salesline-run --db "$DB" --no-delay --debounce 0.3 >/dev/null \
		2>"$T/run.err" &
	run=$!
	until_ok 20 at_least 2 || true
	say 880011223 "Напишите мне через неделю"
	say 880011224 "Напишите мне через неделю"
	until_ok 20 at_least 4 || true
	kill -TERM "$run"
	wait "$run" || true
	q "SELECT kind, status FROM scheduled_actions ORDER BY id" >"$T/p"
	check_json "two follow-ups are pending" \
		'{"kind":"followup","status":"pending"}
		{"kind":"followup","status":"pending"}' "$T/p"

	check_exit "a tick today sends nothing" 0 tick
	is "nothing more was sent" 4 "$(sent | grep -c .)"

	# a week later: two ticks at once, with slow sends
	export SALESLINE_NOW="$WEEK"
	curl -s -d '{"path":"/bot*/sendMessage","delay_ms":800}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	tick >"$T/tick1.out" 2>"$T/tick1.err" &
	t1=$!
	sleep 0.5
	check_exit "an overlapping tick exits 75" 75 tick
	check_grep "saying to try next minute" \
		'another salesline-tick holds .*try next minute' "$T/err"
	st=0
	wait "$t1" || st=$?
	is "the first tick works" 0 "$st"
	sent | jq -r 'select(.chat_id == 880011223 or .chat_id == 880011224) |
		.text' | tail -n 2 >"$T/fu"
	check_grep "the follow-up fires a week later" 'Здравствуйте|Добрый|напомн|писал|обещал|недел' \
		"$T/fu"
	is "one follow-up to each prospect" 6 "$(sent | grep -c .)"
	q "SELECT status FROM scheduled_actions ORDER BY id" >"$T/p"
	check_json "both are done in the ledger" \
		'{"status":"done"}
		{"status":"done"}' "$T/p"
	check_grep "the tick's output is what was sent" \
		'"type":"message.sent".*"key":"followup:' "$T/tick1.out"
	check_exit "the next tick" 0 tick
	is "sends nothing twice" 6 "$(sent | grep -c .)"

	# heartbeat and metrics
	check_exit "the tick's heartbeat makes the tick check pass" 0 \
		salesline-health --db "$DB" --offline --skip fetch
	m=$SALESLINE_VAR/metrics/salesline.prom
	check_exit "the metrics file is written" 0 test -s "$m"
	check_exit "in the Prometheus text format" 0 prom_ok "$m"
	check_grep "with the follow-ups sent" \
		'^salesline_followups_sent_total\{kind="followup"\} 2$' "$m"
	check_grep "and the messages" '^salesline_messages_received_total 4$' "$m"
	check_exit "and no temporary file left beside it" 0 \
		test "$(find "$SALESLINE_VAR/metrics" -name '*.tmp' | wc -l)" -eq 0

	# retention: raw updates older than the limit go, messages stay
	q "SELECT count(*) AS n FROM updates" >"$T/p"
	check_json "four raw updates are stored" '{"n":4}' "$T/p"
	SALESLINE_NOW=2027-02-01T00:00:00Z tick --retention-days 30 \
		2>"$T/ret.err" >/dev/null || true
	check_grep "retention says what it removed" \
		'removed 4 raw update\(s\) older than 30 days' "$T/ret.err"
	q "SELECT count(*) AS n FROM updates" >"$T/p"
	check_json "the raw updates are gone" '{"n":0}' "$T/p"
	q "SELECT count(*) AS n FROM messages" >"$T/p"
	check_json "the conversation is kept" '{"n":10}' "$T/p"
	check_exit "an unwritable metrics file exits 74" 74 \
		tick --metrics-file /proc/none/x.prom
	unset SALESLINE_NOW SALESLINE_VAR
}

for_each_db ticks
done_testing
