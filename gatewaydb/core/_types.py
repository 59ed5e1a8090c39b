"""Python annotations vs PostgreSQL types: the table the contract check compares with."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel

__all__ = ["Shape", "pg_accepts", "shape_of"]

_JSON_TYPES = frozenset({"json", "jsonb"})

# PostgreSQL scalar type name -> the Python types asyncpg exchanges for it.
_SCALARS: dict[str, tuple[type, ...]] = {
    "uuid": (UUID,),
    "text": (str,), "varchar": (str,), "bpchar": (str,), "name": (str,),
    "int2": (int,), "int4": (int,), "int8": (int,),
    "float4": (float,), "float8": (float,),
    "numeric": (Decimal,),
    "bool": (bool,),
    "timestamptz": (datetime,),
    "date": (date,),
    "bytea": (bytes,),
}


@dataclass(frozen=True, slots=True)
class Shape:
    """What a field or parameter annotation means for the database.

    ``kind`` is ``scalar`` (``base`` is the Python type), ``enum`` (``base`` is the Enum),
    ``json`` (a dict/list/nested model travels as JSON), or ``array`` (``item`` is the
    element's shape).
    """

    kind: str
    base: Any
    nullable: bool
    item: Shape | None = None
    nested_model: bool = False

    def describe(self) -> str:
        if self.kind == "array":
            text = f"{self.item.describe() if self.item else '?'}[]"
        elif self.kind == "json":
            text = "json"
        else:
            text = getattr(self.base, "__name__", str(self.base))
        return f"{text} | None" if self.nullable else text


def shape_of(annotation: Any) -> Shape:
    """Classify a type annotation (``X | None``, ``Annotated[...]``, ``list[...]``, ...)."""
    nullable = False
    origin = get_origin(annotation)
    while origin is Annotated:
        annotation = get_args(annotation)[0]
        origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(members) != len(get_args(annotation))
        inner = shape_of(members[0]) if len(members) == 1 else Shape("json", Any, False)
        return Shape(inner.kind, inner.base, nullable or inner.nullable, inner.item,
                     inner.nested_model)
    if origin in (list, tuple) and annotation is not Any:
        args = get_args(annotation)
        element = shape_of(args[0]) if args else Shape("json", Any, False)
        if element.kind in ("scalar", "enum"):
            return Shape("array", list, nullable, element)
        return Shape("json", list, nullable, nested_model=element.nested_model)
    if origin is dict or annotation in (dict, Any, object):
        return Shape("json", dict if origin is dict else Any, nullable)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Shape("json", annotation, nullable, nested_model=True)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Shape("enum", annotation, nullable)
    return Shape("scalar", annotation, nullable)


def pg_accepts(pg_type: str, pg_kind: str, shape: Shape, element_type: str | None = None) -> bool:
    """Whether a value of PostgreSQL type ``pg_type`` and Python ``shape`` fit each other."""
    if shape.kind == "json":
        return pg_type in _JSON_TYPES
    if shape.kind == "enum":
        # Any non-builtin type may be the enum; the contract check then compares its labels
        # with the Python enum's, which refuses anything that is not that enum.
        return pg_type not in _SCALARS and pg_type not in _JSON_TYPES
    if shape.kind == "array":
        return (pg_kind == "array" and element_type is not None and shape.item is not None
                and pg_accepts(element_type, "scalar", shape.item))
    accepted = _SCALARS.get(pg_type, ())
    return any(shape.base is t for t in accepted)
