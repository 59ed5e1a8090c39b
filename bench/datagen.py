"""Loads the bench data set (:mod:`bench.dataset`) into a database, once per scale.

A ``bench_meta`` row records what was loaded (scale, schema fingerprint, generator version); a
rerun with the same fingerprint reuses the data. The row exists from the first load on, which
marks the database as the bench's own: the bench never empties a database without it.

The load is set-based: each chunk is one ``INSERT ... SELECT`` run inside the server. What
helped, measured at the default scale on 2 cores:

- dropping the secondary (non-constraint) indexes, loading, then building them: 76 s -> 42 s
  (PostgreSQL 15, one connection); their definitions are saved in ``bench_meta`` first and
  rebuilt by the next run if a load is interrupted;
- skipping the per-row foreign-key triggers (``session_replication_role``, superuser only);
- two connections sharing each table's chunks: 34-43 s -> 25-27 s on the embedded
  PostgreSQL 18 (no gain on the system PostgreSQL 15, whose WAL writing was the limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any, Final

import asyncpg

from gatewaydb.app._output import Progress
from gatewaydb.gateway._paths import migrations_dir

from .dataset import GENERATOR_VERSION, PHASES, Chunk, Scale
from .errors import BenchError

__all__ = ["LoadInfo", "ensure_loaded", "schema_fingerprint"]

#: Connections sharing the load: the bench's target machine has 2 cores.
_WORKERS: Final = 2

_TABLES: Final = ["users", "assets", "clips", "campaigns", "experiments", "conversions",
                  "predictions"]

# CASCADE: tables added later that reference these hold bench rows too (the bench owns this
# database, see ensure_loaded).
_TRUNCATE: Final = (
    "TRUNCATE users, assets, clips, campaigns, experiments, conversions, predictions CASCADE")
_VACUUM: Final = ("VACUUM (ANALYZE) users, assets, clips, campaigns, experiments, conversions, "
                  "predictions")

_CREATE_META: Final = """
CREATE TABLE IF NOT EXISTS bench_meta (
    id               integer PRIMARY KEY CHECK (id = 1),
    -- NULL while a load runs: an interrupted load is redone.
    fingerprint      jsonb,
    load_seconds     double precision,
    loaded_at        timestamptz,
    -- Index definitions dropped for the load and not yet recreated.
    dropped_indexes  jsonb NOT NULL DEFAULT '[]'
)
"""

_CLAIM: Final = """
INSERT INTO bench_meta (id) VALUES (1)
ON CONFLICT (id) DO UPDATE SET fingerprint = NULL, load_seconds = NULL, loaded_at = NULL
"""

_FINISH: Final = """
UPDATE bench_meta SET fingerprint = $1::jsonb, load_seconds = $2, loaded_at = now()
"""

# Indexes that back no constraint: nothing refers to them, so they can be dropped and rebuilt
# (a sorted build is much faster than a million random insertions).
_SECONDARY_INDEXES: Final = """
SELECT n.nspname AS schema, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
       format('DROP INDEX %I.%I', n.nspname, ic.relname) AS drop_sql
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE c.relname = ANY($1::text[]) AND n.nspname = current_schema()
  AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = i.indexrelid)
ORDER BY ic.relname
"""


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """What :func:`ensure_loaded` did; ``phases`` maps a phase to its seconds."""

    reused: bool
    seconds: float
    phases: dict[str, float]


def schema_fingerprint() -> str:
    """A digest of every migration file: a schema change invalidates the loaded data set."""
    digest = hashlib.sha256()
    for path in sorted(migrations_dir().glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _fingerprint(scale: Scale) -> dict[str, Any]:
    return {"scale": asdict(scale), "schema": schema_fingerprint(),
            "generator": GENERATOR_VERSION}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _connect(url: str) -> asyncpg.Connection:
    """A loading connection with session settings that speed up a bulk load."""
    conn = await asyncpg.connect(url)
    # The rows are consistent by construction (every reference is to a row loaded by an
    # earlier phase): skipping the per-row foreign-key triggers saves a lookup per reference.
    # Only a superuser may; elsewhere the load is slower, not different.
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        _say("  (not a superuser: foreign keys are checked row by row; the load is slower)")
    # Losing the last commits on a crash is harmless: bench_meta is completed last.
    await conn.execute("SET synchronous_commit = off")
    await conn.execute("SET maintenance_work_mem = '256MB'")
    return conn


Job = Callable[[asyncpg.Connection], Awaitable[int]]


async def _share(conns: Sequence[asyncpg.Connection], jobs: Sequence[Job], label: str,
                 total: int) -> None:
    """Run ``jobs`` on ``conns``, each connection taking the next job when it is free."""
    queue = deque(jobs)

    async def worker(conn: asyncpg.Connection, progress: Progress) -> None:
        while queue:
            progress.advance(await queue.popleft()(conn))

    # A bar on a terminal; elsewhere a line every few seconds (gatewaydb's CLI progress).
    with Progress(f"loading {label}", total) as progress:
        await asyncio.gather(*(worker(conn, progress) for conn in conns))


def _insert(chunk: Chunk) -> Job:
    async def job(conn: asyncpg.Connection) -> int:
        await conn.execute("SELECT setseed($1)", chunk.seed)
        await conn.execute(chunk.sql, *chunk.args)
        return chunk.rows
    return job


def _ddl(statement: str) -> Job:
    async def job(conn: asyncpg.Connection) -> int:
        await conn.execute(statement)
        return 1
    return job


class _Clock:
    """Times the load's phases and prints a line for each."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, label: str, rows: int | None = None) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = self.phases[label] = time.perf_counter() - started
        rate = (f"{rows:>10,} rows {seconds:6.1f} s {rows / max(seconds, 1e-9):>10,.0f} rows/s"
                if rows is not None else f"{'':>15} {seconds:6.1f} s")
        _say(f"  {label:<18} {rate}")


async def _restore_indexes(conns: Sequence[asyncpg.Connection]) -> int:
    """Recreate the indexes a load dropped, unless they exist; returns how many it built."""
    conn = conns[0]
    saved = json.loads(await conn.fetchval("SELECT dropped_indexes::text FROM bench_meta"))
    missing = [index["definition"] for index in saved if await conn.fetchval(
        "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NULL",
        index["schema"], index["name"])]
    await _share(conns, [_ddl(definition) for definition in missing], "indexes", len(missing))
    await conn.execute("UPDATE bench_meta SET dropped_indexes = '[]'")
    return len(missing)


async def _drop_indexes(conn: asyncpg.Connection) -> None:
    """Drop the secondary indexes, their definitions saved first (in one transaction)."""
    async with conn.transaction():
        indexes = [dict(r) for r in await conn.fetch(_SECONDARY_INDEXES, _TABLES)]
        await conn.execute("UPDATE bench_meta SET dropped_indexes = $1::jsonb", json.dumps(
            [{k: index[k] for k in ("schema", "name", "definition")} for index in indexes]))
        for index in indexes:
            await conn.execute(index["drop_sql"])


async def _load(conns: Sequence[asyncpg.Connection], scale: Scale) -> dict[str, float]:
    clock = _Clock()
    conn = conns[0]
    with clock.phase("truncate"):
        await conn.execute(_CLAIM)
        await conn.execute(_TRUNCATE)
        await _drop_indexes(conn)
    for phase in PHASES:
        with clock.phase(phase.label, phase.rows(scale)):
            await _share(conns, [_insert(c) for c in phase.chunks(scale)], phase.label,
                         phase.rows(scale))
    with clock.phase("indexes"):
        await _restore_indexes(conns)
    with clock.phase("vacuum, checkpoint"):
        # After the indexes, so ANALYZE also samples expression indexes (lower(email)). The
        # VACUUM sets hint bits and the visibility map, and the CHECKPOINT writes the dirty
        # pages out: otherwise autovacuum and the checkpointer would do both during the
        # first run's timings, and the first run after a load would measure other data.
        await conn.execute(_VACUUM)
        # Without superuser (or pg_checkpoint) the first run is noisier, no more.
        with suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CHECKPOINT")
    return clock.phases


async def ensure_loaded(url: str, scale: Scale) -> LoadInfo:
    """Load the data set for ``scale`` into ``url``'s database unless it already holds it.

    Raises:
        BenchError: the database holds users that the bench did not load; the bench never
            empties a database it does not own.
    """
    conns = [await _connect(url)]
    try:
        conn = conns[0]
        await conn.execute(_CREATE_META)
        row = await conn.fetchrow(
            "SELECT fingerprint::text, load_seconds, dropped_indexes::text FROM bench_meta")
        if row is not None and row[2] != "[]":
            _say("data set: recreating the indexes an interrupted load dropped")
            await _restore_indexes(conns)
        fingerprint = _fingerprint(scale)
        if row is not None and row[0] is not None and json.loads(row[0]) == fingerprint:
            _say(f"data set: reusing the loaded one ({scale.users:,} users)")
            return LoadInfo(reused=True, seconds=float(row[1]), phases={})
        if row is None and await conn.fetchval("SELECT EXISTS (SELECT FROM users)"):
            raise BenchError(
                "this database holds users the bench did not load; give the bench its own "
                "database (the default embedded one, or an empty --database-url)")
        _say(f"data set: loading {scale.users:,} users, {scale.clips:,} clips, "
             f"{scale.conversions + scale.whale_conversions:,} conversions")
        started = time.perf_counter()
        conns += [await _connect(url) for _ in range(_WORKERS - 1)]
        phases = await _load(conns, scale)
        seconds = time.perf_counter() - started
        await conn.execute(_FINISH, json.dumps(fingerprint), seconds)
        _say(f"data set: loaded in {seconds:.1f} s")
        return LoadInfo(reused=False, seconds=seconds, phases=phases)
    finally:
        for conn in conns:
            await conn.close()
