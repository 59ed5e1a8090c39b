"""``gatewaydb server start|stop|status|url``: the embedded PostgreSQL server by hand.

A server started here keeps running after the command (other ``gatewaydb`` commands then
reuse it and leave it running), so psql, asyncpg or an application can use its URL.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ._output import Progress, format_duration
from ._target import EMBEDDED_DATABASE, CommandError, relative

__all__ = ["add_server_parser"]

#: ``gatewaydb server status`` when the server is not running: a failure, like every other
#: "no" of the command (the README's exit-status table).
NOT_RUNNING = 1


def _server(args: argparse.Namespace) -> Any:
    from .embedded import EmbeddedServer, default_data_dir

    return EmbeddedServer(args.data_dir if args.data_dir is not None else default_data_dir())


def _start(args: argparse.Namespace) -> int:
    server = _server(args)
    where = relative(server.data_dir)
    if server.is_running():
        print(f"already running in {where}")
    else:
        began = time.perf_counter()
        with Progress("starting the embedded PostgreSQL server"):
            server.start()
        print(f"started in {where} ({format_duration(time.perf_counter() - began)}); "
              "stop it with `gatewaydb server stop`")
    print(server.ensure_database(args.database))
    return 0


def _stop(args: argparse.Namespace) -> int:
    server = _server(args)
    if not server.is_running():
        print(f"not running ({relative(server.data_dir)})")
        return 0
    server.stop()
    print(f"stopped ({relative(server.data_dir)})")
    return 0


def _status(args: argparse.Namespace) -> int:
    server = _server(args)
    if not server.is_running():
        print(f"not running (data directory {relative(server.data_dir)})")
        return NOT_RUNNING
    print(f"running\ndata directory  {relative(server.data_dir)}\n"
          f"socket          {server.socket_dir}\nurl             {server.url(args.database)}")
    return 0


def _url(args: argparse.Namespace) -> int:
    server = _server(args)
    if not server.is_running():
        raise CommandError(f"the embedded PostgreSQL server in {relative(server.data_dir)} is "
                           "not running; start it with `gatewaydb server start`")
    # ensure_database: a URL printed here must work, also for a database not created yet.
    print(server.ensure_database(args.database))
    return 0


def add_server_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``server`` and its actions to the subcommand set ``sub``; ``common`` holds the
    options every subcommand takes."""
    text = "manage the embedded PostgreSQL server (data kept between runs)"
    server = sub.add_parser("server", parents=[common], help=text, description=text)
    actions = server.add_subparsers(dest="action", required=True, metavar="ACTION")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                       help="data directory (default: $GATEWAYDB_DATA_DIR, else "
                            ".gatewaydb/pgdata in this checkout)")
    where.add_argument("--database", default=EMBEDDED_DATABASE, metavar="NAME",
                       help=f"database for the URL (default {EMBEDDED_DATABASE}; created if "
                            "missing)")
    for name, fn, help_text in (
        ("start", _start, "start the server (initialise it on first use); print its URL"),
        ("stop", _stop, "stop the server"),
        ("status", _status, f"running or not; exit {NOT_RUNNING} when it is not running"),
        ("url", _url, "print the URL for psql, asyncpg or DATABASE_URL"),
    ):
        action = actions.add_parser(name, parents=[common, where], help=help_text,
                                    description=help_text)
        action.set_defaults(func=fn)
