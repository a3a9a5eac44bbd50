#!/usr/bin/python3
"""remote.py - what the demo's recipient server (mx.example.net) and the
recipient send back about a message that reached them: a delivery status
notification (RFC 3464) or a reply, written to standard output for the
sending account's mailbox.

Usage: remote.py dsn|reply EML

EML is the message as the provider-like smarthost received it
(maildir/msg-*.eml of tests/peers/smarthost.py): its From: is the account
the message left as, its Message-ID: the one the relay's sent log holds.

dsn    a multipart/report from MAILER-DAEMON@mx.example.net saying the
       recipient's mailbox is full (552 5.2.2), with the message's header
       in a text/rfc822-headers part, as Postfix and most providers send it.
reply  a reply from the recipient: In-Reply-To: and References: name the
       message's Message-ID:, Subject: is "Re: " and the original subject.
"""

import email
import email.policy
import email.utils
import sys
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

REMOTE_MX = "mx.example.net"


def original(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.compat32)


def recipient(msg):
    return email.utils.getaddresses(msg.get_all("To", []))[0]


def header_text(msg):
    """The message's header section, as the notice quotes it."""
    return "".join("%s: %s\n" % (k, v) for k, v in msg.items())


def dsn(msg):
    """A notice for the account the message left as."""
    rcpt = recipient(msg)[1]
    account = email.utils.parseaddr(msg["From"])[1]
    report = MIMEMultipart("report", report_type="delivery-status")
    report["Return-Path"] = "<>"
    report["From"] = "Mail Delivery System <MAILER-DAEMON@%s>" % REMOTE_MX
    report["To"] = account
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = email.utils.formatdate(localtime=True)
    report["Message-ID"] = email.utils.make_msgid(domain=REMOTE_MX)
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText(
        "This is the mail system at host %s.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "<%s>: mailbox full\n" % (REMOTE_MX, rcpt)))
    per_msg = Message()
    per_msg["Reporting-MTA"] = "dns; " + REMOTE_MX
    per_msg["Arrival-Date"] = msg.get("Date", report["Date"])
    per_rcpt = Message()
    per_rcpt["Final-Recipient"] = "rfc822; " + rcpt
    per_rcpt["Original-Recipient"] = "rfc822; " + rcpt
    per_rcpt["Action"] = "failed"
    per_rcpt["Status"] = "5.2.2"
    per_rcpt["Diagnostic-Code"] = \
        "smtp; 552 5.2.2 <%s>: mailbox full" % rcpt
    status = MIMEBase("message", "delivery-status")
    status.set_payload([per_msg, per_rcpt])
    report.attach(status)
    report.attach(MIMEText(header_text(msg), "rfc822-headers"))
    return report


def reply(msg):
    """The recipient's answer, to the From: of the message."""
    name, rcpt = recipient(msg)
    out = EmailMessage()
    out["From"] = email.utils.formataddr(("Friend", rcpt))
    out["To"] = msg["From"]
    out["Subject"] = "Re: " + msg["Subject"]
    out["Date"] = email.utils.formatdate(localtime=True)
    out["Message-ID"] = email.utils.make_msgid(domain="example.net")
    out["In-Reply-To"] = msg["Message-ID"]
    out["References"] = msg["Message-ID"]
    out.set_content("Thanks, got it.  My mailbox was full, sorry: "
                    "it has room again.\n")
    return out


def main(argv):
    if len(argv) != 3 or argv[1] not in ("dsn", "reply"):
        sys.stderr.write("usage: remote.py dsn|reply EML\n")
        return 2
    msg = original(argv[2])
    for need in ("From", "To", "Subject", "Message-ID"):
        if msg[need] is None:
            sys.stderr.write("remote.py: %s has no %s:\n" % (argv[2], need))
            return 1
    out = dsn(msg) if argv[1] == "dsn" else reply(msg)
    sys.stdout.write(out.as_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
