#!/bin/bash
# completions/corral.bash: sourced into bash, it completes verbs from a
# prefix, each verb's options, and --by's values; and every option it offers
# for a verb is one that verb's --help mentions.
. "$(dirname "$0")/lib.sh"

COMPLETION=$(cd "$(dirname "$0")/../.." && pwd)/completions/corral.bash
# shellcheck source=/dev/null
. "$COMPLETION" || fail "sourcing $COMPLETION"

# comp WORDS...: what completing the last word offers, sorted, one line.
comp() {
  COMP_WORDS=(corral "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _corral
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

assert_eq "$(comp s)" "sandbox show submit" "verbs starting with s"
assert_eq "$(comp re)" "reject replay resume" "verbs starting with re"
assert_eq "$(comp events --s)" "--since --socket" "events options starting with --s"
assert_eq "$(comp logs -f --m)" "--mission" "logs option after -f"
assert_eq "$(comp costs --by t)" "task ticket" "values of costs --by"
assert_eq "$(comp --help l)" "logs ls" "verbs after a global option"
assert_eq "$(comp export --format j)" "junit" "values of export --format"

note "every option offered is in the verb's --help"
for verb in submit ls show logs events approve reject answer pause resume cancel costs gc daemon run export import replay; do
  help=$(timeout 10 "$CORRAL" "$verb" --help) || fail "corral $verb --help failed"
  for opt in $(comp "$verb" -); do
    [ "$opt" = --help ] || [ "$opt" = --version ] || [ "$opt" = -f ] && continue
    [[ $help == *"$opt"* ]] || fail "completion offers $opt for $verb, its --help does not mention it"
  done
done
ok "completed options match --help"
