"""What a :class:`~gatewaydb.core.Database` reports about itself: pool, servers, health."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, computed_field

__all__ = ["ContractState", "HealthReport", "HealthStatus", "PoolStatus", "ServerHealth",
           "ServerStatus"]


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True)


class PoolStatus(_Report):
    """The connection pool at one moment."""

    size: int
    in_use: int
    idle: int
    max_size: int
    #: Callers waiting for a connection.
    waiting: int = 0


class HealthStatus(StrEnum):
    """The verdict of a health report."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"  # the server answers, but migrations are pending or the schema drifted
    UNHEALTHY = "unhealthy"  # the server did not answer (or the database is not connected)


class ContractState(StrEnum):
    """What a health report knows about the contract check (statements vs live schema)."""

    OK = "ok"
    FAILED = "failed"
    NOT_CHECKED = "not checked"


class ServerHealth(_Report):
    """One server behind a :class:`~gatewaydb.Database`: the primary, then each replica.

    For a replica, ``state`` and ``replay_lag_s`` are what the read router last saw (see
    :class:`ServerStatus`); ``server_version`` and ``latency_ms`` are the primary's only.
    """

    role: str
    address: str
    reachable: bool
    server_version: str | None
    latency_ms: float | None
    error: str | None = None
    state: str | None = None
    replay_lag_s: float | None = None


class ServerStatus(_Report):
    """One server of a database with read replicas, as its router last saw it.

    ``state`` is ``up``, ``lagging`` (further behind than ``max_replica_lag``), ``down`` (did
    not answer) or ``not a standby`` (promoted); the primary is always ``up`` here.
    ``lag_seconds`` is the replica's replay lag (None for the primary or when unknown);
    ``reads`` counts the read-only calls it served, ``retried`` the reads that failed on it
    for a connection reason and ran on another server.
    """

    name: str
    role: str
    dsn: str
    state: str
    lag_seconds: float | None
    reads: int
    retried: int
    pool: PoolStatus
    error: str | None = None


class HealthReport(_Report):
    """What ``Database.health()`` found.

    ``status`` is ``healthy``, ``degraded`` (the server answers but migrations are pending or
    statements do not fit the schema; ``reasons`` says which) or ``unhealthy`` (no answer).
    ``server_version`` and ``latency_ms`` are the primary's; ``servers`` has one row per
    server, so that replicas can be reported beside it.
    """

    status: HealthStatus
    reasons: list[str]
    server_version: str | None
    latency_ms: float | None
    pool: PoolStatus | None
    pending_migrations: list[str] | None
    contract: ContractState
    servers: list[ServerHealth]
    error: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True only when ``status`` is healthy."""
        return self.status is HealthStatus.HEALTHY
