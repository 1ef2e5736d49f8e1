"""Sound in and out: audio files, microphone, speaker."""
