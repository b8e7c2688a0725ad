"""The performance suite of issue 13 in one command: B1 (against the Keras guide's GAN), B2
(FLOP/s against the matmul rate), B3 (input pipeline), B4 (scaling) and B6 (serving), each
script in its own process, one after the other (never two at once: they time the same cores).
B5 (quality per CPU-minute, ~35 minutes, needs --data-dir) runs when `--only` names it.

Each script's last line is its JSON; the suite writes them together, with the machine, to
`benchmarks/results/suite-<UTC time>.json` and prints one line per target.

    python benchmarks/suite.py --data-dir DIR        # DIR: a TFDS folder with mnist prepared
    python benchmarks/suite.py --only B1,B6
    python benchmarks/suite.py --data-dir DIR --only B5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402

HERE = Path(__file__).resolve().parent


def scripts(data_dir: str | None) -> dict[str, list[str]]:
    """Each benchmark's command line (the script and its arguments)."""
    presets = ["--data-dir", data_dir] if data_dir else ["--presets", "digits"]  # mnist needs DIR
    return {
        "B1": ["bench_reference.py"],
        "B2": ["bench_efficiency.py", *presets],
        "B3": ["bench_data_pipeline.py"],
        "B4": ["bench_scaling.py"],
        "B5": ["bench_budget.py", *(["--data-dir", data_dir] if data_dir else [])],
        "B6": ["bench_serving.py", *presets],
    }


def summary(name: str, report: dict) -> str:
    """The line of one benchmark against its target."""
    if name == "B1":
        result = report["result"]
        kgan = result["kgan"]["ratio"]
        best = max((k for k in result if k.startswith("kgan")), key=lambda k: result[k]["ratio"])
        return (f"B1 kgan / Keras guide GAN images/s: {kgan:.2f}x as compiled by default, "
                f"{result[best]['ratio']:.2f}x for '{best}' (target >= 1.5x)")
    if name == "B5":
        ref = {p["budget_minutes"]: p for r in report["runs"] if r["recipe"] == "reference"
               for p in r["points"]}
        parts = [f"{p['budget_minutes']:g} min FID {p['fid_at_floor_num']:.2f} "
                 f"({p['fid_ratio']:.1f}x floor, "
                 f"{p['fid_at_floor_num'] / ref[p['budget_minutes']]['fid_at_floor_num']:.2f}x "
                 "reference)" for r in report["runs"] if r["recipe"] == "preset"
                 for p in r["points"] if p["budget_minutes"] in ref]
        return ("B5 mnist preset: " + ", ".join(parts)
                + " (targets <= 0.1x reference, <= 3x floor at 15 min)")
    if name == "B2":
        best = max(report["rows"], key=lambda r: r["vs_float32_matmul"])
        return (f"B2 best share of float32 matmul rate: {best['vs_float32_matmul']:.2f} "
                f"({best['preset']}, {best['variant']}; target >= 0.8)")
    if name == "B3":
        return f"B3 input pipeline / in-memory steps/s: {report['ratio']:.3f} (target >= 0.97)"
    if name == "B4":
        rows = [r for r in report["rows"] if r["axis"] == "batch"]
        first, last = rows[0], rows[-1]
        return (f"B4 ms per image, batch {first['batch']} -> {last['batch']}: "
                f"{first['ms_per_image']:.3f} -> {last['ms_per_image']:.3f}")
    if name == "B6":
        parts = []
        for preset, entry in report["presets"].items():
            for n, rows in entry["timings"].items():
                parts.append(f"{preset}x{n} {rows['sample']['median_ms']:.1f} ms")
        return "B6 export sample median: " + ", ".join(parts)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="TFDS folder with mnist prepared")
    parser.add_argument("--only", default="B1,B2,B3,B4,B6")
    args = parser.parse_args()

    commands = scripts(args.data_dir)
    wanted = args.only.split(",")
    unknown = sorted(set(wanted) - set(commands))
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(commands)}")
    reports, lines = {}, []
    for name in wanted:
        script, *rest = commands[name]
        print(f"== {name}: python benchmarks/{script} {' '.join(rest)}", flush=True)
        out = subprocess.run([sys.executable, str(HERE / script), *rest], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"{name} ({script}) failed:\n{out.stderr[-2000:]}")
        printed = [line for line in out.stdout.splitlines() if line.strip()]
        print("\n".join(printed[:-1]), flush=True)
        reports[name] = json.loads(printed[-1])
        lines.append(summary(name, reports[name]))

    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / time.strftime("suite-%Y%m%dT%H%M%SZ.json", time.gmtime())
    tmp = path.with_suffix(".tmp")
    facts = cpu()
    tmp.write_text(json.dumps({"machine": facts, "reports": reports}, indent=1))
    tmp.replace(path)
    print(f"\n# {facts['cpu_model']} ({facts['cores']} cores); flags: {facts['cpu_flags']}")
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
