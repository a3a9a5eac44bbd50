#!/usr/bin/python3
"""smarthost.py - a loopback SMTP submission server that behaves like a mail
provider (smtp.163.com, smtp.qq.com, smtp.gmail.com) for tests.

Real TLS (implicit or STARTTLS, the test PKI from tests/lib/pki.sh), AUTH
PLAIN and LOGIN against a users file, the providers' sender rules with their
exact reply texts, session limits, idle timeouts, scripted failures.  Built
on aiosmtpd 1.4.3 (Debian python3-aiosmtpd); run it with /usr/bin/python3.

Usage:
  smarthost.py --listen 127.0.0.1:4650 --tls implicit \\
      --cert server.crt --key server.key --users users \\
      --sender-rule 163 --maildir DIR --events FILE [options]

  --listen HOST:PORT      address to listen on (PORT 0 = pick one)
  --tls implicit|starttls|none
                          implicit: TLS from the first byte (like port 465);
                          starttls: plain, STARTTLS offered and required
                          before AUTH/MAIL (like 587); AUTH is advertised
                          only after STARTTLS;
                          none: no STARTTLS offered, AUTH still advertised
                          in clear so a client that would send credentials
                          in clear is caught: every such AUTH is refused with
                          538 and recorded as an auth event with tls false.
  --cert/--key FILE       server certificate chain and key (PEM)
  --hostname NAME         name in the greeting and EHLO (default smtp.test)
  --users FILE            lines "login password" (# comments); required
                          for AUTH to succeed; a login on several lines
                          has several good passwords (an old and a new
                          authorization code): the auth event's "code" is
                          the number (1, 2, ...) of the one used, never
                          the password
  --auth-mechs "PLAIN LOGIN"   mechanisms to advertise (PLAIN, LOGIN,
                          XOAUTH2)
  --xoauth2-tokens FILE   lines "login token": valid XOAUTH2 bearer tokens
                          (advertises XOAUTH2); checked before
                          --xoauth2-validate
  --xoauth2-validate URL  validate XOAUTH2 bearer tokens at URL (advertises
                          XOAUTH2): POST application/x-www-form-urlencoded
                          "token=TOKEN" (RFC 7662 introspection); the token
                          is good when the JSON answer has "active": true and
                          "username" (or "sub" or "email") equal to the
                          XOAUTH2 user.  HTTPS is verified against
                          --xoauth2-ca FILE (else the system store); 5 s
                          timeout; an unreachable URL fails the AUTH with
                          "454 4.7.0 Temporary authentication failure"
  --xoauth2-ca FILE       CA file for --xoauth2-validate
  --no-auth-required      accept MAIL without AUTH (default: AUTH required,
                          "530 5.7.0 Authentication required")
  --sender-rule 163|qq|none
                          163: MAIL FROM must equal the login, else
                          "553 Mail from must equal authorized user" (also
                          for <>); qq: "501 mail from address must be same
                          as authorization user"; none: anything goes
  --max-sessions N        more concurrent sessions get --busy-reply and are
                          closed (default reply "421 4.7.0 Too many
                          connections"; NetEase says e.g.
                          "421 HL:ICC too many connections")
  --max-logins N          a login with N sessions logged in already gets
                          --max-logins-reply to AUTH (default "421 HL:ICC
                          too many connections", NetEase's) and the
                          session is closed; recorded as an auth event
                          with ok false and the reply
  --idle-timeout S        close sessions idle for S seconds, after
                          "421 4.4.2 smtp.test Error: timeout exceeded"
  --reject-rcpt ADDR      (repeatable) answer RCPT TO:<ADDR> with
                          --reject-rcpt-reply (default "550 5.1.1 <ADDR>:
                          Recipient address rejected: User unknown")
  --drop-during-data N    for the first N DATA commands: send 354, read one
                          line, then drop the connection without a reply
  --auth-reply TEXT       answer every AUTH, right or wrong, with TEXT (e.g.
                          163's "550 User has no permission": SMTP not
                          enabled for the account); recorded as ok false
  --reject-connect TEXT   greet every connection with TEXT (e.g. "554 IP
                          blocked") and close it
  --greeting-delay S      wait S seconds before the 220 greeting
  --data-delay S          wait S seconds before answering the final dot
  --data-reply TEXT       answer the final dot with TEXT instead of 250
                          (message not stored unless TEXT starts with 2)
  --hang-after-data N     for the first N messages: store the message, then
                          never answer the final dot (the client must time
                          out; a retry shows up as a second stored copy)
  --temp-fail-mail TEXT   answer every MAIL FROM (after the sender rule) with
                          TEXT, e.g. "451 MI:SFQ ..." or "550 5.4.5 Daily
                          sending quota exceeded"
  --size N                SIZE limit advertised (default 73400320 like 163)
  --pipelining            announce PIPELINING (RFC 2920) in EHLO, as 163,
                          qq and gmail do (aiosmtpd reads pipelined commands
                          either way)
  --maildir DIR           store each accepted message as DIR/msg-NNNNNN.eml
                          (raw bytes as received, dot-unstuffed) and then
                          DIR/msg-NNNNNN.json (envelope: mail_from, rcpt_tos,
                          login, session, tls, size, eml); the .json appears
                          last and atomically, so wait for *.json
  --events FILE           append one JSON object per line per event:
                          {"ts","event","session","sessions",...} where event
                          is connect, busy, reject, tls (version, cipher,
                          sni, resumed), ehlo, auth (mechanism, login, ok,
                          tls; never the password or token), mail, rcpt
                          (both with "pending": bytes the client had already
                          sent behind the command, > 0 when pipelined),
                          data (size, queued), rset, drop, hang, timeout,
                          quit, disconnect;
                          "sessions" is the number of sessions open
  --ready-file FILE       write the bound port to FILE when listening
Prints "READY <port>" on stdout once listening.  Exits 0 on SIGTERM/SIGINT.

As a plain SMTP sink (no TLS, no AUTH; e.g. behind a test Postfix in milter
tests): --tls none --no-auth-required --maildir DIR.  tests/lib/smarthost.sh
wraps starting it and reading its events and stored messages.
"""

import argparse
import asyncio
import base64
import binascii
import json
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, MISSING

REPLY_163 = "553 Mail from must equal authorized user"
REPLY_QQ = "501 mail from address must be same as authorization user"
SENDER_RULES = {"163": REPLY_163, "qq": REPLY_QQ, "none": None}


class State:
    """Process-wide state shared by all sessions."""

    def __init__(self, opts):
        self.opts = opts
        self.users = load_pairs(opts.users, multi=True) if opts.users \
            else {}
        self.logins = {}	# login -> sessions logged in with it
        self.tokens = (load_pairs(opts.xoauth2_tokens)
                       if opts.xoauth2_tokens else {})
        self.next_session = 0
        self.sessions = 0
        self.data_count = 0
        self.final_count = 0
        self.msg_count = 0
        self.events = open(opts.events, "a") if opts.events else None

    def emit(self, event, sid, **kw):
        if not self.events:
            return
        rec = {"ts": round(time.time(), 3), "event": event,
               "session": sid, "sessions": self.sessions}
        rec.update(kw)
        self.events.write(json.dumps(rec, sort_keys=True) + "\n")
        self.events.flush()

    def store(self, sid, login, tls, envelope):
        self.msg_count += 1
        base = os.path.join(self.opts.maildir, "msg-%06d" % self.msg_count)
        data = envelope.original_content
        with open(base + ".eml", "wb") as f:
            f.write(data)
        mail_from = envelope.mail_from
        env = {"mail_from": "" if mail_from == "<>" else mail_from,
               "rcpt_tos": list(envelope.rcpt_tos),
               "mail_options": list(envelope.mail_options),
               "login": login, "session": sid, "tls": tls,
               "size": len(data), "eml": os.path.basename(base) + ".eml"}
        with open(base + ".json.tmp", "w") as f:
            json.dump(env, f, sort_keys=True)
            f.write("\n")
        os.rename(base + ".json.tmp", base + ".json")
        return os.path.basename(base)


def load_pairs(path, multi=False):
    """{first: rest}, or with multi {first: [rest, ...]} in file order."""
    pairs = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                sys.exit("%s:%d: expected 'login secret'" % (path, n))
            if multi:
                pairs.setdefault(parts[0], []).append(parts[1])
            else:
                pairs[parts[0]] = parts[1]
    return pairs


class Handler:
    """aiosmtpd hooks: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self, state):
        self.st = state
        self.o = state.opts

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.o.tls == "starttls" and not server.tls_active():
            responses = [r for r in responses if not r[4:].startswith("AUTH")]
        server.emit("ehlo", helo=hostname)
        if self.o.pipelining and len(responses) > 1 and not any(
                r[4:] == "PIPELINING" for r in responses):
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.o.tls == "starttls" and not server.tls_active():
            return "530 5.7.0 Must issue a STARTTLS command first"
        login = server.login()
        rule = SENDER_RULES[self.o.sender_rule]
        ok = not (rule and login is not None and
                  address.lower() != login.lower())
        reply = "250 Mail OK" if ok else rule
        if ok and self.o.temp_fail_mail:
            reply = self.o.temp_fail_mail
        server.emit("mail", mail_from="" if address == "<>" else address,
                    login=login, reply=reply, pending=server.pending())
        if not reply.startswith("250"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return reply

    async def handle_RCPT(self, server, session, envelope, address, options):
        reply = "250 Mail OK"
        if address.lower() in self.o.reject_rcpt:
            reply = self.o.reject_rcpt_reply.replace("<ADDR>",
                                                     "<%s>" % address)
        server.emit("rcpt", rcpt=address, reply=reply,
                    pending=server.pending())
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.o.data_delay:
            await asyncio.sleep(self.o.data_delay)
        self.st.final_count += 1
        hang = self.st.final_count <= self.o.hang_after_data
        reply = self.o.data_reply
        name = None
        if self.o.maildir and (reply is None or reply.startswith("2")):
            name = self.st.store(server.sid, server.login(),
                                 server.tls_active(), envelope)
        if reply is None:
            reply = "250 Mail OK queued as %s" % (name or "sink")
        server.emit("hang" if hang else "data",
                    size=len(envelope.original_content),
                    mail_from="" if envelope.mail_from == "<>" else
                    envelope.mail_from, rcpt_tos=envelope.rcpt_tos,
                    queued=name, reply=None if hang else reply)
        if hang:
            await asyncio.sleep(3600)	# until the client gives up
        return reply

    async def handle_RSET(self, server, session, envelope):
        server.emit("rset")
        return MISSING

    async def handle_QUIT(self, server, session, envelope):
        server.emit("quit")
        return MISSING


class ProviderSMTP(SMTP):
    """aiosmtpd's SMTP with session accounting, provider limits and
    scripted failures."""

    def __init__(self, state, handler, **kw):
        self.st = state
        self.sid = None
        self.busy = False
        self.counted = False
        self.logged_in = None	# the login this session counts for
        self.refuse_login = None	# --max-logins reply to send
        super().__init__(handler, **kw)

    # --- session bookkeeping -----------------------------------------
    def emit(self, event, **kw):
        self.st.emit(event, self.sid, **kw)

    def tls_active(self):
        return self.ssl_object() is not None

    def pending(self):
        """Bytes received and not yet read as commands."""
        return len(getattr(self._reader, "_buffer", b""))

    def ssl_object(self):
        t = self.transport
        return t.get_extra_info("ssl_object") if t is not None else None

    def login(self):
        d = self.session.auth_data if self.session else None
        if d is None or not self.session.authenticated:
            return None
        login = getattr(d, "login", d)
        return login.decode("utf-8", "replace") if isinstance(
            login, bytes) else str(login)

    def connection_made(self, transport):
        if self.sid is None:
            self.st.next_session += 1
            self.sid = self.st.next_session
            peer = transport.get_extra_info("peername")
            if (self.st.opts.max_sessions and
                    self.st.sessions >= self.st.opts.max_sessions):
                self.busy = True
                self.st.emit("busy", self.sid, peer=list(peer or ()),
                             reply=self.st.opts.busy_reply)
                transport.write(self.st.opts.busy_reply.encode() + b"\r\n")
                transport.close()
                return
            if self.st.opts.reject_connect:
                self.busy = True
                self.st.emit("reject", self.sid, peer=list(peer or ()),
                             reply=self.st.opts.reject_connect)
                transport.write(self.st.opts.reject_connect.encode() +
                                b"\r\n")
                transport.close()
                return
            self.st.sessions += 1
            self.counted = True
            self.emit("connect", peer=list(peer or ()))
        super().connection_made(transport)
        if self.tls_active():
            self.emit_tls()

    def emit_tls(self):
        so = self.ssl_object()
        self.emit("tls", version=so.version(), cipher=so.cipher()[0],
                  sni=getattr(so, "sni_name", None),
                  resumed=bool(so.session_reused))

    def connection_lost(self, error):
        if self.busy:
            return
        if self.logged_in is not None:
            self.st.logins[self.logged_in] -= 1
            self.logged_in = None
        if self.counted:
            self.counted = False
            self.st.sessions -= 1
            self.emit("disconnect")
        super().connection_lost(error)

    def eof_received(self):
        if self.busy:
            return False
        return super().eof_received()

    def _timeout_cb(self):
        self.emit("timeout")
        if self.transport is not None:
            self.transport.write(("421 4.4.2 %s Error: timeout exceeded\r\n"
                                  % self.hostname).encode())
        super()._timeout_cb()

    async def _handle_client(self):
        if self.st.opts.greeting_delay:
            await asyncio.sleep(self.st.opts.greeting_delay)
        return await super()._handle_client()

    # --- commands ----------------------------------------------------
    async def smtp_AUTH(self, arg):
        if self.st.opts.auth_reply and self.tls_active():
            mech = (arg or "").split(" ")[0].upper()
            one = len((arg or "").split()) == 1
            login = plain_login(arg)
            if mech == "LOGIN":	# read what the client sends, then refuse
                user = (await self.challenge_auth(
                    self.AuthLoginUsernameChallenge) if one else
                    b64_or_none(arg.split()[1]))
                if isinstance(user, bytes):
                    login = user.decode("utf-8", "replace")
                await self.challenge_auth(self.AuthLoginPasswordChallenge)
            elif mech in ("PLAIN", "XOAUTH2") and one:
                await self.challenge_auth("")
            self.emit("auth", tls=True, ok=False, mechanism=mech,
                      login=login, reply=self.st.opts.auth_reply)
            return await self.push(self.st.opts.auth_reply)
        if not self.tls_active():
            self.emit("auth", tls=False, ok=False,
                      mechanism=(arg or "").split(" ")[0].upper(),
                      login=plain_login(arg))
            return await self.push("538 5.7.11 Encryption required for "
                                   "requested authentication mechanism")
        await super().smtp_AUTH(arg)
        if self.refuse_login is not None and self.transport is not None:
            self.transport.close()

    async def smtp_MAIL(self, arg):
        # aiosmtpd answers MAIL FROM:<> with a syntax error; providers
        # apply their sender rule to it.  Carry <> as "<>" internally.
        if arg and arg[:5].upper() == "FROM:" and \
                arg[5:].strip().split(" ")[0] == "<>":
            if await self.check_helo_needed() or \
                    await self.check_auth_needed("MAIL"):
                return
            if self.envelope.mail_from:
                return await self.push("503 Error: nested MAIL command")
            opts = arg[5:].strip().split()[1:]
            status = await self._call_handler_hook("MAIL", "<>", opts)
            return await self.push(status)
        return await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg):
        o = self.st.opts
        if (not arg and self.session.host_name and self.envelope.rcpt_tos
                and (self.session.authenticated or not self._auth_required)):
            self.st.data_count += 1
            if self.st.data_count <= o.drop_during_data:
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                try:
                    await asyncio.wait_for(self._reader.readuntil(b"\r\n"),
                                           5)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError,
                        asyncio.LimitOverrunError):
                    pass
                self.emit("drop", nth=self.st.data_count)
                self.transport.abort()
                return
        return await super().smtp_DATA(arg)


def b64_or_none(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def plain_login(arg):
    """The login of an AUTH PLAIN initial response (for the event log);
    never returns the password."""
    parts = (arg or "").split()
    if len(parts) != 2 or parts[0].upper() != "PLAIN":
        return None
    try:
        fields = base64.b64decode(parts[1], validate=True).split(b"\0")
    except (binascii.Error, ValueError):
        return None
    return fields[1].decode("utf-8", "replace") if len(fields) == 3 else None


def make_authenticator(state):
    def authenticator(server, session, envelope, mechanism, auth_data):
        extra = {}
        if mechanism == "XOAUTH2":	# checked by auth_XOAUTH2
            login, ok = auth_data
        else:
            login = auth_data.login.decode("utf-8", "replace")
            secret = auth_data.password.decode("utf-8", "replace")
            codes = state.users.get(login, [])
            ok = secret in codes
            if ok:
                extra["code"] = codes.index(secret) + 1
        o = state.opts
        if ok and o.max_logins and state.logins.get(login, 0) >= o.max_logins:
            server.refuse_login = o.max_logins_reply
            server.emit("auth", mechanism=mechanism, login=login, ok=False,
                        tls=server.tls_active(), reply=o.max_logins_reply,
                        **extra)
            return AuthResult(success=False, handled=False,
                              message=o.max_logins_reply)
        server.emit("auth", mechanism=mechanism, login=login, ok=ok,
                    tls=server.tls_active(), **extra)
        if not ok:
            return AuthResult(success=False, handled=False,
                              message="535 Error: authentication failed")
        state.logins[login] = state.logins.get(login, 0) + 1
        server.logged_in = login
        return AuthResult(success=True, handled=False,
                          auth_data=LoginPassword(login.encode(), b""))
    return authenticator


async def auth_XOAUTH2(server, args):
    """SASL XOAUTH2: base64("user=" login "\\1auth=Bearer " token "\\1\\1")."""
    if len(args) == 2:
        blob = args[1]
    else:
        raw = await server.challenge_auth("")
        if raw is MISSING:
            return AuthResult(success=False, handled=True)
        blob = base64.b64encode(raw).decode()
    try:
        fields = base64.b64decode(blob, validate=True).split(b"\x01")
        kv = dict(f.split(b"=", 1) for f in fields if f)
        login = kv[b"user"].decode()
        scheme, token = kv[b"auth"].decode().split(" ", 1)
        if scheme != "Bearer":
            raise ValueError(scheme)
    except (binascii.Error, ValueError, KeyError, UnicodeDecodeError):
        await server.push("501 5.5.2 Can't decode XOAUTH2 initial response")
        return AuthResult(success=False, handled=True)
    ok = token is not None and server.st.tokens.get(login) == token
    if not ok and server.st.opts.xoauth2_validate:
        loop = asyncio.get_running_loop()
        try:
            ok = await loop.run_in_executor(None, introspect,
                                            server.st.opts, login, token)
        except OSError as e:
            server.emit("auth", mechanism="XOAUTH2", login=login, ok=False,
                        tls=server.tls_active(),
                        error="validation failed: %s" % e.__class__.__name__)
            await server.push("454 4.7.0 Temporary authentication failure")
            return AuthResult(success=False, handled=True)
    return server._authenticate("XOAUTH2", (login, ok))


def introspect(opts, login, token):
    """True if the token validation URL says the token is active for
    login (blocking; run in an executor)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    ctx = ssl.create_default_context(cafile=opts.xoauth2_ca)
    body = urllib.parse.urlencode({"token": token}).encode()
    req = urllib.request.Request(opts.xoauth2_validate, data=body)
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            ans = json.loads(r.read().decode() or "{}")
    except urllib.error.HTTPError:
        return False
    except ValueError:
        return False
    who = ans.get("username") or ans.get("sub") or ans.get("email")
    return ans.get("active") is True and who == login


def tls_context(opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.cert, opts.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.sni_callback = lambda so, name, c: setattr(so, "sni_name", name)
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    a = p.add_argument
    a("--listen", required=True)
    a("--tls", choices=["implicit", "starttls", "none"], default="implicit")
    a("--cert")
    a("--key")
    a("--hostname", default="smtp.test")
    a("--users")
    a("--auth-mechs", default=None)
    a("--xoauth2-tokens")
    a("--xoauth2-validate")
    a("--xoauth2-ca")
    a("--auth-reply")
    a("--reject-connect")
    a("--greeting-delay", type=float, default=0)
    a("--data-reply")
    a("--data-delay", type=float, default=0)
    a("--hang-after-data", type=int, default=0)
    a("--no-auth-required", action="store_true")
    a("--sender-rule", choices=sorted(SENDER_RULES), default="none")
    a("--max-sessions", type=int, default=0)
    a("--busy-reply", default="421 4.7.0 Too many connections")
    a("--max-logins", type=int, default=0)
    a("--max-logins-reply", default="421 HL:ICC too many connections")
    a("--idle-timeout", type=float, default=300)
    a("--reject-rcpt", action="append", default=[])
    a("--reject-rcpt-reply",
      default="550 5.1.1 <ADDR>: Recipient address rejected: User unknown")
    a("--drop-during-data", type=int, default=0)
    a("--temp-fail-mail")
    a("--size", type=int, default=73400320)
    a("--pipelining", action="store_true")
    a("--maildir")
    a("--events")
    a("--ready-file")
    o = p.parse_args(argv)
    if o.tls != "none" and not (o.cert and o.key):
        p.error("--tls %s needs --cert and --key" % o.tls)
    host, _, port = o.listen.rpartition(":")
    o.host, o.port = host.strip("[]"), int(port)
    o.reject_rcpt = {r.lower() for r in o.reject_rcpt}
    if o.maildir:
        os.makedirs(o.maildir, exist_ok=True)
    oauth = o.xoauth2_tokens or o.xoauth2_validate
    mechs = o.auth_mechs or ("PLAIN LOGIN" + (" XOAUTH2" if oauth else ""))
    o.mechs = set(mechs.upper().split())
    return o


def make_factory(state, handler, ctx):
    o = state.opts
    exclude = [m for m in ("PLAIN", "LOGIN", "XOAUTH2") if m not in o.mechs]
    kw = dict(hostname=o.hostname, ident="ESMTP smarthost test peer",
              data_size_limit=o.size, timeout=o.idle_timeout,
              authenticator=make_authenticator(state),
              auth_required=not o.no_auth_required,
              # Our smtp_AUTH refuses AUTH without TLS itself; aiosmtpd
              # 1.4.3 would not advertise AUTH over implicit TLS otherwise.
              auth_require_tls=False,
              auth_exclude_mechanism=exclude,
              tls_context=ctx if o.tls == "starttls" else None)

    def factory():
        return ProviderSMTP(state, handler, **kw)
    return factory


async def serve(opts):
    import warnings
    warnings.simplefilter("ignore")
    state = State(opts)
    handler = Handler(state)
    if "XOAUTH2" in opts.mechs:
        handler.auth_XOAUTH2 = auth_XOAUTH2
    ctx = tls_context(opts) if opts.tls != "none" else None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        make_factory(state, handler, ctx), opts.host, opts.port,
        ssl=ctx if opts.tls == "implicit" else None, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or
                                stop.set_result(None))
    if opts.ready_file:
        with open(opts.ready_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(opts.ready_file + ".tmp", opts.ready_file)
    print("READY %d" % port, flush=True)
    await stop
    server.close()


def main():
    opts = parse_args(sys.argv[1:])
    import logging
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
