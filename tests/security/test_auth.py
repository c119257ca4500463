"""Sign-in, tokens, API keys, CSRF, SSO and the account CLI (issue #15)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opsbrain.settings import Settings
from serving.api.auth import CSRF_COOKIE, SESSION_COOKIE, security_of
from serving.app import create_app
from serving.security.oidc import OidcValidator
from tests.conftest import TEST_PASSWORD, UNLIMITED, authorize

QUERY = {"indicators": ["药占比"], "start": "2023-01-01", "end": "2023-06-30"}


@pytest.fixture
def app(tmp_path, demo_db_path, corpus_kb):
    application = create_app(
        Settings(data_dir=tmp_path, warehouse_url=f"duckdb:///{demo_db_path}", **UNLIMITED)
    )
    application.state.knowledge_base = corpus_kb
    return application


@pytest.fixture
def anonymous(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _user(app, name="alice", role="operations", **kw):
    security_of(app.state).accounts.add_user(name, TEST_PASSWORD, role, **kw)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/meta"),
        ("GET", "/api/v1/indicators"),
        ("POST", "/api/v1/indicators/query"),
        ("GET", "/api/v1/dimensions/doctor"),
        ("POST", "/api/v1/policies/search"),
        ("POST", "/api/v1/chat"),
        ("POST", "/api/v1/chat/stream"),
        ("GET", "/api/v1/conversations"),
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/audit"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
    ],
)
def test_nothing_is_open_without_signing_in(anonymous, method, path) -> None:
    r = anonymous.request(method, path, json={})
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "药占比" not in r.text


def test_health_and_sign_in_stay_open(anonymous) -> None:
    assert anonymous.get("/api/v1/health").status_code == 200
    assert anonymous.post("/api/v1/auth/login", json={"username": "x", "password": "y"}).status_code == 401


def test_a_bogus_bearer_token_is_refused(anonymous) -> None:
    for header in ("Bearer not-a-token", "Bearer a.b.c", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer ob_x_y"):
        r = anonymous.get("/api/v1/indicators", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_web_sign_in_sets_strict_cookies_and_requires_csrf(app, anonymous) -> None:
    _user(app)
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password-9"})
    nobody = anonymous.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password-9"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["error"]["message"] == nobody.json()["error"]["message"]  # names cannot be probed
    r = anonymous.post("/api/v1/auth/login", json={"username": "alice", "password": TEST_PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["scope"] == "全院"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session and "SameSite=strict" in session
    csrf = r.json()["csrf_token"]
    assert any(c.startswith(f"{CSRF_COOKIE}={csrf}") and "HttpOnly" not in c for c in cookies)
    assert anonymous.get("/api/v1/auth/me").json()["name"] == "alice"
    # a forged cross-site POST carries the cookie but cannot know the token
    forged = anonymous.post("/api/v1/indicators/query", json=QUERY)
    assert forged.status_code == 403 and forged.json()["error"]["type"] == "csrf_failed"
    ok = anonymous.post("/api/v1/indicators/query", json=QUERY, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    assert anonymous.post("/api/v1/auth/logout").status_code == 204
    anonymous.cookies.set(SESSION_COOKIE, session.split(";")[0].split("=", 1)[1])
    assert anonymous.get("/api/v1/auth/me").status_code == 401  # the signed-out session stays dead


def test_oauth2_password_flow_token(app, anonymous) -> None:
    _user(app)
    r = anonymous.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert anonymous.post("/api/v1/indicators/query", json=QUERY, headers=headers).status_code == 200
    assert anonymous.get("/api/v1/auth/me", headers=headers).json()["method"] == "token"


def test_disabling_or_resetting_a_user_voids_their_tokens(app, anonymous) -> None:
    _user(app)
    accounts = security_of(app.state).accounts
    headers = authorize(app, name="alice")
    assert anonymous.get("/api/v1/auth/me", headers=headers).status_code == 200
    accounts.set_disabled("alice")
    assert anonymous.get("/api/v1/auth/me", headers=headers).status_code == 401
    accounts.set_disabled("alice", False)
    assert anonymous.get("/api/v1/auth/me", headers=headers).status_code == 200
    time.sleep(1.1)  # token times have whole seconds
    accounts.reset_password("alice", "another-password-2")
    assert anonymous.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_api_keys_are_hashed_scoped_and_revocable(app, anonymous) -> None:
    admin = authorize(app, role="admin")
    created = anonymous.post(
        "/api/v1/admin/keys", json={"label": "门户", "role": "operations", "scopes": ["query"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    secret, key_id = created.json()["secret"], created.json()["key"]["id"]
    stored = (
        security_of(app.state)
        .accounts.engine.connect()
        .exec_driver_sql("SELECT digest FROM api_keys")
        .scalar()
    )
    assert secret not in stored and len(stored) == 64
    for headers in ({"X-API-Key": secret}, {"Authorization": f"Bearer {secret}"}):
        assert anonymous.post("/api/v1/indicators/query", json=QUERY, headers=headers).status_code == 200
    chat = anonymous.post("/api/v1/chat", json={"question": "药占比"}, headers={"X-API-Key": secret})
    assert chat.status_code == 403 and chat.json()["error"]["type"] == "forbidden"  # scoped to query
    assert anonymous.delete(f"/api/v1/admin/keys/{key_id}", headers=admin).status_code == 200
    assert anonymous.get("/api/v1/indicators", headers={"X-API-Key": secret}).status_code == 401
    assert anonymous.get("/api/v1/indicators", headers={"X-API-Key": secret[:-2] + "xx"}).status_code == 401


def test_only_administrators_manage_accounts(app, anonymous) -> None:
    leader = authorize(app, role="hospital_leader")
    assert anonymous.get("/api/v1/admin/users", headers=leader).status_code == 403
    admin = authorize(app, role="admin")
    body = {"name": "bob", "password": "bob-password-1", "role": "department_head", "departments": ["NK01"]}
    assert anonymous.post("/api/v1/admin/users", json=body, headers=admin).status_code == 201
    weak = {**body, "name": "carol", "password": "short"}
    assert anonymous.post("/api/v1/admin/users", json=weak, headers=admin).status_code == 422
    bad_role = {**body, "name": "dave", "role": "god"}
    assert anonymous.post("/api/v1/admin/users", json=bad_role, headers=admin).status_code == 422
    assert "bob" in [u["name"] for u in anonymous.get("/api/v1/admin/users", headers=admin).json()]
    assert "password_hash" not in anonymous.get("/api/v1/admin/users", headers=admin).text


# ---------------------------------------------------------------------------- single sign-on
ISSUER, AUDIENCE = "https://sso.hospital.local/realms/staff", "opsbrain"


@pytest.fixture(scope="module")
def idp_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sso_token(key, **claims) -> str:
    now = datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-1",
        "preferred_username": "zhang",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "opsbrain_role": "department_head",
        "departments": ["NK01"],
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_sso_tokens_are_checked_by_signature_issuer_and_audience(app, anonymous, idp_key) -> None:
    security = security_of(app.state)
    jwks = SimpleNamespace(get_signing_key_from_jwt=lambda token: SimpleNamespace(key=idp_key.public_key()))
    security.oidc = OidcValidator(ISSUER, AUDIENCE, security.policy, jwks_client=jwks)  # type: ignore[arg-type]

    def me(token: str):
        return anonymous.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

    good = me(_sso_token(idp_key))
    assert (
        good.status_code == 200
        and good.json()["method"] == "oidc"
        and good.json()["role"] == "department_head"
    )
    assert good.json()["scope"] != "全院"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (
        _sso_token(idp_key, aud="another-app"),
        _sso_token(idp_key, iss="https://evil.example"),
        _sso_token(idp_key, exp=datetime.now(UTC) - timedelta(minutes=1)),
        _sso_token(idp_key, opsbrain_role="superuser"),
        _sso_token(other_key),
    ):
        assert me(token).status_code == 401


# ---------------------------------------------------------------------------- the CLI
def test_users_and_keys_cli(tmp_path, monkeypatch) -> None:
    from opsbrain import accounts_cli
    from opsbrain.cli import app as cli

    monkeypatch.setattr(accounts_cli, "settings", Settings(data_dir=tmp_path))
    runner = CliRunner()
    add = ["users", "add", "wang", "--role", "department_head", "--department", "NK01", "--password-stdin"]
    assert runner.invoke(cli, add, input="wang-password-1\n").exit_code == 0
    assert runner.invoke(cli, add, input="wang-password-1\n").exit_code == 1  # exists
    weak = runner.invoke(cli, ["users", "add", "li", "--role", "doctor", "--password-stdin"], input="123\n")
    assert weak.exit_code == 1 and "密码" in weak.output
    assert (
        runner.invoke(
            cli, ["users", "add", "x1", "--role", "god", "--password-stdin"], input="p-1234567890\n"
        ).exit_code
        == 2
    )
    listed = runner.invoke(cli, ["users", "list"])
    assert "wang" in listed.output and "NK01" in listed.output
    assert runner.invoke(cli, ["users", "disable", "wang"]).exit_code == 0
    reset = runner.invoke(
        cli, ["users", "reset-password", "wang", "--password-stdin"], input="new-password-2\n"
    )
    assert reset.exit_code == 0
    from serving.security.store import AccountStore

    store = AccountStore(Settings(data_dir=tmp_path).resolved_auth_url)
    assert store.user("wang").disabled and store.authenticate("wang", "new-password-2") is None
    created = runner.invoke(
        cli, ["keys", "create", "--label", "门户", "--role", "operations", "--scope", "query"]
    )
    assert created.exit_code == 0
    secret = next(line for line in created.output.splitlines() if line.startswith("ob_"))
    assert store.verify_key(secret) is not None
    key_id = store.list_keys()[0].id
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert store.verify_key(secret) is None


def test_a_fresh_demo_gets_one_admin_whose_password_is_printed_once(tmp_path, monkeypatch, capsys) -> None:
    from opsbrain import accounts_cli

    monkeypatch.setattr(accounts_cli, "settings", Settings(data_dir=tmp_path))
    accounts_cli.ensure_demo_admin()
    printed = capsys.readouterr().out
    password = printed.split("密码：")[1].split()[0]
    from serving.security.store import AccountStore

    store = AccountStore(Settings(data_dir=tmp_path).resolved_auth_url)
    assert store.authenticate("admin", password) is not None
    assert password not in (tmp_path / "auth.sqlite").read_bytes().decode("latin-1")
    accounts_cli.ensure_demo_admin()
    again = capsys.readouterr().out
    assert "一次性" not in again and "reset-password admin" in again  # not again once accounts exist


def test_sso_keys_are_discovered_from_the_issuer(idp_key) -> None:
    """The real path: the issuer's openid-configuration names its JWKS, pyjwt fetches the key by kid."""
    import json as _json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from jwt.algorithms import RSAAlgorithm

    from serving.security.policy import load_policy

    public = {
        **_json.loads(RSAAlgorithm.to_jwk(idp_key.public_key())),
        "kid": "k1",
        "use": "sig",
        "alg": "RS256",
    }

    class Provider(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = f"http://127.0.0.1:{self.server.server_port}/realm"
            docs = {
                "/realm/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": f"{issuer}/certs"},
                "/realm/certs": {"keys": [public]},
            }
            body = _json.dumps(docs.get(self.path, {})).encode()
            self.send_response(200 if self.path in docs else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        issuer = f"http://127.0.0.1:{server.server_port}/realm"
        validator = OidcValidator(issuer, AUDIENCE, load_policy())
        principal = validator.principal(_sso_token(idp_key, iss=issuer))
        assert principal is not None and principal.name == "zhang" and principal.departments == ("NK01",)
        assert validator.principal(_sso_token(idp_key)) is None  # another issuer's token
    finally:
        server.shutdown()
