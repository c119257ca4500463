"""Policy answers: whole statements that answer first, with their [n]; doubts and notices on the
source line; 'not held' with the nearest documents when nothing answers."""

from __future__ import annotations

import re

from opsbrain.knowledge import shipped_corpus
from retrieval import Citation
from retrieval.loaders import load_document
from serving.assistant.policy_answer import NOT_HELD, SOURCES_HEADING, answer, statements_of


def _citation(doc_id: str, text: str, **fields) -> Citation:
    meta = load_document(shipped_corpus() / f"{doc_id}.md").meta
    return Citation(
        doc_id=doc_id,
        title=meta.title,
        doc_number=meta.doc_number,
        article=fields.get("article", ""),
        heading_path=[],
        issuer=meta.issuer,
        issue_date=meta.issue_date,
        status=meta.status,
        scope=meta.scope,
        reliability=meta.reliability,
        text=text,
        score=1.0,
        chunk_id=f"{doc_id}#0",
    )


ALBUMIN = (
    "> 本文是 opsbrain 项目依据公开资料整理的要点摘要，不是官方原文。引用前请核对原文。\n\n"
    "### （一）医保基金支付人血白蛋白的两项条件\n\n"
    "国家医保药品目录对人血白蛋白设定了限定支付范围，基金只在同时满足以下两项条件时支付"
    "（条文内容见两处二手来源，表述一致，待核对目录原文）：\n\n"
    "1. 临床情形条件：用于抢救、重症患者，或用于肝硬化、癌症引起胸腹水的患者；\n"
    "2. 检验指标条件：血清白蛋白低于30 g/L。\n\n"
    "两项条件是“并且”关系，缺一不可。"
)
CATEGORY = (
    "人血白蛋白在国家医保药品目录中为乙类药品（背景知识，未经核实）。有消费者网站称其为“丙类”，该说法错误。"
)


def test_the_answer_states_both_conditions_whole_with_its_source_number() -> None:
    citations = [
        _citation("nhsa-nrdl-human-albumin-restriction", CATEGORY),
        _citation("nhsa-nrdl-human-albumin-restriction", ALBUMIN),
    ]
    result = answer("人血白蛋白医保怎么报", citations)
    head, sources = result.text.split(SOURCES_HEADING)
    assert result.held and head.startswith("国家医保药品目录对人血白蛋白设定了限定支付范围")
    assert "抢救" in head and "30 g/L" in head and "[2]" in head
    # the corpus notice and the reliability remarks belong to the source line
    assert "要点摘要" not in head and "二手来源" not in head and "[S]" not in head
    assert "非官方原文" in sources and "二手来源" in sources
    assert re.search(r"\[1\] 《.+》", sources) and re.search(r"\[2\] 《.+》", sources)


def test_statements_are_never_cut_inside_a_sentence() -> None:
    for statement in statements_of(_citation("nhsa-nrdl-human-albumin-restriction", ALBUMIN), 0):
        assert statement.text.endswith(("。", "；", "g/L。", "L。")) or statement.text[-1] in "。！？；"
        # every statement is the passage's own words (remarks taken out)
        assert statement.text.replace("。", "")[:12] in ALBUMIN.replace(
            "（条文内容见两处二手来源，表述一致，待核对目录原文）", ""
        )


def test_a_question_the_passages_do_not_answer_says_so_and_names_the_nearest() -> None:
    citations = [_citation("nhsa-nrdl-human-albumin-restriction", CATEGORY)]
    result = answer("手术室护士和手术间的配置比例是多少", citations)
    assert not result.held and result.text.startswith(NOT_HELD)
    assert "《国家医保药品目录人血白蛋白限定支付范围" in result.text
