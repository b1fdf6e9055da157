#!/bin/bash
# A command that cannot be executed fails with a spawn error naming errno,
# never as "exit 127".
. "$(dirname "$0")/lib.sh"
RUN_LIMIT=30

printf '#!/bin/sh\necho hi\n' >"$TMP/noexec"
chmod 644 "$TMP/noexec"
mission "$TMP/m.yaml" <<EOF2
mission: spawnerr
tickets:
  - id: A
    tasks:
      - { id: missing, command: ["/nonexistent/prog", arg] }
  - id: B
    tasks:
      - { id: noexec, command: ["$TMP/noexec"] }
EOF2
corral_run "$TMP/m.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 1 "exit status"
show_json
assert_eq "$(task_field missing state)" failed "state of missing"
assert_match "$(task_field missing reason)" "*spawn error: ENOENT*" "reason of missing"
assert_eq "$(task_field noexec state)" failed "state of noexec"
assert_match "$(task_field noexec reason)" "*EACCES*" "reason of noexec"
for t in missing noexec; do
  [ "$(task_field $t reason)" != "exit 127" ] || fail "$t failed as exit 127"
done
ok "no reason is 'exit 127'"
