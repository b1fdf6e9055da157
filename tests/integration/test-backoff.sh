#!/bin/bash
# Retries wait min(cap, floor*factor^(n-1)) plus 0-10% jitter, never above
# the cap: 200ms, 400ms, then 500ms (capped) for backoff 200ms..500ms x2.
. "$(dirname "$0")/lib.sh"

mission "$TMP/m.yaml" <<EOF2
mission: backoff
tickets:
  - id: T
    tasks:
      - id: fails
        command: ["$FA", exit, "3"]
        retries: { max: 3, backoff: 200ms..500ms, factor: 2 }
EOF2
corral_run --json "$TMP/m.yaml" >"$TMP/ev.jsonl" 2>"$TMP/err"
assert_eq "$?" 1 "exit status"
gaps=$(events "$TMP/ev.jsonl" '
(lambda ends, starts: " ".join(str(s - e) for e, s in zip(ends, starts[1:])))(
  [e["ts"] for e in ev if e["kind"] == "run.end"],
  [e["ts"] for e in ev if e["kind"] == "run.start"])')
note "gaps between a run.end and the next run.start (ms): $gaps"
set -- $gaps
assert_eq "$#" 3 "number of retries"
for base in 200 400 500; do
  gap=$1
  shift
  hi=$((base * 11 / 10 + 400))
  ((gap >= base && gap <= hi)) || fail "retry gap $gap ms not in [$base, $hi]"
  ok "retry gap $gap ms in [$base, $hi]"
done
