#!/bin/sh
# tests/8901-getting-started.t: docs/getting-started.md, followed as a new
# user would, with the emulator standing in for Telegram: the shell blocks
# of "With the emulator instead of Telegram" run as they are written, in a
# tree of their own (bin/, sql/, skills/ and the emulator of this build),
# and the user sees what the guide promises: a reply to "Здравствуйте",
# a follow-up kept for a week, and sent by salesline-tick a week later.
# Only the build line is left out (this build is the one under test).
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

GUIDE=$ROOT/docs/getting-started.md

# the tree: scripts of bin/, commands of this build, sql/, skills/, emulator
W=$T/tree
mkdir -p "$W/bin" "$W/tests/fake"
for f in "$ROOT"/bin/*; do
	case $f in *.c | *.1 | *.d | *.o) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && ln -sf "$f" "$W/bin/"
done
for f in "$SL_BUILD"/bin/*; do
	case $f in *.c | *.1 | *.d | *.o) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] && ln -sf "$f" "$W/bin/"
done
ln -s "$ROOT/sql" "$ROOT/skills" "$W/"
ln -s "$FAKE_API" "$W/tests/fake/fake-api"

# the emulator section's ```sh blocks, up to the PostgreSQL variant
awk '/^## With the emulator/ { on = 1 } /^### The same on PostgreSQL/ { on = 0 }
	on && /^```sh$/ { code = 1; next } code && /^```$/ { code = 0; next }
	on && code' "$GUIDE" | grep -v '^make ' >"$T/steps.sh"
check_exit "the guide has the emulator walkthrough" 0 \
	test "$(grep -c . "$T/steps.sh")" -ge 15
# the sent texts as they stand after each step, for the checks
awk '{ print } /_fake\/telegram\/sent/ { n++; printf "curl -s \"$FAKE/_fake/telegram/sent\" | jq -r .text >\"$STEPS/sent.%d\"\n", n }
	/schedule-due --list/ { print "bin/schedule-due --list >\"$STEPS/list\"" }' \
	"$T/steps.sh" >"$T/run.sh"

check_exit "the walkthrough runs as written" 0 \
	env -u SALESLINE_HOME STEPS="$T" HOME="$T" sh -c "cd '$W' && set -e && . '$T/run.sh'"
cp "$T/out" "$T/walk.out"
cp "$T/err" "$T/walk.err"
check_grep "the bot answers «Здравствуйте»" '^Здравствуйте, Olga' "$T/sent.1"
check_grep "in the rep's name" 'Anna Petrova' "$T/sent.1"
check_grep "a follow-up is kept for a week" \
	'"kind":"followup","status":"pending","reason":"через неделю"' "$T/list"
check_exit "after the tick: the greeting, the promise, the follow-up" 0 \
	test "$(grep -c . "$T/sent.2")" -eq 3
sed -n 2p "$T/sent.2" >"$T/x"
check_grep "the bot promised to write in a week" 'через неделю' "$T/x"
sed -n 3p "$T/sent.2" >"$T/x"
check_grep "and the follow-up recalls what she asked for" 'Вы просили' "$T/x"
check_grep "and salesline-health is content" '^\{"type":"health","ok":true' \
	"$T/walk.out"
pkill -f "$W/tests/fake/fake-api" 2>/dev/null || true
done_testing
