#!/bin/bash
# A task that fails at once is restarted until the intensity limit (4
# failures within a minute) stops it, long before its 50 retries run out.
. "$(dirname "$0")/lib.sh"

mission "$TMP/m.yaml" <<EOF2
mission: crashloop
tickets:
  - id: T
    tasks:
      - id: crash
        command: ["$FA", count, "$TMP/count", exit, "1"]
        retries: { max: 50, backoff: 10ms, intensity: { failures: 4, within: 1m } }
EOF2
corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 1 "exit status"
assert_eq "$(wc -l <"$TMP/count")" 4 "starts recorded in the count file"
show_json
assert_eq "$(task_field crash attempts)" 4 "attempts"
assert_eq "$(task_field crash state)" failed "state"
assert_eq "$(task_field crash reason)" "exit 1" "reason"
