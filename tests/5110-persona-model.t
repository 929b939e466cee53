#!/bin/sh
# tests/5110-persona-model.t: prospects played by a model.  persona-turn
# against the emulated Anthropic and OpenAI APIs: the persona in the
# system prompt, the chat in the request, DONE, and its exits (78 without
# a model, 65 on bad input naming the field, 75 when the model is
# unreachable, 74 on an output error).  stress-run --persona-model on
# SQLite and PostgreSQL: the emulated model writes John's turns of
# english-prospect against the rules agent and the conversation ends
# booked; every model request is the persona's and holds the agent's last
# reply; the turn cap; a model that fails is in the result.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

fake_start
export SALESLINE_HTTP_BACKOFF_SCALE=0.01 LLM_BASE_URL="$FAKE_URL"

reset() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
}
script() { # TEXT...: the model's answers, in order
	for t in "$@"; do
		jq -nc --arg t "$t" '{text: $t}'
	done | curl -s --data-binary @- "$FAKE_URL/_fake/llm/script" >/dev/null
}
requests() { # the model requests since the last reset, into $T/req
	curl -s "$FAKE_URL/_fake/llm/requests" >"$T/req"
}

IN='{"persona":{"name":"John","lang":"en","traits":["direct","busy"],"goal":"a demo","knows":{"budget":"150000 roubles","email":"john@example.com"}},"messages":[{"dir":"in","text":"Hello"},{"dir":"out","text":"Hello John, what would you like to solve with a CRM?"}]}'
pt() { # persona-turn with the input $IN and the Anthropic emulator
	printf '%s\n' "$IN" | LLM_PROVIDER=anthropic \
		ANTHROPIC_API_KEY=test-key-1 persona-turn
}

# persona-turn

check_exit "--help exits 0" 0 persona-turn --help
check_grep "and prints the usage" '^usage: persona-turn ' "$T/out"
check_exit "a bad option exits 64" 64 persona-turn --bogus

reset
script 'We need a CRM for 15 people'
check_exit "a turn: exit 0" 0 pt
check_json "the prospect's next message" \
	'{"type":"persona.turn","text":"We need a CRM for 15 people","done":false}' \
	"$T/out"
requests
jq -r .body.system "$T/req" >"$T/sys"
check_grep "the system prompt plays the persona" '^You are John\. You write in English\.' "$T/sys"
check_grep "with the traits" '^Your manner: direct, busy\.$' "$T/sys"
check_grep "and what John knows" '^- your e-mail: john@example.com$' "$T/sys"
check_grep "and the word that ends it" 'answer with the single word DONE' "$T/sys"
jq -r '.body.messages[-1].content[0].text' "$T/req" >"$T/user"
check_grep "the chat: the prospect's message" '^John: Hello$' "$T/user"
check_grep "and the agent's" '^Assistant: Hello John, what would you like' "$T/user"
check_no_grep "no key in the recorded request" 'test-key-1' "$T/req"

reset
script 'DONE.'
check_exit "DONE: exit 0" 0 pt
check_json "DONE ends the conversation" \
	'{"type":"persona.turn","text":"","done":true}' "$T/out"
reset
script 'John: "Thanks, see you then!"
DONE'
pt >"$T/o" 2>&1 || true
check_json "a last message before DONE is kept, without name and quotes" \
	'{"type":"persona.turn","text":"Thanks, see you then!","done":true}' \
	"$T/o"

reset
script 'Здравствуйте, нам нужна CRM'
check_exit "OpenAI-compatible: exit 0" 0 env LLM_PROVIDER=openai \
	OPENAI_API_KEY=test-key-1 sh -c 'printf "%s\n" "$1" | persona-turn' \
	sh '{"persona":{"name":"Olga","lang":"ru"},"messages":[]}'
check_grep "the opener from the model" '"text":"Здравствуйте, нам нужна CRM"' \
	"$T/out"
requests
jq -r '.body.messages[0].content | strings' "$T/req" >"$T/sys"
check_grep "the system prompt asks for Russian" 'You write in Russian\.' "$T/sys"
jq -r '.body.messages[-1].content | strings' "$T/req" >"$T/user"
check_grep "an empty chat asks for the first message" \
	'^The chat has not started\. Write your first message' "$T/user"

check_exit "LLM_PROVIDER=rules exits 78" 78 env LLM_PROVIDER=rules \
	persona-turn --check
check_grep "and says a model is needed" 'persona-turn: no model: set LLM_PROVIDER' \
	"$T/err"
check_exit "no provider and no key exits 78" 78 sh -c \
	'printf "%s\n" "$1" | persona-turn' sh "$IN"
check_exit "a provider without its key exits 78" 78 env \
	LLM_PROVIDER=anthropic persona-turn --check
check_grep "naming the variable" 'ANTHROPIC_API_KEY' "$T/err"
check_exit "--check with a model exits 0" 0 env LLM_PROVIDER=openai \
	OPENAI_API_KEY=test-key-1 persona-turn --check
check_json "and names it" \
	'{"type":"persona.model","provider":"openai","model":"gpt-4o-mini"}' \
	"$T/out"

bad() { # NAME INPUT MESSAGE
	check_exit "bad input ($1) exits 65" 65 env LLM_PROVIDER=anthropic \
		ANTHROPIC_API_KEY=test-key-1 sh -c \
		'printf "%s\n" "$1" | persona-turn' sh "$2"
	check_grep "and names the field ($1)" "^persona-turn: stdin: $3" "$T/err"
}
bad "not JSON" '{"persona": ' "not a JSON object"
bad "an array" '[1]' "expected a JSON object"
bad "no persona" '{"messages":[]}' "'persona': expected an object"
bad "no name" '{"persona":{"lang":"en"},"messages":[]}' \
	"'persona.name': expected a non-empty string"
bad "lang" '{"persona":{"name":"A","lang":"de"},"messages":[]}' \
	"'persona.lang': expected \"ru\" or \"en\""
bad "traits" '{"persona":{"name":"A","lang":"en","traits":["x",3]},"messages":[]}' \
	"'persona.traits\[1\]': expected a string"
bad "knows" '{"persona":{"name":"A","lang":"en","knows":{"budget":5}},"messages":[]}' \
	"'persona.knows.budget': expected a string"
bad "no messages" '{"persona":{"name":"A","lang":"en"}}' \
	"'messages': expected an array"
bad "dir" '{"persona":{"name":"A","lang":"en"},"messages":[{"dir":"in","text":"a"},{"dir":"up","text":"b"}]}' \
	"'messages\[1\].dir': expected \"in\" or \"out\""
bad "text" '{"persona":{"name":"A","lang":"en"},"messages":[{"dir":"out"}]}' \
	"'messages\[0\].text': expected a string"

check_exit "the model unreachable exits 75" 75 env \
	LLM_BASE_URL=http://127.0.0.1:1 LLM_PROVIDER=anthropic \
	ANTHROPIC_API_KEY=test-key-1 sh -c 'printf "%s\n" "$1" | persona-turn' \
	sh "$IN"
check_grep "and says so" '^persona-turn: the model failed \(connection\)' "$T/err"
check_no_grep "without the key" 'test-key-1' "$T/err"
reset
script 'Hi'
check_exit "an output error exits 74" 74 sh -c \
	'printf "%s\n" "$1" | LLM_PROVIDER=anthropic ANTHROPIC_API_KEY=k \
	persona-turn >/dev/full' sh "$IN"

# stress-run --persona-model

check_exit "stress-run: a bad --persona-model exits 64" 64 \
	stress-run --persona-model rules
check_exit "stress-run: a persona model without its key exits 78" 78 env \
	TELEGRAM_API_URL="$FAKE_URL" stress-run --db "$T/x.db" \
	--persona-model anthropic english-prospect
check_grep "and says why" '^stress-run: --persona-model: .*ANTHROPIC_API_KEY' \
	"$T/err"

# The persona's model is the emulator, the agent the rules engine: the
# emulator serves the persona only.
srun() { # NAME ARGS...
	_n=$1
	shift
	check_exit "$_n" 0 env TELEGRAM_API_URL="$FAKE_URL" LLM_PROVIDER=rules \
		ANTHROPIC_API_KEY=test-key-1 stress-run --db "$DB" --no-score \
		--persona-model anthropic "$@"
}

books() {
	reset
	script 'We need a CRM for our sales team of 15 people' \
		'Our budget is about 150000 roubles' 'I am the CEO, I decide' \
		'We want to start next month' 'The second one works' \
		'john@example.com' 'Thanks!
DONE'
	srun "a model persona plays english-prospect" english-prospect
	grep '"type":"result"' "$T/out" >"$T/res" || true
	jq -c '{scenario, passed, booked: .got.booked, link: .got.link,
		persona}' "$T/res" >"$T/x"
	check_json "it ends booked with a link, the persona done after 8 turns" \
		'{"scenario":"english-prospect","passed":true,"booked":true,
		"link":true,"persona":{"model":"anthropic","turns":8,
		"done":true,"error":null}}' "$T/x"
	sql "$DB" "SELECT status, email FROM bookings" >"$T/x"
	check_json "the booking is in the ledger" \
		'{"status":"booked","email":"john@example.com"}' "$T/x"
	sql "$DB" "SELECT count(*) AS n FROM messages WHERE direction = 'in'
		AND text = 'The second one works'" >"$T/x"
	check_json "the model's turns reached the ledger through Telegram" \
		'{"n":1}' "$T/x"
	sql "$DB" "SELECT params FROM runs" | jq -c '.params | fromjson |
		{agent, persona}' >"$T/x"
	check_json "the run says who played whom" \
		'{"agent":"rules","persona":"anthropic"}' "$T/x"
	requests
	check_exit "seven model requests, none refused" 0 test \
		"$(jq -s '[.[] | select(.status == 200)] | length' "$T/req")" -eq 7
	jq -r '.body.system' "$T/req" | grep -c '^You are John\.' >"$T/x" || true
	check_exit "all of them the persona's (the agent used no model)" 0 \
		test "$(cat "$T/x")" -eq 7
	sql "$DB" "SELECT join_url FROM bookings" | jq -r .join_url >"$T/url"
	tail -n 1 "$T/req" | jq -r '.body.messages[-1].content[0].text' \
		>"$T/user"
	check_grep "the last request holds the agent's last reply" \
		"^Assistant: You are booked for .*$(cat "$T/url")" "$T/user"
	check_grep "after the prospect's e-mail" '^John: john@example.com$' \
		"$T/user"
	sql "$DB" "SELECT count(*) AS n FROM llm_calls" >"$T/x"
	check_json "no agent model call in the ledger" '{"n":0}' "$T/x"
	check_no_grep "no key on stderr" 'test-key-1' "$T/err"
}
for_each_db books

# The cap: max_turns messages from the prospect, the opener included.
reset
script 'We need a CRM' 'For 15 people' 'Budget 150000' 'CEO' 'Next month'
jq -c '. + {name: "capped", max_turns: 3}' \
	"$ROOT/skills/scenarios/english-prospect.json" >"$T/capped.json"
DB=$T/cap.db
srun "a capped conversation runs" "$T/capped.json"
grep '"type":"result"' "$T/out" | jq -c '{passed, persona}' >"$T/x"
check_json "three prospect turns, not done, not booked" \
	'{"passed":false,"persona":{"model":"anthropic","turns":3,"done":false,
	"error":null}}' "$T/x"
curl -s "$FAKE_URL/_fake/llm/script" | grep -c text >"$T/x" || true
check_exit "two model turns asked for, three left" 0 test "$(cat "$T/x")" -eq 3
printf '%s\n' '{"name":"x","persona":{"name":"A","lang":"en"},"turns":[{"say":"hi"}],"max_turns":0,"expect":{"outcome":"replied"}}' \
	>"$T/badcap.json"
check_exit "a bad max_turns is rejected" 65 stress-run --db "$T/cap.db" \
	"$T/badcap.json"
check_grep "naming the field" "badcap.json: 'max_turns': expected a number" \
	"$T/err"

# A persona model that stays overloaded: the conversation stops and its
# result says why.
reset
curl -s -d '{"path":"*/v1/messages","status":529,"body":{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}' \
	"$FAKE_URL/_fake/rules" >/dev/null
srun "an overloaded persona model: the run still finishes" english-prospect
grep '"type":"result"' "$T/out" | jq -c '{passed, persona: .persona.turns,
	failed: (.failed | map(select(startswith("the persona model failed:")) |
	test("exited 75")))}' >"$T/x"
check_json "the result fails on the persona model, after the opener" \
	'{"passed":false,"persona":1,"failed":[true]}' "$T/x"
check_grep "and stderr says so" \
	'^stress-run: english-prospect: persona-turn exited 75' "$T/err"

done_testing
