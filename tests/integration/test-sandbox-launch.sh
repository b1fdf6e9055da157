#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox launcher input (issue 4 group 20): workdirs with spaces, a
# newline or a leading '-', a symlinked worktree (and one pointing at /),
# huge argv and environment, missing or unusable commands. Odd input either
# works exactly (the command sees its argv and workdir unchanged, and the
# sandbox still holds) or is refused with exit 1 and a one-line reason;
# never a crash, a signal or a wrong directory. As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

WATCH=()

# in_workdir DIR: makes DIR (owned by the identity) the sandbox's workdir
# for the next probes, with its own probe copy.
in_workdir() {
  mkdir -p "$1/.probe"
  cp "$SANDBOX_PROBE" "$1/.probe/sbxp-$$"
  chmod 755 "$1" "$1/.probe" "$1/.probe/sbxp-$$"
  sbx_own "$1"
  WORK=$1 PROBE=$1/.probe/sbxp-$$
}

# odd_workdir WHAT DIR: the command runs in DIR, sees it as its cwd, and
# still cannot write next to it.
odd_workdir() {
  local what=$1 dir=$2 saved=$WORK
  in_workdir "$dir"
  probe_box pwd
  [ "$RC" -eq 0 ] || fail "$what: exit $RC: $OUT"
  assert_eq "$OUT" "$dir" "$what: the command's cwd"
  echo original >"$OUTSIDE/victim.txt"
  WATCH=("$OUTSIDE/victim.txt")
  expect_blocked "$what: write outside" write-abs "$OUTSIDE/victim.txt"
  WATCH=()
  in_workdir "$saved"
}

# refused WHAT ARGS...: `corral sandbox ARGS` as the identity must exit 1
# with one "corral: fatal: sandbox:" line, and no sanitizer report.
refused() {
  local what=$1
  shift
  (cd "$WORK" && env HOME="$FAKEHOME" timeout "$SBX_LIMIT" \
    "${AS[@]+"${AS[@]}"}" "$CORRAL" sandbox "$@") >"$D/out" 2>&1 </dev/null
  RC=$?
  OUT=$(cat "$D/out")
  [ "$RC" -eq 1 ] || fail "$what: want exit 1, got $RC: $OUT"
  assert_match "$OUT" "corral: fatal: sandbox: *" "$what: the refusal"
  case $OUT in
  *AddressSanitizer* | *runtime\ error:*) fail "$what: sanitizer report: $OUT" ;;
  esac
}

workdirs() {
  odd_workdir "workdir with spaces" "$D/work with  spaces"
  odd_workdir "workdir with a newline" "$D/work"$'\n'"newline"
  odd_workdir "workdir with a leading -" "$D/-work"
  # The same, given relative, where it reads like an option.
  in_workdir "$D/-rel"
  (cd "$D" && env HOME="$FAKEHOME" timeout "$SBX_LIMIT" \
    "${AS[@]+"${AS[@]}"}" "$CORRAL" sandbox --dir -rel -- \
    "$PROBE" pwd) >"$D/out" 2>&1 </dev/null
  assert_eq "$?:$(cat "$D/out")" "0:$D/-rel" "relative workdir -rel"
  in_workdir "$D/work"
}

symlinked() {
  local real=$D/real-work
  in_workdir "$real"
  ln -sfn "$real" "$D/link-work"
  WORK=$D/link-work
  probe_box pwd
  case $RC:$OUT in
  "0:$real" | "0:$D/link-work") ok "symlinked worktree: the command's cwd is $OUT" ;;
  *) fail "symlinked worktree: want cwd $real, got exit $RC: $OUT" ;;
  esac
  probe_box write-abs inside.txt
  [ "$RC" -eq 0 ] || fail "symlinked worktree: cannot write in it (exit $RC): $OUT"
  [ -s "$real/inside.txt" ] || fail "symlinked worktree: the write did not reach $real"
  ok "symlinked worktree: writable"
  echo original >"$OUTSIDE/victim.txt"
  WATCH=("$OUTSIDE/victim.txt" "$D/escape")
  expect_blocked "symlinked worktree: write outside" write-abs \
    "$OUTSIDE/victim.txt"
  expect_blocked "symlinked worktree: write ../escape" write-dotdot
  WATCH=()
  ln -sfn / "$D/root-link"
  refused "a workdir that is a symlink to /" --dir "$D/root-link" -- /bin/true
  in_workdir "$D/work"
}

# About 1.3 MB of argv (five 100 kB strings and 2000 of 400 bytes, under
# the kernel's 2 MB), then a 100 kB variable among 500 others.
huge_input() {
  local args=() i big pad
  big=$(head -c 100000 /dev/zero | tr '\0' x)
  for ((i = 0; i < 5; i++)); do args+=("$i-$big"); done
  for ((i = 0; i < 2000; i++)); do
    printf -v pad '%0400d' "$i"
    args+=("arg-$i-$pad")
  done
  probe_box echo-args "${args[@]}"
  [ "$RC" -eq 0 ] || fail "huge argv: exit $RC: $(head -c 600 <<<"$OUT")"
  assert_eq "$(head -1 <<<"$OUT")" "args ${#args[@]} bytes $(printf '%s' "${args[@]}" | wc -c)" \
    "huge argv: what the command received"
  SBX_ENV=("CORRAL_HUGE=$big")
  for ((i = 0; i < 500; i++)); do SBX_ENV+=("CORRAL_V$i=$i"); done
  probe_box env-has CORRAL_HUGE
  SBX_ENV=()
  assert_eq "$RC:$(tail -1 <<<"$OUT")" \
    "1:env-has: blocked: ENOENT (CORRAL_HUGE is not set)" \
    "huge environment: runs, scrubbed"
}

commands() {
  refused "a missing command" -- /nonexistent/corral-probe
  refused "a command not on PATH" -- corral-probe-no-such-command
  touch "$WORK/plain"
  sbx_own "$WORK/plain"
  refused "a command that is not executable" --dir "$WORK" -- "$WORK/plain"
  refused "a missing workdir" --dir "$D/missing" -- /bin/true
  refused "a workdir that is a file" --dir "$WORK/plain" -- /bin/true
  (cd "$WORK" && timeout "$SBX_LIMIT" "$CORRAL" sandbox) >"$D/out" 2>&1
  assert_eq "$?" 2 "no command: usage error"
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  workdirs
  symlinked
  huge_input
  commands
done
