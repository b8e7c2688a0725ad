"""TFDS without a network: where prepared data live, failing fast, and preparing from local files.

`tfds.load` on a machine without network retries its download for minutes before failing.
kgan instead asks `builder.is_prepared()` (instant) and, when a dataset is missing, probes its
download host once with a short time limit; if the host cannot be reached it raises a
`KganError` at once that says how to get the data. Setting `KGAN_OFFLINE=1` skips the probe.

`tfds_builder` is the one way kgan opens a TFDS builder (in kgan's data dir, `digits` and
`stacked_mnist` registered, unknown names answered with the closest ones).

`prepare` builds a TFDS dataset from local copies of its source files, with TFDS's own builder
and no network, so that afterwards `tfds.load(name, data_dir=...)` works as after a download.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
from urllib.parse import urlparse

from kgan import features
from kgan.data.quiet import quiet_tfds
from kgan.errors import KganError

PROBE_TIMEOUT = 3.0  # seconds
#: The sources kgan reads itself; any other name is looked up in TFDS (`tfds_builder`).
KGAN_SOURCES = ("digits", "stacked_mnist", "ring8", "grid25", "folder:PATH", "npy:PATH", "npz:PATH")

# Files whose copies may differ from the published archives in their compression only (e.g.
# re-gzipped MNIST): such a copy is accepted when its *decompressed* bytes have this md5.
# Source: the table in ../shared/data/README.md, i.e. the md5 of the original IDX files.
CONTENT_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    },
}


def data_dir(explicit: str | None = None) -> str:
    """The TFDS data dir: `explicit`, else $KGAN_DATA_DIR, else $TFDS_DATA_DIR, else
    TFDS's default `~/tensorflow_datasets`."""
    chosen = (
        explicit
        or os.environ.get("KGAN_DATA_DIR")
        or os.environ.get("TFDS_DATA_DIR")
        or "~/tensorflow_datasets"
    )
    return os.path.abspath(os.path.expanduser(os.fspath(chosen)))


def _offline_forced() -> bool:
    return os.environ.get("KGAN_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def download_urls(builder) -> list[str]:
    """The URLs a TFDS builder downloads (from its registered checksums), maybe empty."""
    try:
        return sorted((builder.url_infos or {}).keys())
    except Exception:  # noqa: BLE001 - a builder without checksums files
        return []


def reachable(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether an HTTP request to `url`'s host gets any answer within `timeout` seconds.

    The request runs in a daemon thread, so a resolver that hangs cannot hold us longer.
    """
    import requests

    answered = threading.Event()

    def probe():
        try:
            requests.head(url, timeout=timeout, allow_redirects=False)
            answered.set()
        except Exception:  # noqa: BLE001 - any failure means unreachable
            pass

    thread = threading.Thread(target=probe, daemon=True, name="kgan-probe")
    thread.start()
    thread.join(timeout + 1.0)
    return answered.is_set()


def is_prepared(builder) -> bool:
    """`builder.is_prepared()` without TFDS's warning about a dataset not prepared yet."""
    with quiet_tfds():
        return builder.is_prepared()


def ensure_prepared(builder, source: str) -> None:
    """Prepares `builder` when that needs no network or the network answers; otherwise raises
    a `KganError` within a few seconds that says how to get the data. The datasets a builder
    is made of (its `REQUIRES`, e.g. `mnist` for `stacked_mnist`) are ensured first."""
    if is_prepared(builder):
        return
    import tensorflow_datasets as tfds

    for required in getattr(builder, "REQUIRES", ()):  # e.g. `stacked_mnist` is made of mnist
        ensure_prepared(tfds_builder(required, builder.data_dir_root), source)
    if getattr(builder, "NEEDS_NETWORK", True) is False:  # e.g. kgan's `digits`: seconds
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(try_download_gcs=False)
        )
        return
    urls = download_urls(builder)
    probe_url = urls[0] if urls else "https://storage.googleapis.com/tfds-data/"
    if _offline_forced() or not reachable(probe_url):
        where = builder.data_dir_root
        why = "KGAN_OFFLINE is set" if _offline_forced() else (
            f"{urlparse(probe_url).hostname} cannot be reached"
        )
        how = (
            f"prepare it from local copies of its source files with "
            f"`kgan data prepare {builder.name} --from DIR --data-dir {where}`, or copy "
            if urls
            else "copy "
        )
        raise KganError(
            f"{source}: TFDS dataset {builder.name!r} is not prepared in {where} and cannot "
            f"be downloaded ({why}); {how}a prepared {where}/{builder.name} from a machine "
            "with network"
        )
    builder.download_and_prepare()


def _unknown_name_message(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (
        f"unknown data source {name!r}: not a kgan source ({', '.join(KGAN_SOURCES)}) nor a "
        f"TFDS dataset; {hint}TFDS names are listed by tfds.list_builders()"
    )


def tfds_builder(name: str, explicit_dir: str | None = None):
    """`tfds.builder(name)` in kgan's `data_dir(explicit_dir)`, with `digits` and
    `stacked_mnist` registered and errors as KganError."""
    import tensorflow_datasets as tfds

    import kgan.data.builders  # noqa: F401  (registers `digits`, `stacked_mnist`)

    try:
        return tfds.builder(name, data_dir=data_dir(explicit_dir))
    except tfds.core.registered.DatasetNotFoundError:
        known = list(tfds.list_builders(with_community_datasets=False))
        raise KganError(_unknown_name_message(name, known + ["ring8", "grid25"])) from None
    except (ValueError, AssertionError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise KganError(f"{name}: {first}") from None


def _md5(chunks) -> str:
    digest = hashlib.md5()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _read_chunks(path: str, decompress: bool):
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")


def _verified_copy(name: str, source_dir: str, url_info, staging: str) -> tuple[str | None, str]:
    """(path TFDS may use as this download, "") or (None, why the local file is not accepted).

    Accepted: a file with the registered sha256 (an official copy), or — for files listed in
    CONTENT_MD5 — a `.gz` or an uncompressed copy whose decompressed bytes have the
    published md5; an uncompressed one is gzipped into `staging`.
    """
    filename = url_info.filename
    path = os.path.join(source_dir, filename)
    expected_md5 = CONTENT_MD5.get(name, {}).get(filename)
    if os.path.isfile(path):
        if features.file_sha256(path) == url_info.checksum:
            return path, ""
        if expected_md5 is None:
            return None, f"{filename} does not have the sha256 that TFDS registers"
        try:
            got = _md5(_read_chunks(path, decompress=filename.endswith(".gz")))
        except (OSError, EOFError) as error:
            return None, f"{filename} cannot be decompressed ({error})"
        if got != expected_md5:
            return None, f"{filename} decompresses to md5 {got}, expected {expected_md5}"
        return path, ""
    raw = path[: -len(".gz")] if filename.endswith(".gz") else None
    if expected_md5 and raw and os.path.isfile(raw):
        got = _md5(_read_chunks(raw, decompress=False))
        if got != expected_md5:
            return None, f"{os.path.basename(raw)} has md5 {got}, expected {expected_md5}"
        wrapped = os.path.join(staging, filename)
        with open(raw, "rb") as src, gzip.GzipFile(wrapped, "wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return wrapped, ""
    return None, f"{filename} is missing"


def prepare(name: str, source_dir: str | None = None, data_dir: str | None = None) -> str:
    """Prepares TFDS dataset `name` in `data_dir` from local copies of its source files.

    Returns the prepared dataset's directory (e.g. `<data_dir>/mnist/3.0.1`). Afterwards
    `tfds.load(name, data_dir=data_dir)` and `kgan.data.load(name, data_dir=data_dir)` work
    exactly as after a download: the dataset is written by TFDS's own builder, at its own
    version, with its own `dataset_info.json`. Nothing is fetched; preparing again is a no-op.

    `source_dir` holds the files under the names the dataset's TFDS builder downloads them as
    (for `mnist`: `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
    `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`). `digits` needs none.

    How the files are verified and handed to TFDS: TFDS checks a download by the sha256 of
    the file as published. Official copies pass that check. Copies that were re-compressed
    (like the MNIST files in `../shared/data/mnist`: same IDX bytes, different gzip wrapping)
    cannot pass it, and re-compressing cannot recreate the published bytes (gzip output depends
    on the original tool, level, name and timestamp). For files listed in `CONTENT_MD5`, kgan
    therefore verifies the *decompressed* bytes against the published md5 of the original
    content; uncompressed copies are accepted as well and gzipped. Each verified file is then
    placed in a private, temporary TFDS download cache under the name TFDS gives that
    download (with its `.INFO` record), and TFDS's own builder runs with that cache as its
    download dir: it finds every file already "downloaded", extracts and generates as usual.
    The temporary cache is deleted afterwards, so no record that vouches for the local bytes
    outlives the run. Alternatives not taken: `manual_dir` re-checks the sha256 (rejects these
    copies); `register_checksums` rewrites the checksum files inside the installed TFDS package.

    Raises:
        KganError: unknown dataset, missing folder, missing or mismatching files (all listed),
            or a dataset whose TFDS builder registers no source files.

    Example:
        >>> prepare("mnist", "../shared/data/mnist", data_dir="/tmp/tfds")
        '/tmp/tfds/mnist/3.0.1'
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import resource as resource_lib

    builder = tfds_builder(name, data_dir)
    if is_prepared(builder):
        return os.fspath(builder.data_dir)
    if getattr(builder, "NEEDS_NETWORK", True) is False:
        ensure_prepared(builder, name)
        return os.fspath(builder.data_dir)
    url_infos = {}
    try:
        url_infos = dict(builder.url_infos or {})
    except Exception:  # noqa: BLE001
        pass
    if not url_infos or any(not info.filename for info in url_infos.values()):
        raise KganError(
            f"kgan cannot prepare {name!r} from local files: its TFDS builder registers no "
            f"source file names; prepare it on a machine with network and copy "
            f"{builder.data_dir_root}/{builder.name}"
        )
    if not source_dir:
        raise KganError(f"preparing {name!r} needs its source files: pass --from DIR")
    source_dir = os.path.abspath(os.path.expanduser(source_dir))
    if not os.path.isdir(source_dir):
        raise KganError(f"{source_dir} is not a folder; pass the folder holding {name}'s files")

    os.makedirs(builder.data_dir_root, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".kgan-prepare-{builder.name}-", dir=builder.data_dir_root)
    try:
        cache = os.path.join(staging, "downloads")
        os.makedirs(cache)
        problems = []
        for url, info in sorted(url_infos.items()):
            path, problem = _verified_copy(name, source_dir, info, staging)
            if problem:
                problems.append(problem)
                continue
            cached = os.path.join(cache, resource_lib.get_dl_fname(url, info.checksum))
            try:
                os.link(path, cached)
            except OSError:
                shutil.copyfile(path, cached)
            resource_lib.write_info_file(
                url=url,
                path=tfds.core.Path(cached),
                dataset_name=builder.name,
                original_fname=info.filename,
                url_info=info,
            )
        if problems:
            raise KganError(
                f"cannot prepare {name!r} from {source_dir}: " + "; ".join(problems)
            )
        builder.download_and_prepare(
            download_dir=cache,
            download_config=tfds.download.DownloadConfig(try_download_gcs=False),
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return os.fspath(builder.data_dir)
