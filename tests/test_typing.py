"""Static types follow the declarations: mypy --strict on tests/typing/*.py must reveal each
``# R: <type>`` and report each ``# E: <code>`` on its line, and nothing else (psycopg's
tests/test_typing.py does the same for its row factories)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SNIPPETS = sorted((TESTS / "typing").glob("*.py"))
_EXPECT = re.compile(r"#\s*(?P<kind>[RE]):\s*(?P<what>.+?)\s*$")
_OUTPUT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<level>\w+): (?P<message>.*)$")


def _expected(path: Path) -> dict[tuple[int, str], str]:
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            found[(number, match["kind"])] = match["what"]
    return found


@pytest.fixture(scope="module")
def mypy_output() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes",
         "--cache-dir", str(TESTS.parent / ".mypy_cache"), *map(str, SNIPPETS)],
        capture_output=True, text=True, timeout=600, check=False, cwd=TESTS.parent,
        env={**os.environ, "MYPYPATH": str(TESTS)})
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("path", SNIPPETS, ids=[p.stem for p in SNIPPETS])
def test_mypy_reveals_and_refuses_what_the_snippet_says(path: Path,
                                                         mypy_output: list[str]) -> None:
    expected = _expected(path)
    assert expected, f"{path} expects nothing"
    got: dict[tuple[int, str], str] = {}
    for line in mypy_output:
        match = _OUTPUT.match(line)
        if not match or Path(match["file"]).resolve() != path:
            continue
        number, message = int(match["line"]), match["message"]
        revealed = re.fullmatch(r'Revealed type is "(.*)"', message)
        if revealed:
            got[(number, "R")] = revealed[1]
        elif match["level"] == "error":
            code = re.search(r"\[([a-z-]+)\]$", message)
            assert (number, "E") not in got, f"{path.name}:{number}: two errors"
            got[(number, "E")] = code[1] if code else message
    assert got == expected
