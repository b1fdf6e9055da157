#!/bin/bash
# Trace files: a mission over a real repository (a policy review, a
# `review: required` task rejected then approved across three `corral run`s,
# a task that fails with retries) exports to one file; `corral show --trace`
# reads it; `corral import` into another state dir preserves every row
# (counts per table) and the branches (the bundle verifies, and fetched into
# a fresh repository its branches have the recorded tree ids); importing a
# mission id that exists is refused unless --as; a damaged or truncated
# trace is refused with a clear error.
. "$(dirname "$0")/lib.sh"
# What is under test is the trace, not confinement: no sandbox.
SANDBOX=none
RUN_LIMIT=60

git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }
git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
git_ add -A
git_ commit -qm init

mission "$TMP/m.yaml" <<'EOF2'
mission: tr
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
      - { id: doc, review: required, command: "echo \"${CORRAL_FEEDBACK:-first draft}\" > doc.txt" }
      - { id: after, needs: [doc], command: "echo after > after.txt" }
  - id: P4
    tasks:
      - { id: flaky, command: "echo flaky-output; exit 3", retries: { max: 1, backoff: 50ms..1s } }
EOF2
corral_run -q "$TMP/m.yaml" 2>/dev/null
corral_cmd approve big >/dev/null || fail "approve big"
corral_cmd reject --feedback final doc >/dev/null || fail "reject doc"
corral_run -q "$TMP/m.yaml" 2>/dev/null
corral_cmd approve doc >/dev/null || fail "approve doc"
corral_run -q "$TMP/m.yaml" 2>/dev/null
assert_eq "$?" 1 "the mission ends failed (flaky)"

corral_cmd export -o "$TMP/t.corral" tr 2>"$TMP/err"
assert_eq "$?" 0 "export ($(cat "$TMP/err"))"
assert_eq "$(ls "$TMP" | grep -c 'corral-\|\.tmp$')" 0 "no temporary file left"
"$CORRAL" show --trace "$TMP/t.corral" >"$TMP/show.txt" 2>&1
assert_eq "$?" 0 "show --trace"
assert_match "$(head -1 "$TMP/show.txt")" "mission tr: failed*" "show --trace names the mission"
"$CORRAL" show --json --trace "$TMP/t.corral" >"$TMP/trace.json"
show_json tr
assert_eq "$(json_get 'sorted((t["id"], t["state"], t["attempts"]) for t in ds[0]["tasks"]) == sorted((t["id"], t["state"], t["attempts"]) for t in ds[1]["tasks"])' "$TMP/show.json" "$TMP/trace.json")" true "show --trace agrees with the state dir"

note "import into another state dir"
S2=$TMP/state2
timeout 60 "$CORRAL" import --state-dir "$S2" "$TMP/t.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 0 "import ($(cat "$TMP/err"))"
counts() {
  python3 - "$1" "$2" <<'EOF2'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
m = sys.argv[2]
q = {
 "tickets": "select count(*) from tickets where mission_id=?",
 "tasks": "select count(*) from tasks where mission_id=?",
 "deps": "select count(*) from deps where mission_id=?",
 "runs": "select count(*) from runs where mission_id=?",
 "events": "select count(*) from events where mission_id=?",
 "commits": "select count(*) from commits where mission_id=?",
 "commit_files": "select count(*) from commit_files where commit_id in (select id from commits where mission_id=?)",
 "questions": "select count(*) from questions where mission_id=?",
 "states": "select group_concat(id||':'||state||':'||attempts, ',') from (select * from tasks where mission_id=? order by id)",
 "kinds": "select group_concat(kind, ',') from (select kind from events where mission_id=? order by seq)",
 "shas": "select group_concat(sha, ',') from (select sha from commits where mission_id=? order by id)",
}
print(" ".join("%s=%s" % (k, db.execute(v, (m,)).fetchone()[0]) for k, v in q.items()))
EOF2
}
want=$(counts "$STATE/corral.db" tr)
assert_eq "$(counts "$S2/corral.db" tr)" "$want" "every row survives the round trip"
note "$want" | cut -c1-200
run=$(python3 -c "import sqlite3; print(sqlite3.connect('$S2/corral.db').execute(\"select id from runs where task_id='flaky' order by id desc\").fetchone()[0])")
assert_eq "$(head -1 "$S2/runs/$run/output.log")" "flaky-output" "run logs come along"

git init -q -b scratch "$TMP/fresh"
git -C "$TMP/fresh" bundle verify "$S2/bundles/tr.bundle" >/dev/null 2>"$TMP/err"
assert_eq "$?" 0 "the bundle verifies ($(cat "$TMP/err"))"
git -C "$TMP/fresh" fetch -q "$S2/bundles/tr.bundle" 'refs/heads/*:refs/heads/*' ||
  fail "fetch from the bundle"
for b in corral/tr/P2 corral/tr/P3 corral/tr/P4 main; do
  assert_eq "$(git -C "$TMP/fresh" rev-parse "$b^{tree}")" "$(git_ rev-parse "$b^{tree}")" "tree of $b"
done

timeout 60 "$CORRAL" export --state-dir "$S2" -o "$TMP/t2.corral" tr 2>"$TMP/err" ||
  fail "export from the second state dir: $(cat "$TMP/err")"
"$CORRAL" replay "$TMP/t2.corral" >"$TMP/o" 2>/dev/null
assert_eq "$?:$(cat "$TMP/o")" "0:identical" "exported again from the other state dir, it replays identical"
timeout 60 "$CORRAL" import --state-dir "$S2" "$TMP/t.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 1 "importing an existing mission id is refused"
assert_match "$(cat "$TMP/err")" "*mission 'tr' exists*--as*" "with the way out"
timeout 60 "$CORRAL" import --state-dir "$S2" --as tr2 "$TMP/t.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 0 "import --as tr2 ($(cat "$TMP/err"))"
assert_eq "$(counts "$S2/corral.db" tr2 | sed 's/ kinds=.*//')" "$(echo "$want" | sed 's/ kinds=.*//')" "the second copy is whole too"
ids=$(python3 -c "import sqlite3; db=sqlite3.connect('$S2/corral.db'); print(db.execute('select count(distinct id), count(*) from runs').fetchone())")
assert_eq "$ids" "($((2 * $(echo "$want" | sed 's/.*runs=\([0-9]*\).*/\1/'))), $((2 * $(echo "$want" | sed 's/.*runs=\([0-9]*\).*/\1/'))))" "run ids are fresh"

note "damaged traces"
cp "$TMP/t.corral" "$TMP/bad.corral"
off=$(grep -oba 'flaky-output' "$TMP/bad.corral" | head -1 | cut -d: -f1)
[ -n "$off" ] || fail "no log text in the trace"
printf 'X' | dd of="$TMP/bad.corral" bs=1 seek="$off" conv=notrunc 2>/dev/null
"$CORRAL" show --trace "$TMP/bad.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 1 "a flipped byte is refused"
assert_match "$(cat "$TMP/err")" "*checksum mismatch*altered or damaged*" "as a checksum mismatch"
"$CORRAL" replay "$TMP/bad.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 2 "replay refuses it too"
size=$(stat -c %s "$TMP/t.corral")
head -c $((size - 4096)) "$TMP/t.corral" >"$TMP/short.corral"
timeout 60 "$CORRAL" import --state-dir "$TMP/s3" "$TMP/short.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 1 "a truncated trace is refused"
assert_match "$(cat "$TMP/err")" "*truncated or damaged: $((size - 4096)) bytes, its header says $size*" "naming both sizes"
head -c 50 "$TMP/t.corral" >"$TMP/tiny.corral"
"$CORRAL" show --trace "$TMP/tiny.corral" >"$TMP/o" 2>"$TMP/err"
assert_match "$(cat "$TMP/err")" "*not a corral trace*" "a stub is not a trace"
echo "not sqlite at all, just some text that is long enough to have a header of a hundred bytes ......" >"$TMP/text.corral"
"$CORRAL" show --trace "$TMP/text.corral" >"$TMP/o" 2>"$TMP/err"
assert_match "$(cat "$TMP/err")" "*not a corral trace*" "neither is a text file"
