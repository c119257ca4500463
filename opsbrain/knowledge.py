"""Build the policy knowledge base from the settings: the one place that wires retrieval to the rest.

The ``retrieval`` package knows nothing of indicators; the indicator names and aliases that jieba
must keep whole are handed to it here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from opsbrain.settings import Settings
from retrieval import KBConfig, KnowledgeBase
from retrieval.embeddings import SentenceTransformerEmbedder, ensure_default_model


def shipped_corpus() -> Path:
    return Path(str(resources.files("retrieval").joinpath("corpus")))


def corpus_dirs(config: Settings) -> list[Path]:
    return [shipped_corpus(), *config.kb_corpus_dirs]


def indicator_terms() -> list[str]:
    from indicators import default_catalog

    terms: list[str] = []
    for ind in default_catalog().indicators.values():
        terms += [ind.name, *ind.aliases]
    return terms


def open_knowledge_base(config: Settings) -> KnowledgeBase:
    model = config.kb_embedding_model or ensure_default_model(config.default_embedding_model)
    reranker = None
    if config.kb_reranker_model:
        from retrieval.ranking import CrossEncoderReranker

        reranker = CrossEncoderReranker(config.kb_reranker_model)
    kb_config = KBConfig(
        chroma_path=None if config.kb_chroma_url else config.chroma_path,
        chroma_url=config.kb_chroma_url,
        collection=config.kb_collection,
        extra_terms=indicator_terms(),
    )
    return KnowledgeBase(SentenceTransformerEmbedder(model), kb_config, reranker=reranker)


def ensure_indexed(kb: KnowledgeBase, config: Settings) -> None:
    """Index the corpus folders when the index is empty (first start); later runs use `kb ingest`."""
    if kb.store.count() == 0:
        kb.ingest(corpus_dirs(config))
