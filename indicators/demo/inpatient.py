"""住院: admissions, the 病案首页 of each stay, its operations and antibiotic courses.

All stays are generated at once (about 110 thousand at scale 1), one admission month per
random stream; admissions start ``WARM_UP_DAYS`` before the first day so that the first day's
census is a normal one, and stays discharged before the first day are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from indicators.demo.calendar import month_spans
from indicators.demo.calibration import ADMISSIONS_PER_DAY, INPATIENT_GROWTH, target_series, targets_for
from indicators.demo.case_types import (
    CASE_ADRG,
    CASE_DEPT,
    CASE_LOS,
    CASE_MORTALITY,
    CASE_OP,
    CASE_SECOND_OP,
    CASE_WEIGHT,
    case_mix_weights,
)  # fmt: skip
from indicators.demo.casemix import OPERATIONS
from indicators.demo.context import Context
from indicators.demo.dimensions import DEPARTMENTS, DEPT_INDEX
from indicators.demo.drg import LOW_RISK_MIN_MORTALITY, SEVERITY_LOS, SEVERITY_MORTALITY, SEVERITY_SHARES
from indicators.demo.sampling import (
    ADMISSIONS,
    GroupSampler,
    bounded_normal,
    expand_counts,
    lognormal_mean1,
    rng_for,
)
from indicators.demo.volumes import unit_rates

OUTCOMES = ("治愈", "好转", "未愈", "死亡", "其他")
DEATH = OUTCOMES.index("死亡")
LOS_SIGMA = 0.45
MORTALITY_SCALE = 0.68  # the case types' mortality is per department; this brings the hospital to ~0.75 %
_AGE = np.array([d.age for d in DEPARTMENTS])
_MALE = np.array([d.male for d in DEPARTMENTS])
_OP_LEVEL = np.array([op.level for op in OPERATIONS])
_ICU = DEPT_INDEX["重症医学科"]
# Where ICU patients were admitted (入院科室) when they reach ICU by transfer.
_ICU_SOURCES = np.array([DEPT_INDEX[n] for n in ("急诊科", "呼吸内科", "心血管内科", "神经外科", "普通外科")])
# Antibacterial use: share of stays with a course (medical, operated) and course length ÷ LOS.
_ABX_MEDICAL = {"呼吸内科": 0.85, "重症医学科": 0.92, "感染性疾病科": 0.7, "儿科": 0.55, "血液科": 0.45,
                "老年医学科": 0.55, "急诊科": 0.4, "肾内科": 0.3, "肿瘤科": 0.2, "康复医学科": 0.1, "中医科": 0.1}  # fmt: skip
_ABX_SHARE = np.array(
    [[_ABX_MEDICAL.get(d.name, 0.2), 0.6 if d.name != "眼科" else 0.15] for d in DEPARTMENTS]
)
_ABX_LENGTH = np.array([0.55, 0.35])


def dept_admission_share(ctx: Context) -> np.ndarray:
    return np.bincount(ctx.units.dept, ctx.units.inpatient, minlength=len(DEPARTMENTS))


def los_scale(ctx: Context) -> float:
    """Factor on the case types' base LOS that makes the 2019 average equal the 2019 target."""
    mix = case_mix_weights(dept_admission_share(ctx))
    expected = (mix * CASE_LOS).sum() * (SEVERITY_SHARES * SEVERITY_LOS).sum()
    return targets_for(2019).los / expected


@dataclass
class Stays:
    admit: np.ndarray
    los: np.ndarray  # planned; the stay is still in hospital if admit + los > as_of
    unit: np.ndarray
    dept: np.ndarray
    admit_dept: np.ndarray
    ward: np.ndarray
    doctor: np.ndarray
    patient: np.ndarray
    age: np.ndarray
    insurance: np.ndarray
    case: np.ndarray
    severity: np.ndarray
    drg: np.ndarray  # -1: 未入组
    outcome: np.ndarray
    expected_los: np.ndarray  # the LOS this stay's case and severity lead one to expect

    @property
    def discharge(self) -> np.ndarray:
        return self.admit + self.los

    def take(self, keep: np.ndarray) -> Stays:
        return Stays(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


def _admit_month(ctx: Context, days: np.ndarray, rng: np.random.Generator, cases: GroupSampler) -> Stays:
    u = ctx.units
    rates = unit_rates(days, u, u.inpatient, ADMISSIONS_PER_DAY * ctx.scale, INPATIENT_GROWTH, "admission")
    cell = expand_counts(rng.poisson(rates))
    admit, unit = days[cell // len(u)], cell % len(u)
    dept, n = u.dept[unit], len(cell)
    case = cases.sample(dept, rng)
    a = _AGE[dept]
    age = bounded_normal(rng, a[:, 0], a[:, 1], a[:, 2], a[:, 3] + 0.999)
    patient, exact_age = ctx.pool.pick(admit, age, rng.random(n) < _MALE[dept])
    p_mcc = 0.06 + 0.08 * (exact_age >= 65) + 0.08 * (exact_age >= 80)
    r = rng.random(n)
    severity = np.where(r < p_mcc, 0, np.where(r < p_mcc + SEVERITY_SHARES[1], 1, 2))
    trend = target_series(admit, "los") / targets_for(2019).los
    expected_los = CASE_LOS[case] * los_scale(ctx) * trend * SEVERITY_LOS[severity]
    los = np.maximum(1, np.round(expected_los * lognormal_mean1(rng, LOS_SIGMA, n))).astype(np.int64)

    drg = ctx.drgs.by_adrg[CASE_ADRG[case], severity]
    p_death = (
        MORTALITY_SCALE
        * CASE_MORTALITY[case]
        * SEVERITY_MORTALITY[severity]
        * np.where(exact_age >= 75, 1.6, 1.0)
    )
    p_death = np.where(ctx.drgs.low_risk[drg], np.maximum(p_death, LOW_RISK_MIN_MORTALITY), p_death)
    operated = CASE_OP[case] >= 0
    survivor = np.where(operated, rng.choice([0, 1, 2, 4], n, p=[0.6, 0.33, 0.02, 0.05]),
                        rng.choice([0, 1, 2, 4], n, p=[0.3, 0.58, 0.05, 0.07]))  # fmt: skip
    outcome = np.where(rng.random(n) < p_death, DEATH, survivor)
    drg = np.where(rng.random(n) < 0.01, -1, drg)  # 未入组: incomplete 首页

    admit_dept = dept.copy()
    to_icu = (dept == _ICU) & (rng.random(n) < 0.7)
    admit_dept[to_icu] = _ICU_SOURCES[rng.integers(0, len(_ICU_SOURCES), to_icu.sum())]
    via_er = (dept != _ICU) & (rng.random(n) < 0.02)
    admit_dept[via_er] = DEPT_INDEX["急诊科"]
    return Stays(
        admit=admit, los=los, unit=unit, dept=dept, admit_dept=admit_dept,
        ward=ctx.wards.by_unit.sample(unit, rng), doctor=ctx.staff.attending.sample(unit, rng),
        patient=patient, age=exact_age, insurance=ctx.pool.insurance[patient], case=case,
        severity=severity, drg=drg, outcome=outcome, expected_los=expected_los,
    )  # fmt: skip


def admit_all(ctx: Context) -> Stays:
    """Every stay discharged on or after the first day (or still in hospital), by admission."""
    cases = GroupSampler(
        [
            (np.where(d == CASE_DEPT, CASE_WEIGHT, 0.0)[None, :], np.arange(len(CASE_WEIGHT)))
            for d in range(len(DEPARTMENTS))
        ]
    )
    parts = []
    for days in month_spans(ctx.first_admission, ctx.as_of):
        rng = rng_for(ctx.seed, ADMISSIONS, int(days[0]))
        stays = _admit_month(ctx, days, rng, cases)
        parts.append(stays.take(stays.discharge >= ctx.start))
    return Stays(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Stays)})


@dataclass
class Operations:
    stay: np.ndarray
    op: np.ndarray
    day: np.ndarray
    surgeon: np.ndarray


def operations(ctx: Context, stays: Stays, rng: np.random.Generator) -> Operations:
    """The case's operation a day or two after admission, plus its companion (e.g. 冠脉造影)."""
    first = np.flatnonzero(CASE_OP[stays.case] >= 0)
    second = first[(CASE_SECOND_OP[stays.case[first]] >= 0) & (rng.random(len(first)) < 0.85)]
    stay = np.r_[first, second]
    op = np.r_[CASE_OP[stays.case[first]], CASE_SECOND_OP[stays.case[second]]]
    preop = np.minimum(rng.poisson(1.2, len(first)), np.maximum(stays.los[first] - 1, 0))
    day = stays.admit[stay] + np.r_[preop, preop[np.searchsorted(first, second)]]
    unit = stays.unit[stay]
    surgeon = np.where(
        _OP_LEVEL[op] >= 3, ctx.staff.senior.sample(unit, rng), ctx.staff.attending.sample(unit, rng)
    )
    order = np.lexsort((op, stay, day))
    keep = order[day[order] <= ctx.as_of]
    return Operations(stay[keep], op[keep], day[keep], surgeon[keep])


@dataclass
class Courses:
    """Antibacterial courses: one fee line and one fact_antibiotic_use row each."""

    stay: np.ndarray
    item: np.ndarray
    day: np.ndarray
    units: np.ndarray
    ddd: np.ndarray


def antibiotic_courses(ctx: Context, stays: Stays, rng: np.random.Generator) -> Courses:
    operated = (CASE_OP[stays.case] >= 0).astype(np.int64)
    users = np.flatnonzero(rng.random(len(stays.los)) < _ABX_SHARE[stays.dept, operated])
    escalated = users[rng.random(len(users)) < 0.2]  # a second, usually broader course
    stay = np.r_[users, escalated]
    los = stays.los[stay]
    length = np.clip(
        np.round(los * _ABX_LENGTH[operated[stay]] * lognormal_mean1(rng, 0.4, len(stay))), 1, los
    )
    offset = np.r_[np.zeros(len(users), np.int64), rng.integers(1, np.maximum(2, los[len(users) :]))]
    day = stays.admit[stay] + np.minimum(offset, los - 1).clip(0)
    # DDDs per day follow the year's 抗菌药物使用强度 target (the stewardship trend).
    per_day = 1.62 * target_series(day, "antibiotic_intensity") / targets_for(2019).antibiotic_intensity
    item = ctx.book.antibiotic.sample(stays.dept[stay], rng)
    units = np.ceil(length * per_day * lognormal_mean1(rng, 0.3, len(stay)) / ctx.book.ddd_per_unit[item])
    order = np.lexsort((item, stay, day))
    keep = order[day[order] <= ctx.as_of]
    return Courses(
        stay[keep], item[keep], day[keep], units[keep], units[keep] * ctx.book.ddd_per_unit[item[keep]]
    )
