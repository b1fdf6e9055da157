#!/bin/bash
# An agent inherits neither the caller's open fds nor its ignored or blocked
# signals: corral starts here with fds 7 and 8 open and SIGHUP ignored.
. "$(dirname "$0")/lib.sh"

mission "$TMP/m.yaml" <<EOF2
mission: fdsig
tickets:
  - id: T
    tasks:
      - id: probe
        command: ["$FA", fds, sigmask]
EOF2
(
  exec 7</dev/null 8>/dev/null
  trap '' HUP
  corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
)
assert_eq "$?" 0 "exit status"
corral_cmd logs probe >"$TMP/log"
note "agent says: $(tr '\n' ';' <"$TMP/log")"
assert_eq "$(grep '^fds:' "$TMP/log")" "fds: 0 1 2" "open fds of the agent"
assert_eq "$(sed -n 's/^sigblk: //p' "$TMP/log")" 0000000000000000 "blocked signals of the agent"
assert_eq "$(sed -n 's/^sigign: //p' "$TMP/log")" 0000000000000000 "ignored signals of the agent"
