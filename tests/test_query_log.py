"""The query log: ``log_queries`` (URL or keyword) logs each statement's SQL, name and duration
at INFO on ``gatewaydb.query``, with structured fields; parameter values only with
``log_parameters`` and never for a redacted statement."""

from __future__ import annotations

import logging

import anyio
import pytest

from gatewaydb import ConfigurationError, ConflictError, Database, Settings
from gatewaydb.core.registry import Registry
from gatewaydb.gateway._paths import sql_dir
from gatewaydb.gateway.users import api_key_digest

pytestmark = pytest.mark.anyio

FIELDS = {"statement", "duration_ms", "sql", "operation", "outcome", "error", "sqlstate",
          "params"}


def _records(caplog: pytest.LogCaptureFixture, statement: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == "gatewaydb.query" and getattr(r, "statement", None) == statement]


def _sql(statement: str) -> str:
    """``statement``'s text as the registry loads it from ``sql/``."""
    return Registry.load(sql_dir())[statement].sql


async def test_log_queries_in_the_url_logs_sql_name_and_duration_at_info(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    separator = "&" if "?" in database_url else "?"
    async with Database(f"{database_url}{separator}log_queries=true") as db:
        user = await db.create_user(email="log@example.com")
        await db.get_user_by_id(user.id)
    (record,) = _records(caplog, "get_user_by_id")
    assert record.levelno == logging.INFO
    fields = {name: getattr(record, name) for name in FIELDS}
    assert fields["sql"] == _sql("get_user_by_id")  # the exact text from sql/
    assert fields["operation"] == "SELECT"
    assert fields["outcome"] == "ok"
    assert fields["error"] is None
    assert fields["sqlstate"] is None
    assert fields["params"] is None  # no log_parameters
    assert 0 < fields["duration_ms"] < 60_000
    message = record.getMessage()
    assert message.startswith("get_user_by_id ")
    assert " ms params=<redacted>: SELECT " in message
    assert "\n" not in message  # the SQL on one line
    assert str(user.id) not in message
    # Every record has the fields, whatever the statement.
    for logged in caplog.records:
        if logged.name == "gatewaydb.query":
            assert set(vars(logged)) >= FIELDS, logged.getMessage()


async def test_without_log_queries_nothing_is_logged_at_info(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    async with Database(database_url) as db:
        await db.create_user(email="quiet@example.com")
    assert [r for r in caplog.records if r.name == "gatewaydb.query"] == []


async def test_parameters_only_with_log_parameters_and_never_for_secrets(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    async with Database(database_url, log_queries=True, log_parameters=True) as db:
        user = await db.create_user(email="params@example.com", api_key="key-secret-42")
        await db.get_user_by_id(user.id)
        assert await db.get_user_by_api_key("key-secret-42") == user
    (by_id,) = _records(caplog, "get_user_by_id")
    assert by_id.params == repr((user.id,))
    assert repr(user.id) in by_id.getMessage()
    for statement in ("create_user", "get_user_by_api_key"):
        (secret,) = _records(caplog, statement)
        assert secret.params is None, statement
        assert "params=<redacted>" in secret.getMessage()
    digest = api_key_digest("key-secret-42")
    assert "key-secret-42" not in caplog.text
    assert digest.hex() not in caplog.text
    assert repr(digest) not in caplog.text
    assert "params@example.com" not in caplog.text  # create_user is redacted as a whole


async def test_failures_and_cancellations_are_logged_with_their_outcome(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    async with Database(database_url, log_queries=True) as db:
        await db.create_user(email="twice@example.com")
        with pytest.raises(ConflictError):
            await db.create_user(email="twice@example.com")
        async with Database(database_url, connection_limit=1) as other, \
                other.transaction() as tx:
            await tx.connection.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            with anyio.move_on_after(0.3):
                await db.get_user_by_email("nobody@example.com")
    ok, failed = _records(caplog, "create_user")
    assert (ok.outcome, failed.outcome) == ("ok", "error")
    assert (failed.error, failed.sqlstate) == ("ConflictError", "23505")
    assert "failed: ConflictError" in failed.getMessage()
    (cancelled,) = _records(caplog, "get_user_by_email")
    assert cancelled.levelno == logging.INFO
    assert cancelled.outcome == "cancelled"
    assert cancelled.duration_ms is None
    assert cancelled.getMessage().startswith("get_user_by_email cancelled: SELECT ")


async def test_a_copy_is_logged_with_its_copy_command(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    async with Database(database_url, log_queries=True) as db:
        user = await db.create_user(email="copylog@example.com")
        asset = await db.create_asset(user.id, "v.mp4", "gs://bucket/v.mp4")
        await db.create_clips([{"asset_id": asset.id, "start_time": 0, "end_time": 5}])
    (copy,) = _records(caplog, "copy_clips")
    assert copy.operation == "COPY"
    assert copy.sql.startswith("COPY clips (")
    assert copy.sql.endswith("FROM STDIN (FORMAT binary)")


async def test_slow_statements_stay_at_warning_with_the_sql(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatewaydb.query")
    async with Database(database_url, log_queries=True, slow_query_threshold=1e-9) as db:
        await db.get_user_by_email("slow@example.com")
    (record,) = _records(caplog, "get_user_by_email")
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("slow statement get_user_by_email ")
    assert record.sql == _sql("get_user_by_email")


def test_log_queries_is_a_checked_setting() -> None:
    assert Settings.from_url("postgresql://h/db?log_queries=yes").log_queries is True
    assert Settings.from_url("postgresql://h/db").log_queries is False
    with pytest.raises(ConfigurationError, match="log_queries"):
        Settings.from_url("postgresql://h/db", log_queries="sometimes")
