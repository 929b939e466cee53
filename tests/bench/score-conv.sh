#!/bin/sh
# tests/bench/score-conv.sh: score-conv on 10,000 recorded conversations
# (BENCH_CONVERSATIONS), made from the hand-written transcript of
# tests/fixtures/score with other ids, scenarios, and every third one
# breaking a rule; prints conversations per second of the score lines,
# and of the same with the HTML report.  Run by tests/bench/run.
set -eu
cd "$(dirname "$0")/../.."
SL_BUILD=${SL_BUILD:-.}
N=${BENCH_CONVERSATIONS:-10000}
data=$SL_BUILD/score-conv-$N.jsonl
SALESLINE_HOME=$(pwd)
export SALESLINE_HOME

if [ ! -s "$data" ]; then
	jq -c --argjson n "$N" 'range($n) as $i
		| .id = "c\($i)" | .scenario = "s\($i % 14)"
		| if $i % 3 == 1 then .messages[3].text |=
			sub("Понятно, спасибо."; "Понятно — спасибо.")
		  elif $i % 3 == 2 then .events += [{"event":"takeover",
			"at":"2026-12-01T09:05:30Z"}]
		  else . end' tests/fixtures/score/good.json >"$data"
fi

now() { date +%s.%N; }
# best LABEL CMD...: the best of three runs of CMD <data >/dev/null
best() {
	label=$1
	shift
	b=
	for _ in 1 2 3; do
		t0=$(now)
		"$@" <"$data" >/dev/null
		t1=$(now)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" \
			'BEGIN { d = z - a; if (b == "" || d < b) b = d; print b }')
	done
	awk -v l="$label" -v t="$b" -v n="$N" 'BEGIN {
		printf "%-28s %9.0f conversations/s (%d in %.2f s)\n", l, n / t, n, t }'
}

echo "score-conv: $N conversations, $(wc -c <"$data" | awk '{ printf "%.1f", $1 / 1048576 }') MB"
best "  score lines" "$SL_BUILD/bin/score-conv"
best "  with --report html" "$SL_BUILD/bin/score-conv" --report html
