"""A 16-task mixed load for fault tests, and the checks every fault run ends with.

Each task loops over writes (conversions, each with a value no other attempt uses; click
increments), reads, a transaction and a stream, until told to stop. :class:`Tally` records
what was attempted, what was acknowledged, and every error by class; anything that is not a
gatewaydb error is kept whole, for the test to fail on.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import anyio
import asyncpg

from gatewaydb import Database, GatewayDBError, Transaction

__all__ = ["SEEDED", "FaultLoad", "Tally", "check_outcome", "loop_errors", "stored_conversions"]

# The stream reads this many conversions, seeded in the past so the load's own never join.
SEEDED = 30
_PAST = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class Tally:
    """What the load tried and what it was told."""

    clicks_attempted: int = 0
    clicks_acknowledged: int = 0
    conversions: dict[Decimal, bool] = field(default_factory=dict)  # value -> acknowledged
    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    foreign: list[BaseException] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.calls} calls, errors {dict(sorted(self.errors.items()))}, "
                f"{len(self.foreign)} non-gatewaydb")


class FaultLoad:
    """``tasks`` workers on ``db`` against one campaign, until :meth:`stop`."""

    def __init__(self, db: Database, campaign_id: UUID, *, tasks: int = 16) -> None:
        self.db = db
        self.campaign_id = campaign_id
        self.tasks = tasks
        self.tally = Tally()
        self._values = itertools.count(1)
        self._stopped = anyio.Event()

    @classmethod
    async def prepare(cls, db: Database, **kwargs: Any) -> FaultLoad:
        """A campaign with ``SEEDED`` past conversions for the stream to read."""
        user = await db.create_user(email="load@example.com")
        campaign = await db.create_campaign(user.id, "Load", "CONVERSIONS", 1000)
        for i in range(SEEDED):
            await db.create_conversion(campaign.id, "META", i, _PAST.replace(hour=i % 24,
                                                                             minute=i))
        return cls(db, campaign.id, **kwargs)

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            for worker in range(self.tasks):
                tg.start_soon(self._worker, worker)

    async def _worker(self, worker: int) -> None:
        steps = (self._convert, self._click, self._read, self._in_transaction, self._stream)
        for step in itertools.cycle(steps[worker % len(steps):] + steps[:worker % len(steps)]):
            if self._stopped.is_set():
                return
            self.tally.calls += 1
            try:
                await step()
            except GatewayDBError as exc:
                self.tally.errors[type(exc).__name__] += 1
                await anyio.sleep(0.01)  # an outage: do not spin
            except Exception as exc:
                self.tally.foreign.append(exc)

    def _next_value(self) -> Decimal:
        return Decimal(next(self._values)) / 100

    async def _convert(self) -> None:
        value = self._next_value()
        self.tally.conversions[value] = False
        await self.db.create_conversion(self.campaign_id, "GOOGLE", value, datetime.now(UTC))
        self.tally.conversions[value] = True

    async def _click(self) -> None:
        self.tally.clicks_attempted += 1
        await self.db.increment_campaign_metrics(self.campaign_id, clicks=1)
        self.tally.clicks_acknowledged += 1

    async def _read(self) -> None:
        assert await self.db.get_campaign_by_id(self.campaign_id) is not None
        await self.db.list_conversions(self.campaign_id, take=20)

    async def _in_transaction(self) -> None:
        value = self._next_value()
        self.tally.conversions[value] = False

        async def body(tx: Transaction) -> None:
            await tx.get_campaign_by_id(self.campaign_id)
            await tx.create_conversion(self.campaign_id, "TIKTOK", value, datetime.now(UTC))

        await self.db.transaction(body)
        self.tally.conversions[value] = True

    async def _stream(self) -> None:
        rows = [c async for c in self.db.iter_conversions(
            self.campaign_id, _PAST, _PAST.replace(year=2021), chunk_size=7)]
        assert len(rows) == SEEDED


async def stored_conversions(url: str, campaign_id: UUID) -> Counter[Decimal]:
    """How many rows each of the load's conversion values has (the seeded ones left out)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT value, count(*) AS n FROM conversions "
                                "WHERE campaign_id = $1 AND \"timestamp\" >= $2 "
                                "GROUP BY value", campaign_id, _PAST.replace(year=2021))
        return Counter({r["value"]: r["n"] for r in rows})
    finally:
        await conn.close()


def check_outcome(tally: Tally, stored: Counter[Decimal], clicks: int) -> None:
    """Only gatewaydb errors; acknowledged writes stored once; nothing stored twice."""
    assert tally.foreign == [], tally.foreign[:5]
    for value, acknowledged in tally.conversions.items():
        assert stored[value] <= 1, f"conversion {value} stored {stored[value]} times"
        if acknowledged:
            assert stored[value] == 1, f"acknowledged conversion {value} is missing"
    assert tally.clicks_acknowledged <= clicks <= tally.clicks_attempted


@contextmanager
def loop_errors() -> Iterator[list[str]]:
    """Every message the running loop's exception handler gets (unretrieved futures, ...)."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    seen: list[str] = []
    loop.set_exception_handler(lambda _, context: seen.append(str(context.get("message"))))
    try:
        yield seen
        gc.collect()  # unretrieved exceptions are reported when their future is collected
    finally:
        loop.set_exception_handler(previous)
