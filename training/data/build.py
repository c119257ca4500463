"""Build every training file of issue #5 in one pass: pt, sft, rm, prompts and a report.

Deterministic for a seed: one ``random.Random`` per file (derived from the seed), items generated
in order, nothing depending on time or on set iteration order. The report records the counts per
category, the eval overlap (0 after dropping collisions) and how often the rules planner agrees
with the gold plans (a QA figure for the generator, not a filter).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from evals.planner import slots
from indicators import Catalog, Warehouse
from serving.assistant.executor import Executor
from serving.planner.llm.prompt import PromptBuilder, PromptStyle
from serving.planner.rules import RulesPlanner
from training.data import overlap, pt, rm, sft
from training.data.prompts import prompt_record
from training.data.questions import QuestionGenerator

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def build_all(
    out_dir: Path,
    warehouse: Warehouse,
    catalog: Catalog,
    kb: Any = None,
    sft_size: int = 2000,
    answer_size: int | None = None,
    rm_size: int = 600,
    prompts_size: int = 300,
    seed: int = 0,
    extra_text_dirs: Iterable[Path] = (),
    prompt_style: PromptStyle = "compact",
    corpus_dirs: Iterable[Path] | None = None,
    report_months: int = 36,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write pt.jsonl, sft.jsonl, rm.jsonl, prompts.jsonl, report.json and report.md under ``out_dir``.

    Args:
        kb: a ``KnowledgeBase`` for policy results in answer examples; without one, plans that
            search the policies get no answer example (there would be nothing to cite).
        sft_size: question → plan conversations; ``answer_size`` (default a fifth of it) answer examples.
        prompt_style: the system prompt of the plan conversations (``compact`` for fine-tuning).
    """
    started = time.perf_counter()
    step = progress or (lambda stage, done, total: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    answer_size = sft_size // 5 if answer_size is None else answer_size
    builder = _builder(catalog, warehouse, prompt_style)
    banned = overlap.eval_questions()
    report: dict[str, Any] = {
        "seed": seed,
        "prompt_style": prompt_style,
        "as_of": warehouse.as_of.isoformat(),
    }

    # --- questions: SFT first, then RM and prompts banned from repeating SFT's questions
    step("questions", 0, 3)
    sft_gen = QuestionGenerator(catalog, warehouse, seed)
    sft_items = sft_gen.generate(sft_size, banned=banned)
    sft_keys = {overlap.normalise(q) for it in sft_items for q in it.questions}
    step("questions", 1, 3)
    rm_gen = QuestionGenerator(catalog, warehouse, seed + 1)
    rm_items = rm_gen.generate(rm_size * 2, banned=banned)
    step("questions", 2, 3)
    prompt_gen = QuestionGenerator(catalog, warehouse, seed + 2)
    prompt_items = prompt_gen.generate(prompts_size, banned=banned | sft_keys)
    step("questions", 3, 3)

    # --- SFT: plans, then answers for a sample of the plans that call tools
    sft_rows = [sft.plan_example(builder, it) for it in sft_items]
    executor = Executor(warehouse, catalog, kb)
    rng = random.Random(seed + 3)
    answerable = [
        it
        for it in sft_items
        if it.plan.calls and not it.history and (kb is not None or not _searches_policy(it.plan))
    ]
    rng.shuffle(answerable)
    answers: list[tuple[Any, dict[str, Any], list[Any]]] = []
    dropped_answers = 0
    for it in answerable:
        if len(answers) >= answer_size:
            break
        made = sft.answer_example(executor, it)
        if made is None:
            dropped_answers += 1
            continue
        answers.append((it, *made))
        step("answers", len(answers), answer_size)
    sft_rows += [row for _, row, _ in answers]

    # --- RM: plan pairs from the RM questions, answer pairs from the answer examples
    rm_rng = random.Random(seed + 4)
    corrupter = rm.PlanCorrupter(catalog, sft_gen.departments, sft_gen.periods, rm_rng)
    rm_rows: list[dict[str, Any]] = []
    answer_share = rm_size // 4 if answers else 0
    for it in rm_items:
        if len(rm_rows) >= rm_size - answer_share:
            break
        kinds = corrupter.applicable(it.plan)
        if not kinds:
            continue
        kind = rm_rng.choice(kinds)
        wrong = corrupter.corrupt(it.plan, kind)
        if wrong is not None:
            rm_rows.append(rm.plan_pair(builder, it, wrong, kind))
        step("rm", len(rm_rows), rm_size)
    for _, row, results in answers:
        if len(rm_rows) >= rm_size:
            break
        chosen = row["messages"][-1]["content"]
        for kind in rm_rng.sample(rm.ANSWER_CORRUPTIONS, len(rm.ANSWER_CORRUPTIONS)):
            wrong = rm.corrupt_answer(chosen, results, kind, rm_rng)
            if wrong is not None and wrong != chosen:
                rm_rows.append(rm.answer_pair(row["messages"][:-1], chosen, wrong, kind))
                break

    # --- prompts
    prompt_rows = [prompt_record(builder, it) for it in prompt_items]

    # --- PT
    corpus = list(corpus_dirs) if corpus_dirs is not None else [_shipped_corpus()]
    pt_rows = [
        *pt.policy_documents(corpus),
        *pt.catalog_documents(catalog),
        *pt.report_documents(warehouse, catalog, report_months),
        *pt.text_dir_documents(list(extra_text_dirs)),
    ]
    step("pt", 1, 1)

    # --- overlap: the generator already refused eval questions; this independent final pass drops
    # any row that still holds one (answer rows included) and then measures what is left (0)
    dropped_final = 0
    sft_rows, n = overlap.drop_collisions(sft_rows, banned)
    dropped_final += n
    rm_rows, n = overlap.drop_collisions(rm_rows, banned)
    dropped_final += n
    prompt_rows, n = overlap.drop_collisions(prompt_rows, banned)
    dropped_final += n
    final_overlap = sum(
        overlap.normalise(q) in banned
        for r in [*sft_rows, *rm_rows, *prompt_rows]
        for q in overlap.row_questions(r)
    )
    prompt_keys = {overlap.normalise(q) for r in prompt_rows for q in overlap.row_questions(r)}

    for name, rows in (("pt", pt_rows), ("sft", sft_rows), ("rm", rm_rows), ("prompts", prompt_rows)):
        _write_jsonl(out_dir / f"{name}.jsonl", rows)

    rules = RulesPlanner(catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start)
    agree = sum(slots(rules.plan(it.question, it.history)) == slots(it.plan) for it in sft_items)
    report.update(
        {
            "counts": {
                "pt": len(pt_rows),
                "sft": len(sft_rows),
                "rm": len(rm_rows),
                "prompts": len(prompt_rows),
            },
            "sft_plan_categories": dict(sorted(Counter(it.category for it in sft_items).items())),
            "sft_answers": len(answers),
            "sft_answers_dropped_digest": dropped_answers,
            "rm_corruptions": dict(sorted(Counter(r["corruption"] for r in rm_rows).items())),
            "prompts_categories": dict(sorted(Counter(it.category for it in prompt_items).items())),
            "pt_sources": dict(sorted(Counter(r["source"].split(":")[0] for r in pt_rows).items())),
            "pt_characters": sum(len(r["text"]) for r in pt_rows),
            "generator": {
                "eval_collisions_dropped": sum(
                    g.stats["eval_collision"] for g in (sft_gen, rm_gen, prompt_gen)
                ),
                "duplicates_dropped": sum(g.stats["duplicate"] for g in (sft_gen, rm_gen, prompt_gen)),
                "final_pass_dropped": dropped_final,
                "failed_queries_dropped": sum(g.stats["query_failed"] for g in (sft_gen, rm_gen, prompt_gen)),
            },
            "eval_overlap": final_overlap,
            "prompts_sft_overlap": len(prompt_keys & sft_keys),
            "rules_agreement": round(agree / max(len(sft_items), 1), 4),
            "system_prompt_chars": len(builder.system_prompt),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
    )
    (out_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out_dir / "report.md").write_text(_markdown(report), encoding="utf-8")
    return report


def _builder(catalog: Catalog, warehouse: Warehouse, style: PromptStyle) -> PromptBuilder:
    # the same dimension names LLMPlanner gives its builder, so the full style matches serving too
    names = {d: [m.name for m in ms] for d, ms in warehouse.dimensions.members.items() if d != "doctor"}
    return PromptBuilder(catalog, warehouse.as_of, warehouse.data_start, names, style=style)


def _searches_policy(plan: Any) -> bool:
    return any(c.tool == "search_policy" for c in plan.calls)


def _shipped_corpus() -> Path:
    from opsbrain.knowledge import shipped_corpus

    return shipped_corpus()


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _markdown(report: dict[str, Any]) -> str:
    lines = [f"# Training data (seed {report['seed']}, prompt style {report['prompt_style']})", ""]
    lines += [f"- {k}: {v}" for k, v in report["counts"].items()]
    lines += [
        f"- answer examples: {report['sft_answers']}",
        f"- eval overlap: {report['eval_overlap']} (collisions dropped while generating: "
        f"{report['generator']['eval_collisions_dropped']})",
        f"- prompts ∩ SFT questions: {report['prompts_sft_overlap']}",
        f"- rules planner agrees with the gold plans: {report['rules_agreement']:.1%}",
        f"- build time: {report['build_seconds']} s",
        "",
        "## SFT plan categories",
        *[f"- {k}: {v}" for k, v in report["sft_plan_categories"].items()],
        "",
        "## RM corruptions",
        *[f"- {k}: {v}" for k, v in report["rm_corruptions"].items()],
    ]
    return "\n".join(lines) + "\n"
