"""Terminal output for the ``gatewaydb`` command: step lines, tables and progress, via rich.

Results go to stdout: on a terminal with rich's styling, otherwise as plain aligned text with
no trailing blanks, so scripts can parse them. Progress goes to stderr: a rich progress bar on
a terminal; elsewhere (CI logs, pipes) one plain line every :data:`QUIET_INTERVAL` seconds
while the work lasts longer than that, and nothing for quick work.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import TextIO
from uuid import UUID

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table as RichTable

__all__ = [
    "QUIET_INTERVAL",
    "Progress",
    "Table",
    "format_duration",
    "format_value",
    "glyphs",
    "one_line",
    "print_table",
    "step_line",
    "table_lines",
]

#: Seconds between progress lines when stderr is not a terminal.
QUIET_INTERVAL = 5.0

#: Step names are padded with dots to this width, so latencies line up in a column.
NAME_WIDTH = 42


class Table:
    """Rows under a header, printed as aligned columns; cells are formatted here.

    A column whose cells are all numbers is right-aligned.
    """

    __slots__ = ("headers", "numeric", "rows")

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        self.headers = tuple(headers)
        raw = [tuple(r) for r in rows]
        self.numeric = tuple(
            bool(raw) and all(_is_number(r[i]) for r in raw) for i in range(len(self.headers)))
        self.rows = [tuple(format_value(cell) for cell in r) for r in raw]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


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


# rich's SIMPLE_HEAD box in ASCII, for streams that cannot encode "─".
_ASCII_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def _rich_table(table: Table, stream: TextIO) -> RichTable:
    shape = box.SIMPLE_HEAD if _encodes(stream, "─") else _ASCII_HEAD
    rendered = RichTable(box=shape, show_edge=False, pad_edge=False, header_style="bold")
    for header, numeric in zip(table.headers, table.numeric, strict=True):
        rendered.add_column(header, justify="right" if numeric else "left")
    for cells in table.rows:
        rendered.add_row(*cells)
    return rendered


def _console(stream: TextIO, terminal: bool) -> Console:
    # Off a terminal rich would wrap at 80 columns: a table is one line per row instead.
    return Console(file=stream, highlight=False, soft_wrap=True, force_terminal=terminal,
                   width=None if terminal else 100_000, color_system="auto" if terminal else None)


def table_lines(table: Table, indent: str = "      ", stream: TextIO | None = None) -> list[str]:
    """The table as plain text lines (header, rule, rows), for a stream like ``stream``."""
    buffer = io.StringIO()
    like = stream if stream is not None else sys.stdout
    console = _console(buffer, terminal=False)
    console.print(Padding(_rich_table(table, like), (0, 0, 0, len(indent))))
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def print_table(table: Table, stream: TextIO | None = None, indent: str = "") -> None:
    """Print ``table``: styled on a terminal, plain aligned text otherwise."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        _console(out, terminal=True).print(Padding(_rich_table(table, out),
                                                   (0, 0, 0, len(indent))))
        return
    for line in table_lines(table, indent, out):
        print(line, file=out)


class Progress:
    """Progress of one piece of work on stderr; use as a context manager.

    On a terminal: a rich progress bar (``total`` known) or spinner, erased on exit so the
    results printed next start on a clean line. Elsewhere: nothing for work shorter than
    ``interval`` seconds, then one line every ``interval`` seconds (``label: 120/401 (30%),
    10 s``) and a last one when it ends. ``total=None`` is work that cannot be counted.
    """

    __slots__ = ("_began", "_done", "_label", "_lines", "_rich", "_stop", "_stream",
                 "_task", "_terminal", "_thread", "_total", "interval")

    def __init__(self, label: str, total: int | None = None, *,
                 stream: TextIO | None = None, terminal: bool | None = None,
                 interval: float | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._label = label
        self._total = total
        self._done = 0
        self._lines = 0
        self._began = 0.0
        self.interval = QUIET_INTERVAL if interval is None else interval
        self._rich: RichProgress | None = None
        self._task: TaskID | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        self._began = time.monotonic()
        if self._terminal:
            columns = [SpinnerColumn(), TextColumn("{task.description}")]
            if self._total is not None:
                columns += [BarColumn(), MofNCompleteColumn()]
            self._rich = RichProgress(*columns, TimeElapsedColumn(), transient=True,
                                      console=_console(self._stream, terminal=True))
            self._rich.start()
            self._task = self._rich.add_task(self._label, total=self._total)
        else:
            self._thread = threading.Thread(target=self._tick, name="gatewaydb-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._rich is not None:
            self._rich.stop()
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._lines and exc_type is None:
            self._write("done")

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self._done += n
        if self._rich is not None and self._task is not None:
            self._rich.advance(self._task, n)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._write()

    def _write(self, state: str = "") -> None:
        counted = ""
        if self._total is not None:
            share = 100 * self._done // max(1, self._total)
            counted = f"{self._done:,}/{self._total:,} ({share}%), "
        took = format_duration(time.monotonic() - self._began)
        self._stream.write(f"gatewaydb: {self._label}: {state + ', ' if state else ''}"
                           f"{counted}{took}\n")
        self._stream.flush()
        self._lines += 1
