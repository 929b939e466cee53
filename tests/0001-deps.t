#!/bin/sh
# tests/deps: finds what is missing and says exactly which packages.
. "$(dirname "$0")/lib.sh"

check_exit "everything installed: exit 0, silent" 0 \
	env DEPS_NO_INSTALL=1 sh "$ROOT/tests/deps"
check_no_grep "nothing printed" . "$T/err"

mkdir -p "$T/root/usr/include/postgresql" "$T/root/usr/bin"
: >"$T/root/usr/include/jv.h"
: >"$T/root/usr/include/postgresql/libpq-fe.h"
: >"$T/root/usr/bin/jq"
check_exit "missing packages: exit 1" 1 \
	env DEPS_NO_INSTALL=1 DEPS_ROOT="$T/root" sh "$ROOT/tests/deps"
check_grep "names the missing packages" \
	'^deps: missing Debian packages: .*libcurl4-openssl-dev .*libsqlite3-dev .*libmicrohttpd-dev' "$T/err"
check_no_grep "not the installed ones" 'libjq-dev|libpq-dev| jq ' "$T/err"
check_grep "says how to install them" '^deps: install them with: apt-get install ' "$T/err"

done_testing
