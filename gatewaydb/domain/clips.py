"""Clips (SQL: ``sql/clips.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["ClipsAPI"]


class ClipsAPI(DomainAPI):
    """Clips operations."""

    __slots__ = ()
