#!/bin/sh
# tests/0500-salesline-db.t: salesline-db migrate, status, query, export and
# erase on SQLite and PostgreSQL; its usage, exit statuses and output
# errors; two processes opening a fresh ledger at once.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# Usage and configuration.
check_exit "--help exits 0" 0 salesline-db --help
check_grep "--help prints the usage on stdout" '^usage: salesline-db' "$T/out"
check_exit "a bad option exits 64" 64 salesline-db --bogus status
check_grep "a bad option is named" "salesline-db: unknown option '--bogus'" \
	"$T/err"
check_exit "no command exits 64" 64 salesline-db
check_exit "an unknown command exits 64" 64 salesline-db --db "$T/u.db" frob
check_grep "an unknown command is named" "unknown command 'frob'" "$T/err"
check_exit "export without --prospect exits 64" 64 \
	salesline-db --db "$T/u.db" export
check_exit "--prospect must be a ledger id" 64 \
	salesline-db --db "$T/u.db" export --prospect abc
check_exit "query without SQL exits 64" 64 salesline-db --db "$T/u.db" query
check_exit "unreachable PostgreSQL exits 75" 75 \
	salesline-db --db postgres://u:pw-secret-1@127.0.0.1:1/x status
check_grep "the ledger is named, password redacted" \
	"cannot open ledger 'postgres://u:\*\*\*@127\.0\.0\.1:1/x'" "$T/err"
check_no_grep "the password is never shown" 'pw-secret-1' "$T/err"
check_exit "unreachable \$SALESLINE_DB exits 75" 75 \
	env SALESLINE_DB=postgres://127.0.0.1:1/x salesline-db status
check_exit "\$DATABASE_URL is used too" 75 \
	env DATABASE_URL=postgres://127.0.0.1:1/x salesline-db migrate
printf 'this is not a database\n%.0s' $(seq 100) >"$T/junk"
check_exit "\$SALESLINE_DB naming a file that is no ledger exits 78" 78 \
	env SALESLINE_DB="$T/junk" salesline-db status
check_exit "a bad PostgreSQL conninfo exits 78" 78 \
	salesline-db --db "host=h port= =" status
check_exit "a PostgreSQL URL without libpq exits 78" 78 \
	env SALESLINE_LIBPQ="$T/no/libpq.so.5" salesline-db \
	--db postgres://127.0.0.1:1/x status
check_grep "... and says which package to install" \
	"needs libpq .Debian: apt-get install libpq5" "$T/err"
check_exit "a library that is not libpq exits 78" 78 \
	env SALESLINE_LIBPQ=libc.so.6 salesline-db \
	--db postgres://127.0.0.1:1/x status
check_grep "... naming what it lacks" "'libc.so.6' has no PQ" "$T/err"
# every libpq call goes through the table db_pg.c opens: a call outside
# it would link libpq again, and every command would load its 22 libraries
ldd "$(command -v salesline-db)" >"$T/ldd" 2>&1 || :
check_no_grep "the commands are not linked with libpq" 'libpq' "$T/ldd"
check_exit "an SQLite ledger needs no libpq" 0 \
	env SALESLINE_LIBPQ="$T/no/libpq.so.5" salesline-db \
	--db "$T/nolibpq.db" migrate
mkdir "$T/empty"
check_exit "no migrations under \$SALESLINE_HOME exits 78" 78 \
	env SALESLINE_HOME="$T/empty" salesline-db --db "$T/m.db" migrate
check_grep "the migrations directory is named" "migrations directory" "$T/err"

to_full() { # CMD...: runs CMD with its standard output on /dev/full
	"$@" >/dev/full
}

q() { # SQL [PARAM...]: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

# The migrations there are, numbered from 1.
NM=$(find "$ROOT/sql/sqlite" -name '[0-9]*.sql' | wc -l)

ledger() {
	check_exit "status of a fresh ledger" 0 salesline-db --db "$DB" status
	jq -c '{type, engine, version, pending, tables}' "$T/out" >"$T/st" || :
	check_json "status reports the pending migration" \
		'{"type":"db.status","engine":"'"$ENGINE"'","version":0,"pending":'"$NM"',"tables":{}}' \
		"$T/st"
	check_exit "migrate" 0 salesline-db --db "$DB" migrate
	check_json "migrate applies the schema once" \
		'{"type":"db.migrated","engine":"'"$ENGINE"'","applied":'"$NM"',"version":'"$NM"'}' \
		"$T/out"
	check_exit "migrate again" 0 salesline-db -v --db "$DB" migrate
	check_json "migrate again applies nothing" \
		'{"type":"db.migrated","engine":"'"$ENGINE"'","applied":0,"version":'"$NM"'}' \
		"$T/out"
	check_exit "status of a migrated ledger" 0 salesline-db status --db "$DB"
	jq -c '[.version, .pending, .tables.prospects, .tables.schema_migrations]' \
		"$T/out" >"$T/st" || :
	check_json "status: the last version, nothing pending, row counts" \
		"[$NM,0,0,$NM]" \
		"$T/st"

	ok "seed a rep" q "INSERT INTO reps (name, created_at, updated_at)
		VALUES ('anna', 1, 1)"
	check_exit "seed a prospect" 0 q "INSERT INTO prospects (chat, rep_id,
		name, username, email, phone, budget, need, stage, created_at,
		updated_at) VALUES (\$1, 1, 'Olga Petrova', 'olgap',
		'olga@example.com', '+79991234567', 'около 300 тысяч',
		'CRM для отдела продаж', 'qualifying', 1700000000, 1700000000)
		RETURNING id" 555
	check_json "RETURNING gives the new id" '{"id":1}' "$T/out"
	ok "seed messages" q "INSERT INTO messages (direction, prospect_id, chat,
		msg, text, key, status, at, sent_at, created_at, updated_at)
		VALUES
		('in', 1, '555', '10', 'Здравствуйте, меня зовут Ольга', NULL,
		 'answered', 1700000000, NULL, 1, 1),
		('out', 1, '555', '11', 'Здравствуйте, Ольга! Чем могу помочь?',
		 'k1', 'sent', 1700000060, 1700000065, 1, 1),
		('in', 1, '555', '12', 'Моя почта olga@example.com', NULL, 'new',
		 1700000120, NULL, 1, 1)"
	ok "seed raw updates" q "INSERT INTO updates (bot, update_id, chat,
		raw, received_at) VALUES
		('b', 1, '555', '{\"text\":\"меня зовут Ольга\"}', 1),
		('b', 2, '777', '{\"text\":\"someone else\"}', 1)"
	ok "seed a follow-up" q "INSERT INTO scheduled_actions (prospect_id,
		kind, due, reason, text, created_at, updated_at) VALUES (1,
		'followup', 1700600000, 'Ольга просила написать через неделю',
		'Ольга, добрый день!', 1, 1)"
	ok "seed a booking" q "INSERT INTO bookings (rep_id, prospect_id, email,
		start_at, end_at, provider, join_url, created_at, updated_at)
		VALUES (1, 1, 'olga@example.com', 1700100000, 1700101800, 'jitsi',
		'https://meet.jit.si/x', 1, 1)"

	check_exit "query with parameters" 0 \
		q "SELECT name, stage FROM prospects WHERE chat = \$1 AND id = \$2" \
		555 1
	check_json "query prints rows as JSON lines" \
		'{"name":"Olga Petrova","stage":"qualifying"}' "$T/out"
	check_exit "query --json parameters" 0 salesline-db --db "$DB" query \
		--json "SELECT CAST(\$1 AS TEXT) AS a, CAST(\$2 AS BIGINT) AS b" \
		null 7
	check_json "JSON null and number parameters" '{"a":null,"b":7}' "$T/out"
	check_exit "bad SQL exits 74" 74 q "SELEC 1"
	check_exit "a bad JSON parameter exits 64" 64 \
		salesline-db --db "$DB" query --json "SELECT \$1 AS a" '{'

	check_exit "export" 0 salesline-db --db "$DB" export --prospect 1
	cp "$T/out" "$T/export"
	jq -r .type "$T/export" | tr '\n' ' ' >"$T/types" || :
	check_grep "export: prospect, messages in time order, action, booking" \
		'^prospect message.in message.out message.in scheduled_action booking $' \
		"$T/types"
	jq -c 'select(.type == "prospect") | {prospect, chat, rep, name, email,
		stage, human_active, created_at}' "$T/export" >"$T/x" || :
	check_json "export: the prospect record" \
		'{"prospect":"1","chat":"555","rep":"anna","name":"Olga Petrova","email":"olga@example.com","stage":"qualifying","human_active":false,"created_at":"2023-11-14T22:13:20Z"}' \
		"$T/x"
	jq -c 'select(.type == "message.out")' "$T/export" >"$T/x" || :
	check_json "export: message.out with DESIGN.md field names" \
		'{"type":"message.out","channel":"telegram","chat":"555","prospect":"1","msg":"11","text":"Здравствуйте, Ольга! Чем могу помочь?","at":"2023-11-14T22:14:20Z","key":"k1","status":"sent","sent_at":"2023-11-14T22:14:25Z"}' \
		"$T/x"
	jq -c 'select(.type == "booking") |
		{rep, prospect, start, end: .["end"], provider}' \
		"$T/export" >"$T/x" || :
	check_json "export: the booking" \
		'{"rep":"anna","prospect":"1","start":"2023-11-16T02:00:00Z","end":"2023-11-16T02:30:00Z","provider":"jitsi"}' \
		"$T/x"
	check_exit "export of an unknown prospect exits 1" 1 \
		salesline-db --db "$DB" export --prospect 99
	check_grep "and says so" "no prospect '99'" "$T/err"

	check_exit "erase --dry-run" 0 \
		salesline-db --db "$DB" erase -n --prospect 1
	check_json "erase --dry-run reports the counts" \
		'{"type":"db.erased","prospect":"1","dry_run":true,"messages":3,"updates":1,"cancelled":1,"actions":1,"bookings":1,"results":0}' \
		"$T/out"
	salesline-db --db "$DB" export --prospect 1 >"$T/export" 2>&1 || :
	check_grep "erase --dry-run erases nothing" 'Olga Petrova' "$T/export"
	check_exit "erase" 0 salesline-db --db "$DB" erase --prospect 1
	check_json "erase reports the counts" \
		'{"type":"db.erased","prospect":"1","dry_run":false,"messages":3,"updates":1,"cancelled":1,"actions":1,"bookings":1,"results":0}' \
		"$T/out"
	salesline-db --db "$DB" export --prospect 1 >"$T/export" 2>&1 || :
	personal='Olga|olga|Ольг|79991234567|300 тысяч|CRM|Здравствуйте|почта'
	check_no_grep "after erase the export holds no personal data" \
		"$personal" "$T/export"
	q "SELECT * FROM updates" >"$T/x" 2>&1 || :
	check_no_grep "nor do the raw updates of the chat" "$personal" "$T/x"
	check_grep "updates of other chats stay" 'someone else' "$T/x"
	q "SELECT * FROM scheduled_actions" >"$T/x" 2>&1 || :
	check_no_grep "nor the scheduled actions" "$personal" "$T/x"
	check_grep "the pending follow-up is cancelled" \
		'"cancel_reason":"erased"' "$T/x"
	q "SELECT count(*) AS n FROM messages" >"$T/x" 2>&1 || :
	check_json "the messages are counted still" '{"n":3}' "$T/x"
	q "SELECT action, subject, detail FROM audit" >"$T/audit" 2>&1 || :
	check_json "one audit row, without personal data" \
		'{"action":"erase","subject":"1","detail":"{\"messages\":3,\"updates\":1,\"cancelled\":1,\"actions\":1,\"bookings\":1,\"results\":0}"}' \
		"$T/audit"
	check_exit "erase of an unknown prospect exits 1" 1 \
		salesline-db --db "$DB" erase --prospect 99
	check_exit "status to /dev/full exits 74" 74 \
		to_full salesline-db --db "$DB" status
	check_exit "export to /dev/full exits 74" 74 \
		to_full salesline-db --db "$DB" export --prospect 1
}
for_each_db ledger

# Two processes open a fresh ledger at the same moment.
race() {
	salesline-db --db "$DB" migrate >"$T/r1" 2>"$T/r1.err" &
	p1=$!
	salesline-db --db "$DB" migrate >"$T/r2" 2>"$T/r2.err" &
	p2=$!
	s1=0
	s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	ok "two concurrent first migrations both succeed" test "$s1$s2" = 00
	cat "$T/r1" "$T/r2" | jq -s 'map(.applied) | add' >"$T/x" 2>&1 || :
	check_json "exactly one of them applied the migrations" "$NM" "$T/x"
	q "SELECT count(*) AS n FROM schema_migrations" >"$T/x" 2>&1 || :
	check_json "and each is recorded once" "{\"n\":$NM}" "$T/x"
}
for_each_db race

done_testing
