"""The notes service's declarations, one per statement of ``sql/notes.sql``."""

from __future__ import annotations

from gatewaydb.core import command, row, rows, value

from .models import Note, Priority

#: The unique constraint on notes.title guards the ``title`` field.
_TITLE = {"notes_title_key": "title"}


@row(Note, constraints=_TITLE)
def create_note(title: str, body: str = "", priority: Priority = Priority.LOW,
                tags: list[str] | None = None) -> None:
    """Insert a note."""


@row(Note)
def get_note(id: int) -> None:
    """A note by id."""


@rows(Note)
def list_notes(priority: Priority | None = None, skip: int = 0, take: int = 100) -> None:
    """A page of notes, by id."""


@value(int)
def count_notes() -> None:
    """How many notes there are."""


@command()
def delete_notes(priority: Priority) -> None:
    """Delete the notes of one priority."""
