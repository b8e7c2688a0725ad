"""Dashboard speed: drawing 64 samples from a run's generator, and the page in a real browser.

In process: the time to load and compile a run's generator, then the time of one draw as the
dashboard does it (latents, compiled generator call, image grid, PNG), eager call for reference.
With `--browser`: `streamlit run app.py` on a free port driven by headless Chromium — the
first page of a fresh server (it imports TensorFlow), later page loads, and a new seed typed
into the sampling view until its image is shown, with the server's CPU time per action.

    python benchmarks/bench_dashboard.py                       # trains a preset-sized digits run
    python benchmarks/bench_dashboard.py --runs-dir saved_models --run digits --browser
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

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


def in_browser(root: Path, name: str, repeats: int, chromium: str) -> dict:
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
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
        expect.set_options(timeout=300_000)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(300_000)
            loads, load_cpu = [], []
            for _ in range(repeats + 1):
                c, t = _cpu_seconds(server.pid), time.perf_counter()
                page.goto(url)
                page.get_by_test_id("stDataFrame").wait_for()
                loads.append(time.perf_counter() - t)
                load_cpu.append(_cpu_seconds(server.pid) - c)
            page.goto(f"{url}/?view=run&run={name}&section=sample")
            page.get_by_text(re.compile(r"^\d+ samples · seed 0 ")).wait_for()
            seed = page.get_by_role("spinbutton", name="Seed", exact=True)
            trips, drawn, trip_cpu = [], [], []
            for value in range(1, repeats + 1):
                seed.fill(str(value))
                c, t = _cpu_seconds(server.pid), time.perf_counter()
                seed.press("Enter")
                shown = re.compile(rf"samples · seed {value} .*drawn in \d+ ms$")
                caption = page.get_by_text(shown)
                caption.wait_for()
                page.wait_for_function(
                    """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                         .every(i => i.complete && i.naturalWidth > 0)"""
                )
                trips.append(time.perf_counter() - t)
                trip_cpu.append(_cpu_seconds(server.pid) - c)
                drawn.append(int(re.search(r"drawn in (\d+) ms", caption.inner_text()).group(1)))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
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
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.runs_dir or Path(tmp)
        name = args.run or preset_run(root)
        results = {"run": name, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
                   "machine": platform.processor() or platform.machine()}
        results.update(in_process(root, name, args.repeats))
        if args.browser:
            results.update(in_browser(root, name, max(3, args.repeats // 4), args.chromium))
    width = max(map(len, results))
    for key, value in results.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    out = REPO / "benchmarks" / "results" / "bench_dashboard.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
