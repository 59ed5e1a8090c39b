"""A yoyo backend so that the plain ``yoyo`` command takes the application's own URL.

``yoyo.ini`` says ``database = gatewaydb://``; the ``gatewaydb`` scheme is registered with
yoyo through the ``yoyo.backends`` entry point (see ``pyproject.toml``) and resolves to
``$DATABASE_URL`` exactly as the ``gatewaydb`` command reads it: ``postgresql://`` or
``postgres://``, with gatewaydb's pool parameters (``?connection_limit=5``) left out of what
libpq sees. So ``DATABASE_URL=postgresql://…?connection_limit=5 yoyo list`` works unchanged.

This class serves the yoyo *command*: a missing or malformed URL, or a server that cannot be
reached, ends the command with one line on stderr (``yoyo: error: <reason>``, exit 1)
instead of a traceback. Python code uses :mod:`gatewaydb.app.migrate`, which raises typed
errors instead.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import psycopg
from yoyo.backends.core.postgresql import (  # type: ignore[import-untyped]
    PostgresqlPsycopgBackend,
)
from yoyo.connections import parse_uri  # type: ignore[import-untyped]

from ..core.errors import GatewayDBError
from ._yoyo import backend_url, connect_error, first_line, shown_url

__all__ = ["DatabaseURLBackend"]

#: The environment variable the ``gatewaydb://`` URL stands for.
URL_VARIABLE = "DATABASE_URL"


def _fail(reason: str) -> NoReturn:
    # SystemExit with a message: Python prints it alone on stderr and exits with status 1.
    raise SystemExit(f"yoyo: error: {reason}")


class DatabaseURLBackend(PostgresqlPsycopgBackend):  # type: ignore[misc]
    """yoyo's psycopg 3 PostgreSQL backend, connected to ``$DATABASE_URL``."""

    def connect(self, dburi: Any) -> Any:
        """Open the connection yoyo works on (``dburi`` is the placeholder ``gatewaydb://``)."""
        url = os.environ.get(URL_VARIABLE, "").strip()
        if not url:
            _fail(f"{URL_VARIABLE} is not set; yoyo.ini takes the database from it, e.g. "
                  f"{URL_VARIABLE}=postgresql://postgres@127.0.0.1:5432/gateway")
        try:
            target = parse_uri(backend_url(url))
            shown = shown_url(url)
        except (GatewayDBError, ValueError) as exc:
            _fail(f"{URL_VARIABLE}: {first_line(exc)}")
        try:
            return super().connect(target)
        except psycopg.Error as exc:
            _fail(str(connect_error(exc, shown)))

    def init_database(self) -> None:
        """Create yoyo's tables if needed; a refusal (privileges) is one line too."""
        try:
            super().init_database()
        except psycopg.Error as exc:
            _fail(f"cannot prepare the database for migrations: {first_line(exc)}")
