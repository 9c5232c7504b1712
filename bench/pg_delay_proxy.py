#!/usr/bin/env python3
"""A TCP proxy that adds a fixed delay to every PostgreSQL round trip (a database across a network).

Each chunk the server sends back is delivered `delay_s` after it arrived, in order, so every
request/response pair costs one extra delay while a large result streams at full speed (chunks are not
delayed one after another). Requests pass through at once.

usage: bench/pg_delay_proxy.py [--listen 127.0.0.1:15432] [--upstream 127.0.0.1:5432] [--delay-ms 20]
In a benchmark: `port = start_in_thread("127.0.0.1", 5432, 0.020)` and connect to 127.0.0.1:port.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(deliver()) if delay_s > 0 else None
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if task is None:
                writer.write(data)
                await writer.drain()
            else:
                queue.put_nowait((time.monotonic() + delay_s, data))
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if task is not None:
            queue.put_nowait((0.0, b""))
            try:
                await task
            except (ConnectionError, asyncio.CancelledError):
                pass
        try:
            writer.close()
        except Exception:  # noqa: BLE001
            pass


async def serve(listen_host: str, listen_port: int, up_host: str, up_port: int, delay_s: float,
                ready: threading.Event | None = None, port_out: list[int] | None = None) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(up_host, up_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, up_w, 0.0), _pipe(up_r, client_w, delay_s))

    server = await asyncio.start_server(handle, listen_host, listen_port)
    if port_out is not None:
        port_out.append(server.sockets[0].getsockname()[1])
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def start_in_thread(up_host: str = "127.0.0.1", up_port: int = 5432, delay_s: float = 0.020) -> int:
    """Run the proxy on a free local port in a daemon thread; returns the port."""
    ready = threading.Event()
    port: list[int] = []
    threading.Thread(target=lambda: asyncio.run(serve("127.0.0.1", 0, up_host, up_port, delay_s, ready, port)),
                     name="pg-delay-proxy", daemon=True).start()
    if not ready.wait(10):
        raise RuntimeError("the delay proxy did not start")
    return port[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:15432")
    ap.add_argument("--upstream", default="127.0.0.1:5432")
    ap.add_argument("--delay-ms", type=float, default=20.0)
    a = ap.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    uh, up = a.upstream.rsplit(":", 1)
    asyncio.run(serve(lh, int(lp), uh, int(up), a.delay_ms / 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
