#!/bin/bash
# corral runs examples/hello.yaml as an unprivileged user (nobody), with a
# state dir that user owns. Needs root to switch user: skipped otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "not root: cannot run as nobody"
command -v setpriv >/dev/null || skip "setpriv is not installed"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${nobody[@]}" test -x "$CORRAL" || skip "nobody cannot execute $CORRAL"

mkdir "$TMP/home"
cp "$EXAMPLES/hello.yaml" "$TMP/home/hello.yaml"
chown -R 65534:65534 "$TMP/home"
(cd "$TMP/home" && HOME=$TMP/home timeout 120 "${nobody[@]}" "$CORRAL" run \
  --state-dir "$TMP/home/state" --json hello.yaml) >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "corral run as nobody exited $rc: $(head -c 2000 "$TMP/err")"
ok "corral run as nobody exited 0"
assert_eq "$(stat -c %u "$TMP/home/state/corral.db")" 65534 "owner of the store"
done=$(events "$TMP/out" 'sum(1 for e in ev if e["kind"] == "state" and e["data"]["to"] == "completed")')
assert_eq "$done" 4 "tasks completed"
