"""Per-connection setup for the pool: JSON codecs and the no-op reset hook."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

__all__ = ["init_connection", "keep_session"]


async def init_connection(conn: asyncpg.Connection) -> None:
    # JSON comes back as Python objects, parsed by orjson (several times faster than the
    # json module on the small documents of a row). jsonb travels in binary, so that binary
    # COPY works too; asyncpg frames it with a one-byte format version.
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                              encoder=_encode_jsonb, decoder=_decode_jsonb)
    await conn.set_type_codec("json", schema="pg_catalog", format="text",
                              encoder=_encode_json, decoder=orjson.loads)


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)


def _decode_jsonb(data: bytes) -> Any:
    return orjson.loads(memoryview(data)[1:])


def _encode_json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def keep_session(conn: asyncpg.Connection) -> None:
    """Pool reset hook: send nothing.

    asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    on every release — a second round trip per call. gatewaydb's own statements change no
    session state: asyncpg still rolls back any open transaction before this hook runs, and
    raw access through :meth:`Database.acquire` or :attr:`Transaction.connection` runs the
    full reset itself before release (see ``transaction.full_reset``).
    """
