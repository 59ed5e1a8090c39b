"""A FastAPI service on gatewaydb: the lifespan opens and closes one ``Database``, a dependency
hands it to the routes, and each hot path of the Gateway API has its route.

Run it (``pip install fastapi uvicorn``)::

    DATABASE_URL=postgresql://... uvicorn --factory examples.fastapi_app:create_app

Authentication is the seed's: an ``X-API-Key`` header, looked up by ``get_user_by_api_key``.
gatewaydb's typed errors become HTTP statuses in one place (:data:`_STATUS`). To stay short, the
routes check who is calling but not that the asset or campaign is theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from examples.reports import SQL_DIR, queries
from examples.reports.models import AssetWithBestClips
from gatewaydb import (
    ConflictError,
    Database,
    ForeignKeyError,
    GatewayDBError,
    InvalidInputError,
    NotFoundError,
    PoolTimeoutError,
)
from gatewaydb.gateway.models import (
    AssetWithClips,
    Campaign,
    CampaignStats,
    Clip,
    Conversion,
    User,
)

# Most specific first: the first class an error is an instance of gives its status.
_STATUS: list[tuple[type[GatewayDBError], int]] = [
    (NotFoundError, 404), (InvalidInputError, 422), (ConflictError, 409),
    (ForeignKeyError, 409), (PoolTimeoutError, 503)]


def database(request: Request) -> Database:
    """The app's one Database, opened by the lifespan."""
    db: Database = request.app.state.db
    return db


DB = Annotated[Database, Depends(database)]


async def current_user(db: DB, x_api_key: Annotated[str, Header()]) -> User:
    """The user holding the request's API key, or 401."""
    user = await db.get_user_by_api_key(x_api_key)
    if user is None:
        raise HTTPException(401, "unknown API key")
    return user


Me = Annotated[User, Depends(current_user)]


class NewClipBody(BaseModel):
    start_time: float
    end_time: float


class MetricsBody(BaseModel):
    total_spend: Decimal | None = None
    total_impressions: int | None = None
    total_clicks: int | None = None
    total_conversions: int | None = None


def create_app(database_url: str | None = None) -> FastAPI:
    """The app; ``database_url`` None reads ``$DATABASE_URL`` at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The Gateway's statements plus the reporting service's own, checked at startup.
        async with Database(database_url, sql_paths=[SQL_DIR], queries=[queries]) as db:
            app.state.db = db
            yield

    app = FastAPI(title="gatewaydb example", lifespan=lifespan)

    @app.exception_handler(GatewayDBError)
    async def gatewaydb_error(request: Request, exc: GatewayDBError) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
        fields = exc.fields if isinstance(exc, InvalidInputError) else ()
        return JSONResponse({"error": type(exc).__name__, "fields": list(fields)}, status)

    @app.get("/me")
    async def me(user: Me) -> User:
        return user

    @app.get("/assets")
    async def list_assets(db: DB, user: Me, skip: int = 0,
                          take: int = 20) -> list[AssetWithClips]:
        return await db.list_assets(user.id, skip=skip, take=take)

    @app.get("/assets/{asset_id}/top-clips")
    async def top_clips(db: DB, user: Me, asset_id: UUID, limit: int = 10,
                        min_score: float = 0.0) -> list[Clip]:
        return await db.get_top_clips(asset_id, limit=limit, min_score=min_score)

    @app.post("/assets/{asset_id}/clips", status_code=201)
    async def create_clip(db: DB, user: Me, asset_id: UUID, body: NewClipBody) -> Clip:
        return await db.create_clip(asset_id, body.start_time, body.end_time)

    @app.get("/campaigns/stats")
    async def campaign_stats(db: DB, user: Me) -> CampaignStats:
        return await db.campaign_stats(user.id)

    @app.put("/campaigns/{campaign_id}/metrics")
    async def update_metrics(db: DB, user: Me, campaign_id: UUID,
                             body: MetricsBody) -> Campaign:
        return await db.update_campaign_metrics(campaign_id, **body.model_dump())

    @app.get("/campaigns/{campaign_id}/conversions")
    async def conversions(db: DB, user: Me, campaign_id: UUID,
                          start_date: datetime | None = None,
                          end_date: datetime | None = None) -> list[Conversion]:
        return await db.list_conversions(campaign_id, start_date, end_date)

    @app.get("/reports/ready-assets")
    async def ready_assets(db: DB, user: Me, min_score: float = 0.8,
                           clips_per_asset: int = 5) -> list[AssetWithBestClips]:
        # The service's own statement, run like the Gateway's.
        return await db.run(queries.ready_assets_with_best_clips(
            user.id, min_score=min_score, clips_per_asset=clips_per_asset))

    return app
