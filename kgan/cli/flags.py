"""`kgan train`'s configuration flags, built from RunConfig's dataclass fields (their
metadata holds each flag's help, section, type and choices), and the RunConfig they resolve to."""

from __future__ import annotations

import argparse
import dataclasses

from kgan.errors import KganError


def _config_fields() -> list:
    """The RunConfig fields `kgan train` sets by a flag of their own (all but arch_kwargs,
    which --arch-arg fills)."""
    from kgan.config import RunConfig

    return [f for f in dataclasses.fields(RunConfig) if "section" in f.metadata]


def _flag(field) -> str:
    """The `kgan train` flag of RunConfig `field` (e.g. --batch-size, --beta1)."""
    return field.metadata.get("flag", f"--{field.name.replace('_', '-')}")


class _Names:
    """The valid names of registry module `module` (its `names()`), looked up only when help
    is printed: importing kgan.losses loads TensorFlow, which `kgan --help` must not."""

    def __init__(self, module: str, extra: tuple[str, ...] = ()):
        self.module, self.extra = module, extra

    def __str__(self) -> str:
        import importlib

        from kgan import quiet

        quiet.quiet_tensorflow()  # no TensorFlow log lines in the middle of the help
        return ", ".join([*importlib.import_module(self.module).names(), *self.extra])


def _add_config_flag(group, field) -> None:
    """Adds the flag of RunConfig `field` to `group`: typed from the field's annotation, None
    when not given (the preset's value then stays), help and choices from its metadata."""
    import typing

    from kgan.config import RunConfig

    meta = field.metadata
    kind = typing.get_type_hints(RunConfig)[field.name]
    text = meta["help"].replace("%", "%%")
    if "names" in meta:  # the valid values, looked up when --help is printed
        text += ": %(names)s"
    if field.default not in (None, False):
        text += f" (default: {field.default})"
    options = {"dest": field.name, "help": text}
    if meta.get("auto"):  # --jit-compile alone means on; it also takes on, off or auto
        options.update(nargs="?", const=True, type=_on_off_auto, metavar="on|off|auto")
    elif kind is bool:
        options.update(action="store_const", const=True)
    else:
        number = next((t for t in (int, float) if t in typing.get_args(kind) or t is kind), None)
        options.update(type=number, metavar=meta.get("metavar"), choices=meta.get("choices"))
    if "negation" in meta:  # --conditional / --unconditional
        group = group.add_mutually_exclusive_group()
    action = group.add_argument(_flag(field), **options)
    if "negation" in meta:
        flag, negation_help = meta["negation"]
        group.add_argument(flag, action="store_const", const=False, dest=field.name,
                           help=negation_help)
    if "names" in meta:  # an optional name (--regularizer) also takes "none"
        action.names = _Names(meta["names"], ("none",) if field.default is None else ())


def _on_off_auto(text: str) -> bool | str:
    """A flag value of on/off (or true/false, 1/0) or auto."""
    import argparse

    value = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False,
             "auto": "auto"}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected on, off or auto, got {text!r}")
    return value


def _parse_arch_args(pairs) -> dict:
    """The --arch-arg KEY=VALUE pairs as architecture keyword arguments (JSON values, else
    strings; the architecture checks and names bad values)."""
    import json

    kwargs = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise KganError(f"--arch-arg takes KEY=VALUE (e.g. width=32), got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def resolve_train_config(args: argparse.Namespace):
    """The RunConfig of `kgan train`: the preset (or the defaults), then every flag given."""
    from kgan import presets
    from kgan.config import MAX_EPOCHS, RunConfig

    config = presets.get(args.preset) if args.preset else RunConfig()
    changes = {f.name: getattr(args, f.name) for f in _config_fields()
               if getattr(args, f.name) is not None}
    if args.lr is not None:
        changes.setdefault("g_lr", args.lr)
        changes.setdefault("d_lr", args.lr)
    if "minutes" in changes and "epochs" not in changes:
        changes["epochs"] = MAX_EPOCHS  # the budget, not an epoch count, ends the run
    if changes.get("regularizer") == "none":
        changes["regularizer"] = None
    if "ema" in changes and changes["ema"] == 0:
        changes["ema"] = None
    same_arch = changes.get("arch", config.arch) == config.arch
    arch_kwargs = dict(config.arch_kwargs) if same_arch else {}
    arch_kwargs.update(_parse_arch_args(args.arch_arg))
    changes["arch_kwargs"] = arch_kwargs
    return config.replace(**changes)
