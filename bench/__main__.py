"""``python -m bench``: measure gatewaydb's hot paths next to hand-written raw-asyncpg floors.

``make bench`` runs the default scale (10,000 users) on the bench's embedded server;
``make bench-quick`` a tiny scale with few samples, to prove the bench still runs. Progress goes
to stderr, the table to stdout, the JSON result and its PNG chart to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import replace
from pathlib import Path

from .chart import write_chart
from .dataset import DEFAULT_USERS, Scale
from .errors import BenchError
from .harness import Budget
from .hotpaths import HOT_PATHS
from .paths import QUICK_RESULTS_DIR, RESULTS_DIR
from .report import build_result, compare, format_table, result_path, write_json
from .runner import run
from .server import bench_database, database_name

#: ``make bench``: medians over up to 2,000 samples, or 4 s of samples, per hot path.
FULL = Budget(warmup_seconds=0.5, warmup_min=20, seconds=4.0, min_samples=20,
              max_samples=2000, throughput_seconds=1.0, throughput_rounds=3, concurrency=16,
              server_runs=15)
#: ``make bench-quick``: every figure, none of them meaningful.
QUICK = Budget(warmup_seconds=0.0, warmup_min=2, seconds=0.05, min_samples=4,
               max_samples=10, throughput_seconds=0.1, throughput_rounds=1, concurrency=16,
               server_runs=2)
QUICK_USERS = 50


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"tiny scale ({QUICK_USERS} users) and few samples: a smoke test")
    parser.add_argument("--scale", type=int, metavar="USERS",
                        help=f"users in the data set; every other table scales with it "
                             f"(default {DEFAULT_USERS:,}, or {QUICK_USERS} with --quick)")
    parser.add_argument("--database-url", metavar="URL",
                        help="an empty database, or one the bench loaded before (default: a "
                             "database on the bench's own embedded server)")
    parser.add_argument("--samples", type=int, metavar="N",
                        help="at most N timed samples per hot path and side "
                             f"(default {FULL.max_samples}, or {QUICK.max_samples} with --quick)")
    parser.add_argument("--only", metavar="NAMES",
                        help="measure only these hot paths (comma-separated keys, e.g. "
                             "whale_day,create_clips): for focused iteration")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"where to write the JSON and PNG (default {RESULTS_DIR}, or "
                             f"{QUICK_RESULTS_DIR} with --quick)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    budget = QUICK if args.quick else FULL
    if args.samples is not None:
        if args.samples < 1:
            _parser().error("--samples must be at least 1")
        budget = replace(budget, max_samples=args.samples,
                         min_samples=min(budget.min_samples, args.samples))
    users = args.scale if args.scale is not None else QUICK_USERS if args.quick else DEFAULT_USERS
    if users < 1:
        _parser().error("--scale must be at least 1")
    scale = Scale(users)
    only = frozenset(args.only.split(",")) if args.only else None
    known = {p.name for p in HOT_PATHS}
    if only is not None and not only <= known:
        _parser().error(f"--only: unknown hot path(s) {', '.join(sorted(only - known))}; "
                        f"known: {', '.join(sorted(known))}")
    # gatewaydb warns about every statement slower than 0.5 s: streaming the whale campaign
    # always is. The records are still made (as in production); they are just not printed.
    logging.getLogger("gatewaydb").addHandler(logging.NullHandler())
    # A partial run is no reference for the next full one: it goes with the quick results.
    out: Path = args.out or (QUICK_RESULTS_DIR if args.quick or only else RESULTS_DIR)
    try:
        with bench_database(args.database_url, database_name(users)) as url:
            outcome = asyncio.run(run(url, scale, budget, only))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    result = build_result(outcome, scale, budget, quick=args.quick)
    result["comparison"] = compare(out, result)
    json_path = result_path(out, result)
    write_json(json_path, result)
    chart_path = json_path.with_suffix(".png")
    write_chart(chart_path, result)
    print(format_table(result))
    print(f"\nresult: {json_path}\nchart:  {chart_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
