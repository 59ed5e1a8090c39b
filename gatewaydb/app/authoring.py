"""``gatewaydb new-migration NAME``: the next pair of yoyo migration files.

Writes ``NNNN_name.sql`` (with the ``-- depends:`` line yoyo reads) and
``NNNN_name.rollback.sql``, numbered after the highest migration in the directory and
depending on every migration nothing else depends on yet (the current heads, normally one).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.errors import FieldError, InvalidInputError
from ..gateway._paths import migrations_dir
from ._yoyo import read

__all__ = ["new_migration"]

_NUMBERED = re.compile(r"^(\d+)_")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not slug:
        raise InvalidInputError([FieldError("name", "needs a letter or digit, e.g. add_tags")])
    return slug


def new_migration(name: str, directory: Path | None = None) -> tuple[Path, Path]:
    """Create the next migration's two files; returns (migration, rollback) paths.

    Raises:
        InvalidInputError: ``name`` has no letter or digit, the files already exist, or
            ``directory`` is not a directory.
        ConfigurationError: A migration in the directory is malformed.
    """
    folder = directory if directory is not None else migrations_dir()
    if not folder.is_dir():
        raise InvalidInputError([FieldError("dir", "is not a directory")])
    slug = _slug(name)
    migrations = read(folder)
    ids = [str(m.id) for m in migrations]
    numbers = [int(found.group(1)) for i in ids if (found := _NUMBERED.match(i))]
    migration_id = f"{max(numbers, default=0) + 1:04d}_{slug}"
    depended_on = {str(d.id) for m in migrations for d in m.depends}
    heads = sorted(i for i in ids if i not in depended_on)
    forward = folder / f"{migration_id}.sql"
    backward = folder / f"{migration_id}.rollback.sql"
    if forward.exists() or backward.exists():
        raise InvalidInputError([FieldError("name", f"{forward.name} already exists")])
    depends = f"-- depends: {' '.join(heads)}\n" if heads else ""
    forward.write_text(f"-- {slug.replace('_', ' ').capitalize()}.\n{depends}\n", "utf-8")
    backward.write_text(f"-- Undoes {migration_id}.sql, in reverse order.\n", "utf-8")
    return forward, backward
