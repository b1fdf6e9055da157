#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox escape probes, processes (issue 4 groups 6-10, 17): what /proc
# shows of the host, kill(-1) from inside, ptrace and process_vm_readv of a
# host process, of the sandbox's init, of corral itself and of a sibling
# run, TIOCSTI on an inherited terminal, new and foreign namespaces, and a
# double-forked daemon that must die with its run. As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

WATCH=()
HOST_PIDNS=$(readlink /proc/self/ns/pid)
[ -n "$HOST_PIDNS" ] || fail "cannot read the host's pid namespace"

# 6: host pids, environ, /proc/sys.
proc_view() {
  local tok=host-$$-$SBX_ID secret=secret-$$-$SBX_ID host_procs
  host_sleeper "$tok" CORRAL_PROBE_SECRET="$secret"
  expect_pair "a host pid in /proc" proc-pid "$SLEEPER" "$tok"
  expect_pair "a host process's environ" proc-environ "$SLEEPER" "$secret"
  host_procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  if [ "$host_procs" -ge 20 ]; then
    expect_pair "the host's processes in /proc" proc-count $((host_procs / 2))
  else
    note "only $host_procs processes on this host: /proc count not probed"
  fi
  # The host's init, where this host lets root see it (pid 1 may hold
  # capabilities root lacks here).
  if [ -n "$(readlink /proc/1/exe)" ]; then
    expect_pair_root "the host's init in /proc/1" proc-exe 1 \
      "$(readlink /proc/1/exe)"
  fi
  # The sandbox's own init is forked from corral, whose environment holds
  # the secret: it must not be readable from inside.
  SBX_ENV=(CORRAL_PROBE_SECRET="$secret")
  expect_blocked "the sandbox init's environ" proc-environ 1 "$secret"
  SBX_ENV=()
  expect_pair_root "write vm.overcommit_ratio" proc-sys-write \
    /proc/sys/vm/overcommit_ratio
  expect_pair_root "write kernel.printk_ratelimit" proc-sys-write \
    /proc/sys/kernel/printk_ratelimit
  expect_pair_root "write kernel.core_pattern" proc-sys-write \
    /proc/sys/kernel/core_pattern
  if [ -e /proc/kcore ]; then
    expect_pair_root "read /proc/kcore" read-secret /proc/kcore
  else
    expect_blocked "read /proc/kcore (absent on this host)" read-secret \
      /proc/kcore
  fi
  stop "$SLEEPER"
}

# sibling_run TOKEN: starts `corral sandbox -- probe sleep TOKEN 600` in the
# background; sets SIB to the sleeping probe's pid, as the host numbers it,
# and SIB_JOB to the background job.
sibling_run() {
  SBX_LIMIT=600 box_cmd "$PROBE" sleep "$1" 600
  (cd "$WORK" && exec "${BOX[@]}") </dev/null >"$D/sibling.out" 2>&1 &
  SIB_JOB=$!
  SIB=
  wait_for "SIB=\$(sibling_pid '$1'); [ -n \"\$SIB\" ]" 15
  # Killing the probe ends the sibling run: its init exits, then corral.
  track_pid "$SIB"
}

# sibling_pid TOKEN: the pid whose command line starts with the probe.
sibling_pid() {
  local p
  for p in $(pids_with "$1"); do
    [ "$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | head -1)" = \
      "$PROBE" ] && printf '%s\n' "$p"
  done
  return 0
}

# 7: kill(-1, SIGKILL) inside reaches its own child only: a host process
# and a sibling run of the same user survive.
kill_all() {
  local tok=victim-$$-$SBX_ID
  host_sleeper "$tok"
  sibling_run "sibling-$$-$SBX_ID"
  # The probe refuses to run kill(-1) in the host's pid namespace (where it
  # would kill every process of the user), should the sandbox not make one.
  expect_blocked "kill(-1, SIGKILL)" kill-all "$SLEEPER" "$HOST_PIDNS"
  assert_match "$OUT" "*own child: killed*" "kill(-1) inside reached its own child"
  alive "$SLEEPER" || fail "kill(-1) inside killed host pid $SLEEPER"
  ok "host process $SLEEPER survived kill(-1)"
  alive "$SIB" || fail "kill(-1) inside killed the sibling run's pid $SIB"
  ok "sibling run $SIB survived kill(-1)"
  stop "$SLEEPER" "$SIB" "$SIB_JOB"
}

# 8: ptrace and process_vm_readv of a host process, a sibling run, the
# sandbox's init and the corral that started the probe.
trace() {
  local tok=traced-$$-$SBX_ID what
  host_sleeper "$tok"
  sibling_run "sibling-$$-$SBX_ID"
  for what in ptrace vm-read; do
    expect_pair "$what of a host process" "$what" "$SLEEPER"
    expect_pair "$what of a sibling run" "$what" "$SIB"
    expect_blocked "$what of the sandbox's init" "$what" 1
    # bash execs corral, so $$ there is corral's pid.
    (cd "$WORK" && timeout "$SBX_LIMIT" env HOME="$FAKEHOME" \
      bash -c 'exec "$@" "$$"' _ "${AS[@]+"${AS[@]}"}" "$CORRAL" sandbox \
      --profile agent --dir "$WORK" -- "$PROBE" "$what") \
      >"$D/out" 2>&1 </dev/null
    RC=$?
    OUT=$(cat "$D/out")
    if [ "$RC" -ne 1 ] || ! grep -q "^$what: blocked:" <<<"$OUT"; then
      fail "$what of corral itself: want blocked, got $RC: $OUT"
    fi
    ok "$what of corral itself: $(grep -m1 ': blocked:' <<<"$OUT")"
  done
  stop "$SLEEPER" "$SIB" "$SIB_JOB"
}

# 9: TIOCSTI on the terminal corral was started on. pty-run.py reports
# what is left in the terminal's input queue.
tiocsti() {
  (cd "$WORK" && timeout 60 python3 "$SBX_DIR/pty-run.py" \
    "${AS[@]+"${AS[@]}"}" "$PROBE" tiocsti) >"$D/out" 2>&1 </dev/null
  RC=$?
  OUT=$(tr -d '\r' <"$D/out")
  if [ "$RC" -ne 0 ] || ! grep -q "pending-input: .*corral-tiocsti" <<<"$OUT"; then
    fail "TIOCSTI: unsandboxed, the probe did not inject (exit $RC): $OUT"
  fi
  ok "TIOCSTI: unsandboxed: injected"
  box_cmd "$PROBE" tiocsti
  (cd "$WORK" && timeout 60 python3 "$SBX_DIR/pty-run.py" "${BOX[@]}") \
    >"$D/out" 2>&1 </dev/null
  RC=$?
  OUT=$(tr -d '\r' <"$D/out")
  if [ "$RC" -ne 1 ] || ! grep -q "^tiocsti: blocked:" <<<"$OUT"; then
    fail "TIOCSTI: sandboxed, want blocked (exit 1), got $RC: $OUT"
  fi
  assert_eq "$(grep '^pending-input:' <<<"$OUT")" "pending-input: none" \
    "TIOCSTI: sandboxed: the terminal's input queue"
}

# 10: a new user namespace; joining a host one by path or inherited fd.
namespaces() {
  local tok=userns-$$-$SBX_ID holder
  expect_pair "a new user namespace" userns
  "${AS[@]+"${AS[@]}"}" unshare -U "$PROBE" sleep "$tok" 600 \
    </dev/null >/dev/null 2>&1 &
  holder=$!
  track_pid "$holder"
  wait_for "grep -q '$tok' /proc/$holder/cmdline 2>/dev/null" 10
  expect_pair "setns into a host user namespace" setns \
    "/proc/$holder/ns/user"
  exec 8<"/proc/$holder/ns/user" 9</proc/self/ns/net
  SBX_OPTS=(--keep-fd 8 --keep-fd 9)
  expect_blocked "setns into an inherited user namespace fd" setns fd:8
  expect_blocked "setns into the host's network namespace fd" setns fd:9
  SBX_OPTS=()
  expect_escape "setns into an inherited user namespace fd" setns fd:8
  exec 8<&- 9<&-
  stop "$holder"
}

# zombies: processes of this test's probe copy that are zombies.
zombies() {
  local f
  for f in /proc/[0-9]*/stat; do
    grep -s "^[0-9]* (sbxp-$$) Z" "$f"
  done
  return 0
}

# 17: a double-forked setsid daemon dies with its run, leaving no zombie.
daemon() {
  local tok=daemon-$$-$SBX_ID
  probe_box daemon "$WORK/daemon.pid" "$tok"
  [ "$RC" -eq 0 ] || fail "daemon: sandboxed, the probe did not start it (exit $RC): $OUT"
  [ -s "$WORK/daemon.pid" ] || fail "daemon: no pid file written inside"
  wait_for "[ -z \"\$(pids_with '$tok')\" ]" 10
  ok "daemon: died with its run"
  assert_eq "$(zombies)" "" "daemon: zombies left"
  probe_free daemon "$WORK/daemon.pid" "$tok"
  wait_for "[ -n \"\$(pids_with '$tok')\" ]" 10
  # shellcheck disable=SC2046
  track_pid $(pids_with "$tok")
  ok "daemon: unsandboxed, it outlives the probe"
  # shellcheck disable=SC2046
  stop $(pids_with "$tok")
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  proc_view
  kill_all
  trace
  tiocsti
  namespaces
  daemon
done
