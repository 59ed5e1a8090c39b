"""The ``gatewaydb`` command: migrations, seed data, health, the demo, the embedded server.

Every subcommand picks its database the same way: ``--database-url``, else
``$DATABASE_URL``, else database ``gateway`` on the embedded PostgreSQL server, which is
started for the command and stopped after it unless it was already running (see
``gatewaydb server start``).

Exit status: 0 on success; 1 on an error, with a one-line ``gatewaydb: error: <reason>`` on
stderr (``--debug`` adds the traceback); 2 for a usage error or a refused ``reset``.
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

from ..core.errors import GatewayDBError, SchemaMismatchError
from ..gateway.database import Database
from ..gateway.models import HealthReport
from . import migrate
from ._output import (
    Progress,
    Table,
    format_duration,
    format_value,
    glyphs,
    one_line,
    table_lines,
)
from ._server import add_server_parser
from ._target import CommandError, open_target

__all__ = ["CommandError", "main"]

log = logging.getLogger("gatewaydb")


def _note(what: str, seconds: float, detail: str) -> None:
    # Starting the embedded server takes a moment: say so on a terminal, stay quiet in scripts.
    if sys.stderr.isatty():
        print(f"gatewaydb: {what} ({format_duration(seconds)}; {detail})", file=sys.stderr)


def _print_table(table: Table) -> None:
    for line in table_lines(table, indent=""):
        print(line)


def _require_migrated(url: str) -> None:
    waiting = migrate.pending(url)
    if waiting:
        raise CommandError(f"{len(waiting)} migration(s) pending ({', '.join(waiting)}); "
                           "run `gatewaydb migrate` first")


# -- migrations ----------------------------------------------------------------------------


def _cmd_migrate(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target, Progress("applying migrations"):
        applied = migrate.apply(target.url)
    for migration_id in applied:
        print(f"applied {migration_id}")
    print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target, Progress("rolling back"):
        undone = migrate.rollback(target.url, to=args.to)
    for migration_id in undone:
        print(f"rolled back {migration_id}")
    print(f"{len(undone)} migration(s) rolled back" if undone else "nothing to roll back")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target:
        found = migrate.status(target.url)
    _print_table(Table(("migration", "state", "applied at"),
                       [(m.id, "applied" if m.applied else "PENDING", m.applied_at)
                        for m in found]))
    waiting = sum(not m.applied for m in found)
    print(f"\n{len(found) - waiting} applied, {waiting} pending"
          + ("; run `gatewaydb migrate`" if waiting else ""))
    return 0


def _cmd_reset(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CommandError("reset drops every gatewaydb table and all its data; "
                           "run `gatewaydb reset --yes` to confirm", code=2)
    with open_target(args.database_url, _note) as target:
        # yoyo's rollbacks, not DROP SCHEMA: each migration rolls back in its own transaction
        # together with yoyo's record of it, under yoyo's lock, so an interrupted reset leaves
        # a consistent "migrated up to X" database that `migrate` (or another reset) finishes.
        with Progress("rolling back every migration"):
            undone = migrate.rollback_all(target.url)
        with Progress("applying migrations"):
            applied = migrate.apply(target.url)
    print(f"rolled back {len(undone)} migration(s), applied {len(applied)}: "
          "the database is empty and up to date")
    return 0


# -- data and checks -----------------------------------------------------------------------


async def _seed(url: str, scale: int) -> None:
    from .seed import ENTERPRISE_EMAIL, MODELS, seed, seed_users

    async with Database(url) as db:
        with Progress("seeding users", len(seed_users(scale))) as progress:
            report = await seed(db, scale, on_user=progress.advance)
    if report.created:
        _print_table(Table(("model", "created"), [(m, report.created[m]) for m in MODELS]))
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
            waiting = migrate.pending(target.url)
            hint = f"; {len(waiting)} migration(s) pending: run `gatewaydb migrate`" \
                if waiting else ""
            raise CommandError(f"{len(exc.problems)} statement problem(s) against the live "
                               f"schema{hint}") from exc


async def _health(url: str) -> HealthReport:
    db = Database(url, check_schema=False)
    try:
        await db.connect()
    except GatewayDBError as exc:
        return HealthReport(ok=False, server_version=None, latency_ms=None, pool=None,
                            pending_migrations=None, error=one_line(exc))
    try:
        return await db.health()
    finally:
        await db.disconnect()


def _cmd_health(args: argparse.Namespace) -> int:
    with open_target(args.database_url, _note) as target:
        report = anyio.run(_health, target.url)
    if args.json:
        print(report.model_dump_json())
        return 0 if report.ok else 1
    pool = report.pool
    pending = report.pending_migrations
    rows: list[tuple[str, Any]] = [
        ("status", "healthy" if report.ok else "UNHEALTHY"),
        ("database", target.describe()),
        ("server version", report.server_version),
        ("latency", f"{report.latency_ms} ms" if report.latency_ms is not None else None),
        ("pool", f"{pool.size} open, {pool.in_use} in use, {pool.idle} idle, max {pool.max_size}"
         if pool else None),
        ("pending migrations", None if pending is None else ", ".join(pending) or "none"),
    ]
    if report.error:
        rows.append(("error", report.error))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {format_value(value)}")
    return 0 if report.ok else 1


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
               "exit status: 0 success, 1 error (one line on stderr), 2 usage error or refusal.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], text: str) -> Any:
        cmd = sub.add_parser(name, parents=[common], help=text, description=text)
        cmd.set_defaults(func=fn)
        return cmd

    add("migrate", _cmd_migrate, "apply pending migrations (yoyo; safe to run concurrently)")
    add("rollback", _cmd_rollback, "roll back the latest migration, or every one after --to"
        ).add_argument("--to", metavar="ID", help="keep this migration; undo the later ones")
    add("status", _cmd_status, "list applied and pending migrations")
    add("seed", _cmd_seed, "write sample data across all seven models (idempotent)"
        ).add_argument("--scale", type=_positive, default=1, metavar="N",
                       help="multiply the users (1 + 4*N users; default 1)")
    add("reset", _cmd_reset, "drop every gatewaydb table and re-apply the migrations"
        ).add_argument("--yes", action="store_true", help="confirm: all data is lost")
    add("check", _cmd_check, "check every SQL statement against the live schema")
    add("health", _cmd_health, "server version, latency, pool, pending migrations; "
        "exit 1 when unhealthy").add_argument("--json", action="store_true",
                                              help="print the report as JSON")
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
    except (GatewayDBError, OSError) as exc:
        failure, code = exc, 1
    except KeyboardInterrupt:
        print("gatewaydb: interrupted", file=sys.stderr)
        return 130
    if args.debug:
        traceback.print_exception(failure, file=sys.stderr)
    print(f"gatewaydb: error: {one_line(failure)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
