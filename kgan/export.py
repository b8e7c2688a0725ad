"""SavedModel export of a generator for TF Serving and for TensorFlow programs without kgan.

Two signatures (`keras.export.ExportArchive` endpoints):

- `serving_default`: `z` float32 `[N, latent]` (+ `label` int32 `[N]` when conditional) ->
  `images` uint8 `[N, H, W, C]` (vector data: `samples` float32 `[N, D]`).
- `sample`: `num` int32 scalar, `seed` int32 scalar (+ `label` int32 `[num]` when
  conditional) -> the same output. Latents come from `kgan.gan.sample_latents`, the function
  `GAN.generate` uses, so `sample(num, seed)` gives the images `generate(num, seed)` gives.

`serving_default` holds no random ops, so it also converts with the TFLite converter
(`check_tflite`); `sample` draws stateless random numbers, which TFLite does not support.

Example:
    >>> path = export_run(kgan.runs.open_run("saved_models", "digits"))
    >>> model = tf.saved_model.load(str(path))                     # in any TF program
    >>> model.signatures["sample"](num=tf.constant(16), seed=tf.constant(0))["images"]
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from kgan import runs as runs_lib
from kgan.errors import KganError
from kgan.gan import sample_latents

SIGNATURES = ("serving_default", "sample")


def output_key(kind: str) -> str:
    """`images` for image data, `samples` for vector data."""
    return "images" if kind == "image" else "samples"


def export_generator(generator, path, *, num_classes: int | None = None) -> Path:
    """Writes `generator` as a SavedModel with the `serving_default` and `sample` signatures.

    The data kind follows from the generator's output: rank-4 outputs are images (served as
    uint8), others are vectors (float32). The folder is replaced atomically when it exists.

    Example:
        >>> export_generator(gan.sampler, "export", num_classes=gan.num_classes)
    """
    import keras

    latent_dim = int(generator.inputs[0].shape[-1])
    is_image = len(generator.outputs[0].shape) == 4
    key = output_key("image" if is_image else "vector")

    def postprocess(x):
        x = tf.cast(x, tf.float32)
        if is_image:
            pixels = tf.clip_by_value(tf.round((x + 1.0) * 127.5), 0.0, 255.0)
            return {key: tf.cast(pixels, tf.uint8)}
        return {key: x}

    def run(z, label=None):
        inputs = z if label is None else [z, label]
        return postprocess(generator(inputs, training=False))

    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    num_spec = tf.TensorSpec([], tf.int32, name="num")
    seed_spec = tf.TensorSpec([], tf.int32, name="seed")
    label_spec = tf.TensorSpec([None], tf.int32, name="label")

    archive = keras.export.ExportArchive()
    archive.track(generator)
    if num_classes:

        def serve(z, label):
            return run(z, label)

        def sample(num, seed, label):
            tf.debugging.assert_equal(
                tf.shape(label)[0], num, message="label must hold `num` class ids"
            )
            return run(sample_latents(num, seed, latent_dim), label)

        archive.add_endpoint("serving_default", serve, input_signature=[z_spec, label_spec])
        archive.add_endpoint("sample", sample, input_signature=[num_spec, seed_spec, label_spec])
    else:

        def serve(z):
            return run(z)

        def sample(num, seed):
            return run(sample_latents(num, seed, latent_dim))

        archive.add_endpoint("serving_default", serve, input_signature=[z_spec])
        archive.add_endpoint("sample", sample, input_signature=[num_spec, seed_spec])

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-export-", dir=path.parent))
    try:
        archive.write_out(str(tmp), verbose=False)
        runs_lib.make_readable(tmp)
        _replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _replace_dir(new: Path, target: Path) -> None:
    """Moves folder `new` to `target`, replacing an existing `target` with one rename each way."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=target.parent))
        os.replace(target, old / "x")
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


def export_run(run: runs_lib.Run, out: str | os.PathLike | None = None, gan=None) -> Path:
    """Exports run `run`'s sampling generator to `out` (default: the run's `export/` folder).

    `gan` (the trained `kgan.GAN`) saves loading the generator from the run folder.
    """
    generator = gan.sampler if gan is not None else run.load_generator()
    num_classes = gan.num_classes if gan is not None else run.metadata().get("num_classes")
    return export_generator(generator, out or run.export_dir, num_classes=num_classes)


def check_tflite(path: str | os.PathLike, num: int = 4) -> dict:
    """Converts the export's `serving_default` with the TFLite converter, runs the result on
    random latents and compares it with the SavedModel; returns a report dict.

    Raises `KganError` when the conversion fails or the outputs disagree.
    """
    path = str(path)
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures["serving_default"]
    specs = signature.structured_input_signature[1]
    rng = np.random.default_rng(0)
    inputs = {"z": rng.standard_normal((num, specs["z"].shape[-1])).astype(np.float32)}
    if "label" in specs:
        inputs["label"] = np.zeros(num, np.int32)
    outputs = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    expected = {k: v.numpy() for k, v in outputs.items()}

    converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["serving_default"])
    try:
        flatbuffer = converter.convert()
    except Exception as e:  # noqa: BLE001 - the converter raises many types
        raise KganError(f"TFLite conversion of {path} failed: {e}") from None
    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": still the one TF ships
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    runner = interpreter.get_signature_runner("serving_default")
    got = runner(**inputs)  # resizes the inputs to the batch given
    report = {"bytes": len(flatbuffer), "outputs": {}}
    for key, want in expected.items():
        have = np.asarray(got[key])
        if have.shape != want.shape or have.dtype != want.dtype:
            raise KganError(
                f"TFLite output {key!r} is {have.dtype}{list(have.shape)}, "
                f"SavedModel gives {want.dtype}{list(want.shape)}"
            )
        gap = np.abs(have.astype(np.float64) - want.astype(np.float64))
        report["outputs"][key] = {
            "shape": list(want.shape),
            "dtype": str(want.dtype),
            "max_abs_diff": float(gap.max()) if gap.size else 0.0,
        }
    return report


__all__ = ["SIGNATURES", "check_tflite", "export_generator", "export_run", "output_key"]
