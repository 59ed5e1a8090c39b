"""The README's scripts run as written: the quick start and "Your own queries"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"


def _quickstart() -> str:
    text = README.read_text("utf-8")
    blocks = re.findall(r"```python\n(# quickstart\.py\n.*?)```", text, re.DOTALL)
    assert len(blocks) == 1, "the README has one quickstart.py block"
    return str(blocks[0])


@pytest.mark.slow
def test_the_quick_start_script_runs_twice(tmp_path: Path, database_url: str) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(_quickstart(), "utf-8")
    env = {**os.environ, "DATABASE_URL": database_url}
    for _ in range(2):  # runnable again: its user and key are new each time
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "1 top clip(s), 1 campaign(s)" in done.stdout


def _own_queries_example() -> str:
    readme = README.read_text(encoding="utf-8")
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
