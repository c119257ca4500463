"""opsbrain.training: see README (arrives with its own issue)."""
