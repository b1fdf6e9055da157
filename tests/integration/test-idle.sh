#!/bin/bash
# idle_timeout stops an agent that prints nothing for that long, and leaves
# alone one that keeps printing past it.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

mission "$TMP/idle.yaml" <<EOF2
mission: idle
tickets:
  - id: T
    tasks:
      - id: quiet
        idle_timeout: 500ms
        grace: 300ms
        command: ["$FA", pidfile, "$TMP/pid", print, hi, sleep, "100000"]
EOF2
corral_run "$TMP/idle.yaml" >"$TMP/idle.out" 2>&1
assert_eq "$?" 4 "exit status of the idle task"
show_json idle
assert_eq "$(task_field quiet state)" failed "state of quiet"
assert_eq "$(task_field quiet reason)" idle "reason of quiet"
[ -s "$TMP/pid" ] || fail "the idle agent did not start"
assert_no_agents "idle agent"

{
  for i in $(seq 1 15); do printf 'print tick %d\nsleep 100\n' "$i"; done
} >"$TMP/chatty.script"
mission "$TMP/busy.yaml" <<EOF2
mission: busy
tickets:
  - id: T
    tasks:
      - id: chatty
        idle_timeout: 600ms
        command: ["$FA", --script, "$TMP/chatty.script"]
EOF2
corral_run "$TMP/busy.yaml" >"$TMP/busy.out" 2>&1
assert_eq "$?" 0 "exit status of the chatty task"
show_json busy
assert_eq "$(task_field chatty state)" completed "state of chatty"
assert_eq "$(task_field chatty attempts)" 1 "attempts of chatty"
