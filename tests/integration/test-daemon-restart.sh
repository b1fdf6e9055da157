#!/bin/bash
# Restarts of the daemon with agents running. kill -9 while 3 agents run:
# the agents survive, a new daemon on the same state dir re-attaches them,
# their output is complete, no task runs twice (one run row each) and the
# event seqs are gapless (1..N through /v1/events). SIGTERM also leaves the
# agents running for the next daemon; with --stop-agents it stops them.
# The daemon is under test, not the sandbox: agents run unsandboxed here so
# their pidfiles hold host pids (set SANDBOX=agent to run them sandboxed).
SANDBOX=${SANDBOX:-none}
. "$(dirname "$0")/lib.sh"
CLIENT="python3 $(dirname "$0")/ctl-client.py"

sql() { sqlite3 "file:$STATE/corral.db?mode=ro" "$1"; }

# three_waiting NAME GO: a mission of 3 tasks that each count their start,
# write their pid, print "start", wait for GO, then print 3 lines and "end".
three_waiting() {
  {
    echo "mission: $1"
    echo "tickets:"
    for i in 1 2 3; do
      cat <<EOF
  - id: $1-T$i
    tasks:
      - id: $1-t$i
        command: ["$FA", count, "$TMP/$1.c$i", pidfile, "$TMP/$1.p$i", print, start, wait-file, "$TMP/$2", print, l1, print, l2, print, l3, print, end]
EOF
    done
  } | mission "$TMP/$1.yaml"
  expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/$1.yaml"
  wait_for "[ -s $TMP/$1.p1 ] && [ -s $TMP/$1.p2 ] && [ -s $TMP/$1.p3 ]"
  # Wait until the daemon committed every "start": the next one must not
  # report any of them again.
  wait_for "[ \$(sql \"select count(*) from events where mission_id='$1' and kind='message' and data like '%\\\"start\\\"%'\") = 3 ]"
}

# finished NAME GO: lets the agents of NAME go on, waits for success and
# checks one start and one run per task and the whole output.
finished() {
  local i run
  touch "$TMP/$2"
  wait_for "api GET /v1/missions/$1 >/dev/null && [ \"\$(jbody .state)\" = succeeded ]" 60
  ok "$1 succeeded"
  for i in 1 2 3; do
    assert_eq "$(wc -l <"$TMP/$1.c$i")" 1 "starts of $1-t$i"
    expect_api 200 - GET "/v1/tasks/$1-t$i?mission=$1"
    assert_eq "$(jbody '[.attempts, (.runs|length), .runs[0].state]|@tsv')" \
      "$(printf '1\t1\tended')" "attempts, runs, run state of $1-t$i"
    run=$(jbody '.runs[0].id')
    expect_api 200 - GET "/v1/runs/$run/output"
    assert_eq "$(tr '\n' ' ' <"$TMP/body")" "start l1 l2 l3 end " "output of $1-t$i"
    assert_eq "$(sql "select count(*) from events where task_id='$1-t$i' and kind='message'")" 5 \
      "message events of $1-t$i (none twice)"
  done
}

# ---- kill -9 ---------------------------------------------------------------
daemon_start --jobs 3
three_waiting k9 GO1
for i in 1 2 3; do pids[i]=$(read_pid "$TMP/k9.p$i"); done
old=$DPID
daemon_stop KILL
note "daemon (pid $old) killed with SIGKILL"
for i in 1 2 3; do
  alive "${pids[i]}" || fail "agent k9-t$i (pid ${pids[i]}) died with the daemon"
done
ok "the 3 agents survived the daemon"
daemon_start --jobs 3
wait_for "[ \$(sql \"select count(*) from events where mission_id='k9' and kind='run.attach'\") = 3 ]"
ok "the new daemon re-attached 3 runs"
expect_api 200 - GET /v1/stats
assert_eq "$(jbody '[.missions_running, .runs_live]|@tsv')" "$(printf '1\t3')" "missions and runs live"
finished k9 GO1
for i in 1 2 3; do assert_eq "$(cat "$TMP/k9.p$i")" "${pids[i]}" "pid of k9-t$i"; done

# Gapless: the stream from 0 holds exactly 1..N, N the store's last seq.
n=$(sql 'select max(seq) from events')
echo "$n" >"$TMP/until"
timeout 60 $CLIENT sse "$SOCK" "$TMP/all.ids" --until-file "$TMP/until" || fail "sse client failed"
assert_eq "$(wc -l <"$TMP/all.ids")" "$n" "events streamed from 0"
cmp -s "$TMP/all.ids" <(seq 1 "$n") || fail "the event seqs have a gap or a duplicate"
ok "events 1..$n without a hole"

# ---- SIGTERM ---------------------------------------------------------------
three_waiting term GO2
for i in 1 2 3; do pids[i]=$(read_pid "$TMP/term.p$i"); done
daemon_stop TERM
ok "the daemon exited on SIGTERM"
for i in 1 2 3; do
  alive "${pids[i]}" || fail "agent term-t$i (pid ${pids[i]}) died with SIGTERM"
done
ok "SIGTERM left the 3 agents running"
assert_eq "$(sql "select state from missions where id='term'")" running "stored state of term"
daemon_start --jobs 3
wait_for "[ \$(sql \"select count(*) from events where mission_id='term' and kind='run.attach'\") = 3 ]"
ok "the next daemon re-attached 3 runs"
finished term GO2
daemon_stop TERM

# ---- --stop-agents ---------------------------------------------------------
daemon_start --jobs 3 --stop-agents
three_waiting stop GO3
for i in 1 2 3; do pids[i]=$(read_pid "$TMP/stop.p$i"); done
daemon_stop TERM
for i in 1 2 3; do assert_gone "${pids[i]}" "agent stop-t$i"; done
state=$(sql "select state from missions where id='stop'")
assert_eq "$state" cancelled "stored state of stop"
daemon_start --jobs 3
expect_api 200 - GET /v1/stats
assert_eq "$(jbody .missions_running)" 0 "missions taken up after --stop-agents"
daemon_stop
