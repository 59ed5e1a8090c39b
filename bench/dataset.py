"""The bench data set's shape: row counts per scale, deterministic ids, generator statements.

Every row is made inside PostgreSQL by ``INSERT ... SELECT ... FROM generate_series($1, $2)``
(see :mod:`bench.datagen` for the loading). The data set is deterministic:

- ids are ``md5('<kind>-<n>')::uuid``; :func:`bench_id` derives the same ids in Python, so the
  bench picks its keys without querying for them;
- every other varying value comes from ``random()`` after ``setseed()`` in the same session,
  one seed per chunk of rows, and an ``INSERT ... SELECT`` runs serially, so the same scale
  always gives the same rows;
- timestamps lie in a fixed window (:data:`WINDOW_START`), never ``now()``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

__all__ = [
    "CHUNK",
    "DEFAULT_USERS",
    "GENERATOR_VERSION",
    "PHASES",
    "WINDOW_DAYS",
    "WINDOW_START",
    "Chunk",
    "Phase",
    "Scale",
    "api_key",
    "bench_id",
]

#: Bump when the generated rows change, so existing bench databases are reloaded.
GENERATOR_VERSION: Final = 2

# The data set's shape at every scale (the 10,000-user figures divided by users).
DEFAULT_USERS: Final = 10_000
ASSETS_PER_USER: Final = 5
CLIPS_PER_ASSET: Final = 20
CAMPAIGNS_PER_USER: Final = 2
CONVERSIONS_PER_CAMPAIGN: Final = 100
WHALE_CONVERSIONS_PER_USER: Final = 10
PREDICTIONS_PER_USER: Final = 10
#: Every WHALE_EVERY-th conversion is the whale campaign's: 1 in 21 of 2,100,000 = 100,000.
WHALE_EVERY: Final = CAMPAIGNS_PER_USER * CONVERSIONS_PER_CAMPAIGN // WHALE_CONVERSIONS_PER_USER + 1

#: Conversions are spread over [WINDOW_START, WINDOW_START + WINDOW_DAYS days).
WINDOW_START: Final = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW_DAYS: Final = 90

#: Rows per INSERT: lets two connections share a table's load and bounds each statement.
#: Fixed, because each chunk has its own seed: changing it changes the data.
CHUNK: Final = 250_000


def bench_id(kind: str, n: int) -> UUID:
    """The id the generator gives row ``n`` (1-based) of ``kind`` (``user``, ``asset``, ...)."""
    return UUID(hashlib.md5(f"{kind}-{n}".encode(), usedforsecurity=False).hexdigest())


def api_key(n: int) -> str:
    """User ``n``'s plain API key; the database holds only its SHA-256 digest."""
    return f"bench-key-{n}"


@dataclass(frozen=True, slots=True)
class Scale:
    """Row counts, all derived from the number of users."""

    users: int

    @property
    def assets(self) -> int:
        return self.users * ASSETS_PER_USER

    @property
    def clips(self) -> int:
        return self.assets * CLIPS_PER_ASSET

    @property
    def campaigns(self) -> int:
        """Ordinary campaigns; the whale campaign is one more."""
        return self.users * CAMPAIGNS_PER_USER

    @property
    def conversions(self) -> int:
        """Conversions of the ordinary campaigns."""
        return self.campaigns * CONVERSIONS_PER_CAMPAIGN

    @property
    def whale_conversions(self) -> int:
        return self.users * WHALE_CONVERSIONS_PER_USER

    @property
    def predictions(self) -> int:
        return self.users * PREDICTIONS_PER_USER

    @property
    def whale_campaign(self) -> UUID:
        """The campaign with :attr:`whale_conversions` conversions (owned by user 1)."""
        return bench_id("campaign", self.campaigns + 1)

    @property
    def scratch_asset(self) -> UUID:
        """An asset with no generated clips (owned by user 1): the write paths' target."""
        return bench_id("asset", self.assets + 1)

    def counts(self) -> dict[str, int]:
        """Every row count, for the report."""
        return {
            "users": self.users, "assets": self.assets + 1, "clips": self.clips,
            "campaigns": self.campaigns + 1, "conversions": self.conversions,
            "whale_conversions": self.whale_conversions, "predictions": self.predictions,
        }


# --- The generator's statements. $n parameters only; each reads row numbers $1..$2. -------

_USERS = """
INSERT INTO users (id, email, name, role, api_key_digest, settings, created_at, updated_at)
SELECT md5('user-' || n)::uuid,
       'user' || n || '@bench.example',
       'Bench User ' || n,
       (CASE WHEN n % 50 = 0 THEN 'ADMIN' WHEN n % 10 = 0 THEN 'ENTERPRISE' ELSE 'USER' END)
           ::user_role,
       sha256(convert_to('bench-key-' || n, 'UTF8')),
       jsonb_build_object('theme', CASE WHEN n % 2 = 0 THEN 'dark' ELSE 'light' END,
                          'locale', 'en-US'),
       ts, ts
FROM (SELECT n, $3::timestamptz - random() * interval '365 days' AS ts
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""

# Row $4 + 1 is the scratch asset, owned by user 1 and never deleted.
_ASSETS = """
INSERT INTO assets (id, user_id, filename, original_name, mime_type, file_size, gcs_url,
                    gcs_bucket, gcs_path, duration, width, height, status,
                    created_at, updated_at, deleted_at)
SELECT md5('asset-' || n)::uuid,
       md5('user-' || CASE WHEN n > $4 THEN 1 ELSE (n - 1) / $5 + 1 END)::uuid,
       'asset-' || n || '.mp4', 'Upload ' || n || '.mp4', 'video/mp4',
       (1000000 + r1 * 500000000)::bigint,
       'gs://bench-assets/u/asset-' || n || '.mp4', 'bench-assets', 'u/asset-' || n || '.mp4',
       30 + r2 * 570,
       CASE WHEN n % 3 = 0 THEN 1080 ELSE 1920 END,
       CASE WHEN n % 3 = 0 THEN 1920 ELSE 1080 END,
       (CASE WHEN r3 < 0.90 THEN 'READY' WHEN r3 < 0.95 THEN 'PROCESSING'
             WHEN r3 < 0.98 THEN 'PENDING' ELSE 'FAILED' END)::asset_status,
       ts, ts,
       CASE WHEN n <= $4 AND r4 < 0.02 THEN ts + interval '30 days' END
FROM (SELECT n, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             $3::timestamptz - random() * interval '365 days' AS ts
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""

# Scores are uniform over [0, 1]: min_score 0.7 keeps about 6 of an asset's 20 clips.
_CLIPS = """
INSERT INTO clips (id, asset_id, start_time, end_time, duration, features, has_text,
                   has_speech, score, viral_score, engagement_score, rank, status,
                   created_at, updated_at, deleted_at)
SELECT md5('clip-' || n)::uuid,
       md5('asset-' || ((n - 1) / $4 + 1))::uuid,
       start_time, start_time + len, len,
       jsonb_build_object('faces', (r1 * 4)::int, 'motion', round(r2::numeric, 3),
                          'language', 'en'),
       r3 < 0.3, r4 < 0.6,
       score, r5, r6,
       (n - 1) % $4 + 1,
       (CASE WHEN r7 < 0.97 THEN 'SCORED' ELSE 'PENDING' END)::clip_status,
       ts, ts,
       CASE WHEN r8 < 0.01 THEN ts + interval '7 days' END
FROM (SELECT n, ((n - 1) % $4) * 15 + random() * 2 AS start_time, 5 + random() * 25 AS len,
             random() AS score, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             random() AS r5, random() AS r6, random() AS r7, random() AS r8,
             $3::timestamptz - random() * interval '365 days' AS ts
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""

# Row $4 + 1 is the whale campaign, owned by user 1.
_CAMPAIGNS = """
INSERT INTO campaigns (id, user_id, name, objective, budget, daily_budget, status,
                       meta_campaign_id, google_campaign_id, target_audience, start_date,
                       end_date, total_spend, total_impressions, total_clicks,
                       total_conversions, created_at, updated_at)
SELECT md5('campaign-' || n)::uuid,
       md5('user-' || CASE WHEN n > $4 THEN 1 ELSE (n - 1) / $5 + 1 END)::uuid,
       CASE WHEN n > $4 THEN 'Whale campaign' ELSE 'Campaign ' || n END,
       (enum_range(NULL::campaign_objective))
           [1 + n % cardinality(enum_range(NULL::campaign_objective))],
       budget, round(budget / $6, 2),
       (CASE WHEN n > $4 OR r1 < 0.70 THEN 'ACTIVE' WHEN r1 < 0.85 THEN 'PAUSED'
             WHEN r1 < 0.95 THEN 'COMPLETED' ELSE 'DRAFT' END)::campaign_status,
       CASE WHEN n % 2 = 0 THEN 'meta-' || n END,
       CASE WHEN n % 2 = 1 THEN 'google-' || n END,
       jsonb_build_object('age_min', 18 + n % 20, 'countries', jsonb_build_array('US', 'GB')),
       $3::timestamptz, $3::timestamptz + make_interval(days => $6::int),
       round(budget * r2::numeric, 2), impressions, (impressions * r3 * 0.05)::bigint,
       (impressions * r3 * 0.001)::bigint,
       $3::timestamptz - interval '7 days', $3::timestamptz - interval '7 days'
FROM (SELECT n, round((100 + random() * 9900)::numeric, 2) AS budget, random() AS r1,
             random() AS r2, random() AS r3, (random() * 1000000)::bigint AS impressions
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""

# Conversions arrive in time order, as in production: row n of $7 falls in the n-th slice of
# the window, so one day's rows lie together on disk. Every $4-th row is the whale campaign's
# (number $5 + 1); the others go round-robin through the ordinary campaigns, so each gets the
# same count spread evenly over the window. Half are attributed to a random clip (of $6).
_CONVERSIONS = """
INSERT INTO conversions (id, campaign_id, source, external_id, value, currency,
                         attributed_clip_id, "timestamp", created_at, updated_at)
SELECT md5('conversion-' || n)::uuid,
       md5('campaign-' || CASE WHEN n % $4 = 0 THEN $5 + 1
                               ELSE (n - n / $4 - 1) % $5 + 1 END)::uuid,
       (enum_range(NULL::conversion_source))
           [1 + n % cardinality(enum_range(NULL::conversion_source))],
       'ext-' || n,
       round((1 + r1 * 199)::numeric, 2),
       CASE WHEN n % 10 = 0 THEN 'EUR' ELSE 'USD' END,
       CASE WHEN r2 < 0.5 THEN md5('clip-' || (1 + floor(r3 * $6))::bigint)::uuid END,
       ts, ts, ts
FROM (SELECT n, random() AS r1, random() AS r2, random() AS r3,
             $3::timestamptz + (n - 1 + random()) / $7::float8 * make_interval(days => $8::int)
                 AS ts
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""

_PREDICTIONS = """
INSERT INTO predictions (id, clip_id, model_version, predicted_roas, predicted_ctr,
                         predicted_cpc, features, confidence, actual_roas, actual_ctr,
                         actual_cpc, prediction_error, created_at, updated_at)
SELECT md5('prediction-' || n)::uuid,
       md5('clip-' || (1 + floor(r1 * $4))::bigint)::uuid,
       'v' || (1 + n % 3),
       roas, r2 * 0.1, r3 * 3,
       jsonb_build_object('clip_score', round(r4::numeric, 3), 'model', 'gbm'),
       r5,
       CASE WHEN r6 < 0.5 THEN roas * (0.5 + r4) END,
       CASE WHEN r6 < 0.5 THEN r2 * 0.1 END,
       CASE WHEN r6 < 0.5 THEN r3 * 3 END,
       CASE WHEN r6 < 0.5 THEN abs(roas * (r4 - 0.5)) END,
       ts, ts
FROM (SELECT n, random() * 5 AS roas, random() AS r1, random() AS r2, random() AS r3,
             random() AS r4, random() AS r5, random() AS r6,
             $3::timestamptz + random() * interval '90 days' AS ts
      FROM generate_series($1::bigint, $2::bigint) AS n) AS g
"""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One INSERT: rows ``lo..hi`` of a phase, with its own ``setseed()`` value."""

    sql: str
    args: tuple[Any, ...]
    seed: float
    rows: int


@dataclass(frozen=True, slots=True)
class Phase:
    """One table's rows: ``sql`` over row numbers [first, last] and its extra parameters."""

    label: str
    sql: str
    first: Callable[[Scale], int]
    last: Callable[[Scale], int]
    extra: Callable[[Scale], tuple[Any, ...]]

    def rows(self, scale: Scale) -> int:
        return self.last(scale) - self.first(scale) + 1

    def chunks(self, scale: Scale) -> list[Chunk]:
        """The phase's INSERTs; they are independent, so they may run concurrently."""
        first, last, extra = self.first(scale), self.last(scale), self.extra(scale)
        chunks = []
        for lo in range(first, last + 1, CHUNK):
            hi = min(lo + CHUNK - 1, last)
            # The seed depends only on the chunk's first row: the values do not depend on
            # which connection runs the chunk or what ran before it.
            seed = (lo * 7919 % 1_000_003) / 1_000_003
            chunks.append(Chunk(self.sql, (lo, hi, WINDOW_START, *extra), seed, hi - lo + 1))
        return chunks


# In foreign-key order. The extra parameters are $4.. of each statement ($3 is WINDOW_START).
PHASES: Final = (
    Phase("users", _USERS, lambda s: 1, lambda s: s.users, lambda s: ()),
    Phase("assets", _ASSETS, lambda s: 1, lambda s: s.assets + 1,
           lambda s: (s.assets, ASSETS_PER_USER)),
    Phase("clips", _CLIPS, lambda s: 1, lambda s: s.clips, lambda s: (CLIPS_PER_ASSET,)),
    Phase("campaigns", _CAMPAIGNS, lambda s: 1, lambda s: s.campaigns + 1,
           lambda s: (s.campaigns, CAMPAIGNS_PER_USER, WINDOW_DAYS)),
    Phase("conversions", _CONVERSIONS, lambda s: 1,
          lambda s: s.conversions + s.whale_conversions,
          lambda s: (WHALE_EVERY, s.campaigns, s.clips, s.conversions + s.whale_conversions,
                     WINDOW_DAYS)),
    Phase("predictions", _PREDICTIONS, lambda s: 1, lambda s: s.predictions,
           lambda s: (s.clips,)),
)

