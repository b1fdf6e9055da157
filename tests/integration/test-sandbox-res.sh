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

# How corral enforces a run's CTL limit for the current identity, as
# `corral doctor --json` says: "cgroup v2", "cgroup v1" (the fallback of a
# hybrid host, as root), "RLIMIT_NPROC" (pids) or "none". Without a cgroup
# of either version, root's fork bomb (RLIMIT_NPROC does not bind uid 0)
# and any memory hog cannot be contained: an open gap of the sandbox issue,
# reported here, not hidden.
mechanism() {
  as_id "$CORRAL" doctor --json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["limits"][sys.argv[1]])' "$1"
}

# cg1_dir CTL: where corral makes this test's cgroup v1 leaves in CTL's
# hierarchy: "corral" under our own cgroup there (sandbox/cgroup1.c).
cg1_dir() {
  local own
  own=$(awk -F: -v c="$1" '{ n = split($2, a, ",")
    for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
  [ "$own" = / ] && own=
  echo "/sys/fs/cgroup/$1$own/corral"
}

# leaf_watch CTL FILE...: run in the background while a probe runs. Finds
# the cgroup v1 leaf of this test's `corral sandbox` (run-<its pid>-<n>,
# the process whose command line names the probe copy) and, every 20 ms
# until killed, appends "FILE VALUE" lines for each FILE of the leaf to
# $D/leaf-CTL: the leaf is removed when the run ends, so the host reads
# the kernel's counters while it lasts.
leaf_watch() {
  local ctl=$1 dir d p leaf='' f out=$D/leaf-$1
  shift
  dir=$(cg1_dir "$ctl")
  while :; do
    if [ -z "$leaf" ]; then
      for d in "$dir"/run-*; do
        p=${d##*/run-}
        p=${p%%-*}
        if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "$PROBE"; then
          leaf=$d
          echo "leaf $leaf" >>"$out"
        fi
      done
    elif [ -d "$leaf" ]; then
      for f; do
        echo "$f $(tr '\n' ' ' <"$leaf/$f" 2>/dev/null)"
      done >>"$out"
    fi
    sleep 0.02
  done
}

# watch_start CTL FILE... / watch_stop: leaf_watch around one probe run;
# watch_last FILE [FIELD]: FILE's last sample (or the value after FIELD).
watch_start() {
  : >"$D/leaf-$1"
  WATCH_CTL=$1
  leaf_watch "$@" &
  WATCHER=$!
  track_pid "$WATCHER"
}
watch_stop() { stop "$WATCHER"; }
watch_last() {
  local line
  line=$(grep "^$1 " "$D/leaf-$WATCH_CTL" | tail -1)
  line=${line#"$1 "}
  if [ $# -gt 1 ]; then
    sed -n "s/.*\\<$2 \\([0-9]*\\).*/\\1/p" <<<"$line"
  else
    echo "${line% }"
  fi
}

# leaves_left CTL: this test's leaves still in CTL's hierarchy (none, once
# every run is over: corral removes them).
leaves_left() {
  local d p n=0
  for d in "$(cg1_dir "$1")"/run-*; do
    p=${d##*/run-}
    p=${p%%-*}
    if [ -d "$d" ] && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "$PROBE"; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}

# The fork bomb must stop at the run's task limit: the probe's own count,
# and with a cgroup v1 leaf the kernel's, read from the host (pids.peak and
# pids.events' failed forks) while the leaf lasts.
fork_bomb() {
  local n mech peak fails
  mech=$(mechanism pids)
  if [ "$SBX_UID" -eq 0 ] && [ "$mech" = RLIMIT_NPROC ]; then
    note "OPEN GAP: fork bomb as root not contained: no pids controller here"
    return 0
  fi
  note "fork bomb: the task limit is enforced by $mech"
  [ "$mech" != "cgroup v1" ] || watch_start pids pids.peak pids.events pids.max
  expect_blocked "fork bomb" fork-bomb $((PIDS * 2))
  [ "$mech" != "cgroup v1" ] || watch_stop
  n=$(sed -n 's/.*fork failed after \([0-9]*\) processes.*/\1/p' <<<"$OUT")
  if [ -z "$n" ] || [ "$n" -gt "$PIDS" ]; then
    fail "fork bomb: want at most $PIDS processes, got [$n]: $OUT"
  fi
  ok "fork bomb: stopped at $n processes (limit $PIDS)"
  if [ "$mech" = "cgroup v1" ]; then
    peak=$(watch_last pids.peak)
    fails=$(watch_last pids.events max)
    assert_eq "$(watch_last pids.max)" "$PIDS" "fork bomb: the leaf's pids.max"
    if [ -z "$peak" ] || [ "$peak" -gt "$PIDS" ] || [ "$peak" -lt "$n" ] ||
      [ -z "$fails" ] || [ "$fails" -lt 1 ]; then
      fail "fork bomb: the leaf's peak [$peak] must be in [$n, $PIDS] with failed forks [$fails]: $(head -3 "$D/leaf-pids")"
    fi
    ok "fork bomb: the host counts $peak tasks at most in $(sed -n 's/^leaf //p' "$D/leaf-pids"), $fails forks refused"
  fi
  wait_for "[ \"\$(probe_procs)\" -eq 0 ]" 10
  ok "fork bomb: no process left"
  [ "$mech" != "cgroup v1" ] || assert_eq "$(leaves_left pids)" 0 \
    "fork bomb: cgroup v1 leaves left"
}

# oom_lines: the kernel's log lines for each OOM kill so far (empty when
# the log cannot be read).
oom_lines() { dmesg 2>/dev/null | grep 'oom-kill:constraint=' || true; }

# mem_hog_kernel BEFORE: what the kernel logged about the hog's OOM kill
# since line BEFORE of oom_lines: it must have been killed in its own
# cgroup v1 leaf (CONSTRAINT_MEMCG, oom_memcg .../corral/run-*), with no
# host-wide OOM kill meanwhile.
mem_hog_kernel() {
  local new line memcg
  new=$(oom_lines | tail -n +$(($1 + 1)))
  if [ -z "$(oom_lines)" ] && ! dmesg >/dev/null 2>&1; then
    note "memory hog: the kernel log cannot be read: OOM kill not checked"
    return 0
  fi
  ! grep -q 'constraint=CONSTRAINT_NONE' <<<"$new" ||
    fail "memory hog: a host-wide OOM kill happened: $new"
  line=$(grep "task=sbxp-$$," <<<"$new" | tail -1)
  memcg=$(sed -n 's/.*,oom_memcg=\([^,]*\),.*/\1/p' <<<"$line")
  if ! grep -q 'constraint=CONSTRAINT_MEMCG' <<<"$line" ||
    [[ $memcg != */corral/run-* ]]; then
    fail "memory hog: want an OOM kill in its own leaf, the kernel says: [$line]"
  fi
  ok "memory hog: the kernel OOM-killed it in its leaf $memcg, no host-wide OOM kill"
}

# The default memory limit is max(4 GiB, half the RAM); the hog asks for
# 512 MiB more, and needs that much free to run without hurting the host.
# With a cgroup v1 leaf, the host reads the leaf's limit while it lasts and
# the kernel's log of the OOM kill after, and checks its own memory came
# back.
mem_hog() {
  local total avail want mech after before limit
  total=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
  want=$((total / 2 > 4 * GIB ? total / 2 : 4 * GIB))
  want=$((want + 512))
  mech=$(mechanism memory)
  if [ "$mech" = none ]; then
    note "OPEN GAP: memory hog not contained as $SBX_ID: no memory cgroup here"
    return 0
  fi
  if [ "$avail" -lt $((want + GIB)) ]; then
    note "memory hog: needs $((want + GIB)) MiB free, the host has $avail: not run"
    return 0
  fi
  note "memory hog: the memory limit is enforced by $mech"
  before=$(oom_lines | wc -l)
  [ "$mech" != "cgroup v1" ] || watch_start memory memory.limit_in_bytes
  SBX_LIMIT=120 probe_box mem-hog "$want"
  [ "$mech" != "cgroup v1" ] || watch_stop
  case $RC in
  137) ok "memory hog: $want MiB: killed (SIGKILL) by its run's limit" ;;
  1) ok "memory hog: $want MiB: $(grep -m1 ': blocked:' <<<"$OUT")" ;;
  *) fail "memory hog: $want MiB went through (exit $RC): $(tail -3 <<<"$OUT")" ;;
  esac
  if [ "$mech" = "cgroup v1" ]; then
    limit=$(watch_last memory.limit_in_bytes)
    if [ -z "$limit" ] || [ "$((limit / 1048576))" -ge "$want" ]; then
      fail "memory hog: the leaf's limit [$limit] is not below $want MiB: $(head -3 "$D/leaf-memory")"
    fi
    ok "memory hog: its leaf had memory.limit_in_bytes $((limit / 1048576)) MiB"
    [ "$RC" -ne 137 ] || mem_hog_kernel "$before"
  fi
  wait_for "[ \"\$(probe_procs)\" -eq 0 ]" 10
  after=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
  [ "$after" -ge $((avail - GIB)) ] ||
    fail "memory hog: the host has $after MiB available, $avail before"
  ok "memory hog: the host is fine: $after MiB available ($avail before)"
  [ "$mech" != "cgroup v1" ] || assert_eq "$(leaves_left memory)" 0 \
    "memory hog: cgroup v1 leaves left"
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
