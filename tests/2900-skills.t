#!/bin/sh
# tests/2900-skills.t: the content of skills/, checked mechanically: the
# JSON parses; the tool table names commands that exist (or are planned)
# with schemas that agree with their man pages; the templates are all
# there in both languages and obey the tone rules of
# skills/tone-of-voice/rules.json; the knowledge base has the same files,
# headings and prices in Russian and English, and FAQ answers short enough
# to be sent as they are; no template names a price the knowledge base
# does not contain.  Needs jq and awk, no build.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

S=$ROOT/skills
RULES=$S/tone-of-voice/rules.json
TPL=$S/templates/templates.json
TOOLS=$S/tools.json

# Programs that tools.json may name before they exist in bin/.
PLANNED=""

# Every key the rules engine relies on, each in ru and en.
REQUIRED="greeting greeting_returning ask_need ask_budget ask_authority
ask_timeline propose_meeting ask_time_preference ask_email email_invalid
confirm_booking slot_taken booking_failed no_slots meeting_reschedule
meeting_cancel_ack followup_ask_when followup_ack followup_message
reminder_24h reminder_1h escalate_human escalate_after_hours is_bot_answer
stop_ack price_answer price_list discount_answer kb_not_found fallback
thanks_ack goodbye objection_expensive objection_no_time objection_think
objection_send_materials objection_have_vendor objection_not_decision_maker"

# jq helpers: $r is rules.json.
DEFS='
def esc: gsub("(?<c>[.*+?()\\[\\]{}|^$\\\\])"; "\\\(.c)");
def words($l): "(?<![\\p{L}\\p{N}])(?i:" + ($l | map(esc) | join("|")) + ")(?![\\p{L}\\p{N}])";
def cwords($l): "(?<![\\p{L}\\p{N}])(?:" + ($l | map(esc) | join("|")) + ")(?![\\p{L}\\p{N}])";
def hits($re): [match($re; "g").string];
def count($re): [match($re; "g")] | length;
def nsent($r): count($r.message.sentence_end) + (if test("[.!?…]\\s*$") then 0 else 1 end);
def fill($s): gsub("\\{(?<p>[a-z_]+)\\}"; ($s[.p] // "{\(.p)}"));
def strip: gsub("\\{[a-z_]+\\}"; "");
def amounts($r): [match($r.claims_need_kb.price_pattern; "g").string | gsub("[^0-9]"; "")];
def trim: sub("^\\s+"; "") | sub("\\s+$"; "");
# lint($r; $lang): one line per rule the message breaks.
def lint($r; $lang):
  . as $t
  | (length | select(. > $r.message.max_chars) | "\(.) characters, more than \($r.message.max_chars)"),
    (nsent($r) | select(. > $r.message.max_sentences) | "\(.) sentences"),
    (count($r.message.question_mark) | select(. > $r.message.max_questions) | "\(.) questions"),
    (count("!") | select(. > $r.message.max_exclamations) | "\(.) exclamation marks"),
    (count($r.emoji.pattern) | select(. > $r.emoji.max) | "\(.) emoji"),
    ($r.dashes.banned[] | select(. as $d | $t | contains($d)) | "dash \(.)"),
    (hits(words($r.informal_pronouns.ru))[] | "informal pronoun \(.)"),
    (hits(words($r.informal_verbs.ru))[] | "informal verb \(.)"),
    (if $lang == "ru" then hits(cwords($r.formal_address.lowercase_violations))[] | "lowercase \(.)" else empty end),
    (hits(words($r.pressure_phrases[$lang]))[] | "pressure \(.)"),
    (hits(words($r.banned_phrases[$lang]))[] | "banned phrase \(.)"),
    (hits("\\{[a-z_]+\\}")[] | "unknown placeholder \(.)"),
    (hits("(?<![\\p{L}\\p{N}])[A-ZА-ЯЁ]{3,}(?![\\p{L}\\p{N}])")[]
     | select(. as $w | $r.caps.allowed | index($w) | not) | "capitals \(.)");
# Every variant: key, language, the text and the text with samples filled in.
def variants($r):
  .templates | to_entries[] | .key as $k | .value | to_entries[]
  | .key as $lang | .value[]
  | {key: $k, lang: $lang, text: ., filled: fill($r.placeholders.samples[$lang])};
# FAQ passages of one Markdown file: question and answer.
def faq:
  split("\n### ")[1:]
  | map(split("\n") as $l
        | {q: $l[0], a: ($l[1:] | join("\n") | split("\n## ")[0] | trim)});
'

# lint NAME JQ-ARGS...: jq prints one line per violation; passes when jq
# succeeds and prints nothing.
lint() {
	_n=$1
	shift
	check_exit "$_n: the check runs" 0 jq "$@"
	check_no_grep "$_n" . "$T/out"
}

# 1. JSON
find "$S" -name '*.json' | sort >"$T/json"
check_grep "skills/ has JSON files" 'tools\.json$' "$T/json"
while read -r f; do
	ok "${f#"$ROOT"/} parses" jq empty "$f"
done <"$T/json"

ok "rules.json has numeric message limits" jq -e '.message |
	(.max_sentences, .max_chars, .max_questions, .max_exclamations,
	 .max_emoji) | numbers' "$RULES"
ok "rules.json lists informal pronouns and pressure phrases in both languages" \
	jq -e '(.informal_pronouns.ru | index("ты") and index("тебе") and
	index("твой")) and (.pressure_phrases.ru | length > 5) and
	(.pressure_phrases.en | length > 5) and
	(.placeholders.samples | has("ru") and has("en"))' "$RULES"

# 2. tools.json
ok "tools.json is a non-empty array" jq -e 'type == "array" and length > 0' \
	"$TOOLS"
lint "every tool has name, description, input_schema, command, timeout_s" '
	.[] | . as $t | (.name // "?") as $n
	| (if (.name | type) != "string" or (.name | test("^[a-z][a-z_]*$") | not)
	   then "\($n): bad name" else empty end),
	  (if (.description | type) != "string" or (.description | length) < 40
	   then "\($n): no description" else empty end),
	  (if (.input_schema | type) != "object" or .input_schema.type != "object"
	      or (.input_schema.properties | type) != "object"
	   then "\($n): input_schema is not an object schema" else
	   ((.input_schema.required // [])[]
	    | select(. as $k | $t.input_schema.properties | has($k) | not)
	    | "\($n): required \(.) is not a property") end),
	  (if (.command | type) != "array" or (.command | length) == 0
	      or any(.command[]; type != "string")
	   then "\($n): command is not an argv array" else empty end),
	  (if (.timeout_s | type) != "number" or .timeout_s <= 0
	   then "\($n): bad timeout_s" else empty end)' "$TOOLS"
ok "tool names are unique" jq -e '[.[].name] | length == (unique | length)' \
	"$TOOLS"
for tool in get_free_slots book_meeting schedule_followup parse_time \
	search_knowledge escalate_to_human; do
	ok "tools.json has $tool" jq -e --arg n "$tool" \
		'any(.[]; .name == $n)' "$TOOLS"
done
ok "book_meeting requires an e-mail" jq -e '.[] |
	select(.name == "book_meeting") | .input_schema.required | index("email")' \
	"$TOOLS"

jq -r '.[] | [.name, .command[0], (.planned // false | tostring)] | @tsv' \
	"$TOOLS" >"$T/progs"
while IFS="$(printf '\t')" read -r name prog planned; do
	if [ -f "$ROOT/bin/$prog.c" ] || [ -f "$ROOT/bin/$prog" ]; then
		check_exit "$name: $prog is in bin/ and not marked planned" 0 \
			test "$planned" = false
	else
		case " $PLANNED " in
		*" $prog "*)
			check_exit "$name: $prog is planned and marked so" 0 \
				test "$planned" = true ;;
		*)
			check_exit "$name: $prog is neither in bin/ nor planned" 0 \
				false ;;
		esac
		continue
	fi
	man=$ROOT/bin/$prog.1
	[ -f "$man" ] || continue
	# a builtin tool is answered by its caller, not by the command's input
	jq -e --arg n "$name" '.[] | select(.name == $n) | .builtin // false' \
		"$TOOLS" >/dev/null && continue
	# The man page's INPUT items (names and text), and its option items.
	awk '
	function flush() { if (names != "") print names "\t" text; names = "" }
	/^\.Sh / { flush(); insec = ($2 == "INPUT"); next }
	/^\.El/ { flush(); next }
	/^\.It Fl -[a-z]/ && !insec {
		flush(); names = "opt:" substr($3, 2); text = ""; next }
	/^\.It Li / && insec {
		flush(); line = $0; sub(/^\.It /, "", line)
		n = split(line, parts, /[ ]*,[ ]*/)
		for (i = 1; i <= n; i++) {
			p = parts[i]; sub(/^Li /, "", p); sub(/ .*/, "", p)
			names = names (names != "" ? " " : "") p
		}
		text = ""; next }
	/^\.It / { flush(); next }
	names != "" { text = text " " $0 }
	END { flush() }' "$man" |
		jq -R 'split("\t") | {names: (.[0] | split(" ")), text: .[1]}' |
		jq -s . >"$T/man.json"
	lint "$name: the schema agrees with $prog.1" --arg n "$name" \
		--slurpfile man "$T/man.json" '
	($man[0]) as $m
	| ([$m[] | select(.names[0] | startswith("opt:") | not) | .names[]])
	  as $fields
	| .[] | select(.name == $n) | .input_schema as $s
	| $s.properties | keys[] as $p | $s.properties[$p] as $prop
	| ($m | map(select(.names == [$p]))[0].text // null) as $own
	| ($m | map(select(.names == ["opt:" + $p]))[0].text // null) as $opt
	| ($own // $opt // "") as $text
	| if ($fields | index($p)) == null then
	    "\($p): not an input field of \($n)'"'"'s man page"
	  else
	    (if $own != null and ($own | test("required(?! for)"))
	        and (($s.required // []) | index($p)) == null
	     then "\($p): required in the man page" else empty end),
	    (if ($text | test("RFC 3339")) and $prop.format != "date-time"
	     then "\($p): RFC 3339 in the man page, format is not date-time"
	     else empty end),
	    ($text | [match("([0-9]+) to ([0-9]+)").captures[].string
	              | tonumber] as $range
	     | if ($range | length) == 2 and $prop.type == "integer"
	          and ($prop.minimum != $range[0] or $prop.maximum != $range[1])
	       then "\($p): range \($range[0]) to \($range[1]) in the man page"
	       else empty end)
	  end' "$TOOLS"
done <"$T/progs"

# 3. templates
ok "templates.json has templates" jq -e '.templates | type == "object"' "$TPL"
for k in $REQUIRED; do
	ok "template $k in ru and en" jq -e --arg k "$k" '.templates[$k] |
		(.ru | type == "array" and length > 0 and all(.[]; type == "string"
		 and length > 0)) and
		(.en | type == "array" and length > 0 and all(.[]; type == "string"
		 and length > 0))' "$TPL"
done
ok "propose_meeting, slot_taken and meeting_reschedule offer {slots}" \
	jq -e '[.templates.propose_meeting, .templates.slot_taken,
	.templates.meeting_reschedule][] | (.ru + .en) | all(.[];
	contains("{slots}"))' "$TPL"
ok "confirm_booking gives {time} and {link}" jq -e '.templates.confirm_booking |
	(.ru + .en) | all(.[]; contains("{time}") and contains("{link}"))' "$TPL"
ok "followup_ack gives {time}" jq -e '.templates.followup_ack | (.ru + .en) |
	all(.[]; contains("{time}"))' "$TPL"
ok "price_answer gives {price}" jq -e '.templates.price_answer | (.ru + .en) |
	all(.[]; contains("{price}"))' "$TPL"
lint "every placeholder is documented and has samples in both languages" \
	--slurpfile r "$RULES" "$DEFS"'
	$r[0] as $r | . as $doc
	| [.templates[][][] | hits("\\{[a-z_]+\\}")[] | .[1:-1]] | unique[]
	| . as $p
	| select(($doc.placeholders | has($p) | not)
	  or ($r.placeholders.samples.ru | has($p) | not)
	  or ($r.placeholders.samples.en | has($p) | not))' "$TPL"
check_no_grep "no template contains an em dash or an en dash" '—|–|―' "$TPL"
lint "templates obey the tone rules (samples filled in)" \
	--slurpfile r "$RULES" "$DEFS"'
	$r[0] as $r | variants($r) as $v
	| $v.filled | lint($r; $v.lang) | "\($v.key).\($v.lang): \(.): \($v.text)"' \
	"$TPL"
lint "ru templates and en templates are in their language" \
	--slurpfile r "$RULES" "$DEFS"'
	$r[0] as $r | variants($r) as $v
	| ($v.text | strip | gsub("https?://[^ ]+|«[^»]*»|[A-Za-z0-9._]+@[^ ]+"; "")
	   | [count("\\p{Cyrillic}"), count("[A-Za-z]")]) as [$cy, $la]
	| select(($v.lang == "ru" and $la > $cy) or ($v.lang == "en" and $cy > 0))
	| "\($v.key).\($v.lang): \($v.text)"' "$TPL"

# 4. the knowledge base
(cd "$S/knowledge/ru" && ls) >"$T/kb-ru"
(cd "$S/knowledge/en" && ls) >"$T/kb-en"
check_exit "ru and en knowledge directories have the same files" 0 \
	diff -u "$T/kb-ru" "$T/kb-en"
for f in company.md services.md prices.md process.md support.md faq.md; do
	ok "knowledge has $f" test -s "$S/knowledge/ru/$f"
done
while read -r f; do
	[ -f "$S/knowledge/en/$f" ] || continue
	grep -E '^#{1,3} ' "$S/knowledge/ru/$f" | sed 's/ .*//' >"$T/h-ru"
	grep -E '^#{1,3} ' "$S/knowledge/en/$f" | sed 's/ .*//' >"$T/h-en"
	check_exit "$f: the same headings in ru and en" 0 \
		diff -u "$T/h-ru" "$T/h-en"
done <"$T/kb-ru"
for l in ru en; do
	n=$(grep -c '^### ' "$S/knowledge/$l/faq.md" || true)
	check_exit "$l FAQ has at least 40 questions ($n)" 0 test "$n" -ge 40
	lint "$l FAQ: every heading is a question" -Rs "$DEFS"'
		faq[] | select(.q | test("\\?$") | not) | .q' \
		"$S/knowledge/$l/faq.md"
	lint "$l FAQ: every answer can be sent as it is" \
		--arg l "$l" --slurpfile r "$RULES" -Rs "$DEFS"'
		$r[0] as $r | faq[] | . as $f
		| if .a == "" then "\(.q): no answer"
		  else .a | lint($r; $l) | "\($f.q): \(.)" end' \
		"$S/knowledge/$l/faq.md"
done
grep -rnE '—|–|―' "$S/knowledge" >"$T/kb-dash" || true
check_no_grep "the knowledge base has no em dash or en dash" . "$T/kb-dash"
lint "the Russian knowledge base addresses the prospect with a capital Вы" \
	--slurpfile r "$RULES" -Rs "$DEFS"'
	$r[0] as $r | hits(cwords($r.formal_address.lowercase_violations))[]' \
	"$S"/knowledge/ru/*.md

# 5. prices
for l in ru en; do
	cat "$S/knowledge/$l"/*.md >"$T/kb-$l.md"
	jq -Rs --slurpfile r "$RULES" "$DEFS"'
		$r[0] as $r | amounts($r) | unique[]' "$T/kb-$l.md" >"$T/prices-$l"
done
check_grep "the knowledge base states prices" '^"45000"$' "$T/prices-ru"
check_exit "ru and en knowledge bases state the same amounts" 0 \
	diff -u "$T/prices-ru" "$T/prices-en"
lint "every price in a template is in the knowledge base" \
	--slurpfile r "$RULES" --slurpfile ru "$T/prices-ru" \
	--slurpfile en "$T/prices-en" "$DEFS"'
	$r[0] as $r | {ru: $ru, en: $en} as $kb
	| .templates | to_entries[] | .key as $k | .value | to_entries[]
	| .key as $l | .value[] | . as $text
	| strip | amounts($r)[] | select(. as $a | $kb[$l] | index($a) | not)
	| "\($k).\($l): \(.) is not in knowledge/\($l): \($text)"' "$TPL"

# 6. the methodology refers to templates that exist
lint "intents.json names existing templates and lists every intent" \
	--slurpfile t "$TPL" '
	$t[0].templates as $tpl
	| (.intents | to_entries[] | select(.value.template != null)
	   | . as $i | select($tpl | has($i.value.template) | not)
	   | "\(.key): no template \(.value.template)"),
	  (if (.priority | sort) != (.intents | keys | sort)
	   then "priority and intents differ" else empty end)' \
	"$S/how-to-communicate/intents.json"
lint "stages.json asks with existing templates" --slurpfile t "$TPL" '
	$t[0].templates as $tpl | .slots | to_entries[]
	| select(.value | type == "object") | .value.ask_template
	| select(. as $a | $tpl | has($a) | not)' \
	"$S/how-to-communicate/stages.json"
ok "stages.json has the stage path" jq -e '.path == ["new", "engaged",
	"qualifying", "qualified", "booked"] and (.stages | index("lost") and
	index("closed"))' "$S/how-to-communicate/stages.json"

# 7. the principles are written in both languages
for h in '^## Русский' '^## English'; do
	check_grep "principles.md has a section $h" "$h" \
		"$S/tone-of-voice/principles.md"
done

done_testing
