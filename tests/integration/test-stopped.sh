#!/bin/bash
# An agent stopped by SIGSTOP still ends at its timeout: the stop signal is
# followed by SIGCONT, or SIGKILL after the grace period.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

mission "$TMP/m.yaml" <<EOF2
mission: stopped
tickets:
  - id: T
    tasks:
      - id: frozen
        timeout: 500ms
        grace: 5s
        command: ["$FA", pidfile, "$TMP/pid", stop-self, sleep, "100000"]
EOF2
corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 4 "exit status"
show_json
assert_eq "$(task_field frozen state)" failed "state"
assert_match "$(task_field frozen reason)" "timeout*" "reason"
# SIGCONT follows SIGTERM, so the stopped agent dies of the SIGTERM well
# before the 5s grace would have it killed.
assert_eq "$(task_field frozen reason)" timeout "reason (no SIGKILL needed)"
[ -s "$TMP/pid" ] || fail "the agent did not start"
assert_no_agents "agent"
