"""Sign-in in the real browser against the real server: the form first, a wrong password refused with
the server's message, the app with the user's name after signing in, the CSRF check on a request that
changes something, and 退出登录 back to the form.

The steps share one browser context of their own (not the module page of the other files), since
signing out ends its session.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page, screenshot

pytestmark = pytest.mark.e2e

FETCH = """async ([path, method, headers]) => {
    const r = await fetch(path, { method, headers, credentials: 'same-origin', body: method === 'GET' ? undefined : '{}' })
    let body = null
    try { body = await r.json() } catch {}
    return { status: r.status, body }
}"""


@pytest.fixture(scope="module")
def login_page(browser, live_server: str):
    # the 401 of /auth/me before signing in and the 401/403 asked for below are expected failures
    context, page, errors = open_page(browser, live_server)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def _fetch(page, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> dict:
    return page.evaluate(FETCH, [path, method, {"Content-Type": "application/json", **(headers or {})}])


def test_the_form_comes_first_and_a_wrong_password_is_refused(login_page, live_credentials) -> None:
    page = login_page
    page.get_by_test_id("login-form").wait_for()
    assert page.get_by_test_id("user-name").count() == 0
    assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()
    username, _ = live_credentials
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    error = page.get_by_test_id("login-error")
    error.wait_for()
    assert "用户名或密码错误" in error.inner_text()
    assert page.get_by_test_id("user-name").count() == 0
    assert page.get_by_label("密码").input_value() == ""  # typed again, never kept
    screenshot(page, "10-login-refused")


def test_signing_in_shows_the_app_with_the_user(login_page, live_credentials) -> None:
    page = login_page
    username, password = live_credentials
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("密码").press("Enter")
    page.get_by_test_id("user-name").wait_for()
    assert page.get_by_test_id("user-name").inner_text() == username
    assert "全院" in page.get_by_test_id("user-role").inner_text()
    assert page.get_by_test_id("login-view").count() == 0
    assert page.get_by_test_id("suggested-question").count() >= 3
    # the session cookie is HttpOnly: the page sees only the CSRF token
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["opsbrain_session"]["httpOnly"] and cookies["opsbrain_session"]["sameSite"] == "Strict"
    assert not cookies["opsbrain_csrf"]["httpOnly"]
    assert "opsbrain_session" not in page.evaluate("() => document.cookie")
    screenshot(page, "11-signed-in")


def test_a_change_without_the_csrf_header_is_refused(login_page) -> None:
    page = login_page
    assert _fetch(page, "/api/v1/auth/me")["status"] == 200
    refused = _fetch(page, "/api/v1/chat", "POST")
    assert refused["status"] == 403, refused
    assert refused["body"]["error"]["type"] == "csrf_failed"
    wrong = _fetch(page, "/api/v1/chat", "POST", {"X-CSRF-Token": "forged"})
    assert wrong["status"] == 403 and wrong["body"]["error"]["type"] == "csrf_failed"


def test_signing_out_returns_to_the_form(login_page) -> None:
    page = login_page
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-form").wait_for()
    assert page.get_by_test_id("user-name").count() == 0
    assert _fetch(page, "/api/v1/auth/me")["status"] == 401
    page.reload()  # the session is gone on the server, not only in the page
    page.get_by_test_id("login-form").wait_for()
    assert page.get_by_test_id("user-name").count() == 0
