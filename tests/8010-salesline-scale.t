#!/bin/sh
# tests/8010-salesline-scale.t: many workers on one ledger (PostgreSQL,
# and SQLite on one host), as on several machines: two salesline-run for
# one bot and three salesline-tick (each with its own lock, as on its own
# host) against the Telegram emulator.  Twenty prospects say hello and
# ask for a follow-up in a week: each is answered once per message, and
# each follow-up is sent once a fast-forwarded week later, checked in the
# emulator's log of what the bot sent and in the ledger.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
NOW=2026-12-01T00:00:00Z
NOW_S=$(date -u -d "$NOW" +%s)
WEEK=2026-12-08T00:30:00Z
N=20
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

q() {
	salesline-db --db "$DB" query "$@"
}

say() { # CHAT TEXT
	printf '{"message":{"chat":{"id":%s,"type":"private"},"from":{"id":%s,"first_name":"Olga","language_code":"ru"},"date":%s,"text":"%s"}}\n' \
		"$1" "$1" "$((NOW_S - 5))" "$2" |
		curl -s --data-binary @- "$FAKE_URL/_fake/telegram/updates" \
			>/dev/null
}

everyone() { # TEXT: every prospect writes it
	i=1
	while [ $i -le $N ]; do
		say $((880000000 + i)) "$1"
		i=$((i + 1))
	done
}

sent() {
	curl -s "$FAKE_URL/_fake/telegram/sent"
}

# wait_sent N: until the bot sent N messages (at most 60 s)
wait_sent() {
	_n=600
	while [ "$(sent | grep -c .)" -lt "$1" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
}

# per_chat N: every prospect's chat got exactly N messages
per_chat() {
	sent | jq -r .chat_id | sort | uniq -c |
		awk -v n="$1" -v want="$N" '$1 != n { bad = 1 } END {
			exit bad || NR != want }'
}

scale() {
	fake_start -t "$TOKEN"
	export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
	export SALESLINE_NOW="$NOW"
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null
	everyone "Здравствуйте"
	for w in 1 2; do
		SALESLINE_VAR=$T/run$w salesline-run --db "$DB" --no-delay \
			--debounce 0.3 >/dev/null 2>"$T/run$w.err" &
		eval "run$w=\$!"
	done
	wait_sent $N
	everyone "Напишите мне через неделю"
	wait_sent $((2 * N))
	sleep 1
	# shellcheck disable=SC2154
	kill -TERM "$run1" "$run2"
	wait "$run1" || true
	wait "$run2" || true
	check_exit "two pipelines: every message answered once" 0 per_chat 2
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'
		AND status = 'answered'" >"$T/p"
	check_json "every message is answered in the ledger" \
		"{\"n\":$((2 * N))}" "$T/p"
	q "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'followup'
		AND status = 'pending'" >"$T/p"
	check_json "one pending follow-up per prospect" "{\"n\":$N}" "$T/p"

	export SALESLINE_NOW="$WEEK"
	curl -s -d '{"path":"/bot*/sendMessage","delay_ms":50}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	for w in 1 2 3; do
		SALESLINE_VAR=$T/tick$w salesline-tick --db "$DB" --no-delay \
			--no-metrics >"$T/tick$w.out" 2>"$T/tick$w.err" &
		eval "tick$w=\$!"
	done
	st=0
	# shellcheck disable=SC2154
	for p in "$tick1" "$tick2" "$tick3"; do
		wait "$p" || st=$((st + 1))
	done
	check_exit "three ticks at once all succeed" 0 test "$st" -eq 0
	check_exit "every follow-up sent once" 0 per_chat 3
	# a sender that finds a key another tick sent reports it, marked
	# "duplicate": that is not work done twice
	check_exit "the work was shared, not done three times" 0 \
		test "$(cat "$T"/tick?.out | grep '"type":"message.sent"' |
			grep -vc '"duplicate":true')" -eq $N
	q "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'followup'
		AND status = 'done'" >"$T/p"
	check_json "every follow-up is done in the ledger" "{\"n\":$N}" "$T/p"
	unset SALESLINE_NOW
}

for_each_db scale
done_testing
