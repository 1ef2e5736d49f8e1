"""The Realtime protocol served over koe's own models (`koe serve realtime`, `koe serve chat`).

Also its wire events, shared with the clients.
"""
