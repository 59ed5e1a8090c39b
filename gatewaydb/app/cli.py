"""The ``gatewaydb`` command: migrations, seed data, health, the demo, the embedded server.

Every subcommand picks its database the same way: ``--database-url``, else
``$DATABASE_URL``, else database ``gateway`` on the embedded PostgreSQL server, which is
started for the command and stopped after it unless it was already running (see
``gatewaydb server start``).

Exit status (as the README's table says): 0 success; 1 failure, with a one-line
``gatewaydb: error: <reason>`` on stderr (``--debug`` adds the traceback), a ``health`` that is
degraded or unhealthy, or ``server status`` when the server is not running; 2 a usage error
(bad arguments, an unknown or malformed setting or URL) or a destructive command refused
without ``--yes``; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from ..core.errors import (
    ConfigurationError,
    GatewayDBError,
    InvalidInputError,
    SchemaMismatchError,
)
from ..core.health import unhealthy
from ..core.routing import replica_urls_from_env
from ..gateway.database import Database
from ..gateway.models import HealthReport
from . import migrate
from ._migration_commands import Command, add_migration_parsers
from ._output import Progress, Table, format_duration, format_value, glyphs, one_line, print_table
from ._server import add_server_parser
from ._target import CommandError, open_target

__all__ = ["CommandError", "main"]

log = logging.getLogger("gatewaydb")


def _note(what: str, seconds: float, detail: str) -> None:
    # Starting the embedded server takes a moment: say so on a terminal, stay quiet in scripts.
    if sys.stderr.isatty():
        print(f"gatewaydb: {what} ({format_duration(seconds)}; {detail})", file=sys.stderr)


#: Exit statuses; the README's "The gatewaydb command" has the same table.
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _require_migrated(url: str) -> None:
    waiting = migrate.pending(url)
    if waiting:
        raise CommandError(f"{len(waiting)} migration(s) pending ({', '.join(waiting)}); "
                           "run `gatewaydb migrate` first")


# -- data and checks -----------------------------------------------------------------------


async def _seed(url: str, scale: int) -> None:
    from .seed import ENTERPRISE_EMAIL, MODELS, seed, seed_users

    async with Database(url) as db:
        with Progress("seeding users", len(seed_users(scale))) as progress:
            report = await seed(db, scale, on_user=progress.advance)
    if report.created:
        print_table(Table(("model", "created"), [(m, report.created[m]) for m in MODELS]))
    if report.existing:
        print(f"{report.existing} seed user(s) already existed and were left as they are")
    if report.api_key is not None:
        print(f"\n{ENTERPRISE_EMAIL} API key (shown once, only its digest is stored):\n"
              f"  {report.api_key}")


def _cmd_seed(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target:
        _require_migrated(target.url)
        anyio.run(_seed, target.url, args.scale)
    return 0


async def _check(url: str) -> int:
    async with Database(url, check_schema=False) as db:
        began = time.perf_counter()
        await db.check()
    ok = glyphs(sys.stdout)[0]
    print(f"{ok} all {len(db.declarations())} statements fit the live schema "
          f"({format_duration(time.perf_counter() - began)})")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target:
        try:
            return anyio.run(_check, target.url)
        except SchemaMismatchError as exc:
            bad = glyphs(sys.stdout)[1]
            for problem in exc.problems:
                print(f"{bad} {problem}")
            waiting = exc.pending_migrations
            hint = f"; {len(waiting)} migration(s) pending: run `gatewaydb migrate`" \
                if waiting else ""
            raise CommandError(f"{len(exc.problems)} statement problem(s) against the live "
                               f"schema{hint}") from exc


async def _health(url: str) -> HealthReport:
    # No contract check at connect: health reports a drifted schema instead of failing on it.
    db = Database(url, replicas=replica_urls_from_env(), check_schema=False)
    try:
        await db.connect()
    except GatewayDBError as exc:
        return unhealthy(one_line(exc), db.settings)
    try:
        return await db.health(check_contract=True)
    finally:
        await db.disconnect()


def _health_value(name: str, value: Any) -> str:
    if name == "latency_ms" and value is not None:
        return f"{value} ms"
    if name == "pool" and value:
        return (f"{value['size']} open, {value['in_use']} in use, {value['idle']} idle, "
                f"max {value['max_size']}")
    if name == "pending_migrations" and value is not None:
        return ", ".join(value) or "none"
    if name == "reasons":
        return "; ".join(value) or "-"
    if name == "servers":
        return "\n".join(_server_row(server) for server in value) or "-"
    return format_value(value)


def _server_row(server: dict[str, Any]) -> str:
    """One server of ``health``'s ``servers`` field: role, address, reachable, latency,
    state, lag and error, as JSON has them."""
    row = (f"{server['role']} {server['address']} "
           f"{'reachable' if server['reachable'] else 'UNREACHABLE'}")
    if server["latency_ms"] is not None:
        row += f" {server['latency_ms']} ms"
    if server.get("state"):
        row += f" {server['state']}"
    if server.get("replay_lag_s") is not None:
        row += f", lag {server['replay_lag_s']:.3f} s"
    if server.get("error"):
        row += f" ({server['error']})"
    return row


def _cmd_health(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target:
        report = anyio.run(_health, target.url)
    code = 0 if report.ok else EXIT_FAILURE
    if args.json:
        print(report.model_dump_json())
        return code
    # The same fields as --json, in its order, one per line.
    # A field of several rows (servers: one per server) goes on as many lines, aligned.
    fields = report.model_dump(mode="json")
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        first, *more = _health_value(name, value).split("\n")
        print(f"{name.replace('_', ' ').ljust(width)}  {first}")
        for line in more:
            print(f"{'':{width}}  {line}")
    return code


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.database_url, args.scale)


# -- the parser ----------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return number


def _parser() -> argparse.ArgumentParser:
    # Options live on a parent shared by every subcommand, so they may come before or after
    # it; SUPPRESS keeps a subcommand from resetting a value given before it.
    base = argparse.ArgumentParser(add_help=False)
    base.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                      help="show tracebacks and debug logs")
    common = argparse.ArgumentParser(add_help=False, parents=[base])
    common.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS,
                        help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server)")
    parser = argparse.ArgumentParser(
        prog="gatewaydb", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The Gateway data layer: migrations, seed data, health, demo.",
        epilog="database: --database-url, else $DATABASE_URL, else database 'gateway' on the\n"
               "embedded PostgreSQL server (started on demand, stopped again unless it was\n"
               "already running: see `gatewaydb server`).\n"
               "exit status: 0 success; 1 failure (one line on stderr), health not healthy,\n"
               "server not running; 2 usage error, bad setting or URL, refused without --yes.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], text: str) -> Any:
        cmd = sub.add_parser(name, parents=[common], help=text, description=text)
        cmd.set_defaults(func=fn)
        return cmd

    def add_migration(name: str, fn: Command, text: str) -> Any:
        return add(name, lambda args: fn(args, _note), text)

    add_migration_parsers(add_migration)
    add("seed", _cmd_seed, "write sample data across all seven models (idempotent)"
        ).add_argument("--scale", type=_positive, default=1, metavar="N",
                       help="multiply the users (1 + 4*N users; default 1)")
    add("check", _cmd_check, "check every SQL statement against the live schema")
    add("health", _cmd_health, "healthy, degraded (pending migrations, schema drift) or "
        "unhealthy, with the reasons; exit 1 unless healthy"
        ).add_argument("--json", action="store_true", help="print the report as JSON")
    add("demo", _cmd_demo, "migrate, seed and run the seed document's walkthrough"
        ).add_argument("--scale", type=_positive, default=1, metavar="N",
                       help="seed scale (default 1)")
    add_server_parser(sub, base)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gatewaydb`` command line; returns the exit status (never raises SystemExit)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and usage errors: keep argparse's status
        return exc.code if isinstance(exc.code, int) else 2
    # Not parser.set_defaults(): parents share their option objects with every subcommand,
    # and a default set there would override the value given before the subcommand.
    args.database_url = getattr(args, "database_url", None)
    args.debug = getattr(args, "debug", False)
    logging.basicConfig(format="gatewaydb: %(levelname)s: %(message)s", level=logging.WARNING)
    if args.debug:
        log.setLevel(logging.DEBUG)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in Python's exit-time flush
        return code
    except BrokenPipeError:
        # The reader went away (`gatewaydb status | head -1`): nothing more to say, and
        # the exit-time flush of stdout must not fail again.
        with contextlib.suppress(OSError, ValueError):  # stdout may have no file descriptor
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except CommandError as exc:
        failure: BaseException = exc
        code = exc.code
    except (ConfigurationError, InvalidInputError) as exc:
        failure, code = exc, EXIT_USAGE  # what the user typed or set is wrong
    except (GatewayDBError, OSError) as exc:
        failure, code = exc, EXIT_FAILURE
    except KeyboardInterrupt:
        print("gatewaydb: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.debug:
        traceback.print_exception(failure, file=sys.stderr)
    print(f"gatewaydb: error: {one_line(failure)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
