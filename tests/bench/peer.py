#!/usr/bin/python3
"""peer.py - tests/peers/smarthost.py as the bench's provider, plus
PIPELINING in its EHLO reply (RFC 2920), as smtp.163.com, smtp.qq.com and
smtp.gmail.com announce it.  aiosmtpd already reads pipelined commands
one after the other; it only does not say so.  Same options as
smarthost.py."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "peers"))
import smarthost  # noqa: E402

_ehlo = smarthost.Handler.handle_EHLO


async def handle_EHLO(self, server, session, envelope, hostname, responses):
    responses = await _ehlo(self, server, session, envelope, hostname,
                            responses)
    if len(responses) > 1 and not any(r[4:] == "PIPELINING"
                                       for r in responses):
        responses.insert(1, "250-PIPELINING")
    return responses

smarthost.Handler.handle_EHLO = handle_EHLO

if __name__ == "__main__":
    sys.exit(smarthost.main())
