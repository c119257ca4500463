"""Policy knowledge base: ingestion time, search quality and latency per mode, for one or more embedders.

    python bench/kb_benchmark.py                              # the configured model (default e5-small)
    python bench/kb_benchmark.py --model data/models/multilingual-e5-small --model /path/to/other-st-model

Each model ingests the whole corpus into a fresh temporary Chroma folder (a first start), then
answers the evaluation questions (evals/datasets/kb_questions.jsonl) in BM25, dense and hybrid mode,
in-process, after one warm-up query. Results go to bench/results/kb_benchmark.{json,md}.
Targets (issue #3): hybrid recall@5 ≥ 0.95 and MRR ≥ 0.85; search p95 under 100 ms; ingestion of the
whole corpus under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from evals.kb import default_dataset, evaluate_kb
from opsbrain.knowledge import corpus_dirs, indicator_terms
from opsbrain.settings import settings
from retrieval import KBConfig, KnowledgeBase, SentenceTransformerEmbedder
from retrieval.embeddings import ensure_default_model

RESULTS = Path(__file__).parent / "results"


def measure(folder: Path) -> dict:
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder(folder)
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(embedder, KBConfig(chroma_path=Path(tmp), extra_terms=indicator_terms()))
        ingest = kb.ingest(corpus_dirs(settings))
        report = evaluate_kb(kb, default_dataset(), k=10)
    return {
        "embedder": report.embedder,
        "model_load_s": round(load_s, 1),
        "ingest_s": round(ingest.seconds, 1),
        "chunks": report.chunks,
        "documents": report.documents,
        "questions": report.questions,
        "modes": {r.mode: r.model_dump(exclude={"mode", "misses"}) for r in report.results},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, action="append", help="SentenceTransformer folder (repeatable)")
    args = parser.parse_args()
    models = args.model or [
        settings.kb_embedding_model or ensure_default_model(settings.default_embedding_model)
    ]
    runs = [measure(m) for m in models]
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_benchmark.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    first = runs[0]
    lines = [
        f"{result['date']}, {result['machine']}; {first['documents']} documents, {first['chunks']} chunks, "
        f"{first['questions']} questions; peak RSS {result['peak_rss_mb']} MB.",
        "",
        "| embedder | mode | recall@1 | recall@5 | MRR | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for mode, m in run["modes"].items():
            lines.append(
                f"| `{run['embedder']}` | {mode} | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} | "
                f"{m['mrr']:.3f} | {m['p50_ms']} | {m['p95_ms']} |"
            )
    lines += ["", "| embedder | model load s | ingest of the corpus s |", "|---|---|---|"]
    lines += [f"| `{r['embedder']}` | {r['model_load_s']} | {r['ingest_s']} |" for r in runs]
    (RESULTS / "kb_benchmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
