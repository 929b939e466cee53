#!/bin/sh
# tests/8002-salesline-health.t: salesline-health on SQLite and
# PostgreSQL: zero and "ok":true when everything works; non-zero and the
# reason when the ledger is down or not migrated, the token is wrong, the
# model's key is refused, a rep's calendar is disconnected, the tick or
# the fetch is stale; --beat; --metrics in the Prometheus text format,
# also written atomically to a file; output errors.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

TOKEN=7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9
NOW=2026-12-01T00:00:00Z
SALESLINE_HTTP_BACKOFF_SCALE=0.01
SALESLINE_HTTP_CONNECT_TIMEOUT=2
export SALESLINE_HTTP_BACKOFF_SCALE SALESLINE_HTTP_CONNECT_TIMEOUT

check_exit "--help exits 0" 0 salesline-health --help
check_grep "--help prints the usage" '^usage: salesline-health' "$T/out"
check_exit "a bad option exits 64" 64 salesline-health --bogus
check_exit "an unknown --skip exits 64" 64 salesline-health --skip bogus
check_grep "naming the checks" "no check 'bogus'" "$T/err"
check_exit "a bad --beat name exits 64" 64 salesline-health --beat 'a b'

check_exit "a missing SQLite ledger exits 78" 78 \
	salesline-health --db "$T/none.db" --offline
check_grep "and says so" "ledger: no ledger at '$T/none.db'" "$T/err"
check_exit "and creates nothing" 1 test -e "$T/none.db"
check_exit "an unreachable PostgreSQL exits 75" 75 salesline-health \
	--db postgres://u:pw-secret-8@127.0.0.1:1/x --offline
check_grep "saying the ledger is down" 'ledger: cannot open ledger' "$T/err"
check_grep "and what was not checked" 'tick: not checked: the ledger is down' \
	"$T/err"
check_no_grep "never showing the password" 'pw-secret-8' "$T/err"
check_grep "the record says it too" '"ok":false' "$T/out"
check_exit "--metrics without a ledger: still the up gauge" 75 \
	salesline-health --db postgres://u:pw@127.0.0.1:1/x --offline --metrics
check_grep "salesline_up of the ledger is 0" '^salesline_up\{check="ledger"\} 0$' \
	"$T/out"

q() {
	salesline-db --db "$DB" query "$@"
}

health() {
	fake_start -t "$TOKEN" -k sk-ant-good-key-1
	export TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="$FAKE_URL"
	export SALESLINE_NOW="$NOW"
	salesline-db --db "$DB" migrate >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar --bot 7000000001 \
		>/dev/null

	check_exit "before any tick: non-zero" 1 salesline-health --db "$DB"
	check_grep "the tick has never run" \
		'tick: no successful tick recorded yet' "$T/err"
	check_grep "nor the fetch" 'fetch: no fetch recorded yet' "$T/err"
	check_exit "--beat tick" 0 salesline-health --db "$DB" --beat tick
	check_exit "--beat run.7000000001" 0 \
		salesline-health --db "$DB" --beat run.7000000001
	check_exit "healthy: exit 0" 0 salesline-health --db "$DB"
	jq -c '{ok, t: .checks.telegram.username, m: .checks.model.provider,
		tick: .checks.tick.age}' "$T/out" >"$T/p"
	check_json "one health record with every check" \
		'{"ok":true,"t":"acme_sales_bot","m":"rules","tick":0}' "$T/p"

	check_exit "a wrong token: exit 77" 77 env \
		TELEGRAM_BOT_TOKEN=7000000009:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0 \
		salesline-health --db "$DB"
	check_grep "Telegram rejected the token" \
		'telegram: Telegram rejected the token \(401 Unauthorized\): check TELEGRAM_BOT_TOKEN' "$T/err"
	check_no_grep "never showing it" 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0' \
		"$T/err"
	check_exit "a malformed token: exit 78" 78 env TELEGRAM_BOT_TOKEN=nope \
		salesline-health --db "$DB"
	check_exit "Telegram unreachable: exit 75" 75 env \
		TELEGRAM_API_URL=http://127.0.0.1:1 salesline-health --db "$DB"
	check_grep "saying so" 'telegram: Telegram unreachable' "$T/err"

	check_exit "an hour later the tick is stale: exit 1" 1 env \
		SALESLINE_NOW=2026-12-01T01:00:00Z salesline-health --db "$DB" \
		--skip fetch
	check_grep "saying why" \
		'tick: last successful tick 3600 s ago \(more than 300 s\)' \
		"$T/err"
	check_exit "--max-tick-age allows more" 0 env \
		SALESLINE_NOW=2026-12-01T01:00:00Z salesline-health --db "$DB" \
		--skip fetch --max-tick-age 7200

	# the model: a probe, refused or answered
	check_exit "a model key refused: exit 77" 77 env \
		ANTHROPIC_API_KEY=sk-ant-bad-key-2 LLM_BASE_URL="$FAKE_URL" \
		salesline-health --db "$DB"
	check_grep "saying which model" 'model: model .* of anthropic' "$T/err"
	check_no_grep "never showing the key" 'sk-ant-bad-key-2' "$T/err"
	check_exit "a model that answers: exit 0" 0 env \
		ANTHROPIC_API_KEY=sk-ant-good-key-1 LLM_BASE_URL="$FAKE_URL" \
		salesline-health --db "$DB"
	check_grep "after a probe" '"probe":true' "$T/out"
	q "SELECT purpose, status FROM llm_calls ORDER BY id" >"$T/p"
	check_json "the probes are in llm_calls" \
		'{"purpose":"health","status":"error"}
		{"purpose":"health","status":"ok"}' "$T/p"
	env ANTHROPIC_API_KEY=sk-ant-good-key-1 LLM_BASE_URL="$FAKE_URL" \
		salesline-health --db "$DB" >"$T/out" 2>&1 || true
	check_no_grep "a recent good call needs no probe" '"probe"' "$T/out"

	# a rep's calendar that Google disconnected
	q "UPDATE reps SET calendar_status = 'disconnected', calendar_error =
		'invalid_grant' WHERE name = 'anna'" >/dev/null
	check_exit "a disconnected calendar: non-zero" 77 \
		salesline-health --db "$DB" --offline
	check_grep "naming the rep and the fix" \
		"calendar: rep 'anna': calendar disconnected \(invalid_grant\).*rep-admin calendar connect anna" \
		"$T/err"
	q "UPDATE reps SET calendar_status = 'none' WHERE name = 'anna'" \
		>/dev/null

	# metrics
	check_exit "--metrics" 0 salesline-health --db "$DB" --metrics
	cp "$T/out" "$T/metrics"
	check_exit "prints the Prometheus text format" 0 prom_ok "$T/metrics"
	check_grep "with the reply latency histogram" \
		'^salesline_reply_latency_seconds_bucket\{le="\+Inf"\} 0$' "$T/metrics"
	check_grep "and the model's cost" \
		'^salesline_llm_cost_dollars_total\{provider="anthropic",model=' \
		"$T/metrics"
	check_grep "and errors by kind" \
		'^salesline_errors_total\{kind="llm_error"\} 1$' "$T/metrics"
	check_grep "and the heartbeats' ages" \
		'^salesline_heartbeat_age_seconds\{name="tick"\} 0$' "$T/metrics"
	mkdir -p "$T/m"
	check_exit "--metrics-file" 0 \
		salesline-health --db "$DB" --offline --metrics-file "$T/m/s.prom"
	check_grep "prints the record as usual" '"type":"health"' "$T/out"
	check_exit "and writes the file" 0 prom_ok "$T/m/s.prom"
	check_exit "leaving no temporary file" 0 \
		test "$(find "$T/m" -type f | wc -l)" -eq 1
	check_exit "an unwritable file exits 74" 74 \
		salesline-health --db "$DB" --offline --metrics-file "$T/no/s.prom"
	check_exit "output to /dev/full exits 74" 74 \
		sh -c 'salesline-health --db "$1" --offline >/dev/full' sh "$DB"

	# not migrated
	if [ "$ENGINE" = sqlite ]; then
		mkdir -p "$T/sql/sqlite"
		cp "$ROOT"/sql/sqlite/*.sql "$T/sql/sqlite/"
		echo "CREATE TABLE later (id INTEGER);" \
			>"$T/sql/sqlite/999-later.sql"
		check_exit "a migration not applied: exit 78" 78 env \
			SALESLINE_HOME="$T" salesline-health --db "$DB" --offline
		check_grep "saying what to run" \
			'1 migration not applied \(run salesline-db migrate\)' \
			"$T/err"
	fi
	unset SALESLINE_NOW
}

for_each_db health
done_testing
