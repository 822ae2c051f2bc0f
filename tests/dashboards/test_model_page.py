"""The Model page shows the whole model card as tables and plots (never JSON): the facts, the
threshold table, the decision curve, capacity, calibration over the whole range and by group, and
the PROBAST checklist; commissioners get none of the tables made of exact test-set counts."""

from __future__ import annotations

import json

import pytest
from app_server import page_as

from dashboards.client import find_component


@pytest.fixture(scope="module")
def clinician_page(server) -> dict:
    return page_as(server, "clin_a", "/model")


@pytest.fixture(scope="module")
def commissioner_page(server) -> dict:
    return page_as(server, "comm", "/model")


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_threshold_table_flags_tp_plus_fp_people_at_every_tier_cut(clinician_page, card):
    rows = find_component(clinician_page, "model-thresholds")["rowData"]
    tiers = [r for r in card["decision"]["thresholds"] if r["cut"] == "tier"]
    assert len(rows) == len(tiers) >= 2
    for row, want in zip(rows, tiers, strict=True):
        assert _count(row["tp"]) + _count(row["fp"]) == _count(row["flagged"]) == want["flagged"]
    every = find_component(clinician_page, "model-thresholds-percent")["rowData"]
    assert len(every) == 100


def test_the_decision_curves_treat_all_line_is_prevalence_less_the_odds_of_the_threshold(
    clinician_page, card
):
    figure = find_component(clinician_page, "model-net-benefit")["figure"]
    treat_all = next(t for t in figure["data"] if t["name"] == "treat all")
    overall = card["models"]["lightgbm"]["overall"]
    prevalence = overall["events"] / overall["people"]
    for pt, nb in zip(treat_all["x"], treat_all["y"], strict=True):
        assert nb == pytest.approx(prevalence - (1 - prevalence) * pt / (1 - pt))


def test_capacity_calibration_and_probast_are_on_the_page_as_tables(clinician_page, card):
    capacity = find_component(clinician_page, "model-capacity")["rowData"]
    assert [r["target"] for r in capacity] == ["25%", "50%", "75%"]
    assert find_component(clinician_page, "model-capacity-practice")["rowData"]
    groups = find_component(clinician_page, "model-calibration-groups")["rowData"]
    assert {r["family"] for r in groups} >= {"all"}
    curve = find_component(clinician_page, "model-calibration-range")["figure"]
    points = next(t for t in curve["data"] if t["name"] == "twentieths")
    assert max(points["x"]) == pytest.approx(
        max(r["expected"] for r in card["decision"]["calibration_curve"])
    ), "the curve runs over the whole range of predicted risk"
    probast = find_component(clinician_page, "model-probast")["rowData"]
    assert {r["domain"] for r in probast} == {"participants", "predictors", "outcome", "analysis"}
    constraints = find_component(clinician_page, "model-constraints")["rowData"]
    assert {r["stem"] for r in constraints} == {c["stem"] for c in card["facts"]["constraints"]}


def test_the_page_says_what_the_model_is_for_and_when_training_stopped(clinician_page, card):
    text = json.dumps(clinician_page)
    assert card["facts"]["intended_use"] in text
    assert card["facts"]["why_training_stopped"] in text
    assert '"card"' not in text and '"thresholds"' not in text, "no JSON of the card on the page"


def test_commissioners_get_no_table_of_exact_test_set_counts(commissioner_page):
    for grid_id in ("model-thresholds", "model-thresholds-percent", "model-capacity",
                    "model-capacity-practice", "model-calibration-groups", "model-net-benefit"):  # fmt: skip
        assert find_component(commissioner_page, grid_id) is None, grid_id
    probast = find_component(commissioner_page, "model-probast")["rowData"]
    assert probast and all("detail" not in r for r in probast)
