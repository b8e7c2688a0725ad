"""`RunRecords`: what training records, the per-epoch `history.jsonl` and the metric log
`metrics.jsonl`, read back (skipping invalid lines) and written."""

from __future__ import annotations

import itertools
import json
from typing import Iterable

from kgan.runs.card import RunCard
from kgan.runs.files import append_line, jsonable, write_text
from kgan.runs.layout import now
from kgan.runs.schema import _read_history, _read_jsonl


class RunRecords(RunCard):
    """A run's history and metric records; a metric recorded also lands in the model card."""

    def history(self) -> list[dict]:
        """The valid per-epoch records of `history.jsonl`, one per epoch (the last written),
        in epoch order; invalid lines are skipped (`history_problems` lists them)."""
        return _read_history(self.history_path)[0]

    def history_problems(self) -> list[str]:
        """One line per record of `history.jsonl` that `history` skips (torn or wrong-typed)."""
        return _read_history(self.history_path)[1]

    def history_gap(self, epoch: int) -> str | None:
        """None when `history.jsonl` has a valid record of every epoch 1..`epoch`, else one
        line naming the missing epochs and why (what a resume from `epoch` must report)."""
        records, problems = _read_history(self.history_path)
        have = {r["epoch"] for r in records}
        lacking = (e for e in range(1, int(epoch) + 1) if e not in have)
        missing = list(itertools.islice(lacking, 11))  # a huge epoch never builds a huge list
        if not missing:
            return None
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        why = f" ({'; '.join(problems[:3])})" if problems else ""
        return (
            f"{self.history_path} has no valid record of epoch(s) {shown}{why}; the checkpoint "
            f"of epoch {epoch} is intact and training continues from it, but the losses of "
            "those epochs are lost (a gap in the curves)"
        )

    def metric_records(self) -> list[dict]:
        """Every metric evaluation of `metrics.jsonl`, oldest first (a line torn by a crash
        is skipped)."""
        return _read_jsonl(self.metrics_path)

    def write_history(self, records: Iterable[dict]) -> None:
        """Rewrites `history.jsonl` with `records` (one JSON object per line)."""
        lines = [json.dumps(jsonable(r), allow_nan=False) for r in records]
        write_text(self.history_path, "".join(line + "\n" for line in lines))

    def append_history(self, record: dict) -> None:
        """Adds (or replaces) the record of `record["epoch"]`."""
        records = [r for r in self.history() if r.get("epoch") != record["epoch"]]
        self.write_history([*records, record])

    def record_metric(
        self,
        name: str,
        value: float,
        *,
        epoch: int | None = None,
        step: int | None = None,
        num_samples: int | None = None,
        feature_extractor: str | None = None,
        **details,
    ) -> dict:
        """Appends a metric evaluation to `metrics.jsonl` and makes it the model card's
        latest value of `name`. For `kgan evaluate` and metric callbacks.

        Example:
            >>> run.record_metric("fid", 12.3, epoch=20, num_samples=10000,
            ...                   feature_extractor="inception_v3")
        """
        record = {
            "metric": name,
            "value": float(value),
            "epoch": epoch,
            "step": step,
            "num_samples": num_samples,
            "feature_extractor": feature_extractor,
            **details,
            "time": now(),
        }
        append_line(self.metrics_path, json.dumps(jsonable(record), allow_nan=False))
        meta = self.metadata()
        metrics = dict(meta.get("metrics") or {})
        metrics[name] = {k: v for k, v in record.items() if k != "metric"}
        self.update_metadata(metrics=metrics)
        return record
