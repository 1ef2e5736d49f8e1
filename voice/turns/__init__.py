"""Turn-taking as pure state machines (no I/O): VAD framing, endpointing."""
