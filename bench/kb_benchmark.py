"""Policy knowledge base: ingestion time of the whole corpus, search latency per mode, memory.

    python bench/kb_benchmark.py                # the settings' embedding model, 3 passes over the questions
    python bench/kb_benchmark.py --passes 1

Ingestion runs into a fresh temporary Chroma folder, so it measures a first start. Search latency is
measured over the evaluation questions (evals/datasets/kb_questions.jsonl), in-process, after one
warm-up query. Results go to bench/results/kb_benchmark.{json,md}. Targets (issue #3): search p95
under 100 ms; ingestion of the whole corpus under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from evals.kb import MODES, default_dataset, load_questions
from opsbrain.knowledge import corpus_dirs, indicator_terms
from opsbrain.settings import settings
from retrieval import KBConfig, KnowledgeBase, SentenceTransformerEmbedder
from retrieval.embeddings import ensure_default_model

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=3, help="passes over the question set per mode")
    args = parser.parse_args()

    started = time.perf_counter()
    folder = settings.kb_embedding_model or ensure_default_model(settings.default_embedding_model)
    embedder = SentenceTransformerEmbedder(folder)
    model_load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(embedder, KBConfig(chroma_path=Path(tmp), extra_terms=indicator_terms()))
        report = kb.ingest(corpus_dirs(settings))
        questions = [q.question for q in load_questions(default_dataset())]
        kb.search("预热", k=5)
        latency: dict[str, dict[str, float]] = {}
        for mode in MODES:
            times = [kb.search(q, k=5, mode=mode).took_ms for _ in range(args.passes) for q in questions]
            cuts = statistics.quantiles(times, n=100)
            latency[mode] = {"p50_ms": statistics.median(times), "p95_ms": cuts[94], "p99_ms": cuts[98]}
        stats = kb.stats()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "embedder": stats.embedder,
        "documents": stats.documents,
        "chunks": stats.chunks,
        "model_load_s": round(model_load_s, 2),
        "ingest_s": round(report.seconds, 1),
        "ingest_chunks_per_s": round(report.chunks_written / report.seconds, 1),
        "queries_per_mode": len(questions) * args.passes,
        "latency": {m: {k: round(v, 1) for k, v in d.items()} for m, d in latency.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_benchmark.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    lines = [
        f"Machine: {result['machine']}. Embedder `{result['embedder']}`; {result['documents']} documents, "
        f"{result['chunks']} chunks.",
        "",
        f"- model load {result['model_load_s']} s; ingestion of the whole corpus into an empty index "
        f"{result['ingest_s']} s ({result['ingest_chunks_per_s']} chunks/s); peak RSS {result['peak_rss_mb']} MB",
        "",
        f"Search latency, in-process, {result['queries_per_mode']} queries per mode (k=5):",
        "",
        "| mode | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|",
        *[f"| {m} | {d['p50_ms']} | {d['p95_ms']} | {d['p99_ms']} |" for m, d in result["latency"].items()],
    ]
    (RESULTS / "kb_benchmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
