"""Rate limits, on a small app of their own: the real app's sign-in is replaced by a fake caller."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from opsbrain.settings import Settings
from serving.api.auth import get_principal
from serving.api.errors import install_error_handlers
from serving.api.ratelimit import (
    RateLimitedError,
    RateLimits,
    describe_limit,
    limit_api,
    limit_chat,
    limit_login,
)
from serving.security.models import Principal


def _principal(request: Request) -> Principal:
    """The caller named by the test's X-Test-User header (a user), or X-Test-Key (an API key)."""
    key = request.headers.get("x-test-key")
    return Principal(
        name=f"key:{key}" if key else request.headers.get("x-test-user", "alice"),
        role="operations",
        method="api_key" if key else "token",
        key_id=key,
    )


def _app(tmp_path, **limits: str) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(data_dir=tmp_path, **limits)
    install_error_handlers(app)
    app.dependency_overrides[get_principal] = _principal

    @app.get("/api/v1/things")
    def things(principal: Annotated[Principal, Depends(limit_api)]) -> dict[str, str]:
        return {"caller": principal.name}

    @app.post("/api/v1/chat", dependencies=[Depends(limit_api), Depends(limit_chat)])
    def chat() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/api/v1/auth/login", dependencies=[Depends(limit_login)])
    def login() -> dict[str, bool]:
        return {"ok": True}

    return app


def _assert_limited(response, limit_words: str) -> None:
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["type"] == "rate_limited"
    assert limit_words in error["message"] and "秒后重试" in error["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert error["retry_after"] == retry_after


def test_api_limit_answers_429_with_retry_after(tmp_path) -> None:
    client = TestClient(_app(tmp_path, rate_limit="3/minute"))
    for _ in range(3):
        response = client.get("/api/v1/things")
        assert response.status_code == 200, response.text
        assert "Retry-After" not in response.headers
    _assert_limited(client.get("/api/v1/things"), "每分钟最多 3 次")
    _assert_limited(client.get("/api/v1/things"), "每分钟最多 3 次")  # refused requests stay refused


def test_each_user_and_key_counts_apart(tmp_path) -> None:
    client = TestClient(_app(tmp_path, rate_limit="2/minute"))
    for _ in range(2):
        assert client.get("/api/v1/things", headers={"X-Test-User": "alice"}).status_code == 200
    assert client.get("/api/v1/things", headers={"X-Test-User": "alice"}).status_code == 429
    # another user, and an API key, have their own allowance
    assert client.get("/api/v1/things", headers={"X-Test-User": "bob"}).status_code == 200
    assert client.get("/api/v1/things", headers={"X-Test-Key": "k1"}).status_code == 200
    assert client.get("/api/v1/things", headers={"X-Test-Key": "k1"}).status_code == 200
    assert client.get("/api/v1/things", headers={"X-Test-Key": "k1"}).status_code == 429
    assert client.get("/api/v1/things", headers={"X-Test-Key": "k2"}).status_code == 200


def test_chat_limit_is_its_own_and_stricter(tmp_path) -> None:
    client = TestClient(_app(tmp_path, rate_limit="100/minute", chat_rate_limit="2/minute"))
    assert client.post("/api/v1/chat").status_code == 200
    assert client.post("/api/v1/chat").status_code == 200
    _assert_limited(client.post("/api/v1/chat"), "每分钟最多 2 次")
    assert client.get("/api/v1/things").status_code == 200  # other routes are not held back


def test_limits_are_made_once_per_app(tmp_path) -> None:
    app = _app(tmp_path)
    client = TestClient(app)
    client.get("/api/v1/things")
    made = app.state.rate_limits
    assert isinstance(made, RateLimits)
    client.get("/api/v1/things")
    assert app.state.rate_limits is made


def test_login_is_limited_per_client_address(tmp_path) -> None:
    app = _app(tmp_path)
    guesser = TestClient(app, client=("10.0.0.1", 40000))
    for _ in range(10):
        assert guesser.post("/api/v1/auth/login").status_code == 200
    _assert_limited(guesser.post("/api/v1/auth/login"), "每分钟最多 10 次")
    # the same address from another port is the same client; another address is not held back
    assert TestClient(app, client=("10.0.0.1", 40001)).post("/api/v1/auth/login").status_code == 429
    assert TestClient(app, client=("10.0.0.2", 40000)).post("/api/v1/auth/login").status_code == 200
    # signing in is counted apart from API use
    assert guesser.get("/api/v1/things").status_code == 200


def test_invalid_setting_names_itself(tmp_path) -> None:
    with pytest.raises(ValueError, match="chat_rate_limit"):
        RateLimits(Settings(data_dir=tmp_path, chat_rate_limit="lots"))


def test_limit_in_words() -> None:
    import limits

    assert describe_limit(limits.parse("20/minute")) == "每分钟最多 20 次"
    assert describe_limit(limits.parse("100 per 5 minutes")) == "每 5 分钟最多 100 次"
    error = RateLimitedError(limits.parse("1/hour"), 0)
    assert error.status == 429 and error.headers == {"Retry-After": "1"}  # never "retry in 0 s"
