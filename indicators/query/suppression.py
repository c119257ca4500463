"""Small-cell suppression: no value that rests on fewer than k visits or stays leaves the engine.

A cell of 1/1 = 100% 死亡率 for one doctor on one day names one patient's death; a 次均费用 over one
stay is one patient's bill. Such cells keep their keys (the row is still there) but lose value,
numerator and denominator, and the result says why. A breakdown whose cells would mostly be
withheld is refused outright with advice, since the few survivors would reveal little but cost much.
"""

from __future__ import annotations

from collections.abc import Sequence

from indicators.errors import IndicatorError
from indicators.query.models import CHANGE_LABELS, COMPARE_LABELS, Comparison, Row
from indicators.query.periods import Period

REFUSE_SHARE = 0.5  # refuse a breakdown when more than this share of its cells would be withheld
REFUSE_MIN_CELLS = 4  # ... and it has at least this many cells (two departments, one small, is fine)


class SmallCellError(IndicatorError):
    code = "small_cells"


class SmallCells:
    def __init__(self, k: int) -> None:
        self.k = k

    @property
    def active(self) -> bool:
        return self.k > 0

    @property
    def note(self) -> str:
        return f"为保护患者隐私，基于少于 {self.k} 例（人次）的单元格不显示数值（显示为“<{self.k}”）。"

    def too_small(self, cases: float | None) -> bool:
        return self.active and cases is not None and cases < self.k

    def check(self, indicator: str, group_by: Sequence[str], cases: Sequence[float | None]) -> None:
        """Refuse a breakdown that would mostly be withheld.

        Raises:
            SmallCellError: with the share withheld and what to change.
        """
        if not self.active or not group_by or len(cases) < REFUSE_MIN_CELLS:
            return
        small = sum(self.too_small(c) for c in cases)
        if small / len(cases) > REFUSE_SHARE:
            raise SmallCellError(
                f"“{indicator}”按当前分组有 {small}/{len(cases)} 个单元格少于 {self.k} 例，"
                "为保护患者隐私不予展示；请改用更粗的时间粒度（如按月或按年）、去掉医生等细分维度，"
                "或延长统计期。",
                param="group_by",
                suggestions=["按月", "按科室", "延长统计期"],
            )

    def mask_rows(self, rows: list[Row], cases: Sequence[float | None], notes: list[str]) -> None:
        masked = False
        for row, count in zip(rows, cases, strict=True):
            if self.too_small(count):
                row.value = row.numerator = row.denominator = None
                row.suppressed = masked = True
        if masked:
            notes.append(self.note)

    def masked_comparison(self, kind: str, span: Period) -> Comparison:
        return Comparison(
            kind=kind,
            label=COMPARE_LABELS[kind],
            change_label=CHANGE_LABELS[kind],
            start=span.start,
            end=span.end,
            value=None,
            note=f"比较期少于 {self.k} 例，不显示",
            suppressed=True,
        )
