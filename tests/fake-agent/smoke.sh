#!/bin/sh
# Smoke test for fake-agent: a handful of ops behave as the supervision
# tests expect. Usage: smoke.sh PATH-TO-FAKE-AGENT
set -u
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check() { # check NAME GOT WANT
  if [ "$2" != "$3" ]; then
    printf 'FAIL %s: got [%s] want [%s]\n' "$1" "$2" "$3"
    fails=$((fails + 1))
  else
    printf 'ok   %s\n' "$1"
  fi
}

check print "$("$FA" print 'hello world')" "hello world"
"$FA" print x exit 7 >/dev/null
check exit-status "$?" 7
check json "$("$FA" json message 'say "hi"\')" \
  '{"type":"message","text":"say \"hi\"\\"}'
for i in 1 2 3; do "$FA" count "$tmp/starts"; done
check count "$(wc -l <"$tmp/starts" | tr -d ' ')" 3
check fds "$("$FA" fds </dev/null 7</dev/null | cut -d' ' -f1-4)" "fds: 0 1 2"
check fds-extra "$("$FA" fds 7</dev/null | grep -c ' 7\( \|$\)')" 1

blk=$("$FA" sigmask | sed -n 's/^sigblk: //p')
check sigmask-format "$(printf '%s' "$blk" | grep -c '^[0-9a-f]\{16\}$')" 1
ign=$("$FA" ignore-term sigmask | sed -n 's/^sigign: //p')
low=${ign#"${ign%????}"}
check ignore-term "$(((0x$low >> 14) & 1))" 1

printf '# a comment\nprint two words here\n\njson k a b c\nexit 4\n' \
  >"$tmp/script"
out=$("$FA" --script "$tmp/script")
check script-status "$?" 4
check script-output "$out" "two words here
{\"type\":\"k\",\"text\":\"a b c\"}"

"$FA" print never bogus-op 2>/dev/null >"$tmp/out"
check unknown-op-status "$?" 2
check unknown-op-no-output "$(cat "$tmp/out")" ""
"$FA" signal TERM
check signal-term "$?" 143
check numbered "$("$FA" numbered 3 | tail -n1)" "line 3"
check flood "$("$FA" flood 1010 | wc -c | tr -d ' ')" 1010

[ "$fails" -eq 0 ] || exit 1
