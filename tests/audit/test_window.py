"""The audit's default window is bounded however old the records are."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from stratify.audit.window import default_months, settings
from stratify.models.train import TrainError, data_cut


def test_records_back_to_1971_do_not_widen_the_default_window(scored_registry, tmp_path):
    db = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], db)
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO registry.spells (person_id, admission_date, discharge_date, is_emergency) "
        "SELECT min(person_id), DATE '1971-03-02', DATE '1971-03-05', true FROM registry.person"
    )
    months = default_months(con)
    cut = data_cut(con)
    con.close()
    assert len(months) == settings()["window_months"]
    assert months[-1] == cut


def test_no_spell_is_a_friendly_error(scored_registry, tmp_path):
    db = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], db)
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM registry.spells")
    with pytest.raises(TrainError, match="no accepted hospital spell"):
        default_months(con)
    con.close()


def test_the_window_starts_a_year_after_the_first_spell(scored_registry, tmp_path):
    db = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], db)
    con = duckdb.connect(str(db))
    first = con.execute("SELECT min(admission_date) FROM registry.spells").fetchall()[0][0]
    months = default_months(con)
    con.close()
    assert months[0] >= date(first.year + 1, first.month, 1)
