#!/bin/bash
# corral gc over a real repository: the worktree and branch of a merged
# ticket are removed; a branch with unmerged commits and a worktree with
# uncommitted changes are kept and reported; --dry-run changes nothing;
# --force saves what would be lost under refs/corral/attic/ first, says so,
# then removes it; metadata of a worktree whose directory is gone is pruned.
# Canaries planted in the repository (hooks, core.fsmonitor, a clean/smudge
# filter, core.sshCommand) never run during any corral command.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=60

# The test's own git commands neutralise the canaries; corral must not need to.
git_() {
  git -C "$TMP/repo" -c user.name=t -c user.email=t@t \
    -c core.hooksPath=/nonexistent -c core.fsmonitor=false \
    -c filter.x.clean=cat -c filter.x.smudge=cat -c core.sshCommand=false "$@"
}

git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
echo '*.txt filter=x' >"$TMP/repo/.gitattributes"
git_ add -A
git_ commit -qm init

canary() { printf '#!/bin/sh\ntouch "%s/canary-%s"\n' "$TMP" "$1"; }
for h in pre-commit commit-msg post-commit post-checkout post-merge \
  reference-transaction post-rewrite pre-auto-gc post-index-change; do
  canary "hook-$h" >"$TMP/repo/.git/hooks/$h"
  chmod +x "$TMP/repo/.git/hooks/$h"
done
canary fsmonitor >"$TMP/fsmonitor"
canary filter >"$TMP/filter"
canary ssh >"$TMP/ssh"
chmod +x "$TMP/fsmonitor" "$TMP/filter" "$TMP/ssh"
git config -f "$TMP/repo/.git/config" core.fsmonitor "$TMP/fsmonitor"
git config -f "$TMP/repo/.git/config" filter.x.clean "$TMP/filter"
git config -f "$TMP/repo/.git/config" filter.x.smudge "$TMP/filter"
git config -f "$TMP/repo/.git/config" core.sshCommand "$TMP/ssh"

cat >"$TMP/m.yaml" <<EOF2
mission: gm
repo: repo
base: main
tickets:
  - { id: G1, tasks: [ { id: g1, command: "echo g1 > g1.txt" } ] }
  - { id: G2, tasks: [ { id: g2, review: required, command: "echo g2 > g2.txt" } ] }
  - { id: G3, tasks: [ { id: g3, review: required, command: "true" } ] }
  - { id: G4, tasks: [ { id: g4, command: "echo g4 > g4.txt" } ] }
EOF2
corral_run "$TMP/m.yaml" >/dev/null 2>"$TMP/err"
assert_eq "$?" 1 "G2 and G3 wait for review ($(cat "$TMP/err"))"
wt=$STATE/worktrees/gm
echo wip >"$wt/G3/wip.txt"
rm -rf "$wt/G4"
assert_eq "$(git_ show main:g1.txt) $(git_ show main:g4.txt)" "g1 g4" "G1 and G4 merged"

note "dry run"
corral_cmd gc --dry-run >"$TMP/dry" 2>"$TMP/err" || fail "gc --dry-run: $(cat "$TMP/err")"
cat "$TMP/dry"
grep -q '^would-remove gm/G1: merged' "$TMP/dry" || fail "dry run does not plan G1"
grep -q '^kept     gm/G2: 1 unmerged commit;' "$TMP/dry" || fail "dry run does not keep G2"
grep -q '^kept     gm/G3: uncommitted changes;' "$TMP/dry" || fail "dry run does not keep G3"
grep -q '^would-prune gm/' "$TMP/dry" || fail "dry run does not plan the stale metadata"
[ -d "$wt/G1" ] && git_ rev-parse -q --verify corral/gm/G1 >/dev/null || fail "dry run changed something"
ok "dry run changes nothing"

corral_cmd gc >"$TMP/gc" 2>"$TMP/err" || fail "gc: $(cat "$TMP/err")"
[ ! -e "$wt/G1" ] || fail "G1's worktree is still there"
! git_ rev-parse -q --verify corral/gm/G1 >/dev/null || fail "G1's merged branch is still there"
! git_ rev-parse -q --verify corral/gm/G4 >/dev/null || fail "G4's merged branch is still there"
assert_eq "$(git_ worktree list --porcelain | grep -c '^worktree ')" 3 "main, G2 and G3 worktrees remain (G4's metadata pruned)"
assert_eq "$(cat "$wt/G2/g2.txt") $(cat "$wt/G3/wip.txt")" "g2 wip" "unmerged and dirty work kept"
ok "gc removes merged, keeps unmerged and dirty"

corral_cmd gc --force >"$TMP/gc2" 2>"$TMP/err" || fail "gc --force: $(cat "$TMP/err")"
cat "$TMP/gc2"
grep -q '^saved    gm/G2: 1 unmerged commit; saved to refs/corral/attic/G2/' "$TMP/gc2" || fail "gc --force did not say where G2 went"
a2=$(git_ for-each-ref --format='%(refname)' refs/corral/attic/G2)
a3=$(git_ for-each-ref --format='%(refname)' refs/corral/attic/G3)
assert_eq "$(git_ show "$a2":g2.txt) $(git_ show "$a3":wip.txt)" "g2 wip" "both saved in the attic"
[ ! -e "$wt/G2" ] && [ ! -e "$wt/G3" ] || fail "forced worktrees still there"
ok "--force saves to the attic, then removes"

canaries=$(ls "$TMP" | grep '^canary-' || true)
assert_eq "$canaries" "" "no canary ran"
# The canaries are live: plain git runs them.
git -C "$TMP/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m live 2>/dev/null
git -C "$TMP/repo" status >/dev/null 2>&1
[ -e "$TMP/canary-hook-pre-commit" ] && [ -e "$TMP/canary-fsmonitor" ] ||
  fail "the canaries would not have caught anything"
ok "the canaries are live"
