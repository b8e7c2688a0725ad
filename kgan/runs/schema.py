"""Reading a run's JSON files and checking them: a wrong-typed model card or history record
is named in one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from kgan.runs.layout import STATUSES, RunError

# ----------------------------------------------------------------------------- reading


def _read_json(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise RunError(f"{path} is missing; the run folder is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunError(f"{path} is not valid JSON ({e}); the {what} is corrupt") from None
    except OSError as e:
        raise RunError(f"cannot read {path}: {e.strerror}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} should hold a JSON object; the {what} is corrupt")
    return data


def _read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file; unreadable lines are skipped."""
    records = []
    for _, line in _jsonl_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _jsonl_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a .jsonl file with their 1-based line numbers (none if absent)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"cannot read {path}: {e}") from None
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]


def _history_problem(record: Any) -> str | None:
    """Why `record` is not a valid history record, else None."""
    if not isinstance(record, dict):
        return "it is not a JSON object"
    epoch = record.get("epoch")
    if not _is_int(epoch) or epoch < 1:
        return f"its 'epoch' should be a whole number >= 1, got {_shown(epoch)}"
    for key, value in record.items():
        if key == "warnings":
            if value is not None and not isinstance(value, list):
                return f"its 'warnings' should be a list, got {_shown(value)}"
        elif key != "epoch" and value is not None and not _is_number(value):
            return f"its {key!r} should be a number or null, got {_shown(value)}"
    return None


def _read_history(path: Path) -> tuple[list[dict], list[str]]:
    """The valid records of `history.jsonl` (the last one of each epoch, in epoch order) and
    one line per invalid record that was skipped."""
    by_epoch: dict[int, dict] = {}
    problems = []
    for number, line in _jsonl_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number} of {path} is not valid JSON (a torn or corrupt write)")
            continue
        problem = _history_problem(record)
        if problem:
            problems.append(f"line {number} of {path} is skipped: {problem}")
            continue
        by_epoch[record["epoch"]] = record
    return [by_epoch[e] for e in sorted(by_epoch)], problems


# ----------------------------------------------------------------------------- model card schema


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """`value` for an error message: its JSON type and a short repr."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if _is_number(value) else "null" if value is None else "a value"
    )
    text = repr(value)
    return f"{kind} ({text[:40] + '...' if len(text) > 40 else text})"


def _metric_entry_ok(entry: Any) -> bool:
    """A model card metric: {value: number|null, epoch/step/num_samples: int|null, ...}."""
    if entry is None or _is_number(entry):
        return True
    if not isinstance(entry, dict):
        return False
    if entry.get("value") is not None and not _is_number(entry["value"]):
        return False
    return all(entry.get(k) is None or _is_int(entry[k]) for k in ("epoch", "step", "num_samples"))


_TEXT = ("a string", lambda v: isinstance(v, str))
_COUNT = ("a whole number >= 0", lambda v: _is_int(v) and v >= 0)
_INT = ("a whole number", _is_int)
_NUMBER = ("a number", _is_number)
_FLAG = ("true or false", lambda v: isinstance(v, bool))
_LIST = ("a list", lambda v: isinstance(v, list))
_OBJECT = ("an object", lambda v: isinstance(v, dict))

#: What each field of the model card must hold when it is not null; other keys are free.
_METADATA_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **dict.fromkeys(
        ("name", "reason", "created", "updated", "host", "boot_id", "dataset", "split", "kind",
         "architecture", "loss"),
        _TEXT,
    ),
    "status": (f"one of {', '.join(STATUSES)}", lambda v: v in STATUSES),
    **dict.fromkeys(
        ("pid", "pid_start", "num_examples", "num_classes", "latent_dim", "n_critic",
         "batch_size", "epochs", "steps_per_epoch", "epochs_done", "steps_done"),
        _COUNT,
    ),
    "seed": _INT,
    **dict.fromkeys(("training_time_s", "ema_decay"), _NUMBER),
    **dict.fromkeys(("conditional", "reuse_fakes"), _FLAG),
    "data_shape": ("a list of whole numbers", lambda v: isinstance(v, list)
                   and all(_is_int(d) for d in v)),
    "class_names": _LIST,
    **dict.fromkeys(("architecture_config", "sample_grid", "versions"), _OBJECT),
    "regularizers": ("a list of objects", lambda v: isinstance(v, list)
                     and all(isinstance(r, dict) for r in v)),
    "metrics": ("an object of {value, epoch, step, num_samples, ...} objects",
                lambda v: isinstance(v, dict) and all(_metric_entry_ok(m) for m in v.values())),
    "warnings": ("a list of {epoch, kind, message} objects", lambda v: isinstance(v, list)
                 and all(isinstance(w, (dict, str)) for w in v)),
}


def _check_metadata(path: Path, meta: dict) -> dict:
    """`meta` if every known field has its type, else a `RunError` naming the file and field."""
    for key, (want, ok) in _METADATA_FIELDS.items():
        value = meta.get(key)
        if value is not None and not ok(value):
            raise RunError(
                f"{path}: field {key!r} should be {want}, got {_shown(value)}; the model card "
                "is corrupt (fix or delete that field)"
            )
    return meta


