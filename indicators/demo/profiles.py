"""Fee class mix of each department: how its drug and non-drug money splits over fee classes.

Shares are money shares within a part (drugs: F13–F15; other flexible lines: the rest); rows
are departments in ``DEPARTMENTS`` order. Registration, bed, nursing, operation, high-value
material and antibiotic lines are placed by the generators themselves, not drawn from here.
"""

from __future__ import annotations

import numpy as np

from indicators.demo.dimensions import DEPARTMENTS, FEE_CLASS_CODES


def _row(shares: dict[str, float]) -> np.ndarray:
    row = np.zeros(len(FEE_CLASS_CODES))
    for code, share in shares.items():
        row[FEE_CLASS_CODES.index(code)] = share
    return row / row.sum()


_OP_DRUG = {"F13": 0.76, "F14": 0.2, "F15": 0.04}
_OP_DRUG_BY_DEPT = {
    "中医科": {"F13": 0.15, "F14": 0.3, "F15": 0.55},
    "康复医学科": {"F13": 0.4, "F14": 0.3, "F15": 0.3},
    "儿科": {"F13": 0.7, "F14": 0.3},
    "肿瘤科": {"F13": 0.95, "F14": 0.05},
    "血液科": {"F13": 0.97, "F14": 0.03},
}
_OP_OTHER = {"F02": 0.1, "F05": 0.02, "F06": 0.3, "F07": 0.28, "F08": 0.1, "F09": 0.07, "F10": 0.03,
             "F12": 0.01, "F21": 0.01, "F22": 0.05, "F24": 0.01}  # fmt: skip
_OP_OTHER_BY_DEPT = {
    "中医科": {"F12": 0.45, "F06": 0.15, "F07": 0.15, "F08": 0.05, "F02": 0.05, "F11": 0.1, "F22": 0.05},
    "康复医学科": {"F11": 0.55, "F12": 0.2, "F07": 0.1, "F06": 0.1, "F02": 0.05},
    "口腔科": {"F09": 0.45, "F10": 0.25, "F07": 0.1, "F22": 0.1, "F06": 0.05, "F02": 0.05},
    "眼科": {"F08": 0.35, "F07": 0.15, "F10": 0.15, "F09": 0.15, "F06": 0.1, "F02": 0.1},
    "耳鼻咽喉科": {"F08": 0.35, "F02": 0.15, "F06": 0.15, "F07": 0.2, "F09": 0.1, "F22": 0.05},
    "肾内科": {"F09": 0.5, "F06": 0.25, "F22": 0.1, "F07": 0.1, "F02": 0.05},
    "肿瘤科": {"F09": 0.35, "F06": 0.2, "F07": 0.25, "F02": 0.05, "F05": 0.05, "F20": 0.1},
    "皮肤科": {"F09": 0.35, "F08": 0.15, "F05": 0.1, "F06": 0.2, "F02": 0.1, "F10": 0.1},
    "妇产科": {"F07": 0.3, "F06": 0.3, "F05": 0.1, "F08": 0.1, "F02": 0.1, "F22": 0.1},
    "急诊科": {"F06": 0.33, "F07": 0.33, "F02": 0.15, "F08": 0.11, "F22": 0.08},
}

_IP_DRUG = {"F13": 0.88, "F14": 0.1, "F15": 0.02}
_IP_DRUG_BY_DEPT = {
    "中医科": {"F13": 0.35, "F14": 0.3, "F15": 0.35},
    "康复医学科": {"F13": 0.55, "F14": 0.3, "F15": 0.15},
    "神经内科": {"F13": 0.75, "F14": 0.23, "F15": 0.02},
    "肿瘤科": {"F13": 0.97, "F14": 0.03},
    "血液科": {"F13": 0.97, "F14": 0.03},
}
_IP_MEDICAL = {"F01": 0.01, "F02": 0.12, "F04": 0.02, "F05": 0.02, "F06": 0.3, "F07": 0.18, "F08": 0.07,
               "F09": 0.08, "F11": 0.01, "F12": 0.01, "F16": 0.03, "F17": 0.05, "F18": 0.01, "F19": 0.005,
               "F20": 0.005, "F21": 0.01, "F22": 0.05, "F24": 0.01}  # fmt: skip
_IP_SURGICAL = {"F02": 0.08, "F05": 0.06, "F06": 0.2, "F07": 0.12, "F08": 0.03, "F09": 0.03, "F10": 0.04,
                "F16": 0.04, "F17": 0.06, "F18": 0.01, "F19": 0.01, "F21": 0.01, "F22": 0.04, "F23": 0.05,
                "F24": 0.01}  # fmt: skip
_IP_MEDICAL_BY_DEPT = {
    "肾内科": {**_IP_MEDICAL, "F09": 0.35},
    "肿瘤科": {**_IP_MEDICAL, "F09": 0.3, "F20": 0.05},
    "血液科": {**_IP_MEDICAL, "F16": 0.15, "F20": 0.06, "F18": 0.03},
    "重症医学科": {**_IP_MEDICAL, "F09": 0.35, "F17": 0.08, "F16": 0.05},
    "康复医学科": {**_IP_MEDICAL, "F11": 0.55, "F12": 0.15},
    "中医科": {**_IP_MEDICAL, "F12": 0.45, "F11": 0.1},
}


def _matrix(default: dict[str, float], by_dept: dict[str, dict[str, float]]) -> np.ndarray:
    return np.array([_row(by_dept.get(d.name, default)) for d in DEPARTMENTS])


OUTPATIENT_DRUG = _matrix(_OP_DRUG, _OP_DRUG_BY_DEPT)
OUTPATIENT_OTHER = _matrix(_OP_OTHER, _OP_OTHER_BY_DEPT)
INPATIENT_DRUG = _matrix(_IP_DRUG, _IP_DRUG_BY_DEPT)
# Inpatient non-drug mix: rows 0..n-1 medical stays of each department, n..2n-1 operated stays.
INPATIENT_OTHER = np.vstack([_matrix(_IP_MEDICAL, _IP_MEDICAL_BY_DEPT), _matrix(_IP_SURGICAL, {})])
