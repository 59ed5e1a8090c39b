"""The SQL registry: parsing, and every way a .sql file can be wrong (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewaydb import Database
from gatewaydb.core import meta, migration_state
from gatewaydb.core.errors import SQLRegistryError
from gatewaydb.core.registry import Registry, parse_sql
from gatewaydb.gateway._paths import sql_dir

GOOD = """\
-- A file-level comment before the first statement is fine.

-- name: get_thing
-- Fetch one thing.
-- Second doc line.
SELECT id, note FROM things
WHERE id = $1 AND note <> ';--not a comment';

-- name: touch_thing
UPDATE things SET note = $2 WHERE id = $1  -- trailing comment; with a semicolon
"""


def test_parses_names_docs_lines_and_sql() -> None:
    first, second = parse_sql(GOOD, Path("things.sql"))
    assert (first.name, first.line) == ("get_thing", 3)
    assert first.doc == "Fetch one thing.\nSecond doc line."
    assert first.sql == "SELECT id, note FROM things\nWHERE id = $1 AND note <> ';--not a comment'"
    assert first.origin == "things.sql:3"
    assert (second.name, second.line, second.doc) == ("touch_thing", 9, "")
    assert second.sql.startswith("UPDATE things SET note = $2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("SELECT 1;\n-- name: a\nSELECT 2;", "f.sql:1: SQL before the first",
                     id="sql-before-name"),
        pytest.param("-- name: a\n-- only a doc\n", "f.sql:1: statement 'a' is empty", id="empty"),
        pytest.param("-- name: a\nSELECT 1;\nSELECT 2;", "f.sql:1: 'a' holds more than one",
                     id="two-statements"),
        pytest.param("-- name: Bad-Name\nSELECT 1;", "f.sql:1: bad statement name", id="bad-name"),
        pytest.param("-- name: a\nSELECT 1;\n\n-- name: a\nSELECT 2;",
                     "f.sql:4: statement 'a' is already defined at f.sql:1", id="duplicate"),
    ],
)
def test_malformed_files_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SQLRegistryError, match=message):
        Registry(parse_sql(text, Path("f.sql")))


def test_duplicate_across_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: same\nSELECT 1;\n")
    (tmp_path / "b.sql").write_text("\n-- name: same\nSELECT 2;\n")
    with pytest.raises(SQLRegistryError) as caught:
        Registry.load(tmp_path)
    assert f"{tmp_path / 'b.sql'}:2" in str(caught.value)
    assert f"{tmp_path / 'a.sql'}:1" in str(caught.value)


def test_unused_and_undefined_statements_are_refused() -> None:
    registry = Registry(parse_sql("-- name: used\nSELECT 1;\n-- name: orphan\nSELECT 2;",
                                  Path("f.sql")))
    with pytest.raises(SQLRegistryError) as caught:
        registry.check_bound({"used": "mod.py:1", "ghost": "mod.py:9"})
    text = str(caught.value)
    assert "f.sql:3: statement 'orphan' is not used by any code" in text
    assert "mod.py:9: uses statement 'ghost', which no .sql file defines" in text


def test_unknown_name_lookup_says_how_many_are_loaded() -> None:
    registry = Registry(parse_sql("-- name: one\nSELECT 1;", Path("f.sql")))
    with pytest.raises(SQLRegistryError, match=r"no statement named 'two' \(1 loaded\)"):
        registry["two"]


def test_shipped_sql_matches_the_code_exactly() -> None:
    # The Gateway names its migrations, so the core's migration-state statement is loaded too.
    registry = Registry.load(meta.SQL_DIR, migration_state.SQL_DIR, sql_dir())
    queries = Database().declarations()
    registry.check_bound({name: q.declared_at for name, q in queries.items()})
    assert set(registry) == set(queries)
    for name in registry:
        assert "SELECT *" not in registry[name].sql.upper(), name
