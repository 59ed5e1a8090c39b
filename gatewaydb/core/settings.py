"""Database settings: the URL's query string (as the seed's Prisma URL) plus keyword overrides.

``postgresql://user:pass@host:5432/db?connection_limit=20&pool_timeout=30``

=====================  =======  ==========================================================
setting                default  meaning
=====================  =======  ==========================================================
connection_limit       10       most pooled connections
min_connections        1        connections opened at connect() and kept warm
pool_timeout           20       seconds a call may wait for a connection, including the
                                retries of calls that never reached the server
idle_timeout           300      seconds an idle connection is kept (beyond min_connections)
max_queries            50000    calls after which a connection is replaced (asyncpg's default)
connect_timeout        10       seconds to establish one connection
statement_timeout      none     seconds a statement may run (server side), none = no limit
application_name       gatewaydb  shown in pg_stat_activity
statement_cache        true     prepared statements cached per connection; false for
                                PgBouncer transaction pooling (unnamed statements)
check_schema           true     run the contract check at connect()
slow_query_threshold   0.5      seconds; slower statements are logged at WARNING
log_queries            false    log every statement's SQL, name and duration at INFO on
                                ``gatewaydb.query`` (Prisma's ``log: ['query']``)
log_parameters         false    include parameter values in query logs (never for
                                statements declared ``redact=True``)
=====================  =======  ==========================================================

Unknown parameters in the URL's query string are passed through to asyncpg (``host=`` for a
Unix socket directory, ``sslmode=``, ...); unknown keyword settings are refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ConfigurationError

__all__ = ["Settings", "mask_url", "url_hosts"]

_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"}


def _positive_int(name: str, raw: object) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1, got {value}")
    return value


def _seconds(name: str, raw: object) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _optional_seconds(name: str, raw: object) -> float | None:
    if raw is None or str(raw).lower() in {"", "none", "0"}:
        return None
    return _seconds(name, raw)


def _boolean(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _text(name: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > 63:
        raise ConfigurationError(f"{name} must be a non-empty string of at most 63 characters")
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated connection and pool settings; build with :meth:`from_url`."""

    dsn: str
    connection_limit: int = 10
    min_connections: int = 1
    pool_timeout: float = 20.0
    idle_timeout: float = 300.0
    max_queries: int = 50_000
    connect_timeout: float = 10.0
    statement_timeout: float | None = None
    application_name: str = "gatewaydb"
    statement_cache: bool = True
    check_schema: bool = True
    slow_query_threshold: float = 0.5
    log_queries: bool = False
    log_parameters: bool = False

    @classmethod
    def from_url(cls, url: str | None = None, **overrides: Any) -> Settings:
        """Parse ``url`` (default: ``$DATABASE_URL``) and apply keyword overrides.

        Raises:
            ConfigurationError: no URL, an unsupported scheme, or an unknown or malformed
                setting. Nothing connects here.
        """
        url = url if url is not None else os.environ.get("DATABASE_URL")
        if not url:
            raise ConfigurationError("no database URL: pass url= or set DATABASE_URL")
        parts = _split(url)
        if parts.scheme not in _SCHEMES:
            raise ConfigurationError(
                f"unsupported URL scheme {parts.scheme!r}; use postgresql://")
        url_hosts(parts.netloc)  # a malformed host or port fails here, not in the driver
        ours: dict[str, Any] = {}
        passthrough: list[tuple[str, str]] = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in _PARSERS:
                ours[key] = value
            else:
                if key == "port":  # ?port=5432 (beside ?host=/socket/dir), or a list of them
                    for item in value.split(","):
                        if item:
                            _port(item)
                passthrough.append((key, value))
        _refuse_unknown(overrides)
        values = _parsed({**ours, **overrides})
        dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(passthrough), ""))
        settings = cls(dsn=dsn, **values)
        if settings.min_connections > settings.connection_limit:
            settings = replace(settings, min_connections=settings.connection_limit)
        return settings

    @staticmethod
    def check_overrides(**overrides: Any) -> None:
        """Validate keyword settings on their own, before any URL is known.

        Raises:
            ConfigurationError: an unknown or malformed setting.
        """
        _refuse_unknown(overrides)
        _parsed(overrides)

    def public_dsn(self) -> str:
        """The DSN with any password masked, for logs and health output."""
        return mask_url(self.dsn)

    def as_dict(self) -> Mapping[str, Any]:
        """Every setting but the DSN, for ``health()`` and the CLI."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "dsn"}


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL": the message holds no part of the URL
        raise ConfigurationError(f"malformed URL: {exc}") from None


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 65535):
        shown = text if len(text) <= 20 and text.isprintable() else f"{text[:20]!r}..."
        raise ConfigurationError(
            f"malformed URL: port {shown!r} is not a number from 1 to 65535")
    return int(text)


def url_hosts(netloc: str) -> list[tuple[str, int | None]]:
    """The ``(host, port)`` pairs of a URL's network location, as libpq and asyncpg read it.

    ``user:pw@db1:5432,db2:5433`` (a failover URL) gives two; ``[::1]:5432`` is an IPv6
    address; a missing host (``postgresql:///db?host=/run/pg``) gives none and a missing
    port is None (the default, or ``?port=``).

    Raises:
        ConfigurationError: a port that is not a number from 1 to 65535, or an IPv6 address
            without its brackets. The message names the port, never the user or password.
    """
    hostinfo = netloc.rpartition("@")[2]
    if not hostinfo:
        return []
    pairs: list[tuple[str, int | None]] = []
    for entry in hostinfo.split(","):
        if entry.startswith("["):
            host, closed, rest = entry[1:].partition("]")
            if not closed or (rest and not rest.startswith(":")):
                raise ConfigurationError("malformed URL: write an IPv6 address as [address]:port")
            port_text = rest[1:]
        elif entry.count(":") > 1:
            raise ConfigurationError("malformed URL: write an IPv6 address as [address]:port")
        else:
            host, _, port_text = entry.partition(":")
        pairs.append((host, _port(port_text) if port_text else None))
    return pairs


def mask_url(url: str) -> str:
    """``url`` with its password shown as ``***``, in the userinfo and in ``?password=``.

    Anything that does not parse as a URL is returned as ``<unparsable URL>``: it may hold a
    password in a shape this function does not know.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if password is not None:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostinfo}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        masked = [(key, "***" if key == "password" else value) for key, value in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(masked, safe="/*")))
    return urlunsplit(parts._replace(netloc=netloc))


def _refuse_unknown(overrides: Mapping[str, Any]) -> None:
    unknown = set(overrides) - set(_PARSERS)
    if unknown:
        raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")


def _parsed(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _PARSERS[key](key, value) for key, value in raw.items()}


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "connection_limit": _positive_int,
    "min_connections": _positive_int,
    "pool_timeout": _seconds,
    "idle_timeout": _seconds,
    "max_queries": _positive_int,
    "connect_timeout": _seconds,
    "statement_timeout": _optional_seconds,
    "application_name": _text,
    "statement_cache": _boolean,
    "check_schema": _boolean,
    "slow_query_threshold": _seconds,
    "log_queries": _boolean,
    "log_parameters": _boolean,
}
