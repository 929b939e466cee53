#!/bin/sh
# tests/5010-report-chromium.t: the HTML report of score-conv renders in
# headless Chromium with no network: a screenshot is taken, and the page
# Chromium built has the report's headings, one SVG per chart, the
# violations marked, and asked for nothing from outside the file.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

BROWSER=$(command -v chromium || command -v chromium-browser || true)
FIX=$ROOT/tests/fixtures/score

browser() { # ARGS...: headless Chromium with nothing to talk to
	timeout 60 "$BROWSER" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$T/profile" "$@"
}

if [ -z "$BROWSER" ]; then
	skip "the report renders in Chromium" \
		"chromium is not installed (apt-get install chromium)"
	done_testing
	exit 0
fi

# a good conversation, and one with an em-dash and «ты» in the agent's words
jq -c . "$FIX/good.json" >"$T/conv.jsonl"
jq -c 'if .type == "conversation" then .id = "bad" | .messages |= map(
	if .dir == "out" then .text |= sub("\\. "; " — ты ") else . end)
	else . end' "$FIX/good.json" >>"$T/conv.jsonl"
check_exit "score-conv writes the HTML report" 0 \
	score-conv --report html -o "$T/report.html" "$T/conv.jsonl"

check_exit "Chromium takes a screenshot" 0 \
	browser --window-size=1200,2400 --screenshot="$T/shot.png" \
	"file://$T/report.html"
check_exit "a PNG of some size" 0 sh -c \
	"head -c 8 '$T/shot.png' | od -An -c | grep -q 'P   N   G' &&
	 test \$(wc -c <'$T/shot.png') -gt 20000"

browser --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/dom.err"
check_grep "the page has the title heading" '<h1[^>]*>Conversation scores' \
	"$T/dom.html"
for h in Scenarios Charts Conversations; do
	check_grep "and the section '$h'" "<h2[^>]*>$h" "$T/dom.html"
done
for c in "Score distribution" "Response times" "Trend"; do
	check_grep "the chart '$c' is an SVG" "<svg.*<title>$c" "$T/dom.html"
done
n_svg=$(grep -o '<svg' "$T/dom.html" | wc -l)
check_exit "one SVG per chart ($n_svg for 3)" 0 test "$n_svg" -eq 3
check_grep "the bad conversation's violation is marked" 'em_dash' \
	"$T/dom.html"
check_no_grep "no script, no outside resource" \
	'<script|src="https?:|href="https?:' "$T/report.html"
done_testing
