#!/usr/bin/python3
"""multisend — send messages through several relays at once, for the
shared-limits test.

    multisend.py --relay HOST:PORT [--relay ...] --from ADDR --count N
                 --prefix P [--concurrency C] [--timeout S]

Message i (1..N) goes to relay i % (number of relays), with header
"X-Test-Id: P-i", from a thread pool of C clients.  Prints one line per
message: "P-i RELAY CODE TEXT" with the reply to the final dot, or to the
command the relay refused (MAIL, RCPT, DATA), or "P-i RELAY 000 error"
when the connection failed.  Exits 0 when every line was printed.
"""
import argparse
import concurrent.futures
import smtplib
import sys


def send(relay, sender, ident, timeout):
    host, port = relay.rsplit(":", 1)
    msg = ("Subject: %s\r\nX-Test-Id: %s\r\n\r\nbody of %s\r\n"
           % (ident, ident, ident))
    try:
        with smtplib.SMTP(host, int(port), timeout=timeout) as s:
            s.ehlo("client.test")
            code, text = s.mail(sender)
            if code != 250:
                return code, text
            code, text = s.rcpt("r-%s@dest.test" % ident)
            if code != 250:
                return code, text
            code, text = s.data(msg.encode())
            return code, text
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error
    except (OSError, smtplib.SMTPException) as e:
        return 0, str(e).encode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--relay", action="append", required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--timeout", type=float, default=90)
    o = p.parse_args()
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(o.concurrency) as ex:
        for i in range(1, o.count + 1):
            relay = o.relay[i % len(o.relay)]
            ident = "%s-%d" % (o.prefix, i)
            jobs[ex.submit(send, relay, o.sender, ident, o.timeout)] = \
                (ident, relay)
        for f in concurrent.futures.as_completed(jobs):
            ident, relay = jobs[f]
            code, text = f.result()
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            print("%s %s %03d %s" % (ident, relay, code,
                                     " ".join(text.split())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
