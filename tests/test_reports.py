"""Report export: Markdown, Excel and PDF drawn from stored responses of the demo data."""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from openpyxl.chart import BarChart, LineChart

from serving.conversations import Conversation, Message
from serving.reports import MEDIA_TYPES, TurnNotFoundError, content, fonts, render_report, report_filename

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
EXPORTED = datetime(2024, 5, 6, 2, 30, tzinfo=UTC)
SQL_FRAGMENT = "FROM agg_fee_monthly"


def response(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def conversation(*turns: dict[str, Any] | None, questions: list[str] | None = None) -> Conversation:
    moment = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
    messages = []
    for i, r in enumerate(turns):
        question = questions[i] if questions else r["question"]
        answer = r["answer"] if r else "旧版本保存的回答文字"
        messages += [
            Message(role="user", content=question, created_at=moment),
            Message(role="assistant", content=answer, response=r, created_at=moment),
        ]
    return Conversation(id="c1", title="药占比分析", created_at=moment, updated_at=moment, messages=messages)


def md(conv: Conversation, turn: int | None = None) -> str:
    return render_report(conv, "md", turn, exported_at=EXPORTED).decode("utf-8")


def xlsx(conv: Conversation, turn: int | None = None) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render_report(conv, "xlsx", turn, exported_at=EXPORTED)))


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    # extracted lines break wherever the layout wrapped them, so whitespace is dropped before matching
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def three() -> Conversation:
    return conversation(response("seed"), response("trend"), response("rank"))


@pytest.fixture
def no_font_file(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(fonts.FONT_ENV, raising=False)
    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ())
    fonts.report_font.cache_clear()
    yield
    fonts.report_font.cache_clear()


def test_markdown_holds_question_figures_sql_and_citations() -> None:
    seed = response("seed")
    text = md(conversation(seed))
    assert text.startswith("# opsbrain 运营分析报告")
    assert "医院本年药占比是多少？包括同比" in text
    assert "| 药占比 | — | 2023-01-01 至 2023-09-08 | 36.45% |" in text
    assert "同比 36.67%（下降 0.22 百分点" in text
    assert "```sql" in text and SQL_FRAGMENT in text
    assert "1. 《演示医院2023年度运营管理目标》（一）药占比控制目标" in text
    assert "**药占比**（2023-01-01 至 2023-09-08）为 36.45%" in text  # Markdown keeps the bold markers
    assert "数据截至**：2023-09-08" in text and "2024-05-06 10:30（北京时间）" in text
    assert "[V] 已核实" in text
    # the chart becomes a table of its series, said so
    assert "Markdown 无法显示图表" in text and "| 2019 | 41.43 |" in text


def test_markdown_lists_a_result_table_with_the_indicator_precision(three: Conversation) -> None:
    text = md(three, turn=2)
    assert "| 2023-01 | 22,091 |" in text  # 门诊人次 has precision 0
    assert "按月份分组" in text


def test_turn_selects_one_question_and_answer(three: Conversation) -> None:
    text = md(three, turn=2)
    assert "今年每个月的门诊人次趋势" in text
    assert "医院本年药占比是多少" not in text and "本年各科室药占比排名前5" not in text
    assert "第 2 问（会话共 3 问）" in text


@pytest.mark.parametrize("turn", [0, 4, 99, -1])
def test_a_turn_outside_the_conversation_says_which_exist(three: Conversation, turn: int) -> None:
    with pytest.raises(TurnNotFoundError, match="会话只有 3 个问答，turn 应为 1 至 3"):
        render_report(three, "md", turn)


def test_markdown_keeps_stored_html_as_text() -> None:
    text = md(conversation(response("refuse"), questions=["<img src=x onerror=alert(1)> 药占比"]))
    assert "\\<img src=x" in text and "<img" not in text.replace("\\<img", "")


def test_clarification_and_refusal_are_shown() -> None:
    text = md(conversation(response("clarify"), response("refuse")))
    assert "### 需要澄清" in text and "- 药占比" in text and "- 耗占比" in text
    assert "### 无法回答" in text and "患者个人信息不会通过本助手提供" in text


def test_excel_workbook_has_numbers_charts_sql_and_citations(three: Conversation) -> None:
    wb = xlsx(three)
    assert wb.sheetnames == ["概要", "第1问", "第2问", "第3问", "口径与SQL", "引用"]
    trend = wb["第2问"]
    header = next(r for r in trend.iter_rows() if r[0].value == "月份")[0].row
    first = trend.cell(header + 1, 2)
    assert first.value == 22091 and isinstance(first.value, float | int) and first.number_format == "#,##0"
    assert [type(c) for c in trend._charts] == [LineChart]
    assert not any(row[0] == "图表数据" for row in trend.iter_rows(values_only=True))  # drawn from the table
    rank = wb["第3问"]
    header = next(r for r in rank.iter_rows() if r[0].value == "科室")[0].row
    top = rank.cell(header + 1, 2)
    assert isinstance(top.value, float) and top.number_format == "#,##0.00"
    assert [type(c) for c in rank._charts] == [BarChart]
    # the seed's chart comes from a context query, so its data is written under the figures
    seed = wb["第1问"]
    assert len(seed._charts) == 1
    assert any(row[0] == "图表数据" for row in seed.iter_rows(values_only=True))
    values = [c.value for c in wb["概要"]["D"] if isinstance(c.value, float)]
    assert values and abs(values[0] - 36.45) < 0.01
    sql = [row[-1] for row in wb["口径与SQL"].iter_rows(min_row=2, values_only=True)]
    assert any(SQL_FRAGMENT in (s or "") for s in sql)
    titles = [row[2] for row in wb["引用"].iter_rows(min_row=2, values_only=True)]
    assert "演示医院2023年度运营管理目标" in titles


def test_excel_keeps_text_that_looks_like_a_formula_as_text() -> None:
    wb = xlsx(conversation(response("refuse"), questions=['=HYPERLINK("http://x")']))
    cells = [c for row in wb["概要"].iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" for c in cells)


def test_pdf_text_holds_question_value_citation_and_chart_title(three: Conversation) -> None:
    conv = copy.deepcopy(three)
    # a title no other part of the report prints, so finding it proves the chart was drawn
    conv.messages[1].response["chart"]["title"]["text"] = "逐年走势示意"
    text = pdf_text(render_report(conv, "pdf", exported_at=EXPORTED))
    assert "医院本年药占比是多少？包括同比" in text
    assert "36.45%" in text and "同比36.67%（下降0.22百分点" in text
    assert "演示医院2023年度运营管理目标" in text
    assert "逐年走势示意" in text
    assert "附录：执行的SQL" in text and "agg_fee_monthly" in text


def test_pdf_embeds_an_installed_cjk_font() -> None:
    fonts.report_font.cache_clear()
    font = fonts.report_font()
    if not font.embedded:
        pytest.skip("no TrueType CJK font installed here")
    data = render_report(conversation(response("clarify")), "pdf")
    assert b"/FontFile2" in data  # an embedded TrueType subset


def test_pdf_falls_back_to_the_standard_cid_font(no_font_file: None) -> None:
    assert not fonts.report_font().embedded
    data = render_report(conversation(response("seed")), "pdf", exported_at=EXPORTED)
    assert b"STSong-Light" in data and b"/FontFile2" not in data
    text = pdf_text(data)
    assert "医院本年药占比是多少？包括同比" in text and "36.45%" in text


def test_pdf_escapes_markup_in_stored_text() -> None:
    question = "A<B & C>D 的药占比？"
    text = pdf_text(render_report(conversation(response("refuse"), questions=[question]), "pdf"))
    assert "A<B&C>D的药占比？" in text


def test_all_formats_state_the_same_comparison(three: Conversation) -> None:
    wanted = "同比 36.67%（下降 0.22 百分点，2022-01-01 至 2022-09-08）"
    assert wanted in md(three, turn=1)
    summary = xlsx(three, turn=1)["概要"]
    assert any(wanted == c.value for row in summary.iter_rows() for c in row)
    assert wanted.replace(" ", "") in pdf_text(render_report(three, "pdf", 1))


def test_empty_conversation_gives_a_report_that_says_so() -> None:
    empty = conversation()
    assert content.EMPTY_NOTE in md(empty)
    assert xlsx(empty).sheetnames == ["概要", "口径与SQL", "引用"]
    assert content.EMPTY_NOTE in pdf_text(render_report(empty, "pdf"))
    with pytest.raises(TurnNotFoundError):
        render_report(empty, "md", 1)


def test_a_turn_without_a_stored_response_shows_its_answer_only() -> None:
    conv = conversation(None, questions=["去年出院人次是多少？"])
    text = md(conv)
    assert "旧版本保存的回答文字" in text and content.MISSING_RESPONSE_NOTE in text
    assert "旧版本保存的回答文字" in pdf_text(render_report(conv, "pdf"))
    assert xlsx(conv).sheetnames[1] == "第1问"


def test_an_unknown_series_type_is_skipped_with_a_note() -> None:
    r = response("rank")
    r["chart"]["series"].append({"type": "pie", "name": "占比分布", "data": [1, 2, 3, 4, 5]})
    conv = conversation(r)
    assert "“占比分布”类型为“pie”" in md(conv)
    assert len(xlsx(conv)["第1问"]._charts) == 1
    assert "占比分布" in pdf_text(render_report(conv, "pdf"))


def test_a_chart_with_bars_and_a_line_is_drawn_in_every_format() -> None:
    r = response("rank")
    r["chart"]["series"].append({"type": "line", "name": "对照线", "data": [50, 50, 50, 50, 50]})
    conv = conversation(r)
    (chart,) = xlsx(conv)["第1问"]._charts
    assert {type(c) for c in chart._charts} == {BarChart, LineChart}  # one combined chart
    text = pdf_text(render_report(conv, "pdf"))
    assert text.count("药占比（%）") >= 2  # one drawing per series type, both titled
    assert "| 肿瘤科 | 65.24 | 50.00 |" in md(conv)


def test_the_font_named_in_the_environment_comes_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = next((p for p in fonts.FONT_CANDIDATES if Path(p).is_file()), None)
    if installed is None:
        pytest.skip("no TrueType CJK font installed here")
    # a copy outside the well-known places: only the environment variable can name it
    wanted = str(tmp_path / "hospital-font.ttc")
    shutil.copyfile(installed, wanted)
    monkeypatch.setenv(fonts.FONT_ENV, wanted)
    fonts.report_font.cache_clear()
    try:
        assert fonts.report_font().path == wanted
    finally:
        fonts.report_font.cache_clear()


def test_long_conversations_are_capped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "MAX_TURNS", 2)
    text = md(conversation(response("clarify"), response("refuse"), response("clarify")))
    assert "## 第 2 问" in text and "## 第 3 问" not in text
    assert "会话共有 3 个问答，本报告只包含前 2 个" in text


def test_a_question_waiting_for_its_answer_is_not_a_turn() -> None:
    conv = conversation(response("refuse"))
    conv.messages.append(Message(role="user", content="还没回答的问题", created_at=EXPORTED))
    assert "还没回答的问题" not in md(conv)
    with pytest.raises(TurnNotFoundError, match="会话只有 1 个问答"):
        render_report(conv, "md", 2)


def test_report_filename_is_safe(three: Conversation) -> None:
    conv = three.model_copy(update={"title": '../../etc/passwd:*?"<药占比>|\\分析\n第二行' + "很长" * 30})
    name = report_filename(conv, "pdf", 2)
    assert name.startswith("opsbrain-报告-") and name.endswith("-第2问.pdf")
    assert not re.search(r'[/\\:*?"<>|\n]', name) and ".." not in name
    assert len(name.removeprefix("opsbrain-报告-").removesuffix("-第2问.pdf")) <= 30
    assert report_filename(three.model_copy(update={"title": "///"}), "xlsx") == "opsbrain-报告-会话.xlsx"
    assert report_filename(three, "md") == "opsbrain-报告-药占比分析.md"
    assert MEDIA_TYPES["md"] == "text/markdown; charset=utf-8"
    with pytest.raises(ValueError):
        report_filename(three, "docx")  # type: ignore[arg-type]


def test_pdf_gives_each_question_its_own_pages_figures_and_chart_first(three: Conversation) -> None:
    """Each question starts a page that holds its key figure and chart; a long table is cut to
    keep a question to two pages (the Excel export keeps every row)."""
    conv = copy.deepcopy(three)
    rank = conv.messages[5].response
    rank["table"]["rows"] = [row for _ in range(8) for row in rank["table"]["rows"]]  # 40 rows
    reader = pypdf.PdfReader(io.BytesIO(render_report(conv, "pdf", exported_at=EXPORTED)))
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    starts = [next(i for i, p in enumerate(pages) if f"第{n}问" in p) for n in (1, 2, 3)]
    assert starts == sorted(starts) and len(set(starts)) == 3
    ends = [*starts[1:], next(i for i, p in enumerate(pages) if "附录：执行的SQL" in p)]
    for n, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        assert end - start <= 2, f"question {n} takes {end - start} pages"
    assert "36.45%" in pages[starts[0]] and "关键数字" in pages[starts[0]]
    assert "其余20行见Excel导出" in "".join(pages[starts[2] : ends[2] + 1])
