"""Dashboard speed: drawing 64 samples from a run's generator, the runs page with 100 runs,
and the page in a real browser.

In process: the time to load and compile a run's generator, then the time of one draw as the
dashboard does it (latents, compiled generator call, image grid, PNG), eager call for reference.
Then the runs page (Streamlit's AppTest, in this process) over `--many` copies of the run (its
small files and sample grids only, no training), with the thumbnail column and without it (the
page as it was before), in interleaved rounds: the first run with an empty thumbnail cache
(every grid decoded) and warm reruns, wall and CPU time, and the bytes of the table sent.
With `--browser`: `streamlit run app.py` on a free port driven by headless Chromium — the
first page of a fresh server (it imports TensorFlow), later page loads, and a new seed typed
into the sampling view until its image is shown, with the server's CPU time per action; and
page loads of the `--many` runs, with and without thumbnails.

    python benchmarks/bench_dashboard.py                       # trains a preset-sized digits run
    python benchmarks/bench_dashboard.py --runs-dir saved_models --run digits --browser
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from machine import cpu  # benchmarks/machine.py (the script's own folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def preset_run(root: Path) -> str:
    """A run with the digits preset's generator (trained one step: speed only)."""
    from kgan import presets
    from kgan.training import train

    config = presets.get("digits").replace(epochs=1, steps_per_epoch=1, eval_every=0, eval_num=10)
    train(config, root, name="digits", verbose=0)
    return "digits"


def many_runs(source_root: Path, name: str, dest: Path, count: int, grids: int) -> Path:
    """`count` copies of run `name` in `dest`, each with `grids` sample grids (the run's own
    grids, repeated as later epochs): the files the runs page reads, without the generator,
    checkpoints or export."""
    from kgan import runs as runs_lib

    source = runs_lib.open_run(source_root, name)
    files = [p for p in source.path.iterdir() if p.is_file() and p.suffix in (".json", ".jsonl")]
    sample_files = [path for _, path in source.samples()]
    if not sample_files:
        sys.exit(f"run {name!r} has no sample grids to copy")
    for i in range(count):
        folder = runs_lib.resolve(dest, f"run-{i:03d}")
        folder.mkdir(parents=True)
        for path in files:
            shutil.copy2(path, folder / path.name)
        run = runs_lib.open_run(dest, folder.name)
        run.samples_dir.mkdir()
        for epoch in range(grids):
            shutil.copyfile(sample_files[epoch % len(sample_files)], run.sample_path(epoch))
        run.update_metadata(name=run.name)
    return dest


def _without_thumbnails(frame, root, runs):
    return frame


@contextlib.contextmanager
def _thumbnails(enabled: bool):
    """The runs page as it is (`enabled`), or as it was before its thumbnail column."""
    from kgan.dashboard import runs_view

    saved = runs_view.add_thumbnails, runs_view.ROW_HEIGHT
    if not enabled:
        runs_view.add_thumbnails, runs_view.ROW_HEIGHT = _without_thumbnails, None
    try:
        yield
    finally:
        runs_view.add_thumbnails, runs_view.ROW_HEIGHT = saved


def runs_page(root: Path, warm: int, rounds: int) -> dict:
    """The runs page of `root` through AppTest, with and without thumbnails, interleaved."""
    from streamlit.testing.v1 import AppTest

    from kgan.dashboard import data

    os.environ["KGAN_RUNS_DIR"] = str(root)

    def timed(at) -> tuple[float, float]:
        c, t = time.process_time(), time.perf_counter()
        at.run()
        wall, cpu_s = time.perf_counter() - t, time.process_time() - c
        if at.exception:
            sys.exit(f"the runs page failed: {[e.value for e in at.exception]}")
        return wall, cpu_s

    timed(AppTest.from_file(str(REPO / "app.py"), default_timeout=600))  # imports, not timed
    found: dict[str, dict[str, list]] = {}
    for _ in range(rounds):
        for variant in ("plain", "thumbnails"):
            with _thumbnails(variant == "thumbnails"):
                data.thumbnail.clear()
                at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
                out = found.setdefault(variant, {"cold": [], "cold_cpu": [], "warm": [],
                                                 "warm_cpu": []})
                wall, cpu_s = timed(at)
                out["cold"].append(wall)
                out["cold_cpu"].append(cpu_s)
                for _ in range(warm):
                    wall, cpu_s = timed(at)
                    out["warm"].append(wall)
                    out["warm_cpu"].append(cpu_s)
                table = at.dataframe[0]
                out["rows"] = len(table.value)
                out["bytes"] = table.proto.ByteSize()
                if variant == "thumbnails":
                    cells = table.value[table.value.columns[1]]
                    out["thumbnails"] = int(cells.map(lambda c: isinstance(c, str)).sum())
    os.environ.pop("KGAN_RUNS_DIR", None)
    plain, thumbs = found["plain"], found["thumbnails"]
    med = statistics.median
    results = {"many_runs": thumbs["rows"], "many_thumbnails": thumbs["thumbnails"]}
    for key, label in (("cold", "cold"), ("warm", "warm_median")):
        for variant, values in (("plain", plain), ("thumbs", thumbs)):
            results[f"many_page_{label}_{variant}_ms"] = 1000 * med(values[key])
            results[f"many_page_{label}_{variant}_cpu_ms"] = 1000 * med(values[f"{key}_cpu"])
        results[f"many_page_{label}_ratio"] = med(thumbs[key]) / med(plain[key])
        results[f"many_page_{label}_cpu_ratio"] = med(thumbs[f"{key}_cpu"]) / med(
            plain[f"{key}_cpu"]
        )
    results["many_table_bytes_plain"] = plain["bytes"]
    results["many_table_bytes_thumbs"] = thumbs["bytes"]
    return results


def in_process(root: Path, name: str, repeats: int) -> dict:
    from kgan import images
    from kgan import runs as runs_lib
    from kgan.dashboard import sampling

    run = runs_lib.open_run(root, name)
    info = sampling.ModelInfo.from_metadata(run.metadata())
    start = time.perf_counter()
    sampler = sampling.Sampler(run.load_generator(), info)
    load = time.perf_counter() - start
    eager_model = run.load_generator()
    sampling.generate(eager_model, info, sampling.latents(64, 0, info.latent_dim))
    draws, cpu, eager = [], [], []
    for seed in range(repeats):
        c, t = time.thread_time(), time.perf_counter()
        z = sampling.latents(64, seed, info.latent_dim)
        samples = sampler(z, sampling.labels_for(info, 64))
        images.png_bytes(sampling.picture(samples, info, sampling.grid_columns(info, 64)))
        draws.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        t = time.perf_counter()
        sampling.generate(eager_model, info, z, sampling.labels_for(info, 64))
        eager.append(time.perf_counter() - t)
    return {
        "load_compile_warm_s": load,
        "draw64_median_ms": 1000 * statistics.median(draws),
        "draw64_p90_ms": 1000 * float(np.percentile(draws, 90)),
        "draw64_cpu_median_ms": 1000 * statistics.median(cpu),
        "eager_generator64_median_ms": 1000 * statistics.median(eager),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: `streamlit run` this (written beside the runs) for the runs page without its thumbnails.
PLAIN_APP = f"""import sys
from kgan.dashboard import navigation, render, runs_view
runs_view.add_thumbnails = lambda frame, root, runs: frame
runs_view.ROW_HEIGHT = None
render(navigation.runs_root(sys.argv[1:], {str(REPO)!r}))
"""


@contextlib.contextmanager
def streamlit_server(root: Path, app: Path = REPO / "app.py"):
    """`streamlit run app` over `root` on a free port, started and healthy: (url, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--", "--runs-dir", str(root),
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"streamlit did not start: {' '.join(map(str, command))}")
            time.sleep(0.2)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def many_in_browser(root: Path, count: int, repeats: int, chromium: str) -> dict:
    """Page loads of the runs page over `root` (`count` runs) in Chromium, with the thumbnails
    and without (a second server running `PLAIN_APP`); the first load of each fresh server
    (TensorFlow imports, an empty thumbnail cache) is left out of the medians."""
    from playwright.sync_api import sync_playwright

    plain_app = root / ".bench_plain_app.py"  # hidden: not a run folder
    plain_app.write_text(PLAIN_APP)
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for variant, app in (("plain", plain_app), ("thumbs", REPO / "app.py")):
            with streamlit_server(root, app) as (url, pid):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                loads, load_cpu = [], []
                for _ in range(repeats + 1):
                    c, t = _cpu_seconds(pid), time.perf_counter()
                    page.goto(url)
                    page.get_by_text(f"{count} of {count} runs").wait_for()
                    loads.append(time.perf_counter() - t)
                    load_cpu.append(_cpu_seconds(pid) - c)
                page.close()
            found[variant] = (loads[0], statistics.median(loads[1:]),
                              statistics.median(load_cpu[1:]))
        browser.close()
    plain_app.unlink()
    results = {}
    for variant, (cold, warm, warm_cpu) in found.items():
        results[f"many_browser_first_{variant}_s"] = cold
        results[f"many_browser_load_median_{variant}_s"] = warm
        results[f"many_browser_load_server_cpu_{variant}_ms"] = 1000 * warm_cpu
    results["many_browser_load_ratio"] = found["thumbs"][1] / found["plain"][1]
    results["many_browser_server_cpu_ratio"] = found["thumbs"][2] / found["plain"][2]
    return results


def in_browser(root: Path, name: str, repeats: int, chromium: str) -> dict:
    from playwright.sync_api import expect, sync_playwright

    with streamlit_server(root) as (url, pid):
        expect.set_options(timeout=300_000)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(300_000)
            loads, load_cpu = [], []
            for _ in range(repeats + 1):
                c, t = _cpu_seconds(pid), time.perf_counter()
                page.goto(url)
                page.get_by_test_id("stDataFrame").wait_for()
                loads.append(time.perf_counter() - t)
                load_cpu.append(_cpu_seconds(pid) - c)
            page.goto(f"{url}/?view=run&run={name}&section=sample")
            page.get_by_text(re.compile(r"^\d+ samples · seed 0 ")).wait_for()
            seed = page.get_by_role("spinbutton", name="Seed", exact=True)
            trips, drawn, trip_cpu = [], [], []
            for value in range(1, repeats + 1):
                seed.fill(str(value))
                c, t = _cpu_seconds(pid), time.perf_counter()
                seed.press("Enter")
                shown = re.compile(rf"samples · seed {value} .*drawn in \d+ ms$")
                caption = page.get_by_text(shown)
                caption.wait_for()
                page.wait_for_function(
                    """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                         .every(i => i.complete && i.naturalWidth > 0)"""
                )
                trips.append(time.perf_counter() - t)
                trip_cpu.append(_cpu_seconds(pid) - c)
                drawn.append(int(re.search(r"drawn in (\d+) ms", caption.inner_text()).group(1)))
            browser.close()
    return {
        "runs_page_cold_s": loads[0],
        "runs_page_cold_server_cpu_s": load_cpu[0],
        "runs_page_warm_median_s": statistics.median(loads[1:]),
        "runs_page_warm_server_cpu_median_ms": 1000 * statistics.median(load_cpu[1:]),
        "new_seed_to_image_median_ms": 1000 * statistics.median(trips),
        "new_seed_server_cpu_median_ms": 1000 * statistics.median(trip_cpu),
        "new_seed_server_draw_median_ms": statistics.median(drawn),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", type=Path, help="a runs root (default: a temporary one)")
    parser.add_argument("--run", help="the run to sample (default: train a preset-sized one)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--many", type=int, default=100, help="runs on the runs page (0: skip)")
    parser.add_argument("--grids", type=int, default=20, help="sample grids per copied run")
    parser.add_argument("--page-repeats", type=int, default=10, help="warm runs page reruns")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs page rounds")
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as many_tmp:
        root = args.runs_dir or Path(tmp)
        name = args.run or preset_run(root)
        results = {"run": name, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
                   **cpu()}
        results.update(in_process(root, name, args.repeats))
        if args.many:
            many = many_runs(root, name, Path(many_tmp), args.many, args.grids)
            results.update(runs_page(many, args.page_repeats, args.rounds))
        if args.browser:
            results.update(in_browser(root, name, max(3, args.repeats // 4), args.chromium))
            if args.many:
                reloads = max(3, args.repeats // 4)
                results.update(many_in_browser(many, args.many, reloads, args.chromium))
    width = max(map(len, results))
    for key, value in results.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    out = REPO / "benchmarks" / "results" / "bench_dashboard.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
