"""Everything the fact generators share: the hospital, the patient pool and the samplers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from indicators.demo.calendar import to_day
from indicators.demo.drg import DrgTable, build_drgs
from indicators.demo.fees import ItemBook, build_item_book, line_probabilities
from indicators.demo.hospital import Staff, Units, Wards, build_staff, build_units, build_wards
from indicators.demo.patients import PatientPool, build_pool
from indicators.demo.profiles import INPATIENT_DRUG, INPATIENT_OTHER, OUTPATIENT_DRUG, OUTPATIENT_OTHER
from indicators.demo.sampling import GroupSampler

WARM_UP_DAYS = 60  # admissions start this long before `start` so the first census is realistic


def _class_sampler(money_shares: np.ndarray) -> GroupSampler:
    return GroupSampler([(line_probabilities(money_shares), np.arange(money_shares.shape[1]))])


@dataclass(frozen=True)
class Context:
    seed: int
    scale: float
    start: int  # day numbers
    as_of: int
    units: Units
    staff: Staff
    wards: Wards
    pool: PatientPool
    book: ItemBook
    drgs: DrgTable
    op_drug_classes: GroupSampler  # profile row = department
    op_other_classes: GroupSampler
    ip_drug_classes: GroupSampler
    ip_other_classes: GroupSampler  # row = department (+ n_departments for operated stays)

    @property
    def first_admission(self) -> int:
        return self.start - WARM_UP_DAYS


def build_context(seed: int, scale: float, start: date, as_of: date) -> Context:
    units = build_units()
    return Context(
        seed=seed, scale=scale, start=to_day(start), as_of=to_day(as_of), units=units,
        staff=build_staff(units), wards=build_wards(units), pool=build_pool(seed, scale, to_day(as_of)),
        book=build_item_book(), drgs=build_drgs(),
        op_drug_classes=_class_sampler(OUTPATIENT_DRUG), op_other_classes=_class_sampler(OUTPATIENT_OTHER),
        ip_drug_classes=_class_sampler(INPATIENT_DRUG), ip_other_classes=_class_sampler(INPATIENT_OTHER),
    )  # fmt: skip
