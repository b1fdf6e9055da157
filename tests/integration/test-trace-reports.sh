#!/bin/bash
# Reports: `corral export --format otel|atif|junit|md`. A mission with a
# completed task, a failing one (XML-hostile output, a non-UTF-8 byte) and
# a skipped one runs; the claude-code adapter's recorded events for
# tests/data/claude-code/write-file (tool call, tool result, message,
# usage) are appended to the completed task's run, as the engine records a
# CLI's stream. Then: every gen_ai.* attribute of the OTel export is in
# tests/data/otel-genai-attributes.txt, spans nest mission > task > run >
# tool, the tool span carries its name and call id and the run its tokens;
# the gateway's records of that run (two model calls, a token count) give
# two `chat` spans under the run with the GenAI model, provider and token
# attributes and the cost, and the run's cost in every format;
# the JUnit file validates against tests/data/junit.xsd with xmllint; the
# ATIF export has one trajectory per run with the tool call and its result;
# the Markdown summary has a row per task. Reports read from a trace file
# equal those read from the state dir.
. "$(dirname "$0")/lib.sh"
# What is under test is the trace, not confinement: no sandbox.
SANDBOX=none
RUN_LIMIT=60
DATA=$(cd "$(dirname "$0")/../data" && pwd)
command -v xmllint >/dev/null || skip "xmllint (libxml2-utils) is not installed"

mission "$TMP/m.yaml" <<'EOF2'
mission: rep
tickets:
  - id: T
    tasks:
      - { id: write, command: "echo wrote" }
      - { id: bad, command: "echo 'bad <xml> & \"quotes\" ]]>'; printf '\\001\\377\\n'; exit 4" }
      - { id: after, needs: [bad], command: "true" }
EOF2
corral_run -q "$TMP/m.yaml" 2>/dev/null
assert_eq "$?" 1 "the mission fails"
python3 - "$STATE/corral.db" "$DATA/claude-code/write-file.events" <<'EOF2'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run, ts = db.execute("select id, started_at from runs where task_id='write'").fetchone()
for n, line in enumerate(open(sys.argv[2])):
    kind, text = line.rstrip("\n").split("\t", 1)
    db.execute("insert into events (ts, mission_id, task_id, run_id, kind, data) values (?,?,?,?,?,?)",
               (ts + n, "rep", "write", run, kind, json.dumps({"text": text, "truncated": False})))
# The gateway's records of the same run: the two model calls of the
# write-file scenario (their tokens add up to the usage events') and a
# token count, a side request that gets no chat span.
sse = (b'event: message_start\ndata: {"type":"message_start","message":'
       b'{"id":"msg_1","model":"claude-sonnet-4-5-20250929"}}\n\n')
calls = [(1, "messages", "/v1/messages", 200, sse, 1200, 34, 300, 50, 0.0123),
         (2, "side", "/v1/messages/count_tokens", 200, b'{"input_tokens":9}', 0, 0, 0, 0, 0.0),
         (3, "messages", "/v1/messages", 200, sse, 1300, 12, 400, 0, 0.0077)]
for seq, api, path, status, body, i, o, cr, cw, usd in calls:
    db.execute("insert into llm_calls (mission_id, task_id, run_id, seq, ts, provider, api,"
               " method, path, model, status, stream, request, response, input, output,"
               " cache_read, cache_write, usage_seen, usd, latency_ms) values"
               " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               ("rep", "write", run, seq, ts + 10 * seq, "anthropic", api, "POST", path,
                "claude-sonnet-4-5", status, api != "side", b"{}", body, i, o, cr, cw,
                api != "side", usd, 25.0))
db.commit()
EOF2

corral_cmd export --format otel rep >"$TMP/otel.json" 2>"$TMP/err"
assert_eq "$?" 0 "otel export ($(cat "$TMP/err"))"
python3 - "$TMP/otel.json" "$DATA/otel-genai-attributes.txt" >"$TMP/o" 2>&1 <<'EOF2'
import json, sys
doc = json.load(open(sys.argv[1]))
names = [l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
allowed = {n for n in names if not n.startswith("op:")}
ops = {n[3:] for n in names if n.startswith("op:")}
rs = doc["resourceSpans"]
assert len(rs) == 1
spans = rs[0]["scopeSpans"][0]["spans"]
by_id = {s["spanId"]: s for s in spans}
assert len({s["traceId"] for s in spans}) == 1, "one trace per mission"
attrs = lambda s: {a["key"]: list(a["value"].values())[0] for a in s["attributes"]}
for s in spans:
    assert len(s["traceId"]) == 32 and len(s["spanId"]) == 16
    assert int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) > 0 or s["name"].startswith("task after")
    for k in attrs(s):
        if k.startswith("gen_ai."):
            assert k in allowed, "not a GenAI convention name: " + k
    op = attrs(s).get("gen_ai.operation.name")
    assert op is None or op in ops, "unknown operation " + op
tool = [s for s in spans if s["name"].startswith("execute_tool")]
assert len(tool) == 1, tool
t = attrs(tool[0])
assert t["gen_ai.tool.name"] == "Bash" and t["gen_ai.tool.call.id"] == "toolu_fake000002", t
run = by_id[tool[0]["parentSpanId"]]
assert attrs(run)["gen_ai.operation.name"] == "invoke_agent"
assert attrs(run)["gen_ai.usage.input_tokens"] == "3250", attrs(run)
assert attrs(run)["gen_ai.usage.output_tokens"] == "46"
chat = [s for s in spans if s["name"].startswith("chat")]
assert [s["name"] for s in chat] == ["chat claude-sonnet-4-5"] * 2, [s["name"] for s in spans]
c = attrs(chat[0])
assert all(s["parentSpanId"] == run["spanId"] for s in chat), "chat spans nest under the run"
assert (c["gen_ai.operation.name"], c["gen_ai.provider.name"], c["gen_ai.request.model"],
        c["gen_ai.response.model"]) == ("chat", "anthropic", "claude-sonnet-4-5",
                                        "claude-sonnet-4-5-20250929"), c
assert (c["gen_ai.usage.input_tokens"], c["gen_ai.usage.output_tokens"],
        c["gen_ai.usage.cache_read.input_tokens"],
        c["gen_ai.usage.cache_creation.input_tokens"]) == ("1550", "34", "300", "50"), c
assert abs(c["corral.cost_usd"] - 0.0123) < 1e-9, c
assert int(chat[0]["endTimeUnixNano"]) - int(chat[0]["startTimeUnixNano"]) == 25 * 10**6
assert abs(attrs(run)["corral.cost_usd"] - 0.02) < 1e-9, attrs(run)
task = by_id[run["parentSpanId"]]
assert task["name"] == "task write" and "parentSpanId" in task
assert "parentSpanId" not in by_id[task["parentSpanId"]]
assert [s["status"]["code"] for s in spans if s["name"] == "task bad"] == [2]
print("ok", len(spans), "spans")
EOF2
assert_match "$(cat "$TMP/o")" "ok * spans" "OTel: GenAI names, nesting, tool, chat, token and cost attributes"

corral_cmd export --format junit -o "$TMP/junit.xml" rep 2>"$TMP/err"
assert_eq "$?" 0 "junit export ($(cat "$TMP/err"))"
xmllint --noout --schema "$DATA/junit.xsd" "$TMP/junit.xml" >"$TMP/o" 2>&1
assert_eq "$?" 0 "the JUnit file validates against junit.xsd ($(cat "$TMP/o"))"
python3 - "$TMP/junit.xml" >"$TMP/o" <<'EOF2'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
c = {t.get("name"): t for t in s.findall("testcase")}
f = c["bad"].find("failure")
print(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped"),
      f.get("message"), "bad <xml>" in f.text, c["after"].find("skipped") is not None,
      c["write"].find("failure") is None)
EOF2
assert_eq "$(cat "$TMP/o")" "rep 3 1 1 exit 4 True True True" "suite, failure with reason and log tail, skipped case"

corral_cmd export --format atif rep >"$TMP/atif.json" 2>"$TMP/err"
assert_eq "$?" 0 "atif export ($(cat "$TMP/err"))"
got=$(json_get '[(t["schema_version"], t["extra"]["task"], len(t["steps"]), [c["function_name"] for s in t["steps"] for c in s.get("tool_calls", [])], [r["source_call_id"] for s in t["steps"] for r in s.get("observation", {}).get("results", [])], t["final_metrics"]["total_completion_tokens"]) for t in d["trajectories"] if t["extra"]["task"] == "write"]' "$TMP/atif.json")
assert_eq "$got" "[('ATIF-v1.2', 'write', 3, ['Bash'], ['toolu_fake000002'], 46)]" "ATIF: the run's trajectory"
assert_eq "$(json_get '[t["final_metrics"]["total_cost_usd"] for t in d["trajectories"] if t["extra"]["task"] == "write"]' "$TMP/atif.json")" "[0.02]" "ATIF: the run's cost from the gateway"
assert_eq "$(json_get 'len(d["trajectories"])' "$TMP/atif.json")" 2 "one trajectory per run"

corral_cmd export --format md rep >"$TMP/sum.md" 2>"$TMP/err"
assert_eq "$?" 0 "md export ($(cat "$TMP/err"))"
assert_eq "$(grep -c '^| \(write\|bad\|after\) ' "$TMP/sum.md")" 3 "a row per task"
assert_match "$(grep '^| write ' "$TMP/sum.md")" "*| completed | 1 | *| 3296 | \$0.0200 | exit 0 |" "tokens and the gateway's cost in the row"

corral_cmd export -o "$TMP/t.corral" rep 2>/dev/null || fail "trace export"
for f in otel junit atif md; do
  corral_cmd export --format "$f" rep >"$TMP/a.$f" 2>/dev/null
  "$CORRAL" export --trace "$TMP/t.corral" --format "$f" >"$TMP/b.$f" 2>/dev/null
  cmp -s "$TMP/a.$f" "$TMP/b.$f" || fail "$f from the trace differs from the state dir"
done
ok "reports from the trace equal those from the state dir"
corral_cmd export --format yaml rep >/dev/null 2>"$TMP/err"
assert_eq "$?" 2 "an unknown format is a usage error"
