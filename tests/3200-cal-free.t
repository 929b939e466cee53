#!/bin/sh
# tests/3200-cal-free.t: cal-free on SQLite and PostgreSQL: working hours
# in Asia/Makassar and in Europe/Berlin across the end of DST, busy time
# from the emulated Google Calendar, an .ics file and the ledger's
# bookings, buffers, notice, the daily cap, all busy, an expired and a
# revoked Google token, and no Google at all; bad lines, configuration
# and output errors.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

check_exit "--help exits 0" 0 cal-free --help
check_grep "--help prints the usage" '^usage: cal-free' "$T/out"
check_exit "a bad option exits 64" 64 cal-free --bogus
check_exit "--days 0 exits 64" 64 cal-free --days 0 anna
check_grep "the option is named" "cal-free: --days: expected a number" \
	"$T/err"
check_exit "two reps exit 64" 64 cal-free anna bob
check_exit "unreachable PostgreSQL exits 75" 75 \
	cal-free --db postgres://u:pw-secret-3@127.0.0.1:1/x anna
check_no_grep "the password is never shown" 'pw-secret-3' "$T/err"
check_exit "a bad SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon cal-free --db "$T/c.db" anna
check_exit "a Google client without its secret exits 78" 78 \
	env GOOGLE_CLIENT_ID=x cal-free --db "$T/c.db" anna
check_grep "the variable is named" 'GOOGLE_CLIENT_SECRET' "$T/err"

fake_start
SALESLINE_SECRET_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
GOOGLE_CLIENT_ID=fake-client-id.apps.googleusercontent.com
GOOGLE_CLIENT_SECRET=fake-client-secret
export SALESLINE_SECRET_KEY GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET
export GOOGLE_OAUTH_URL="$FAKE_URL" GOOGLE_AUTH_URL="$FAKE_URL/o/oauth2/v2/auth" \
	GOOGLE_API_URL="$FAKE_URL"

# Tuesday 1 December 2026, 08:00 in Makassar (UTC+8).
NOW=2026-12-01T00:00:00Z
ICS=$T/anna.ics
cat >"$ICS" <<'EOF'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//salesline tests//EN
BEGIN:VEVENT
UID:lunch-1@test
DTSTART;TZID=Asia/Makassar:20261201T130000
DTEND;TZID=Asia/Makassar:20261201T140000
SUMMARY:Lunch with a client
END:VEVENT
END:VCALENDAR
EOF

# cfq JSON [NOW]: one query; slots in $T/s, stderr in $T/e, status in $st
cfq() {
	st=0
	printf '%s\n' "$1" | SALESLINE_NOW=${2:-$NOW} cal-free --db "$DB" \
		>"$T/s" 2>"$T/e" || st=$?
}

q() {
	salesline-db --db "$DB" query "$@"
}

# starts FILE: the local times of the slots, one line
starts() {
	jq -r .local "$1" | tr '\n' ';'
	echo
}

# connect_cal REP: the loopback flow, the emulator consenting at once
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
	_url=$(grep -o 'http://[^ ]*' "$T/conn.err" | head -n 1)
	curl -s -L -o /dev/null "$_url" || true
	_st=0
	wait $_c || _st=$?
	return $_st
}

busy_google() { # START END: the primary calendar is busy then
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	curl -s -d "{\"id\":\"primary\",\"busy\":[{\"start\":\"$1\",\"end\":\"$2\"}]}" \
		"$FAKE_URL/_fake/google/calendar" >/dev/null
}

hours() {
	q "INSERT INTO prospects (chat, created_at, updated_at)
		VALUES ('880011223', 1, 1)" >/dev/null
	ok "add a rep in Makassar" rep-admin --db "$DB" add anna \
		--tz Asia/Makassar
	cfq '{"rep":"anna","days":1}'
	check_exit "16 half hours from 10:00 (two hours' notice) to 18:00" 0 \
		test "$(wc -l <"$T/s")" -eq 16
	check_grep "the first at 10:00 WITA" \
		'^Tue 1 Dec 10:00-10:30 WITA;.*Tue 1 Dec 17:30-18:00 WITA;$' \
		"$(starts "$T/s" >"$T/st"; echo "$T/st")"
	head -n 1 "$T/s" | jq -c '{type, rep, start, "end": .["end"], duration, sources}' \
		>"$T/r"
	check_json "a slot record" '{"type":"slot","rep":"anna",
		"start":"2026-12-01T02:00:00Z","end":"2026-12-01T02:30:00Z",
		"duration":30,"sources":["hours","bookings"]}' "$T/r"
	check_grep "and in Russian" '"local_ru":"вт 1 декабря 10:00-10:30 WITA"' \
		"$T/s"

	cfq '{"rep":"anna","limit":1,"tz":"America/New_York","chat":"42","prospect":"1"}'
	check_grep "the prospect's own time" \
		'"prospect_local":"Mon 30 Nov 21:00-21:30 EST"' "$T/s"
	check_grep "other fields pass through" '"chat":"42"' "$T/s"
	check_exit "limit 1: one slot" 0 test "$(wc -l <"$T/s")" -eq 1

	cfq '{"rep":"anna","duration":60,"days":1}'
	check_exit "an hour: starts on the grid up to 17:00" 0 \
		test "$(wc -l <"$T/s")" -eq 15
	check_grep "the last hour ends at 18:00" '17:00-18:00 WITA' "$T/s"

	# Berlin, Friday 23 October 2026 07:00 CEST; DST ends on Sunday 25.
	ok "add a rep in Berlin" rep-admin --db "$DB" add berlin \
		--tz Europe/Berlin --notice 0 \
		--hours '{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}'
	cfq '{"rep":"berlin","days":4}' 2026-10-23T05:00:00Z
	check_exit "Friday and Monday, 16 slots each" 0 \
		test "$(wc -l <"$T/s")" -eq 32
	check_grep "Friday 09:00 CEST is 07:00 UTC" \
		'"start":"2026-10-23T07:00:00Z".*"local":"Fri 23 Oct 09:00-09:30 CEST"' \
		"$T/s"
	check_grep "Monday 09:00 CET is 08:00 UTC" \
		'"start":"2026-10-26T08:00:00Z".*"local":"Mon 26 Oct 09:00-09:30 CET"' \
		"$T/s"
	check_no_grep "no slot on the weekend" '"local":"(Sat|Sun) ' "$T/s"
}
for_each_db hours

sources() {
	rep-admin --db "$DB" add anna --tz Asia/Makassar --ics "$ICS" \
		>/dev/null
	q "INSERT INTO prospects (chat, created_at, updated_at)
		VALUES ('880011223', 1, 1)" >/dev/null
	busy_google 2026-12-01T02:00:00Z 2026-12-01T04:00:00Z
	ok "connect Anna's calendar" connect_cal anna
	q "SELECT calendar_status FROM reps WHERE name = 'anna'" >"$T/r"
	check_json "the calendar is connected" \
		'{"calendar_status":"connected"}' "$T/r"
	q "SELECT count(*) AS n FROM tokens WHERE value LIKE 'v1:%'" >"$T/r"
	check_json "its tokens are sealed in the ledger" '{"n":2}' "$T/r"
	# a meeting 15:00-15:30 WITA in the ledger
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		status, created_at, updated_at) VALUES (1, 1,
		$(date -u -d 2026-12-01T07:00:00Z +%s),
		$(date -u -d 2026-12-01T07:30:00Z +%s), 'booked', 1, 1)" >/dev/null

	cfq '{"rep":"anna","days":1}'
	starts "$T/s" >"$T/st"
	check_grep "Google's 10:00-12:00, the file's 13:00-14:00, the ledger's 15:00 are busy" \
		'^Tue 1 Dec 12:00-12:30 WITA;Tue 1 Dec 12:30-13:00 WITA;Tue 1 Dec 14:00-14:30 WITA;Tue 1 Dec 14:30-15:00 WITA;Tue 1 Dec 15:30-16:00 WITA;' \
		"$T/st"
	check_exit "nine slots" 0 test "$(wc -l <"$T/s")" -eq 9
	check_grep "every source was read" \
		'"sources":\["hours","bookings","ics","google"\]' "$T/s"
	check_no_grep "no warning" . "$T/e"
	jq -c 'select(.path == "/calendar/v3/freeBusy") | .json.items' \
		"$FAKE_LOG" | tail -n 1 >"$T/r"
	check_json "freeBusy asked for the primary calendar" '[{"id":"primary"}]' \
		"$T/r"

	# a calendar Google cannot find counts as busy; health says so
	rep-admin --db "$DB" set anna --calendar primary \
		--calendar ghost@example.com >/dev/null
	check_exit "health: a calendar Google cannot find fails (77)" 77 \
		salesline-health --db "$DB" --skip telegram,model,fetch,tick
	check_grep "naming the calendar (masked), the reason and the fix" \
		"rep 'anna': Google calendar 'g\*\*\*@example.com' not read \\(notFound\\).*rep-admin set anna --calendar" \
		"$T/err"
	rep-admin --db "$DB" set anna --calendar primary >/dev/null
	check_exit "health: with the calendar list fixed, 0" 0 \
		salesline-health --db "$DB" --skip telegram,model,fetch,tick

	# the access token expires: one refresh, then the answer
	n0=$(jq -c 'select(.path == "/token" and .json.grant_type == "refresh_token")' \
		"$FAKE_LOG" | wc -l)
	curl -s -d '{"all":true}' "$FAKE_URL/_fake/google/expire" >/dev/null
	cfq '{"rep":"anna","days":1}'
	n1=$(jq -c 'select(.path == "/token" and .json.grant_type == "refresh_token")' \
		"$FAKE_LOG" | wc -l)
	check_exit "an expired token is refreshed once" 0 \
		test $((n1 - n0)) -eq 1
	check_exit "and the answer is the same" 0 \
		test "$(wc -l <"$T/s")" -eq 9
	check_grep "with Google" '"google"' "$T/s"

	# the grant is revoked: the calendar is disconnected, others serve
	curl -s -X POST "$FAKE_URL/_fake/google/revoke" >/dev/null
	curl -s -d '{"all":true}' "$FAKE_URL/_fake/google/expire" >/dev/null
	cfq '{"rep":"anna","days":1}'
	check_exit "a revoked grant: exit 0" 0 test "$st" -eq 0
	check_grep "a warning says so" \
		"cal-free: warning: stdin:1: rep 'anna': Google calendar access was revoked" \
		"$T/e"
	check_grep "slots from the other sources" \
		'"sources":\["hours","bookings","ics"\]' "$T/s"
	check_grep "Google's busy time is gone, the others stay" \
		'^Tue 1 Dec 10:00-10:30 WITA;' "$(starts "$T/s" >"$T/st"; echo "$T/st")"
	check_no_grep "the file's 13:00 stays busy" '13:00-13:30' "$T/s"
	q "SELECT calendar_status FROM reps WHERE name = 'anna'" >"$T/r"
	check_json "the calendar is marked disconnected" \
		'{"calendar_status":"disconnected"}' "$T/r"
	q "SELECT action, subject FROM audit WHERE action = 'calendar.disconnected'" \
		>"$T/r"
	check_json "and the ledger keeps a warning" \
		'{"action":"calendar.disconnected","subject":"anna"}' "$T/r"
	cfq '{"rep":"anna","days":1}'
	check_grep "later queries say how to reconnect" \
		"rep-admin calendar connect anna" "$T/e"
}
for_each_db sources

limits() {
	q "INSERT INTO prospects (chat, created_at, updated_at)
		VALUES ('880011223', 1, 1)" >/dev/null
	rep-admin --db "$DB" add bea --tz Asia/Makassar --buffer-before 30 \
		--buffer-after 15 >/dev/null
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		status, created_at, updated_at) VALUES (1, 1,
		$(date -u -d 2026-12-01T07:00:00Z +%s),
		$(date -u -d 2026-12-01T07:30:00Z +%s), 'booked', 1, 1)" >/dev/null
	cfq '{"rep":"bea","days":1}'
	check_no_grep "buffer before: 15:30 is too close after 15:00" \
		'15:30-16:00' "$T/s"
	check_no_grep "buffer after: 14:30 is too close before" '14:30-15:00' \
		"$T/s"
	check_grep "14:00 is free" '14:00-14:30' "$T/s"
	check_grep "16:00 is free" '16:00-16:30' "$T/s"

	rep-admin --db "$DB" add cap --tz Asia/Makassar --daily-cap 1 \
		--notice 0 >/dev/null
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		status, created_at, updated_at) VALUES (2, 1,
		$(date -u -d 2026-12-01T08:00:00Z +%s),
		$(date -u -d 2026-12-01T08:30:00Z +%s), 'booked', 1, 1)" >/dev/null
	cfq '{"rep":"cap","days":2}'
	check_no_grep "a day at its cap offers nothing" '"local":"Tue 1 Dec' \
		"$T/s"
	check_exit "the next day offers its 18 half hours" 0 \
		test "$(grep -c '"local":"Wed 2 Dec' "$T/s")" -eq 18

	rep-admin --db "$DB" add late --tz Asia/Makassar --notice 600 \
		>/dev/null
	cfq '{"rep":"late","days":1}'
	check_exit "ten hours' notice from 08:00: from 18:00, nothing today" 0 \
		test ! -s "$T/s"

	rep-admin --db "$DB" add full --tz Asia/Makassar --ics "$T/full.ics" \
		>/dev/null
	printf 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261130T000000Z\r\nDTEND:20261210T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
		>"$T/full.ics"
	check_exit "all busy: exit 0" 0 \
		sh -c "echo '{\"rep\":\"full\",\"days\":5}' |
		SALESLINE_NOW=$NOW cal-free --db '$DB'"
	check_exit "and nothing" 0 test ! -s "$T/out"

	rep-admin --db "$DB" add gone --tz Asia/Makassar --ics "$T/none.ics" \
		>/dev/null
	cfq '{"rep":"gone","days":1}'
	check_grep "a missing .ics is said" \
		"rep 'gone': calendar file not read: .*none.ics" "$T/e"
	check_grep "and left out of the sources" '"sources":\["hours","bookings"\]' \
		"$T/s"
}
for_each_db limits

offline() {
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	( unset GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET
	cfq '{"rep":"anna","days":1,"limit":2}' )
	check_exit "no Google: working hours and bookings" 0 \
		test "$(jq -c .sources "$T/s" | sort -u)" = '["hours","bookings"]'
	check_no_grep "and nothing to warn about" . "$T/e"
	q "UPDATE reps SET calendar_status = 'connected' WHERE name = 'anna'" \
		>/dev/null
	( unset GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET
	cfq '{"rep":"anna","days":1,"limit":2}' )
	check_grep "a connected calendar without a client is said" \
		"Google calendar not read: GOOGLE_CLIENT_ID is not set" "$T/e"

	printf '%s\n' '{"rep":"anna","limit":1}' 'not json' \
		'{"rep":"anna","days":"x"}' '{"rep":"bob"}' '{"days":2}' \
		'{"rep":"anna","limit":1}' >"$T/in"
	check_exit "bad lines: exit 1" 1 sh -c \
		"SALESLINE_NOW=$NOW cal-free --db '$DB' <'$T/in'"
	check_grep "a line that is not JSON is named" '^cal-free: stdin:2: ' \
		"$T/err"
	check_grep "a wrong type names the field" \
		"^cal-free: stdin:3: 'days': expected a whole number" "$T/err"
	check_grep "an unknown rep is named" "^cal-free: stdin:4: 'rep': .*bob" \
		"$T/err"
	check_grep "a missing rep is said" "^cal-free: stdin:5: 'rep': missing" \
		"$T/err"
	check_exit "the good lines are answered" 0 \
		test "$(wc -l <"$T/out")" -eq 2
	check_exit "with --rep a line needs none" 0 sh -c \
		"echo '{\"limit\":1}' | SALESLINE_NOW=$NOW cal-free --db '$DB' --rep anna"
	check_exit "output errors exit 74" 74 sh -c \
		"SALESLINE_NOW=$NOW cal-free --db '$DB' anna >/dev/full"
	rep-admin --db "$DB" disable anna >/dev/null
	check_exit "a disabled rep is refused" 1 sh -c \
		"SALESLINE_NOW=$NOW cal-free --db '$DB' anna"
	check_grep "and said" "rep 'anna' is disabled" "$T/err"
}
for_each_db offline

done_testing
