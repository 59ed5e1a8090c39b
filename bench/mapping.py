"""``python -m bench.mapping``: what each way of turning rows into models costs.

The choice behind :mod:`gatewaydb.core.rows`, measured on one realistic result: a day of the
"whale" campaign, ~1,100 conversion rows of 10 columns (uuid, enum, numeric, timestamptz, ...).
Every option starts from the same prepared statement on the same connection and ends with the
same validated ``list[Conversion]`` (checked once, up front); the options run interleaved, so
drift hits them equally, and each is reported as a ratio to asyncpg's bare records.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter_ns
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from gatewaydb.core.registry import Registry
from gatewaydb.core.rows import RowMapper
from gatewaydb.gateway._paths import sql_dir
from gatewaydb.gateway.models import Conversion, ConversionSource

from .server import bench_database

ROWS = 1100
_SETUP_USER = ("INSERT INTO users (email) VALUES ('mapping-bench@example.com') "
               "ON CONFLICT DO NOTHING")
_SETUP_CAMPAIGN = ("INSERT INTO campaigns (user_id, name, objective, budget) "
                   "SELECT id, 'mapping', 'SALES', 1000 FROM users "
                   "WHERE email = 'mapping-bench@example.com' RETURNING id")
_SETUP_CONVERSIONS = (
    "INSERT INTO conversions (campaign_id, source, external_id, value, attributed_clip_id, "
    "\"timestamp\") SELECT $1::uuid, "
    "(ARRAY['META','GOOGLE','TIKTOK','MANUAL']::conversion_source[])[1 + n % 4], "
    "CASE WHEN n % 3 = 0 THEN NULL ELSE 'map-' || $1::text || '-' || n END, "
    "(n % 9973) / 100.0, NULL, timestamptz '2025-06-01' + n * interval '78 seconds' "
    "FROM generate_series(1, $2) AS n")
# The same rows as one JSON document built by PostgreSQL, for the validate_json option.
_AS_JSON = "SELECT coalesce(json_agg(c), '[]') FROM ({}) AS c"


class _MappingRecord(asyncpg.Record):
    """A record registered as a Mapping, so Pydantic reads it without a dict (an earlier
    gatewaydb's choice, kept here as the measurement that retired it)."""

    __slots__ = ()


Mapping.register(_MappingRecord)


class _AttrRecord(asyncpg.Record):
    """A record whose columns are attributes, for ``model_validate(from_attributes=True)``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


async def _load(conn: asyncpg.Connection) -> Any:
    await conn.execute(_SETUP_USER)
    campaign = await conn.fetchval(_SETUP_CAMPAIGN)
    await conn.execute(_SETUP_CONVERSIONS, campaign, ROWS)
    return campaign


def _unvalidated(columns: tuple[str, ...]) -> Callable[[asyncpg.Record], Conversion]:
    """Build the model without validation (what ``model_construct`` skips, done by hand)."""
    fields_set = set(columns)
    new, put = object.__new__, object.__setattr__

    def build(record: asyncpg.Record) -> Conversion:
        values = dict(zip(columns, record, strict=True))
        values["source"] = ConversionSource(values["source"])
        model = new(Conversion)
        put(model, "__dict__", values)
        put(model, "__pydantic_fields_set__", fields_set)
        put(model, "__pydantic_extra__", None)
        put(model, "__pydantic_private__", None)
        return model

    return build


def _options(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...],
             columns: tuple[str, ...]) -> dict[str, Callable[[], Awaitable[list[Any]]]]:
    mapper = RowMapper(Conversion)
    unvalidated = _unvalidated(columns)
    many = TypeAdapter(list[Conversion])
    json_sql = _AS_JSON.format(sql)

    async def records() -> list[Any]:
        return list(await conn.fetch(sql, *args))

    async def model_validate() -> list[Any]:
        return [Conversion.model_validate(dict(r)) for r in await conn.fetch(sql, *args)]

    async def model_construct() -> list[Any]:
        return [Conversion.model_construct(**dict(r)) for r in await conn.fetch(sql, *args)]

    async def from_attributes() -> list[Any]:
        rows = await conn.fetch(sql, *args, record_class=_AttrRecord)
        return [Conversion.model_validate(r, from_attributes=True) for r in rows]

    async def postgres_json() -> list[Any]:
        return many.validate_json(await conn.fetchval(json_sql, *args))

    async def no_validation() -> list[Any]:
        return [unvalidated(r) for r in await conn.fetch(sql, *args)]

    async def mapping_records() -> list[Any]:
        return many.validate_python(await conn.fetch(sql, *args, record_class=_MappingRecord))

    async def gatewaydb() -> list[Any]:
        return mapper.many(await conn.fetch(sql, *args))

    return {"asyncpg records (floor)": records, "model_validate(dict(r))": model_validate,
            "model_construct(**r)": model_construct,
            "record_class + from_attributes": from_attributes,
            "json_agg + validate_json": postgres_json,
            "no validation (__new__ + __dict__)": no_validation,
            "records as Mappings + TypeAdapter(list[M])": mapping_records,
            "dict(zip) + TypeAdapter(list[M]), GC paused (gatewaydb)": gatewaydb}


async def measure(url: str, rounds: int) -> dict[str, tuple[float, float]]:
    """Median and p99 (µs) of each option over ``rounds`` interleaved rounds."""
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec("json", schema="pg_catalog", format="text",
                                  encoder=str, decoder=str)  # raw text for validate_json
        campaign = await _load(conn)
        sql = Registry.load(sql_dir())["list_conversions"].sql
        prepared = await conn.prepare(sql)
        columns = tuple(a.name for a in prepared.get_attributes())
        args = await _window(conn, sql, campaign, prepared)
        options = _options(conn, sql, args, columns)
        reference = await options["model_validate(dict(r))"]()
        for name, option in options.items():  # every option yields the same models
            if name not in ("asyncpg records (floor)", "model_construct(**r)"):
                got = await option()
                assert got == reference, name
        samples: dict[str, list[int]] = {name: [] for name in options}
        for _ in range(rounds):
            for name, option in options.items():
                started = perf_counter_ns()
                await option()
                samples[name].append(perf_counter_ns() - started)
    finally:
        await conn.close()
    warm = rounds // 10
    return {name: (statistics.median(s[warm:]) / 1e3,
                   statistics.quantiles(s[warm:], n=100)[98] / 1e3)
            for name, s in samples.items()}


async def _window(conn: asyncpg.Connection, sql: str, campaign: Any,
                  prepared: asyncpg.prepared_stmt.PreparedStatement) -> tuple[Any, ...]:
    """list_conversions' arguments for the whole loaded day, in the statement's $n order."""
    count = len(prepared.get_parameters())
    args: list[Any] = [campaign] + [None] * (count - 1)
    rows = await conn.fetch(sql, *args)
    if len(rows) < ROWS:
        raise SystemExit(f"expected {ROWS} rows from list_conversions, got {len(rows)}")
    return tuple(args)


def format_table(results: dict[str, tuple[float, float]]) -> str:
    floor = results["asyncpg records (floor)"][0]
    lines = [f"{'mapping (1,100 conversion rows)':52} {'median µs':>10} {'p99 µs':>9} "
             f"{'× floor':>8} {'µs/row':>7}"]
    for name, (median, p99) in results.items():
        per_row = (median - floor) / ROWS
        lines.append(f"{name:52} {median:10.0f} {p99:9.0f} {median / floor:8.2f} {per_row:7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mapping", description=__doc__)
    parser.add_argument("--database-url", help="an empty, migrated or migratable database")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    with bench_database(args.database_url, "gatewaydb_mapping") as url:
        results = asyncio.run(measure(url, max(args.rounds, 10)))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
