"""Gates on a delivery: a bad delivery never silently replaces a good registry."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from stratify import database
from stratify.registry import gates
from stratify.registry.build import BuildRefused, build

SETTINGS = gates.GateSettings.load()
REGISTRY = [
    "registry.person", "registry.spells", "registry.events", "registry.gp_events",
    "staging.apc_spells", "staging.feed_loads", "registry.dq_gate_metrics",
]  # fmt: skip


# Rules, on small literal figures -------------------------------------------------------------


def _loads(**rows: tuple[int, int]) -> pl.DataFrame:
    """feed=(rows read, rows accepted)"""
    return pl.DataFrame(
        {
            "feed": list(rows),
            "rows_read": [r for r, _ in rows.values()],
            "rows_accepted": [a for _, a in rows.values()],
        }
    )


def _previous(**rows: tuple[int, int, int]) -> gates.Previous:
    """feed=(rows read, rows accepted, people)"""
    feeds = _loads(**{f: (r, a) for f, (r, a, _) in rows.items()}).with_columns(
        people=pl.Series([p for _, _, p in rows.values()])
    )
    latest = pl.DataFrame(
        schema={"practice_code": pl.String, "feed": pl.String, "latest_event_date": pl.Date}
    )
    return gates.Previous("before", feeds, latest)


def _failed(comparison: gates.Comparison) -> set[tuple[str, str]]:
    return {(g.gate, g.feed) for g in comparison.refusals}


def test_a_first_build_is_held_only_to_the_absolute_gates():
    result = gates.evaluate(_loads(patients=(100, 100), apc_spells=(50, 50)), None, SETTINGS)
    assert {g.gate for g in result.gates} == {"patients_empty", "acceptance_rate"}
    assert result.refusals == []


def test_a_feed_whose_rows_fall_by_more_than_its_share_is_refused():
    before = _previous(patients=(100, 100, 100), apc_spells=(100, 100, 60))
    result = gates.evaluate(_loads(patients=(100, 100), apc_spells=(79, 79)), before, SETTINGS)
    assert _failed(result) == {("rows_fell", "apc_spells")}
    assert "down 21.0%" in result.refusals[0].reason


def test_a_fall_within_the_share_passes():
    before = _previous(patients=(100, 100, 100), apc_spells=(100, 100, 60))
    result = gates.evaluate(_loads(patients=(100, 100), apc_spells=(80, 80)), before, SETTINGS)
    assert result.refusals == []


def test_a_per_feed_override_replaces_the_default_share():
    loose = gates.GateSettings(**{**SETTINGS.__dict__, "overrides": {"apc_spells": {"max_row_fall": 0.5}}})  # fmt: skip
    before = _previous(patients=(100, 100, 100), apc_spells=(100, 100, 60))
    result = gates.evaluate(_loads(patients=(100, 100), apc_spells=(60, 60)), before, loose)
    assert result.refusals == []
    assert loose.limits("apc_spells").min_acceptance_rate == SETTINGS.default.min_acceptance_rate


def test_a_feed_accepting_less_than_its_threshold_is_refused_with_the_main_reason():
    result = gates.evaluate(
        _loads(patients=(100, 100), apc_spells=(100, 0)),
        None,
        SETTINGS,
        top_reasons={"apc_spells": "type (admission_date)"},
    )
    assert _failed(result) == {("acceptance_rate", "apc_spells")}
    assert "0 of 100 rows accepted" in result.refusals[0].reason
    assert "type (admission_date)" in result.refusals[0].reason


def test_a_file_with_fewer_rows_than_its_manifest_is_refused():
    result = gates.evaluate(
        _loads(patients=(100, 100), apc_spells=(50, 50)),
        None,
        SETTINGS,
        manifest={"patients": 100, "apc_spells": 51},
    )
    assert _failed(result) == {("manifest_rows", "apc_spells")}


def test_patients_losing_more_than_the_share_of_people_is_refused():
    before = _previous(patients=(100, 100, 100))
    now = _loads(patients=(100, 94)).with_columns(people=pl.lit(94))
    assert _failed(gates.evaluate(now, before, SETTINGS)) == {("people_lost", "patients")}


def test_a_feed_reaching_fewer_people_only_because_fewer_are_registered_passes():
    before = _previous(patients=(100, 100, 100), gp_events=(500, 500, 80))
    now = _loads(patients=(100, 100), gp_events=(500, 500)).with_columns(people=pl.Series([50, 40]))
    result = gates.evaluate(
        now, before, SETTINGS, accepted=[gates.AcceptedDrop("patients", "a", "b")]
    )
    assert ("people_fell", "gp_events") not in {
        (g.gate, g.feed) for g in result.gates if not g.passed
    }
    assert result.feeds["gp_events"]["people_fall"] == 0.5
    assert result.feeds["gp_events"]["people_fall_beyond_patients"] == 0.0


def test_a_feed_reaching_fewer_people_than_the_registered_fall_explains_is_refused():
    before = _previous(patients=(100, 100, 100), gp_events=(500, 500, 80))
    now = _loads(patients=(100, 100), gp_events=(500, 500)).with_columns(
        people=pl.Series([100, 60])
    )
    assert _failed(gates.evaluate(now, before, SETTINGS)) == {("people_fell", "gp_events")}


def test_a_latest_event_date_going_back_at_a_practice_is_refused():
    before = _previous(patients=(100, 100, 100), apc_spells=(100, 100, 60))
    before.latest = pl.DataFrame(
        {"practice_code": ["A1", "A2"], "feed": "apc_spells",
         "latest_event_date": [date(2026, 10, 30), date(2026, 10, 30)]}
    )  # fmt: skip
    now = _loads(patients=(100, 100), apc_spells=(100, 100)).with_columns(
        people=pl.Series([100, 60])
    )
    latest = before.latest.with_columns(
        latest_event_date=pl.Series([date(2026, 10, 30), date(2026, 6, 1)])
    )
    result = gates.evaluate(now, before, SETTINGS, latest=latest)
    assert _failed(result) == {("latest_event_date", "apc_spells")}
    assert "A2: 2026-10-30 -> 2026-06-01" in result.refusals[0].reason


def test_an_accepted_drop_lets_that_feed_through_but_never_an_empty_patients_file():
    drops = [
        gates.AcceptedDrop("apc_spells", "dr.a", "known outage"),
        gates.AcceptedDrop("patients", "dr.a", "try"),
    ]
    result = gates.evaluate(
        _loads(patients=(0, 0), apc_spells=(100, 0)), None, SETTINGS, accepted=drops
    )
    assert _failed(result) == {("patients_empty", "patients")}
    accepted = [g for g in result.gates if g.accepted_by]
    assert [(g.gate, g.feed, g.accepted_by) for g in accepted] == [
        ("acceptance_rate", "apc_spells", "dr.a")
    ]
    assert "known outage" in accepted[0].reason


# Real builds ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_build(small_population, tmp_path_factory) -> tuple[Path, Path]:
    """A good registry built from the small population, and that population's folder."""
    folder, _ = small_population
    db = tmp_path_factory.mktemp("gated") / "stratify.duckdb"
    build(folder / "feeds", db)
    return db, folder


@pytest.fixture
def delivery(good_build, tmp_path) -> tuple[Path, Path]:
    """A writable copy of the good registry and of the feeds it was built from."""
    db, folder = good_build
    shutil.copy(db, tmp_path / "stratify.duckdb")
    shutil.copytree(folder / "feeds", tmp_path / "feeds")
    shutil.copytree(folder / "reference", tmp_path / "reference")
    return tmp_path / "stratify.duckdb", tmp_path / "feeds"


def _fingerprint(db: Path) -> dict:
    con = database.connect(db, read_only=True)
    try:
        return {
            t: con.execute(
                f"SELECT count(*), sum(hash(t)) FROM (SELECT * FROM {t}) AS t"
            ).fetchall()
            for t in REGISTRY
        } | {"builds": con.execute("SELECT count(*) FROM meta.builds").fetchall()}
    finally:
        con.close()


def _rewrite(path: Path, change) -> None:
    change(pl.read_parquet(path)).write_parquet(path)


def _refused(feeds: Path, db: Path) -> gates.Comparison:
    with pytest.raises(BuildRefused) as refused:
        build(feeds, db)
    return refused.value.comparison


def test_a_patients_file_cut_in_half_is_refused_after_a_good_build(delivery):
    db, feeds = delivery
    before = _fingerprint(db)
    _rewrite(feeds / "patients.parquet", lambda d: d.head(d.height // 2))
    comparison = _refused(feeds, db)
    assert ("rows_fell", "patients") in _failed(comparison)
    assert _fingerprint(db) == before


def test_a_header_only_patients_file_is_refused(delivery):
    db, feeds = delivery
    before = _fingerprint(db)
    patients = pl.read_parquet(feeds / "patients.parquet")
    (feeds / "patients.parquet").unlink()
    (feeds / "patients.csv").write_text(",".join(patients.columns) + "\n")
    assert ("patients_empty", "patients") in _failed(_refused(feeds, db))
    assert _fingerprint(db) == before


def test_a_header_only_patients_file_is_refused_on_a_first_build_and_leaves_no_database(delivery):
    _, feeds = delivery
    _rewrite(feeds / "patients.parquet", lambda d: d.head(0))
    db = feeds.parent / "first.duckdb"
    assert ("patients_empty", "patients") in _failed(_refused(feeds, db))
    assert not db.exists()


def test_a_spells_file_whose_dates_are_all_unreadable_is_refused_and_the_registry_kept(delivery):
    db, feeds = delivery
    before = _fingerprint(db)
    _rewrite(
        feeds / "apc_spells.parquet",
        lambda d: d.with_columns(
            admission_date=pl.lit("unknown"), discharge_date=pl.lit("unknown")
        ),
    )
    comparison = _refused(feeds, db)
    assert _failed(comparison) >= {("acceptance_rate", "apc_spells")}
    assert comparison.feeds["apc_spells"]["rows_accepted"] == 0
    assert _fingerprint(db) == before


def test_a_spells_file_whose_dates_arrive_as_integers_is_refused_or_read_as_the_same_dates(
    delivery,
):
    db, feeds = delivery
    before = _fingerprint(db)
    _rewrite(
        feeds / "apc_spells.parquet",
        lambda d: d.with_columns(
            pl.col(c).dt.strftime("%Y%m%d").cast(pl.Int64) for c in ("admission_date", "discharge_date")
        ),
    )  # fmt: skip
    try:
        build(feeds, db)
    except BuildRefused as refused:
        assert ("acceptance_rate", "apc_spells") in _failed(refused.comparison)
        assert _fingerprint(db) == before
    else:  # read correctly: the same spells, with the same dates
        after = _fingerprint(db)
        assert after["registry.spells"] == before["registry.spells"]


def test_a_file_with_fewer_rows_than_its_manifest_is_refused_on_a_first_build(delivery):
    _, feeds = delivery
    manifest = json.loads((feeds / "manifest.json").read_text())
    assert manifest["rows"]["gp_events"] > 100  # the generator writes the counts
    _rewrite(feeds / "gp_events.parquet", lambda d: d.head(d.height - 100))
    comparison = _refused(feeds, feeds.parent / "first.duckdb")
    assert _failed(comparison) == {("manifest_rows", "gp_events")}


def test_an_accepted_drop_builds_and_is_recorded_with_who_and_why(delivery):
    db, feeds = delivery
    _rewrite(feeds / "apc_spells.parquet", lambda d: d.head(d.height // 2))
    drop = gates.AcceptedDrop("apc_spells", "dr.data", "provider B's spells arrive next week")
    summary = build(feeds, db, accept_drops=[drop])
    assert {g["gate"] for g in summary["gates"]["gates"] if g["accepted_by"]} >= {"rows_fell"}
    con = database.connect(db, read_only=True)
    recorded = con.execute(
        "SELECT accepted_drops FROM meta.builds ORDER BY built_at DESC LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    assert json.loads(recorded) == [
        {"feed": "apc_spells", "by": "dr.data", "why": "provider B's spells arrive next week"}
    ]


def test_the_same_delivery_again_passes_every_gate_against_the_previous_build(delivery):
    db, feeds = delivery
    summary = build(feeds, db)
    assert summary["gates"]["refused"] is False
    assert summary["gates"]["previous_build_id"] is not None
    compared = {g["gate"] for g in summary["gates"]["gates"]}
    assert compared >= {"rows_fell", "people_lost", "people_fell", "latest_event_date"}
