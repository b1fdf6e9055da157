#!/bin/bash
# Events-mode replay: recorded missions of the foundation replay
# `identical` — failures with retries and backoff, skipped dependents,
# slots limited by --jobs, a policy review and `review: required` rejected
# then approved across three engines, a Ctrl-C cancellation, one task
# cancelled and a failed one retried through the daemon, an engine killed
# with -9 (a run re-attached, one collected after it ended), tasks an
# agent discovered at run time (one before an existing task) — and a trace
# edited to change one run's outcome is refused by its checksum, then,
# with --no-verify, replays to the exact first divergence.
. "$(dirname "$0")/lib.sh"
# What is under test is the trace, not confinement: no sandbox.
SANDBOX=none
RUN_LIMIT=60

# replay_ok NAME: exports mission NAME and expects `identical`.
replay_ok() {
  corral_cmd export -o "$TMP/$1.corral" "$1" 2>"$TMP/err" ||
    fail "export $1: $(cat "$TMP/err")"
  "$CORRAL" replay "$TMP/$1.corral" >"$TMP/$1.replay" 2>"$TMP/err"
  assert_eq "$?:$(cat "$TMP/$1.replay")" "0:identical" "replay of $1 ($(cat "$TMP/err"))"
}

note "failures, retries with backoff, skips, limited slots"
mission "$TMP/fail.yaml" <<EOF2
mission: fail
tickets:
  - id: A
    tasks:
      - { id: flaky, command: "exit 3", retries: { max: 2, backoff: 100ms..1s, factor: 2 } }
      - { id: dep1, needs: [flaky], command: "true" }
      - { id: dep2, needs: [dep1], command: "true" }
  - id: B
    tasks:
      - { id: b1, command: ["$FA", sleep, "30"] }
      - { id: b2, needs: [b1], command: ["$FA", sleep, "10"] }
  - id: C
    tasks:
      - { id: c1, command: ["$FA", sleep, "20"] }
      - { id: c2, command: "exit 1" }
      - { id: c3, needs: [c1], command: "true" }
  - id: D
    tasks:
      - { id: d1, command: "true" }
      - { id: d2, command: "true" }
      - { id: d3, needs: [d1, d2], command: "true" }
EOF2
corral_run -q --jobs 2 "$TMP/fail.yaml" 2>/dev/null
assert_eq "$?" 1 "the mission fails"
replay_ok fail
"$CORRAL" replay --json "$TMP/fail.corral" >"$TMP/j" 2>/dev/null
assert_eq "$(json_get 'd["jobs"]' "$TMP/j")" 2 "the slot count is inferred from the trace"
"$CORRAL" replay --jobs 1 "$TMP/fail.corral" >"$TMP/o" 2>/dev/null
assert_eq "$?" 1 "replayed with fewer slots, the schedule diverges"
assert_match "$(cat "$TMP/o")" "divergence at event *: expected *, got *" "and says where"

note "reviews across engines"
git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }
git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
git_ add -A
git_ commit -qm init
mission "$TMP/rev.yaml" <<'EOF2'
mission: rev
repo: repo
base: main
policies:
  - { max_diff_lines: 5, action: pending_review }
tickets:
  - id: P2
    tasks:
      - { id: big, command: "seq 1 20 > big.txt" }
  - id: P3
    tasks:
      - { id: doc, review: required, command: "echo \"${CORRAL_FEEDBACK:-draft}\" > doc.txt" }
      - { id: after, needs: [doc], command: "echo after > after.txt" }
EOF2
corral_run -q "$TMP/rev.yaml" 2>/dev/null
corral_cmd approve big >/dev/null || fail "approve big"
corral_cmd reject --feedback final doc >/dev/null || fail "reject doc"
corral_run -q "$TMP/rev.yaml" 2>/dev/null
corral_cmd approve doc >/dev/null || fail "approve doc"
corral_run -q "$TMP/rev.yaml" 2>/dev/null
assert_eq "$?" 0 "the reviewed mission succeeds"
replay_ok rev

note "cancellation"
mission "$TMP/can.yaml" <<EOF2
mission: can
tickets:
  - id: T1
    tasks:
      - { id: long1, command: ["$FA", pidfile, "$TMP/p1", sleep, "100000"] }
      - { id: next1, needs: [long1], command: "true" }
  - id: T2
    tasks:
      - { id: long2, command: ["$FA", pidfile, "$TMP/p2", sleep, "100000"] }
  - id: T3
    tasks:
      - { id: quick, command: "true" }
      - { id: waits, needs: [quick], command: ["$FA", sleep, "100000"] }
EOF2
corral_run -q --jobs 2 "$TMP/can.yaml" >/dev/null 2>&1 &
bg=$!
track_pid "$bg"
wait_for "[ -s '$TMP/p1' ] && [ -s '$TMP/p2' ]"
engine=$(corral_pid "$bg")
track_pid "$engine"
kill -INT "$engine"
wait "$bg"
assert_eq "$?" 5 "cancelled"
replay_ok can

note "through the daemon: one task cancelled, a task failed for good retried"
mission "$TMP/ctl.yaml" <<EOF2
mission: ctl
tickets:
  - id: T1
    tasks:
      - { id: long, command: ["$FA", pidfile, "$TMP/pl", sleep, "100000"] }
      - { id: after, needs: [long], command: "true" }
  - id: T2
    tasks:
      - { id: flaky, retries: { max: 0 }, command: "if [ -e '$TMP/second' ]; then exit 0; fi; touch '$TMP/second'; exit 3" }
      - { id: then, needs: [flaky], command: "true" }
  - id: T3
    tasks:
      - { id: keep, command: "until [ -e '$TMP/go' ]; do sleep 0.05; done" }
EOF2
daemon_start
expect_api 201 - POST /v1/missions -H 'Content-Type: application/yaml' --data-binary @"$TMP/ctl.yaml"
wait_for "[ -s '$TMP/pl' ] && [ \"\$(task_state ctl flaky)\" = failed ]" 30
expect_api 200 - POST "/v1/tasks/long/cancel?mission=ctl"
expect_api 200 - POST "/v1/tasks/flaky/retry?mission=ctl"
wait_for '[ "$(task_state ctl then)" = completed ] && [ "$(task_state ctl after)" = skipped ]' 30
touch "$TMP/go"
wait_for '[ "$(api GET /v1/missions/ctl >/dev/null; jbody .state)" != running ]' 30
assert_eq "$(task_state ctl long):$(task_state ctl keep)" cancelled:completed "long cancelled alone, keep went on"
daemon_stop
replay_ok ctl

note "kill -9 of the engine: one run re-attached, one collected after it ended"
mission "$TMP/k9.yaml" <<EOF2
mission: k9
agents: { sh: { adapter: exec, capacity: 2 } }
tickets:
  - id: T1
    tasks:
      - { id: held, agent: sh, command: "until [ -e '$TMP/k9go' ]; do sleep 0.05; done" }
  - id: T2
    tasks:
      - { id: ends, agent: sh, command: "until [ -e '$TMP/k9dead' ]; do sleep 0.05; done" }
      - { id: after, agent: sh, needs: [held, ends], command: "true" }
EOF2
k9sql() { sqlite3 "file:$STATE/corral.db?mode=ro" "$1" 2>/dev/null; }
corral_run -q --jobs 2 "$TMP/k9.yaml" >/dev/null 2>&1 &
bg=$!
track_pid "$bg"
wait_for '[ "$(k9sql "select count(*) from tasks where mission_id='"'k9'"' and state='"'running'"'")" = 2 ]'
engine=$(corral_pid "$bg")
kill -9 "$engine"
wait "$bg"
touch "$TMP/k9dead"
# The shim of `ends` writes its status once the agent has exited.
ends_dir=$(k9sql "select dir from runs where mission_id='k9' and task_id='ends'")
wait_for '[ -s "$ends_dir/status" ]'
corral_run -q --jobs 2 "$TMP/k9.yaml" >/dev/null 2>&1 &
bg=$!
track_pid "$bg"
wait_for '[ "$(k9sql "select count(*) from events where mission_id='"'k9'"' and kind='"'run.attach'"'")" = 1 ]'
touch "$TMP/k9go"
wait "$bg"
assert_eq "$?" 0 "the mission succeeds after the kill -9"
assert_eq "$(k9sql "select count(*) from events where mission_id='k9' and kind='engine.start'")" 2 "two engines"
replay_ok k9

note "tasks discovered at run time"
mission "$TMP/disc.yaml" <<EOF2
mission: disc
tickets:
  - id: T
    tasks:
      - { id: gen, command: "if [ \"\$CORRAL_TASK\" = gen ]; then $CORRAL agent discover --prompt more --title more; fi" }
      - { id: last, needs: [gen], command: "true" }
  - id: U
    tasks:
      - { id: u1, command: "if [ \"\$CORRAL_TASK\" = u1 ]; then $CORRAL agent discover --prompt again --before u2; fi" }
      - { id: u2, needs: [u1], command: "true" }
EOF2
corral_run -q --jobs 2 "$TMP/disc.yaml" 2>/dev/null
assert_eq "$?" 0 "the mission with discovered tasks succeeds"
show_json disc
assert_eq "$(json_get 'sorted(t["id"] for t in d["tasks"])' "$TMP/show.json")" "['gen', 'gen.1', 'last', 'u1', 'u1.1', 'u2']" "two tasks were discovered"
replay_ok disc

note "an edited outcome"
python3 - "$TMP/fail.corral" "$TMP/edit.corral" >"$TMP/want" <<'EOF2'
import json, shutil, sqlite3, sys
shutil.copy(sys.argv[1], sys.argv[2])
db = sqlite3.connect(sys.argv[2])
db.execute("drop trigger events_no_update")
# d2 succeeded; make its run fail instead.
seq, data = db.execute("select seq, data from events where kind='run.end' and task_id='d2'").fetchone()
d = json.loads(data); d["success"] = False; d["reason"] = "exit 1"
db.execute("update events set data=? where seq=?", (json.dumps(d), seq))
db.commit()
nxt, nd = db.execute("select seq, data from events where kind='state' and task_id='d2' and seq>? order by seq", (seq,)).fetchone()
nd = json.loads(nd)
print("divergence at event %d: expected state d2 %s -> %s (attempt %d), got state d2 running -> failed (attempt 1)" % (nxt, nd["from"], nd["to"], nd["attempt"]))
EOF2
"$CORRAL" replay "$TMP/edit.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 2 "the edited trace fails its checksum"
assert_match "$(cat "$TMP/err")" "*checksum mismatch*" "as a checksum mismatch"
"$CORRAL" replay --no-verify "$TMP/edit.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 1 "replay --no-verify reports a divergence"
assert_eq "$(cat "$TMP/o")" "$(cat "$TMP/want")" "the first divergence, exactly"
