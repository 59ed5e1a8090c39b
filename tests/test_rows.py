"""Rows → models: one dict per record, the cyclic GC paused only inside one call."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gatewaydb import Database
from gatewaydb.core.rows import RowMapper
from gatewaydb.gateway.models import Campaign, Conversion

pytestmark = pytest.mark.anyio

_ROWS = """
SELECT gen_random_uuid() AS id, $1::uuid AS campaign_id, 'META'::conversion_source AS source,
       CASE WHEN n % 2 = 0 THEN 'ext-' || n END AS external_id, n * 1.5 AS value,
       'USD' AS currency, NULL::uuid AS attributed_clip_id, now() AS "timestamp",
       now() AS created_at, now() AS updated_at
FROM generate_series(1, $2::int) AS n
"""


@pytest.fixture
def gc_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


async def test_records_map_like_dicts_and_gc_is_left_as_found(
        db: Database, campaign: Campaign, gc_restored: None) -> None:
    async with db.acquire() as conn:
        records = await conn.fetch(_ROWS, campaign.id, 50)
    mapper = RowMapper(Conversion)
    for state in (gc.enable, gc.disable):
        state()
        before = gc.isenabled()
        models = mapper.many(records)
        assert gc.isenabled() is before
    # The same models as Pydantic makes from one dict per row, field for field.
    assert models == [Conversion.model_validate(dict(r)) for r in records]
    assert mapper.one(records[0]) == models[0]
    assert {m.external_id is None for m in models} == {True, False}


async def test_a_bad_row_raises_and_gc_is_back_on(db: Database, campaign: Campaign,
                                                  gc_restored: None) -> None:
    async with db.acquire() as conn:
        # A NULL where the model requires a value: validation refuses it, GC back on.
        records = await conn.fetch(_ROWS.replace("'USD' AS currency", "NULL AS currency"),
                                   campaign.id, 3)
    gc.enable()
    with pytest.raises(ValidationError):
        RowMapper(Conversion).many(records)
    assert gc.isenabled()


def test_plain_records_or_none_still_work() -> None:
    assert RowMapper(Conversion).many([]) == []
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    row = {"id": "00000000-0000-0000-0000-000000000001",
           "campaign_id": "00000000-0000-0000-0000-000000000002", "source": "META",
           "external_id": None, "value": "1.50", "currency": "USD",
           "attributed_clip_id": None, "timestamp": stamp, "created_at": stamp,
           "updated_at": stamp}
    assert RowMapper(Conversion).one(row).source.value == "META"
