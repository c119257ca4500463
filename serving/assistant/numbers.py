"""Every number in an answer comes from a tool result, or from the composer's own arithmetic on one.

``check_numbers`` enforces it: it lists the numbers the results state (values, comparisons, periods,
targets, cited passages) and those ``derived`` computes from them (a breakdown's spread, a trend's
change), and any other number in the text is an error, so a template or model that invents a figure
is caught before it is shown.
"""

from __future__ import annotations

import re
from typing import Any

from serving.assistant import derived
from serving.assistant.executor import ToolResult

# a number starts after neither a letter nor a digit: CMI2019 holds no number (a code), not "019"
NUMBER = re.compile(r"(?<![A-Za-z\d])-?\d+(?:,\d{3})*(?:\.\d+)?")


class UnsupportedNumberError(ValueError):
    """The answer text holds a number that no tool result gave."""


def format_number(value: float | None, precision: int) -> str:
    """A figure as answers and reports show it: thousands separators, the indicator's precision."""
    return "—" if value is None else f"{value:,.{precision}f}"


def allowed_numbers(results: list[ToolResult]) -> set[str]:
    """Every number a tool result states, in the forms the composer may print it."""
    found: set[str] = set()

    def add(value: float | int | None, precision: int = 2) -> None:
        if value is None:
            return
        for p in {precision, 0, 1, 2}:
            found.add(canon(f"{value:.{p}f}"))
            found.add(canon(f"{abs(value):.{p}f}"))

    for r in results:
        # dates, codes, document numbers, passage text, explain/list data; read from the strings
        # themselves, since JSON would escape a line break before a number (\n3 reads as n3)
        for text in _strings(r.model_dump(mode="json")):
            found.update(canon(n) for n in NUMBER.findall(text))
        if r.query:
            for ind in r.query.results:
                for row in ind.rows:
                    add(row.value, ind.precision)
                    add(row.rank)
                    for comp in row.comparisons.values():
                        add(comp.value, ind.precision)
                        add(comp.change)
                for target in ind.targets:
                    add(target.value)
                for value in derived.figures(ind):
                    add(value, ind.precision)
                found.add(str(len(ind.rows)))
                # the breakdown's counts: rows with a value, rows withheld, rows without data
                valued, withheld = len(derived.valued(ind)), sum(r.suppressed for r in ind.rows)
                found.update(str(n) for n in (valued, withheld, len(ind.rows) - valued - withheld))
            found.update(str(n) for n in derived.scope_counts(r.query))
        found.update({str(len(r.data.get("indicators", []))), str(len(r.data.get("values", [])))})
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def check_numbers(text: str, results: list[ToolResult]) -> None:
    allowed = allowed_numbers(results)
    # list markers [1] [2] of the citations are numbering, not figures
    stray = [n for n in NUMBER.findall(re.sub(r"\[\d+\]", "", text)) if canon(n) not in allowed]
    if stray:
        raise UnsupportedNumberError(f"数字不是来自工具结果：{', '.join(stray)}")


def canon(number: str) -> str:
    """One spelling per number: no sign, separators, trailing decimal zeros or leading zeros (the
    month of 2023-08-01 is the 8 of 2023年8月)."""
    text = number.replace(",", "").lstrip("-")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, dot, fraction = text.partition(".")
    return (whole.lstrip("0") or "0") + dot + fraction
