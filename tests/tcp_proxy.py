"""A TCP proxy on 127.0.0.1 for fault tests: forwards to the test server, cuts on demand.

::

    async with TcpProxy(target) as proxy:       # listens on 127.0.0.1, an OS-chosen port
        url = proxy.url(gatewaydb_server, dbname)
        ...
        await proxy.outage(1.0)   # cut every connection, refuse new ones for 1 s

``target`` is ``("unix", path)`` for the embedded server's socket or ``("tcp", host, port)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from types import TracebackType
from typing import Self
from urllib.parse import quote

__all__ = ["TcpProxy", "target_of"]

Target = tuple[str, str] | tuple[str, str, int]


def target_of(host: str, port: int) -> Target:
    """The proxy target for a server at ``host`` (a socket directory or a TCP host)."""
    if host.startswith("/"):
        return ("unix", os.path.join(host, f".s.PGSQL.{port}"))
    return ("tcp", host, port)


class TcpProxy:
    """Forwards each client connection to ``target``; :meth:`outage` cuts them all."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._server: asyncio.Server | None = None
        self._port = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self.cuts = 0

    @property
    def port(self) -> int:
        return self._port

    def url(self, user: str, password: str | None, dbname: str) -> str:
        """A URL that reaches ``dbname`` through the proxy."""
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return f"postgresql://{auth}@127.0.0.1:{self._port}/{quote(dbname, safe='')}"

    async def __aenter__(self) -> Self:
        await self._listen()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._stop_listening()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self._port,
                                                  reuse_address=True)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        """Close the port, then cut every pipe (newer Pythons' wait_closed waits for them)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        await self._cut_all()
        if server is not None:
            await server.wait_closed()

    async def _cut_all(self) -> None:
        pipes = list(self._pipes)
        for pipe in pipes:
            pipe.cancel()
        for pipe in pipes:
            with contextlib.suppress(asyncio.CancelledError):
                await pipe
        self.cuts += len(pipes)

    async def outage(self, seconds: float) -> None:
        """Cut every connection and refuse new ones (port closed) for ``seconds``."""
        await self._stop_listening()
        await asyncio.sleep(seconds)
        await self._listen()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            if self._target[0] == "unix":
                up_reader, up_writer = await asyncio.open_unix_connection(self._target[1])
            else:
                up_reader, up_writer = await asyncio.open_connection(self._target[1],
                                                                     self._target[2])
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(_pump(reader, up_writer))
                    tg.create_task(_pump(up_reader, writer))
            finally:
                up_writer.transport.abort()
        except (OSError, ExceptionGroup):
            pass  # a side went away: this pipe is done
        finally:
            writer.transport.abort()  # a cut, not a polite close: the client sees a reset
            self._pipes.discard(task)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.transport.abort()
