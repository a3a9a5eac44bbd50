#!/usr/bin/python3
"""rawclient — SMTP clients that misbehave, for the relay's script tests.

    rawclient.py HOST:PORT MODE [options]

Every mode reads the greeting and sends EHLO; then:

  smuggle --from A --to R --end ESC --smuggle-from B
        MAIL, RCPT and DATA as usual, then the message "Subject: ..." and
        "line" followed by the bytes ESC (Python escapes, e.g. '\\n.\\n'),
        then a second transaction "MAIL FROM:<B>", "RCPT TO:<R>", "DATA",
        "smuggled", CRLF.CRLF and QUIT, all at once; prints every reply
        until the server closes or --timeout passes.
  noop [--from A --to R [--in-data]] --every S --limit S
        MAIL and RCPT if --from is given (and with --in-data: DATA and one
        header line), then
        every S seconds a NOOP (in DATA: another message line), reading
        each reply, for at most --limit seconds; prints the replies and
        "[closed after N.N s]" or "[still open after N.N s]".
  flood --from A --to R --limit S --max-bytes N
        MAIL and RCPT, then pipelines NOOPs (at most N bytes) without ever
        reading a reply, with a small receive buffer, for at most S
        seconds; prints "[dropped after N.N s: ERROR]" when the server
        gave the connection up, "[all N bytes sent]" or "[still blocked
        after N.N s]".

Every loop is bounded by --limit or --timeout.  Exit status 0.
"""
import argparse
import codecs
import select
import socket
import sys
import time


def connect(target, timeout, rcvbuf=None):
    host, port = target.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, int(port)))
    return s


def reply(f):
    """One reply (all its lines); raises EOFError at EOF."""
    out = []
    while True:
        line = f.readline()
        if not line:
            raise EOFError
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        print(line, flush=True)
        out.append(line)
        if len(line) < 4 or line[3] != "-":
            return out


def say(s, f, line):
    s.sendall(line.encode() + b"\r\n")
    return reply(f)


def start(a, rcvbuf=None):
    s = connect(a.target, a.timeout, rcvbuf)
    f = s.makefile("rb")
    reply(f)
    say(s, f, "EHLO rawclient.test")
    if a.mail_from:
        say(s, f, "MAIL FROM:<%s>" % a.mail_from)
        say(s, f, "RCPT TO:<%s>" % a.to)
    return s, f


def smuggle(a):
    s, f = start(a)
    say(s, f, "DATA")
    end = codecs.decode(a.end, "unicode_escape").encode("latin-1")
    s.sendall(b"Subject: smuggling test\r\n\r\nline" + end +
              ("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
               "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n" %
               (a.smuggle_from, a.to)).encode())
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        reply(f)


def noop(a):
    s, f = start(a)
    if a.in_data:
        say(s, f, "DATA")
        s.sendall(b"Subject: slow\r\n")
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < a.limit:
        time.sleep(a.every)
        n += 1
        if a.in_data:
            s.sendall(b"line %d\r\n" % n)
            # the relay says nothing before the end, but for its 421
            if select.select([s], [], [], 0)[0]:
                reply(f)
                raise EOFError
        else:
            r = say(s, f, "NOOP")
            if r[-1].startswith("421"):
                raise EOFError
    print("[still open after %.1f s]" % (time.monotonic() - t0), flush=True)


def flood(a):
    s, f = start(a, rcvbuf=4096)
    chunk = b"NOOP\r\n" * 1000
    sent = 0
    t0 = time.monotonic()
    s.settimeout(0.5)
    while sent < a.max_bytes and time.monotonic() - t0 < a.limit:
        try:
            sent += s.send(chunk)
        except socket.timeout:
            continue
        except OSError as e:
            print("[dropped after %.1f s: %s]" % (time.monotonic() - t0,
                  e.__class__.__name__), flush=True)
            return
    if sent >= a.max_bytes:
        print("[all %d bytes sent]" % sent, flush=True)
    else:
        print("[still blocked after %.1f s]" % (time.monotonic() - t0),
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("mode", choices=["smuggle", "noop", "flood"])
    ap.add_argument("--from", dest="mail_from", default="")
    ap.add_argument("--to", default="")
    ap.add_argument("--end", default="\\r\\n.\\r\\n")
    ap.add_argument("--smuggle-from", default="")
    ap.add_argument("--in-data", action="store_true")
    ap.add_argument("--every", type=float, default=0.3)
    ap.add_argument("--limit", type=float, default=20)
    ap.add_argument("--max-bytes", type=int, default=64 << 20)
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()
    t0 = time.monotonic()
    try:
        {"smuggle": smuggle, "noop": noop, "flood": flood}[a.mode](a)
    except (EOFError, ConnectionError) as e:
        print("[closed after %.1f s%s]" % (time.monotonic() - t0,
              ": " + e.__class__.__name__ if str(e) else ""), flush=True)
    except socket.timeout:
        print("[timeout after %.1f s]" % (time.monotonic() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
