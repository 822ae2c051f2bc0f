"""Monthly clinical audit over the whole history: measures per practice, cluster and system; SPC
for every series; funnel plots of practices for the latest month; a published copy with NHS
small-number suppression for anything that leaves the direct-care team."""

from __future__ import annotations

import time
from datetime import date

import duckdb
import polars as pl

from stratify.audit import disclosure
from stratify.audit import months as audit_months
from stratify.audit.funnel import funnel
from stratify.audit.spc import xmr
from stratify.audit.window import default_months, month_ends, months_back  # noqa: F401
from stratify.models.train import data_cut
from stratify.protocols import load_all
from stratify.protocols.adherence import run as run_adherence
from stratify.registry.models import run_model

MEASURES: dict[str, tuple[str, str]] = {
    "eligible_people": ("People eligible for proactive care (frail or diabetic)", "neither"),
    "enrolment_rate": ("Enrolled, % of eligible", "up"),
    "coordinator_coverage": ("Named coordinator recorded, % of enrolled", "up"),
    "emergency_admissions_per_1000_enrolled": ("Emergency admissions per 1,000 enrolled", "down"),
    "emergency_admissions_per_1000_eligible_not_enrolled": (
        "Emergency admissions per 1,000 eligible, not enrolled", "down"),
    "bed_days_per_1000_enrolled": ("Bed days per 1,000 enrolled", "down"),
    "bed_days_per_1000_eligible_not_enrolled": ("Bed days per 1,000 eligible, not enrolled", "down"),
    "ae_attendances_per_1000_enrolled": ("A&E attendances per 1,000 enrolled", "down"),
    "ae_attendances_per_1000_eligible_not_enrolled": ("A&E attendances per 1,000 eligible, not enrolled", "down"),
    "frail_deaths_in_hospital": ("Frail cohort: deaths in hospital, % of deaths", "down"),
}  # fmt: skip


def measure_catalogue() -> dict[str, tuple[str, str]]:
    """Every measure with its title and improvement direction, protocol steps included."""
    steps = {
        f"{p.protocol}.{s.id}": (f"{p.title}: {s.title} (v{p.version}), % met", "up")
        for p in load_all().values()
        for s in p.steps
    }
    return MEASURES | steps


def run(
    con: duckdb.DuckDBPyConnection,
    months: list[date] | None = None,
    say=lambda _m: None,
    recompute: bool = False,
) -> dict:
    """Audit `months` (default: the bounded window of months.yaml). Months whose inputs are
    unchanged since audit.months recorded them are not recomputed unless `recompute`."""
    t0 = time.perf_counter()
    months = months or default_months(con)
    for schema in ("audit", "care"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    computed = audit_months.compute(con, months, recompute=recompute, say=say)
    say(
        f"audit: {len(computed)} of {len(months)} months computed ({time.perf_counter() - t0:.0f}s)"
    )
    if months[-1] != data_cut(con):  # lists and conferences read the adherence of the data cut
        run_adherence(con, data_cut(con))
    run_model(con, "audit/measures_rollup")
    values = _values(con)
    spc = _spc(values)
    funnels = _funnels(values)
    published = publish(values)
    # Commissioner-facing charts are drawn from the published (suppressed, rounded) figures only.
    multipliers = dict(values.select("measure", "multiplier").unique("measure").iter_rows())
    released = published.with_columns(
        numerator=pl.col("numerator").cast(pl.Float64),
        denominator=pl.col("denominator").cast(pl.Float64),
        multiplier=pl.col("measure").replace_strict(multipliers, default=None),
    )
    spc_published = _spc(released)  # practices too: commissioners look by practice and cluster
    funnel_published = _funnels(
        released.filter(pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null())
    )
    tables = {
        "values": values, "spc": spc, "funnel": funnels, "published": published,
        "spc_published": spc_published, "funnel_published": funnel_published,
    }  # fmt: skip
    for name, frame in tables.items():
        if frame.width == 0:  # too little history for any chart
            con.execute(f"DROP TABLE IF EXISTS audit.{name}")
            continue
        con.register("__frame", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE audit.{name} AS SELECT * FROM __frame")
        con.unregister("__frame")
    con.execute(
        "CHECKPOINT"
    )  # replaced tables' blocks are reused, so a rerun does not grow the file
    latest = (
        spc_published.filter((pl.col("level") == "system") & (pl.col("month") == months[-1]))
        if spc_published.width
        else pl.DataFrame(
            schema={c: pl.String for c in ("measure", "title", "value", "variation", "assurance")}
        )
    )
    return {
        "months": len(months),
        "from": months[0].isoformat(),
        "to": months[-1].isoformat(),
        "series": spc.select("level", "unit_code", "measure").unique().height,
        "system_latest": latest.select(
            "measure", "title", "value", "variation", "assurance"
        ).to_dicts(),
        "disclosure_version": disclosure.load_rules().version,
        "computed_months": len(computed),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _values(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each measure as a value: a count, or a rate from the summed numerator and denominator."""
    catalogue = measure_catalogue()
    frame = con.sql("SELECT * FROM audit.measures ORDER BY level, unit_code, measure, month").pl()
    return frame.with_columns(
        value=pl.when(pl.col("denominator").is_null())
        .then(pl.col("numerator"))
        .when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator") * pl.col("multiplier")),
        title=pl.col("measure").replace_strict(
            {k: v[0] for k, v in catalogue.items()}, default=pl.col("measure")
        ),
        direction=pl.col("measure").replace_strict(
            {k: v[1] for k, v in catalogue.items()}, default="neither"
        ),
    )


def _spc(values: pl.DataFrame) -> pl.DataFrame:
    """An XmR chart for every series that has at least two months with a value."""
    frames = []
    for _, series in values.filter(pl.col("value").is_not_null()).group_by(
        ["level", "unit_code", "measure"], maintain_order=True
    ):
        if series.height < 2:
            continue
        series = series.sort("month")
        result = xmr(series["value"].to_numpy(), direction=series["direction"][0])
        points = result.points
        frames.append(
            series.select(
                "month",
                "level",
                "unit_code",
                "measure",
                "title",
                "direction",
                "numerator",
                "denominator",
                "value",
            ).with_columns(  # fmt: skip
                mean=points["mean"],
                lower=points["lower"],
                upper=points["upper"],
                special_cause=points["special_cause"],
                meaning=points["meaning"],
                rules=points["rules"].list.join(", "),
                variation=pl.lit(result.variation),
                assurance=pl.lit(result.assurance, dtype=pl.String),
            )  # fmt: skip
        )
    return pl.concat(frames) if frames else pl.DataFrame()


def _funnels(values: pl.DataFrame) -> pl.DataFrame:
    """Practices compared on each proportion for the latest month (never ranked)."""
    latest = values["month"].max()
    rows = values.filter(
        (pl.col("level") == "practice") & (pl.col("month") == latest) & (pl.col("multiplier") == 100)
        & (pl.col("denominator") > 0)
    )  # fmt: skip
    frames = []
    for (measure,), group in rows.group_by(["measure"], maintain_order=True):
        r, n = group["numerator"].to_numpy(), group["denominator"].to_numpy()
        if group.height < 3 or not 0 < r.sum() < n.sum():
            continue
        result = funnel(r, n, units=group["unit_code"].to_list(), overdispersion="multiplicative")
        frames.append(
            result.units.with_columns(
                month=pl.lit(latest),
                measure=pl.lit(measure),
                title=pl.lit(group["title"][0]),
                theta=pl.lit(result.theta),
                phi=pl.lit(result.phi),
                adjusted=pl.lit(result.adjusted),
            )  # fmt: skip
        )
    return pl.concat(frames) if frames else pl.DataFrame()


def publish(values: pl.DataFrame) -> pl.DataFrame:
    """The commissioner's copy: counts 1-7 suppressed, others rounded to 5, rates recomputed
    from the rounded figures (the one place disclosure control is applied)."""
    counts = values.with_columns(
        numerator=pl.col("numerator").round().cast(pl.Int64),
        denominator=pl.col("denominator").round().cast(pl.Int64),
    )
    out = disclosure.disclose(counts, ["numerator", "denominator"])
    return out.with_columns(
        value=pl.when(pl.col("denominator").is_null() & pl.col("denominator_display").is_null())
        .then(pl.col("numerator").cast(pl.Float64))
        .when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator") * pl.col("multiplier"))
    ).select("month", "level", "unit_code", "measure", "title", "direction", "numerator", "numerator_display",
             "denominator", "denominator_display", "value")  # fmt: skip
