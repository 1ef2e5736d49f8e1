"""Forgetting, which cannot be undone: what a request chooses (`request`, with exact
phrases in `phrase`), the delete itself (`forget`), written down first so a crash cannot
leave it half done (`journal`), and compaction, after which the forgotten text and vectors
are in no file on disk (`compact`).
"""
