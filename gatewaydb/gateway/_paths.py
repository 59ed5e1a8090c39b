"""Where the SQL files and migrations are, in a checkout and in an installed wheel.

Both directories live once, at the top of the repository; the wheel build copies them into
the package (see ``pyproject.toml``), so the lookup tries the package first, then the checkout.
"""

from __future__ import annotations

from pathlib import Path

# gatewaydb/, two levels up from gatewaydb/gateway/_paths.py.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gatewaydb cannot find its {name}/ directory next to {_PACKAGE_DIR}")


def sql_dir() -> Path:
    """The directory holding ``<domain>.sql`` files."""
    return _resource_dir("sql")


def migrations_dir() -> Path:
    """The directory holding the yoyo migrations."""
    return _resource_dir("migrations")
