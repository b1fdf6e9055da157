#!/bin/bash
# Every route of the daemon's route table through `curl --unix-socket`:
# status code and body shape, each error code of the one error format, the
# mission controls (pause, resume, cancel), the review gate (approve, reject
# with feedback that the re-run sees as $CORRAL_FEEDBACK) and a retry, the
# Prometheus text of /v1/metrics and the socket's mode.
# The daemon is under test, not the sandbox: agents run unsandboxed here so
# their pidfiles hold host pids (set SANDBOX=agent to run them sandboxed).
SANDBOX=${SANDBOX:-none}
. "$(dirname "$0")/lib.sh"

daemon_start
assert_eq "$(stat -c %a "$SOCK")" 600 "mode of the socket"

# ---- the daemon itself -------------------------------------------------
expect_api 200 - GET /v1/health
assert_eq "$(jbody .status)" ok "health status"
expect_api 200 - GET /v1/info
assert_eq "$(jbody '[(.version|type), (.uptime_s|type), .pid, .state_dir, (.capabilities|type)]|@tsv')" \
  "$(printf 'string\tnumber\t%s\t%s\tarray' "$DPID" "$STATE")" "info shape"
expect_api 200 - GET /v1/stats
assert_eq "$(jbody '[.uptime_s, .missions_running, .runs_live, .connections, .subscribers, .events_sent, .requests] | map(type) | unique | .[]')" \
  number "stats fields are numbers"
expect_api 200 - GET /v1/metrics
assert_match "$(grep -i '^content-type:' "$TMP/hdr" | tr -d '\r')" \
  '*text/plain; version=0.0.4' "metrics content type"
# Prometheus text exposition: comments, or `name value` lines.
bad=$(grep -Ev '^(# (HELP|TYPE) [a-z_]+ .*|[a-z_][a-z0-9_]* [0-9.e+-]+)$' "$TMP/body")
assert_eq "$bad" "" "lines of /v1/metrics that are not Prometheus text"
grep -q '^corral_up 1$' "$TMP/body" || fail "no corral_up 1 in metrics"
ok "metrics has corral_up 1"

# ---- routing errors ----------------------------------------------------
expect_api 404 NOT_FOUND GET /v1/nope
expect_api 404 NOT_FOUND GET /v2/health
expect_api 405 METHOD_NOT_ALLOWED DELETE /v1/health
assert_match "$(grep -i '^allow:' "$TMP/hdr" | tr -d '\r')" '[Aa]llow: GET' "Allow header"
expect_api 405 METHOD_NOT_ALLOWED PUT /v1/missions
assert_match "$(grep -i '^allow:' "$TMP/hdr" | tr -d '\r')" '*GET*' "Allow of /v1/missions lists GET"
assert_match "$(grep -i '^allow:' "$TMP/hdr" | tr -d '\r')" '*POST*' "Allow of /v1/missions lists POST"
expect_api 405 METHOD_NOT_ALLOWED GET /v1/tasks/x/approve
# 413 past the daemon's 8 MiB body limit, 431 past 16 KiB of headers.
head -c $((9 << 20)) /dev/zero >"$TMP/9m"
expect_api 413 PAYLOAD_TOO_LARGE POST /v1/missions --data-binary @"$TMP/9m"
expect_api 431 PAYLOAD_TOO_LARGE GET /v1/health -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
expect_api 200 - GET /v1/health -H "X-Big: $(head -c 8000 /dev/zero | tr '\0' a)"
expect_api 400 BAD_REQUEST GET '/v1/missions?limit=x'
assert_eq "$(jbody .error.details.parameter)" limit "details name the parameter"
expect_api 400 BAD_REQUEST GET '/v1/missions?cursor=-1'
expect_api 400 BAD_REQUEST GET '/v1/events?after=abc'
expect_api 400 BAD_REQUEST GET '/v1/audit?limit=1x'
expect_api 400 BAD_REQUEST GET '/v1/tasks?state=sleeping'
expect_api 400 BAD_REQUEST GET '/v1/costs?group_by=planet'
expect_api 400 BAD_REQUEST GET /v1/runs/x
expect_api 404 NOT_FOUND GET /v1/runs/99
expect_api 404 NOT_FOUND GET /v1/runs/99/output
expect_api 404 MISSION_NOT_FOUND GET /v1/missions/nope
expect_api 404 MISSION_NOT_FOUND GET /v1/missions/nope/tickets
expect_api 404 MISSION_NOT_FOUND POST /v1/missions/nope/pause
expect_api 404 MISSION_NOT_FOUND POST /v1/missions/nope/resume
expect_api 404 MISSION_NOT_FOUND POST /v1/missions/nope/cancel
expect_api 404 TASK_NOT_FOUND GET /v1/tasks/nope
expect_api 404 TASK_NOT_FOUND POST /v1/tasks/nope/approve
expect_api 404 TASK_NOT_FOUND POST /v1/tasks/nope/retry
expect_api 404 TASK_NOT_FOUND POST /v1/tasks/nope/cancel
expect_api 404 TASK_NOT_FOUND POST /v1/tasks/nope/reject -d '{"feedback":"x"}'
expect_api 400 BAD_REQUEST GET /v1/tickets/T1
expect_api 404 NOT_FOUND POST /v1/questions/1/answer -d '{"answer":"yes"}'
expect_api 404 NOT_FOUND POST /v1/approvals/1/approve
expect_api 404 NOT_FOUND POST /v1/approvals/1/deny
expect_api 200 - GET /v1/questions
assert_eq "$(jbody '.questions|type')" array "questions is a list"
expect_api 200 - GET '/v1/questions?state=open'
expect_api 200 - GET /v1/approvals
assert_eq "$(jbody '.approvals|type')" array "approvals is a list"
for g in mission ticket task run agent; do
  expect_api 200 - GET "/v1/costs?group_by=$g"
  assert_eq "$(jbody '[.group_by, .currency, (.groups|type)]|@tsv')" \
    "$(printf '%s\tUSD\tarray' $g)" "costs by $g"
done
expect_api 200 - GET /v1/missions
assert_eq "$(jbody '[(.missions|length), .next_cursor]|@tsv')" "$(printf '0\t')" "no missions yet"

# ---- submitting --------------------------------------------------------
# 422 with line:col for YAML and for JSON.
printf 'mission: bad\ntickets:\n  - id: T\n    tasks:\n      - { id: x, command: "true", nope: 1 }\n' >"$TMP/bad.yaml"
expect_api 422 VALIDATION_FAILED POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/bad.yaml"
assert_eq "$(jbody '.error.details.errors[0] | [.line, .col, (.message|test("nope"))] | @tsv')" \
  "$(printf '5\t35\ttrue')" "line, col and message of the YAML error"
expect_api 422 VALIDATION_FAILED POST "/v1/missions?dir=$TMP" \
  -H 'Content-Type: application/json' --data-binary $'{"mission": "j",\n "tickets": 3}'
assert_eq "$(jbody '.error.details.errors[0] | [.file, .line, (.col|type)] | @tsv')" \
  "$(printf 'mission.json\t2\tnumber')" "file and line of the JSON error"
expect_api 400 BAD_REQUEST POST '/v1/missions?dir=relative' --data-binary @"$TMP/bad.yaml"

# gate: a waits for review and prints the feedback it was given; b needs a.
mission "$TMP/gate.yaml" <<EOF
mission: gate
tickets:
  - id: G-1
    title: The review gate
    tasks:
      - { id: a, review: required, command: 'echo "attempt \$CORRAL_ATTEMPT feedback=[\$CORRAL_FEEDBACK]"' }
      - { id: b, needs: [a], command: "echo after a" }
EOF
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/gate.yaml"
assert_eq "$(jbody '[.id, .state]|@tsv')" "$(printf 'gate\trunning')" "201 body"
wait_for '[ "$(task_state gate a)" = pending_review ]'
ok "a waits for review"
expect_api 409 AGENT_BUSY POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/gate.yaml"
expect_api 409 INVALID_TRANSITION POST /v1/tasks/b/approve
expect_api 400 BAD_REQUEST POST /v1/tasks/a/reject
expect_api 400 BAD_REQUEST POST /v1/tasks/a/reject -d '{"feedback": ""}'
expect_api 400 BAD_REQUEST POST /v1/tasks/a/reject -d '{bad json'
expect_api 400 BAD_REQUEST POST /v1/tasks/a/reject -H 'Content-Type: application/json' \
  --data-binary $'{"feedback": "\xff\xfe"}'
expect_api 200 - POST /v1/tasks/a/reject -d '{"feedback": "add tests"}'
assert_eq "$(jbody '[.mission, .id]|@tsv')" "$(printf 'gate\ta')" "reject reply"
wait_for '[ "$(task_state gate a)" = pending_review ] && [ "$(jbody .attempts)" = 2 ]'
ok "a ran again and waits for review"
expect_api 200 - GET '/v1/tasks/a?mission=gate'
assert_eq "$(jbody '.runs|length')" 2 "runs of a"
run2=$(jbody '.runs[1].id')
expect_api 200 - GET "/v1/runs/$run2"
assert_eq "$(jbody '[.task, .attempt, .state, .exit_code]|@tsv')" \
  "$(printf 'a\t2\tended\t0')" "the second run"
expect_api 200 - GET "/v1/runs/$run2/output"
assert_eq "$(cat "$TMP/body")" "attempt 2 feedback=[add tests]" "the re-run saw \$CORRAL_FEEDBACK"
expect_api 200 - GET "/v1/runs/$run2/output?offset=8"
assert_eq "$(cat "$TMP/body")" "2 feedback=[add tests]" "output from an offset"
expect_api 200 - GET "/v1/runs/$run2/output?follow=1"
assert_eq "$(cat "$TMP/body")" "attempt 2 feedback=[add tests]" "followed output of an ended run ends"
expect_api 200 - POST /v1/tasks/a/approve
assert_eq "$(jbody .state)" completed "state after approve"
wait_for 'api GET /v1/missions/gate >/dev/null && [ "$(jbody .state)" = succeeded ]'
ok "gate succeeded"
assert_eq "$(jbody '[.id, .live, .paused, .tasks.completed]|@tsv')" \
  "$(printf 'gate\tfalse\tfalse\t2')" "mission shape"
expect_api 409 INVALID_TRANSITION POST /v1/missions/gate/pause
expect_api 409 INVALID_TRANSITION POST /v1/missions/gate/resume
expect_api 409 INVALID_TRANSITION POST /v1/tasks/a/approve
expect_api 409 INVALID_TRANSITION POST /v1/tasks/a/retry
expect_api 200 - GET /v1/missions/gate/tickets
assert_eq "$(jbody '.tickets[0] | [.mission, .id, .state] | @tsv')" \
  "$(printf 'gate\tG-1\topen')" "tickets of gate"
expect_api 200 - GET '/v1/tickets/G-1?mission=gate'
assert_eq "$(jbody '[.id, .title, (.commits|type)]|@tsv')" \
  "$(printf 'G-1\tThe review gate\tarray')" "ticket shape"
expect_api 404 NOT_FOUND GET '/v1/tickets/G-9?mission=gate'
expect_api 200 - GET /v1/audit
assert_eq "$(jbody '[.events[] | select(.kind == "review") | .data.decision] | join(",")')" \
  reject,approve "review decisions in the audit log"
assert_eq "$(jbody '[.events[] | select(.kind == "warning")] | length > 0')" true \
  "sandbox none warnings in the audit log"
expect_api 200 - GET '/v1/audit?mission=gate&limit=1'
assert_eq "$(jbody '.events|length')" 1 "audit limit"

# ---- retry ---------------------------------------------------------------
mission "$TMP/flaky.yaml" <<EOF
mission: flaky
tickets:
  - id: F-1
    tasks:
      - { id: f, command: "test -e $TMP/fixed && echo fixed", retries: { max: 0 } }
EOF
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/flaky.yaml"
wait_for 'api GET /v1/missions/flaky >/dev/null && [ "$(jbody .state)" = failed ]'
assert_eq "$(task_state flaky f)" failed "f failed"
touch "$TMP/fixed"
expect_api 200 - POST /v1/tasks/f/retry
wait_for '[ "$(task_state flaky f)" = completed ]'
ok "the retried task completed"
assert_eq "$(jbody '.runs|length')" 2 "runs of f"

# ---- pause, resume, cancel ---------------------------------------------
mission "$TMP/long.yaml" <<EOF
mission: long
tickets:
  - id: L-1
    tasks:
      - { id: w, command: ["$FA", pidfile, "$TMP/w.pid", wait-file, "$TMP/never"] }
      - { id: x, needs: [w], command: "true" }
EOF
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/long.yaml"
wait_for '[ -s "$TMP/w.pid" ]'
wpid=$(read_pid "$TMP/w.pid")
expect_api 200 - GET '/v1/tasks?mission=long&state=running'
assert_eq "$(jbody '[.tasks[].id]|join(",")')" w "running tasks of long"
expect_api 200 - GET '/v1/tasks?state=completed'
assert_eq "$(jbody '[.tasks[] | .mission + "/" + .id] | sort | join(",")')" \
  "flaky/f,gate/a,gate/b" "completed tasks of every mission"
expect_api 409 INVALID_TRANSITION POST /v1/tasks/w/approve
expect_api 409 INVALID_TRANSITION POST /v1/tasks/w/retry
expect_api 409 INVALID_TRANSITION POST /v1/missions/long/resume
expect_api 200 - POST /v1/missions/long/pause
assert_eq "$(jbody .state)" paused "pause reply"
expect_api 409 INVALID_TRANSITION POST /v1/missions/long/pause
expect_api 200 - GET /v1/missions/long
assert_eq "$(jbody '[.live, .paused]|@tsv')" "$(printf 'true\ttrue')" "paused mission"
expect_api 200 - POST /v1/missions/long/resume
assert_eq "$(jbody .state)" running "resume reply"
expect_api 200 - GET /v1/missions/long
assert_eq "$(jbody .paused)" false "resumed mission"
expect_api 200 - GET '/v1/missions?limit=2'
assert_eq "$(jbody '[(.missions|length), .next_cursor]|@tsv')" "$(printf '2\t2')" "first page"
assert_eq "$(jbody '[.missions[].id]|join(",")')" long,flaky "newest first"
expect_api 200 - GET '/v1/missions?limit=2&cursor=2'
assert_eq "$(jbody '[(.missions|length), .next_cursor]|@tsv')" "$(printf '1\t')" "last page"
expect_api 200 - POST /v1/missions/long/cancel
assert_eq "$(jbody .state)" cancelling "cancel reply"
wait_for 'api GET /v1/missions/long >/dev/null && [ "$(jbody .state)" = cancelled ]'
ok "long cancelled"
wait_for '! alive "$wpid"' 10
ok "the agent of w was stopped"
expect_api 409 INVALID_TRANSITION POST /v1/missions/long/pause
expect_api 409 INVALID_TRANSITION POST /v1/missions/long/cancel

# ---- a task id in two missions -------------------------------------------
mission "$TMP/dup.yaml" <<EOF
mission: dup
tickets:
  - id: D-1
    tasks:
      - { id: f, command: "true" }
EOF
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/dup.yaml"
wait_for 'api GET /v1/missions/dup >/dev/null && [ "$(jbody .state)" = succeeded ]'
expect_api 400 BAD_REQUEST GET /v1/tasks/f
expect_api 200 - GET '/v1/tasks/f?mission=dup'
assert_eq "$(jbody '[.mission, .state]|@tsv')" "$(printf 'dup\tcompleted')" "f of dup"
expect_api 404 TASK_NOT_FOUND GET '/v1/tasks/f?mission=gate'
expect_api 400 BAD_REQUEST POST /v1/tasks/f/retry

# ---- events ------------------------------------------------------------
curl -sN --max-time 5 --unix-socket "$SOCK" 'http://corral/v1/events?after=0&mission=gate' \
  -D "$TMP/ev.hdr" -o "$TMP/ev.txt"
assert_match "$(grep -i '^content-type:' "$TMP/ev.hdr" | tr -d '\r')" '*text/event-stream*' "events content type"
python3 - "$TMP/ev.txt" <<'EOF' || fail "the SSE stream is not well formed"
import json, sys
blocks = [b for b in open(sys.argv[1]).read().split("\n\n") if b.strip() and not b.startswith(":")]
seqs = []
for b in blocks:
    f = dict(l.split(": ", 1) for l in b.split("\n") if not l.startswith(":"))
    d = json.loads(f["data"])
    assert int(f["id"]) == d["seq"] and f["event"] == d["kind"] and d["mission"] == "gate", b
    seqs.append(d["seq"])
assert seqs and seqs == sorted(set(seqs)), seqs
EOF
ok "events of gate: id is the seq, event the kind"
note "costs roll up the gateway's llm.call events"
sqlite3 "$STATE/corral.db" "insert into events (ts, mission_id, task_id, run_id, kind, data) values
  (1, 'gate', 'a', 1, 'llm.call', '{\"model\":\"m\",\"input\":100,\"output\":10,\"cache_read\":5,\"cache_write\":0,\"usd\":0.25}'),
  (2, 'gate', 'b', 2, 'llm.call', '{\"model\":\"x\",\"input\":50,\"output\":5,\"cache_read\":0,\"cache_write\":1,\"unpriced\":true}')"
expect_api 200 - GET '/v1/costs?group_by=task&mission=gate'
assert_eq "$(jbody '[.groups[] | [.key, .calls, .input, .output, .usd, .unpriced_calls] | map(tostring) | join(",")] | sort | join(" ")')" \
  "gate/a,1,100,10,0.25,0 gate/b,1,50,5,0,1" "costs per task, the unpriced call counted"
expect_api 200 - GET '/v1/costs?group_by=mission'
assert_eq "$(jbody '[.groups[] | select(.key == "gate") | [.calls, .input, .output, .cache_read, .cache_write, .usd] | map(tostring) | join(",")][0]')" \
  "2,150,15,5,1,0.25" "costs of the mission"
expect_api 200 - GET /v1/stats
assert_eq "$(jbody .missions_running)" 0 "missions running"
[ "$(jbody .requests)" -gt 100 ] || fail "stats counts $(jbody .requests) requests"
ok "stats counts $(jbody .requests) requests"

daemon_stop
