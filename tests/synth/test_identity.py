"""Identity corruption: each real-world pattern planted at its rate and written to ground truth;
twins and families at one address in the population."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest

from stratify.synth import identity
from stratify.synth import population as pop
from stratify.synth.config import IdentityRates, QualityRates, SynthConfig

NONE = QualityRates(
    nhs_missing={},
    nhs_invalid={},
    name_typo=0.0,
    dob_error=0.0,
    postcode_typo=0.0,
    identity=IdentityRates(**{k: 0.0 for k in IdentityRates.__dataclass_fields__}),
)


def _records(n: int = 200) -> pl.DataFrame:
    born = pop.day(date(1950, 3, 7))
    return pl.DataFrame(
        {
            "nhs_number": ["9990000018"] * n,
            "given_name": ["William"] * n,
            "family_name": ["Smith-Jones"] * n,
            "date_of_birth": [born] * n,
            "sex": ["M"] * n,
            "postcode": ["W3 0SJ"] * n,
            "contact_date": [pop.day(date(2026, 1, 1))] * n,
            identity.OLD_ADDRESS: [i % 2 == 0 for i in range(n)],
        }
    )


def _plant(**rates) -> tuple[pl.DataFrame, dict[str, set[int]]]:
    quality = replace(NONE, identity=replace(NONE.identity, **rates))
    df, noise = identity.plant_identity_noise(
        _records(), "community_contacts", "contact_date", quality, np.random.default_rng(1)
    )
    return df, {kind: set(rows.tolist()) for rows, _, kind, _ in noise if len(rows)}


def _dates(df: pl.DataFrame) -> pl.Series:
    return df["date_of_birth"].cast(pl.Int32).cast(pl.Date)


def test_nothing_changes_when_every_rate_is_zero():
    df, planted = _plant()
    assert set(planted) == {"postcode_old_address"}
    assert df.drop("date_of_birth").equals(_records().drop("date_of_birth", identity.OLD_ADDRESS))


def test_the_old_address_flag_becomes_ground_truth_and_never_reaches_the_feed():
    df, planted = _plant()
    assert identity.OLD_ADDRESS not in df.columns
    assert planted["postcode_old_address"] == set(range(0, 200, 2))


def test_swapped_names_are_recorded_family_first():
    df, planted = _plant(name_swap=1.0)
    assert planted["name_swap"] == set(range(200))
    assert set(zip(df["given_name"], df["family_name"], strict=True)) == {
        ("Smith-Jones", "William")
    }


def test_a_nickname_replaces_the_given_name_with_one_of_its_short_forms():
    df, planted = _plant(nickname=1.0)
    assert planted["nickname"] == set(range(200))
    assert set(df["given_name"]) <= {"Bill", "Will", "Billy"}


def test_initial_only_keeps_the_first_letter():
    df, planted = _plant(initial_only=1.0)
    assert planted["initial_only"] == set(range(200))
    assert set(df["given_name"]) == {"W"}


def test_a_double_barrelled_surname_loses_a_part_or_its_hyphen():
    df, planted = _plant(surname_variant=1.0)
    assert planted["surname_variant"] == set(range(200))
    assert set(df["family_name"]) == {"Smith", "Jones", "Smith Jones"}


def test_a_missing_given_name_is_null():
    df, planted = _plant(given_missing=1.0)
    assert df["given_name"].null_count() == 200 and planted["given_name_missing"] == set(range(200))


def test_a_blank_given_name_is_never_planted_over_another_name_defect():
    """Else ground truth would claim an initial the file no longer holds."""
    df, planted = _plant(initial_only=0.5, given_missing=1.0)
    assert planted["initial_only"] and not planted["initial_only"] & planted["given_name_missing"]
    assert planted["initial_only"] | planted["given_name_missing"] == set(range(200))


def test_a_blank_date_of_birth_is_never_planted_over_a_wrong_one():
    df, planted = _plant(dob_day_month_swap=0.5, dob_missing=1.0)
    swapped, blank = planted["dob_day_month_swap"], planted["date_of_birth_missing"]
    assert swapped and not swapped & blank and swapped | blank == set(range(200))


def test_a_missing_date_of_birth_is_null():
    df, planted = _plant(dob_missing=1.0)
    assert df["date_of_birth"].null_count() == 200
    assert planted["date_of_birth_missing"] == set(range(200))


def test_day_and_month_are_transposed():
    df, planted = _plant(dob_day_month_swap=1.0)
    assert planted["dob_day_month_swap"] == set(range(200))
    assert set(_dates(df)) == {date(1950, 7, 3)}


def test_one_digit_of_the_year_is_wrong_and_nothing_else():
    df, planted = _plant(dob_year_digit=1.0)
    assert planted["dob_year_digit"] == set(range(200))
    dates = set(_dates(df))
    assert dates <= {date(y, 3, 7) for y in (1949, 1951, 1940, 1960)}
    assert all(sum(a != b for a, b in zip(str(d.year), "1950", strict=True)) == 1 for d in dates)


def test_rates_are_rates():
    _, planted = _plant(name_swap=0.25, initial_only=0.1)
    assert len(planted["name_swap"]) == pytest.approx(50, abs=20)
    assert len(planted["initial_only"]) == pytest.approx(20, abs=14)


@pytest.fixture(scope="module")
def people():
    cfg = SynthConfig(patients=4_000, seed=5, practice_size=(1_000, 2_500))
    rng = np.random.default_rng([cfg.seed, 0])
    places = pop.make_places(cfg, rng)
    return cfg, pop.make_people(cfg, places, rng)


def _groups(p, *columns: str) -> pl.DataFrame:
    frame = pl.DataFrame({c: getattr(p, c) for c in ("dob", "given", "family", "postcode")})
    return frame.group_by(list(columns)).agg(pl.len(), pl.col("given").n_unique().alias("names"))


def test_twins_share_birth_date_surname_and_address_but_not_their_given_name(people):
    cfg, p = people
    twins = _groups(p, "dob", "family", "postcode").filter(pl.col("len") == 2)
    expected = cfg.patients * cfg.quality.identity.twins / 2
    assert twins.height == pytest.approx(expected, rel=0.35)
    assert (twins["names"] == 2).all()


def test_families_share_a_surname_and_an_address(people):
    cfg, p = people
    homes = _groups(p, "family", "postcode").filter(pl.col("len") >= 2)
    shared = homes["len"].sum() / cfg.patients
    assert shared >= cfg.quality.identity.households * 0.8


def test_some_surnames_are_double_barrelled(people):
    cfg, p = people
    share = np.mean([("-" in f) or (" " in f) for f in p.family])
    assert share == pytest.approx(cfg.quality.identity.double_barrelled, rel=0.5)


def test_every_identity_defect_is_in_the_ground_truth_of_a_generated_population(small_population):
    folder, _ = small_population
    defects = pl.read_parquet(folder / "ground_truth" / "defects.parquet")
    found = set(defects.filter(pl.col("feed") == "community_contacts")["defect"])
    assert found >= {
        "name_swap", "nickname", "initial_only", "surname_variant", "given_name_missing",
        "date_of_birth_missing", "dob_day_month_swap", "dob_year_digit", "date_of_birth_error",
        "name_typo", "postcode_typo", "postcode_old_address",
    }  # fmt: skip
    assert not defects.filter(
        pl.col("defect").is_in(list(found - {"duplicate_row", "future_date"}))
    )["rejected"].any()
