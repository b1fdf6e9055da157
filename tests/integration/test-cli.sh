#!/bin/bash
# The CLI surface: help and version exit 0, an unknown verb or option exits
# 2, and every line of --json output is a JSON object of the event schema.
. "$(dirname "$0")/lib.sh"

for args in "--help" "--version" "run --help" "validate --help" "show --help" "logs --help"; do
  # shellcheck disable=SC2086
  timeout 60 "$CORRAL" $args >"$TMP/out" 2>&1
  assert_eq "$?" 0 "exit status of corral $args"
  [ -s "$TMP/out" ] || fail "corral $args printed nothing"
done
grep -q '^corral [0-9]' <(timeout 60 "$CORRAL" --version) || fail "--version does not print 'corral VERSION'"
ok "--version prints: $(timeout 60 "$CORRAL" --version)"

timeout 60 "$CORRAL" frobnicate >"$TMP/out" 2>&1
assert_eq "$?" 2 "exit status of an unknown verb"
timeout 60 "$CORRAL" run --no-such-option "$EXAMPLES/hello.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 2 "exit status of an unknown option"
timeout 60 "$CORRAL" run --jobs 0 "$EXAMPLES/hello.yaml" >"$TMP/out" 2>&1
assert_eq "$?" 2 "exit status of --jobs 0"
timeout 60 "$CORRAL" >"$TMP/out" 2>&1
assert_eq "$?" 2 "exit status without a verb"

note "--json output of examples/failing.yaml and hello.yaml"
corral_run --json "$EXAMPLES/failing.yaml" >"$TMP/ev.jsonl" 2>"$TMP/err"
assert_eq "$?" 1 "exit status of failing.yaml"
corral_run --json "$EXAMPLES/hello.yaml" >>"$TMP/ev.jsonl" 2>>"$TMP/err"
assert_eq "$?" 0 "exit status of hello.yaml"
res=$(python3 - "$TMP/ev.jsonl" <<'EOF2'
import json, sys
kinds = {"engine.start", "state", "run.start", "run.end", "run.attach", "message",
         "mission.end"}
last = {}
n = 0
for k, line in enumerate(open(sys.argv[1]), 1):
    try:
        e = json.loads(line)
    except ValueError as err:
        sys.exit("line %d is not JSON (%s): %r" % (k, err, line))
    if not isinstance(e, dict):
        sys.exit("line %d is not an object: %r" % (k, line))
    for key, typ in (("seq", int), ("ts", int), ("mission", str), ("run", int),
                     ("kind", str), ("data", dict)):
        if not isinstance(e.get(key), typ):
            sys.exit("line %d: %s is not %s: %r" % (k, key, typ.__name__, line))
    if e["kind"] not in kinds:
        sys.exit("line %d: unknown kind %r" % (k, e["kind"]))
    if not (e["task"] is None or isinstance(e["task"], str)):
        sys.exit("line %d: task is neither null nor a string" % k)
    if e["seq"] <= last.get(e["mission"], 0):
        sys.exit("line %d: seq %d does not increase" % (k, e["seq"]))
    last[e["mission"]] = e["seq"]
    d = e["data"]
    need = {"state": ("from", "to", "attempt"), "run.start": ("run", "attempt"),
            "run.end": ("run", "reason", "success"), "message": ("text", "truncated"),
            "mission.end": (), "engine.start": ("pid",)}.get(e["kind"], ())
    for f in need:
        if f not in d:
            sys.exit("line %d: %s event without data.%s" % (k, e["kind"], f))
    n += 1
print(n)
EOF2
) || fail "$res"
ok "$res --json lines parse and follow the event schema"
ends=$(events "$TMP/ev.jsonl" '" ".join("%s:%s" % (e["mission"], e["data"]["exit"]) for e in ev if e["kind"] == "mission.end")')
assert_eq "$ends" "failing:1 hello:0" "mission.end events"
