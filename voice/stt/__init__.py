"""Speech to text: Whisper models, the transcriber, hallucination guards, transcript types."""
