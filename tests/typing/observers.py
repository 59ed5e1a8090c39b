# Checked by tests/test_typing.py with mypy --strict; never imported or run.
# The observer seam and the two integrations built on it.
from __future__ import annotations

from typing import reveal_type

from gatewaydb import Database
from gatewaydb.core import Observer, PoolSource, StatementEvent, WaitEvent
from gatewaydb.otel import OpenTelemetryObserver
from gatewaydb.prometheus import PrometheusCollector


class Slowest(Observer):
    def statement(self, event: StatementEvent) -> None:
        reveal_type(event.duration)  # R: float
        reveal_type(event.outcome)  # R: Literal['ok'] | Literal['error'] | Literal['cancelled']
        reveal_type(event.server.port)  # R: int | None
        reveal_type(event.sqlstate)  # R: str | None

    def connection_wait(self, event: WaitEvent) -> None:
        reveal_type(event.outcome)  # R: Literal['ok'] | Literal['timeout'] | Literal['unavailable'] | Literal['cancelled']

    def connected(self, source: PoolSource) -> None:
        reveal_type(source.pools()[0].status.waiting)  # R: int


def build(url: str) -> None:
    db = Database(url, observers=[Slowest(), OpenTelemetryObserver(), PrometheusCollector()])
    reveal_type(db.pools())  # R: list[gatewaydb.core.observe.ServerPool]
    Database(url, observers=[object()])  # E: list-item
    Database(url, observers=OpenTelemetryObserver())  # E: arg-type
    OpenTelemetryObserver(spans="yes")  # E: arg-type
