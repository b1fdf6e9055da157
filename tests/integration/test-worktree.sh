#!/bin/bash
# A mission with a `repo`: each ticket works in its own worktree on branch
# corral/<mission>/<ticket>, files in .worktreeinclude are copied in, every
# run's changes are committed with Corral-* trailers and stats equal to git's,
# a run that changed nothing makes no commit, a rewrite of the branch inside
# a run (reset + new commit) is undone with the rewrite kept in the attic and
# fails the task (the default action of `deny: force-push`), so the ticket
# does not merge, and a missing repository or base is a clear error. Tasks
# run sandboxed.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=60

git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }

git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
echo SECRET=1 >"$TMP/repo/.env"
echo .env >"$TMP/repo/.gitignore"
echo .env >"$TMP/repo/.worktreeinclude"
git_ add a.txt .gitignore .worktreeinclude
git_ commit -qm init
base=$(git_ rev-parse main)

cat >"$TMP/m.yaml" <<EOF2
mission: wt
repo: repo
base: main
tickets:
  - id: T1
    tasks:
      - { id: write, command: "cat .env; echo hello > new.txt; echo two >> a.txt; rm .gitignore" }
      - { id: idle, needs: [write], command: "true" }
      - id: rewrite
        needs: [idle]
        env: { GIT_AUTHOR_NAME: a, GIT_AUTHOR_EMAIL: a@a, GIT_COMMITTER_NAME: a, GIT_COMMITTER_EMAIL: a@a }
        command: "git reset -q --hard HEAD~1 && echo z > z && git add z && git commit -qm rewritten"
EOF2
corral_run --json "$TMP/m.yaml" >"$TMP/out.json" 2>"$TMP/err"
assert_eq "$?" 1 "exit status: the rewrite failed its task ($(cat "$TMP/err"))"
assert_eq "$(corral_cmd logs write)" "SECRET=1" ".worktreeinclude copied .env into the worktree"

head=$(git_ rev-parse corral/wt/T1)
assert_eq "$(git_ rev-parse "$head^")" "$base" "one corral commit on top of base"
assert_eq "$(git_ log -1 --format=%an corral/wt/T1)" "corral (exec)" "author"
for t in "Corral-Mission: wt" "Corral-Ticket: T1" "Corral-Task: write" \
  "Corral-Run: 1" "Corral-Agent: exec"; do
  git_ log -1 --format=%B corral/wt/T1 | grep -qx "$t" || fail "trailer $t missing"
done
ok "trailers"
want=$(git_ diff --numstat --no-renames "$base" "$head" | awk '{i+=$1; d+=$2; n++} END {print n, i, d}')
got=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["kind"] == "commit" and e["task"] == "write":
        d = e["data"]; print(d["files"], d["insertions"], d["deletions"])' "$TMP/out.json")
assert_eq "$got" "$want" "commit stats equal git diff --numstat"
n=$(grep -c '"task":"idle".*"kind":"commit".*"changed":false' "$TMP/out.json")
assert_eq "$n" 1 "a run that changed nothing made no commit"

grep -q '"kind":"policy".*deny force-push' "$TMP/out.json" || fail "no force-push event"
assert_eq "$(git_ rev-parse corral/wt/T1)" "$head" "rewritten branch restored"
attic=$(git_ for-each-ref --format='%(refname)' refs/corral/attic/T1)
[ -n "$attic" ] || fail "no attic ref"
assert_eq "$(git_ log -1 --format=%s "$attic")" "rewritten" "rewrite kept in the attic"
ok "force-push undone, rewrite in $attic"
show_json wt
assert_eq "$(task_field rewrite state)" failed "the rewriting task failed"
assert_eq "$(task_field rewrite reason)" "policy: deny force-push" "its reason"
assert_eq "$(git_ rev-parse main)" "$base" "an incomplete ticket did not merge"

shown=$(corral_cmd show --json wt | python3 -c '
import json, sys
c = json.load(sys.stdin)["commits"]
print(len(c), c[0]["sha"], c[0]["task"], c[0]["branch"])')
assert_eq "$shown" "1 $head write corral/wt/T1" "corral show lists the stored commit"

note "missing repository and missing base"
sed 's/^repo: repo$/repo: nothere/' "$TMP/m.yaml" >"$TMP/norepo.yaml"
corral_run "$TMP/norepo.yaml" >/dev/null 2>"$TMP/err1"
assert_eq "$?" 2 "missing repository exit status"
grep -q "not a git repository" "$TMP/err1" || fail "unclear error: $(cat "$TMP/err1")"
sed 's/^base: main$/base: nobranch/; s/^mission: wt$/mission: wt2/' "$TMP/m.yaml" >"$TMP/nobase.yaml"
corral_run "$TMP/nobase.yaml" >/dev/null 2>"$TMP/err2"
assert_eq "$?" 2 "missing base exit status"
grep -q "base 'nobranch' does not exist" "$TMP/err2" || fail "unclear error: $(cat "$TMP/err2")"
ok "clear errors"
