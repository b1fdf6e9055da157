#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox escape probes, syscalls (issue 4 groups 11, 12): io_uring, bpf,
# perf_event_open, userfaultfd, keyctl, mount, fsopen, open_tree,
# kexec_load, init_module, personality and open_by_handle_at, one at a
# time, each refused under the agent profile; x32 and int 0x80 syscalls
# killed (SIGSYS) or refused. Unsandboxed, root must get each call through
# unless this kernel lacks it (ENOSYS); nobody gets what the host gives
# unprivileged users. As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

WATCH=()
CALLS=(io_uring bpf perf_event_open userfaultfd keyctl mount fsopen open_tree
  kexec_load init_module personality open_by_handle_at)

# free_or_note WHAT NAME ARGS...: unsandboxed, the probe must escape, unless
# this kernel lacks the call or (as nobody) the host refuses it anyway.
free_or_note() {
  local what=$1
  shift
  probe_free "$@"
  if [ "$RC" -eq 0 ]; then
    ok "$what: unsandboxed: $(grep -m1 ': escaped:' <<<"$OUT")"
  elif grep -q ENOSYS <<<"$OUT"; then
    note "$what: this kernel does not have it (ENOSYS): sandboxed half only"
  elif [ "$SBX_ID" = nobody ]; then
    note "$what: the host refuses nobody too: $(tr '\n' ' ' <<<"$OUT")"
  else
    fail "$what: unsandboxed, the probe did not escape (exit $RC): $OUT"
  fi
}

syscalls() {
  local c
  mkdir -p "$WORK/mnt"
  sbx_own "$WORK/mnt"
  WATCH=("$WORK/mnt")
  for c in "${CALLS[@]}"; do
    expect_blocked "$c" syscalls "$WORK/mnt" "$c"
    free_or_note "$c" syscalls "$WORK/mnt" "$c"
  done
  assert_eq "$(grep -c " $WORK/mnt " /proc/self/mountinfo)" 0 \
    "mounts left on the host's $WORK/mnt"
  WATCH=()
}

abis() {
  free_or_note "x32 syscall" x32
  expect_sigsys "x32 syscall" x32
  free_or_note "int 0x80 syscall" int80
  expect_sigsys "int 0x80 syscall" int80
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  syscalls
  abis
done
