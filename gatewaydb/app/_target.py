"""Which database a ``gatewaydb`` command works on.

``--database-url``, else ``$DATABASE_URL``, else database ``gateway`` on the embedded
PostgreSQL server (see :mod:`gatewaydb.embedded`). A command that had to start the embedded
server stops it again when it ends, so no command leaves a server running that nobody asked
for; a server started with ``gatewaydb server start`` is reused and left running.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..core.settings import mask_url
from ._output import Progress

__all__ = [
    "EMBEDDED_DATABASE", "CommandError", "Reporter", "Target", "open_target", "relative",
]

#: The database the CLI creates and uses on the embedded server.
EMBEDDED_DATABASE = "gateway"

#: Called with (what happened, seconds it took, detail) when the embedded server starts/stops.
Reporter = Callable[[str, float, str], None]


class CommandError(Exception):
    """A command cannot go on; ``code`` is its exit status (2 for a refusal)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved database.

    Attributes:
        url: What to connect to.
        data_dir: The embedded server's data directory, or None for an external database.
        started: Whether this command started the embedded server (and so will stop it).
    """

    url: str
    data_dir: Path | None = None
    started: bool = False

    def describe(self) -> str:
        """What to show a user: the URL without its password, or the embedded server."""
        if self.data_dir is not None:
            where = relative(self.data_dir)
            return f"database {EMBEDDED_DATABASE} on the embedded server in {where}"
        return mask_url(self.url)


def relative(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _given_url(url: str | None) -> str | None:
    return url or os.environ.get("DATABASE_URL") or None


@contextmanager
def open_target(url: str | None, report: Reporter | None = None) -> Iterator[Target]:
    """Resolve the database for one command; start (and later stop) the embedded server.

    Args:
        url: ``--database-url``; None or empty falls back to ``$DATABASE_URL``, then to the
            embedded server.
        report: Told when the embedded server is started or stopped here.

    Raises:
        ConfigurationError: No URL and the ``embedded`` extra is not installed.
        DatabaseUnavailableError: The embedded server did not start.
    """
    given = _given_url(url)
    if given is not None:
        yield Target(given)
        return
    from .embedded import EmbeddedServer, default_data_dir

    server = EmbeddedServer(default_data_dir())
    started = not server.is_running()
    if started:
        first = not (server.data_dir / "PG_VERSION").exists()
        label = "initialising the embedded PostgreSQL server (first run only)" if first \
            else "starting the embedded PostgreSQL server"
        began = time.perf_counter()
        with Progress(label):
            server.start()
        if report is not None:
            report("start embedded PostgreSQL", time.perf_counter() - began,
                   f"data={relative(server.data_dir)}" + (" (initialised)" if first else ""))
    try:
        yield Target(server.ensure_database(EMBEDDED_DATABASE), server.data_dir, started)
    finally:
        if started:
            began = time.perf_counter()
            server.stop()
            if report is not None:
                report("stop embedded PostgreSQL", time.perf_counter() - began,
                       "started by this command")
