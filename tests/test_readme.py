"""The README's "Your own queries" example runs as written, on a migrated database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _own_queries_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    (script,) = [b for b in blocks if "anyio.run(main)" in b]
    return script


def test_the_own_queries_example_runs(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _own_queries_example()], capture_output=True, text=True,
        timeout=120, check=False, cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['ann@example.com'] [('launch.mp4', 'Ann', 1)]",
                                          "1 UPDATE 0 1"]
