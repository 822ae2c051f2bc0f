"""Model: the model card of the latest trained model, read from the database."""

from __future__ import annotations

import json
from functools import lru_cache

import polars as pl
from dash import dcc, html

from dashboards import access
from dashboards.components import grid, notice, page, refused
from stratify.audit.disclosure import disclose_count
from stratify.models.card import LABELS, calibration_figure

PATH = "/model"
NAME = "Model"
METRIC_COLUMNS = {"model": "Model", "auroc": "AUROC (95% CI)", "auprc": "AUPRC", "brier": "Brier",
                  "slope": "Cal. slope", "intercept": "Cal. intercept", "oe": "O/E",
                  "top1": "Top 1%: PPV / sens.", "top5": "Top 5%", "top10": "Top 10%"}  # fmt: skip
GROUP_COLUMNS = {"group": "Group", "label": "", "people": "People", "events": "Events", "auroc": "AUROC",
                 "oe": "O/E", "slope": "Cal. slope"}  # fmt: skip


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


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
    return page(
        "Model card: 12-month emergency admission risk",
        html.P([html.B("Model "), model["model_id"], f", trained {model['trained_at']:%Y-%m-%d %H:%M}, settings "
                f"v{model['config_version']}. Features from events before {model['index_date']}; outcome in the "
                f"12 months after (data cut {model['data_cut']}). Population {_count(model['population'], published)}, outcome "
                f"rate {_pct(model['outcome_rate'])}; calibration: {model['calibration_choice']}."]),
        html.H2("Performance on the test set"),
        grid("model-metrics", metrics, METRIC_COLUMNS, height=220),
        html.H2("Compared with the baselines"), html.Ul(comparisons),
        html.H2("Warnings"), html.Ul(warnings, className="notice notice-warn"),
        dcc.Graph(id="model-calibration", figure=calibration_figure(card), config={"displaylogo": False}),
        html.H2("LightGBM by group"),
        grid("model-groups", groups, GROUP_COLUMNS, height=420),
    )  # fmt: skip


def _count(value: int, published: bool) -> str:
    return disclose_count(value)[0] if published else f"{value:,}"


def _group(family: str, label: str, s: dict, published: bool) -> dict:
    """One group's row; for commissioners a group whose events are suppressed shows no metrics
    either, since they would let the count be worked out."""
    hidden = published and disclose_count(s["events"])[1] is None
    metric = (lambda v, n: "*") if hidden else (lambda v, n: f"{v:.{n}f}")
    return {"group": family, "label": label, "people": _count(s["people"], published),
            "events": _count(s["events"], published), "auroc": metric(s["auroc"], 3),
            "oe": metric(s["observed_over_expected"], 2), "slope": metric(s["calibration_slope"], 2)}  # fmt: skip


def _metrics(name: str, o: dict) -> dict:
    return {
        "model": LABELS.get(name, name),
        "auroc": f"{o['auroc']:.3f} ({o['auroc_low']:.3f}-{o['auroc_high']:.3f})",
        "auprc": round(o["auprc"], 3), "brier": round(o["brier"], 4),
        "slope": round(o["calibration_slope"], 2), "intercept": round(o["calibration_intercept"], 3),
        "oe": round(o["observed_over_expected"], 2),
        "top1": f"{_pct(o['ppv_top_1pct'])} / {_pct(o['sensitivity_top_1pct'])}",
        "top5": f"{_pct(o['ppv_top_5pct'])} / {_pct(o['sensitivity_top_5pct'])}",
        "top10": f"{_pct(o['ppv_top_10pct'])} / {_pct(o['sensitivity_top_10pct'])}",
    }  # fmt: skip


def register(app) -> None:
    """No callbacks: the card is one read."""
