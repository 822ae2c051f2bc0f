"""While the app serves, the database is held: the pipeline and a second server say so in words
(who holds it and what to do) instead of DuckDB's lock text, and a second server never says
"serving"."""

from __future__ import annotations

import subprocess
import sys

WORDS = "holds stratify.duckdb: stop it, or run the pipeline with --db on a copy"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stratify.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_the_pipeline_on_a_held_database_names_the_server_holding_it(
    fresh_server, small_population
):
    server, db = fresh_server
    feeds, _ = small_population
    for command in (["build", "--feeds", str(feeds / "feeds")], ["score"]):
        done = _run(*command, "--db", str(db), "--quiet")
        assert done.returncode == 1
        assert f"stratify serve (pid {server.proc.pid}) {WORDS}" in done.stderr
        assert "Conflicting lock" not in done.stderr


def test_a_second_server_on_a_held_database_fails_before_it_says_serving(fresh_server, app_data):
    server, db = fresh_server
    done = _run(
        "serve", "--db", str(db), "--users", str(app_data.users), "--port", str(server.port + 1)
    )
    assert done.returncode == 1
    assert "serving" not in done.stderr
    assert f"stratify serve (pid {server.proc.pid}) {WORDS}" in done.stderr
