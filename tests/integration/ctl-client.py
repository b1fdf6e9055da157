#!/usr/bin/env python3
"""Raw-socket clients of the daemon's control socket for the daemon tests
(stdlib only, so no dependency beyond python3). Each subcommand is one kind
of client; every one is bounded in time and exits by itself.

  sse SOCK OUT [--after N] [--last-id N] [--count N] [--until-file F]
      follows /v1/events, writes each event's id to OUT (one a line, flushed)
      and exits 0 after COUNT events, or once F exists and the seq it holds
      was seen; checks that id equals the data's seq and that ids strictly
      increase.
  stuck SOCK READY [--rcvbuf N] [--hold S]
      subscribes to /v1/events and never reads; touches READY once the
      request is sent, exits 0 when the daemon closed the connection (a
      write-side EOF seen by draining once at the end), 1 if it held.
  idle SOCK N READY [--hold S]
      opens N connections that send nothing, touches READY, holds them.
  slowloris SOCK   sends a request a byte at a time, 1 byte/s; exits 0 when
      the daemon closes the connection, 1 if it never does.
  body SOCK MB     POSTs a Content-Length: MB MiB body, sending it all;
      prints the status line it got back.
  raw SOCK FILE    sends the bytes of FILE as the request, prints the reply.
  hangup SOCK N    N times: subscribes to /v1/events?after=0, reads 1 KiB
      and closes with the rest of the backlog still queued for it.
"""
import argparse, json, os, socket, sys, time


def connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def until(a):
    try:
        return int(open(a.until_file).read())
    except (TypeError, OSError, ValueError):
        return None


def sse(a):
    s = connect(a.sock, a.timeout)
    hdr = "GET /v1/events?after=%d HTTP/1.1\r\nHost: corral\r\n" % a.after
    if a.last_id is not None:
        hdr += "Last-Event-ID: %d\r\n" % a.last_id
    s.sendall((hdr + "\r\n").encode())
    buf, seen, last = b"", 0, -1
    deadline = time.monotonic() + a.timeout
    out = open(a.out, "a")
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("sse: " + head.decode(errors="replace"))
    while time.monotonic() < deadline:
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            f = {}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(": ")
                f[k] = v
            if "id" not in f:
                continue
            i = int(f["id"])
            if json.loads(f["data"])["seq"] != i or i <= last:
                sys.exit("sse: bad id %d after %d: %r" % (i, last, block))
            last = i
            out.write("%d\n" % i)
            out.flush()
            seen += 1
            if a.count and seen >= a.count:
                s.close()  # an abrupt disconnect, as a client that goes away
                return 0
        u = until(a)
        if u is not None and last >= u:
            return 0
        s.settimeout(0.2)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            sys.exit("sse: the daemon closed the stream after id %d" % last)
        buf += d
    sys.exit("sse: timed out after %d events (last id %d)" % (seen, last))


def stuck(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.connect(a.sock)
    s.sendall(b"GET /v1/events?after=0 HTTP/1.1\r\nHost: corral\r\n\r\n")
    open(a.ready, "w").close()
    # Never read until the test has seen the daemon drop the subscriber
    # (it creates READY.done) or the hold time passes.
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline and not os.path.exists(a.ready + ".done"):
        time.sleep(0.1)
    # Now drain: a dropped connection ends with EOF.
    s.settimeout(5)
    try:
        while s.recv(1 << 20):
            pass
    except socket.timeout:
        print("stuck: the connection is still open")
        return 1
    return 0


def idle(a):
    conns = [connect(a.sock) for _ in range(a.n)]
    open(a.ready, "w").close()
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline and not os.path.exists(a.ready + ".done"):
        time.sleep(0.1)
    closed = 0
    for c in conns:
        c.setblocking(False)
        try:
            if c.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print("idle: %d of %d closed by the daemon" % (closed, a.n))
    return 0


def slowloris(a):
    s = connect(a.sock, 2)
    req = b"GET /v1/health HTTP/1.1\r\nHost: corral\r\nX-Slow: " + b"a" * 200
    t0 = time.monotonic()
    for ch in req:
        try:
            s.sendall(bytes([ch]))
        except OSError:
            break
        try:
            if s.recv(4096) == b"":
                break
        except socket.timeout:
            continue  # nothing yet: one byte every 2 s at most, go on
        except OSError:
            break
    else:
        print("slowloris: the daemon never closed the connection")
        return 1
    print("slowloris: closed after %.1f s" % (time.monotonic() - t0))
    return 0


def body(a):
    s = connect(a.sock, 60)
    n = a.mb << 20
    s.sendall(b"POST /v1/missions HTTP/1.1\r\nHost: corral\r\n"
              b"Content-Length: %d\r\n\r\n" % n)
    chunk, sent = b"x" * (1 << 20), 0
    try:
        while sent < n:
            sent += s.send(chunk[: min(len(chunk), n - sent)])
    except OSError as e:
        print("body: send stopped after %d bytes: %s" % (sent, e), file=sys.stderr)
    reply = b""
    try:
        while b"\r\n" not in reply:
            d = s.recv(4096)
            if not d:
                break
            reply += d
    except OSError:
        pass
    print(reply.split(b"\r\n", 1)[0].decode(errors="replace"))
    return 0


def raw(a):
    s = connect(a.sock, 30)
    s.sendall(open(a.file, "rb").read())
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        reply += d
    sys.stdout.write(reply.decode(errors="replace"))
    return 0


def hangup(a):
    for _ in range(a.n):
        s = connect(a.sock, 10)
        s.sendall(b"GET /v1/events?after=0 HTTP/1.1\r\nHost: corral\r\n\r\n")
        s.recv(1024)
        s.close()
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("sse")
    q.add_argument("sock"); q.add_argument("out")
    q.add_argument("--after", type=int, default=0)
    q.add_argument("--last-id", type=int)
    q.add_argument("--count", type=int, default=0)
    q.add_argument("--until-file")
    q.add_argument("--timeout", type=float, default=60)
    q = sub.add_parser("stuck")
    q.add_argument("sock"); q.add_argument("ready")
    q.add_argument("--rcvbuf", type=int, default=4096)
    q.add_argument("--hold", type=float, default=90)
    q = sub.add_parser("idle")
    q.add_argument("sock"); q.add_argument("n", type=int); q.add_argument("ready")
    q.add_argument("--hold", type=float, default=90)
    q = sub.add_parser("slowloris")
    q.add_argument("sock")
    q = sub.add_parser("body")
    q.add_argument("sock"); q.add_argument("mb", type=int)
    q = sub.add_parser("hangup")
    q.add_argument("sock"); q.add_argument("n", type=int)
    q = sub.add_parser("raw")
    q.add_argument("sock"); q.add_argument("file")
    a = p.parse_args()
    return globals()[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
