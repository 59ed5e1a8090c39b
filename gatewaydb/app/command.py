"""The ``gatewaydb`` console script: the command line, or one line saying what to install.

The command draws its tables and progress bars with ``rich``, which only the ``cli`` extra
installs (a service importing gatewaydb has no use for it). This module imports nothing
that needs it, so that without it ``gatewaydb`` ends with one line and exit status 1
instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["INSTALL_HINT", "main"]

#: How to get what the command needs.
INSTALL_HINT = "pip install 'gatewaydb[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run :func:`gatewaydb.app.cli.main`; returns its exit status, or 1 without ``rich``."""
    try:
        from .cli import main as run
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "rich":
            raise
        print("gatewaydb: error: the gatewaydb command needs the 'cli' extra (rich): "
              f"{INSTALL_HINT}", file=sys.stderr)
        return 1
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
