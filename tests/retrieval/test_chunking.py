"""Chunking follows the structure of Chinese regulations and keeps every chunk citable."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsbrain.knowledge import shipped_corpus
from retrieval.chunking import chunk_document
from retrieval.loaders import load_document
from retrieval.models import Document, DocumentMeta


def _doc(text: str, title: str = "测试文件") -> Document:
    return Document(meta=DocumentMeta(doc_id="test-doc", title=title), text=text, path="/x", content_hash="0")


REGULATION = """第一章 总则
第一条 为了加强医疗保障基金使用监督管理，保障基金安全，促进基金有效使用，维护公民医疗保障合法权益，制定本条例。
第二条 本条例适用于中华人民共和国境内基本医疗保险（含生育保险）基金、医疗救助基金等医疗保障基金使用及其监督管理。
第五章 法律责任
第三十八条 定点医药机构有下列情形之一的，由医疗保障行政部门责令改正，并可以约谈有关负责人：
（一）分解住院、挂床住院；
（六）将不属于医疗保障基金支付范围的医药费用纳入医疗保障基金结算；
第三十九条 定点医药机构违反本条例规定，造成医疗保障基金重大损失的，依法承担相应责任并予以处理。
"""


def test_articles_become_chunks_under_their_chapter() -> None:
    chunks = chunk_document(_doc(REGULATION), min_chars=20)
    by_article = {c.article: c for c in chunks}
    assert {"第一条", "第二条", "第三十八条", "第三十九条"} <= set(by_article)
    art38 = by_article["第三十八条"]
    assert art38.heading_path == ["第五章 法律责任", "第三十八条"]
    # the items of an article are its clauses: they stay in the article's chunk
    assert "（六）将不属于" in art38.text and "（一）分解住院" in art38.text
    assert by_article["第一条"].heading_path[0] == "第一章 总则"


def test_markdown_sections_nest_and_short_headings_merge_forward() -> None:
    text = """# 测试文件
> 摘要说明。
## 一、费用结构控制目标
### （一）药占比控制目标
1. 目标内容：到2017年，试点城市公立医院药占比（不含中药饮片）总体降到30%左右。
2. 适用范围：城市公立医院综合改革试点城市的公立医院。
### （二）卫生材料消耗目标
百元医疗收入（不含药品收入）中消耗的卫生材料降到20元以下，与药占比配套使用，防止以耗材替代药品。
"""
    chunks = chunk_document(_doc(text), min_chars=30)
    assert [c.article for c in chunks] == ["（一）药占比控制目标", "（二）卫生材料消耗目标"]
    assert chunks[0].heading_path == ["一、费用结构控制目标", "（一）药占比控制目标"]
    # the bare section heading and the preface travel with the first real section, never alone
    assert "一、费用结构控制目标" in chunks[0].text and "摘要说明" in chunks[0].text
    assert "一、费用结构控制目标" in chunks[0].sections
    assert all(len(c.text) > 30 for c in chunks)


def test_plain_text_numbering_without_markdown() -> None:
    text = (
        "一、总体要求\n坚持公益性，推进公立医院综合改革，逐步建立维护公益性、调动积极性、保障可持续的运行新机制。\n"
        "二、控制医疗费用不合理增长\n（一）合理控制医疗费用。严格控制公立医院药品和耗材收入占比，落实各项控费措施，防止费用过快增长。\n"
        "（二）规范诊疗行为。加强临床路径管理，推行按病种收付费，减少不合理检查和用药。\n"
    )
    chunks = chunk_document(_doc(text), min_chars=20)
    assert [c.article for c in chunks] == ["一、总体要求", "二、控制医疗费用不合理增长"]
    assert "（二）规范诊疗行为" in chunks[1].text


def test_long_section_splits_at_items_and_respects_the_bound() -> None:
    items = "\n".join(
        f"{n}. 第{n}项要求：医疗机构应当按照规定完善内部管理制度，明确责任分工，定期开展自查自纠。"
        for n in range(1, 30)
    )
    chunks = chunk_document(_doc(f"## 一、管理要求\n{items}"), max_chars=200, min_chars=20)
    assert len(chunks) > 3
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(c.article == "一、管理要求" for c in chunks)
    assert all(
        line.strip()[0].isdigit() or line.startswith("#") for c in chunks for line in c.text.splitlines()
    )


def test_a_table_is_never_cut_and_stays_with_its_heading() -> None:
    rows = "\n".join(f"| {n} | 指标{n} | 逐步提高 |" for n in range(1, 40))
    text = f"## 一、指标清单\n下表列出全部指标。\n\n| 序号 | 指标 | 导向 |\n|---|---|---|\n{rows}\n\n## 二、说明\n以上指标按年度考核，数据来源为病案首页和财务年报表，由医院按时填报。"
    chunks = chunk_document(_doc(text), max_chars=300, min_chars=20)
    table_chunks = [c for c in chunks if "| 序号 |" in c.text]
    assert len(table_chunks) == 1
    table = table_chunks[0]
    assert "| 39 | 指标39 |" in table.text and "一、指标清单" in table.text
    assert table.article == "一、指标清单"


@pytest.mark.parametrize("path", sorted(shipped_corpus().glob("*.md")), ids=lambda p: p.stem)
def test_every_shipped_document_chunks_within_bounds(path: Path) -> None:
    doc = load_document(path)
    chunks = chunk_document(doc)
    assert chunks, "a document gives at least one chunk"
    for c in chunks:
        assert c.article and c.doc_id == doc.meta.doc_id
        assert len(c.text) <= 500 or "|" in c.text, f"{c.chunk_id} is {len(c.text)} characters"
    assert len({c.chunk_id for c in chunks}) == len(chunks)
