"""koe's long-term conversational memory.

The public surface (the LLM turn and the voice loop are built against these names):

memory/records.py
    @dataclass(frozen=True) class MemoryRecord:
        id: str; text: str; role: str            # "user" | "assistant" | "summary"
        conversation: str; timestamp: float      # UTC epoch seconds
        user: str = "default"; source: str = "voice"   # voice | text | import | recording
        interrupted: bool = False; spoken: str | None = None  # assistant: what was played
        recording: str | None = None; offset: float | None = None  # file name, seconds in
memory/store.py
    class MemoryStore:
        @classmethod open(cls, settings: MemorySettings) -> MemoryStore
        add_turn(self, role, text, conversation, *, at=None, user=None, source="voice",
                 interrupted=False, spoken=None, id=None) -> MemoryRecord
            # durable when it returns; a caller that may retry chooses `id` first and passes
            # the same one again, so a retry replaces instead of storing a second copy
        add_many(self, records) -> int           # replaces by id; embeds in batches
        conversation_turns(self, conversation) -> list[MemoryRecord]   # time order
        records(self, *, since, until, conversation, user, roles, limit, source)
            -> list[MemoryRecord]
        search(self, query, k, *, since, until, conversation, user, roles) -> list[Hit]
        get(self, ids) / delete(self, ids) / count(self) / close(self)
        call(self, fn) / reload_collection(self) / pages(self, where)   # for compaction
        index: SearchIndex | None    # the embedded store's index beside chromadb
memory/recall.py
    @dataclass(frozen=True) class Recalled:
        record: MemoryRecord; score: float; similarity: float = 0.0; excerpt: str = ""
            # score: relevance 0-1, the calibrated chance this is what the question asks
    recall(store, query, k=5, since=None, until=None, conversation=None, user=None, now=None)
        -> list[Recalled]   # with since/until None, a time phrase in the query ("yesterday")
                            # sets the window; time questions also draw on summaries
                            # (memory/search/overview.py)
    memory_block(items, now=None) -> str   # compact, dated, quoted as data; "" when empty
memory/summary.py
    summarize_conversation(turns, complete=None, max_chars=400) -> str
        # complete(prompt) -> str is a sync LLM call; when it raises a KoeError the
        # deterministic extractive summary is used
    store_summary(store, conversation, complete=None) -> MemoryRecord | None
    summarize_idle(store, complete=None, now=None) -> list[MemoryRecord]
        # at start-up: summaries for conversations idle longer than memory.idle_minutes
memory/recordings.py  remember_recording(store, name, started, said, duration): a transcript
                      as passages (source "recording", file name, offset) and one summary
memory/transfer.py    export_jsonl(store, out) / export_to_file(store, path) (whole or not at
                      all, mode 0600) / import_jsonl(store, lines) (bad lines skipped, noted)
memory/embeddings.py  the offline sentence embedder (MiniLM, int8 ONNX) chromadb and the index use
memory/inventory.py   what the store holds; memory/health.py: `koe doctor`'s memory checks

Underneath, a folder per job:

memory/chroma/        chromadb: open_embedded() / open_http() (client.py), open_collection()
                      (create or open, finish an interrupted rebuild); calls.py: inside_chromadb(),
                      ChromaLock, koe's chromadb calls counted, and when none runs the HNSW
                      files' unused room zeroed (hnsw_files.py)
memory/index/         the search index beside the embedded store: exact vectors, full text
                      (SQLite FTS5), time and filter columns; rebuilt from chromadb when it
                      cannot be trusted, writes noted as pending so a crash is repaired
memory/search/        nearest.py: Hit, nearest_memories() within filters and windows;
                      candidates.py: gather() by meaning and by words; ranking.py: rank(), one
                      place per record and per near duplicate, the calibrated relevance (0-1)
                      the voice loop thresholds; overview.py: questions about time alone
memory/forgetting/    request.py: ForgetRequest(ids, conversation, before, matching, about, ...,
                      recording), selectors AND, `matching` a phrase of whole words
                      (phrase.py), `about` a strict, capped meaning; forget.py: select(store,
                      request) and forget(store, records), journaled (journal.py) so a forget
                      a crash interrupts ends on the next open; compact.py: compact(store),
                      forgotten text and vectors leave the files on disk
memory/when/          timestamps.py: the times koe keeps (1900-2999), checked coming in, never
                      failing out; phrases.py: find_time_window(text, now), parse_when(text, now)
"""
