"""koe's long-term conversational memory."""
