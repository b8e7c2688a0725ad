"""The dashboard in a real browser: `streamlit run app.py` on a free port, driven by headless
Chromium (Debian's `chromium`, through Playwright with the system executable)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import app_runs

APP = Path(__file__).resolve().parents[1] / "app.py"
CHROMIUM = os.environ.get("KGAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 120_000  # a cold server imports TensorFlow on its first page

# Decided before any fixture runs, so a machine without the browser trains nothing here.
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason=f"Chromium is not installed at {CHROMIUM}: install Debian's package with "
    "`apt-get install -y --no-install-recommends chromium` (or set KGAN_CHROMIUM)",
)


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    return app_runs.fixture_runs(tmp_path_factory.getbasetemp() / "dashboard-runs")


@pytest.fixture(scope="module")
def browser():
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(runs_root, tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--", "--runs-dir", str(runs_root),
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log_path, "wb") as log:
        # From the repository root, as the README runs it (so .streamlit/config.toml applies).
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=APP.parent
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _images_loaded(page, at_least: int) -> None:
    page.wait_for_function(
        """n => {
            const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
            return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=at_least,
        timeout=TIMEOUT_MS,
    )


def test_browse_open_a_run_and_draw_samples(browser, server, tmp_path):
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)

    # The runs table; the first page of a fresh server also imports TensorFlow.
    start = time.perf_counter()
    page.goto(server)
    page.get_by_test_id("stDataFrame").wait_for()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    page.reload()
    page.get_by_test_id("stDataFrame").wait_for()
    warm = time.perf_counter() - start
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
    expect(page.get_by_text("1 run folder(s) cannot be read")).to_be_visible()
    expect(page.get_by_text("6 of 6 runs")).to_be_visible()

    # Open a run from the table's picker: the URL names it. The thumbnails' taller rows put
    # the picker at the 1000 px viewport's lower edge; while a run is live, a click that first
    # scrolls it into view left its list closed (headless Chromium 150), so scroll first.
    picker = page.get_by_role("combobox", name="Open a run")
    picker.scroll_into_view_if_needed()
    picker.click()
    page.get_by_role("option", name=app_runs.DIGITS, exact=True).click()
    expect(page.get_by_role("heading", name=app_runs.DIGITS, level=1)).to_be_visible()
    assert f"run={app_runs.DIGITS}" in page.url
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert page.get_by_test_id("stVegaLiteChart").count() >= 2  # losses and D outputs
    expect(page.get_by_text("Training timeline")).to_be_visible()
    _images_loaded(page, 1)  # the epoch's sample grid

    # Draw samples, then a new seed.
    page.get_by_text("Sample", exact=True).click()
    first = page.get_by_text(re.compile(r"^64 samples · seed 0 · drawn in \d+ ms$"))
    expect(first).to_be_visible()
    _images_loaded(page, 2)  # the grid and the interpolation strip
    assert "section=sample" in page.url
    seed = page.get_by_role("spinbutton", name="Seed", exact=True)
    seed.fill("5")
    start = time.perf_counter()
    seed.press("Enter")
    caption = page.get_by_text(re.compile(r"^64 samples · seed 5 · drawn in \d+ ms$"))
    expect(caption).to_be_visible()
    _images_loaded(page, 2)
    round_trip = time.perf_counter() - start
    drawn_ms = int(re.search(r"drawn in (\d+) ms", caption.inner_text()).group(1))
    expect(page.get_by_role("button", name="Download PNG")).to_be_visible()
    expect(page.get_by_role("button", name="Download SavedModel (.zip)")).to_be_visible()

    shot = tmp_path / "dashboard-sample.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # Timings are reported, not asserted (benchmarks/bench_dashboard.py measures them).
    print(
        f"\npage load: cold {cold:.2f} s, warm {warm:.2f} s; 64 samples: drawn in {drawn_ms} ms "
        f"on the server, {round_trip * 1000:.0f} ms from Enter to the image in the browser; "
        f"screenshot {shot}"
    )
    page.close()


def test_a_running_run_refreshes_as_epochs_land(browser, server, runs_root):
    """A real training session continues a run while its page is open; the page follows it to
    the end without a reload (the live fragments re-read the run every few seconds)."""
    import keras

    from kgan import runs as runs_lib
    from kgan.training import train

    expect = sync_api.expect

    class Gate(keras.callbacks.Callback):
        """Holds the resumed session at the start of its last epoch until the page is open."""

        def __init__(self):
            super().__init__()
            self.ready, self.go = threading.Event(), threading.Event()

        def on_epoch_begin(self, epoch, logs=None):
            self.ready.set()
            self.go.wait(timeout=300)

    name = "digits-growing"
    shutil.copytree(runs_lib.resolve(runs_root, app_runs.DIGITS), runs_lib.resolve(runs_root, name))
    gate, errors = Gate(), []

    def resume():
        try:
            train(None, runs_root, name=name, resume=True, epochs=3, export=False, verbose=0,
                  callbacks=[gate])
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))
        finally:
            gate.ready.set()

    worker = threading.Thread(target=resume)
    worker.start()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    try:
        assert gate.ready.wait(timeout=300) and not errors, errors
        page.goto(f"{server}/?view=run&run={name}")
        expect(page.get_by_text("Still training")).to_be_visible()
        expect(page.get_by_text("epoch 2 of 3", exact=False)).to_be_visible()
        gate.go.set()  # let the last epoch run
        expect(page.get_by_text("epoch 3 of 3", exact=False)).to_be_visible()
        expect(page.get_by_text("complete", exact=True)).to_be_visible()
        expect(page.get_by_text("Still training")).to_have_count(0)
    finally:
        gate.go.set()
        worker.join()
        page.close()
    assert not errors, errors
