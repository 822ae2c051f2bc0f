"""What a commissioner receives on the Model page: every count through disclosure control, and
every rate, PPV, sensitivity and observed/expected made only from the disclosed counts, so no
figure in the page (tables, chart data, text) gives a small or exact count back."""

from __future__ import annotations

import json
import re

import pytest
from app_server import page_as

from dashboards.client import find_component
from stratify.audit.disclosure import disclose_count, disclose_rate


@pytest.fixture(scope="module")
def commissioner_page(server) -> dict:
    return page_as(server, "comm", "/model")


def _published_tenths(table: list[dict]) -> list[tuple[float, float]]:
    """(expected, observed) of each tenth a commissioner may see: observed from rounded counts."""
    points = []
    for row in table:
        rate = disclose_rate(round(row["observed"] * row["people"]), row["people"])
        if rate is not None:
            points.append((row["expected"], rate))
    return points


def test_the_calibration_plot_shows_commissioners_only_rates_of_disclosed_counts(
    card, commissioner_page
):
    figure = find_component(commissioner_page, "model-calibration")["figure"]
    traces = [t for t in figure["data"] if t.get("name") != "perfect calibration"]
    assert len(traces) == len(card["models"])
    exact = {round(r["observed"], 9) for e in card["models"].values() for r in e["calibration"]}
    for trace, entry in zip(traces, card["models"].values(), strict=True):
        want = _published_tenths(entry["calibration"])
        got = list(zip(trace["x"], trace["y"], strict=True))
        flat = [v for point in got for v in point]
        assert flat == pytest.approx([v for point in want for v in point]), (
            "each point is the disclosed events over the disclosed people"
        )
        leaked = {round(y, 9) for _, y in got} & exact - {round(y, 9) for _, y in want}
        assert not leaked, "an exact decile rate reached a commissioner"


def test_the_top_k_figures_are_made_from_disclosed_counts(card, commissioner_page):
    rows = find_component(commissioner_page, "model-metrics")["rowData"]
    for row, entry in zip(rows, card["models"].values(), strict=True):
        o = entry["overall"]
        for k, fraction in ((1, 0.01), (5, 0.05), (10, 0.10)):
            chosen = max(1, round(o["people"] * fraction))
            hits = round(o[f"ppv_top_{k}pct"] * chosen)
            ppv, sens = disclose_rate(hits, chosen), disclose_rate(hits, o["events"])
            shown = "*" if ppv is None else f"{ppv * 100:.1f}%"
            shown += " / " + ("*" if sens is None else f"{sens * 100:.1f}%")
            assert row[f"top{k}"] == shown


def test_observed_over_expected_is_made_from_disclosed_counts(card, commissioner_page):
    rows = find_component(commissioner_page, "model-metrics")["rowData"]
    for row, entry in zip(rows, card["models"].values(), strict=True):
        o = entry["overall"]
        oe = disclose_rate(o["events"], o["people"]) / o["expected_rate"]
        assert row["oe"] == round(oe, 2)
    groups = find_component(commissioner_page, "model-groups")["rowData"]
    lightgbm = card["models"]["lightgbm"]["subgroups"]
    for row in groups:
        s = lightgbm[row["group"]][row["label"]]
        rate = disclose_rate(s["events"], s["people"])
        assert row["oe"] == ("*" if rate is None else f"{rate / s['expected_rate']:.2f}")


def test_no_warning_gives_a_commissioner_an_exact_observed_over_expected(commissioner_page):
    text = json.dumps(commissioner_page)
    assert not re.search(r"observed/expected \d", text)


def test_every_count_in_the_commissioners_model_page_is_suppressed_or_rounded(
    card, commissioner_page
):
    text = json.dumps(commissioner_page)
    population = re.search(r"Population ([\d,*]+)", text).group(1).replace(",", "")
    assert population == "*" or int(population) % 5 == 0
    rate = re.search(r"outcome rate ([\d.]+)%", text).group(1)
    con_people = int(population)
    assert any(f"{n / con_people * 100:.1f}" == rate for n in range(0, con_people + 1, 5))
    groups = find_component(commissioner_page, "model-groups")["rowData"]
    for row in groups:
        s = card["models"]["lightgbm"]["subgroups"][row["group"]][row["label"]]
        assert row["people"] == disclose_count(s["people"])[0]
        assert row["events"] == disclose_count(s["events"])[0]


def test_a_warnings_exact_observed_over_expected_is_withheld_from_commissioners():
    from dashboards.pages.model import published_card

    card = {"models": {}, "comparisons": {},
            "warnings": ["sex F: observed/expected 1.31", "age 90+: AUROC 0.701 vs 0.780 overall"]}  # fmt: skip
    shown = published_card(card)["warnings"]
    assert shown == ["sex F: observed/expected outside the expected range",
                     "age 90+: AUROC 0.701 vs 0.780 overall"]  # fmt: skip
