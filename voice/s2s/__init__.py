"""Speech-to-speech endpoints as the voice loop's brain: a Realtime WebSocket or audio chat
completions, with koe's memory and barge-in."""
