#!/bin/bash
# The client verbs against a real daemon on a private socket and state dir:
# exit 3 and the hint when no daemon answers; submit, ls, show, logs -f,
# events -f (--count, --since, and a reconnect across a daemon restart with
# no gap and no duplicate), approve and reject through the daemon, pause,
# resume and cancel; answer lists and answers an agent's question and
# approves its action; a 422 submit prints FILE:LINE:COL errors and exits 2;
# every --json output parses. show, logs and approve find the daemon through
# $CORRAL_SOCKET when neither --socket nor --state-dir is given.
. "$(dirname "$0")/lib.sh"

# Agents outlive the daemon by design, so a test that fails with runs in
# flight stops their shims itself: those whose lock is still held (a free
# lock means the shim is gone and its pid may be someone else's).
_client_cleanup() {
  local f p
  for f in "$STATE"/runs/*/lock; do
    [ -f "$f" ] && ! flock -n "$f" true || continue
    p=$(head -c 32 "$f" | tr -dc 0-9)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  done
  _cleanup
}
trap _client_cleanup EXIT

SOCK=$TMP/run/corral.sock
DAEMON_PID=
export CORRAL_SOCKET=$SOCK

# cl VERB ARGS...: a client verb, bounded.
cl() { timeout 60 "$CORRAL" "$@"; }

start_daemon() {
  "$CORRAL" daemon --socket "$SOCK" --state-dir "$STATE" \
    >>"$TMP/daemon.log" 2>&1 &
  DAEMON_PID=$!
  track_pid "$DAEMON_PID"
  wait_for 'cl ls >/dev/null 2>&1' 30
}

stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null
  assert_gone "$DAEMON_PID" "daemon"
}

# task_state MISSION TASK [FIELD]: a field (default state) of the task as
# the daemon shows it.
task_state() {
  cl show --json "$1" >"$TMP/st.json" || return 1
  json_get "[t['${3:-state}'] for t in d['tasks'] if t['id'] == '$2'][0]" "$TMP/st.json"
}

# mission_state MISSION: the mission's state as the daemon shows it.
mission_state() {
  cl show --json "$1" >"$TMP/ms.json" || return 1
  json_get "d['state']" "$TMP/ms.json"
}

# json_ok FILE WHAT: FILE holds one JSON document.
json_ok() {
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" ||
    fail "$2 --json is not JSON: $(head -c 300 "$1")"
  ok "$2 --json parses"
}

note "no daemon: exit 3 and the hint"
for verb in ls "events -f" "pause m" "submit $EXAMPLES/hello.yaml"; do
  # shellcheck disable=SC2086
  cl $verb >"$TMP/out" 2>"$TMP/err"
  assert_eq "$?" 3 "exit status of corral $verb without a daemon"
  assert_match "$(cat "$TMP/err")" "*is the daemon running? start it with \`corral daemon\` (socket $SOCK)*" "message of corral $verb"
done

start_daemon
ok "daemon answers on $SOCK"

cat >"$TMP/review.yaml" <<'EOF2'
mission: rev
defaults: { sandbox: none, timeout: 1m }
agents:
  sh: { adapter: exec, capacity: 2 }
tickets:
  - id: R1
    title: review
    tasks:
      - { id: talk, agent: sh, command: "echo first line; sleep 1; echo last line" }
      - { id: gate, agent: sh, needs: [talk], review: required, command: "echo feedback=$CORRAL_FEEDBACK" }
EOF2
note "submit, ls"
id=$(cl submit "$TMP/review.yaml")
assert_eq "$?/$id" "0/rev" "submit prints the id"
cl ls >"$TMP/ls.out" || fail "ls failed"
grep -q '^rev ' "$TMP/ls.out" || fail "ls does not list rev: $(cat "$TMP/ls.out")"
ok "ls lists rev"
cl ls --json >"$TMP/ls.json" || fail "ls --json failed"
json_ok "$TMP/ls.json" "ls"
assert_eq "$(json_get "[m['id'] for m in d['missions']]" "$TMP/ls.json")" "['rev']" "ls --json ids"

note "logs -f follows the run to its end"
cl logs -f talk >"$TMP/logs.out" 2>"$TMP/logs.err"
assert_eq "$?" 0 "exit status of logs -f"
assert_eq "$(cat "$TMP/logs.out")" "first line
last line" "logs -f output"
run=$(cl show --json rev >"$TMP/s.json" && cl logs --all talk | wc -l)
assert_eq "$run" 2 "logs (not followed) through \$CORRAL_SOCKET"
cl logs 1 >"$TMP/run1.out" || fail "logs RUN failed"
assert_eq "$(head -1 "$TMP/run1.out")" "first line" "logs by run id"
cl logs no-such-task >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 1 "exit status of logs of an unknown task"
assert_match "$(cat "$TMP/err")" "corral: TASK_NOT_FOUND: *" "logs of an unknown task"

note "show, table and --json"
wait_for '[ "$(task_state rev gate)" = pending_review ]' 30
cl show rev >"$TMP/show.out" || fail "show failed"
grep -Eq '^talk +R1 +completed' "$TMP/show.out" || fail "show table: $(cat "$TMP/show.out")"
ok "show prints the task table"
cl show --json >"$TMP/show.json" || fail "show --json failed"
json_ok "$TMP/show.json" "show"
assert_eq "$(json_get "d['mission']" "$TMP/show.json")" rev "show picks the latest mission"

note "events: --count, --since, --json"
cl events --json --count 5 >"$TMP/ev.jsonl" || fail "events --count failed"
assert_eq "$(events "$TMP/ev.jsonl" "[e['seq'] for e in ev]")" "[1, 2, 3, 4, 5]" "events --count 5"
cl events --json --since 3 --count 2 >"$TMP/ev2.jsonl" || fail "events --since failed"
assert_eq "$(events "$TMP/ev2.jsonl" "[e['seq'] for e in ev]")" "[4, 5]" "events --since 3"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  cl events --count 1 >/dev/null || fail "events --count 1 failed"
done
alive "$DAEMON_PID" || fail "the daemon died when clients hung up mid-stream"
ok "the daemon survives clients that hang up mid-stream"
cl events --mission rev >"$TMP/ev.txt" || fail "events (not followed) failed"
grep -q 'run.start' "$TMP/ev.txt" || fail "events prints no run.start"
ok "events without -f ends after the backlog"

note "review through the daemon"
cl approve talk >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 1 "exit status of approving a completed task"
assert_match "$(cat "$TMP/err")" "corral: INVALID_TRANSITION: *" "approving a completed task"
cl reject gate >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 2 "exit status of reject without --feedback"
cl reject --feedback "say please" gate || fail "reject failed"
wait_for '[ "$(task_state rev gate attempts)/$(task_state rev gate)" = 2/pending_review ]' 30
ok "rejected task ran again and waits for review"
assert_match "$(cl logs gate)" "feedback=say please" "the feedback reached the second run"
cl approve --json gate >"$TMP/ap.json" || fail "approve failed"
json_ok "$TMP/ap.json" "approve"
wait_for '[ "$(mission_state rev)" = succeeded ]' 30
ok "the mission succeeded after the approval"
corral_cmd show rev >"$TMP/local.out" || fail "show --state-dir failed"
grep -Eq '^gate +R1 +completed' "$TMP/local.out" || fail "local show: $(cat "$TMP/local.out")"
ok "show --state-dir still reads the state dir"

note "a 422 submit prints FILE:LINE:COL and exits 2"
printf 'mission: bad\nagents:\n  sh: { adapter: exec }\ntickets:\n  - id: X\n    tasks:\n      - { id: a, agent: sh, command: "true", needs: [zz] }\n' >"$TMP/bad.yaml"
cl submit "$TMP/bad.yaml" >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 2 "exit status of an invalid submit"
grep -Eq "^$TMP/bad.yaml:7:[0-9]+: error: .*zz" "$TMP/err" || fail "no FILE:LINE:COL error: $(cat "$TMP/err")"
ok "invalid submit: $(head -1 "$TMP/err")"
grep -q '^corral: VALIDATION_FAILED: ' "$TMP/err" || fail "no VALIDATION_FAILED line"

note "answer: questions and action approvals raised by agents"
cat >"$TMP/gates.yaml" <<'EOF2'
mission: gates
defaults: { sandbox: none, timeout: 1m }
tickets:
  - id: G1
    title: gates
    tasks:
      - { id: asker, command: 'echo "got $(@CORRAL@ agent ask "colour?")"' }
      - { id: actor, command: 'if @CORRAL@ agent request-approval "rm -rf build"; then echo approved; else echo denied; fi' }
EOF2
sed -i "s|@CORRAL@|$CORRAL|g" "$TMP/gates.yaml"
cl submit "$TMP/gates.yaml" >/dev/null || fail "submit gates failed"
# gates_open KIND: how many open gates of KIND (questions, approvals).
gates_open() {
  cl answer --json --mission gates >"$TMP/gates.json" &&
    json_get "len(d['$1'])" "$TMP/gates.json"
}
wait_for '[ "$(gates_open questions)" = 1 ]' 30
ok "answer lists the open question"
qid=$(json_get "d['questions'][0]['id']" "$TMP/gates.json")
cl answer >"$TMP/gates.out" || fail "answer (list) failed"
grep -q "colour?" "$TMP/gates.out" || fail "answer table: $(cat "$TMP/gates.out")"
cl answer "$qid" blue >"$TMP/out" || fail "answer $qid failed"
assert_eq "$(cl logs -f asker)" "got blue" "the agent got the answer"
wait_for '[ "$(gates_open approvals)" = 1 ]' 30
ok "answer lists the open approval"
aid=$(json_get "d['approvals'][0]['id']" "$TMP/gates.json")
cl answer "$aid" approve >"$TMP/out" || fail "answer $aid approve failed"
assert_eq "$(cl logs -f actor | tail -1)" "approved" "the agent's action was approved"
cl answer 99999 blue >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 1 "exit status of answering an unknown question"
assert_match "$(cat "$TMP/err")" "corral: NOT_FOUND: *99999*" "answer of an unknown question"

note "costs"
cl costs --json --by task >"$TMP/costs.json" || fail "costs failed"
json_ok "$TMP/costs.json" "costs"
cl costs --by color >"$TMP/out" 2>&1
assert_eq "$?" 2 "exit status of costs --by color"

note "pause, resume, cancel"
cat >"$TMP/long.yaml" <<'EOF2'
mission: long
defaults: { sandbox: none, timeout: 1m }
agents:
  sh: { adapter: exec, capacity: 1 }
tickets:
  - id: L1
    title: long
    tasks:
      - { id: first, agent: sh, command: "sleep 30" }
      - { id: second, agent: sh, command: "sleep 30" }
      - { id: third, agent: sh, command: "sleep 30" }
EOF2
cl submit "$TMP/long.yaml" >/dev/null || fail "submit long failed"
cl pause --json long >"$TMP/p.json" || fail "pause failed"
json_ok "$TMP/p.json" "pause"
cl ls --json >"$TMP/ls.json"
assert_eq "$(json_get "[m['paused'] for m in d['missions'] if m['id'] == 'long'][0]" "$TMP/ls.json")" true "ls shows long paused"
cl resume long >"$TMP/out" || fail "resume failed"
cl ls --json >"$TMP/ls.json"
assert_eq "$(json_get "[m['paused'] for m in d['missions'] if m['id'] == 'long'][0]" "$TMP/ls.json")" false "ls shows long resumed"
cl cancel --task third --mission long >"$TMP/out" || fail "cancel --task failed"
assert_eq "$(task_state long third)" cancelled "cancel --task"
cl cancel long >"$TMP/out" || fail "cancel failed"
wait_for '[ "$(mission_state long)" = cancelled ]' 30
ok "cancel ends the mission"
cl pause long >"$TMP/out" 2>"$TMP/err"
assert_eq "$?" 1 "exit status of pausing a mission that is over"
assert_match "$(cat "$TMP/err")" "corral: INVALID_TRANSITION: *" "pausing a mission that is over"

note "logs -f picks the output up again after a daemon restart"
cat >"$TMP/slow.yaml" <<EOF2
mission: slow
defaults: { sandbox: none, timeout: 1m }
tickets:
  - id: S1
    title: slow
    tasks:
      - { id: talker, command: "echo one; while [ ! -f $TMP/go ]; do sleep 0.05; done; echo two" }
EOF2
cl submit "$TMP/slow.yaml" >/dev/null || fail "submit slow failed"
cl logs -f --mission slow talker >"$TMP/slow.out" 2>"$TMP/slow.err" &
follower=$!
track_pid "$follower"
wait_for 'grep -q one "$TMP/slow.out"' 30
stop_daemon
start_daemon
touch "$TMP/go"
wait "$follower"
assert_eq "$?" 0 "exit status of logs -f across the restart"
assert_eq "$(tr '\n' ' ' <"$TMP/slow.out")" "one two " "logs -f output across the restart, nothing twice"

note "events -f reconnects across a daemon restart"
last=$(cl events --json | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
want=$((last + 6))
cl events -f --json --count "$want" >"$TMP/f.jsonl" 2>"$TMP/f.err" &
follower=$!
track_pid "$follower"
wait_for "[ \$(wc -l <'$TMP/f.jsonl') -ge $last ]" 30
stop_daemon
start_daemon
sed 's/^mission: rev/mission: rev2/' "$TMP/review.yaml" >"$TMP/rev2.yaml"
cl submit "$TMP/rev2.yaml" >/dev/null || fail "submit after the restart failed"
wait "$follower"
assert_eq "$?" 0 "exit status of the follower"
assert_eq "$(events "$TMP/f.jsonl" "[e['seq'] for e in ev] == list(range(1, $want + 1))")" true "events -f: $want events, no gap, no duplicate"

stop_daemon

note "with no daemon, show falls back to the default state dir"
mkdir -p "$TMP/xdg" && ln -s "$STATE" "$TMP/xdg/corral"
XDG_STATE_HOME=$TMP/xdg cl show --json rev >"$TMP/local.json" 2>"$TMP/err" ||
  fail "show without a daemon: $(cat "$TMP/err")"
assert_eq "$(json_get "d['state']" "$TMP/local.json")" succeeded "show without a daemon reads the state dir"
