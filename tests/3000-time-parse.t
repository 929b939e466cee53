#!/bin/sh
# tests/3000-time-parse.t: time-parse as a command: its usage and exit
# statuses, records in and out (unknown fields, defaults from flags and
# the environment, rejected lines), odd input, and the corpus gate: at
# least 95 % right per language on tests/fixtures/time-corpus.jsonl, no
# time found in a phrase that holds none, failures listed as comments.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

CORPUS=$TESTS_DIR/fixtures/time-corpus.jsonl
N=2026-11-18T14:23:00+08:00

# Usage and configuration.
check_exit "--help exits 0" 0 time-parse --help
check_grep "--help prints the usage on stdout" '^usage: time-parse' "$T/out"
check_exit "a bad option exits 64" 64 time-parse --bogus
check_grep "a bad option is named" "time-parse: unknown option '--bogus'" \
	"$T/err"
check_grep "the usage follows on stderr" '^usage: time-parse' "$T/err"
check_exit "--tz needs a value" 64 time-parse --tz
check_exit "an unknown --tz exits 64" 64 time-parse --tz Mars/Olympus x
check_grep "the zone is named" "unknown time zone 'Mars/Olympus'" "$T/err"
check_exit "a bad --now exits 64" 64 time-parse --now yesterday x
check_grep "--now is named" "time-parse: --now: expected RFC 3339" "$T/err"
check_exit "a bad \$SALESLINE_TZ exits 78" 78 \
	env SALESLINE_TZ=Nowhere/City time-parse x
check_grep "the variable is named" "SALESLINE_TZ: unknown time zone" \
	"$T/err"
check_exit "a bad \$SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon time-parse x
check_grep "SALESLINE_NOW is named" "SALESLINE_NOW" "$T/err"

# Arguments: one record for the words given.
check_exit "TEXT as arguments" 0 \
	time-parse --now "$N" --tz Asia/Makassar напишите через неделю
check_json "one record for the arguments" \
	'{"type":"time","text":"напишите через неделю","at":"2026-11-25T14:23:00+08:00","match":"через неделю","lang":"ru"}' \
	"$T/out"
check_exit "no time in the arguments" 0 \
	time-parse --now "$N" we need 2 licenses
jq -c '{at, match, lang}' "$T/out" >"$T/j" || :
check_json "at and match are null" '{"at":null,"match":null,"lang":"en"}' "$T/j"
check_exit "defaults: \$SALESLINE_NOW and Asia/Makassar" 0 \
	env SALESLINE_NOW=1794982980 time-parse tomorrow at 3pm
jq -c .at "$T/out" >"$T/j" || :
check_json "default zone is Asia/Makassar" '"2026-11-19T15:00:00+08:00"' \
	"$T/j"
check_exit "\$SALESLINE_TZ" 0 env SALESLINE_TZ=Europe/Berlin \
	time-parse --now 2026-03-28T15:00:00+01:00 завтра в 10
jq -c .at "$T/out" >"$T/j" || :
check_json "\$SALESLINE_TZ is the zone, across DST" \
	'"2026-03-29T10:00:00+02:00"' "$T/j"
check_exit "a named zone" 0 time-parse --now "$N" "at 3pm EST"
jq -c '{at, zone}' "$T/out" >"$T/j" || :
check_json "the instant honours EST, at is in the rep's zone" \
	'{"at":"2026-11-19T04:00:00+08:00","zone":"America/New_York"}' "$T/j"

# Records.
cat >"$T/in" <<EOF
{"type":"lead.note","chat":"42","text":"Давайте в пятницу после обеда","now":"$N","tz":"Asia/Makassar","x":[1,{"y":null}]}
{"text":"in 2 hours","now":1794982980,"tz":"Europe/Berlin"}
{"text":"через 2 часа","tz":"Mars/Olympus"}
{"chat":"1"}
{"text":42}
{"text":"tomorrow","now":"not a time"}
[1,2]
{"text":"","now":"$N"}
{"text":"\u0000завтра","now":"$N"}
EOF
check_exit "a stream with bad lines exits 1" 1 time-parse <"$T/in"
cp "$T/out" "$T/stream"
cp "$T/err" "$T/stream.err"
head -n 1 "$T/stream" >"$T/j"
check_json "fields pass through, type is kept" \
	'{"type":"lead.note","chat":"42","text":"Давайте в пятницу после обеда","now":"'"$N"'","tz":"Asia/Makassar","x":[1,{"y":null}],"at":"2026-11-20T15:00:00+08:00","match":"в пятницу после обеда","lang":"ru"}' \
	"$T/j"
sed -n 2p "$T/stream" | jq -c '{type, at}' >"$T/j" || :
check_json "now as Unix seconds; at in the record's zone" \
	'{"type":"time","at":"2026-11-18T09:23:00+01:00"}' "$T/j"
check_grep "a bad tz is rejected with its line" \
	"^time-parse: stdin:3: 'tz': unknown time zone 'Mars/Olympus'$" \
	"$T/stream.err"
check_grep "a record without text is rejected" \
	"^time-parse: stdin:4: 'text': missing$" "$T/stream.err"
check_grep "text must be a string" \
	"^time-parse: stdin:5: 'text': expected a string$" "$T/stream.err"
check_grep "a bad now is rejected" \
	"^time-parse: stdin:6: 'now': expected RFC 3339 or Unix seconds$" \
	"$T/stream.err"
check_grep "a line that is no object is rejected" '^time-parse: stdin:7: ' \
	"$T/stream.err"
jq -c '[.text, .at]' "$T/stream" | tail -n 2 >"$T/j" || :
check_json "the stream goes on after bad lines" \
	'["",null]
["\u0000завтра","2026-11-19T10:00:00+08:00"]' "$T/j"
check_exit "a good stream exits 0" 0 time-parse --now "$N" <<EOF
{"text":"завтра"}
EOF
check_exit "output to /dev/full exits 74" 74 sh -c \
	'echo "{\"text\":\"завтра\"}" | time-parse >/dev/full'

# Odd input never crashes.
awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 100000; i++)
	printf "слово 12:%02d ", i % 60; printf "завтра\"}\n" }' >"$T/big"
check_exit "a text of 2 MB" 0 time-parse --now "$N" <"$T/big"
jq -c .match "$T/out" >"$T/j" || :
check_json "only its start is read" '"12:00"' "$T/j"
printf '{"text":"\\ud800 \\udfff \\u00ff\\u0001 через \\t час"}\n' >"$T/odd"
check_exit "escapes and lone surrogates" 0 time-parse --now "$N" <"$T/odd"
head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n' |
	sed 's/^/{"text":"/; s/$/"}/' >"$T/rand"
check_exit "hex noise" 0 time-parse --now "$N" <"$T/rand"

# The corpus.
# time-parse sets "lang" itself, so the corpus's is kept as "case_lang"
jq -c '.case_lang = .lang' "$CORPUS" >"$T/cases"
check_exit "the corpus runs" 0 time-parse <"$T/cases"
cp "$T/out" "$T/corpus"
jq -r 'select(.at != .want) |
	"#   \(.case_lang): \(.text | @json) (now \(.now), \(.tz)): want \(.want), got \(.at) [\(.match)]"' \
	"$T/corpus"
jq -s -r 'group_by(.case_lang)[] | [.[0].case_lang, length,
	(map(select(.at == .want)) | length),
	(map(select(.want == null)) | length),
	(map(select(.want == null and .at != null)) | length),
	(map(select(.want != null and (.tz == "Europe/Berlin" or
	    .tz == "America/New_York"))) | length)] | @tsv' \
	"$T/corpus" >"$T/stats"
while IFS="$(printf '\t')" read -r lang n right nulls falses dst; do
	pct=$(awk -v r="$right" -v n="$n" 'BEGIN { printf "%.1f", 100 * r / n }')
	echo "# $lang: $right of $n right ($pct %), $nulls phrases without a time, $dst DST cases"
	ok "$lang: at least 100 phrases with a time" \
		test $((n - nulls)) -ge 100
	ok "$lang: at least 20 phrases without a time" test "$nulls" -ge 20
	ok "$lang: DST cases" test "$dst" -ge 5
	ok "$lang: at least 95 % right" test $((right * 100)) -ge $((n * 95))
	ok "$lang: no false times" test "$falses" -eq 0
done <"$T/stats"
check_grep "both languages are in the corpus" '^en	.*' "$T/stats"
check_grep "Russian is in the corpus" '^ru	.*' "$T/stats"

done_testing
