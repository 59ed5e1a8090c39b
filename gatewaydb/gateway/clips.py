"""Clips: scored segments of an asset (SQL: ``sql/clips.sql``).

Deletion semantics:

* Soft delete (the default) sets the clip's own ``deleted_at``; every getter and list,
  :meth:`ClipsAPI.get_top_clips` and the clips embedded by ``list_assets`` hide it.
* A clip is hidden only by its own ``deleted_at``: soft-deleting its asset leaves it
  readable, which keeps the hot path a single-table index read. No clip can be created for
  a missing or soft-deleted asset.
* Hard delete removes the row and its predictions (ON DELETE CASCADE); conversions
  attributed to it keep their revenue and lose the attribution (ON DELETE SET NULL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ..core.checks import safe_name
from ..core.errors import FieldError, InvalidInputError, NotFoundError
from . import queries as q
from ._base import MAX_TAKE, DomainAPI, as_enum, as_uuid, found, validate, validate_page
from .models import Clip, ClipScoring, ClipStatus, NewClip, Unit

__all__ = ["ClipsAPI"]

# create_clips' COPY target; the order is that of _insert_values.
_TABLE = "clips"
_COPY_COLUMNS = ("asset_id", "start_time", "end_time", "duration", "features", "has_text",
                 "has_speech")

ClipRecord = tuple[UUID, float, float, float, dict[str, Any], bool, bool]


class _TopClipsQuery(BaseModel):
    """``get_top_clips``' arguments, checked before the query runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_id: UUID
    # strict: True is not a limit.
    limit: Annotated[int, Field(strict=True, ge=1, le=MAX_TAKE)]
    min_score: Unit


def _insert_values(clip: NewClip) -> ClipRecord:
    """A clip's column values, as both create_clip and the COPY of create_clips send them.

    ``duration`` defaults to ``end_time - start_time``, ``features`` to ``{}``.
    """
    duration = clip.duration if clip.duration is not None else clip.end_time - clip.start_time
    return (clip.asset_id, clip.start_time, clip.end_time, duration, clip.features or {},
            clip.has_text, clip.has_speech)


# One validator call for the whole batch: no per-item Python overhead; NewClip instances
# pass through without revalidation.
_MANY = TypeAdapter(list[NewClip])


def _item_error(error: ErrorDetails) -> FieldError:
    index, *path = error["loc"]
    return FieldError(f"clips[{index}]" + "".join(f".{safe_name(p)}" for p in path),
                      error["msg"])


def _validate_all(clips: Iterable[NewClip | Mapping[str, Any]]) -> list[ClipRecord]:
    """Every item as a record, or InvalidInputError naming each bad ``clips[i].field``."""
    # A mapping or a string is iterable too, but iterating it would validate its keys or
    # characters as clips: refuse it as a whole.
    if not isinstance(clips, Iterable) or isinstance(clips, str | bytes | Mapping | BaseModel):
        raise InvalidInputError([FieldError(
            "clips", "must be an iterable (a list, say) of NewClip or mappings")])
    try:
        valid = _MANY.validate_python(list(clips))
    except ValidationError as exc:
        errors = [_item_error(e) for e in exc.errors(include_url=False, include_input=False,
                                                     include_context=False)]
    else:
        return [_insert_values(clip) for clip in valid]
    raise InvalidInputError(errors)  # not chained: the ValidationError repeats the values


class ClipsAPI(DomainAPI):
    """Clips: create one or many, score, rank (top clips), list and delete."""

    __slots__ = ()

    async def create_clip(self, asset_id: UUID | str | NewClip, start_time: float | None = None,
                          end_time: float | None = None, duration: float | None = None,
                          features: dict[str, Any] | None = None, has_text: bool = False,
                          has_speech: bool = False) -> Clip:
        """Create a clip (status PENDING, unscored) of a live asset.

        Args:
            asset_id: the asset, or a :class:`NewClip` holding every field.
            start_time, end_time: seconds into the asset, ``0 <= start_time < end_time``;
                required unless ``asset_id`` is a NewClip.
            duration: defaults to ``end_time - start_time``.
            features: detected features (a JSON object); defaults to ``{}``.

        Raises:
            InvalidInputError: a missing or bad field, ``end_time <= start_time``.
            NotFoundError: the asset does not exist or is soft-deleted.
        """
        data = asset_id if isinstance(asset_id, NewClip) else validate(
            NewClip, asset_id=asset_id, start_time=start_time, end_time=end_time,
            duration=duration, features=features, has_text=has_text, has_speech=has_speech)
        clip = await self.run(q.create_clip(*_insert_values(data)))
        return found(clip, "asset", data.asset_id)

    async def create_clips(self, clips: Iterable[NewClip | Mapping[str, Any]]) -> int:
        """Bulk-create clips with one binary COPY; all of them or none.

        Every item is validated first (fields and defaults as in :meth:`create_clip`), then
        one statement checks that every asset named is live, then one COPY writes the rows.

        Args:
            clips: :class:`NewClip` objects or mappings of NewClip's fields.

        Returns:
            The number of clips written (0 for an empty iterable, without any query).

        Raises:
            InvalidInputError: naming each bad item and field, e.g. ``clips[3].end_time``.
            NotFoundError: an asset is missing or soft-deleted; nothing was written.
            ForeignKeyError: an asset was hard-deleted between the check and the COPY.
        """
        records = _validate_all(clips)
        if not records:
            return 0
        asset_ids = list(dict.fromkeys(r[0] for r in records))
        live = set(await self.run(q.live_asset_ids(asset_ids)) or ())
        missing = [a for a in asset_ids if a not in live]
        if missing:
            raise NotFoundError("asset", missing[0] if len(missing) == 1 else missing)
        return await self.copy_records(_TABLE, _COPY_COLUMNS, records,
                                       constraints=q.CLIP_KEYS)

    async def get_clip_by_id(self, id: UUID | str) -> Clip | None:
        """The live clip with this id, or None (also for a soft-deleted one)."""
        return await self.run(q.get_clip_by_id(as_uuid(id)))

    async def update_clip_scoring(self, id: UUID | str, score: float | ClipScoring,
                                  viral_score: float | None = None,
                                  engagement_score: float | None = None,
                                  rank: int | None = None,
                                  status: ClipStatus | str = ClipStatus.SCORED) -> Clip:
        """Record a live clip's scores; ``score`` and ``status`` are always set.

        ``viral_score``, ``engagement_score`` and ``rank`` left as None keep their stored
        value. Scores are in ``0..1``; ``rank >= 1``.

        Args:
            score: the overall score, or a :class:`ClipScoring` holding every field.

        Raises:
            InvalidInputError: a score outside ``0..1``, a rank below 1, an unknown status.
            NotFoundError: no live clip has this id.
        """
        data = score if isinstance(score, ClipScoring) else validate(
            ClipScoring, score=score, viral_score=viral_score,
            engagement_score=engagement_score, rank=rank, status=status)
        clip = await self.run(q.update_clip_scoring(as_uuid(id), data.score, data.viral_score,
                                                    data.engagement_score, data.rank, data.status))
        return found(clip, "clip", id)

    async def get_top_clips(self, asset_id: UUID | str, limit: int = 10,
                            min_score: float = 0.0) -> list[Clip]:
        """An asset's best live clips: ``score >= min_score``, best first, then by id.

        Unscored clips are never included. One read of ``clips_top_by_asset_idx`` in
        index order, stopping after ``limit`` rows.

        Args:
            limit: at most this many clips, ``1..1000``.
            min_score: the lowest score included, ``0..1``.

        Raises:
            InvalidInputError: a bad id, limit or min_score.
        """
        args = validate(_TopClipsQuery, asset_id=asset_id, limit=limit, min_score=min_score)
        return await self.run(q.get_top_clips(args.asset_id, args.min_score, args.limit))

    async def list_clips(self, asset_id: UUID | str | None = None,
                         status: ClipStatus | str | None = None, *, skip: int = 0,
                         take: int = 100) -> list[Clip]:
        """A page of live clips, oldest first, optionally of one asset and/or status.

        Raises:
            InvalidInputError: a bad page (``skip >= 0``, ``1 <= take <= 1000``), id or
                status.
        """
        validate_page(skip, take)
        asset = as_uuid(asset_id, "asset_id") if asset_id is not None else None
        return await self.run(q.list_clips(skip, take, asset,
                                           as_enum(ClipStatus, status, "status")))

    async def delete_clip(self, id: UUID | str, soft: bool = True) -> None:
        """Delete a clip: soft by default (hidden from every getter and list).

        ``soft=False`` removes the row (also one already soft-deleted) and, by cascade, its
        predictions; conversions attributed to it keep their revenue with
        ``attributed_clip_id`` set to NULL.

        Raises:
            NotFoundError: no such clip (for a soft delete: no live one).
        """
        await self._delete(q.soft_delete_clip, q.hard_delete_clip, soft, "clip", id)
