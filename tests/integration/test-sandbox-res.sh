#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox escape probes, environment and resources (issue 4 groups 15, 16):
# secrets in corral's environment do not reach the command; a fork bomb, a
# memory hog, tmpfs fills and fd exhaustion each hit a limit of their own
# run, and leave nothing behind. The resource probes are destructive on the
# host, so they run sandboxed only. As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

WATCH=()
SECRETS=(SSH_AUTH_SOCK AWS_SECRET_ACCESS_KEY GITHUB_TOKEN GH_TOKEN NPM_TOKEN
  DBUS_SESSION_BUS_ADDRESS LD_LIBRARY_PATH CORRAL_PROBE_SECRET)
GIB=1024
# The agent profile's defaults (sandbox/limits.c, sandbox/profile.c).
TMP_MIB=$GIB
PIDS=4096
NOFILE_MIN=4096

environment() {
  local v
  SBX_ENV=()
  for v in "${SECRETS[@]}"; do
    SBX_ENV+=("$v=/corral-probe-$v")
  done
  for v in "${SECRETS[@]}"; do
    expect_pair "\$$v scrubbed" env-has "$v"
  done
  SBX_ENV=()
}

# probe_procs: how many processes run this test's probe copy.
probe_procs() {
  grep -l "^[0-9]* (sbxp-$$) " /proc/[0-9]*/stat 2>/dev/null | wc -l
}

# Whether corral's runs get a cgroup v2 controller (pids, memory) on this
# host. Without one, root's fork bomb (RLIMIT_NPROC does not bind uid 0) and
# any memory hog cannot be contained: an open gap of the sandbox issue,
# reported here, not hidden.
has_controller() {
  "$CORRAL" doctor --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["controllers"])' |
    grep -qw "$1"
}

fork_bomb() {
  local n
  if [ "$SBX_UID" -eq 0 ] && ! has_controller pids; then
    note "OPEN GAP: fork bomb as root not contained: no pids controller here"
    return 0
  fi
  expect_blocked "fork bomb" fork-bomb $((PIDS * 2))
  n=$(sed -n 's/.*fork failed after \([0-9]*\) processes.*/\1/p' <<<"$OUT")
  if [ -z "$n" ] || [ "$n" -gt "$PIDS" ]; then
    fail "fork bomb: want at most $PIDS processes, got [$n]: $OUT"
  fi
  ok "fork bomb: stopped at $n processes (limit $PIDS)"
  wait_for "[ \"\$(probe_procs)\" -eq 0 ]" 10
  ok "fork bomb: no process left"
}

# The default memory limit is max(4 GiB, half the RAM); the hog asks for
# 512 MiB more, and needs that much free to run without hurting the host.
mem_hog() {
  local total avail want
  total=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
  want=$((total / 2 > 4 * GIB ? total / 2 : 4 * GIB))
  want=$((want + 512))
  if ! has_controller memory; then
    note "OPEN GAP: memory hog not contained: no memory controller here"
    return 0
  fi
  if [ "$avail" -lt $((want + GIB)) ]; then
    note "memory hog: needs $((want + GIB)) MiB free, the host has $avail: not run"
    return 0
  fi
  SBX_LIMIT=120 probe_box mem-hog "$want"
  case $RC in
  137) ok "memory hog: $want MiB: killed (SIGKILL) by its run's limit" ;;
  1) ok "memory hog: $want MiB: $(grep -m1 ': blocked:' <<<"$OUT")" ;;
  *) fail "memory hog: $want MiB went through (exit $RC): $(tail -3 <<<"$OUT")" ;;
  esac
  wait_for "[ \"\$(probe_procs)\" -eq 0 ]" 10
}

# /tmp, $HOME and /dev/shm inside are tmpfs (memory): each must be capped.
tmpfs_fill() {
  local dir
  for dir in /tmp "~" /dev/shm; do
    SBX_LIMIT=60 expect_blocked "fill $dir" disk-fill "$dir" $((TMP_MIB + 64))
  done
}

fd_exhaust() {
  local n
  expect_blocked "fd exhaustion" fd-exhaust
  n=$(sed -n 's/.*blocked: EMFILE (after \([0-9]*\) fds).*/\1/p' <<<"$OUT")
  if [ -z "$n" ] || [ "$n" -lt "$NOFILE_MIN" ]; then
    fail "fd exhaustion: want EMFILE after at least $NOFILE_MIN fds: $OUT"
  fi
  ok "fd exhaustion: EMFILE after $n fds"
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  environment
  fork_bomb
  fd_exhaust
  tmpfs_fill
  mem_hog
done
