"""The README's Python examples run as written (two epochs on digits and on ring8)."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_examples_train_save_and_load(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KGAN_DATA_DIR", str(tmp_path / "tfds"))
    namespace: dict = {}
    exec(compile(blocks[0], "README.md[digits]", "exec"), namespace)
    gan = namespace["gan"]
    assert (tmp_path / "digits_gan.keras").exists()
    assert int(gan.g_optimizer.iterations) == 2 * (1500 // 64)
    images = namespace["images"]
    assert images.shape == (16, 8, 8, 1) and images.min() >= -1 and images.max() <= 1
    np.testing.assert_allclose(gan.generate(16, seed=0), images, atol=1e-5)

    exec(compile(blocks[1], "README.md[ring8]", "exec"), namespace)
    assert int(namespace["gan"].g_optimizer.iterations) == 2 * (10_000 // 256)
