#!/usr/bin/env python3
"""Host-side listeners for the sandbox network probes.

listen.py DIR [tcp:HOST] [udp:HOST] [unix:PATH] [abstract:NAME]...

Binds each listener (TCP and UDP on an ephemeral port), writes one line per
listener to DIR/ports ("tcp HOST PORT", "udp HOST PORT", "unix PATH",
"abstract NAME"), then creates DIR/ready. Every connection accepted or
datagram received appends "hit KIND WHERE" to DIR/hits, and UDP datagrams get
a reply (a fake DNS answer: the query echoed back), so an unsandboxed probe
escapes and a sandboxed one leaves DIR/hits untouched. Exits after 600 s
at the latest.
"""
import os
import selectors
import socket
import sys
import time


def bind(spec):
    kind, _, where = spec.partition(":")
    if kind in ("tcp", "udp"):
        fam = socket.AF_INET6 if ":" in where else socket.AF_INET
        typ = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, typ)
        s.bind((where, 0))
        desc = "%s %s %d" % (kind, where, s.getsockname()[1])
    elif kind in ("unix", "abstract"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(where if kind == "unix" else "\0" + where)
        if kind == "unix":
            os.chmod(where, 0o777)
        desc = "%s %s" % (kind, where)
    else:
        sys.exit("listen.py: bad listener %r" % spec)
    if typ_is_stream(s):
        s.listen(16)
    return s, desc


def typ_is_stream(s):
    return s.type == socket.SOCK_STREAM


def main():
    out = sys.argv[1]
    sel = selectors.DefaultSelector()
    descs = []
    for spec in sys.argv[2:]:
        s, desc = bind(spec)
        sel.register(s, selectors.EVENT_READ, desc)
        descs.append(desc)
    with open(os.path.join(out, "ports"), "w") as f:
        f.write("".join(d + "\n" for d in descs))
    open(os.path.join(out, "ready"), "w").close()
    hits = open(os.path.join(out, "hits"), "a")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            if typ_is_stream(s):
                c, _ = s.accept()
                c.close()
            else:
                data, peer = s.recvfrom(4096)
                s.sendto(data, peer)
            hits.write("hit %s\n" % key.data)
            hits.flush()


main()
