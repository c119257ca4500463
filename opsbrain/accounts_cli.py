"""`opsbrain users …` and `opsbrain keys …`: accounts and portal API keys, on the server itself.

Passwords are read from standard input (``--password-stdin``) or asked for without echo, never
taken as an argument (they would stay in the shell history and the process list).
"""

from __future__ import annotations

import secrets
import string
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opsbrain.settings import settings

users_app = typer.Typer(help="Local user accounts (argon2id password hashes).", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys for the hospital portal (hashed, revocable, scoped).", no_args_is_help=True
)
console = Console()


def _store():
    from serving.security.store import AccountStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return AccountStore(settings.resolved_auth_url)


def _roles() -> list[str]:
    from serving.security.policy import load_policy

    return list(load_policy().roles)


def _check_role(role: str) -> None:
    if role not in _roles():
        console.print(f"[red]未知角色“{role}”[/]；可用角色：{', '.join(_roles())}")
        raise typer.Exit(2)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("密码", hide_input=True, confirmation_prompt=True)


def _run(fn, *args):
    from serving.security.passwords import WeakPasswordError
    from serving.security.store import AccountError

    try:
        return fn(*args)
    except (AccountError, WeakPasswordError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def generated_password() -> str:
    """20 characters from letters and digits, at least one of each (passes check_strength)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(20))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="a role of serving/security/policy.yaml, e.g. department_head")],
    department: Annotated[
        list[str] | None, typer.Option(help="department code (科室主任), repeatable")
    ] = None,
    campus: Annotated[list[str] | None, typer.Option(help="campus code, repeatable")] = None,
    doctor: Annotated[str | None, typer.Option(help="the doctor code this account is (医生)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Create a user."""
    _check_role(role)
    user = _run(
        _store().add_user, name, _password(password_stdin), role, department or [], campus or [], doctor
    )
    console.print(f"[green]已创建用户 {user.name}[/]（{role}）")


@users_app.command("list")
def users_list() -> None:
    table = Table("用户", "角色", "科室", "院区", "医生", "状态", "创建时间")
    for u in _store().list_users():
        status = "停用" if u.disabled else "启用"
        created = u.created_at.isoformat(timespec="seconds")
        table.add_row(
            u.name, u.role, ",".join(u.departments), ",".join(u.campuses), u.doctor or "", status, created
        )
    console.print(table)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument()]) -> None:
    """Disable a user: their sessions and tokens stop working at once."""
    _run(_store().set_disabled, name, True)
    console.print(f"已停用 {name}")


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument()]) -> None:
    _run(_store().set_disabled, name, False)
    console.print(f"已启用 {name}")


@users_app.command("reset-password")
def users_reset_password(
    name: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a new password; every session and token issued before it stops working."""
    _run(_store().reset_password, name, _password(password_stdin))
    console.print(f"已重置 {name} 的密码")


@keys_app.command("create")
def keys_create(
    label: Annotated[str, typer.Option(help="what the key is for, e.g. 门户首页指标卡片")],
    role: Annotated[str, typer.Option(help="the role the key acts as")],
    scope: Annotated[
        list[str] | None, typer.Option(help="narrow to capabilities: query, chat, policies")
    ] = None,
    department: Annotated[list[str] | None, typer.Option(help="department code, repeatable")] = None,
    campus: Annotated[list[str] | None, typer.Option(help="campus code, repeatable")] = None,
) -> None:
    """Create an API key; its secret is printed once and never stored."""
    _check_role(role)
    key, secret = _store().create_key(label, role, "cli", department or [], campus or [], scope or [])
    console.print(f"[green]API key {key.id}[/]（{role}）：")
    print(secret)  # alone on its line, for copying into the portal's configuration
    console.print("[yellow]请立即保存：密钥只显示这一次。[/]")


@keys_app.command("list")
def keys_list() -> None:
    table = Table("ID", "用途", "角色", "范围", "科室", "状态", "最近使用")
    for k in _store().list_keys():
        used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else ""
        state = "已吊销" if k.revoked else "有效"
        table.add_row(k.id, k.label, k.role, ",".join(k.scopes), ",".join(k.departments), state, used)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument()]) -> None:
    _run(_store().revoke_key, key_id)
    console.print(f"已吊销 {key_id}")


def ensure_demo_admin() -> None:
    """A fresh demo install gets one administrator whose password is printed now, once; it is kept
    only as a hash. Nothing is open without signing in."""
    store = _store()
    if store.list_users():
        if store.user("admin") is not None:
            console.print("已有账号；忘记管理员密码时运行 `opsbrain users reset-password admin`。")
        return
    password = generated_password()
    store.add_user("admin", password, "admin")
    console.print(
        "[bold green]已创建演示管理员[/] 用户名 [bold]admin[/] 一次性显示的密码："
        f"[bold]{password}[/]\n请登录后用 `opsbrain users reset-password admin` 修改，"
        "并用 `opsbrain users add` 为各角色建立账号。"
    )
