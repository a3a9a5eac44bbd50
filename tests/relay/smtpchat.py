#!/usr/bin/python3
"""smtpchat — a tiny SMTP client for the relay's script tests.

    smtpchat.py [--source ADDR] [--timeout S] TARGET [COMMAND...]

TARGET is HOST:PORT, [V6]:PORT or unix:PATH.  Reads the greeting, then
sends each COMMAND (a line; "\\n" inside one means: send these lines at
once, pipelined) and reads one reply per line sent.  A COMMAND starting
with "<<" is message text after DATA: its lines (again split at "\\n")
and the final "." are sent, and one reply is read.  "!sleep S" pauses.  Prints every reply
line as received.  Exits 0 when the server answered everything, 1 when it
closed or timed out first (what it said so far is printed).
"""
import argparse
import socket
import sys
import time


def connect(target, source, timeout):
    if target.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(target[5:])
        return s
    if target.startswith("["):
        host, port = target[1:].split("]:")
    else:
        host, port = target.rsplit(":", 1)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((host, int(port)))
    return s


def replies(f, n):
    for _ in range(n):
        while True:
            line = f.readline()
            if not line:
                raise EOFError
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            print(line, flush=True)
            if len(line) < 4 or line[3] != "-":
                break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("target")
    ap.add_argument("commands", nargs="*")
    a = ap.parse_args()
    s = connect(a.target, a.source, a.timeout)
    f = s.makefile("rb")
    try:
        replies(f, 1)
        for c in a.commands:
            if c.startswith("!sleep "):
                time.sleep(float(c.split()[1]))
                continue
            lines = c[2:].split("\\n") if c.startswith("<<") else c.split("\\n")
            if c.startswith("<<"):
                lines.append(".")
            s.sendall("".join(l + "\r\n" for l in lines).encode())
            replies(f, 1 if c.startswith("<<") else len(lines))
    except (EOFError, OSError) as e:
        print("[closed: %s]" % (e or "EOF"), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
