"""`quiet_tfds`: TFDS without its progress bars and absl notes, for datasets kgan prepares itself.

A leaf of kgan.data: the offline helpers and the builders both use it, neither imports the other
for it.
"""

from __future__ import annotations

import contextlib
import logging
import os


def _drop_tfds_notes(record: logging.LogRecord) -> bool:
    """A logging filter: False for TFDS's own absl records below ERROR."""
    inside_tfds = f"{os.sep}tensorflow_datasets{os.sep}" in (record.pathname or "")
    return record.levelno >= logging.ERROR or not inside_tfds


@contextlib.contextmanager
def quiet_tfds():
    """Within the block TFDS shows no progress bars and logs nothing below ERROR through absl
    (e.g. `WARNING:absl:Variant folder ... has no dataset_info.json`, which TFDS's
    `is_prepared()` logs for every dataset not prepared yet). Both are restored afterwards, so
    a real TFDS download elsewhere keeps its progress bar.

    Example:
        >>> with quiet_tfds():
        ...     builder.download_and_prepare()
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.utils import tqdm_utils

    bars_were_on = bool(getattr(tqdm_utils, "_active", True))
    absl_logger = logging.getLogger("absl")
    outermost = _drop_tfds_notes not in absl_logger.filters  # nested blocks: the outer removes
    if outermost:
        absl_logger.addFilter(_drop_tfds_notes)
    tfds.display_progress_bar(False)
    try:
        yield
    finally:
        tfds.display_progress_bar(bars_were_on)
        if outermost:
            absl_logger.removeFilter(_drop_tfds_notes)


__all__ = ["quiet_tfds"]
