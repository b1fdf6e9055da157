#!/bin/bash
# CI mode: `corral run --ci --out DIR FILE` with GITHUB_ACTIONS=true (and
# GITHUB_STEP_SUMMARY / GITHUB_OUTPUT files) and with all three unset. It
# writes DIR/trace.corral (which replays identical), DIR/junit.xml (valid
# against tests/data/junit.xsd) and DIR/summary.md; never waits for a
# human: `ci: { review: approve }` approves a review gate in the same
# engine and its dependents run, `review: fail` (and the default) fails it
# and skips its dependents; exits with the documented codes; prints
# ::group:: and ::error:: only on GitHub Actions. A bad `ci:` section is a
# validation error with file:line:col.
. "$(dirname "$0")/lib.sh"
# What is under test is the trace, not confinement: no sandbox.
SANDBOX=none
RUN_LIMIT=60
DATA=$(cd "$(dirname "$0")/../data" && pwd)

# ci_mission NAME REVIEW FAIL: a review-gated task, a dependent, and a task
# that exits FAIL.
ci_mission() {
  mission "$TMP/$1.yaml" <<EOF2
mission: $1
${2:+ci: { review: $2 \}}
tickets:
  - id: T
    tasks:
      - { id: gated, review: required, command: "echo gated" }
      - { id: dependent, needs: [gated], command: "echo dependent" }
      - { id: other, command: "echo other; exit $3" }
EOF2
}

check_out() { # DIR MISSION
  for f in trace.corral junit.xml summary.md; do
    [ -s "$1/$f" ] || fail "$1/$f missing"
  done
  ok "$1 has trace.corral, junit.xml, summary.md"
  "$CORRAL" replay "$1/trace.corral" >"$TMP/r" 2>/dev/null
  assert_match "$(cat "$TMP/r")" "identical*" "the CI trace replays identical"
  if command -v xmllint >/dev/null; then
    xmllint --noout --schema "$DATA/junit.xsd" "$1/junit.xml" 2>"$TMP/x"
    assert_eq "$?" 0 "junit.xml validates ($(cat "$TMP/x"))"
  fi
}

note "GITHUB_ACTIONS=true, approve, a failing task"
ci_mission gha approve 3
: >"$TMP/summary" && : >"$TMP/output"
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$TMP/summary GITHUB_OUTPUT=$TMP/output \
  corral_run --ci --out "$TMP/out1" "$TMP/gha.yaml" >"$TMP/stdout" 2>"$TMP/stderr"
assert_eq "$?" 1 "exit 1: a task failed"
check_out "$TMP/out1" gha
assert_eq "$(head -1 "$TMP/stdout")" "::group::corral run gha" "output opens a group"
grep -qx '::endgroup::' "$TMP/stdout" || fail "no ::endgroup::"
assert_eq "$(grep '^::error' "$TMP/stdout")" "::error title=corral%3A task other failed::exit 3" "one ::error:: for the failed task"
assert_match "$(cat "$TMP/stdout")" "*ci: approved gated*" "the gate was approved"
show_json gha
assert_eq "$(task_field gated state) $(task_field dependent state) $(task_field other state)" "completed completed failed" "the dependent ran in the same engine"
assert_eq "$(python3 -c "import sqlite3; print(sqlite3.connect('$STATE/corral.db').execute(\"select count(*) from events where mission_id='gha' and kind='mission.end'\").fetchone()[0])")" 1 "one engine"
assert_eq "$(head -1 "$TMP/summary")" "## corral mission \`gha\`: failed" "the summary went to GITHUB_STEP_SUMMARY"
assert_eq "$(grep -c . "$TMP/output")" 8 "eight outputs"
assert_eq "$(grep -E '^(exit-code|state|tasks|completed|failed)=' "$TMP/output" | tr '\n' ' ')" "exit-code=1 state=failed tasks=3 completed=2 failed=1 " "outputs"
assert_eq "$(grep '^junit=' "$TMP/output")" "junit=$TMP/out1/junit.xml" "junit output"

note "unset, the default review (fail), nothing else failing"
ci_mission plain "" 0
(
  unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT
  corral_run --ci --out "$TMP/out2" "$TMP/plain.yaml" >"$TMP/stdout" 2>"$TMP/stderr"
)
assert_eq "$?" 1 "exit 1: the gate failed"
check_out "$TMP/out2" plain
grep -q '^::' "$TMP/stdout" && fail "workflow commands outside GitHub Actions: $(grep '^::' "$TMP/stdout")"
ok "no workflow commands outside GitHub Actions"
show_json plain
assert_eq "$(task_field gated state)|$(task_field gated reason)" "failed|review required (ci.review: fail)" "the gate failed"
assert_eq "$(task_field dependent state) $(task_field other state)" "skipped completed" "its dependent is skipped"
assert_match "$(grep '^| gated ' "$TMP/out2/summary.md")" "*failed*review required*" "the summary says why"

note "success exits 0"
mission "$TMP/ok.yaml" <<'EOF2'
mission: ok
tickets: [ { id: T, tasks: [ { id: a, command: "true" } ] } ]
EOF2
(
  unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT
  corral_run -q --ci --out "$TMP/out3" "$TMP/ok.yaml" >/dev/null 2>&1
)
assert_eq "$?" 0 "exit 0"
check_out "$TMP/out3" ok

note "usage"
corral_run --ci "$TMP/ok.yaml" >/dev/null 2>"$TMP/e"
assert_eq "$?" 2 "--ci without --out is a usage error"
mission "$TMP/bad.yaml" <<'EOF2'
mission: bad
ci: { review: maybe }
tickets: [ { id: T, tasks: [ { id: a, command: "true" } ] } ]
EOF2
corral_run --ci --out "$TMP/out4" "$TMP/bad.yaml" >/dev/null 2>"$TMP/e"
assert_eq "$?" 2 "a bad ci: section is a validation error"
assert_match "$(cat "$TMP/e")" "*bad.yaml:2:15: error: invalid value 'maybe' for 'review'*" "with file:line:col"
