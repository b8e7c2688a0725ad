"""`Evaluator`: one dataset as a run sees it, which metrics apply to it, its feature space.

The real data and its cache live in `RealData`, the real-vs-real floors in `Floors` and the
metric runs in `kgan.evaluation.measure`; the `Evaluator` is the one object callers hold.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from kgan import features as features_lib
from kgan import metrics as metrics_lib
from kgan import toy
from kgan.errors import KganError
from kgan.evaluation import measure as measure_lib
from kgan.evaluation.defaults import (
    CLASS_METRICS,
    DEFAULT_METRICS,
    FEATURE_METRICS,
    MIN_PER_CLASS,
    MODE_METRICS,
    REFERENCE_NUM,
    TRAINING_METRICS,
)
from kgan.evaluation.floors import Floors
from kgan.evaluation.reference import RealData


def check_extractor(extractor: Any) -> features_lib.FeatureExtractor:
    """The extractor `extractor` names (or is), or a `KganError` saying why there is none: an
    unknown name (with the valid ones), or Inception-v3 not installed."""
    try:
        return features_lib.get(extractor)
    except KganError:
        raise
    except ValueError as e:
        raise KganError(str(e)) from None


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
        self.extractor = check_extractor(extractor) if extractor is not None else None
        self.classifier = self.extractor
        if self.extractor is not None and not self.extractor.num_classes:
            name = getattr(self.extractor, "classifier", None)
            self.classifier = features_lib.get(name) if name else None
        modes = features_lib.modes_for(dataset) if self.shape[-1:] == (3,) else None
        self.mode_classifier = features_lib.get_mode_classifier(modes) if modes else None
        self.real_data = RealData(self)
        self.floors = Floors(self.real_data)

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
        if self.mode_classifier is not None and self.kind == "image":
            found += MODE_METRICS
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
            "digits and mnist — for other images pass extractor 'inception' (after `kgan "
            "features install inception`, or with "
            f"{features_lib.INCEPTION_ENV} set to Inception-v3 weights)"
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

    def modes(self, samples: Any, batch_size: int = 256) -> np.ndarray:
        """The data mode of each image by the dataset's mode classifier (StackedMNIST: the
        digit triple 100r + 10g + b), for `stacked_modes`."""
        if self.mode_classifier is None:
            raise KganError(f"dataset {self.dataset!r} has no mode classifier")
        return self.mode_classifier.modes(np.asarray(samples, np.float32), batch_size)

    def mode_floor(self, result: dict, fake_modes: np.ndarray) -> dict:
        """`result` (a `stacked_modes` result) with held-out real data's modes and KL at the
        same N (`Floors.mode_floor`)."""
        return self.floors.mode_floor(result, fake_modes)

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

    # ------------------------------------------------------------------ real data and floors

    def reference(self) -> features_lib.ReferenceStats:
        """Features and statistics of the first `reference_num` real training examples
        (computed once, then cached on disk for image extractors; `RealData.reference`)."""
        return self.real_data.reference()

    def reference_labels(self) -> np.ndarray | None:
        """Classes of the reference rows, None when the data has no labels."""
        return self.real_data.reference_labels()

    def floor_features(self) -> np.ndarray | None:
        """Features of the held-out real split (`FLOOR_SPLIT`), None when there is none."""
        return self.real_data.floor_features()

    def floor_labels(self) -> np.ndarray | None:
        """Classes of the held-out rows of `floor_features()` (None: no floor or no labels)."""
        return self.real_data.floor_labels()

    def fid_floor(self, result: dict, fake_features: np.ndarray) -> dict:
        """`result` (a `fid` result) with the real-vs-real floor at the same N (`Floors`)."""
        return self.floors.fid_floor(result, fake_features)

    def pr_floor(self, result: dict, fake_features: np.ndarray) -> dict:
        """`result` (a `pr` result) with the real-vs-real floor at the same N and k."""
        return self.floors.pr_floor(result, fake_features)

    def class_floor(
        self,
        result: dict,
        fake_features: np.ndarray,
        fake_labels: np.ndarray,
        options: dict | None = None,
    ) -> dict:
        """`result` (a `class_diversity` result) with the values of real data at the same N."""
        return self.floors.class_floor(result, fake_features, fake_labels, options)

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
        """Runs `metrics` on generated `samples`; returns {metric: its result dict}
        (`kgan.evaluation.measure.measure` says what each result holds).

        Example:
            >>> evaluator.measure(samples, ["fid", "memorisation"])["memorisation"]
            {'median_ratio': 1.1, 'near_copy_share': 0.0, 'num_train': 1500, ...}
        """
        return measure_lib.measure(
            self, samples, metrics, labels=labels, options=options, progress=progress
        )
