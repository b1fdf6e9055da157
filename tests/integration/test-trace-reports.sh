#!/bin/bash
# Reports: `corral export --format otel|atif|junit|md`. A mission with a
# completed task, a failing one (XML-hostile output, a non-UTF-8 byte) and
# a skipped one runs; the claude-code adapter's recorded events for
# tests/data/claude-code/write-file (tool call, tool result, message,
# usage) are appended to the completed task's run, as the engine records a
# CLI's stream. Then: every gen_ai.* attribute of the OTel export is in
# tests/data/otel-genai-attributes.txt, spans nest mission > task > run >
# tool, the tool span carries its name and call id and the run its tokens;
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
task = by_id[run["parentSpanId"]]
assert task["name"] == "task write" and "parentSpanId" in task
assert "parentSpanId" not in by_id[task["parentSpanId"]]
assert [s["status"]["code"] for s in spans if s["name"] == "task bad"] == [2]
print("ok", len(spans), "spans")
EOF2
assert_match "$(cat "$TMP/o")" "ok * spans" "OTel: GenAI names, nesting, tool and token attributes"

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
assert_eq "$(json_get 'len(d["trajectories"])' "$TMP/atif.json")" 2 "one trajectory per run"

corral_cmd export --format md rep >"$TMP/sum.md" 2>"$TMP/err"
assert_eq "$?" 0 "md export ($(cat "$TMP/err"))"
assert_eq "$(grep -c '^| \(write\|bad\|after\) ' "$TMP/sum.md")" 3 "a row per task"
assert_match "$(grep '^| write ' "$TMP/sum.md")" "*| completed | 1 | *| 3296 | - | exit 0 |" "tokens in the row"

corral_cmd export -o "$TMP/t.corral" rep 2>/dev/null || fail "trace export"
for f in otel junit atif md; do
  corral_cmd export --format "$f" rep >"$TMP/a.$f" 2>/dev/null
  "$CORRAL" export --trace "$TMP/t.corral" --format "$f" >"$TMP/b.$f" 2>/dev/null
  cmp -s "$TMP/a.$f" "$TMP/b.$f" || fail "$f from the trace differs from the state dir"
done
ok "reports from the trace equal those from the state dir"
corral_cmd export --format yaml rep >/dev/null 2>"$TMP/err"
assert_eq "$?" 2 "an unknown format is a usage error"
