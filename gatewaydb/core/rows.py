"""Rows → Pydantic models, fully validated, at the lowest cost measured.

Every row is validated by Pydantic: each value against its field, every model complete. What
costs is not the validation but the objects made per row (``bench/mapping.py`` and the notes in
README.md measure it), so the mapper keeps those to the model itself:

- **No intermediate dict.** The pool's records are :class:`MappingRecord`, an
  :class:`asyncpg.Record` registered as a :class:`~collections.abc.Mapping`, so Pydantic's Rust
  core reads each field straight from the record (``record["id"]``) instead of from a
  ``dict(zip(columns, record))`` built and thrown away per row. A plain Record still works
  (through a dict), e.g. from a pool made elsewhere.
- **One validator call per result.** ``TypeAdapter(list[Model])`` loops over the rows in
  Rust, without a Python call per row.
- **No cyclic GC inside that call.** Building ~1,000 models allocates ~2,000 tracked objects,
  which would trigger a few young-generation collections that traverse the half-built result
  again and again. The collector is paused for the duration of the one synchronous validator
  call (no other coroutine can run meanwhile) and put back as it was, even on error: global
  state is never left changed, and a process that turned GC off keeps it off.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from asyncpg import Record
from pydantic import BaseModel, TypeAdapter

__all__ = ["MappingRecord", "RowMapper", "mapper_for"]

M = TypeVar("M", bound=BaseModel)


class MappingRecord(Record):
    """An asyncpg record that Pydantic validates as a mapping (``record_class=`` of the pool).

    Behaves exactly like :class:`asyncpg.Record`; only ``isinstance(r, Mapping)`` is true.
    """

    __slots__ = ()


# Registration affects this subclass only, never asyncpg.Record itself.
Mapping.register(MappingRecord)


class RowMapper(Generic[M]):
    """Validates records into ``model`` instances; raises pydantic's ValidationError."""

    __slots__ = ("_many", "_one")

    def __init__(self, model: type[M]) -> None:
        self._one = model.__pydantic_validator__.validate_python
        self._many: TypeAdapter[list[M]] = TypeAdapter(list[model])  # type: ignore[valid-type]

    def one(self, record: Record) -> M:
        """One record as a model."""
        value: Any = record if isinstance(record, MappingRecord) else dict(record)
        return self._one(value)  # type: ignore[no-any-return]

    def many(self, records: Sequence[Record]) -> list[M]:
        """Every record as a model, in one validator call with the cyclic GC paused."""
        if not records:
            return []
        rows: Sequence[Any] = records
        if not isinstance(records[0], MappingRecord):
            names = tuple(records[0].keys())
            rows = [dict(zip(names, r, strict=True)) for r in records]
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._many.validate_python(rows)
        finally:
            if enabled:
                gc.enable()


@cache
def mapper_for(model: type[Any]) -> RowMapper[Any]:
    """The (shared, stateless) mapper for ``model``."""
    return RowMapper(model)
