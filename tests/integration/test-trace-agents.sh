#!/bin/bash
# Agents-mode replay: `corral replay --agents TRACE` runs the exec agents of
# a recorded mission again in a fresh repository built from the trace's
# bundle, from the recorded base, applying the recorded review decisions,
# and compares each ticket's tree with the recorded one. A deterministic
# mission (a review rejected then approved, dependent tasks, a ticket that
# merges) replays identical; after an input outside the repository changes,
# the ticket that read it is reported diverged with a diff stat and the
# path. LLM CLI agents replay against recorded answers: test-trace-llm.sh.
. "$(dirname "$0")/lib.sh"
# What is under test is the trace, not confinement: no sandbox.
SANDBOX=none
RUN_LIMIT=60

git_() { git -C "$TMP/repo" -c user.name=t -c user.email=t@t "$@"; }
git init -q -b main "$TMP/repo"
echo one >"$TMP/repo/a.txt"
git_ add -A
git_ commit -qm init
echo "input v1" >"$TMP/input"

mission "$TMP/m.yaml" <<EOF2
mission: ag
repo: repo
base: main
tickets:
  - id: A
    tasks:
      - { id: gen, command: "seq 1 3 > gen.txt" }
      - { id: more, needs: [gen], command: "sed 's/^/n=/' gen.txt > more.txt" }
  - id: B
    tasks:
      - { id: doc, review: required, command: "echo \"\${CORRAL_FEEDBACK:-draft}\" > doc.txt" }
  - id: C
    tasks:
      - { id: reads, command: "cp $TMP/input copied.txt" }
EOF2
corral_run -q "$TMP/m.yaml" 2>/dev/null
corral_cmd reject --feedback "final text" doc >/dev/null || fail "reject"
corral_run -q "$TMP/m.yaml" 2>/dev/null
corral_cmd approve doc >/dev/null || fail "approve"
corral_run -q "$TMP/m.yaml" 2>/dev/null
assert_eq "$?" 0 "the mission succeeds"
corral_cmd export -o "$TMP/ag.corral" ag 2>/dev/null || fail "export"

timeout 60 "$CORRAL" replay --agents "$TMP/ag.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 0 "replay --agents ($(cat "$TMP/err"))"
assert_eq "$(tail -1 "$TMP/o")" "identical (3 tickets compared)" "every ticket identical"
assert_eq "$(grep -c '^ticket .*: identical (tree ' "$TMP/o")" 3 "one line per ticket"
assert_match "$(cat "$TMP/o")" "*reject doc, as recorded*approve doc, as recorded*" "the recorded decisions were applied in order"
want=$(git_ rev-parse 'corral/ag/B^{tree}' | cut -c1-12)
assert_match "$(grep '^ticket B' "$TMP/o")" "*$want*" "ticket B's tree is the recorded one"

note "an input changed"
echo "input v2" >"$TMP/input"
timeout 60 "$CORRAL" replay --agents --work-dir "$TMP/wd" "$TMP/ag.corral" >"$TMP/o" 2>"$TMP/err"
assert_eq "$?" 1 "replay --agents reports the divergence"
assert_eq "$(tail -1 "$TMP/o")" "diverged (3 tickets compared)" "diverged"
assert_eq "$(grep -A2 '^ticket C' "$TMP/o" | tr -s ' ' | tr '\n' '|')" "ticket C: diverged| 1 file(s) changed, 1 insertion(s)(+), 1 deletion(s)(-)| copied.txt|" "ticket C: diff stat and path"
# The patch follows, recorded -> replayed.
assert_match "$(sed -n '/^ticket C/,/^ticket /p' "$TMP/o")" \
  "*diff --git a/copied.txt b/copied.txt*-input v1*+input v2*" "ticket C: the patch, recorded -> replayed"
assert_match "$(grep '^ticket A' "$TMP/o")" "ticket A: identical*" "the others stay identical"
assert_eq "$(git -C "$TMP/wd/repo" show corral/ag/C:copied.txt)" "input v2" "--work-dir keeps the replayed repository"
