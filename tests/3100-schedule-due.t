#!/bin/sh
# tests/3100-schedule-due.t: schedule-due --add, --list, --cancel, --done,
# --failed and --close on SQLite and PostgreSQL: the echo, replacement,
# bad lines with their line numbers, usage and exit statuses.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# Usage and configuration, no ledger needed.
check_exit "--help exits 0" 0 schedule-due --help
check_grep "--help prints the usage on stdout" '^usage: schedule-due' "$T/out"
check_exit "a bad option exits 64" 64 schedule-due --bogus
check_grep "a bad option is named" "schedule-due: unknown option '--bogus'" \
	"$T/err"
check_exit "nothing to do exits 64" 64 schedule-due
check_grep "the modes are named" "say what to do" "$T/err"
check_exit "two modes exit 64" 64 schedule-due --add --due
check_exit "--follow without --due exits 64" 64 schedule-due --add --follow
check_exit "--cancel without --prospect exits 64" 64 schedule-due --cancel
check_exit "--prospect must be a ledger id" 64 \
	schedule-due --cancel --prospect abc
check_exit "--done without ids exits 64" 64 schedule-due --done
check_exit "--done with a bad id exits 64" 64 schedule-due --done x1
check_exit "--batch 0 exits 64" 64 schedule-due --due --batch 0
check_exit "--lease needs a value" 64 schedule-due --due --lease
check_exit "--kind must be known" 64 \
	schedule-due --cancel --prospect 1 --kind later
check_exit "unreachable PostgreSQL exits 75" 75 \
	schedule-due --db postgres://u:pw-secret-2@127.0.0.1:1/x --due
check_no_grep "the password is never shown" 'pw-secret-2' "$T/err"
check_exit "a bad SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon schedule-due --db "$T/c.db" --due
check_grep "the variable is named" 'SALESLINE_NOW' "$T/err"
check_exit "a bad SALESLINE_TZ exits 78 for --list" 78 \
	env SALESLINE_TZ=Mars/Olympus schedule-due --db "$T/c.db" --list

NOW=2026-11-22T10:00:00Z
T0=$(date -u -d "$NOW" +%s)

sd() { # schedule-due on $DB at $NOW
	SALESLINE_NOW=$NOW schedule-due --db "$DB" "$@"
}

q() { # SQL: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

seed() {
	q "INSERT INTO reps (name, tz, created_at, updated_at)
		VALUES ('anna', 'Europe/Moscow', 1, 1)" >/dev/null
	q "INSERT INTO prospects (chat, rep_id, business_connection,
		created_at, updated_at) VALUES ('100', 1, '', 1, 1),
		('200', NULL, 'bc-1', 1, 1), ('300', 1, '', 1, 1)" >/dev/null
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		created_at, updated_at) VALUES (1, 3, $((T0 + 172800)),
		$((T0 + 174600)), 1, 1), (1, 3, $((T0 + 259200)),
		$((T0 + 261000)), 1, 1)" >/dev/null
}

basics() {
	seed
	cat >"$T/add" <<-EOF
	{"type":"followup","prospect":"1","due":"2026-11-29T10:00:00Z","reason":"asked to write in a week","lang":"ru"}
	{"type":"followup","prospect":2,"due":$((T0 + 3600)),"reason":"quiet","text":"Any news?","source":"person"}
	{"type":"followup","prospect":"3","kind":"reminder_24h","booking":"1","due":"2026-11-23T10:00:00Z","reason":"meeting"}
	EOF
	check_exit "--add stores three actions" 0 sd --add <"$T/add"
	jq -c '[.type, .id, .prospect, .due, .kind, .key, .status, .lang]' \
		"$T/out" >"$T/got" 2>&1 || :
	check_json "--add echoes each with its id and key, fields kept" \
		'["followup.scheduled","1","1","2026-11-29T10:00:00Z","followup","followup:1","pending","ru"]
		["followup.scheduled","2","2","2026-11-22T11:00:00Z","followup","followup:2","pending",null]
		["followup.scheduled","3","3","2026-11-23T10:00:00Z","reminder_24h","reminder_24h:3","pending",null]' \
		"$T/got"
	q "SELECT id, prospect_id, rep_id, booking_id, kind, due, status,
		message_key, source, created_at FROM scheduled_actions
		ORDER BY id" >"$T/rows"
	check_json "the ledger holds them pending, keyed, with their rep" \
		'{"id":1,"prospect_id":1,"rep_id":1,"booking_id":null,"kind":"followup","due":'$((T0 + 604800))',"status":"pending","message_key":"followup:1","source":null,"created_at":'"$T0"'}
		{"id":2,"prospect_id":2,"rep_id":null,"booking_id":null,"kind":"followup","due":'$((T0 + 3600))',"status":"pending","message_key":"followup:2","source":"person","created_at":'"$T0"'}
		{"id":3,"prospect_id":3,"rep_id":1,"booking_id":1,"kind":"reminder_24h","due":'$((T0 + 86400))',"status":"pending","message_key":"reminder_24h:3","source":null,"created_at":'"$T0"'}' \
		"$T/rows"

	check_exit "--list" 0 sd --list
	jq -c '[.type, .id, .due, .local, .tz]' "$T/out" >"$T/got" 2>&1 || :
	check_json "--list: pending by due time, local time in the rep's zone" \
		'["scheduled_action","2","2026-11-22T11:00:00Z","2026-11-22T19:00:00+08:00","Asia/Makassar"]
		["scheduled_action","3","2026-11-23T10:00:00Z","2026-11-23T13:00:00+03:00","Europe/Moscow"]
		["scheduled_action","1","2026-11-29T10:00:00Z","2026-11-29T13:00:00+03:00","Europe/Moscow"]' \
		"$T/got"
	check_exit "--list --prospect with SALESLINE_TZ" 0 \
		env SALESLINE_TZ=Europe/Berlin SALESLINE_NOW=$NOW \
		schedule-due --db "$DB" --list --prospect 2
	jq -c '[.id, .local, .text, .reason]' "$T/out" >"$T/got" 2>&1 || :
	check_json "--list --prospect: one prospect, \$SALESLINE_TZ" \
		'["2","2026-11-22T12:00:00+01:00","Any news?","quiet"]' "$T/got"

	# Replacement: a newer follow-up replaces the pending one.
	check_exit "--add a newer follow-up for prospect 1" 0 sd --add <<-EOF
	{"type":"followup","prospect":"1","due":"2026-11-25T10:00:00Z","reason":"sooner"}
	EOF
	jq -c '[.id, .status, .replaces]' "$T/out" >"$T/got" 2>&1 || :
	check_json "the echo names the replaced action" '["4","pending","1"]' \
		"$T/got"
	q "SELECT id, status, cancel_reason FROM scheduled_actions
		WHERE prospect_id = 1 ORDER BY id" >"$T/rows"
	check_json "the old one is cancelled as replaced" \
		'{"id":1,"status":"cancelled","cancel_reason":"replaced"}
		{"id":4,"status":"pending","cancel_reason":null}' "$T/rows"
	check_exit "two follow-ups for one prospect in one input" 0 sd --add <<-EOF
	{"prospect":"2","due":"2026-11-26T10:00:00Z","reason":"first"}
	{"prospect":"2","due":"2026-11-27T10:00:00Z","reason":"second"}
	EOF
	jq -c '[.id, .reason, .status, .replaces]' "$T/out" >"$T/got" 2>&1 || :
	check_json "only the later one stays pending" \
		'["5","first","cancelled","2"]
		["6","second","pending","5"]' "$T/got"
	q "SELECT id, status, cancel_reason FROM scheduled_actions WHERE
		prospect_id = 2 AND status = 'pending'" >"$T/rows"
	check_json "one pending follow-up for prospect 2" \
		'{"id":6,"status":"pending","cancel_reason":null}' "$T/rows"
	check_exit "a reminder replaces the one of the same booking and kind" 0 \
		sd --add <<-EOF
	{"prospect":"3","kind":"reminder_24h","booking":1,"due":"2026-11-23T11:00:00Z"}
	{"prospect":"3","kind":"reminder_1h","booking":1,"due":"2026-11-24T09:00:00Z"}
	{"prospect":"3","kind":"reminder_24h","booking":2,"due":"2026-11-24T10:00:00Z"}
	EOF
	jq -c '[.id, .kind, .booking, .replaces]' "$T/out" >"$T/got" 2>&1 || :
	check_json "reminders are keyed by booking and kind" \
		'["7","reminder_24h","1","3"]
		["8","reminder_1h","1",null]
		["9","reminder_24h","2",null]' "$T/got"

	# Bad lines: reported with their numbers, the good ones stored.
	cat >"$T/bad" <<-EOF
	{"type":"followup","due":"2026-12-01T10:00:00Z"}
	{"type":"followup","prospect":"99","due":"2026-12-01T10:00:00Z"}
	{"type":"followup","prospect":"1","due":"next tuesday"}
	{"type":"followup","prospect":"1","due":"1970-01-08T00:00:00Z"}
	{"type":"followup","prospect":{"id":1},"due":"2026-12-01T10:00:00Z"}
	{"type":"followup","prospect":"2","due":"2026-12-01T10:00:00Z","text":42}
	{"type":"followup","prospect":"2","due":"2026-12-01T10:00:00Z","kind":"later"}
	{"type":"followup","prospect":"3","due":"2026-12-01T10:00:00Z","kind":"reminder_1h"}
	not json at all
	{"type":"followup","prospect":"3","due":"2026-12-01T10:00:00Z","kind":"reminder_1h","booking":"77"}
	{"type":"followup","prospect":"1","due":"2026-12-01T10:00:00Z","kind":"reminder_1h","booking":"2"}
	{"type":"followup","prospect":"-3","due":"2026-12-01T10:00:00Z"}
	{"type":"followup","prospect":"3","due":"2026-12-02T10:00:00Z","reason":"good"}
	{"type":7}
	{"type":"message.out","chat":"100","text":"passes through","key":"k1"}
	EOF
	check_exit "bad lines exit 1" 1 sd --add <"$T/bad"
	for l in 1:"no 'prospect'" 2:"unknown prospect '99'" \
		3:"'due': expected an RFC 3339" \
		4:"'due': 1970-01-08T00:00:00Z is before 2000" \
		5:"'prospect': expected a string or a number" \
		6:"'text': expected a string" 7:"'kind': expected" \
		8:"no 'booking' for a reminder" 9:"" \
		10:"unknown booking '77'" 11:"not this prospect's booking '2'" \
		12:"'prospect': not a ledger id" 14:"'type': expected a string"; do
		check_grep "line ${l%%:*} is reported" \
			"^schedule-due: stdin:${l%%:*}: ${l#*:}" "$T/err"
	done
	check_no_grep "line 13 is not" "stdin:13:" "$T/err"
	jq -c '[.type, .prospect, .reason, .text]' "$T/out" >"$T/got" 2>&1 || :
	check_json "the good line is stored, the other type passes through" \
		'["followup.scheduled","3","good",null]
		["message.out",null,null,"passes through"]' "$T/got"
	q "SELECT count(*) AS n FROM scheduled_actions" >"$T/rows"
	check_json "nothing else was stored" '{"n":10}' "$T/rows"

	check_exit "--add -n" 0 sd --add -n <<-EOF
	{"prospect":"1","due":"2026-12-05T10:00:00Z"}
	EOF
	jq -c '[.status, .dry_run]' "$T/out" >"$T/got" 2>&1 || :
	check_json "-n echoes as a dry run" '["pending",true]' "$T/got"
	q "SELECT count(*) AS n FROM scheduled_actions" >"$T/rows"
	check_json "-n stores nothing" '{"n":10}' "$T/rows"

	# --cancel
	check_exit "--cancel --prospect 3 --kind reminder_24h" 0 \
		sd --cancel --prospect 3 --kind reminder_24h --reason rescheduled
	jq -c '[.type, .id, .kind, .cancel_reason]' "$T/out" >"$T/got" 2>&1 || :
	check_json "--cancel prints what it cancelled" \
		'["followup.cancelled","7","reminder_24h","rescheduled"]
		["followup.cancelled","9","reminder_24h","rescheduled"]' "$T/got"
	check_exit "--cancel -n" 0 sd --cancel -n --prospect 3
	check_grep "-n shows what it would cancel" '"id":"8"' "$T/out"
	q "SELECT id, status FROM scheduled_actions WHERE prospect_id = 3 AND
		status = 'pending' ORDER BY id" >"$T/rows"
	check_json "-n cancels nothing" '{"id":8,"status":"pending"}
		{"id":10,"status":"pending"}' "$T/rows"
	check_exit "--cancel of an unknown prospect exits 1" 1 \
		sd --cancel --prospect 42
	check_grep "it is named" "no prospect '42'" "$T/err"

	# --done and --failed: claim what is due first.
	check_exit "--due three days later" 0 \
		env SALESLINE_NOW=2026-11-25T10:00:00Z schedule-due --db "$DB" --due
	jq -c '[.id, .kind, .attempt]' "$T/out" >"$T/got" 2>&1 || :
	check_json "the follow-up is due, the reminder of a past meeting not" \
		'["4","followup",1]' "$T/got"
	q "SELECT id, status, cancel_reason FROM scheduled_actions WHERE id
		IN (4, 8) ORDER BY id" >"$T/rows"
	check_json "claimed, and cancelled as expired" \
		'{"id":4,"status":"claimed","cancel_reason":null}
		{"id":8,"status":"cancelled","cancel_reason":"expired"}' "$T/rows"
	check_exit "--done closes a claimed action" 0 sd --done 4
	check_exit "--done again is fine" 0 sd --done 4
	check_exit "--done of an unknown action exits 1" 1 sd --done 999
	check_grep "it is named" "no action '999'" "$T/err"
	check_exit "--failed of a done action exits 1" 1 sd --failed 4
	check_grep "its status is named" "action '4' is done" "$T/err"
	check_exit "--failed --error" 0 sd --failed --error "no such chat" 6
	check_exit "--done -n" 0 sd --done -n 10
	q "SELECT id, status, CASE WHEN error IS NULL THEN 0 ELSE 1 END AS e,
		done_at FROM
		scheduled_actions WHERE id IN (4, 6, 10) ORDER BY id" >"$T/rows"
	check_json "done, failed with its error, untouched by -n" \
		'{"id":4,"status":"done","e":0,"done_at":'"$T0"'}
		{"id":6,"status":"failed","e":1,"done_at":null}
		{"id":10,"status":"pending","e":0,"done_at":null}' "$T/rows"
	q "SELECT error FROM scheduled_actions WHERE id = 6" >"$T/rows"
	jq -r .error "$T/rows" >"$T/got" 2>&1 || :
	check_json "the error is recorded" \
		'{"code":"failed","message":"no such chat","temporary":false}' \
		"$T/got"

	# --close reads tg-send's results.
	q "UPDATE scheduled_actions SET status = 'claimed', error = NULL
		WHERE id IN (6, 8, 10)" >/dev/null
	cat >"$T/sent" <<-EOF
	{"type":"message.sent","key":"followup:6","chat":"200","msg":"41"}
	{"type":"message.failed","key":"reminder_1h:8","error":{"code":"429","message":"slow down","temporary":true}}
	{"type":"message.failed","key":"followup:10","error":{"code":"403","message":"blocked","temporary":false}}
	{"type":"message.sent","key":"tg:other","chat":"1","msg":"2"}
	EOF
	check_exit "--close" 0 sd --close <"$T/sent"
	cp "$T/out" "$T/closed"
	check_exit "--close passes every record through" 0 \
		cmp "$T/sent" "$T/closed"
	q "SELECT id, status, error FROM scheduled_actions WHERE id IN
		(6, 8, 10) ORDER BY id" >"$T/rows"
	check_json "sent is done, temporary stays claimed, permanent failed" \
		'{"id":6,"status":"done","error":null}
		{"id":8,"status":"claimed","error":null}
		{"id":10,"status":"failed","error":"{\"code\":\"403\",\"message\":\"blocked\",\"temporary\":false}"}' \
		"$T/rows"

	check_exit "--list to /dev/full exits 74" 74 sh -c \
		'SALESLINE_NOW=$1 schedule-due --db "$2" --list >/dev/full' \
		sh "$NOW" "$DB"
	check_exit "--add echo to /dev/full exits 74" 74 sh -c \
		'echo "{\"prospect\":1,\"due\":1900000000}" |
		schedule-due --db "$1" --add >/dev/full' sh "$DB"
}
for_each_db basics

done_testing
