#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The offline example (examples/agents-offline.yaml through
# scripts/agents-offline): the five real CLIs against the fake provider
# complete, each commits out.txt on its ticket branch, and the costs table
# the script prints has a priced row per task. Skipped (77) when the CLIs
# are not installed (scripts/agent-clis).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)

"$repo_root/scripts/agent-clis" --print-bin >/dev/null 2>&1 ||
  skip "the agent CLIs are not installed (run scripts/agent-clis)"
TMPDIR=$TMP timeout 300 "$repo_root/scripts/agents-offline" --corral "$CORRAL" \
  >"$TMP/out" 2>&1
rc=$?
sed 's/^/#   /' "$TMP/out" | tail -14
assert_eq "$rc" 0 "scripts/agents-offline exits 0"
for t in claude codex gemini qwen opencode; do
  assert_match "$(grep "^$t " "$TMP/out")" "*T-$t: hi" "$t committed out.txt"
  row=$(grep "^agents-offline/$t " "$TMP/out") || fail "no cost row for $t"
  read -r _ calls input output _ usd <<<"$row"
  [ "$calls" -ge 2 ] && [ "$input" -gt 0 ] && [ "$output" -gt 0 ] &&
    [ "$usd" != 0.0000 ] || fail "$t: cost row '$row'"
  ok "$t: $calls calls, $input input tokens, \$$usd"
done
[ -z "$(ls -A "$TMP" | grep corral-offline)" ] || fail "the scratch dir was left behind"
ok "scratch removed"
