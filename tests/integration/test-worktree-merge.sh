#!/bin/bash
# The merge queue: when a ticket's last task completes, its branch merges
# into the mission's base. A base that did not move fast-forwards; a base
# that moved gets a merge commit with two parents; a real conflict marks the
# ticket `conflict` with its paths and leaves base alone; the user's clean
# checkout of base follows the merge, a dirty one stops the merge with a
# clear error and is left untouched, and running the mission again merges
# once it is clean. A bare repository and a detached HEAD work too.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=60

git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }

git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
echo bee >"$TMP/repo/b.txt"
git_ add a.txt b.txt
git_ commit -qm init
base=$(git_ rev-parse main)

# Order forced by needs: T2 and T4 branch from the original base; T1 merges
# first (fast-forward), then T2 (base moved: merge commit), then T3 rewrites
# a.txt and merges, then T4 rewrites a.txt too: a conflict.
cat >"$TMP/m.yaml" <<EOF2
mission: mg
repo: repo
base: main
tickets:
  - id: T2
    tasks:
      - { id: w2a, command: "echo t2 > t2.txt" }
      - { id: w2b, needs: [w1], command: "echo more >> t2.txt" }
  - id: T1
    tasks:
      - { id: w1, needs: [w2a], command: "echo t1 > t1.txt" }
  - id: T4
    tasks:
      - { id: d0, command: "true" }
      - { id: d1, needs: [c1], command: "echo T4 > a.txt" }
  - id: T3
    tasks:
      - { id: c1, needs: [d0, w2b], command: "echo T3 > a.txt" }
EOF2
corral_run --json "$TMP/m.yaml" >"$TMP/out.json" 2>"$TMP/err"
assert_eq "$?" 1 "exit status: a ticket is left in conflict ($(cat "$TMP/err"))"
merges=$(events "$TMP/out.json" '" ".join("%s:%s" % (e["data"]["ticket"], e["data"]["result"]) for e in ev if e["kind"] == "merge")')
assert_eq "$merges" "T1:fast-forward T2:merge-commit T3:fast-forward T4:conflict" "merge results in order"
paths=$(events "$TMP/out.json" '[e["data"]["paths"] for e in ev if e["kind"] == "merge" and e["data"]["ticket"] == "T4"][0]')
assert_eq "$paths" "['a.txt']" "the conflict names its path"

head=$(git_ rev-parse main)
assert_eq "$(git_ show -s --format=%P "$(git_ rev-parse corral/mg/T2)"^{commit} | wc -w)" 1 "T2's own commits are plain"
mc=$(git_ log --merges --format=%H "$base..main" | head -1)
[ -n "$mc" ] || fail "no merge commit on main"
assert_eq "$(git_ show -s --format=%P "$mc" | wc -w)" 2 "the merge commit has two parents"
assert_eq "$(git_ show main:a.txt)" "T3" "main has T3's a.txt, not T4's"
assert_eq "$(git_ show main:t1.txt) $(git_ show main:t2.txt | tr '\n' ' ')" "t1 t2 more " "main has T1 and T2"
assert_eq "$(cat "$TMP/repo/a.txt") $(cat "$TMP/repo/t1.txt")" "T3 t1" "the clean user checkout followed"
assert_eq "$(git_ status --porcelain)" "" "the user checkout is clean"
ok "fast-forward, merge commit, conflict"

show_json mg
tstate() { json_get "[t for t in d['tickets'] if t['id'] == '$1'][0]['$2']" "$TMP/show.json"; }
assert_eq "$(tstate T4 state)" conflict "T4 is in conflict"
assert_eq "$(tstate T4 detail)" "{'result': 'conflict', 'base': 'main', 'paths': ['a.txt']}" "with its paths"
assert_eq "$(tstate T1 state) $(tstate T1 merged)" "merged $(git_ rev-parse "$mc^1")" "T1 merged, with base's head after it"
assert_eq "$(tstate T2 branch)" "corral/mg/T2" "the branch is shown"
want=$(git_ log --numstat --format= "$base..corral/mg/T2" | awk '{n++; i+=$1} END {print n, i}')
assert_eq "$(tstate T2 files) $(tstate T2 insertions)" "$want" "T2's stats sum its commits' numstat"
[ -d "$STATE/worktrees/mg/T4" ] || fail "T4's worktree was removed"
assert_eq "$(cat "$STATE/worktrees/mg/T4/a.txt")" "T4" "T4's work is left in place"

note "running it again retries the merge; still a conflict, base unchanged"
corral_run --json "$TMP/m.yaml" >"$TMP/out2.json" 2>"$TMP/err"
assert_eq "$?" 1 "still a conflict"
assert_eq "$(git_ rev-parse main)" "$head" "base unchanged by the retry"
ok "conflict retried without touching base"

note "a dirty checkout of base stops the merge and changes nothing"
echo dirty >>"$TMP/repo/b.txt"
cat >"$TMP/d.yaml" <<EOF2
mission: dm
repo: repo
base: main
tickets:
  - { id: D1, tasks: [ { id: d, command: "echo d > d.txt" } ] }
EOF2
corral_run --json "$TMP/d.yaml" >"$TMP/out3.json" 2>"$TMP/err"
assert_eq "$?" 1 "exit status with a dirty base checkout"
msg=$(events "$TMP/out3.json" '[e["data"]["message"] for e in ev if e["kind"] == "merge"][0]')
assert_match "$msg" "*checked out in*with uncommitted changes*" "the merge error says why"
assert_eq "$(git_ rev-parse main)" "$head" "base unchanged"
assert_eq "$(tail -1 "$TMP/repo/b.txt")" "dirty" "the user's change is untouched"
[ ! -e "$TMP/repo/d.txt" ] || fail "d.txt leaked into the dirty checkout"
git_ checkout -q b.txt
corral_run --json "$TMP/d.yaml" >"$TMP/out4.json" 2>"$TMP/err"
assert_eq "$?" 0 "once clean, running again merges ($(cat "$TMP/err"))"
assert_eq "$(cat "$TMP/repo/d.txt")" "d" "and the checkout follows"
ok "dirty checkout refused, then merged"

note "a bare repository merges; a detached HEAD base does not merge"
git clone -q --bare "$TMP/repo" "$TMP/bare.git"
bare0=$(git -C "$TMP/bare.git" rev-parse main)
cat >"$TMP/b.yaml" <<EOF2
mission: bm
repo: bare.git
base: main
tickets:
  - { id: B1, tasks: [ { id: b, command: "echo b > bare.txt" } ] }
EOF2
corral_run "$TMP/b.yaml" >/dev/null 2>"$TMP/err"
assert_eq "$?" 0 "bare repository mission ($(cat "$TMP/err"))"
assert_eq "$(git -C "$TMP/bare.git" rev-parse main^)" "$bare0" "bare main fast-forwarded"
assert_eq "$(git -C "$TMP/bare.git" show main:bare.txt)" "b" "with the ticket's file"
git_ checkout -q --detach main
cat >"$TMP/h.yaml" <<EOF2
mission: hm
repo: repo
tickets:
  - { id: H1, tasks: [ { id: h, command: "echo h > h.txt" } ] }
EOF2
corral_run --json "$TMP/h.yaml" >"$TMP/out5.json" 2>"$TMP/err"
assert_eq "$?" 0 "detached HEAD mission ($(cat "$TMP/err"))"
assert_eq "$(git_ show corral/hm/H1:h.txt)" "h" "the ticket branch has the work"
res=$(events "$TMP/out5.json" '[e["data"]["result"] for e in ev if e["kind"] == "merge"][0]')
assert_eq "$res" "skipped" "no merge into a detached HEAD"
ok "bare and detached"
