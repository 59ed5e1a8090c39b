"""The ``gatewaydb`` command, run in-process through ``main([...])`` against the test server.

These are plain (sync) tests: ``main`` runs its own event loop. Each gets a fresh database
from ``database_url`` (migrated) or ``empty_database_url`` (no migrations).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import psycopg
import pytest

from gatewaydb import Database
from gatewaydb.app import migrate
from gatewaydb.app.cli import main
from gatewaydb.app.demo import STEPS
from gatewaydb.app.seed import ENTERPRISE_EMAIL, MODELS, seed_users
from gatewaydb.gateway._paths import migrations_dir
from gatewaydb.gateway.models import AssetStatus, CampaignStatus, ExperimentStatus

# Nothing listens on port 1; connect_timeout keeps the test short on a filtering firewall.
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/gateway?connect_timeout=2"

SUBCOMMANDS = [[], ["migrate"], ["rollback"], ["status"], ["seed"], ["reset"], ["check"],
               ["health"], ["demo"], ["resolve"], ["new-migration"], ["server"],
               ["server", "start"], ["server", "stop"], ["server", "status"], ["server", "url"]]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)``, with what it printed."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gatewaydb: error: "), err
    for word in words:
        assert word in lines[0]


@pytest.fixture
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)


# -- usage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c) or "gatewaydb")
def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str],
                                   command: list[str]) -> None:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: gatewaydb")


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2
    assert "usage: gatewaydb" in err


def test_bad_scale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "seed", "--scale", "0")
    assert code == 2
    assert "--scale" in err


# -- migrations ----------------------------------------------------------------------------


def test_migrate_then_status_shows_nothing_pending(capsys: pytest.CaptureFixture[str],
                                                   empty_database_url: str) -> None:
    url = empty_database_url
    ids = [m.id for m in migrate.status(url)]

    code, out, _ = run(capsys, "status", "--database-url", url)
    assert code == 0
    assert f"0 applied, {len(ids)} pending" in out

    code, out, _ = run(capsys, "migrate", "--database-url", url)
    assert code == 0
    assert [line.split()[1] for line in out.splitlines() if line.startswith("applied ")] == ids

    code, out, _ = run(capsys, "--database-url", url, "status")  # the option before it, too
    assert code == 0
    assert f"{len(ids)} applied, 0 pending" in out
    assert "PENDING" not in out

    code, out, _ = run(capsys, "migrate", "--database-url", url)
    assert (code, out.strip()) == (0, "database is up to date")


def test_two_migrates_at_once_apply_each_migration_once(empty_database_url: str) -> None:
    # yoyo's lock serialises them: one applies everything, the other finds nothing to do.
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(main, [["migrate", "--database-url", empty_database_url]] * 2))
    assert codes == [0, 0]
    assert migrate.pending(empty_database_url) == []


def test_rollback_to_and_migrate_round_trip(capsys: pytest.CaptureFixture[str],
                                            database_url: str) -> None:
    url = database_url
    ids = [m.id for m in migrate.status(url)]

    code, out, _ = run(capsys, "rollback", "--to", ids[1], "--yes", "--database-url", url)
    assert code == 0
    assert f"rolled back {ids[-1]}" in out
    assert f"rolled back {ids[2]}" in out
    assert [m.id for m in migrate.status(url) if not m.applied] == ids[2:]

    code, out, _ = run(capsys, "rollback", "--yes", "--database-url", url)  # just the latest
    assert code == 0
    assert out.splitlines()[0] == f"rolled back {ids[1]}"

    code, out, _ = run(capsys, "migrate", "--database-url", url)
    assert code == 0
    assert f"{len(ids) - 1} migration(s) applied" in out
    assert migrate.pending(url) == []


def test_rollback_to_an_unknown_migration(capsys: pytest.CaptureFixture[str],
                                          database_url: str) -> None:
    for confirm in ([], ["--yes"]):
        code, _, err = run(capsys, "rollback", "--to", "9999_nope", *confirm,
                           "--database-url", database_url)
        assert code == 2
        assert_one_line_error(err, "9999_nope")
    assert migrate.pending(database_url) == []


def test_rollback_without_yes_shows_what_it_would_drop_and_refuses(
        capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    assert run(capsys, "seed", "--database-url", database_url)[0] == 0
    conversions = anyio.run(count_conversions, database_url)
    assert conversions > 0
    latest = migrate.status(database_url)[-1].id

    code, out, err = run(capsys, "rollback", "--database-url", database_url)
    assert code == 2
    assert latest in out
    assert f"conversions ({conversions:,} rows)" in out
    assert_one_line_error(err, "--yes")
    assert migrate.pending(database_url) == []
    assert anyio.run(count_conversions, database_url) == conversions

    code, out, err = run(capsys, "rollback", "--to", "0001_base", "--database-url", database_url)
    assert code == 2
    assert "0002_users_assets_clips" in out
    assert "users (" in out
    assert_one_line_error(err, "rollback --to 0001_base --yes")
    assert migrate.pending(database_url) == []


def test_rollback_of_nothing_needs_no_confirmation(capsys: pytest.CaptureFixture[str],
                                                   empty_database_url: str) -> None:
    code, out, _ = run(capsys, "rollback", "--database-url", empty_database_url)
    assert (code, out.strip()) == (0, "nothing to roll back")


async def count_conversions(url: str) -> int:
    async with Database(url) as db, db.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM conversions"))


def test_resolve_marks_without_running(capsys: pytest.CaptureFixture[str],
                                       database_url: str) -> None:
    latest = migrate.status(database_url)[-1].id
    code, out, _ = run(capsys, "resolve", "--rolled-back", latest, "--database-url", database_url)
    assert code == 0
    assert f"marked {latest} as rolled back" in out
    assert migrate.pending(database_url) == [latest]
    assert anyio.run(count_conversions, database_url) == 0  # the table is still there

    code, _, err = run(capsys, "resolve", "--rolled-back", latest, "--database-url", database_url)
    assert code == 2
    assert_one_line_error(err, "already not applied")

    code, out, _ = run(capsys, "resolve", "--applied", latest, "--database-url", database_url)
    assert code == 0
    assert f"marked {latest} as applied" in out
    assert migrate.pending(database_url) == []

    code, _, err = run(capsys, "resolve", "--applied", "9999_nope", "--database-url",
                       database_url)
    assert code == 2
    assert_one_line_error(err, "9999_nope")


def test_new_migration_writes_the_next_pair(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    for source in migrations_dir().glob("*.sql"):
        shutil.copy(source, tmp_path / source.name)
    latest = max(p.name for p in tmp_path.glob("*.sql")).split(".")[0]
    number = int(latest.split("_")[0]) + 1

    code, out, _ = run(capsys, "new-migration", "Add clip tags", "--dir", str(tmp_path))
    assert code == 0
    forward = tmp_path / f"{number:04d}_add_clip_tags.sql"
    backward = tmp_path / f"{number:04d}_add_clip_tags.rollback.sql"
    assert forward.name in out
    assert backward.name in out
    assert f"-- depends: {latest}\n" in forward.read_text()
    assert backward.exists()

    code, out, _ = run(capsys, "new-migration", "more", "--dir", str(tmp_path))
    assert code == 0
    assert f"-- depends: {number:04d}_add_clip_tags\n" in (
        tmp_path / f"{number + 1:04d}_more.sql").read_text()

    code, _, err = run(capsys, "new-migration", "!!!", "--dir", str(tmp_path))
    assert code == 2
    assert_one_line_error(err, "name")

    # A directory that is not there is a bad argument (once "[Errno 2] ...", exit 1).
    code, _, err = run(capsys, "new-migration", "x", "--dir", str(tmp_path / "missing"))
    assert code == 2
    assert_one_line_error(err, "dir: is not a directory")
    assert not (tmp_path / "missing").exists()


# -- seed ----------------------------------------------------------------------------------


async def census(url: str) -> tuple[Counter[str], set[str]]:
    """Live row counts by model, walked through the public API, and what kinds were seen."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    async with Database(url) as db:
        users = await db.list_users(take=1000)
        counts["users"] = len(users)
        for user in users:
            for asset in await db.list_assets(user.id, take=1000, clips_per_asset=1):
                counts["assets"] += 1
                seen.add(f"asset:{asset.status.value}")
                for clip in await db.list_clips(asset_id=asset.id, take=1000):
                    counts["clips"] += 1
                    for p in await db.list_predictions(clip.id):
                        counts["predictions"] += 1
                        seen.add("prediction:" + ("actual" if p.actual_roas else "predicted"))
            for campaign in await db.list_campaigns(user.id, take=1000):
                counts["campaigns"] += 1
                seen.add(f"campaign:{campaign.status.value}")
                for experiment in await db.list_experiments(campaign.id):
                    counts["experiments"] += 1
                    seen.add(f"experiment:{experiment.status.value}")
                conversions = await db.list_conversions(campaign.id)
                counts["conversions"] += len(conversions)
                seen.update(f"source:{c.source.value}" for c in conversions)
                seen.update(f"month:{c.timestamp:%Y-%m}" for c in conversions)
    return counts, seen


def test_seed_is_realistic_and_idempotent(capsys: pytest.CaptureFixture[str],
                                          database_url: str) -> None:
    code, out, _ = run(capsys, "seed", "--database-url", database_url)
    assert code == 0
    key = re.search(r"^\s+(gw_\S+)$", out, re.MULTILINE)
    assert key is not None, out
    first, seen = anyio.run(census, database_url)
    assert first["users"] == len(seed_users(1))
    assert all(first[m] > 0 for m in MODELS), first
    assert {f"asset:{s.value}" for s in AssetStatus} <= seen
    assert {f"campaign:{s.value}" for s in CampaignStatus} <= seen
    assert {f"experiment:{ExperimentStatus.RUNNING.value}",
            f"experiment:{ExperimentStatus.COMPLETED.value}"} <= seen
    assert {"prediction:actual", "prediction:predicted"} <= seen
    assert len({s for s in seen if s.startswith("source:")}) >= 3
    assert len({s for s in seen if s.startswith("month:")}) >= 3

    async def authenticate() -> str | None:
        async with Database(database_url) as db:
            user = await db.get_user_by_api_key(key.group(1))
            return user.email if user else None

    assert anyio.run(authenticate) == ENTERPRISE_EMAIL

    code, out, _ = run(capsys, "seed", "--database-url", database_url)
    assert code == 0
    assert "gw_" not in out  # the key is shown once, when it is made
    assert f"{len(seed_users(1))} seed user(s) already existed" in out
    assert anyio.run(census, database_url)[0] == first


def test_seed_scale_adds_users(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    assert run(capsys, "seed", "--database-url", database_url)[0] == 0
    code, out, _ = run(capsys, "seed", "--scale", "2", "--database-url", database_url)
    assert code == 0
    added = len(seed_users(2)) - len(seed_users(1))
    assert re.search(rf"^users\s+{added}$", out, re.MULTILINE), out
    assert anyio.run(census, database_url)[0]["users"] == len(seed_users(2))


def test_seed_refuses_an_unmigrated_database(capsys: pytest.CaptureFixture[str],
                                             empty_database_url: str) -> None:
    code, _, err = run(capsys, "seed", "--database-url", empty_database_url)
    assert code == 1
    assert_one_line_error(err, "pending", "gatewaydb migrate")


# -- reset ---------------------------------------------------------------------------------


def enterprise_exists(url: str) -> bool:
    async def look() -> bool:
        async with Database(url) as db:
            return await db.get_user_by_email(ENTERPRISE_EMAIL) is not None
    return anyio.run(look)


def test_reset_without_yes_is_refused(capsys: pytest.CaptureFixture[str],
                                      database_url: str) -> None:
    assert run(capsys, "seed", "--database-url", database_url)[0] == 0
    code, out, err = run(capsys, "reset", "--database-url", database_url)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "--yes")
    assert enterprise_exists(database_url)
    assert migrate.pending(database_url) == []


def test_reset_with_yes_empties_and_remigrates(capsys: pytest.CaptureFixture[str],
                                              database_url: str) -> None:
    assert run(capsys, "seed", "--database-url", database_url)[0] == 0
    count = len(migrate.status(database_url))
    code, out, _ = run(capsys, "reset", "--yes", "--database-url", database_url)
    assert code == 0
    assert f"rolled back {count} migration(s), applied {count}" in out
    assert migrate.pending(database_url) == []
    assert not enterprise_exists(database_url)


# -- check and health ----------------------------------------------------------------------


def test_check_passes(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    code, out, _ = run(capsys, "check", "--database-url", database_url)
    assert code == 0
    assert "statements fit the live schema" in out


def test_check_fails_on_an_unmigrated_database(capsys: pytest.CaptureFixture[str],
                                               empty_database_url: str) -> None:
    code, out, err = run(capsys, "check", "--database-url", empty_database_url)
    assert code == 1
    assert out.strip()  # the problems, one per line
    assert_one_line_error(err, "gatewaydb migrate")


def health_text(out: str) -> dict[str, str]:
    """``gatewaydb health``'s lines as field name -> text."""
    return {m.group(1).replace(" ", "_"): m.group(2)
            for m in re.finditer(r"^([a-z][a-z ]*?)\s{2,}(.*)$", out, re.MULTILINE)}


def test_health_table_and_json(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    code, out, _ = run(capsys, "health", "--database-url", database_url)
    assert code == 0
    text = health_text(out)
    assert text["status"] == "healthy"
    assert text["pending_migrations"] == "none"
    assert text["contract"] == "ok"

    code, out, _ = run(capsys, "health", "--json", "--database-url", database_url)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["status"] == "healthy"
    assert report["reasons"] == []
    assert report["pending_migrations"] == []
    assert report["server_version"]
    assert report["pool"]["size"] >= 1
    assert [s["role"] for s in report["servers"]] == ["primary"]
    assert set(text) == set(report)  # text and JSON carry the same fields


def test_health_is_degraded_with_pending_migrations(capsys: pytest.CaptureFixture[str],
                                                    database_url: str) -> None:
    latest = migrate.status(database_url)[-1].id
    migrate.rollback(database_url)
    code, out, _ = run(capsys, "health", "--database-url", database_url)
    assert code == 1
    text = health_text(out)
    assert text["status"] == "degraded"
    assert text["pending_migrations"] == latest
    assert "1 migration pending — run `gatewaydb migrate`" in text["reasons"]
    assert text["contract"] == "failed"  # its statements need the rolled-back tables

    code, out, _ = run(capsys, "health", "--json", "--database-url", database_url)
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["status"], report["contract"]) == (False, "degraded", "failed")
    assert report["pending_migrations"] == [latest]
    assert len(report["reasons"]) == 2


def test_health_of_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "health", "--database-url", UNREACHABLE)
    assert code == 1
    text = health_text(out)
    assert text["status"] == "unhealthy"
    assert text["error"].startswith("cannot connect")

    code, out, _ = run(capsys, "health", "--json", "--database-url", UNREACHABLE)
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["status"]) == (False, "unhealthy")
    assert "cannot connect" in report["error"]
    assert report["servers"][0]["reachable"] is False


def test_the_apps_own_url_works_for_every_command(capsys: pytest.CaptureFixture[str],
                                                 database_url: str) -> None:
    # The README's DATABASE_URL: plain postgresql:// with gatewaydb's pool settings in it.
    url = f"{database_url}{'&' if '?' in database_url else '?'}connection_limit=5&pool_timeout=3"
    latest = migrate.status(database_url)[-1].id
    for command in (["status"], ["migrate"], ["check"], ["health"], ["seed"], ["rollback"],
                    ["rollback", "--yes"], ["resolve", "--applied", latest],
                    ["resolve", "--rolled-back", latest], ["migrate"], ["health", "--json"]):
        code, _, err = run(capsys, *command, "--database-url", url)
        assert code == (2 if command == ["rollback"] else 0), (command, err)
    assert migrate.pending(database_url) == []


@pytest.mark.parametrize("url", [
    "postgresql://postgres@127.0.0.1:1/gateway?connection_limit=lots",
    "postgresql://postgres@127.0.0.1:1/gateway?statement_cache=maybe",
    "mysql://root@127.0.0.1/gateway",
    "postgresql://postgres:pw@127.0.0.1:notaport/gateway",
    "postgresql://postgres:pw@127.0.0.1:99999/gateway",
    "postgresql://postgres:pw@[::1/gateway",
    "postgresql://postgres@127.0.0.1/gateway?port=abc",
], ids=["number", "boolean", "scheme", "port", "port-range", "ipv6", "port-parameter"])
@pytest.mark.parametrize("command", [["health"], ["status"], ["migrate"], ["seed"], ["check"],
                                     ["rollback"], ["resolve", "--applied", "0001_base"]],
                         ids=lambda c: c[0])
def test_a_bad_setting_is_a_usage_error(capsys: pytest.CaptureFixture[str], url: str,
                                        command: list[str]) -> None:
    code, out, err = run(capsys, *command, "--database-url", url)
    assert code == 2
    assert_one_line_error(err)
    assert out == ""


def test_a_malformed_replica_url_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  database_url: str) -> None:
    monkeypatch.setenv("DATABASE_REPLICA_URLS", "postgresql://postgres@127.0.0.1:bad/gateway")
    code, out, err = run(capsys, "health", "--database-url", database_url)
    assert code == 2
    assert_one_line_error(err, "replica 1: malformed URL")
    assert out == ""


def test_health_text_has_a_row_per_server(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch,
                                          database_url: str) -> None:
    quick = "connect_timeout=1&pool_timeout=1"
    monkeypatch.setenv("DATABASE_REPLICA_URLS", f"postgresql://postgres@127.0.0.1:1/gw?{quick}")
    url = f"{database_url}{'&' if '?' in database_url else '?'}{quick}"
    code, out, _ = run(capsys, "health", "--database-url", url)
    assert code == 1
    assert health_text(out)["status"] == "degraded"
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("servers "))
    assert re.match(r"servers\s+primary \S+ reachable [\d.]+ ms up$", lines[at]), out
    indent = lines[at].index("primary")
    replica = lines[at + 1]
    assert replica[:indent].isspace(), out  # under the first row, not a field of its own
    assert re.match(r"replica postgresql://postgres@127\.0\.0\.1:1/gw\S* UNREACHABLE down "
                    r"\(.+\)$", replica[indent:]), out
    assert lines[at + 2].startswith("error "), out

    code, out, _ = run(capsys, "health", "--json", "--database-url", url)
    report = json.loads(out)
    assert [(s["role"], s["reachable"]) for s in report["servers"]] == [("primary", True),
                                                                       ("replica", False)]


@pytest.mark.parametrize("command", [["migrate"], ["status"], ["rollback"], ["seed"], ["check"],
                                     ["reset", "--yes"], ["demo"]], ids=lambda c: c[0])
def test_unreachable_database_is_one_clear_line(capsys: pytest.CaptureFixture[str],
                                                command: list[str]) -> None:
    code, _, err = run(capsys, *command, "--database-url", UNREACHABLE)
    assert code == 1
    # The URL as the user wrote it (less gatewaydb's settings): not yoyo's driver scheme.
    assert_one_line_error(err, "cannot connect to postgresql://postgres@127.0.0.1:1/gateway")
    assert "Traceback" not in err


def test_database_url_from_the_environment(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    code, _, err = run(capsys, "status")
    assert code == 1
    assert_one_line_error(err, "127.0.0.1:1")


def test_console_script_exit_status_and_stderr() -> None:
    """The real process: exit status 1 and one line on stderr, no traceback."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "gatewaydb.app.cli", "status", "--database-url",
                           UNREACHABLE], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "cannot connect")
    assert done.stdout == ""


# -- demo ----------------------------------------------------------------------------------


def test_demo_runs_every_step_and_runs_again(capsys: pytest.CaptureFixture[str],
                                            empty_database_url: str) -> None:
    url = empty_database_url
    code, out, err = run(capsys, "demo", "--database-url", url)
    assert code == 0, out + err
    assert "applied 0001_base" in out
    assert "API key (shown once)" in out
    for name, _ in STEPS:
        assert re.search(rf"^  ✓ {re.escape(name)} \.{{3,}}\s+[\d.]+ m?s\b", out,
                         re.MULTILINE), name
    assert "✗" not in out
    assert f"{len(STEPS)} steps in" in out

    code, out, err = run(capsys, "demo", "--database-url", url)
    assert code == 0, out + err
    assert "up to date" in out
    assert "already seeded" in out
    assert "API key (shown once)" not in out


# -- the embedded server -------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             no_database_url: None) -> Iterator[Path]:
    """A data directory of its own (as root the server widens its parents' permissions)."""
    path = tmp_path / "embedded" / "pgdata"
    monkeypatch.setenv("GATEWAYDB_DATA_DIR", str(path))
    try:
        yield path
    finally:
        main(["server", "stop"])


@pytest.mark.slow
def test_server_start_status_url_stop(capsys: pytest.CaptureFixture[str],
                                      data_dir: Path) -> None:
    code, out, _ = run(capsys, "server", "status")
    assert code == 1
    assert "not running" in out
    code, _, err = run(capsys, "server", "url")
    assert code == 1
    assert_one_line_error(err, "gatewaydb server start")

    code, out, _ = run(capsys, "server", "start")
    assert code == 0
    url = out.strip().splitlines()[-1]
    assert url.startswith("postgresql://postgres@/gateway?host=")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("gateway",)

    assert run(capsys, "server", "status")[:2][0] == 0
    code, out, _ = run(capsys, "server", "url")
    assert (code, out.strip()) == (0, url)

    # A command without a URL uses the running server and leaves it running.
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert "applied 0001_base" in out
    assert run(capsys, "server", "status")[0] == 0

    code, out, _ = run(capsys, "server", "stop")
    assert code == 0
    assert "stopped" in out
    assert run(capsys, "server", "status")[0] == 1

    # A command that has to start the server stops it again; the data was kept.
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "0 pending" in out
    assert run(capsys, "server", "status")[0] == 1
