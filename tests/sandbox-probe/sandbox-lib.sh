# shellcheck shell=bash
# Helpers of the sandbox escape-probe tests (tests/integration/
# test-sandbox-*.sh), sourced after tests/integration/lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"
#
# Every probe runs twice: unsandboxed, where it must escape (exit 0), so the
# test proves something, and under `corral sandbox --profile agent`, where it
# must be blocked (exit 1 with its "NAME: blocked:" line) and the host state
# is checked unchanged. Tests run their body once per identity: as root and
# as nobody (uid 65534) when started as root, else as the caller only.
#
# Environment: CORRAL, SANDBOX_PROBE (set by CTest). The temp dir is made
# outside /tmp (SANDBOX_TMPDIR, default /var/tmp): the sandbox gives the
# command a private /tmp, where a write "outside" would land harmlessly and
# prove nothing either way.
set -u

: "${SANDBOX_PROBE:?SANDBOX_PROBE must name the sandbox-probe binary}"
# This folder: listen.py and pty-run.py live here.
SBX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SBX_DIR
# Bound on each probe run, sandboxed or not (seconds).
SBX_LIMIT=${SBX_LIMIT:-30}
# Extra `corral sandbox` options for the next probe_box (e.g. --keep-fd 7).
SBX_OPTS=()
# Extra environment (NAME=VALUE) for the next probe_box / probe_free.
SBX_ENV=()
# Host paths a sandboxed probe must leave exactly as they were.
WATCH=()

# sbx_users: the identities to run as.
sbx_users() {
  if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    echo root nobody
  else
    note "not root: running as $(id -un) only, not as root and nobody"
    echo self
  fi
}

# sbx_binaries: makes corral (the front), corral-engine (which the front
# execs) and corral-shim executable by nobody, copying them into $TMP/bin
# when the build dir is not traversable.
sbx_binaries() {
  local d
  [ "$(id -u)" -eq 0 ] || return 0
  if setpriv --reuid=65534 --regid=65534 --clear-groups -- \
    test -x "$CORRAL" 2>/dev/null; then
    return 0
  fi
  d=$(dirname "$CORRAL")
  mkdir -p "$TMP/bin"
  cp "$CORRAL" "$TMP/bin/corral"
  [ -e "$d/corral-engine" ] && cp "$d/corral-engine" "$TMP/bin/corral-engine"
  [ -e "$d/corral-shim" ] && cp "$d/corral-shim" "$TMP/bin/corral-shim"
  chmod 755 "$TMP/bin" "$TMP/bin"/*
  CORRAL=$TMP/bin/corral
  note "copied corral into $TMP/bin for nobody"
}

# sbx_begin ID: sets up the identity's directories under $TMP/ID, all owned
# by it: WORK (the sandbox's --dir), OUTSIDE (host files next to it),
# FAKEHOME (the $HOME corral is started with, holding fake secrets), and
# PROBE, a copy of sandbox-probe inside WORK (the sandbox's fresh root shows
# only the worktree and system dirs, so the command must live in one).
sbx_begin() {
  SBX_ID=$1
  case $SBX_ID in
  root) SBX_UID=0 AS=() ;;
  nobody)
    SBX_UID=65534
    AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    ;;
  *) SBX_UID=$(id -u) AS=() ;;
  esac
  D=$TMP/$SBX_ID
  WORK=$D/work OUTSIDE=$D/outside FAKEHOME=$D/home
  mkdir -p "$WORK/.probe" "$OUTSIDE" "$FAKEHOME"
  PROBE=$WORK/.probe/sbxp-$$
  cp "$SANDBOX_PROBE" "$PROBE"
  chmod 755 "$D" "$WORK" "$WORK/.probe" "$PROBE"
  sbx_own "$D"
  note "--- as $SBX_ID (uid $SBX_UID) ---"
}

# sbx_own PATH...: gives PATH (recursively) to the current identity.
sbx_own() {
  [ "$(id -u)" -eq 0 ] || return 0
  chown -R "$SBX_UID:$SBX_UID" "$@"
}

# as_id CMD...: runs CMD as the current identity.
as_id() { "${AS[@]+"${AS[@]}"}" "$@"; }

_sbx_result() {
  RC=$1
  OUT=$(cat "$D/out")
  [ "$RC" -ne 124 ] || fail "$2 did not finish within ${SBX_LIMIT}s: $OUT"
}

# probe_free NAME ARGS...: the probe, unsandboxed, in WORK. Sets RC, OUT.
probe_free() {
  (cd "$WORK" && env HOME="$FAKEHOME" "${SBX_ENV[@]+"${SBX_ENV[@]}"}" \
    timeout "$SBX_LIMIT" "${AS[@]+"${AS[@]}"}" "$PROBE" "$@") \
    >"$D/out" 2>&1 </dev/null
  _sbx_result $? "unsandboxed $1"
}

# box_cmd ARGS...: the `corral sandbox` command line for ARGS, as the
# current identity (for tests that run it their own way).
box_cmd() {
  BOX=(env HOME="$FAKEHOME" "${SBX_ENV[@]+"${SBX_ENV[@]}"}"
    timeout "$SBX_LIMIT" "${AS[@]+"${AS[@]}"}" "$CORRAL" sandbox
    --profile agent --dir "$WORK" "${SBX_OPTS[@]+"${SBX_OPTS[@]}"}" -- "$@")
}

# probe_box NAME ARGS...: the probe under `corral sandbox --profile agent`.
# Sets RC, OUT. A refusal fails the test: this host can run the sandbox.
probe_box() {
  box_cmd "$PROBE" "$@"
  (cd "$WORK" && "${BOX[@]}") >"$D/out" 2>&1 </dev/null
  _sbx_result $? "sandboxed $1"
  case $OUT in
  *"corral: fatal: sandbox:"*) fail "corral sandbox refused to run $1: $OUT" ;;
  esac
  case $OUT in
  *ERROR:\ AddressSanitizer* | *runtime\ error:*)
    fail "corral crashed (sanitizer report) running $1: $OUT"
    ;;
  esac
}

# expect_escape WHAT NAME ARGS...: unsandboxed, the probe must escape.
expect_escape() {
  local what=$1
  shift
  probe_free "$@"
  [ "$RC" -eq 0 ] ||
    fail "$what: unsandboxed, the probe did not escape (exit $RC), so it proves nothing: $OUT"
  ok "$what: unsandboxed: $(grep -m1 ': escaped:' <<<"$OUT")"
}

# expect_blocked WHAT NAME ARGS...: sandboxed, the probe must run and be
# blocked (exit 1 with its verdict line), leaving WATCH unchanged.
expect_blocked() {
  local what=$1 before
  shift
  before=$(fingerprint "${WATCH[@]+"${WATCH[@]}"}")
  probe_box "$@"
  if [ "$RC" -ne 1 ] || ! grep -q "^$1: blocked:" <<<"$OUT"; then
    fail "$what: sandboxed, want the probe blocked (exit 1), got exit $RC: $OUT"
  fi
  ok "$what: sandboxed: $(grep -m1 ": blocked:" <<<"$OUT")"
  assert_same "$before" "$(fingerprint "${WATCH[@]+"${WATCH[@]}"}")" "$what"
}

# expect_sigsys WHAT NAME ARGS...: sandboxed, the probe must be killed by
# SIGSYS (corral exits 128 + 31) or blocked.
expect_sigsys() {
  local what=$1
  shift
  probe_box "$@"
  if [ "$RC" -eq 159 ]; then
    ok "$what: sandboxed: killed by SIGSYS"
  elif [ "$RC" -eq 1 ] && grep -q "^$1: blocked:" <<<"$OUT"; then
    ok "$what: sandboxed: $(grep -m1 ': blocked:' <<<"$OUT")"
  else
    fail "$what: sandboxed, want SIGSYS (exit 159) or blocked (1), got $RC: $OUT"
  fi
}

# expect_pair WHAT NAME ARGS...: blocked sandboxed (first, so it sees the
# pristine host), escapes unsandboxed.
expect_pair() {
  expect_blocked "$@"
  expect_escape "$@"
}

# expect_pair_root WHAT NAME ARGS...: as expect_pair, but only root can
# prove the escape unsandboxed (the host already refuses it to nobody).
expect_pair_root() {
  expect_blocked "$@"
  if [ "$SBX_ID" = nobody ]; then
    probe_free "${@:2}"
    note "$1: unsandboxed as nobody: exit $RC (the host refuses nobody too)"
  else
    expect_escape "$@"
  fi
}

# fingerprint PATH...: one line per path: type, mode, owner, size, inode,
# content hash; "absent" when missing. Host state to compare.
fingerprint() {
  local p
  for p in "$@"; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      printf '%s %s %s\n' "$p" "$(stat -c '%F %a %u %s %i' "$p")" \
        "$( [ -f "$p" ] && sha256sum <"$p" | cut -c1-16)"
    else
      printf '%s absent\n' "$p"
    fi
  done
}

# tree_print DIR: a listing of every entry below DIR with fingerprints.
tree_print() {
  local f
  find "$1" -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
    fingerprint "$f"
  done
}

# assert_same BEFORE AFTER WHAT: host state unchanged.
assert_same() {
  [ "$1" = "$2" ] || fail "$3: host state changed:
before: $1
after:  $2"
  ok "$3: host unchanged"
}

# host_sleeper TOKEN [ENV...]: starts `sandbox-probe sleep TOKEN 600` on
# the host as the current identity; sets SLEEPER to its pid (tracked).
host_sleeper() {
  local token=$1
  shift
  env "$@" "${AS[@]+"${AS[@]}"}" "$PROBE" sleep "$token" 600 \
    </dev/null >/dev/null 2>&1 &
  SLEEPER=$!
  track_pid "$SLEEPER"
  wait_for "grep -q '$token' /proc/$SLEEPER/cmdline 2>/dev/null" 10
}

# stop PID...: SIGKILL to processes this test started, reaped quietly
# (wait only reaps our own children; the others are reaped elsewhere).
stop() {
  kill -9 "$@" 2>/dev/null
  wait "$@" 2>/dev/null
  return 0
}

# pids_with TOKEN: host pids whose command line holds TOKEN.
pids_with() {
  local f p
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}
    p=${p%/cmdline}
    if [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ]; then
      continue
    fi
    { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -- "$1" && printf '%s\n' "$p"
  done
  return 0
}
