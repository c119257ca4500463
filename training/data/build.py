"""Build every training file of issues #5 and #13 in one pass: pt, sft, rm, prompts and a report.

Plan conversations are in the LLM parser's form (training/data/conversations.py): the serving
pipeline maps each question, ``LLMParser.request`` writes the messages and the target is the gold
plan in compact form; a dialogue gives one conversation per turn, each with the earlier turns and
their gold plans as history. Deterministic for a seed: one ``random.Random`` per file (derived from
the seed), items generated in order, nothing depending on time or on set iteration order. The
report records per category how many turns encode (the rest, with the reason and the value the
candidates lacked, point at mappers to fix), the eval overlap (0 after dropping collisions) and how
often the rules pipeline agrees with the gold plans (a QA figure for the generator, not a filter).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from evals.planner import slots
from indicators import Catalog, Warehouse
from retrieval.embeddings import Embedder
from serving.assistant.executor import Executor
from serving.planner.rules import RulesPlanner
from training.data import overlap, pt, rm, sft
from training.data.conversations import Encoded, EncodeStats, ParserView, previous_turns
from training.data.prompts import prompt_record
from training.data.questions import Item, QuestionGenerator

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Turned = tuple[Item, str, tuple, Any, Encoded]  # item, question, history, gold plan, encoded turn


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
    corpus_dirs: Iterable[Path] | None = None,
    report_months: int = 36,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write pt.jsonl, sft.jsonl, rm.jsonl, prompts.jsonl, report.json and report.md under ``out_dir``.

    Args:
        kb: a ``KnowledgeBase`` for policy results in answer examples; without one, plans that
            search the policies get no answer example (there would be nothing to cite). Its
            embedding model also serves the pipeline's embedding mapper, as at serving time.
        sft_size: generated items for plan conversations (a dialogue is one item and gives one
            conversation per turn); ``answer_size`` (default a fifth of it) answer examples.
        embedder: the embedding mapper's model when no ``kb`` is given (None: no embedding mapper;
            the data then matches a server without a knowledge base).
    """
    started = time.perf_counter()
    step = progress or (lambda stage, done, total: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    answer_size = sft_size // 5 if answer_size is None else answer_size
    embedder = embedder or (kb.embedder if kb is not None else None)
    view = ParserView(catalog, warehouse, embedder)
    banned = overlap.eval_questions()
    report: dict[str, Any] = {
        "seed": seed,
        "as_of": warehouse.as_of.isoformat(),
        "embedding_mapper": embedder is not None,
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
    prompt_items = prompt_gen.generate(prompts_size * 2, banned=banned | sft_keys)
    step("questions", 3, 3)

    # --- SFT: one plan conversation per turn, then answers for a sample of the plans that call tools
    stats = EncodeStats()
    sft_turns = list(_turns(view, sft_items, stats, step, "sft"))
    sft_rows = [sft.plan_example(enc, q, h, gold, _tags(it, q)) for it, q, h, gold, enc in sft_turns]
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

    # --- RM: compact plan pairs from the RM questions, answer pairs from the answer examples
    rm_rng = random.Random(seed + 4)
    corrupter = rm.CompactCorrupter(view, rm_rng)
    rm_rows: list[dict[str, Any]] = []
    answer_share = rm_size // 4 if answers else 0
    for _, q, h, gold, enc in _turns(view, rm_items, EncodeStats(), step, "rm"):
        if len(rm_rows) >= rm_size - answer_share:
            break
        for kind in corrupter.order(enc.target, enc.choices):
            wrong = corrupter.corrupt(enc, gold, kind)
            if wrong is not None:
                rm_rows.append(rm.plan_pair(enc, wrong, kind, sft.turn_record(q, h, gold)))
                break
    for _, row, results in answers:
        if len(rm_rows) >= rm_size:
            break
        chosen = row["messages"][-1]["content"]
        for kind in rm_rng.sample(rm.ANSWER_CORRUPTIONS, len(rm.ANSWER_CORRUPTIONS)):
            wrong = rm.corrupt_answer(chosen, results, kind, rm_rng)
            if wrong is not None and wrong != chosen:
                rm_rows.append(rm.answer_pair(row["messages"][:-1], chosen, wrong, kind))
                break

    # --- prompts: the last turn of each item only (its history is gold), encodable ones
    prompt_rows = []
    for it in prompt_items:
        if len(prompt_rows) >= prompts_size:
            break
        enc = view.encode(it.question, it.history, it.plan)
        if isinstance(enc, Encoded):
            prompt_rows.append(prompt_record(enc, it.question, it.history, it.plan, _tags(it, it.question)))

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

    rules = RulesPlanner(
        catalog, warehouse.dimensions, warehouse.as_of, warehouse.data_start, embedder=embedder
    )
    agree = sum(slots(rules.plan(q, h)) == slots(gold) for _, q, h, gold, _ in sft_turns)
    plan_rows = [r for r in sft_rows if r["kind"] == "plan"]
    report.update(
        {
            "counts": {
                "pt": len(pt_rows),
                "sft": len(sft_rows),
                "sft_plan": len(plan_rows),
                "rm": len(rm_rows),
                "prompts": len(prompt_rows),
            },
            "sft_items": len(sft_items),
            "sft_plan_categories": dict(sorted(Counter(_category(r) for r in plan_rows).items())),
            "sft_multi_turn": sum(bool(r["history"]) for r in plan_rows),
            "encoding": stats.as_dict(),
            "sft_answers": len(answers),
            "sft_answers_dropped_digest": dropped_answers,
            "rm_corruptions": dict(sorted(Counter(r["corruption"] for r in rm_rows).items())),
            "prompts_categories": dict(sorted(Counter(_category(r) for r in prompt_rows).items())),
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
            "rules_agreement": round(agree / max(len(sft_turns), 1), 4),
            "system_prompt_chars": len(view.system_prompt),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
    )
    (out_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out_dir / "report.md").write_text(_markdown(report), encoding="utf-8")
    return report


def _turns(
    view: ParserView, items: list[Item], stats: EncodeStats, step: Progress, stage: str
) -> Iterator[Turned]:
    """Every turn of every item in the parser's form (earlier turns first), each once; the turns
    that cannot be expressed are counted in ``stats`` by category and reason."""
    seen: set[str] = set()
    for n, it in enumerate(items, 1):
        for q, h, gold in [*previous_turns(it.history), (it.question, it.history, it.plan)]:
            key = overlap.normalise(" / ".join([*(t.question for t in h), q]))
            if key in seen:
                continue
            seen.add(key)
            enc = view.encode(q, h, gold)
            stats.add(it.category if q == it.question and h == it.history else f"{it.category}:earlier", enc)
            if isinstance(enc, Encoded):
                yield it, q, h, gold, enc
        if n % 50 == 0:
            step(f"{stage} turns", n, len(items))


def _tags(item: Item, question: str) -> list[str]:
    return [*item.tags] if question == item.question else [f"category:{item.category}", "turn:earlier"]


def _category(row: dict[str, Any]) -> str:
    category = next((t.split(":", 1)[1] for t in row["tags"] if t.startswith("category:")), "?")
    return f"{category}:earlier" if "turn:earlier" in row["tags"] else category


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
    enc = report["encoding"]
    lines = [f"# Training data (seed {report['seed']}, as-of {report['as_of']})", ""]
    lines += [f"- {k}: {v}" for k, v in report["counts"].items()]
    lines += [
        f"- generated items: {report['sft_items']}; multi-turn conversations: {report['sft_multi_turn']}",
        f"- turns encoded in compact form: {enc['encoded_share']:.1%}",
        f"- embedding mapper: {'yes' if report['embedding_mapper'] else 'no'}",
        f"- answer examples: {report['sft_answers']}",
        f"- eval overlap: {report['eval_overlap']} (collisions dropped while generating: "
        f"{report['generator']['eval_collisions_dropped']})",
        f"- prompts ∩ SFT questions: {report['prompts_sft_overlap']}",
        f"- rules pipeline agrees with the gold plans: {report['rules_agreement']:.1%}",
        f"- build time: {report['build_seconds']} s",
        "",
        "## SFT turns per category: tried, encoded",
        "",
        "| category | tried | encoded | share |",
        "|---|---|---|---|",
        *[
            f"| {c} | {v['tried']} | {v['encoded']} | {v['share']:.0%} |"
            for c, v in enc["per_category"].items()
        ],
        "",
        "## Turns the candidates cannot express (most frequent first)",
        "",
        *[
            f"- {m['category']} / {m['reason']}: {m['count']} — {', '.join(m['top'])}"
            for m in enc["not_encoded"]
        ],
        "",
        "## RM corruptions",
        *[f"- {k}: {v}" for k, v in report["rm_corruptions"].items()],
    ]
    return "\n".join(lines) + "\n"
