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

# ours PID: whether PID is this test's `corral sandbox` (its command line
# names the probe copy). Builtins only: it runs while a fork bomb does.
ours() {
  local -a argv
  mapfile -d '' argv 2>/dev/null <"/proc/$1/cmdline" || return 1
  [[ " ${argv[*]} " == *" $PROBE "* ]]
}

# leaf_watch CTL FILE...: run in the background while a probe runs. Finds
# the cgroup v1 leaf of this test's `corral sandbox` (run-<its pid>-<n>)
# and, every 20 ms until killed, appends "FILE VALUE" lines for each FILE
# of the leaf to $D/leaf-CTL. Best effort: the leaf is removed when the run
# ends, and a loaded host may starve this loop, so the checks that must
# hold read the kernel's log instead (kernel_lines).
leaf_watch() {
  local ctl=$1 dir d p leaf='' f out=$D/leaf-$1 v
  shift
  dir=$(cg1_dir "$ctl")
  while :; do
    if [ -z "$leaf" ]; then
      for d in "$dir"/run-*; do
        p=${d##*/run-}
        if ours "${p%%-*}"; then
          leaf=$d
          echo "leaf $leaf" >>"$out"
        fi
      done
    elif [ -d "$leaf" ]; then
      for f; do
        mapfile -t v 2>/dev/null <"$leaf/$f" && echo "$f ${v[*]}"
      done >>"$out"
    fi
    sleep 0.02
  done
}

# watch_start CTL FILE... / watch_stop: leaf_watch around one probe run;
# watch_last FILE [FIELD]: FILE's last sample (or the value after FIELD),
# empty when none was taken.
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
    echo "$line"
  fi
}

# leaves_left CTL: this test's leaves still in CTL's hierarchy (none, once
# every run is over: corral removes them).
leaves_left() {
  local d p n=0
  for d in "$(cg1_dir "$1")"/run-*; do
    p=${d##*/run-}
    if [ -d "$d" ] && ours "${p%%-*}"; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}

# kernel_lines PATTERN: the kernel log's lines matching PATTERN so far;
# kernel_since N PATTERN: those after the first N. The kernel records
# which cgroup refused a fork and which cgroup an OOM kill was confined
# to, and the record outlives the leaf.
kernel_lines() { dmesg 2>/dev/null | grep -- "$1" || true; }
kernel_since() { kernel_lines "$2" | tail -n +$(($1 + 1)); }

# The fork bomb must stop at the run's task limit: the probe's own count,
# and with a cgroup v1 leaf the kernel's record that the run's own leaf
# refused the fork; the leaf's counters when the host got to sample them.
fork_bomb() {
  local n mech before line peak
  mech=$(mechanism pids)
  if [ "$SBX_UID" -eq 0 ] && [ "$mech" = RLIMIT_NPROC ]; then
    note "OPEN GAP: fork bomb as root not contained: no pids controller here"
    return 0
  fi
  note "fork bomb: the task limit is enforced by $mech"
  before=$(kernel_lines 'fork rejected by pids controller' | wc -l)
  [ "$mech" != "cgroup v1" ] || watch_start pids pids.max pids.peak pids.events
  expect_blocked "fork bomb" fork-bomb $((PIDS * 2))
  [ "$mech" != "cgroup v1" ] || watch_stop
  n=$(sed -n 's/.*fork failed after \([0-9]*\) processes.*/\1/p' <<<"$OUT")
  if [ -z "$n" ] || [ "$n" -gt "$PIDS" ]; then
    fail "fork bomb: want at most $PIDS processes, got [$n]: $OUT"
  fi
  ok "fork bomb: stopped at $n processes (limit $PIDS)"
  if [ "$mech" = "cgroup v1" ]; then
    fork_bomb_kernel "$before"
    fork_bomb_leaf "$n"
  fi
  wait_for "[ \"\$(probe_procs)\" -eq 0 ]" 10
  ok "fork bomb: no process left"
  [ "$mech" != "cgroup v1" ] || assert_eq "$(leaves_left pids)" 0 \
    "fork bomb: cgroup v1 leaves left"
}

# fork_bomb_kernel BEFORE: the kernel logged, after line BEFORE, that a
# run leaf's pids.max refused a fork (the pids controller says so once per
# cgroup, and each run has a new leaf).
fork_bomb_kernel() {
  local line
  if ! dmesg >/dev/null 2>&1; then
    note "fork bomb: the kernel log cannot be read: its record not checked"
    return 0
  fi
  line=$(kernel_since "$1" 'fork rejected by pids controller' |
    grep '/corral/run-' | tail -1)
  [ -n "$line" ] ||
    fail "fork bomb: the kernel logged no fork refused by a run leaf's pids.max"
  ok "fork bomb: the kernel says: ${line#*] }"
}

# fork_bomb_leaf N: what the host sampled of the leaf, if anything.
fork_bomb_leaf() {
  local max peak fails
  max=$(watch_last pids.max)
  peak=$(watch_last pids.peak)
  fails=$(watch_last pids.events max)
  if [ -z "$max" ]; then
    note "fork bomb: the host got no sample of the leaf (it lasts a moment)"
    return 0
  fi
  assert_eq "$max" "$PIDS" "fork bomb: the leaf's pids.max"
  if [ -n "$peak" ] && { [ "$peak" -gt "$PIDS" ] || [ "$peak" -lt "$1" ]; }; then
    fail "fork bomb: the leaf's pids.peak [$peak] is not in [$1, $PIDS]"
  fi
  ok "fork bomb: $(sed -n 's/^leaf //p' "$D/leaf-pids"): pids.peak [$peak], forks refused [$fails]"
}

# mem_hog_kernel BEFORE: what the kernel logged about the hog's OOM kill
# after line BEFORE: it was killed in its own cgroup v1 leaf
# (CONSTRAINT_MEMCG, oom_memcg .../corral/run-*), and no host-wide OOM kill
# happened meanwhile.
mem_hog_kernel() {
  local new line memcg
  if ! dmesg >/dev/null 2>&1; then
    note "memory hog: the kernel log cannot be read: OOM kill not checked"
    return 0
  fi
  new=$(kernel_since "$1" 'oom-kill:constraint=')
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
# With a cgroup v1 leaf, the kernel's log must show the OOM kill confined
# to the run's leaf; the host checks its own memory came back.
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
  before=$(kernel_lines 'oom-kill:constraint=' | wc -l)
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
    if [ -n "$limit" ] && [ "$((limit / 1048576))" -ge "$want" ]; then
      fail "memory hog: the leaf's limit [$limit] is not below $want MiB"
    fi
    [ -z "$limit" ] || ok "memory hog: its leaf's memory.limit_in_bytes: $((limit / 1048576)) MiB"
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
