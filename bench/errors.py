"""The bench's one error: it cannot produce a fair figure, and says why."""

from __future__ import annotations

__all__ = ["BenchError"]


class BenchError(Exception):
    """E.g. both sides returned different rows, or the database is not the bench's own."""
