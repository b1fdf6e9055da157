#!/bin/bash
# A run ends when its agent exits even if a descendant still holds the
# agent's stdout: the holder is killed, the task completes at once.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

mission "$TMP/m.yaml" <<EOF2
mission: holder
tickets:
  - id: T
    tasks:
      - id: parent
        timeout: 30s
        command: ["$FA", hold-stdout, "100000", "$TMP/holder", print, done, exit, "0"]
EOF2
start=$SECONDS
corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 0 "exit status"
((SECONDS - start < 20)) || fail "corral took $((SECONDS - start)) s"
show_json
assert_eq "$(task_field parent state)" completed "state"
assert_eq "$(task_field parent reason)" "exit 0" "reason"
[ -s "$TMP/holder" ] || fail "the stdout holder did not start"
assert_no_agents "agent and stdout holder"
