"""The voice loop: hears an utterance, answers aloud sentence by sentence, remembers the turn."""
