"""A throwaway PgBouncer in front of one server, for the test suite and the bench.

Runs the ``pgbouncer`` binary found on ``PATH`` (Debian: ``apt-get install pgbouncer``) with a
generated configuration on a loopback port the OS picked. PgBouncer refuses to run as root,
so as root it runs as the same OS user as the embedded servers.

::

    with temporary_bouncer(server_url, pool_mode="transaction", pool_size=3) as bouncer:
        db = Database(bouncer.url("gateway"), statement_cache=False)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from ..core.errors import ConfigurationError, DatabaseUnavailableError
from .cluster import free_port
from .embedded import _scratch_root, _system_user

__all__ = ["INSTALL_HINT", "Bouncer", "pgbouncer_binary", "temporary_bouncer"]

#: How to get the binary on Debian/Ubuntu (the reason a test skips without it).
INSTALL_HINT = "apt-get update && apt-get install -y pgbouncer"
_START_TIMEOUT = 10.0


def pgbouncer_binary() -> str | None:
    """The ``pgbouncer`` executable on ``PATH`` (or Debian's /usr/sbin), or None."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")


@dataclass(frozen=True, slots=True)
class Bouncer:
    """A running PgBouncer: where it listens and its configuration file."""

    port: int
    config: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str, user: str = "postgres") -> str:
        """``postgresql://<user>@127.0.0.1:<port>/<database>`` through the bouncer."""
        return f"postgresql://{quote(user, safe='')}@127.0.0.1:{self.port}/{database}"


def _config(server_url: str, port: int, folder: Path, pool_mode: str, pool_size: int,
            max_clients: int) -> str:
    server = urlsplit(server_url)
    # A Unix socket directory rides in the query string (?host=/dir&port=N), as libpq has it.
    query = dict(parse_qsl(server.query))
    host = query.get("host") or server.hostname or "127.0.0.1"
    server_port = query.get("port") or server.port or 5432
    return f"""\
[databases]
* = host={host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = {max_clients}
max_db_connections = {pool_size}
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
admin_users = postgres
ignore_startup_parameters = extra_float_digits
"""


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise DatabaseUnavailableError(
                f"pgbouncer exited {process.returncode}: {log.read_text()[-600:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise DatabaseUnavailableError(f"pgbouncer did not listen; see {log}") from None
            time.sleep(0.02)


@contextmanager
def temporary_bouncer(server_url: str, *, pool_mode: str = "transaction", pool_size: int = 3,
                      max_clients: int = 100) -> Iterator[Bouncer]:
    """A PgBouncer in front of the server of ``server_url`` (trust auth, every database).

    Args:
        server_url: Any URL of the server: only its host (a Unix socket directory too) and
            port are used.
        pool_mode: ``session``, ``transaction`` or ``statement``.
        pool_size: Server connections per database and user (and at most per database).
        max_clients: Client connections PgBouncer accepts.

    Raises:
        ConfigurationError: no ``pgbouncer`` binary (the message says how to install it).
        DatabaseUnavailableError: it did not start.
    """
    binary = pgbouncer_binary()
    if binary is None:
        raise ConfigurationError(f"pgbouncer is not installed: {INSTALL_HINT}")
    folder = Path(tempfile.mkdtemp(prefix="gatewaydb-bouncer-", dir=_scratch_root()))
    try:
        port = free_port()
        (folder / "users.txt").write_text('"postgres" ""\n')
        config = folder / "pgbouncer.ini"
        config.write_text(_config(server_url, port, folder, pool_mode, pool_size, max_clients))
        user = _system_user()
        if user is not None:
            shutil.chown(folder, user, user)
            for path in folder.iterdir():
                shutil.chown(path, user, user)
        process = subprocess.Popen([binary, "-q", str(config)], user=user,
                                   stdin=subprocess.DEVNULL)
        try:
            _wait_listening(port, process, folder / "pgbouncer.log")
            yield Bouncer(port, config, process)
        finally:
            process.terminate()
            try:
                process.wait(_START_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
