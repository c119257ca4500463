"""opsbrain: operations assistant for Chinese hospitals (CLI and settings)."""

__version__ = "0.1.0"
