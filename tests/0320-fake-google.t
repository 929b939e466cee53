#!/bin/sh
# 0320-fake-google: fake-api's Google OAuth (consent redirect, code
# exchange with PKCE, refresh, revocation, the device flow) and Calendar
# v3 (freeBusy, events insert/get/delete), their errors, the control
# endpoints, rules over the module, reset, and a clean exit.
. "$(dirname "$0")/lib.sh"

CID=fake-client-id.apps.googleusercontent.com
CSECRET=fake-client-secret
S=https://www.googleapis.com/auth
SCOPES="$S/calendar.events $S/calendar.freebusy"
REDIR=http://127.0.0.1:8765/cb
V=verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF
CH=$(printf %s "$V" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' |
	tr -d '=')

# req CURL-ARGS...: one request; the answer's body in $T/body, headers in
# $T/hdrs, status in $T/code.
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

# oerr NAME STATUS ERROR [DESCRIPTION]: the last answer was OAuth's error.
oerr() {
	is "$1" "$2" ".error == \"$3\" and (.error_description | type) == \"string\" and (\"${4:-}\" == \"\" or .error_description == \"${4:-}\")"
}

# gerr NAME STATUS REASON: the last answer was a Google API error.
gerr() {
	is "$1" "$2" ".error.code == $2 and .error.errors[0].reason == \"$3\" and .error.errors[0].domain == \"global\" and (.error.message | type) == \"string\""
}

# consent [QUERY-EXTRA]: the consent page with our client; Location's
# query in $T/loc.
consent() {
	req -G "$U/o/oauth2/v2/auth" --data-urlencode "client_id=$CID" \
		--data-urlencode "redirect_uri=$REDIR" -d response_type=code \
		--data-urlencode "scope=$SCOPES" --data-urlencode "state=st 42" \
		-d "code_challenge=$CH" -d code_challenge_method=S256 \
		-d access_type=offline -d prompt=consent "$@"
	sed -n 's/^Location: \(.*\)\r$/\1/p' "$T/hdrs" >"$T/loc"
}

# code: the code of the last consent, as it stands in the redirect.
code() {
	sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' "$T/loc"
}

# exchange CODE [VERIFIER [REDIRECT]]: POST /token, authorization_code.
exchange() {
	req -d "code=$1" -d "client_id=$CID" -d "client_secret=$CSECRET" \
		--data-urlencode "redirect_uri=${3:-$REDIR}" \
		-d grant_type=authorization_code -d "code_verifier=${2:-$V}" \
		"$U/token"
}

# api TOKEN CURL-ARGS...: a Calendar call with a bearer.
api() {
	_tok=$1
	shift
	req -H "Authorization: Bearer $_tok" -H 'Content-Type: application/json' "$@"
}

# ctl ENDPOINT JSON: a control endpoint; the answer in $T/ctl.
ctl() {
	curl -s -d "$2" "$U/_fake/google/$1" >"$T/ctl"
}

fb() {
	api "$1" -d "$2" "$U/calendar/v3/freeBusy"
}

fake_start
U=$FAKE_URL
# shellcheck disable=SC2154
MAIN_PID=${_pids##* }
# shellcheck disable=SC2154
MAIN_ERR=$T/fake-$_tap_n.err

# The consent page.
consent
check_grep "auth: 302 to the redirect_uri" '^302$' "$T/code"
check_grep "... with a code and the state, encoded" \
	'^http://127\.0\.0\.1:8765/cb\?code=[^&]+&.*state=st%2042$' "$T/loc"
C1=$(code)
consent
C2=$(code)
check_exit "each consent gives a new code" 0 test "$C1" != "$C2"
consent --data-urlencode "redirect_uri=urn:ietf:wg:oauth:2.0:oob"
check_grep "auth: the OOB redirect is blocked (400)" '^400$' "$T/code"
check_grep "... on an error page" 'invalid_request' "$T/body"
consent --data-urlencode "redirect_uri=https://example.com/cb"
check_grep "auth: a non-loopback redirect is refused" '^400$' "$T/code"
consent --data-urlencode "client_id=nobody.apps.googleusercontent.com"
check_grep "auth: an unknown client gets 401" '^401$' "$T/code"
consent -d response_type=token
check_grep "auth: response_type other than code is refused" '^400$' \
	"$T/code"

# The code exchange.
exchange "$C1"
is "exchange: 200 with both tokens" 200 \
	'(.access_token | startswith("ya29.")) and (.refresh_token | type) == "string" and
	 .expires_in == 3599 and .token_type == "Bearer" and
	 .scope == "'"$SCOPES"'"'
AT=$(jq -r .access_token "$T/body")
RT=$(jq -r .refresh_token "$T/body")
exchange "$C1"
oerr "a code is single use" 400 invalid_grant "Bad Request"
exchange "$C2" wrong-verifier-0123456789-abcdefghijklmnopqrstuvwxyz
oerr "a wrong PKCE verifier: invalid_grant" 400 invalid_grant "Bad Request"
exchange "$C2"
oerr "... and the code is spent by the failed try" 400 invalid_grant
consent
req -d "code=$(code)" -d "client_id=$CID" -d "client_secret=$CSECRET" \
	--data-urlencode "redirect_uri=$REDIR" -d grant_type=authorization_code \
	"$U/token"
oerr "no verifier for a PKCE code: invalid_grant" 400 invalid_grant \
	"Missing code verifier."
consent
exchange "$(code)" "$V" http://127.0.0.1:8765/other
oerr "a different redirect_uri" 400 redirect_uri_mismatch
consent
req -d "code=$(code)" -d "client_id=$CID" -d client_secret=wrong \
	--data-urlencode "redirect_uri=$REDIR" -d grant_type=authorization_code \
	-d "code_verifier=$V" "$U/token"
oerr "a wrong client secret: 401 invalid_client" 401 invalid_client \
	"Unauthorized"
exchange "4/0never-issued"
oerr "an unknown code: invalid_grant" 400 invalid_grant "Bad Request"
consent -d access_type=online
exchange "$(code)"
is "without access_type=offline: no refresh token" 200 \
	'has("access_token") and (has("refresh_token") | not)'
req -G "$U/o/oauth2/v2/auth" --data-urlencode "client_id=$CID" \
	--data-urlencode "redirect_uri=$REDIR" -d response_type=code \
	--data-urlencode "scope=$SCOPES"
sed -n 's/^Location: \(.*\)\r$/\1/p' "$T/hdrs" >"$T/loc"
req -d "code=$(code)" -d "client_id=$CID" -d "client_secret=$CSECRET" \
	--data-urlencode "redirect_uri=$REDIR" -d grant_type=authorization_code \
	"$U/token"
is "without PKCE and state: no verifier needed" 200 'has("access_token")'
consent -d code_challenge_method=plain
check_grep "auth: a challenge method other than S256 is refused" '^400$' \
	"$T/code"

# The client and the user's answer, by control.
ctl client '{"client_id":"other.apps.googleusercontent.com","client_secret":"s2"}'
check_exit "control: the client changes" 0 jq -e \
	'.ok and .client_id == "other.apps.googleusercontent.com"' "$T/ctl"
consent
check_grep "... the old client id is unknown now" '^401$' "$T/code"
consent --data-urlencode "client_id=other.apps.googleusercontent.com"
req -d "code=$(code)" -d client_id=other.apps.googleusercontent.com \
	-d client_secret=s2 --data-urlencode "redirect_uri=$REDIR" \
	-d grant_type=authorization_code -d "code_verifier=$V" "$U/token"
is "... and the new one exchanges" 200 'has("refresh_token")'
ctl client "{\"client_id\":\"$CID\",\"client_secret\":\"$CSECRET\",\"deny\":true}"
consent
check_grep "deny: the redirect carries access_denied and the state" \
	'^http://127\.0\.0\.1:8765/cb\?error=access_denied&state=st%2042$' \
	"$T/loc"
ctl client '{"deny":false}'

# Refresh and revocation.
req -d "client_id=$CID" -d "client_secret=$CSECRET" -d "refresh_token=$RT" \
	-d grant_type=refresh_token "$U/token"
is "refresh: a new access token, no refresh_token" 200 \
	'(.access_token | startswith("ya29.")) and .access_token != "'"$AT"'" and
	 (has("refresh_token") | not) and .expires_in == 3599 and .token_type == "Bearer"'
AT2=$(jq -r .access_token "$T/body")
req -d "client_id=$CID" -d client_secret=bad -d "refresh_token=$RT" \
	-d grant_type=refresh_token "$U/token"
oerr "refresh with a bad secret: 401 invalid_client" 401 invalid_client \
	"Unauthorized"
req -d "client_id=$CID" -d "client_secret=$CSECRET" -d grant_type=password \
	"$U/token"
oerr "another grant type: unsupported_grant_type" 400 unsupported_grant_type
req -d "client_id=$CID" -d "client_secret=$CSECRET" "$U/token"
oerr "no grant type: unsupported_grant_type" 400 unsupported_grant_type
curl -s "$U/_fake/google/tokens" >"$T/tok"
check_exit "tokens: one refresh counted (the bad client is not)" 0 jq -e \
	'.refreshes == 1 and .live >= 2' "$T/tok"
ctl revoke "{\"token\":\"$RT\"}"
check_exit "control: revoke one refresh token" 0 jq -e '.revoked == 1' \
	"$T/ctl"
req -d "client_id=$CID" -d "client_secret=$CSECRET" -d "refresh_token=$RT" \
	-d grant_type=refresh_token "$U/token"
oerr "a revoked refresh token: invalid_grant" 400 invalid_grant \
	"Token has been expired or revoked."
api "$AT2" -d '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z","items":[]}' \
	"$U/calendar/v3/freeBusy"
is "... its access tokens still work until they expire" 200 \
	'.kind == "calendar#freeBusy"'

# The device flow.
req -d "client_id=$CID" --data-urlencode "scope=$SCOPES" "$U/device/code"
is "device/code: Google's fields and spelling" 200 \
	'.user_code == "ABCD-EFGH" and .verification_url == "https://www.google.com/device" and
	 .expires_in == 1800 and .interval == 5 and (.device_code | type) == "string" and
	 (has("verification_uri") | not)'
req -d "client_id=$CID" --data-urlencode "scope=$S/gmail.send" "$U/device/code"
oerr "device/code: a scope other than Calendar's: invalid_scope" 400 \
	invalid_scope "Invalid device flow scope: $S/gmail.send"
req -d client_id=nobody --data-urlencode "scope=$SCOPES" "$U/device/code"
oerr "device/code: an unknown client" 401 invalid_client
ctl client '{"interval":0}'
req -d "client_id=$CID" --data-urlencode "scope=$S/calendar" "$U/device/code"
is "the interval comes from control" 200 '.interval == 0'
DC=$(jq -r .device_code "$T/body")
poll() {
	req -d "client_id=$CID" -d "client_secret=$CSECRET" \
		-d "device_code=$1" \
		-d grant_type=urn:ietf:params:oauth:grant-type:device_code \
		"$U/token"
}
poll "$DC"
oerr "device poll 1: 428 authorization_pending" 428 authorization_pending
poll "$DC"
oerr "device poll 2: 403 slow_down" 403 slow_down
poll "$DC"
is "device poll 3: the tokens" 200 \
	'has("access_token") and has("refresh_token") and .scope == "'"$S"'/calendar"'
DAT=$(jq -r .access_token "$T/body")
poll "$DC"
oerr "a device code is used once" 400 invalid_grant
poll AH-1nope
oerr "an unknown device code: invalid_grant" 400 invalid_grant
req -d "client_id=$CID" -d client_secret=bad -d "device_code=$DC" \
	-d grant_type=urn:ietf:params:oauth:grant-type:device_code "$U/token"
oerr "device poll needs the client secret" 401 invalid_client
ctl client '{"pending":3,"slow_down":0}'
req -d "client_id=$CID" --data-urlencode "scope=$SCOPES" "$U/device/code"
DC=$(jq -r .device_code "$T/body")
: >"$T/seq"
for _i in 1 2 3 4; do
	poll "$DC"
	echo "$(cat "$T/code") $(jq -r '.error // "ok"' "$T/body")" >>"$T/seq"
done
check_json "pending 3, slow_down 0: three pendings, then the tokens" \
	'["428 authorization_pending","428 authorization_pending","428 authorization_pending","200 ok"]' \
	"$(jq -R . "$T/seq" | jq -s . >"$T/seq.json"; echo "$T/seq.json")"
ctl client '{"deny":true}'
req -d "client_id=$CID" --data-urlencode "scope=$SCOPES" "$U/device/code"
poll "$(jq -r .device_code "$T/body")"
oerr "deny: access_denied" 403 access_denied
ctl client '{"deny":false,"pending":1,"slow_down":1,"interval":1}'
req -d "client_id=$CID" --data-urlencode "scope=$SCOPES" "$U/device/code"
DC=$(jq -r .device_code "$T/body")
poll "$DC"
oerr "interval 1: the first poll is pending" 428 authorization_pending
poll "$DC"
oerr "... one at once after it: slow_down" 403 slow_down
sleep 1.2
poll "$DC"
oerr "... after 1 s, still too soon (the pace grew by 5 s)" 403 slow_down
ctl client '{"interval":0,"device_expires_in":0}'
req -d "client_id=$CID" --data-urlencode "scope=$SCOPES" "$U/device/code"
poll "$(jq -r .device_code "$T/body")"
oerr "an expired device code: expired_token" 400 expired_token
ctl client '{"device_expires_in":1800}'
curl -s "$U/_fake/google/tokens" >"$T/tok"
check_exit "tokens: device codes and polls counted" 0 jq -e \
	'.device_codes == 6 and .device_polls == 14' "$T/tok"

# Bearers.
req -H 'Content-Type: application/json' \
	-d '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}' \
	"$U/calendar/v3/freeBusy"
gerr "no bearer: 401 authError" 401 authError
is "... status UNAUTHENTICATED, location Authorization" 401 \
	'.error.status == "UNAUTHENTICATED" and .error.errors[0].location == "Authorization"'
check_grep "... and WWW-Authenticate" '^WWW-Authenticate: Bearer ' "$T/hdrs"
fb ya29.bogus '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "an unknown bearer: 401 authError" 401 authError
fb "$DAT" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
is "the device flow's token works" 200 '.kind == "calendar#freeBusy"'
ctl expire "{\"token\":\"$DAT\"}"
check_exit "control: expire one access token" 0 jq -e '.expired == 1' "$T/ctl"
fb "$DAT" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "an expired token: 401 authError" 401 authError
fb "$AT2" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
is "... the others still work" 200 '.kind == "calendar#freeBusy"'
ctl expire '{"all":true}'
fb "$AT2" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "expire all: every token gets 401" 401 authError
ctl grant '{}'
check_exit "control: a grant without consent" 0 jq -e \
	'(.access_token | startswith("ya29.")) and (.refresh_token | type) == "string"' \
	"$T/ctl"
TOK=$(jq -r .access_token "$T/ctl")
GRT=$(jq -r .refresh_token "$T/ctl")
ctl grant '{"expires_in":1}'
SHORT=$(jq -r .access_token "$T/ctl")
sleep 1.1
fb "$SHORT" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "a token past its expires_in: 401" 401 authError
ctl grant "{\"scope\":\"$S/calendar.events\"}"
EVT=$(jq -r .access_token "$T/ctl")
fb "$EVT" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "calendar.events alone may not freeBusy: 403" 403 insufficientPermissions
ctl grant "{\"scope\":\"$S/calendar.readonly\"}"
RO=$(jq -r .access_token "$T/ctl")
api "$RO" -d '{"start":{"dateTime":"2025-03-11T10:00:00Z"},"end":{"dateTime":"2025-03-11T11:00:00Z"}}' \
	"$U/calendar/v3/calendars/primary/events"
gerr "calendar.readonly may not insert: 403" 403 insufficientPermissions

# freeBusy.
ctl calendar '{"id":"primary","busy":[{"start":"2025-03-11T09:00:00Z","end":"2025-03-11T10:00:00Z"},{"start":"2025-03-11T09:30:00Z","end":"2025-03-11T11:00:00Z"},{"start":"2025-03-11T05:00:00Z","end":"2025-03-11T07:30:00Z"},{"start":"2025-03-12T09:00:00Z","end":"2025-03-12T10:00:00Z"}]}'
check_exit "control: a calendar's busy list" 0 jq -e '.ok and .busy == 4' \
	"$T/ctl"
ctl calendar '{"id":"bob@example.com","busy":[{"start":"2025-03-11T14:30:00+01:00","end":"2025-03-11T15:00:00+01:00"}]}'
fb "$TOK" '{"timeMin":"2025-03-11T08:00:00+01:00","timeMax":"2025-03-11T18:00:00+01:00","items":[{"id":"primary"},{"id":"bob@example.com"},{"id":"ghost@example.com"}]}'
is "freeBusy: 200, bounds in UTC with milliseconds" 200 \
	'.kind == "calendar#freeBusy" and .timeMin == "2025-03-11T07:00:00.000Z" and
	 .timeMax == "2025-03-11T17:00:00.000Z"'
is "... busy merged and clipped to the window, in UTC" 200 \
	'.calendars.primary.busy == [{"start":"2025-03-11T07:00:00Z","end":"2025-03-11T07:30:00Z"},
	                            {"start":"2025-03-11T09:00:00Z","end":"2025-03-11T11:00:00Z"}]'
is "... another calendar, keyed by the id sent" 200 \
	'.calendars["bob@example.com"].busy == [{"start":"2025-03-11T13:30:00Z","end":"2025-03-11T14:00:00Z"}]'
is "... an unknown calendar: notFound inside the 200" 200 \
	'.calendars["ghost@example.com"] == {"errors":[{"domain":"global","reason":"notFound"}],"busy":[]}'
fb "$TOK" '{"timeMin":"2025-03-11T08:00:00+01:00","timeMax":"2025-03-11T18:00:00+01:00","timeZone":"Europe/Berlin","items":[{"id":"primary"}]}'
is "freeBusy with timeZone: busy with the zone's offset" 200 \
	'.calendars.primary.busy[1] == {"start":"2025-03-11T10:00:00+01:00","end":"2025-03-11T12:00:00+01:00"} and
	 .timeMin == "2025-03-11T07:00:00.000Z"'
fb "$TOK" '{"timeMin":"2025-03-11T08:00:00","timeMax":"2025-03-11T18:00:00Z","items":[{"id":"primary"}]}'
gerr "freeBusy: timeMin without an offset: 400 invalid" 400 invalid
fb "$TOK" '{"timeMax":"2025-03-11T18:00:00Z","items":[{"id":"primary"}]}'
gerr "freeBusy: timeMin missing: 400 invalid" 400 invalid
fb "$TOK" '{"timeMin":"2025-03-11T18:00:00Z","timeMax":"2025-03-11T18:00:00Z","items":[]}'
gerr "freeBusy: timeMax == timeMin: 400 timeRangeEmpty" 400 timeRangeEmpty
fb "$TOK" '{"timeMin":"2025-03-11T18:00:00Z","timeMax":"2025-03-11T08:00:00Z","items":[]}'
gerr "freeBusy: reversed: 400 timeRangeEmpty" 400 timeRangeEmpty
fb "$TOK" '{"timeMin":"2025-03-11T08:00:00Z","timeMax":"2025-03-11T18:00:00Z","timeZone":"Mars/Olympus","items":[]}'
gerr "freeBusy: an unknown timeZone: 400 invalid" 400 invalid
fb "$TOK" 'not json'
gerr "freeBusy: a body that is not JSON: 400 parseError" 400 parseError
ctl calendar '{"id":"primary","busy":[{"start":"2025-03-11T09:00:00","end":"2025-03-11T10:00:00Z"}]}'
check_exit "control: a busy time without an offset is refused" 0 jq -e \
	'.ok == false and (.error | test("busy\\[0\\]"))' "$T/ctl"

# events.
EV='{"summary":"Sync with Bob","description":"Agenda","start":{"dateTime":"2025-03-11T14:00:00","timeZone":"Europe/Berlin"},"end":{"dateTime":"2025-03-11T14:30:00","timeZone":"Europe/Berlin"},"attendees":[{"email":"bob@example.com"}],"location":"https://us06web.zoom.us/j/1","conferenceData":{"createRequest":{"requestId":"f3b1","conferenceSolutionKey":{"type":"hangoutsMeet"}}}}'
api "$TOK" -d "$EV" "$U/calendar/v3/calendars/primary/events?sendUpdates=all"
is "insert: 200 (not 201) with id, status, htmlLink" 200 \
	'.kind == "calendar#event" and (.id | test("^[a-v0-9]{5,}$")) and
	 .status == "confirmed" and (.htmlLink | startswith("https://www.google.com/calendar/event?eid="))'
is "... the body echoed, attendees needsAction" 200 \
	'.summary == "Sync with Bob" and .location == "https://us06web.zoom.us/j/1" and
	 .attendees == [{"email":"bob@example.com","responseStatus":"needsAction"}]'
is "... start and end with the zone's offset" 200 \
	'.start == {"dateTime":"2025-03-11T14:00:00+01:00","timeZone":"Europe/Berlin"} and
	 .end.dateTime == "2025-03-11T14:30:00+01:00"'
is "... conferenceData ignored without conferenceDataVersion=1" 200 \
	'(has("conferenceData") | not) and (has("hangoutLink") | not)'
E1=$(jq -r .id "$T/body")
api "$TOK" -d "$EV" "$U/calendar/v3/calendars/primary/events?conferenceDataVersion=1&sendUpdates=none"
is "conferenceDataVersion=1: a Meet link, status success" 200 \
	'(.hangoutLink | startswith("https://meet.google.com/")) and
	 .conferenceData.createRequest.status.statusCode == "success" and
	 .conferenceData.entryPoints[0].uri == .hangoutLink'
E2=$(jq -r .id "$T/body")
fb "$TOK" '{"timeMin":"2025-03-11T12:00:00Z","timeMax":"2025-03-11T14:00:00Z","items":[{"id":"primary"}]}'
is "inserted events are busy in freeBusy" 200 \
	'.calendars.primary.busy == [{"start":"2025-03-11T13:00:00Z","end":"2025-03-11T13:30:00Z"}]'
api "$TOK" -d '{"start":{"dateTime":"2025-03-11T10:00:00"},"end":{"dateTime":"2025-03-11T11:00:00","timeZone":"UTC"}}' \
	"$U/calendar/v3/calendars/primary/events"
gerr "insert: a dateTime without offset or timeZone: 400 required" 400 required
is "... 'Missing time zone definition for start time.'" 400 \
	'.error.message == "Missing time zone definition for start time."'
api "$TOK" -d '{"start":{"dateTime":"2025-03-11T10:00:00Z"},"end":{"dateTime":"2025-03-11T11:00:00"}}' \
	"$U/calendar/v3/calendars/primary/events"
is "... the same for the end" 400 \
	'.error.message == "Missing time zone definition for end time."'
api "$TOK" -d '{"start":{"dateTime":"2025-03-11T10:00:00+07:00"},"end":{"dateTime":"2025-03-11T04:00:00Z"}}' \
	"$U/calendar/v3/calendars/primary/events"
is "insert: an offset needs no timeZone (answered in UTC)" 200 \
	'.start == {"dateTime":"2025-03-11T03:00:00Z"}'
api "$TOK" -d '{"start":{"dateTime":"2025-03-11T10:00:00Z"},"end":{"dateTime":"2025-03-11T11:00:00Z"}}' \
	"$U/calendar/v3/calendars/ghost@example.com/events"
gerr "insert into an unknown calendar: 404 notFound" 404 notFound
api "$TOK" -d '[]' "$U/calendar/v3/calendars/primary/events"
gerr "insert: a body that is not an object: 400 parseError" 400 parseError
api "$TOK" -d '{"id":"booking0042","start":{"dateTime":"2025-03-13T10:00:00Z"},"end":{"dateTime":"2025-03-13T11:00:00Z"},"transparency":"transparent"}' \
	"$U/calendar/v3/calendars/primary/events"
is "insert: a chosen id is kept" 200 '.id == "booking0042"'
api "$TOK" -d '{"id":"booking0042","start":{"dateTime":"2025-03-13T10:00:00Z"},"end":{"dateTime":"2025-03-13T11:00:00Z"}}' \
	"$U/calendar/v3/calendars/primary/events"
gerr "... and a second insert with it: 409 duplicate" 409 duplicate
fb "$TOK" '{"timeMin":"2025-03-13T00:00:00Z","timeMax":"2025-03-14T00:00:00Z","items":[{"id":"primary"}]}'
is "a transparent event is not busy" 200 '.calendars.primary.busy == []'
api "$TOK" -X DELETE "$U/calendar/v3/calendars/primary/events/$E1"
check_grep "delete: 204" '^204$' "$T/code"
check_exit "... with an empty body" 0 test ! -s "$T/body"
api "$TOK" -X DELETE "$U/calendar/v3/calendars/primary/events/$E1"
gerr "delete again: 410 deleted" 410 deleted
api "$TOK" -X DELETE "$U/calendar/v3/calendars/primary/events/nosuchevent"
gerr "delete an unknown event: 404 notFound" 404 notFound
api "$TOK" "$U/calendar/v3/calendars/primary/events/$E1"
is "get a deleted event: status cancelled" 200 '.status == "cancelled"'
api "$TOK" -X DELETE "$U/calendar/v3/calendars/primary/events/$E2"
fb "$TOK" '{"timeMin":"2025-03-11T12:00:00Z","timeMax":"2025-03-11T14:00:00Z","items":[{"id":"primary"}]}'
is "deleted events are free again" 200 '.calendars.primary.busy == []'
curl -s "$U/_fake/google/events" >"$T/events"
check_exit "/events: every event, its calendar, deleted ones flagged" 0 jq -se \
	--arg e1 "$E1" --arg e2 "$E2" \
	'length == 4 and (map(select(.deleted)) | map(.id) | sort) == ([$e1, $e2] | sort) and
	 all(.[]; .calendar == "primary") and
	 (.[0] | .attendees[0].email == "bob@example.com" and .send_updates == "all")' \
	"$T/events"
ctl calendar '{"id":"primary","delete":true}'
fb "$TOK" '{"timeMin":"2025-03-11T12:00:00Z","timeMax":"2025-03-11T14:00:00Z","items":[{"id":"primary"}]}'
is "control: a deleted calendar is notFound" 200 \
	'.calendars.primary.errors[0].reason == "notFound"'

# /revoke takes the access tokens of the grant along.
req -d "client_id=$CID" -d "client_secret=$CSECRET" -d "refresh_token=$GRT" \
	-d grant_type=refresh_token "$U/token"
GAT=$(jq -r .access_token "$T/body")
req -d "token=$GRT" "$U/revoke"
check_grep "/revoke: 200" '^200$' "$T/code"
fb "$GAT" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "... its access tokens are dead" 401 authError
req -d "token=$GRT" "$U/revoke"
oerr "/revoke twice: invalid_token" 400 invalid_token
ctl grant '{}'
TOK=$(jq -r .access_token "$T/ctl")

# Rules answer before the module, or shape its answer.
printf '%s\n' \
	'{"path":"/calendar/v3/freeBusy","times":1,"status":503,"body":{"error":{"code":503,"message":"Backend Error","errors":[{"domain":"global","reason":"backendError","message":"Backend Error"}]}}}' \
	'{"path":"/token","times":1,"headers":{"X-Fake":"shaped"}}' |
	curl -s --data-binary @- "$U/_fake/rules" >/dev/null
fb "$TOK" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "a rule answers instead of the module (503)" 503 backendError
fb "$TOK" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
is "... then the module again" 200 '.kind == "calendar#freeBusy"'
ctl grant '{}'
req -d "client_id=$CID" -d "client_secret=$CSECRET" \
	-d "refresh_token=$(jq -r .refresh_token "$T/ctl")" \
	-d grant_type=refresh_token "$U/token"
is "a shaping rule leaves the module's answer" 200 'has("access_token")'
check_grep "... and adds its header" '^X-Fake: shaped' "$T/hdrs"
check_exit "the log has the API calls, not the control ones" 0 jq -se \
	'any(.[]; .path == "/calendar/v3/freeBusy") and
	 all(.[]; .path | startswith("/_fake") | not)' "$FAKE_LOG"

# Reset.
curl -s -X POST "$U/_fake/reset" >/dev/null
fb "$TOK" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z"}'
gerr "reset forgets the tokens" 401 authError
curl -s "$U/_fake/google/events" >"$T/events"
check_exit "... and the events" 0 test ! -s "$T/events"
curl -s "$U/_fake/google/tokens" >"$T/tok"
check_exit "... and the counts" 0 jq -e \
	'.refreshes == 0 and .exchanges == 0 and .issued == 0' "$T/tok"
ctl grant '{}'
TOK=$(jq -r .access_token "$T/ctl")
fb "$TOK" '{"timeMin":"2025-03-11T00:00:00Z","timeMax":"2025-03-12T00:00:00Z","items":[{"id":"primary"}]}'
is "... primary exists again, free" 200 '.calendars.primary == {"busy":[]}'
curl -s "$U/_fake/google/client" >"$T/ctl"
check_exit "... and the client is the default one" 0 jq -e \
	".client_id == \"$CID\" and .interval == 5 and .pending == 1 and (.deny | not)" \
	"$T/ctl"

kill -TERM "$MAIN_PID"
st=0
wait "$MAIN_PID" || st=$?
check_exit "SIGTERM: exit 0" 0 test "$st" -eq 0
check_exit "... with nothing on stderr (no leak reports)" 0 test ! -s "$MAIN_ERR"
_show "$MAIN_ERR" "fake-api stderr"

done_testing
