#!/bin/bash
# An agent that ignores SIGTERM is killed with SIGKILL once the grace period
# after the timeout runs out.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

mission "$TMP/m.yaml" <<EOF2
mission: ignoreterm
tickets:
  - id: T
    tasks:
      - id: stubborn
        timeout: 500ms
        grace: 300ms
        command: ["$FA", ignore-term, pidfile, "$TMP/pid", sleep, "100000"]
EOF2
start=$(date +%s%N)
corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
assert_eq "$rc" 4 "exit status"
note "corral took ${took} ms"
show_json
assert_eq "$(task_field stubborn reason)" "timeout, killed after grace" "reason"
[ -s "$TMP/pid" ] || fail "the agent did not start"
assert_no_agents "agent"
((took < 10000)) || fail "corral took ${took} ms for a 500ms timeout + 300ms grace"
ok "corral exited in ${took} ms"
