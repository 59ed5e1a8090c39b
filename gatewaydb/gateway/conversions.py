"""Conversions reported by the ad platforms (SQL: ``sql/conversions.sql``).

Conversions are revenue records: never soft-deleted, and they keep their campaign from
being hard-deleted. They are visible while their campaign is live.

Recording is idempotent on ``(source, external_id)``: platforms redeliver events, and a
redelivery returns the row stored first and writes nothing, even if its other fields
differ (the first delivery wins; the platform's id names the event, not its payload).
Conversions without an ``external_id`` are never deduplicated.

Ranges are half-open, ``[start_date, end_date)``, in ``(timestamp, id)`` order, so that
consecutive ranges and keyset pages cover every row exactly once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from ..core.errors import FieldError, InvalidInputError
from . import queries as q
from ._base import DomainAPI, as_uuid, found, validate
from .models import Conversion, ConversionCursor, ConversionSource, NewConversion

__all__ = ["ConversionsAPI"]

MAX_TAKE = 10_000
MAX_CHUNK = 100_000

def _aware(value: Any, field: str) -> datetime | None:
    """``value`` if it is None or a timezone-aware datetime, else InvalidInputError."""
    if value is None or (isinstance(value, datetime) and value.utcoffset() is not None):
        return value
    raise InvalidInputError([FieldError(field, "must be a timezone-aware datetime")])


def _range(campaign_id: UUID | str, start_date: datetime | None,
           end_date: datetime | None) -> tuple[UUID, datetime | None, datetime | None]:
    key = as_uuid(campaign_id, "campaign_id")
    start, end = _aware(start_date, "start_date"), _aware(end_date, "end_date")
    if start is not None and end is not None and end < start:
        raise InvalidInputError([FieldError("end_date", "must not be before start_date")])
    return key, start, end


def _cursor(after: Conversion | ConversionCursor | None) -> ConversionCursor | None:
    if after is None:
        return None
    if isinstance(after, Conversion):
        return after.cursor
    if isinstance(after, tuple) and len(after) == 2:
        timestamp, id = after
        if timestamp is None:
            raise InvalidInputError([FieldError("after.timestamp",
                                                "must be a timezone-aware datetime")])
        return ConversionCursor(cast(datetime, _aware(timestamp, "after.timestamp")),
                                as_uuid(id, "after.id"))
    raise InvalidInputError([FieldError("after", "must be a Conversion or a ConversionCursor")])


def _positive(value: Any, field: str, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise InvalidInputError([FieldError(field, f"must be a whole number from 1 to {maximum}")])
    return value


class ConversionsAPI(DomainAPI):
    """Conversions: record idempotently, list a time range by keyset pages, stream one."""

    __slots__ = ()

    async def create_conversion(self, campaign_id: UUID | str | NewConversion,
                                source: ConversionSource | str | None = None,
                                value: Decimal | int | float | str | None = None,
                                timestamp: datetime | None = None,
                                external_id: str | None = None, currency: str = "USD",
                                attributed_clip_id: UUID | str | None = None) -> Conversion:
        """Record a conversion of a live campaign, once per ``(source, external_id)``.

        A redelivery (same source and external_id) writes nothing and returns the stored
        row unchanged, whatever its other fields say; concurrent deliveries of one event
        store one row and all get it back.

        Args:
            campaign_id: the campaign, or a complete :class:`NewConversion`.
            value: the amount, >= 0 with at most 2 decimal places.
            timestamp: when it happened; must be timezone-aware.
            currency: ISO 4217 code: three upper-case letters.

        Raises:
            InvalidInputError: a bad value (naive timestamp, negative value, unknown source,
                malformed currency, ...), named by field.
            NotFoundError: the campaign does not exist or is soft-deleted (and no stored
                conversion has this source and external_id).
            ForeignKeyError: ``attributed_clip_id`` names no clip.
        """
        data = campaign_id if isinstance(campaign_id, NewConversion) else validate(
            NewConversion, campaign_id=campaign_id, source=source, value=value,
            timestamp=timestamp, external_id=external_id, currency=currency,
            attributed_clip_id=attributed_clip_id)
        args = (data.campaign_id, data.source, data.value, data.timestamp, data.external_id,
                data.currency, data.attributed_clip_id)
        conversion = await self.run(q.create_conversion(*args))
        if conversion is None:
            # Either a concurrent delivery of this event committed after the statement's
            # snapshot (its INSERT skipped the row, its SELECT could not see it: a fresh
            # snapshot will), or the campaign is not live. Running it once more tells them
            # apart.
            conversion = await self.run(q.create_conversion(*args))
        return found(conversion, "campaign", data.campaign_id)

    async def list_conversions(self, campaign_id: UUID | str,
                               start_date: datetime | None = None,
                               end_date: datetime | None = None, *,
                               take: int | None = None,
                               after: Conversion | ConversionCursor | None = None,
                               ) -> list[Conversion]:
        """A live campaign's conversions in ``[start_date, end_date)``, by (timestamp, id).

        Page with ``take`` and ``after``: pass the last row of a page (or its ``.cursor``)
        as ``after`` to get the next one; each row comes exactly once, ties on timestamp
        included. A missing or deleted campaign has no conversions ([]).

        Args:
            start_date: inclusive lower bound (timezone-aware), or None for no bound.
            end_date: exclusive upper bound (timezone-aware), or None for no bound.
            take: at most this many rows, 1 to 10,000; None returns the whole range (to
                read a large range, :meth:`iter_conversions` keeps memory flat).
            after: a :class:`Conversion` or :class:`ConversionCursor`; only rows after it.

        Raises:
            InvalidInputError: a naive datetime, ``end_date`` before ``start_date``, a
                ``take`` out of range, a malformed cursor.
        """
        key, start, end = _range(campaign_id, start_date, end_date)
        cursor = _cursor(after)
        if take is not None:
            _positive(take, "take", MAX_TAKE)
        # One statement per lower-bound shape, each with its own generic plan. A cursor
        # before start_date is implied by it; one at or after start_date implies it.
        if cursor is None or (start is not None and cursor.timestamp < start):
            return await self.run(q.list_conversions(key, start, end, take))
        return await self.run(q.list_conversions_after_cursor(key, cursor.timestamp,
                                                              cursor.id, end, take))

    async def iter_conversions(self, campaign_id: UUID | str,
                               start_date: datetime | None = None,
                               end_date: datetime | None = None,
                               chunk_size: int = 1000) -> AsyncIterator[Conversion]:
        """Stream a live campaign's conversions in ``[start_date, end_date)``, any number.

        Rows come in (timestamp, id) order through a server-side cursor, ``chunk_size`` per
        round trip, so memory stays flat however large the range. On a :class:`Database`
        the stream holds one pooled connection (in a read-only transaction, one snapshot)
        until it is exhausted or closed; inside a transaction it uses the transaction's.

        Example::

            async for conversion in db.iter_conversions(campaign.id, start, end):
                total += conversion.value

        Raises:
            InvalidInputError: a naive datetime, ``end_date`` before ``start_date``, a
                ``chunk_size`` outside 1 to 100,000 — when iteration starts.
        """
        key, start, end = _range(campaign_id, start_date, end_date)
        _positive(chunk_size, "chunk_size", MAX_CHUNK)
        async for chunk in self.iterate(q.iter_conversions(key, start, end),
                                      chunk_size=chunk_size):
            for conversion in chunk:
                yield conversion
