"""The web UI's cost: bundle size, report export time, and in a real browser the time to a usable page
and to an answered question.

    python bench/web_benchmark.py                  # default-scale demo data in data/, built UI
    python bench/web_benchmark.py --runs 5 --turns 50

1. bundle: the files ``vite build`` wrote to serving/web/dist, raw and gzip-compressed (what a
   browser downloads once; assets are content-hashed, so later visits come from its cache);
2. export: the real assistant answers the suggested questions, the turns are repeated up to
   ``--turns`` and ``render_report`` is timed per format for one turn and for the whole conversation;
3. browser (when chromium is installed): the real server (uvicorn, own process) and Debian's chromium
   driven by Playwright: page load until the suggested questions are shown, and the seed question
   from Enter until its figure card and chart canvas are drawn.

Results: bench/results/web_benchmark.{json,md}.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_benchmark import BENCH_PASSWORD, BENCH_USER, create_bench_user, free_port, machine, start_server

from opsbrain.settings import Settings
from serving.api.web import DEFAULT_DIST
from serving.conversations import Conversation, Message
from serving.reports import render_report
from tests.e2e.conftest import CHROMIUM_ARGS  # the browser as the end-to-end tests start it

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUESTIONS = [
    "医院本年药占比是多少？包括同比",
    "今年每个月的门诊人次趋势",
    "本年各科室药占比排名前5",
    "本年各院区的出院人次",
    "药占比有什么政策要求",
]


def bundle_sizes(dist: Path) -> dict[str, Any]:
    files = sorted(p for p in (dist / "assets").iterdir() if p.suffix in {".js", ".css"})
    rows = [
        {
            "file": p.name,
            "kb": round(p.stat().st_size / 1024, 1),
            "gzip_kb": round(len(gzip.compress(p.read_bytes())) / 1024, 1),
        }
        for p in files
    ]
    return {
        "files": rows,
        "total_kb": sum(r["kb"] for r in rows),
        "total_gzip_kb": sum(r["gzip_kb"] for r in rows),
    }


def conversation_of(turns: int, data_dir: Path) -> Conversation:
    from fastapi.testclient import TestClient

    from serving.api.auth import security_of
    from serving.app import create_app

    now = datetime.now(UTC)
    messages: list[Message] = []
    with tempfile.TemporaryDirectory() as tmp:  # its own account store: nothing written to data_dir
        config = Settings(
            data_dir=data_dir, auth_url=f"sqlite:///{Path(tmp) / 'auth.db'}", secret_key="b" * 40
        )
        app = create_app(config)
        security_of(app.state).accounts.add_user(BENCH_USER, BENCH_PASSWORD, "operations")
        token, _ = security_of(app.state).signer.issue(BENCH_USER, "access", 60)
        with TestClient(
            app, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            responses = [client.post("/api/v1/chat", json={"question": q}).json() for q in QUESTIONS]
    for i in range(turns):
        response = responses[i % len(responses)]
        messages.append(Message(role="user", content=response["question"], created_at=now))
        messages.append(
            Message(role="assistant", content=response["answer"], response=response, created_at=now)
        )
    return Conversation(id="bench", title="基准测试会话", created_at=now, updated_at=now, messages=messages)


def export_times(conversation: Conversation, runs: int) -> list[dict[str, Any]]:
    rows = []
    turns = len(conversation.messages) // 2
    for fmt in ("md", "xlsx", "pdf"):
        for turn, label in ((1, "one answer"), (None, f"{turns} answers")):
            render_report(conversation, fmt, turn)  # warm: fonts registered, modules imported
            seconds, size = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                size = len(render_report(conversation, fmt, turn))
                seconds.append(time.perf_counter() - started)
            rows.append(
                {
                    "format": fmt,
                    "what": label,
                    "median_ms": round(statistics.median(seconds) * 1000, 1),
                    "kb": round(size / 1024, 1),
                }
            )
    return rows


def sign_in(page) -> None:
    page.get_by_test_id("login-username").fill(BENCH_USER)
    page.get_by_test_id("login-password").fill(BENCH_PASSWORD)
    page.get_by_test_id("login-password").press("Enter")


def browser_times(data_dir: Path, runs: int) -> dict[str, Any] | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        auth_store = Path(tmp) / "auth.db"
        create_bench_user(auth_store)
        server = start_server(data_dir, port, Path(tmp) / "conversations.db", auth_store)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                loads, answers = [], []
                for _ in range(runs + 1):  # the first run warms the server and the browser's cache
                    page = browser.new_page(viewport={"width": 1366, "height": 900})
                    started = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/")
                    sign_in(page)  # part of the load: the sign-in form, then the app
                    page.get_by_test_id("suggested-question").first.wait_for()
                    loads.append(time.perf_counter() - started)
                    box = page.locator("[data-testid=question-input] textarea")
                    box.fill(QUESTIONS[0])
                    started = time.perf_counter()
                    box.press("Enter")
                    page.get_by_test_id("figure-card").first.wait_for(timeout=120_000)
                    page.locator("[data-testid=answer-chart] canvas").first.wait_for()
                    answers.append(time.perf_counter() - started)
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    loads, answers = loads[1:], answers[1:]
    return {
        "runs": runs,
        "page_load_ms": {"median": round(statistics.median(loads) * 1000), "max": round(max(loads) * 1000)},
        "seed_answer_ms": {
            "median": round(statistics.median(answers) * 1000),
            "max": round(max(answers) * 1000),
        },
    }


def to_markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Web UI benchmark",
        "",
        f"{report['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}, load at start {m['load_average_at_start']}.",
        "",
        "## Bundle (serving/web/dist/assets)",
        "",
        "| file | KB | gzip KB |",
        "|---|---|---|",
        *[f"| {r['file']} | {r['kb']} | {r['gzip_kb']} |" for r in report["bundle"]["files"]],
        f"| **total** | {report['bundle']['total_kb']:.1f} | {report['bundle']['total_gzip_kb']:.1f} |",
        "",
        "## Report export (`render_report`, median)",
        "",
        "| format | content | ms | KB |",
        "|---|---|---|---|",
        *[f"| {r['format']} | {r['what']} | {r['median_ms']} | {r['kb']} |" for r in report["export"]],
        "",
        "## Browser (Debian chromium, headless, Playwright)",
        "",
    ]
    b = report["browser"]
    if b is None:
        lines.append("chromium is not installed: not measured.")
    else:
        lines += [
            f"{b['runs']} runs after one warm-up, each in a new page (the browser's cache is shared).",
            "",
            "| step | median ms | max ms |",
            "|---|---|---|",
            f"| page load → suggested questions shown | {b['page_load_ms']['median']} | {b['page_load_ms']['max']} |",
            f"| seed question: Enter → figure card and chart drawn | {b['seed_answer_ms']['median']} | {b['seed_answer_ms']['max']} |",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--turns", type=int, default=50, help="answers in the exported conversation")
    args = parser.parse_args()
    if not (DEFAULT_DIST / "index.html").is_file():
        raise SystemExit("the web UI is not built: run bash scripts/setup.sh")
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "bundle": bundle_sizes(DEFAULT_DIST),
        "export": export_times(conversation_of(args.turns, args.data_dir), args.runs),
        "browser": browser_times(args.data_dir, args.runs),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "web_benchmark.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (RESULTS / "web_benchmark.md").write_text(to_markdown(report), encoding="utf-8")
    print(to_markdown(report))


if __name__ == "__main__":
    main()
