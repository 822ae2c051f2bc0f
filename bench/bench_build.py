"""Registry build time and peak memory, next to the time DuckDB takes merely to read the feeds.

Prints figures (not a test). The target is 1,000,000 patients in under 5 minutes and 8 GB on 2
cores; the 999 test range caps a synthetic population at 909,091, so the default run is 900,000.
Run: .venv/bin/python bench/bench_build.py [--patients 900000] [--folder EXISTING_SYNTH_DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

FEEDS = (
    "patients", "gp_events", "gp_medications", "apc_spells", "ecds_attendances",
    "op_appointments", "community_contacts", "mh_contacts", "social_care_services",
)  # fmt: skip


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident GB of a child process (the largest child so far)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024


def read_only_seconds(feeds: Path) -> tuple[float, int]:
    """DuckDB decoding every column of every feed file once (no checks, no writes)."""
    con = duckdb.connect()
    rows = 0
    start = time.perf_counter()
    for feed in FEEDS:
        path = feeds / f"{feed}.parquet"
        rows += con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        con.execute(f"SELECT sum(hash(t)) FROM read_parquet('{path}') AS t").fetchall()
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=900_000)
    parser.add_argument("--folder", type=Path, default=None, help="reuse a synth output folder")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp) / "pop"
            print(f"synthesising {args.patients:,} patients ...", flush=True)
            timed([sys.executable, "-m", "stratify.cli", "synth", "--patients", str(args.patients),
                   "--seed", "1", "--out", str(folder), "--quiet"])  # fmt: skip
        read_s, rows = read_only_seconds(folder / "feeds")
        db = Path(tmp) / "bench.duckdb"
        build_s, peak = timed([sys.executable, "-m", "stratify.cli", "build", "--feeds",
                               str(folder / "feeds"), "--db", str(db), "--quiet"])  # fmt: skip
        print(f"feed rows            {rows:>14,}")
        print(f"DuckDB read only     {read_s:>12.1f} s")
        print(f"stratify build       {build_s:>12.1f} s   (target < 300 s at 1,000,000 patients)")
        print(f"build / read ratio   {build_s / read_s:>12.1f}")
        print(f"peak memory (GB)     {peak:>12.2f}     (largest child process; target < 8 GB)")


if __name__ == "__main__":
    main()
