"""The chat web UI end to end, as an administrator uses it, on the demo data in a real browser.

The steps share one page and build on each other: ask the seed question, follow up, narrow with the
filter bar, export the answer, reload and find the conversation, browse the catalog.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.e2e.conftest import api_get, screenshot

SEED = "医院本年药占比是多少？包括同比"
pytestmark = pytest.mark.e2e


def _ask(page, question: str) -> object:
    """Type a question, send it with Enter, and wait for its answer to finish; returns the answer."""
    before = page.get_by_test_id("assistant-message").count()
    box = page.locator("[data-testid=question-input] textarea")
    box.fill(question)
    box.press("Enter")
    # done: the `done` event has arrived and the details are drawn (a refusal or a question back then
    # shows in its own box instead of the streamed text)
    page.locator("[data-testid=assistant-message][data-status=done]").nth(before).wait_for()
    return page.get_by_test_id("assistant-message").nth(before)


def _conversation(page) -> dict:
    """The newest conversation of the signed-in user, as the API returns it."""
    latest = api_get(page, "/api/v1/conversations")[0]
    return api_get(page, f"/api/v1/conversations/{latest['id']}")


def _plan_result(response: dict) -> dict:
    return next(r for r in response["tool_results"] if r["role"] == "plan")["query"]


def test_first_visit_shows_suggestions(page) -> None:
    assert "医院运营助手" in page.title() + page.locator("header").inner_text()
    suggestions = page.get_by_test_id("suggested-question")
    assert suggestions.count() >= 3
    assert "数据截至" in page.locator("body").inner_text()
    # the demo warehouse is labelled as such, and a healthy server shows no warning
    page.get_by_test_id("demo-tag").wait_for()
    assert page.get_by_test_id("demo-tag").inner_text() == "演示数据"
    page.wait_for_load_state("networkidle")  # /health has answered
    assert page.get_by_test_id("degraded").count() == 0
    screenshot(page, "01-welcome")


def test_injected_inline_script_is_refused(browser, live_server: str) -> None:
    """The Content-Security-Policy at work: markup that slipped into the page could not run code."""
    page = browser.new_page()
    refused: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))
    page.goto(f"{live_server}/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.pwned") is None and refused
    page.close()


def test_seed_question_figure_chart_citation(page, live_server: str) -> None:
    answer = _ask(page, SEED)
    response = _conversation(page)["messages"][1]["response"]
    result = _plan_result(response)["results"][0]
    expected = f"{result['rows'][0]['value']:.{result['precision']}f}%"

    card = answer.get_by_test_id("figure-card").first
    # the comparison is named as the reporting tools name it: 去年同期 (the value) and its change
    assert expected in card.inner_text() and "去年同期" in card.inner_text()
    # the first line answers the question in words, figure included
    first_line = answer.get_by_test_id("answer-text").inner_text().split("\n")[0]
    assert (
        first_line.startswith("本年（")
        and f"全院药占比 {expected}" in first_line
        and "比去年同期" in first_line
    )
    # the chart is drawn: echarts renders into a canvas of real size
    canvas = answer.locator("[data-testid=answer-chart] canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100
    card.scroll_into_view_if_needed()
    screenshot(page, "02-answer")
    citation = answer.get_by_test_id("citation").first
    assert "《" in citation.inner_text()
    citation.click()
    assert len(answer.get_by_test_id("citation-text").first.inner_text()) > 20
    # the 口径 panel opens on the SQL that ran
    answer.get_by_test_id("caliber-panel").click()
    sql = answer.get_by_test_id("caliber-sql").first
    assert "SELECT" in sql.inner_text()
    answer.get_by_test_id("caliber-panel").scroll_into_view_if_needed()
    screenshot(page, "03-caliber")


def test_follow_up_inherits(page, live_server: str) -> None:
    answer = _ask(page, "环比呢")
    assert "上期" in answer.get_by_test_id("figure-card").first.inner_text()
    convo = _conversation(page)
    assert len(convo["messages"]) == 4
    assert "mom" in _plan_result(convo["messages"][3]["response"])["query"]["compare"]


def test_filter_reruns_last_question(page, live_server: str) -> None:
    page.get_by_test_id("filter-campus").click()
    page.locator(".el-select-dropdown__item", has_text="东院区").first.click()
    page.keyboard.press("Escape")
    before = page.get_by_test_id("assistant-message").count()
    page.get_by_test_id("filter-apply").click()
    answer = page.get_by_test_id("assistant-message").nth(before)
    answer.get_by_test_id("answer-status").wait_for(state="detached")
    assert "东院区" in page.get_by_test_id("user-message").last.inner_text()
    response = _conversation(page)["messages"][-1]["response"]
    assert _plan_result(response)["query"]["filters"] == {"campus": ["东院区"]}
    assert "东院区" in answer.inner_text()
    page.get_by_test_id("user-message").last.scroll_into_view_if_needed()
    screenshot(page, "04-filtered")


def test_export_pdf_and_excel(page) -> None:
    first = page.get_by_test_id("assistant-message").first
    with page.expect_download() as pdf_download:
        first.get_by_test_id("export-pdf").click()
    pdf = pdf_download.value
    assert pdf.suggested_filename.endswith(".pdf")
    text = "".join(p.extract_text() for p in PdfReader(pdf.path()).pages)
    assert SEED in text and "同比" in text and "药占比" in text
    value = re.search(r"\d+\.\d+%", first.get_by_test_id("figure-value").first.inner_text()).group()
    assert value in text

    with page.expect_download() as xlsx_download:
        first.get_by_test_id("export-xlsx").click()
    # openpyxl goes by the file name's extension, and a download's temporary file has none
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(SEED in str(c.value) for c in cells)
    numbers = [c.value for c in cells if isinstance(c.value, int | float)]
    assert any(abs(n - float(value.rstrip("%"))) < 0.01 for n in numbers), "the figure is a number cell"


def test_reload_finds_conversation_in_history(page) -> None:
    page.reload()
    item = page.get_by_test_id("conversation-item").filter(has_text="药占比").first
    item.click()
    page.get_by_test_id("assistant-message").nth(2).wait_for()
    assert page.get_by_test_id("assistant-message").count() == 3
    assert page.get_by_test_id("figure-card").count() >= 3
    search = page.locator("[data-testid=conversation-search] input")
    search.fill("东院区")
    page.wait_for_timeout(600)  # the search is debounced
    assert page.get_by_test_id("conversation-item").count() >= 1
    search.fill("")


def test_server_error_is_shown_and_page_keeps_working(page) -> None:
    page.route(
        "**/api/v1/chat/stream",
        lambda route: route.fulfill(
            status=500,
            content_type="application/json",
            body='{"error": {"message": "服务器内部错误，已记录日志；请重试。", "type": "internal_error",'
            ' "param": null, "valid": [], "suggestions": []}}',
        ),
    )
    page.get_by_test_id("new-conversation").click()
    box = page.locator("[data-testid=question-input] textarea")
    box.fill("本年门诊人次")
    box.press("Enter")
    assert "服务器内部错误" in page.get_by_test_id("error-message").inner_text()
    page.unroute("**/api/v1/chat/stream")
    page.get_by_test_id("retry-button").click()
    page.get_by_test_id("answer-status").wait_for(state="detached")
    assert page.get_by_test_id("figure-card").count() >= 1


def test_ranking_table(page) -> None:
    page.get_by_test_id("new-conversation").click()
    answer = _ask(page, "本年各科室药占比排名前5")
    table = answer.get_by_test_id("result-table")
    assert table.locator("tbody tr").count() == 5
    answer.locator("[data-testid=answer-chart] canvas").first.wait_for()
    answer.get_by_test_id("answer-text").scroll_into_view_if_needed()
    screenshot(page, "05-ranking")


def _table_rows(answer) -> list[list[str]]:
    rows = answer.get_by_test_id("result-table").locator("tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def test_breakdown_rows_and_ordinals_follow_the_api_values(page, live_server: str) -> None:
    page.get_by_test_id("new-conversation").click()
    answer = _ask(page, "今年药占比多少")
    answer = _ask(page, "按科室看")
    rows = _plan_result(_conversation(page)["messages"][3]["response"])["results"][0]["rows"]
    values = [r["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    # the table lists the departments in the API's order, so its first row is the highest
    assert [r[0] for r in _table_rows(answer)] == [r["keys"]["department"] for r in rows]
    first_line = answer.get_by_test_id("answer-text").inner_text().split("\n")[0]
    assert f"最高为{rows[0]['keys']['department']}" in first_line and "第一位" not in first_line
    answer.get_by_test_id("caliber-panel").click()
    assert answer.get_by_test_id("row-order").first.inner_text() == "按数值从高到低"


def test_partial_year_and_comparison_columns_are_labelled(page, live_server: str) -> None:
    page.get_by_test_id("new-conversation").click()
    answer = _ask(page, "近五年门急诊人次")
    last = _table_rows(answer)[-1]
    assert last[0].startswith("2023（截至")
    first_line = answer.get_by_test_id("answer-text").inner_text().split("\n")[0]
    assert "未与完整年度比较" in first_line
    answer = _ask(page, "今年各院区药占比，包括同比")
    headers = answer.get_by_test_id("result-table").locator("thead th").all_inner_texts()
    assert any("去年同期" in h for h in headers) and any("同比增减（百分点）" in h for h in headers)
    screenshot(page, "05b-breakdown")


def test_clarification_options_are_clickable(page, live_server: str) -> None:
    page.get_by_test_id("new-conversation").click()
    answer = _ask(page, "心内科的占比是多少")
    options = answer.get_by_test_id("clarify-option")
    assert options.count() >= 2
    chosen = options.first.inner_text().strip()
    before = page.get_by_test_id("assistant-message").count()
    options.first.click()
    # the option is asked as the next question of the same conversation
    page.locator("[data-testid=assistant-message][data-status=done]").nth(before).wait_for()
    assert page.get_by_test_id("user-message").last.inner_text().startswith(chosen)
    convo = _conversation(page)
    assert [m["content"] for m in convo["messages"][::2]] == ["心内科的占比是多少", chosen]
    assert convo["messages"][3]["response"]["plan"]["calls"]


def test_indicator_browser(page) -> None:
    page.get_by_test_id("view-catalog").click()
    page.get_by_test_id("indicator-search").fill("四级手术")
    # the search is debounced: wait for the filtered list, not the first item of the full one
    page.get_by_test_id("indicator-item").filter(has_text="四级手术").first.click()
    detail = page.get_by_test_id("indicator-detail")
    detail.filter(has_text="四级手术").wait_for()
    assert "计算公式" in detail.inner_text() and "口径版本" in detail.inner_text()
    page.locator("[data-testid=indicator-trend] canvas").first.wait_for()
    screenshot(page, "06-indicators")


def test_tablet_layout(page) -> None:
    page.get_by_test_id("view-chat").click()
    page.get_by_test_id("new-conversation").click()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.get_by_test_id("suggested-question").first.wait_for()
    # the sidebar becomes a drawer behind a button on a tablet held upright
    assert page.get_by_test_id("open-sidebar").is_visible()
    assert not page.get_by_test_id("conversation-item").first.is_visible()
    screenshot(page, "07-tablet")
    page.get_by_test_id("open-sidebar").click()
    page.get_by_test_id("conversation-item").filter(has_text="医院本年药占比").first.click()
    page.get_by_test_id("figure-card").first.wait_for()


def test_the_api_reference_renders_without_any_other_site(page) -> None:
    # the browser here reaches no CDN: Swagger UI runs only if its files come from this server
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 10
    base = page.url.split("/api/v1/docs")[0]
    assert requested and all(url.startswith(base) for url in requested), requested
    page.goto("/")
