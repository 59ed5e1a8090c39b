"""Where the bench keeps its results and its embedded server's data."""

from __future__ import annotations

from pathlib import Path

#: The checkout the bench runs from (bench/ is not part of the wheel).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Tracked results: one JSON (and its PNG chart) per full run.
RESULTS_DIR = REPO_ROOT / "bench" / "results"

#: Quick runs write here by default; the folder's own .gitignore keeps them out of git.
QUICK_RESULTS_DIR = RESULTS_DIR / "quick"

#: The embedded server's data directory, apart from the one ``make demo``/``make test`` use so
#: the bench's millions of rows never slow those down. Its parent is a dedicated folder, as the
#: embedded server widens permissions on the data dir's parents when run as root.
BENCH_DATA_DIR = REPO_ROOT / ".gatewaydb" / "bench-pgdata"
