#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# LLM calls in traces and agents-mode replay of agent CLIs (issue 7): an
# offline mission with one ticket per installed CLI (the five real ones, or
# TRACE_LLM_KINDS; opencode's title call races its first model call to the
# same path) under the `agent` profile against the fake provider. The
# store holds one llm_calls row per llm.call event, with the same seqs,
# tokens and cost, and the bodies; the trace carries them and `corral show
# --trace` counts them. Then the fake provider is stopped and `corral
# replay --agents` runs every CLI again against the recorded answers only:
# each ticket identical, every call answered from the trace, none past its
# end, nothing reaching the provider. A copy of the trace whose recorded
# shell command was edited reports that ticket diverged with the path; a
# trace recorded with a tiny record_body_max is refused with the run, the
# call and the size.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
# shellcheck source=../fixtures/fake-provider/clis.sh
. "$repo_root/tests/fixtures/fake-provider/clis.sh"

bindir=${CORRAL_AGENTS_PREFIX:-$repo_root/build-agents}/node_modules/.bin
# shellcheck disable=SC2086
installed_kinds "$bindir" ${TRACE_LLM_KINDS:-${AGENT_CLI_KINDS[*]}}
[ ${#kinds[@]} -gt 0 ] || skip "no agent CLI is installed (run scripts/agent-clis)"

REAL=sk-corral-trace-$$-key
export CORRAL_TRACE_KEY=$REAL
fake_provider_start "$TMP" "" --public-key "$REAL"
track_pid "$FAKE_PID"
export XDG_CONFIG_HOME=$TMP/xdg
mkdir -p "$XDG_CONFIG_HOME/corral"
gateway_json() { # gateway_json [RECORD_BODY_MAX]
  local url=http://127.0.0.1:$FAKE_PORT
  cat >"$XDG_CONFIG_HOME/corral/gateway.json" <<EOF
{"providers": {
  "anthropic": {"base_url": "$url", "api_key_env": "CORRAL_TRACE_KEY"},
  "openai": {"base_url": "$url", "api_key": "$REAL"},
  "gemini": {"base_url": "$url", "api_key": "$REAL"}}${1:+, \"record_body_max\": $1}}
EOF
}
gateway_json

git init -q -b main "$TMP/repo" && git -C "$TMP/repo" -c user.name=t \
  -c user.email=t@t commit -q --allow-empty -m init || fail "git init"

prompt="Create a file named out.txt that contains the word hi. Use your shell tool to run: echo hi > out.txt"
write_mission() { # write_mission FILE NAME KIND...
  local file=$1 name=$2 k
  shift 2
  {
    printf 'mission: %s\nrepo: "%s"\nbase: main\n' "$name" "$TMP/repo"
    printf 'defaults: { sandbox: agent, timeout: 180s, retries: { max: 0 } }\nagents:\n'
    for k in "$@"; do
      printf '  %s: { adapter: %s, model: local-model, env: { PATH: "%s:/usr/local/bin:/usr/bin:/bin" } }\n' \
        "$k" "$k" "$bindir"
    done
    printf 'tickets:\n'
    for k in "$@"; do
      printf '  - id: T-%s\n    tasks:\n      - { id: %s, agent: %s, prompt: "%s" }\n' \
        "$k" "$k" "$k" "$prompt"
    done
  } >"$file"
}

write_mission "$TMP/m.yaml" llm "${kinds[@]}"
# run_ok MISSION WHAT ARGS...: `corral run ARGS` succeeds and each CLI's
# out.txt holds hi on MISSION's ticket branch.
run_ok() {
  local name=$1 what=$2 rc k
  shift 2
  RUN_LIMIT=240 corral_run "$@" >"$TMP/run.out" 2>&1
  rc=$?
  sed 's/^/#   /' "$TMP/run.out" | tail -6
  assert_eq "$rc" 0 "$what"
  for k in "${kinds[@]}"; do
    assert_eq "$(git -C "$TMP/repo" show "corral/$name/T-$k:out.txt" 2>/dev/null)" hi "$k: out.txt committed"
  done
}

run_ok llm "the mission succeeds" "$TMP/m.yaml"

# calls DB MISSION: "ROWS EVENTS | same tokens, cost and seqs | bodies".
calls() {
  python3 - "$1" "$2" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
m = sys.argv[2]
ks = ("input", "output", "cache_read", "cache_write", "reasoning")
ev = [json.loads(d) for (d,) in db.execute(
    "select data from events where kind='llm.call' and mission_id=?", (m,))]
rows = db.execute("select %s, usd, seq, run_id from llm_calls where mission_id=?"
                  % ", ".join(ks), (m,)).fetchall()
et = [sum(e[k] for e in ev) for k in ks] + [round(sum(e.get("usd", 0) for e in ev), 9)]
rt = [sum(r[i] for r in rows) for i in range(len(ks))] + [round(sum(r[5] for r in rows), 9)]
runs = {(r, json.loads(d)["seq"]) for (r, d) in db.execute(
    "select run_id, data from events where kind='llm.call' and mission_id=?", (m,))}
same = rt == et and rt[0] > 0 and runs == {(r[7], r[6]) for r in rows}
bodies = db.execute("select count(*) from llm_calls where mission_id=? and api<>'side'"
                    " and length(request) > 0 and length(response) > 0", (m,)).fetchone()[0]
print(len(rows), len(ev), "|", same, "|", bodies > 0)
EOF
}
n_kinds=${#kinds[@]}
got=$(calls "$STATE/corral.db" llm)
note "llm_calls vs llm.call events: $got"
assert_eq "${got#* * | }" "True | True" "the rows hold the events' tokens, cost and seqs, and the bodies"
read -r ncalls nevents _ <<<"$got"
assert_eq "$ncalls" "$nevents" "one llm_calls row per llm.call event"

corral_cmd export -o "$TMP/llm.corral" llm 2>"$TMP/err" || fail "export: $(cat "$TMP/err")"
got=$(calls "$TMP/llm.corral" llm)
assert_eq "${got%% *}" "$ncalls" "the trace holds every call"
"$CORRAL" show --trace "$TMP/llm.corral" >"$TMP/show.txt" 2>&1 || fail "show --trace"
assert_match "$(cat "$TMP/show.txt")" "*LLM calls: $ncalls,*" "show --trace counts the LLM calls"
want=$(sed -n 's/^LLM calls: //p' "$TMP/show.txt")
corral_cmd show llm >"$TMP/show.txt" 2>&1 || fail "show --state-dir"
assert_eq "$(sed -n 's/^LLM calls: //p' "$TMP/show.txt")" "$want" "show on the state dir: the same calls, tokens and cost"
SOCK=$TMP/d.sock
daemon_start
timeout 60 "$CORRAL" show --socket "$SOCK" llm >"$TMP/show.txt" 2>&1 || fail "show through the daemon"
assert_eq "$(sed -n 's/^LLM calls: //p' "$TMP/show.txt")" "$want" "show through the daemon: the same"
daemon_stop

# Each model call is a chat span under its run, with the GenAI names.
"$CORRAL" export --trace "$TMP/llm.corral" --format otel >"$TMP/otel.json" 2>"$TMP/err" ||
  fail "otel export: $(cat "$TMP/err")"
got=$(python3 - "$TMP/otel.json" "$TMP/llm.corral" <<'EOF'
import json, sqlite3, sys
spans = json.load(open(sys.argv[1]))["resourceSpans"][0]["scopeSpans"][0]["spans"]
attrs = lambda s: {a["key"]: list(a["value"].values())[0] for a in s["attributes"]}
by_id = {s["spanId"]: s for s in spans}
chat = [s for s in spans if attrs(s).get("gen_ai.operation.name") == "chat"]
ok = all(s["name"] == "chat local-model" and attrs(s)["gen_ai.request.model"] == "local-model"
         and attrs(s)["gen_ai.provider.name"] in ("anthropic", "openai", "gemini")
         and attrs(by_id[s["parentSpanId"]])["gen_ai.operation.name"] == "invoke_agent"
         for s in chat)
tokens = sum(int(attrs(s)["gen_ai.usage.output_tokens"]) for s in chat)
db = sqlite3.connect(sys.argv[2])
n, out = db.execute("select count(*), total(output) from llm_calls where api <> 'side'").fetchone()
print(len(chat) == n and tokens == out and n > 0, ok)
EOF
)
assert_eq "$got" "True True" "OTel: one chat span per model call, under its run, with its tokens"

note "the provider is gone: replay against the recorded answers only"
fake_provider_stop
before=$(wc -l <"$TMP/requests.jsonl")
timeout 300 "$CORRAL" replay --agents --work-dir "$TMP/wd" "$TMP/llm.corral" >"$TMP/o" 2>"$TMP/err"
rc=$?
sed 's/^/#   /' "$TMP/o"
assert_eq "$rc" 0 "replay --agents ($(tail -3 "$TMP/err"))"
assert_eq "$(tail -1 "$TMP/o")" "identical ($n_kinds tickets compared)" "every ticket identical"
for k in "${kinds[@]}"; do
  want=$(git -C "$TMP/repo" rev-parse "corral/llm/T-$k^{tree}" | cut -c1-12)
  assert_match "$(grep "^ticket T-$k:" "$TMP/o")" "*identical (tree $want)*" "$k: the recorded tree"
done
replayed=$(python3 - "$TMP/wd/state/corral.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n, rep, past = db.execute("select count(*), total(replayed), total(status = 503)"
                          " from llm_calls where path <> '/'").fetchone()
print(n, int(rep), int(past))
EOF
)
note "replayed calls (count, answered from the trace, past its end): $replayed"
read -r n rep past <<<"$replayed"
[ "$n" -gt 0 ] && [ "$rep" = "$n" ] || fail "not every call was answered from the trace: $replayed"
assert_eq "$past" 0 "no call went past the recorded answers"
assert_eq "$(wc -l <"$TMP/requests.jsonl")" "$before" "nothing reached the provider"

note "corral run --replay-llm: a mission of the same tasks, on the recorded answers"
write_mission "$TMP/r.yaml" rerun "${kinds[@]}"
run_ok rerun "run --replay-llm succeeds with the provider gone" \
  --replay-llm "$TMP/llm.corral" "$TMP/r.yaml"
assert_eq "$(wc -l <"$TMP/requests.jsonl")" "$before" "nothing reached the provider"

note "an edited answer: the shell command writes another word"
cp "$TMP/llm.corral" "$TMP/edit.corral"
k=${kinds[0]}
edited=$(python3 - "$TMP/edit.corral" "$k" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = 0
for rowid, body in db.execute("select rowid, response from llm_calls where task_id=?",
                              (sys.argv[2],)).fetchall():
    b = bytes(body or b"")
    if b"echo hi > out.txt" in b:
        db.execute("update llm_calls set response=? where rowid=?",
                   (b.replace(b"echo hi > out.txt", b"echo yo > out.txt"), rowid))
        n += 1
db.commit()
print(n)
EOF
)
[ "$edited" -ge 1 ] || fail "no recorded answer of $k holds the shell command"
timeout 60 "$CORRAL" replay --agents "$TMP/edit.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 2 "the edited trace fails its checksum"
assert_match "$(cat "$TMP/err")" "*checksum mismatch*" "the reason"
timeout 300 "$CORRAL" replay --agents --no-verify "$TMP/edit.corral" >"$TMP/o" 2>"$TMP/err"
rc=$?
sed 's/^/#   /' "$TMP/o"
assert_eq "$rc" 1 "the edited answer is reported"
assert_eq "$(grep -A2 "^ticket T-$k:" "$TMP/o" | tr -s ' ' | tr '\n' '|')" \
  "ticket T-$k: diverged| 1 file(s) changed, 1 insertion(s)(+), 1 deletion(s)(-)| out.txt|" \
  "ticket T-$k: diverged, with the diff stat and the path"
if [ "$n_kinds" -ge 2 ]; then
  assert_match "$(grep "^ticket T-${kinds[1]}:" "$TMP/o")" "*identical*" "the other tickets stay identical"
fi

"$CORRAL" replay "$TMP/llm.corral" >"$TMP/o" 2>/dev/null
assert_eq "$(cat "$TMP/o")" "identical" "events mode replays it too"

note "an answer cut at record_body_max cannot be replayed"
fake_provider_start "$TMP" "" --public-key "$REAL"
track_pid "$FAKE_PID"
gateway_json 64
write_mission "$TMP/s.yaml" small "${kinds[0]}"
RUN_LIMIT=240 corral_run "$TMP/s.yaml" >/dev/null 2>&1
corral_cmd export -o "$TMP/small.corral" small 2>/dev/null || fail "export small"
timeout 60 "$CORRAL" replay --agents "$TMP/small.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 2 "refused"
assert_match "$(cat "$TMP/err")" "*run * call *: response truncated at 64 bytes; raise record_body_max*" "the run, the call and the size"
