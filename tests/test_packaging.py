"""The built wheel carries sql/ and migrations/ inside the package, byte for byte."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_sql_and_migrations(tmp_path: Path) -> None:
    # No build isolation: the installed hatchling builds it, with no network.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(REPO_ROOT)],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("gatewaydb-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()}
    for folder in ("sql", "migrations"):
        files = sorted((REPO_ROOT / folder).glob("*.sql"))
        assert files
        for path in files:
            assert shipped[f"gatewaydb/{folder}/{path.name}"] == path.read_bytes(), path
    assert "gatewaydb/py.typed" in shipped
    core_sql = REPO_ROOT / "gatewaydb" / "core" / "sql" / "meta.sql"  # the core's own statements
    assert shipped["gatewaydb/core/sql/meta.sql"] == core_sql.read_bytes()
    state_sql = core_sql.parent / "migration_state" / "migration_state.sql"
    assert shipped["gatewaydb/core/sql/migration_state/migration_state.sql"] == (
        state_sql.read_bytes())
