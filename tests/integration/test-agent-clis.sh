#!/usr/bin/env bash
# tests/integration/test-agent-clis.sh: runs each real agent CLI installed
# by scripts/agent-clis (a missing one is skipped; exit 77 when none is)
# directly, not yet through corral, exactly as its adapter builds it: adapter-cmd writes the
# adapter's config files into a scratch home and gives its argv and env,
# which run under `env -i` with stdin from /dev/null against the fake
# provider. Checks per CLI: exit 0, out.txt written by the shell tool, the
# parsed usage equals the fixture's numbers, a session id, only the
# placeholder key reached the provider. Then it resumes the session by id
# with a new prompt and checks that the CLI sent the earlier conversation
# (the provider saw the tool result and answered with the final text).
#
# Environment: ADAPTER_CMD (the adapter-cmd binary), AGENT_KINDS (default
# all five), CORRAL_AGENTS_PREFIX (see scripts/agent-clis).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../fixtures/fake-provider/clis.sh
. "$repo/tests/fixtures/fake-provider/clis.sh"

: "${ADAPTER_CMD:?ADAPTER_CMD must name the adapter-cmd binary}"
# The CLIs scripts/agent-clis installed; with Debian's Node 18 that is
# three of five (gemini and qwen-code need Node 20), and the others are
# skipped.
bindir=${CORRAL_AGENTS_PREFIX:-$repo/build-agents}/node_modules/.bin
kinds=()
for kind in ${AGENT_KINDS:-${AGENT_CLI_KINDS[*]}}; do
  case $kind in
  claude-code) cmd=claude ;;
  qwen-code) cmd=qwen ;;
  *) cmd=$kind ;;
  esac
  if [[ -x $bindir/$cmd ]]; then
    kinds+=("$kind")
  else
    echo "# $kind: not installed, skipped"
  fi
done
if ((${#kinds[@]} == 0)); then
  echo "# skipped: no agent CLI is installed (run scripts/agent-clis)"
  exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/corral-it-agents.XXXXXX") || exit 1
trap 'fake_provider_stop; rm -rf "$TMP"' EXIT
pass=0
failed=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() {
  failed=$((failed + 1))
  echo "not ok - $*"
  return 1
}
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then ok "$1"; else bad "$1"; fi
}

# run_adapter KIND SCRATCH [adapter-cmd options]: runs the CLI in
# SCRATCH/work; stdout in SCRATCH/out.N.jsonl, N counting the runs.
run_adapter() {
  local kind=$1 scratch=$2 n
  local -a argv envv
  shift 2
  n=$(($(cat "$scratch/runs" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$scratch/runs"
  "$ADAPTER_CMD" run "$kind" "$scratch" --home "$scratch/home" \
    --base-url "http://127.0.0.1:$FAKE_PORT" --model local-model "$@" ||
    return 1
  mapfile -d '' -t argv <"$scratch/argv"
  mapfile -d '' -t envv <"$scratch/env"
  mkdir -p "$scratch/work" "$scratch/tmp"
  (cd "$scratch/work" && env -i PATH="$bindir:/usr/local/bin:/usr/bin:/bin" \
    TMPDIR="$scratch/tmp" LANG=C.UTF-8 TERM=dumb "${envv[@]}" \
    timeout 120 "${argv[@]}" </dev/null >"$scratch/out.$n.jsonl" \
    2>"$scratch/err.$n")
}

# usage_is FILE.events INPUT OUTPUT CACHE_READ: sums the usage events, with
# cache writes counted as input (only Anthropic reports them apart).
usage_is() {
  awk -F'\t' -v want="$2 $3 $4" '$1 == "usage" {
      gsub(/[{}"a-z_:]/, " ", $2); split($2, v, ",")
      i += v[1] + v[4]; o += v[2]; r += v[3] }
    END { got = i " " o " " r; if (got != want) { print "usage " got " != " want; exit 1 } }' "$1"
}

# keys_are_placeholders LOG: every key header the provider saw is corral's
# placeholder (the fixture masks any other value as "<N chars>").
keys_are_placeholders() {
  python3 - "$1" <<'EOF'
import json, sys
seen = 0
for line in open(sys.argv[1]):
    h = json.loads(line).get("headers", {})
    for k in ("authorization", "x-api-key", "x-goog-api-key"):
        if k in h:
            seen += 1
            assert "corral-placeholder-key" in h[k], (k, h[k])
assert seen > 0
EOF
}

# resumed_with_history LOG FROM: the first LLM call after request FROM
# already carried the tool result, so the fixture answered step 1.
resumed_with_history() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
llm = [r for r in recs[int(sys.argv[2]):]
       if r.get("answer", {}).get("step") is not None]
assert llm and llm[0]["answer"]["step"] == 1, [r.get("answer") for r in llm]
EOF
}

for kind in "${kinds[@]}"; do
  scratch=$TMP/$kind
  mkdir -p "$scratch"
  fake_provider_start "$scratch"
  echo "# $kind on port $FAKE_PORT"
  # The prompt starts with a dash on purpose: it must stay a prompt.
  run_adapter "$kind" "$scratch" --max-turns 6 \
    --prompt "- Create a file named out.txt that contains the word hi. Use your shell tool to run: echo hi > out.txt"
  check "$kind: exits 0" test $? -eq 0 || sed 's/^/#   /' "$scratch/err.1" | tail -5
  check "$kind: the prompt reached the provider as given" \
    grep -q -- '- Create a file named out.txt' "$scratch/requests.jsonl"
  check "$kind: wrote out.txt" test "$(cat "$scratch/work/out.txt" 2>/dev/null)" = hi
  "$ADAPTER_CMD" parse "$kind" <"$scratch/out.1.jsonl" >"$scratch/1.events"
  check "$kind: usage equals the fixture's" usage_is "$scratch/1.events" 2550 46 700
  sid=$(awk -F'\t' '$1 == "session" { print $2; exit }' "$scratch/1.events")
  check "$kind: reports a session id" test -n "$sid"
  check "$kind: one tool call, one tool result" test \
    "$(grep -c '^tool_call' "$scratch/1.events") $(grep -c '^tool_result' "$scratch/1.events")" = "1 1"
  check "$kind: only the placeholder key left the sandbox" \
    keys_are_placeholders "$scratch/requests.jsonl"
  before=$(wc -l <"$scratch/requests.jsonl")
  run_adapter "$kind" "$scratch" --session "$sid" --prompt "Say that you are done."
  check "$kind: resume by session id exits 0" test $? -eq 0 ||
    sed 's/^/#   /' "$scratch/err.2" | tail -5
  check "$kind: the resumed run sent the earlier conversation" \
    resumed_with_history "$scratch/requests.jsonl" "$before"
  fake_provider_stop
done

echo "$pass passed, $failed failed"
((failed == 0))
