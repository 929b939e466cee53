#!/bin/sh
# tests/8900-docs.t: the deployment files and the guides say what the tree
# does.  Every YAML file of docs/deploy parses and has the kinds it should;
# every command the compose file, the Kubernetes manifests and the
# Dockerfile run exists, with options its --help knows; the Dockerfile
# has its two stages, runs make check as a user, runs the image as a
# non-root user and installs what tests/deps and the linker need; every
# command of the emulator walkthrough of docs/getting-started.md, and every
# salesline command shown in docs/*.md, exists with those options; every
# manual page renders without a warning; make install installs every page,
# and every installed command has one.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

chk() { python3 "$TESTS_DIR/docs-check.py" "$@"; }
D=$ROOT/docs/deploy
TAB=$(printf '\t')

# --- YAML --------------------------------------------------------------
check_exit "every YAML file in docs/deploy parses" 0 \
	sh -c "find '$D' -name '*.yaml' | sort | xargs python3 '$TESTS_DIR/docs-check.py' kinds"
cp "$T/out" "$T/kinds"
has_kind() { # NAME PATTERN
	check_grep "$1" "$2" "$T/kinds"
}
has_kind "compose.yaml is a compose file" "/compose\.yaml compose -$"
has_kind "a Deployment for a bot" '/k8s/[^ ]+ Deployment salesline-bot-'
has_kind "a CronJob for the tick" '/k8s/[^ ]+ CronJob salesline-tick'
has_kind "Secret objects" '/k8s/[^ ]+ Secret '
has_kind "a ConfigMap" '/k8s/[^ ]+ ConfigMap '
for s in db bot tick; do
	check_exit "compose has the service '$s'" 0 python3 -c "
import sys, yaml
sys.exit(0 if '$s' in yaml.safe_load(open('$D/compose.yaml'))['services'] else 1)"
done
check_exit "the deploy files refer to what they define" 0 chk deploy "$D"
cp "$T/out" "$T/deploy.cmds"
check_grep "the bot service runs salesline-run" \
	"compose\.yaml:bot${TAB}\[\"salesline-run\"" "$T/deploy.cmds"
check_grep "the tick service runs salesline-tick" \
	"compose\.yaml:tick${TAB}\[\"salesline-tick\"" "$T/deploy.cmds"
check_grep "the Deployment runs salesline-run" \
	"Deployment/[^$TAB]*${TAB}\[\"salesline-run\"" "$T/deploy.cmds"
check_grep "the CronJob runs salesline-tick" \
	"CronJob/[^$TAB]*${TAB}\[\"salesline-tick\"" "$T/deploy.cmds"

# --- commands and their options ------------------------------------------

# is_ours NAME: a salesline command (a C source or a script in bin/)
is_ours() {
	[ -f "$ROOT/bin/$1.c" ] ||
		{ [ -f "$ROOT/bin/$1" ] && [ "$(head -c 2 "$ROOT/bin/$1")" = '#!' ]; }
}
looks_ours() {
	case $1 in
	salesline-* | tg-* | agent-reply | kb-index | schedule-due | time-parse | \
		cal-free | zoom-book | rep-admin | score-conv | stress-run) return 0 ;;
	esac
	return 1
}

# help NAME: the command's usage, cached
help() {
	if [ ! -f "$T/help.$1" ]; then
		case $1 in
		fake-api) "$SL_BUILD/tests/fake/fake-api" -h ;;
		*) "$1" --help ;;
		esac >"$T/help.$1" 2>&1 || true
	fi
	cat "$T/help.$1"
}

# check_opts SRC NAME ARGV-JSON: every option, and a sub-command, is in
# the usage
check_opts() {
	printf '%s' "$3" | jq -r '.[1:][]' >"$T/args"
	first=1
	while IFS= read -r a; do
		case $a in
		--) break ;;
		-?*)
			o=${a%%=*}
			help "$2" | grep -Eq -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|$)" ||
				echo "$1: $2: option '$o' is not in '$2 --help'"
			;;
		*)
			if [ "$first" = 1 ]; then
				case $2 in
				rep-admin | salesline-db)
					help "$2" | grep -Eq "(^|[^[:alnum:]-])$a([^[:alnum:]-]|$)" ||
						echo "$1: $2: no sub-command '$a' in '$2 --help'"
					;;
				esac
			fi
			;;
		esac
		first=0
	done <"$T/args"
}

# check_cmds FILE MODE: FILE has "SOURCE<TAB>argv" lines.  MODE strict:
# every command must exist (ours in bin/, or on PATH); loose: only ours
# are looked at.  Problems are printed.
check_cmds() {
	while IFS="$TAB" read -r src argv; do
		c=$(printf '%s' "$argv" | jq -r '.[0]')
		name=${c#bin/}
		case $c in
		tests/fake/fake-api)
			[ -x "$SL_BUILD/tests/fake/fake-api" ] ||
				echo "$src: $c is not built"
			check_opts "$src" fake-api "$argv"
			continue
			;;
		esac
		if is_ours "$name"; then
			check_opts "$src" "$name" "$argv"
		elif [ "$c" != "$name" ] || looks_ours "$name"; then
			echo "$src: '$c' is not a command in bin/"
		elif [ "$2" = strict ]; then
			command -v "$c" >/dev/null 2>&1 ||
				echo "$src: '$c' is neither in bin/ nor a command on PATH"
			if [ "$c" = make ]; then
				printf '%s' "$argv" | jq -r '.[1:][]' | grep -v '^-' |
					while IFS= read -r tgt; do
						grep -q "^$tgt:" "$ROOT/Makefile" ||
							echo "$src: make has no target '$tgt'"
					done
			fi
		fi
	done <"$1"
}

check_cmds "$T/deploy.cmds" strict >"$T/p"
check_no_grep "the commands of compose.yaml and k8s/ exist, with their options" . "$T/p"

check_exit "the Dockerfile's CMD and HEALTHCHECK are found" 0 \
	chk dockerfile "$ROOT/Dockerfile"
cp "$T/out" "$T/docker.cmds"
check_grep "CMD runs salesline-run" "CMD${TAB}\[\"salesline-run\"\]" "$T/docker.cmds"
check_grep "HEALTHCHECK runs salesline-health" \
	"HEALTHCHECK${TAB}\[\"salesline-health\"" "$T/docker.cmds"
check_cmds "$T/docker.cmds" strict >"$T/p"
check_no_grep "the Dockerfile's commands exist, with their options" . "$T/p"

check_exit "the getting-started walkthrough has commands" 0 \
	chk walkthrough "$ROOT/docs/getting-started.md"
cp "$T/out" "$T/walk.cmds"
for c in bin/salesline-run bin/salesline-tick tests/fake/fake-api; do
	check_grep "the walkthrough runs $c" "${TAB}\[\"$c\"" "$T/walk.cmds"
done
check_cmds "$T/walk.cmds" strict >"$T/p"
check_no_grep "every command of the walkthrough exists, with its options" . "$T/p"

check_exit "the guides' examples are found" 0 chk examples "$ROOT"/docs/*.md
cp "$T/out" "$T/examples.cmds"
check_cmds "$T/examples.cmds" loose >"$T/p"
check_no_grep "every salesline command in docs/*.md exists, with its options" . "$T/p"

# --- the Dockerfile ------------------------------------------------------
DF=$ROOT/Dockerfile
# stage N: the lines of the Nth stage (1: build), continuations joined
stage() {
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$DF" |
		awk -v n="$1" '/^FROM /{s++} s==n'
}
stage 1 >"$T/st1"
stage 2 >"$T/st2"
check_exit "two stages" 0 test "$(grep -c '^FROM ' "$DF")" -eq 2
check_grep "the first is the build stage" '^FROM [^ ]+ AS build$' "$T/st1"
check_grep "which runs make check" '^RUN .*make( [^ ]*)* check' "$T/st1"
check_grep "and make install" '^RUN .*make .*install' "$T/st1"
awk '/^USER /{u=$2} /^RUN .*make( [^ ]*)* check/{print u; exit}' "$T/st1" >"$T/p"
check_no_grep "make check runs as a user, not root" '^(root|0)?(:.*)?$' "$T/p"
check_grep "the image takes what the build stage installed" \
	'^COPY --from=build ' "$T/st2"
awk '/^USER /{u=$2} END{print u}' "$T/st2" >"$T/p"
check_no_grep "the image runs as a non-root user" '^(root|0)?(:.*)?$' "$T/p"
check_grep "HEALTHCHECK in the image" '^HEALTHCHECK .*salesline-health' "$T/st2"
check_grep "CMD in the image" '^CMD \["salesline-run"\]' "$T/st2"
# every package tests/deps wants is installed in the build stage (deps
# cannot install them as a user)
sed -n '/^need=/,/^.$/p' "$ROOT/tests/deps" | awk 'NF == 2 {print $1}' >"$T/deps"
: >"$T/p"
while read -r pkg; do
	grep -Eq "(^|[[:space:]])$pkg([[:space:]]|$)" "$T/st1" || echo "$pkg" >>"$T/p"
done <"$T/deps"
check_no_grep "the build stage installs every package of tests/deps" . "$T/p"
# the libraries the commands link against are in the image
: >"$T/p"
for pkg in libcurl4 libjq1 libsqlite3-0 libpq5 libmicrohttpd12 libssl3 util-linux; do
	grep -Eq "(^|[[:space:]])$pkg([[:space:]]|$)" "$T/st2" || echo "$pkg" >>"$T/p"
done
check_no_grep "the image has the run time libraries and flock" . "$T/p"
check_grep "skills/ and sql/ are found at SALESLINE_HOME" \
	'SALESLINE_HOME=/usr/share/salesline' "$T/st2"
check_grep "the image is installed with PREFIX=/usr" 'PREFIX=/usr( |$)' "$T/st1"

# --- manual pages --------------------------------------------------------
PAGES=$(cd "$ROOT" && ls bin/*.1 docs/*.7)
if grep -q '^lint-man:' "$ROOT/Makefile"; then
	check_exit "make lint-man passes" 0 make -s -C "$ROOT" lint-man
elif command -v mandoc >/dev/null 2>&1; then
	# the same check as make lint
	check_exit "mandoc -Tlint -Wwarning passes on every page" 0 \
		sh -c "cd '$ROOT' && mandoc -Tlint -Wwarning $(echo "$PAGES" | tr '\n' ' ')"
else
	skip "mandoc -Tlint" "mandoc is not installed"
fi
: >"$T/p"
for f in $PAGES; do
	MANWIDTH=80 man --warnings -E UTF-8 -l "$ROOT/$f" 2>&1 >/dev/null |
		sed "s|^|$f: |" >>"$T/p"
done
check_no_grep "man -l renders every page without a warning" . "$T/p"
# every .Xr names a page of ours or of the system
: >"$T/p"
for f in $PAGES; do
	sed -n 's/^\.Xr \([^ ]*\) \([0-9]\).*/\1 \2/p' "$ROOT/$f" | sort -u |
		while read -r n s; do
			# a system page need not be installed here (cron(8))
			[ -f "$ROOT/bin/$n.$s" ] || [ -f "$ROOT/docs/$n.$s" ] ||
				! looks_ours "$n" || echo "$f: .Xr $n $s: no such page"
		done >>"$T/p"
done
check_no_grep "every cross reference to a salesline page names one that exists" . "$T/p"
: >"$T/p"
for f in "$ROOT"/bin/*.1; do
	n=$(basename "$f" .1)
	grep -q "^\.Xr $n 1" "$ROOT/docs/salesline.7" || echo "$n" >>"$T/p"
done
check_no_grep "salesline.7 refers to every command's page" . "$T/p"

# --- make install --------------------------------------------------------
check_exit "make install DESTDIR=... succeeds" 0 \
	make -s -C "$ROOT" O="$SL_BUILD" DESTDIR="$T/inst" install
MAN=$T/inst/usr/local/share/man
: >"$T/p"
for f in $PAGES; do
	n=$(basename "$f")
	s=${n##*.}
	[ -f "$MAN/man$s/$n" ] || echo "$n not installed" >>"$T/p"
done
check_no_grep "every page is installed" . "$T/p"
: >"$T/p"
for c in "$T"/inst/usr/local/bin/*; do
	n=$(basename "$c")
	[ -f "$MAN/man1/$n.1" ] || echo "$n has no page" >>"$T/p"
done
check_no_grep "every installed command has its page" . "$T/p"
check_exit "man finds the installed overview" 0 \
	sh -c "MANWIDTH=80 man -M '$MAN' 7 salesline | grep -q 'salesline'"
check_exit "sql/ and skills/ are installed" 0 test -f \
	"$T/inst/usr/local/share/salesline/skills/tools.json" -a -d \
	"$T/inst/usr/local/share/salesline/sql/sqlite"

# --- shell scripts ---------------------------------------------------------
if command -v shellcheck >/dev/null 2>&1; then
	: >"$T/scripts"
	for f in "$ROOT"/bin/* "$ROOT"/tests/*.t "$ROOT"/tests/run \
		"$ROOT"/tests/deps "$ROOT"/tests/lib.sh "$ROOT"/tests/bench/*; do
		[ -f "$f" ] && head -n 1 "$f" | grep -q '^#!/bin/sh' &&
			echo "$f" >>"$T/scripts"
	done
	check_exit "shellcheck passes on every shell script ($(grep -c . "$T/scripts"))" \
		0 sh -c "cd '$ROOT/tests' && xargs shellcheck -S warning -s sh <'$T/scripts'"
	check_exit "and on .ci/run" 0 shellcheck -S warning "$ROOT/.ci/run"
else
	skip "shellcheck on every shell script" "shellcheck is not installed"
fi

done_testing
