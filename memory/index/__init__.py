"""The search index kept beside the embedded chromadb store (koe-index.sqlite3).

chromadb holds the memories; this index is derived from them and answers recall: every
vector searched exactly (`mirror`), a full-text index over each memory's words (`tables`,
SQLite FTS5, `terms`), and time and filter columns, so a time window narrows a search in
milliseconds. `index` changes the file and its in-memory mirror together; `sync` keeps the
whole equal to chromadb's content (rebuilt when it cannot be trusted, crashed writes read
again on open).
"""
