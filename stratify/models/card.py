"""The model card: every metric for every model, overall and by group, with warnings, as JSON
(stored with the model) and as a self-contained HTML page."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
import yaml

from stratify.models import metrics

CONFERENCE = Path(__file__).resolve().parents[1] / "care" / "conference.yaml"
NET_BENEFIT_THRESHOLDS = np.round(np.arange(0.01, 0.51, 0.01), 2)
INTENDED_USE = (
    "To rank the registered population of a practice or cluster by their risk of an emergency "
    "admission in the next 12 months, so that a multidisciplinary team chooses whom to review "
    "for proactive care. A score is a prompt for clinical review, never a decision."
)
MUST_NOT_USE = (
    "Not for decisions about an individual's treatment, eligibility for a service or access to "
    "care without clinical review; not for people outside the registered population it was "
    "trained on (other areas, other data feeds) until it has been validated there; not for "
    "children's services; not as a measure of the quality of a practice."
)
SYNTHETIC = (
    "Every record this model learned from is synthetic (NHS numbers from the 999 test range): "
    "the figures on this card describe how the method performs on simulated people whose "
    "risk is known. They are not evidence of how it performs on a real population, which must "
    "be measured on real data before clinical use."
)
LIMITS = (
    "The outcome counts only admissions recorded in the hospital feed; admissions elsewhere are "
    "missed. Deaths without admission count as no admission. Deprivation comes from the address at "
    "the data cut (a mild look-ahead in training). People with an incomplete record (a feed "
    "missing for their practice, or hospital activity with no GP record) are scored by a model "
    "of what is known for everyone and flagged. Performance drifts as care changes: scores are "
    "refreshed monthly and the card says when the model was trained."
)

AGE_BANDS = ((0, 18, "0-17"), (18, 45, "18-44"), (45, 65, "45-64"), (65, 75, "65-74"),
             (75, 85, "75-84"), (85, 200, "85+"))  # fmt: skip
LABELS = {
    "lightgbm": "LightGBM (calibrated)",
    "prior_admissions": "Baseline: prior emergency admissions",
    "efi_and_age": "Baseline: eFI and age",
    "logistic": "Baseline: logistic regression, same features",
}


def _start_words(model: dict) -> str:
    if not model.get("lightgbm_start"):
        return "trees boosted from a constant, then calibrated."
    return (
        f"trees boosted from the {html.escape(LABELS[model['lightgbm_start']].split(': ')[1])} "
        "(its log-odds are where boosting starts, so shrinkage pulls towards a calibrated linear "
        "fit rather than towards the average), then calibrated. Reasons add the two models' "
        "contributions feature by feature."
    )


def _groups(frame: pl.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    age = frame["age"].to_numpy()
    groups = {
        "age band": {label: (age >= lo) & (age < hi) for lo, hi, label in AGE_BANDS},
        "sex": {"female": frame["female"].to_numpy() == 1, "male": frame["female"].to_numpy() == 0},
        "deprivation quintile": {
            f"{q} ({'most' if q == 1 else 'least' if q == 5 else ''} deprived)".replace(
                " ( deprived)", ""
            ): (frame["imd_quintile"].to_numpy() == q)
            for q in range(1, 6)
        },
        "ethnic group": {
            g: frame["ethnic_group"].to_numpy() == g for g in sorted(set(frame["ethnic_group"]))
        },
    }
    return groups


def _paired_difference(y, a, b, seed: int, reps: int = 200) -> dict:
    """AUROC(a) - AUROC(b) on the same people, with a paired bootstrap 95 % interval."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    diffs = []
    n = len(y)
    for _ in range(reps):
        i = rng.integers(0, n, n)
        if 0 < y[i].sum() < n:
            diffs.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
    point = roc_auc_score(y, a) - roc_auc_score(y, b)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {"difference": float(point), "low": float(lo), "high": float(hi)}


def evaluate(
    frame: pl.DataFrame, y: np.ndarray, predictions: dict[str, np.ndarray], cfg: dict
) -> dict:
    """The card's content for the test set."""
    rules = cfg["subgroup_warning"]
    groups = _groups(frame)
    out: dict = {"models": {}, "comparisons": {}, "warnings": []}
    for name, p in predictions.items():
        whole = metrics.summary(y, p)
        entry = {"overall": whole, "calibration": metrics.calibration_table(y, p), "subgroups": {}}
        for family, members in groups.items():
            entry["subgroups"][family] = {}
            for label, mask in members.items():
                if mask.sum() == 0:
                    continue
                sub = metrics.summary(y[mask], p[mask])
                entry["subgroups"][family][label] = sub
                if name == "lightgbm" and sub["events"] >= rules["min_events"]:
                    out["warnings"] += _departures(family, label, sub, whole, rules)
        out["models"][name] = entry
    lgbm = predictions["lightgbm"]
    out["decision"] = _decision(frame, y, lgbm, cfg, groups)
    for other in ("prior_admissions", "logistic", "efi_and_age"):
        out["comparisons"][f"lightgbm_minus_{other}"] = _paired_difference(
            y, lgbm, predictions[other], cfg["seed"]
        )
    margin = out["comparisons"]["lightgbm_minus_prior_admissions"]["difference"]
    if margin < 0.03:
        out["warnings"].append(
            f"LightGBM beats the prior-admissions baseline by only {margin:.3f} AUROC (target 0.03)"
        )
    vs_logistic = out["comparisons"]["lightgbm_minus_logistic"]
    if vs_logistic["low"] <= 0:
        out["warnings"].append(
            f"LightGBM does not clearly beat logistic regression on the same features: AUROC "
            f"difference {vs_logistic['difference']:+.3f} (95 % interval {vs_logistic['low']:+.3f} "
            f"to {vs_logistic['high']:+.3f}). That is a finding, not a failure."
        )
    return out


def _decision(frame, y, p, cfg, groups) -> dict:
    """The card's tables for the model in use: threshold table, decision curve, capacity,
    calibration over the whole range and its errors, overall and by subgroup."""
    shares = np.cumsum([t["share"] for t in cfg["tiers"]])[:-1]
    cap = yaml.safe_load(CONFERENCE.read_text())["cap_per_practice"] if CONFERENCE.exists() else 4
    practice = frame["practice_code"].to_numpy()
    test_share = cfg["split"]["test"]
    per_practice = []
    for code in sorted(set(practice)):
        mask = practice == code
        share = min(1.0, 12 * cap / (mask.sum() / test_share))  # a year of conference places
        ppv, sensitivity = metrics.top_fraction(y[mask], p[mask], share)
        per_practice.append({"practice_code": code, "people": int(mask.sum() / test_share),
                             "places_per_year": 12 * cap, "share_reviewed": share, "ppv": ppv,
                             "sensitivity": sensitivity})  # fmt: skip
    by_group = []
    for family, members in {"all": {"everyone": np.ones(len(y), dtype=bool)}, **groups}.items():
        for label, mask in members.items():
            if mask.sum() == 0 or y[mask].sum() == 0:
                continue
            s = metrics.summary(y[mask], p[mask])
            by_group.append({
                "family": family, "group": label, "people": s["people"], "events": s["events"],
                "auroc": s["auroc"], "auroc_low": s["auroc_low"], "auroc_high": s["auroc_high"],
                "observed_over_expected": s["observed_over_expected"], "oe_low": s["oe_low"],
                "oe_high": s["oe_high"], "calibration_intercept": s["calibration_intercept"],
                "calibration_slope": s["calibration_slope"], **metrics.calibration_errors(y[mask], p[mask]),
            })  # fmt: skip
    return {
        "thresholds": metrics.threshold_table(y, p, [round(float(s), 6) for s in shares]),
        "net_benefit": metrics.net_benefit(y, p, NET_BENEFIT_THRESHOLDS),
        "capacity": metrics.reviews_to_reach(y, p),
        "capacity_by_practice": per_practice,
        "calibration_curve": metrics.calibration_curve(y, p),
        "calibration_by_group": by_group,
    }


def facts(con, cfg, booster, params, search, calibration_method, start, frame, y, part, known,
          cost, constraint_list) -> dict:  # fmt: skip
    """What the run knows about itself: trees and why training stopped, the settings chosen, the
    constraints and their cost, intended use, synthetic data, limits and a PROBAST checklist."""
    trees, stopping = booster.best_iteration, cfg["lightgbm"]["early_stopping_rounds"]
    if trees >= cfg["lightgbm"]["max_rounds"]:
        why, rounds = f"reached the limit of {trees} rounds", trees
    else:
        rounds = trees + stopping
        why = (f"early stopping: validation log-loss was lowest after tree {trees}; the next "
               f"{stopping} trees did not improve it")  # fmt: skip
    few = trees < cfg.get("few_trees", 20)
    in_use = (
        f"The trees add {trees} small steps to the logistic regression: in effect the logistic "
        "regression (with the monotone constraints) is the model in use."
        if few
        else f"LightGBM: {trees} trees boosted from the logistic regression's log-odds."
    )
    synthetic = bool(con.execute(
        "SELECT coalesce(bool_and(nhs_number LIKE '999%'), false) FROM registry.person"
    ).fetchall()[0][0])  # fmt: skip
    n_train = int((part == 0).sum())
    events_train = int(y[part == 0].sum())
    parameters = len(frame.columns)
    warnings = []
    if few:
        warnings.append(in_use)
    costs = (cost["lightgbm_unconstrained"] - cost["lightgbm_constrained"],
             cost["logistic_unconstrained"] - cost["logistic_constrained"])  # fmt: skip
    incomplete = int(frame["incomplete_record"].sum())
    probast = [
        ("participants", "data source", "low",
         f"a linked registry of {frame.height:,} people registered and alive on the index date; "
         "every registered person is included (no selection by service use)"),
        ("participants", "inclusions and exclusions", "low",
         "registered before the index date and not deregistered or dead on it; nobody else excluded"),
        ("predictors", "defined and assessed alike for all", "low",
         "the same SQL computes every feature at training and at scoring, from events strictly "
         "before the index date (a test inserts later events and nothing changes)"),
        ("predictors", "available at the time the model is used", "some concern",
         "all but deprivation, which comes from the address at the data cut"),
        ("predictors", "missing data", "low" if incomplete == 0 else "some concern",
         f"{incomplete:,} people with an incomplete record are scored by the model of what is "
         "known for everyone and flagged; a feed missing for a practice is unknown, not zero"),
        ("outcome", "defined and determined alike for all", "low",
         "emergency admission (admission method 2x) in the 12 months from the index date, from the "
         "hospital feed, for everyone"),
        ("outcome", "determined without knowledge of predictors", "low",
         "from admissions after the index date only"),
        ("outcome", "time interval", "low", "12 months, fully observed before the data cut"),
        ("analysis", "enough participants with the outcome", "low" if events_train >= 10 * parameters else "some concern",
         f"{events_train:,} events in {n_train:,} training people; {events_train / max(parameters, 1):.0f} "
         f"events per candidate feature ({parameters} columns)"),
        ("analysis", "continuous predictors handled", "low",
         "kept continuous (trees and a linear start); no dichotomising"),
        ("analysis", "overfitting accounted for", "low",
         f"settings chosen on a validation part, early stopping there, calibration ({calibration_method}) "
         "chosen there; every figure on this card from a held-out test part"),
        ("analysis", "calibration and discrimination both reported", "low",
         "AUROC with intervals; calibration-in-the-large, slope, Eavg, E90, Emax, over the whole range "
         "and by subgroup"),
        ("analysis", "complexities of the data", "some concern",
         "death is a competing event counted as no admission; no clustering by practice in the model"),
    ]  # fmt: skip
    return {
        "intended_use": INTENDED_USE,
        "must_not_use": MUST_NOT_USE,
        "synthetic": synthetic,
        "synthetic_statement": SYNTHETIC if synthetic else "",
        "limits": LIMITS,
        "trees": trees,
        "rounds_fitted": rounds,
        "why_training_stopped": why,
        "model_in_use": in_use,
        "logistic_in_effect": few,
        "lightgbm_start": start,
        "settings_chosen": params,
        "settings_search": search,
        "constraints": constraint_list,
        "constraint_cost": cost,
        "constraint_auroc_cost": {"lightgbm": costs[0], "logistic": costs[1]},
        "incomplete_records": incomplete,
        "known_model": {"features": known["features"], "trees": known["trees"]},
        "probast": [
            dict(zip(("domain", "item", "risk_of_bias", "detail"), r, strict=True)) for r in probast
        ],  # fmt: skip
        "warnings": warnings,
    }


def store_tables(con, model_id: str, content: dict) -> None:
    """The card as tables (models.card_*), one row set per model, for the app's Model page."""
    d, f = content["decision"], content["facts"]
    tables = {
        "card_thresholds": d["thresholds"],
        "card_net_benefit": d["net_benefit"],
        "card_capacity": d["capacity"],
        "card_capacity_by_practice": d["capacity_by_practice"],
        "card_calibration": d["calibration_curve"],
        "card_calibration_by_group": d["calibration_by_group"],
        "card_performance": [{"model": k, **v["overall"]} for k, v in content["models"].items()],
        "card_constraints": [{**c, "features": ", ".join(c["features"])} for c in f["constraints"]],
        "card_search": [
            {**r, "chosen": all(r[k] == f["settings_chosen"][k] for k in f["settings_chosen"])}
            for r in f["settings_search"]
        ],  # fmt: skip
        "card_probast": f["probast"],
        "card_facts": [
            {"item": k, "value": str(f[k])}
            for k in (
                "intended_use",
                "must_not_use",
                "synthetic",
                "synthetic_statement",
                "limits",
                "trees",
                "rounds_fitted",
                "why_training_stopped",
                "model_in_use",
                "logistic_in_effect",
                "lightgbm_start",
                "incomplete_records",
            )
        ]
        + [
            {
                "item": k if "trees" in k else f"auroc_{k}",
                "value": f"{v:.4f}" if "trees" not in k else str(int(v)),
            }
            for k, v in f["constraint_cost"].items()
            if isinstance(v, int | float)
        ],  # fmt: skip
    }
    for name, rows in tables.items():
        frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(model_id=pl.lit(model_id))
        con.register("__card", frame.to_arrow())
        con.execute(f"CREATE TABLE IF NOT EXISTS models.{name} AS SELECT * FROM __card LIMIT 0")
        con.execute(f"DELETE FROM models.{name} WHERE model_id = ?", [model_id])
        con.execute(f"INSERT INTO models.{name} BY NAME SELECT * FROM __card")
        con.unregister("__card")


def _departures(family: str, label: str, sub: dict, whole: dict, rules: dict) -> list[str]:
    found = []
    if abs(sub["auroc"] - whole["auroc"]) > rules["auroc_difference"]:
        found.append(f"{family} {label}: AUROC {sub['auroc']:.3f} vs {whole['auroc']:.3f} overall")
    lo, hi = rules["observed_over_expected"]
    if not lo <= sub["observed_over_expected"] <= hi:
        found.append(f"{family} {label}: observed/expected {sub['observed_over_expected']:.2f}")
    lo, hi = rules["calibration_slope"]
    if not lo <= sub["calibration_slope"] <= hi:
        found.append(f"{family} {label}: calibration slope {sub['calibration_slope']:.2f}")
    return found


def headline(entry: dict) -> dict:
    o = entry["overall"]
    keys = ("auroc", "auroc_low", "auroc_high", "auprc", "brier", "calibration_slope",
            "calibration_intercept", "observed_over_expected", "ppv_top_5pct", "sensitivity_top_5pct")  # fmt: skip
    return {k: round(o[k], 4) for k in keys}


def _pct(v: float) -> str:
    return f"{v:.1%}"


def calibration_figure(content: dict) -> go.Figure:
    """Observed against predicted risk in tenths, for every model in the card."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#768692"},
                             name="perfect calibration"))  # fmt: skip
    top = 0.0
    for name, entry in content["models"].items():
        table = entry["calibration"]
        xs = [r["expected"] for r in table]
        ys = [r["observed"] for r in table]
        # A published card suppresses a tenth's small counts: its observed rate is None (a gap).
        top = max([top, *(v for v in (*xs, *ys) if v is not None)])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=LABELS.get(name, name)))
    fig.update_layout(
        title="Calibration on the test set (tenths of predicted risk)",
        xaxis_title="predicted 12-month risk", yaxis_title="observed 12-month rate",
        xaxis_range=[0, top * 1.05], yaxis_range=[0, top * 1.05], height=480, template="simple_white",
    )  # fmt: skip
    return fig


def render_html(model: dict) -> str:
    """A self-contained page: what the model is, how good it is, for whom it works less well."""
    content = json.loads(model["card"]) if isinstance(model["card"], str) else model["card"]
    fig = calibration_figure(content)
    rows = []
    for name, entry in content["models"].items():
        o = entry["overall"]
        rows.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in (
                html.escape(LABELS.get(name, name)),
                f"{o['auroc']:.3f} ({o['auroc_low']:.3f}-{o['auroc_high']:.3f})",
                f"{o['auprc']:.3f}", f"{o['brier']:.4f}",
                f"{o['calibration_slope']:.2f}", f"{o['calibration_intercept']:+.2f}",
                f"{o['observed_over_expected']:.2f}",
                f"{_pct(o['ppv_top_1pct'])} / {_pct(o['sensitivity_top_1pct'])}",
                f"{_pct(o['ppv_top_5pct'])} / {_pct(o['sensitivity_top_5pct'])}",
                f"{_pct(o['ppv_top_10pct'])} / {_pct(o['sensitivity_top_10pct'])}",
            )) + "</tr>"
        )  # fmt: skip
    sub_rows = []
    for family, members in content["models"]["lightgbm"]["subgroups"].items():
        for label, s in members.items():
            sub_rows.append(
                f"<tr><td>{html.escape(family)}</td><td>{html.escape(label)}</td><td>{s['people']:,}</td>"
                f"<td>{s['events']:,}</td><td>{s['auroc']:.3f}</td><td>{s['observed_over_expected']:.2f}</td>"
                f"<td>{s['calibration_slope']:.2f}</td></tr>"
            )
    comparisons = "".join(
        f"<li>{html.escape(k.replace('_', ' '))}: {v['difference']:+.3f} AUROC "
        f"(95 % interval {v['low']:+.3f} to {v['high']:+.3f})</li>"
        for k, v in content["comparisons"].items()
    )
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in content["warnings"]) or "<li>none</li>"
    test = content["models"]["lightgbm"]["overall"]
    extra = _decision_html(content) if "decision" in content and "facts" in content else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>stratify model card {html.escape(model["model_id"][:8])}</title>
<style>body{{font-family:Arial,sans-serif;margin:2rem;color:#212b32;max-width:70rem}}
h1{{color:#005eb8}}table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #d8dde0;
padding:.3rem .6rem;text-align:right}}td:first-child,th:first-child{{text-align:left}}
.warn{{background:#fff9c4;padding:.5rem 1rem}}@media print{{.plot{{page-break-inside:avoid}}}}</style>
</head><body>
<h1>Model card: 12-month emergency admission risk</h1>
<p><b>Model</b> {html.escape(model["model_id"])}, trained {model["trained_at"]}, settings version
{html.escape(str(model["config_version"]))}.<br>
<b>Data window</b>: features from registry events before {model["index_date"]}; outcome from
{model["index_date"]} for 12 months (data cut {model["data_cut"]}).<br>
<b>Population</b>: {model["population"]:,} people registered and alive on the index date;
outcome rate {_pct(model["outcome_rate"])}. Test set: {test["people"]:,} people, {test["events"]:,}
with an emergency admission.<br>
<b>LightGBM</b>: {_start_words(model)}<br>
<b>Outcome</b>: at least one emergency admission in 12 months. Death without admission counts as
no admission (competing event; the cumulative incidence a proactive-care team acts on).</p>
{_facts_html(content) if "facts" in content else ""}
<h2>Performance on the test set</h2>
<table><tr><th>model</th><th>AUROC (95 % CI)</th><th>AUPRC</th><th>Brier</th><th>cal. slope</th>
<th>cal. intercept</th><th>O/E</th><th>top 1 %: PPV / sens.</th><th>top 5 %</th><th>top 10 %</th></tr>
{"".join(rows)}</table>
<h2>Compared with the baselines</h2><ul>{comparisons}</ul>
<h2>Warnings</h2><div class="warn"><ul>{warnings}</ul></div>
<div class="plot">{fig.to_html(full_html=False, include_plotlyjs=True)}</div>
<h2>LightGBM by group</h2>
<table><tr><th>group</th><th></th><th>people</th><th>events</th><th>AUROC</th><th>O/E</th><th>cal. slope</th></tr>
{"".join(sub_rows)}</table>
{extra}
</body></html>"""


# (key, heading, format) of the card's tables, for the HTML card and the app's Model page alike.
THRESHOLD_TABLE = [("share", "Share flagged", ".1%"), ("flagged", "Flagged", ","), ("tp", "TP", ","),
                   ("fp", "FP", ","), ("ppv", "PPV", ".1%"), ("sensitivity", "Sensitivity", ".1%"),
                   ("specificity", "Specificity", ".1%"), ("npv", "NPV", ".1%"),
                   ("risk_at_cut", "Risk at cut", ".3f")]  # fmt: skip
CAPACITY_TABLE = [("target", "Share of admitted people reached", ".0%"),
                  ("people_reviewed", "People reviewed", ","),
                  ("share_of_population", "Share of population", ".1%"), ("ppv", "PPV", ".1%")]  # fmt: skip
PRACTICE_TABLE = [("practice_code", "Practice", ""), ("people", "People", ","),
                  ("places_per_year", "Places a year", ""), ("share_reviewed", "Share reviewed", ".1%"),
                  ("ppv", "PPV", ".1%"), ("sensitivity", "Sensitivity", ".1%")]  # fmt: skip
CONSTRAINT_TABLE = [("stem", "Feature", ""), ("direction", "Constraint", ""), ("reason", "Why", "")]
PROBAST_TABLE = [("domain", "Domain", ""), ("item", "Item", ""), ("risk_of_bias", "Risk of bias", ""),
                 ("detail", "From this run", "")]  # fmt: skip


def cell(value: object, spec: str) -> str:
    """A table cell as shown: '*' for a missing or undefined figure (None, NaN)."""
    if value is None or value != value:
        return "*"
    return format(value, spec) if spec else str(value)


def formatted(rows: list[dict], columns: list[tuple[str, str, str]]) -> list[dict]:
    """Rows with every column's value as its shown text."""
    return [{k: cell(r[k], f) for k, _, f in columns} for r in rows]


def _table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """An HTML table: (key, heading, format) per column."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>"
        for r in formatted(rows, columns)
    )  # fmt: skip
    return f"<table><tr>{head}</tr>{body}</table>"


def _facts_html(content: dict) -> str:
    f = content["facts"]
    cost = f["constraint_cost"]
    synthetic = (
        f"<p class='warn'><b>Synthetic data.</b> {html.escape(f['synthetic_statement'])}</p>"
        if f["synthetic"]
        else ""
    )
    return f"""{synthetic}
<h2>Intended use</h2><p>{html.escape(f["intended_use"])}</p>
<h2>Who must not use it, and how</h2><p>{html.escape(f["must_not_use"])}</p>
<h2>Limits</h2><p>{html.escape(f["limits"])}</p>
<h2>The model in use</h2><p>{html.escape(f["model_in_use"])} Training stopped by
{html.escape(f["why_training_stopped"])}. Settings chosen on the validation part: learning rate
{f["settings_chosen"]["learning_rate"]}, {
        f["settings_chosen"]["num_leaves"]
    } leaves, minimum leaf size
{f["settings_chosen"]["min_child_samples"]}. {
        f["incomplete_records"]:,} people with an incomplete record
are scored by a model of the {len(f["known_model"]["features"])} features known for everyone
({f["known_model"]["trees"]} trees).</p>
{
        _table(
            f["settings_search"],
            [
                ("learning_rate", "learning rate", ""),
                ("num_leaves", "leaves", ""),
                ("min_child_samples", "min leaf", ""),
                ("trees", "trees", ""),
                ("validation_logloss", "validation log-loss", ".5f"),
            ],
        )
    }
<h2>Monotone constraints</h2>
{_table(f["constraints"], CONSTRAINT_TABLE)}
<p>What they cost (test AUROC, measured both ways): LightGBM {
        cost["lightgbm_constrained"]:.4f} with,
{cost["lightgbm_unconstrained"]:.4f} without; logistic regression {
        cost["logistic_constrained"]:.4f} with,
{cost["logistic_unconstrained"]:.4f} without.</p>
<h2>PROBAST-style checklist</h2>
{_table(f["probast"], PROBAST_TABLE)}"""


def net_benefit_figure(decision: dict) -> go.Figure:
    """The decision curve: the model against treating everyone and no one."""
    rows = decision["net_benefit"]
    nb = go.Figure()
    xs = [r["threshold"] for r in rows]
    for key, name in (("model", "model"), ("treat_all", "treat all"), ("treat_none", "treat none")):
        nb.add_trace(go.Scatter(x=xs, y=[r[key] for r in rows], mode="lines", name=name))
    nb.update_layout(title="Net benefit (decision curve)", xaxis_title="threshold risk",
                     yaxis_title="net benefit", yaxis_range=[-0.01, max(r["model"] for r in rows) * 1.1],
                     height=420, template="simple_white")  # fmt: skip
    return nb


def calibration_curve_figure(decision: dict) -> go.Figure:
    """Observed against predicted risk in twentieths over the whole range, with Wilson intervals
    and the smoothed curve."""
    cal = go.Figure()
    curve = decision["calibration_curve"]
    top = max(max(r["high"] for r in curve), max(r["expected"] for r in curve))
    cal.add_trace(
        go.Scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dot"}, name="perfect")
    )
    cal.add_trace(go.Scatter(
        x=[r["expected"] for r in curve], y=[r["observed"] for r in curve], mode="markers", name="twentieths",
        error_y={"type": "data", "symmetric": False, "array": [r["high"] - r["observed"] for r in curve],
                 "arrayminus": [r["observed"] - r["low"] for r in curve]},
    ))  # fmt: skip
    cal.add_trace(go.Scatter(x=[r["expected"] for r in curve], y=[r["smoothed"] for r in curve],
                             mode="lines", name="smoothed"))  # fmt: skip
    cal.update_layout(
        title="Calibration over the whole range of predicted risk",
        height=480,
        xaxis_title="predicted risk",
        yaxis_title="observed",
        template="simple_white",
    )
    return cal


def _decision_html(content: dict) -> str:
    d = content["decision"]
    pct = THRESHOLD_TABLE
    nb, cal = net_benefit_figure(d), calibration_curve_figure(d)
    return f"""<h2>Threshold table (model in use, test set)</h2>
{_table([r for r in d["thresholds"] if r["cut"] == "tier"], pct)}
<details><summary>Every 1 % of the population</summary>{
        _table([r for r in d["thresholds"] if r["cut"] == "percent"], pct)
    }</details>
<div class="plot">{nb.to_html(full_html=False, include_plotlyjs=False)}</div>
<h2>Capacity</h2>
{_table(d["capacity"], CAPACITY_TABLE)}
<p>PPV at each practice's share of the conference capacity (a year of places):</p>
{_table(d["capacity_by_practice"], PRACTICE_TABLE)}
<h2>Calibration</h2>
<div class="plot">{cal.to_html(full_html=False, include_plotlyjs=False)}</div>
{
        _table(
            d["calibration_by_group"],
            [
                ("family", "group", ""),
                ("group", "", ""),
                ("people", "people", ","),
                ("events", "events", ","),
                ("auroc", "AUROC", ".3f"),
                ("auroc_low", "low", ".3f"),
                ("auroc_high", "high", ".3f"),
                ("observed_over_expected", "O/E", ".2f"),
                ("oe_low", "low", ".2f"),
                ("oe_high", "high", ".2f"),
                ("calibration_intercept", "cal. in the large", "+.3f"),
                ("calibration_slope", "slope", ".2f"),
                ("eavg", "Eavg", ".4f"),
                ("e90", "E90", ".4f"),
                ("emax", "Emax", ".4f"),
            ],
        )
    }"""
