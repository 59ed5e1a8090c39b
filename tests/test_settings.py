"""Settings from the URL's query string and keyword overrides (no database needed)."""

from __future__ import annotations

import re

import pytest

from gatewaydb import Database, Settings
from gatewaydb.core.errors import ConfigurationError


def test_defaults_follow_the_seed() -> None:
    s = Settings.from_url("postgresql://u@h/db")
    assert (s.connection_limit, s.pool_timeout, s.connect_timeout) == (10, 20.0, 10.0)
    assert s.statement_timeout is None
    assert s.statement_cache
    assert s.check_schema
    assert s.dsn == "postgresql://u@h/db"


def test_url_parameters_are_read_and_stripped_and_others_pass_through() -> None:
    s = Settings.from_url("postgres://u:secret@h:6432/db?connection_limit=20&pool_timeout=30"
                          "&statement_timeout=1.5&application_name=api&sslmode=disable")
    assert (s.connection_limit, s.pool_timeout, s.statement_timeout) == (20, 30.0, 1.5)
    assert s.application_name == "api"
    assert s.dsn == "postgresql://u:secret@h:6432/db?sslmode=disable"
    assert "secret" not in s.public_dsn()


def test_keyword_overrides_win_over_the_url() -> None:
    s = Settings.from_url("postgresql://h/db?connection_limit=20", connection_limit=3,
                          statement_cache=False)
    assert s.connection_limit == 3
    assert s.statement_cache is False


@pytest.mark.parametrize(
    ("url", "overrides", "message"),
    [
        pytest.param("postgresql://h/db?connection_limit=ten", {},
                     "connection_limit must be a whole", id="not-a-number"),
        pytest.param("postgresql://h/db?connection_limit=0", {}, "at least 1", id="zero-limit"),
        pytest.param("postgresql://h/db?pool_timeout=-1", {}, "positive number",
                     id="negative-timeout"),
        pytest.param("postgresql://h/db?statement_cache=maybe", {}, "true or false", id="bad-bool"),
        pytest.param("postgresql://h/db", {"pool_size": 3}, "unknown setting", id="unknown-kwarg"),
        pytest.param("mysql://h/db", {}, "unsupported URL scheme", id="scheme"),
        pytest.param("postgresql://u:pw@h:notaport/db", {}, "port 'notaport' is not a number",
                     id="port-not-a-number"),
        pytest.param("postgresql://u:pw@h:99999/db", {}, "port '99999' is not a number",
                     id="port-out-of-range"),
        pytest.param("postgresql://u:pw@h1:5432,h2:x/db", {}, "port 'x'", id="failover-port"),
        pytest.param("postgresql://u:pw@[::1/db", {}, "malformed URL", id="unclosed-ipv6"),
        pytest.param("postgresql://u:pw@::1/db", {}, r"\[address\]:port", id="bare-ipv6"),
        pytest.param("postgresql://u@/db?host=/run/pg&port=abc", {}, "port 'abc'",
                     id="port-parameter"),
    ],
)
def test_bad_settings_fail_at_construction(url: str, overrides: dict[str, object],
                                           message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_url(url, **overrides)
    with pytest.raises(ConfigurationError, match=message):
        Database(url, **overrides)


@pytest.mark.parametrize("url", [
    "postgresql://u:pw@db1:5432,db2:5433/gw?target_session_attrs=read-write",
    "postgresql://u:pw@[::1]:5432,[fe80::1]/gw", "postgresql://u@/gw?host=/run/pg&port=5433",
    "postgresql:///gw", "postgresql://h:5432/gw",
])
def test_well_formed_hosts_are_accepted(url: str) -> None:
    assert Settings.from_url(url).public_dsn().count("pw") == 0


def test_a_malformed_url_names_neither_user_nor_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_url("postgresql://someone:hunter2@h:5432x/db")
    assert "hunter2" not in str(caught.value)
    assert "someone" not in str(caught.value)


@pytest.mark.parametrize(("replicas", "message"), [
    (["postgresql://u@h:bad/db"], "replica 1: malformed URL: port 'bad'"),
    (["postgresql://u@h/db", "mysql://h/db"], "replica 2: unsupported URL scheme"),
    (["postgresql://u@h/db?connection_limit=lots"], "replica 1: connection_limit"),
    ([None], "replicas must be a list of URLs"),
])
def test_a_malformed_replica_url_fails_at_construction(replicas: list[object],
                                                       message: str) -> None:
    # A typo is a configuration error, not a replica that is down.
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Database("postgresql://u@h/db", replicas=replicas)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_malformed_replica_url_from_the_environment_fails_connect(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATABASE_REPLICA_URLS", f"{database_url},postgresql://u@h:bad/db")
    db = Database()
    with pytest.raises(ConfigurationError, match="replica 2: malformed URL"):
        await db.connect()
    assert not db.is_connected()


def test_missing_url_is_reported_when_settings_are_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db = Database()  # constructing reads nothing: `import gatewaydb` must never fail
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        _ = db.settings
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/from_env?connection_limit=4")
    assert Database().settings.connection_limit == 4


def test_get_instance_is_the_module_level_db() -> None:
    import gatewaydb

    assert Database.get_instance() is gatewaydb.db
