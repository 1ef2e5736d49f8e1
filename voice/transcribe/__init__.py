"""The recording job: transcribe files into txt / srt / vtt / json, with progress."""
