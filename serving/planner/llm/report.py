"""Adds the LLM parser's own counters to a planner evaluation report.

The scores alone hide how much of an ``llm`` run the model planned: the router sends it only the
questions the mapping does not explain, and a question it gives no valid plan for is planned by the
rules parser. The counters (questions routed to the model, planned by it, fallbacks by reason) and
the seconds per turn say it.
"""

from __future__ import annotations

import json
from pathlib import Path

from serving.planner.llm.parser import PlannerStats


def add_planner_stats(paths: dict[str, Path], stats: PlannerStats, seconds: float, turns: int) -> None:
    """Write ``stats`` into the report's JSON (``planner_stats``) and append a table to its Markdown."""
    counters = {
        **stats.as_dict(),
        "turns": turns,
        "seconds": round(seconds, 1),
        "seconds_per_turn": round(seconds / max(turns, 1), 2),
        "model_seconds_per_question": round(stats.seconds / max(stats.questions, 1), 2),
    }
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    report["planner_stats"] = counters
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    asked = max(stats.questions, 1)
    lines = [
        "",
        f"How the LLM parser was used: {stats.questions} of {turns} turns were routed to the model.",
        "",
        "| routed to the model | turns | share |",
        "|---|---|---|",
        f"| planned by the model | {stats.planned} | {stats.planned / asked:.1%} |",
        *[
            f"| rules fallback ({reason}) | {n} | {n / asked:.1%} |"
            for reason, n in sorted(stats.fallbacks.items())
        ],
        "",
        f"{seconds:.0f} s in all, {counters['seconds_per_turn']} s per turn (planning, execution, answer); "
        f"{counters['model_seconds_per_question']} s per question in the LLM parser.",
    ]
    with paths["markdown"].open("a", encoding="utf-8") as sink:
        sink.write("\n".join(lines) + "\n")
