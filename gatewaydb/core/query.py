"""Typed declarations that bind Python code to named SQL statements.

A declaration is a stub function, named like its ``-- name:`` statement, whose parameters are
the statement's ``$1..$n`` and whose decorator says, once, what the statement returns::

    @rows(Note)
    def list_notes(owner_id: UUID, skip: int = 0, take: int = 100) -> None:
        "A page of an owner's notes."

    notes = await db.run(list_notes(owner.id, take=10))     # list[Note], on db or tx alike

Calling a declaration does no I/O: it binds keywords and defaults as a call of the stub would
(a TypeError for a missing or unknown argument) and returns a :class:`Call` (the statement and
its arguments) that :meth:`Database.run` or :meth:`Transaction.run` executes. Its static type
follows the decorator — ``rows`` gives ``list[Model]``, ``row`` ``Model | None``, ``value``
the value type or None, ``command`` the status string — and mypy checks the arguments against
the stub's signature. The contract check proves the declared types against the live database
at connect.

Declarations live where their service puts them (a module, a class): nothing registers them
globally. A :class:`~gatewaydb.core.Database` runs exactly those passed as ``queries=``.
"""

from __future__ import annotations

import enum
import inspect
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, get_type_hints

from pydantic import BaseModel

from .errors import SQLRegistryError

__all__ = ["Call", "Query", "Returns", "collect", "command", "row", "rows", "value"]

P = ParamSpec("P")
R = TypeVar("R", covariant=True)
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_EMPTY = inspect.Parameter.empty


class Returns(enum.Enum):
    """How a statement's result reaches the caller (asyncpg's vocabulary)."""

    ROWS = "fetch"  # list of models
    ROW = "fetchrow"  # one model or None
    VALUE = "fetchval"  # one scalar or None
    STATUS = "execute"  # the command tag


class Query(Generic[R, P]):
    """A declared statement: its name, result kind and type, and its parameters.

    ``R`` is what running it gives; ``P`` the stub's parameters, so ``query(...)`` is
    type-checked like a call of the stub.
    """

    __slots__ = ("_arity", "_defaults", "_index", "_params", "_stub", "constraints",
                 "declared_at", "name", "redact", "result", "returns")

    def __init__(self, stub: Callable[..., object], returns: Returns, result: Any, *,
                 redact: bool = False, constraints: Mapping[str, str] | None = None) -> None:
        code = stub.__code__
        self.name: str = stub.__name__
        self.returns = returns
        self.result = result
        self.redact = redact
        #: Constraint name -> the field it guards, for errors this statement raises.
        self.constraints: Mapping[str, str] = dict(constraints or {})
        self.declared_at = f"{code.co_filename}:{code.co_firstlineno}"
        self._stub = stub
        parameters = inspect.signature(stub).parameters.values()
        odd = [p.name for p in parameters if p.kind is not p.POSITIONAL_OR_KEYWORD]
        if odd:
            raise SQLRegistryError(f"{self.declared_at}: {self.name}() declares {odd[0]!r} as "
                                   "*args, **kwargs, keyword- or positional-only: each "
                                   "parameter of a declaration is one $n, by position or name")
        self._index = {p.name: i for i, p in enumerate(parameters)}
        self._defaults = tuple(p.default for p in parameters)
        self._arity = len(self._defaults)
        self._params: tuple[Any, ...] | None = None

    @property
    def params(self) -> tuple[Any, ...]:
        """The Python types of ``$1..$n``, from the stub's annotations (resolved once)."""
        if self._params is None:
            hints = get_type_hints(self._stub)
            self._params = tuple(hints.get(name, Any) for name in self._index)
        return self._params

    @property
    def model(self) -> type[BaseModel] | None:
        """The Pydantic model rows map to, or None for scalar and status results."""
        result: Any = self.result
        if isinstance(result, type) and issubclass(result, BaseModel):
            return result
        return None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Call[R]:
        """The statement with these arguments, ready for ``db.run``/``tx.run`` (no I/O)."""
        if kwargs or len(args) != self._arity:
            return Call(self, self._bind(args, kwargs))
        return Call(self, args)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Keywords and defaults into ``$1..$n`` order, refused as a call of the stub would be.

        A few dict lookups: ``inspect.Signature.bind`` costs several microseconds a call.
        """
        if len(args) > self._arity:
            raise TypeError(f"{self.name}() takes {self._arity} arguments, got {len(args)}")
        values = [*args, *self._defaults[len(args):]]
        for key, given in kwargs.items():
            index = self._index.get(key)
            if index is None:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
            if index < len(args):
                raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
            values[index] = given
        missing = [name for name, v in zip(self._index, values, strict=True) if v is _EMPTY]
        if missing:
            raise TypeError(f"{self.name}() missing argument(s): {', '.join(missing)}")
        return tuple(values)

    def __repr__(self) -> str:
        return f"<{self.returns.name.lower()} {self.name} declared at {self.declared_at}>"


class Call(Generic[R]):
    """A declared statement bound to its arguments; run it with ``db.run(call)``."""

    __slots__ = ("args", "query")

    def __init__(self, query: Query[R, Any], args: tuple[Any, ...]) -> None:
        self.query = query
        self.args = args


def _declare(returns: Returns, result: Any, redact: bool,
             constraints: Mapping[str, str] | None) -> Callable[[Callable[..., object]], Any]:
    def declare(stub: Callable[..., object]) -> Any:
        return Query(stub, returns, result, redact=redact, constraints=constraints)
    return declare


def rows(model: type[M], *, redact: bool = False, constraints: Mapping[str, str] | None = None,
         ) -> Callable[[Callable[P, object]], Query[list[M], P]]:
    """Declare a statement returning any number of rows, each mapped to ``model``.

    Args:
        redact: keep its parameter values out of every log line (secrets).
        constraints: constraint name -> field, for the ``field`` of the errors it raises
            (``{"notes_title_key": "title"}``); by default a constraint names itself.
    """
    return _declare(Returns.ROWS, model, redact, constraints)


def row(model: type[M], *, redact: bool = False, constraints: Mapping[str, str] | None = None,
        ) -> Callable[[Callable[P, object]], Query[M | None, P]]:
    """Declare a statement returning at most one row, mapped to ``model`` (None for no row)."""
    return _declare(Returns.ROW, model, redact, constraints)


def value(result: type[T], *, redact: bool = False,
          constraints: Mapping[str, str] | None = None,
          ) -> Callable[[Callable[P, object]], Query[T | None, P]]:
    """Declare a statement returning one value: the first column of the first row, or None."""
    return _declare(Returns.VALUE, result, redact, constraints)


def command(*, redact: bool = False, constraints: Mapping[str, str] | None = None,
            ) -> Callable[[Callable[P, object]], Query[str, P]]:
    """Declare a statement run for its effect; running it gives the command tag."""
    return _declare(Returns.STATUS, type(None), redact, constraints)


def collect(sources: Iterable[object]) -> dict[str, Query[Any, Any]]:
    """Every declaration in ``sources``, by statement name.

    A source is a declaration, or anything whose attributes hold them (a module, a class).
    The same declaration reached twice counts once; two declarations of one name are refused.

    Raises:
        SQLRegistryError: naming both places a statement is declared.
    """
    found: dict[str, Query[Any, Any]] = {}
    for source in sources:
        members = ([source] if isinstance(source, Query)
                   else vars(source).values() if isinstance(source, type | types.ModuleType)
                   else None)
        if members is None:
            raise SQLRegistryError(f"queries= takes modules, classes or declarations, "
                                   f"not {type(source).__name__}")
        for member in members:
            if not isinstance(member, Query):
                continue
            other = found.setdefault(member.name, member)
            if other is not member:
                raise SQLRegistryError(f"{member.declared_at}: statement {member.name!r} is "
                                       f"already declared at {other.declared_at}")
    return found
