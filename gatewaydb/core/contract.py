"""The contract check: every declared statement, prepared against the live database.

Like sqlc, but at connect time against the real schema: each statement must prepare; its
result columns must match the fields of the model it maps to (names and types), or its one
column the scalar it returns; its parameters must match the types of its declaration; and
every PostgreSQL enum a declaration maps to a Python enum must have that enum's labels. Every
difference is collected, with the statement's file and line, then raised together as
:class:`~gatewaydb.errors.SchemaMismatchError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ._types import Shape, pg_accepts, shape_of
from .errors import SchemaMismatchError, SchemaProblem
from .meta import meta_enum_labels
from .query import Query, Returns
from .registry import Registry

__all__ = ["check_contract"]

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy


def _pg_type(t: Any) -> str:
    return f"{t.schema}.{t.name}" if t.schema not in ("pg_catalog", "public") else str(t.name)


def _element(t: Any) -> str | None:
    # asyncpg names array types "text[]"; the catalog names them "_text".
    if t.kind != "array":
        return None
    name = str(t.name)
    return name.removesuffix("[]") if name.endswith("[]") else name.removeprefix("_")


class _Check:
    """The problems found so far, and each PostgreSQL enum with the Python enums it maps to."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.problems: list[SchemaProblem] = []
        # PostgreSQL enum name -> (Python enum, where a declaration maps them) by enum.
        self.enums: dict[str, dict[Any, str]] = {}

    def problem(self, query: Query[Any, Any], item: str, expected: str, actual: str) -> None:
        origin = self.registry[query.name].origin if query.name in self.registry else ""
        self.problems.append(SchemaProblem(query.name, item, expected, actual, origin))

    def compare(self, query: Query[Any, Any], item: str, pg: Any, shape: Shape) -> None:
        element = _element(pg)
        if not pg_accepts(str(pg.name), str(pg.kind), shape, element):
            self.problem(query, item, shape.describe(), _pg_type(pg))
            return
        enum_type, enum_shape = ((element, shape.item) if shape.kind == "array"
                                 else (str(pg.name), shape))
        if enum_shape is not None and enum_shape.kind == "enum" and enum_type is not None:
            origin = self.registry[query.name].origin if query.name in self.registry else ""
            self.enums.setdefault(enum_type, {}).setdefault(enum_shape.base, origin)

    def columns(self, query: Query[Any, Any], attributes: Iterable[Any]) -> None:
        found = {a.name: a.type for a in attributes}
        model = query.model
        if query.returns is Returns.STATUS:
            return
        if model is None:
            if len(found) != 1:
                self.problem(query, "result", "one column",
                             f"{len(found)} columns ({', '.join(found) or 'none'})")
                return
            (name, pg), = found.items()
            self.compare(query, f"column {name}", pg, shape_of(query.result))
            return
        for field, info in model.model_fields.items():
            pg = found.get(field)
            if pg is None:
                self.problem(query, f"column {field}", shape_of(info.annotation).describe(),
                             "missing")
            else:
                self.compare(query, f"column {field}", pg, shape_of(info.annotation))
        for name, pg in found.items():
            if name not in model.model_fields:
                self.problem(query, f"column {name}", f"no such field on {model.__name__}",
                             _pg_type(pg))

    def params(self, query: Query[Any, Any], parameters: tuple[Any, ...]) -> None:
        declared = query.params
        if len(parameters) != len(declared):
            self.problem(query, "parameters", f"{len(declared)}",
                         f"{len(parameters)} (${len(parameters)} is the highest)")
            return
        for number, (pg, annotation) in enumerate(zip(parameters, declared, strict=True), 1):
            self.compare(query, f"${number}", pg, shape_of(annotation))

    async def enum_labels(self, conn: Connection) -> None:
        if not self.enums:
            return
        found = {r["typname"]: list(r["labels"]) for r in
                 await conn.fetch(self.registry[meta_enum_labels.name].sql, list(self.enums))}
        for pg_name, mapped in sorted(self.enums.items()):
            actual = found.get(pg_name)
            for enum_cls, origin in mapped.items():
                expected = [m.value for m in enum_cls]
                if actual != expected:
                    self.problems.append(SchemaProblem(
                        f"enum {pg_name}", "labels", ", ".join(expected),
                        ", ".join(actual) if actual else "missing", origin))


async def check_contract(conn: Connection, registry: Registry,
                         queries: Mapping[str, Query[Any, Any]]) -> None:
    """Check every query in ``queries`` on ``conn``.

    Raises:
        SchemaMismatchError: listing every problem found, each with its statement's origin.
    """
    check = _Check(registry)
    for name, query in sorted(queries.items()):
        try:
            prepared = await conn.prepare(registry[name].sql)
        except asyncpg.PostgresError as exc:
            reason = exc.args[0] if exc.args else str(exc)
            check.problem(query, "statement", "prepares", f"{type(exc).__name__}: {reason}")
            continue
        check.columns(query, prepared.get_attributes())
        check.params(query, prepared.get_parameters())
    await check.enum_labels(conn)
    if check.problems:
        raise SchemaMismatchError(check.problems)
