"""What a :class:`~gatewaydb.core.Database` reports about itself: pool and health."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["HealthReport", "PoolStatus"]


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True)


class PoolStatus(_Report):
    """The connection pool at one moment."""

    size: int
    in_use: int
    idle: int
    max_size: int


class HealthReport(_Report):
    """What ``Database.health()`` found; ``ok`` is False when the server did not answer."""

    ok: bool
    server_version: str | None
    latency_ms: float | None
    pool: PoolStatus | None
    pending_migrations: list[str] | None
    error: str | None = None
