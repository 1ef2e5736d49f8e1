"""A conversation: the prompt, recall from memory, every turn stored."""
