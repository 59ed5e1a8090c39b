"""The command line's output helpers: rich tables and progress, on and off a terminal."""

from __future__ import annotations

import io
import re
import time
from decimal import Decimal

import pytest

from gatewaydb.app import _output
from gatewaydb.app._output import Progress, Table, print_table, table_lines
from gatewaydb.app.cli import main


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so rich draws as it would on one."""

    def isatty(self) -> bool:
        return True


def test_table_lines_align_columns_without_trailing_blanks() -> None:
    table = Table(("model", "created"), [("users", 5), ("conversions", 1234)])
    lines = table_lines(table, indent="  ")
    assert lines[0].split() == ["model", "created"]
    assert set(lines[1].strip()) <= {"─", " "}
    assert re.fullmatch(r"  users\s+5", lines[2])
    assert re.fullmatch(r"  conversions\s+1,234", lines[3])
    assert all(line == line.rstrip() for line in lines)
    # Numbers are right-aligned: both rows end in the same column.
    assert len(lines[2]) == len(lines[3])


def test_table_falls_back_to_ascii_where_the_stream_cannot_encode() -> None:
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    lines = table_lines(Table(("a", "b"), [("x", Decimal("1.5"))]), stream=ascii_stream)
    assert set(lines[1].strip()) <= {"-", " "}


def test_print_table_on_a_terminal_uses_rich_styles() -> None:
    out = _Terminal()
    print_table(Table(("model", "created"), [("users", 5)]), out)
    assert "\x1b[" in out.getvalue()  # styled header
    assert "users" in out.getvalue()


def test_progress_bar_on_a_terminal() -> None:
    err = _Terminal()
    with Progress("seeding users", 4, stream=err) as progress:
        for _ in range(4):
            progress.advance()
    assert "seeding users" in err.getvalue()


def test_off_a_terminal_quick_work_prints_nothing() -> None:
    err = io.StringIO()
    with Progress("applying migrations", 3, stream=err, interval=60) as progress:
        progress.advance(3)
    assert err.getvalue() == ""


def test_off_a_terminal_longer_work_prints_a_line_every_interval() -> None:
    err = io.StringIO()
    with Progress("seeding users", 10, stream=err, interval=0.05) as progress:
        for _ in range(10):
            progress.advance()
            time.sleep(0.03)
    lines = err.getvalue().splitlines()
    assert len(lines) >= 3, lines  # several ticks, then the final line
    assert all(line.startswith("gatewaydb: seeding users: ") for line in lines)
    assert re.search(r"\d+/10 \(\d+%\)", lines[0])
    assert lines[-1].startswith("gatewaydb: seeding users: done, 10/10 (100%)")


def test_seed_off_a_terminal_reports_progress_on_stderr(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        database_url: str) -> None:
    monkeypatch.setattr(_output, "QUIET_INTERVAL", 0.001)
    code = main(["seed", "--database-url", database_url])
    out, err = capsys.readouterr()
    assert code == 0
    assert "gatewaydb: seeding users: done" in err
    assert "gatewaydb:" not in out  # results stay clean for scripts
