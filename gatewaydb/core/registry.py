"""The SQL registry: a service's ``*.sql`` files parsed once into named statements.

A file holds statements like this one; the comment lines after the name are its docstring,
and the SQL runs unchanged in psql with ``$1..$n`` parameters::

    -- name: list_notes
    -- A page of an owner's notes, oldest first.
    SELECT id, title, ... FROM notes WHERE owner_id = $1 ORDER BY id OFFSET $2 LIMIT $3;

The parser refuses, naming file and line: text before the first ``-- name:``, a malformed or
duplicate name (in one file or across files), an empty statement, or two statements under one
name. :meth:`Registry.check_bound` refuses statements no code uses and names used with no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SQLRegistryError

__all__ = ["Registry", "Statement", "parse_sql"]

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>\S*)\s*$")
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Comments and quoted text, so that ';' or '--' inside them is not taken for syntax.
_TOKENS = re.compile(
    r"(?P<comment>--[^\n]*)|(?P<block>/\*.*?\*/)|(?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)"
    r"|(?P<string>'(?:[^']|'')*')|(?P<ident>\"(?:[^\"]|\"\")*\")|(?P<semi>;)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Statement:
    """One named SQL statement and where it came from."""

    name: str
    sql: str
    doc: str
    path: Path
    line: int

    @property
    def origin(self) -> str:
        """``file:line`` of the statement's ``-- name:`` line."""
        return f"{self.path}:{self.line}"


def _without_comments(sql: str) -> str:
    return _TOKENS.sub(
        lambda m: " " if m.lastgroup in ("comment", "block") else m.group(0), sql).strip()


def _finish(name: str, doc: list[str], body: list[str], path: Path, line: int) -> Statement:
    sql = "\n".join(body).strip()
    semis = [m.start() for m in _TOKENS.finditer(sql) if m.lastgroup == "semi"]
    if semis:
        if _without_comments(sql[semis[0] + 1:]):
            raise SQLRegistryError(
                f"{path}:{line}: {name!r} holds more than one SQL statement; give each its "
                "own '-- name:'")
        sql = sql[: semis[0]].rstrip()
    if not _without_comments(sql):
        raise SQLRegistryError(f"{path}:{line}: statement {name!r} is empty")
    return Statement(name=name, sql=sql, doc="\n".join(doc).strip(), path=path, line=line)


def parse_sql(text: str, path: Path) -> list[Statement]:
    """Parse one file's text into its statements, in file order."""
    statements: list[Statement] = []
    name: str | None = None
    start = 0
    doc: list[str] = []
    body: list[str] = []
    in_doc = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        match = _NAME_LINE.match(line.strip())
        if match:
            if name is not None:
                statements.append(_finish(name, doc, body, path, start))
            name, start, doc, body, in_doc = match["name"], number, [], [], True
            if not _VALID_NAME.match(name):
                raise SQLRegistryError(
                    f"{path}:{number}: bad statement name {name!r} (use snake_case)")
            continue
        if name is None:
            if line.strip() and not line.strip().startswith("--"):
                raise SQLRegistryError(f"{path}:{number}: SQL before the first '-- name:' line")
            continue
        if in_doc and line.strip().startswith("--"):
            doc.append(line.strip()[2:].strip())
            continue
        in_doc = False
        body.append(line)
    if name is not None:
        statements.append(_finish(name, doc, body, path, start))
    return statements


class Registry(Mapping[str, Statement]):
    """An immutable name → :class:`Statement` map built from a directory of ``.sql`` files."""

    __slots__ = ("_statements",)

    def __init__(self, statements: Iterable[Statement]) -> None:
        table: dict[str, Statement] = {}
        for stmt in statements:
            other = table.get(stmt.name)
            if other is not None:
                raise SQLRegistryError(
                    f"{stmt.origin}: statement {stmt.name!r} is already defined at {other.origin}")
            table[stmt.name] = stmt
        self._statements = table

    @classmethod
    def load(cls, *directories: Path | str) -> Registry:
        """Parse every ``*.sql`` file of each directory (each sorted by name).

        A name defined twice, in one directory or across two, is refused with both places.
        """
        files: list[Path] = []
        for directory in map(Path, directories):
            found = sorted(directory.glob("*.sql"))
            if not found:
                raise SQLRegistryError(f"{directory}: no .sql files")
            files += found
        return cls(stmt for path in files
                   for stmt in parse_sql(path.read_text(encoding="utf-8"), path))

    def check_bound(self, used: Mapping[str, str]) -> None:
        """Refuse statements that no code uses and names that code uses but no file defines.

        ``used`` maps each statement name used by code to where it is used (for the message).
        """
        problems = [f"{stmt.origin}: statement {name!r} is not used by any code"
                    for name, stmt in self._statements.items() if name not in used]
        problems += [f"{where}: uses statement {name!r}, which no .sql file defines"
                     for name, where in used.items() if name not in self._statements]
        if problems:
            raise SQLRegistryError("\n".join(sorted(problems)))

    def __getitem__(self, name: str) -> Statement:
        try:
            return self._statements[name]
        except KeyError:
            raise SQLRegistryError(
                f"no statement named {name!r} ({len(self._statements)} loaded)") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._statements)

    def __len__(self) -> int:
        return len(self._statements)
