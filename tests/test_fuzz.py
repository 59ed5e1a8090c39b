"""Every public method of ``Database``, driven with generated arguments (Hypothesis).

The methods are enumerated from the class, and each parameter's values are chosen by its
name (ids, emails, money, dates, JSON, ...; see ``fuzz_values.py``) with a fallback for any
name, so a method added later is driven too. Values are plausible (to get past the first
check) or hostile: wrong types, huge and NUL-bearing strings, lone surrogates, NaN and
infinities, naive datetimes, unknown enum labels, malformed UUIDs, deep or non-JSON documents.

The property, for every call: it succeeds or raises a gatewaydb error; after an error no
table changed (row counts and the newest row version, per table); no error's text repeats a
generated secret. One database serves the whole run; the calls run on an event loop in a
portal thread so that Hypothesis drives a plain function.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fuzz_values import BY_NAME, LIFECYCLE, RUN, SECRET, call_args, drive, public_methods
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatewaydb import Database, GatewayDBError

# FUZZ_EXAMPLES=300 makes a quick run while iterating (it then fails the count check).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5500"))
MIN_CASES = 5000

# Test-only SQL: per table, how many rows and the newest row version (any INSERT, UPDATE or
# DELETE changes one of the two). Fixed text, no input.
_FINGERPRINT = " ".join([
    "SELECT ARRAY[",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM users),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM assets),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM clips),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM predictions),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM campaigns),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM experiments),",
    "(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM conversions)",
    "]",
])


# -- the property ----------------------------------------------------------------------------

class StatementCounter(logging.Handler):
    """Counts the statements gatewaydb runs, by its query log (one DEBUG record each, failed
    ones and COPY included); cheaper per call than summarising ``db.stats()``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


STATEMENTS = StatementCounter()


async def _fingerprint(conn: asyncpg.Connection) -> list[str]:
    return list(await conn.fetchval(_FINGERPRINT))


async def check_call(db: Database, spare: Database, conn: asyncpg.Connection, method: str,
                     arguments: dict[str, Any]) -> None:
    # Nothing else writes to this database: the fingerprint after the last call is the one
    # before this call. A call that ran no statement (by the query log) cannot have written,
    # so it is not fingerprinted again.
    before = RUN.fingerprint
    ran = STATEMENTS.count
    target = spare if method in LIFECYCLE else db
    RUN.calls[method] += 1
    error: GatewayDBError | None = None
    try:
        with anyio.fail_after(30):
            await drive(getattr(target, method)(**arguments))
    except GatewayDBError as exc:  # any other exception fails the test as it is
        error = exc
    if STATEMENTS.count != ran:
        RUN.fingerprint = await _fingerprint(conn)
    if error is not None:
        RUN.errors[type(error).__name__] += 1
        assert SECRET not in str(error), f"{method} echoed a value: {error}"
        assert RUN.fingerprint == before, f"{method} wrote, then raised {error!r}"


async def _seed(db: Database) -> list[UUID]:
    user = await db.create_user(email="owner@example.com", name="Owner", api_key="gw_key_12345")
    asset = await db.create_asset(user.id, "v.mp4", "gs://bucket/v.mp4")
    clip = await db.create_clip(asset.id, 0, 15)
    campaign = await db.create_campaign(user.id, "c", "SALES", 100)
    experiment = await db.create_experiment(campaign.id, "e", [{"id": "a"}, {"id": "b"}])
    prediction = await db.create_prediction(clip.id, "v1")
    conversion = await db.create_conversion(campaign.id, "META", 5, datetime.now(UTC), "ext")
    return [user.id, asset.id, clip.id, campaign.id, experiment.id, prediction.id,
            conversion.id]


def test_every_public_method_has_values_for_every_parameter() -> None:
    # A parameter without a named strategy still gets junk; this only guards the table's
    # spelling against the signatures, so a renamed parameter is noticed.
    names = {p for m in public_methods() for p in inspect.signature(getattr(Database, m))
             .parameters if p not in ("self", "cls", "fields", "fn")}
    assert names <= set(BY_NAME), sorted(names - set(BY_NAME))


@pytest.mark.slow
def test_every_public_method_refuses_bad_input_with_a_gatewaydb_error(database_url: str) -> None:
    methods = public_methods()
    query_log = logging.getLogger("gatewaydb.query")
    level = query_log.level
    query_log.setLevel(logging.DEBUG)
    query_log.addHandler(STATEMENTS)
    query_log.propagate, propagate = False, query_log.propagate
    with start_blocking_portal("asyncio") as portal:
        db, spare, conn = portal.call(_open, database_url)
        try:
            RUN.ids[:] = portal.call(_seed, db)
            RUN.fingerprint = portal.call(_fingerprint, conn)
            started = time.perf_counter()
            _run_examples(portal, db, spare, conn, methods)
            elapsed = time.perf_counter() - started
        finally:
            portal.call(_close, db, spare, conn)
            query_log.removeHandler(STATEMENTS)
            query_log.setLevel(level)
            query_log.propagate = propagate
    total = sum(RUN.calls.values())
    print(f"\nfuzz: {total} calls of {len(methods)} methods in {elapsed:.1f} s "
          f"({RUN.seconds_in_calls:.1f} s in the calls); errors by class: {dict(RUN.errors)}")
    print("slowest:", [(m, round(t, 1)) for m, t in RUN.seconds.most_common(6)])
    assert total >= MIN_CASES
    assert set(RUN.calls) == set(methods), sorted(set(methods) - set(RUN.calls))


async def _open(url: str) -> tuple[Database, Database, asyncpg.Connection]:
    db = Database(url)
    await db.connect()
    spare = Database(url, check_schema=False)
    return db, spare, await asyncpg.connect(url)


async def _close(db: Database, spare: Database, conn: asyncpg.Connection) -> None:
    await conn.close()
    await spare.disconnect()
    await db.disconnect()


def _run_examples(portal: BlockingPortal, db: Database, spare: Database,
                  conn: asyncpg.Connection, methods: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), method=st.sampled_from(methods))
    def one_call(data: st.DataObject, method: str) -> None:
        arguments = data.draw(call_args(method), label="arguments")
        started = time.perf_counter()
        portal.call(check_call, db, spare, conn, method, arguments)
        RUN.seconds_in_calls += time.perf_counter() - started
        RUN.seconds[method] += time.perf_counter() - started

    one_call()
