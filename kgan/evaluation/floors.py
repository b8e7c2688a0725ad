"""Real-vs-real floors: what held-out real data scores at the same N, beside each result.

FID, precision/recall, class diversity and mode coverage all move with sample size, so a
generated value is only read against real data measured the same way: `n` held-out rows
(`FLOOR_SPLIT`) against the same reference, with the generated side cut to `n` too when it is
larger.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from kgan import metrics as metrics_lib
from kgan.errors import KganError
from kgan.evaluation.defaults import FLOOR_SPLIT
from kgan.evaluation.reference import RealData


class Floors:
    """The floors of one evaluator's real data, each real-vs-real value computed once.

    Example:
        >>> floors = Floors(RealData(evaluator))
        >>> floors.fid_floor(results["fid"], fake_features)["fid_ratio"]
    """

    def __init__(self, real: RealData) -> None:
        self.real = real
        self._floors: dict[tuple, dict] = {}  # real-vs-real values, by metric and N

    def fid_floor(self, result: dict, fake_features: np.ndarray) -> dict:
        """`result` (a `fid` result) with the real-vs-real floor at the same N beside it.

        The floor is the FID of `n` held-out real examples against the same reference, where
        `n = min(num_fake, held-out size)`; FID falls as N grows, so when there are more
        generated samples than held-out ones the generated side is also measured on a fixed
        subset of `n` (`fid_at_floor_num`), and `fid_ratio` compares those two equal-N numbers.
        Adds `fid_floor`, `fid_floor_num`, `fid_floor_split`, `fid_at_floor_num`, `fid_ratio`
        and `below_floor` (a ratio under 1: check memorisation and sample size).
        """
        held_out = self.real.floor_features()
        if held_out is None:
            return result
        reference = self.real.reference().features
        n = int(min(len(fake_features), len(held_out)))
        if n < 2:
            return result
        floor = metrics_lib.fid(reference, subset(held_out, n))["fid"]
        fake = (
            result["fid"]
            if n == len(fake_features)
            else metrics_lib.fid(reference, subset(fake_features, n))["fid"]
        )
        ratio = fake / floor if floor > 0 else (1.0 if fake == 0 else math.inf)
        return {
            **result,
            "fid_floor": float(floor),
            "fid_floor_num": n,
            "fid_floor_split": FLOOR_SPLIT,
            "fid_at_floor_num": float(fake),
            "fid_ratio": float(ratio) if math.isfinite(ratio) else None,
            "below_floor": bool(ratio < 1.0),
        }

    def pr_floor(self, result: dict, fake_features: np.ndarray) -> dict:
        """`result` (a `pr` result, at N = its `num_fake`) with the real-vs-real floor at the
        same N and k beside it: `n = min(N, held-out size)` held-out real examples against as
        many reference ones (the same reference subset the generated side used). When `n < N`
        the generated side is measured at `n` too. Adds `precision_floor`, `recall_floor`,
        `pr_floor_num`, `pr_floor_split`, `precision_at_floor_num`, `recall_at_floor_num` and
        `recall_ratio` (generated / real recall at `n`).
        """
        held_out = self.real.floor_features()
        k = int(result["k"])
        n = int(min(result["num_fake"], len(held_out))) if held_out is not None else 0
        if n <= k:
            return result
        reference = subset(self.real.reference().features, n)
        floor = self._floor_of(
            ("pr", n, k),
            lambda: metrics_lib.precision_recall(reference, subset(held_out, n), k=k),
        )
        at = (
            result
            if n == result["num_fake"]
            else metrics_lib.precision_recall(reference, subset(fake_features, n), k=k)
        )
        return {
            **result,
            "precision_floor": floor["precision"],
            "recall_floor": floor["recall"],
            "pr_floor_num": n,
            "pr_floor_split": FLOOR_SPLIT,
            "precision_at_floor_num": at["precision"],
            "recall_at_floor_num": at["recall"],
            "recall_ratio": _ratio(at["recall"], floor["recall"]),
        }

    def class_floor(
        self,
        result: dict,
        fake_features: np.ndarray,
        fake_labels: np.ndarray,
        options: dict | None = None,
    ) -> dict:
        """`result` (a `class_diversity` result) with the values of real data at the same N:
        `n = min(num_fake, held-out size)` held-out rows with their true classes against the
        same reference (`spread_ratio_floor`, `min_spread_ratio_floor`, `class_recall_floor`,
        and per class of `result["classes"]` `spread_ratio_floor_by_class`,
        `recall_floor_by_class`); when `n < num_fake` the generated side is measured on a
        fixed `n` of its rows too (`spread_ratio_at_floor_num`, `class_recall_at_floor_num`).
        Also `class_floor_num`, `class_floor_split`. Unchanged without labelled held-out data.
        """
        held_out, held_labels = self.real.floor_features(), self.real.floor_labels()
        if held_out is None or held_labels is None:
            return result
        n = int(min(len(fake_features), len(held_out)))
        options = dict(options or {})
        reference, reference_labels = self.real.reference().features, self.real.reference_labels()

        def at_n(x: np.ndarray, y: np.ndarray) -> dict:
            rows = keep(len(x), n)
            return metrics_lib.class_diversity(
                reference, reference_labels, x[rows], np.asarray(y)[rows], **options
            )

        try:
            key = ("class_diversity", n, tuple(sorted(options.items())))
            floor = self._floor_of(key, lambda: at_n(held_out, held_labels))
            at = result if n == len(fake_features) else at_n(fake_features, fake_labels)
        except KganError:  # too few rows of every class at this N: no floor
            return result
        return {
            **result,
            "spread_ratio_floor": floor["spread_ratio"],
            "min_spread_ratio_floor": floor["min_spread_ratio"],
            "class_recall_floor": floor["class_recall"],
            "spread_ratio_floor_by_class": _by_class(floor, "spread_ratio_by_class", result),
            "recall_floor_by_class": _by_class(floor, "recall_by_class", result),
            "class_floor_num": n,
            "class_floor_split": FLOOR_SPLIT,
            "spread_ratio_at_floor_num": at["spread_ratio"],
            "class_recall_at_floor_num": at["class_recall"],
        }

    def mode_floor(self, result: dict, fake_modes: np.ndarray) -> dict:
        """`result` (a `stacked_modes` result) with what held-out real images score at the
        same N: the modes of the first `n = min(num_fake, held-out size)` rows of
        `FLOOR_SPLIT`, read by the same mode classifier (so its errors are in the floor too).
        Adds `modes_floor`, `reverse_kl_floor`, `mode_floor_num`, `mode_floor_split` and the
        generated values at `n` (`modes_at_floor_num`, `reverse_kl_at_floor_num`: on a fixed
        `n` of the samples when there are more). Unchanged without a held-out split.
        """
        n = min(int(result["num_fake"]), self._held_out_count())
        if n < 1:
            return result
        num_modes = int(result["num_modes"])

        def real_modes() -> dict:
            ev = self.real.evaluator
            held_out = ev.modes(ev.real(n, FLOOR_SPLIT))
            return metrics_lib.stacked_modes(held_out, num_modes=num_modes)

        floor = self._floor_of(("stacked_modes", n, num_modes), real_modes)
        at = (
            result
            if n == result["num_fake"]
            else metrics_lib.stacked_modes(subset(np.asarray(fake_modes), n), num_modes=num_modes)
        )
        return {
            **result,
            "modes_floor": floor["modes"],
            "reverse_kl_floor": floor["reverse_kl"],
            "mode_floor_num": n,
            "mode_floor_split": FLOOR_SPLIT,
            "modes_at_floor_num": at["modes"],
            "reverse_kl_at_floor_num": at["reverse_kl"],
        }

    def _held_out_count(self) -> int:
        """Examples in the held-out split at the run's size, 0 when there is none (or it is
        the reference split itself)."""
        from kgan import data

        ev = self.real.evaluator
        if ev.split == FLOOR_SPLIT:
            return 0
        try:
            info = data.info(
                ev.dataset, split=FLOOR_SPLIT, image_size=ev.image_size,
                channels=ev.channels, data_dir=ev.data_dir,
            )
        except KganError:  # no held-out split: the result is reported without a floor
            return 0
        return int(info.num_examples or 0)

    def _floor_of(self, key: tuple, compute: Callable[[], dict]) -> dict:
        """A real-vs-real result, computed once per evaluator (the held-out data is fixed)."""
        if key not in self._floors:
            self._floors[key] = compute()
        return self._floors[key]


def keep(rows: int, count: int) -> np.ndarray:
    """The sorted indices of a fixed random `count` of `rows` (all when fewer)."""
    if rows <= count:
        return np.arange(rows)
    return np.sort(np.random.default_rng(0).choice(rows, count, replace=False))


def subset(rows: np.ndarray, count: int) -> np.ndarray:
    """A fixed random `count` of `rows` (all when fewer): the k-NN metrics (`pr`, `dc`) and
    the floors compare sets of equal size, since k-NN radii shrink as a set grows."""
    if len(rows) <= count:
        return rows
    return rows[keep(len(rows), count)]


def _by_class(floor: dict, key: str, result: dict) -> list:
    """`floor[key]` (per class of `floor["classes"]`) aligned with `result["classes"]`
    (None for a class the floor skipped)."""
    values = dict(zip(floor["classes"], floor[key]))
    return [values.get(c) for c in result["classes"]]


def _ratio(value: float, floor: float) -> float | None:
    """`value / floor`, or None when the floor is 0 (JSON has no infinity)."""
    if floor > 0:
        return float(value / floor)
    return 1.0 if value == 0 else None
