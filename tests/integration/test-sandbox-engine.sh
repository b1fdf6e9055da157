#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The escape probes through `corral run`: every task runs under the agent
# profile unless its mission says otherwise, so a mission of probe tasks
# (no sandbox named) must see each one blocked, the int 0x80 one killed,
# its daemon gone when the task ends, and the host unchanged; one task
# writing inside its workdir completes, so the tasks do run. As root and as
# nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

# task ID ARGS...: one ticket with one probe task.
task() {
  local id=$1 a args=""
  shift
  for a in "$PROBE" "$@"; do args+="\"$a\", "; done
  printf '  - id: %s\n    tasks:\n      - { id: %s, command: [%s] }\n' \
    "T-$id" "$id" "${args%, }"
}

write_mission() {
  local host_procs
  host_procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  {
    printf 'mission: probes\nworkdir: "%s"\n' "$WORK"
    printf 'defaults: { timeout: 60s, retries: { max: 0 } }\ntickets:\n'
    task inside write-abs "$WORK/inside.txt"
    task outside write-abs "$OUTSIDE/victim.txt"
    task home write-home-bashrc "$FAKEHOME/.bashrc"
    task secret env-has CORRAL_PROBE_SECRET
    task initenv proc-environ 1 "$SECRET"
    task procs proc-count $((host_procs / 2))
    task loopback net-connect 127.0.0.1 "$PORT"
    task netlink netlink
    task userns userns
    task mount syscalls "$WORK" mount
    task int80 int80
    task daemon daemon "$WORK/daemon.pid" "$TOKEN"
  } >"$WORK/m.yaml"
}

engine_run() {
  local want
  SECRET=secret-$$-$SBX_ID TOKEN=daemon-$$-$SBX_ID
  echo original >"$OUTSIDE/victim.txt"
  echo original >"$FAKEHOME/.bashrc"
  mkdir -p "$D/net"
  python3 "$SBX_DIR/listen.py" "$D/net" tcp:127.0.0.1 </dev/null \
    >"$D/net/log" 2>&1 &
  LISTENER=$!
  track_pid "$LISTENER"
  wait_for "[ -e '$D/net/ready' ]" 15
  PORT=$(awk '{ print $3 }' "$D/net/ports")
  write_mission
  sbx_own "$D"
  WATCH=("$OUTSIDE/victim.txt" "$FAKEHOME/.bashrc" "$D/net/hits")
  want=$(fingerprint "${WATCH[@]}")
  (cd "$WORK" && env HOME="$FAKEHOME" CORRAL_PROBE_SECRET="$SECRET" \
    timeout 120 "${AS[@]+"${AS[@]}"}" "$CORRAL" run --state-dir "$D/state" \
    "$WORK/m.yaml") >"$D/run.out" 2>&1 </dev/null
  assert_eq "$?" 1 "corral run exit status (tasks failed)"
  assert_same "$want" "$(fingerprint "${WATCH[@]}")" "corral run"
  STATE=$D/state show_json probes
}

check_tasks() {
  local t
  assert_eq "$(task_field inside state)" completed "inside: state"
  [ -s "$WORK/inside.txt" ] || fail "inside: nothing written in the workdir"
  for t in outside home secret initenv procs loopback netlink userns mount; do
    assert_eq "$(task_field "$t" state):$(task_field "$t" reason)" \
      "failed:exit 1" "$t: state and reason"
    STATE=$D/state corral_cmd logs "$t" >"$D/log" 2>&1
    grep -q ": blocked:" "$D/log" || fail "$t: no verdict in its log: $(cat "$D/log")"
    ok "$t: $(grep -m1 ': blocked:' "$D/log")"
  done
  assert_eq "$(task_field int80 reason)" "signal 31 (Bad system call)" \
    "int80: killed by SIGSYS"
  assert_eq "$(task_field daemon state)" completed "daemon: started"
  wait_for "[ -z \"\$(pids_with '$TOKEN')\" ]" 10
  ok "daemon: gone with its task"
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  engine_run
  check_tasks
  stop "$LISTENER"
done
