"""Registry build time per stage and peak memory, next to the time DuckDB takes merely to read
(and to copy) the feeds.

Prints figures (not a test): the read of every feed file, staging per feed with rows/s (the
contract checks, cleaning and the write of staging.<feed> and staging.quarantine, in one pass per
feed), linkage, the registry models and the report. The targets: 1,000,000 patients in under 5
minutes and 8 GB on 2 cores (the 999 test range caps a synthetic population at 909,091, so the
default run is 900,000), and staging at >= 2M rows/s.
Run: .venv/bin/python bench/bench_build.py [--patients 900000] [--folder EXISTING_SYNTH_DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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

# The build in a child process, every progress message stamped with the wall clock.
CHILD = """
import json, sys, time
from pathlib import Path
from stratify.registry.build import build
said = []
build(Path(sys.argv[1]), Path(sys.argv[2]),
      say=lambda m: said.append((time.perf_counter(), time.process_time(), m)))
print(json.dumps(said))
"""


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall and CPU seconds, peak resident GB of a child process (the largest child so far), and
    what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, after.ru_maxrss / 1024 / 1024, out


def read_seconds(feeds: Path) -> tuple[dict[str, float], int, float]:
    """Per feed, DuckDB decoding every column once (no checks, no writes); the total rows; and
    the seconds to copy every feed into a table of a database file (a bare staging)."""
    con = duckdb.connect()
    rows, per_feed = 0, {}
    for feed in FEEDS:
        path = feeds / f"{feed}.parquet"
        start = time.perf_counter()
        rows += con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        con.execute(f"SELECT sum(hash(t)) FROM read_parquet('{path}') AS t").fetchall()
        per_feed[feed] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        copy = duckdb.connect(str(Path(tmp) / "copy.duckdb"))
        start = time.perf_counter()
        copy.execute("BEGIN")
        for feed in FEEDS:
            copy.execute(
                f"CREATE TABLE {feed} AS SELECT * FROM read_parquet('{feeds / feed}.parquet')"
            )
        copy.execute("COMMIT")
        copied = time.perf_counter() - start
        copy.close()
    return per_feed, rows, copied


def stages(said: list[tuple[float, float, str]]) -> dict:
    """Stage wall times (and the CPU seconds of staging) from the build's progress messages."""
    staged, out = {}, {}
    for _, _, message in said:
        m = re.match(r"staged (\w+): read ([\d,]+) .*\(([\d.]+)s\)$", message)
        if m:
            staged[m.group(1)] = (int(m.group(2).replace(",", "")), float(m.group(3)))
        m = re.match(r"(linkage|registry models) done \(([\d.]+)s\)$", message)
        if m:
            out[m.group(1)] = float(m.group(2))
    reads = [(t, c) for t, c, m in said if m.startswith("read ")]
    done = [(t, c) for t, c, m in said if m.startswith("staged ")]
    out["read"] = reads[-1][0] - said[0][0]
    out["staged"] = staged
    out["staging"] = done[-1][0] - reads[-1][0]
    out["staging_cpu"] = done[-1][1] - reads[-1][1]
    models = [t for t, _, m in said if m.startswith("registry models done")]
    linked = [t for t, _, m in said if m.startswith("linkage done")]
    out["report"] = said[-1][0] - (models or linked)[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=900_000)
    parser.add_argument("--folder", type=Path, default=None, help="reuse a synth output folder")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python "
        f"{platform.python_version()}, load average {load:.1f} at the start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp) / "pop"
            print(f"synthesising {args.patients:,} patients ...", flush=True)
            timed([sys.executable, "-m", "stratify.cli", "synth", "--patients", str(args.patients),
                   "--seed", "1", "--out", str(folder), "--quiet"])  # fmt: skip
        read, rows, copied = read_seconds(folder / "feeds")
        db = Path(tmp) / "bench.duckdb"
        build_s, cpu, peak, out = timed(
            [sys.executable, "-c", CHILD, str(folder / "feeds"), str(db)]
        )
        s = stages(json.loads(out.splitlines()[-1]))
    staged_rows = sum(n for n, _ in s["staged"].values())
    print(f"feed rows              {rows:>14,}")
    print(
        f"DuckDB read only       {sum(read.values()):>12.1f} s   (every column of every feed once)"
    )
    print(f"DuckDB copy to a file  {copied:>12.1f} s   (every feed into a table, no checks)")
    print(f"read + column checks   {s['read']:>12.1f} s")
    print("staging per feed (checks, cleaning, staging.<feed>, staging.quarantine):")
    for feed, (n, secs) in s["staged"].items():
        rate = f"{n / secs / 1e6:>6.2f}M rows/s" if secs > 0 else ""
        print(f"  {feed:<22} {n:>12,} rows {secs:>7.2f} s {rate}")
    rate = staged_rows / s["staging"] / 1e6
    print(f"staging                {s['staging']:>12.1f} s   {rate:.2f}M rows/s (target >= 2M)")
    cpu_rate = staged_rows / s["staging_cpu"] / 1e6
    print(
        f"staging CPU            {s['staging_cpu']:>12.1f} s   {cpu_rate:.2f}M rows per CPU second"
    )
    print(f"linkage                {s['linkage']:>12.1f} s")
    print(f"registry models        {s.get('registry models', float('nan')):>12.1f} s")
    print(f"report and commit      {s['report']:>12.1f} s   (with the models when not timed apart)")
    print(f"stratify build         {build_s:>12.1f} s   (CPU {cpu:.1f} s; target < 300 s at 1M)")
    print(f"build / read ratio     {build_s / sum(read.values()):>12.1f}")
    print(f"peak memory (GB)       {peak:>12.2f}     (largest child process; target < 8 GB)")
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine)")


if __name__ == "__main__":
    main()
