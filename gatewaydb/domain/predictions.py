"""Predictions (SQL: ``sql/predictions.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["PredictionsAPI"]


class PredictionsAPI(DomainAPI):
    """Predictions operations."""

    __slots__ = ()
