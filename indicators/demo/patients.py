"""The patient master index (dim_patient) and the choice of a patient of the right age and sex.

Births are spread evenly over 105 years; for an encounter the generator draws an age from the
department's age profile and takes the patient born closest to that many years earlier, so
ages, birth dates and departments agree (儿科 patients are children, 妇产科 patients women).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from indicators.demo.calendar import age_in_years
from indicators.demo.names import name_array
from indicators.demo.sampling import PATIENTS, rng_for

POOL_PER_SCALE = 650_000
_YEAR = 365.2425
# Insurance mix (ZG, JM, ZF, QT) of children and adults; overall about 45 / 35 / 15 / 5.
_INSURANCE_CHILD = np.array([0.02, 0.73, 0.2, 0.05])
_INSURANCE_ADULT = np.array([0.52, 0.29, 0.14, 0.05])


@dataclass
class PatientPool:
    ids: pa.Array  # patient_id strings, by pool index
    male: np.ndarray
    birth: np.ndarray  # day numbers
    insurance: np.ndarray  # index into INSURANCE_CODES
    by_sex: tuple[np.ndarray, np.ndarray]  # pool indexes of women / men, sorted by birth

    def pick(self, at: np.ndarray, age: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pool index and exact age (years) of a patient of about ``age`` on day ``at``."""
        target = at - age * _YEAR
        out = np.empty(len(at), dtype=np.int64)
        for sex in (0, 1):
            rows = np.flatnonzero(male == bool(sex))
            order = self.by_sex[sex]
            births = self.birth[order]
            pos = np.clip(np.searchsorted(births, target[rows]), 0, len(order) - 1)
            pos -= (births[pos] > at[rows]) & (pos > 0)  # never born after the encounter
            out[rows] = order[pos]
        return out, age_in_years(self.birth[out], at)


def build_pool(seed: int, scale: float, last_day: int) -> PatientPool:
    rng = rng_for(seed, PATIENTS)
    n = max(5_000, round(POOL_PER_SCALE * scale))
    birth = np.sort(rng.integers(last_day - int(105 * _YEAR), last_day - 30, n))
    male = rng.random(n) < 0.5
    child = (last_day - birth) < 18 * _YEAR
    insurance = np.where(child, rng.choice(4, n, p=_INSURANCE_CHILD), rng.choice(4, n, p=_INSURANCE_ADULT))
    number = rng.permutation(n) + 1_000_001
    ids = pc.binary_join_element_wise("P", pa.array(number).cast(pa.string()), "")
    order = (np.flatnonzero(~male), np.flatnonzero(male))  # birth is sorted, so these are too
    return PatientPool(ids=ids, male=male, birth=birth, insurance=insurance, by_sex=order)


def patient_table(pool: PatientPool, seed: int) -> dict[str, object]:
    rng = rng_for(seed, PATIENTS, 1)
    return {
        "patient_id": pool.ids,
        "patient_name": name_array(rng, pool.male),
        "sex": pa.array(np.where(pool.male, "男", "女")),
        "birth_date": pool.birth,
    }
