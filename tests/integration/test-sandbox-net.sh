#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox escape probes, network (issue 4 groups 13, 14): a TCP connection
# to an outside address (the host's own non-loopback address stands in for
# the internet, so nothing leaves the machine) and to a host loopback port,
# the host's abstract and pathname Unix sockets, netlink's list of links,
# vsock, ICMP, DNS to a host resolver. listen.py counts every connection
# and datagram that reaches the host: a sandboxed probe must leave its
# count unchanged. As root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

HOST_IP=$(ip -4 -o addr show scope global 2>/dev/null |
  awk '{ sub(/\/.*/, "", $4); print $4; exit }')

# listeners: starts listen.py for the current identity; sets NET (its dir)
# and WATCH to its hit log.
listeners() {
  local specs=(tcp:127.0.0.1 udp:127.0.0.1 "unix:$OUTSIDE/agent.sock"
    "abstract:corral-probe-$$-$SBX_ID")
  [ -n "$HOST_IP" ] && specs+=("tcp:$HOST_IP" "udp:$HOST_IP")
  NET=$D/net
  mkdir -p "$NET"
  touch "$NET/hits"
  python3 "$SBX_DIR/listen.py" "$NET" "${specs[@]}" </dev/null \
    >"$NET/log" 2>&1 &
  LISTENER=$!
  track_pid "$LISTENER"
  wait_for "[ -e '$NET/ready' ]" 15
  WATCH=("$NET/hits")
}

# port KIND HOST: the port listen.py bound.
port() {
  awk -v k="$1" -v h="$2" '$1 == k && $2 == h { print $3 }' "$NET/ports"
}

tcp_udp() {
  expect_pair "TCP to a host loopback port" net-connect 127.0.0.1 \
    "$(port tcp 127.0.0.1)"
  expect_pair "DNS query to a host loopback resolver" dns corral.example \
    127.0.0.1 "$(port udp 127.0.0.1)"
  if [ -z "$HOST_IP" ]; then
    note "no non-loopback IPv4 address: outside-address probes skipped"
    return 0
  fi
  expect_pair "TCP to an outside address" net-connect "$HOST_IP" \
    "$(port tcp "$HOST_IP")"
  expect_pair "DNS query to an outside resolver" dns corral.example \
    "$HOST_IP" "$(port udp "$HOST_IP")"
  expect_pair_root "ICMP echo to an outside address" icmp "$HOST_IP"
}

# The system resolver (whatever /etc/resolv.conf names) must not answer
# inside; on a host without DNS only the sandboxed half can run.
resolver() {
  probe_free dns example.com
  [ "$RC" -eq 0 ] || note "resolver: the host itself cannot resolve: sandboxed half only"
  expect_blocked "resolve a host name" dns example.com
}

sockets() {
  local s
  expect_pair "the host's abstract Unix socket" net-unix-abstract \
    "corral-probe-$$-$SBX_ID"
  expect_pair "a host Unix socket (agent socket)" unix-connect \
    "$OUTSIDE/agent.sock"
  # The host's real ones, where this host has them and we may connect.
  for s in /run/dbus/system_bus_socket /var/run/docker.sock \
    /run/systemd/journal/stdout "/run/user/$SBX_UID/bus"; do
    [ -S "$s" ] || continue
    probe_free unix-connect "$s"
    [ "$RC" -eq 0 ] || continue
    expect_blocked "host socket $s" unix-connect "$s"
  done
}

links() {
  expect_pair "netlink sees a link besides lo" netlink
  probe_free vsock
  if [ "$RC" -eq 0 ]; then
    ok "vsock: unsandboxed: $OUT"
  else
    note "vsock: this kernel has none: sandboxed half only"
  fi
  expect_blocked "an AF_VSOCK socket" vsock
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  listeners
  tcp_udp
  resolver
  sockets
  links
  stop "$LISTENER"
done
