"""Fee lines: splitting an encounter's budget into lines, pricing them, the fund's share.

Every encounter gets a budget (yuan) per revenue part; the budget is split over a few lines
whose fee classes follow the department's profile, and each line gets a charge item whose
price suits its amount (a CT line is not billed as 300 blood counts), so that
``amount = quantity × unit_price`` holds on every line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indicators.demo.charge_items import ITEMS
from indicators.demo.dimensions import CLASS_GROUP, DEPARTMENTS, FEE_CLASS_CODES
from indicators.demo.sampling import GroupSampler, lognormal_mean1

N_CLASSES = len(FEE_CLASS_CODES)
# Typical size (yuan) of one line of each class, and the quantity a line of that class usually has.
LINE_SIZE = np.array([50, 25, 15, 20, 200, 60, 250, 120, 300, 400, 80, 60,
                      60, 50, 40, 300, 500, 700, 900, 300, 8, 20, 150, 20], dtype=np.float64)  # fmt: skip
TYPICAL_QTY = np.array([3, 2, 3, 3, 1, 1.2, 1, 1, 1.5, 1, 3, 3,
                        2.5, 2, 120, 2, 2, 2, 1.5, 2, 3, 4, 2, 1.5])  # fmt: skip
_BIN_WIDTH, _BIN_LOW, N_BINS = 0.35, np.log(0.5), 40

# Share of a line the insurance fund pays: [inpatient?][insurance][revenue group]; revenue groups
# are 医疗服务, 检查, 化验, 药品, 卫生材料, 血液制品, 其他 (dimensions.REVENUE_GROUPS).
_FUND_SHARE = np.array([
    [[0.55, 0.6, 0.6, 0.62, 0.45, 0.5, 0.3], [0.42, 0.45, 0.45, 0.5, 0.35, 0.4, 0.2],
     [0.0] * 7, [0.35, 0.35, 0.35, 0.4, 0.3, 0.3, 0.2]],
    [[0.85, 0.85, 0.88, 0.82, 0.65, 0.8, 0.5], [0.7, 0.72, 0.75, 0.68, 0.5, 0.65, 0.4],
     [0.0] * 7, [0.5, 0.5, 0.5, 0.5, 0.4, 0.45, 0.3]],
])  # fmt: skip
_HIGH_VALUE_FUND = 0.7  # 高值耗材 carry a personal co-payment first (先行自付)

# Plausible mis-codings for the fee-class defect: each class -> the class it is confused with.
CONFUSED_CLASS = np.array([FEE_CLASS_CODES.index(c) for c in (
    "F04", "F09", "F02", "F24", "F06", "F08", "F08", "F07", "F02", "F09", "F09", "F09",
    "F14", "F13", "F14", "F17", "F18", "F17", "F17", "F13", "F22", "F23", "F22", "F04")])  # fmt: skip


def _affinity(dept_tags: tuple[str, ...], item_tags: tuple[str, ...]) -> float:
    if set(dept_tags) & set(item_tags):
        return 6.0
    return 1.0 if "general" in item_tags else 0.08


@dataclass(frozen=True)
class ItemBook:
    """The charge items as arrays, with the samplers that pick an item for a line."""

    code: list[str]
    price: np.ndarray
    fee_class: np.ndarray
    exec_dept: np.ndarray  # department index, -1: the ordering department
    high_value: np.ndarray
    ddd_per_unit: np.ndarray  # NaN for non-antibiotics
    flexible: GroupSampler  # group (class, dept, amount bin) -> item
    antibiotic: GroupSampler  # group dept -> antibacterial item for a course


def build_item_book() -> ItemBook:
    dept_names = [d.name for d in DEPARTMENTS]
    cls = np.array([FEE_CLASS_CODES.index(i.fee_class) for i in ITEMS])
    price = np.array([i.price for i in ITEMS])
    affinity = np.array([[_affinity(d.tags, i.tags) for i in ITEMS] for d in DEPARTMENTS])
    bin_mid = np.exp(_BIN_LOW + (np.arange(N_BINS) + 0.5) * _BIN_WIDTH)
    weight = np.array([i.weight for i in ITEMS])
    high_value = np.array([i.high_value for i in ITEMS])
    blocks = []
    for c in range(N_CLASSES):
        # High-value materials come only with the operations that use them (inpatient_fees.py).
        members = np.flatnonzero((cls == c) & (weight > 0) & ~high_value)
        if len(members) == 0:
            members = np.flatnonzero(cls == c)
        base = np.array([max(ITEMS[m].weight, 1e-3) for m in members])
        misfit = np.log(bin_mid[:, None] / (price[members][None, :] * TYPICAL_QTY[c]))
        kernel = np.exp(-0.5 * (misfit / 0.8) ** 2) + 1e-9
        w = affinity[:, members][:, None, :] * kernel[None, :, :] * base  # dept, bin, item
        blocks.append((w.reshape(-1, len(members)), members))
    abx = np.flatnonzero([i.antibiotic for i in ITEMS])
    abx_w = affinity[:, abx] * np.array([ITEMS[a].weight for a in abx])
    return ItemBook(
        code=[i.code for i in ITEMS], price=price, fee_class=cls,
        exec_dept=np.array([dept_names.index(i.exec_dept) if i.exec_dept else -1 for i in ITEMS]),
        high_value=high_value,
        ddd_per_unit=np.array([i.ddd_per_unit if i.antibiotic else np.nan for i in ITEMS]),
        flexible=GroupSampler(blocks), antibiotic=GroupSampler([(abx_w, abx)]),
    )  # fmt: skip


def line_probabilities(money_shares: np.ndarray) -> np.ndarray:
    """Class probabilities of a line such that expected money follows ``money_shares`` (rows)."""
    p = money_shares / LINE_SIZE[None, :]
    return p / p.sum(axis=1, keepdims=True)


@dataclass
class Lines:
    """Fee lines of a batch of encounters (``enc`` indexes the batch)."""

    enc: np.ndarray
    item: np.ndarray
    quantity: np.ndarray
    amount: np.ndarray
    day: np.ndarray

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        return Lines(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("enc", "item", "quantity", "amount", "day")
            )
        )

    def take(self, keep: np.ndarray) -> Lines:
        return Lines(self.enc[keep], self.item[keep], self.quantity[keep], self.amount[keep], self.day[keep])

    def sort_by_encounter(self) -> Lines:
        return self.take(np.argsort(self.enc, kind="stable"))


def fixed_lines(
    book: ItemBook, enc: np.ndarray, item: np.ndarray, quantity: np.ndarray, day: np.ndarray
) -> Lines:
    quantity = quantity.astype(np.float64)
    return Lines(enc, item, quantity, np.round(quantity * book.price[item], 2), day)


def flexible_lines(
    rng: np.random.Generator, book: ItemBook, budget: np.ndarray, n_lines: np.ndarray,
    class_sampler: GroupSampler, profile: np.ndarray, dept: np.ndarray, max_units: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Split each encounter's ``budget`` over about ``n_lines`` priced lines; returns enc, item, quantity.

    ``profile`` is each encounter's row in ``class_sampler`` (its department's class mix);
    ``max_units`` × the class's typical quantity bounds a line's quantity: a larger allocation
    is split over several items of the class (a stay's lab money over several tests).
    """
    enc = np.repeat(np.arange(len(budget)), n_lines)
    cls = class_sampler.sample(profile[enc], rng)
    weight = LINE_SIZE[cls] * lognormal_mean1(rng, 0.6, len(enc))
    total = np.bincount(enc, weight, minlength=len(budget))
    alloc = np.maximum(budget[enc] * weight / total[enc], 0.5)
    item = _pick_items(rng, book, cls, alloc, dept[enc])
    cap = np.ceil(TYPICAL_QTY[cls] * max_units[enc])
    parts = np.clip(np.ceil(alloc / book.price[item] / cap), 1, 8).astype(np.int64)
    if (parts > 1).any():
        line = np.repeat(np.arange(len(enc)), parts)
        enc, cls, alloc, cap = enc[line], cls[line], alloc[line] / parts[line], cap[line]
        item = np.where(parts[line] > 1, _pick_items(rng, book, cls, alloc, dept[enc]), item[line])
    # Stochastic rounding keeps every budget unbiased: a 30-yuan allocation to a 60-yuan item
    # becomes one line half the time and no line otherwise.
    units = alloc / book.price[item]
    quantity = np.minimum(np.floor(units) + (rng.random(len(units)) < units - np.floor(units)), cap)
    keep = quantity >= 1
    return enc[keep], item[keep], quantity[keep]


def _pick_items(
    rng: np.random.Generator, book: ItemBook, cls: np.ndarray, alloc: np.ndarray, dept: np.ndarray
) -> np.ndarray:
    bins = np.clip(((np.log(alloc) - _BIN_LOW) / _BIN_WIDTH).astype(np.int64), 0, N_BINS - 1)
    return book.flexible.sample((cls * len(DEPARTMENTS) + dept) * N_BINS + bins, rng)


def fund_amounts(
    book: ItemBook, item: np.ndarray, amount: np.ndarray, insurance: np.ndarray, inpatient: bool
) -> np.ndarray:
    share = _FUND_SHARE[int(inpatient)][insurance, np.array(CLASS_GROUP)[book.fee_class[item]]]
    share = np.where(book.high_value[item], share * _HIGH_VALUE_FUND, share)
    return np.round(amount * share, 2)
