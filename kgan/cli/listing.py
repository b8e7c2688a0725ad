"""`kgan list`: the table of runs, with a compact selection of each run's latest numbers
(FID beside its real-vs-real floor)."""

from __future__ import annotations

import argparse

from kgan.cli.evaluate import _is_number
from kgan.cli.folders import _add_runs_dir, _runs_dir


def _add_list(commands) -> None:
    """Adds `kgan list` to the subcommands."""
    listing = commands.add_parser(
        "list",
        help="list the runs",
        description="A table of the runs: name, dataset, architecture, loss, epochs, status, "
        "and the latest fid (beside its real-vs-real floor), precision, recall, coverage, "
        "spread_ratio (toy data: modes); `kgan evaluate` and the dashboard show the rest.",
    )
    _add_runs_dir(listing)
    listing.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    """`kgan list`: one line per run under the runs folder, broken ones included."""
    from kgan import runs

    root = _runs_dir(args)
    found = runs.list_runs(root)
    if not found:
        print(f"no runs in {root}; start one with `kgan train --preset digits --name digits`")
        return 0
    header = ("NAME", "DATASET", "ARCH", "LOSS", "EPOCHS", "STATUS", "METRICS")
    rows = []
    for run in found:
        row = run.summary()
        if row.get("error"):
            rows.append((run.name, "-", "-", "-", "-", f"broken: {row['error']}", "-"))
            continue
        status = row["status"] if not row.get("reason") else f"{row['status']}: {row['reason']}"
        epochs = f"{row.get('epochs_done') or 0}/{row.get('epochs') or '?'}"
        rows.append((run.name, str(row.get("dataset")), str(row.get("architecture")),
                     str(row.get("loss")), epochs, status,
                     _format_metrics(row.get("metrics"), row.get("metric_details"))))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return 0


#: The numbers `kgan list` shows, in this order; the rest: `kgan evaluate` and the dashboard.
LIST_METRICS = ("fid", "precision", "recall", "coverage", "spread_ratio", "modes")


def _format_metrics(metrics: dict, details: dict | None = None) -> str:
    """`kgan list`'s METRICS cell: the latest `LIST_METRICS` (FID beside its real-vs-real
    floor), then how many other numbers the model card holds (`+3 more`)."""
    metrics = metrics or {}
    parts = []
    for key in (k for k in LIST_METRICS if k in metrics):
        value = metrics[key]
        if key == "fid" and _is_number(value):
            parts.append(_fid_with_floor(value, (details or {}).get("fid") or {}))
        else:
            parts.append(f"{key}={value:.4g}" if _is_number(value) else f"{key}={value}")
    others = len([k for k in metrics if k not in LIST_METRICS])
    if others:
        parts.append(f"+{others} more")
    return " ".join(parts) or "-"


def _fid_with_floor(value: float, entry: dict) -> str:
    """`fid=1.23 (1.81x real floor 0.68 @N=297)` from the model card's FID entry: the ratio
    compares equal N, so a FID recorded at another N also shows its value at the floor's N."""
    from kgan import evaluation

    floor, n, at_n = (entry.get(k) for k in ("fid_floor", "fid_floor_num", "fid_at_floor_num"))
    if not all(_is_number(v) for v in (floor, n, at_n)):
        return f"fid={value:.4g}"
    ratio = entry.get("fid_ratio")
    times = f"{ratio:.3g}x " if _is_number(ratio) else ""
    num = entry.get("num_samples")
    head = f"fid={value:.4g} (" if num in (None, n) else f"fid={value:.4g} @N={num} ({at_n:.4g} = "
    text = f"{head}{times}real floor {floor:.4g} @N={n:g}"
    if entry.get("below_floor") is True:
        text += f"; WARNING {evaluation.BELOW_FLOOR_WARNING}"
    return text + ")"
