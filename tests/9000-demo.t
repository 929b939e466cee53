#!/bin/sh
# tests/9000-demo.t: make demo's script on its embedded defaults: a fresh
# SQLite ledger, a rep, her free slots, a booked Jitsi meeting and its
# reminder, with no account and no network.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/home"
ln -s "$ROOT/sql" "$T/home/sql"
check_exit "the demo runs" 0 env SALESLINE_HOME="$T/home" \
	ZOOM_ACCOUNT_ID=not-for-the-demo salesline-demo
cp "$T/out" "$T/demo"
cp "$T/err" "$T/demo.err"
check_grep "a fresh ledger" '"type":"db.migrated"' "$T/demo"
check_grep "a rep" '"type":"rep".*"name":"anna"' "$T/demo"
check_exit "three free slots" 0 test "$(grep -c '"type":"slot"' "$T/demo")" -eq 3
check_grep "a meeting booked with a Jitsi link" \
	'"type":"booking".*"provider":"jitsi".*"join_url":"https://meet.jit.si/salesline-' \
	"$T/demo"
check_grep "and its reminder" '"type":"scheduled_action".*"kind":"reminder_' \
	"$T/demo"
check_no_grep "nothing went wrong" . "$T/demo.err"
check_exit "the ledger is where it said" 0 test -s "$T/home/var/demo.db"

done_testing
