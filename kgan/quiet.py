"""TensorFlow's start-up log lines, kept down for kgan's entry points (`kgan`, app.py).

`import tensorflow` prints C++ log lines to stderr before anything of kgan's: "oneDNN custom
operations are on ...", "This TensorFlow binary is optimized to use available CPU
instructions ...", and absl's "WARNING: All log messages before absl::InitializeLog() is
called are written to STDERR", each oneDNN line twice (two of TensorFlow's libraries log it).

`TF_CPP_MIN_LOG_LEVEL` is TensorFlow's documented switch (1 drops INFO, 2 also WARNING, 3 also
ERROR), and it has to be set before TensorFlow is imported. Measured with TensorFlow 2.21: it
drops "This TensorFlow binary is optimized ..." and the run-time INFO lines (XLA service,
"Compiled cluster using XLA"), but not the oneDNN line nor absl's pre-initialisation warning:
TensorFlow logs those through absl while importing, before anything applies the level, and absl
writes every message before `absl::InitializeLog()` to stderr whatever its thresholds (no
environment variable changes that: `ABSL_MIN_LOG_LEVEL`, `GLOG_minloglevel`,
`FLAGS_minloglevel`, `GRPC_VERBOSITY` were tried). So while `import tensorflow` runs,
`quiet_tensorflow` also sends file descriptor 2 to a temporary file and writes back every line
except C++ log lines below the level (and absl's warning about them). Everything else printed
meanwhile (Python warnings, errors) comes through unchanged and in order.

The rule: with `kgan --verbose` nothing is changed. Otherwise, when `TF_CPP_MIN_LOG_LEVEL` is
not set, kgan sets it to 3: only fatal errors. Level 2 would still print harmless ERROR lines
on the first screen, e.g. every digits run's "meta_optimizer.cc:967] remapper failed:
INVALID_ARGUMENT: Mutation::Apply error ..." (Grappler skipping one optimisation); errors that
matter reach kgan as Python exceptions and are reported as such. When the user set a level,
kgan keeps it and applies that same level to the import-time lines too (0 shows everything).
`TF_ENABLE_ONEDNN_OPTS` is never touched: it changes numerics, not logging.

Example:
    >>> from kgan import quiet
    >>> quiet.quiet_tensorflow()   # before anything imports TensorFlow; 3 if the user set none
    3
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

#: The level kgan sets when the user set none: INFO, WARNING and ERROR lines dropped.
DEFAULT_LEVEL = 3

#: A C++ log line of absl (`I0000 00:00:1796161145.172412    7757 port.cc:153] ...`) or of
#: TensorFlow's older logger (`2025-09-17 14:44:05.157831: I tensorflow/...cc:32] ...`).
_ABSL_LINE = re.compile(rb"^([IWEF])\d{4} [\d:.]+\s+\d+ [^\s\]]+:\d+\] ")
_TSL_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) [^\s\]]+:\d+\] ")
_PRE_INIT = b"WARNING: All log messages before absl::InitializeLog() is called"
#: Lines that continue a multi-line C++ message (cpu_feature_guard's).
_CONTINUATIONS = (b"To enable the following instructions:",)
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}


def log_level(environ=None) -> int | None:
    """The `TF_CPP_MIN_LOG_LEVEL` in force as an int (None when unset; junk counts as 0, as
    TensorFlow reads it)."""
    value = (os.environ if environ is None else environ).get("TF_CPP_MIN_LOG_LEVEL")
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return 0


def filter_lines(data: bytes, level: int) -> bytes:
    """`data` (stderr bytes) without the C++ log lines of a severity below `level`, without
    their continuation lines, and without absl's pre-initialisation warning once anything is
    dropped (`level` >= 1). Other lines are kept as they are.

    Example:
        >>> filter_lines(b"I0000 00:00:1.2  7 port.cc:153] oneDNN ...\\nhello\\n", 2)
        b'hello\\n'
    """
    if level <= 0:
        return data
    kept = []
    dropping = False
    for line in data.splitlines(keepends=True):
        if line.startswith(_PRE_INIT):
            dropping = False
            continue
        match = _ABSL_LINE.match(line) or _TSL_LINE.match(line)
        if match:
            dropping = _SEVERITY[match.group(1)] < level
            if dropping:
                continue
        elif dropping and line.startswith(_CONTINUATIONS):
            continue
        else:
            dropping = False
        kept.append(line)
    return b"".join(kept)


@contextlib.contextmanager
def filtered_stderr(level: int):
    """Within the block, file descriptor 2 goes to a temporary file; afterwards what was
    written there comes back to the real stderr through `filter_lines(..., level)`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to quiet
        saved = None
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as capture:
        try:
            os.dup2(capture.fileno(), 2)
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            data = filter_lines(capture.read(), level)
            while data:
                data = data[os.write(2, data):]


class _FilteringLoader(importlib.abc.Loader):
    """Runs another loader's `exec_module` inside `filtered_stderr`, once."""

    def __init__(self, loader, level: int) -> None:
        self.loader = loader
        self.level = level

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self.loader  # the module keeps its own loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        with filtered_stderr(self.level):
            self.loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` like the other finders do and wraps its loader; then leaves
    `sys.meta_path`."""

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteringLoader(spec.loader, self.level)
        return spec


def quiet_tensorflow(verbose: bool = False) -> int | None:
    """Keeps TensorFlow's C++ logs down for the rest of this process (see the module's
    docstring for the rule); call it before anything imports TensorFlow.

    Returns the level applied, or None when nothing was changed (`verbose`, or TensorFlow
    already imported).
    """
    if verbose or "tensorflow" in sys.modules:
        return None
    level = log_level()
    if level is None:
        level = DEFAULT_LEVEL
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = str(level)
    if level > 0 and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport(level))
    return level
