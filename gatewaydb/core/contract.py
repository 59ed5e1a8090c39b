"""The contract check: every declared statement, prepared against the live database.

Like sqlc, but at connect time against the real schema: each statement must prepare; its
result columns must match the fields of the model it maps to (names and types), or its one
column the scalar it returns; its parameters must match the Python types its caller passes;
and every PostgreSQL enum must have the Python enum's labels. Every difference is collected,
then raised together as :class:`~gatewaydb.errors.SchemaMismatchError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import BaseModel

from ..gateway.models import PG_ENUMS
from ._types import Shape, pg_accepts, shape_of
from .errors import SchemaMismatchError, SchemaProblem
from .query import Query, Returns, rows
from .registry import Registry

__all__ = ["check_contract"]

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy



class _EnumLabels(BaseModel):
    typname: str
    labels: list[str]


_ENUM_LABELS = rows("meta_enum_labels", _EnumLabels, list[str])


def _pg_type(t: Any) -> str:
    return f"{t.schema}.{t.name}" if t.schema not in ("pg_catalog", "public") else str(t.name)


def _element(t: Any) -> str | None:
    # asyncpg names array types "text[]"; the catalog names them "_text".
    if t.kind != "array":
        return None
    name = str(t.name)
    return name.removesuffix("[]") if name.endswith("[]") else name.removeprefix("_")


def _compare(statement: str, item: str, pg: Any, shape: Shape) -> list[SchemaProblem]:
    if pg_accepts(str(pg.name), str(pg.kind), shape, _element(pg)):
        return []
    return [SchemaProblem(statement, item, shape.describe(), _pg_type(pg))]


def _check_columns(query: Query[Any], attributes: Iterable[Any]) -> list[SchemaProblem]:
    found = {a.name: a.type for a in attributes}
    model = query.model
    if query.returns is Returns.STATUS:
        return []
    if model is None:
        if len(found) != 1:
            return [SchemaProblem(query.name, "result", "one column",
                                  f"{len(found)} columns ({', '.join(found) or 'none'})")]
        (name, pg), = found.items()
        return _compare(query.name, f"column {name}", pg, shape_of(query.result))
    problems: list[SchemaProblem] = []
    for field, info in model.model_fields.items():
        pg = found.get(field)
        if pg is None:
            problems.append(SchemaProblem(query.name, f"column {field}",
                                          shape_of(info.annotation).describe(), "missing"))
        else:
            problems += _compare(query.name, f"column {field}", pg, shape_of(info.annotation))
    problems += [SchemaProblem(query.name, f"column {name}",
                               f"no such field on {model.__name__}", _pg_type(pg))
                 for name, pg in found.items() if name not in model.model_fields]
    return problems


def _check_params(query: Query[Any], parameters: tuple[Any, ...]) -> list[SchemaProblem]:
    if len(parameters) != len(query.params):
        return [SchemaProblem(query.name, "parameters", f"{len(query.params)}",
                              f"{len(parameters)} (${len(parameters)} is the highest)")]
    problems: list[SchemaProblem] = []
    for number, (pg, annotation) in enumerate(zip(parameters, query.params, strict=True), 1):
        problems += _compare(query.name, f"${number}", pg, shape_of(annotation))
    return problems


async def check_contract(conn: Connection, registry: Registry,
                         queries: Mapping[str, Query[Any]]) -> None:
    """Check every query in ``queries`` on ``conn``.

    Raises:
        SchemaMismatchError: listing every problem found.
    """
    problems: list[SchemaProblem] = []
    for name, query in sorted(queries.items()):
        try:
            prepared = await conn.prepare(registry[name].sql)
        except asyncpg.PostgresError as exc:
            reason = exc.args[0] if exc.args else str(exc)
            problems.append(SchemaProblem(name, "statement", "prepares",
                                          f"{type(exc).__name__}: {reason}"))
            continue
        attributes = prepared.get_attributes()
        problems += _check_columns(query, attributes)
        problems += _check_params(query, prepared.get_parameters())
    problems += await _check_enums(conn, registry)
    if problems:
        raise SchemaMismatchError(problems)


async def _check_enums(conn: Connection, registry: Registry) -> list[SchemaProblem]:
    found = {r["typname"]: list(r["labels"]) for r in
             await conn.fetch(registry[_ENUM_LABELS.name].sql, list(PG_ENUMS))}
    problems: list[SchemaProblem] = []
    for pg_name, enum_cls in PG_ENUMS.items():
        expected = [m.value for m in enum_cls]
        actual = found.get(pg_name)
        if actual != expected:
            problems.append(SchemaProblem(f"enum {pg_name}", "labels", ", ".join(expected),
                                          ", ".join(actual) if actual else "missing"))
    return problems
