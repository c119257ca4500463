"""The retrieval question set is well-formed and answerable; the scorer counts what it should."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.kb import (
    Expected,
    default_dataset,
    evaluate_kb,
    first_correct_rank,
    is_hit,
    load_questions,
    to_markdown,
)
from opsbrain.knowledge import shipped_corpus
from retrieval import Citation, KnowledgeBase
from retrieval.chunking import chunk_document
from retrieval.loaders import load_document

QUESTIONS = load_questions(default_dataset())
CHUNKS = {p.stem: chunk_document(load_document(p)) for p in shipped_corpus().glob("*.md")}


def test_size_and_coverage() -> None:
    assert len(QUESTIONS) >= 120
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert len({q.question for q in QUESTIONS}) == len(QUESTIONS)
    per_doc = Counter(e.doc_id for q in QUESTIONS for e in q.expected)
    assert set(per_doc) == set(CHUNKS), "every document is asked about"
    assert min(per_doc.values()) >= 2


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_expected_section_exists_as_a_chunk(question) -> None:
    for e in question.expected:
        assert e.doc_id in CHUNKS, f"{question.id}: no document {e.doc_id}"
        if e.article is not None:
            labels = {"".join(s.split()) for c in CHUNKS[e.doc_id] for s in [c.article, *c.heading_path]}
            assert "".join(e.article.split()) in labels, (
                f"{question.id}: {e.article} is not a section of {e.doc_id}"
            )


def _hit(doc_id: str, article: str, path: list[str]) -> Citation:
    return Citation(
        chunk_id=f"{doc_id}#000",
        doc_id=doc_id,
        title="t",
        doc_number="",
        article=article,
        heading_path=path,
        issuer="",
        issue_date="",
        status="现行",
        scope="external",
        reliability="",
        text="x",
        score=1.0,
    )


def test_scorer() -> None:
    expected = [Expected(doc_id="a", article="（一）药占比目标")]
    wrong_doc = _hit("b", "（一）药占比目标", ["二、目标", "（一）药占比目标"])
    wrong_section = _hit("a", "（二）耗材目标", ["二、目标", "（二）耗材目标"])
    right = _hit("a", "（一） 药占比目标", ["二、目标", "（一）药占比目标"])
    assert not is_hit(wrong_doc, expected) and not is_hit(wrong_section, expected) and is_hit(right, expected)
    assert first_correct_rank([wrong_doc, wrong_section, right], expected) == 3
    assert first_correct_rank([wrong_doc], expected) is None
    # a parent section label accepts any chunk beneath it; no article accepts any chunk of the document
    assert is_hit(wrong_section, [Expected(doc_id="a", article="二、目标")])
    assert is_hit(wrong_section, [Expected(doc_id="a")])


def test_evaluate_reports_every_mode(corpus_kb: KnowledgeBase, tmp_path) -> None:
    subset = tmp_path / "subset.jsonl"
    subset.write_text("\n".join(q.model_dump_json() for q in QUESTIONS[:12]))
    report = evaluate_kb(corpus_kb, subset, k=5)
    assert [r.mode for r in report.results] == ["bm25", "dense", "hybrid"]
    for r in report.results:
        assert 0 <= r.recall_at_1 <= r.recall_at_5 <= 1 and 0 <= r.mrr <= 1 and r.p95_ms >= r.p50_ms > 0
        assert len(r.misses) == round((1 - r.recall_at_5) * 12)
    assert "| hybrid |" in to_markdown(report)
