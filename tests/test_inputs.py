"""Bad input across the API: InvalidInputError naming the field, nothing written, no value shown.

Each case here was once a raw Python error, a bare DatabaseError, or a silent change of the
stored value (NaN written as null). ``test_fuzz.py`` generates many more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from helpers import count_rows, expect_invalid, statements_run

from gatewaydb import Database, InvalidInputError
from gatewaydb.core.checks import check_json
from gatewaydb.gateway.models import (
    Asset,
    Campaign,
    CampaignUpdate,
    NewUser,
    User,
    UserUpdate,
)

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-value-never-shown"
NAN, INF = float("nan"), float("inf")


async def refused(db: Database, action: Awaitable[object], field: str,
                  *tables: str) -> InvalidInputError:
    """``action`` raises InvalidInputError naming ``field``, before any SQL and with no
    trace of SECRET in the error or what it chains; ``tables`` keep their row counts."""
    before = [await count_rows(db, t) for t in tables]
    ran = statements_run(db)
    error = await expect_invalid(action, field)
    assert statements_run(db) == ran, "refused after SQL ran"
    assert [await count_rows(db, t) for t in tables] == before
    assert SECRET not in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None
    return error


# -- update_* given a dict positionally ----------------------------------------------------


async def test_update_user_accepts_a_mapping_as_its_update(db: Database, user: User) -> None:
    updated = await db.update_user(user.id, {"name": "Ann"})
    assert updated.name == "Ann"
    assert (await db.update_user(user.id, UserUpdate(name="Bo"))).name == "Bo"


async def test_update_campaign_accepts_a_mapping_as_its_update(db: Database,
                                                               campaign: Campaign) -> None:
    updated = await db.update_campaign(campaign.id, {"status": "ACTIVE", "name": "Live"})
    assert (updated.status, updated.name) == ("ACTIVE", "Live")


@pytest.mark.parametrize(("update", "fields", "field"), [
    pytest.param({"nmae": "x"}, {}, "nmae", id="unknown-key"),
    pytest.param({"name": SECRET * 1000}, {}, "name", id="bad-value"),
    pytest.param({"name": "x"}, {"role": "ADMIN"}, "update", id="object-and-keywords"),
    pytest.param(UserUpdate(name="x"), {"name": "y"}, "update", id="model-and-keywords"),
    pytest.param(CampaignUpdate(name="x"), {}, "update", id="another-model"),
    pytest.param(["name", "x"], {}, "update", id="a-list"),
    pytest.param(SECRET, {}, "update", id="a-string"),
])
async def test_update_user_refuses_a_malformed_update(db: Database, user: User, update: Any,
                                                      fields: dict[str, Any], field: str) -> None:
    await refused(db, db.update_user(user.id, update, **fields), field)
    assert await db.get_user_by_id(user.id) == user


async def test_update_campaign_refuses_another_model(db: Database, campaign: Campaign) -> None:
    await refused(db, db.update_campaign(campaign.id, UserUpdate(name="x")), "update")
    await refused(db, db.update_campaign(campaign.id, {"budget": -1}), "budget")
    assert await db.get_campaign_by_id(campaign.id) == campaign


# -- create_clips given something that is not a list of clips -------------------------------


@pytest.mark.parametrize("clips", [None, 5, "clips", b"clips", {"asset_id": "x"}],
                         ids=["none", "int", "str", "bytes", "a-mapping"])
async def test_create_clips_refuses_what_is_not_an_iterable_of_clips(db: Database,
                                                                     clips: Any) -> None:
    await refused(db, db.create_clips(clips), "clips", "clips")


async def test_create_clips_refuses_json_the_copy_could_not_encode(db: Database,
                                                                  asset: Asset) -> None:
    good = {"asset_id": asset.id, "start_time": 0, "end_time": 1}
    await refused(db, db.create_clips([good, {**good, "features": {"a": {1: 2}}}]),
                  "clips[1].features", "clips")
    await refused(db, db.create_clip(asset.id, 0, 1, features={"a": {1: 2}}), "features",
                  "clips")


# -- text PostgreSQL cannot hold -------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b", "\udfff" + SECRET],
                         ids=["lone-surrogate", "nul", "trailing-surrogate"])
async def test_text_postgresql_cannot_hold_is_refused_by_field(db: Database, user: User,
                                                               asset: Asset, bad: str) -> None:
    await refused(db, db.get_user_by_api_key(bad), "key")
    await refused(db, db.get_user_by_email(bad), "email")
    await refused(db, db.create_user(email=f"x{bad}@example.com"), "email", "users")
    await refused(db, db.create_user(email="n@example.com", name=bad), "name", "users")
    await refused(db, db.create_user(email="k@example.com", api_key=bad * 8), "api_key",
                  "users")
    await refused(db, db.update_user(user.id, name=bad), "name")
    await refused(db, db.create_asset(user.id, bad, "gs://b/v.mp4"), "filename", "assets")
    await refused(db, db.create_clip(asset.id, 0, 1, features={"k": bad}), "features",
                  "clips")
    await refused(db, db.create_clip(asset.id, 0, 1, features={bad: 1}), "features", "clips")


async def test_campaign_and_experiment_text_is_checked(db: Database, user: User,
                                                       campaign: Campaign) -> None:
    await refused(db, db.create_campaign(user.id, "a\x00", "SALES", 1), "name", "campaigns")
    await refused(db, db.create_experiment(campaign.id, "e", [{"id": "a\x00"}, {"id": "b"}]),
                  "variants.0.id", "experiments")
    await refused(db, db.create_experiment(campaign.id, "e", [{"id": "a", "x": NAN},
                                                              {"id": "b"}]),
                  "variants.0", "experiments")
    experiment = await db.create_experiment(campaign.id, "e", [{"id": "a"}, {"id": "b"}])
    await refused(db, db.select_experiment_winner(experiment.id, "\ud800", 0.5), "variant_id")


# -- wrong types named, values not echoed --------------------------------------------------


@pytest.mark.parametrize(("call", "field"), [
    pytest.param(lambda db: db.get_user_by_email(5), "email", id="email-int"),
    pytest.param(lambda db: db.get_user_by_email(None), "email", id="email-none"),
    pytest.param(lambda db: db.get_user_by_api_key(12345678), "key", id="key-int"),
    pytest.param(lambda db: db.list_users(skip=2**63), "skip", id="skip-beyond-bigint"),
    pytest.param(lambda db: db.list_users(role=SECRET), "role", id="unknown-role"),
    pytest.param(lambda db: db.list_users(role=["USER"]), "role", id="role-a-list"),
    pytest.param(lambda db: db.delete_user(uuid4(), soft="false"), "soft", id="soft-a-string"),
    pytest.param(lambda db: db.get_user_by_id(SECRET), "id", id="bad-uuid"),
])
async def test_wrong_types_are_named_without_their_value(
        db: Database, call: Callable[[Database], Awaitable[object]], field: str) -> None:
    await refused(db, call(db), field)


async def test_an_empty_api_key_matches_no_one(db: Database) -> None:
    assert await db.get_user_by_api_key("") is None


# -- JSON: only JSON, finite numbers -------------------------------------------------------


@pytest.mark.parametrize("document", [
    {"a": NAN}, {"a": [1, INF]}, {"a": {"b": -INF}}, {"a": datetime(2025, 1, 1)},
    {"a": 2**64}, {"a": {1, 2}}, {"a": object()},
], ids=["nan", "inf-in-list", "minus-inf-nested", "datetime", "huge-int", "set", "object"])
async def test_json_that_would_not_round_trip_is_refused(db: Database, user: User,
                                                         document: dict[str, Any]) -> None:
    await refused(db, db.create_user(email="j@example.com", settings=document), "settings",
                  "users")
    await refused(db, db.update_user(user.id, settings=document), "settings")
    assert (await db.get_user_by_id(user.id)) == user


async def test_json_nesting_is_bounded(db: Database, user: User) -> None:
    deep: Any = 0
    for _ in range(5000):
        deep = [deep]
    error = await refused(db, db.update_user(user.id, settings={"d": deep}), "settings")
    assert "deeper" in str(error)
    shallow: Any = 0
    for _ in range(100):
        shallow = [shallow]
    assert (await db.update_user(user.id, settings={"d": shallow})).settings == {"d": shallow}


async def test_a_json_error_says_how_deep_but_not_which_key(db: Database, user: User) -> None:
    error = await refused(db, db.update_user(user.id, settings={SECRET: [0, {"b": NAN}]}),
                          "settings")
    assert "a value at depth 3 must be a finite number" in str(error)
    await refused(db, db.update_user(user.id, settings={5: SECRET}), "settings")


# -- naive datetimes -------------------------------------------------------------------------


async def test_naive_datetimes_are_refused_everywhere(db: Database, user: User,
                                                      campaign: Campaign) -> None:
    naive = datetime(2025, 1, 1)
    await refused(db, db.create_campaign(user.id, "c", "SALES", 1, start_date=naive),
                  "start_date", "campaigns")
    await refused(db, db.update_campaign(campaign.id, end_date=naive), "end_date")
    await refused(db, db.create_conversion(campaign.id, "META", 1, naive), "timestamp",
                  "conversions")
    await refused(db, db.list_conversions(campaign.id, start_date=naive), "start_date")


# -- secrets in input models -----------------------------------------------------------------


def test_new_user_masks_its_api_key() -> None:
    data = NewUser(email="a@example.com", api_key=SECRET)
    for shown in (repr(data), str(data), data.model_dump_json(), repr(data.model_dump())):
        assert SECRET not in shown
    assert data.api_key is not None
    assert data.api_key.get_secret_value() == SECRET


async def test_a_masked_key_still_authenticates(db: Database) -> None:
    user = await db.create_user(NewUser(email="m@example.com", api_key=SECRET))
    assert await db.get_user_by_api_key(SECRET) == user
    assert (await db.create_user(email="kw@example.com", api_key=SECRET + "2")).has_api_key



class _Float(float):
    pass


@pytest.mark.parametrize(("document", "storable"), [
    ({"a": [1, 2.5, None, True, "x", (1, 2)], "b": {"c": {}}}, True),
    ({"a": 2**64 - 1, "b": -(2**63)}, True),
    ({"a": 2**64}, False),
    ({"a": -(2**63) - 1}, False),
    ({"a": _Float(1.0)}, False),  # the encoder writes float itself, no subclass
    ({"a": Decimal("1.5")}, False),
    ({"a": b"bytes"}, False),
    ({"a\x00": 1}, False),
])
def test_which_json_is_storable(document: dict[str, Any], storable: bool) -> None:
    if storable:
        assert check_json(document) is document
    else:
        with pytest.raises(ValueError, match=r"^(a value at depth 1|it has a key)"):
            check_json(document)


async def test_a_platform_id_too_long_for_its_unique_index_is_refused(db: Database, user: User,
                                                                      campaign: Campaign) -> None:
    # 10,000 characters that do not compress exceed a btree entry; once a bare DatabaseError.
    long_id = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(10_000))
    await refused(db, db.create_campaign(user.id, "c", "SALES", 1, meta_campaign_id=long_id),
                  "meta_campaign_id", "campaigns")
    await refused(db, db.update_campaign(campaign.id, google_campaign_id=long_id),
                  "google_campaign_id")
    assert (await db.update_campaign(campaign.id, meta_campaign_id="m" * 200)).meta_campaign_id


# -- copy_records: the seam's bulk load --------------------------------------------------------
# Once a bare DatabaseError ("AttributeError: 'NoneType' object has no attribute 'replace'",
# "TypeError: 'int' object is not iterable") from inside the driver, after the COPY began.

_CLIP_COLUMNS = ["asset_id", "start_time", "end_time"]


@pytest.mark.parametrize(("table", "columns", "records", "constraints", "field"), [
    pytest.param(None, _CLIP_COLUMNS, [], None, "table", id="table-none"),
    pytest.param(7, _CLIP_COLUMNS, [], None, "table", id="table-int"),
    pytest.param("", _CLIP_COLUMNS, [], None, "table", id="table-empty"),
    pytest.param("c" * 64, _CLIP_COLUMNS, [], None, "table", id="table-too-long"),
    pytest.param(f"clips{SECRET}\x00", _CLIP_COLUMNS, [], None, "table", id="table-nul"),
    pytest.param("clips", "asset_id", [], None, "columns", id="columns-a-string"),
    pytest.param("clips", [], [], None, "columns", id="columns-empty"),
    pytest.param("clips", None, [], None, "columns", id="columns-none"),
    pytest.param("clips", ["asset_id", 5], [], None, "columns[1]", id="column-int"),
    pytest.param("clips", ["asset_id", "\ud800"], [], None, "columns[1]", id="column-surrogate"),
    pytest.param("clips", ["asset_id", "asset_id"], [], None, "columns", id="column-twice"),
    pytest.param("clips", _CLIP_COLUMNS, 5, None, "records", id="records-int"),
    pytest.param("clips", _CLIP_COLUMNS, SECRET, None, "records", id="records-a-string"),
    pytest.param("clips", _CLIP_COLUMNS, {"asset_id": 1}, None, "records", id="records-mapping"),
    pytest.param("clips", _CLIP_COLUMNS, [5], None, "records[0]", id="row-int"),
    pytest.param("clips", _CLIP_COLUMNS, [SECRET], None, "records[0]", id="row-a-string"),
    pytest.param("clips", _CLIP_COLUMNS, [{"asset_id": 1}], None, "records[0]", id="row-mapping"),
    pytest.param("clips", _CLIP_COLUMNS, [(uuid4(), 0, 1), (uuid4(), 0)], None, "records[1]",
                 id="row-too-short"),
    pytest.param("clips", _CLIP_COLUMNS, [(f"{SECRET}\x00", 0, 1)], None, "records[0]",
                 id="value-nul"),
    pytest.param("clips", _CLIP_COLUMNS, [], 5, "constraints", id="constraints-int"),
    pytest.param("clips", _CLIP_COLUMNS, [], {"clips_pkey": 5}, "constraints",
                 id="constraints-values"),
])
async def test_copy_records_refuses_malformed_arguments_before_any_sql(
        db: Database, asset: Asset, table: Any, columns: Any, records: Any, constraints: Any,
        field: str) -> None:
    await refused(db, db.copy_records(table, columns, records, constraints=constraints),
                  field, "clips")
    async with db.transaction() as tx:  # the transaction's copy_records, and it stays usable
        before = statements_run(db)
        await expect_invalid(tx.copy_records(table, columns, records, constraints=constraints),
                             field)
        assert statements_run(db) == before
        assert await tx.get_asset_by_id(asset.id) == asset


@pytest.mark.parametrize("row", [
    pytest.param((SECRET, 0, 15), id="uuid-column-given-text"),
    pytest.param(("ASSET", SECRET, 15), id="number-column-given-text"),
])
async def test_copy_records_refuses_a_value_its_column_cannot_store_without_showing_it(
        db: Database, asset: Asset, row: tuple[Any, ...]) -> None:
    record = tuple(asset.id if v == "ASSET" else v for v in row)
    with pytest.raises(InvalidInputError) as caught:
        await db.copy_records("clips", _CLIP_COLUMNS, [record])
    error = caught.value
    assert error.fields == ("records",)
    assert SECRET not in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert await count_rows(db, "clips") == 0
    # The well-formed load still works, the Gateway's create_clips through the same path.
    assert await db.copy_records("clips", _CLIP_COLUMNS, [(asset.id, 0, 15)]) == 1
    assert await db.create_clips([{"asset_id": asset.id, "start_time": 1, "end_time": 2}]) == 1


@pytest.mark.parametrize(("table", "columns", "field", "sqlstate"), [
    pytest.param("no_such_table", _CLIP_COLUMNS, "table", "42P01", id="table"),
    pytest.param("users", _CLIP_COLUMNS, "columns", "42703", id="column"),
])
async def test_copy_records_into_what_does_not_exist_names_the_argument(
        db: Database, asset: Asset, table: str, columns: list[str], field: str,
        sqlstate: str) -> None:
    for records in ([], [(asset.id, 0, 15)]):
        with pytest.raises(InvalidInputError) as caught:
            await db.copy_records(table, columns, records)
        assert (caught.value.fields, caught.value.sqlstate) == ((field,), sqlstate)
        assert caught.value.__context__ is None
    assert await count_rows(db, "users") == 1
    assert await count_rows(db, "clips") == 0
