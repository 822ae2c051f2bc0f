"""Model: the model card of the latest trained model, read from the database.

Commissioners receive the card through disclosure control: every count (people, events, the
people and events behind each tenth of the calibration plot and behind each top-k figure) goes
through stratify.audit.disclosure, and every rate, PPV, sensitivity and observed/expected they see
is recomputed from the disclosed counts, so no figure lets a small or exact count be worked out."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache

import polars as pl
from dash import dcc, html

from dashboards import access
from dashboards.components import grid, notice, page, refused
from stratify.audit.disclosure import disclose, disclose_count, disclose_rate, load_rules
from stratify.models.card import (
    CAPACITY_TABLE,
    CONSTRAINT_TABLE,
    LABELS,
    PRACTICE_TABLE,
    PROBAST_TABLE,
    THRESHOLD_TABLE,
    calibration_curve_figure,
    calibration_figure,
    cell,
    formatted,
    net_benefit_figure,
)

PATH = "/model"
NAME = "Model"
METRIC_COLUMNS = {"model": "Model", "auroc": "AUROC (95% CI)", "auprc": "AUPRC", "brier": "Brier",
                  "slope": "Cal. slope", "intercept": "Cal. intercept", "oe": "O/E",
                  "top1": "Top 1%: PPV / sens.", "top5": "Top 5%", "top10": "Top 10%"}  # fmt: skip
GROUP_COLUMNS = {"group": "Group", "label": "", "people": "People", "events": "Events", "auroc": "AUROC",
                 "oe": "O/E", "slope": "Cal. slope"}  # fmt: skip


TOP_FRACTIONS = {1: 0.01, 5: 0.05, 10: 0.10}  # the card's top-k figures (stratify.models.metrics)


def _pct(v: float | None) -> str:
    return "*" if v is None else f"{v * 100:.1f}%"


def _num(v: float | None, places: int) -> str | float:
    return "*" if v is None else round(v, places)


def layout(**_query) -> html.Main:
    try:
        user = access.page_user("model")
    except access.Refused as exc:
        return refused(str(exc))
    return _card(published=user.role == "commissioner")


@lru_cache(maxsize=2)
def _card(published: bool) -> html.Main:
    """Built once per process: the model cannot change while the server holds the database.
    Commissioners get the group counts under the same disclosure control as every other figure."""
    store = access.store()
    if not store.has_table("models", "trained"):
        return page(NAME, notice("No model has been trained yet: run `stratify train`."))
    model = store.read("model_card").row(0, named=True)
    card = json.loads(model["card"]) if isinstance(model["card"], str) else model["card"]
    if published:
        card = published_card(card)
    rate = _outcome_rate(model, published)
    metrics = pl.DataFrame(
        [_metrics(name, entry["overall"]) for name, entry in card["models"].items()]
    )
    groups = pl.DataFrame([_group(family, label, s, published)
                           for family, members in card["models"]["lightgbm"]["subgroups"].items()
                           for label, s in members.items()])  # fmt: skip
    comparisons = [
        html.Li(
            f"{k.replace('_', ' ')}: {v['difference']:+.3f} AUROC (95% interval "
            f"{v['low']:+.3f} to {v['high']:+.3f})"
        )
        for k, v in card["comparisons"].items()
    ]
    warnings = [html.Li(w) for w in card["warnings"]] or [html.Li("none")]
    suppressed = _suppression_note() if published else None
    return page(
        "Model card: 12-month emergency admission risk",
        html.P([html.B("Model "), model["model_id"], f", trained {model['trained_at']:%Y-%m-%d %H:%M}, settings "
                f"v{model['config_version']}. Features from events before {model['index_date']}; outcome in the "
                f"12 months after (data cut {model['data_cut']}). Population {_population(model['population'], published)}, outcome "
                f"rate {_pct(rate)}; calibration: {model['calibration_choice']}."]),
        html.H2("Performance on the test set"),
        grid("model-metrics", metrics, METRIC_COLUMNS, height=260, fit=True),
        html.H2("Compared with the baselines"), html.Ul(comparisons),
        html.H2("Warnings"), html.Ul(warnings, className="notice notice-warn"),
        dcc.Graph(id="model-calibration", figure=calibration_figure(card), config={"displaylogo": False}),
        suppressed,
        html.H2("LightGBM by group"),
        grid("model-groups", groups, GROUP_COLUMNS, height=420),
        *_facts(card.get("facts"), published),
        *_decision(card.get("decision"), published),
    )  # fmt: skip


CALIBRATION_GROUP_COLUMNS = {"family": "Group", "group": "", "people": "People", "events": "Events",
                             "auroc": "AUROC (95% CI)", "oe": "O/E (95% CI)", "intercept": "In the large",
                             "slope": "Slope", "errors": "Eavg / E90 / Emax"}  # fmt: skip
SEARCH_COLUMNS = {"learning_rate": "Learning rate", "num_leaves": "Leaves", "min_child_samples": "Min leaf",
                  "trees": "Trees", "validation_logloss": "Validation log-loss", "chosen": "Chosen"}  # fmt: skip


def _headings(columns: list[tuple[str, str, str]]) -> dict[str, str]:
    return {key: heading for key, heading, _ in columns}


def _table(grid_id: str, rows: list[dict], columns: list[tuple[str, str, str]], **options):
    """One of the card's tables (stratify.models.card's column specs) as a grid."""
    return grid(grid_id, pl.DataFrame(formatted(rows, columns)), _headings(columns), **options)


def _facts(f: dict | None, published: bool) -> list:
    """Intended use, limits, the model in use, its constraints and settings, and the PROBAST
    checklist. The checklist's details quote exact counts, so commissioners get its verdicts only."""
    if not f:
        return [
            notice("This model was trained before the card held its facts: run `stratify train`.")
        ]
    cost = f["constraint_cost"]
    chosen = f["settings_chosen"]
    search = pl.DataFrame([{**r, "validation_logloss": cell(r["validation_logloss"], ".5f"),
                            "chosen": "yes" if all(r[k] == chosen[k] for k in chosen) else ""}
                           for r in f["settings_search"]]) if f["settings_search"] else pl.DataFrame()  # fmt: skip
    probast = PROBAST_TABLE[:-1] if published else PROBAST_TABLE  # the details quote exact counts
    incomplete = (
        disclose_count(int(f["incomplete_records"]))[0]
        if published
        else f"{f['incomplete_records']:,}"
    )
    return [
        html.Div([html.B("Synthetic data. "), f["synthetic_statement"]], className="notice notice-warn")
        if f["synthetic"] else None,
        html.H2("Intended use"), html.P(f["intended_use"]),
        html.H2("Who must not use it, and how"), html.P(f["must_not_use"]),
        html.H2("Limits"), html.P(f["limits"]),
        html.H2("The model in use"),
        html.P(f"{f['model_in_use']} Training stopped by {f['why_training_stopped']}. Settings chosen on the "
               f"validation part: learning rate {chosen['learning_rate']}, {chosen['num_leaves']} leaves, minimum "
               f"leaf size {chosen['min_child_samples']}. {incomplete} people with an incomplete record are "
               f"scored by a model of the {len(f['known_model']['features'])} features known for everyone "
               f"({f['known_model']['trees']} trees)."),
        grid("model-search", search, SEARCH_COLUMNS, height=260) if search.height else None,
        html.H2("Monotone constraints"),
        _table("model-constraints", f["constraints"], CONSTRAINT_TABLE, height=380, fit=True),
        html.P(f"What they cost (test AUROC, measured both ways): LightGBM {cost['lightgbm_constrained']:.4f} with, "
               f"{cost['lightgbm_unconstrained']:.4f} without; logistic regression {cost['logistic_constrained']:.4f} "
               f"with, {cost['logistic_unconstrained']:.4f} without."),
        html.H2("PROBAST-style checklist"),
        _table("model-probast", f["probast"], probast, height=520, fit=True),
    ]  # fmt: skip


def _decision(d: dict | None, published: bool) -> list:
    """Threshold table, decision curve, capacity and calibration over the whole range. Every
    figure here is made of exact test-set counts, so commissioners receive a sentence instead."""
    if not d:
        return []
    if published:
        return [html.H2("Thresholds, net benefit, capacity and calibration by group"),
                notice("These tables are made of exact counts of people in the test set, so they are shown to "
                       "clinical and audit users only; the figures above are under disclosure control.")]  # fmt: skip
    tiers = [r for r in d["thresholds"] if r["cut"] == "tier"]
    percents = [r for r in d["thresholds"] if r["cut"] == "percent"]
    groups = pl.DataFrame([{
        "family": r["family"], "group": r["group"], "people": f"{r['people']:,}", "events": f"{r['events']:,}",
        "auroc": f"{cell(r['auroc'], '.3f')} ({cell(r['auroc_low'], '.3f')}-{cell(r['auroc_high'], '.3f')})",
        "oe": f"{cell(r['observed_over_expected'], '.2f')} ({cell(r['oe_low'], '.2f')}-{cell(r['oe_high'], '.2f')})",
        "intercept": cell(r["calibration_intercept"], "+.3f"), "slope": cell(r["calibration_slope"], ".2f"),
        "errors": " / ".join(cell(r[k], ".3f") for k in ("eavg", "e90", "emax")),
    } for r in d["calibration_by_group"]])  # fmt: skip
    return [
        html.H2("Threshold table (model in use, test set)"),
        html.P("Flagging the highest-risk share of the test set at each tier cut.", className="lede"),
        _table("model-thresholds", tiers, THRESHOLD_TABLE, height=200),
        html.Details([html.Summary("Every 1 % of the population"),
                      _table("model-thresholds-percent", percents, THRESHOLD_TABLE, height=420)]),
        dcc.Graph(id="model-net-benefit", figure=net_benefit_figure(d), config={"displaylogo": False}),
        html.H2("Capacity"),
        _table("model-capacity", d["capacity"], CAPACITY_TABLE, height=180),
        html.P("PPV at each practice's share of the case-conference capacity (a year of places):"),
        _table("model-capacity-practice", d["capacity_by_practice"], PRACTICE_TABLE, height=320),
        html.H2("Calibration over the whole range"),
        dcc.Graph(id="model-calibration-range", figure=calibration_curve_figure(d), config={"displaylogo": False}),
        grid("model-calibration-groups", groups, CALIBRATION_GROUP_COLUMNS, height=420),
    ]  # fmt: skip


def _suppression_note() -> html.P:
    r = load_rules()
    return html.P(f"Small-number suppression (rules v{r.version}): tenths of predicted risk with {r.suppress_min}-"
                  f"{r.suppress_max} events are left out of the plot, and every count, rate, PPV, sensitivity and "
                  f"observed/expected is from counts rounded to {r.round_to}.", className="lede")  # fmt: skip


def _count(value: int | None, published: bool) -> str:
    """A count as shown. A published card's counts are already disclosed (None when suppressed)."""
    if value is None:
        return "*"
    return str(value) if published else f"{value:,}"


def _group(family: str, label: str, s: dict, published: bool) -> dict:
    """One group's row; for commissioners a group whose events are suppressed shows no metrics
    either, since they would let the count be worked out."""
    hidden = published and s["events"] is None
    metric = (lambda v, n: "*") if hidden else (lambda v, n: "*" if v is None else f"{v:.{n}f}")
    return {"group": family, "label": label, "people": _count(s["people"], published),
            "events": _count(s["events"], published), "auroc": metric(s["auroc"], 3),
            "oe": metric(s["observed_over_expected"], 2), "slope": metric(s["calibration_slope"], 2)}  # fmt: skip


def _population(value: int, published: bool) -> str:
    return disclose_count(int(value))[0] if published else f"{value:,}"


def _outcome_rate(model: dict, published: bool) -> float | None:
    """The training population's outcome rate; for commissioners from the disclosed counts."""
    if not published:
        return model["outcome_rate"]
    population = int(model["population"])
    return disclose_rate(round(model["outcome_rate"] * population), population)


def published_card(card: dict) -> dict:
    """The card as a commissioner may receive it (see the module docstring). Counts become the
    disclosed value or None (suppressed); figures that would reveal a suppressed count become None."""
    out = copy.deepcopy(card)
    for entry in out["models"].values():
        entry["overall"] = _published_summary(entry["overall"])
        entry["calibration"] = _published_calibration(entry["calibration"])
        for members in entry["subgroups"].values():
            for label, s in members.items():
                members[label] = _published_summary(s)
    # A warning's exact observed/expected next to the published one would give the count back.
    out["warnings"] = [re.sub(r"observed/expected -?[\d.]+(e-?\d+)?", "observed/expected outside the expected range", w)
                       for w in out["warnings"]]  # fmt: skip
    return out


def _published_summary(s: dict) -> dict:
    """One model's metrics on one set of people with every count disclosed and every figure
    made of counts recomputed from the disclosed ones. Statistics that are not counts (AUROC,
    AUPRC, Brier, calibration slope and intercept) stay, except where the events are suppressed."""
    people, events = int(s["people"]), int(s["events"])
    out = dict(s)
    out["people"] = disclose_count(people)[1]
    out["events"] = disclose_count(events)[1]
    observed = disclose_rate(events, people)
    out["observed_rate"] = observed
    expected = s.get("expected_rate")
    out["observed_over_expected"] = (
        None if observed is None or not expected else observed / expected
    )
    for k, fraction in TOP_FRACTIONS.items():
        chosen = max(1, int(round(people * fraction)))  # as stratify.models.metrics.top_fraction
        hits = int(round(s[f"ppv_top_{k}pct"] * chosen))
        out[f"ppv_top_{k}pct"] = disclose_rate(hits, chosen)
        out[f"sensitivity_top_{k}pct"] = disclose_rate(hits, events)
    if out["events"] is None:
        for key in ("auroc", "auroc_low", "auroc_high", "auprc", "brier", "calibration_slope",
                    "calibration_intercept"):  # fmt: skip
            out[key] = None
    return out


def _published_calibration(table: list[dict]) -> list[dict]:
    """Each tenth's observed rate from its disclosed events and people; tenths whose events are
    suppressed are left out (the plot shows a gap)."""
    if not table:
        return []
    frame = pl.DataFrame(table).with_columns(
        events=(pl.col("observed") * pl.col("people")).round(0).cast(pl.Int64)
    )
    shown = disclose(frame, ["people", "events"], rates={"observed": ("events", "people")})
    shown = shown.filter(pl.col("observed").is_not_null())
    return shown.select("bin", "people", "expected", "observed").to_dicts()


def _metrics(name: str, o: dict) -> dict:
    return {
        "model": LABELS.get(name, name),
        "auroc": "*" if o["auroc"] is None else f"{o['auroc']:.3f} ({o['auroc_low']:.3f}-{o['auroc_high']:.3f})",
        "auprc": _num(o["auprc"], 3), "brier": _num(o["brier"], 4),
        "slope": _num(o["calibration_slope"], 2), "intercept": _num(o["calibration_intercept"], 3),
        "oe": _num(o["observed_over_expected"], 2),
        "top1": f"{_pct(o['ppv_top_1pct'])} / {_pct(o['sensitivity_top_1pct'])}",
        "top5": f"{_pct(o['ppv_top_5pct'])} / {_pct(o['sensitivity_top_5pct'])}",
        "top10": f"{_pct(o['ppv_top_10pct'])} / {_pct(o['sensitivity_top_10pct'])}",
    }  # fmt: skip


def register(app) -> None:
    """No callbacks: the card is one read."""
