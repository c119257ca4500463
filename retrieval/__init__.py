"""opsbrain.retrieval: the policy knowledge base (corpus, embeddings, Chroma index, hybrid search).

This package knows nothing of indicators, the assistant or training; they build on it.

    kb = KnowledgeBase(SentenceTransformerEmbedder(folder), KBConfig(chroma_path=Path("data/chroma")))
    kb.ingest([Path("retrieval/corpus")])
    kb.search("药占比有什么政策要求", k=5).hits   # citations: title, number, article, text, score
"""

from retrieval.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.kb import EmptyQueryError, KBConfig, KnowledgeBase
from retrieval.loaders import UnreadableDocumentError, load_document
from retrieval.models import (
    Chunk,
    Citation,
    Document,
    DocumentMeta,
    IngestReport,
    KBStats,
    SearchFilters,
    SearchResponse,
)
from retrieval.ranking import CrossEncoderReranker, Reranker

__all__ = [
    "Chunk",
    "Citation",
    "CrossEncoderReranker",
    "Document",
    "DocumentMeta",
    "Embedder",
    "EmptyQueryError",
    "IngestReport",
    "KBConfig",
    "KBStats",
    "KnowledgeBase",
    "Reranker",
    "SearchFilters",
    "SearchResponse",
    "SentenceTransformerEmbedder",
    "UnreadableDocumentError",
    "load_document",
]
