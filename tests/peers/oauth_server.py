#!/usr/bin/python3
"""oauth_server.py — a loopback HTTPS OAuth2 authorization server for tests.

It behaves like Microsoft's and Google's token services as far as smarthost
uses them:

  POST /devicecode      device authorization (RFC 8628): client_id, scope ->
                        device_code, user_code, verification_uri, expires_in,
                        interval
  POST /token           grant_type
                          urn:ietf:params:oauth:grant-type:device_code:
                            authorization_pending until the device code has
                            been polled --grant-after times (slow_down on the
                            first poll with --slow-down), then tokens
                          authorization_code: the code /authorize issued,
                            PKCE S256 (code_verifier) and redirect_uri
                            checked, then tokens
                          refresh_token: a new access token; with --rotate
                            (default) a new refresh token too, and the old
                            one stops working; invalid_grant for unknown or
                            revoked refresh tokens
  GET  /authorize       the user's consent, done at once: a 302 to
                        redirect_uri with code and state (PKCE challenge
                        S256 required)
  POST /introspect      RFC 7662: token=ACCESS -> {"active": true,
                        "username": LOGIN} while the access token is valid,
                        else {"active": false}
  GET  /stats           {"refreshes", "device_polls", "grants", ...}
  POST /control         JSON {"revoke_all": true} (every refresh token then
                        gets invalid_grant), {"revoke_access": true} (every
                        access token issued so far becomes inactive),
                        {"access_lifetime": S},
                        {"refresh_delay": S}

Options: --listen HOST:PORT (port 0: any; the port goes to stdout as
"READY PORT" and to --ready-file), --cert/--key (PEM), --user LOGIN (the
login tokens are issued for), --client-id ID (others get invalid_client),
--grant-after N (default 2), --slow-down, --access-lifetime S (default
3600), --refresh-delay S (each refresh waits S seconds before answering, to
make concurrent callers overlap), --no-rotate, --tokens-log FILE (every
token issued, one a line, so tests can prove no log holds one), --log FILE
(one line per request: time, method, path, outcome; never a token).
Exits 0 on SIGTERM.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, o):
        self.o = o
        self.lock = threading.Lock()
        self.devices = {}	# device_code -> polls
        self.codes = {}		# auth code -> (challenge, redirect_uri)
        self.refresh = set()	# valid refresh tokens
        self.access = {}	# access token -> expiry
        self.access_lifetime = o.access_lifetime
        self.refresh_delay = o.refresh_delay
        self.stats = dict(refreshes=0, device_polls=0, grants=0,
                          invalid_grants=0, introspections=0)

    def issue(self, with_refresh=True):
        """New tokens (lock held)."""
        at = "at-" + secrets.token_urlsafe(24)
        self.access[at] = time.time() + self.access_lifetime
        ans = dict(token_type="Bearer", access_token=at,
                   expires_in=self.access_lifetime, scope="smtp")
        issued = [at]
        if with_refresh:
            rt = "rt-" + secrets.token_urlsafe(24)
            self.refresh.add(rt)
            ans["refresh_token"] = rt
            issued.append(rt)
        if self.o.tokens_log:
            with open(self.o.tokens_log, "a") as f:
                f.write("".join(t + "\n" for t in issued))
        return ans


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "oauth-test"

    def log_message(self, fmt, *args):
        pass

    def note(self, what):
        if self.server.st.o.log:
            with open(self.server.st.o.log, "a") as f:
                f.write("%.3f %s %s %s\n" % (time.time(), self.command,
                                              self.path.split("?")[0], what))

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, desc):
        self.note("error=" + code)
        self.reply(status, dict(error=code, error_description=desc))

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode()
        if self.headers.get("Content-Type", "").startswith(
                "application/json"):
            return json.loads(raw or "{}")
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/stats":
            with self.server.st.lock:
                return self.reply(200, dict(self.server.st.stats))
        if u.path == "/authorize":
            return self.authorize(dict(urllib.parse.parse_qsl(u.query)))
        self.error(404, "not_found", "no such endpoint")

    def do_POST(self):
        f = self.form()
        path = urllib.parse.urlsplit(self.path).path
        handler = dict(devicecode=self.devicecode, token=self.token,
                       introspect=self.introspect,
                       control=self.control).get(path.strip("/"))
        if handler is None:
            return self.error(404, "not_found", "no such endpoint")
        handler(f)

    def client_ok(self, f):
        if f.get("client_id") != self.server.st.o.client_id:
            self.error(401, "invalid_client", "AADSTS700016: unknown client")
            return False
        return True

    def devicecode(self, f):
        if not self.client_ok(f):
            return
        st = self.server.st
        dc = "dc-" + secrets.token_urlsafe(16)
        with st.lock:
            st.devices[dc] = 0
        self.note("device_code issued scope=%s" % f.get("scope", "-"))
        self.reply(200, dict(device_code=dc, user_code="TEST-CODE",
                             verification_uri="https://login.test/device",
                             expires_in=st.o.device_expiry,
                             interval=1,
                             message="open https://login.test/device"))

    def token(self, f):
        if not self.client_ok(f):
            return
        gt = f.get("grant_type", "")
        if gt == "urn:ietf:params:oauth:grant-type:device_code":
            return self.device_grant(f)
        if gt == "authorization_code":
            return self.code_grant(f)
        if gt == "refresh_token":
            return self.refresh_grant(f)
        self.error(400, "unsupported_grant_type", gt)

    def device_grant(self, f):
        st = self.server.st
        dc = f.get("device_code")
        with st.lock:
            st.stats["device_polls"] += 1
            polls = st.devices.get(dc)
            if polls is not None:
                polls = st.devices[dc] = polls + 1
                if polls > st.o.grant_after:
                    del st.devices[dc]
                    st.stats["grants"] += 1
                    ans = st.issue()
        if polls is None:
            return self.error(400, "expired_token", "unknown device code")
        if polls == 1 and st.o.slow_down:
            return self.error(400, "slow_down", "polling too fast")
        if polls <= st.o.grant_after:
            return self.error(400, "authorization_pending", "waiting")
        self.note("granted device_code")
        self.reply(200, ans)

    def authorize(self, q):
        st = self.server.st
        if q.get("client_id") != st.o.client_id or \
                q.get("code_challenge_method") != "S256" or \
                not q.get("code_challenge") or not q.get("redirect_uri"):
            return self.error(400, "invalid_request", "bad authorize query")
        code = "code-" + secrets.token_urlsafe(16)
        with st.lock:
            st.codes[code] = (q["code_challenge"], q["redirect_uri"])
        loc = q["redirect_uri"] + "?" + urllib.parse.urlencode(
            dict(code=code, state=q.get("state", ""), scope=q.get("scope")))
        self.note("authorize redirect")
        self.reply(302, {}, [("Location", loc)])

    def code_grant(self, f):
        st = self.server.st
        with st.lock:
            c = st.codes.pop(f.get("code"), None)
        if c is None:
            return self.error(400, "invalid_grant", "unknown code")
        challenge, redirect = c
        v = f.get("code_verifier", "")
        if b64url(hashlib.sha256(v.encode()).digest()) != challenge:
            return self.error(400, "invalid_grant", "PKCE verification "
                              "failed")
        if f.get("redirect_uri") != redirect:
            return self.error(400, "invalid_grant", "redirect_uri mismatch")
        with st.lock:
            st.stats["grants"] += 1
            ans = st.issue()
        self.note("granted authorization_code")
        self.reply(200, ans)

    def refresh_grant(self, f):
        st = self.server.st
        if st.refresh_delay:
            time.sleep(st.refresh_delay)
        rt = f.get("refresh_token")
        with st.lock:
            st.stats["refreshes"] += 1
            if rt not in st.refresh:
                st.stats["invalid_grants"] += 1
                ans = None
            else:
                if st.o.rotate:
                    st.refresh.discard(rt)
                ans = st.issue(with_refresh=st.o.rotate)
        if ans is None:
            return self.error(400, "invalid_grant", "AADSTS70000: The "
                              "refresh token has been revoked")
        self.note("granted refresh_token rotated=%s" % st.o.rotate)
        self.reply(200, ans)

    def introspect(self, f):
        st = self.server.st
        with st.lock:
            st.stats["introspections"] += 1
            exp = st.access.get(f.get("token"))
        if exp is None or exp < time.time():
            self.note("introspect inactive")
            return self.reply(200, dict(active=False))
        self.note("introspect active")
        self.reply(200, dict(active=True, username=st.o.user))

    def control(self, f):
        st = self.server.st
        with st.lock:
            if f.get("revoke_all"):
                st.refresh.clear()
            if f.get("revoke_access"):
                st.access.clear()
            if "access_lifetime" in f:
                st.access_lifetime = int(f["access_lifetime"])
            if "refresh_delay" in f:
                st.refresh_delay = float(f["refresh_delay"])
        self.note("control %s" % ",".join(sorted(f)))
        self.reply(200, dict(ok=True))


def main():
    p = argparse.ArgumentParser()
    a = p.add_argument
    a("--listen", default="127.0.0.1:0")
    a("--cert", required=True)
    a("--key", required=True)
    a("--user", required=True)
    a("--client-id", default="test-client")
    a("--grant-after", type=int, default=2)
    a("--slow-down", action="store_true")
    a("--device-expiry", type=int, default=60)
    a("--access-lifetime", type=int, default=3600)
    a("--refresh-delay", type=float, default=0)
    a("--no-rotate", dest="rotate", action="store_false")
    a("--tokens-log")
    a("--log")
    a("--ready-file")
    o = p.parse_args()
    host, _, port = o.listen.rpartition(":")
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    srv.st = State(o)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.cert, o.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
        target=srv.shutdown).start())
    port = srv.server_address[1]
    if o.ready_file:
        with open(o.ready_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(o.ready_file + ".tmp", o.ready_file)
    print("READY %d" % port, flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
