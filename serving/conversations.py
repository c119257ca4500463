"""Conversations and their messages, persisted with SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from serving.tools import PLAN_ADAPTER, Plan, Turn

metadata = sa.MetaData()
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("role", sa.String(16), nullable=False),  # user | assistant
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("plan", sa.Text),  # the assistant's plan (JSON): what a follow-up inherits
    sa.Column("response", sa.Text),  # the whole response object (JSON), for the UI and audits
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime


class Message(BaseModel):
    role: str
    content: str
    response: dict[str, Any] | None = None
    created_at: datetime


class Conversation(ConversationSummary):
    messages: list[Message]


class ConversationNotFoundError(LookupError):
    """No conversation has this id (never created, or deleted): the API answers 404."""


def _sqlite_pragmas(conn: Any, _: Any) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    # WAL with NORMAL sync: a commit costs about 0.4 ms instead of 20 ms (one disk sync per commit in
    # the default mode). A power cut may lose the last turns, never the database's consistency.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE: a user searching "100%" means the percent sign."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ConversationStore:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    def create(self, title: str) -> str:
        now = datetime.now(UTC)
        conversation_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                conversations.insert().values(
                    id=conversation_id, title=title[:200], created_at=now, updated_at=now
                )
            )
        return conversation_id

    def history(self, conversation_id: str) -> list[Turn]:
        """Earlier turns, oldest first: each user question paired with the plan answering it."""
        self._require(conversation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(messages.c.role, messages.c.content, messages.c.plan, messages.c.response)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.id)
            ).all()
        turns, question = [], None
        for row in rows:
            if row.role == "user":
                question = row.content
            elif row.plan is not None and question is not None:
                cited = [c["chunk_id"] for c in (json.loads(row.response or "{}").get("citations") or [])]
                turns.append(Turn(question=question, plan=PLAN_ADAPTER.validate_json(row.plan), cited=cited))
                question = None
        return turns

    def append(self, conversation_id: str, question: str, answer: str, plan: Plan, response: dict) -> None:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                messages.insert(),
                [
                    {  # every row names every column: executemany takes its columns from the first row
                        "conversation_id": conversation_id,
                        "role": "user",
                        "content": question,
                        "plan": None,
                        "response": None,
                        "created_at": now,
                    },
                    {
                        "conversation_id": conversation_id,
                        "role": "assistant",
                        "content": answer,
                        "plan": plan.model_dump_json(),
                        "response": json.dumps(response, ensure_ascii=False, default=str),
                        "created_at": now,
                    },
                ],
            )
            conn.execute(
                conversations.update().where(conversations.c.id == conversation_id).values(updated_at=now)
            )

    def list(self, limit: int = 100, query: str = "") -> list[ConversationSummary]:
        """Newest first; ``query`` keeps conversations whose title or any message contains it."""
        select = sa.select(conversations).order_by(conversations.c.updated_at.desc()).limit(limit)
        if query:
            pattern = "%" + _escape_like(query) + "%"
            in_messages = sa.select(messages.c.conversation_id).where(
                messages.c.content.like(pattern, escape="\\")
            )
            select = select.where(
                conversations.c.title.like(pattern, escape="\\") | conversations.c.id.in_(in_messages)
            )
        with self.engine.connect() as conn:
            return [ConversationSummary(**r._mapping) for r in conn.execute(select)]

    def rename(self, conversation_id: str, title: str) -> ConversationSummary:
        with self.engine.begin() as conn:
            # the order of the sidebar is by last activity: renaming is not activity
            conn.execute(
                conversations.update().where(conversations.c.id == conversation_id).values(title=title[:200])
            )
        return self._require(conversation_id)  # raises for an unknown id: the update changed nothing

    def get(self, conversation_id: str) -> Conversation:
        summary = self._require(conversation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.id)
            )
            items = [
                Message(
                    role=r.role,
                    content=r.content,
                    response=json.loads(r.response) if r.response else None,
                    created_at=r.created_at,
                )
                for r in rows
            ]
        return Conversation(**summary.model_dump(), messages=items)

    def delete(self, conversation_id: str) -> None:
        self._require(conversation_id)
        with self.engine.begin() as conn:
            conn.execute(messages.delete().where(messages.c.conversation_id == conversation_id))
            conn.execute(conversations.delete().where(conversations.c.id == conversation_id))

    def _require(self, conversation_id: str) -> ConversationSummary:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).first()
        if row is None:
            raise ConversationNotFoundError(f"没有编号为 {conversation_id} 的会话")
        return ConversationSummary(**row._mapping)
