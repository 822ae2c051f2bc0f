"""Synthesis speed and peak memory at 100,000 and 900,000 patients (prints figures, not a test).

The 999 test range holds 909,091 valid NHS numbers, so 900,000 is the largest population the
generator can make; the 1,000,000 figure is extrapolated linearly from it and labelled as such.
Run: .venv/bin/python bench/bench_synth.py [--sizes 100000 900000]
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(patients: int, folder: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GB) of one `stratify synth` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "stratify.cli",
            "synth",
            "--patients",
            str(patients),
            "--seed",
            "1",
            "--out",
            str(folder),
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb < before:  # ru_maxrss is the largest child so far; the first run sets it
        peak_kb = before
    return seconds, peak_kb / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 900_000])
    args = parser.parse_args()
    cpus = len(__import__("os").sched_getaffinity(0))
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    print(f"{'patients':>10} {'seconds':>9} {'peak GB':>8} {'target':>22}")
    for n in sorted(args.sizes):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, peak = run(n, Path(tmp) / "pop")
        target = "< 60 s" if n <= 100_000 else "< 600 s and < 8 GB at 1M"
        print(f"{n:>10,} {seconds:>9.1f} {peak:>8.2f} {target:>22}", flush=True)
        if n == 900_000:
            print(f"{'1,000,000':>10} {seconds / 0.9:>9.1f} {'':>8} {'(extrapolated x 1/0.9)':>22}")


if __name__ == "__main__":
    main()
