#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# `corral resume TASK --turns N` of an interrupted agent CLI session (issue
# 6), for Claude Code and Codex, offline against the fake provider's
# write-file script (step 0: a shell tool call writing out.txt; step 1: a
# final text; the step is the number of tool results in the request, so a
# resumed conversation, which carries the first tool result, gets step 1).
#
# Per CLI: a mission whose task has `max_turns: 1` runs under the `agent`
# sandbox profile. Its first run makes the tool call and is interrupted
# before its second model call (Claude Code by its own --max-turns 1, Codex,
# which has no turn limit, by the gateway's turns cap: budget-exceeded); a
# session event was recorded. Then `corral resume TASK --turns 5` on the
# state dir: the task completes, out.txt is on the ticket branch, the new
# run's argv carries the same session id with --max-turns 5 (Claude), a
# `resume` event names the session, the run it came from and the turns, the
# first run's home is left as it was, and the resumed run's first model
# request holds the earlier conversation: the first prompt, the tool call
# (by its id) and its result. Errors: a completed task, a task without a
# session, an exec agent, bad turns. Then once through the daemon for one
# CLI (`corral resume` on its socket, POST /v1/tasks/{id}/resume): on the
# mission's live engine, with the errors of a running task, bad turns, a
# completed task, and an exec task of a mission that has ended.
#
# CLIs come from $CORRAL_AGENTS_PREFIX/node_modules/.bin; none installed:
# skipped (77).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
# shellcheck source=../fixtures/fake-provider/clis.sh
. "$repo_root/tests/fixtures/fake-provider/clis.sh"

bindir=${CORRAL_AGENTS_PREFIX:-$repo_root/build-agents}/node_modules/.bin
kinds=()
for kind in ${AGENT_KINDS:-claude-code codex}; do
  cmd=$kind
  [ "$kind" != claude-code ] || cmd=claude
  if [ -x "$bindir/$cmd" ]; then kinds+=("$kind"); else note "$kind: not installed"; fi
done
[ ${#kinds[@]} -gt 0 ] || skip "neither claude nor codex is installed (run scripts/agent-clis)"

fake_provider_start "$TMP" ""
track_pid "$FAKE_PID"
fake_gateway_config "$TMP/xdg" sk-resume

git init -q -b main "$TMP/repo" && git -C "$TMP/repo" -c user.name=t \
  -c user.email=t@t commit -q --allow-empty -m init || fail "git init"

prompt="Create a file named out.txt that contains the word hi. Use your shell tool to run: echo hi > out.txt"
# write_mission FILE NAME KIND: one ticket T-KIND with task KIND (max_turns
# 1) and a task of an exec agent, under $SANDBOX.
write_mission() {
  cat >"$1" <<EOF
mission: $2
repo: "$TMP/repo"
defaults: { timeout: 180s, retries: { max: 0 }, sandbox: $SANDBOX }
agents:
  cli: { adapter: $3, model: local-model, env: { PATH: "$bindir:/usr/local/bin:/usr/bin:/bin" } }
  sh: { adapter: exec }
tickets:
  - id: T-$3
    tasks:
      - { id: $3, agent: cli, max_turns: 1, prompt: "$prompt" }
      - { id: sh, agent: sh, command: [sh, -c, "exit 3"] }
EOF
}

# db SQL...: one query on the state dir's store.
db() { python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:]):
    print("|".join(str(c) for c in r))' "$STATE/corral.db" "$@"; }

# runs TASK MISSION: the task's run ids, oldest first.
runs() { db "select id from runs where mission_id=? and task_id=? order by id" "$2" "$1"; }

# session RUN: the session id a run recorded.
session() {
  db "select json_extract(data, '$.text') from events where run_id=? and kind='session' order by seq desc limit 1" "$1"
}

# first_request SESSION_LOG_LINE_FROM: the requests log's first model
# request (one with tools) after line FROM, as a file.
first_request() {
  python3 - "$TMP/requests.jsonl" "$1" "$2" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
for l in lines:
    r = json.loads(l)
    b = r.get("body")
    if isinstance(b, dict) and b.get("tools"):
        json.dump(r, open(sys.argv[3], "w"))
        break
else:
    sys.exit("no model request after line %s" % sys.argv[2])
EOF
}

# first_call_id FROM: the id of the tool call the provider first answered
# with after line FROM of its log, as the fixture renders it: "toolu_fake"
# (Anthropic) or "call_fake" (OpenAI) and the request's seq. The resumed
# conversation must send it back with its result.
first_call_id() {
  python3 - "$TMP/requests.jsonl" "$1" <<'EOF'
import json, sys
for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]:
    r = json.loads(l)
    if (r.get("answer") or {}).get("kind") == "tool_call":
        pre = "toolu_fake" if r["dialect"] == "anthropic" else "call_fake"
        print("%s%06d" % (pre, r["seq"]))
        break
EOF
}

resume_one() { # resume_one KIND
  local k=$1 m=resume-$1 r1 r2 s1 from rc line tool_id
  write_mission "$TMP/$k.yaml" "$m" "$k"
  line=$(cat "$TMP/requests.jsonl" 2>/dev/null | wc -l)
  RUN_LIMIT=200 corral_run "$TMP/$k.yaml" >"$TMP/$k.run1" 2>&1
  rc=$?
  note "$k: first corral run exited $rc"
  show_json "$m"
  assert_eq "$(task_field "$k" state)" failed "$k: the first run did not complete"
  reason=$(task_field "$k" reason)
  note "$k: first run ended: $reason"
  r1=$(runs "$k" "$m")
  assert_eq "$(echo "$r1" | wc -l)" 1 "$k: one run so far"
  s1=$(session "$r1")
  [ -n "$s1" ] || fail "$k: the first run recorded no session id"
  ok "$k: the first run recorded session $s1"
  case $k in
  claude-code)
    # Claude Code stops by its own turn limit before a second model call.
    assert_eq "$rc" 1 "$k: corral run exits 1 (the CLI failed)"
    assert_match "$(db "select group_concat(json_extract(data,'$.text')) from events where run_id=? and kind='error'" "$r1")" \
      '*max*turns*' "$k: stopped by its own --max-turns 1"
    assert_eq "$(db "select count(*) from events where run_id=? and kind='llm.call' and json_extract(data,'$.path') like '%messages'" "$r1")" 1 \
      "$k: one model call in the first run"
    ;;
  codex)
    # Codex has no turn limit: the gateway refuses the second call.
    assert_eq "$rc" 4 "$k: corral run exits 4 (a limit)"
    assert_match "$reason" 'budget-exceeded*' "$k: stopped by the gateway's turns cap"
    ;;
  esac
  [ "$(db "select count(*) from events where run_id=? and kind='tool_call'" "$r1")" -ge 1 ] ||
    fail "$k: the first run made no tool call"
  ok "$k: the first run made its tool call"
  tool_id=$(first_call_id "$line")
  note "$k: the first answer's tool call id: $tool_id"
  find "$STATE/runs/$r1/home" -printf '%P %m\n' | sort >"$TMP/$k.home1"

  # Errors first: nothing may start for them.
  corral_cmd resume --mission "$m" --turns 0 "$k" >/dev/null 2>"$TMP/err"
  assert_eq "$?" 2 "$k: --turns 0 is a usage error"
  corral_cmd resume --mission "$m" --turns 5 sh >/dev/null 2>"$TMP/err"
  assert_eq "$?" 1 "$k: an exec task cannot be resumed"
  assert_match "$(cat "$TMP/err")" '*not an agent CLI*' "$k: exec agents have no session"

  line=$(wc -l <"$TMP/requests.jsonl")
  RUN_LIMIT=200 corral_cmd resume --mission "$m" --turns 5 "$k" >"$TMP/$k.run2" 2>&1
  rc=$?
  sed 's/^/#   /' "$TMP/$k.run2" | tail -5
  assert_eq "$rc" 1 "$k: the resumed mission exits as corral run (its exec task fails)"
  show_json "$m"
  assert_eq "$(task_field "$k" state)" completed "$k: the resumed task completed"
  assert_eq "$(git -C "$TMP/repo" show "corral/$m/T-$k:out.txt" 2>/dev/null)" hi \
    "$k: out.txt is committed on the ticket branch"
  r2=$(runs "$k" "$m" | tail -1)
  [ "$r2" != "$r1" ] || fail "$k: no new run"
  assert_eq "$(db "select json_extract(data,'$.session'), json_extract(data,'$.from_run'), json_extract(data,'$.turns') from events where run_id=? and kind='resume'" "$r2")" \
    "$s1|$r1|5" "$k: the resume event names the session, the run it came from and the turns"
  # corral keeps each run's argv in RUNDIR/argv.json.
  argv=$(json_get '" ".join(d)' "$STATE/runs/$r2/argv.json")
  note "$k: resumed argv: $argv"
  case $k in
  claude-code)
    assert_match "$argv" "*--max-turns 5 *--resume $s1 *" "$k: argv resumes $s1 with 5 turns" ;;
  codex)
    assert_match "$argv" "*exec resume *-- $s1 *" "$k: argv resumes $s1" ;;
  esac
  find "$STATE/runs/$r1/home" -printf '%P %m\n' | sort | cmp -s - "$TMP/$k.home1" ||
    fail "$k: the first run's home changed"
  ok "$k: the first run's home is left as it was"
  first_request "$line" "$TMP/$k.req"
  python3 - "$TMP/$k.req" "$prompt" "$tool_id" <<'EOF' || fail "$k: the resumed request lacks the earlier conversation"
import json, sys
r, prompt, tool_id = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
body = json.dumps(r["body"])
assert prompt in body, "the first prompt is missing"
assert tool_id and tool_id in body, "the tool call id %r is missing" % tool_id
assert "echo hi > out.txt" in body, "the tool call is missing"
assert r["answer"]["step"] == 1, "answered with step %r" % r["answer"]["step"]
EOF
  ok "$k: the resumed run's first model request holds the first prompt, tool call $tool_id and its result"
  corral_cmd resume --mission "$m" --turns 5 "$k" >/dev/null 2>"$TMP/err"
  assert_eq "$?" 1 "$k: a completed task cannot be resumed"
  assert_match "$(cat "$TMP/err")" '*completed*' "$k: says it is completed"
}

for k in "${kinds[@]}"; do resume_one "$k"; done

# A task that never recorded a session.
cat >"$TMP/none.yaml" <<EOF
mission: none
repo: "$TMP/repo"
defaults: { timeout: 60s, retries: { max: 0 }, sandbox: $SANDBOX }
agents:
  cli: { adapter: ${kinds[0]}, model: local-model, env: { PATH: "/nonexistent" } }
tickets:
  - id: T-none
    tasks:
      - { id: gone, agent: cli, prompt: "$prompt" }
EOF
RUN_LIMIT=60 corral_run "$TMP/none.yaml" >/dev/null 2>&1
corral_cmd resume --mission none --turns 2 gone >/dev/null 2>"$TMP/err"
assert_eq "$?" 1 "a task without a session cannot be resumed"
assert_match "$(cat "$TMP/err")" '*task gone: no run recorded a session id to resume*' \
  "says no run recorded a session id"

# Through the daemon, for one CLI, on the mission's live engine: a second
# ticket's exec task keeps the mission running meanwhile, and is cancelled
# at the end.
k=${kinds[0]} m=daemon-resume
cat >"$TMP/d.yaml" <<EOF
mission: $m
repo: "$TMP/repo"
defaults: { timeout: 180s, retries: { max: 0 }, sandbox: $SANDBOX }
agents:
  cli: { adapter: $k, model: local-model, env: { PATH: "$bindir:/usr/local/bin:/usr/bin:/bin" } }
  sh: { adapter: exec }
tickets:
  - id: T-$k
    tasks:
      - { id: $k, agent: cli, max_turns: 1, prompt: "$prompt" }
  - id: T-wait
    tasks:
      - { id: wait, agent: sh, command: [sleep, "170"] }
EOF
daemon_start
expect_api 201 - POST /v1/missions -H 'Content-Type: application/yaml' --data-binary @"$TMP/d.yaml"
wait_for '[ "$(task_state "$m" "$k")" = failed ]' 200
assert_eq "$(task_state "$m" wait)" running "daemon: the mission is live"
r1=$(runs "$k" "$m")
s1=$(session "$r1")
[ -n "$s1" ] || fail "daemon: no session recorded"
expect_api 400 BAD_REQUEST POST "/v1/tasks/$k/resume?mission=$m" -d '{"turns": 0}'
expect_api 409 INVALID_TRANSITION POST "/v1/tasks/wait/resume?mission=$m" -d '{"turns": 2}'
timeout 60 "$CORRAL" resume --socket "$SOCK" --json --mission "$m" --turns 5 "$k" >"$TMP/body" ||
  fail "daemon: corral resume exited $?"
assert_eq "$(jbody .session)" "$s1" "daemon: corral resume names the session"
assert_eq "$(jbody .from_run)" "$r1" "daemon: corral resume names the run"
wait_for '[ "$(task_state "$m" "$k")" = completed ]' 200
expect_api 409 INVALID_TRANSITION POST "/v1/tasks/$k/resume?mission=$m" -d '{"turns": 5}'
assert_eq "$(git -C "$TMP/repo" show "corral/$m/T-$k:out.txt" 2>/dev/null)" hi \
  "daemon: out.txt is committed on the ticket branch"
r2=$(runs "$k" "$m" | tail -1)
assert_eq "$(db "select json_extract(data,'$.session') from events where run_id=? and kind='resume'" "$r2")" \
  "$s1" "daemon: the new run resumed $s1"
expect_api 200 - GET "/v1/audit?mission=$m"
assert_eq "$(jbody "[.events[] | select(.kind == \"resume\") | .data.session] | join(\",\")")" \
  "$s1" "daemon: the resume is in the audit log"
expect_api 200 - POST "/v1/tasks/wait/cancel?mission=$m"
wait_for '[ "$(api GET "/v1/missions/$m" >/dev/null; jbody .state)" != running ]' 60
# The mission has ended: the resume is checked before it is taken up again.
expect_api 422 VALIDATION_FAILED POST "/v1/tasks/wait/resume?mission=$m" -d '{"turns": 2}'

# A mission that has ended with its CLI task interrupted: the daemon takes
# it up again for the resume, and the resumed run completes it.
m=ended-resume
sed -e "s/^mission: .*/mission: $m/" -e '/T-wait/,$d' "$TMP/d.yaml" >"$TMP/e.yaml"
expect_api 201 - POST /v1/missions -H 'Content-Type: application/yaml' --data-binary @"$TMP/e.yaml"
wait_for '[ "$(api GET "/v1/missions/$m" >/dev/null; jbody .state)" = failed ]' 200
ok "ended: the mission failed with $k interrupted"
s1=$(session "$(runs "$k" "$m")")
[ -n "$s1" ] || fail "ended: no session recorded"
expect_api 202 - POST "/v1/tasks/$k/resume?mission=$m" -d '{"turns": 5}'
wait_for '[ "$(api GET "/v1/missions/$m" >/dev/null; jbody .state)" = succeeded ]' 200
ok "ended: the mission was taken up again and succeeded"
r2=$(runs "$k" "$m" | tail -1)
assert_eq "$(db "select json_extract(data,'$.session') from events where run_id=? and kind='resume'" "$r2")" \
  "$s1" "ended: the new run resumed $s1"
assert_eq "$(git -C "$TMP/repo" show "corral/$m/T-$k:out.txt" 2>/dev/null)" hi \
  "ended: out.txt is committed on the ticket branch"
daemon_stop
ok "resume: ${kinds[*]}"
