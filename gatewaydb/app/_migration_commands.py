"""The migration subcommands of ``gatewaydb``: migrate, rollback, status, reset, resolve,
new-migration."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import migrate
from ._output import Progress, Table, print_table
from ._target import CommandError, Reporter, open_target, relative
from .authoring import new_migration

__all__ = ["add_migration_parsers", "apply_with_progress"]

#: The exit status of a destructive command refused without ``--yes``.
REFUSED = 2


def apply_with_progress(url: str) -> list[str]:
    """:func:`migrate.apply` with a progress bar (or progress lines) on stderr."""
    with Progress("applying migrations", len(migrate.pending(url))) as progress:
        return migrate.apply(url, on_applied=lambda _: progress.advance())


def _migrate(args: argparse.Namespace, note: Reporter) -> int:
    with open_target(args.database_url, note) as target:
        applied = apply_with_progress(target.url)
    for migration_id in applied:
        print(f"applied {migration_id}")
    print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")
    return 0


def _drops(step: migrate.RollbackStep) -> str:
    tables = [f"{table} ({'gone' if rows is None else f'{rows:,} rows'})"
              for table, rows in step.drops]
    return ", ".join(tables) if tables else "no tables"


def _rollback(args: argparse.Namespace, note: Reporter) -> int:
    with open_target(args.database_url, note) as target:
        if not args.yes:
            steps = migrate.plan_rollback(target.url, to=args.to)
            if not steps:
                print("nothing to roll back")
                return 0
            print("`gatewaydb rollback` would undo, newest first:")
            print_table(Table(("migration", "drops tables"),
                              [(s.id, _drops(s)) for s in steps]), indent="  ")
            again = f" --to {args.to}" if args.to else ""
            raise CommandError(f"rollback undoes {len(steps)} migration(s) and deletes the "
                               f"data they hold; run `gatewaydb rollback{again} --yes` to "
                               "confirm", code=REFUSED)
        with Progress("rolling back"):
            undone = migrate.rollback(target.url, to=args.to)
    for migration_id in undone:
        print(f"rolled back {migration_id}")
    print(f"{len(undone)} migration(s) rolled back" if undone else "nothing to roll back")
    return 0


def _status(args: argparse.Namespace, note: Reporter) -> int:
    with open_target(args.database_url, note) as target:
        found = migrate.status(target.url)
    print_table(Table(("migration", "state", "applied at"),
                      [(m.id, "applied" if m.applied else "PENDING", m.applied_at)
                       for m in found]))
    waiting = sum(not m.applied for m in found)
    print(f"\n{len(found) - waiting} applied, {waiting} pending"
          + ("; run `gatewaydb migrate`" if waiting else ""))
    return 0


def _reset(args: argparse.Namespace, note: Reporter) -> int:
    if not args.yes:
        raise CommandError("reset drops every gatewaydb table and all its data; "
                           "run `gatewaydb reset --yes` to confirm", code=REFUSED)
    with open_target(args.database_url, note) as target:
        # yoyo's rollbacks, not DROP SCHEMA: each migration rolls back in its own transaction
        # together with yoyo's record of it, under yoyo's lock, so an interrupted reset leaves
        # a consistent "migrated up to X" database that `migrate` (or another reset) finishes.
        with Progress("rolling back every migration"):
            undone = migrate.rollback_all(target.url)
        applied = apply_with_progress(target.url)
    print(f"rolled back {len(undone)} migration(s), applied {len(applied)}: "
          "the database is empty and up to date")
    return 0


def _resolve(args: argparse.Namespace, note: Reporter) -> int:
    with open_target(args.database_url, note) as target:
        if args.applied:
            for migration_id in migrate.mark_applied(target.url, args.applied):
                print(f"marked {migration_id} as applied (nothing was run)")
        else:
            for migration_id in migrate.mark_rolled_back(target.url, args.rolled_back):
                print(f"marked {migration_id} as rolled back (nothing was run)")
    return 0


def _new_migration(args: argparse.Namespace, note: Reporter) -> int:
    forward, backward = new_migration(args.name, args.dir)
    print(f"created {relative(forward)}\ncreated {relative(backward)}")
    return 0


Command = Callable[[argparse.Namespace, Reporter], int]


def add_migration_parsers(add: Callable[[str, Command, str], Any]) -> None:
    """Add the migration subcommands through ``add(name, function, help)``, which returns
    the subcommand's parser."""
    add("migrate", _migrate, "apply pending migrations (yoyo; safe to run concurrently)")
    rollback = add("rollback", _rollback, "roll back the latest migration, or every one after "
                   "--to; without --yes only shows what it would undo")
    rollback.add_argument("--to", metavar="ID", help="keep this migration; undo the later ones")
    rollback.add_argument("--yes", action="store_true", help="confirm: their data is lost")
    add("status", _status, "list applied and pending migrations")
    add("reset", _reset, "drop every gatewaydb table and re-apply the migrations"
        ).add_argument("--yes", action="store_true", help="confirm: all data is lost")
    resolve = add("resolve", _resolve, "mark migrations applied or rolled back without running "
                  "them (repair after a change made by hand)")
    which = resolve.add_mutually_exclusive_group(required=True)
    which.add_argument("--applied", nargs="+", metavar="ID", help="record these as applied")
    which.add_argument("--rolled-back", nargs="+", metavar="ID",
                       help="record these as not applied")
    new = add("new-migration", _new_migration, "write the next NNNN_NAME.sql and "
              "NNNN_NAME.rollback.sql with the right `-- depends:` line")
    new.add_argument("name", metavar="NAME", help="what it does, e.g. add_clip_tags")
    new.add_argument("--dir", type=Path, default=None, metavar="DIR",
                     help="the migrations directory (default: gatewaydb's migrations/)")
