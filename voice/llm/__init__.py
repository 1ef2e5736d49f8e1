"""The language model: OpenAI-compatible streaming client, the embedded llama.cpp server."""
