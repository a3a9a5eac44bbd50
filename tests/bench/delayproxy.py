#!/usr/bin/python3
"""delayproxy.py - a TCP proxy that emulates a network round trip.

    delayproxy.py --rtt-ms 30 LISTENPORT:HOST:PORT...

For each mapping it listens on 127.0.0.1:LISTENPORT and forwards every
accepted connection to HOST:PORT.  With an RTT of R milliseconds:
  - every chunk read in either direction is written on R/2 ms after it
    was read (a fixed one-way delay, order kept, no rate limit);
  - the upstream connection is opened 1.5 R after the client connected,
    so the server's greeting reaches the client 2 R after its connect(),
    as over a real link (SYN, SYN-ACK, ACK, then the greeting);
  - a close (EOF) travels like data: R/2 later.
R = 0 forwards without delay.  Prints "READY" once all ports listen and
"STATS connections=N bytes=N" on SIGTERM.
"""

import argparse
import asyncio
import signal
import sys
import time

STATS = {"connections": 0, "bytes": 0}


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk delayed by `delay` seconds."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    task = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            STATS["bytes"] += len(data)
            queue.put_nowait((time.monotonic() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((time.monotonic() + delay, None))
    try:
        await task
    except (ConnectionError, OSError):
        pass


async def handle(creader, cwriter, host, port, rtt):
    STATS["connections"] += 1
    try:
        if rtt:
            await asyncio.sleep(1.5 * rtt)
        sreader, swriter = await asyncio.open_connection(host, port)
    except OSError:
        cwriter.close()
        return
    for w in (cwriter, swriter):
        sock = w.get_extra_info("socket")
        if sock is not None:
            import socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(pump(creader, swriter, rtt / 2),
                         pump(sreader, cwriter, rtt / 2))
    for w in (cwriter, swriter):
        w.close()


async def main(opts):
    rtt = opts.rtt_ms / 1000.0
    servers = []
    for m in opts.mappings:
        lport, host, port = m.split(":")
        servers.append(await asyncio.start_server(
            lambda r, w, h=host, p=int(port): handle(r, w, h, p, rtt),
            "127.0.0.1", int(lport), reuse_address=True))
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or
                                stop.set_result(None))
    print("READY", flush=True)
    await stop
    print("STATS connections=%d bytes=%d" % (STATS["connections"],
                                            STATS["bytes"]), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rtt-ms", type=float, default=0)
    p.add_argument("mappings", nargs="+")
    sys.exit(asyncio.run(main(p.parse_args())))
