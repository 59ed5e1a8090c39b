"""What every domain module shares: the core's public seam and argument validation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from ..core import Call
from ..core.checks import safe_name, text_problem
from ..core.errors import FieldError, InvalidInputError, NotFoundError

__all__ = ["DomainAPI", "as_bool", "as_enum", "as_text", "as_uuid", "found", "validate",
           "validate_page", "validate_update"]

InputT = TypeVar("InputT", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

MAX_TAKE = 1000
#: OFFSET is a bigint.
MAX_SKIP = 2**63 - 1


class DomainAPI:
    """Base of the per-domain method sets composed into ``Database`` and ``Transaction``.

    The methods below are the core's public seam, the same a service uses; the core's
    ``Database`` (one pooled connection per call) or ``Transaction`` (its connection)
    provides them, ahead of this class in the method order. Each domain method validates
    its arguments, then runs declared statements through them.
    """

    __slots__ = ()

    def run(self, call: Call[R]) -> Coroutine[Any, Any, R]:
        """:meth:`gatewaydb.core.Database.run` / :meth:`gatewaydb.core.Transaction.run`."""
        raise NotImplementedError

    def iterate(self, call: Call[list[M]], *,
                chunk_size: int = 1000) -> AsyncIterator[list[M]]:
        """:meth:`gatewaydb.core.Database.iterate` (or the transaction's)."""
        raise NotImplementedError

    async def copy_records(self, table: str, columns: Sequence[str],
                           records: Iterable[Sequence[Any]], *,
                           constraints: Mapping[str, str] | None = None) -> int:
        """:meth:`gatewaydb.core.Database.copy_records` (or the transaction's)."""
        raise NotImplementedError

    async def _delete(self, soft_delete: Callable[[UUID], Call[UUID | None]],
                      hard_delete: Callable[[UUID], Call[UUID | None]], soft: bool,
                      entity: str, id: UUID | str) -> None:
        """Run the soft or the hard delete (each returns the id it removed, or no row)."""
        deleted = await self.run(
            (soft_delete if as_bool(soft, "soft") else hard_delete)(as_uuid(id)))
        found(deleted, entity, id)


def found(value: T | None, entity: str, key: object) -> T:
    """``value``, or NotFoundError for ``entity`` ``key`` when a statement matched no row."""
    if value is None:
        raise NotFoundError(entity, key)
    return value


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors as field names and reasons, without the offending values."""
    return [FieldError(".".join(safe_name(p) for p in e["loc"]) or "input", e["msg"])
            for e in exc.errors(include_url=False, include_input=False, include_context=False)]


def validate(model: type[InputT], /, **fields: Any) -> InputT:
    """``model(**fields)``, or InvalidInputError naming each bad field.

    The ValidationError is not chained: its text repeats the input values, and an API key
    must never reach a traceback.
    """
    try:
        return model(**fields)
    except ValidationError as exc:
        errors = field_errors(exc)
    raise InvalidInputError(errors)


def validate_update(model: type[InputT], update: object, fields: Mapping[str, Any],
                    name: str = "update") -> InputT:
    """The update an ``update_*`` method was given, as ``model``.

    Accepts exactly one of: ``update`` as an instance of ``model``, ``update`` as a mapping
    of its fields (``update_user(id, {"name": "Ann"})``, as ``create_clips`` accepts items),
    or the fields as keyword arguments. Anything else is InvalidInputError naming ``name``.
    """
    if update is None:
        return validate(model, **fields)
    if fields:
        raise InvalidInputError([FieldError(
            name, "give the update either as one object or as keyword arguments, not both")])
    if isinstance(update, model):
        return update
    if isinstance(update, Mapping):
        try:
            return model.model_validate(dict(update))
        except ValidationError as exc:
            errors = field_errors(exc)
        raise InvalidInputError(errors)
    raise InvalidInputError([FieldError(
        name, f"must be a {model.__name__} or a mapping of its fields")])


def as_text(value: object, field: str) -> str:
    """``value`` if it is a string PostgreSQL text can hold, else InvalidInputError."""
    if not isinstance(value, str):
        raise InvalidInputError([FieldError(field, "must be a string")])
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInputError([FieldError(field, problem)])
    return value


def as_bool(value: object, field: str) -> bool:
    """``value`` if it is a bool; a truthy string such as ``"false"`` must not pick a branch."""
    if not isinstance(value, bool):
        raise InvalidInputError([FieldError(field, "must be True or False")])
    return value


def as_uuid(value: UUID | str, field: str = "id") -> UUID:
    """``value`` as a UUID (a UUID or its string), or InvalidInputError naming ``field``."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidInputError([FieldError(field, "must be a UUID")])


def as_enum(enum: type[E], value: E | str | None, field: str) -> E | None:
    """``value`` as a member of ``enum`` (the member or its label), None passes through."""
    if value is None or isinstance(value, enum):
        return value
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    # Raised here, not from an except block: the ValueError would carry the value along.
    labels = ", ".join(m.value for m in enum)
    raise InvalidInputError([FieldError(field, f"must be one of {labels}")])


def validate_page(skip: int, take: int) -> None:
    """Refuse pagination outside ``skip >= 0`` and ``1 <= take <= 1000``."""
    errors = []
    if not isinstance(skip, int) or isinstance(skip, bool) or not 0 <= skip <= MAX_SKIP:
        errors.append(FieldError("skip", "must be a whole number from 0 to 2**63 - 1"))
    if not isinstance(take, int) or isinstance(take, bool) or not 1 <= take <= MAX_TAKE:
        errors.append(FieldError("take", f"must be a whole number from 1 to {MAX_TAKE}"))
    if errors:
        raise InvalidInputError(errors)
