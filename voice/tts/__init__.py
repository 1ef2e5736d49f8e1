"""Speech out: speakable text, sentence splitting, Piper synthesis."""
