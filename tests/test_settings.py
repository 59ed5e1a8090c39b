"""Settings from the URL's query string and keyword overrides (no database needed)."""

from __future__ import annotations

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
    ],
)
def test_bad_settings_fail_at_construction(url: str, overrides: dict[str, object],
                                           message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_url(url, **overrides)
    with pytest.raises(ConfigurationError, match=message):
        Database(url, **overrides)


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
