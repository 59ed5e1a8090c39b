"""Assets: uploaded video files in Google Cloud Storage (SQL: ``sql/assets.sql``).

Deletion semantics:

* Soft delete (the default) sets the asset's own ``deleted_at``; every getter and list
  hides it from then on. Its clips are left as they are: a clip is hidden only by its own
  ``deleted_at`` (see :mod:`gatewaydb.domain.clips`), but no new clip can be added to a
  soft-deleted asset.
* Hard delete removes the row and, by the foreign keys, its clips and their predictions
  (ON DELETE CASCADE); conversions attributed to those clips keep their revenue and lose
  the attribution (ON DELETE SET NULL).
* The owner's soft delete does not hide the user's assets, but no new asset can be created
  for a soft-deleted user.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import FieldError, InvalidInputError
from . import queries as q
from ._base import DomainAPI, as_enum, as_uuid, found, validate, validate_page
from .models import Asset, AssetStatus, AssetWithClips, NewAsset, Unit

__all__ = ["AssetsAPI"]

MAX_CLIPS_PER_ASSET = 100


class _AssetListing(BaseModel):
    """``list_assets``' filters, checked before the query runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: UUID
    status: AssetStatus | None
    clips_min_score: Unit | None
    # strict: True is not a clip count.
    clips_per_asset: Annotated[int, Field(strict=True, ge=1, le=MAX_CLIPS_PER_ASSET)]


class AssetsAPI(DomainAPI):
    """Uploaded assets: create, read, change status, delete, list with their best clips."""

    __slots__ = ()

    async def create_asset(self, user_id: UUID | str | NewAsset, filename: str | None = None,
                           gcs_url: str | None = None, original_name: str | None = None,
                           mime_type: str | None = None, file_size: int | None = None,
                           gcs_bucket: str | None = None, gcs_path: str | None = None,
                           duration: float | None = None, width: int | None = None,
                           height: int | None = None) -> Asset:
        """Create an asset (status PENDING) owned by a live user.

        Args:
            user_id: the owner, or a :class:`NewAsset` holding every field.
            filename: required unless ``user_id`` is a NewAsset; so is ``gcs_url``.

        Raises:
            InvalidInputError: a missing or bad field (negative size or duration, ...).
            NotFoundError: the user does not exist or is soft-deleted (checked in the same
                statement: the foreign key alone would accept a soft-deleted user).
        """
        data = user_id if isinstance(user_id, NewAsset) else validate(
            NewAsset, user_id=user_id, filename=filename, gcs_url=gcs_url,
            original_name=original_name, mime_type=mime_type, file_size=file_size,
            gcs_bucket=gcs_bucket, gcs_path=gcs_path, duration=duration, width=width,
            height=height)
        asset = await self.run(q.create_asset(
            data.user_id, data.filename, data.original_name, data.mime_type, data.file_size,
            data.gcs_url, data.gcs_bucket, data.gcs_path, data.duration, data.width,
            data.height))
        return found(asset, "user", data.user_id)

    async def get_asset_by_id(self, id: UUID | str) -> Asset | None:
        """The live asset with this id, or None (also for a soft-deleted one)."""
        return await self.run(q.get_asset_by_id(as_uuid(id)))

    async def update_asset_status(self, id: UUID | str, status: AssetStatus | str) -> Asset:
        """Set a live asset's processing status (``PENDING`` … ``READY``/``FAILED``).

        Raises:
            InvalidInputError: an unknown status.
            NotFoundError: no live asset has this id.
        """
        new_status = as_enum(AssetStatus, status, "status")
        if new_status is None:
            raise InvalidInputError([FieldError("status", "is required")])
        asset = await self.run(q.update_asset_status(as_uuid(id), new_status))
        return found(asset, "asset", id)

    async def delete_asset(self, id: UUID | str, soft: bool = True) -> None:
        """Delete an asset: soft by default (hidden from every getter; clips untouched).

        ``soft=False`` removes the row (also one already soft-deleted) and, by cascade, its
        clips and their predictions; conversions attributed to those clips keep their
        revenue with ``attributed_clip_id`` set to NULL.

        Raises:
            NotFoundError: no such asset (for a soft delete: no live one).
        """
        await self._delete(q.soft_delete_asset, q.hard_delete_asset, soft, "asset", id)

    async def list_assets(self, user_id: UUID | str, status: AssetStatus | str | None = None,
                          *, skip: int = 0, take: int = 20,
                          clips_min_score: float | None = None,
                          clips_per_asset: int = 5) -> list[AssetWithClips]:
        """A page of a user's live assets, newest first, each with its best clips and owner.

        One statement, one round trip whatever ``take`` is (no query per asset).

        Args:
            status: only assets in this status.
            skip, take: the page; ``skip >= 0``, ``1 <= take <= 1000``.
            clips_min_score: only clips scored at least this (``0..1``); None keeps unscored
                clips too.
            clips_per_asset: at most this many clips per asset (``1..100``), live ones only,
                by score descending (unscored last), then id.

        Raises:
            InvalidInputError: a bad id, status, page or clip filter.
        """
        validate_page(skip, take)
        args = validate(_AssetListing, user_id=user_id, status=status,
                        clips_min_score=clips_min_score, clips_per_asset=clips_per_asset)
        return await self.run(q.list_assets(args.user_id, args.status, skip, take,
                                            args.clips_min_score, args.clips_per_asset))
