"""Gates on a delivery: compare each feed with the previous good build and with the delivery's
manifest, and refuse a delivery that would silently replace a good registry with a worse one
(half the patients, nobody, no admissions because a feed's dates changed type).

The figures come from the build itself (rows read and accepted per feed, people reached, latest
event date per practice); the previous good build's figures are the registry tables it left
(registry.dq_gate_metrics, registry.dq_latest_event_by_practice), since a refused build changes
nothing. Thresholds are versioned settings in gates.yaml. A person may accept a known drop for a
feed (`--accept-drop FEED --by NAME --why REASON`); the absolute gates (no patients, nobody in the
registry) cannot be accepted."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import yaml

from stratify.registry.models import query

SETTINGS = Path(__file__).with_name("gates.yaml")
ABSOLUTE = ("patients_empty", "nobody_in_registry")  # never waived by --accept-drop


class GateError(Exception):
    """Gate settings or a manifest that cannot be used."""


@dataclass(frozen=True)
class FeedLimits:
    max_row_fall: float
    max_people_fall: float
    min_acceptance_rate: float


@dataclass(frozen=True)
class GateSettings:
    version: str
    max_people_lost: float
    max_days_latest_event_back: int
    default: FeedLimits
    overrides: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SETTINGS) -> GateSettings:
        try:
            data = yaml.safe_load(Path(path).read_text())
            feeds = data["feeds"]
            return cls(
                version=str(data["version"]),
                max_people_lost=float(data["max_people_lost"]),
                max_days_latest_event_back=int(data["max_days_latest_event_back"]),
                default=FeedLimits(**feeds["default"]),
                overrides=dict(feeds.get("overrides") or {}),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise GateError(f"{path}: cannot read the gate settings: {exc}") from exc

    def limits(self, feed: str) -> FeedLimits:
        return FeedLimits(**{**asdict(self.default), **self.overrides.get(feed, {})})


@dataclass(frozen=True)
class AcceptedDrop:
    """A person's decision to let one feed's drop through, kept in meta.builds."""

    feed: str
    by: str
    why: str


@dataclass
class Gate:
    gate: str
    feed: str
    passed: bool
    observed: object
    limit: object
    reason: str | None = None  # one line, when it failed
    accepted_by: str | None = None


@dataclass
class Previous:
    """What the previous good build left: per-feed figures and latest event dates per practice."""

    build_id: str
    feeds: pl.DataFrame  # feed, rows_read, rows_accepted, people
    latest: pl.DataFrame  # practice_code, feed, latest_event_date


@dataclass
class Comparison:
    settings_version: str
    previous_build_id: str | None
    stage: str  # "staging" (before linkage: rows, acceptance, manifest) or "registry" (all)
    feeds: dict[str, dict]
    gates: list[Gate]
    accepted_drops: list[AcceptedDrop]

    @property
    def refusals(self) -> list[Gate]:
        return [g for g in self.gates if not g.passed and g.accepted_by is None]

    def to_dict(self) -> dict:
        return {
            "settings_version": self.settings_version,
            "previous_build_id": self.previous_build_id,
            "stage": self.stage,
            "refused": bool(self.refusals),
            "reasons": [g.reason for g in self.refusals],
            "feeds": self.feeds,
            "gates": [asdict(g) for g in self.gates],
            "accepted_drops": [asdict(a) for a in self.accepted_drops],
        }


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(query(con, "app/table_exists", {"schema": schema, "table": table})["present"][0])


def previous(con: duckdb.DuckDBPyConnection) -> Previous | None:
    """The previous good build's figures, or None for a first build (or a database built before
    the gates existed, which has no registry.dq_gate_metrics: its next build is gated as a first)."""
    needed = [("meta", "builds"), ("registry", "dq_gate_metrics"), ("registry", "build_info")]
    needed.append(("registry", "dq_latest_event_by_practice"))
    if not all(_has(con, s, t) for s, t in needed):
        return None
    return Previous(
        build_id=con.execute("SELECT build_id FROM registry.build_info").fetchall()[0][0],
        feeds=query(con, "gates/feed_metrics"),
        latest=query(con, "gates/latest_by_practice"),
    )


def manifest_rows(folder: Path) -> dict[str, int]:
    """Row counts per feed from the delivery's manifest.json ("rows": {feed: n}), if it has them."""
    path = Path(folder) / "manifest.json"
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text()).get("rows") or {}
        return {str(feed): int(n) for feed, n in rows.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise GateError(f"{path}: rows must map each feed to a row count: {exc}") from exc


def _share(part: int | None, whole: int | None) -> float | None:
    return None if not whole or part is None else round(part / whole, 4)


def _fall(now: int | None, before: int | None) -> float | None:
    return None if not before or now is None else round(max(0, before - now) / before, 4)


def evaluate(
    current: pl.DataFrame,
    before: Previous | None,
    settings: GateSettings,
    manifest: dict[str, int] | None = None,
    accepted: tuple[AcceptedDrop, ...] | list[AcceptedDrop] = (),
    latest: pl.DataFrame | None = None,
    top_reasons: dict[str, str] | None = None,
) -> Comparison:
    """Every gate for one delivery. `current` has feed, rows_read, rows_accepted and, once the
    registry is made, people; `latest` (practice_code, feed, latest_event_date) likewise. Gates
    whose figures are not known yet (people, latest dates before linkage) are left out."""
    manifest, top_reasons = manifest or {}, top_reasons or {}
    with_people = "people" in current.columns
    frame = current if with_people else current.with_columns(people=pl.lit(None, pl.Int64))
    if before is not None:
        frame = frame.join(
            before.feeds.select("feed", "rows_read", "rows_accepted", "people"),
            on="feed",
            how="left",
            suffix="_before",
        )
    else:
        frame = frame.with_columns(
            rows_read_before=pl.lit(None, pl.Int64),
            rows_accepted_before=pl.lit(None, pl.Int64),
            people_before=pl.lit(None, pl.Int64),
        )
    compared, went_back = (
        _latest_back(latest, before, settings)
        if with_people and latest is not None and before is not None
        else (set(), {})
    )
    patients = frame.filter(pl.col("feed") == "patients")
    kept = _share(
        patients["people"].sum() if with_people else None,
        patients["people_before"].sum() if before is not None else None,
    )
    gates: list[Gate] = []
    feeds: dict[str, dict] = {}
    for r in frame.sort("feed").iter_rows(named=True):  # one row per feed: nine at most
        feed, limits = r["feed"], settings.limits(r["feed"])
        rate = _share(r["rows_accepted"], r["rows_read"])
        row_fall = _fall(r["rows_read"], r["rows_read_before"])
        people_fall = _fall(r["people"], r["people_before"])
        beyond = None  # a feed reaching fewer people because fewer are registered is the
        if feed != "patients" and people_fall is not None and kept:  # patients gate's business
            beyond = round(max(0.0, 1 - (1 - people_fall) / kept), 4)
        feeds[feed] = {
            "rows_read": r["rows_read"],
            "rows_read_before": r["rows_read_before"],
            "rows_in_manifest": manifest.get(feed),
            "rows_accepted": r["rows_accepted"],
            "acceptance_rate": rate,
            "acceptance_rate_before": _share(r["rows_accepted_before"], r["rows_read_before"]),
            "row_fall": row_fall,
            "people": r["people"],
            "people_before": r["people_before"],
            "people_fall": people_fall,
            "people_fall_beyond_patients": beyond,
            "practices_latest_event_back": len(went_back.get(feed, []))
            if feed in compared
            else None,
            "limits": asdict(limits),
        }
        gates += _feed_gates(feed, r, feeds[feed], limits, settings, top_reasons.get(feed))
        if feed in compared:
            gates.append(_latest_gate(feed, went_back.get(feed, []), settings))
    if with_people:
        people = int(frame.filter(pl.col("feed") == "patients")["people"].sum())
        gates.append(
            Gate("nobody_in_registry", "patients", people > 0, people, 1,
                 None if people else "the registry would hold nobody: no patient was accepted")
        )  # fmt: skip
    by_feed = {a.feed: a for a in accepted}
    for g in gates:
        drop = by_feed.get(g.feed)
        if drop is None and g.gate == "latest_event_date":  # people who left took their dates
            drop = by_feed.get("patients")
        if not g.passed and drop and g.gate not in ABSOLUTE:
            g.accepted_by = drop.by
            g.reason = f"{g.reason} (accepted by {drop.by}: {drop.why})"
    return Comparison(
        settings.version,
        before.build_id if before else None,
        "registry" if with_people else "staging",
        feeds,
        gates,
        list(accepted),
    )


def _feed_gates(feed, r, figures, limits, settings, top_reason) -> list[Gate]:
    out = []
    read, accepted = r["rows_read"], r["rows_accepted"]
    if feed == "patients":
        out.append(
            Gate("patients_empty", feed, accepted > 0, accepted, 1, None if accepted else
                 f"patients: no patient accepted ({read:,} rows read); a header-only or wholly "
                 "rejected patients file cannot replace a registry")
        )  # fmt: skip
        lost = figures["people_fall"]
        if lost is not None:
            ok = lost <= settings.max_people_lost
            out.append(
                Gate("people_lost", feed, ok, lost, settings.max_people_lost, None if ok else
                     f"patients: {r['people']:,} people against {r['people_before']:,} in the "
                     f"previous build, {lost:.1%} lost (at most {settings.max_people_lost:.0%})")
            )  # fmt: skip
    rate = figures["acceptance_rate"]
    if rate is not None:
        ok = rate >= limits.min_acceptance_rate
        why = f"; most rows rejected for {top_reason}" if top_reason else ""
        out.append(
            Gate("acceptance_rate", feed, ok, rate, limits.min_acceptance_rate, None if ok else
                 f"{feed}: {accepted:,} of {read:,} rows accepted ({rate:.1%}, at least "
                 f"{limits.min_acceptance_rate:.0%} required){why}")
        )  # fmt: skip
    expected = figures["rows_in_manifest"]
    if expected is not None:
        ok = read >= expected
        out.append(
            Gate("manifest_rows", feed, ok, read, expected, None if ok else
                 f"{feed}: {read:,} rows in the file but {expected:,} in the delivery's "
                 "manifest.json (a truncated file?)")
        )  # fmt: skip
    fall = figures["row_fall"]
    if fall is not None:
        ok = fall <= limits.max_row_fall
        out.append(
            Gate("rows_fell", feed, ok, fall, limits.max_row_fall, None if ok else
                 f"{feed}: {read:,} rows against {r['rows_read_before']:,} in the previous build, "
                 f"down {fall:.1%} (at most {limits.max_row_fall:.0%})")
        )  # fmt: skip
    people_fall = figures["people_fall_beyond_patients"]
    if people_fall is not None:
        ok = people_fall <= limits.max_people_fall
        out.append(
            Gate("people_fell", feed, ok, people_fall, limits.max_people_fall, None if ok else
                 f"{feed}: reaches {r['people']:,} people against {r['people_before']:,} in the "
                 f"previous build, down {people_fall:.1%} more than patients (at most "
                 f"{limits.max_people_fall:.0%})")
        )  # fmt: skip
    return out


def _latest_back(
    latest: pl.DataFrame, before: Previous, settings: GateSettings
) -> tuple[set[str], dict[str, list[dict]]]:
    """The feeds compared, and per feed the practices whose latest event date went back (or
    vanished) against the previous build by more than the allowed days."""
    joined = before.latest.filter(pl.col("latest_event_date").is_not_null()).join(
        latest.select("practice_code", "feed", "latest_event_date"),
        on=["practice_code", "feed"],
        how="inner",  # a practice gone from the reference data is not a late feed
        suffix="_now",
    )
    back = joined.with_columns(
        days_back=(pl.col("latest_event_date") - pl.col("latest_event_date_now")).dt.total_days()
    ).filter(
        pl.col("latest_event_date_now").is_null()
        | (pl.col("days_back") > settings.max_days_latest_event_back)
    )
    went_back = {
        feed: rows.sort("practice_code").to_dicts()
        for (feed,), rows in back.group_by("feed", maintain_order=True)
    }
    return set(joined["feed"].unique().to_list()), went_back


def _latest_gate(feed: str, back: list[dict], settings: GateSettings) -> Gate:
    if not back:
        return Gate("latest_event_date", feed, True, 0, settings.max_days_latest_event_back)
    first = back[0]
    now = first["latest_event_date_now"] or "none"
    return Gate(
        "latest_event_date", feed, False, len(back), settings.max_days_latest_event_back,
        f"{feed}: the latest event date went back at {len(back)} practice(s) against the "
        f"previous build (e.g. {first['practice_code']}: {first['latest_event_date']} -> {now})",
    )  # fmt: skip
