# Shared helpers of the integration tests (STYLE.md rule 25): every test
# drives the real corral binaries against a private state dir under its own
# temp dir, so tests can run in parallel. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment (set by CTest): CORRAL, FAKE_AGENT, EXAMPLES. The shim is
# found next to corral. Nothing here sleeps to "let things happen": waiting
# is always on a condition, with a bound (wait_for).
set -u

: "${CORRAL:?CORRAL must name the corral binary}"
: "${FAKE_AGENT:?FAKE_AGENT must name the fake-agent binary}"
EXAMPLES=${EXAMPLES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples" && pwd)}
TEST_NAME=$(basename "$0" .sh)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/corral-it.XXXXXXXX") || exit 1
chmod 755 "$TMP"
STATE=$TMP/state
export TMP STATE

# The fake agent runs from a private copy in the test's temp dir, for two
# reasons. A sandboxed agent sees only its workdir (the mission's directory,
# $TMP) and the system directories, not the build tree. And the copy's path
# is this test's own: every process of a fake agent, its forked children
# included, has it as argv[0], so the host finds them by it (fa_pids) even
# when their pids live in a sandbox's pid namespace.
mkdir -p "$TMP/bin"
cp "$FAKE_AGENT" "$TMP/bin/fake-agent" && chmod 755 "$TMP/bin" "$TMP/bin/fake-agent" ||
  exit 1
export FA=$TMP/bin/fake-agent

# Processes a test starts or learns about (agents, background engines) are
# listed here, so a failing test leaves nothing running behind it. Only these
# exact pids are ever signalled.
_TRACKED=()
track_pid() { _TRACKED+=("$@"); }

# _shim_pids: the shims of this test's runs (their run dir is under $TMP).
_shim_pids() {
  local f a
  local -a argv
  for f in /proc/[0-9]*/cmdline; do
    { mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
    [[ ${argv[0]-} == */corral-shim ]] || continue
    for a in "${argv[@]:1}"; do
      if [[ $a == "$TMP"/* ]]; then
        f=${f#/proc/}
        printf '%s\n' "${f%/cmdline}"
        break
      fi
    done
  done
  return 0
}

_cleanup() {
  local p
  for p in "${_TRACKED[@]+"${_TRACKED[@]}"}" $(fa_pids); do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null
  done
  # A shim outlives its engine by design; SIGUSR1 kills its agent's tree.
  for p in $(_shim_pids); do
    kill -USR1 "$p" 2>/dev/null
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap _cleanup EXIT

note() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() {
  printf 'FAIL [%s]: %s\n' "$TEST_NAME" "$*" >&2
  if [ -s "$TMP/daemon.log" ]; then
    printf '# last lines of the daemon log:\n' >&2
    tail -n 40 "$TMP/daemon.log" >&2
  fi
  exit 1
}
skip() {
  printf 'SKIP [%s]: %s\n' "$TEST_NAME" "$*"
  exit 77
}

# assert_eq GOT WANT WHAT
assert_eq() {
  [ "$1" = "$2" ] || fail "$3: got [$1], want [$2]"
  ok "$3 = $2"
}

# assert_match GOT GLOB WHAT
assert_match() {
  # shellcheck disable=SC2053
  [[ $1 == $2 ]] || fail "$3: got [$1], want it to match [$2]"
  ok "$3 matches $2"
}

# wait_for 'CONDITION' [TIMEOUT_S]: polls CONDITION (a shell command string)
# every 20ms until it succeeds; fails the test after TIMEOUT_S (default 30).
wait_for() {
  local cond=$1 limit=${2:-30} start=$SECONDS
  until eval "$cond"; do
    if ((SECONDS - start >= limit)); then
      fail "timed out after ${limit}s waiting for: $cond"
    fi
    sleep 0.02
  done
}

# corral_run ARGS... : `corral run` on the test's state dir, bounded by
# RUN_LIMIT seconds (at most 120; tests where a hang is the likely way to
# fail set less, so they fail before CTest's own limit). Exit status 124
# means corral had to be killed.
corral_run() {
  local rc
  timeout "${RUN_LIMIT:-120}" "$CORRAL" run --state-dir "$STATE" "$@"
  rc=$?
  [ "$rc" -ne 124 ] || printf '# corral run did not exit within %ss\n' "${RUN_LIMIT:-120}" >&2
  return "$rc"
}

# corral_cmd VERB ARGS... : another verb on the test's state dir, bounded.
corral_cmd() {
  local verb=$1
  shift
  timeout 60 "$CORRAL" "$verb" --state-dir "$STATE" "$@"
}

# show_json [MISSION]: writes `corral show --json` to $TMP/show.json.
show_json() {
  local rc
  corral_cmd show --json "$@" >"$TMP/show.json" 2>"$TMP/show.err"
  rc=$?
  [ "$rc" -eq 0 ] ||
    fail "corral show --json exited $rc: $(head -c 600 "$TMP/show.err")"
}

# json_get EXPR FILE...: evaluates a Python expression with json loaded and the
# parsed files bound to d (one file) or ds (a list), prints the result.
json_get() {
  local expr=$1
  shift
  python3 - "$expr" "$@" <<'EOF'
import json, sys
expr, files = sys.argv[1], sys.argv[2:]
ds = [json.load(open(f)) for f in files]
d = ds[0] if ds else None
r = eval(expr)
print(r if not isinstance(r, bool) else str(r).lower())
EOF
}

# task_field TASK FIELD: a field of a task in $TMP/show.json (call
# show_json first). None prints as "None".
task_field() {
  json_get "[t for t in d['tasks'] if t['id'] == '$1'][0]['$2']" "$TMP/show.json"
}

# events FILE PYEXPR: evaluates PYEXPR with `ev` bound to the list of events
# of a --json output file (every line must parse).
events() {
  local file=$1 expr=$2
  python3 - "$file" "$expr" <<'EOF'
import json, sys
ev = []
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        ev.append(json.loads(line))
    except ValueError as e:
        sys.exit("line %d of --json output is not JSON (%s): %r" % (n, e, line))
r = eval(sys.argv[2])
print(r if not isinstance(r, bool) else str(r).lower())
EOF
}

# alive PID: the process exists and is not a zombie. PID is a host pid.
# read_pid FILE: the host pid a fake-agent pidfile holds (agents run with
# SANDBOX=none: a sandboxed agent writes its namespace pid); tracked for
# cleanup.
read_pid() {
  local p
  p=$(cat "$1") || fail "no pid file $1"
  track_pid "$p"
  printf '%s\n' "$p"
}

alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$st" ] && [ "$st" != Z ]
}

# fa_pids [ARG]: the host pids of this test's live fake agents (argv[0] is
# $FA; zombies have no argv and do not count), or of those that also have
# ARG as one of their arguments. A pidfile path makes a good ARG: an
# agent's forked children keep its argv, so `fa_pids "$TMP/p1"` is the tree
# of the agent started with pidfile $TMP/p1. The pids fake agents write in
# their pidfiles are those of their pid namespace, which mean nothing on the
# host when the agent is sandboxed, so the tests use this instead.
fa_pids() {
  local f a
  local -a argv
  for f in /proc/[0-9]*/cmdline; do
    { mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
    [ "${argv[0]-}" = "$FA" ] || continue
    if [ $# -eq 0 ]; then
      f=${f#/proc/}
      printf '%s\n' "${f%/cmdline}"
      continue
    fi
    for a in "${argv[@]:1}"; do
      if [ "$a" = "$1" ]; then
        f=${f#/proc/}
        printf '%s\n' "${f%/cmdline}"
        break
      fi
    done
  done
  return 0
}

# fa_alive ARG: some fake agent with argument ARG is alive.
fa_alive() { [ -n "$(fa_pids "$1")" ]; }

# fa_describe PID...: "pid: argv" for each, for failure messages.
fa_describe() {
  local p
  for p in "$@"; do
    printf '%s: %s; ' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
  done
}

# assert_no_agents WHAT: not one fake agent of this test is alive on the
# host, whatever namespace it ran in. Call it once the run that started
# them has ended: by then the shim has reaped everything (or the sandbox's
# pid namespace is gone), so there is nothing to wait for.
assert_no_agents() {
  local left
  left=$(fa_pids)
  if [ -n "$left" ]; then
    # shellcheck disable=SC2086
    track_pid $left
    # shellcheck disable=SC2086
    fail "$1: fake agents still alive: $(fa_describe $left)"
  fi
  ok "$1: no fake agent left on the host"
}

# corral_pid PID: the corral process that is PID or one of its descendants
# (a background corral_run is a subshell or `timeout` above corral). corral
# is a lean front that execs corral-engine, from its own directory, for
# every verb but `sandbox`; the engine is what runs. Prints nothing when
# there is none.
corral_pid() {
  local want queue=("$1") p c
  want=$(dirname "$(readlink -f "$CORRAL")")/corral-engine
  while ((${#queue[@]} > 0)); do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    if [ "$(readlink -f "/proc/$p/exe" 2>/dev/null)" = "$want" ]; then
      printf '%s\n' "$p"
      return 0
    fi
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do queue+=("$c"); done
  done
  return 1
}

# The sandbox profile of the supervision tests' missions: `agent` (every
# task's default) unless SANDBOX names another, e.g. SANDBOX=none to see a
# failure without the sandbox in the way. The agent's writable workdir is
# the mission file's directory, $TMP, so pidfiles and scripts go there; the
# sandbox's /tmp is private, so nothing else of the host's /tmp is visible.
SANDBOX=${SANDBOX:-agent}

# mission FILE <<EOF ... : writes a mission file running under $SANDBOX.
mission() {
  cat >"$1"
  printf 'defaults: { sandbox: %s }\n' "$SANDBOX" >>"$1"
}

# ---- the daemon (issue 5) ----------------------------------------------
# daemon_start [ARGS...]: starts `corral daemon` on $SOCK (default
# $TMP/s.sock) and $STATE, bounded by DAEMON_LIMIT seconds (default 240) so
# it stops by itself, logs to $TMP/daemon.log, waits until /v1/health
# answers. Sets DPID to the corral process itself (not the `timeout` above
# it); tracked for cleanup. RUN_AS (a command prefix such as "setpriv
# --reuid=65534 ...") runs the daemon, and api's curl, as another user.
SOCK=${SOCK:-$TMP/s.sock}
RUN_AS=${RUN_AS:-}
daemon_start() {
  # shellcheck disable=SC2086
  timeout -s KILL "${DAEMON_LIMIT:-240}" $RUN_AS "$CORRAL" daemon --socket "$SOCK" \
    --state-dir "$STATE" "$@" >>"$TMP/daemon.log" 2>&1 &
  _DWRAP=$!
  disown "$_DWRAP" # no "Killed" job notices when cleanup kills it
  track_pid "$_DWRAP"
  wait_for 'DPID=$(corral_pid "$_DWRAP") && [ -n "$DPID" ]' 10
  track_pid "$DPID"
  wait_for '[ -S "$SOCK" ] && [ "$(api GET /v1/health)" = 200 ]' 30
}

# daemon_stop [SIGNAL]: signals the daemon (default TERM) and waits for it
# to exit; fails the test if it does not within 30 s, or if a sanitizer
# reported anything (a leak is reported at a clean exit).
daemon_stop() {
  kill -"${1:-TERM}" "$DPID" 2>/dev/null
  wait_for '! alive "$DPID"' 30
  if grep -q 'Sanitizer' "$TMP/daemon.log"; then
    fail "a sanitizer reported on the daemon"
  fi
}

# api METHOD PATH [CURL ARGS...]: one request on $SOCK; prints the status,
# leaves the body in $TMP/body and the headers in $TMP/hdr.
api() {
  local m=$1 p=$2
  shift 2
  # shellcheck disable=SC2086
  $RUN_AS curl -s --max-time "${API_LIMIT:-20}" -o "$TMP/body" -D "$TMP/hdr" \
    -w '%{http_code}' --unix-socket "$SOCK" -X "$m" "$@" "http://corral$p"
}

# jbody JQ_FILTER: jq -r on the last reply's body.
jbody() { jq -r "$1" "$TMP/body"; }

# expect_api STATUS CODE METHOD PATH [CURL ARGS...]: the request answers
# STATUS and, when CODE is not "-", the error code CODE.
expect_api() {
  local want=$1 code=$2 m=$3 p=$4 got
  shift 4
  got=$(api "$m" "$p" "$@")
  [ "$got" = "$want" ] || fail "$m $p: status $got, want $want: $(head -c 400 "$TMP/body")"
  if [ "$code" != - ]; then
    [ "$(jbody .error.code)" = "$code" ] ||
      fail "$m $p: code $(jbody .error.code), want $code: $(head -c 400 "$TMP/body")"
    [ -n "$(jbody .error.message)" ] || fail "$m $p: an error without a message"
  fi
  ok "$m $p -> $want${code/#-/}"
}

# task_state MISSION TASK: the task's state through the socket.
task_state() {
  api GET "/v1/tasks/$2?mission=$1" >/dev/null && jbody .state
}

# rss_kb PID: VmRSS in KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
