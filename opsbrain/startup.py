"""What `opsbrain serve` checks before it answers anyone: the warehouse is there and readable.

A hospital's server must never answer with invented figures because its warehouse went missing,
and an administrator should read one line that says what to do, not a traceback. So:

- with ``warehouse_url`` set, the warehouse must open and hold every table the engine needs;
- without it, the demo warehouse is generated only in demo mode (``OPSBRAIN_DEMO=1``, which
  ``scripts/start.sh`` sets through ``opsbrain up``); otherwise a missing file stops the start;
- whatever is served, a warehouse the demo generator wrote is labelled synthetic (``/api/v1/meta``
  and the web UI say 演示数据).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opsbrain.settings import Settings


class StartupError(RuntimeError):
    """The server cannot start; the message is one line saying what is wrong and what to do."""


NO_WAREHOUSE = (
    "没有配置数据仓库：请设置 OPSBRAIN_WAREHOUSE_URL 指向医院的数据仓库；"
    "只看演示数据请运行 bash scripts/start.sh（或设置 OPSBRAIN_DEMO=1）。"
)


def prepare_warehouse(
    config: Settings, make_demo: Callable[[], None], build_aggregates: Callable[[Path], None]
) -> None:
    """Make sure the warehouse the server will use exists and is complete, or raise StartupError.

    ``make_demo`` writes the demo warehouse (demo mode only); ``build_aggregates`` builds the agg_*
    tables of a demo file whose raw data is there but whose aggregates are not."""
    url = config.resolved_warehouse_url
    demo_file = config.warehouse_url is None
    if demo_file and not config.demo_warehouse_path.exists():
        if not config.demo:
            raise StartupError(NO_WAREHOUSE)
        make_demo()
    missing = _missing_tables(url)
    if missing and demo_file and config.demo:
        build_aggregates(config.demo_warehouse_path)  # raw data written by the generator alone
        missing = _missing_tables(url)
    if missing:
        raise StartupError(
            f"数据仓库缺少表 {', '.join(missing[:5])}{' 等' if len(missing) > 5 else ''}"
            f"（{_redacted(url)}）：DuckDB 请运行 opsbrain warehouse build-aggregates，"
            "PostgreSQL 请在 ETL 之后建好汇总表（docs/warehouse-schema.md）。"
        )


def _missing_tables(url: str) -> list[str]:
    """The tables the engine needs that the warehouse lacks; StartupError when it cannot be read."""
    from indicators import Warehouse

    try:
        warehouse = Warehouse(url)
    except Exception as exc:  # a bad URL, a missing driver
        raise StartupError(f"数据仓库地址无法使用（{_redacted(url)}）：{_first_line(exc)}") from None
    try:
        return warehouse.missing_tables()
    except Exception as exc:  # a corrupt file, a refused connection, a wrong password
        raise StartupError(
            f"数据仓库无法打开（{_redacted(url)}）：{_first_line(exc)}。请检查文件是否完整或数据库是否可连接；"
            "演示数据可用 opsbrain demo-data 重新生成。"
        ) from None
    finally:
        warehouse.close()


def _redacted(url: str) -> str:
    """The URL without its password (postgresql://user:secret@host → postgresql://user:***@host)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300].rstrip("。.!！")
