#!/bin/sh
# tests/4000-zoom-book.t: zoom-book on SQLite and PostgreSQL against the
# emulated Zoom and Google Calendar: a booking end to end (meeting,
# calendar event with the attendee, ledger row, two reminders, the link),
# a retried request, a slot not free, the calendar failing after Zoom
# succeeded (the meeting deleted, no booking), 20 concurrent bookings of
# one slot, Jitsi links without Zoom, cancel and reschedule; bad lines,
# configuration, unreachable services and output errors.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

check_exit "--help exits 0" 0 zoom-book --help
check_grep "--help prints the usage" '^usage: zoom-book' "$T/out"
check_exit "a bad option exits 64" 64 zoom-book --bogus
check_exit "--reschedule needs --start" 64 zoom-book --reschedule 3
check_exit "--cancel needs an id" 64 zoom-book --cancel x
check_exit "only some Zoom variables exit 78" 78 \
	env ZOOM_ACCOUNT_ID=a zoom-book --db "$T/c.db" </dev/null
check_grep "the missing ones are named" 'ZOOM_CLIENT_ID' "$T/err"
check_exit "unreachable PostgreSQL exits 75" 75 \
	zoom-book --db postgres://u:pw-secret-4@127.0.0.1:1/x </dev/null
check_no_grep "the password is never shown" 'pw-secret-4' "$T/err"

fake_start
SALESLINE_SECRET_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
export SALESLINE_SECRET_KEY
export GOOGLE_CLIENT_ID=fake-client-id.apps.googleusercontent.com \
	GOOGLE_CLIENT_SECRET=fake-client-secret GOOGLE_OAUTH_URL="$FAKE_URL" \
	GOOGLE_AUTH_URL="$FAKE_URL/o/oauth2/v2/auth" GOOGLE_API_URL="$FAKE_URL"
export ZOOM_ACCOUNT_ID=fake-account ZOOM_CLIENT_ID=fake-zoom-client \
	ZOOM_CLIENT_SECRET=fake-zoom-secret ZOOM_OAUTH_URL="$FAKE_URL" \
	ZOOM_API_URL="$FAKE_URL"

# Tuesday 1 December 2026, 08:00 in Makassar; the meeting on Wednesday
# at 10:00 WITA (02:00 UTC).
NOW=2026-12-01T00:00:00Z
START=2026-12-02T02:00:00Z
S0=$(date -u -d "$START" +%s)

q() {
	salesline-db --db "$DB" query "$@"
}

# zb JSON...: zoom-book at $NOW, one line per argument; records in
# $T/b, stderr in $T/e, status in $st
zb() {
	st=0
	printf '%s\n' "$@" | SALESLINE_NOW=$NOW zoom-book --db "$DB" \
		>"$T/b" 2>"$T/e" || st=$?
}

req() { # PROSPECT [START [EMAIL]]
	printf '{"rep":"anna","prospect":"%s","email":"%s","start":"%s","topic":"Intro call"}' \
		"$1" "${3:-olga@example.com}" "${2:-$START}"
}

connect_cal() {
	# no URL of an earlier run may be read for this one
	rm -f "$T/conn.err"
	rep-admin --db "$DB" calendar connect "$1" --timeout 30 \
		>"$T/conn.out" 2>"$T/conn.err" &
	_c=$!
	_i=0
	until grep -q 'http://' "$T/conn.err" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
		[ $_i -lt 100 ] || break
	done
	curl -s -L -o /dev/null "$(grep -o 'http://[^ ]*' "$T/conn.err" |
		head -n 1)" || true
	wait $_c
}

meetings() { # the emulator's live Zoom meetings
	curl -s "$FAKE_URL/_fake/zoom/meetings" | jq -c 'select(.deleted != true)'
}

events() {
	curl -s "$FAKE_URL/_fake/google/events" | jq -c 'select(.deleted != true)'
}

setup() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	i=1
	while [ $i -le 25 ]; do
		q "INSERT INTO prospects (chat, created_at, updated_at)
			VALUES ('chat-$i', 1, 1)" >/dev/null
		i=$((i + 1))
	done
	connect_cal anna
}

book() {
	setup
	zb "$(req 1)"
	check_exit "a booking: exit 0" 0 test "$st" -eq 0
	jq -c '{type, rep, prospect, start, "end": .["end"], email, provider, topic, local}' \
		"$T/b" >"$T/r"
	check_json "the booking record" '{"type":"booking","rep":"anna",
		"prospect":"1","start":"2026-12-02T02:00:00Z",
		"end":"2026-12-02T02:30:00Z","email":"olga@example.com",
		"provider":"zoom","topic":"Intro call",
		"local":"Wed 2 Dec 10:00-10:30 WITA"}' "$T/r"
	check_grep "with the Zoom link" '"join_url":"https://[^"]*zoom.us/j/' \
		"$T/b"
	mid=$(jq -r .meeting_id "$T/b")
	check_grep "a 64-bit meeting id, as a string" '^[0-9]{11,}$' \
		"$(echo "$mid" >"$T/mid"; echo "$T/mid")"
	meetings | jq -c '{start_time, duration, topic}' >"$T/r"
	check_json "the Zoom meeting exists, its start in UTC" \
		'{"start_time":"2026-12-02T02:00:00Z","duration":30,
		"topic":"Intro call"}' "$T/r"
	meetings | jq -r '.id | tostring' >"$T/r"
	check_exit "with the id the booking has" 0 test "$(cat "$T/r")" = "$mid"
	events | jq -c '[.attendees[].email]' >"$T/r"
	check_json "the calendar event has the attendee" '["olga@example.com"]' \
		"$T/r"
	check_grep "and the link" "$(jq -r .join_url "$T/b" | cut -c1-30)" \
		"$(events >"$T/ev"; echo "$T/ev")"
	q "SELECT status, provider, meeting_id, rep_id, prospect_id, start_at
		FROM bookings" >"$T/r"
	check_json "the ledger has the booking" "{\"status\":\"booked\",
		\"provider\":\"zoom\",\"meeting_id\":\"$mid\",\"rep_id\":1,
		\"prospect_id\":1,\"start_at\":$S0}" "$T/r"
	q "SELECT kind, due - $S0 AS before, status FROM scheduled_actions
		ORDER BY due" >"$T/r"
	check_json "two reminders, 24 h and 1 h before" \
		'{"kind":"reminder_24h","before":-86400,"status":"pending"}
		{"kind":"reminder_1h","before":-3600,"status":"pending"}' "$T/r"
	q "SELECT stage, email FROM prospects WHERE id = 1" >"$T/r"
	check_json "the prospect is booked, the e-mail kept" \
		'{"stage":"booked","email":"olga@example.com"}' "$T/r"
	q "SELECT count(*) AS n FROM tokens WHERE provider = 'zoom'
		AND value LIKE 'v1:%'" >"$T/r"
	check_json "the Zoom token is cached, sealed" '{"n":1}' "$T/r"
	check_no_grep "no secret on stderr" 'fake-zoom-secret|fake-client-secret' \
		"$T/e"

	zb "$(req 1)"
	check_exit "the same request again: exit 0" 0 test "$st" -eq 0
	check_grep "it answers with the booking" '"duplicate":true' "$T/b"
	check_exit "and books nothing more" 0 test "$(meetings | wc -l)" -eq 1

	zb "$(req 2 2026-12-02T02:00:00Z)"
	check_exit "the slot is not free for another: exit 1" 0 test "$st" -eq 1
	jq -c '{type, code: .error.code, temporary: .error.temporary}' \
		"$T/b" >"$T/r"
	check_json "booking.failed says so" \
		'{"type":"booking.failed","code":"not_free","temporary":false}' \
		"$T/r"
	zb "$(req 2 2026-12-02T02:15:00Z)"
	check_grep "an off-grid start is not free" '"code":"not_free"' "$T/b"
	zb "$(req 2 2026-12-02T03:00:00Z not-an-address)"
	check_grep "no e-mail, no booking" '"code":"bad_email"' "$T/b"
	check_grep "the field is named" "'email'" "$T/e"
	check_exit "one Zoom meeting still" 0 test "$(meetings | wc -l)" -eq 1

	# the second booking also works, and the token is reused
	zb "$(req 2 2026-12-02T03:00:00Z)"
	check_exit "another slot books" 0 test "$st" -eq 0
	check_exit "one Zoom token for both" 0 test "$(jq -c \
		'select(.path == "/oauth/token")' "$FAKE_LOG" | wc -l)" -eq 1
}
for_each_db book

undo() {
	setup
	curl -s -d '{"method":"POST","path":"/calendar/v3/calendars/*/events","status":403,"body":{"error":{"code":403,"message":"Insufficient Permission","errors":[{"domain":"global","reason":"insufficientPermissions","message":"Insufficient Permission"}],"status":"PERMISSION_DENIED"}}}' \
		"$FAKE_URL/_fake/rules" >/dev/null
	zb "$(req 1)"
	check_exit "the calendar refuses after Zoom: exit 77" 0 test "$st" -eq 77
	check_grep "booking.failed names the calendar" \
		'"type":"booking.failed".*"code":"calendar"' "$T/b"
	check_grep "and says why" "Google Calendar: .*not booked" "$T/e"
	check_exit "a Zoom meeting was made" 0 test "$(curl -s \
		"$FAKE_URL/_fake/zoom/meetings" | wc -l)" -eq 1
	check_exit "and deleted again" 0 test "$(meetings | wc -l)" -eq 0
	q "SELECT count(*) AS n FROM bookings" >"$T/r"
	check_json "no booking row" '{"n":0}' "$T/r"
	q "SELECT count(*) AS n FROM scheduled_actions" >"$T/r"
	check_json "no reminders" '{"n":0}' "$T/r"
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null

	zb "$(req 1)"
	check_exit "once the calendar works, the slot books" 0 test "$st" -eq 0

	req 2 2026-12-02T04:00:00Z >"$T/in"
	echo >>"$T/in"
	check_exit "Zoom unreachable: exit 75" 75 env \
		ZOOM_API_URL=http://127.0.0.1:1 SALESLINE_HTTP_BACKOFF_SCALE=0.01 \
		SALESLINE_NOW=$NOW zoom-book --db "$DB" <"$T/in"
	check_grep "a temporary failure" '"code":"zoom".*"temporary":true' \
		"$T/out"
	q "SELECT count(*) AS n FROM bookings WHERE start_at = $((S0 + 7200))" \
		>"$T/r"
	check_json "the hold is gone" '{"n":0}' "$T/r"
}
for_each_db undo

race() {
	setup
	i=1
	while [ $i -le 20 ]; do
		req $i | SALESLINE_NOW=$NOW zoom-book --db "$DB" \
			>"$T/race$i.out" 2>"$T/race$i.err" &
		eval "p$i=\$!"
		i=$((i + 1))
	done
	i=1
	while [ $i -le 20 ]; do
		eval "wait \$p$i" || true
		i=$((i + 1))
	done
	cat "$T"/race*.out >"$T/all"
	check_exit "20 bookings of one slot: one booking" 0 \
		test "$(grep -c '"type":"booking"' "$T/all")" -eq 1
	check_exit "19 clear refusals" 0 \
		test "$(grep -c '"type":"booking.failed".*"code":"\(taken\|not_free\)"' \
		"$T/all")" -eq 19
	q "SELECT count(*) AS n FROM bookings WHERE status = 'booked'" >"$T/r"
	check_json "one booking row" '{"n":1}' "$T/r"
	check_exit "one Zoom meeting" 0 test "$(meetings | wc -l)" -eq 1
	check_exit "one calendar event" 0 test "$(events | wc -l)" -eq 1
}
for_each_db race

jitsi() {
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	q "INSERT INTO prospects (chat, created_at, updated_at)
		VALUES ('1', 1, 1), ('2', 1, 1)" >/dev/null
	( unset ZOOM_ACCOUNT_ID ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET \
		GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET
	zb "$(req 1)" "$(req 2 2026-12-02T03:00:00Z)"
	echo "$st" >"$T/st" )
	check_exit "offline: both book" 0 test "$(cat "$T/st")" -eq 0
	check_exit "with Jitsi links" 0 test "$(jq -r .provider "$T/b" |
		sort -u)" = jitsi
	check_exit "in rooms nobody can guess" 0 test "$(jq -r .join_url "$T/b" |
		grep -cE '^https://meet\.jit\.si/salesline-[a-z2-9]{24}$')" -eq 2
	check_exit "and not the same room" 0 test "$(jq -r .join_url "$T/b" |
		sort -u | wc -l)" -eq 2
	q "SELECT count(*) AS n FROM scheduled_actions" >"$T/r"
	check_json "four reminders" '{"n":4}' "$T/r"
}
for_each_db jitsi

change() {
	setup
	zb "$(req 1)"
	id=$(jq -r .id "$T/b")
	mid=$(jq -r .meeting_id "$T/b")
	check_exit "reschedule to 11:00" 0 sh -c "SALESLINE_NOW=$NOW zoom-book \
		--db '$DB' --reschedule $id --start 2026-12-02T03:00:00Z"
	check_grep "the booking moved" '"start":"2026-12-02T03:00:00Z"' "$T/out"
	meetings | jq -r .start_time >"$T/r"
	check_grep "the Zoom meeting moved" '^2026-12-02T03:00:00Z$' "$T/r"
	check_exit "one calendar event, the new one" 0 \
		test "$(events | jq -r .start.dateTime)" = 2026-12-02T11:00:00+08:00
	q "SELECT kind, due - $((S0 + 3600)) AS before FROM scheduled_actions
		WHERE status = 'pending' ORDER BY due" >"$T/r"
	check_json "the reminders moved" '{"kind":"reminder_24h","before":-86400}
		{"kind":"reminder_1h","before":-3600}' "$T/r"
	zb "$(req 2)"
	check_exit "the old slot is free again" 0 test "$st" -eq 0

	check_exit "cancel" 0 sh -c "SALESLINE_NOW=$NOW zoom-book --db '$DB' \
		--cancel $id --reason 'prospect asked'"
	check_grep "booking.cancelled" \
		"\"type\":\"booking.cancelled\".*\"id\":\"$id\"" "$T/out"
	check_exit "the Zoom meeting is deleted" 0 test "$(meetings |
		jq -r '.id | tostring' | grep -c "^$mid$")" -eq 0
	check_exit "one calendar event left" 0 test "$(events | wc -l)" -eq 1
	q "SELECT status FROM bookings WHERE id = $id" >"$T/r"
	check_json "the booking is cancelled" '{"status":"cancelled"}' "$T/r"
	q "SELECT status, cancel_reason FROM scheduled_actions
		WHERE booking_id = $id AND kind = 'reminder_1h'
		AND cancel_reason = 'booking_cancelled'" >"$T/r"
	check_json "its reminders are cancelled" \
		'{"status":"cancelled","cancel_reason":"booking_cancelled"}' "$T/r"
	q "SELECT stage FROM prospects WHERE id = 1" >"$T/r"
	check_json "the prospect is qualified again" '{"stage":"qualified"}' \
		"$T/r"
	check_exit "cancelling again: exit 1" 1 sh -c "SALESLINE_NOW=$NOW \
		zoom-book --db '$DB' --cancel $id"
	check_grep "and says why" "booking $id is cancelled, not booked" \
		"$T/err"
	check_exit "an unknown booking: exit 1" 1 sh -c "SALESLINE_NOW=$NOW \
		zoom-book --db '$DB' --cancel 999"
}
for_each_db change

input() {
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	q "INSERT INTO prospects (chat, created_at, updated_at)
		VALUES ('1', 1, 1)" >/dev/null
	( unset ZOOM_ACCOUNT_ID ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET
	zb 'not json' '{"rep":"anna","prospect":"1","email":"o@example.com","start":5}' \
		'{"rep":"bob","prospect":"1","email":"o@example.com","start":"2026-12-02T02:00:00Z"}' \
		'{"rep":"anna","prospect":"77","email":"o@example.com","start":"2026-12-02T02:00:00Z"}' \
		"$(req 1)"
	echo "$st" >"$T/st" )
	check_exit "bad lines: exit 1" 0 test "$(cat "$T/st")" -eq 1
	check_grep "a line that is not JSON is named" '^zoom-book: stdin:1: ' "$T/e"
	check_grep "a start in the past is not free" '"code":"not_free"' "$T/b"
	check_grep "an unknown rep" '"code":"unknown_rep"' "$T/b"
	check_grep "an unknown prospect" '"code":"unknown_prospect"' "$T/b"
	check_exit "the good line is booked" 0 \
		test "$(grep -c '"type":"booking"' "$T/b")" -eq 1
	check_exit "output errors exit 74" 74 sh -c "unset ZOOM_ACCOUNT_ID \
		ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET; printf '%s\n' '$(req 1 \
		2026-12-02T05:00:00Z)' | SALESLINE_NOW=$NOW zoom-book --db '$DB' \
		>/dev/full"
	check_exit "a dry run books nothing" 0 sh -c "unset ZOOM_ACCOUNT_ID \
		ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET; printf '%s\n' '$(req 1 \
		2026-12-02T06:00:00Z)' | SALESLINE_NOW=$NOW zoom-book -n --db '$DB'"
	check_grep "but says what it would" '"dry_run":true' "$T/out"
	q "SELECT count(*) AS n FROM bookings" >"$T/r"
	check_json "two bookings in all" '{"n":2}' "$T/r"
}
for_each_db input

done_testing
