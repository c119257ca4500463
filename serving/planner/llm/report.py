"""Adds the llm planner's own counters to a planner evaluation report.

The scores alone hide how much of an ``llm`` run was planned by the rules fallback; the counters
(valid first time, repaired, fallbacks by reason) and the seconds per turn say it.
"""

from __future__ import annotations

import json
from pathlib import Path

from serving.planner.llm.planner import PlannerStats


def add_planner_stats(paths: dict[str, Path], stats: PlannerStats, seconds: float, turns: int) -> None:
    counters = {
        **stats.as_dict(),
        "seconds": round(seconds, 1),
        "seconds_per_turn": round(seconds / max(turns, 1), 2),
    }
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    report["planner_stats"] = counters
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    asked = max(stats.questions, 1)
    lines = [
        "",
        "How the llm planner produced its plans:",
        "",
        "| | turns | share |",
        "|---|---|---|",
        f"| valid first time | {stats.valid_first_time} | {stats.valid_first_time / asked:.1%} |",
        f"| valid after one repair round | {stats.repaired} | {stats.repaired / asked:.1%} |",
        *[
            f"| rules fallback ({reason}) | {n} | {n / asked:.1%} |"
            for reason, n in sorted(stats.fallbacks.items())
        ],
        "",
        f"{seconds:.0f} s in all, {counters['seconds_per_turn']} s per turn (planning, execution, answer).",
    ]
    with paths["markdown"].open("a", encoding="utf-8") as sink:
        sink.write("\n".join(lines) + "\n")
