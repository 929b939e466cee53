#!/bin/sh
# 0330-fake-zoom: fake-api's Zoom: Server-to-Server OAuth, meetings
# (create, get, patch, delete), users, start_time validation, expired and
# unknown tokens, rate limits, XML error bodies, the control endpoints,
# rules over the module, reset, and a clean exit.
. "$(dirname "$0")/lib.sh"

BASIC=fake-zoom-client:fake-zoom-secret

# req CURL-ARGS...: the body in $T/body, headers in $T/hdrs, status in
# $T/code.
req() {
	curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@" >"$T/code" ||
		true
}

# is NAME STATUS JQ: the last answer had STATUS and JQ holds on its body.
is() {
	if [ "$(cat "$T/code")" = "$2" ] &&
		jq -e "$3" "$T/body" >/dev/null 2>&1; then
		_result 0 "$1"
	else
		_result 1 "$1"
		echo "#   status $(cat "$T/code"), want $2; jq: $3"
		_show "$T/body" body
	fi
}

# zerr NAME STATUS CODE [MESSAGE]: the last answer was Zoom's API error.
zerr() {
	is "$1" "$2" ".code == $3 and (.message | type) == \"string\" and (\"${4:-}\" == \"\" or .message == \"${4:-}\")"
}

# bad_start NAME START_TIME: a create with it fails on start_time.
bad_start() {
	zapi -d "{\"topic\":\"x\",\"type\":2,\"start_time\":\"$2\",\"timezone\":\"Europe/Berlin\",\"duration\":30}" \
		"$U/v2/users/me/meetings"
	is "start_time $1 ('$2'): 400 code 300 on start_time" 400 \
		'.code == 300 and .message == "Validation Failed." and
		 .errors == [{"field":"start_time","message":"Invalid field."}]'
}

token() {
	req -u "${1:-$BASIC}" -X POST \
		"$U/oauth/token?grant_type=account_credentials&account_id=${2:-fake-account}"
}

# zapi CURL-ARGS...: an API call with the current token $ZT.
zapi() {
	req -H "Authorization: Bearer $ZT" -H 'Content-Type: application/json' \
		"$@"
}

ctl() {
	curl -s -d "$2" "$U/_fake/zoom/$1" >"$T/ctl"
}

fake_start
U=$FAKE_URL
# shellcheck disable=SC2154
MAIN_PID=${_pids##* }
# shellcheck disable=SC2154
MAIN_ERR=$T/fake-$_tap_n.err

# OAuth.
token
is "token: 200 with Zoom's fields" 200 \
	'(.access_token | type) == "string" and .token_type == "bearer" and
	 .expires_in == 3599 and .scope == "meeting:write:meeting:admin user:read:user:admin" and
	 (has("refresh_token") | not)'
is "... api_url is the emulator itself" 200 ".api_url == \"$U\""
ZT=$(jq -r .access_token "$T/body")
req -u "$BASIC" -d grant_type=account_credentials -d account_id=fake-account \
	"$U/oauth/token"
is "token: the parameters as a form body" 200 '.token_type == "bearer"'
ZT2=$(jq -r .access_token "$T/body")
check_exit "... a second token, and both live" 0 test "$ZT" != "$ZT2"
token fake-zoom-client:wrong
is "token: a wrong secret: 400 invalid_client" 400 \
	'. == {"reason":"Invalid client_id or client_secret","error":"invalid_client"}'
req -X POST "$U/oauth/token?grant_type=account_credentials&account_id=fake-account"
is "token: no Basic auth: 400 invalid_client" 400 '.error == "invalid_client"'
req -H 'Authorization: Basic !!!notbase64' -X POST \
	"$U/oauth/token?grant_type=account_credentials&account_id=fake-account"
is "token: garbage Basic auth: 400 invalid_client" 400 \
	'.error == "invalid_client"'
req -u "$BASIC" -X POST "$U/oauth/token?grant_type=client_credentials&account_id=fake-account"
is "token: another grant type: 400 unsupported_grant_type" 400 \
	'.error == "unsupported_grant_type" and (.reason | type) == "string"'
token "$BASIC" other-account
is "token: another account: 400" 400 '.error == "invalid_request"'
ctl account '{"account_id":"acct-2","client_id":"cid-2","client_secret":"sec-2"}'
check_exit "control: the account changes" 0 jq -e \
	'.ok and .account_id == "acct-2" and .client_id == "cid-2"' "$T/ctl"
token
is "... the old credentials fail" 400 '.error == "invalid_client"'
token cid-2:sec-2 acct-2
is "... the new ones work" 200 '.token_type == "bearer"'
ctl account '{"account_id":"fake-account","client_id":"fake-zoom-client","client_secret":"fake-zoom-secret"}'

# Bearers.
req "$U/v2/users/me"
zerr "no bearer: 401 code 124" 401 124 "Invalid access token."
req -H 'Authorization: Bearer nope' "$U/v2/users/me"
zerr "an unknown bearer: 401 code 124" 401 124 "Invalid access token."
zapi "$U/v2/users/me"
is "users/me: the account's user" 200 \
	'.id == "KDcuGIm1QgePTO8WbOqwIQ" and .email == "dana@example.com" and
	 .account_id == "fake-account" and .type == 2 and .timezone == "America/Los_Angeles"'
ctl expire "{\"token\":\"$ZT2\"}"
check_exit "control: expire one token" 0 jq -e '.expired == 1' "$T/ctl"
req -H "Authorization: Bearer $ZT2" "$U/v2/users/me"
zerr "an expired token: 401 code 124" 401 124 "Access token is expired."
zapi "$U/v2/users/me"
is "... the other still works" 200 '.type == 2'

# Meetings.
zapi -d '{"topic":"Sync with Bob","type":2,"start_time":"2025-03-11T10:00:00","timezone":"Europe/Berlin","duration":30,"agenda":"Q2 plan","password":"x7Kp2q","settings":{"join_before_host":false,"waiting_room":true}}' \
	"$U/v2/users/me/meetings"
is "create: 201 Created" 201 '.status == "waiting" and .type == 2'
is "... id a number past 2^32, from 86311432571" 201 \
	'(.id | type) == "number" and .id == 86311432571 and .id > 4294967296'
check_grep "... written as an integer" '"id":86311432571[,}]' "$T/body"
is "... start_time local in timezone, echoed in UTC with Z" 201 \
	'.start_time == "2025-03-11T09:00:00Z" and .timezone == "Europe/Berlin" and .duration == 30'
is "... host, topic, agenda, password, settings" 201 \
	'.host_id == "KDcuGIm1QgePTO8WbOqwIQ" and .host_email == "dana@example.com" and
	 .topic == "Sync with Bob" and .agenda == "Q2 plan" and .password == "x7Kp2q" and
	 .settings.waiting_room == true and (.uuid | type) == "string" and
	 (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))'
is "... join_url and start_url" 201 \
	'(.join_url | startswith("https://us06web.zoom.us/j/86311432571?pwd=")) and
	 (.start_url | startswith("https://us06web.zoom.us/s/86311432571?zak="))'
zapi -d '{"topic":"UTC one","type":2,"start_time":"2025-07-01T08:30:00Z","timezone":"Asia/Makassar","duration":45}' \
	"$U/v2/users/me/meetings"
is "create: a UTC start_time stays; the next id" 201 \
	'.id == 86311432572 and .start_time == "2025-07-01T08:30:00Z" and .timezone == "Asia/Makassar"'
M2=86311432572
zapi -d '{"topic":"No zone","type":2,"start_time":"2025-03-11T10:00:00","duration":30}' \
	"$U/v2/users/me/meetings"
is "create: a local start_time without timezone is in the user's zone" 201 \
	'.start_time == "2025-03-11T17:00:00Z" and .timezone == "America/Los_Angeles"'
bad_start "with an offset" "2025-03-11T10:00:00+01:00"
bad_start "with a fraction" "2025-03-11T10:00:00.000Z"
bad_start "with a space" "2025-03-11 10:00:00"
bad_start "a date only" "2025-03-11"
bad_start "lowercase z" "2025-03-11T10:00:00z"
bad_start "out of range" "2025-02-30T10:00:00Z"
bad_start "garbage" "next tuesday"
zapi -d '{"topic":"x","start_time":"2025-03-11T10:00:00","timezone":"Mars/Olympus"}' \
	"$U/v2/users/me/meetings"
is "create: an unknown timezone: 400 on timezone" 400 \
	'.code == 300 and .errors[0].field == "timezone"'
zapi -d '{"topic":"x","start_time":"2025-03-11T10:00:00Z","password":"much-too-long-1"}' \
	"$U/v2/users/me/meetings"
is "create: a password over 10 characters: 400 on password" 400 \
	'.code == 300 and .errors[0].field == "password"'
zapi -d 'topic=x' "$U/v2/users/me/meetings"
zerr "create: a body that is not JSON: 400 code 300" 400 300 \
	"Request Body should be a valid JSON object."
zapi -d '[1,2]' "$U/v2/users/me/meetings"
zerr "create: a JSON array: the same" 400 300 \
	"Request Body should be a valid JSON object."
zapi -X POST "$U/v2/users/me/meetings"
zerr "create: no body: the same" 400 300 \
	"Request Body should be a valid JSON object."
zapi -d '{"topic":"x"}' "$U/v2/users/ghost@example.com/meetings"
zerr "create for an unknown user: 404 code 1001" 404 1001 \
	"User does not exist: ghost@example.com."
ctl user '{"email":"anna@example.com","id":"AnnaZoomId0001","timezone":"Europe/Moscow"}'
check_exit "control: a second user" 0 jq -e '.ok and .id == "AnnaZoomId0001"' \
	"$T/ctl"
zapi -d '{"topic":"For Anna","start_time":"2025-03-11T10:00:00","duration":30}' \
	"$U/v2/users/anna@example.com/meetings"
is "create for a user by e-mail, in that user's zone" 201 \
	'.host_email == "anna@example.com" and .host_id == "AnnaZoomId0001" and
	 .start_time == "2025-03-11T07:00:00Z"'
M4=$(jq -r .id "$T/body")
zapi "$U/v2/users/AnnaZoomId0001"
is "users/{id}: that user" 200 '.email == "anna@example.com"'
zapi "$U/v2/users/nobody"
zerr "users/{unknown}: 404 code 1001" 404 1001 "User does not exist: nobody."

zapi "$U/v2/meetings/86311432571"
is "get: the meeting" 200 \
	'.id == 86311432571 and .topic == "Sync with Bob" and .start_time == "2025-03-11T09:00:00Z"'
zapi -X PATCH -d '{"start_time":"2025-03-12T11:00:00","duration":60,"topic":"Moved"}' \
	"$U/v2/meetings/86311432571"
check_grep "patch: 204" '^204$' "$T/code"
check_exit "... with an empty body" 0 test ! -s "$T/body"
zapi "$U/v2/meetings/86311432571"
is "... the meeting moved (local in its own zone)" 200 \
	'.start_time == "2025-03-12T10:00:00Z" and .duration == 60 and .topic == "Moved" and
	 .timezone == "Europe/Berlin"'
zapi -X PATCH -d '{"start_time":"2025-03-12T11:00:00+01:00"}' \
	"$U/v2/meetings/86311432571"
is "patch: a bad start_time: 400 on start_time" 400 \
	'.code == 300 and .errors[0].field == "start_time"'
zapi -X PATCH -d 'x' "$U/v2/meetings/86311432571"
zerr "patch: not JSON: 400 code 300" 400 300
zapi -X PATCH -d '{"topic":"x"}' "$U/v2/meetings/99999999999"
zerr "patch an unknown meeting: 404 code 3001" 404 3001 \
	"Meeting does not exist: 99999999999."
zapi -X DELETE "$U/v2/meetings/$M2"
check_grep "delete: 204" '^204$' "$T/code"
zapi "$U/v2/meetings/$M2"
zerr "get a deleted meeting: 404 code 3001" 404 3001 \
	"Meeting does not exist: $M2."
zapi -X DELETE "$U/v2/meetings/$M2"
zerr "delete it again: 404 code 3001" 404 3001
zapi "$U/v2/meetings/not-a-number"
zerr "get a malformed id: 404 code 3001" 404 3001
curl -s "$U/_fake/zoom/meetings" >"$T/mt"
check_exit "/meetings: every meeting, as it stands, deleted ones flagged" 0 \
	jq -se --argjson m2 "$M2" --argjson m4 "$M4" \
	'length == 4 and [.[].id] == [86311432571, $m2, 86311432573, $m4] and
	 (map(select(.deleted)) | map(.id)) == [$m2] and .[0].topic == "Moved" and
	 .[3].host_email == "anna@example.com"' "$T/mt"

# Rate limits.
ctl ratelimit '{"n":2}'
zapi -d '{"topic":"limited","start_time":"2025-03-11T10:00:00Z"}' \
	"$U/v2/users/me/meetings"
zerr "ratelimit: 429 code 429" 429 429
check_grep "... X-RateLimit-Category" '^X-RateLimit-Category: Medium' "$T/hdrs"
check_grep "... X-RateLimit-Type (daily by default)" \
	'^X-RateLimit-Type: Daily-limit' "$T/hdrs"
check_grep "... X-RateLimit-Limit" '^X-RateLimit-Limit: [0-9]+' "$T/hdrs"
check_grep "... X-RateLimit-Remaining: 0" '^X-RateLimit-Remaining: 0' \
	"$T/hdrs"
check_grep "... Retry-After in seconds" '^Retry-After: [0-9]+' "$T/hdrs"
zapi "$U/v2/users/me"
zerr "ratelimit: the second call too" 429 429
zapi "$U/v2/users/me"
is "ratelimit: then calls pass" 200 '.type == 2'
ctl ratelimit '{"n":1,"type":"qps"}'
zapi "$U/v2/users/me"
check_grep "ratelimit qps: Retry-After: 1" '^Retry-After: 1' "$T/hdrs"
check_grep "... X-RateLimit-Type: QPS" '^X-RateLimit-Type: QPS' "$T/hdrs"
curl -s "$U/_fake/zoom/meetings" >"$T/mt"
check_exit "a limited create made no meeting" 0 jq -se 'length == 4' "$T/mt"

# XML error bodies.
ctl errors '{"xml":true}'
zapi -d '{"topic":"x","start_time":"bad"}' "$U/v2/users/me/meetings"
check_grep "xml: the error body is Zoom's XML" \
	'^<\?xml version="1\.0" encoding="UTF-8"\?><result><code>300</code><message>Validation Failed\.</message>' \
	"$T/body"
check_grep "... as application/xml" '^Content-Type: application/xml' "$T/hdrs"
check_grep "... still 400" '^400$' "$T/code"
req -H 'Authorization: Bearer nope' "$U/v2/users/me"
check_grep "xml: a 401 too" '<code>124</code><message>Invalid access token\.</message>' \
	"$T/body"
zapi "$U/v2/users/me"
is "xml: success stays JSON" 200 '.type == 2'
ctl errors '{"xml":false}'
zapi "$U/v2/users/nobody"
zerr "xml off: JSON again" 404 1001

# Expiry of every token; a new one works.
ctl expire '{"all":true}'
zapi "$U/v2/users/me"
zerr "expire all: 401 code 124" 401 124 "Access token is expired."
token
ZT=$(jq -r .access_token "$T/body")
zapi "$U/v2/users/me"
is "... a new token works" 200 '.type == 2'
curl -s "$U/_fake/zoom/tokens" >"$T/tok"
check_exit "tokens: counts" 0 jq -e '.issued == 4 and .live == 1 and .rate_limited == 3' \
	"$T/tok"

# Rules over the module.
printf '%s\n' \
	'{"path":"/v2/users/*/meetings","times":1,"status":500,"body":{"code":500,"message":"Internal Error"}}' \
	'{"path":"/v2/users/*/meetings","times":1,"close":"mid"}' |
	curl -s --data-binary @- "$U/_fake/rules" >/dev/null
zapi -d '{"topic":"r1","start_time":"2025-03-11T10:00:00Z"}' "$U/v2/users/me/meetings"
zerr "a rule answers instead of the module" 500 500
curl -s "$U/_fake/zoom/meetings" >"$T/mt"
check_exit "... and no meeting was made" 0 jq -se 'length == 4' "$T/mt"
st=0
curl -s -H "Authorization: Bearer $ZT" -H 'Content-Type: application/json' \
	-d '{"topic":"lost answer","start_time":"2025-03-11T10:00:00Z"}' \
	"$U/v2/users/me/meetings" >/dev/null 2>&1 || st=$?
check_exit "a shaping rule cuts the module's answer (curl 18)" 0 test "$st" -eq 18
curl -s "$U/_fake/zoom/meetings" >"$T/mt"
check_exit "... but Zoom made the meeting" 0 jq -se \
	'length == 5 and .[4].topic == "lost answer"' "$T/mt"

# Reset.
curl -s -X POST "$U/_fake/reset" >/dev/null
zapi "$U/v2/users/me"
zerr "reset forgets the tokens" 401 124 "Invalid access token."
curl -s "$U/_fake/zoom/meetings" >"$T/mt"
check_exit "... and the meetings" 0 test ! -s "$T/mt"
token
ZT=$(jq -r .access_token "$T/body")
zapi -d '{"topic":"again","start_time":"2025-03-11T10:00:00Z"}' \
	"$U/v2/users/me/meetings"
is "... ids start again at 86311432571" 201 '.id == 86311432571'
zapi "$U/v2/users/anna@example.com"
zerr "... and the added users are gone" 404 1001

kill -TERM "$MAIN_PID"
st=0
wait "$MAIN_PID" || st=$?
check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
check_exit "... with nothing on stderr (no leak reports)" 0 test ! -s "$MAIN_ERR"
_show "$MAIN_ERR" "fake-api stderr"

done_testing
