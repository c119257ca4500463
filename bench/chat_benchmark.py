"""Latency and throughput of ``POST /api/v1/chat`` with the ``rules`` planner on the demo data.

    python bench/chat_benchmark.py                    # default-scale demo warehouse in data/
    python bench/chat_benchmark.py --rounds 1 --clients 8 --data-dir data
    python bench/chat_benchmark.py --clients 8 32 --duration 45   # load levels of 45 s each

The server is the real one (uvicorn, ``serving.app:create_app``) in its own process, so the clients'
threads do not share its interpreter lock. The questions are the dialogues of
``evals/datasets/planner_dev.jsonl`` (follow-ups sent with their conversation id), in order:

1. warm-up: every dialogue once, not measured (loads the embedding model, warms DuckDB's caches);
2. sequential: one client, every dialogue ``--rounds`` times: p50/p95 latency;
3. concurrent: for each of ``--clients``, that many threads sharing the same work (or, with
   ``--duration``, going round the dialogues until that many seconds have passed): requests/s,
   p50/p95/p99.

Authentication is on, as in production: a user (role operations, the whole hospital) is created in
a temporary account store before the server starts, signs in once with ``POST /api/v1/auth/token``
and every request carries its bearer token. The server's per-user limits are raised for the run,
since one user sends everything: ``rate_limit`` and ``chat_rate_limit`` (120 and 20 per minute by
default) to ``BENCH_RATE_LIMIT``, and ``max_conversations_per_user`` (500) to 10,000,000. The report
says so.

Each response's ``timings_ms`` (plan, execute, compose) is kept, so a missed target can be traced to
a stage; "http+store" is the rest of the time (HTTP, JSON, persisting the turn). Conversations go to
a temporary SQLite file. Results: bench/results/chat_benchmark.{json,md}. Targets (issue #4):
p50 < 50 ms, p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "evals" / "datasets" / "planner_dev.jsonl"
TARGETS_MS = {"p50": 50.0, "p95": 150.0}
STAGES = ("plan", "execute", "compose", "http+store")
BENCH_USER, BENCH_PASSWORD = "bench-operations", "bench-password-1"
BENCH_RATE_LIMIT = "10000000/minute"
AUTH_NOTE = (
    f"Authentication on: user {BENCH_USER} (role operations) signed in with POST /api/v1/auth/token, "
    f"bearer token on every request; for this user the server's rate_limit and chat_rate_limit were "
    f"raised to {BENCH_RATE_LIMIT} (defaults 120/minute and 20/minute) and max_conversations_per_user "
    f"to 10000000 (default 500)."
)


def load_dialogues(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [[t["question"] for t in json.loads(line)["turns"]] for line in lines if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_bench_user(auth_store: Path) -> None:
    """The benchmark's user, in the account store the server is then started with."""
    sys.path.insert(0, str(ROOT))
    from serving.security.store import AccountStore

    AccountStore(f"sqlite:///{auth_store}").add_user(BENCH_USER, BENCH_PASSWORD, "operations")


def sign_in(base: str) -> dict[str, str]:
    """Bearer headers of the benchmark's user, from the OAuth2 password flow."""
    form = {"grant_type": "password", "username": BENCH_USER, "password": BENCH_PASSWORD}
    r = httpx.post(f"{base}/api/v1/auth/token", data=form, timeout=30, trust_env=False)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def start_server(data_dir: Path, port: int, store: Path, auth_store: Path | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "OPSBRAIN_DATA_DIR": str(data_dir),
        "OPSBRAIN_CONVERSATIONS_URL": f"sqlite:///{store}",
        "OPSBRAIN_PLANNER": "rules",  # for when the planner becomes a setting; the responses are checked
    }
    if auth_store is not None:  # accounts (and the audit trail) in the run's own store, limits raised
        env |= {
            "OPSBRAIN_AUTH_URL": f"sqlite:///{auth_store}",
            "OPSBRAIN_SECRET_KEY": os.urandom(32).hex(),  # nothing written to data_dir/secret.key
            "OPSBRAIN_RATE_LIMIT": BENCH_RATE_LIMIT,
            "OPSBRAIN_CHAT_RATE_LIMIT": BENCH_RATE_LIMIT,
            "OPSBRAIN_MAX_CONVERSATIONS_PER_USER": "10000000",
        }
    command = [sys.executable, "-m", "uvicorn", "serving.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer /api/v1/health within 120 s")


def run_dialogue(http: httpx.Client, questions: list[str], out: list[dict[str, Any]]) -> None:
    conversation_id = None
    for question in questions:
        started = time.perf_counter()
        r = http.post("/api/v1/chat", json={"question": question, "conversation_id": conversation_id})
        latency = (time.perf_counter() - started) * 1000
        if r.status_code != 200:
            out.append({"question": question, "status": r.status_code, "latency_ms": latency})
            return  # a follow-up without its conversation would measure something else
        body = r.json()
        conversation_id = body["conversation_id"]
        stages = body["timings_ms"]
        out.append(
            {
                "question": question,
                "status": 200,
                "latency_ms": latency,
                "planner": body["planner"],
                "tools": [c["tool"] for c in body["plan"]["calls"]],
                # each tool run's own time: which tool makes "execute" slow
                "tool_ms": [
                    (f"{t['tool']} ({t['role']})" if t.get("role") else t["tool"], t["elapsed_ms"])
                    for t in body["tool_results"]
                ],
                "stages_ms": {**stages, "http+store": latency - sum(stages.values())},
            }
        )


def run_concurrent(
    base: str,
    work: list[list[str]],
    clients: int,
    headers: dict[str, str] | None = None,
    duration_s: float | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """``clients`` threads share ``work``; with ``duration_s``, they go round it until that many
    seconds have passed (a dialogue begun then is finished)."""
    todo: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
    for dialogue in work:
        todo.put(dialogue)
    records: list[dict[str, Any]] = []  # list.append is atomic: the threads share one list
    deadline = time.perf_counter() + duration_s if duration_s else None

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60, trust_env=False, headers=headers) as http:
            while deadline is None or time.perf_counter() < deadline:
                try:
                    dialogue = todo.get_nowait()
                except queue.Empty:
                    return
                run_dialogue(http, dialogue, records)
                if deadline is not None:
                    todo.put(dialogue)  # round again

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(records: list[dict[str, Any]], wall_s: float | None = None) -> dict[str, Any]:
    ok = [r for r in records if r["status"] == 200]
    latencies = [r["latency_ms"] for r in ok]
    summary: dict[str, Any] = {
        "requests": len(records),
        "errors": len(records) - len(ok),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "stages_ms": {
            s: {
                "p50": round(statistics.median(r["stages_ms"][s] for r in ok), 1),
                "p95": round(percentile([r["stages_ms"][s] for r in ok], 0.95), 1),
            }
            for s in STAGES
        },
        "planners": sorted({r["planner"] for r in ok}),
    }
    if wall_s is not None:
        summary["wall_s"] = round(wall_s, 2)
        summary["requests_per_s"] = round(len(records) / wall_s, 1)
    return summary


def statuses(records: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return counts


def by_kind(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Latency by what the plan does: the first tool it calls, or no tool (clarify, refuse)."""
    groups: dict[str, list[float]] = {}
    for r in records:
        if r["status"] == 200:
            groups.setdefault(r["tools"][0] if r["tools"] else "no tool", []).append(r["latency_ms"])
    return {
        kind: {
            "requests": len(v),
            "p50_ms": round(statistics.median(v), 1),
            "p95_ms": round(percentile(v, 0.95), 1),
        }
        for kind, v in sorted(groups.items())
    }


def by_tool(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Time per tool run, from ``tool_results[].elapsed_ms``; the executor runs a plan's calls in turn."""
    groups: dict[str, list[float]] = {}
    for r in records:
        for tool, ms in r.get("tool_ms", []):
            groups.setdefault(tool, []).append(ms)
    return {
        tool: {
            "runs": len(v),
            "p50_ms": round(statistics.median(v), 1),
            "p95_ms": round(percentile(v, 0.95), 1),
        }
        for tool, v in sorted(groups.items())
    }


def slowest(records: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    ok = sorted((r for r in records if r["status"] == 200), key=lambda r: -r["latency_ms"])[:n]
    return [
        {
            "question": r["question"],
            "latency_ms": round(r["latency_ms"], 1),
            "stages_ms": {k: round(v, 1) for k, v in r["stages_ms"].items()},
        }
        for r in ok
    ]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
    try:  # the first lines of lscpu: model, cores, caches
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()[:10]
    except (OSError, subprocess.SubprocessError):
        lscpu = []
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "lscpu": lscpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


EARLIER = [
    "Before authentication was on by default (no sign-in, no per-user limits or audit trail), on a loaded "
    "2-core machine (other processes running), 0 errors at both levels:",
    "",
    "| run | requests/s | p95 ms |",
    "|---|---|---|",
    "| concurrent, 8 clients | 30.5 | 640 |",
    "| concurrent, 32 clients | 26.7 | 2670 |",
    "",
    "The 2026-11-23 run of this script (quiet machine, 8 clients, one pass of 297 requests): "
    "26.3 requests/s, p50 265.4 ms, p95 651.7 ms, p99 897.8 ms, 0 errors; sequential p50 29.5 ms, p95 87.1 ms.",
]


def to_markdown(report: dict[str, Any]) -> str:
    m, seq = report["machine"], report["sequential"]
    levels = report["concurrent"] if isinstance(report["concurrent"], list) else [report["concurrent"]]
    verdict = {k: ("met" if seq[f"{k}_ms"] < v else "**missed**") for k, v in TARGETS_MS.items()}
    lines = [
        f"# `POST /api/v1/chat` benchmark ({report['date']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average at start "
        f"{m['load_average_at_start']} (the cores are shared with other work).",
        f"Warehouse: {report['warehouse']}; planner {', '.join(seq['planners'])}; "
        f"{report['dialogues']} dialogues / {report['questions']} questions from `{report['dataset']}`.",
        *([f"Command: `{report['command']}`."] if report.get("command") else []),
        *([report["auth"]] if report.get("auth") else []),
        "",
        "| run | requests | errors | p50 ms | p95 ms | p99 ms | max ms | requests/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    runs = [("sequential, 1 client", seq)]
    runs += [
        (
            f"concurrent, {c['clients']} clients"
            + (f", {c['duration_s']:g} s" if c.get("duration_s") else ""),
            c,
        )
        for c in levels
    ]
    for name, s in runs:
        lines.append(
            f"| {name} | {s['requests']} | {s['errors']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} "
            f"| {s['max_ms']} | {s.get('requests_per_s', '–')} |"
        )
    lines += [
        "",
        f"Targets (sequential): p50 < {TARGETS_MS['p50']:g} ms {verdict['p50']}; "
        f"p95 < {TARGETS_MS['p95']:g} ms {verdict['p95']}.",
        "",
        "Per stage, from each response's `timings_ms` (http+store: the rest of the client-side time):",
        "",
        "| stage | sequential p50 / p95 ms | "
        + " | ".join(f"{c['clients']} clients p50 / p95 ms" for c in levels)
        + " |",
        "|---|---|" + "---|" * len(levels),
    ]
    for stage in STAGES:
        cells = [f"{s['stages_ms'][stage]['p50']} / {s['stages_ms'][stage]['p95']}" for s in (seq, *levels)]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "By the plan's first tool (sequential):",
        "",
        "| kind | requests | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for kind, s in report["sequential_by_kind"].items():
        lines.append(f"| {kind} | {s['requests']} | {s['p50_ms']} | {s['p95_ms']} |")
    lines += ["", "Tool runs inside `execute` (sequential, from `tool_results[].elapsed_ms`):", ""]
    lines += ["| tool | runs | p50 ms | p95 ms |", "|---|---|---|---|"]
    for tool, s in report["sequential_by_tool"].items():
        lines.append(f"| {tool} | {s['runs']} | {s['p50_ms']} | {s['p95_ms']} |")
    lines += ["", "Slowest sequential requests:", ""]
    lines += ["| question | ms | plan | execute | compose | http+store |", "|---|---|---|---|---|---|"]
    for r in report["sequential_slowest"]:
        st = r["stages_ms"]
        lines.append(
            f"| {r['question']} | {r['latency_ms']} | {st['plan']} | {st['execute']} | {st['compose']} "
            f"| {st['http+store']} |"
        )
    if report.get("note"):
        lines += ["", report["note"]]
    if m.get("lscpu"):
        lines += ["", "`lscpu | head`:", "", "```", *m["lscpu"], "```"]
    if report.get("earlier"):
        lines += ["", "## Earlier figures", "", *report["earlier"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data", help="holds demo.duckdb and models/")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the dialogues per measured run")
    parser.add_argument("--clients", type=int, nargs="+", default=[8], help="one load level per number")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per load level (default: one pass over the work)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--note", default="", help="a line for the report: what else ran, what was changed")
    args = parser.parse_args()
    warehouse = args.data_dir / "demo.duckdb"
    if not warehouse.exists():
        raise SystemExit(f"{warehouse} is missing: build it with `opsbrain demo-data` (default scale)")
    dialogues = load_dialogues(DATASET)
    work = dialogues * args.rounds
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="opsbrain-bench-") as tmp:
        auth_store = Path(tmp) / "auth.sqlite"
        create_bench_user(auth_store)
        server = start_server(args.data_dir, port, Path(tmp) / "conversations.sqlite", auth_store)
        base = f"http://127.0.0.1:{port}"
        try:
            report_machine = machine()
            headers = sign_in(base)
            with httpx.Client(base_url=base, timeout=120, trust_env=False, headers=headers) as http:
                meta = http.get("/api/v1/meta").json()
                warm: list[dict[str, Any]] = []
                for dialogue in dialogues:
                    run_dialogue(http, dialogue, warm)
                sequential: list[dict[str, Any]] = []
                for dialogue in work:
                    run_dialogue(http, dialogue, sequential)
            levels = []
            for clients in args.clients:
                records, wall_s = run_concurrent(base, work, clients, headers, args.duration)
                levels.append((clients, records, wall_s))
        finally:
            server.terminate()
            server.wait(timeout=30)
    concurrent = [r for _, records, _ in levels for r in records]
    planners = {r.get("planner") for r in sequential + concurrent if r["status"] == 200}
    if planners != {"rules"}:
        raise SystemExit(f"expected the rules planner, the server answered with {planners}")
    report = {
        "date": date.today().isoformat(),
        "machine": report_machine,
        "warehouse": f"{warehouse} (scale {meta['generator'].get('scale', '?')}, as of {meta['as_of']})",
        "dataset": DATASET.relative_to(ROOT).as_posix(),
        "dialogues": len(dialogues),
        "questions": sum(len(d) for d in dialogues),
        "targets_ms": TARGETS_MS,
        "sequential": summarise(sequential),
        "command": shlex.join(["python", "bench/chat_benchmark.py", *sys.argv[1:]]),
        "auth": AUTH_NOTE,
        "concurrent": [
            {
                "clients": clients,
                "duration_s": args.duration,
                **summarise(records, wall_s),
                "statuses": statuses(records),
            }
            for clients, records, wall_s in levels
        ],
        "sequential_by_kind": by_kind(sequential),
        "sequential_by_tool": by_tool(sequential),
        "sequential_slowest": slowest(sequential),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": args.note,
        "earlier": EARLIER,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chat_benchmark.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    markdown = to_markdown(report)
    (args.out / "chat_benchmark.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
