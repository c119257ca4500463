"""Ingest is incremental by content hash; search filters and cites; bad input is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import EmptyQueryError, KBConfig, KnowledgeBase, SearchFilters
from tests.retrieval.fakes import HashingEmbedder


def test_empty_index(kb: KnowledgeBase) -> None:
    assert kb.stats().documents == 0 and kb.stats().chunks == 0
    for mode in ("bm25", "dense", "hybrid"):
        assert kb.search("药占比有什么政策要求", mode=mode).hits == []


def test_incremental_reingest(kb: KnowledgeBase, embedder: HashingEmbedder, corpus_copy: Path) -> None:
    first = kb.ingest([corpus_copy])
    n_docs = len(list(corpus_copy.glob("*.md")))
    assert len(first.added) == n_docs and not first.skipped
    assert first.chunks_written == kb.stats().chunks == embedder.passages_embedded

    embedded_before = embedder.passages_embedded
    again = kb.ingest([corpus_copy])
    assert len(again.unchanged) == n_docs and not (again.added or again.updated or again.removed)
    assert embedder.passages_embedded == embedded_before, "unchanged documents are not embedded again"

    changed = corpus_copy / "gov-2015-38-city-hospital-reform.md"
    changed.write_text(
        changed.read_text(encoding="utf-8")
        + "\n## 九、新增章节\n本节为测试新增的内容，用于验证增量更新：修改过的文件重新切分、重新嵌入，其余文件原样保留，不重复计算，也不会丢失任何已经入库的内容。\n"
    )
    (corpus_copy / "nhc-2016-936-service-capability-guide.md").unlink()
    third = kb.ingest([corpus_copy])
    assert third.updated == ["gov-2015-38-city-hospital-reform"]
    assert third.removed == ["nhc-2016-936-service-capability-guide"]
    assert len(third.unchanged) == n_docs - 2
    assert embedder.passages_embedded - embedded_before == third.chunks_written
    assert kb.stats().documents == n_docs - 1
    hits = kb.search("测试新增的内容 增量更新", mode="bm25").hits
    assert hits[0].doc_id == "gov-2015-38-city-hospital-reform" and hits[0].article == "九、新增章节"


def test_ingesting_another_folder_keeps_the_first(
    kb: KnowledgeBase, tmp_path: Path, corpus_copy: Path
) -> None:
    kb.ingest([corpus_copy])
    own = tmp_path / "hospital"
    own.mkdir()
    (own / "院内耗材管理规定.md").write_text(
        "# 院内耗材管理规定\n## 一、耗占比目标\n本院耗占比控制在百分之二十以内。\n"
    )
    report = kb.ingest([own])
    assert report.added == ["yuan-nei-hao-cai-guan-li-gui-ding"] and not report.removed
    assert kb.stats().documents == len(list(corpus_copy.glob("*.md"))) + 1


def test_bad_files_are_reported_and_the_rest_indexed(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text(
        "---\nid: good\ntitle: 好文件\n---\n# 好文件\n## 一、要求\n按规定执行，定期自查。\n"
    )
    (folder / "empty.md").write_text("")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (folder / "z-dup.md").write_text("---\nid: good\ntitle: 同名文件\n---\n正文内容。\n")
    report = kb.ingest([folder])
    assert report.added == ["good"]
    reasons = {Path(p.path).name: p.reason for p in report.skipped}
    assert set(reasons) == {"empty.md", "broken.pdf", "z-dup.md"}
    assert "already used" in reasons["z-dup.md"] and "no text" in reasons["empty.md"]


def test_model_change_re_embeds_everything(tmp_path: Path, corpus_copy: Path) -> None:
    config = KBConfig(chroma_path=tmp_path / "chroma")
    KnowledgeBase(HashingEmbedder("model-a"), config).ingest([corpus_copy])
    other = HashingEmbedder("model-b")
    kb_b = KnowledgeBase(other, config)
    with pytest.raises(RuntimeError, match="rebuild"):
        kb_b.search("药占比")  # vectors of another model would give meaningless neighbours
    report = kb_b.ingest([corpus_copy])
    assert len(report.added) == len(list(corpus_copy.glob("*.md"))) and kb_b.stats().embedder == "model-b"


def test_citations_carry_the_source(corpus_kb: KnowledgeBase) -> None:
    external = SearchFilters(scope="external")
    hits = corpus_kb.search(
        "医疗保障基金使用监督管理条例 第三十八条", k=3, mode="bm25", filters=external
    ).hits
    hit = next(h for h in hits if "第三十八条" in h.article)
    assert hit.doc_id == "gov-735-medical-insurance-fund-supervision"
    assert hit.doc_number == "国务院令第735号" and hit.issuer == "国务院" and hit.status == "现行"
    assert hit.heading_path[-1] == hit.article and "第三十八条" in hit.text
    assert hit.text and hit.score > 0 and hit.scope == "external"
    assert hit.label.startswith("《医疗保障基金使用监督管理条例")


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (SearchFilters(scope="internal"), lambda h: h.scope == "internal"),
        (SearchFilters(scope="external"), lambda h: h.scope == "external"),
        (SearchFilters(status="废止"), lambda h: h.status == "废止"),
        (SearchFilters(year_from=2020), lambda h: int(h.issue_date[:4]) >= 2020),
        (SearchFilters(year_to=2015), lambda h: int(h.issue_date[:4]) <= 2015),
        (SearchFilters(issuers=["国家医疗保障局"]), lambda h: h.issuer == "国家医疗保障局"),
        (
            SearchFilters(year_from=2019, year_to=2019, scope="external"),
            lambda h: h.issue_date.startswith("2019"),
        ),
    ],
)
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_filters(corpus_kb: KnowledgeBase, filters: SearchFilters, check, mode: str) -> None:
    hits = corpus_kb.search("药占比 医保 考核 目标", k=10, mode=mode, filters=filters).hits
    assert hits, "each filter keeps some documents of the corpus"
    assert all(check(h) for h in hits)


def test_filters_that_match_nothing(corpus_kb: KnowledgeBase) -> None:
    assert corpus_kb.search("药占比", filters=SearchFilters(issuers=["不存在的机关"])).hits == []


def test_hybrid_fuses_both_rankings(corpus_kb: KnowledgeBase) -> None:
    hits = corpus_kb.search("人血白蛋白限定支付范围", k=5).hits
    assert any(h.bm25_rank and h.dense_rank for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("query", ["", "   ", "药" * 501])
def test_bad_queries(corpus_kb: KnowledgeBase, query: str) -> None:
    with pytest.raises(EmptyQueryError):
        corpus_kb.search(query)


def test_reranker_reorders(corpus_kb: KnowledgeBase) -> None:
    class Reverse:
        name = "reverse"

        def rerank(self, query, hits):
            return list(reversed(hits))

    plain = corpus_kb.search("抗菌药物使用强度", k=3)
    corpus_kb.reranker = Reverse()
    try:
        reranked = corpus_kb.search("抗菌药物使用强度", k=3)
    finally:
        corpus_kb.reranker = None
    # the reranker sees the top 20 candidates and the caller gets its top 3
    assert reranked.hits[0].chunk_id != plain.hits[0].chunk_id and len(reranked.hits) == 3


def test_a_running_instance_sees_another_process_ingest(tmp_path: Path, corpus_copy: Path) -> None:
    """A server keeps serving while `opsbrain kb ingest` (another KnowledgeBase on the same index) adds files."""
    config = KBConfig(chroma_path=tmp_path / "chroma", reload_check_seconds=0)
    serving = KnowledgeBase(HashingEmbedder(), config)
    assert serving.search("高值耗材 审批 追溯", mode="bm25").hits == []
    own = tmp_path / "own"
    own.mkdir()
    (own / "rule.md").write_text(
        "---\nid: own-rule\ntitle: 高值耗材管理办法\n---\n## 一、审批\n高值耗材使用前须经科主任审批，并登记追溯信息，每月由运营管理部抽查。\n"
    )
    KnowledgeBase(HashingEmbedder(), config).ingest([own])
    hits = serving.search("高值耗材 审批 追溯", mode="bm25").hits
    assert hits and hits[0].doc_id == "own-rule"
