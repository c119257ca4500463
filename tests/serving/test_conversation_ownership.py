"""Conversations belong to their user: who may list, read, continue, rename and delete them, the
per-user quota, the retention purge, and the in-place upgrade of a table from before owners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from indicators.query.access import EVERYTHING, DataAccess
from serving.conversations import (
    PURGE_EVERY_S,
    ConversationNotFoundError,
    ConversationQuotaError,
    ConversationStore,
    conversations,
    messages,
)
from serving.tools import Clarification, Plan

CARDIOLOGY = DataAccess(label="心血管内科", department=("D01",))
CARDIO_AND_NEURO = DataAccess(label="心内、神内", department=("D01", "D02"))
NEUROLOGY = DataAccess(label="神经内科", department=("D02",))
PLAN = Plan(clarification=Clarification(slot="department", question="哪个科室？"))


def _store(tmp_path: Path, **kwargs: int) -> ConversationStore:
    return ConversationStore(f"sqlite:///{tmp_path / 'conversations.sqlite'}", **kwargs)


def _turn(store: ConversationStore, conversation_id: str, question: str = "门诊量") -> None:
    store.append(conversation_id, question, "答案", PLAN, {"question": question, "citations": []})


def test_list_shows_only_the_owners(tmp_path: Path) -> None:
    store = _store(tmp_path)
    mine = store.create("我的", "alice", CARDIOLOGY)
    store.create("他的", "bob", CARDIOLOGY)
    _turn(store, mine, "心内科门诊量")
    assert [c.id for c in store.list("alice")] == [mine]
    assert [c.title for c in store.list("bob")] == ["他的"]
    assert store.list("carol") == []
    assert [c.id for c in store.list("alice", query="门诊")] == [mine]
    assert store.list("bob", query="门诊") == []  # search never reaches another user's messages


def test_get_for_the_owner_or_a_covering_scope(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cid = store.create("心内科", "alice", CARDIOLOGY)
    _turn(store, cid)
    assert store.get(cid, "alice", CARDIOLOGY).messages[0].content == "门诊量"
    # the owner sees it even if their own scope has narrowed since
    assert store.get(cid, "alice", NEUROLOGY).id == cid
    # a shared link: others whose scope covers the owner's see it, others get the unknown-id 404
    assert store.get(cid, "head", CARDIO_AND_NEURO).id == cid
    assert store.get(cid, "director", EVERYTHING).id == cid
    with pytest.raises(ConversationNotFoundError) as refused:
        store.get(cid, "neuro", NEUROLOGY)
    with pytest.raises(ConversationNotFoundError) as unknown:
        store.get("no-such-id", "neuro", NEUROLOGY)
    assert str(refused.value) == str(unknown.value).replace("no-such-id", cid)  # same words: no hint


def test_a_whole_hospital_conversation_is_not_shown_to_a_department(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cid = store.create("全院", "director", EVERYTHING)
    with pytest.raises(ConversationNotFoundError):
        store.get(cid, "alice", CARDIOLOGY)


def test_history_rename_delete_are_the_owners(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cid = store.create("心内科", "alice", CARDIOLOGY)
    _turn(store, cid)
    assert [t.question for t in store.history(cid, "alice")] == ["门诊量"]
    # another user may read the shared conversation but not continue, rename or delete it
    for attempt in (
        lambda: store.history(cid, "director"),
        lambda: store.rename(cid, "改名", "director"),
        lambda: store.delete(cid, "director"),
    ):
        with pytest.raises(ConversationNotFoundError):
            attempt()
    assert store.get(cid, "alice", CARDIOLOGY).title == "心内科"
    assert store.rename(cid, "改名", "alice").title == "改名"
    store.delete(cid, "alice")
    with pytest.raises(ConversationNotFoundError):
        store.get(cid, "alice", CARDIOLOGY)


def test_quota_per_user(tmp_path: Path) -> None:
    store = _store(tmp_path, max_per_user=2)
    first = store.create("一", "alice", CARDIOLOGY)
    store.create("二", "alice", CARDIOLOGY)
    with pytest.raises(ConversationQuotaError) as full:
        store.create("三", "alice", CARDIOLOGY)
    assert full.value.status == 409 and full.value.type == "conversation_quota"
    assert "2 个会话" in full.value.message and "删除" in full.value.message
    assert len(store.list("alice")) == 2  # nothing half-created
    with pytest.raises(ConversationQuotaError):
        store.check_quota("alice")  # the same answer before anything is attempted
    store.check_quota("bob")
    store.create("别人的", "bob", CARDIOLOGY)  # the quota is per user
    store.delete(first, "alice")
    store.create("三", "alice", CARDIOLOGY)  # deleting makes room


def _age(store: ConversationStore, conversation_id: str, days: int) -> None:
    when = datetime.now(UTC) - timedelta(days=days)
    with store.engine.begin() as conn:
        conn.execute(
            conversations.update().where(conversations.c.id == conversation_id).values(updated_at=when)
        )


def _message_count(store: ConversationStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()


def test_retention_purge(tmp_path: Path) -> None:
    store = _store(tmp_path, retention_days=30)
    old, recent = store.create("旧", "alice", CARDIOLOGY), store.create("新", "alice", CARDIOLOGY)
    _turn(store, old)
    _turn(store, recent)
    _age(store, old, 31)
    _age(store, recent, 29)
    assert store.purge_expired() == 1
    assert [c.id for c in store.list("alice")] == [recent]
    assert _message_count(store) == 2  # the old conversation's messages went with it
    assert store.purge_expired() == 0
    # ``now`` lets a caller (the CLI, a test) say when "now" is
    assert store.purge_expired(now=datetime.now(UTC) + timedelta(days=2)) == 1
    assert store.list("alice") == []


def test_create_purges_at_most_hourly(tmp_path: Path) -> None:
    store = _store(tmp_path, retention_days=30)
    old = store.create("旧", "alice", CARDIOLOGY)  # the first create purged (nothing to purge yet)
    _age(store, old, 31)
    store.create("新", "alice", CARDIOLOGY)  # within the hour: no purge
    assert len(store.list("alice")) == 2
    store._purged_at -= PURGE_EVERY_S + 1  # an hour later
    store.create("再新", "alice", CARDIOLOGY)
    assert [c.title for c in store.list("alice")] == ["再新", "新"]


def test_old_table_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:  # the schema of the release before owners
        conn.execute(
            sa.text(
                "CREATE TABLE conversations (id VARCHAR(36) PRIMARY KEY, title VARCHAR(200) NOT NULL, "
                "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO conversations VALUES ('old-1', '旧会话', :now, :now)"), {"now": now}
        )
    engine.dispose()

    store = ConversationStore(url)
    inspector = sa.inspect(store.engine)
    assert {"owner", "access"} <= {c["name"] for c in inspector.get_columns("conversations")}
    assert {"ix_conversations_owner_updated", "ix_conversations_updated_at"} <= {
        i["name"] for i in inspector.get_indexes("conversations")
    }
    # the old row is kept but shown to nobody, not even a whole-hospital user
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(conversations.c.title)).scalars().all() == ["旧会话"]
    with pytest.raises(ConversationNotFoundError):
        store.get("old-1", "director", EVERYTHING)
    with pytest.raises(ConversationNotFoundError):
        store.history("old-1", "director")
    # the upgraded table works, and opening it again changes nothing
    cid = store.create("新", "alice", CARDIOLOGY)
    store.engine.dispose()
    again = ConversationStore(url)
    assert [c.id for c in again.list("alice")] == [cid]
    assert again.get(cid, "head", CARDIO_AND_NEURO).title == "新"
