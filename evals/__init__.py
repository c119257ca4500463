"""opsbrain.evals: see README (arrives with its own issue)."""
