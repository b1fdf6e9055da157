#!/bin/bash
# SIGINT cancels a mission: running agents are stopped, their tasks end
# cancelled, corral exits 5. A second SIGINT kills agents that ignore
# SIGTERM without waiting for their grace period.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=90

# long_mission NAME EXTRA-OPS GRACE: two long tasks in two tickets.
long_mission() {
  {
    echo "mission: $1"
    echo "defaults: { sandbox: $SANDBOX }"
    echo "tickets:"
    for i in 1 2; do
      cat <<EOF2
  - id: T$i
    tasks:
      - id: long$i
        grace: $3
        command: ["$FA", $2 pidfile, "$TMP/$1.p$i", sleep, "100000"]
EOF2
    done
  } >"$TMP/$1.yaml"
}

# start_engine NAME: runs the mission in the background, waits for both
# agents; sets $engine (corral itself, not the timeout above it) and $bg.
start_engine() {
  corral_run --jobs 2 "$TMP/$1.yaml" >"$TMP/$1.out" 2>"$TMP/$1.err" &
  bg=$!
  track_pid "$bg"
  wait_for "[ -s '$TMP/$1.p1' ] && [ -s '$TMP/$1.p2' ]"
  engine=$(corral_pid "$bg")
  [ -n "$engine" ] || fail "no corral process under $bg"
  track_pid "$engine"
}

note "one SIGINT"
long_mission graceful "" 5s
start_engine graceful
kill -INT "$engine"
wait "$bg"
assert_eq "$?" 5 "exit status after SIGINT"
show_json graceful
for i in 1 2; do
  assert_eq "$(task_field long$i state)" cancelled "state of long$i"
done
assert_no_agents "agents of long1 and long2"

note "two SIGINTs, agents ignoring SIGTERM with a 60s grace"
long_mission stubborn "ignore-term," 60s
start_engine stubborn
t0=$SECONDS
kill -INT "$engine"
wait_for "grep -q cancelling '$TMP/stubborn.err'" 10
ok "corral says: $(grep cancelling "$TMP/stubborn.err")"
for i in 1 2; do
  fa_alive "$TMP/stubborn.p$i" || fail "agent of long$i died of the first SIGINT despite ignoring SIGTERM"
done
ok "both agents outlived the first SIGINT"
kill -INT "$engine"
wait "$bg"
rc=$?
took=$((SECONDS - t0))
assert_eq "$rc" 5 "exit status after two SIGINTs"
((took < 20)) || fail "corral took ${took}s to exit after the second SIGINT"
ok "corral exited ${took}s after the first SIGINT"
show_json stubborn
for i in 1 2; do
  assert_eq "$(task_field long$i state)" cancelled "state of long$i"
done
assert_no_agents "agents of long1 and long2"
