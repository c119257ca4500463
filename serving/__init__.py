"""opsbrain.serving: the HTTP API (and, as it grows, the planner, assistant and web UI)."""
