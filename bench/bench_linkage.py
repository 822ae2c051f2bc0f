"""Linkage time on a built registry: wall and CPU seconds of stratify.registry.linkage.link alone,
with the progress it prints (comparisons per blocking rule). On a shared machine the CPU seconds
are the steadier figure. Works on a copy, so the registry is untouched.

Prints figures (not a test).
Run: PYTHONPATH=. .venv/bin/python bench/bench_linkage.py --db BUILT.duckdb [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from stratify import contracts, database
from stratify.registry import linkage


def once(db: Path) -> tuple[float, float, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.duckdb"
        shutil.copy(db, copy)
        con = contracts.connect(copy)
        said: list[str] = []
        start, cpu = time.perf_counter(), os.times()
        # linkage.link reads the registry's candidates; the macros it needs come with the model.
        from stratify.registry.models import run_model

        run_model(con, "registry/linkage_candidates")
        linkage.link(con, linkage.LinkageConfig.load(), said.append)
        end = os.times()
        wall = time.perf_counter() - start
        con.close()
    used = (end.user - cpu.user) + (end.system - cpu.system)
    return wall, used, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    con = database.connect(args.db, read_only=True)
    people = con.execute("SELECT count(*) FROM registry.person").fetchall()[0][0]
    con.close()
    print(f"registry: {people:,} people; load average {os.getloadavg()[0]:.1f}")
    for i in range(args.repeat):
        wall, cpu, said = once(args.db)
        for line in said:
            print(f"  {line}")
        print(f"run {i + 1}: linkage {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
