"""`RunCard`: a run's two JSON files, `config.json` and the model card `metadata.json`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgan.runs.files import write_json
from kgan.runs.layout import FORMAT_VERSION, RunError, now
from kgan.runs.paths import RunPaths
from kgan.runs.schema import _check_metadata, _read_json

if TYPE_CHECKING:
    from kgan.config import RunConfig


class RunCard(RunPaths):
    """Reads (checked) and writes (atomically) a run's configuration and model card."""

    def config(self) -> dict:
        """`config.json`: {"format", "run", "model", "compile"}."""
        return _read_json(self.config_path, "run configuration")

    def run_config(self) -> RunConfig:
        """The run's `kgan.config.RunConfig`, read back from config.json's "run" section."""
        from kgan.config import RunConfig

        try:
            return RunConfig.from_dict(self.config()["run"])
        except (KeyError, TypeError):
            raise RunError(
                f"{self.config_path} has no valid 'run' section; the run is corrupt"
            ) from None

    def metadata(self) -> dict:
        """`metadata.json`, the model card; a `RunError` naming the field when a known field
        has the wrong type (so a tampered card shows as broken, never as a traceback)."""
        return _check_metadata(self.metadata_path, _read_json(self.metadata_path, "model card"))

    def write_config(self, config: dict) -> None:
        write_json(self.config_path, {"format": FORMAT_VERSION, **config})

    def replace_run_config(self, config: RunConfig) -> None:
        """Rewrites config.json's "run" section (a resume's new epochs, a budget's end),
        keeping the model's own config and compile config."""
        saved = {k: v for k, v in self.config().items() if k != "format"}
        self.write_config({**saved, "run": config.to_dict()})

    def update_metadata(self, **fields) -> dict:
        """Merges `fields` into the model card, stamps `updated`, and writes it atomically."""
        try:
            meta = self.metadata()
        except RunError:
            meta = {"name": self.name, "created": now()}
        meta.update(fields)
        meta["updated"] = now()
        write_json(self.metadata_path, meta)
        return meta
