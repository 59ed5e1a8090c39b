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
    # rich (the command's terminal output) only with the cli extra: a service never pulls it.
    (metadata,) = [n for n in shipped if n.endswith(".dist-info/METADATA")]
    requires = [line.removeprefix("Requires-Dist: ") for line in
                shipped[metadata].decode().splitlines() if line.startswith("Requires-Dist: ")]
    rich = [r.replace('"', "'") for r in requires if r.startswith("rich")]
    assert all("extra ==" in r for r in rich), requires  # never unconditional
    assert any(r.endswith("extra == 'cli'") for r in rich), requires
    assert "Provides-Extra: cli" in shipped[metadata].decode()


# The installed `gatewaydb` console script, loaded as pip's wrapper loads it, with rich
# made unimportable (as in an install without the cli extra).
_WITHOUT_RICH = """
import sys
from importlib.metadata import entry_points

sys.modules["rich"] = None  # `import rich` now fails as if it were not installed
(script,) = entry_points(group="console_scripts", name="gatewaydb")
sys.exit(script.load()(sys.argv[1:]))
"""


def test_the_command_without_rich_says_what_to_install() -> None:
    for argv in (["status"], ["--help"]):
        done = subprocess.run([sys.executable, "-c", _WITHOUT_RICH, *argv], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert done.stderr.splitlines() == [
            "gatewaydb: error: the gatewaydb command needs the 'cli' extra (rich): "
            "pip install 'gatewaydb[cli]'"], done.stderr


def test_the_command_with_rich_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-c", _WITHOUT_RICH.replace(
        'sys.modules["rich"] = None', "pass"), "--help"], capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: gatewaydb")
