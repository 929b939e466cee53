#!/bin/sh
# tests/2100-kb-index.t: kb-index on SQLite and PostgreSQL: the fixture
# knowledge base (tests/fixtures/kb, Russian and English) indexed into
# kb_chunks, a second run that changes nothing, a changed, a removed, a
# long and an unreadable file; searches in both languages with the best
# passage first on both engines (Russian inflections through the prefix
# rule), the language filter and the limit, hostile queries, the
# JSON-lines mode with fields passing through, usage and exit statuses.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

KB=$TESTS_DIR/fixtures/kb
T0=2026-12-01T10:00:00Z
T1=2026-12-02T10:00:00Z

# Usage and configuration, no ledger needed.
check_exit "--help exits 0" 0 kb-index --help
check_grep "--help prints the usage on stdout" '^usage: kb-index' "$T/out"
check_exit "a bad option exits 64" 64 kb-index --bogus
check_grep "a bad option is named" "kb-index: unknown option '--bogus'" \
	"$T/err"
check_grep "the usage follows on stderr" '^usage: kb-index' "$T/err"
check_exit "--limit needs a value" 64 kb-index --search --limit
check_exit "--limit 0 exits 64" 64 kb-index --search --limit 0 x
check_grep "the range is named" \
	"^kb-index: --limit: expected a number from 1 to 100, not '0'$" "$T/err"
check_exit "--limit 101 exits 64" 64 kb-index --search --limit 101 x
check_exit "--lang goes with --search" 64 kb-index --lang ru
check_grep "and says so" "^kb-index: --lang goes with --search$" "$T/err"
check_exit "-n does not go with --search" 64 kb-index -n --search x
check_exit "--dir does not go with --search" 64 \
	kb-index --search --dir "$KB" x
check_exit "words without --search exit 64" 64 kb-index --dir "$KB" prices
check_grep "the word is named" "^kb-index: unexpected argument 'prices'$" \
	"$T/err"
check_exit "a missing --dir exits 78" 78 \
	kb-index --db "$T/c.db" --dir "$T/nonesuch"
check_grep "the directory is named" \
	"^kb-index: cannot open knowledge directory '.*/nonesuch': No such file or directory$" \
	"$T/err"
ok "and no ledger was made" test ! -e "$T/c.db"
check_exit "a file as --dir exits 78" 78 \
	kb-index --db "$T/c.db" --dir "$KB/README.md"
check_grep "it is no directory" "'.*README.md': not a directory$" "$T/err"
mkdir "$T/home"
check_exit "no skills/knowledge in \$SALESLINE_HOME exits 78" 78 \
	env SALESLINE_HOME="$T/home" kb-index --db "$T/c.db"
check_grep "the default is named" "'$T/home/skills/knowledge'" "$T/err"
check_exit "a bad SALESLINE_NOW exits 78" 78 \
	env SALESLINE_NOW=soon kb-index --db "$T/c.db" --dir "$KB"
check_exit "unreachable PostgreSQL exits 75" 75 \
	kb-index --db postgres://u:pw-secret-7@127.0.0.1:1/x --dir "$KB"
check_no_grep "the password is never shown" 'pw-secret-7' "$T/err"
check_exit "a search on unreachable PostgreSQL exits 75" 75 \
	kb-index --db postgres://u:pw-secret-7@127.0.0.1:1/x --search цены

kb() { # kb-index on $DB at $T0
	SALESLINE_NOW=$T0 kb-index --db "$DB" "$@"
}

q() { # SQL: one statement against $DB
	salesline-db --db "$DB" query "$@"
}

summary() { # WANT NAME: the counts in $T/out, "files passages ... failed"
	jq -r '[.files, .passages, .inserted, .updated, .deleted,
	    .unchanged, .failed] | map(tostring) | join(" ")' "$T/out" \
	    >"$T/summary" 2>&1 || :
	printf '%s\n' "$1" >"$T/summary.want"
	ok "$2" cmp "$T/summary" "$T/summary.want"
}

indexing() {
	rm -rf "$T/kb"
	cp -R "$KB" "$T/kb"
	check_exit "a first run exits 0" 0 kb --dir "$T/kb"
	check_json "it inserts every passage" \
		'{"type":"kb.indexed","files":7,"passages":20,"inserted":20,"updated":0,"deleted":0,"unchanged":0,"failed":0}' \
		"$T/out"
	q "SELECT source, position, lang, title, length(body) AS chars,
	    length(hash) AS hash, updated_at FROM kb_chunks" |
		jq -s -c 'sort_by(.source, .position)[]' >"$T/rows" 2>&1 || :
	check_grep "a heading path is the title; ru/ is Russian" \
		'^\{"source":"ru/prices.md","position":2,"lang":"ru","title":"Цены > Стоимость","chars":124,"hash":64,"updated_at":1796119200\}$' \
		"$T/rows"
	check_grep "an H3 under an H2" \
		'"source":"en/pricing.md","position":3,"lang":"en","title":"Pricing > Packages > Business"' \
		"$T/rows"
	check_grep "text before the first heading has no title" \
		'"source":"ru/faq.md","position":1,"lang":"ru","title":null' \
		"$T/rows"
	check_grep "a file outside ru/ and en/ has no language" \
		'"source":"shared/contacts.md","position":1,"lang":null' \
		"$T/rows"
	check_grep "unless its front matter gives one" \
		'"source":"shared/terms.md","position":1,"lang":"ru"' "$T/rows"
	check_no_grep "README.md, dot files and other files are skipped" \
		'README|draft|notes' "$T/rows"
	q "SELECT body FROM kb_chunks WHERE source = 'ru/process.md'
	    AND position = 2" >"$T/j"
	check_grep "a code block and an H4 stay in the text" \
		'# это не заголовок.*#### Материалы' "$T/j"
	if [ "$ENGINE" = sqlite ]; then
		q "SELECT count(*) AS n FROM kb_fts WHERE kb_fts MATCH 'внедрение'" \
			>"$T/j"
		check_json "the FTS table follows" '{"n":2}' "$T/j"
	else
		q "SELECT count(*) AS n FROM kb_chunks
		    WHERE tsv @@ to_tsquery('simple', 'внедрение')" >"$T/j"
		check_json "the tsvector column follows" '{"n":2}' "$T/j"
	fi

	q "SELECT id, hash, updated_at FROM kb_chunks ORDER BY id" >"$T/before"
	check_exit "a second run exits 0" 0 \
		env SALESLINE_NOW=$T1 kb-index --db "$DB" --dir "$T/kb"
	summary "7 20 0 0 0 20 0" "it finds everything unchanged"
	q "SELECT id, hash, updated_at FROM kb_chunks ORDER BY id" >"$T/after"
	ok "and writes nothing" cmp "$T/before" "$T/after"

	# A changed passage, a removed file.
	sed 's/скидка 15 %/скидка 20 %/' "$T/kb/ru/prices.md" >"$T/p.md"
	mv "$T/p.md" "$T/kb/ru/prices.md"
	rm "$T/kb/en/integrations.md"
	check_exit "a dry run exits 0" 0 kb -n --dir "$T/kb"
	check_grep "it says it is a dry run" '"dry_run":true' "$T/out"
	summary "6 18 0 1 2 17 0" "and counts the change"
	q "SELECT id, hash, updated_at FROM kb_chunks ORDER BY id" >"$T/after"
	ok "but changes nothing" cmp "$T/before" "$T/after"
	check_exit "a run after the change exits 0" 0 \
		env SALESLINE_NOW=$T1 kb-index --db "$DB" --dir "$T/kb"
	summary "6 18 0 1 2 17 0" "one passage updated, two deleted"
	q "SELECT source, position, body, updated_at FROM kb_chunks
	    WHERE updated_at > 1796119200" >"$T/j"
	check_grep "the changed passage has the new text and time" \
		'"source":"ru/prices.md","position":5,"body":"При оплате за год скидка 20 %.*"updated_at":1796205600' \
		"$T/j"
	q "SELECT count(*) AS n FROM kb_chunks
	    WHERE source = 'en/integrations.md'" >"$T/j"
	check_json "the removed file's passages are gone" '{"n":0}' "$T/j"
	if [ "$ENGINE" = sqlite ]; then
		q "SELECT count(*) AS n FROM kb_fts WHERE kb_fts MATCH 'hubspot'" \
			>"$T/j"
		check_json "and out of the FTS table" '{"n":0}' "$T/j"
	fi

	# A new section, a shorter file, a long section.
	printf '\n## Поддержка\n\nОтвечаем в течение часа.\n' \
		>>"$T/kb/ru/faq.md"
	printf '# Pricing\n\nAll prices are in US dollars.\n' \
		>"$T/kb/en/pricing.md"
	awk 'BEGIN { print "# Долгий раздел\n"; for (i = 1; i <= 30; i++)
		printf "Абзац %d. Здесь длинный текст о внедрении системы, " \
		    "который нужен, чтобы раздел вышел длиннее полутора " \
		    "тысяч знаков.\n\n", i }' >"$T/kb/ru/long.md"
	check_exit "a run with new and shorter files exits 0" 0 kb --dir "$T/kb"
	q "SELECT count(*) AS n, max(length(body)) AS longest,
	    min(title) AS title FROM kb_chunks
	    WHERE source = 'ru/long.md'" >"$T/j"
	jq -c '{several: (.n > 1), fits: (.longest <= 1500), title}' \
		"$T/j" >"$T/j2" || :
	check_json "a long section is cut into passages of 1500 characters" \
		'{"several":true,"fits":true,"title":"Долгий раздел"}' "$T/j2"
	n=$(q "SELECT count(*) AS n FROM kb_chunks
	    WHERE source = 'ru/long.md'" | jq -r .n) || n=0
	summary "7 $((15 + n)) $((1 + n)) 1 4 13 0" \
		"inserted the new, updated and deleted the shorter"

	# A file that cannot be read keeps its passages.
	rm "$T/kb/ru/faq.md"
	ln -s "$T/nonesuch.md" "$T/kb/ru/faq.md"
	check_exit "an unreadable file exits 1" 1 kb --dir "$T/kb"
	check_grep "it is named" \
		"^kb-index: cannot read '.*/kb/ru/faq.md': No such file or directory$" \
		"$T/err"
	jq -c '{files, deleted, failed}' "$T/out" >"$T/j" || :
	check_json "it is counted, nothing deleted" \
		'{"files":6,"deleted":0,"failed":1}' "$T/j"
	q "SELECT count(*) AS n FROM kb_chunks WHERE source = 'ru/faq.md'" \
		>"$T/j"
	check_json "and its passages are kept" '{"n":5}' "$T/j"

	check_exit "output to /dev/full exits 74" 74 sh -c \
		'kb-index --db "$1" --dir "$2" >/dev/full' sh "$DB" "$T/kb"
	check_grep "and says so" "^kb-index: .*No space left on device" "$T/err"
	rm -rf "$T/kb"
}
for_each_db indexing

top() { # QUERY [OPTIONS...]: source:position of the passages found
	_q=$1
	shift
	kb --search "$@" -- "$_q" >"$T/found" 2>"$T/err" || :
	jq -r '"\(.source):\(.position)"' "$T/found" 2>&1 | tr '\n' ' '
}

first() { # NAME WANT QUERY [OPTIONS...]: the best passage is WANT
	_name=$1
	_want=$2
	shift 2
	top "$@" >"$T/top"
	if grep -q "^$_want " "$T/top"; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		echo "#   want $_want first, got: $(cat "$T/top")"
		_show "$T/err" stderr
	fi
}

searching() {
	check_exit "indexing the fixture" 0 kb --dir "$KB"

	# The best passage, the same on both engines.
	first "Russian: стоимость внедрения finds Стоимость (внедрение)" \
		ru/prices.md:2 "стоимость внедрения"
	first "inflected: демонстрацию finds демонстрация" ru/faq.md:3 \
		"Как пройдёт демонстрацию?"
	first "inflected: обучения сотрудникам finds Обучение" \
		ru/process.md:2 "обучения сотрудникам"
	first "a question with stop words" ru/faq.md:2 \
		"А есть ли у вас пробный период?"
	first "a short word: цены finds the Цены section" ru/prices.md:1 цены
	first "English: implementation cost" en/pricing.md:5 \
		"How much does the implementation cost?"
	first "English: inflected discount finds Discounts" en/pricing.md:4 \
		"any discount for a non-profit"
	first "a word only in the text" en/integrations.md:1 hubspot
	first "a front matter language" shared/terms.md:1 "договор продление"
	kb --search "стоимость внедрения" >"$T/found"
	head -n 1 "$T/found" | jq -c 'del(.score)' >"$T/j" || :
	check_json "a passage record" \
		'{"type":"passage","query":"стоимость внедрения","source":"ru/prices.md","position":2,"lang":"ru","title":"Цены > Стоимость","body":"Стоимость зависит от числа пользователей. Базовое внедрение стоит\nот 150 000 ₽, внедрение с интеграцией с 1С — от 250 000 ₽."}' \
		"$T/j"
	jq -s -c 'map(.score) | [(.[0] | type), . == (sort | reverse)]' \
		"$T/found" >"$T/j" || :
	check_json "scores are numbers, best first" '["number",true]' "$T/j"

	# The language filter and the limit.
	top "скидка discount" --lang ru >"$T/top"
	check_grep "--lang ru: the Russian passage" '^ru/prices.md:5 $' "$T/top"
	top "скидка discount" --lang en >"$T/top"
	check_grep "--lang en: the English one" '^en/pricing.md:4 $' "$T/top"
	top "скидка discount" >"$T/top"
	check_grep "no --lang: both" '^(ru/prices.md:5 en/pricing.md:4|en/pricing.md:4 ru/prices.md:5) $' \
		"$T/top"
	top "phone телефон" --lang en >"$T/top"
	check_grep "a passage with no language is in every language" \
		'^shared/contacts.md:1 $' "$T/top"
	top "discount" --lang de >"$T/top"
	ok "an unknown language finds nothing of the others" \
		test ! -s "$T/top"
	top "цены" >"$T/top"
	check_grep "five passages by default" '^([^ ]+ ){5}$' "$T/top"
	top "цены" --limit 2 >"$T/top"
	check_grep "--limit 2" '^ru/prices.md:1 [^ ]+ $' "$T/top"
	check_exit "nothing found exits 0" 0 kb --search zzzz qqqq
	ok "and prints nothing" test ! -s "$T/out"

	# Hostile queries.
	for h in '"' '*' '"цены' 'цены*' '(цены' 'цены)' 'NEAR(цены, 2)' \
		'цены AND NOT OR' "'; DROP TABLE kb_chunks; --" \
		'title:цены' '^цены' '-цены +x' '{цены}' '\' '%' \
		'" OR 1=1 --' ':*' '|&!'; do
		check_exit "a hostile query: $h" 0 kb --search -- "$h"
	done
	check_exit "a hostile query: control characters" 0 \
		kb --search "$(printf 'цены\001\033[31m')"
	first "quotes and operators do not hide the words" ru/prices.md:1 \
		'"цены" AND (NEAR*)'
	q "SELECT count(*) AS n FROM kb_chunks" >"$T/j"
	check_json "and the table is whole" '{"n":20}' "$T/j"

	# JSON lines.
	cat >"$T/in" <<-'EOF'
	{"query":"стоимость внедрения","lang":"ru","limit":1,"call":"t1","x":[1,{"y":null}]}
	{"type":"message.in","chat":"42","text":"implementation cost","limit":1}
	{"query":"zzzz"}
	{"lang":"ru"}
	{"query":42}
	{"query":"цены","limit":0}
	{"query":"цены","lang":5}
	[1]
	{"query":"\"*"}
	{"query":"цены","limit":2}
	EOF
	check_exit "a stream with bad lines exits 1" 1 kb --search <"$T/in"
	cp "$T/out" "$T/stream"
	cp "$T/err" "$T/stream.err"
	head -n 1 "$T/stream" | jq -c 'del(.score, .body)' >"$T/j" || :
	check_json "fields pass through into the passage" \
		'{"type":"passage","query":"стоимость внедрения","lang":"ru","limit":1,"call":"t1","x":[1,{"y":null}],"source":"ru/prices.md","position":2,"title":"Цены > Стоимость"}' \
		"$T/j"
	sed -n 2p "$T/stream" | jq -c '{type, chat, text, source, position}' \
		>"$T/j" || :
	check_json "text works as query, type becomes passage" \
		'{"type":"passage","chat":"42","text":"implementation cost","source":"en/pricing.md","position":5}' \
		"$T/j"
	jq -r '.query // .text' "$T/stream" | tr '\n' '|' >"$T/j" || :
	check_grep "no match writes nothing; the stream goes on" \
		'^стоимость внедрения\|implementation cost\|цены\|цены\|$' "$T/j"
	check_grep "a record without query is rejected" \
		"^kb-index: stdin:4: 'query': missing$" "$T/stream.err"
	check_grep "query must be a string" \
		"^kb-index: stdin:5: 'query': expected a string$" "$T/stream.err"
	check_grep "limit is checked" \
		"^kb-index: stdin:6: 'limit': expected a number from 1 to 100$" \
		"$T/stream.err"
	check_grep "lang must be a string" \
		"^kb-index: stdin:7: 'lang': expected a string$" "$T/stream.err"
	check_grep "a line that is no object is rejected" '^kb-index: stdin:8: ' \
		"$T/stream.err"
	check_exit "a good stream exits 0" 0 kb --search <<-'EOF'
	{"query":"цены"}
	EOF
	check_exit "options are the defaults of the records" 0 \
		kb --search --lang en --limit 1 <<-'EOF'
	{"query":"скидка discount"}
	EOF
	jq -r '"\(.source):\(.position)"' "$T/out" >"$T/j" || :
	check_grep "--lang and --limit apply" '^en/pricing.md:4$' "$T/j"
	check_exit "search output to /dev/full exits 74" 74 sh -c \
		'kb-index --db "$1" --search цены >/dev/full' sh "$DB"
	check_exit "stream output to /dev/full exits 74" 74 sh -c \
		'echo "{\"query\":\"цены\"}" | kb-index --db "$1" --search >/dev/full' \
		sh "$DB"
}
for_each_db searching

done_testing
