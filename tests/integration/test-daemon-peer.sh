#!/bin/bash
# Peer credentials: a client of another uid is refused with 401
# UNAUTHORIZED even when the file mode would let it connect; with --group
# a member of that group is served. Root only (it needs a second uid).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run a client as nobody"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
  skip "no nobody user or nogroup group"

# as_nobody CURL_ARGS...: curl as nobody:nogroup; prints body then status.
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    curl -s --max-time 10 -w '\n%{http_code}' --unix-socket "$SOCK" "$@"
}

daemon_start
assert_eq "$(stat -c %a "$SOCK")" 600 "mode of the socket"
out=$(as_nobody http://corral/v1/health)
assert_eq "$(tail -n1 <<<"$out")" 000 "nobody cannot even connect to a 0600 socket"
# Open the file mode wide so that only the peer check stands in the way.
chmod 0711 "$TMP"
chmod 0666 "$SOCK"
out=$(as_nobody http://corral/v1/health)
assert_eq "$(tail -n1 <<<"$out")" 401 "status for nobody"
assert_eq "$(head -n1 <<<"$out" | jq -r .error.code)" UNAUTHORIZED "code for nobody"
out=$(as_nobody -X POST --data-binary 'mission: x' http://corral/v1/missions)
assert_eq "$(tail -n1 <<<"$out")" 401 "a POST by nobody"
expect_api 200 - GET /v1/health
expect_api 200 - GET /v1/stats
assert_eq "$(jbody .missions_running)" 0 "nothing was submitted by nobody"
daemon_stop

# --group nogroup: nobody (primary group nogroup) is served.
daemon_start --group nogroup
chmod 0666 "$SOCK"
out=$(as_nobody http://corral/v1/health)
assert_eq "$(tail -n1 <<<"$out")" 200 "status for nobody with --group nogroup"
# The same uid in another group (its gid a number no group has) is not.
out=$(setpriv --reuid=nobody --regid=54321 --clear-groups \
  curl -s --max-time 10 -w '\n%{http_code}' --unix-socket "$SOCK" http://corral/v1/health)
assert_eq "$(tail -n1 <<<"$out")" 401 "status for nobody outside the group"
daemon_stop
