"""The dashboard (`app.py`) through Streamlit's AppTest, on runs made by the real training code."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import app_runs
from kgan.dashboard import data, navigation, runs_view, sampling
from kgan.runs import open_run

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return app_runs.fixture_runs(tmp_path_factory.getbasetemp() / "dashboard-runs")


def open_app(root: Path, monkeypatch, **params):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KGAN_RUNS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(markdown: str) -> str:
    """The text a Markdown value shows (run-folder text arrives backslash-escaped)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def texts(at) -> str:
    """Everything the page says in text elements, joined (as shown, without the escapes)."""
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error")
    for kind in kinds:
        parts += [shown(str(e.value)) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.code]
    return "\n".join(parts)


def charts(at) -> list:
    return at.get("vega_lite_chart")


# ----------------------------------------------------------------------------- pure helpers


def test_slerp_keeps_endpoints_and_norm():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    path = sampling.slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0, rtol=1e-6)
    np.testing.assert_allclose(path[2], [3 / np.sqrt(2), 3 / np.sqrt(2), 0.0], rtol=1e-6)
    # parallel vectors fall back to a straight line
    np.testing.assert_allclose(sampling.slerp(a, 2 * a, [0.5])[0], 1.5 * a, rtol=1e-6)


def test_interpolation_latents_start_and_end_at_the_seeds():
    z = sampling.interpolation_latents(3, 4, 6, latent_dim=16)
    assert z.shape == (6, 16)
    np.testing.assert_allclose(z[0], sampling.latents(1, 3, 16)[0], atol=1e-5)
    np.testing.assert_allclose(z[-1], sampling.latents(1, 4, 16)[0], atol=1e-5)


def test_route_accepts_only_known_runs():
    known = ["digits", "ring8"]
    assert navigation.read_route({"run": "digits"}, known).view == "run"
    route = navigation.read_route({"view": "run", "run": "../etc"}, known)
    assert route.run is None and "invalid run name" in route.problems[0]
    route = navigation.read_route({"view": "compare", "runs": "digits,nope,ring8,digits"}, known)
    assert route.compare == ("digits", "ring8") and len(route.problems) == 1
    assert navigation.read_route({"view": "x", "section": "y"}, known).view == "runs"
    assert navigation.read_route(navigation.query(route), known).compare == route.compare


def test_runs_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_RUNS_DIR", raising=False)
    assert navigation.runs_root(["-q"], tmp_path) == (tmp_path / "saved_models").resolve()
    monkeypatch.setenv("KGAN_RUNS_DIR", str(tmp_path / "env"))
    assert navigation.runs_root([], tmp_path) == (tmp_path / "env").resolve()
    flag = ["--runs-dir", str(tmp_path / "flag")]
    assert navigation.runs_root(flag, ".") == (tmp_path / "flag").resolve()


def test_zip_folder_skips_links_leaving_it(tmp_path):
    import io
    import zipfile

    (tmp_path / "export" / "variables").mkdir(parents=True)
    (tmp_path / "export" / "saved_model.pb").write_bytes(b"pb")
    (tmp_path / "export" / "variables" / "v.index").write_bytes(b"ix")
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", tmp_path / "export" / "link")
    names = zipfile.ZipFile(io.BytesIO(sampling.zip_folder(tmp_path / "export"))).namelist()
    assert names == ["export/saved_model.pb", "export/variables/v.index"]


def test_compiled_sampler_draws_what_the_generator_draws(runs_root):
    """The app's compiled sampler (its speed: benchmarks/bench_dashboard.py) changes nothing."""
    from kgan import images

    run = open_run(runs_root, app_runs.DIGITS)
    info = sampling.ModelInfo.from_metadata(run.metadata())
    sampler = sampling.Sampler(run.load_generator(), info)
    z = sampling.latents(64, 2, info.latent_dim, 1.0)
    samples = sampler(z)
    np.testing.assert_allclose(samples, sampling.generate(run.load_generator(), info, z), atol=1e-5)
    png = images.png_bytes(sampling.picture(samples, info, cols=8))
    assert samples.shape == (64, 8, 8, 1) and png.startswith(b"\x89PNG")
    assert sampler(z[:5]).shape == (5, 8, 8, 1)  # any batch size, one graph


# ----------------------------------------------------------------------------- runs table


def test_empty_root_says_how_to_train(monkeypatch, tmp_path):
    at = open_app(tmp_path / "nothing-here", monkeypatch)
    page = texts(at)
    assert "There are no runs" in page
    command = f"kgan train --preset digits --name digits --runs-dir {tmp_path / 'nothing-here'}"
    assert command in page
    assert not at.dataframe


def test_runs_table_lists_every_run_and_the_broken_one(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch)
    table = at.dataframe[0].value
    assert set(table["name"]) == {
        app_runs.DIGITS,
        app_runs.CONDITIONAL,
        app_runs.RING,
        app_runs.FAILED,
        app_runs.RUNNING,
        app_runs.BROKEN,
    }
    status = dict(zip(table["name"], table["status"]))
    assert "complete" in status[app_runs.DIGITS]
    assert "running" in status[app_runs.RUNNING]
    assert "failed" in status[app_runs.FAILED]
    assert "broken" in status[app_runs.BROKEN]
    row = table[table["name"] == app_runs.RING].iloc[0]
    assert row["dataset"] == "ring8" and row["architecture"] == "mlp" and row["epochs"] == "2/2"
    assert row["modes"] >= 0  # the recorded metric is a column
    page = texts(at)
    assert "cannot be read" in page and "not valid JSON" in page  # the broken run's error
    assert "this table refreshes every 5 s" in page  # a run is training
    # the broken run cannot be opened or compared
    assert app_runs.BROKEN not in at.selectbox(key="runs_open").options


def test_runs_table_filters_and_sorts(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch)
    at.text_input(key="runs_filter").input("ring").run()
    assert list(sorted(at.dataframe[0].value["name"])) == [app_runs.RING, app_runs.FAILED]
    at.text_input(key="runs_filter").input("").run()
    at.multiselect(key="runs_status").select("complete").run()
    complete = [app_runs.DIGITS, app_runs.CONDITIONAL, app_runs.RING]
    assert set(at.dataframe[0].value["name"]) == set(complete)
    at.selectbox(key="runs_sort").select("name").run()
    at.toggle(key="runs_desc").set_value(False).run()
    assert list(at.dataframe[0].value["name"]) == sorted(complete)
    assert "3 of 6 runs" in texts(at)


def test_opening_and_comparing_from_the_table_sets_the_url(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch)
    at.selectbox(key="runs_open").select(app_runs.RING).run()
    assert at.query_params["run"] == app_runs.RING and at.query_params["view"] == "run"
    assert at.title[0].value == app_runs.RING
    at.sidebar.radio(key="nav_view").set_value("Runs").run()
    assert at.query_params["view"] == "runs"
    at.multiselect(key="runs_compare").select(app_runs.DIGITS).select(app_runs.RING).run()
    at.button(key="runs_compare_go").click().run()
    assert at.query_params["runs"] == f"{app_runs.DIGITS},{app_runs.RING}"
    assert at.title[0].value == "Compare runs"


# ----------------------------------------------------------------------------- thumbnails


def decode_thumbnail(uri: str):
    """The image of a thumbnail cell (a base64 PNG or JPEG data URI)."""
    import base64
    import io

    from PIL import Image

    match = re.fullmatch(r"data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)", uri)
    assert match, uri[:60]
    image = Image.open(io.BytesIO(base64.b64decode(match.group(2))))
    image.load()
    assert image.format.lower() == match.group(1)
    return image


def thumbnail_size(path: Path) -> tuple[int, int]:
    """The size of the image file `path` shrunk to fit THUMBNAIL_PX, keeping its aspect."""
    from PIL import Image

    with Image.open(path) as image:
        image.thumbnail((data.THUMBNAIL_PX, data.THUMBNAIL_PX))
        return image.size


def thumbnail_cells(at) -> dict:
    table = at.dataframe[0].value
    return {name: (cell if isinstance(cell, str) else None)
            for name, cell in zip(table["name"], table[runs_view.SAMPLE])}


def test_runs_table_shows_each_runs_latest_grid_as_a_thumbnail(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch)
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["name", runs_view.SAMPLE]  # beside the name
    config = json.loads(at.dataframe[0].proto.columns)[runs_view.SAMPLE]
    assert config["type_config"]["type"] == "image"
    cells = thumbnail_cells(at)
    assert cells[app_runs.BROKEN] is None
    for name in set(cells) - {app_runs.BROKEN}:
        image = decode_thumbnail(cells[name])
        assert max(image.size) <= data.THUMBNAIL_PX, (name, image.size)
        grid = open_run(runs_root, name).samples()[-1][1]
        assert image.size == thumbnail_size(grid), name  # the latest grid, shrunk
    assert runs_view.SAMPLE not in at.selectbox(key="runs_sort").options
    at.selectbox(key="runs_sort").select("name").run()  # sorting keeps each run's picture
    assert thumbnail_cells(at) == cells


@pytest.fixture(scope="module")
def thumbnail_root(runs_root, tmp_path_factory) -> Path:
    return app_runs.thumbnail_runs(tmp_path_factory.mktemp("thumbs") / "runs", runs_root)


def test_thumbnails_of_missing_garbage_and_linked_grids_are_empty(thumbnail_root, monkeypatch):
    read = []
    real_thumbnail = data.thumbnail
    real_thumbnail.clear()

    def spy(path, *args, **kwargs):
        read.append(Path(path))
        return real_thumbnail(path, *args, **kwargs)

    monkeypatch.setattr(data, "thumbnail", spy)
    at = open_app(thumbnail_root, monkeypatch)  # renders: no exception
    cells = thumbnail_cells(at)
    assert decode_thumbnail(cells[app_runs.LATEST]).size == (96, 48)  # epoch 3's 200x100 grid
    table = at.dataframe[0].value.set_index("name")
    assert table.loc[app_runs.LATEST, "sample (metric)"] == 0.5  # a metric keeps its column
    # `Run.samples()` skips links, so a linked newest grid leaves the run's own older grid.
    assert cells[app_runs.LINKED_OUT] is not None
    empty = [app_runs.NO_GRID, app_runs.GARBAGE, app_runs.TOO_LARGE, app_runs.LINKED_DIR,
             app_runs.BROKEN_WITH_GRID]
    assert {name: cells[name] for name in empty} == dict.fromkeys(empty)
    assert "cannot be read" in texts(at) and not at.error and not at.exception
    # Only files inside the runs folder were opened: not the linked ones, nor the broken run's.
    real_root = thumbnail_root.resolve()
    assert read and all(path.is_relative_to(real_root) for path in read), read
    assert {path.parts[len(real_root.parts)] for path in read} == {
        app_runs.LATEST, app_runs.GARBAGE, app_runs.TOO_LARGE, app_runs.LINKED_OUT
    }


def test_thumbnails_are_cached_and_follow_new_epochs(runs_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "runs"
    shutil.copytree(runs_root / app_runs.DIGITS, root / "a")
    open_run(root, "a").update_metadata(name="a")
    decoded = []
    real_shrink = data._shrink

    def counting(raw, px):
        decoded.append(len(raw))
        return real_shrink(raw, px)

    monkeypatch.setattr(data, "_shrink", counting)
    data.thumbnail.clear()
    at = open_app(root, monkeypatch)
    first = thumbnail_cells(at)["a"]
    assert len(decoded) == 1
    at.run()
    at.sidebar.button(key="nav_reload").click().run()
    assert len(decoded) == 1 and thumbnail_cells(at)["a"] == first  # reruns: from the cache
    run = open_run(root, "a")
    run.sample_path(3).write_bytes(app_runs.png(120, 60))  # a new epoch's grid
    at.run()
    assert len(decoded) == 2 and decode_thumbnail(thumbnail_cells(at)["a"]).size == (96, 48)
    run.sample_path(3).write_bytes(app_runs.png(60, 120))  # the same epoch rewritten
    at.run()
    assert len(decoded) == 3 and decode_thumbnail(thumbnail_cells(at)["a"]).size == (48, 96)


# ----------------------------------------------------------------------------- run page


def test_run_page_shows_curves_and_timeline(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.DIGITS)
    assert at.title[0].value == app_runs.DIGITS
    page = texts(at)
    assert "complete" in page and "digits · dcgan · hinge loss" in page
    assert "Losses" in page and "Discriminator outputs" in page
    assert len(charts(at)) >= 2
    assert [m.label for m in at.metric][:3] == ["Epochs", "Steps", "Training time"]
    timeline = at.select_slider[0]
    assert timeline.options == ["0", "1", "2"] and timeline.value == 2
    assert at.image[0].captions[0].startswith("Epoch 2")
    timeline.set_value(0).run()
    assert at.image[0].captions[0].startswith("Epoch 0")


def test_failed_run_shows_its_reason(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.FAILED)
    reason = shown(at.error[0].value)
    assert re.match(r"Training failed: (non-finite|exploding) loss at epoch 1", reason), reason
    assert "epoch 0 of 1" in texts(at)
    assert at.image[0].captions[0].startswith("Epoch 0")  # only the grid before training


def test_health_warnings_and_metrics(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.RING)
    warnings = [shown(w.value) for w in at.warning]
    assert any("Health monitor, epoch 1 (d_overpowering)" in w for w in warnings)
    assert any("discriminator wins" in w for w in warnings)  # the monitor's own message
    assert "Metrics" in texts(at) and "modes" in [m.label for m in at.metric]


def test_running_run_says_it_refreshes(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.RUNNING)
    page = texts(at)
    assert "running" in page and "Still training" in page


def test_sampling_draws_a_grid_quickly_and_offers_downloads(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.DIGITS, section="sample")
    caption = next(c.value for c in at.caption if "samples · seed" in c.value)
    assert re.match(r"64 samples · seed 0 · drawn in \d+ ms$", caption)
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads == ["Download PNG", "Download SavedModel (.zip)"]
    assert len(at.image) == 2  # the grid and the interpolation strip
    at.number_input(key="sample_seed").set_value(7).run()
    at.toggle(key="sample_trunc_on").set_value(True).run()
    at.slider(key="sample_num_image").set_value(16).run()
    assert any(c.value.startswith("16 samples · seed 7 · truncation 1") for c in at.caption)
    at.slider(key="interp_steps").set_value(5).run()
    assert not at.exception


def test_conditional_run_samples_one_class(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.CONDITIONAL, section="sample")
    choice = at.selectbox(key=f"class_{app_runs.CONDITIONAL}")
    assert choice.value is None and len(choice.options) == 11  # "all classes" + 10 digits
    choice.select_index(4).run()
    assert any("class 3" in c.value for c in at.caption)
    assert "No SavedModel export yet" in texts(at)


def test_vector_run_shows_scatter_plots(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.RING, section="sample")
    assert len(charts(at)) == 1  # the live scatter (generated over real points)
    assert any(c.value.startswith("256 points · seed 0") for c in at.caption)


def test_model_card_and_configuration(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.RING, section="card")
    card = at.dataframe[0].value
    fields = dict(zip(card["field"], card["value"]))
    assert fields["Dataset"] == "ring8" and fields["Architecture"] == "mlp"
    assert fields["Latent size"] == "8"
    assert "keras version" in fields
    config = at.dataframe[1].value
    assert dict(zip(config["option"], config["value"]))["steps_per_epoch"] == "5"
    metrics = at.dataframe[2].value
    assert list(metrics["metric"]) == ["modes"] and metrics["num_samples"][0] == 500


# ----------------------------------------------------------------------------- compare and URLs


def test_compare_puts_runs_side_by_side(runs_root, monkeypatch):
    names = [app_runs.DIGITS, app_runs.CONDITIONAL, app_runs.RING]
    at = open_app(runs_root, monkeypatch, view="compare", runs=",".join(names))
    assert at.multiselect(key="nav_compare").value == names
    assert len(at.image) == 3
    table = at.dataframe[0].value
    assert list(table["run"]) == names and table["modes"].notna().sum() == 1
    metrics = {m for name in names for m in open_run(runs_root, name).metadata()["metrics"]}
    assert len(charts(at)) == 4 + len(metrics)  # d_loss, g_loss, d_real, d_fake, each metric
    at.number_input(key="compare_seed").set_value(5).run()
    assert not at.exception


def test_bad_urls_fall_back_to_the_runs_table(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, view="run", run="../../etc")
    assert "invalid run name" in shown(at.warning[0].value)
    at = open_app(runs_root, monkeypatch, run=app_runs.BROKEN)
    assert "no readable run named 'broken'" in shown(at.warning[0].value)
    at = open_app(runs_root, monkeypatch, view="compare", runs="nope")
    assert "Choose two to four runs" in texts(at)


# ----------------------------------------------------------------------------- sample quality


def metric_cells(at) -> dict[str, str]:
    """The page's `st.metric` cells, {label: value}, as shown."""
    return {shown(m.label): shown(m.value) for m in at.metric}


@pytest.fixture(scope="module")
def below_floor_root(runs_root, tmp_path_factory) -> Path:
    """A copy of DIGITS whose model card's FID is under its real-vs-real floor, as
    `kgan.evaluation.record` writes it for a generator that replays its training images."""
    import shutil

    root = tmp_path_factory.mktemp("below-floor-runs")
    shutil.copytree(runs_root / app_runs.DIGITS, root / "copies")
    run = open_run(root, "copies")
    card = run.metadata()["metrics"]
    floor = card["fid"]["fid_floor"]
    card["fid"].update(value=0.8 * floor, fid_at_floor_num=0.8 * floor, fid_ratio=0.8,
                       below_floor=True)
    run.update_metadata(name="copies", metrics=card)
    return root


def test_runs_table_shows_fid_beside_its_floor(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch)
    table = at.dataframe[0].value
    columns = list(table.columns)
    assert columns[columns.index("fid") + 1:][:4] == list(data.FLOOR_COLUMNS)
    row = table[table["name"] == app_runs.DIGITS].iloc[0]
    card = open_run(runs_root, app_runs.DIGITS).metadata()["metrics"]
    assert row["floor N"] == card["fid"]["fid_floor_num"] == 50  # eval_num: both sides at 50
    assert row["fid floor"] == pytest.approx(card["fid"]["fid_floor"])
    assert row["fid / floor"] == pytest.approx(card["fid"]["fid_ratio"]) and row["fid / floor"] > 1
    assert not row["below floor"]  # an untrained generator is far above real data
    assert row["density"] == card["density"]["value"]  # the card's latest values
    assert row["coverage"] == card["coverage"]["value"]
    assert "under the real-vs-real floor" not in texts(at)


def test_run_page_shows_fid_beside_its_floor_and_density_coverage(runs_root, monkeypatch):
    at = open_app(runs_root, monkeypatch, run=app_runs.DIGITS)
    card = open_run(runs_root, app_runs.DIGITS).metadata()["metrics"]
    fid = card["fid"]
    cells = metric_cells(at)
    assert "Sample quality" in texts(at)
    assert cells["FID @N=50"] == f"{fid['value']:.4g}" == f"{fid['fid_at_floor_num']:.4g}"
    assert cells["Real floor @N=50"] == f"{fid['fid_floor']:.4g}"
    assert cells["FID / floor"] == f"{fid['fid_ratio']:.2f}x"
    for name in ("precision", "recall", "density", "coverage"):
        assert cells[name] == f"{card[name]['value']:.3g}"
    assert not any("real-vs-real floor" in shown(w.value) for w in at.warning)


def test_fid_below_the_floor_is_flagged(below_floor_root, monkeypatch):
    from kgan import evaluation

    at = open_app(below_floor_root, monkeypatch)
    assert at.dataframe[0].value.iloc[0]["below floor"]
    warning = shown(at.warning[0].value)
    assert warning == ("FID under the real-vs-real floor at the same N in copies: "
                       f"{evaluation.BELOW_FLOOR_WARNING}")
    at = open_app(below_floor_root, monkeypatch, run="copies")
    fid = open_run(below_floor_root, "copies").metadata()["metrics"]["fid"]
    assert metric_cells(at)["FID / floor"] == "0.80x"
    assert (f"FID {fid['value']:.4g} is under the real-vs-real floor {fid['fid_floor']:.4g} at "
            f"N=50: {evaluation.BELOW_FLOOR_WARNING}") in [shown(w.value) for w in at.warning]


# ----------------------------------------------------------------------------- hostile run folders

#: Markdown, HTML and Streamlit syntax that would make the viewer's browser fetch or link URLs
#: (and colour text, draw math) if a run folder's text were rendered as Markdown.
HOSTILE = (
    "![a](http://127.0.0.1:9/x.png) <img src=http://127.0.0.1:9/y.png> "
    "[link](http://127.0.0.1:9/z) :red[x] $x^2$ __u__ www.example.com"
)
SYNTAX = ("![", "](", "<img", ":red[", "http://", "$x", "__u", "www.")


def test_escape_renders_as_the_literal_text():
    import html

    markdown_it = pytest.importorskip("markdown_it")
    from kgan.dashboard.safe import code, escape

    renderer = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for text in (HOSTILE, "# title\n- item\n> quote\n1. one", "a|b\n-|-\n~~s~~ <b>x</b> &amp;"):
        rendered = renderer.render(escape(text)).strip()
        assert rendered.startswith("<p>") and rendered.endswith("</p>"), rendered
        inner = rendered[3:-4]
        assert "<" not in inner, rendered  # no element at all: no img, a, em, code, del, ...
        assert html.unescape(inner) == " ".join(text.split())
    rendered = renderer.render(f"folder {code('/runs/`x` $y$ ![a](b)')}").strip()
    assert rendered == "<p>folder <code>/runs/`x` $y$ ![a](b)</code></p>"


def markdown_values(at) -> list[str]:
    """Every string of the page that Streamlit renders as Markdown."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error")
    values = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    values += [m.label for m in at.metric] + [m.value for m in at.metric]
    return values + [caption for image in at.image for caption in image.captions]


def assert_inert(at) -> str:
    """No Markdown value of the page holds unescaped hostile syntax; returns them joined."""
    values = markdown_values(at)
    for value in values:
        bare = re.sub(r"\\.", "", value)  # what is left outside backslash escapes
        found = [s for s in SYNTAX if s in bare]
        assert not found, (found, value)
    return "\n".join(values)


@pytest.fixture(scope="module")
def hostile_root(runs_root, tmp_path_factory) -> Path:
    """A runs folder shared by someone hostile: text fields, warnings, metric and class names
    full of Markdown, and a broken folder whose name is Markdown."""
    import shutil

    from kgan import runs as runs_lib

    root = tmp_path_factory.mktemp("hostile-runs")
    for source, name in ((app_runs.DIGITS, "hostile"), (app_runs.CONDITIONAL, "hostile-cond")):
        shutil.copytree(runs_root / source, root / name)
        meta = json.loads((root / name / "metadata.json").read_text())
        meta.update(
            name=name, status="failed", reason=HOSTILE, dataset=HOSTILE, architecture=HOSTILE,
            loss=HOSTILE, warnings=[{"epoch": 1, "kind": HOSTILE, "message": HOSTILE}],
            metrics={HOSTILE: {"value": 0.5}, **(meta.get("metrics") or {})},
        )
        if meta.get("conditional"):
            meta["class_names"] = [HOSTILE] * meta["num_classes"]
        runs_lib.write_json(root / name / "metadata.json", meta)
    broken = root / "![b](http:127.0.0.1:9)"
    broken.mkdir()
    (broken / "metadata.json").write_text("{")
    return root


def test_hostile_runs_table_is_inert(hostile_root, monkeypatch):
    from kgan.dashboard.safe import escape

    at = open_app(hostile_root, monkeypatch)
    page = assert_inert(at)
    assert escape("![b](http:127.0.0.1:9)") in page  # the broken folder, named and escaped
    assert set(at.dataframe[0].value["reason / error"].dropna()) >= {HOSTILE}  # plain cells


def test_hostile_run_page_is_inert(hostile_root, monkeypatch):
    from kgan.dashboard.safe import escape

    at = open_app(hostile_root, monkeypatch, run="hostile")
    page = assert_inert(at)
    assert at.error[0].value == f"Training failed: {escape(HOSTILE)}"
    warning = f"**Health monitor, epoch 1 ({escape(HOSTILE)}):** {escape(HOSTILE)}"
    assert warning in [w.value for w in at.warning]
    assert f"{escape(HOSTILE)} · {escape(HOSTILE)} · {escape(HOSTILE + ' loss')}" in page
    assert escape(HOSTILE) in [m.label for m in at.metric]
    assert f"**{escape(HOSTILE)}**" in [m.value for m in at.markdown]
    for section in ("sample", "card"):
        assert_inert(open_app(hostile_root, monkeypatch, run="hostile", section=section))


def test_hostile_class_names_and_compare_are_inert(hostile_root, monkeypatch):
    from kgan.dashboard.safe import escape

    at = open_app(hostile_root, monkeypatch, run="hostile-cond", section="sample")
    at.selectbox(key="class_hostile-cond").select_index(2).run()
    assert escape(HOSTILE) in assert_inert(at)  # the caption names the class
    at = open_app(hostile_root, monkeypatch, view="compare", runs="hostile,hostile-cond")
    assert escape(HOSTILE) in assert_inert(at)
    assert len(at.image) == 2


def test_hostile_query_parameters_are_inert(hostile_root, monkeypatch):
    from kgan.dashboard.safe import escape

    at = open_app(hostile_root, monkeypatch, view=HOSTILE, section=HOSTILE)
    assert escape(f"unknown view {HOSTILE!r}; showing the runs table") in assert_inert(at)


def test_unknown_status_badge_is_escaped():
    from kgan.dashboard import run_view
    from kgan.dashboard.safe import escape

    assert run_view.status_badge("failed") == ":red-badge[failed]"
    assert run_view.status_badge(HOSTILE) == f":gray-badge[{escape(HOSTILE)}]"
    assert run_view.status_badge(["x"]).startswith(":gray-badge[")


def test_dashboard_listens_on_localhost_only():
    import tomllib

    config = Path(APP).with_name(".streamlit") / "config.toml"
    assert tomllib.loads(config.read_text())["server"]["address"] == "127.0.0.1"
