"""Shared test set-up: quiet TensorFlow, the TensorFlow backend, deterministic seeds, and a
private cache for reference statistics (never the user's ~/.cache)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Runs that measure FID cache real-data statistics; tests keep them in a temporary
    folder."""
    previous = os.environ.get("KGAN_CACHE_DIR")
    os.environ["KGAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("kgan-cache"))
    yield
    if previous is None:
        os.environ.pop("KGAN_CACHE_DIR", None)
    else:
        os.environ["KGAN_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _restored_environment():
    """Each test leaves os.environ as it found it: an in-process `kgan train --deterministic`
    sets oneDNN off and one inter-op thread for the processes started after it, which made
    tests/test_distribute.py's one-device and mirrored runs differ beyond rounding."""
    saved = dict(os.environ)
    yield
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _seeded_float32():
    """Every test starts with the float32 policy and the same Keras seed."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")
