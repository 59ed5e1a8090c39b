"""The notes service's models and enum (its own, mapped to its own PostgreSQL enum)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Priority(StrEnum):
    LOW = "LOW"
    HIGH = "HIGH"


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    body: str
    priority: Priority
    tags: list[str]
