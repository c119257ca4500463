"""Conversations and their messages, persisted with SQLAlchemy (SQLite by default, PostgreSQL by URL).

Each conversation belongs to the user who started it. Its answers were computed within that user's
data scope, so the scope is stored with it: another user may open it (a shared link) only when their
own scope covers everything the owner's does, and only the owner may continue, rename or delete it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError, field_validator

from indicators.query.access import DataAccess
from serving.storage import store_engine
from serving.tools import PLAN_ADAPTER, Plan, Turn

log = logging.getLogger("opsbrain.conversations")
metadata = sa.MetaData()
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Added after the first release (databases without them are upgraded by _upgrade_in_place).
    # Rows from before then have no owner: they are shown to nobody (whose answers they hold is not
    # known), but stay stored, until the retention purge, so that an administrator can still assign
    # them (UPDATE conversations SET owner=..., access=...) instead of losing them.
    sa.Column("owner", sa.String(64)),
    sa.Column("access", sa.Text),  # DataAccess JSON: the owner's data scope when it was created
    # a user's sidebar and quota count read (owner, updated_at); the retention purge reads updated_at
    sa.Index("ix_conversations_owner_updated", "owner", "updated_at"),
    sa.Index("ix_conversations_updated_at", "updated_at"),
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


def _utc(value: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without a time zone, so it is put back on."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc(value)


class Message(BaseModel):
    role: str
    content: str
    response: dict[str, Any] | None = None
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _utc(value)


class Conversation(ConversationSummary):
    messages: list[Message]


class ConversationNotFoundError(LookupError):
    """No conversation with this id that the caller may see (never created, deleted, or someone
    else's): the API answers 404 for all three alike, so ids cannot be probed for existence."""


class ConversationQuotaError(Exception):
    """The user already stores ``max_per_user`` conversations: HTTP 409, type conversation_quota.

    Not an AuthError subclass: serving.api.auth imports this module (through serving.api.deps), so
    the API registers serving.api.routes.conversations.conversation_quota_handler for it instead.
    """

    status = 409
    type = "conversation_quota"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.message = f"您已保存 {limit} 个会话，达到上限；请先删除一些旧会话再开始新的会话。"
        super().__init__(self.message)


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE: a user searching "100%" means the percent sign."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _missing(engine: sa.Engine) -> tuple[list[sa.Column], list[sa.Index]]:
    inspector = sa.inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("conversations")}
    indexes = {i["name"] for i in inspector.get_indexes("conversations")}
    return (
        [c for c in conversations.columns if c.name not in columns],
        [i for i in conversations.indexes if i.name not in indexes],
    )


def _upgrade_in_place(engine: sa.Engine) -> None:
    """Add the columns and indexes a conversations table made by an earlier version lacks
    (create_all makes missing tables only, never missing columns)."""
    columns, indexes = _missing(engine)
    if not columns and not indexes:
        return
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:  # PostgreSQL rolls it all back on failure; SQLite per statement
            for column in columns:  # all added columns are nullable: existing rows need no value
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE conversations ADD COLUMN {quote(column.name)} {kind}"))
            for index in indexes:
                index.create(conn)
    except sa.exc.DBAPIError:
        # several workers starting at once race to upgrade: losing the race to one that finished
        # is success; anything still missing is a real failure
        if any(_missing(engine)):
            raise


PURGE_EVERY_S = 3600.0
"""How often create() runs the retention purge: one indexed DELETE an hour costs nothing."""


class ConversationStore:
    def __init__(self, url: str, max_per_user: int = 500, retention_days: int = 365) -> None:
        self.engine = store_engine(url)
        metadata.create_all(self.engine)
        _upgrade_in_place(self.engine)
        self.max_per_user = max_per_user
        self.retention_days = retention_days
        self._purged_at: float | None = None  # time.monotonic() of the last purge
        self._purge_lock = threading.Lock()

    def create(self, title: str, owner: str, access: DataAccess) -> str:
        """A new conversation of ``owner``, remembering the data scope its answers are computed in.

        Raises:
            ConversationQuotaError: the owner already has ``max_per_user`` conversations.
        """
        self._purge_if_due()
        now = datetime.now(UTC)
        conversation_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            # counted and inserted in one transaction; two creates racing may both pass, which lets
            # the quota be passed by one: it bounds storage, it is not a contract
            self._check_quota(conn, owner)
            conn.execute(
                conversations.insert().values(
                    id=conversation_id,
                    title=title[:200],
                    created_at=now,
                    updated_at=now,
                    owner=owner,
                    access=access.model_dump_json(),
                )
            )
        return conversation_id

    def check_quota(self, owner: str) -> None:
        """Raise ConversationQuotaError now if ``create`` would: lets a streamed answer be refused
        before its stream starts rather than fail when the conversation is stored at its end."""
        with self.engine.connect() as conn:
            self._check_quota(conn, owner)

    def _check_quota(self, conn: sa.Connection, owner: str) -> None:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(conversations).where(conversations.c.owner == owner)
        ).scalar_one()
        if count >= self.max_per_user:
            raise ConversationQuotaError(self.max_per_user)

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete conversations (with their messages) untouched for over ``retention_days``; returns
        how many. Ownerless rows age out the same way."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        expired = sa.select(conversations.c.id).where(conversations.c.updated_at < cutoff)
        with self.engine.begin() as conn:
            # messages first and explicitly: PostgreSQL cascades, but SQLite only with its pragma on
            conn.execute(messages.delete().where(messages.c.conversation_id.in_(expired)))
            return conn.execute(conversations.delete().where(conversations.c.updated_at < cutoff)).rowcount

    def _purge_if_due(self) -> None:
        with self._purge_lock:
            due = self._purged_at is None or time.monotonic() - self._purged_at >= PURGE_EVERY_S
            if due:
                self._purged_at = time.monotonic()
        if due:
            try:
                self.purge_expired()
            except sa.exc.SQLAlchemyError:  # housekeeping: it must not cost the user their answer
                log.exception("conversation retention purge failed; retried in an hour")

    def history(self, conversation_id: str, viewer: str) -> list[Turn]:
        """Earlier turns, oldest first: each user question paired with the plan answering it.

        Owner only: continuing a conversation answers within the scope stored with it, and appends
        to it, neither of which is another user's to do.
        """
        self._require(conversation_id, viewer)
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

    def list(self, owner: str, limit: int = 100, query: str = "") -> list[ConversationSummary]:
        """The owner's conversations, newest first; ``query`` keeps those whose title or any message
        contains it."""
        select = (
            sa.select(*_SUMMARY_COLUMNS)
            .where(conversations.c.owner == owner)
            .order_by(conversations.c.updated_at.desc())
            .limit(limit)
        )
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

    def rename(self, conversation_id: str, title: str, owner: str) -> ConversationSummary:
        self._require(conversation_id, owner)
        with self.engine.begin() as conn:
            # the order of the sidebar is by last activity: renaming is not activity
            conn.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id, conversations.c.owner == owner)
                .values(title=title[:200])
            )
        return self._require(conversation_id, owner)

    def get(self, conversation_id: str, viewer: str, viewer_access: DataAccess) -> Conversation:
        """The conversation with its messages, for its owner, or for a user whose data scope covers
        the owner's (a shared link: they may see every figure in it anyway)."""
        summary = self._require(conversation_id, viewer, viewer_access)
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

    def delete(self, conversation_id: str, owner: str) -> None:
        self._require(conversation_id, owner)
        with self.engine.begin() as conn:
            conn.execute(messages.delete().where(messages.c.conversation_id == conversation_id))
            conn.execute(conversations.delete().where(conversations.c.id == conversation_id))

    def _require(
        self, conversation_id: str, viewer: str, viewer_access: DataAccess | None = None
    ) -> ConversationSummary:
        """The summary, if ``viewer`` owns the conversation or (``viewer_access`` given) their scope
        covers the owner's; else ConversationNotFoundError, the same as for an unknown id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*_SUMMARY_COLUMNS, conversations.c.owner, conversations.c.access).where(
                    conversations.c.id == conversation_id
                )
            ).first()
        if row is None or not _may_see(row.owner, row.access, viewer, viewer_access):
            raise ConversationNotFoundError(f"没有编号为 {conversation_id} 的会话")
        return ConversationSummary(
            id=row.id, title=row.title, created_at=row.created_at, updated_at=row.updated_at
        )


_SUMMARY_COLUMNS = (
    conversations.c.id,
    conversations.c.title,
    conversations.c.created_at,
    conversations.c.updated_at,
)


def _may_see(owner: str | None, stored: str | None, viewer: str, viewer_access: DataAccess | None) -> bool:
    if owner is None:  # from before conversations had owners: nobody's, so nobody's to see
        return False
    if owner == viewer:
        return True
    return viewer_access is not None and stored is not None and _covers(viewer_access, stored)


def _covers(viewer_access: DataAccess, stored: str) -> bool:
    try:
        owner_access = DataAccess.model_validate_json(stored)
    except ValidationError:
        # a scope written by another version that this one cannot read: share nothing rather than
        # guess (the owner still sees it)
        return False
    return viewer_access.covers(owner_access)
