"""The same knowledge base against a Chroma server (HttpClient), and a CrossEncoder reranker folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from retrieval import CrossEncoderReranker, KBConfig, KnowledgeBase
from tests.retrieval.fakes import HashingEmbedder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """`chroma run` from the chromadb package: a real server process on a free local port."""
    port = _free_port()
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start within 60 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _small_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.md").write_text(
        "---\nid: rule-a\ntitle: 耗材管理规定\nissuer: 运营管理部\nissue_date: '2023'\n---\n"
        "## 一、耗占比目标\n全院耗占比控制在百分之二十以内，每月通报各科室执行情况。\n"
        "## 二、高值耗材审批\n单价超过一万元的高值耗材使用前须经科主任审批并登记追溯信息。\n"
    )
    (folder / "b.md").write_text(
        "---\nid: rule-b\ntitle: 药事管理规定\nissuer: 医务处\n---\n"
        "## 一、抗菌药物分级\n抗菌药物实行分级管理，特殊使用级须经会诊同意后方可使用，并按月点评。\n"
    )
    return folder


def test_chroma_server_by_url(chroma_server: str, tmp_path: Path) -> None:
    config = KBConfig(chroma_path=None, chroma_url=chroma_server, collection="opsbrain_test")
    kb = KnowledgeBase(HashingEmbedder(), config)
    report = kb.ingest([_small_corpus(tmp_path / "docs")])
    assert sorted(report.added) == ["rule-a", "rule-b"]
    hits = kb.search("高值耗材 审批", k=2).hits
    assert hits[0].doc_id == "rule-a" and hits[0].article == "二、高值耗材审批"
    # a second process (here: a second client) sees the same index on the server
    again = KnowledgeBase(HashingEmbedder(), config)
    assert again.stats().chunks == kb.stats().chunks and again.stats().location == chroma_server
    assert len(again.ingest([tmp_path / "docs"]).unchanged) == 2


def test_bad_chroma_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="http://host:8000"):
        KnowledgeBase(HashingEmbedder(), KBConfig(chroma_url="chroma:8000"))


def test_cross_encoder_reranker(tmp_path: Path, tiny_embedding_model: Path) -> None:
    """A CrossEncoder folder (here a random tiny one with the e5 tokenizer) reorders and rescores hits."""
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path / "tiny-reranker"
    config = BertConfig(
        vocab_size=250037,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_embedding_model / name, folder / name)
    reranker = CrossEncoderReranker(folder)
    kb = KnowledgeBase(HashingEmbedder(), KBConfig(chroma_path=tmp_path / "chroma"), reranker=reranker)
    kb.ingest([_small_corpus(tmp_path / "docs")])
    hits = kb.search("耗材", k=2).hits
    assert len(hits) == 2
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert sorted(scores) == sorted(
        float(s) for s in reranker.model.predict([("耗材", h.text) for h in hits])
    )
