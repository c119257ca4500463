"""A real browser on the real server: Playwright driving Debian's chromium (never a downloaded one).

The server is ``live_server`` (uvicorn in a thread, demo data, the shipped policy corpus) serving the
web UI that scripts/setup.sh built. Without chromium or the built UI the tests are skipped with that
reason; where OPSBRAIN_E2E_REQUIRED is set (.ci/run sets it) they fail instead. Every page signs in
through the form, as a user does, with ``live_credentials`` (an operations user, whole hospital).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.api.web import DEFAULT_DIST

# offline machines: no background connections (refused here, many at a time), no updates, no sync
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
SCREENSHOTS = Path(os.environ.get("OPSBRAIN_SCREENSHOTS", "runs/screenshots"))


def _missing() -> str | None:
    if shutil.which("chromium") is None and not os.environ.get("OPSBRAIN_CHROMIUM"):
        return "chromium is not installed (.ci/run installs Debian's chromium)"
    if not (DEFAULT_DIST / "index.html").is_file():
        return "the web UI is not built (scripts/setup.sh builds it with npm)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    reason = _missing()
    if reason:
        if os.environ.get("OPSBRAIN_E2E_REQUIRED"):
            pytest.fail(f"browser tests required here, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=os.environ.get("OPSBRAIN_CHROMIUM") or shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


def sign_in(page, credentials: tuple[str, str]) -> None:
    """Fill the sign-in form of a page that shows it, send it with Enter, and wait for the app."""
    username, password = credentials
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-password").press("Enter")
    page.get_by_test_id("user-name").wait_for()


def api_get(page, path: str) -> object:
    """GET an API path from inside the page, with its session cookie (what the page itself sees)."""
    return page.evaluate(
        """async (path) => {
            const r = await fetch(path, { credentials: 'same-origin' })
            if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`)
            return r.json()
        }""",
        path,
    )


@pytest.fixture(scope="module")
def page(
    browser, live_server: str, live_credentials: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
):
    """One page for a module's steps, which build on each other like a user's session."""
    context, page, errors = open_page(browser, live_server)
    sign_in(page, live_credentials)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def open_page(browser, base_url: str) -> tuple[object, object, list[str]]:
    """A new context's page at "/", and the list its errors are collected in.

    Console errors include what the Content-Security-Policy refused; a failed request is expected
    where a test injects a server error or asks for a 401/403, and is checked by that test itself.
    """
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(60_000)  # a first answer on 2 cores may take a while
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text),
    )
    page.goto("/")
    return context, page, errors


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
