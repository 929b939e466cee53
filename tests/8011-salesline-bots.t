#!/bin/sh
# tests/8011-salesline-bots.t: many bots on one ledger, one salesline-run
# each, chosen with --bot NAME from $SALESLINE_BOT_DIR/NAME.env, each with
# its own rep; and many reps on one bot through Telegram Business
# connections.  Every prospect is answered once, by the bot it wrote to,
# through the connection it wrote through, in its rep's name; a week
# later one salesline-tick per bot sends every follow-up once, each by its
# own bot, whichever tick claimed it.  SQLite and PostgreSQL.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

ACME=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
BETA=7000000002:AAHbetabetabetabetabetabetabeta12
NOW=2026-12-01T00:00:00Z
D=$(($(date -u -d "$NOW" +%s) - 5))
WEEK=2026-12-08T00:30:00Z
SALESLINE_HTTP_BACKOFF_SCALE=0.01
export SALESLINE_HTTP_BACKOFF_SCALE

q() {
	salesline-db --db "$DB" query "$@"
}

post() { # TOKEN JSON: an update for that bot
	printf '%s\n' "$2" | curl -s --data-binary @- \
		"$FAKE_URL/_fake/telegram/updates?token=$1" >/dev/null
}

say() { # TOKEN CHAT TEXT
	post "$1" "{\"message\":{\"chat\":{\"id\":$2,\"type\":\"private\"},\"from\":{\"id\":$2,\"first_name\":\"Olga\",\"language_code\":\"ru\"},\"date\":$D,\"text\":\"$3\"}}"
}

# bsay CONNECTION CHAT TEXT: a prospect writes to a rep's own account
bsay() {
	post "$ACME" "{\"business_message\":{\"business_connection_id\":\"$1\",\"chat\":{\"id\":$2,\"type\":\"private\"},\"from\":{\"id\":$2,\"first_name\":\"Ivan\",\"language_code\":\"ru\"},\"date\":$D,\"text\":\"$3\"}}"
}

connect() { # CONNECTION USER: a rep connects the bot to their account
	post "$ACME" "{\"business_connection\":{\"id\":\"$1\",\"user\":{\"id\":$2,\"is_bot\":false,\"first_name\":\"Rep\"},\"user_chat_id\":$2,\"date\":1764547200,\"is_enabled\":true,\"can_reply\":true}}"
}

sent() { # TOKEN: what that bot sent
	curl -s "$FAKE_URL/_fake/telegram/sent?token=$1"
}

wait_sent() { # TOKEN N
	_n=300
	while [ "$(sent "$1" | grep -c .)" -lt "$2" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
}

everyone() { # TEXT
	say "$ACME" 880000001 "$1"
	say "$BETA" 880000002 "$1"
	bsay bc-vera 880000003 "$1"
	bsay bc-gleb 880000004 "$1"
}

bots() {
	fake_start -t "$ACME" -t "$BETA"
	export TELEGRAM_API_URL="$FAKE_URL" SALESLINE_NOW="$NOW"
	mkdir -p "$T/bots"
	printf 'TELEGRAM_BOT_TOKEN=%s\n' "$ACME" >"$T/bots/acme.env"
	printf 'TELEGRAM_BOT_TOKEN=%s\n' "$BETA" >"$T/bots/beta.env"
	rep-admin --db "$DB" add anna --display-name "Анна" --tz Asia/Makassar \
		--bot 7000000001 >/dev/null
	rep-admin --db "$DB" add boris --display-name "Борис" --tz Europe/Moscow \
		--bot 7000000002 >/dev/null
	connect bc-vera 5550003
	connect bc-gleb 5550004
	everyone "Здравствуйте"
	for b in acme beta; do
		SALESLINE_BOT_DIR=$T/bots SALESLINE_VAR=$T/var-$b \
			salesline-run --bot $b --db "$DB" --no-delay --debounce 0.3 \
			>/dev/null 2>"$T/$b.err" &
		eval "run_$b=\$!"
	done
	wait_sent "$ACME" 3
	wait_sent "$BETA" 1
	cp "$FAKE_LOG" "$T/log1"
	sent "$ACME" | jq -c '[.chat_id, .business_connection_id]' | sort >"$T/a"
	sent "$BETA" | jq -c '[.chat_id, .business_connection_id]' >"$T/b"
	everyone "Напишите мне через неделю"
	wait_sent "$ACME" 6
	wait_sent "$BETA" 2
	sleep 1
	# shellcheck disable=SC2154
	kill -TERM "$run_acme" "$run_beta"
	wait "$run_acme" || true
	wait "$run_beta" || true

	check_json "acme answered its own prospect and both connections, once each" \
		'[880000001,null]
[880000003,"bc-vera"]
[880000004,"bc-gleb"]' "$T/a"
	check_json "beta answered its own prospect, once" '[880000002,null]' \
		"$T/b"
	sent "$BETA" | jq -r .text >"$T/x"
	check_grep "in its rep's name" 'Борис' "$T/x"
	q "SELECT p.chat, r.name AS rep FROM prospects p JOIN reps r
		ON r.id = p.rep_id ORDER BY p.chat" >"$T/p"
	grep -c '"rep"' "$T/p" >"$T/n"
	check_grep "every prospect has a rep" '^4$' "$T/n"
	check_grep "the beta prospect is Boris's" \
		'"chat":"880000002","rep":"boris"' "$T/p"
	q "SELECT count(*) AS n FROM messages WHERE direction = 'in'
		AND status = 'answered'" >"$T/p"
	check_json "every message is answered in the ledger" '{"n":8}' "$T/p"
	q "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'followup'
		AND status = 'pending'" >"$T/p"
	check_json "four follow-ups are pending" '{"n":4}' "$T/p"

	export SALESLINE_NOW="$WEEK"
	for b in acme beta; do
		check_exit "the $b tick" 0 env SALESLINE_BOT_DIR="$T/bots" \
			SALESLINE_VAR="$T/var-$b" salesline-tick --bot $b \
			--db "$DB" --no-delay --no-metrics
	done
	sent "$ACME" | jq -r .chat_id | sort | uniq -c | awk '{ print $1 }' |
		tr '\n' ' ' >"$T/x"
	check_grep "acme's three prospects got three messages each" \
		'^3 3 3 $' "$T/x"
	sent "$BETA" | jq -r .chat_id | sort | uniq -c | awk '{ print $1 }' \
		>"$T/x"
	check_grep "beta's one got three" '^3$' "$T/x"
	q "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'followup'
		AND status = 'done'" >"$T/p"
	check_json "every follow-up is done" '{"n":4}' "$T/p"
	unset SALESLINE_NOW
}
for_each_db bots
done_testing
