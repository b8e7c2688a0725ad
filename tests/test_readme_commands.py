"""Every `kgan` command the README shows parses as written, and every `kgan train` of a new run
resolves to a valid configuration (`--dry-run`): a renamed flag or preset fails here."""

import re
import shlex
from pathlib import Path

import pytest

from kgan import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("kgan ")]


def argv_of(line: str) -> list[str]:
    """The arguments of a README line; `[--out DIR]` shows an optional flag: take it."""
    return shlex.split(line.replace("[", "").replace("]", ""))[1:]


def test_the_readme_shows_kgan_commands():
    assert len(readme_commands()) >= 8


@pytest.mark.parametrize("line", readme_commands())
def test_each_readme_command_parses(line):
    args = cli.build_parser().parse_args(argv_of(line))
    assert args.func is not None


@pytest.mark.parametrize(
    "line", [c for c in readme_commands() if c.startswith("kgan train") and "--resume" not in c]
)
def test_each_readme_train_command_resolves(line, tmp_path, capsys):
    argv = [a for a in argv_of(line) if a != "--dry-run"]
    assert cli.main([*argv, "--dry-run", "--runs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("would train run ")
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing
