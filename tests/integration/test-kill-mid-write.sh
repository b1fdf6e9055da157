#!/bin/bash
# An agent killed with SIGKILL in the middle of its output leaves a log of
# whole lines "line 1".."line N", and corral reports exactly N messages.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

mission "$TMP/m.yaml" <<EOF2
mission: midwrite
tickets:
  - id: T
    tasks:
      - id: writer
        command: ["$FA", pidfile, "$TMP/pid", numbered, "200000"]
EOF2
corral_run --json "$TMP/m.yaml" >"$TMP/ev.jsonl" 2>"$TMP/err" &
track_pid $!
bg=$!
wait_for '[ -s "$TMP/pid" ]'
# The agent's host pid: in a sandbox, the pidfile holds its namespace's.
pid=$(fa_pids "$TMP/pid")
[ -n "$pid" ] && [ "${pid//[0-9]/}" = "" ] || fail "want one live agent, got pids [$pid]"
track_pid "$pid"
log=$(ls "$STATE"/runs/*/output.log)
wait_for '[ "$(wc -l <"$log")" -gt 1000 ]'
kill -9 "$pid"
note "killed the agent after $(wc -l <"$log") lines"
wait "$bg"
assert_eq "$?" 1 "exit status"
show_json
assert_eq "$(task_field writer reason)" "signal 9 (Killed)" "reason"
corral_cmd logs writer >"$TMP/log"
cmp -s "$TMP/log" "$log" || fail "corral logs differs from $log"
n=$(wc -l <"$TMP/log")
((n > 1000 && n < 200000)) || fail "log has $n lines: the agent was not killed mid-write"
res=$(python3 - "$TMP/log" <<'EOF2'
import sys
data = open(sys.argv[1], "rb").read()
if not data.endswith(b"\n"):
    sys.exit("the log ends with a partial line: %r" % data[-40:])
for k, line in enumerate(data.split(b"\n")[:-1], 1):
    if line != b"line %d" % k:
        sys.exit("line %d of the log is %r" % (k, line))
print(k)
EOF2
) || fail "$res"
ok "the log is 'line 1'..'line $res', whole lines only"
msgs=$(events "$TMP/ev.jsonl" 'sum(1 for e in ev if e["kind"] == "message")')
assert_eq "$msgs" "$n" "message events"
texts=$(events "$TMP/ev.jsonl" 'all(e["data"]["text"] == "line %d" % k for k, e in enumerate((e for e in ev if e["kind"] == "message"), 1))')
assert_eq "$texts" true "message texts are line 1..line N in order"
