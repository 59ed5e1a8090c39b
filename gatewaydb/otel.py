"""OpenTelemetry spans and metrics for a :class:`~gatewaydb.Database` (``gatewaydb[otel]``).

Needs only ``opentelemetry-api``; the service configures the SDK (or not: without one, every
span and instrument is OpenTelemetry's no-op)::

    from gatewaydb.otel import OpenTelemetryObserver

    db = Database(url, observers=[OpenTelemetryObserver()])   # the global providers
    db = Database(url, observers=[OpenTelemetryObserver(tracer_provider=tp,
                                                        meter_provider=mp)])

What it records follows OpenTelemetry's stable database conventions:

- one CLIENT span per statement, named for the statement (``get_user_by_id``), with
  ``db.system.name=postgresql``, ``db.namespace`` (the database), ``db.query.summary`` (the
  statement's name), ``db.query.text`` (its SQL from the ``.sql`` file: parameter values are
  never given to observers), ``db.operation.name`` (``SELECT``, ``INSERT``...),
  ``server.address`` and ``server.port`` (the server that ran it, a replica's for a routed
  read). On failure: status ERROR, ``error.type`` (the SQLSTATE when the server sent one, else
  the error's class) and ``db.response.status_code`` (the SQLSTATE). A cancelled call's span
  ends without an error status, with ``gatewaydb.cancelled=true``;
- a COPY's span is named ``copy_<table>`` (``db.operation.name=COPY``,
  ``db.collection.name``); a stream's (``db.iterate``) is named for its statement and lasts
  from its cursor's opening to its last chunk;
- ``db.transaction()`` gets an INTERNAL span, ``transaction``, current for the whole block:
  the statements inside (and the service's own spans) are its children;
- metrics: ``db.client.operation.duration`` (histogram, seconds; cancelled calls are not
  timed), ``db.client.connection.count`` (``db.client.connection.state`` idle / used),
  ``db.client.connection.max``, ``db.client.connection.pending_requests``,
  ``db.client.connection.wait_time`` (histogram, seconds) and
  ``db.client.connection.timeouts``, each with ``db.client.connection.pool.name``
  (``address:port/database``, one pool per server).

Exception messages are not recorded (no ``record_exception``): a server's message may quote
a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from time import time_ns
from typing import Any

from opentelemetry import context, trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation, get_meter
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider, get_tracer

from .core import (
    Endpoint,
    Observer,
    PoolSource,
    StatementEvent,
    TransactionEnd,
    TransactionStart,
    WaitEvent,
)

__all__ = ["OpenTelemetryObserver"]

try:
    _VERSION = version("gatewaydb")
except PackageNotFoundError:  # pragma: no cover - running from a checkout
    _VERSION = "0"

_SCOPE = "gatewaydb"
_POSTGRESQL = "postgresql"
# The conventions' advice for db.client.operation.duration.
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)


def _server_attributes(server: Endpoint) -> dict[str, Any]:
    attributes: dict[str, Any] = {"db.system.name": _POSTGRESQL}
    if server.database is not None:
        attributes["db.namespace"] = server.database
    if server.address is not None:
        attributes["server.address"] = server.address
    if server.port is not None:
        attributes["server.port"] = server.port
    return attributes


def _error_type(error: BaseException | None, sqlstate: str | None) -> str:
    if sqlstate is not None:
        return sqlstate
    if error is None:
        return "_OTHER"
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"


class OpenTelemetryObserver(Observer):
    """Spans and metrics for every database it is given to (``Database(observers=[...])``).

    Args:
        tracer_provider: where spans go; None: OpenTelemetry's global provider.
        meter_provider: where metrics go; None: the global provider.
        spans: record spans.
        metrics: record metrics.
    """

    def __init__(self, *, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None, spans: bool = True,
                 metrics: bool = True) -> None:
        self._tracer = (get_tracer(_SCOPE, _VERSION, tracer_provider=tracer_provider)
                        if spans else None)
        self._sources: list[PoolSource] = []
        # Metric attributes by (statement, server): built once, not per call.
        self._metric_attributes: dict[tuple[str, Endpoint], dict[str, Any]] = {}
        self._span_attributes: dict[tuple[str, Endpoint], dict[str, Any]] = {}
        self._pool_attributes: dict[Endpoint, dict[str, Any]] = {}
        self._metrics = metrics
        if not metrics:
            return
        meter = get_meter(_SCOPE, _VERSION, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "db.client.operation.duration", unit="s",
            description="Duration of database client operations.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS)
        self._wait_time = meter.create_histogram(
            "db.client.connection.wait_time", unit="s",
            description="The time it took to obtain an open connection from the pool.",
            explicit_bucket_boundaries_advisory=_WAIT_BUCKETS)
        self._timeouts = meter.create_counter(
            "db.client.connection.timeouts", unit="{timeout}",
            description="The number of connection timeouts that have occurred trying to "
                        "obtain a connection from the pool.")
        meter.create_observable_up_down_counter(
            "db.client.connection.count", [self._count], unit="{connection}",
            description="The number of connections that are currently in state described by "
                        "the state attribute.")
        meter.create_observable_up_down_counter(
            "db.client.connection.max", [self._max], unit="{connection}",
            description="The maximum number of open connections allowed.")
        meter.create_observable_up_down_counter(
            "db.client.connection.pending_requests", [self._pending], unit="{request}",
            description="The number of current pending requests for an open connection.")

    # -- the observer --------------------------------------------------------------------

    def connected(self, source: PoolSource) -> None:
        self._sources.append(source)

    def disconnected(self, source: PoolSource) -> None:
        self._sources = [s for s in self._sources if s is not source]

    def statement(self, event: StatementEvent) -> None:
        key = (event.name, event.server)
        if self._tracer is not None:
            end = time_ns()
            attributes = self._span_attributes.get(key)
            if attributes is None:
                attributes = self._span_attributes[key] = self._statement_attributes(event)
                attributes["db.query.text"] = event.sql
            if event.outcome != "ok":
                attributes = {**attributes, **self._outcome_attributes(event)}
            span = self._tracer.start_span(event.name, kind=SpanKind.CLIENT,
                                           start_time=end - int(event.duration * 1e9),
                                           attributes=attributes)
            if event.outcome == "error":
                span.set_status(Status(StatusCode.ERROR, type(event.error).__name__))
            span.end(end_time=end)
        if self._metrics and event.outcome != "cancelled":
            metric = self._metric_attributes.get(key)
            if metric is None:
                metric = self._metric_attributes[key] = self._statement_attributes(event)
            if event.outcome == "error":
                metric = {**metric, **self._outcome_attributes(event)}
            self._duration.record(event.duration, metric)

    def connection_wait(self, event: WaitEvent) -> None:
        if not self._metrics:
            return
        attributes = self._pool_attributes.get(event.server)
        if attributes is None:
            attributes = self._pool_attributes[event.server] = {
                "db.client.connection.pool.name": event.server.pool_name}
        self._wait_time.record(event.duration, attributes)
        if event.outcome == "timeout":
            self._timeouts.add(1, attributes)

    def transaction_started(self, event: TransactionStart) -> object:
        if self._tracer is None:
            return None
        attributes = _server_attributes(event.server)
        attributes["gatewaydb.transaction.readonly"] = event.readonly
        if event.isolation is not None:
            attributes["gatewaydb.transaction.isolation"] = event.isolation
        span = self._tracer.start_span("transaction", kind=SpanKind.INTERNAL,
                                       attributes=attributes)
        # Current for the block: its statements, and the service's own spans, are children.
        token = context.attach(trace.set_span_in_context(span))
        return span, token

    def transaction_ended(self, started: object, event: TransactionEnd) -> None:
        if not isinstance(started, tuple):
            return
        span, token = started
        context.detach(token)
        span.set_attribute("gatewaydb.transaction.outcome", event.outcome)
        if event.outcome in ("error", "rollback") and event.error is not None:
            span.set_attribute("error.type", _error_type(event.error, event.sqlstate))
            if event.sqlstate is not None:
                span.set_attribute("db.response.status_code", event.sqlstate)
            span.set_status(Status(StatusCode.ERROR, type(event.error).__name__))
        span.end()

    # -- attributes ----------------------------------------------------------------------

    @staticmethod
    def _statement_attributes(event: StatementEvent) -> dict[str, Any]:
        attributes = _server_attributes(event.server)
        attributes["db.query.summary"] = event.name
        if event.operation is not None:
            attributes["db.operation.name"] = event.operation
        if event.collection is not None:
            attributes["db.collection.name"] = event.collection
        return attributes

    @staticmethod
    def _outcome_attributes(event: StatementEvent) -> dict[str, Any]:
        if event.outcome == "cancelled":
            return {"gatewaydb.cancelled": True}
        attributes: dict[str, Any] = {"error.type": _error_type(event.error, event.sqlstate)}
        if event.sqlstate is not None:
            attributes["db.response.status_code"] = event.sqlstate
        return attributes

    # -- pool instruments (read at each collection) -------------------------------------

    def _pools(self) -> Iterable[Any]:
        for source in list(self._sources):
            yield from source.pools()

    def _count(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._pools():
            name = pool.server.pool_name
            yield Observation(pool.status.idle, {"db.client.connection.pool.name": name,
                                                 "db.client.connection.state": "idle"})
            yield Observation(pool.status.in_use, {"db.client.connection.pool.name": name,
                                                   "db.client.connection.state": "used"})

    def _max(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._pools():
            yield Observation(pool.status.max_size,
                              {"db.client.connection.pool.name": pool.server.pool_name})

    def _pending(self, options: CallbackOptions) -> Iterable[Observation]:
        for pool in self._pools():
            yield Observation(pool.status.waiting,
                              {"db.client.connection.pool.name": pool.server.pool_name})
