"""examples/fastapi_app.py over httpx's ASGI transport: the lifespan opens and closes the
Database, every route answers, errors become HTTP statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from examples.fastapi_app import create_app
from gatewaydb import Database

pytestmark = pytest.mark.anyio

KEY = "gw_fastapi_example_key"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(database_url)
    # httpx's transport does not run lifespans; the app's own context does.
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers={"X-API-Key": KEY}) as http:
        yield http


async def test_every_hot_path_over_http(app: FastAPI, client: httpx.AsyncClient) -> None:
    db: Database = app.state.db
    user = await db.create_user(email="api@example.com", api_key=KEY)
    asset = await db.create_asset(user.id, "v.mp4", "gs://b/v.mp4")
    await db.update_asset_status(asset.id, "READY")
    campaign = await db.create_campaign(user.id, "Sale", "SALES", 100)

    me = await client.get("/me")
    assert (me.status_code, me.json()["email"]) == (200, "api@example.com")
    made = await client.post(f"/assets/{asset.id}/clips",
                             json={"start_time": 0, "end_time": 5})
    assert made.status_code == 201
    await db.update_clip_scoring(made.json()["id"], score=0.9)
    top = await client.get(f"/assets/{asset.id}/top-clips", params={"min_score": 0.5})
    assert [c["id"] for c in top.json()] == [made.json()["id"]]
    assets = await client.get("/assets")
    assert [a["filename"] for a in assets.json()] == ["v.mp4"]
    report = await client.get("/reports/ready-assets")
    assert [(a["filename"], len(a["clips"])) for a in report.json()] == [("v.mp4", 1)]
    metrics = await client.put(f"/campaigns/{campaign.id}/metrics",
                               json={"total_spend": "12.50", "total_conversions": 3})
    assert metrics.json()["total_spend"] == "12.50"
    stats = await client.get("/campaigns/stats")
    assert (stats.json()["campaign_count"], stats.json()["total_conversions_sum"]) == (1, 3)
    await db.create_conversion(campaign.id, "META", "9.99", "2025-06-01T10:00:00Z")
    conversions = await client.get(f"/campaigns/{campaign.id}/conversions",
                                   params={"start_date": "2025-06-01T00:00:00Z"})
    assert [c["value"] for c in conversions.json()] == ["9.99"]


async def test_errors_become_statuses(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get("/me")).status_code == 401
    db: Database = app.state.db
    user = await db.create_user(email="api@example.com", api_key=KEY)
    missing = await client.post(f"/assets/{user.id}/clips",
                                json={"start_time": 0, "end_time": 5})
    assert (missing.status_code, missing.json()["error"]) == (404, "NotFoundError")
    bad = await client.get(f"/assets/{user.id}/top-clips", params={"limit": 0})
    assert (bad.status_code, bad.json()["fields"]) == (422, ["limit"])


async def test_the_lifespan_closes_the_database(database_url: str) -> None:
    application = create_app(database_url)
    async with application.router.lifespan_context(application):
        db: Database = application.state.db
        assert db.is_connected()
    assert not db.is_connected()
