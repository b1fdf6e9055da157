#!/bin/bash
# Killing a run kills its whole tree: what an agent leaves behind when it
# exits (a forked child, a setsid grandchild) is gone once corral exits, and
# a timeout stops the agent and both descendants. The descendants are looked
# for on the host by the fake agent's argv (fa_pids), which they share with
# it, so a sandboxed tree is checked as well as a plain one.
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
for f in e1 e2; do
  [ -s "$TMP/$f" ] || fail "descendant $f did not start"
done
assert_no_agents "agent, forked child and setsid grandchild after exit 0"

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
  [ -s "$TMP/$f" ] || fail "process of $f did not start"
done
assert_no_agents "agent, forked child and setsid grandchild after the timeout"
