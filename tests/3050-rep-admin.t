#!/bin/sh
# tests/3050-rep-admin.t: rep-admin add, set, list, show, disable, enable
# and takeover on SQLite and PostgreSQL: the records, the ledger rows and
# audit, duplicates, the errors with their messages, usage and exit
# statuses.  calendar and zoom need the Google and Zoom emulators; here
# only their usage and the stand-in of a build without them.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

NOW=2026-11-22T10:00:00Z
T0=$(date -u -d "$NOW" +%s)

# Usage and configuration, no ledger needed.
check_exit "--help exits 0" 0 rep-admin --help
check_grep "--help prints the usage on stdout" '^usage: rep-admin' "$T/out"
check_grep "the usage lists the rep options" '\[--calendar ID\]\.\.\.' \
	"$T/out"
check_exit "-h too" 0 rep-admin -h
check_exit "a bad option exits 64" 64 rep-admin --bogus list
check_grep "a bad option is named" "rep-admin: unknown option '--bogus'" \
	"$T/err"
check_grep "and the usage follows on stderr" '^usage: rep-admin' "$T/err"
check_exit "no command exits 64" 64 rep-admin
check_grep "the commands are named" "say what to do: add, set" "$T/err"
check_exit "an unknown command exits 64" 64 rep-admin frob
check_grep "it is named" "unknown command 'frob'" "$T/err"
check_exit "add without a name exits 64" 64 rep-admin add
check_grep "and asks which rep" "add: which rep\? give its name" "$T/err"
check_exit "show with two names exits 64" 64 rep-admin show anna bob
check_grep "the extra one is named" "unexpected argument 'bob'" "$T/err"
check_exit "a bad rep name exits 64" 64 rep-admin add Anna
check_grep "the rule is given" \
	"^rep-admin: 'Anna' is not a rep name: 1 to 64 of a-z 0-9 _ \. - and not all digits$" \
	"$T/err"
check_exit "an all-digit name exits 64" 64 rep-admin add 42
check_exit "--slot out of range exits 64" 64 rep-admin add anna --slot 2
check_grep "the option and its range are named" \
	"^rep-admin: --slot: expected a number from 5 to 480, not '2'$" "$T/err"
check_exit "--horizon not a number exits 64" 64 \
	rep-admin add anna --horizon soon
check_grep "--horizon is named" "^rep-admin: --horizon: expected a number" \
	"$T/err"
check_exit "--daily-cap 0 exits 64" 64 rep-admin add anna --daily-cap 0
check_exit "--tg-user must be digits" 64 rep-admin add anna --tg-user @anna
check_grep "--tg-user is named" \
	"^rep-admin: --tg-user: expected a Telegram id \(digits\), not '@anna'$" \
	"$T/err"
check_exit "a bad zone exits 64" 64 rep-admin add anna --tz Mars/Olympus
check_grep "the zone is named" \
	"^rep-admin: --tz: unknown time zone 'Mars/Olympus'$" "$T/err"
check_exit "hours ending before they start exit 64" 64 \
	rep-admin add anna --hours '{"tue":[["09:00","08:00"]]}'
check_grep "the day is named" \
	"^rep-admin: --hours: 'tue': end 08:00 before start 09:00$" "$T/err"
check_exit "overlapping hours exit 64" 64 rep-admin add anna \
	--hours '{"wed":[["09:00","13:00"],["12:00","18:00"]]}'
check_grep "the overlap is named" \
	"^rep-admin: --hours: 'wed': 09:00-13:00 overlaps 12:00-18:00$" "$T/err"
check_exit "an unknown day exits 64" 64 rep-admin add anna \
	--hours '{"monday":[["09:00","18:00"]]}'
check_grep "the key is named" "^rep-admin: --hours: 'monday': not a weekday" \
	"$T/err"
check_exit "a bad time exits 64" 64 rep-admin add anna \
	--hours '{"fri":[["9am","18:00"]]}'
check_grep "the time is named" \
	"^rep-admin: --hours: 'fri': '9am' is not a time \(HH:MM\)$" "$T/err"
printf '{"sat":[["10:00","14:00"]],"sun":[["10:00","25:00"]]}\n' >"$T/badhours"
check_exit "a bad --hours-file exits 64" 64 \
	rep-admin add anna --hours-file "$T/badhours"
check_grep "its day is named" \
	"^rep-admin: --hours-file: 'sun': '25:00' is not a time" "$T/err"
check_exit "a missing --hours-file exits 64" 64 \
	rep-admin add anna --hours-file "$T/nonesuch"
check_grep "it is named" "^rep-admin: --hours-file: cannot read '.*nonesuch'" \
	"$T/err"
check_exit "--hours and --hours-file together exit 64" 64 \
	rep-admin add anna --hours '{}' --hours-file "$T/badhours"
check_exit "a bad e-mail exits 64" 64 rep-admin add anna --email anna.example.com
check_grep "the e-mail is named" \
	"^rep-admin: --email: 'anna.example.com' is not an e-mail address$" "$T/err"
check_exit "an e-mail without a dot in the domain exits 64" 64 \
	rep-admin add anna --email 'anna@localhost'
check_exit "an option of another command exits 64" 64 rep-admin list --tz UTC
check_grep "it says where it goes" "^rep-admin: --tz goes with add or set$" \
	"$T/err"
check_exit "--all goes with list only" 64 rep-admin show anna --all
check_exit "--rename needs set or --update" 64 rep-admin add anna --rename bob
check_exit "set with nothing to change exits 64" 64 rep-admin set anna
check_grep "and says so" "^rep-admin: set: nothing to change$" "$T/err"
check_exit "takeover without --prospect exits 64" 64 rep-admin takeover on
check_grep "--prospect is asked for" "takeover needs --prospect" "$T/err"
check_exit "takeover neither on nor off exits 64" 64 \
	rep-admin takeover --prospect 1 maybe
check_exit "takeover --prospect must be an id" 64 \
	rep-admin takeover --prospect abc on
check_exit "calendar what? exits 64" 64 rep-admin calendar frob anna
check_exit "--device goes with calendar connect" 64 \
	rep-admin calendar disconnect anna --device
check_exit "--timeout is checked" 64 \
	rep-admin calendar connect anna --timeout 0
check_exit "unreachable PostgreSQL exits 75" 75 \
	rep-admin --db postgres://u:pw-secret-3@127.0.0.1:1/x list
check_no_grep "the password is never shown" 'pw-secret-3' "$T/err"
printf 'this is not a database\n%.0s' $(seq 100) >"$T/junk"
check_exit "a file that is no ledger exits 78, as salesline-db" 78 \
	rep-admin --db "$T/junk" list
check_exit "a ledger under a file cannot be created: 74" 74 \
	rep-admin --db "$T/junk/ledger.db" list
check_grep "the ledger is named" "^rep-admin: cannot open ledger '.*junk/ledger.db'" \
	"$T/err"
check_exit "salesline-db gives the same status for it" 74 \
	salesline-db --db "$T/junk/ledger.db" status
check_exit "a bad SALESLINE_TZ exits 78" 78 \
	env SALESLINE_TZ=Mars/Olympus rep-admin --db "$T/c.db" list
check_grep "the variable is named" \
	"^rep-admin: SALESLINE_TZ: unknown time zone 'Mars/Olympus'$" "$T/err"
check_exit "a bad SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon rep-admin --db "$T/c.db" list

ra() { # rep-admin on $DB at $NOW
	SALESLINE_NOW=$NOW rep-admin --db "$DB" "$@"
}

q() { # SQL: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

DEFAULT_HOURS='{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]]}'

reps() {
	check_exit "add with the defaults" 0 ra add anna
	check_json "the record shows every default" \
		'{"type":"rep","id":"1","name":"anna","display_name":null,"email":null,"tg_user_id":null,"bot":null,"business_connection":null,"business_enabled":false,"business_can_reply":false,"tz":"Asia/Makassar","tz_default":true,"working_hours":'"$DEFAULT_HOURS"',"hours_default":true,"slot_min":30,"buffer_before_min":0,"buffer_after_min":0,"notice_min":120,"horizon_days":14,"daily_cap":null,"calendar_status":"none","calendar_error":null,"calendar_ids":[],"ics_path":null,"zoom_user":null,"enabled":true,"created_at":"2026-11-22T10:00:00Z","updated_at":"2026-11-22T10:00:00Z"}' \
		"$T/out"
	q "SELECT name, tz, working_hours, slot_min, notice_min, daily_cap,
		calendar_ids, enabled, created_at FROM reps" >"$T/rows"
	check_json "the ledger keeps NULL for what is inherited" \
		'{"name":"anna","tz":null,"working_hours":null,"slot_min":30,"notice_min":120,"daily_cap":null,"calendar_ids":null,"enabled":1,"created_at":'"$T0"'}' \
		"$T/rows"

	printf '{"sat":[["10:00","14:00"]],\n "mon":[["14:00","18:00"],["9:00","13:00"]]}\n' \
		>"$T/hours"
	: >"$T/bob.ics"
	check_exit "add with every option" 0 ra add bob --display-name "Bob Stone" \
		--email bob@example.com --tg-user 5550001 \
		--business-connection bc-1 --bot 777000 --tz Europe/Moscow \
		--hours-file "$T/hours" --slot 45 --buffer-before 5 \
		--buffer-after 10 --notice 60 --horizon 21 --daily-cap 4 \
		--ics "$T/bob.ics" --zoom-user bob@example.com \
		--calendar primary --calendar team@group.calendar.google.com
	check_json "the record shows them all, the e-mail unmasked" \
		'{"type":"rep","id":"2","name":"bob","display_name":"Bob Stone","email":"bob@example.com","tg_user_id":"5550001","bot":"777000","business_connection":"bc-1","business_enabled":false,"business_can_reply":false,"tz":"Europe/Moscow","tz_default":false,"working_hours":{"mon":[["09:00","13:00"],["14:00","18:00"]],"sat":[["10:00","14:00"]]},"hours_default":false,"slot_min":45,"buffer_before_min":5,"buffer_after_min":10,"notice_min":60,"horizon_days":21,"daily_cap":4,"calendar_status":"none","calendar_error":null,"calendar_ids":["primary","team@group.calendar.google.com"],"ics_path":"'"$T"'/bob.ics","zoom_user":"bob@example.com","enabled":true,"created_at":"2026-11-22T10:00:00Z","updated_at":"2026-11-22T10:00:00Z"}' \
		"$T/out"
	cp "$T/err" "$T/err.bob"
	ok "nothing on stderr" test ! -s "$T/err.bob"
	q "SELECT display_name, email, tg_user_id, bot, business_connection,
		tz, working_hours, slot_min, buffer_before_min, buffer_after_min,
		notice_min, horizon_days, daily_cap, calendar_ids, ics_path,
		zoom_user FROM reps WHERE name = 'bob'" >"$T/rows"
	check_json "the ledger row: canonical hours, ids as JSON text" \
		'{"display_name":"Bob Stone","email":"bob@example.com","tg_user_id":"5550001","bot":"777000","business_connection":"bc-1","tz":"Europe/Moscow","working_hours":"{\"mon\":[[\"09:00\",\"13:00\"],[\"14:00\",\"18:00\"]],\"sat\":[[\"10:00\",\"14:00\"]]}","slot_min":45,"buffer_before_min":5,"buffer_after_min":10,"notice_min":60,"horizon_days":21,"daily_cap":4,"calendar_ids":"[\"primary\",\"team@group.calendar.google.com\"]","ics_path":"'"$T"'/bob.ics","zoom_user":"bob@example.com"}' \
		"$T/rows"
	q "SELECT count(*) AS n FROM tokens" >"$T/rows"
	check_json "and no token anywhere" '{"n":0}' "$T/rows"

	check_exit "add of an existing rep exits 1" 1 ra add anna --slot 60
	check_grep "and says how to change it" \
		"^rep-admin: rep 'anna' exists already \(rep-admin set anna changes it\)$" \
		"$T/err"
	cp "$T/out" "$T/out.dup"
	ok "it prints nothing" test ! -s "$T/out.dup"
	check_exit "a Telegram user that is another rep's exits 1" 1 \
		ra add carol --tg-user 5550001
	check_grep "the rep holding it is named" \
		"^rep-admin: Telegram user '5550001' belongs to rep 'bob'" "$T/err"
	check_exit "so does a business connection" 1 \
		ra add carol --business-connection bc-1
	check_grep "its rep is named" \
		"^rep-admin: business connection 'bc-1' belongs to rep 'bob'" \
		"$T/err"
	q "SELECT count(*) AS n FROM reps" >"$T/rows"
	check_json "nothing was added" '{"n":2}' "$T/rows"

	check_exit "add --update changes only what is given" 0 \
		env SALESLINE_NOW=2026-11-22T11:00:00Z rep-admin --db "$DB" \
		add --update bob --slot 60 --daily-cap none --tz '' --calendar ''
	jq -c '[.slot_min, .daily_cap, .tz, .tz_default, .calendar_ids,
		.buffer_before_min, .email, .working_hours.sat, .created_at,
		.updated_at]' "$T/out" >"$T/got" 2>&1 || :
	check_json "given fields change, '' and none clear, the rest stays" \
		'[60,null,"Asia/Makassar",true,[],5,"bob@example.com",[["10:00","14:00"]],"2026-11-22T10:00:00Z","2026-11-22T11:00:00Z"]' \
		"$T/got"
	q "SELECT slot_min, daily_cap, tz, calendar_ids, notice_min FROM reps
		WHERE name = 'bob'" >"$T/rows"
	check_json "in the ledger too" \
		'{"slot_min":60,"daily_cap":null,"tz":null,"calendar_ids":null,"notice_min":60}' \
		"$T/rows"
	check_exit "add --update of a new rep adds it" 0 \
		ra add --update carol --email carol@example.org
	jq -c '[.id, .name, .email]' "$T/out" >"$T/got" 2>&1 || :
	check_json "carol is added" '["3","carol","carol@example.org"]' "$T/got"
	check_exit "set" 0 ra set carol --display-name "Carol K" \
		--hours '{"sun":[["10:00","24:00"]]}'
	jq -c '[.display_name, .working_hours, .hours_default]' "$T/out" \
		>"$T/got" 2>&1 || :
	check_json "set changes what is given" \
		'["Carol K",{"sun":[["10:00","24:00"]]},false]' "$T/got"
	check_exit "set by id" 0 ra set 3 --hours ''
	jq -c '[.name, .hours_default]' "$T/out" >"$T/got" 2>&1 || :
	check_json "--hours '' is the default again" '["carol",true]' "$T/got"
	check_exit "set of an unknown rep exits 1" 1 ra set dave --slot 30
	check_grep "it is named" "^rep-admin: no rep 'dave'$" "$T/err"
	check_exit "set -n" 0 ra set -n carol --slot 90
	jq -c '[.slot_min, .dry_run]' "$T/out" >"$T/got" 2>&1 || :
	check_json "-n shows the change" '[90,true]' "$T/got"
	q "SELECT slot_min FROM reps WHERE name = 'carol'" >"$T/rows"
	check_json "and makes none" '{"slot_min":30}' "$T/rows"
	check_exit "add -n" 0 ra add -n dave
	check_grep "-n shows the rep it would add" '"name":"dave"' "$T/out"
	q "SELECT count(*) AS n FROM reps WHERE name = 'dave'" >"$T/rows"
	check_json "and adds none" '{"n":0}' "$T/rows"

	# A rep tg-fetch created from a business connection gets its name.
	q "INSERT INTO reps (name, tg_user_id, business_connection,
		business_enabled, business_can_reply, created_at, updated_at)
		VALUES ('tg5550042', '5550042', 'bc-42', 1, 1, 1, 1)" >/dev/null
	check_exit "rename onto a taken name exits 1" 1 \
		ra set tg5550042 --rename anna
	check_grep "the name is taken" "^rep-admin: rep 'anna' exists already$" \
		"$T/err"
	check_exit "set --rename" 0 ra set tg5550042 --rename dave \
		--display-name "Dave R"
	jq -c '[.name, .tg_user_id, .business_connection, .business_enabled,
		.business_can_reply]' "$T/out" >"$T/got" 2>&1 || :
	check_json "the rep keeps its connection under the new name" \
		'["dave","5550042","bc-42",true,true]' "$T/got"

	check_exit "show" 0 ra show bob
	jq -c '[.type, .name, .notice_min]' "$T/out" >"$T/got" 2>&1 || :
	check_json "show prints the rep" '["rep","bob",60]' "$T/got"
	check_exit "show by id" 0 ra show 2
	check_grep "the same rep" '"name":"bob"' "$T/out"
	check_exit "show of an unknown rep exits 1" 1 ra show zed
	check_grep "it is named" "^rep-admin: no rep 'zed'$" "$T/err"

	check_exit "disable" 0 ra disable bob
	jq -c '[.name, .enabled]' "$T/out" >"$T/got" 2>&1 || :
	check_json "disable prints the rep, disabled" '["bob",false]' "$T/got"
	check_exit "disable again is fine" 0 ra disable bob
	check_exit "disable of an unknown rep exits 1" 1 ra disable zed
	check_grep "it is named" "^rep-admin: no rep 'zed'$" "$T/err"
	check_exit "list" 0 ra list
	jq -c '[.name, .enabled]' "$T/out" >"$T/got" 2>&1 || :
	check_json "list: the enabled reps by name" \
		'["anna",true]
		["carol",true]
		["dave",true]' "$T/got"
	check_exit "list --all" 0 ra list --all
	jq -r .name "$T/out" | tr '\n' ' ' >"$T/got" 2>&1 || :
	check_grep "list --all: every rep" '^anna bob carol dave $' "$T/got"
	check_exit "enable -n" 0 ra enable -n bob
	q "SELECT enabled FROM reps WHERE name = 'bob'" >"$T/rows"
	check_json "enable -n changes nothing" '{"enabled":0}' "$T/rows"
	check_exit "enable" 0 ra enable bob
	q "SELECT enabled FROM reps WHERE name = 'bob'" >"$T/rows"
	check_json "enable enables" '{"enabled":1}' "$T/rows"

	q "SELECT action, subject, detail FROM audit ORDER BY id" >"$T/rows"
	check_json "every change has an audit row naming columns, not values" \
		'{"action":"rep.add","subject":"anna","detail":"{\"fields\":[]}"}
		{"action":"rep.add","subject":"bob","detail":"{\"fields\":[\"display_name\",\"email\",\"tg_user_id\",\"business_connection\",\"bot\",\"tz\",\"working_hours\",\"slot_min\",\"buffer_before_min\",\"buffer_after_min\",\"notice_min\",\"horizon_days\",\"daily_cap\",\"ics_path\",\"zoom_user\",\"calendar_ids\"]}"}
		{"action":"rep.update","subject":"bob","detail":"{\"fields\":[\"tz\",\"slot_min\",\"daily_cap\",\"calendar_ids\"]}"}
		{"action":"rep.add","subject":"carol","detail":"{\"fields\":[\"email\"]}"}
		{"action":"rep.update","subject":"carol","detail":"{\"fields\":[\"display_name\",\"working_hours\"]}"}
		{"action":"rep.update","subject":"carol","detail":"{\"fields\":[\"working_hours\"]}"}
		{"action":"rep.update","subject":"dave","detail":"{\"fields\":[\"display_name\",\"name\"]}"}
		{"action":"rep.disable","subject":"bob","detail":"{}"}
		{"action":"rep.enable","subject":"bob","detail":"{}"}' "$T/rows"

	# A row the ledger holds that cannot be used.
	q "UPDATE reps SET tz = 'Nowhere/City' WHERE name = 'carol'" >/dev/null
	check_exit "show of a rep with a broken zone exits 1" 1 ra show carol
	check_grep "the zone is named" \
		"^rep-admin: rep 'carol': unknown time zone 'Nowhere/City'$" "$T/err"
	check_exit "list skips it and exits 1" 1 ra list
	jq -r .name "$T/out" | tr '\n' ' ' >"$T/got" 2>&1 || :
	check_grep "the others are listed" '^anna bob dave $' "$T/got"
	check_exit "set fixes it" 0 ra set carol --tz Asia/Jakarta
	check_grep "and shows it" '"tz":"Asia/Jakarta"' "$T/out"

	check_exit "list to /dev/full exits 74" 74 sh -c \
		'rep-admin --db "$1" list >/dev/full' sh "$DB"
	check_grep "and says so" "^rep-admin: .*No space left on device" "$T/err"
	check_exit "add to /dev/full exits 74" 74 sh -c \
		'rep-admin --db "$1" add erin >/dev/full' sh "$DB"
	check_exit "show to /dev/full exits 74" 74 sh -c \
		'rep-admin --db "$1" show anna >/dev/full' sh "$DB"
}
for_each_db reps

takeover() {
	ra add anna >/dev/null
	ra add bob >/dev/null
	q "INSERT INTO prospects (chat, rep_id, business_connection,
		created_at, updated_at) VALUES ('100', 1, 'bc-1', 1, 1),
		('200', NULL, '', 1, 1)" >/dev/null
	q "INSERT INTO bookings (rep_id, prospect_id, start_at, end_at,
		created_at, updated_at) VALUES (1, 1, $((T0 + 172800)),
		$((T0 + 174600)), 1, 1)" >/dev/null
	check_exit "a follow-up and a reminder for prospect 1" 0 \
		env SALESLINE_NOW=$NOW schedule-due --db "$DB" --add <<-EOF
	{"type":"followup","prospect":"1","due":"2026-11-29T10:00:00Z","reason":"asked"}
	{"type":"followup","prospect":"1","kind":"reminder_24h","booking":"1","due":"2026-11-23T10:00:00Z"}
	{"type":"followup","prospect":"2","due":"2026-11-29T10:00:00Z"}
	EOF

	check_exit "takeover -n" 0 ra takeover --prospect 1 -n on
	jq -c '[.type, .changed, .cancelled, .dry_run]' "$T/out" >"$T/got" \
		2>&1 || :
	check_json "-n shows what it would cancel" \
		'["human.takeover",true,["1"],true]' "$T/got"
	q "SELECT human_active FROM prospects WHERE id = 1" >"$T/rows"
	check_json "and changes nothing" '{"human_active":0}' "$T/rows"

	check_exit "takeover on" 0 ra takeover --prospect 1 on
	check_json "human.takeover with the prospect's rep and chat" \
		'{"type":"human.takeover","channel":"telegram","rep":"anna","chat":"100","prospect":"1","business_connection":"bc-1","at":"2026-11-22T10:00:00Z","changed":true,"cancelled":["1"]}' \
		"$T/out"
	q "SELECT human_active, human_since FROM prospects WHERE id = 1" \
		>"$T/rows"
	check_json "the prospect is in human hands since now" \
		'{"human_active":1,"human_since":'"$T0"'}' "$T/rows"
	q "SELECT id, prospect_id, kind, status, cancel_reason FROM
		scheduled_actions ORDER BY id" >"$T/rows"
	check_json "the pending follow-up is cancelled as tg-fetch does" \
		'{"id":1,"prospect_id":1,"kind":"followup","status":"cancelled","cancel_reason":"human_takeover"}
		{"id":2,"prospect_id":1,"kind":"reminder_24h","status":"pending","cancel_reason":null}
		{"id":3,"prospect_id":2,"kind":"followup","status":"pending","cancel_reason":null}' \
		"$T/rows"
	check_exit "takeover on again, by bob" 0 \
		env SALESLINE_NOW=2026-11-22T12:00:00Z rep-admin --db "$DB" \
		takeover --prospect 1 on --rep bob
	jq -c '[.rep, .at, .changed, .cancelled]' "$T/out" >"$T/got" 2>&1 || :
	check_json "already taken over: the first time stays" \
		'["bob","2026-11-22T10:00:00Z",false,[]]' "$T/got"
	check_exit "takeover with an unknown --rep exits 1" 1 \
		ra takeover --prospect 2 on --rep zed
	check_grep "the rep is named" "^rep-admin: no rep 'zed'$" "$T/err"
	check_exit "takeover of an unknown prospect exits 1" 1 \
		ra takeover --prospect 99 on
	check_grep "the prospect is named" "^rep-admin: no prospect '99'$" "$T/err"
	check_exit "handback of an unknown prospect exits 1" 1 \
		ra takeover --prospect 99 off
	q "SELECT human_active FROM prospects WHERE id = 2" >"$T/rows"
	check_json "prospect 2 was not touched" '{"human_active":0}' "$T/rows"

	check_exit "takeover off" 0 \
		env SALESLINE_NOW=2026-11-22T13:00:00Z rep-admin --db "$DB" \
		takeover --prospect 1 off
	check_json "human.handback" \
		'{"type":"human.handback","channel":"telegram","rep":"anna","chat":"100","prospect":"1","business_connection":"bc-1","at":"2026-11-22T13:00:00Z","changed":true}' \
		"$T/out"
	q "SELECT human_active, human_since FROM prospects WHERE id = 1" \
		>"$T/rows"
	check_json "the prospect is the bot's again" \
		'{"human_active":0,"human_since":null}' "$T/rows"
	q "SELECT status, cancel_reason FROM scheduled_actions WHERE id = 1" \
		>"$T/rows"
	check_json "the cancelled follow-up stays cancelled" \
		'{"status":"cancelled","cancel_reason":"human_takeover"}' "$T/rows"
	check_exit "takeover off again" 0 ra takeover --prospect 1 off
	check_grep "changes nothing" '"changed":false' "$T/out"
	q "SELECT action, subject, detail FROM audit WHERE action IN
		('takeover', 'handback') ORDER BY id" >"$T/rows"
	check_json "one audit row per change" \
		'{"action":"takeover","subject":"1","detail":"{\"cancelled\":1}"}
		{"action":"handback","subject":"1","detail":"{\"cancelled\":0}"}' \
		"$T/rows"
	check_exit "takeover to /dev/full exits 74" 74 sh -c \
		'rep-admin --db "$1" takeover --prospect 2 on >/dev/full' sh "$DB"
}
for_each_db takeover

done_testing
