"""Synthetic DRG groups derived from the ADRGs, and the severity model of a stay.

ADRGs with a relative weight of 2.5 or more are split by complications (``3``: 伴并发症或合并症,
``5``: 不伴); the others form one group (``9``). The regional norms are the hospital's own
expected cost and LOS of the group times a fixed group-level deviation, so that the hospital's
费用消耗指数 and 时间消耗指数 land near 1 and vary by group as they do in real reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.casemix import ADRGS
from indicators.demo.sampling import DIMENSION_SEED, DIMENSIONS, rng_for

SPLIT_WEIGHT = 2.5
RW_SCALE = 0.92  # puts the hospital's CMI near 1.1
# Severity of a stay: 0 major complications (MCC), 1 complications (CC), 2 none.
SEVERITY_SHARES = np.array([0.1, 0.25, 0.65])
SEVERITY_LOS = np.array([1.35, 1.1, 0.92])
SEVERITY_MORTALITY = np.array([4.0, 1.3, 0.4])
_SPLIT_RW = {"3": 1.25, "5": 0.85, "9": 1.0}
_SUFFIX = {"3": "，伴并发症或合并症", "5": "，不伴并发症或合并症", "9": ""}
LOW_RISK_MIN_MORTALITY = 0.0003  # 低风险组 deaths are rare, not impossible


@dataclass(frozen=True)
class DrgTable:
    code: list[str]
    name: list[str]
    mdc: list[str]
    weight: np.ndarray
    low_risk: np.ndarray
    cost_deviation: np.ndarray  # region norm ÷ hospital expectation
    los_deviation: np.ndarray
    by_adrg: np.ndarray  # [adrg, severity] -> group index


def build_drgs() -> DrgTable:
    rng = rng_for(DIMENSION_SEED, DIMENSIONS, 2)
    code, name, mdc, weight, low = [], [], [], [], []
    by_adrg = np.zeros((len(ADRGS), 3), dtype=np.int64)
    for a, adrg in enumerate(ADRGS):
        split = not adrg.low_risk and adrg.weight >= SPLIT_WEIGHT
        for variant in ("3", "5") if split else ("9",):
            code.append(adrg.code + variant)
            name.append(adrg.name + _SUFFIX[variant])
            mdc.append(f"MDC{adrg.code[0]}")
            weight.append(round(RW_SCALE * adrg.weight * _SPLIT_RW[variant], 4))
            low.append(adrg.low_risk)
        n = len(code)
        by_adrg[a] = [n - 2, n - 2, n - 1] if split else [n - 1] * 3
    return DrgTable(
        code=code, name=name, mdc=mdc, weight=np.array(weight), low_risk=np.array(low),
        cost_deviation=rng.uniform(0.9, 1.12, len(code)), los_deviation=rng.uniform(0.92, 1.12, len(code)),
        by_adrg=by_adrg,
    )  # fmt: skip
