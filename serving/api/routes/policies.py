from fastapi import APIRouter
from pydantic import BaseModel, Field

from retrieval import KBStats, SearchFilters, SearchResponse
from retrieval.kb import MAX_QUERY_CHARS
from retrieval.models import SearchMode
from serving.api.auth import AuthError, CallerDep
from serving.api.deps import KnowledgeBaseDep
from serving.api.errors import BODY_ERRORS

router = APIRouter(prefix="/policies", tags=["policies"])


class PolicySearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, examples=["药占比有什么政策要求"])
    k: int = Field(5, ge=1, le=50, description="how many passages to return")
    mode: SearchMode = Field("hybrid", description="hybrid（BM25+向量，RRF 融合）| bm25 | dense")
    filters: SearchFilters = Field(default_factory=SearchFilters)


@router.post(
    "/search", response_model=SearchResponse, summary="检索政策法规（带出处引用）", responses=BODY_ERRORS
)
def search(body: PolicySearchRequest, kb: KnowledgeBaseDep, caller: CallerDep) -> SearchResponse:
    """Passages of the regulations and internal documents that answer the query, each with its citation:
    document title, document number, article, issuing body, date, status, reliability note and score.
    Roles without ``internal_documents`` (policy.yaml) see external regulations only."""
    filters = body.filters
    if not caller.internal_documents:
        if filters.scope == "internal":
            raise AuthError(
                403,
                "您的角色不能检索医院内部文件，只能检索外部法规政策。",
                "out_of_scope",
                valid=["external"],
            )
        filters = filters.model_copy(update={"scope": "external"})
    return kb.search(body.query, k=body.k, mode=body.mode, filters=filters)


@router.get("/stats", response_model=KBStats, summary="知识库统计")
def stats(kb: KnowledgeBaseDep) -> KBStats:
    return kb.stats()
