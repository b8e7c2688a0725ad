"""The dashboard's per-class table (`kgan.dashboard.classes`) through Streamlit's AppTest, on a
conditional digits run trained and measured by kgan's real code, whose model card also holds a
`class_collapse` warning written by the real health monitor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kgan import callbacks, runs
from kgan.dashboard import classes

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NAME, PLAIN = "cond", "cond-unconditional"


class FirstImages:
    """A stand-in conditional generator that ignores z: each label's first real image."""

    num_classes = 10

    def __init__(self, images, labels):
        self.images = np.stack([images[labels == c][0] for c in range(10)])

    def generate(self, num, seed=0, labels=None, use_ema=True):
        from kgan.gan import default_labels

        return self.images[default_labels(num, 10) if labels is None else np.asarray(labels)]


@pytest.fixture(scope="module")
def class_root(tmp_path_factory) -> Path:
    from kgan import evaluation
    from kgan.config import RunConfig
    from kgan.training import train

    root = tmp_path_factory.mktemp("class-runs")
    config = RunConfig(dataset="digits", arch="dcgan", arch_kwargs={"width": 16}, conditional=True,
                       epochs=2, steps_per_epoch=2, batch_size=16, latent_dim=16, grid_size=4,
                       seed=0, eval_every=1, eval_num=100)
    run = train(config, root, name=NAME, export=False, verbose=0)
    real, labels = evaluation.Evaluator.for_config(config).real_labelled(1000)
    monitor = callbacks.HealthMonitor(run, real.reshape(len(real), -1), reference_labels=labels,
                                      verbose=False)
    monitor.set_model(FirstImages(real, labels))
    monitor.on_epoch_end(2, {})  # epoch 3: past the warm-up
    shutil.copytree(root / NAME, root / PLAIN)
    plain = runs.open_run(root, PLAIN)
    plain.update_metadata(name=PLAIN, conditional=False)
    return root


def open_run_page(root: Path, name: str, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KGAN_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(run=name)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(markdown: str) -> str:
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def test_conditional_run_shows_each_class_beside_real_data(class_root, monkeypatch):
    meta = runs.open_run(class_root, NAME).metadata()
    card = meta["metrics"]
    (collapse,) = [w for w in meta["warnings"] if w["kind"] == "class_collapse"]
    assert collapse["epoch"] == 3 and collapse["message"].startswith(
        f"class {collapse['classes'][0]}: generated samples vary 0% as much as real ones")
    at = open_run_page(class_root, NAME, monkeypatch)
    assert "Per class" in [s.value for s in at.subheader]
    (table,) = [d.value for d in at.dataframe if "spread ratio" in d.value.columns]
    assert list(table.columns) == ["class", "spread ratio", "spread ratio, real", "recall",
                                   "recall, real", "share", "monitor"]
    assert list(table["class"]) == [str(c) for c in card["spread_ratio"]["classes"]]
    np.testing.assert_allclose(table["spread ratio"], card["spread_ratio"]["spread_ratio_by_class"])
    np.testing.assert_allclose(table["recall, real"],
                               card["spread_ratio"]["recall_floor_by_class"])
    shares = card["min_share"]["share_by_class"]
    np.testing.assert_allclose(table["share"], [shares[c] for c in card["spread_ratio"]["classes"]])
    assert card["spread_ratio"]["labels_from"] == "generator"  # the classes it drew for
    flagged = table.loc[table["monitor"] == "collapse", "class"]
    assert sorted(flagged) == sorted(str(c) for c in collapse["classes"])
    warnings = [shown(w.value) for w in at.warning]
    listed = ", ".join(map(str, collapse["classes"]))
    assert f"**Class collapse (epoch 3):** inside classes {listed} the generated samples vary " \
        "too little: the generator ignores its latent there (marked *collapse* in the table)." \
        in warnings
    assert any("(class_collapse):** class " in w for w in warnings)  # the monitor's own words


def test_unconditional_runs_get_no_class_table(class_root, monkeypatch):
    at = open_run_page(class_root, PLAIN, monkeypatch)
    assert "Per class" not in [s.value for s in at.subheader]
    assert not any("spread ratio" in d.value.columns for d in at.dataframe)


def test_class_rows_survive_a_hand_made_model_card():
    meta = {
        "conditional": True,
        "class_names": ["zero", "1", "two"],
        "metrics": {
            "spread_ratio": {"classes": [0, 2, "x", True], "spread_ratio_by_class": [0.5, "bad"],
                             "recall_by_class": [0.25, 0.75]},
            "min_share": {"share_by_class": [0.6, 0.1, 0.3]},
        },
        "warnings": [{"epoch": 4, "kind": "class_collapse", "message": "m", "classes": [2]}],
    }
    rows = classes.class_rows(meta)
    assert rows == [
        {"class": "0: zero", "spread ratio": 0.5, "spread ratio, real": None, "recall": 0.25,
         "recall, real": None, "share": 0.6, "monitor": ""},
        {"class": "2: two", "spread ratio": None, "spread ratio, real": None, "recall": 0.75,
         "recall, real": None, "share": 0.3, "monitor": "collapse"},
    ]
    json.dumps(rows)
    assert classes.class_rows({"metrics": {"spread_ratio": "junk"}}) == []
    only_shares = classes.class_rows({"metrics": {"min_share": {"share_by_class": [1.0]}}})
    assert only_shares == [{"class": "0", "spread ratio": None, "spread ratio, real": None,
                            "recall": None, "recall, real": None, "share": 1.0}]
