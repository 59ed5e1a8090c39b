"""The run's chart: median latency per hot path, gatewaydb next to the floors, p99 as whiskers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

# No display needed (CI, ssh): render to files only. Must precede pyplot's import.
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

__all__ = ["write_chart"]


def write_chart(path: Path, result: dict[str, Any]) -> None:
    """Write a PNG: one pair of horizontal bars per hot path, on a log scale (µs)."""
    paths = list(result["hot_paths"].values())
    titles = [f"{p['title']}\n(x{p['ratio']:.2f}, no reset x{p['ratio_noreset']:.2f})"
              for p in paths]
    fig, ax = plt.subplots(figsize=(11, 0.9 * len(paths) + 1.6))
    height = 0.2
    sides = (("gatewaydb", "#3b6fb6", "gatewaydb (median, whisker to p99)"),
             ("floor", "#b0b0b0", "floor: hand-written SQL, default asyncpg pool"),
             ("floor_noreset", "#d8d8d8", "floor, pool with a no-op reset"),
             ("validated", "#e0a458", "floor + model_validate per row"))
    for k, (side, colour, label) in enumerate(sides):
        offset = (k - 1.5) * height
        medians = [p[side]["median_us"] for p in paths]
        # The whisker runs from the median to the p99.
        whiskers = [[0] * len(paths), [p[side]["p99_us"] - p[side]["median_us"] for p in paths]]
        ax.barh([i + offset for i in range(len(paths))], medians, height=height, color=colour,
                xerr=whiskers, error_kw={"elinewidth": 0.8, "capsize": 2}, label=label)
    ax.set_yticks(range(len(paths)), titles)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("latency per call, µs (log scale)")
    ax.grid(axis="x", which="both", alpha=0.3)
    git, scale = result["git"], result["scale"]
    ax.set_title(f"gatewaydb vs floors — {scale['users']:,} users, commit {git['short']}"
                 f"{'+' if git['dirty'] else ''}, {result['created_at']}", fontsize=10)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8,
              frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
