"""Latency and throughput of ``POST /api/v1/chat`` with the ``rules`` planner on the demo data.

    python bench/chat_benchmark.py                    # default-scale demo warehouse in data/
    python bench/chat_benchmark.py --rounds 1 --clients 8 --data-dir data

The server is the real one (uvicorn, ``serving.app:create_app``) in its own process, so the clients'
threads do not share its interpreter lock. The questions are the dialogues of
``evals/datasets/planner_dev.jsonl`` (follow-ups sent with their conversation id), in order:

1. warm-up: every dialogue once, not measured (loads the embedding model, warms DuckDB's caches);
2. sequential: one client, every dialogue ``--rounds`` times: p50/p95 latency;
3. concurrent: ``--clients`` threads sharing the same work: requests/s, p50/p95.

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


def load_dialogues(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [[t["question"] for t in json.loads(line)["turns"]] for line in lines if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, store: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "OPSBRAIN_DATA_DIR": str(data_dir),
        "OPSBRAIN_CONVERSATIONS_URL": f"sqlite:///{store}",
        "OPSBRAIN_PLANNER": "rules",  # for when the planner becomes a setting; the responses are checked
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


def run_concurrent(base: str, work: list[list[str]], clients: int) -> tuple[list[dict[str, Any]], float]:
    todo: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
    for dialogue in work:
        todo.put(dialogue)
    records: list[dict[str, Any]] = []  # list.append is atomic: the threads share one list

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
            while True:
                try:
                    dialogue = todo.get_nowait()
                except queue.Empty:
                    return
                run_dialogue(http, dialogue, records)

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
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def to_markdown(report: dict[str, Any]) -> str:
    m, seq, con = report["machine"], report["sequential"], report["concurrent"]
    verdict = {k: ("met" if seq[f"{k}_ms"] < v else "**missed**") for k, v in TARGETS_MS.items()}
    lines = [
        f"# `POST /api/v1/chat` benchmark ({report['date']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average at start "
        f"{m['load_average_at_start']} (the cores are shared with other work).",
        f"Warehouse: {report['warehouse']}; planner {', '.join(seq['planners'])}; "
        f"{report['dialogues']} dialogues / {report['questions']} questions from `{report['dataset']}`.",
        "",
        "| run | requests | errors | p50 ms | p95 ms | p99 ms | max ms | requests/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in (("sequential, 1 client", seq), (f"concurrent, {con['clients']} clients", con)):
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
        "| stage | sequential p50 / p95 ms | concurrent p50 / p95 ms |",
        "|---|---|---|",
    ]
    for stage in STAGES:
        a, b = seq["stages_ms"][stage], con["stages_ms"][stage]
        lines.append(f"| {stage} | {a['p50']} / {a['p95']} | {b['p50']} / {b['p95']} |")
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
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data", help="holds demo.duckdb and models/")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the dialogues per measured run")
    parser.add_argument("--clients", type=int, default=8)
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
        server = start_server(args.data_dir, port, Path(tmp) / "conversations.sqlite")
        base = f"http://127.0.0.1:{port}"
        try:
            report_machine = machine()
            with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
                meta = http.get("/api/v1/meta").json()
                warm: list[dict[str, Any]] = []
                for dialogue in dialogues:
                    run_dialogue(http, dialogue, warm)
                sequential: list[dict[str, Any]] = []
                for dialogue in work:
                    run_dialogue(http, dialogue, sequential)
            concurrent, wall_s = run_concurrent(base, work, args.clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
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
        "concurrent": {"clients": args.clients, **summarise(concurrent, wall_s)},
        "sequential_by_kind": by_kind(sequential),
        "sequential_by_tool": by_tool(sequential),
        "sequential_slowest": slowest(sequential),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": args.note,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chat_benchmark.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    markdown = to_markdown(report)
    (args.out / "chat_benchmark.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
