"""chromadb underneath the store: opening it (embedded on disk, or a Chroma server), the
store's collection, and koe's calls into it, after which the HNSW files' unused room is
zeroed (`hnsw_files`) so no freed text reaches the disk.
"""
