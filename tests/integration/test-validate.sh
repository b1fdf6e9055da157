#!/bin/bash
# corral validate reports each problem as FILE:LINE:COL: error: ... and
# exits 2; corral run of an invalid file exits 2 and runs nothing.
. "$(dirname "$0")/lib.sh"

cd "$TMP" || fail "cd $TMP"
cat >bad.yaml <<'EOF2'
mission: bad
tickets:
  - id: T
    tasks:
      - id: a
        command: ["touch", "ran-a"]
        timeout: forever
EOF2
cat >syntax.yaml <<'EOF2'
mission: syntax
tickets:
  - id: T
    tasks:
      - id: a
        command: ["touch", "ran-s"]
     prompt: misaligned
EOF2
cat >cycle.yaml <<'EOF2'
mission: cycle
tickets:
  - id: T
    tasks:
      - id: a
        needs: [b]
        command: ["touch", "ran-a"]
      - id: b
        needs: [a]
        command: ["touch", "ran-b"]
EOF2

timeout 60 "$CORRAL" validate bad.yaml >out 2>&1
assert_eq "$?" 2 "exit status of validate bad.yaml"
assert_eq "$(cat out)" "bad.yaml:7:18: error: invalid duration 'forever' for 'timeout' (expected e.g. 90s, 5m, 2h)" "validate bad.yaml"

timeout 60 "$CORRAL" validate syntax.yaml >out 2>&1
assert_eq "$?" 2 "exit status of validate syntax.yaml"
assert_eq "$(cat out)" "syntax.yaml:7:6: error: did not find expected key while parsing a block mapping (started at 3:5)" "validate syntax.yaml"

# The cycle is reported where it closes: b's needs entry naming a.
timeout 60 "$CORRAL" validate cycle.yaml >out 2>&1
assert_eq "$?" 2 "exit status of validate cycle.yaml"
assert_eq "$(cat out)" "cycle.yaml:9:17: error: dependency cycle: a -> b -> a" "validate cycle.yaml"

# Several files: one line per problem, exit 2 if any is bad.
timeout 60 "$CORRAL" validate "$EXAMPLES/hello.yaml" bad.yaml cycle.yaml >out 2>&1
assert_eq "$?" 2 "exit status of validate good + bad files"
assert_eq "$(grep -c ': error: ' out)" 2 "error lines for two bad files"
grep -q "hello.yaml: ok (" out || fail "no ok line for hello.yaml: $(cat out)"
ok "hello.yaml reported ok"

timeout 60 "$CORRAL" validate "$EXAMPLES/hello.yaml" "$EXAMPLES/failing.yaml" >out 2>&1
assert_eq "$?" 0 "exit status of validate on the examples"

for f in bad syntax cycle; do
  corral_run "$f.yaml" >out 2>&1
  assert_eq "$?" 2 "exit status of corral run $f.yaml"
  grep -q "^$f.yaml:[0-9]*:[0-9]*: error: " out || fail "corral run $f.yaml printed no diagnostic: $(cat out)"
done
ls ran-* >/dev/null 2>&1 && fail "a task of an invalid mission ran: $(ls ran-*)"
ok "no task of an invalid mission ran"
[ -e "$STATE/runs" ] && fail "corral run of an invalid mission created runs: $(ls "$STATE/runs")"
ok "no run directory was created"
