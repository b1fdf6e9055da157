#!/bin/bash
# A 64 MiB line costs corral no more memory than a 1 MiB one (give or take
# 32 MiB): lines are cut at a bound and the log is read in chunks. The log
# itself keeps every byte.
. "$(dirname "$0")/lib.sh"

# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) instead of being reused, which would count as growth here: keep
# the quarantine small for these runs. A build without ASan ignores this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

# peak_rss SIZE: runs a mission printing SIZE bytes on one line and prints
# the peak RSS of corral (KiB) and its exit status.
peak_rss() {
  local size=$1
  mission "$TMP/flood$size.yaml" <<EOF2
mission: flood$size
tickets:
  - id: T
    tasks:
      - id: flood
        command: "head -c $size /dev/zero | tr '\\\\0' x"
EOF2
  python3 - "$CORRAL" "$STATE" "$TMP/flood$size.yaml" <<'EOF2'
import resource, subprocess, sys
corral, state, f = sys.argv[1:]
p = subprocess.run(["timeout", "120", corral, "run", "-q", "--state-dir", state, f],
                   stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)
EOF2
}

read -r small rc < <(peak_rss 1048576)
assert_eq "$rc" 0 "exit status with a 1 MiB line"
read -r big rc < <(peak_rss 67108864)
assert_eq "$rc" 0 "exit status with a 64 MiB line"
note "peak RSS: ${small} KiB (1 MiB line), ${big} KiB (64 MiB line)"
((big - small < 32768)) || fail "peak RSS grew by $(((big - small) / 1024)) MiB for a 64 MiB line"
ok "peak RSS grew by $(((big - small) / 1024)) MiB (< 32 MiB)"
show_json flood67108864
assert_eq "$(task_field flood state)" completed "state"
size=$(corral_cmd logs --mission flood67108864 flood | wc -c)
assert_eq "$size" 67108864 "size of the log"
x=$(corral_cmd logs --mission flood67108864 flood | tr -d x | wc -c)
assert_eq "$x" 0 "bytes other than x in the log"
