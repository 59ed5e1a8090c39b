"""Values for ``test_fuzz.py``: Hypothesis strategies by parameter name, and the calls they
make up.

``BY_NAME`` maps each parameter name of ``Database``'s public methods to values that are often
hostile (wrong types, huge and NUL-bearing strings, lone surrogates, NaN and infinities, naive
datetimes, unknown enum labels, malformed UUIDs, deep or non-JSON documents); ``PLAUSIBLE`` to
values that pass validation, so that calls also reach the database. Any other name gets
``junk``. ``call_args`` mixes the two for one call.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from hypothesis import strategies as st

from gatewaydb import Database, Transaction
from gatewaydb.gateway import queries as gateway_queries
from gatewaydb.gateway.models import (
    AssetStatus,
    CampaignObjective,
    CampaignStatus,
    ClipStatus,
    ConversionCursor,
    ConversionSource,
    NewClip,
    NewUser,
    Role,
)

SECRET = "s3cr3t"  # generated strings carry it; no error message may
# Lifecycle methods run on a second Database: disconnecting the one under test would turn
# every later call into the same InterfaceError.
LIFECYCLE = frozenset({"connect", "disconnect", "get_instance"})

def public_methods() -> list[str]:
    # Classes (``transaction_class``) are attributes, not methods to call.
    return sorted(name for name, member in inspect.getmembers(Database)
                  if not name.startswith("_") and callable(member)
                  and not inspect.isclass(member))


# -- values ----------------------------------------------------------------------------------

def _huge(text: str) -> str:
    return text * (2_000_000 // max(1, len(text)))


_surrogates = st.sampled_from(["\ud800", "\udfff", "a\udc80b"])
hostile_text = st.one_of(
    st.just(""), st.just("\x00"), _surrogates,
    st.text(max_size=30).map(lambda t: f"{SECRET}{t}\x00"),
    st.text(max_size=8).map(lambda t: _huge(SECRET + t)),
    st.builds(lambda a, s: a + s, st.text(max_size=10), _surrogates),
)
plain_text = st.one_of(st.text(min_size=1, max_size=40), st.text(max_size=20).map(
    lambda t: SECRET + t))
text = st.one_of(plain_text, plain_text, hostile_text)

junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), text,
    st.binary(max_size=20), st.uuids(), st.datetimes(), st.just(object()),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=3),
)

def _deep(levels: int) -> Any:
    document: Any = 1
    for _ in range(levels):
        document = {"d": [document]}
    return document


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                      text, st.datetimes(), st.decimals(allow_nan=False))


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A function, not a lambda: Hypothesis reads its source to see that it recurses.
    keys = st.one_of(plain_text, plain_text, hostile_text, st.integers())
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4))


json_value = st.recursive(json_leaf, _json_containers, max_leaves=12)
json_object = st.one_of(
    st.dictionaries(plain_text, json_value, max_size=5),
    st.integers(1, 300).map(lambda n: {"deep": _deep(n)}),
    junk)

floats = st.one_of(st.floats(), st.floats(0, 1), st.integers(-5, 10**20), st.decimals(),
                   st.sampled_from([math.nan, math.inf, -math.inf, 1e308]), junk)
money = st.one_of(st.decimals(places=2, min_value=0, max_value=10**12),
                  st.decimals(), st.floats(), st.integers(-10, 10**20),
                  st.sampled_from(["12.50", "NaN", "-Infinity", "1e400", "x"]), junk)
ints = st.one_of(st.integers(0, 50), st.integers(-(2**70), 2**70),
                 st.sampled_from([0, 1, 1000, 1001, 10**4, 2**31, 2**63 - 1, 2**63]), junk)
flags = st.one_of(st.booleans(), st.booleans(), junk)

_zones = st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))])
datetimes = st.one_of(st.datetimes(timezones=_zones), st.datetimes(),  # aware, naive
                      st.sampled_from([datetime.min, datetime.max.replace(tzinfo=UTC)]),
                      st.datetimes().map(lambda d: d.isoformat()), junk)


def labels(enum: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(list(enum)), st.sampled_from([m.value for m in enum]),
                     st.sampled_from(["", "pending", "UNKNOWN", "USER ", "\x00"]), text, junk)


_statuses = st.one_of(labels(AssetStatus), labels(ClipStatus), labels(CampaignStatus))


# -- the run's state: known ids, calls made --------------------------------------------------

class Run:
    """What the strategies draw ids from, and what the property counts."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.fingerprint: list[str] = []
        self.seconds: Counter[str] = Counter()
        self.seconds_in_calls = 0.0  # the rest of the run is Hypothesis generating values

    def id_strategy(self) -> st.SearchStrategy[Any]:
        known = st.sampled_from([*self.ids, *map(str, self.ids)])
        return st.one_of(known, known, known, st.uuids(), st.just(str(uuid4()).upper()),
                         st.sampled_from(["", "not-a-uuid", "0" * 32, "{" + "0" * 32 + "}"]),
                         text, junk)


RUN = Run()
ids = st.deferred(lambda: RUN.id_strategy())

emails = st.one_of(
    st.builds(lambda u: f"{u.hex[:12]}@example.com", st.uuids()),
    st.sampled_from(["owner@example.com", "OWNER@example.com", "no-at-sign", "a@b", "@x.io"]),
    st.builds(lambda t: f"{t}@example.com", text), text, junk)

clip_items = st.one_of(
    st.fixed_dictionaries({"asset_id": ids, "start_time": floats, "end_time": floats},
                          optional={"features": json_object, "has_text": flags}),
    st.builds(lambda a, n: NewClip(asset_id=a, start_time=n, end_time=n + 1),
              st.deferred(lambda: st.sampled_from(RUN.ids)), st.integers(0, 100)),
    junk)

variants = st.one_of(
    st.lists(st.fixed_dictionaries({"id": text}, optional={"x": json_value}), max_size=4),
    st.just([{"id": "a"}, {"id": "b"}]), junk)

# Each parameter name -> its values; any other name gets ``junk``.
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(["id", "user_id", "asset_id", "clip_id", "campaign_id",
                     "attributed_clip_id"], ids),
    **dict.fromkeys(["name", "filename", "gcs_url", "original_name", "mime_type",
                     "gcs_bucket", "gcs_path", "model_version", "meta_campaign_id",
                     "google_campaign_id", "external_id", "variant_id", "key", "api_key",
                     "currency"], st.one_of(text, st.just("USD"), st.just("gw_key_12345"))),
    "email": st.one_of(emails, st.builds(lambda e: NewUser(email=e),
                                         st.builds(lambda u: f"m{u.hex[:8]}@example.com",
                                                   st.uuids()))),
    "role": labels(Role), "status": _statuses, "objective": labels(CampaignObjective),
    "source": labels(ConversionSource),
    **dict.fromkeys(["settings", "features", "target_audience"], json_object),
    "variants": variants,
    "clips": st.one_of(st.lists(clip_items, max_size=5), junk),
    **dict.fromkeys(["start_time", "end_time", "duration", "score", "viral_score",
                     "engagement_score", "min_score", "clips_min_score", "confidence",
                     "predicted_roas", "predicted_ctr", "predicted_cpc", "actual_roas",
                     "actual_ctr", "actual_cpc", "prediction_error", "timeout"], floats),
    **dict.fromkeys(["budget", "daily_budget", "total_spend", "spend", "value"], money),
    **dict.fromkeys(["skip", "take", "limit", "rank", "file_size", "width", "height",
                     "total_impressions", "total_clicks", "total_conversions", "impressions",
                     "clicks", "conversions", "clips_per_asset", "chunk_size", "retries"],
                    ints),
    **dict.fromkeys(["start_date", "end_date", "timestamp"], datetimes),
    "after": st.one_of(st.builds(ConversionCursor, datetimes, ids),
                       st.tuples(datetimes, ids), junk),
    **dict.fromkeys(["soft", "has_text", "has_speech", "readonly", "check_contract"], flags),
    "isolation": st.one_of(st.sampled_from(["read_committed", "repeatable_read",
                                            "serializable", "SERIALIZABLE", "chaos"]), junk),
    # The core seam: declared calls (and anything else) for run/iterate, COPY's arguments.
    "call": st.one_of(st.builds(gateway_queries.get_user_by_id, ids),
                      st.builds(gateway_queries.list_users, ints, ints, st.none()), junk),
    # COPY's table and columns are the calling code's constants, never user data (errors may
    # name them), so they are drawn without the secret marker.
    "table": st.one_of(st.sampled_from(["clips", "users", "no_such_table"]), st.none(),
                       st.integers()),
    "columns": st.one_of(st.just(["asset_id", "start_time", "end_time"]),
                         st.just(["nope"]), st.none(), st.integers()),
    "records": st.one_of(st.lists(st.tuples(ids, floats, floats), max_size=3), junk),
    "constraints": st.one_of(st.none(), st.dictionaries(text, text, max_size=2), junk),
    "update": st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["name", "email", "role", "settings", "status", "budget", "nmae"]),
        st.one_of(text, money, labels(Role), json_object), max_size=3), junk),
}


_known = st.deferred(lambda: st.sampled_from(RUN.ids))
_word = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=8, max_size=20)
_unit = st.floats(0, 1)
_count = st.integers(1, 100)

# Values that pass validation (ids of seeded rows), so that calls reach the database and
# succeed or fail there; a call mixes them with hostile values from BY_NAME.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    **{name: _known for name, strategy in BY_NAME.items() if strategy is ids},
    **{name: _word for name, strategy in BY_NAME.items() if strategy is BY_NAME["name"]},
    "currency": st.sampled_from(["USD", "EUR"]),
    "email": st.builds(lambda u: f"{u.hex[:12]}@example.com", st.uuids()),
    "role": st.sampled_from(list(Role)), "status": st.sampled_from(["PENDING", "ACTIVE",
                                                                     "SCORED", "READY"]),
    "objective": st.sampled_from(list(CampaignObjective)),
    "source": st.sampled_from(list(ConversionSource)),
    **dict.fromkeys(["settings", "features", "target_audience"],
                    st.dictionaries(_word, st.integers(-5, 5), max_size=3)),
    "variants": st.just([{"id": "a"}, {"id": "b"}]),
    "clips": st.lists(st.fixed_dictionaries({"asset_id": _known, "start_time": st.just(0),
                                             "end_time": _count}), max_size=3),
    **{name: _unit for name, strategy in BY_NAME.items() if strategy is floats},
    **{name: st.decimals(0, 10**6, places=2) for name, s in BY_NAME.items() if s is money},
    **{name: _count for name, strategy in BY_NAME.items() if strategy is ints},
    "skip": st.integers(0, 3), "retries": st.integers(0, 2),
    **dict.fromkeys(["start_date", "end_date", "timestamp"], st.datetimes(timezones=_zones)),
    "after": st.builds(ConversionCursor, st.datetimes(timezones=_zones), _known),
    **dict.fromkeys(["soft", "has_text", "has_speech", "readonly"], st.booleans()),
    "isolation": st.sampled_from([None, "serializable"]),
    "update": st.fixed_dictionaries({}, optional={"name": _word}),
}


@st.composite
def call_args(draw: st.DrawFn, method: str) -> dict[str, Any]:
    """Keyword arguments for ``Database.<method>``: required ones always, others at random.

    A third of the calls draw every value from PLAUSIBLE, a third one value in four from
    BY_NAME, the rest every value from BY_NAME.
    """
    hostility = draw(st.sampled_from([0, 1, 4]))  # hostile values per 4

    def value(name: str) -> Any:
        plausible = PLAUSIBLE.get(name)
        if plausible is not None and draw(st.integers(0, 3)) >= hostility:
            return draw(plausible)
        return draw(BY_NAME.get(name, junk))

    arguments: dict[str, Any] = {}
    for param in inspect.signature(getattr(Database, method)).parameters.values():
        if param.name in ("self", "cls"):
            continue
        if param.kind is param.VAR_KEYWORD:
            extra = draw(st.lists(st.sampled_from(sorted(BY_NAME)), max_size=3))
            arguments.update({k: value(k) for k in extra if k not in ("id", "update")})
        elif param.name == "fn":
            arguments["fn"] = draw(callbacks)
        elif param.default is param.empty or draw(st.booleans()):
            arguments[param.name] = value(param.name)
    return arguments


# What a transaction callback may call: the methods a Transaction shares with Database.
DOMAIN = [m for m in public_methods() if hasattr(Transaction, m) and m != "transaction"]


def _callback(method: str, arguments: dict[str, Any]) -> Callable[[Any], Awaitable[Any]]:
    async def fn(tx: Any) -> Any:
        return await drive(getattr(tx, method)(**arguments))
    return fn


callbacks = st.one_of(
    st.none(),
    st.deferred(lambda: st.sampled_from(DOMAIN).flatmap(
        lambda m: call_args(m).map(lambda a: _callback(m, a)))),
    junk)


async def drive(result: Any) -> Any:
    """Finish a call: await it, iterate a stream, or enter and leave a context manager."""
    if isinstance(result, AbstractAsyncContextManager):
        async with result:
            return None
    if hasattr(result, "__aiter__"):
        return [row async for row in result]
    if inspect.isawaitable(result):
        return await result
    return result


