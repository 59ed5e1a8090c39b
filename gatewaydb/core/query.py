"""Typed declarations that bind Python code to named SQL statements.

Each domain module declares, next to the functions that use them, the statements it runs::

    _TOP_CLIPS = rows("get_top_clips", Clip, UUID, float, int)

A declaration carries the statement's name, what it returns (a model, a scalar type or
nothing) and the Python types of ``$1..$n``. The contract check proves these against the
live database; :func:`declared` lets the registry refuse statements no code uses.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from .errors import SQLRegistryError

__all__ = ["Query", "Returns", "command", "declared", "row", "rows", "value"]

T = TypeVar("T")


class Returns(enum.Enum):
    """How a statement's result reaches the caller (asyncpg's vocabulary)."""

    ROWS = "fetch"  # list of models
    ROW = "fetchrow"  # one model or None
    VALUE = "fetchval"  # one scalar or None
    STATUS = "execute"  # the command tag


@dataclass(frozen=True, slots=True, eq=False)
class Query(Generic[T]):
    """A named statement as Python code uses it."""

    name: str
    returns: Returns
    result: type[T]
    params: tuple[Any, ...]
    declared_at: str
    redact: bool = False

    @property
    def model(self) -> type[BaseModel] | None:
        """The Pydantic model rows map to, or None for scalar and status results."""
        result: Any = self.result
        if isinstance(result, type) and issubclass(result, BaseModel):
            return result
        return None


_DECLARED: dict[str, Query[Any]] = {}


def _declare(name: str, returns: Returns, result: type[T], params: tuple[Any, ...],
             redact: bool) -> Query[T]:
    caller = sys._getframe(2)
    where = f"{caller.f_code.co_filename}:{caller.f_lineno}"
    other = _DECLARED.get(name)
    if other is not None and other.declared_at != where:
        raise SQLRegistryError(f"{where}: statement {name!r} already declared at "
                               f"{other.declared_at}")
    query = Query(name, returns, result, params, where, redact)
    _DECLARED[name] = query
    return query


def rows(name: str, model: type[T], *params: Any, redact: bool = False) -> Query[T]:
    """A statement returning any number of rows, each mapped to ``model``.

    ``redact=True`` keeps its parameter values out of every log line (secrets).
    """
    return _declare(name, Returns.ROWS, model, params, redact)


def row(name: str, model: type[T], *params: Any, redact: bool = False) -> Query[T]:
    """A statement returning at most one row, mapped to ``model``."""
    return _declare(name, Returns.ROW, model, params, redact)


def value(name: str, result: type[T], *params: Any, redact: bool = False) -> Query[T]:
    """A statement returning one value (first column of the first row)."""
    return _declare(name, Returns.VALUE, result, params, redact)


def command(name: str, *params: Any, redact: bool = False) -> Query[None]:
    """A statement run for its effect; the caller gets the command tag."""
    return _declare(name, Returns.STATUS, type(None), params, redact)


def declared() -> dict[str, Query[Any]]:
    """Every declaration made so far (importing :mod:`gatewaydb.gateway.api` makes them all)."""
    return dict(_DECLARED)
