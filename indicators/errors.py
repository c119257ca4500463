"""Errors that tell the caller what was wrong and what is valid.

Every query error carries a machine-readable ``code``, the offending ``param``, the list of
``valid`` values where the set is small enough to show, and close ``suggestions``.
"""

from __future__ import annotations


class CatalogError(Exception):
    """The catalog YAML is malformed: the message names the file, the entry and the field."""


class IndicatorError(ValueError):
    code = "invalid_query"
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        valid: list[str] | None = None,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.valid = valid or []
        self.suggestions = suggestions or []

    def to_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "type": self.code,
            "param": self.param,
            "valid": self.valid,
            "suggestions": self.suggestions,
        }


class UnknownIndicatorError(IndicatorError):
    code = "unknown_indicator"
    http_status = 404


class IndicatorNotAvailableError(IndicatorError):
    code = "indicator_not_available"


class UnknownVersionError(IndicatorError):
    code = "unknown_version"


class UnknownDimensionValueError(IndicatorError):
    code = "unknown_dimension_value"


class UnsupportedDimensionError(IndicatorError):
    code = "unsupported_dimension"


class InvalidPeriodError(IndicatorError):
    code = "invalid_period"


class WarehouseNotReadyError(IndicatorError):
    """The warehouse lacks tables the engine needs (e.g. the pre-aggregations were never built)."""

    code = "warehouse_not_ready"
    http_status = 503
