#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal, for the TIOCSTI probe.

pty-run.py CMD [ARGS...]

The command gets a new session whose controlling terminal is the pty's
slave (stdin, stdout and stderr). Its output is copied to our stdout. When
it exits (or after 60 s, when it is killed), the bytes waiting in the
terminal's input queue, which is where TIOCSTI injects, are printed as
"pending-input: <repr>" ("pending-input: none" when empty). Exits with the
command's status, or 128 + the signal that killed it.
"""
import fcntl
import os
import select
import sys
import termios
import time


def spawn(slave, argv):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    return pid


def drain(master, pid):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                sys.stdout.buffer.write(os.read(master, 65536))
                sys.stdout.flush()
            except OSError:
                pass
        if done:
            return status
    os.kill(pid, 9)
    return os.waitpid(pid, 0)[1]


def pending(slave):
    fcntl.fcntl(slave, fcntl.F_SETFL, os.O_NONBLOCK)
    try:
        return os.read(slave, 4096)
    except OSError:
        return b""


def main():
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    status = drain(master, spawn(slave, sys.argv[1:]))
    got = pending(slave)
    print("pending-input: %s" % (repr(got) if got else "none"))
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


main()
