#!/bin/bash
# The man pages: each docs/man/*.scd renders with scdoc into a non-empty
# roff page whose .TH names the page and its section, and every client verb
# of `corral --help` is described in corral(1). Skipped without scdoc.
. "$(dirname "$0")/lib.sh"

command -v scdoc >/dev/null || skip "scdoc is not installed"
MAN=$(cd "$(dirname "$0")/../../docs/man" && pwd)

for page in corral.1 corral-daemon.8 corral-mission.5; do
  scdoc <"$MAN/$page.scd" >"$TMP/$page" 2>"$TMP/err" ||
    fail "scdoc $page.scd: $(cat "$TMP/err")"
  [ -s "$TMP/$page" ] || fail "$page renders empty"
  name=${page%.*}
  section=${page##*.}
  grep -q "^\.TH \"$name\" \"$section\"" "$TMP/$page" ||
    fail "$page has no .TH $name $section: $(grep -m1 '^\.TH' "$TMP/$page")"
  ok "$page renders ($(wc -l <"$TMP/$page") lines)"
done

verbs=$(timeout 10 "$CORRAL" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$verbs" ] || fail "corral --help lists no verbs"
for v in $verbs; do
  grep -q "^\*$v\*\|^\*$v\* \|, \*$v\* " "$MAN/corral.1.scd" ||
    fail "corral(1) does not describe '$v'"
done
ok "corral(1) describes every verb: $(echo $verbs)"
