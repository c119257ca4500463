"""The demo hospital's staff and wards, and the department × campus units that carry volume.

Built once per warehouse from a fixed seed: the hospital is the same whatever ``--seed`` draws
for its patients. Doctors are spread over units in proportion to workload (clinic visits,
emergency visits and the inpatient census), wards over units with inpatient departments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.calibration import ADMISSIONS_PER_DAY, CLINIC_VISITS_PER_DAY, EMERGENCY_VISITS_PER_DAY
from indicators.demo.case_types import CASE_TYPES
from indicators.demo.dimensions import CAMPUS_CODES, CAMPUS_NAMES, DEPARTMENTS
from indicators.demo.names import unique_names
from indicators.demo.sampling import DIMENSION_SEED, DIMENSIONS, GroupSampler, rng_for

TITLES = ("主任医师", "副主任医师", "主治医师", "住院医师")
_TITLE_SHARES = np.array([0.13, 0.22, 0.37, 0.28])
N_DOCTORS = 420
MIN_WARD_CENSUS = 8.0
_CHINESE_NUMBERS = "一二三四"


@dataclass(frozen=True)
class Units:
    """Department × campus pairs and their share of clinic, emergency and inpatient volume."""

    dept: np.ndarray
    campus: np.ndarray
    clinic: np.ndarray  # shares, each sums to 1
    emergency: np.ndarray
    inpatient: np.ndarray

    def __len__(self) -> int:
        return len(self.dept)


def build_units() -> Units:
    rows = [
        (
            d,
            CAMPUS_CODES.index(c),
            w * dept.clinic_weight,
            w * dept.emergency_weight,
            w * dept.inpatient_weight,
        )
        for d, dept in enumerate(DEPARTMENTS)
        if dept.clinical
        for c, w in dept.campuses.items()
    ]
    a = np.array(rows, dtype=np.float64)
    # A unit too small for a ward of its own (under ~8 patients at scale 1) sends its inpatients
    # to the department's main unit (本部), which is listed first.
    census = a[:, 4] / a[:, 4].sum() * ADMISSIONS_PER_DAY * mean_case_los()[a[:, 0].astype(np.int64)]
    for i in np.flatnonzero((census > 0) & (census < MIN_WARD_CENSUS)):
        main = np.flatnonzero(a[:, 0] == a[i, 0])[0]
        if main != i:
            a[main, 4] += a[i, 4]
            a[i, 4] = 0.0
    return Units(
        dept=a[:, 0].astype(np.int64), campus=a[:, 1].astype(np.int64),
        clinic=a[:, 2] / a[:, 2].sum(), emergency=a[:, 3] / a[:, 3].sum(), inpatient=a[:, 4] / a[:, 4].sum(),
    )  # fmt: skip


def mean_case_los() -> np.ndarray:
    """Weighted base LOS of each department's case types (0 without inpatients)."""
    out = np.zeros(len(DEPARTMENTS))
    for d in range(len(DEPARTMENTS)):
        cases = [c for c in CASE_TYPES if c.dept == d]
        if cases:
            out[d] = sum(c.los * c.weight for c in cases) / sum(c.weight for c in cases)
    return out


@dataclass(frozen=True)
class Staff:
    code: list[str]
    name: list[str]
    unit: np.ndarray
    title: np.ndarray  # index into TITLES
    outpatient: GroupSampler  # unit -> doctor seeing a visit
    attending: GroupSampler  # unit -> 主治医师 of a stay (主治医师 or above)
    senior: GroupSampler  # unit -> surgeon of a level 3-4 operation (副主任医师 or above)


def build_staff(units: Units) -> Staff:
    rng = rng_for(DIMENSION_SEED, DIMENSIONS, 1)
    census = units.inpatient * ADMISSIONS_PER_DAY * mean_case_los()[units.dept]
    workload = (
        units.clinic * CLINIC_VISITS_PER_DAY / 30
        + units.emergency * EMERGENCY_VISITS_PER_DAY / 25
        + census / 7
    )
    active = workload > 0
    count = np.where(active, 2, 0) + np.floor(workload / workload.sum() * (N_DOCTORS - 2 * active.sum()))
    short = N_DOCTORS - int(count.sum())
    count[np.argsort(-workload)[:short]] += 1  # largest units absorb the rounding
    unit = np.repeat(np.arange(len(units)), count.astype(np.int64))
    title = rng.choice(len(TITLES), size=len(unit), p=_TITLE_SHARES)
    for u in np.unique(unit):  # every unit needs a senior doctor for its level 3-4 operations
        members = np.flatnonzero(unit == u)
        if title[members].min() > 1:
            title[members[0]] = 1
        title[members] = np.sort(title[members])
    male = rng.random(len(unit)) < 0.6
    names = unique_names(rng, len(unit), male)

    def sampler(weight_by_title: np.ndarray) -> GroupSampler:
        blocks = []
        for u in range(len(units)):
            members = np.flatnonzero(unit == u)
            if len(members) == 0:
                members = np.array([0])  # unit without doctors is never sampled
            blocks.append((weight_by_title[title[members]][None, :], members))
        return GroupSampler(blocks)

    return Staff(
        code=[f"D{i + 1:04d}" for i in range(len(unit))], name=names, unit=unit, title=title,
        outpatient=sampler(np.array([1.3, 1.2, 1.0, 0.6])),
        attending=sampler(np.array([1.0, 1.0, 1.0, 0.0])),
        senior=sampler(np.array([1.0, 1.0, 0.15, 0.0])),
    )  # fmt: skip


@dataclass(frozen=True)
class Wards:
    code: list[str]
    name: list[str]
    unit: np.ndarray
    by_unit: GroupSampler  # unit -> ward of an admission


def build_wards(units: Units) -> Wards:
    """One ward per inpatient unit, two where the census at scale 1 exceeds about 30 beds."""
    census = units.inpatient * ADMISSIONS_PER_DAY * mean_case_los()[units.dept]
    codes, names, unit_of = [], [], []
    blocks = []
    for u in range(len(units)):
        dept = DEPARTMENTS[units.dept[u]]
        campus = CAMPUS_CODES[units.campus[u]]
        n = 0 if census[u] == 0 else (2 if census[u] > 30 else 1)
        members = np.arange(len(codes), len(codes) + n) if n else np.array([0])  # never sampled if n = 0
        for k in range(n):
            codes.append(f"{campus}-{dept.code}-{k + 1}")
            names.append(f"{dept.name}{_CHINESE_NUMBERS[k]}病区（{CAMPUS_NAMES[campus]}）")
            unit_of.append(u)
        blocks.append((np.ones((1, len(members))), members))
    return Wards(code=codes, name=names, unit=np.array(unit_of), by_unit=GroupSampler(blocks))
