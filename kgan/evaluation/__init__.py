"""Measuring a generator against its dataset, during training and after it (`kgan evaluate`).

`kgan.metrics` holds the maths and `kgan.features` the extractors; this module joins them to
a dataset and a generator. An `Evaluator` knows one dataset as a run sees it (kind, image size,
channels), its feature space and the cached statistics of its real training data, and turns
generated samples into metric results. `evaluate` runs it on a run's saved generator and
writes the results into the run folder; the metric callback (`kgan.callbacks.EvaluateEvery`),
the health monitor and the closing memorisation audit of `kgan.training.train` use the same
`Evaluator`.

| data                                   | feature space                 | metrics                 |
| -------------------------------------- | ----------------------------- | ----------------------- |
| images with an extractor (`digits`,    | the extractor's features      | `fid`, `kid`, `pr`, `dc`, |
| `mnist`; any with `extractor=`)        |                               | `memorisation`, (`classifier_score`) |
| images without one (e.g. `cifar10`)    | none                          | none: pass `extractor="inception"` |
| vectors (`ring8`, `grid25`, arrays)    | the vectors themselves (`raw`)| `fid`, `kid`, `pr`, `dc`, `memorisation`, and `mode_coverage` for the toy mixtures |

Generated images are compared with the run's *training* split as the run loads it (same
image size and channels), both mapped to the extractor's input size the same way. The
reference is the split's first `reference_num` examples (default 10,000, all of `digits`);
the memorisation audit looks for near-copies among those same examples. Precision/recall
(`pr`) and density/coverage (`dc`) compare equal numbers of real and generated samples, and
every FID carries the real-vs-real floor at the same N (`Evaluator.fid_floor`).

Labelled data adds the metrics inside each class: `class_diversity` (spread and recall of
each class's samples against the real rows of that class; the classes are the ones a
conditional generator drew for, else the classifier's) and `class_balance` (each class's
share, by the classifier). `pr` and `class_diversity` carry real-vs-real floors too
(`Evaluator.pr_floor`, `Evaluator.class_floor`), from the held-out split and its labels.

Example:
    >>> evaluator = Evaluator("digits")
    >>> results = evaluator.measure(gan.generate(1000, seed=EVAL_SEED), ["fid", "pr"])
    >>> results["fid"]["fid"], results["pr"]["recall"]
    >>> evaluate(kgan.runs.open_run("saved_models", "digits"), num=5000)  # writes the run
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, Callable, Sequence

import numpy as np

from kgan import features as features_lib
from kgan import metrics as metrics_lib
from kgan import toy
from kgan.errors import KganError

#: Seed of the latents every evaluation draws (the sample grid uses 0, the monitor 1).
EVAL_SEED = 2
#: Real training examples the metrics compare with (the first ones of the split).
REFERENCE_NUM = 10_000
#: What `kgan evaluate` computes by default.
DEFAULT_METRICS = ("fid", "kid", "pr", "dc", "memorisation", "class_diversity", "class_balance")
#: What the metric callback computes during training (memorisation comes once, at the end).
TRAINING_METRICS = ("fid", "kid", "pr", "dc", "mode_coverage", "class_diversity", "class_balance")
#: Metric options during training: KID on 10 subsets of 500 (unbiased; ~0.1 s for digits).
TRAINING_OPTIONS = {"kid": {"num_subsets": 10, "subset_size": 500}}
#: The metrics that compare features of generated and real data.
FEATURE_METRICS = ("fid", "kid", "pr", "dc", "memorisation")
#: The metrics inside each class: they need labelled data (class_balance also a classifier).
CLASS_METRICS = ("class_diversity", "class_balance")
#: Generated samples per class below which the defaults leave the class metrics out.
MIN_PER_CLASS = 10
#: The held-out real split FID is measured against as the real-vs-real floor (when it exists).
FLOOR_SPLIT = "test"
#: The warning shown beside a FID below the equal-N real-vs-real floor.
BELOW_FLOOR_WARNING = "below real data: check memorisation and sample size"

#: How each metric's result becomes logged numbers: (logged name, key in the result).
_SCALARS = {
    "fid": (("fid", "fid"),),
    "kid": (("kid", "kid"),),
    "pr": (("precision", "precision"), ("recall", "recall")),
    "dc": (("density", "density"), ("coverage", "coverage")),
    "memorisation": (("memorisation", "near_copy_share"),),
    "classifier_score": (("classifier_score", "classifier_score"),),
    "class_diversity": (
        ("spread_ratio", "spread_ratio"),
        ("min_spread_ratio", "min_spread_ratio"),
        ("class_recall", "class_recall"),
    ),
    "class_balance": (("min_share", "min_share"), ("max_share", "max_share")),
    "mode_coverage": (
        ("modes", "modes"),
        ("high_quality", "high_quality"),
        ("reverse_kl", "reverse_kl"),
    ),
}


class Evaluator:
    """Metrics of generated samples against one dataset's real training data.

    Args:
        dataset, split, image_size, channels, data_dir: the data as the run loads it
            (`kgan.data` arguments); `split` is the reference split (the training one).
        extractor: `"auto"` (the dataset's default, `kgan.features.default_for`), an extractor
            name or instance, or None (no image metrics).
        reference_num: how many real examples (the split's first) to compare with.
        cache_dir: where the real features are cached (`kgan.features.reference_stats`).

    Example:
        >>> evaluator = Evaluator("mnist", image_size=32)
        >>> evaluator.available()
        ['class_balance', 'class_diversity', 'classifier_score', 'dc', 'fid', 'kid', ...]
        >>> evaluator.measure(samples, ["fid"])["fid"]
        {'fid': 2.1, 'num_real': 10000, 'num_fake': 1000, 'extractor': 'mnist_pooled', ...}
    """

    def __init__(
        self,
        dataset: str,
        *,
        split: str = "train",
        image_size: int | None = None,
        channels: int | None = None,
        data_dir: str | None = None,
        extractor: Any = "auto",
        reference_num: int = REFERENCE_NUM,
        cache_dir: str | None = None,
    ) -> None:
        from kgan import data

        if not isinstance(reference_num, int) or reference_num < 10:
            raise KganError(f"reference_num must be an integer >= 10, got {reference_num!r}")
        self.dataset = dataset
        self.split = split
        self.image_size = image_size
        self.channels = channels
        self.data_dir = data_dir
        self.cache_dir = cache_dir
        info = data.info(
            dataset, split=split, image_size=image_size, channels=channels, data_dir=data_dir
        )
        self.kind = info.kind
        self.shape = tuple(int(d) for d in info.shape)
        self.num_classes = int(info.num_classes) if info.num_classes else None
        count = info.num_examples or reference_num
        self.reference_num = int(min(reference_num, count))
        if extractor == "auto":
            extractor = features_lib.default_for(dataset) if self.kind == "image" else None
        try:
            self.extractor = features_lib.get(extractor) if extractor is not None else None
        except ValueError as e:
            raise KganError(str(e)) from None
        self.classifier = self.extractor
        if self.extractor is not None and not self.extractor.num_classes:
            name = getattr(self.extractor, "classifier", None)
            self.classifier = features_lib.get(name) if name else None
        self._reference = None
        self._floor: Any = None
        self._labels: dict[str, np.ndarray | None] = {}  # split -> classes of its rows
        self._fresh_labels: dict[str, np.ndarray] = {}  # read with the images, not yet cached
        self._floors: dict[tuple, dict] = {}  # real-vs-real values, by metric and N

    @classmethod
    def for_config(cls, config, **kwargs: Any) -> "Evaluator":
        """The evaluator of a run's data (`config` is its `kgan.config.RunConfig`)."""
        return cls(
            config.dataset,
            split=config.split,
            image_size=config.image_size,
            channels=config.channels,
            data_dir=config.data_dir,
            **kwargs,
        )

    # ------------------------------------------------------------------ what applies

    @property
    def feature_space(self) -> str | None:
        """The extractor's name, `"raw"` for vector data, None for images without one."""
        if self.extractor is not None:
            return self.extractor.name
        return "raw" if self.kind == "vector" else None

    @property
    def is_toy(self) -> bool:
        return self.dataset in toy.MIXTURES

    def available(self) -> list[str]:
        """The metrics that apply to this data, sorted."""
        found = []
        if self.feature_space is not None:
            found += FEATURE_METRICS
        if self.classifier is not None:
            found.append("classifier_score")
        if self.num_classes and self.feature_space is not None:
            found.append("class_diversity")
        if self.num_classes and self.classifies_data:
            found.append("class_balance")
        if self.is_toy:
            found.append("mode_coverage")
        return sorted(found)

    @property
    def classifies_data(self) -> bool:
        """Whether the classifier predicts the data's own classes (as many of them), so its
        top class can stand for a sample's class."""
        return self.classifier is not None and self.classifier.num_classes == self.num_classes

    def default_metrics(
        self, training: bool = False, *, conditional: bool = False, num: int | None = None
    ) -> list[str]:
        """What `kgan evaluate` (or, with `training`, the metric callback) computes here:
        the toy mixtures get mode coverage, everything else the feature metrics, and labelled
        data the class metrics when the samples' classes are known (`conditional`, or a
        classifier) and `num` samples give each class `MIN_PER_CLASS`."""
        if self.is_toy:
            return ["mode_coverage"]
        wanted = TRAINING_METRICS if training else DEFAULT_METRICS
        found = [m for m in wanted if m in self.available()]
        if not (conditional or self.classifies_data):
            found = [m for m in found if m != "class_diversity"]
        if num is not None and self.num_classes and num < MIN_PER_CLASS * self.num_classes:
            found = [m for m in found if m not in CLASS_METRICS]
        return found

    def why_not(self) -> str:
        """Why the image metrics do not apply (for notes and errors)."""
        return (
            f"no feature extractor applies to dataset {self.dataset!r}; kgan ships ones for "
            "digits and mnist — for other images pass extractor 'inception' with "
            f"{features_lib.INCEPTION_ENV} set to Inception-v3 weights"
        )

    def check(
        self,
        metrics: Sequence[str] | None,
        *,
        conditional: bool = False,
        num: int | None = None,
    ) -> list[str]:
        """`metrics` (default: `default_metrics(conditional=, num=)`) as a list, or a
        KganError saying which one does not apply and why (`conditional`: the samples come
        with the classes they were drawn for)."""
        if metrics is None:
            metrics = self.default_metrics(conditional=conditional, num=num)
        if isinstance(metrics, str):
            metrics = [m for m in metrics.split(",") if m.strip()]
        metrics = list(dict.fromkeys(m.strip() for m in metrics))
        if not metrics:
            raise KganError("no metrics requested")
        available = self.available()
        for name in metrics:
            if name not in metrics_lib.names():
                raise KganError(
                    f"unknown metric {name!r}; valid metrics: {', '.join(metrics_lib.names())}"
                )
            if name not in available:
                if name in FEATURE_METRICS and self.feature_space is None:
                    raise KganError(f"cannot compute {name}: {self.why_not()}")
                if name in CLASS_METRICS:
                    raise KganError(f"cannot compute {name}: {self._why_no_classes()}")
                raise KganError(
                    f"metric {name!r} does not apply to dataset {self.dataset!r}; "
                    f"available: {', '.join(available) or 'none'}"
                )
        if "class_diversity" in metrics and not (conditional or self.classifies_data):
            raise KganError(
                "cannot compute class_diversity: the samples' classes are unknown (the generator "
                f"is unconditional and the {self.feature_space!r} features have no classifier "
                f"of the data's {self.num_classes} classes); pass labels= or an extractor with one"
            )
        return metrics

    def _why_no_classes(self) -> str:
        if not self.num_classes:
            return f"dataset {self.dataset!r} has no class labels"
        if self.feature_space is None:
            return self.why_not()
        return (
            f"the {self.feature_space!r} features have no classifier of the data's "
            f"{self.num_classes} classes"
        )

    # ------------------------------------------------------------------ features

    def features(self, samples: Any, batch_size: int = 256) -> np.ndarray:
        """Generated (or real) samples of the run's data as rows of the feature space.

        Images are resized (bilinear, antialiased) and converted to the extractor's input
        size and channels when they differ; vectors are used as they are.
        """
        x = np.asarray(samples, np.float32)
        if self.extractor is None:
            if self.kind == "vector":
                return x.reshape(len(x), -1)
            raise KganError(self.why_not())
        return self.extractor.features(self._fit(x), batch_size=batch_size)

    def probabilities(self, samples: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities from the classifier of the feature space (the extractor itself,
        or the one it names in `classifier`), for `classifier_score`."""
        if self.extractor is None:
            raise KganError(self.why_not())
        if self.classifier is None:
            raise KganError(f"the {self.extractor.name!r} extractor has no classifier")
        return self.classifier.probabilities(self._fit(np.asarray(samples, np.float32)), batch_size)

    def _fit(self, images: np.ndarray) -> np.ndarray:
        h, w, c = self.extractor.image_shape
        if images.ndim != 4:
            return images
        if c is not None and images.shape[-1] != c:
            if c == 1 and images.shape[-1] == 3:
                from kgan.data.transforms import LUMA

                images = images @ np.array(LUMA, np.float32)[:, None]
            elif c == 3 and images.shape[-1] == 1:
                images = np.repeat(images, 3, axis=-1)
        if h is not None and w is not None and images.shape[1:3] != (h, w):
            import tensorflow as tf

            images = tf.image.resize(images, (h, w), method="bilinear", antialias=True).numpy()
        return np.clip(images, -1.0, 1.0)

    def reference(self) -> features_lib.ReferenceStats:
        """Features and statistics of the first `reference_num` real training examples
        (computed once, then cached on disk for image extractors)."""
        if self._reference is None:
            self._reference = self._load_reference()
        return self._reference

    def _load_reference(self) -> features_lib.ReferenceStats:
        if self.extractor is None:
            x = self.features(self._real_noting_labels(self.reference_num, self.split))
            mean, cov = metrics_lib.feature_stats(x)
            return features_lib.ReferenceStats(
                x, mean, cov, self.dataset, self.split, "raw", len(x)
            )
        return features_lib.reference_stats(
            self._cache_key(),
            self.extractor,
            lambda: self._fit(self._real_noting_labels(self.reference_num, self.split)),
            split=self.split,
            count=self.reference_num,
            cache_dir=self.cache_dir,
        )

    def floor_features(self) -> np.ndarray | None:
        """Features of the held-out real split (`FLOOR_SPLIT`, up to `reference_num`), the
        real-vs-real floor's other side; None when the data has no such split (or it is the
        reference split itself)."""
        if self._floor is None:
            self._floor = self._load_floor()
        return self._floor if isinstance(self._floor, np.ndarray) else None

    def _load_floor(self):
        from kgan import data

        if self.split == FLOOR_SPLIT or self.feature_space is None:
            return False
        try:
            info = data.info(
                self.dataset, split=FLOOR_SPLIT, image_size=self.image_size,
                channels=self.channels, data_dir=self.data_dir,
            )
            count = int(min(self.reference_num, info.num_examples or self.reference_num))
        except Exception:  # noqa: BLE001 - no held-out split: FID is reported without a floor
            return False
        if count < 2:
            return False
        if self.extractor is None:
            return self.features(self._real_noting_labels(count, FLOOR_SPLIT))
        return features_lib.reference_stats(
            self._cache_key(),
            self.extractor,
            lambda: self._fit(self._real_noting_labels(count, FLOOR_SPLIT)),
            split=FLOOR_SPLIT,
            count=count,
            cache_dir=self.cache_dir,
        ).features

    def fid_floor(self, result: dict, fake_features: np.ndarray) -> dict:
        """`result` (a `fid` result) with the real-vs-real floor at the same N beside it.

        The floor is the FID of `n` held-out real examples against the same reference, where
        `n = min(num_fake, held-out size)`; FID falls as N grows, so when there are more
        generated samples than held-out ones the generated side is also measured on a fixed
        subset of `n` (`fid_at_floor_num`), and `fid_ratio` compares those two equal-N numbers.
        Adds `fid_floor`, `fid_floor_num`, `fid_floor_split`, `fid_at_floor_num`, `fid_ratio`
        and `below_floor` (a ratio under 1: check memorisation and sample size).
        """
        held_out = self.floor_features()
        if held_out is None:
            return result
        reference = self.reference().features
        n = int(min(len(fake_features), len(held_out)))
        if n < 2:
            return result
        floor = metrics_lib.fid(reference, _subset(held_out, n))["fid"]
        fake = (
            result["fid"]
            if n == len(fake_features)
            else metrics_lib.fid(reference, _subset(fake_features, n))["fid"]
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
        held_out = self.floor_features()
        k = int(result["k"])
        n = int(min(result["num_fake"], len(held_out))) if held_out is not None else 0
        if n <= k:
            return result
        reference = _subset(self.reference().features, n)
        floor = self._floor_of(
            ("pr", n, k),
            lambda: metrics_lib.precision_recall(reference, _subset(held_out, n), k=k),
        )
        at = (
            result
            if n == result["num_fake"]
            else metrics_lib.precision_recall(reference, _subset(fake_features, n), k=k)
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
        held_out, held_labels = self.floor_features(), self.floor_labels()
        if held_out is None or held_labels is None:
            return result
        n = int(min(len(fake_features), len(held_out)))
        options = dict(options or {})
        reference, reference_labels = self.reference().features, self.reference_labels()

        def at_n(x: np.ndarray, y: np.ndarray) -> dict:
            keep = _keep(len(x), n)
            return metrics_lib.class_diversity(
                reference, reference_labels, x[keep], np.asarray(y)[keep], **options
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

    def _floor_of(self, key: tuple, compute: Callable[[], dict]) -> dict:
        """A real-vs-real result, computed once per evaluator (the held-out data is fixed)."""
        if key not in self._floors:
            self._floors[key] = compute()
        return self._floors[key]

    def real(self, limit: int, split: str | None = None) -> np.ndarray:
        """The first `limit` real examples of `split` (default: the evaluator's), at the run's
        size and channels: what the generator is compared with."""
        return self._load(limit, split, labels=False)

    def real_labelled(
        self, limit: int, split: str | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """`real(limit, split)` and the int classes of those rows (None: the data has none)."""
        if not self.num_classes:
            return self.real(limit, split), None
        return self._load(limit, split, labels=True)

    def _load(self, limit: int, split: str | None, *, labels: bool):
        from kgan import data

        return data.load_arrays(
            self.dataset,
            split=split or self.split,
            image_size=self.image_size,
            channels=self.channels,
            labels=labels,
            limit=limit,
            data_dir=self.data_dir,
        )

    def reference_labels(self) -> np.ndarray | None:
        """Classes of the reference rows (the first `reference_num` of the split), None when
        the data has no labels; cached on disk beside the reference features."""
        return self._split_labels(self.split, len(self.reference().features))

    def floor_labels(self) -> np.ndarray | None:
        """Classes of the held-out rows of `floor_features()` (None: no floor or no labels)."""
        held_out = self.floor_features()
        return None if held_out is None else self._split_labels(FLOOR_SPLIT, len(held_out))

    def _real_noting_labels(self, limit: int, split: str) -> np.ndarray:
        """`real(limit, split)`, keeping the classes read in the same pass for `_split_labels`
        (a cold cache then reads the data once)."""
        x, y = self.real_labelled(limit, split)
        if y is not None:
            self._fresh_labels[split] = y
        return x

    def _split_labels(self, split: str, count: int) -> np.ndarray | None:
        if split not in self._labels:
            self._labels[split] = self._load_labels(split, count) if self.num_classes else None
        return self._labels[split]

    def _load_labels(self, split: str, count: int) -> np.ndarray:
        path = self._labels_path(split, count)
        found = _read_labels(path, count, self.num_classes) if path is not None else None
        if found is not None:
            return found
        y = self._fresh_labels.pop(split, None)
        if y is None or len(y) != count:
            y = self.real_labelled(count, split)[1]
        y = np.asarray(y, np.int32)
        if path is not None:
            _write_labels(path, y)
        return y

    def _labels_path(self, split: str, count: int):
        """The labels' file beside the split's cached features (same key; None for `raw`)."""
        if self.extractor is None:
            return None
        stats = features_lib.cache_path(
            self._cache_key(), split, self.extractor, count, self.cache_dir
        )
        return stats.with_name(f"{stats.stem}.labels.npy")

    def _cache_key(self) -> str:
        """The cached statistics' name: dataset, size, channels and the data's version."""
        if getattr(self, "_key", None) is None:
            self._key = self._make_cache_key()
        return self._key

    def _make_cache_key(self) -> str:
        key = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.dataset)
        if self.image_size:
            key += f"-{self.image_size}px"
        if self.channels:
            key += f"-{self.channels}ch"
        from kgan import data

        version = data.version(self.dataset, self.data_dir)  # a new split: new statistics
        if version:
            key += f"-{version}"
        return key

    # ------------------------------------------------------------------ measuring

    def measure(
        self,
        samples: Any,
        metrics: Sequence[str] | None = None,
        *,
        labels: Any = None,
        options: dict | None = None,
        progress: Callable[[str, dict], None] | None = None,
    ) -> dict[str, dict]:
        """Runs `metrics` on generated `samples`; returns {metric: its result dict}.

        `labels` are the classes a conditional generator drew the samples for; without them
        the class metrics use the classifier's top class of each sample (`labels_from` in
        `class_diversity` says which). `pr` and `class_diversity` carry their real-vs-real
        floors (`pr_floor`, `class_floor`) as `fid` does.

        Every result records the feature space (`extractor`, `extractor_fingerprint`) and the
        sample counts (`num_real` or `num_train`, `num_fake`); `fid` also carries the
        real-vs-real floor at the same N and the ratio (`fid_floor`). `pr` and `dc` compare
        equal numbers of real and generated samples (a fixed random subset of the larger
        side), `class_diversity` equal numbers inside each class. `options` maps a metric to
        its keyword arguments (e.g. `{"kid": {"num_subsets": 10}}`); `progress(name, result)`
        is called after each metric.

        Example:
            >>> evaluator.measure(samples, ["fid", "memorisation"])["memorisation"]
            {'median_ratio': 1.1, 'near_copy_share': 0.0, 'num_train': 1500, ...}
        """
        metrics = self.check(metrics, conditional=labels is not None)
        options = options or {}
        samples = np.asarray(samples, np.float32)
        inputs: dict[str, Any] = {"dataset": self.dataset}
        if any(m in FEATURE_METRICS or m == "class_diversity" for m in metrics):
            reference = self.reference()
            inputs["real_features"] = inputs["train_features"] = reference.features
            inputs["fake_features"] = self.features(samples)
        classified = "class_diversity" in metrics and labels is None
        if classified or any(m in ("classifier_score", "class_balance") for m in metrics):
            inputs["fake_probabilities"] = self.probabilities(samples)
        if "class_diversity" in metrics:
            inputs["real_labels"] = self.reference_labels()
            inputs["fake_labels"] = (
                inputs["fake_probabilities"].argmax(1) if classified else np.asarray(labels)
            )
        if "mode_coverage" in metrics:
            inputs["fake_samples"] = samples
        results = {}
        for name in metrics:
            extractor = self._space_of(name)
            given = inputs
            if name in ("pr", "dc"):
                n = min(len(inputs["real_features"]), len(inputs["fake_features"]))
                given = {
                    **inputs,
                    "real_features": _subset(inputs["real_features"], n),
                    "fake_features": _subset(inputs["fake_features"], n),
                }
            results[name] = metrics_lib.compute(
                name, extractor=extractor, options=options.get(name), **given
            )
            if name == "fid":
                results[name] = self.fid_floor(results[name], inputs["fake_features"])
            if name == "pr":
                results[name] = self.pr_floor(results[name], inputs["fake_features"])
            if name == "class_diversity":
                source = self.classifier.name if classified else "generator"
                results[name] = self.class_floor(
                    {**results[name], "labels_from": source},
                    inputs["fake_features"],
                    inputs["fake_labels"],
                    options.get(name),
                )
            if progress is not None:
                progress(name, results[name])
        return results

    def _space_of(self, name: str):
        """The extractor a metric's result records: the classifier for the class-probability
        metrics, the feature space (`"raw"` for vectors) for the feature ones."""
        if name in ("classifier_score", "class_balance"):
            return self.classifier
        if name in FEATURE_METRICS or name == "class_diversity":
            return self.extractor if self.extractor is not None else "raw"
        return None


def _keep(rows: int, count: int) -> np.ndarray:
    """The sorted indices of a fixed random `count` of `rows` (all when fewer)."""
    if rows <= count:
        return np.arange(rows)
    return np.sort(np.random.default_rng(0).choice(rows, count, replace=False))


def _subset(rows: np.ndarray, count: int) -> np.ndarray:
    """A fixed random `count` of `rows` (all when fewer): the k-NN metrics (`pr`, `dc`) and
    the floors compare sets of equal size, since k-NN radii shrink as a set grows."""
    if len(rows) <= count:
        return rows
    return rows[_keep(len(rows), count)]


def _read_labels(path, count: int, num_classes: int) -> np.ndarray | None:
    """Cached labels, or None when the file is missing or not `count` classes in range."""
    try:
        y = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if y.shape != (count,) or not np.issubdtype(y.dtype, np.integer):
        return None
    if count and (y.min() < 0 or y.max() >= num_classes):
        return None
    return y.astype(np.int32)


def _write_labels(path, labels: np.ndarray) -> None:
    """Writes labels as .npy through a temporary file (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, labels)
    os.replace(tmp, path)


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


# ----------------------------------------------------------------------------- results


def scalars(results: dict[str, dict]) -> dict[str, float]:
    """The numbers a run logs from `measure`'s results: `fid`, `kid`, `precision`,
    `recall`, `density`, `coverage`, `memorisation` (the near-copy share), `classifier_score`,
    `spread_ratio`, `min_spread_ratio`, `class_recall` (class_diversity), `min_share`,
    `max_share` (class_balance), and for the toy mixtures `modes`, `high_quality`, `reverse_kl`.

    Example:
        >>> scalars({"pr": {"precision": 0.8, "recall": 0.6, "k": 3}})
        {'precision': 0.8, 'recall': 0.6}
    """
    found = {}
    for metric, result in results.items():
        for logged, key in _SCALARS.get(metric, ((metric, metric),)):
            if key in result:
                found[logged] = float(result[key])
    return found


def record(run, results: dict[str, dict], *, epoch: int | None, step: int | None) -> None:
    """Writes `measure`'s results into the run: one `metrics.jsonl` line per logged number
    (with the sample counts, the feature space and the metric's other outputs as details)
    and the model card's latest values."""
    for metric, result in results.items():
        pairs = _SCALARS.get(metric, ((metric, metric),))
        siblings = {key for _, key in pairs}
        details = {
            k: v
            for k, v in result.items()
            if k not in siblings and k not in ("num_fake", "num_samples", "extractor")
        }
        for logged, key in pairs:
            if key not in result:
                continue
            run.record_metric(
                logged,
                float(result[key]),
                epoch=epoch,
                step=step,
                num_samples=result.get("num_fake", result.get("num_samples")),
                feature_extractor=result.get("extractor"),
                **details,
            )


# ----------------------------------------------------------------------------- after training


def sample_labels(num: int, num_classes: int | None) -> np.ndarray | None:
    """The classes `generate_chunks` (like `kgan.GAN.generate`) draws `num` samples for:
    0, 1, ..., K-1 in turn; None for an unconditional generator (`kgan.sampling.labels_for`)."""
    from kgan import sampling

    return sampling.labels_for(num, num_classes)


def generate_chunks(generator, num: int, seed: int, num_classes=None, batch_size: int = 256):
    """`num` samples of a saved sampling generator (`Run.load_generator()`), batch by batch:
    `kgan.sampling.draw_batches`, the path `kgan.GAN.generate(num, seed)` takes."""
    from kgan import sampling

    return sampling.draw_batches(
        generator, num, seed, num_classes=num_classes, batch_size=batch_size
    )


def evaluate(
    run,
    metrics: Sequence[str] | str | None = None,
    num: int = 5000,
    *,
    extractor: Any = "auto",
    seed: int = EVAL_SEED,
    reference_num: int = REFERENCE_NUM,
    options: dict | None = None,
    cache_dir: str | None = None,
    progress: bool = True,
    write: bool = True,
) -> dict[str, dict]:
    """Evaluates a run's sampling generator (EMA weights when on) on `num` samples and, with
    `write`, records the results in its folder (`metrics.jsonl`, the model card's `metrics`).

    Args:
        run: a `kgan.runs.Run` (`kgan.runs.open_run(root, name)`), not being trained.
        metrics: names or a comma-separated string; default: fid, kid, pr, dc and
            memorisation for images with an extractor, mode_coverage for the toy mixtures, and
            the class metrics for labelled data (conditional runs, or a classifier of the
            classes).
        num: generated samples (conditional runs: classes in turn, and the class metrics
            get those classes).
        extractor: "auto" (the dataset's default), a `kgan.features` name, or an instance.
        seed: latent seed of the samples (the same one the metric callback uses).
        reference_num: real training examples to compare with (the split's first).
        options: per-metric keyword arguments, e.g. `{"kid": {"num_subsets": 50}}`.
        progress: show a progress bar (samples, then one step per metric).

    Returns:
        {metric: result dict}, as `Evaluator.measure`.

    Example:
        >>> results = evaluate(open_run("saved_models", "digits"), ["fid", "memorisation"], 5000)
        >>> results["fid"]["fid"], results["memorisation"]["near_copy_share"]
    """
    import keras

    from kgan import runs as runs_lib
    from kgan.config import RunConfig

    if not isinstance(num, int) or num < 10:
        raise KganError(f"num must be an integer >= 10, got {num!r}")
    if run.error:
        raise runs_lib.RunError(run.error)
    if run.status == "running":
        raise KganError(
            f"run {run.name!r} is being trained right now; evaluate it when training ends "
            "(its metric callback measures it meanwhile)"
        )
    try:
        config = RunConfig.from_dict(run.config()["run"])
    except (KeyError, TypeError) as e:
        raise runs_lib.RunError(f"{run.config_path} has no valid 'run' section ({e})") from None
    evaluator = Evaluator.for_config(
        config, extractor=extractor, reference_num=reference_num, cache_dir=cache_dir
    )
    meta = run.metadata()
    num_classes = meta.get("num_classes") if meta.get("conditional") else None
    metrics = evaluator.check(metrics, conditional=bool(num_classes), num=num)
    generator = run.load_generator()

    batch = 250
    names = [logged for m in metrics for logged, _ in _SCALARS.get(m, ((m, m),))]
    bar = keras.utils.Progbar(
        math.ceil(num / batch) + 1 + len(metrics),
        verbose=int(progress),
        stateful_metrics=names,
        unit_name="step",
    )
    chunks = []
    for chunk in generate_chunks(generator, num, seed, num_classes, batch):
        chunks.append(chunk)
        bar.add(1)
    samples = np.concatenate(chunks)
    if any(m in FEATURE_METRICS for m in metrics):
        evaluator.reference()
    bar.add(1)

    def step(name, result):
        bar.add(1, values=[(k, v) for k, v in scalars({name: result}).items()])

    labels = sample_labels(num, num_classes)  # the classes generate_chunks drew for
    results = evaluator.measure(samples, metrics, labels=labels, options=options, progress=step)
    if write:
        record(run, results, epoch=meta.get("epochs_done"), step=meta.get("steps_done"))
    return results


__all__ = [
    "BELOW_FLOOR_WARNING",
    "DEFAULT_METRICS",
    "EVAL_SEED",
    "Evaluator",
    "REFERENCE_NUM",
    "TRAINING_OPTIONS",
    "evaluate",
    "generate_chunks",
    "sample_labels",
    "record",
    "scalars",
]
