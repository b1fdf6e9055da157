#!/bin/bash
# kill -9 of corral kills no agent; running the same file on the same state
# dir again re-attaches to the live runs, reads on from where the dead
# engine stopped, and completes them without starting anything twice.
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

{
  echo "mission: resume"
  echo "defaults: { sandbox: $SANDBOX }"
  echo "tickets:"
  for i in 1 2 3; do
    cat <<EOF2
  - id: T$i
    tasks:
      - id: t$i
        command: ["$FA", count, "$TMP/c$i", pidfile, "$TMP/p$i", print, start, wait-file, "$TMP/GO", print, end]
EOF2
  done
} >"$TMP/m.yaml"

corral_run --jobs 3 --json "$TMP/m.yaml" >"$TMP/first.jsonl" 2>"$TMP/first.err" &
first=$!
track_pid "$first"
wait_for '[ -s "$TMP/p1" ] && [ -s "$TMP/p2" ] && [ -s "$TMP/p3" ]'
# Once the first engine has reported every "start", the second must report
# none of them again: it reads on from the offsets the first committed.
wait_for '[ "$(grep -c "\"kind\":\"message\".*\"text\":\"start\"" "$TMP/first.jsonl")" -eq 3 ]'
engine=$(corral_pid "$first")
[ -n "$engine" ] || fail "no corral process under $first"
track_pid "$engine"
# Host pids (fa_pids), not the pidfiles': a sandboxed agent writes the pid
# it has in its own pid namespace.
for i in 1 2 3; do
  pids[i]=$(fa_pids "$TMP/p$i")
  [ -n "${pids[i]}" ] || fail "agent t$i is not running"
done
kill -9 "$engine"
wait "$first"
note "first corral (pid $engine) killed: timeout reported $?"
for i in 1 2 3; do
  [ "$(fa_pids "$TMP/p$i")" = "${pids[i]}" ] ||
    fail "agent t$i (pid ${pids[i]}) died with the engine: now [$(fa_pids "$TMP/p$i")]"
done
ok "the 3 agents survived the engine"

corral_run --jobs 3 --json "$TMP/m.yaml" >"$TMP/second.jsonl" 2>"$TMP/second.err" &
second=$!
track_pid "$second"
wait_for '[ "$(grep -c "\"kind\":\"run.attach\"" "$TMP/second.jsonl")" -ge 3 ]'
ok "the second corral re-attached 3 runs"
touch "$TMP/GO"
wait "$second"
assert_eq "$?" 0 "exit status of the second corral"
show_json
assert_no_agents "agents after the second corral"
for i in 1 2 3; do
  assert_eq "$(wc -l <"$TMP/c$i")" 1 "starts of t$i"
  assert_eq "$(task_field t$i attempts)" 1 "attempts of t$i"
  assert_eq "$(task_field t$i state)" completed "state of t$i"
  assert_eq "$(corral_cmd logs t$i | tr '\n' ' ')" "start end " "logs of t$i"
done
starts=$(grep -c '"kind":"message".*"text":"start"' "$TMP/second.jsonl")
ends=$(grep -c '"kind":"message".*"text":"end"' "$TMP/second.jsonl")
assert_eq "$starts/$ends" "0/3" "start/end messages reported by the second corral"
