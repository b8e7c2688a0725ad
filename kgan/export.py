"""SavedModel export of a generator for TF Serving and for TensorFlow programs without kgan.

Two signatures (`keras.export.ExportArchive` endpoints):

- `serving_default`: `z` float32 `[N, latent]` (+ `label` int32 `[N]` when conditional) ->
  `images` uint8 `[N, H, W, C]` (vector data: `samples` float32 `[N, D]`).
- `sample`: `num` int32 scalar, `seed` int32 scalar (+ `label` int32 `[num]` when
  conditional) -> the same output. Latents come from `kgan.sampling.sample_latents`, traced
  into the graph at export time: the one sampling path `GAN.generate` and `kgan sample` take,
  so `sample(num, seed)` gives the images `generate(num, seed)` gives.

`serving_default` holds no random ops, so it also converts with the TFLite converter
(`check_tflite`); `sample` draws stateless random numbers, which TFLite does not support.

Every export holds a marker, `kgan_export.json` (the run's name and when it was written). An
existing folder is only ever replaced when it is such an export (and `overwrite=True`, except
a run's own `export/` folder, which training rewrites); `check_target` refuses anything else,
so an export never deletes a file or folder kgan did not write.

Example:
    >>> path = export_run(kgan.runs.open_run("saved_models", "digits"))
    >>> model = tf.saved_model.load(str(path))                     # in any TF program
    >>> model.signatures["sample"](num=tf.constant(16), seed=tf.constant(0))["images"]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from kgan import runs as runs_lib
from kgan.errors import KganError
from kgan.sampling import sample_latents

SIGNATURES = ("serving_default", "sample")
#: The marker file every kgan export holds, and the format it records.
MARKER = "kgan_export.json"
MARKER_FORMAT = "kgan-export/1"
#: What a SavedModel folder written by kgan holds at its top level.
_EXPORT_FILES = {"saved_model.pb", "saved_model.pbtxt", "fingerprint.pb", "keras_metadata.pb",
                 MARKER}
#: What its `variables/` folder holds (its `assets/` folder stays empty for a generator).
_VARIABLE_FILE = re.compile(r"^variables\.(index|data-\d+-of-\d+)$")


def output_key(kind: str) -> str:
    """`images` for image data, `samples` for vector data."""
    return "images" if kind == "image" else "samples"


def export_generator(
    generator, path, *, num_classes: int | None = None, overwrite: bool = False
) -> Path:
    """Writes `generator` as a SavedModel with the `serving_default` and `sample` signatures.

    The data kind follows from the generator's output: rank-4 outputs are images (served as
    uint8), others are vectors (float32). `path` must be new, an empty folder, or (with
    `overwrite=True`) a kgan export, which is replaced atomically; see `check_target`.

    Example:
        >>> export_generator(gan.sampler, "export", num_classes=gan.num_classes)
    """
    path = Path(path)

    def check():
        check_target(path, overwrite=overwrite)

    check()
    return _write(_archive(generator, num_classes), path, run_name=None, check=check)


def non_finite(generator, num_classes: int | None = None) -> list[str]:
    """What in `generator` holds NaN or infinity: its variables, and its output on a fixed
    latent batch (fused CPU kernels can hide NaN weights from the output, and finite weights
    can still overflow). Empty for a generator fit to serve."""
    import keras

    bad = [f"generator/{v.path}" for v in generator.variables
           if v.dtype.startswith(("float", "bfloat"))
           and not np.all(np.isfinite(keras.ops.convert_to_numpy(v)))]
    latent_dim = int(generator.inputs[0].shape[-1])
    z = sample_latents(16, 0, latent_dim)
    inputs = z if not num_classes else [z, tf.constant(np.arange(16) % num_classes, tf.int32)]
    out = keras.ops.convert_to_numpy(generator(inputs, training=False))
    if not np.all(np.isfinite(np.asarray(out, np.float32))):
        bad.append("generator output")
    return bad


def _archive(generator, num_classes: int | None):
    """The `keras.export.ExportArchive` of `generator` with both signatures; refuses a
    generator that holds NaN or infinity (it would serve NaN images)."""
    import keras

    bad = non_finite(generator, num_classes)
    if bad:
        raise KganError(
            f"the generator holds NaN or infinity ({bad[0]}); it cannot be exported: resume "
            "the run from its last good checkpoint with lower learning rates or a regulariser"
        )
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
    return archive


def _write(archive, path: Path, *, run_name: str | None, check=None) -> Path:
    """Writes `archive` and its marker to a temp folder beside `path`, then swaps it in.

    `check` (re-run just before the swap) refuses a target that changed meanwhile.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-export-", dir=path.parent))
    except OSError as e:
        raise KganError(
            f"cannot write the export to {path}: {e.strerror or e}; choose a writable folder"
        ) from None
    try:
        archive.write_out(str(tmp), verbose=False)
        marker = {"format": MARKER_FORMAT, "run": run_name, "written": runs_lib.now()}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        runs_lib.make_readable(tmp)
        if check is not None:
            check()
        _replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _replace_dir(new: Path, target: Path) -> None:
    """Moves folder `new` to `target`, replacing an existing `target` with one rename each way."""
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=target.parent))
        os.replace(target, old / "x")
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


# ----------------------------------------------------------------------------- safe targets


def export_marker(path: str | os.PathLike) -> dict | None:
    """The marker of the kgan export at `path` (run name, time written), else None."""
    path = Path(path)
    try:
        if not (path / "saved_model.pb").is_file():
            return None
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT else None


def _plain(path: Path, kind: str) -> bool:
    """Whether `path` is a regular file (`kind` "file") or folder ("dir"), not a link."""
    return not path.is_symlink() and (path.is_file() if kind == "file" else path.is_dir())


def _foreign_entries(path: Path) -> list[str]:
    """The entries of export folder `path` that a SavedModel written by kgan does not hold."""
    foreign = []
    for entry in sorted(path.iterdir()):
        if entry.name in _EXPORT_FILES and _plain(entry, "file"):
            continue
        if entry.name in ("variables", "assets") and _plain(entry, "dir"):
            foreign += [
                f"{entry.name}/{inner.name}"
                for inner in sorted(entry.iterdir())
                if entry.name == "assets"
                or not (_VARIABLE_FILE.match(inner.name) and _plain(inner, "file"))
            ]
            continue
        foreign.append(entry.name)
    return foreign


def _run_folder(path: Path, strict: bool) -> bool:
    """Whether `path` is a run folder: it holds metadata.json or config.json (both if `strict`)."""
    found = [(path / name).is_file() for name in (runs_lib.METADATA, runs_lib.CONFIG)]
    return all(found) if strict else any(found)


def check_target(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    runs_root: str | os.PathLike | None = None,
    default: str | os.PathLike | None = None,
) -> Path:
    """Refuses (`KganError`) an export target whose replacement could lose data; returns it.

    Refused: a file or symbolic link (or a path under a file); the working directory or a
    parent of it; the runs folder `runs_root`, a folder inside it or holding it; a run folder
    or a folder inside one; a non-empty folder that is not a kgan export; a kgan export unless
    `overwrite`, or one holding files kgan did not write. `default` (the run's own export
    folder) names the way out.
    """
    path = Path(path)
    hint = f", or omit --out to write {default}" if default is not None else ""
    if path.is_symlink():
        raise KganError(f"--out {path} is a symbolic link; give the folder itself or a new path")
    if path.exists() and not path.is_dir():
        raise KganError(
            f"--out {path} is a file, not a folder; give a new folder path for the SavedModel"
        )
    real = path.resolve()
    blocker = next((p for p in real.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise KganError(f"--out {path} cannot be created: {blocker} is a file; give another path")
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise KganError(
            f"--out {path} is the working directory or a folder holding it; "
            "give a new folder, e.g. --out ./export"
        )
    if runs_root is not None:
        root = Path(runs_root).resolve()
        if real == root or real in root.parents:
            raise KganError(
                f"--out {path} is the runs folder {root} or holds it; "
                f"give a new folder outside it{hint}"
            )
    if _run_folder(real, strict=False):
        raise KganError(f"--out {path} is a kgan run folder; give a new folder outside it{hint}")
    for parent in real.parents:
        if _run_folder(parent, strict=True):
            raise KganError(
                f"--out {path} is inside the run folder {parent}; give a folder outside it{hint}"
            )
    if runs_root is not None and Path(runs_root).resolve() in real.parents:
        raise KganError(
            f"--out {path} is inside the runs folder {Path(runs_root).resolve()}, which holds "
            f"only run folders; give a folder outside it{hint}"
        )
    try:
        entries = sorted(p.name for p in real.iterdir()) if real.exists() else []
        if not entries:
            return path
        marker = export_marker(real)
        if marker is None:
            raise KganError(
                f"--out {path} is a folder that is not a kgan export ({len(entries)} "
                f"{'entry' if len(entries) == 1 else 'entries'}, e.g. {entries[0]!r}); give a new "
                "or empty folder (kgan replaces only its own exports)"
            )
        if not overwrite:
            of = f" of run {marker['run']!r}" if marker.get("run") else ""
            raise KganError(
                f"--out {path} already holds a kgan export{of}; pass --overwrite to replace it"
            )
        foreign = _foreign_entries(real)
    except OSError as e:
        raise KganError(
            f"cannot read --out {path}: {e.strerror or e}; choose another folder"
        ) from None
    if foreign:
        raise KganError(
            f"--out {path} holds files a kgan export does not ({', '.join(foreign[:3])}); "
            "move them out or give another folder"
        )
    return path


def export_run(
    run: runs_lib.Run,
    out: str | os.PathLike | None = None,
    gan=None,
    *,
    overwrite: bool = False,
) -> Path:
    """Exports run `run`'s sampling generator to `out` (default: the run's `export/` folder).

    The run's own `export/` folder is always rewritten; any other `out` must pass
    `check_target` (a kgan export there is replaced only with `overwrite=True`). `gan` (the
    trained `kgan.GAN`) saves loading the generator from the run folder.
    """
    own = run.path.resolve() / runs_lib.EXPORT_DIR
    target = run.export_dir if out is None else Path(out)
    check = None
    if out is not None and (target.is_symlink() or target.resolve() != own):

        def check():
            check_target(target, overwrite=overwrite, runs_root=run.path.parent,
                         default=run.export_dir)

        check()  # before the (slow) generator load, so a refusal is immediate
    generator = gan.sampler if gan is not None else run.load_generator()
    num_classes = gan.num_classes if gan is not None else run.metadata().get("num_classes")
    return _write(_archive(generator, num_classes), target, run_name=run.name, check=check)


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


__all__ = [
    "MARKER",
    "SIGNATURES",
    "non_finite",
    "check_target",
    "check_tflite",
    "export_generator",
    "export_marker",
    "export_run",
    "output_key",
]
