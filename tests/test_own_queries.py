"""A service's own statements on the core alone: notes_service (its own schema, SQL, models and
declarations) on a database with no Gateway table, then every way its SQL and code can disagree.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from notes_service import SCHEMA, SQL_DIR, queries
from notes_service.models import Note, Priority

from gatewaydb import ConflictError, SchemaMismatchError
from gatewaydb.core import Database, row
from gatewaydb.core.errors import InterfaceError, SQLRegistryError

pytestmark = pytest.mark.anyio


@pytest.fixture
async def notes_url(empty_database_url: str) -> str:
    """A database holding only the notes service's schema."""
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()
    return empty_database_url


@pytest.fixture
async def db(notes_url: str) -> AsyncIterator[Database]:
    async with Database(notes_url, sql_paths=[SQL_DIR], queries=[queries]) as database:
        yield database


def _line_of(name: str) -> int:
    """The line of ``-- name: <name>`` in the service's notes.sql."""
    lines = (SQL_DIR / "notes.sql").read_text(encoding="utf-8").splitlines()
    return lines.index(f"-- name: {name}") + 1


def _sql_copy(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """The service's SQL directory, copied, with ``old`` replaced by ``new``."""
    target = tmp_path / "sql"
    shutil.copytree(SQL_DIR, target)
    path = target / "notes.sql"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


async def test_the_core_runs_a_service_with_no_gateway_schema(db: Database) -> None:
    note = await db.run(queries.create_note("first", tags=["a", "b"]))
    assert isinstance(note, Note)
    assert (note.title, note.priority, note.tags) == ("first", Priority.LOW, ["a", "b"])
    assert await db.run(queries.get_note(note.id)) == note
    assert await db.run(queries.get_note(id=-1)) is None
    await db.run(queries.create_note(title="second", priority=Priority.HIGH))
    assert [n.title for n in await db.run(queries.list_notes(Priority.HIGH))] == ["second"]
    assert [n.title for n in await db.run(queries.list_notes(skip=1))] == ["second"]
    assert await db.run(queries.count_notes()) == 2
    assert await db.run(queries.delete_notes(Priority.HIGH)) == "DELETE 1"
    assert set(db.stats().statements) >= {"create_note", "get_note", "list_notes"}
    chunks = [chunk async for chunk in db.iterate(queries.list_notes(), chunk_size=1)]
    assert [[n.title for n in chunk] for chunk in chunks] == [["first"]]


async def test_constraint_fields_come_from_the_declaration(db: Database) -> None:
    await db.run(queries.create_note("taken"))
    with pytest.raises(ConflictError) as caught:
        await db.run(queries.create_note("taken"))
    assert (caught.value.constraint, caught.value.field) == ("notes_title_key", "title")


async def test_a_savepoint_rolls_back_alone(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.run(queries.create_note("kept"))
        with pytest.raises(ConflictError):
            async with tx.transaction():
                await tx.run(queries.create_note("inner"))
                await tx.run(queries.create_note("kept"))  # aborts only the savepoint
        async with tx.transaction() as same:
            assert same is tx
            await tx.run(queries.create_note("nested"))
            async with tx.transaction():
                await tx.run(queries.create_note("deepest"))
        assert await tx.run(queries.count_notes()) == 3
    titles = [n.title for n in await db.run(queries.list_notes())]
    assert titles == ["kept", "nested", "deepest"]


async def test_an_outer_rollback_undoes_released_savepoints(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            async with tx.transaction():
                await tx.run(queries.create_note("released"))
            raise RuntimeError
    assert await db.run(queries.count_notes()) == 0


async def test_a_declaration_the_database_was_not_given_is_refused(db: Database) -> None:
    @row(Note)
    def get_note(id: int) -> None: ...

    with pytest.raises(InterfaceError, match="is not one of this Database's statements"):
        await db.run(get_note(1))
    with pytest.raises(InterfaceError, match="only a rows statement can be streamed"):
        db.iterate(queries.get_note(1))  # type: ignore[arg-type]


async def test_a_statement_no_code_declares_fails_connect_naming_file_and_line(
        notes_url: str, tmp_path: Path) -> None:
    sql = _sql_copy(tmp_path, "-- name: count_notes",
                    "-- name: orphan\nSELECT 1;\n\n-- name: count_notes")
    with pytest.raises(SQLRegistryError) as caught:
        await Database(notes_url, sql_paths=[sql], queries=[queries]).connect()
    orphan = f"{sql / 'notes.sql'}:{_line_of('count_notes')}: statement 'orphan'"
    assert f"{orphan} is not used by any code" in str(caught.value)


async def test_a_declaration_without_its_statement_fails_connect(notes_url: str,
                                                                 tmp_path: Path) -> None:
    sql = _sql_copy(tmp_path, "-- name: count_notes", "-- name: count_all_notes")
    with pytest.raises(SQLRegistryError) as caught:
        await Database(notes_url, sql_paths=[sql], queries=[queries]).connect()
    assert (f"{queries.count_notes.declared_at}: uses statement 'count_notes', which no .sql "
            "file defines") in str(caught.value)


async def test_columns_and_parameters_that_do_not_fit_name_file_and_line(
        notes_url: str, tmp_path: Path) -> None:
    sql = _sql_copy(tmp_path, "SELECT id, title, body, priority, tags FROM notes WHERE id = $1",
                    "SELECT id, title, priority, tags FROM notes WHERE title = $1")
    with pytest.raises(SchemaMismatchError) as caught:
        await Database(notes_url, sql_paths=[sql], queries=[queries]).connect()
    problems = [str(p) for p in caught.value.problems]
    assert "get_note: column body: expected str, got missing" in problems
    assert "get_note: $1: expected int, got text" in problems
    origin = f"{sql / 'notes.sql'}:{_line_of('get_note')}"
    assert {p.origin for p in caught.value.problems} == {origin}
    assert f"{origin}: get_note: $1: expected int" in str(caught.value)


async def test_enum_labels_are_the_services_own(notes_url: str) -> None:
    conn = await asyncpg.connect(notes_url)
    try:
        await conn.execute("ALTER TYPE note_priority ADD VALUE 'URGENT'")
    finally:
        await conn.close()
    with pytest.raises(SchemaMismatchError) as caught:
        await Database(notes_url, sql_paths=[SQL_DIR], queries=[queries]).connect()
    assert [str(p) for p in caught.value.problems] == [
        "enum note_priority: labels: expected LOW, HIGH, got LOW, HIGH, URGENT"]


def test_two_declarations_of_one_name_are_refused() -> None:
    @row(Note)
    def get_note(id: int) -> None: ...

    with pytest.raises(SQLRegistryError, match="'get_note' is already declared at"):
        Database(sql_paths=[SQL_DIR], queries=[queries, get_note]).declarations()


def test_arguments_bind_by_position_name_and_default_as_a_call_of_the_stub_would() -> None:
    assert queries.list_notes(take=5).args == (None, 0, 5)
    assert queries.list_notes(Priority.HIGH, 2).args == (Priority.HIGH, 2, 100)
    assert queries.get_note(id=7).args == queries.get_note(7).args == (7,)
    for wrong, message in [(lambda: queries.get_note(), "missing argument"),  # type: ignore[call-arg]
                           (lambda: queries.get_note(1, 2), "takes 1 arguments"),  # type: ignore[call-arg]
                           (lambda: queries.get_note(1, id=2), "multiple values"),  # type: ignore[misc]
                           (lambda: queries.get_note(x=1), "unexpected keyword")]:  # type: ignore[call-arg]
        with pytest.raises(TypeError, match=message):
            wrong()


def test_a_stub_with_star_arguments_is_refused() -> None:
    with pytest.raises(SQLRegistryError, match=r"declares 'ids' as \*args"):
        @row(Note)
        def get_notes(*ids: int) -> None: ...
