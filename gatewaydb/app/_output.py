"""Terminal output for the ``gatewaydb`` command: aligned step lines, tables, progress.

Everything here writes plain text. Progress goes to stderr and only when stderr is a terminal,
so piped or captured output (CI logs, ``--json``) carries results and nothing else.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import TextIO
from uuid import UUID

__all__ = [
    "Progress",
    "Table",
    "format_duration",
    "format_value",
    "glyphs",
    "one_line",
    "step_line",
    "table_lines",
]

#: Step names are padded with dots to this width, so latencies line up in a column.
NAME_WIDTH = 42


class Table:
    """Rows of already formatted cells under a header, printed as aligned columns."""

    __slots__ = ("headers", "rows")

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        self.headers = tuple(headers)
        self.rows = [tuple(format_value(cell) for cell in r) for r in rows]


def _encodes(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def glyphs(stream: TextIO) -> tuple[str, str, str]:
    """The (ok, failed, leader) marks, in ASCII when ``stream`` cannot encode Unicode.

    A root shell in a minimal container often runs with an ASCII locale; printing ``✓``
    there would raise UnicodeEncodeError in the middle of the demo.
    """
    if _encodes(stream, "✓✗·"):
        return "✓", "✗", "."
    return "ok", "!!", "."


def format_duration(seconds: float) -> str:
    """``0.41 ms``, ``12.3 ms``, ``1.24 s``: three significant digits, unit by size."""
    ms = seconds * 1e3
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{seconds:.2f} s"


def format_value(value: object) -> str:
    """A value as a reader wants it: enum labels, short UUIDs, ISO dates, trimmed floats."""
    if value is None:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, UUID):
        return str(value)[:8]  # enough to tell rows apart on screen
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        offset = value.utcoffset()
        zone = "" if offset is None else " UTC" if not offset else value.strftime(" %z")
        return value.strftime("%Y-%m-%d %H:%M:%S") + zone
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"  # money, and averages of money
    if isinstance(value, list | tuple):
        return ",".join(format_value(v) for v in value) or "-"
    return str(value)


def one_line(exc: BaseException) -> str:
    """An error as one line: its first line, plus a ``HINT:`` line if the server gave one."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0].rstrip(":") if lines else type(exc).__name__
    hints = [line for line in lines[1:] if line.startswith("HINT:")]
    return f"{reason} ({hints[0]})" if hints else reason


def step_line(stream: TextIO, ok: bool, name: str, seconds: float | None,
              detail: str = "") -> str:
    """``  ✓ authenticate by API key ........ 0.41 ms  user=... role=...``"""
    good, bad, leader = glyphs(stream)
    mark = good if ok else bad
    dots = leader * max(3, NAME_WIDTH - len(name) - 1)
    took = format_duration(seconds) if seconds is not None else ""
    text = f"  {mark} {name} {dots} {took:>9}"
    return f"{text}  {detail}".rstrip() if detail else text.rstrip()


def table_lines(table: Table, indent: str = "      ") -> list[str]:
    """The table as aligned text lines: a header, a rule, then the rows."""
    widths = [len(h) for h in table.headers]
    for r in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, r, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
                ).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return [line(table.headers), rule, *(line(r) for r in table.rows)]


class Progress:
    """A counter (``label  12/40``) redrawn in place on a terminal; silent otherwise.

    Use as a context manager; the line is erased on exit so the results printed next start
    on a clean line. ``total=None`` shows just the label, for work that cannot be counted.
    """

    __slots__ = ("_done", "_enabled", "_label", "_last", "_stream", "_total")

    def __init__(self, label: str, total: int | None = None, *,
                 stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._label = label
        self._total = total
        self._done = 0
        self._last = 0.0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._enabled:
            self._stream.write("\r\x1b[2K")  # erase the line: results follow on stdout
            self._stream.flush()

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done and redraw (at most ten times a second)."""
        self._done += n
        self._draw(force=self._total is not None and self._done >= self._total)

    def _draw(self, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self._total is None:
            text = f"{self._label}…" if _encodes(self._stream, "…") else f"{self._label}..."
        else:
            width = 24
            filled = width * self._done // max(1, self._total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self._label} [{bar}] {self._done}/{self._total}"
        self._stream.write(f"\r\x1b[2K{text}")
        self._stream.flush()
