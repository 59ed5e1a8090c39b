"""Rows → Pydantic models.

Two mappers, chosen per statement when the database connects:

* ``validating``: ``model.model_validate(dict(record))`` — Pydantic checks every value. Used
  when the contract check did not run, and for models with nested models (their JSON needs
  parsing into models).
* ``trusted``: builds the model without re-validating each value, as ``model_construct`` does
  but without its per-field Python loop. Sound only because the contract check proved, at
  connect, that every column's PostgreSQL type is the field's type; what that proof cannot
  cover is still checked per row — NULL in a non-nullable field, an enum label, a JSON
  column's top-level type — and any surprise falls back to full validation, which raises.

``bench/`` measures both against bare asyncpg records (see README, "Rows to models").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from asyncpg import Record
from pydantic import BaseModel

from ._types import shape_of

__all__ = ["Mapper", "trusted_mapper", "validating_mapper"]

M = TypeVar("M", bound=BaseModel)
Mapper = Callable[[Record], M]

_new = object.__new__
_set = object.__setattr__


def validating_mapper(model: type[M]) -> Mapper[M]:
    """Map each record through Pydantic validation."""
    validate = model.model_validate

    def map_validated(record: Record) -> M:
        return validate(dict(record))

    return map_validated


def can_trust(model: type[BaseModel]) -> bool:
    """Whether the trusted mapper can build ``model`` (no nested models to parse)."""
    return not any(shape_of(f.annotation).nested_model for f in model.model_fields.values())


def trusted_mapper(model: type[M], columns: Sequence[str]) -> Mapper[M]:
    """Build ``model`` straight from records whose ``columns`` were proven to fit it."""
    names = tuple(columns)
    # Shared by every instance: result models are frozen, so nothing adds to it.
    fields_set = set(names)
    validate = model.model_validate
    shapes = [shape_of(model.model_fields[name].annotation) for name in names]
    required = [names[i] for i, s in enumerate(shapes) if not s.nullable]
    # itemgetter gathers the non-nullable values in C (from the dict: a Record's own lookups
    # cost more); repeating the first name keeps the result a tuple when there is one.
    pick_required = itemgetter(*required, *required[:1]) if required else (lambda _: ())
    enums: tuple[tuple[str, dict[Any, Any]], ...] = tuple(
        (names[i], dict(s.base._value2member_map_)) for i, s in enumerate(shapes)
        if s.kind == "enum")
    json_types: tuple[tuple[str, type], ...] = tuple(
        (names[i], s.base) for i, s in enumerate(shapes)
        if s.kind == "json" and isinstance(s.base, type))

    def map_trusted(record: Record) -> M:
        values = dict(zip(names, record, strict=True))
        if None in pick_required(values):
            return validate(values)  # raises: a NULL where the model allows none
        for name, members in enums:
            label = values[name]
            if label is not None:
                member = members.get(label)
                if member is None:
                    return validate(values)
                values[name] = member
        for name, expected in json_types:
            found = values[name]
            if found is not None and type(found) is not expected:
                return validate(values)
        instance = _new(model)
        _set(instance, "__dict__", values)
        _set(instance, "__pydantic_fields_set__", fields_set)
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance

    return map_trusted
