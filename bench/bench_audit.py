"""The monthly audit at scale beside the registry build of the same feeds, in one run.

Prints figures (not a test): `stratify build`, then `stratify audit` over the full default window
(first run), two reruns with nothing new, a rerun after one new month of operational records (an
enrolment recorded in the latest month: only that month's inputs change), and a 24-month audit
with --recompute; wall seconds and peak RSS of each child, and the database file size.
Targets: 24-month audit <= one build; rerun with nothing new <= 1/4 of the first run; file grows
<= 5 % over two reruns; 900,000 people, full default window < 10 min within 8 GB.
Run: .venv/bin/python bench/bench_audit.py --patients 100000 [--folder DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

STRATIFY = [sys.executable, "-c", "import sys; from stratify.cli import main; sys.exit(main())"]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident GB of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(STRATIFY + args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed ({status})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024**2  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--folder", type=Path, default=None, help="work folder (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--short", action="store_true", help="only the first run and one rerun (a late 900k check)"
    )
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench_audit_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "x.duckdb"
    try:
        if not (folder / "feeds").exists():
            secs, gb = timed(["synth", "--patients", str(args.patients), "--seed", str(args.seed),
                              "--out", str(folder)])  # fmt: skip
            print(f"synth {args.patients:,}: {secs:.1f} s, {gb:.2f} GB")
        db.unlink(missing_ok=True)
        build_s, build_gb = timed(["build", "--feeds", str(folder / "feeds"), "--db", str(db)])
        print(f"build: {build_s:.1f} s, peak {build_gb:.2f} GB")
        rows = {}
        rows["first run (default window)"] = timed(["audit", "--db", str(db)])
        size_first = db.stat().st_size
        rows["rerun, nothing new"] = timed(["audit", "--db", str(db)])
        if args.short:
            for name, (secs, gb) in rows.items():
                print(f"  {name:<40} {secs:7.1f} s  peak {gb:.2f} GB")
            print(
                f"  file {size_first / 1e6:.0f} MB after the first run, {db.stat().st_size / 1e6:.0f} MB after a rerun"
            )
            return
        rows["rerun again, nothing new"] = timed(["audit", "--db", str(db)])
        size_reruns = db.stat().st_size
        con = duckdb.connect(str(db))
        cut = con.execute("SELECT data_cut FROM registry.build_info").fetchall()[0][0]
        months = con.execute("SELECT count(*) FROM audit.months").fetchall()[0][0]
        person = con.execute("SELECT min(person_id) FROM registry.person").fetchall()[0][0]
        con.execute(
            "INSERT INTO ops.enrolment (person_id, action, reason, recorded_by, recorded_at) "
            "VALUES (?, 'enrolled', NULL, 'bench', CAST(? AS TIMESTAMP))",
            [person, cut],
        )
        con.close()
        rows["rerun after one new month of records"] = timed(["audit", "--db", str(db)])
        rows["24 months, --recompute"] = timed(
            ["audit", "--db", str(db), "--months", "24", "--recompute"]
        )
        print(
            f"audit ({args.patients:,} people, {months} months in the default window, data cut {cut}):"
        )
        for name, (secs, gb) in rows.items():
            print(f"  {name:<40} {secs:7.1f} s  peak {gb:.2f} GB")
        first = rows["first run (default window)"][0]
        growth = size_reruns / size_first - 1
        print(f"  file {size_first / 1e6:.0f} MB after the first run, {size_reruns / 1e6:.0f} MB after two reruns "
              f"({growth:+.1%})")  # fmt: skip
        print(
            f"  24-month audit / build: {rows['24 months, --recompute'][0] / build_s:.2f} (target <= 1)"
        )
        print(f"  rerun / first run: {rows['rerun, nothing new'][0] / first:.2f} (target <= 0.25)")
    finally:
        if not args.keep and args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
