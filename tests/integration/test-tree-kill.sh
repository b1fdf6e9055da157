#!/bin/bash
# Killing a run kills its whole tree: what an agent leaves behind when it
# exits (a forked child, a setsid grandchild) is gone once corral exits, and
# a timeout stops the agent and both descendants.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

note "descendants left behind by an agent that exits 0"
mission "$TMP/end.yaml" <<EOF2
mission: treeend
tickets:
  - id: T
    tasks:
      - id: leaver
        command: ["$FA", setsid-sleep, "100000", "$TMP/e1", fork-sleep, "100000", "$TMP/e2", exit, "0"]
EOF2
corral_run "$TMP/end.yaml" >"$TMP/end.out" 2>&1
assert_eq "$?" 0 "exit status"
show_json treeend
assert_eq "$(task_field leaver state)" completed "state of leaver"
p1=$(read_pid "$TMP/e1")
p2=$(read_pid "$TMP/e2")
assert_gone "$p1" "setsid grandchild"
assert_gone "$p2" "forked child"

note "whole tree stopped by a timeout"
mission "$TMP/stop.yaml" <<EOF2
mission: treestop
tickets:
  - id: T
    tasks:
      - id: sleeper
        timeout: 1s
        grace: 500ms
        command: ["$FA", pidfile, "$TMP/agent", setsid-sleep, "100000", "$TMP/s1", fork-sleep, "100000", "$TMP/s2", sleep, "100000"]
EOF2
corral_run "$TMP/stop.yaml" >"$TMP/stop.out" 2>&1
assert_eq "$?" 4 "exit status"
show_json treestop
assert_eq "$(task_field sleeper state)" failed "state of sleeper"
assert_match "$(task_field sleeper reason)" "timeout*" "reason"
for f in agent s1 s2; do
  assert_gone "$(read_pid "$TMP/$f")" "process of $f"
done
