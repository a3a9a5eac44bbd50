#!/usr/bin/python3
"""received.py - what a provider-like smarthost (tests/peers/smarthost.py)
got for one message of the demo, as indented report lines.

Usage: received.py PEERDIR HOST SUBJECT [ADDRESS]

PEERDIR is a directory made by sh_start (tests/lib/smarthost.sh): its
maildir/msg-*.json envelopes, maildir/msg-*.eml messages and events.jsonl.
The message is the one whose Subject: is SUBJECT.  Prints the envelope, how
the session was secured and authenticated (HOST names the peer), and the headers From:,
Reply-To: and X-Smarthost:.  When no message has that subject and ADDRESS
is given, prints the AUTH attempts refused for that login and the MAIL
FROM:<ADDRESS> commands refused, with the smarthost's reply.  Exits 1 when
nothing was received.  Never prints a password: the events file has none.
"""

import glob
import json
import os
import re
import sys

KEY_HEADERS = ("From", "Reply-To", "X-Smarthost")


def headers(path):
    """The message's header fields, unfolded, as (name, value) pairs."""
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    head = raw.split("\n\n", 1)[0]
    head = re.sub(r"\n[ \t]+", " ", head)
    return [tuple(s.strip() for s in line.split(":", 1))
            for line in head.split("\n") if ":" in line]


def events(peer):
    path = os.path.join(peer, "events.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def find(peer, subject):
    for env in sorted(glob.glob(os.path.join(peer, "maildir", "msg-*.json"))):
        eml = env[:-len(".json")] + ".eml"
        hdrs = headers(eml)
        if ("Subject", subject) in hdrs:
            with open(env) as f:
                return json.load(f), hdrs
    return None, None


def session_line(evs, sid):
    tls = next((e for e in evs if e["session"] == sid and
                e["event"] == "tls"), None)
    auth = next((e for e in evs if e["session"] == sid and
                 e["event"] == "auth" and e.get("ok")), None)
    parts = []
    if tls:
        parts.append("%s (SNI %s)" % (tls["version"], tls.get("sni") or "-"))
    if auth:
        parts.append("AUTH %s as %s" % (auth["mechanism"], auth["login"]))
    return ", ".join(parts) or "no TLS, no AUTH"


def refused(evs, addr):
    """The refused AUTH (as login addr) and MAIL FROM:<addr> events."""
    auth = [e for e in evs if e["event"] == "auth" and not e.get("ok") and
            e.get("login") == addr]
    if auth:
        print("AUTH %s as %s refused (%d attempt%s)" % (
            auth[0]["mechanism"], addr, len(auth), "s"[:len(auth) - 1]))
    for e in evs:
        if e["event"] == "mail" and e.get("mail_from") == addr and \
                not e.get("reply", "").startswith("250"):
            print("MAIL FROM:<%s> refused: %s" % (addr, e["reply"]))


def main():
    peer, name, subject = sys.argv[1:4]
    addr = sys.argv[4] if len(sys.argv) > 4 else None
    evs = events(peer)
    env, hdrs = find(peer, subject)
    if env is None:
        print("%s: no message" % name)
        refused(evs, addr)
        return 1
    print("%s: MAIL FROM:<%s> RCPT TO:<%s>" % (
        name, env["mail_from"], ">, <".join(env["rcpt_tos"])))
    print("over %s" % session_line(evs, env["session"]))
    for key in KEY_HEADERS:
        for k, v in hdrs:
            if k.lower() == key.lower():
                print("%s: %s" % (k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
