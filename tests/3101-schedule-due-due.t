#!/bin/sh
# tests/3101-schedule-due-due.t: schedule-due --due on SQLite and
# PostgreSQL with the clock fast-forwarded by SALESLINE_NOW: a follow-up in
# a week is emitted once, after the week; the re-checks (the client wrote
# first, a human took over, unreachable, closed, a cancelled booking); the
# lease, the message key that closes a sent action, the attempts limit;
# --follow and SIGTERM.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T0=$(date -u -d 2026-11-22T10:00:00Z +%s)
DAY=86400

at() { # at TIME ARGS...: schedule-due on $DB with the clock at TIME
	_t=$1
	shift
	SALESLINE_NOW=$_t schedule-due --db "$DB" "$@"
}

q() { # SQL: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

ids() { # the ids of the records in $T/due, as one line
	jq -r .id "$T/due" 2>/dev/null | tr '\n' ' '
}

status() { # ID: "status cancel_reason" of action ID
	q "SELECT status, cancel_reason FROM scheduled_actions WHERE id = $1" |
		jq -r '"\(.status) \(.cancel_reason)"'
}

check_status() { # NAME ID WANT
	_got=$(status "$2")
	if [ "$_got" = "$3" ]; then
		ok "$1" true
	else
		ok "$1 (got '$_got', want '$3')" false
	fi
}

check_ids() { # NAME WANT: the ids emitted, in order (kept in $T/due)
	cp "$T/out" "$T/due"
	_got=$(ids)
	if [ "$_got" = "$2" ]; then
		ok "$1" true
	else
		ok "$1 (got '$_got', want '$2')" false
	fi
}

seed() {
	q "INSERT INTO reps (name, created_at, updated_at)
		VALUES ('anna', 1, 1)" >/dev/null
	q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
		WHERE i < 12) INSERT INTO prospects (id, chat, rep_id,
		business_connection, created_at, updated_at) SELECT i,
		CAST(100 + i AS TEXT), 1, CASE WHEN i = 4 THEN 'bc-4' ELSE ''
		END, 1, 1 FROM n" >/dev/null
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		status, created_at, updated_at) VALUES (1, 11, $((T0 + 3 * DAY)),
		$((T0 + 3 * DAY + 1800)), 'booked', 1, 1), (1, 12,
		$((T0 + 3 * DAY + 3600)), $((T0 + 3 * DAY + 5400)), 'booked', 1,
		1)" \
		>/dev/null
}

flow() {
	seed
	# "через неделю", as time-parse gives it: local time with an offset.
	echo '{"type":"followup","prospect":"1","due":"2026-11-29T18:00:00+08:00","reason":"через неделю"}' |
		at "$T0" --add >"$T/o" 2>"$T/e" || :
	check_json "a follow-up in a week is stored" \
		'{"type":"followup.scheduled","prospect":"1","due":"2026-11-29T10:00:00Z","reason":"через неделю","id":"1","kind":"followup","key":"followup:1","status":"pending"}' \
		"$T/o"
	check_exit "--due a minute before the week" 0 \
		at $((T0 + 7 * DAY - 60)) --due
	check_ids "nothing is emitted before the week" ""
	check_exit "--due after the week" 0 at $((T0 + 7 * DAY)) --due
	check_json "it is emitted once, with everything a reply needs" \
		'{"type":"followup.due","id":"1","prospect":"1","channel":"telegram","chat":"101","rep":"anna","kind":"followup","due":"2026-11-29T10:00:00Z","reason":"через неделю","key":"followup:1","attempt":1}' \
		"$T/out"
	check_exit "--due a minute later" 0 at $((T0 + 7 * DAY + 60)) --due
	check_ids "not again while it is claimed" ""
	check_exit "--done" 0 at $((T0 + 7 * DAY + 90)) --done 1
	for t in $((T0 + 8 * DAY)) $((T0 + 60 * DAY)); do
		check_exit "--due at $t" 0 at "$t" --due
		check_ids "never again after --done" ""
	done
	check_status "the ledger says done" 1 "done null"

	# The re-checks, all due in one day.
	for p in 2 3 4 5 6 7 8 9 10; do
		echo '{"prospect":"'$p'","due":'$((T0 + DAY))',"text":"Hello?"}'
	done >"$T/in"
	echo '{"prospect":"11","kind":"reminder_24h","booking":1,"due":'$((T0 + 2 * DAY))'}' >>"$T/in"
	echo '{"prospect":"12","kind":"reminder_1h","booking":2,"due":'$((T0 + 3 * DAY))'}' >>"$T/in"
	check_exit "the day's follow-ups are stored" 0 at "$T0" --add <"$T/in"
	# the meeting of 11 is called off
	q "UPDATE bookings SET status = 'cancelled' WHERE id = 1" >/dev/null
	# 2 wrote after the action: a message in the ledger
	q "INSERT INTO messages (direction, prospect_id, chat, text, key, status,
		at, created_at, updated_at) VALUES ('in', 2, '102', 'actually, now',
		'tg:in:2', 'new', $((T0 + 3600)), $((T0 + 3600)),
		$((T0 + 3600)))" >/dev/null
	# 3 wrote after it: prospects.last_in_at
	q "UPDATE prospects SET last_in_at = $((T0 + 60)) WHERE id = 3" >/dev/null
	# 4 wrote before it was created: still due, though Telegram's clock
	# runs ahead and dates the message after the action
	q "INSERT INTO messages (direction, prospect_id, chat, text, key, status,
		at, created_at, updated_at) VALUES ('in', 4, '104', 'write later',
		'tg:in:4', 'answered', $((T0 + 30)), $((T0 - 60)),
		$((T0 - 60)))" >/dev/null
	# 5 is in a human's hands
	q "UPDATE prospects SET human_active = 1, human_since = $T0
		WHERE id = 5" >/dev/null
	# 6 was taken over and handed back: tg-fetch cancelled its follow-up
	q "UPDATE prospects SET human_active = 1, human_since = $T0
		WHERE id = 6" >/dev/null
	q "UPDATE scheduled_actions SET status = 'cancelled', cancel_reason =
		'human_takeover', updated_at = $T0 WHERE prospect_id = 6 AND
		status = 'pending'" >/dev/null
	q "UPDATE prospects SET human_active = 0 WHERE id = 6" >/dev/null
	# 7 blocked the bot, 8 is lost
	q "UPDATE prospects SET unreachable = 1 WHERE id = 7" >/dev/null
	q "UPDATE prospects SET stage = 'lost' WHERE id = 8" >/dev/null

	check_exit "--due after a day" 0 at $((T0 + DAY)) --due
	check_ids "only the follow-ups that still make sense" "4 9 10 "
	jq -c 'select(.id == "4") | [.prospect, .chat, .business_connection,
		.text]' "$T/due" >"$T/got" 2>&1 || :
	check_json "a Business chat carries its connection" \
		'["4","104","bc-4","Hello?"]' "$T/got"
	check_status "client wrote (message) -> cancelled" 2 \
		"cancelled client_wrote"
	check_status "client wrote (last_in_at) -> cancelled" 3 \
		"cancelled client_wrote"
	check_status "human active -> cancelled" 5 "cancelled human_takeover"
	check_status "taken over and handed back: stays cancelled" 6 \
		"cancelled human_takeover"
	check_status "unreachable -> cancelled" 7 "cancelled unreachable"
	check_status "lost -> cancelled" 8 "cancelled closed"

	# The lease: an action that is not closed comes back after it.
	check_exit "--due within the lease" 0 at $((T0 + DAY + 299)) --due
	check_ids "nothing while the lease holds" ""
	# 4 was sent meanwhile (tg-send stored its key as sent)
	q "INSERT INTO messages (direction, prospect_id, chat, text, key, status,
		at, sent_at, created_at, updated_at) VALUES ('out', 4, '104',
		'Hello?', 'followup:4', 'sent', $((T0 + DAY + 5)),
		$((T0 + DAY + 6)), $((T0 + DAY + 5)), $((T0 + DAY + 6)))" >/dev/null
	# 9 is being sent right now
	q "INSERT INTO messages (direction, prospect_id, chat, text, key, status,
		at, created_at, updated_at) VALUES ('out', 9, '109', 'Hello?',
		'followup:9', 'sending', $((T0 + DAY + 5)), $((T0 + DAY + 5)),
		$((T0 + DAY + 5)))" >/dev/null
	check_exit "--due after the lease" 0 at $((T0 + DAY + 300)) --due
	check_ids "only the one never sent comes back" "10 "
	jq -c '[.key, .attempt]' "$T/due" >"$T/got" 2>&1 || :
	check_json "under the same key, as a second attempt" \
		'["followup:10",2]' "$T/got"
	check_status "the sent one is closed as done" 4 "done null"
	check_status "the one being sent keeps its claim" 9 "claimed null"
	q "UPDATE messages SET status = 'failed' WHERE key = 'followup:9'" \
		>/dev/null
	check_exit "--due after the next lease" 0 at $((T0 + DAY + 600)) --due
	check_ids "a failed send is tried again, the unclosed one too" "9 10 "
	check_exit "--due after the third lease, --max-attempts 3" 0 \
		at $((T0 + DAY + 900)) --due --max-attempts 3
	check_ids "until the attempts run out" ""
	check_status "then it fails" 9 "failed null"
	check_status "as does the one never closed" 10 "failed null"

	check_exit "--due two days later" 0 at $((T0 + 2 * DAY)) --due
	check_ids "a reminder of a cancelled booking is not sent" ""
	check_status "-> cancelled" 11 "cancelled booking_cancelled"
	check_exit "--due at the 1 h reminder" 0 at $((T0 + 3 * DAY)) --due
	jq -c '[.id, .kind, .booking, .start]' "$T/out" >"$T/got" 2>&1 || :
	check_json "a meeting reminder carries its booking" \
		'["12","reminder_1h","2","2026-11-25T11:00:00Z"]' "$T/got"
	check_exit "--done 12" 0 at $((T0 + 3 * DAY + 60)) --done 12
	q "SELECT count(*) AS n FROM scheduled_actions WHERE status IN
		('pending', 'claimed')" >"$T/rows"
	check_json "nothing is left to do" '{"n":0}' "$T/rows"
}
for_each_db flow

# A pipe gets batches of 100 (its reader must keep up with the lease), a
# file batches of 1000; a dry run shows one batch.
batches() {
	q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
		WHERE i < 150) INSERT INTO prospects (id, chat, created_at,
		updated_at) SELECT i, CAST(100 + i AS TEXT), 1, 1 FROM n" >/dev/null
	q "INSERT INTO scheduled_actions (prospect_id, kind, due, status,
		created_at, updated_at) SELECT id, 'followup', $((T0 - 60)),
		'pending', $((T0 - DAY)), $((T0 - DAY)) FROM prospects" >/dev/null
	at "$T0" -n --due | cat >"$T/pipe"
	is "into a pipe, a batch of 100" 100 "$(grep -c followup.due "$T/pipe")"
	at "$T0" -n --due >"$T/file"
	is "into a file, all 150 in one batch" 150 \
		"$(grep -c followup.due "$T/file")"
	at "$T0" -n --due --batch 20 >"$T/file"
	is "--batch sets it" 20 "$(grep -c followup.due "$T/file")"
	at "$T0" --due | cat >"$T/pipe"
	is "into a pipe, batch after batch: all 150" 150 \
		"$(grep -c followup.due "$T/pipe")"
}
for_each_db batches

follow() {
	q "INSERT INTO prospects (id, chat, created_at, updated_at)
		VALUES (1, '101', 1, 1), (2, '102', 1, 1)" >/dev/null
	now=$(date +%s)
	echo '{"prospect":1,"due":'$((now + 2))'}' |
		schedule-due --db "$DB" --add >/dev/null
	schedule-due --db "$DB" --due --follow --interval 1 -v \
		>"$T/follow" 2>"$T/follow.err" &
	pid=$!
	_pids="$_pids $pid"
	echo '{"prospect":2,"due":'"$now"'}' |
		schedule-due --db "$DB" --add >/dev/null
	i=0
	while [ "$(wc -l <"$T/follow")" -lt 2 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM "$pid" 2>/dev/null || :
	st=0
	wait "$pid" || st=$?
	ok "--follow exits 0 on SIGTERM" test "$st" -eq 0
	jq -c .id "$T/follow" >"$T/got" 2>&1 || :
	check_json "--follow emits what was added later and what fell due" \
		'"2"
		"1"' "$T/got"
}
for_each_db follow

done_testing
