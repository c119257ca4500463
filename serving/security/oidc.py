"""Single sign-on: bearer tokens from the hospital's OpenID Connect provider, checked with pyjwt.

A token is accepted when its signature verifies against the provider's published keys (JWKS, read
from the issuer's ``.well-known/openid-configuration`` unless ``oidc_jwks_url`` names them), its
``iss`` is the configured issuer, its ``aud`` the configured audience, and it has not expired.
The opsbrain role, departments and doctor code come from claims the provider is set up to send
(``oidc_role_claim`` and the others); a token without a known role is refused, never defaulted.
"""

from __future__ import annotations

import json
import urllib.request
from functools import cached_property
from typing import Any

import jwt

from serving.security.models import Principal
from serving.security.policy import RolePolicy

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcValidator:
    def __init__(
        self,
        issuer: str,
        audience: str,
        policy: RolePolicy,
        *,
        jwks_url: str | None = None,
        role_claim: str = "opsbrain_role",
        department_claim: str = "departments",
        doctor_claim: str = "doctor_code",
        jwks_client: jwt.PyJWKClient | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.policy = policy
        self._jwks_url = jwks_url
        self._client = jwks_client
        self.role_claim, self.department_claim, self.doctor_claim = role_claim, department_claim, doctor_claim

    @cached_property
    def jwks(self) -> jwt.PyJWKClient:
        if self._client is not None:
            return self._client
        url = self._jwks_url
        if url is None:
            with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=5) as r:
                url = json.load(r)["jwks_uri"]
        return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2

    def principal(self, token: str) -> Principal | None:
        """The caller a valid provider token names; None for any invalid token."""
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, OSError, KeyError, ValueError):
            return None
        role_name = claims.get(self.role_claim)
        if not isinstance(role_name, str) or role_name not in self.policy.roles:
            return None
        role = self.policy.roles[role_name]
        departments = claims.get(self.department_claim) or []
        return Principal(
            name=str(claims.get("preferred_username") or claims["sub"]),
            role=role_name,
            role_label=role.label,
            departments=tuple(departments if isinstance(departments, list) else [departments]),
            doctor=claims.get(self.doctor_claim),
            method="oidc",
            capabilities=role.capabilities,
        )
