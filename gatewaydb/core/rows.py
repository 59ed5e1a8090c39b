"""Rows → Pydantic models, fully validated, at the lowest cost measured.

Every row is validated by Pydantic: each value against its field, every model complete. What
costs is not the validation but the objects made per row (``python -m bench.mapping``
measures every option on a day of conversions), so the mapper keeps those few:

- **One plain dict per row, made in C.** ``dict(zip(columns, record))`` is the cheapest
  mapping Pydantic's Rust core reads (~0.45 µs for 10 columns). Handing it the records
  themselves as a registered :class:`~collections.abc.Mapping` was measured slower (~1.9 against
  ~1.4 µs a row in all): Pydantic then asks ``isinstance(record, Mapping)`` per row, an ABC
  check in Python.
- **One validator call per result.** ``TypeAdapter(list[Model])`` loops over the rows in
  Rust, without a Python call per row.
- **No cyclic GC inside that call.** Building ~1,000 models allocates a few thousand tracked
  objects, which would trigger young-generation collections that traverse the half-built
  result again and again. The collector is paused for the duration of the one synchronous
  call that builds the dicts and the models (no other coroutine can run meanwhile) and put back
  as it was, even on error: global state is never left changed, and a process that turned GC
  off keeps it off.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
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
        self._one = model.__pydantic_validator__.validate_python
        self._many: TypeAdapter[list[M]] = TypeAdapter(list[model])  # type: ignore[valid-type]

    def one(self, record: Record | Mapping[str, Any]) -> M:
        """One record (or mapping) as a model."""
        return self._one(dict(record.items()))  # type: ignore[no-any-return]

    def many(self, records: Sequence[Record]) -> list[M]:
        """Every record as a model, in one validator call with the cyclic GC paused."""
        if not records:
            return []
        columns = tuple(records[0].keys())
        enabled = gc.isenabled()
        gc.disable()
        try:
            # Every record of one result has the same columns: nothing for strict= to check.
            return self._many.validate_python([dict(zip(columns, r, strict=False))
                                               for r in records])
        finally:
            if enabled:
                gc.enable()


@cache
def mapper_for(model: type[Any]) -> RowMapper[Any]:
    """The (shared, stateless) mapper for ``model``."""
    return RowMapper(model)
