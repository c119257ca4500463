"""Signed session cookies and OAuth2 bearer tokens (JWT, HS256, with pyjwt).

A token names its user and the moment it was issued; a request checks the account still exists,
is enabled and has not changed its password since (a reset signs every device out), and that the
token was not signed out (its id is then on the revocation list until it expires).
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt
from pydantic import BaseModel

ISSUER = "opsbrain"
TokenKind = Literal["session", "access"]


class TokenClaims(BaseModel):
    sub: str
    kind: TokenKind
    jti: str
    iat: datetime
    exp: datetime
    csrf: str | None = None  # sessions: the CSRF token the page must echo in X-CSRF-Token


def load_secret(configured: str | None, data_dir: Path) -> str:
    """The configured key, else one kept in data_dir/secret.key (created owner-readable only)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self.secret = secret

    def issue(self, user: str, kind: TokenKind, minutes: int) -> tuple[str, TokenClaims]:
        now = datetime.now(UTC)
        claims = TokenClaims(
            sub=user,
            kind=kind,
            jti=secrets.token_hex(16),
            iat=now,
            exp=now + timedelta(minutes=minutes),
            csrf=secrets.token_urlsafe(24) if kind == "session" else None,
        )
        payload = {**claims.model_dump(exclude_none=True), "iss": ISSUER}
        payload["iat"], payload["exp"] = int(now.timestamp()), int(claims.exp.timestamp())
        return jwt.encode(payload, self.secret, algorithm="HS256"), claims

    def verify(self, token: str, kind: TokenKind) -> TokenClaims | None:
        """The claims of a valid, unexpired token of this kind; None otherwise."""
        try:
            payload = jwt.decode(
                token, self.secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "iat"]}
            )
            claims = TokenClaims.model_validate(payload)
        except (jwt.PyJWTError, ValueError):
            return None
        return claims if claims.kind == kind else None
