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


def test_an_unverified_statement_is_offered_as_such_not_as_the_answer() -> None:
    # the category is background knowledge ([M] in facts.md): the reply says no verified text holds
    # it, and still shows what the documents say, with its doubt
    citations = [_citation("nhsa-nrdl-human-albumin-restriction", CATEGORY)]
    result = answer("人血白蛋白在医保目录里是甲类还是乙类？", citations)
    head = result.text.split(SOURCES_HEADING)[0]
    assert not result.held and head.startswith(NOT_HELD)
    assert "未经核实" in head and "乙类药品" in head and "[1]" in head


def test_a_statement_that_names_its_source_is_an_answer_even_with_a_doubtful_detail() -> None:
    text = (
        "《三级综合医院医疗服务能力指南（2016年版）》的文号为国卫办医函〔2016〕936号（见于一则新闻页面，"
        "单一来源，待核实），发文机关据文号格式推断为原国家卫生计生委办公厅（未经核实）。"
    )
    result = answer(
        "医疗服务能力指南2016版是哪个文号", [_citation("nhc-2016-936-service-capability-guide", text)]
    )
    assert result.held and "936号" in result.text.split(SOURCES_HEADING)[0]
    assert not result.text.startswith(NOT_HELD)


def test_the_documents_saying_they_do_not_hold_it_is_a_not_held_answer() -> None:
    text = (
        "本项目未找到任何国家层面规定药占比不得超过40%的文件。凡称国家要求药占比低于40%的，应视为来源不明。"
    )
    result = answer("国家是不是规定药占比不能超过40%", [_citation("gov-2015-38-city-hospital-reform", text)])
    assert result.text.startswith(NOT_HELD) and "本项目未找到任何国家层面" in result.text


def test_a_list_item_is_read_with_the_heading_above_it() -> None:
    # 1. 第一部分为前置要求 does not say 评审标准 itself; its heading does
    text = (
        "### 操作手册的结构\n\n手册的第一部分列出指标名称。\n\n"
        "### 评审标准的结构\n\n1. 第一部分为前置要求。\n2. 第二部分为监测数据。"
    )
    result = answer(
        "评审标准第一部分是什么？", [_citation("nhc-2022-31-tertiary-accreditation-standard", text)]
    )
    best = max(result.statements, key=lambda s: s.score)
    assert best.text == "1. 第一部分为前置要求。" and "评审标准" in best.context


def test_a_statement_of_the_asked_kind_ranks_first() -> None:
    # 几号令 asks for an order number: of two statements sharing the same words, the one that gives
    # a number ranks first
    text = "《处方管理办法》经卫生部审议通过并公布施行。\n\n《处方管理办法》以卫生部令第53号公布。"
    result = answer("处方管理办法是几号令？", [_citation("moh-2007-53-prescription-management", text)])
    best = max(result.statements, key=lambda s: s.score)
    assert best.text == "《处方管理办法》以卫生部令第53号公布。"
