"""koe's voice side: hearing, transcribing, thinking aloud and speaking."""
