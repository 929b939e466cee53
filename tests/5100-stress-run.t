#!/bin/sh
# tests/5100-stress-run.t: stress-run on SQLite and PostgreSQL with the
# rules agent: the scenario suite of skills/scenarios ends in the expected
# outcomes (at least 12 of 14), runs and results land in the ledger, 50
# conversations at once lose and duplicate nothing (the ledger against the
# emulator's sent log), a forced drop against the previous run exits 2,
# bad scenario files are rejected naming the file and the field, --print.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

SC=$ROOT/skills/scenarios

check_exit "--help exits 0" 0 stress-run --help
check_grep "--help prints the usage" '^usage: stress-run ' "$T/out"
check_exit "a bad option exits 64" 64 stress-run --bogus
check_exit "a bad --parallel exits 64" 64 stress-run --parallel 0
check_exit "a bad --start exits 64" 64 stress-run --start soon
check_exit "a missing file exits 66" 66 stress-run --db "$T/x.db" "$T/none.json"
check_exit "no emulator at TELEGRAM_API_URL exits 78" 78 env \
	TELEGRAM_API_URL=http://127.0.0.1:1 stress-run --db "$T/x.db" legal-threat
check_grep "and says so" "no Telegram emulator answers" "$T/err"
check_exit "more than 9999 conversations exits 64" 64 \
	stress-run --db "$T/x.db" --repeat 1000

# Bad scenario files: each problem named by file and field; the good
# scenarios still run.
bad() { # NAME JSON
	printf '%s\n' "$2" >"$T/bad/$1.json"
}
mkdir "$T/bad"
bad notjson '{"name": '
bad lang '{"name":"x1","persona":{"name":"A","lang":"de"},"turns":[{"say":"hi"}],"expect":{"outcome":"replied"}}'
bad say '{"name":"x2","persona":{"name":"A","lang":"ru"},"turns":[{"say":"hi"},{"say":5}],"expect":{"outcome":"replied"}}'
bad outcome '{"name":"x3","persona":{"name":"A","lang":"ru"},"turns":[{"say":"hi"}],"expect":{"outcome":"happy"}}'
bad unknown '{"name":"x4","persona":{"name":"A","lang":"ru"},"turns":[{"say":"hi","delay":3}],"expect":{"outcome":"replied"}}'
bad wait '{"name":"x5","persona":{"name":"A","lang":"ru"},"turns":[{"wait":"a week"}],"expect":{"outcome":"replied"}}'
bad regex '{"name":"x6","persona":{"name":"A","lang":"ru"},"turns":[{"say":"hi"}],"expect":{"outcome":"replied","match":["("]}}'
bad takeover '{"name":"x7","persona":{"name":"A","lang":"ru"},"turns":[{"rep_says":"hi"}],"expect":{"outcome":"replied"}}'
check_exit "bad scenarios with a good one: exit 1" 1 \
	stress-run --db "$T/bad.db" --no-score "$T"/bad/*.json "$SC/legal-threat.json"
for w in "notjson.json: not a JSON text" \
	"lang.json: 'persona.lang': expected \"ru\" or \"en\"" \
	"say.json: 'turns\[1\].say': expected a non-empty string" \
	"outcome.json: 'expect.outcome': expected one of booked" \
	"unknown.json: 'turns\[0\].delay': unknown field" \
	"wait.json: 'turns\[0\].wait': expected seconds or N\[smhd\]" \
	"regex.json: 'expect.match': expected an array of regular expressions" \
	"takeover.json: 'business': must be true"; do
	check_grep "rejected: $w" "^stress-run: $T/bad/$w" "$T/err"
done
check_grep "the good scenario still ran" \
	'"type":"result".*"scenario":"legal-threat".*"passed":true' "$T/out"
check_exit "only bad scenarios: exit 65" 65 \
	stress-run --db "$T/bad.db" "$T/bad/lang.json"

suite() {
	check_exit "the scenario suite runs" 0 \
		stress-run --db "$DB" --parallel 4 --label suite
	cp "$T/out" "$T/suite.out"
	cp "$T/err" "$T/suite.err"
	n=$(grep -c '"type":"result"' "$T/suite.out" || true)
	ok "one result per scenario (got $n)" test "$n" -eq 14
	p=$(grep -c '"type":"result".*"passed":true' "$T/suite.out" || true)
	ok "at least 12 of 14 end as expected (got $p)" test "$p" -ge 12
	for f in $(jq -r 'select(.type == "result" and (.passed | not)) |
		"\(.scenario): \(.failed | join("; "))"' "$T/suite.out" |
		tr ' ' '_'); do
		echo "# failed: $f"
	done
	tail -n 1 "$T/suite.out" | jq -c '{type, conversations, passed,
		regression}' >"$T/s"
	check_json "a summary record comes last" "{\"type\":\"summary\",
		\"conversations\":14,\"passed\":$p,\"regression\":false}" "$T/s"
	sql "$DB" "SELECT label, status, conversations, passed FROM runs" >"$T/r"
	check_json "the run is in the ledger" "{\"label\":\"suite\",
		\"status\":\"done\",\"conversations\":14,\"passed\":$p}" "$T/r"
	sql "$DB" "SELECT count(*) AS n, sum(passed) AS p FROM results WHERE
		transcript LIKE '{\"type\":\"conversation\"%'" >"$T/r"
	check_json "so are the results with their transcripts" \
		"{\"n\":14,\"p\":$p}" "$T/r"
	sql "$DB" "SELECT transcript FROM results WHERE scenario =
		'human-takeover'" | jq -c '.transcript | fromjson |
		[.messages[] | .by]' >"$T/r"
	check_json "a transcript tells the rep from the agent" \
		'["prospect","agent","human","prospect","prospect"]' "$T/r"
	if command -v score-conv >/dev/null 2>&1; then
		ok "scores are recorded" grep -q '"scored":true' "$T/suite.out"
	else
		check_grep "without score-conv it says so" \
			'score-conv is not on PATH' "$T/suite.err"
	fi
	check_no_grep "no agent message has an em-dash" '—' "$T/suite.out"
	sql "$DB" "SELECT count(*) AS n FROM scheduled_actions WHERE status IN
		('pending', 'claimed')" >"$T/r"
	check_json "nothing is left pending" '{"n":0}' "$T/r"

	# two scenarios, then the same two made to fail: a drop
	mkdir -p "$T/drop"
	cp "$SC/legal-threat.json" "$SC/urgency-demand.json" "$T/drop/"
	check_exit "a run of two scenarios" 0 stress-run --db "$DB" --no-score \
		"$T"/drop/*.json
	prev=$(tail -n 1 "$T/out" | jq -r .run)
	for f in legal-threat urgency-demand; do
		jq '.expect.match = ["never-said-by-anyone"]' "$SC/$f.json" \
			>"$T/drop/$f.json"
	done
	check_exit "the same two failing: a drop, exit 2" 2 \
		stress-run --db "$DB" --no-score --max-drop 10 "$T"/drop/*.json
	check_grep "and says so" "dropped more than 10 points since run $prev" \
		"$T/err"
	tail -n 1 "$T/out" | jq -c '{previous: .previous.run, pass_rate,
		regression}' >"$T/s"
	check_json "the summary names the previous run" \
		"{\"previous\":\"$prev\",\"pass_rate\":0,\"regression\":true}" "$T/s"
	check_exit "within --max-drop: exit 0" 0 stress-run --db "$DB" \
		--no-score --max-drop 100 "$T"/drop/*.json
	check_exit "one scenario alone" 0 \
		stress-run --db "$DB" --no-score --max-drop 100 \
		"$SC/legal-threat.json"
	tail -n 1 "$T/out" | jq -c .previous >"$T/s"
	check_json "is compared only with runs of the same scenarios: none" null "$T/s"
}
for_each_db suite

many() {
	fake_start
	check_exit "--parallel 50: 50 conversations at once" 0 env \
		TELEGRAM_API_URL="$FAKE_URL" stress-run --db "$DB" --parallel 50 \
		--repeat 10 --no-score off-topic-troll interruption urgency-demand \
		human-takeover legal-threat
	cp "$T/out" "$T/many.out"
	n=$(grep -c '"type":"result".*"passed":true' "$T/many.out" || true)
	ok "all 50 end as expected (got $n)" test "$n" -eq 50
	# the ledger against the emulator, bot by bot
	sql "$DB" "SELECT r.bot, m.chat, m.meta FROM messages m JOIN prospects p
		ON p.id = m.prospect_id JOIN reps r ON r.id = p.rep_id WHERE
		m.direction = 'out' AND m.status = 'sent' AND m.key NOT LIKE
		'tg:human:%'" | jq -r '.bot as $b | .meta | fromjson | .msgs[] |
		"\($b) \(.)"' | sort >"$T/ledger"
	: >"$T/emu"
	for b in $(sql "$DB" "SELECT bot FROM reps" | jq -r .bot); do
		curl -s "$FAKE_URL/_fake/telegram/sent?token=$b:AAstress-run-token-0000000" |
			jq -r --arg b "$b" '"\($b) \(.message_id)"' >>"$T/emu"
	done
	sort "$T/emu" -o "$T/emu"
	want=$(jq -s '[.[] | select(.type == "result") | .got.replies] | add' \
		"$T/many.out")
	ok "as many sends as replies in the results ($want)" \
		test "$(wc -l <"$T/emu")" -eq "$want" -a "$want" -ge 80
	ok "every send in the ledger reached the emulator, once" \
		cmp "$T/ledger" "$T/emu"
	ok "no message id twice" test -z "$(uniq -d "$T/emu")"
	sql "$DB" "SELECT count(*) AS n FROM messages WHERE direction = 'in'
		AND status NOT IN ('answered', 'ignored')" >"$T/r"
	check_json "every prospect message was answered or ignored" '{"n":0}' "$T/r"
}
for_each_db many

printed() {
	check_exit "--print" 0 stress-run --db "$DB" --print --no-score \
		human-takeover
	check_grep "shows who said what, when, in the rep's zone" \
		'^human-takeover .* Tue 01 Dec 09:00 WITA  Павел: Здравствуйте' \
		"$T/err"
	check_grep "the rep's own words are marked" 'Анна \(human\): Павел' \
		"$T/err"
	check_grep "stdout keeps the records" '"type":"summary"' "$T/out"
}
for_each_db printed

done_testing
