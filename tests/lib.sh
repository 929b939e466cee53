# tests/lib.sh: sourced by every end-to-end test (tests/NNNN-*.t).
#
# Gives a scratch directory ($T, removed at exit unless KEEP=1), the built
# commands first on PATH ($SL_BUILD/bin, then the scripts in bin/), TZ=UTC
# and LC_ALL=C, and TAP helpers:
#
#   ok NAME CMD...              passes when CMD exits 0
#   check_exit NAME STATUS CMD...
#                               runs CMD (stdout in $T/out, stderr in
#                               $T/err) and passes when it exits STATUS
#   check_json NAME WANT FILE   compares JSON lines (jq -cS) of the string
#                               WANT with FILE
#   check_grep NAME REGEX FILE  passes when FILE matches (grep -E)
#   check_no_grep NAME REGEX FILE
#   is NAME WANT GOT            passes when the strings are equal
#   prom_ok FILE                FILE is in the Prometheus text format
#   skip NAME REASON
#   todo REASON CHECK...        runs one check as a TODO test point: a
#                               failure is reported "not ok ... # TODO
#                               REASON" and does not fail the test
#   for_each_db FUNC            runs FUNC with $DB set to a fresh SQLite
#                               file, then (when TEST_PG_DSN is set) to a
#                               fresh PostgreSQL database; $ENGINE names it
#   fake_start [ARGS...]        starts tests/fake/fake-api; sets FAKE_URL
#                               (http://127.0.0.1:PORT) and FAKE_LOG
#   done_testing                prints the plan and the summary; exits 1
#                               when anything failed

set -eu

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$TESTS_DIR/.." && pwd)
SL_BUILD=${SL_BUILD:-$ROOT}
case $SL_BUILD in /*) ;; *) SL_BUILD=$ROOT/$SL_BUILD ;; esac
PATH=$SL_BUILD/bin:$ROOT/bin:$PATH
FAKE_API=$SL_BUILD/tests/fake/fake-api
SALESLINE_HOME=$ROOT
LC_ALL=C
TZ=UTC
export PATH SALESLINE_HOME LC_ALL TZ SL_BUILD
# Nothing from the caller's environment may reach a real service or ledger.
unset SALESLINE_DB DATABASE_URL SALESLINE_NOW TELEGRAM_BOT_TOKEN \
	ANTHROPIC_API_KEY OPENAI_API_KEY LLM_API_KEY LLM_PROVIDER \
	GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET ZOOM_ACCOUNT_ID ZOOM_CLIENT_ID \
	ZOOM_CLIENT_SECRET 2>/dev/null || true
# Sanitizer failures must fail the test, and leak reports must be readable.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

T=$(mktemp -d "${TMPDIR:-/tmp}/salesline-test.XXXXXX")
_tap_n=0
_tap_failed=0
_prefix=
_pids=
_pgdbs=

_cleanup() {
	for p in $_pids; do
		kill "$p" 2>/dev/null || true
	done
	for d in $_pgdbs; do
		psql -q -X -d "$TEST_PG_DSN" -c "DROP DATABASE IF EXISTS $d" \
			>/dev/null 2>&1 || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

_todo=
_result() { # STATUS NAME
	_tap_n=$((_tap_n + 1))
	if [ -n "$_todo" ]; then
		[ "$1" -eq 0 ] || printf 'not '
		echo "ok $_tap_n - $_prefix$2 # TODO $_todo"
	elif [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $_prefix$2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $_prefix$2"
	fi
}

_show() { # FILE LABEL
	if [ -s "$1" ]; then
		echo "#   $2:"
		head -c 4000 "$1" | sed 's/^/#     /'
		echo
	fi
}

ok() {
	_name=$1
	shift
	if "$@" >"$T/out" 2>"$T/err" </dev/null; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		echo "#   command: $*"
		_show "$T/err" stderr
	fi
}

check_exit() {
	_name=$1
	_want=$2
	shift 2
	_st=0
	"$@" >"$T/out" 2>"$T/err" || _st=$?
	if [ "$_st" -eq "$_want" ]; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		echo "#   command: $*"
		echo "#   exit status $_st, want $_want"
		_show "$T/out" stdout
		_show "$T/err" stderr
	fi
}

check_json() {
	_name=$1
	printf '%s\n' "$2" | jq -cS . >"$T/json.want" 2>&1 || true
	jq -cS . <"$3" >"$T/json.got" 2>&1 || true
	if cmp -s "$T/json.want" "$T/json.got"; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		diff -u "$T/json.want" "$T/json.got" | sed 's/^/#   /' || true
	fi
}

check_grep() {
	if grep -Eq -- "$2" "$3"; then
		_result 0 "$1"
	else
		_result 1 "$1"
		echo "#   no line matches: $2"
		_show "$3" "$3"
	fi
}

check_no_grep() {
	if grep -Eq -- "$2" "$3"; then
		_result 1 "$1"
		echo "#   a line matches: $2"
		grep -E -- "$2" "$3" | head -5 | sed 's/^/#     /'
	else
		_result 0 "$1"
	fi
}

todo() {
	_todo=$1
	shift
	"$@" || true
	_todo=
}

is() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then
		_result 0 "$1"
	else
		_result 1 "$1"
		echo "#   got '$3', want '$2'"
	fi
}

# Prometheus text format, version 0.0.4: comments, or samples of a family
# announced by # TYPE; histogram buckets that never go down.
prom_ok() {
	awk '
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
	/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/ {
		if ($3 in typed) { print "family twice: " $3; bad = 1 }
		typed[$3] = $4; next }
	/^#/ { print "bad comment: " $0; bad = 1; next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf)$/) {
			print "bad sample: " $0; bad = 1; next }
		name = $0; sub(/[{ ].*/, "", name); fam = name
		if (!(fam in typed)) { sub(/_(bucket|sum|count)$/, "", fam) }
		if (!(fam in typed)) { print "no TYPE for " name; bad = 1 }
		if (name ~ /_bucket$/) {
			v = $NF + 0
			if (v < last[fam]) { print "bucket goes down: " $0; bad = 1 }
			last[fam] = v
		}
	}
	END { exit bad }' "$1"
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $_prefix$1 # SKIP $2"
}

# sql DB QUERY: one query against the ledger, rows as JSON lines.
sql() {
	salesline-db --db "$1" query "$2"
}

for_each_db() {
	ENGINE=sqlite
	DB=$T/sqlite-$_tap_n.db
	_prefix="[sqlite] "
	export DB ENGINE
	"$@"
	if [ -n "${TEST_PG_DSN:-}" ]; then
		_d=t_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
		if psql -q -X -d "$TEST_PG_DSN" -c "CREATE DATABASE $_d" \
			>"$T/pg.err" 2>&1; then
			_pgdbs="$_pgdbs $_d"
			ENGINE=postgres
			DB=$(_pg_dsn_for "$_d")
			_prefix="[postgres] "
			export DB ENGINE
			"$@"
		else
			_result 1 "create a PostgreSQL database"
			_show "$T/pg.err" psql
		fi
	else
		_prefix=
		skip "PostgreSQL runs of this test" "TEST_PG_DSN is not set"
	fi
	_prefix=
}

# The DSN of another database on the server of $TEST_PG_DSN.
_pg_dsn_for() {
	case $TEST_PG_DSN in
	*\?*) printf '%s\n' "$TEST_PG_DSN" |
		sed "s|^\(postgres[a-z]*://[^/]*\)/[^?]*|\1/$1|" ;;
	*) printf '%s\n' "$TEST_PG_DSN" |
		sed "s|^\(postgres[a-z]*://[^/]*\)\(/.*\)\{0,1\}$|\1/$1|" ;;
	esac
}

fake_start() {
	FAKE_LOG=$T/fake-$_tap_n.log
	_pf=$T/fake-$_tap_n.port
	"$FAKE_API" -l "$FAKE_LOG" "$@" >"$_pf" 2>"$T/fake-$_tap_n.err" &
	_pids="$_pids $!"
	_i=0
	while [ ! -s "$_pf" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	FAKE_URL=http://127.0.0.1:$(head -n 1 "$_pf")
	export FAKE_URL FAKE_LOG
}

done_testing() {
	echo "1..$_tap_n"
	echo "# $((_tap_n - _tap_failed)) passed, $_tap_failed failed"
	[ "$_tap_failed" -eq 0 ]
}
