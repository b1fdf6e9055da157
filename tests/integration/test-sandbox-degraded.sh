#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Degraded host (issue 4 group 21): when the host lacks user namespaces,
# Landlock or seccomp, `corral sandbox` refuses with one line naming the
# missing feature and its fix, and the command never runs; `corral doctor`
# says the same and exits 1. Without cgroups the agent profile still runs
# (its limits have fallbacks or are defaults), but a profile that asks for
# an explicit memory limit is refused with the fix where no cgroup of
# either version can hold it. The sandbox honours
# CORRAL_SANDBOX_SIMULATE_MISSING=userns,landlock,seccomp,cgroup for this
# test: the host probe reports the listed features as missing (it can only
# make corral refuse more, never less). As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

KNOB=CORRAL_SANDBOX_SIMULATE_MISSING

# degraded WHAT MISSING ARGS...: `corral sandbox ARGS` with MISSING
# simulated, as the identity. Sets RC, OUT (stdout and stderr).
degraded() {
  local missing=$2
  shift 2
  (cd "$WORK" && env HOME="$FAKEHOME" "$KNOB=$missing" timeout "$SBX_LIMIT" \
    "${AS[@]+"${AS[@]}"}" "$CORRAL" "$@") >"$D/out" 2>&1 </dev/null
  RC=$?
  OUT=$(cat "$D/out")
}

# feature_json NAME EXPR: EXPR of doctor's feature NAME (f) in $D/doctor.json.
feature_json() {
  json_get "[f for f in d['features'] if f['name'] == '$1'][0]$2" \
    "$D/doctor.json"
}

# refuses MISSING PATTERN FEATURE: the sandbox and doctor both refuse.
refuses() {
  local missing=$1 pattern=$2 feature=$3
  rm -f "$WORK/ran"
  degraded sandbox "$missing" sandbox --profile agent --dir "$WORK" -- \
    "$PROBE" write-abs "$WORK/ran"
  assert_eq "$RC" 1 "$missing missing: corral sandbox exit status"
  assert_match "$OUT" "corral: fatal: sandbox: *$pattern*; fix: ?*" \
    "$missing missing: the refusal names it and the fix"
  assert_eq "$(grep -c . <<<"$OUT")" 1 "$missing missing: lines of output"
  [ ! -e "$WORK/ran" ] || fail "$missing missing: the command ran anyway"
  ok "$missing missing: the command did not run"
  degraded doctor "$missing" doctor
  assert_eq "$RC" 1 "$missing missing: corral doctor exit status"
  degraded doctor "$missing" doctor --json
  printf '%s\n' "$OUT" >"$D/doctor.json"
  assert_eq "$(json_get "d['agent_profile']" "$D/doctor.json")" false \
    "$missing missing: doctor --json agent_profile"
  assert_eq "$(feature_json "$feature" "['ok']")" false \
    "$missing missing: doctor --json $feature ok"
  assert_match "$(feature_json "$feature" "['fix']")" "*fix: ?*" \
    "$missing missing: doctor --json $feature fix"
}

baseline() {
  rm -f "$WORK/ran"
  degraded sandbox "" sandbox --profile agent --dir "$WORK" -- \
    "$PROBE" write-abs "$WORK/ran"
  if [ "$RC" -ne 0 ] || [ ! -s "$WORK/ran" ]; then
    fail "nothing missing: corral sandbox should run the command (exit $RC): $OUT"
  fi
  ok "nothing missing: the command runs"
}

# Without cgroups: doctor still passes the agent profile, and the agent
# profile runs; a mission profile with memory: 512M is refused at start.
cgroups() {
  local mech
  degraded doctor cgroup doctor --json
  assert_eq "$RC" 0 "cgroup missing: corral doctor exit status"
  printf '%s\n' "$OUT" >"$D/doctor.json"
  assert_eq "$(json_get "d['agent_profile']" "$D/doctor.json")" true \
    "cgroup missing: doctor --json agent_profile"
  assert_eq "$(feature_json "cgroup v2" "['ok']")" false \
    "cgroup missing: doctor --json cgroup v2 ok"
  assert_match "$(feature_json "cgroup v2" "['fix']")" "*fix: ?*" \
    "cgroup missing: doctor --json cgroup v2 fix"
  rm -f "$WORK/ran"
  mission "$WORK/m.yaml" <<EOF2
mission: degraded
workdir: "$WORK"
sandboxes:
  capped:
    memory: 512M
tickets:
  - id: T
    tasks:
      - id: capped
        sandbox: capped
        command: ["$PROBE", write-abs, "$WORK/ran"]
EOF2
  sbx_own "$WORK/m.yaml"
  # The knob does not reach the shim (the engine gives it an allowlisted
  # environment), which decides the cgroup v1 fallback: where the identity
  # has one (root on a hybrid host) the capped task runs under its limit.
  degraded doctor "" doctor --json
  printf '%s\n' "$OUT" >"$D/doctor.json"
  mech=$(json_get "d['limits']['memory']" "$D/doctor.json")
  degraded run cgroup run --state-dir "$D/state" --json "$WORK/m.yaml"
  if [ "$mech" != none ]; then
    if [ "$RC" -ne 0 ] || [ ! -e "$WORK/ran" ]; then
      fail "memory limit by $mech: the memory-capped task did not run (exit $RC): $OUT"
    fi
    ok "memory limit by $mech: the memory-capped task ran under it"
    return 0
  fi
  [ "$RC" -ne 0 ] || fail "cgroup missing: a memory-capped task ran: $OUT"
  [ ! -e "$WORK/ran" ] || fail "cgroup missing: the memory-capped task ran"
  ok "cgroup missing: the memory-capped task did not run (exit $RC)"
  assert_match "$OUT" "*cgroup*fix: *" "cgroup missing: the failure names the fix"
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  baseline
  refuses userns "user namespace" "user namespaces"
  refuses landlock "andlock" landlock
  refuses seccomp "seccomp" seccomp
  refuses userns,landlock,seccomp "user namespace" "user namespaces"
  cgroups
done
