#!/bin/bash
# examples/hello.yaml completes in dependency order; examples/failing.yaml
# retries flaky, skips what needs it and still runs the independent task.
. "$(dirname "$0")/lib.sh"

note "hello.yaml"
corral_run --json "$EXAMPLES/hello.yaml" >"$TMP/hello.jsonl" 2>"$TMP/hello.err"
assert_eq "$?" 0 "exit status of hello.yaml"
show_json hello
for t in fetch build lint package; do
  assert_eq "$(task_field $t state)" completed "state of $t"
done
# seq of the first run.start of a task / of its state -> completed.
order=$(events "$TMP/hello.jsonl" '
(lambda start, done:
  all(start(t) > done("fetch") for t in ("build", "lint"))
  and start("package") > max(done("build"), done("lint")))(
  lambda t: min(e["seq"] for e in ev if e["task"] == t and e["kind"] == "run.start"),
  lambda t: min(e["seq"] for e in ev if e["task"] == t and e["kind"] == "state"
                and e["data"]["to"] == "completed"))')
assert_eq "$order" true "build and lint start after fetch completed, package after both"
corral_cmd logs package >"$TMP/package.log" || fail "corral logs package failed"
grep -qx packaged "$TMP/package.log" || fail "logs of package lack 'packaged': $(cat "$TMP/package.log")"
ok "corral logs package shows 'packaged'"

note "failing.yaml"
corral_run --json "$EXAMPLES/failing.yaml" >"$TMP/failing.jsonl" 2>"$TMP/failing.err"
assert_eq "$?" 1 "exit status of failing.yaml"
show_json failing
assert_eq "$(task_field flaky state)" failed "state of flaky"
assert_eq "$(task_field flaky attempts)" 3 "attempts of flaky"
assert_eq "$(task_field after-flaky state)" skipped "state of after-flaky"
assert_eq "$(task_field last state)" skipped "state of last"
assert_eq "$(task_field independent state)" completed "state of independent"
