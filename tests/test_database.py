"""A database file may have any name, even one of the schemas it holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import duckdb
import pytest

from dashboards.store import Store
from stratify import database
from stratify.care.records import record_enrolment
from stratify.models.score import score
from stratify.models.train import train
from stratify.registry.build import build


def test_a_file_named_after_a_schema_collides_when_opened_directly(tmp_path):
    con = duckdb.connect(str(tmp_path / "registry.duckdb"))
    con.execute("CREATE SCHEMA registry")
    with pytest.raises(duckdb.BinderException, match="Ambiguous reference"):
        con.execute("CREATE TABLE registry.t (a INTEGER)")
    con.close()


@pytest.mark.parametrize("name", ["registry.duckdb", "staging.duckdb", "ops.duckdb"])
def test_build_train_score_and_the_app_work_on_a_file_named_after_a_schema(
    small_population, tmp_path, name
):
    folder, _ = small_population
    db = tmp_path / name
    built = build(folder / "feeds", db)
    con = database.connect(db)
    try:
        train(con)
        scored = score(con)
        person_id = con.execute("SELECT min(person_id) FROM risk.scores").fetchall()[0][0]
    finally:
        con.close()
    assert scored["people"] > 0
    store = Store(db)  # the app: reads through per-thread cursors, writes through another
    assert store.read("dq_feeds").height == len(built["feeds"])
    assert store.read("dq_builds")["build_id"][0] == built["build_id"]
    assert store.has_table("risk", "scores")
    assert store.cluster_of(person_id) is not None
    assert store.write(record_enrolment, person_id, "enrolled", "dr.a") is not None


@pytest.mark.parametrize("name", ["registry.duckdb", "any.duckdb"])
def test_cursors_made_by_many_threads_at_once_all_see_the_file(tmp_path, name):
    """The app's request threads each make a cursor from one shared connection at the same moment."""
    con = database.connect(tmp_path / name)
    con.execute("CREATE SCHEMA registry")
    con.execute("CREATE TABLE registry.t AS SELECT 7 AS a")
    start = Barrier(16)

    def read(_: int) -> int:
        start.wait()
        return database.cursor(con).execute("SELECT a FROM registry.t").fetchone()[0]

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(read, range(16))) == [7] * 16
    con.close()
