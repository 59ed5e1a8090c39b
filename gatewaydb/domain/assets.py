"""Assets (SQL: ``sql/assets.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["AssetsAPI"]


class AssetsAPI(DomainAPI):
    """Assets operations."""

    __slots__ = ()
