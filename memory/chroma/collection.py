"""Opening the store's collection, and recovering what an interrupted compaction left."""

from __future__ import annotations

from typing import Any

from koe.config.schema import MemorySettings
from koe.memory.chroma import client as clients
from koe.memory.embeddings import OnnxEmbedder
from koe.memory.errors import StoreError, server_failure

# Cosine space; M 16 / ef 100 (see docs/benchmarks.md for what this costs in recall).
HNSW = {"space": "cosine", "ef_construction": 100, "ef_search": 100, "max_neighbors": 16}


def open_collection(connection: clients.Connection, settings: MemorySettings,
                    embedder: OnnxEmbedder) -> Any:
    """The store's collection, created on first use. A koe-made folder whose collection has
    gone is refused rather than silently started empty."""
    name = settings.collection
    path = connection.path

    def get_or_create() -> Any:
        if path is not None:
            from koe.memory.forgetting.compact import finish_interrupted_rebuild

            finish_interrupted_rebuild(connection.client, name, path)
            marker = clients.read_marker(path)
            existing = {c.name for c in connection.client.list_collections()}
            if marker and marker.get("collection") == name and name not in existing:
                raise StoreError(
                    f"memory store {path} has lost its collection {name!r}",
                    hint=f"move {path} aside and restore from an export; koe will not "
                         "start an empty store over it")
        collection = connection.client.get_or_create_collection(
            name, configuration={"hnsw": HNSW}, embedding_function=embedder)
        if path is not None and not (path / clients.MARKER_FILE).exists():
            clients.write_marker(path, name)
        return collection

    if path is None:
        try:
            return get_or_create()
        except Exception as exc:
            raise server_failure(connection.location, exc, settings.timeout) from exc
    return clients.chroma_call(path, get_or_create)
