"""A TCP proxy that delays every byte by a fixed time in each direction: the round trip of a
customer far from the bucket, for benchmarks, where the kernel has no `netem` qdisc.

Each direction is a delay line: bytes read from one side are written to the other
`one_way_s` after they were read, in order, so a request's first byte reaches moto half a
round trip after the client sent it and the answer comes back half a round trip later. The
rate is left to `tc` (HTB on the proxy's port), as on a real line. What it does not model:
the client's TCP sees the loopback's round trip, not the delayed one, so slow start and the
congestion window are not slowed by the delay (with a 4 MiB window, one connection would
carry ~100 MiB/s at 40 ms and ~33 MiB/s at 120 ms, above both links benchmarked); and no
packet is lost. What it keeps: every request and answer waits the round trip, which is what
a client's parallelism has to hide.
"""

import asyncio
import socket
import threading
import time

CHUNK = 1024 * 1024
# Bytes a direction may hold in its line before it stops reading: over the bandwidth-delay
# product of the links benchmarked (400 Mbit/s x 20 ms = 1 MB), so the line never limits.
LINE_BYTES = 8 * 1024 * 1024


class DelayLine:
    """`with DelayLine(upstream_port, one_way_s) as line:` listens on line.port."""

    def __init__(self, upstream_port: int, one_way_s: float, host: str = "127.0.0.1"):
        self.upstream_port, self.one_way_s, self.host = upstream_port, one_way_s, host
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="delay-line")
        self.port = 0
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "DelayLine":
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _serve(self) -> asyncio.AbstractServer:
        return await asyncio.start_server(self._connection, self.host, 0)

    async def _connection(self, client_r, client_w) -> None:
        self.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_w.close()
            return
        for w in (client_w, up_w):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.gather(
                self._pump(client_r, up_w), self._pump(up_r, client_w), return_exceptions=True
            )
        except asyncio.CancelledError:
            pass  # the line is being shut down
        for w in (client_w, up_w):
            w.close()

    async def _pump(self, reader, writer) -> None:
        line: asyncio.Queue = asyncio.Queue()
        held = 0
        room = asyncio.Event()
        room.set()

        async def deliver() -> None:
            nonlocal held
            while True:
                due, data = await line.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
                held -= len(data)
                if held <= LINE_BYTES:
                    room.set()

        delivering = asyncio.create_task(deliver())
        try:
            while True:
                await room.wait()
                data = await reader.read(CHUNK)
                line.put_nowait((time.monotonic() + self.one_way_s, data or None))
                if not data:
                    break
                held += len(data)
                if held > LINE_BYTES:
                    room.clear()
            await delivering
        finally:
            delivering.cancel()
