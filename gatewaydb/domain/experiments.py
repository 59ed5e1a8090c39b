"""Experiments (SQL: ``sql/experiments.sql``)."""

from __future__ import annotations

from ._base import DomainAPI

__all__ = ["ExperimentsAPI"]


class ExperimentsAPI(DomainAPI):
    """Experiments operations."""

    __slots__ = ()
