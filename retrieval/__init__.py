"""opsbrain.retrieval: see README (arrives with its own issue)."""
