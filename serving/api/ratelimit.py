"""Per-caller request limits: all API routes, the costly chat/query routes, and password sign-in.

Counts live in this process's memory (a moving window per caller): a restart forgets them, and
several worker processes each count on their own, so a deployment with N workers lets through up
to N times the configured rate. That is enough to stop a runaway script or a password-guessing
loop, which is what these limits are for; they are not billing quotas.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

import limits
from fastapi import Depends, Request
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from opsbrain.settings import Settings
from serving.api.auth import AuthError, PrincipalDep
from serving.security.models import Principal

LOGIN_RATE_LIMIT = "10/minute"
"""Sign-in attempts per client address: a person mistyping never reaches it, a guessing loop does."""

_UNITS_ZH = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天", "month": "月", "year": "年"}
_lock = threading.Lock()


class RateLimitedError(AuthError):
    """HTTP 429 with ``Retry-After``: the caller sent more requests than ``limit`` allows."""

    def __init__(self, limit: limits.RateLimitItem, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            429,
            f"请求过于频繁：{describe_limit(limit)}，请 {self.retry_after} 秒后重试。",
            "rate_limited",
            retry_after=self.retry_after,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def describe_limit(limit: limits.RateLimitItem) -> str:
    """``20/minute`` → 每分钟最多 20 次; ``100/5 minutes`` → 每 5 分钟最多 100 次."""
    unit = _UNITS_ZH.get(limit.GRANULARITY.name, limit.GRANULARITY.name)
    every = f"每{unit}" if limit.multiples == 1 else f"每 {limit.multiples} {unit}"
    return f"{every}最多 {limit.amount} 次"


def _parse(setting: str, value: str) -> limits.RateLimitItem:
    try:
        return limits.parse(value)
    except ValueError:
        # named here: a typo in OPSBRAIN_RATE_LIMIT should say which setting, not just "invalid"
        raise ValueError(f"{setting} 不是合法的限流写法（例如 120/minute）：{value!r}") from None


class RateLimits:
    """The limits of one app, built from its settings; thread-safe (sync routes run in a pool)."""

    def __init__(self, settings: Settings, login: str = LOGIN_RATE_LIMIT) -> None:
        self.api = _parse("rate_limit", settings.rate_limit)
        self.chat = _parse("chat_rate_limit", settings.chat_rate_limit)
        self.login = _parse("login rate limit", login)
        # moving window: a burst at the end of one minute and the start of the next still counts
        # as one minute's worth, which a fixed window would let through twice
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, limit: limits.RateLimitItem, namespace: str, key: str) -> None:
        """Count one request for ``key``; raises RateLimitedError once it is over ``limit``."""
        if self.limiter.hit(limit, namespace, key):
            return
        reset = self.limiter.get_window_stats(limit, namespace, key).reset_time
        raise RateLimitedError(limit, math.ceil(reset - time.time()))


def rate_limits_of(request: Request) -> RateLimits:
    """The app's RateLimits, made on first use from ``app.state.settings``."""
    state = request.app.state
    if getattr(state, "rate_limits", None) is None:
        with _lock:  # two first requests at once must not get two separate counters
            if getattr(state, "rate_limits", None) is None:
                state.rate_limits = RateLimits(state.settings)
    return state.rate_limits


def limit_api(request: Request, principal: PrincipalDep) -> Principal:
    """Dependency for every API route: ``rate_limit`` per user or API key; returns the caller."""
    limits_ = rate_limits_of(request)
    limits_.hit(limits_.api, "api", principal.rate_key)
    return principal


def limit_chat(request: Request, principal: PrincipalDep) -> Principal:
    """Dependency for chat and indicator queries (model and warehouse time): ``chat_rate_limit``.

    Counted apart from ``limit_api``; a chat route normally takes both.
    """
    limits_ = rate_limits_of(request)
    limits_.hit(limits_.chat, "chat", principal.rate_key)
    return principal


def client_address(request: Request) -> str:
    """The peer address. X-Forwarded-For is not read here: any client can write it, so trusting it
    would let a guesser pick a fresh "address" per attempt. Behind a reverse proxy, run uvicorn with
    ``--forwarded-allow-ips`` set to the proxy so that ``request.client`` is the real client."""
    return request.client.host if request.client else "unknown"


def limit_login(request: Request) -> None:
    """Dependency for the password routes (login, token): LOGIN_RATE_LIMIT per client address."""
    limits_ = rate_limits_of(request)
    limits_.hit(limits_.login, "login", client_address(request))


ApiLimitDep = Annotated[Principal, Depends(limit_api)]
ChatLimitDep = Annotated[Principal, Depends(limit_chat)]
