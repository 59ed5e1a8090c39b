"""The database the bench runs against: the embedded server by default, migrated."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gatewaydb.app.embedded import EmbeddedServer
from gatewaydb.app.migrate import apply

from .dataset import DEFAULT_USERS
from .paths import BENCH_DATA_DIR

__all__ = ["bench_database", "database_name"]


def database_name(users: int) -> str:
    """The embedded server's database for a scale: one per scale, so a quick run never
    replaces the full data set (and its two-minute load) with a tiny one."""
    return "gatewaydb_bench" if users == DEFAULT_USERS else f"gatewaydb_bench_{users}"


@contextmanager
def bench_database(url: str | None, name: str) -> Iterator[str]:
    """Yield the URL of a migrated database for the bench.

    Args:
        url: a database to use as is (``--database-url``); it must be empty or hold a bench
            data set (see :func:`bench.datagen.ensure_loaded`).
        name: without ``url``, the database to create on the bench's embedded server, which
            keeps its own data directory (:data:`bench.paths.BENCH_DATA_DIR`) so the data set
            survives between runs. A server this call started is stopped on exit.
    """
    if url is not None:
        apply(url)
        yield url
        return
    server = EmbeddedServer(BENCH_DATA_DIR)
    started_here = not server.is_running()
    if started_here:
        print(f"server: starting the embedded PostgreSQL in {BENCH_DATA_DIR}", file=sys.stderr)
    server.start()
    try:
        database_url = server.ensure_database(name)
        apply(database_url)
        yield database_url
    finally:
        if started_here:
            server.stop()
