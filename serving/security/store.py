"""Users and API keys, in the auth database (SQLite in data_dir by default, or PostgreSQL).

Passwords are kept as argon2id hashes; API keys as SHA-256 digests of a 256-bit random secret
(a fast hash is right for a random secret: nothing to guess, and every request checks one).
The secret is shown once, when the key is created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from serving.security.models import ApiKeyRecord, UserRecord
from serving.security.passwords import check_strength, hash_password, needs_rehash, verify_password
from serving.storage import store_engine

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("departments", sa.Text, nullable=False, default="[]"),
    sa.Column("campuses", sa.Text, nullable=False, default="[]"),
    sa.Column("doctor", sa.String(32)),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
)
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("departments", sa.Text, nullable=False, default="[]"),
    sa.Column("campuses", sa.Text, nullable=False, default="[]"),
    sa.Column("scopes", sa.Text, nullable=False, default="[]"),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
)
revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
KEY_PREFIX = "ob_"
KEY_USE_RESOLUTION = timedelta(minutes=1)  # how exactly last_used_at follows a key's use
NAME_PATTERN = r"^[A-Za-z0-9_.@-]{2,64}$"


class AccountError(ValueError):
    """A user or key operation that cannot be done; the message says why."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountStore:
    def __init__(self, url: str) -> None:
        self.engine = store_engine(url)
        metadata.create_all(self.engine)

    # ------------------------------------------------------------------ users
    def add_user(
        self,
        name: str,
        password: str,
        role: str,
        departments: list[str] = (),  # type: ignore[assignment]
        campuses: list[str] = (),  # type: ignore[assignment]
        doctor: str | None = None,
    ) -> UserRecord:

        if not re.match(NAME_PATTERN, name):
            raise AccountError("用户名须为 2–64 个字母、数字或 _ . @ -")
        check_strength(password)
        now = _now()
        row = {
            "name": name,
            "password_hash": hash_password(password),
            "role": role,
            "departments": json.dumps(list(departments)),
            "campuses": json.dumps(list(campuses)),
            "doctor": doctor,
            "disabled": False,
            "created_at": now,
            "password_changed_at": now,
        }
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise AccountError(f"用户“{name}”已存在")
            conn.execute(users.insert().values(**row))
        return self.user(name)  # type: ignore[return-value]

    def user(self, name: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        return _user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.name)).mappings()]

    def authenticate(self, name: str, password: str) -> UserRecord | None:
        """The user if the password is right and the account enabled; a wrong name costs the same
        time as a wrong password (a hash is verified either way), so names cannot be probed."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        stored = row["password_hash"] if row else _DUMMY_HASH
        ok = verify_password(stored, password)
        if not row or not ok or row["disabled"]:
            return None
        if needs_rehash(stored):
            self._set(name, password_hash=hash_password(password))
        return _user(row)

    def set_disabled(self, name: str, disabled: bool = True) -> UserRecord:
        self._require(name)
        self._set(name, disabled=disabled)
        return self.user(name)  # type: ignore[return-value]

    def reset_password(self, name: str, password: str) -> UserRecord:
        """A new password; every session and token issued before it stops working."""
        self._require(name)
        check_strength(password)
        self._set(name, password_hash=hash_password(password), password_changed_at=_now())
        return self.user(name)  # type: ignore[return-value]

    def _require(self, name: str) -> None:
        if self.user(name) is None:
            raise AccountError(f"用户“{name}”不存在")

    def _set(self, name: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.name == name).values(**values))

    # ------------------------------------------------------------------ API keys
    def create_key(
        self,
        label: str,
        role: str,
        created_by: str,
        departments: list[str] = (),  # type: ignore[assignment]
        campuses: list[str] = (),  # type: ignore[assignment]
        scopes: list[str] = (),  # type: ignore[assignment]
    ) -> tuple[ApiKeyRecord, str]:
        """The stored key and its secret (``ob_<id>_<secret>``), which is shown only now."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=key_id,
                    digest=_digest(secret),
                    label=label,
                    role=role,
                    departments=json.dumps(list(departments)),
                    campuses=json.dumps(list(campuses)),
                    scopes=json.dumps(list(scopes)),
                    created_by=created_by,
                    created_at=_now(),
                    revoked=False,
                )
            )
        return self.key(key_id), f"{KEY_PREFIX}{key_id}_{secret}"  # type: ignore[return-value]

    def key(self, key_id: str) -> ApiKeyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        return _key(row) if row else None

    def list_keys(self) -> list[ApiKeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings()
            return [_key(r) for r in rows]

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        if self.key(key_id) is None:
            raise AccountError(f"API key “{key_id}”不存在")
        with self.engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(revoked=True))
        return self.key(key_id)  # type: ignore[return-value]

    def verify_key(self, presented: str) -> ApiKeyRecord | None:
        if not presented.startswith(KEY_PREFIX) or presented.count("_") < 2:
            return None
        key_id, _, secret = presented.removeprefix(KEY_PREFIX).partition("_")
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
            if not row or row["revoked"] or not hmac.compare_digest(row["digest"], _digest(secret)):
                return None
            last = row["last_used_at"]
            if last is None or _now() - _aware(last) > KEY_USE_RESOLUTION:  # not one write per request
                conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=_now()))
        return _key(row)

    # ------------------------------------------------------------------ signed-out tokens
    def revoke_token(self, jti: str, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(revoked_tokens.delete().where(revoked_tokens.c.expires_at < _now()))
            if not conn.execute(sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first():
                conn.execute(revoked_tokens.insert().values(jti=jti, expires_at=expires_at))

    def token_revoked(self, jti: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first()
                is not None
            )


_DUMMY_HASH = hash_password(secrets.token_hex(16))


def _user(row: Any) -> UserRecord:
    return UserRecord(
        name=row["name"],
        role=row["role"],
        departments=json.loads(row["departments"]),
        campuses=json.loads(row["campuses"]),
        doctor=row["doctor"],
        disabled=bool(row["disabled"]),
        created_at=_aware(row["created_at"]),
        password_changed_at=_aware(row["password_changed_at"]),
    )


def _key(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        label=row["label"],
        role=row["role"],
        departments=json.loads(row["departments"]),
        campuses=json.loads(row["campuses"]),
        scopes=json.loads(row["scopes"]),
        created_by=row["created_by"],
        created_at=_aware(row["created_at"]),
        revoked=bool(row["revoked"]),
        last_used_at=_aware(row["last_used_at"]) if row["last_used_at"] else None,
    )
