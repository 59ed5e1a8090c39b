"""The core's observer seam (``Database(observers=[...])``) on its own, without OpenTelemetry:
which events come, in what order, with what in them; a failing observer fails no call."""

from __future__ import annotations

import logging

import pytest

from gatewaydb import ConflictError, Database
from gatewaydb.core import (
    Endpoint,
    Observer,
    PoolSource,
    StatementEvent,
    TransactionEnd,
    TransactionStart,
    WaitEvent,
)
from gatewaydb.core.observe import operation_of

pytestmark = pytest.mark.anyio


class Recorder(Observer):
    def __init__(self) -> None:
        self.events: list[object] = []
        self.sources: list[PoolSource] = []

    def connected(self, source: PoolSource) -> None:
        self.sources.append(source)

    def disconnected(self, source: PoolSource) -> None:
        self.sources.remove(source)

    def statement(self, event: StatementEvent) -> None:
        self.events.append(event)

    def connection_wait(self, event: WaitEvent) -> None:
        self.events.append(event)

    def transaction_started(self, event: TransactionStart) -> object:
        self.events.append(event)
        return f"handle {len(self.events)}"

    def transaction_ended(self, started: object, event: TransactionEnd) -> None:
        self.events.append((started, event))

    def statements(self) -> list[StatementEvent]:
        return [e for e in self.events if isinstance(e, StatementEvent)]


class Broken(Observer):
    def statement(self, event: StatementEvent) -> None:
        raise RuntimeError("observer bug")

    def transaction_started(self, event: TransactionStart) -> object:
        raise RuntimeError("observer bug")


async def test_events_of_calls_and_a_transaction(database_url: str) -> None:
    recorder = Recorder()
    async with Database(database_url, observers=[recorder]) as db:
        assert recorder.sources == [db]
        (pool,) = db.pools()
        assert pool.server.name == "primary"
        assert pool.status.max_size == db.settings.connection_limit
        recorder.events.clear()
        user = await db.create_user(email="seam@example.com")
        async with db.transaction(readonly=True) as tx:
            await tx.get_user_by_id(user.id)
        with pytest.raises(ConflictError):
            await db.create_user(email="seam@example.com")
    assert recorder.sources == []
    kinds = [type(e).__name__ if not isinstance(e, tuple) else "end" for e in recorder.events]
    assert kinds == ["WaitEvent", "StatementEvent",  # create_user
                     "TransactionStart", "WaitEvent", "StatementEvent", "end",
                     "WaitEvent", "StatementEvent"]  # the conflict
    created, read, conflict = recorder.statements()
    assert (created.name, created.kind, created.operation, created.outcome) == (
        "create_user", "statement", "INSERT", "ok")
    assert created.server == Endpoint.from_dsn("primary", db.settings.dsn)
    assert "$1" in created.sql
    assert created.error is None
    assert created.sqlstate is None
    assert created.duration > 0
    assert (read.name, read.outcome) == ("get_user_by_id", "ok")
    assert (conflict.outcome, conflict.sqlstate) == ("error", "23505")
    assert isinstance(conflict.error, ConflictError)  # what the caller got
    start = recorder.events[2]
    assert isinstance(start, TransactionStart)
    assert start.readonly is True
    handle, end = recorder.events[5]
    assert handle == "handle 3"  # its own value from transaction_started
    assert end.outcome == "commit"
    assert end.duration > 0


async def test_a_failing_observer_fails_no_call(database_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="gatewaydb.observe")
    recorder = Recorder()
    async with Database(database_url, observers=[Broken(), recorder]) as db:
        user = await db.create_user(email="broken@example.com")
        async with db.transaction() as tx:
            assert await tx.get_user_by_id(user.id) == user
    assert [e.name for e in recorder.statements()][-2:] == ["create_user", "get_user_by_id"]
    assert "observer bug" in caplog.text


async def test_a_transaction_left_by_an_exception_is_a_rollback(database_url: str) -> None:
    recorder = Recorder()
    async with Database(database_url, observers=[recorder]) as db:
        with pytest.raises(KeyError):
            async with db.transaction():
                raise KeyError("the block's own")
    ((_, end),) = [e for e in recorder.events if isinstance(e, tuple)]
    assert end.outcome == "rollback"
    assert isinstance(end.error, KeyError)


@pytest.mark.parametrize(("sql", "operation"), [
    ("SELECT 1", "SELECT"),
    ("-- a comment\n  insert into t values ($1)", "INSERT"),
    ("WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved", "INSERT"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n + 1 FROM r) SELECT n FROM r", "SELECT"),
    ("WITH x AS MATERIALIZED (SELECT 'update') UPDATE t SET v = (SELECT * FROM x)", "UPDATE"),
    ("/* select */ DELETE FROM t", "DELETE"),
    ("", None),
])
def test_operation_of(sql: str, operation: str | None) -> None:
    assert operation_of(sql) == operation


@pytest.mark.parametrize(("dsn", "address", "port", "database"), [
    ("postgresql://u:p@db.internal:6543/gateway", "db.internal", 6543, "gateway"),
    ("postgresql://u@localhost/gateway", "localhost", 5432, "gateway"),
    ("postgresql://u@/gateway?host=/run/postgresql&port=5433", "/run/postgresql", 5433,
     "gateway"),
    ("postgresql://u@[::1]:5434/g", "::1", 5434, "g"),
    ("postgresql://u@db1:5432,db2:5433/g?target_session_attrs=read-write", "db1", 5432, "g"),
    ("postgresql://u@h", "h", 5432, None),
])
def test_endpoint_from_dsn(dsn: str, address: str, port: int, database: str | None) -> None:
    endpoint = Endpoint.from_dsn("primary", dsn)
    assert (endpoint.address, endpoint.port, endpoint.database) == (address, port, database)
    assert endpoint.pool_name == f"{address}:{port}/{database or ''}"
