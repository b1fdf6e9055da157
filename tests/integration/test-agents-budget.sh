#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Budgets of the LLM gateway across scopes and restarts, with Claude Code
# under the `agent` sandbox profile against the fake provider (issue 6):
#  (a) a ticket's budget and a task's budget each stop their run: the next
#      call is refused, the budget-exceeded event names the scope, the task
#      ends budget-exceeded and `corral run` exits 4;
#  (b) spending survives the engine: a mission budget is partly spent, the
#      engine is killed (kill -9 of `corral run`) while the agent runs a
#      command that waits for a file, a new `corral run` re-attaches, and
#      the agent's next call, over what is left, is refused there;
#  (c) a run re-attached by a restarted daemon gets its gateway back: the
#      daemon is killed -9 while the agent waits, a new daemon re-attaches,
#      the agent's next call goes through the new daemon's gateway, the task
#      completes and out.txt is committed. As root, under the `agent`
#      profile (the port made in the run's network namespace) and with
#      sandbox none (the engine's own port on the host), then (when the build
#      is readable by nobody) as nobody, which takes the listener back from
#      its own shim through pidfd_getfd(2) without privileges.
# Skipped (77) when claude is not installed (scripts/agent-clis).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
# shellcheck source=../fixtures/fake-provider/clis.sh
. "$repo_root/tests/fixtures/fake-provider/clis.sh"

bindir=${CORRAL_AGENTS_PREFIX:-$repo_root/build-agents}/node_modules/.bin
[ -x "$bindir/claude" ] || skip "claude is not installed (run scripts/agent-clis)"

# The fixture's script: the shell step waits for .go in the worktree, so a
# test decides when the agent makes its next call. Step 1 is 1584 tokens
# (1200 + 34 + 300 + 50), step 2 1712.
cat >"$TMP/wait.json" <<'EOF'
{"name": "wait", "model": "local-model",
 "steps": [
   {"type": "shell",
    "command": "until [ -e .go ]; do sleep 0.1; done; rm .go; echo hi > out.txt",
    "usage": {"input": 1200, "output": 34, "cache_read": 300, "cache_write": 50}},
   {"type": "text", "text": "Done: out.txt now contains hi.",
    "usage": {"input": 1300, "output": 12, "cache_read": 400, "cache_write": 0}}],
 "side": {"text": "Write a file", "usage": {"input": 20, "output": 5}}}
EOF
KEY=sk-corral-budget-$$
fake_provider_start "$TMP" "$TMP/wait.json" --public-key "$KEY"
track_pid "$FAKE_PID"
fake_gateway_config "$TMP/xdg" "$KEY"

git init -q -b main "$TMP/repo" && git -C "$TMP/repo" -c user.name=t \
  -c user.email=t@t commit -q --allow-empty -m init || fail "git init"

prompt="Create out.txt with the word hi using your shell tool."
# write_mission FILE NAME MISSION_BUDGET <<< "TICKET TASK TICKET_BUDGET TASK_BUDGET"
# lines ("-": no budget); budgets are flow maps such as "{ tokens: 300 }".
# The tasks run under the profile $PROFILE (default agent).
write_mission() {
  local tk ts tb sb
  {
    printf 'mission: %s\nrepo: "%s"\n' "$2" "$TMP/repo"
    [ "$3" = - ] || printf 'budget: %s\n' "$3"
    printf 'defaults: { timeout: 150s, retries: { max: 0 }, sandbox: %s }\nagents:\n' \
      "${PROFILE:-agent}"
    printf '  claude: { adapter: claude-code, model: local-model, env: { PATH: "%s:/usr/local/bin:/usr/bin:/bin" } }\n' "$bindir"
    printf 'tickets:\n'
    while read -r tk ts tb sb; do
      printf '  - id: %s\n' "$tk"
      [ "$tb" = - ] || printf '    budget: %s\n' "${tb//_/ }"
      printf '    tasks:\n      - { id: %s, agent: claude, prompt: "%s"' "$ts" "$prompt"
      [ "$sb" = - ] || printf ', budget: %s' "${sb//_/ }"
      printf ' }\n'
    done
  } >"$1"
}

sql() { sqlite3 "file:$STATE/corral.db?mode=ro" "$1" 2>/dev/null; }
# calls MISSION: how many calls of the mission got the first step's answer.
calls() {
  local n
  n=$(sql "select count(*) from events where mission_id='$1' and kind='llm.call' and json_extract(data,'\$.input')=1200")
  echo "${n:-0}"
}
# budget_event TASK: the data of the task's budget-exceeded event.
budget_event() {
  sql "select data from events where kind='budget-exceeded' and task_id='$1'"
}
# go MISSION TICKET: lets the waiting agent of TICKET go on.
go() {
  wait_for "[ -d '$STATE/worktrees/$1/$2' ]" 60
  touch "$STATE/worktrees/$1/$2/.go"
}

# ---- (a) a ticket's budget, a task's budget ---------------------------------
write_mission "$TMP/a.yaml" scopes "{ tokens: 100000 }" <<'EOF'
T-ticket t-ticket {_tokens:_300_} -
T-task t-task - {_tokens:_300_}
EOF
corral_run --jobs 2 "$TMP/a.yaml" >"$TMP/a.out" 2>&1 &
arun=$!
track_pid "$arun"
# The first step's call goes through (nothing is spent yet); the agent then
# waits in its shell step until .go, and its next call is refused.
wait_for '[ "$(calls scopes)" -ge 2 ]' 90
go scopes T-ticket
go scopes T-task
wait "$arun"
assert_eq "$?" 4 "a ticket and a task over budget: corral run exits 4"
show_json scopes
for t in ticket task; do
  assert_match "$(task_field "t-$t" reason)" 'budget-exceeded*' "t-$t ended for its budget"
  assert_eq "$(budget_event "t-$t")" "{\"budget\":\"tokens\",\"scope\":\"$t\"}" \
    "the budget-exceeded event of t-$t"
done
refused=$(sql "select count(*) from events where mission_id='scopes' and kind='llm.call' and json_extract(data,'\$.refused') and json_extract(data,'\$.status')=429")
[ "$refused" -ge 2 ] || fail "calls refused with 429: $refused, want 2 or more"
ok "the calls over the budgets were refused with 429 ($refused)"

# ---- (b) spending survives a kill -9 of the engine --------------------------
# 1500 tokens: the first call (1584) goes through, leaving nothing; a new
# engine that forgot it would let the next one through.
write_mission "$TMP/b.yaml" survive "{ tokens: 1500 }" <<<"T-s t-s - -"
corral_run --json "$TMP/b.yaml" >"$TMP/b1.jsonl" 2>&1 &
first=$!
track_pid "$first"
wait_for '[ "$(calls survive)" -ge 1 ]' 90
engine=$(corral_pid "$first")
[ -n "$engine" ] || fail "no corral process under $first"
kill -9 "$engine"
wait "$first"
note "the first engine (pid $engine) was killed with the agent waiting"
corral_run --json "$TMP/b.yaml" >"$TMP/b2.jsonl" 2>&1 &
second=$!
track_pid "$second"
wait_for '[ "$(grep -c "\"kind\":\"run.attach\"" "$TMP/b2.jsonl")" -ge 1 ]' 60
ok "the second engine re-attached the run"
go survive T-s
wait "$second"
assert_eq "$?" 4 "the call over the rest of the budget: corral run exits 4"
assert_eq "$(budget_event t-s)" '{"budget":"tokens","scope":"mission"}' \
  "the budget-exceeded event after the restart"
attach=$(sql "select seq from events where mission_id='survive' and kind='run.attach'")
late=$(sql "select count(*) from events where mission_id='survive' and kind='llm.call' and seq > $attach and json_extract(data,'\$.refused')")
[ "$late" -ge 1 ] || fail "no call was refused by the second engine"
ok "the second engine refused the call ($late refused after run.attach)"
assert_eq "$(sql "select count(distinct run_id) from events where mission_id='survive' and kind='llm.call'")" 1 \
  "runs that called the gateway (the same run before and after)"

# ---- an unknown model is reported, never priced at 0 ------------------------
write_mission "$TMP/u.yaml" unpriced - <<<"T-u t-u - -"
sed -i 's/model: local-model/model: mystery-model-9/' "$TMP/u.yaml"
corral_run "$TMP/u.yaml" >"$TMP/u.out" 2>&1 &
urun=$!
track_pid "$urun"
wait_for '[ "$(calls unpriced)" -ge 1 ]' 90
go unpriced T-u
wait "$urun"
assert_eq "$?" 0 "a model without a price: the task still completes"
assert_match "$(grep 'warning:' "$TMP/u.out")" "*model 'mystery-model-9' is not in the pricing table*" \
  "corral run warns of the unpriced model"
assert_eq "$(sql "select count(*) from events where mission_id='unpriced' and kind='warning' and json_extract(data,'\$.model')='mystery-model-9'")" 1 \
  "one warning event for the model, however many calls"
assert_eq "$(sql "select count(*) = sum(json_extract(data,'\$.unpriced')) from events where mission_id='unpriced' and kind='llm.call' and json_extract(data,'\$.usage_seen')")" 1 \
  "every call with usage is marked unpriced"
assert_match "$(corral_cmd costs --mission unpriced | tail -1)" '*0.0000*unpriced)' \
  "corral costs counts the unpriced calls apart"

# ---- (c) a restarted daemon serves the re-attached run's gateway ------------
# held_only_by_shim NAME: the run's shim holds the socketpair end (fd 3)
# that keeps the gateway's port, and no process under it has that socket.
held_only_by_shim() {
  local shim sock queue p f n=0
  shim=$(sql "select shim_pid from runs where mission_id='$1' and state='running'")
  sock=$(readlink "/proc/$shim/fd/3")
  assert_match "$sock" 'socket:\[*\]' "$1: fd 3 of the shim (pid $shim)"
  queue=$(cat /proc/"$shim"/task/*/children)
  while [ -n "$queue" ]; do
    read -r p queue <<<"$queue"
    n=$((n + 1))
    for f in /proc/"$p"/fd/*; do
      [ "$(readlink "$f" 2>/dev/null)" != "$sock" ] || fail "$1: $f (pid $p) holds the shim's $sock"
    done
    queue="$queue $(cat /proc/"$p"/task/*/children 2>/dev/null)"
    queue=${queue# }
  done
  [ "$n" -ge 1 ] || fail "$1: no process under the shim"
  ok "$1: none of the $n processes under the shim holds $sock"
}

# reattach NAME: one waiting task through the daemon, killed -9 and
# restarted while the agent waits; the run completes through the new one.
reattach() {
  local name=$1 attach
  write_mission "$TMP/$name.yaml" "$name" - <<<"T-$name t-$name - -"
  expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/$name.yaml"
  wait_for '[ "$(calls "$name")" -ge 1 ]' 90
  held_only_by_shim "$name"
  daemon_stop KILL
  note "daemon killed with SIGKILL while the agent waits"
  daemon_start
  wait_for "[ \"\$(sql \"select count(*) from events where mission_id='$name' and kind='run.attach'\")\" = 1 ]" 30
  ok "$name: the new daemon re-attached the run"
  go "$name" "T-$name"
  wait_for "api GET /v1/missions/$name >/dev/null && [ \"\$(jbody .state)\" = succeeded ]" 120
  ok "$name: the mission succeeded"
  attach=$(sql "select seq from events where mission_id='$name' and kind='run.attach'")
  late=$(sql "select count(*) from events where mission_id='$name' and kind='llm.call' and seq > $attach and json_extract(data,'\$.status')=200 and not json_extract(data,'\$.refused')")
  [ "$late" -ge 1 ] || fail "$name: no call went through the new daemon's gateway"
  ok "$name: $late call(s) went through the new daemon's gateway"
  assert_eq "$(git -C "$TMP/repo" -c safe.directory='*' show "corral/$name/T-$name:out.txt" 2>/dev/null)" hi \
    "$name: out.txt committed on the ticket branch"
  # The new daemon's calls go on after the old one's: every call of the run,
  # before and after the restart, is stored with its own seq.
  assert_eq "$(sql "select count(*), count(distinct seq), max(seq) from llm_calls where mission_id='$name'")" \
    "$(sql "select count(*), count(*), count(*) from events where mission_id='$name' and kind='llm.call'")" \
    "$name: llm_calls rows, distinct seqs and the last seq = llm.call events"
}

daemon_start
reattach reattach
PROFILE=none reattach hostport
daemon_stop

# As nobody: the daemon, its shims and the agents run as uid 65534, and
# the new daemon takes the listener from a shim it does not own as root.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
  note "not root: the re-attach as nobody is not checked"
elif ! $nobody test -x "$CORRAL" -a -x "$bindir/claude"; then
  note "nobody cannot execute $CORRAL or claude: the re-attach as nobody is not checked"
else
  rm -f "$TMP/body" "$TMP/hdr"
  chown -R 65534:65534 "$TMP"
  STATE=$TMP/nobody-state SOCK=$TMP/nobody.sock RUN_AS=$nobody HOME=$TMP
  export HOME
  daemon_start
  assert_eq "$(stat -c %u "/proc/$DPID")" 65534 "the daemon's uid"
  reattach nobody
  daemon_stop
fi
