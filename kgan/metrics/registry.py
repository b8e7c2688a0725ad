"""The metric registry: metrics by name, the inputs each declares, and `compute` to run one.

A metric is a function of keyword inputs (the `INPUTS` vocabulary) returning a plain dict of
numbers; `register` files it under a name, so callers holding some inputs can run any by name.
"""

from __future__ import annotations

from typing import Any, Callable

from kgan.errors import KganError
from kgan.registry import Registry

INPUTS = (
    "real_features",
    "fake_features",
    "train_features",
    "fake_probabilities",
    "fake_samples",
    "dataset",
    "real_labels",
    "fake_labels",
    "fake_modes",
)

_METRICS: Registry = Registry("metric")


def register(name: str, inputs: tuple[str, ...]) -> Callable[[Callable], Callable]:
    """Registers a metric function under `name`, declaring the inputs it takes by keyword.

    Example:
        >>> @register("mean_gap", inputs=("real_features", "fake_features"))
        ... def mean_gap(real_features, fake_features):
        ...     return {"mean_gap": float(np.abs(real_features.mean() - fake_features.mean()))}
    """
    unknown = set(inputs) - set(INPUTS)
    if unknown:
        raise ValueError(f"Unknown metric inputs {sorted(unknown)}; valid: {', '.join(INPUTS)}")

    def decorator(fn: Callable) -> Callable:
        fn.inputs = tuple(inputs)
        return _METRICS.register(name)(fn)

    return decorator


def names() -> list[str]:
    """The registered metric names."""
    return _METRICS.names()


def get(identifier: str | Callable) -> Callable[..., dict]:
    """The metric function registered under a name; the error lists the valid names.

    Example:
        >>> get("fid").inputs
        ('real_features', 'fake_features')
    """
    if isinstance(identifier, str):
        return _METRICS.cls(identifier)
    if callable(identifier) and getattr(identifier, "name", None) in _METRICS.names():
        return identifier
    raise ValueError(f"Expected a metric name ({', '.join(names())}), got {identifier!r}")


def compute(
    identifier: str | Callable,
    extractor: Any = None,
    options: dict | None = None,
    **inputs: Any,
) -> dict:
    """Runs one metric on the inputs it declares (others are ignored); records the extractor.

    `extractor` is the name of the features' extractor, or the `kgan.features` extractor
    itself (then its weights fingerprint is recorded too). `options` are the metric's own
    keyword arguments (e.g. `{"num_subsets": 10}` for KID).

    Example:
        >>> compute("kid", real_features=real, fake_features=fake, extractor="mnist",
        ...         options={"num_subsets": 10})["kid"]
    """
    metric = get(identifier)
    missing = [k for k in metric.inputs if inputs.get(k) is None]
    if missing:
        raise KganError(f"Metric {metric.name!r} needs {', '.join(missing)}")
    result = metric(**{k: inputs[k] for k in metric.inputs}, **(options or {}))
    if extractor is not None:
        result["extractor"] = str(getattr(extractor, "name", extractor))
        if hasattr(extractor, "fingerprint"):
            result["extractor_fingerprint"] = str(extractor.fingerprint)
    return result
