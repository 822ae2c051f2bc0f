"""Build the cross-setting registry in one DuckDB file, atomically.

Feeds are checked against their contracts, accepted rows are staged, quarantined rows are kept with
their reasons, records are linked to people, and the registry and its data-quality report are made
by the SQL models in sql/registry. Everything derived is replaced inside one transaction: a build
that fails or is killed leaves the previous registry as it was. Operational tables (schema `ops`)
are never touched.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from stratify import codelists, contract_checks, contracts
from stratify.registry import gates, linkage
from stratify.registry.models import query, run_model

SCHEMAS = ("staging", "ref", "registry", "meta", "ops")
FEEDS = contracts.FEEDS
REFERENCE = ("practices", "deprivation")
# The registry models, in dependency order; each file makes the table it is named for.
BEFORE_LINKAGE = ("registry/person", "registry/linkage_candidates")
AFTER_LINKAGE = (
    "registry/record_links",
    "registry/linkage_review",
    "registry/gp_events",
    "registry/gp_medications",
    "registry/spells",
    "registry/ae_attendances",
    "registry/op_appointments",
    "registry/community_contacts",
    "registry/mh_contacts",
    "registry/social_care_episodes",
    "registry/events",
    "registry/dq_feed_summary",
    "registry/dq_quarantine_reasons",
    "registry/dq_unlinked_records",
    "registry/dq_latest_event_by_practice",
    "registry/dq_unknown_codes",
    "registry/dq_gate_metrics",
    "registry/dq_flagged_values",
)


class BuildError(Exception):
    """The build could not start or finish; the previous registry is untouched."""


class BuildRefused(BuildError):
    """The delivery failed one or more gates (gates.py); the previous registry is untouched."""

    def __init__(self, comparison: gates.Comparison):
        self.comparison = comparison
        reasons = comparison.refusals
        super().__init__(
            f"delivery refused, the previous registry is unchanged: {len(reasons)} gate(s) failed"
        )


@dataclass
class Gating:
    """What a build is gated against: thresholds, the manifest's row counts, accepted drops."""

    settings: gates.GateSettings
    manifest: dict[str, int]
    accepted: tuple[gates.AcceptedDrop, ...] = ()


@dataclass
class Source:
    name: str
    contract: contracts.Contract
    path: Path | None


def _sources(feeds: Path, reference: Path) -> list[Source]:
    feed_contracts = contracts.load_contracts()
    ref_contracts = contracts.load_reference_contracts()
    found = [Source(f, feed_contracts[f], contracts.feed_file(feeds, f)) for f in FEEDS]
    found += [Source(r, ref_contracts[r], contracts.feed_file(reference, r)) for r in REFERENCE]
    return found


def build(
    feeds: Path,
    db: Path,
    reference: Path | None = None,
    data_cut: date | None = None,
    link_config: linkage.LinkageConfig | None = None,
    memory_limit: str = "5GB",
    say=lambda _m: None,
    accept_drops: tuple[gates.AcceptedDrop, ...] | list[gates.AcceptedDrop] = (),
    gate_settings: gates.GateSettings | None = None,
) -> dict:
    """Build (or rebuild) the registry in `db` from the feed files in `feeds`; return the summary.
    Raises BuildRefused, leaving the previous registry, when the delivery fails a gate that no
    `accept_drops` entry accepts."""
    feeds = Path(feeds)
    if not feeds.is_dir():
        raise BuildError(f"{feeds}: no such folder of feeds")
    gating = _gating(feeds, accept_drops, gate_settings)
    reference = Path(reference) if reference else feeds.parent / "reference"
    data_cut = data_cut or contracts.data_cut_of(feeds)
    link_config = link_config or linkage.LinkageConfig.load()
    sources = _sources(feeds, reference)
    for required in ("patients", "practices", "deprivation"):
        src = next(s for s in sources if s.name == required)
        if src.path is None:
            where = reference if required in REFERENCE else feeds
            raise BuildError(f"{where}: no {required}.parquet or {required}.csv (required)")
    started = time.perf_counter()
    new_file = not Path(db).exists()
    try:
        con = contracts.connect(db)
    except duckdb.Error as exc:
        raise BuildError(f"{db}: cannot open the database: {str(exc).splitlines()[0]}") from exc
    con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        # Read every file and check its columns before anything in the database changes.
        for src in sources:
            if src.path is not None:
                rows = contracts.read_raw(con, src.path, f"raw_{src.name}")
                types = contracts.raw_types(con, f"raw_{src.name}")
                contracts.require_columns(src.contract, src.path, types)
                say(f"read {src.path.name}: {rows:,} rows")
            else:
                say(f"{src.name}: no file in {feeds}; staged empty")
        con.execute("BEGIN TRANSACTION")
        try:
            summary = _build_in_transaction(con, sources, feeds, data_cut, link_config, gating, say)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except BaseException:
        con.close()
        if new_file:  # a failed first build leaves no empty database to be mistaken for one
            for leftover in (Path(db), Path(f"{db}.wal")):
                leftover.unlink(missing_ok=True)
        raise
    con.close()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    say(f"registry committed to {db} in {summary['seconds']}s")
    return summary


def _gating(feeds: Path, accept_drops, settings: gates.GateSettings | None) -> Gating:
    for drop in accept_drops:
        if drop.feed not in FEEDS:
            raise BuildError(f"--accept-drop {drop.feed}: not a feed (feeds: {', '.join(FEEDS)})")
        if not drop.by.strip() or not drop.why.strip():
            raise BuildError(
                f"--accept-drop {drop.feed}: say who accepts it (--by) and why (--why)"
            )
    try:
        return Gating(
            settings or gates.GateSettings.load(), gates.manifest_rows(feeds), tuple(accept_drops)
        )
    except gates.GateError as exc:
        raise BuildError(str(exc)) from exc


def _gate(con, comparison: gates.Comparison, say) -> gates.Comparison:
    """Stop the build (the caller rolls back) when the delivery fails a gate nobody accepted."""
    failed = [g for g in comparison.gates if not g.passed]
    say(
        f"gates ({comparison.stage}): {len(comparison.gates) - len(failed)} passed, "
        f"{len(failed) - len(comparison.refusals)} accepted, {len(comparison.refusals)} refused"
    )
    if comparison.refusals:
        raise BuildRefused(comparison)
    return comparison


def _top_reasons(quarantine: pl.DataFrame) -> dict[str, str]:
    """Per feed, the check that rejected most rows, for the acceptance-rate gate's reason."""
    top = (
        quarantine.filter(pl.col("severity") == "reject")
        .group_by("feed", "check_name", "column_name")
        .agg(rows=pl.col("source_row").n_unique())
        .sort("rows", descending=True)
        .unique("feed", keep="first")
    )
    return {
        r["feed"]: r["check_name"] + (f" ({r['column_name']})" if r["column_name"] else "")
        for r in top.iter_rows(named=True)
    }


def _build_in_transaction(con, sources, feeds, data_cut, link_config, gating, say) -> dict:
    build_id = str(uuid.uuid4())
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    before = gates.previous(con)
    loads = []
    con.execute(
        "CREATE OR REPLACE TABLE staging.quarantine (feed VARCHAR, file VARCHAR, source_row BIGINT, "
        "column_name VARCHAR, check_name VARCHAR, reason VARCHAR, severity VARCHAR)"
    )
    for src in sources:
        t = time.perf_counter()
        load = _stage(con, src, data_cut)
        loads.append(load)
        say(
            f"staged {src.name}: read {load['rows_read']:,} = accepted {load['rows_accepted']:,} "
            f"+ quarantined {load['rows_quarantined']:,}; flagged {load['rows_flagged']:,} "
            f"({time.perf_counter() - t:.2f}s)"
        )
    feed_loads = pl.DataFrame([row for row in loads if row["feed"] in FEEDS])
    # Only the rejected rows' reasons come back to Python (a few thousand), never the accepted rows.
    top_reasons = _top_reasons(
        con.sql(
            "SELECT feed, check_name, column_name, source_row, severity FROM staging.quarantine "
            "WHERE severity = 'reject'"
        ).pl()
    )
    _gate(
        con,
        gates.evaluate(
            feed_loads.select("feed", "rows_read", "rows_accepted"),
            before, gating.settings, gating.manifest, gating.accepted, top_reasons=top_reasons,
        ),
        say,
    )  # fmt: skip
    _write(con, "staging.feed_loads", feed_loads)
    _write(con, "ref.codelists", _codelists())
    _write(con, "ref.efi_deficits", pl.read_csv(codelists.CODELIST_DIR / "efi_deficits.csv"))
    _write(
        con,
        "registry.build_info",
        pl.DataFrame(
            {
                "build_id": [build_id],
                "data_cut": [data_cut],
                "built_at": [datetime.now().replace(microsecond=0)],
                "feeds": [str(feeds)],
                "codelists_version": [codelists.manifest()["version"]],
                "linkage_version": [link_config.version],
            }
        ),
    )
    for model in BEFORE_LINKAGE:
        run_model(con, model)
    t = time.perf_counter()
    links = linkage.link(con, link_config, say)
    _write(con, "registry.probabilistic_links", links)
    say(f"linkage done ({time.perf_counter() - t:.1f}s)")
    t = time.perf_counter()
    for model in AFTER_LINKAGE:
        run_model(con, model)
    say(f"registry models done ({time.perf_counter() - t:.1f}s)")
    comparison = _gate(
        con,
        gates.evaluate(
            query(con, "gates/feed_metrics"), before, gating.settings, gating.manifest,
            gating.accepted, latest=query(con, "gates/latest_by_practice"), top_reasons=top_reasons,
        ),
        say,
    )  # fmt: skip
    con.execute(
        "CREATE TABLE IF NOT EXISTS meta.builds (build_id VARCHAR, built_at TIMESTAMP, "
        "data_cut DATE, feeds VARCHAR, summary JSON)"
    )
    for column in ("gates", "accepted_drops"):  # added with the gates; older databases lack them
        con.execute(f"ALTER TABLE meta.builds ADD COLUMN IF NOT EXISTS {column} JSON")
    summary = report(con)
    summary["gates"] = comparison.to_dict()
    con.execute(
        "INSERT INTO meta.builds (build_id, built_at, data_cut, feeds, summary, gates, accepted_drops) "
        "SELECT build_id, built_at, data_cut, feeds, ?, ?, ? FROM registry.build_info",
        [
            json.dumps(summary, default=str),
            json.dumps(summary["gates"], default=str),
            json.dumps(summary["gates"]["accepted_drops"]),
        ],
    )
    return summary


def _stage(con, src: Source, data_cut: date) -> dict:
    """Typed accepted rows into staging.<feed> (ref.<name> for reference data), in one checked
    pass per feed; every failed check (rejected or flagged) appended to staging.quarantine."""
    target = f"ref.{src.name}" if src.name in REFERENCE else f"staging.{src.name}"
    columns = contract_checks.staged_columns(src.contract)
    empty = {"feed": src.name, "file": None, "contract_version": src.contract.version}
    if src.path is None:
        nulls = ", ".join(f'NULL::{t} AS "{n}"' for n, t in columns.items())
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT NULL::BIGINT AS source_row, {nulls} LIMIT 0"
        )
        return {
            **empty,
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_quarantined": 0,
            "rows_flagged": 0,
        }
    raw = f"raw_{src.name}"
    source, types = contracts.full_source(con, src.contract, src.path, raw)
    plan = contract_checks.run(con, src.contract, source, types, data_cut, raw, target)
    read, rejected, flagged = contract_checks.counts(con, plan, raw)
    con.execute(
        "INSERT INTO staging.quarantine SELECT ?, ?, row_number, column_name, check_name, reason, "
        f'severity FROM "{raw}_violations"',
        [src.name, str(src.path)],
    )
    contract_checks.keep_accepted(con, plan)
    return {
        **empty,
        "file": str(src.path),
        "rows_read": read,
        "rows_accepted": read - rejected,
        "rows_quarantined": rejected,
        "rows_flagged": flagged,
    }


def _codelists() -> pl.DataFrame:
    frames = []
    for name in codelists.names():
        cl = codelists.load(name)
        frames.append(
            cl.codes.select("code", "term").with_columns(
                list=pl.lit(name), system=pl.lit(cl.system), version=pl.lit(cl.version)
            )
        )
    return pl.concat(frames).select("list", "version", "system", "code", "term")


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("__frame", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM __frame")
    con.unregister("__frame")


def report(con: duckdb.DuckDBPyConnection) -> dict:
    """The data-quality report as stored in the database, as one JSON-able object."""

    def rows(sql: str) -> list[dict]:
        return con.sql(sql).pl().to_dicts()

    feeds = rows("SELECT * EXCLUDE (file) FROM registry.dq_feed_summary")
    return {
        "build_id": con.execute("SELECT build_id FROM registry.build_info").fetchall()[0][0],
        "data_cut": con.execute("SELECT data_cut FROM registry.build_info")
        .fetchall()[0][0]
        .isoformat(),
        "people": con.execute("SELECT count(*) FROM registry.person").fetchall()[0][0],
        "feeds": {f.pop("feed"): f for f in feeds},
        "quarantine_reasons": rows(
            "SELECT feed, check_name, column_name, rows FROM registry.dq_quarantine_reasons "
            "WHERE severity = 'reject'"
        ),
        "flagged_values": rows(
            "SELECT feed, check_name, column_name, rows FROM registry.dq_flagged_values"
        ),
        "unlinked_reasons": rows(
            "SELECT feed, reason, count(*) AS rows FROM registry.dq_unlinked_records GROUP BY ALL ORDER BY ALL"
        ),
        "late_or_missing_feeds": rows(
            "SELECT practice_code, feed, latest_event_date, days_before_cut, status "
            "FROM registry.dq_latest_event_by_practice WHERE status <> 'current'"
        ),
        "unknown_codes": rows(
            "SELECT feed, code_system, count(*) AS codes, CAST(sum(rows) AS BIGINT) AS rows "
            "FROM registry.dq_unknown_codes GROUP BY ALL ORDER BY ALL"
        ),
    }
