"""Hand-made feeds for crafted patients, built into a real registry by the real build."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from stratify.registry.build import build

PRACTICE = {"practice_code": "E85001", "practice_name": "Crafted Surgery", "cluster_code": "U00001",
            "cluster_name": "Crafted PCN"}  # fmt: skip
NHS = ["9990000107", "9990000018", "9990000026", "9990000034", "9990000042", "9990000050",
       "9990000069", "9990000077", "9990000085", "9990000093"]  # fmt: skip


def patient(i: int, born: str = "1940-01-01", sex: str = "F") -> dict:
    return {
        "nhs_number": NHS[i], "given_name": f"Crafted{i}", "family_name": "Patient",
        "date_of_birth": born, "sex": sex, "ethnic_category": "A", "postcode": "W2 1AA",
        "lsoa_code": "E01000001", "practice_code": "E85001", "registration_date": "2000-01-01",
        "deregistration_date": None, "date_of_death": None,
    }  # fmt: skip


def gp_event(
    n: int, i: int, day: str, code: str, value: float | None = None, unit: str | None = None
) -> dict:
    return {"event_id": n, "nhs_number": NHS[i], "practice_code": "E85001", "event_date": day,
            "snomed_code": code, "value": value, "unit": unit}  # fmt: skip


def medication(n: int, i: int, day: str, code: str) -> dict:
    return {"issue_id": n, "nhs_number": NHS[i], "practice_code": "E85001", "issue_date": day,
            "dmd_code": code, "description": "crafted", "issue_type": "repeat"}  # fmt: skip


def registry(folder: Path, data_cut: str, feeds: dict[str, list[dict]]) -> Path:
    """Write the given feeds (others absent) and build; returns the database path."""
    (folder / "feeds").mkdir(parents=True)
    (folder / "reference").mkdir()
    for name, rows in feeds.items():
        pl.DataFrame(rows, infer_schema_length=None).write_csv(folder / "feeds" / f"{name}.csv")
    (folder / "feeds" / "manifest.json").write_text(json.dumps({"data_cut": data_cut}))
    pl.DataFrame([PRACTICE]).write_csv(folder / "reference" / "practices.csv")
    pl.DataFrame([{"lsoa_code": "E01000001", "imd_decile": 3}]).write_csv(
        folder / "reference" / "deprivation.csv"
    )
    db = folder / "stratify.duckdb"
    build(folder / "feeds", db)
    return db
