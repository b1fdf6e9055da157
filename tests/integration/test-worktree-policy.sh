#!/bin/bash
# Policies and the review gate over a real repository: a run touching a
# protected path fails its task (action failed: its commits go to the attic
# and the branch back to where the run found it); a diff over max_diff_lines
# holds its task in pending_review (action pending_review); `corral approve`
# completes it and the next `corral run` merges its ticket; a task with
# `review: required` rejected with feedback runs again and finds the
# feedback in $CORRAL_FEEDBACK; approving a task that is not waiting is
# refused. Nothing reaches base until every task of a ticket completed.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=60

git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }

git init -q -b main "$TMP/repo"
mkdir -p "$TMP/repo/.github"
echo ci >"$TMP/repo/.github/ci.yml"
echo one >"$TMP/repo/a.txt"
git_ add -A
git_ commit -qm init
base=$(git_ rev-parse main)

cat >"$TMP/m.yaml" <<EOF2
mission: pol
repo: repo
base: main
policies:
  - { protect: [".github/**"] }
  - { max_diff_lines: 5, action: pending_review }
tickets:
  - id: P1
    tasks:
      - { id: ci, command: "echo hacked >> .github/ci.yml; echo x > x.txt" }
  - id: P2
    tasks:
      - { id: big, command: "seq 1 20 > big.txt" }
  - id: P3
    tasks:
      - { id: doc, review: required, command: "echo \"\${CORRAL_FEEDBACK:-first draft}\" > doc.txt" }
EOF2
corral_run --json "$TMP/m.yaml" >"$TMP/out.json" 2>"$TMP/err"
assert_eq "$?" 1 "exit status ($(cat "$TMP/err"))"
show_json pol
assert_eq "$(task_field ci state) $(task_field ci reason)" "failed policy: protect" "protected path fails the task"
ev=$(events "$TMP/out.json" '[(e["data"]["paths"], e["data"]["action"]) for e in ev if e["kind"] == "policy" and e["task"] == "ci"]')
assert_eq "$ev" "[(['.github/ci.yml'], 'failed')]" "the event names the offending path and the action"
assert_eq "$(git_ rev-parse corral/pol/P1)" "$base" "branch back where the run found it"
attic=$(git_ for-each-ref --format='%(refname)' refs/corral/attic/P1)
[ -n "$attic" ] || fail "no attic ref for P1"
assert_eq "$(git_ show "$attic":.github/ci.yml | tail -1)" "hacked" "the violating commit is kept in the attic"
ok "protect"

assert_eq "$(task_field big state) $(task_field big reason)" "pending_review policy: max_diff_lines" "a big diff waits for review"
lines=$(events "$TMP/out.json" '[e["data"]["lines"] for e in ev if e["kind"] == "policy" and e["task"] == "big"][0]')
assert_eq "$lines" 20 "the event counts the lines"
assert_eq "$(git_ show corral/pol/P2:big.txt | wc -l)" 20 "held work stays on its branch"
assert_eq "$(task_field doc state)" pending_review "review: required waits"
assert_eq "$(git_ rev-parse main)" "$base" "nothing merged yet"
ok "max_diff_lines and review"

note "approve and reject"
corral_cmd approve ci >"$TMP/o" 2>"$TMP/e"
assert_eq "$?" 1 "approving a failed task is refused"
assert_match "$(cat "$TMP/e")" "*is failed, not pending_review*" "with the reason"
corral_cmd reject doc >/dev/null 2>"$TMP/e"
assert_eq "$?" 2 "reject without --feedback is a usage error"
corral_cmd approve big >"$TMP/o" 2>"$TMP/e"
assert_eq "$?" 0 "approve big ($(cat "$TMP/e"))"
assert_match "$(cat "$TMP/o")" "*corral run $TMP/m.yaml*" "approve says how to go on"
corral_cmd reject --feedback "use the final title" doc >"$TMP/o" 2>"$TMP/e"
assert_eq "$?" 0 "reject doc ($(cat "$TMP/e"))"
show_json pol
assert_eq "$(task_field big state) $(task_field doc state)" "completed rejected" "states after the decisions"

corral_run --json "$TMP/m.yaml" >"$TMP/out2.json" 2>"$TMP/err"
assert_eq "$?" 1 "second run: doc waits again, ci still fails ($(cat "$TMP/err"))"
assert_eq "$(cat "$STATE/worktrees/pol/P3/doc.txt")" "use the final title" "the rerun got the feedback"
merged=$(events "$TMP/out2.json" '[e["data"]["ticket"] + ":" + e["data"]["result"] for e in ev if e["kind"] == "merge"]')
assert_eq "$merged" "['P2:fast-forward']" "the approved ticket merged"
assert_eq "$(git_ show main:big.txt | wc -l)" 20 "its work is on main"
decisions=$(python3 - "$STATE" <<'PY'
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1] + "/corral.db")
print([(t, json.loads(d)["decision"]) for t, d in db.execute("select task_id, data from events where kind = 'review' order by seq")])
PY
)
assert_eq "$decisions" "[('big', 'approve'), ('doc', 'reject')]" "decisions are events"
ok "approve merges on the next run, reject reruns with feedback"

note "the whole ticket is checked again before it merges"
cat >"$TMP/p.yaml" <<EOF2
mission: pm
repo: repo
base: main
tickets:
  - { id: Q1, tasks: [ { id: q, review: required, command: "echo s > .github/new.yml" } ] }
EOF2
corral_run "$TMP/p.yaml" >/dev/null 2>"$TMP/err"
assert_eq "$?" 1 "q waits for review"
printf 'policies:\n  - { protect: [".github/"] }\n' >>"$TMP/p.yaml"
corral_cmd approve --mission pm q >/dev/null || fail "approve q"
main0=$(git_ rev-parse main)
corral_run --json "$TMP/p.yaml" >"$TMP/out3.json" 2>"$TMP/err"
assert_eq "$?" 1 "a ticket breaking a policy does not merge ($(cat "$TMP/err"))"
res=$(events "$TMP/out3.json" '[(e["data"]["result"], e["data"]["policies"][0]["paths"]) for e in ev if e["kind"] == "merge"]')
assert_eq "$res" "[('refused', ['.github/new.yml'])]" "the merge is refused with the paths"
assert_eq "$(git_ rev-parse main)" "$main0" "base unchanged"
show_json pm
assert_eq "$(json_get "d['tickets'][0]['state']" "$TMP/show.json")" violation "the ticket is marked"
ok "pre-merge policy check"
