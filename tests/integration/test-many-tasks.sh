#!/bin/bash
# 1000 short tasks with --jobs 2 all complete at the first attempt, and the
# engine leaves no zombie: a check task, scheduled after the others, holds
# its slot while the test counts the zombie children of the engine on the
# host (the check itself may run in a sandbox with a /proc of its own).
. "$(dirname "$0")/lib.sh"

N=1000
# The check needs a small sample of the tasks; every other task has a long
# estimate, so its critical path is longer and it runs before the sample and
# the check.
{
  echo "mission: many"
  echo "defaults: { sandbox: $SANDBOX }"
  echo "tickets:"
  for i in $(seq -w 1 $N); do
    if ((10#$i > N - 10)); then est=1s; else est=1h; fi
    echo "  - { id: T$i, tasks: [ { id: t$i, estimate: $est, command: [\"true\"] } ] }"
  done
  echo "  - id: CHECK"
  echo "    tasks:"
  echo "      - id: check"
  echo "        estimate: 1s"
  printf '        needs: ['
  for i in $(seq $((N - 9)) $N); do printf 't%04d, ' "$i"; done
  echo ']'
  echo "        command: [\"$FA\", touch, \"$TMP/checking\", wait-file, \"$TMP/checked\"]"
} >"$TMP/m.yaml"

# zombies ENGINE: the engine's zombie children. A shim that exits while
# /proc is read is a zombie for a moment, so it looks again for a second
# before it reports one.
zombies() {
  local i=0 n s f
  while :; do
    n=0
    for s in /proc/[0-9]*/stat; do
      f=$(sed 's/.*) //' "$s" 2>/dev/null) || continue
      # shellcheck disable=SC2086
      set -- $f
      [ "$1" = Z ] && [ "$2" = "$engine" ] && n=$((n + 1))
    done
    ((n == 0 || ++i >= 50)) && break
    sleep 0.02
  done
  echo "$n"
}

start=$SECONDS
corral_run --jobs 2 -q "$TMP/m.yaml" >"$TMP/out" 2>&1 &
bg=$!
track_pid "$bg"
wait_for '[ -e "$TMP/checking" ]' 280
engine=$(corral_pid "$bg")
[ -n "$engine" ] || fail "no corral process under $bg"
note "engine $engine ($(cat /proc/"$engine"/comm)) reached the check"
zombies=$(zombies)
touch "$TMP/checked"
wait "$bg"
assert_eq "$?" 0 "exit status"
note "$((N + 1)) tasks took $((SECONDS - start)) s"
show_json
res=$(json_get "' '.join(sorted(set('%s/%s' % (t['state'], t['attempts']) for t in d['tasks'])))" "$TMP/show.json")
assert_eq "$res" "completed/1" "state/attempts of every task"
assert_eq "$(json_get "len(d['tasks'])" "$TMP/show.json")" $((N + 1)) "number of tasks"
before=$(json_get "(lambda c: sum(1 for t in d['tasks'] if t['id'] != 'check' and t['ended_at'] <= c['started_at']))([t for t in d['tasks'] if t['id'] == 'check'][0])" "$TMP/show.json")
((before >= N - 1)) || fail "the check ran after only $before tasks ended"
ok "the check ran after $before of $N tasks ended"
assert_eq "$zombies" 0 "zombie children of the engine after $N tasks"
