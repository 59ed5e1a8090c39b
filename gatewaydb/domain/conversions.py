"""Conversions (SQL: ``sql/conversions.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["ConversionsAPI"]


class ConversionsAPI(DomainAPI):
    """Conversions operations."""

    __slots__ = ()
