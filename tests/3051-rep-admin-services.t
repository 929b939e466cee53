#!/bin/sh
# tests/3051-rep-admin-services.t: rep-admin calendar connect (the
# loopback flow through the browser, and the device flow), calendar
# disconnect and zoom verify, against the emulated Google and Zoom, on
# SQLite and PostgreSQL; missing configuration and refusals.
# shellcheck source=tests/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

check_exit "calendar connect without a Google client exits 78" 78 \
	rep-admin --db "$T/c.db" calendar connect anna
check_grep "the variable is named" 'GOOGLE_CLIENT_ID' "$T/err"
check_exit "zoom verify without Zoom exits 78" 78 \
	rep-admin --db "$T/c.db" zoom verify
check_grep "the variables are named" \
	'ZOOM_ACCOUNT_ID.*ZOOM_CLIENT_ID.*ZOOM_CLIENT_SECRET' "$T/err"

fake_start
export SALESLINE_SECRET_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
export GOOGLE_CLIENT_ID=fake-client-id.apps.googleusercontent.com \
	GOOGLE_CLIENT_SECRET=fake-client-secret GOOGLE_OAUTH_URL="$FAKE_URL" \
	GOOGLE_AUTH_URL="$FAKE_URL/o/oauth2/v2/auth" GOOGLE_API_URL="$FAKE_URL"
export ZOOM_ACCOUNT_ID=fake-account ZOOM_CLIENT_ID=fake-zoom-client \
	ZOOM_CLIENT_SECRET=fake-zoom-secret ZOOM_OAUTH_URL="$FAKE_URL" \
	ZOOM_API_URL="$FAKE_URL"

q() {
	salesline-db --db "$DB" query "$@"
}

# browser: what a person's browser does with the URL rep-admin prints
connect() { # ARGS...: rep-admin calendar connect, the browser answering
	st=0
	# no URL of an earlier run may be read for this one
	rm -f "$T/c.err"
	rep-admin --db "$DB" calendar connect "$@" >"$T/c.out" 2>"$T/c.err" &
	_c=$!
	_i=0
	until grep -q 'http://' "$T/c.err" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
		[ $_i -lt 100 ] || break
	done
	curl -s -L -o "$T/page" "$(grep -o 'http://[^ ]*' "$T/c.err" |
		head -n 1)" || true
	wait $_c || st=$?
}

services() {
	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	rep-admin --db "$DB" add anna --tz Asia/Makassar >/dev/null
	connect anna --timeout 30
	check_exit "loopback: exit 0" 0 test "$st" -eq 0
	jq -c '{type, name, calendar_status}' "$T/c.out" >"$T/r"
	check_json "the rep, connected" \
		'{"type":"rep","name":"anna","calendar_status":"connected"}' "$T/r"
	check_grep "the browser is told" '[Cc]onnected|[Cc]lose' "$T/page"
	q "SELECT kind, CASE WHEN value LIKE 'v1:%' THEN 1 ELSE 0 END AS sealed FROM tokens
		WHERE provider = 'google' AND account = 'anna' ORDER BY kind" \
		>"$T/r"
	check_json "both tokens in the ledger, sealed" \
		'{"kind":"access","sealed":1}
		{"kind":"refresh","sealed":1}' "$T/r"
	curl -s "$FAKE_URL/_fake/google/tokens" |
		jq -r '.access_tokens[].token, .refresh_tokens[].token' >"$T/tok"
	cat "$T/c.out" "$T/c.err" >"$T/said"
	q "SELECT value FROM tokens" >>"$T/said"
	check_no_grep "no token is printed or stored in clear" \
		"$(paste -sd'|' "$T/tok")" "$T/said"
	check_exit "the exchange used PKCE" 0 test "$(jq -r \
		'select(.path == "/token") | .json.code_verifier | length' \
		"$FAKE_LOG" | head -n 1)" -ge 43

	check_exit "disconnect" 0 rep-admin --db "$DB" calendar disconnect anna
	q "SELECT calendar_status FROM reps WHERE name = 'anna'" >"$T/r"
	check_json "the calendar is off" '{"calendar_status":"none"}' "$T/r"
	q "SELECT count(*) AS n FROM tokens WHERE provider = 'google'" >"$T/r"
	check_json "and its tokens are gone" '{"n":0}' "$T/r"

	curl -s -d '{"deny":true}' "$FAKE_URL/_fake/google/client" >/dev/null
	connect anna --timeout 30
	check_exit "the person says no: exit non-zero" 0 test "$st" -ne 0
	check_grep "and it says so" 'access_denied' "$T/c.err"
	q "SELECT calendar_status FROM reps WHERE name = 'anna'" >"$T/r"
	check_json "the calendar stays off" '{"calendar_status":"none"}' "$T/r"

	curl -s -X POST "$FAKE_URL/_fake/reset" >/dev/null
	curl -s -d '{"interval":0,"pending":2,"slow_down":1}' \
		"$FAKE_URL/_fake/google/client" >/dev/null
	check_exit "device flow: exit 0" 0 env SALESLINE_POLL_SCALE=0.01 \
		rep-admin --db "$DB" calendar connect anna --device --timeout 60
	check_grep "the person is given the code" 'ABCD-EFGH' "$T/err"
	check_grep "and where to enter it" 'https://www.google.com/device' \
		"$T/err"
	check_grep "the rep is connected" '"calendar_status":"connected"' \
		"$T/out"
	curl -s "$FAKE_URL/_fake/google/tokens" | jq -c .device_polls >"$T/r"
	check_json "pending twice, slow down once, then the tokens" 4 "$T/r"

	check_exit "calendar connect of an unknown rep exits 1" 1 \
		rep-admin --db "$DB" calendar connect bob --timeout 10
	check_exit "connect times out when nobody answers" 75 \
		rep-admin --db "$DB" calendar connect anna --timeout 1
	check_grep "and says so" 'no answer' "$T/err"

	check_exit "zoom verify" 0 rep-admin --db "$DB" zoom verify
	jq -c '{type, email}' "$T/out" >"$T/r"
	check_grep "the account is reported" '"type":"zoom.account"' "$T/r"
	check_no_grep "without the token" 'access_token|eyJ' "$T/out"
	# a ledger with no token cached yet
	check_exit "bad Zoom credentials exit 77" 77 env \
		ZOOM_CLIENT_SECRET=wrong rep-admin --db "$T/fresh-$ENGINE.db" \
		zoom verify
	check_no_grep "the secret is not shown" 'wrong' "$T/err"
	check_exit "Zoom unreachable exits 75" 75 env \
		ZOOM_OAUTH_URL=http://127.0.0.1:1 ZOOM_API_URL=http://127.0.0.1:1 \
		SALESLINE_HTTP_BACKOFF_SCALE=0.01 rep-admin --db "$DB" zoom verify
}
for_each_db services

done_testing
