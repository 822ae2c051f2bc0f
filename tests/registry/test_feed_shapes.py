"""Feeds as suppliers send them build the same registry as clean ones: NHS numbers written with
spaces or hyphens, spells whose dates arrive as yyyymmdd integers (declared in the contract)."""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest

from stratify.registry.build import build

# person_id is a pseudonym salted per database, so records are compared by their person's number.
TABLES = {
    "registry.person": "nhs_number, date_of_birth, practice_code",
    "registry.spells": "spell_id, admission_date, discharge_date, is_emergency, primary_diagnosis",
    "registry.ae_attendances": "t.* EXCLUDE (person_id)",
    "registry.gp_medications": "t.* EXCLUDE (person_id)",
    "staging.feed_loads": "feed, rows_read, rows_accepted, rows_quarantined, rows_flagged",
}


def _rows(db, table: str, columns: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    person = "" if table in ("registry.person", "staging.feed_loads") else (
        ", p.nhs_number FROM {} AS t LEFT JOIN registry.person AS p USING (person_id)"
    )  # fmt: skip
    source = person.format(table) if person else f" FROM {table} AS t"
    try:
        return con.sql(f"SELECT {columns}{source} ORDER BY ALL").pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def plain_registry(small_population, tmp_path_factory):
    """The small population with every NHS number written plainly and the spells' dates as
    yyyymmdd integers, built into its own registry."""
    folder, _ = small_population
    copy = tmp_path_factory.mktemp("plain")
    shutil.copytree(folder / "feeds", copy / "feeds")
    shutil.copytree(folder / "reference", copy / "reference")
    digits = pl.col("nhs_number").str.replace_all(r"[ -]", "")
    for feed in ("patients", "gp_medications", "apc_spells", "ecds_attendances"):
        path = copy / "feeds" / f"{feed}.parquet"
        frame = pl.read_parquet(path).with_columns(nhs_number=digits)
        if feed == "apc_spells":
            frame = frame.with_columns(
                pl.col(c).dt.strftime("%Y%m%d").cast(pl.Int32)
                for c in ("admission_date", "discharge_date")
            )
        frame.write_parquet(path)
    db = copy / "plain.duckdb"
    build(copy / "feeds", db)
    return db


@pytest.mark.parametrize("table", list(TABLES))
def test_nhs_numbers_with_spaces_and_integer_dates_build_the_same_registry(
    built_registry, plain_registry, table
):
    db, _ = built_registry
    ours = _rows(db, table, TABLES[table])
    assert ours.height > 0
    assert ours.equals(_rows(plain_registry, table, TABLES[table]))


def test_the_integer_dates_were_really_integers(small_population, plain_registry):
    spells = pl.read_parquet(plain_registry.parent / "feeds" / "apc_spells.parquet")
    assert spells.schema["admission_date"] == pl.Int32
