"""The README's quick start runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


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
