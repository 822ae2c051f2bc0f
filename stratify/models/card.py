"""The model card: every metric for every model, overall and by group, with warnings, as JSON
(stored with the model) and as a self-contained HTML page."""

from __future__ import annotations

import html
import json

import numpy as np
import plotly.graph_objects as go
import polars as pl

from stratify.models import metrics

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
        top = max(top, *xs, *ys)
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
</body></html>"""
