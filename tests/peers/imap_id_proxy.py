#!/usr/bin/python3
"""imap_id_proxy.py -- a stand-in for NetEase's IMAP front end.

Listens with implicit TLS on --listen, relays each connection to an
upstream IMAP server over verified TLS (--upstream HOST:PORT, --ca,
--upstream-name), and answers SELECT or EXAMINE with
"TAG NO SELECT Unsafe Login. Please contact kefu@188.com for help" until
the client has sent the ID command (RFC 2971), as imap.163.com does.
Commands are read as lines (no client literals).  Writes one JSON line per
event to --events ({"event": "id"}, {"event": "refused", "command":
"SELECT"}, {"event": "select"}) and prints READY once listening.
"""
import argparse
import asyncio
import json
import re
import ssl
import sys

REFUSAL = b"NO SELECT Unsafe Login. Please contact kefu@188.com for help"


def event(path, **kw):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(kw) + "\n")


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def session(args, uctx, reader, writer):
    host, port = args.upstream.rsplit(":", 1)
    up_r, up_w = await asyncio.open_connection(
        host, int(port), ssl=uctx, server_hostname=args.upstream_name)
    back = asyncio.create_task(pipe(up_r, writer))
    seen_id = False
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            m = re.match(rb"(\S+) +(\S+)", line)
            cmd = m.group(2).upper() if m else b""
            if cmd == b"ID":
                seen_id = True
                event(args.events, event="id")
            elif cmd in (b"SELECT", b"EXAMINE"):
                if not seen_id:
                    event(args.events, event="refused",
                          command=cmd.decode())
                    writer.write(m.group(1) + b" " + REFUSAL + b"\r\n")
                    await writer.drain()
                    continue
                event(args.events, event="select")
            up_w.write(line)
            await up_w.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        up_w.close()
        await asyncio.wait_for(back, 10)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream", required=True, help="HOST:PORT")
    ap.add_argument("--upstream-name", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--events", required=True)
    args = ap.parse_args()
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(args.cert, args.key)
    uctx = ssl.create_default_context(cafile=args.ca)
    host, port = args.listen.rsplit(":", 1)
    server = await asyncio.start_server(
        lambda r, w: session(args, uctx, r, w), host, int(port), ssl=sctx)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
