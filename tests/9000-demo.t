#!/bin/sh
# tests/9000-demo.t: make demo's script on its embedded defaults, with no
# account and no network: a fresh SQLite ledger, a rep, her free slots, a
# booked Jitsi meeting and its reminder; then the scenario suite against
# the real pipeline with the rules agent: each conversation printed as it
# happens, at least 12 of the 14 scenarios ending as expected, every agent
# message clean of tone violations, a table of scores, and an HTML report
# that renders in headless Chromium with its headings and one SVG a chart.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/home"
ln -s "$ROOT/sql" "$ROOT/skills" "$T/home/"
t0=$(date +%s)
check_exit "the demo runs" 0 env SALESLINE_HOME="$T/home" \
	ZOOM_ACCOUNT_ID=not-for-the-demo salesline-demo
echo "#   the demo took $(($(date +%s) - t0)) s"
cp "$T/out" "$T/demo"
cp "$T/err" "$T/demo.err"
V=$T/home/var
check_grep "a fresh ledger" '"type":"db.migrated"' "$T/demo"
check_grep "a rep" '"type":"rep".*"name":"anna"' "$T/demo"
check_exit "three free slots" 0 test "$(grep -c '"type":"slot"' "$T/demo")" -eq 3
check_grep "a meeting booked with a Jitsi link" \
	'"type":"booking".*"provider":"jitsi".*"join_url":"https://meet.jit.si/salesline-' \
	"$T/demo"
check_grep "and its reminder" '"type":"scheduled_action".*"kind":"reminder_' \
	"$T/demo"
check_no_grep "nothing went wrong" . "$T/demo.err"
check_exit "the ledger is where it said" 0 test -s "$V/demo.db"

# the scenario suite
check_grep "the conversations are printed as they happen, in the rep's zone" \
	'^rapid-fire-burst +[A-Z][a-z]{2} [0-9]{2} [A-Z][a-z]{2} [0-9:]{5} WITA  Olga: ' \
	"$T/demo"
n=$(jq -s '[.[] | select(.type == "result")] | length' "$V/demo-results.jsonl")
ok_n=$(jq -s '[.[] | select(.type == "result" and .passed)] | length' \
	"$V/demo-results.jsonl")
check_exit "fourteen scenarios ran ($n)" 0 test "$n" -eq 14
check_exit "at least 12 ended as expected ($ok_n)" 0 test "$ok_n" -ge 12
check_grep "the table of scores" '^  scenario +expected +outcome +score$' \
	"$T/demo"
check_grep "with its summary" "^  $ok_n of 14 ended as expected, mean score" \
	"$T/demo"
check_exit "every conversation is scored" 0 \
	test "$(grep -c '"type":"score"' "$V/demo-scores.jsonl")" -eq 14
jq -c '.violations[] | select(.part == "tone")' "$V/demo-scores.jsonl" \
	>"$T/tone"
check_no_grep "no agent message breaks the tone rules" . "$T/tone"
check_grep "the report's place is said" "^the report: $V/demo-report.html$" \
	"$T/demo"

BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$BROWSER" ]; then
	browser() {
		timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu \
			--disable-quic --no-first-run \
			--disable-background-networking \
			--disable-component-update --disable-sync \
			--user-data-dir="$T/profile" "$@"
	}
	check_exit "Chromium takes a screenshot of the report" 0 \
		browser --window-size=1200,3000 --screenshot="$T/shot.png" \
		"file://$V/demo-report.html"
	check_exit "a PNG of some size" 0 \
		test "$(wc -c <"$T/shot.png")" -gt 20000
	browser --dump-dom "file://$V/demo-report.html" >"$T/dom.html" \
		2>/dev/null || true
	for h in "<h1>Conversation scores" "<h2>Scenarios" "<h2>Charts" \
		"<h2>Conversations"; do
		check_grep "the rendered page has $h" "$h" "$T/dom.html"
	done
	check_exit "one SVG per chart" 0 \
		test "$(grep -o '<svg' "$T/dom.html" | wc -l)" -eq 3
	check_grep "a row per scenario" 'rapid-fire-burst' "$T/dom.html"
else
	skip "the report renders in Chromium" "chromium is not installed"
fi

done_testing
