#!/usr/bin/python3
"""multisend — send many messages at once over SMTP to one or more
servers: the Postfix instances of the shared-limits test, or relays
directly (--relay is another name for --server).

    multisend.py --server HOST:PORT [--server ...] --from ADDR --count N
                 --prefix P [--first I] [--concurrency C] [--timeout S]

Messages P-I .. P-(I+N-1), each on its own connection from a thread pool
of C clients; message i goes to the servers in turn (the first to the
first server).  Each has "Message-ID: <P-i@office.test>", "X-Test-Id: P-i"
and the recipient r-P-i@dest.test.  Prints one line per message:
"P-i SERVER CODE TEXT" with the reply to the final dot (Postfix's
"250 2.0.0 Ok: queued as QUEUEID"), or to the command refused (MAIL,
RCPT, DATA), or "P-i SERVER 000 error" when the connection failed.  Exits
0 when every line was printed.
"""
import argparse
import concurrent.futures
import smtplib
import sys


def send(server, sender, ident, timeout):
    host, port = server.rsplit(":", 1)
    msg = ("From: <%s>\r\nTo: <r-%s@dest.test>\r\nSubject: %s\r\n"
           "Message-ID: <%s@office.test>\r\nX-Test-Id: %s\r\n\r\n"
           "body of %s\r\n" % (sender, ident, ident, ident, ident, ident))
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
    p.add_argument("--server", "--relay", dest="server", action="append",
                   required=True)
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--prefix", required=True)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--timeout", type=float, default=90)
    o = p.parse_args()
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(o.concurrency) as ex:
        for k in range(o.count):
            server = o.server[k % len(o.server)]
            ident = "%s-%d" % (o.prefix, o.first + k)
            jobs[ex.submit(send, server, o.sender, ident, o.timeout)] = \
                (ident, server)
        for f in concurrent.futures.as_completed(jobs):
            ident, server = jobs[f]
            code, text = f.result()
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            print("%s %s %03d %s" % (ident, server, code,
                                     " ".join(text.split())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
