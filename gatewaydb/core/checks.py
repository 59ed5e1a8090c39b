"""What PostgreSQL and JSON can hold, checked in Python before any SQL runs.

Two kinds of value reach the server unchanged and can fail there, or worse, silently change:

* **Text.** PostgreSQL ``text`` cannot hold U+0000, and a string with a lone surrogate
  (``"\\ud800"``) has no UTF-8 form at all, so the driver cannot even send it. Both are refused.
* **JSON.** JSON has no NaN or infinity (orjson would write ``null`` without a word), object
  keys are strings, and a number must fit the encoder's 64 bits. Only JSON's own types are
  accepted — ``dict``, ``list``/``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None`` —
  so that what is stored is what is read back (a ``datetime`` would come back as a string).

A third kind is the shape of a bulk load (:func:`check_copy`): ``copy_records``' table and
column names and the rows' lengths, which the driver would otherwise trip over mid-COPY.

Messages name the place, never the value: a refused value may be a secret.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .errors import DatabaseError, FieldError, InvalidInputError

__all__ = ["MAX_JSON_DEPTH", "MAX_NAME_LENGTH", "check_copy", "check_json", "check_text",
           "copy_refusal",
           "safe_name", "text_problem"]

#: PostgreSQL's identifier limit (NAMEDATALEN - 1): a longer name would be cut short by the
#: server and could name another table or column.
MAX_NAME_LENGTH = 63

#: Deepest nesting accepted in a JSON document (orjson's encoder stops at 255 levels; the
#: margin leaves room for the arrays and objects gatewaydb wraps documents in).
MAX_JSON_DEPTH = 128

# orjson encodes integers from -2**63 to 2**64 - 1 and refuses the rest.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1

_NOT_JSON = "is not a JSON value (dict, list, str, int, float, bool or None)"


def text_problem(value: str) -> str | None:
    """Why PostgreSQL text cannot hold ``value``, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters (U+0000)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (it holds a lone surrogate)"
    return None


def check_text(value: str) -> str:
    """``value``, or ValueError when PostgreSQL text cannot hold it (a Pydantic validator)."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def safe_name(part: object) -> str:
    """A key or field name fit to quote in an error message.

    Names come from the caller (unknown keyword arguments, JSON keys); one holding a lone
    surrogate would make the message itself unprintable, and a long one is likely data.
    """
    text = str(part)
    if len(text) <= 64 and text.isprintable() and text_problem(text) is None:
        return text
    return "<unprintable name>"


def _problems(document: Any) -> Iterator[tuple[int, str]]:
    """Each problem with the depth it is at (the document itself is at depth 0)."""
    # Iterative, not recursive: a deep document must be refused, not crash the checker.
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            yield depth, f"nests deeper than {MAX_JSON_DEPTH} levels"
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                yield depth, problem
        elif value is None or isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not _INT_MIN <= value <= _INT_MAX:
                yield depth, "is an integer outside the 64-bit range JSON is stored with"
        elif type(value) is float:  # orjson encodes float itself, no subclass
            if not math.isfinite(value):
                yield depth, "must be a finite number (JSON has no NaN or infinity)"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    yield depth, "has a key that is not a string (JSON keys are strings)"
                    continue
                problem = text_problem(key)
                if problem is not None:
                    yield depth, f"has a key that {problem}"
                    continue
                stack.append((item, depth + 1))
        elif isinstance(value, list) or type(value) is tuple:
            stack.extend((item, depth + 1) for item in value)
        else:
            yield depth, _NOT_JSON


def check_json(document: Any) -> Any:
    """``document``, or ValueError saying why it is not storable JSON (a Pydantic validator).

    Reports the first problem found and its depth, e.g. ``a value at depth 2 must be a finite
    number``. Not its path: keys are the caller's data as much as values are.
    """
    for depth, problem in _problems(document):
        raise ValueError(f"a value at depth {depth} {problem}" if depth else f"it {problem}")
    return document


def _name_problem(name: object) -> str | None:
    if not isinstance(name, str):
        return "must be a string (a table or column name)"
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters (PostgreSQL's identifier limit)"
    return text_problem(name)


def _row_problem(row: object, columns: Sequence[str]) -> str | None:
    # Once per row of a bulk load: tuples (what create_clips sends) take the short way.
    if type(row) is not tuple and (isinstance(row, str | bytes | bytearray | Mapping)
                                   or not isinstance(row, Sequence)):
        return "is not a sequence of values (a tuple or list, one value per column)"
    if len(row) != len(columns):
        return f"has {len(row)} values for {len(columns)} columns"
    # Rows of ids, numbers and documents (create_clips') hold no str: one C-level pass over
    # the values' types spares them the per-value loop. A str subclass is left to the
    # driver's encoder and the server, whose refusal copy_refusal reports just as well.
    if str not in map(type, row):
        return None
    for position, value in enumerate(row):
        if type(value) is str and ("\x00" in value or not value.isascii()):
            problem = text_problem(value)
            if problem is not None:
                return f"column {columns[position]}: {problem}"
    return None


def check_copy(table: object, columns: object, records: object,
               constraints: object = None) -> list[Sequence[Any]]:
    """``copy_records``' arguments checked before any SQL runs; returns the rows as a list.

    ``table`` and each of ``columns`` must be a name (a non-empty string of at most 63
    characters without NUL), the columns a non-empty list or tuple without repeats,
    ``records`` an iterable of rows (tuples or lists) with one value per column, every
    string among them storable as text, and ``constraints`` None or a mapping of strings.
    The types of the other values are the server's to judge (only it knows the columns').

    Raises:
        InvalidInputError: naming ``table``, ``columns``, ``records`` (with the row's index)
            or ``constraints``; never a value.
    """
    errors: list[FieldError] = []
    problem = _name_problem(table)
    if problem is not None:
        errors.append(FieldError("table", problem))
    names: list[str] = []
    if isinstance(columns, list | tuple) and columns:
        for index, column in enumerate(columns):
            problem = _name_problem(column)
            if problem is not None:
                errors.append(FieldError(f"columns[{index}]", problem))
            else:
                names.append(column)
        if len(set(names)) != len(names):
            errors.append(FieldError("columns", "names a column twice"))
    else:
        errors.append(FieldError("columns", "must be a non-empty list or tuple of column names"))
    if constraints is not None and not (
            isinstance(constraints, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in constraints.items())):
        errors.append(FieldError("constraints", "must be None or a mapping of constraint names "
                                                "to field names"))
    rows: list[Sequence[Any]] = []
    if isinstance(records, str | bytes | bytearray | Mapping) or not isinstance(records,
                                                                                  Iterable):
        errors.append(FieldError("records", "must be an iterable of rows (tuples or lists)"))
    elif not errors:  # rows are measured against well-formed columns only
        rows = list(records)
        for index, row in enumerate(rows):
            problem = _row_problem(row, names)
            if problem is not None:
                errors.append(FieldError(f"records[{index}]", problem))
                break  # one bad row is enough to refuse the load; the rest may be many
    if errors:
        raise InvalidInputError(errors)
    return rows


# The server's answer to a COPY into a table or column that does not exist: the arguments'.
_NO_SUCH = {"42P01": ("table", "no such table"),
            "42703": ("columns", "names a column the table does not have")}


def copy_refusal(error: DatabaseError) -> InvalidInputError | None:
    """The InvalidInputError a failed COPY's ``error`` stands for, or None when it is not one.

    What only the server or the driver can tell about ``copy_records``' arguments: a table or
    column that does not exist (the SQLSTATE kept), and a value the driver cannot encode for
    its column's type (asyncpg's ValueError/TypeError quotes the value; this says
    ``records`` without it). Nothing was written: the COPY did not start, or was aborted.
    """
    if type(error) is not DatabaseError:
        return None
    cause, sqlstate = error.__cause__, error.sqlstate
    if sqlstate in _NO_SUCH:
        return InvalidInputError([FieldError(*_NO_SUCH[sqlstate])], sqlstate=sqlstate)
    if sqlstate is None and isinstance(cause, ValueError | TypeError):
        return InvalidInputError([FieldError(
            "records", f"holds a value its column's type cannot store ({type(cause).__name__})")])
    return None
