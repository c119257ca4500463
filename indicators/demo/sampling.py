"""Vectorised random helpers shared by the generators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Stream ids: every (seed, stream, chunk) triple gets its own generator, so a chunk's rows never
# depend on how many random numbers another chunk used, and dimensions never depend on --seed.
DIMENSIONS = 1
PATIENTS = 2
OUTPATIENT = 3
ADMISSIONS = 4
INPATIENT_FEES = 5
DEFECTS = 6
BEDS = 7
DIMENSION_SEED = 20190101  # the hospital itself (names, wards, DRG norms) is the same for every seed


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def lognormal_mean1(rng: np.random.Generator, sigma: float | np.ndarray, size: int) -> np.ndarray:
    """Log-normal noise with mean exactly 1 (median below 1)."""
    sigma = np.asarray(sigma, dtype=np.float64)
    return np.exp(rng.normal(-0.5 * sigma**2, sigma, size))


def bounded_normal(
    rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Normal draws; those outside [lo, hi] are redrawn uniformly inside (no spikes at the bounds)."""
    x = rng.normal(mean, sd)
    outside = (x < lo) | (x > hi)
    x[outside] = rng.uniform(np.broadcast_to(lo, x.shape)[outside], np.broadcast_to(hi, x.shape)[outside])
    return x


def expand_counts(counts: np.ndarray) -> np.ndarray:
    """Flat cell index repeated by its count: [2, 0, 1] -> [0, 0, 2]."""
    flat = counts.ravel()
    return np.repeat(np.arange(flat.size), flat)


def repeat_with_position(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner and position of each of ``counts[i]`` children of every i: [2, 1] -> [0, 0, 1], [0, 1, 0]."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)


class GroupSampler:
    """Weighted choice of one member within a group, for millions of draws in one call.

    Groups are numbered 0..n-1 in the order of the blocks; within group g the cumulative weights
    are stored as g + (0, 1], so one ``searchsorted`` over the flat array serves every group.
    """

    def __init__(self, blocks: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """``blocks``: (weights[groups_in_block, k], members[k]) pairs, in group order."""
        cums, members = [], []
        first = 0
        for weights, block_members in blocks:
            w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
            w = np.where(w.sum(axis=1, keepdims=True) > 0, w, 1.0)  # empty group: uniform
            cum = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
            cum[:, -1] = 1.0
            cums.append((cum + np.arange(first, first + len(w))[:, None]).ravel())
            members.append(np.tile(np.asarray(block_members), len(w)))
            first += len(w)
        self.cum = np.concatenate(cums)
        self.members = np.concatenate(members)
        self.n_groups = first

    def sample(self, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(len(groups))
        return self.members[np.searchsorted(self.cum, groups + u, side="right")]


def choice_by_group(weights: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Column index drawn with the probabilities of row ``groups`` of a small weight matrix."""
    sampler = GroupSampler([(weights, np.arange(weights.shape[1]))])
    return sampler.sample(groups, rng)
