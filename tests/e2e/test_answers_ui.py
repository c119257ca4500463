"""Issue #14 in the real browser against the real server: drill-down by click, filters set before
asking, a URL per conversation, an over-long paste, and the tablet's first screen.

Like test_web_ui.py the steps share one page; each starts its own conversation.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import api_get, screenshot, sign_in
from tests.e2e.test_web_ui import _ask, _conversation, _plan_result

pytestmark = pytest.mark.e2e


def test_a_click_on_a_bar_drills_down_as_a_new_turn(page, live_server: str) -> None:
    page.get_by_test_id("new-conversation").click()
    answer = _ask(page, "今年各院区出院人次")
    rows = _plan_result(_conversation(page)["messages"][1]["response"])["results"][0]["rows"]
    assert answer.get_by_test_id("drill-hint").is_visible()
    canvas = answer.locator("[data-testid=answer-chart] canvas").first
    canvas.wait_for()
    page.wait_for_timeout(500)  # the bars grow in with ECharts' animation
    box = canvas.bounding_box()
    before = page.get_by_test_id("assistant-message").count()
    # the first of the campus bars (highest first), low down where every bar is drawn
    canvas.click(position={"x": box["width"] * (0.1 + 0.8 / (2 * len(rows))), "y": box["height"] - 110})
    page.locator("[data-testid=assistant-message][data-status=done]").nth(before).wait_for()
    campus = rows[0]["keys"]["campus"]
    assert page.get_by_test_id("user-message").last.inner_text().startswith(f"{campus}各科室的出院人次")
    query = _plan_result(_conversation(page)["messages"][3]["response"])["query"]
    assert query["filters"] == {"campus": [campus]} and query["group_by"] == ["department"]
    screenshot(page, "08-drill-down")


def test_filters_set_before_asking_apply_to_the_question(page, live_server: str) -> None:
    page.get_by_test_id("new-conversation").click()
    page.get_by_test_id("filter-campus").click()
    page.locator(".el-select-dropdown__item", has_text="东院区").first.click()
    page.keyboard.press("Escape")
    page.get_by_test_id("filter-apply").click()
    assert "将用于接下来的问题" in page.get_by_test_id("filter-standing").inner_text()
    answer = _ask(page, "本年药占比，包括同比")
    query = _plan_result(_conversation(page)["messages"][1]["response"])["query"]
    assert query["filters"] == {"campus": ["东院区"]} and query["compare"] == ["yoy"]
    assert "东院区" in page.get_by_test_id("user-message").last.inner_text()
    assert "东院区药占比" in answer.get_by_test_id("answer-lead").inner_text()
    page.get_by_test_id("filter-clear").click()


def test_a_conversation_url_opens_it_again(browser, page, live_server: str, live_credentials) -> None:
    page.get_by_test_id("new-conversation").click()
    _ask(page, "上个月出院人次")
    latest = api_get(page, "/api/v1/conversations")[0]["id"]
    assert page.url.endswith(f"#/c/{latest}")
    other = browser.new_page()  # another browser: it signs in first, then the link opens
    other.goto(f"{live_server}/#/c/{latest}")
    sign_in(other, live_credentials)
    other.get_by_test_id("assistant-message").first.get_by_test_id("answer-text").wait_for()
    assert other.get_by_test_id("user-message").first.inner_text().startswith("上个月出院人次")
    other.close()


def test_an_over_long_paste_is_refused_visibly_and_kept_whole(page) -> None:
    box = page.locator("[data-testid=question-input] textarea")
    pasted = "请帮我看一下药占比。" * 60  # 600 characters
    box.fill(pasted)
    assert len(box.input_value()) == len(pasted)  # nothing cut silently
    assert "最长 500 字" in page.get_by_test_id("too-long").inner_text()
    assert page.get_by_test_id("send-button").is_disabled()
    box.fill("")


def test_on_a_tablet_the_figure_is_on_the_first_screen(page) -> None:
    page.get_by_test_id("new-conversation").click()  # before the sidebar folds into a drawer
    page.set_viewport_size({"width": 820, "height": 1180})
    answer = _ask(page, "医院本年药占比是多少？包括同比")
    card = answer.get_by_test_id("figure-card").first
    card.wait_for()
    box = card.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 1180
    screenshot(page, "09-tablet-answer")
    page.set_viewport_size({"width": 1366, "height": 900})
