"""Rows → Pydantic models, fully validated, at the lowest cost measured.

``python -m bench.mapping`` times every option on 1,100 conversion rows (10 columns): per-row
``model_validate(dict(record))``, ``model_construct``, ``record_class`` with
``from_attributes``, PostgreSQL's ``json_agg`` + ``validate_json``, building models without
validation, and one ``TypeAdapter(list[Model])`` call over the rows as dicts. The last is the
cheapest *and* validates every value: Pydantic's Rust core loops over the rows, so the
per-row Python work is only the ``dict(zip(columns, record))``. Results are in README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from asyncpg import Record
from pydantic import BaseModel, TypeAdapter

__all__ = ["RowMapper", "mapper_for"]

M = TypeVar("M", bound=BaseModel)


class RowMapper(Generic[M]):
    """Validates records into ``model`` instances; raises pydantic's ValidationError."""

    __slots__ = ("_many", "_one")

    def __init__(self, model: type[M]) -> None:
        self._one = model.model_validate
        self._many: TypeAdapter[list[M]] = TypeAdapter(list[model])  # type: ignore[valid-type]

    def one(self, record: Record) -> M:
        """One record as a model."""
        return self._one(dict(record))

    def many(self, records: Sequence[Record]) -> list[M]:
        """Every record as a model, in one validator call."""
        if not records:
            return []
        names = tuple(records[0].keys())
        return self._many.validate_python([dict(zip(names, r, strict=True)) for r in records])


@cache
def mapper_for(model: type[Any]) -> RowMapper[Any]:
    """The (shared, stateless) mapper for ``model``."""
    return RowMapper(model)
