#!/bin/bash
# SSE: a client that disconnects and comes back with Last-Event-ID gets
# every later event, with no gap and no duplicate (the ids seen across both
# connections are exactly the store's event seqs); a subscriber that never
# reads is dropped (after the feed's stall time) while /v1/health answers.
. "$(dirname "$0")/lib.sh"
CLIENT="python3 $(dirname "$0")/ctl-client.py"

daemon_start
store_seqs() { sqlite3 "file:$STATE/corral.db?mode=ro" 'select seq from events order by seq'; }

{
  echo "mission: ev"
  echo "tickets:"
  for i in 1 2 3; do
    cat <<EOF
  - id: E$i
    tasks:
      - id: t$i
        command: ["$FA", numbered, 20, wait-file, "$TMP/GO", numbered, 40]
EOF
  done
} | mission "$TMP/ev.yaml"
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/ev.yaml"

# A reads 30 events then drops the connection without a word.
timeout 60 $CLIENT sse "$SOCK" "$TMP/a.ids" --count 30 || fail "client A failed"
last=$(tail -n1 "$TMP/a.ids")
assert_eq "$(wc -l <"$TMP/a.ids")" 30 "events seen by A"
# B comes back with Last-Event-ID (and a misleading ?after=0, which the
# header overrides) while the agents still produce, then until the end.
$CLIENT sse "$SOCK" "$TMP/b.ids" --after 0 --last-id "$last" \
  --until-file "$TMP/until" &
bpid=$!
track_pid "$bpid"
wait_for '[ -s "$TMP/b.ids" ]'
touch "$TMP/GO"
wait_for 'api GET /v1/missions/ev >/dev/null && [ "$(jbody .state)" = succeeded ]' 60
ok "ev succeeded"
store_seqs >"$TMP/store.ids"
tail -n1 "$TMP/store.ids" >"$TMP/until"
wait "$bpid" || fail "client B failed"
n=$(wc -l <"$TMP/store.ids")
[ "$n" -gt 150 ] || fail "only $n events in the store"
assert_eq "$(head -n1 "$TMP/b.ids")" "$((last + 1))" "first id B saw"
assert_eq "$(cat "$TMP/a.ids" "$TMP/b.ids" | sort -n | uniq -d | wc -l)" 0 "ids seen twice"
cat "$TMP/a.ids" "$TMP/b.ids" >"$TMP/seen.ids"
cmp -s "$TMP/seen.ids" "$TMP/store.ids" ||
  fail "A+B differ from the store's seqs: $(diff "$TMP/seen.ids" "$TMP/store.ids" | head -5)"
ok "A then B saw the store's $n seqs, in order, none twice"

# A subscriber that never reads, with a tiny receive buffer, while a flood
# of events goes out.
$CLIENT stuck "$SOCK" "$TMP/stuck" --rcvbuf 4096 >"$TMP/stuck.out" &
spid=$!
track_pid "$spid"
wait_for '[ -e "$TMP/stuck" ]'
wait_for 'api GET /v1/stats >/dev/null && [ "$(jbody .subscribers)" = 1 ]'
mission "$TMP/flood.yaml" <<EOF
mission: flood
tickets:
  - id: F
    tasks:
      - { id: f, command: ["$FA", numbered, 5000] }
EOF
expect_api 201 - POST "/v1/missions?dir=$TMP" --data-binary @"$TMP/flood.yaml"
wait_for 'api GET /v1/missions/flood >/dev/null && [ "$(jbody .state)" = succeeded ]' 60
ok "flood succeeded while a subscriber did not read"
t0=$SECONDS
while api GET /v1/stats >/dev/null && [ "$(jbody .subscribers)" != 0 ]; do
  ((SECONDS - t0 < 60)) || fail "the stuck subscriber is still there after 60 s"
  expect_api 200 - GET /v1/health >/dev/null
  sleep 0.5
done
ok "the stuck subscriber was dropped after $((SECONDS - t0)) s, health answering"
api GET /v1/stats >/dev/null
assert_eq "$(jbody .subscribers_dropped)" 1 "subscribers dropped"
touch "$TMP/stuck.done"
wait "$spid" || fail "the stuck client's connection was not closed: $(cat "$TMP/stuck.out")"
ok "the stuck client sees the connection closed"
rss=$(rss_kb "$DPID")
note "daemon RSS ${rss} KiB"
daemon_stop
