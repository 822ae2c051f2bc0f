"""The `stratify` command line. Each command shows progress on stderr, prints a JSON object on
stdout with --json, and exits non-zero with a one-line reason on failure."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from stratify import database, nhs_number


class CommandError(Exception):
    """A failure the user can act on; shown as one line, exit status 1. `details` are further
    lines (one per failed gate); `result` is still printed with --json."""

    def __init__(self, message: str, details: list[str] | None = None, result: dict | None = None):
        super().__init__(message)
        self.details = details or []
        self.result = result


def _progress(args: argparse.Namespace):
    start = time.perf_counter()

    def say(message: str) -> None:
        if not getattr(args, "quiet", False):
            print(f"[{time.perf_counter() - start:7.1f}s] {message}", file=sys.stderr, flush=True)

    return say


def cmd_synth(args: argparse.Namespace) -> dict:
    from stratify.synth.config import SynthConfig
    from stratify.synth.generator import synthesise

    if args.patients < 1:
        raise CommandError("--patients must be at least 1")
    if args.patients > nhs_number.TEST_RANGE_CAPACITY:
        raise CommandError(
            f"--patients {args.patients:,} is more than the {nhs_number.TEST_RANGE_CAPACITY:,} valid "
            "NHS numbers in the 999 test range"
        )
    cfg = SynthConfig(
        patients=args.patients,
        seed=args.seed,
        data_cut=args.data_cut,
        history_years=args.history_years,
        practice_size=(args.min_practice, args.max_practice),
    )
    summary = synthesise(cfg, Path(args.out), args.format, progress=_progress(args))
    if not args.json:
        _print_synth(summary, Path(args.out))
    return summary


def _print_synth(summary: dict, out: Path) -> None:
    cut = summary["at_data_cut"]
    print(
        f"Synthetic population of {summary['patients']:,} in {summary['practices']} practices, "
        f"{summary['clusters']} clusters; data cut {summary['data_cut']}."
    )
    for feed, rows in summary["rows"].items():
        print(f"  {feed:<22} {rows:>12,} rows")
    print(
        f"  12-month emergency admission after the cut: {cut['emergency_admission_rate']:.1%} "
        f"(65+: {cut['emergency_admission_rate_65_plus']:.1%}); oracle AUROC {cut['oracle_auroc']:.3f}"
    )
    print(
        f"Feeds in {out / 'feeds'}; ground truth (never read by the pipeline) in {out / 'ground_truth'}."
    )


def cmd_check(args: argparse.Namespace) -> dict:
    from stratify import contracts

    folder = Path(args.feeds)
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder of feeds")
    say = _progress(args)
    cut = args.data_cut or contracts.data_cut_of(folder)
    con = contracts.connect()
    results = {}
    for feed, contract in contracts.load_contracts().items():
        path = contracts.feed_file(folder, feed)
        if path is None:
            say(f"{feed}: no file")
            continue
        check = contracts.check_feed(con, contract, path, cut)
        flagged = check.violations.filter(pl.col("severity") == "flag")
        results[feed] = {
            "file": str(path),
            "contract_version": check.contract_version,
            "read": check.read,
            "accepted": check.accepted,
            "rejected": check.rejected,
            "rejected_by_check": _counts(check.violations.filter(pl.col("severity") == "reject")),
            "flagged_by_check": _counts(flagged),
        }
        say(
            f"{feed}: read {check.read:,}, accepted {check.accepted:,}, rejected {check.rejected:,}"
        )
    comparison = _check_gates(folder, Path(args.db), results)
    if not args.json:
        print(f"Feeds in {folder} checked against their contracts (data cut {cut}):")
        for feed, r in results.items():
            reasons = ", ".join(f"{k} {v:,}" for k, v in r["rejected_by_check"].items()) or "none"
            print(
                f"  {feed:<22} read {r['read']:>11,} = accepted {r['accepted']:>11,} + rejected "
                f"{r['rejected']:>7,} ({reasons})"
            )
        _print_gates(comparison)
    result = {"data_cut": cut.isoformat(), "feeds": results, "gates": comparison.to_dict()}
    if comparison.refusals:
        raise CommandError(
            f"build would refuse this delivery: {len(comparison.refusals)} gate(s) failed",
            [g.reason for g in comparison.refusals],
            result,
        )
    return result


def _check_gates(folder: Path, db: Path, results: dict):
    """The gates a build of these feeds would meet before linkage (rows, acceptance rate,
    manifest counts, an empty patients file), against the registry in `db` when there is one."""
    from stratify import contracts, database
    from stratify.registry import gates

    loads = pl.DataFrame(
        {
            "feed": list(contracts.FEEDS),
            "rows_read": [results.get(f, {}).get("read", 0) for f in contracts.FEEDS],
            "rows_accepted": [results.get(f, {}).get("accepted", 0) for f in contracts.FEEDS],
        }
    )
    try:
        settings, manifest = gates.GateSettings.load(), gates.manifest_rows(folder)
    except gates.GateError as exc:
        raise CommandError(str(exc)) from exc
    before = None
    if db.exists():
        con = database.connect(db, read_only=True)
        try:
            before = gates.previous(con)
        finally:
            con.close()
    return gates.evaluate(loads, before, settings, manifest)


def _print_gates(comparison) -> None:
    against = (
        f"the registry of build {comparison.previous_build_id[:8]}"
        if comparison.previous_build_id
        else "no previous build (first build: absolute gates only)"
    )
    failed = [g for g in comparison.gates if not g.passed]
    print(
        f"Gates against {against}: {len(comparison.gates) - len(failed)} passed, "
        f"{len(failed) - len(comparison.refusals)} accepted, {len(comparison.refusals)} failed."
    )
    for g in failed:
        print(f"  {'accepted' if g.accepted_by else 'FAILED'}: {g.reason}")


def _counts(violations) -> dict[str, int]:
    grouped = violations.group_by("check_name").agg(rows=pl.col("row_number").n_unique())
    return dict(sorted(zip(grouped["check_name"], grouped["rows"], strict=True)))


def cmd_build(args: argparse.Namespace) -> dict:
    from stratify.registry.build import BuildError, BuildRefused, build
    from stratify.registry.gates import AcceptedDrop

    if args.accept_drop and not (args.by and args.why):
        raise CommandError("--accept-drop needs --by (who accepts the drop) and --why (the reason)")
    try:
        summary = build(
            Path(args.feeds),
            Path(args.db),
            reference=Path(args.reference) if args.reference else None,
            data_cut=args.data_cut,
            say=_progress(args),
            accept_drops=[AcceptedDrop(f, args.by, args.why) for f in args.accept_drop],
        )
    except BuildRefused as exc:
        comparison = exc.comparison.to_dict()
        hint = "; if a drop is known, rerun with --accept-drop FEED --by NAME --why REASON"
        raise CommandError(str(exc) + hint, comparison["reasons"], {"gates": comparison}) from exc
    except BuildError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        _print_build(summary, args.db)
        _print_gates_accepted(summary["gates"])
    return summary


def _print_gates_accepted(gates: dict) -> None:
    for g in gates["gates"]:
        if g["accepted_by"]:
            print(f"  Accepted drop: {g['reason']}")


def _print_build(summary: dict, db: str) -> None:
    print(
        f"Registry in {db}: {summary['people']:,} people, data cut {summary['data_cut']} "
        f"(build {summary['build_id'][:8]}, {summary['seconds']}s)."
    )
    print(
        f"  {'feed':<22}{'read':>12}{'accepted':>12}{'quarantined':>12}{'by NHS no.':>12}"
        f"{'probabilistic':>14}{'unlinked':>10}"
    )
    for feed, f in summary["feeds"].items():
        print(
            f"  {feed:<22}{f['rows_read']:>12,}{f['rows_accepted']:>12,}{f['rows_quarantined']:>12,}"
            f"{f['linked_nhs_number']:>12,}{f['linked_probabilistic']:>14,}{f['unlinked']:>10,}"
        )
    if summary["quarantine_reasons"]:
        print("  Quarantined rows by reason:")
        for r in summary["quarantine_reasons"]:
            where = f" ({r['column_name']})" if r["column_name"] else ""
            print(f"    {r['feed']:<22} {r['check_name']}{where}: {r['rows']:,}")
    for r in summary["unlinked_reasons"]:
        print(f"  Unlinked {r['feed']}: {r['rows']:,} - {r['reason']}")
    for r in summary["late_or_missing_feeds"]:
        print(
            f"  {r['status'].capitalize()} feed: {r['feed']} for practice {r['practice_code']} "
            f"(latest {r['latest_event_date']})"
        )
    for r in summary["unknown_codes"]:
        print(
            f"  Codes in no code list: {r['feed']} {r['code_system']}: {r['codes']} codes, {r['rows']:,} rows"
        )


def cmd_evaluate_linkage(args: argparse.Namespace) -> dict:
    from stratify.registry.evaluate_linkage import evaluate

    if not Path(args.db).exists():
        raise CommandError(f"{args.db}: no such database; run stratify build first")
    result = evaluate(Path(args.db), Path(args.truth), Path(args.feeds) if args.feeds else None)
    if not args.json:
        print(
            "Linkage of every delivered record without a valid NHS number, against ground truth "
            "(rejected and unlinked records count as misses):"
        )
        for feed, r in result.items():
            print(
                f"  {feed:<22} precision {r['precision']:.4f}  recall {r['recall']:.4f}  "
                f"F1 {r['f1']:.4f}  (n={r['records_without_valid_nhs_number']:,}: rejected "
                f"{r['rejected']:,}, linked {r['linked']:,}, unlinked {r['unlinked']:,}); recall "
                f"of those that reached linkage {r['recall_of_records_that_reached_linkage']:.4f}; "
                f"false links {r['false_links']} (to a twin {r['false_links_to_a_twin']}, same "
                f"address {r['false_links_to_someone_at_the_same_address']}; records of twins "
                f"{r['records_of_twins']:,}, recall {r['recall_of_twins']:.4f}); false links among "
                f"valid NHS numbers: {r['false_links_with_valid_nhs_number']}"
            )
        print("  Recall by planted defect (records without a valid NHS number):")
        for defect, r in result["all"]["by_defect"].items():
            print(
                f"    {defect:<24} {r['recall']:.4f} of {r['records']:,}"
                f"  false links {r['false_links']}"
            )
    return result


def cmd_resolve_link(args: argparse.Namespace) -> dict:
    from stratify.registry.review import ReviewError, resolve

    if not Path(args.db).exists():
        raise CommandError(f"{args.db}: no such database; run stratify build first")
    if (args.person_id is None) == (not args.no_match):
        raise CommandError("give exactly one of --person-id N or --no-match")
    try:
        result = resolve(Path(args.db), args.review_id, args.person_id, args.by, args.reason)
    except ReviewError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        what = f"person {args.person_id}" if args.person_id is not None else "no registered person"
        print(
            f"Recorded (record {result['record_id']}): review item {args.review_id} is "
            f"{what}, by {args.by}; applied from the next build."
        )
    return result


def _open(db: str, *needs: str):
    """The database, with every table in `needs` present (and holding rows where REQUIRED says
    so); otherwise a sentence naming what is missing and the command that makes it."""
    from stratify import database

    if not Path(db).exists():
        raise CommandError(f"{db}: no such database; run stratify build first")
    con = database.connect(db)
    try:
        for table in needs:
            _require(con, db, table)
    except BaseException:
        con.close()
        raise
    return con


# What each stage reads before it can start: (what is missing, the command that makes it, whether
# the table must also hold rows).
REQUIRED = {
    "registry.build_info": ("no registry", "run stratify build first", False),
    "registry.spells": (
        "no accepted hospital spell in the registry (the model and the audit need admissions)",
        "run stratify build on a delivery whose apc_spells feed passes its contract",
        True,
    ),
    "registry.events": ("no registry", "run stratify build first", False),
    "ref.practices": ("no registry", "run stratify build first", False),
    "models.trained": ("no trained model", "run stratify train first", True),
    "risk.scores": ("no risk scores", "run stratify score first", True),
}
# The stage that makes each schema, for a table no command checked for up front.
MADE_BY = {
    "staging": "stratify build", "registry": "stratify build", "ref": "stratify build",
    "meta": "stratify build", "models": "stratify train", "risk": "stratify score",
    "features": "stratify score", "care": "stratify candidates, adherence or conference",
    "audit": "stratify audit", "ops": "stratify candidates",
}  # fmt: skip


def _require(con, db: str, table: str) -> None:
    from stratify.registry.models import query

    what, command, rows = REQUIRED[table]
    schema, name = table.split(".")
    present = query(con, "app/table_exists", {"schema": schema, "table": name})["present"][0]
    if present and rows:
        present = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()
        present = present[0][0] > 0
    if not present:
        raise CommandError(f"{db}: {what}; {command}")


def _missing_table(exc: Exception) -> str | None:
    """A sentence for DuckDB's 'table does not exist' (never its SQL text), or None."""
    import re

    first = str(exc).splitlines()[0]
    found = re.search(r'Table with name "?([\w.]+?)"? does not exist', first)
    if not found:
        return None
    table = found.group(1)
    command = MADE_BY.get(table.split(".")[0], "the stage that makes it")
    return f"the database has no {table} yet; run {command} first"


def cmd_train(args: argparse.Namespace) -> dict:
    from stratify.models import card
    from stratify.models.train import TrainError, latest, train

    con = _open(args.db, "registry.build_info", "registry.spells")
    try:
        summary = train(con, index_date=args.index_date, say=_progress(args))
        html_path = Path(args.card)
        html_path.write_text(card.render_html(latest(con)))
    except TrainError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    summary["card_html"] = str(html_path)
    if not args.json:
        start = summary["lightgbm_start"]
        start = "a constant" if start == "none" else f"the {start} baseline"
        print(
            f"Model {summary['model_id'][:8]} trained on {summary['people']:,} people at "
            f"{summary['index_date']} (outcome rate {summary['outcome_rate']:.1%}), "
            f"{summary['trees']} trees boosted from {start}, {summary['calibration']} calibration."
        )
        for name, m in summary["test"].items():
            print(
                f"  {name:<18} AUROC {m['auroc']:.3f} ({m['auroc_low']:.3f}-{m['auroc_high']:.3f})  "
                f"Brier {m['brier']:.4f}  slope {m['calibration_slope']:.2f}  O/E "
                f"{m['observed_over_expected']:.2f}  PPV top 5% {m['ppv_top_5pct']:.1%}"
            )
        for w in summary["warnings"]:
            print(f"  warning: {w}")
        print(f"Model card: {html_path}")
    return summary


def cmd_score(args: argparse.Namespace) -> dict:
    from stratify.models.score import score
    from stratify.models.train import TrainError

    con = _open(args.db, "registry.build_info", "models.trained")
    try:
        months = max(args.history_months, 1 if args.also_previous_month else 0)
        if months:  # earlier monthly scores: "change since last month", persistence, trajectory
            from stratify.models.train import data_cut

            index = args.index_date or data_cut(con) + timedelta(days=1)
            for back in range(months, 0, -1):
                m = index.year * 12 + index.month - 1 - back
                day = date(m // 12, m % 12 + 1, min(index.day, 28))
                score(con, index_date=day, say=_progress(args))
        summary = score(
            con, index_date=args.index_date, all_reasons=args.all_reasons, say=_progress(args)
        )
    except TrainError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    if not args.json:
        tiers = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in summary["tiers"].items())
        print(
            f"Scored {summary['people']:,} people on {summary['index_date']}: {tiers}; "
            f"frail {summary['frail']:,}, diabetic {summary['diabetic']:,}."
        )
    return summary


def cmd_evaluate_model(args: argparse.Namespace) -> dict:
    from stratify.models.evaluate_model import evaluate

    if not Path(args.db).exists():
        raise CommandError(f"{args.db}: no such database; run stratify build first")
    result = evaluate(Path(args.db), Path(args.truth))
    if not args.json:
        m = result["model"]
        print(
            f"Scores of {result['index_date']} against the following 12 months ({result['people']:,} "
            f"people, outcome rate {result['outcome_rate']:.1%}):"
        )
        print(
            f"  LightGBM AUROC {m['auroc']:.3f} ({m['auroc_low']:.3f}-{m['auroc_high']:.3f}); oracle "
            f"{result['oracle_auroc']:.3f}; gap {result['gap_to_oracle']:.3f}"
        )
        print(
            f"  calibration slope {m['calibration_slope']:.2f}, intercept {m['calibration_intercept']:+.2f}, "
            f"observed/expected {m['observed_over_expected']:.3f}"
        )
        print(
            "  by deprivation quintile (1 = most deprived): observed/expected with the 95 % limits\n"
            "  a calibrated model falls within by chance; the oracle's observed/expected on the same\n"
            "  people (chance alone); true/expected (the model's own error, without that chance)"
        )
        for q, r in result["observed_over_expected_by_deprivation_quintile"].items():
            low, high = r["limits_if_calibrated"]
            print(
                f"  deprivation quintile {q}: observed/expected {r['observed_over_expected']:.3f} "
                f"(limits {low:.3f}-{high:.3f}; {r['events']:,} events); oracle "
                f"{r['oracle_observed_over_expected']:.3f}; true/expected {r['true_over_expected']:.3f}"
            )
    return result


def _care_db(db: str, *needs: str):
    from stratify import operational

    if not Path(db).exists():
        raise CommandError(f"{db}: no such database; run stratify build first")
    _open(db, *needs).close()  # what the stage needs, checked before anything is written
    operational.migrate(Path(db))
    return _open(db)


def cmd_candidates(args: argparse.Namespace) -> dict:
    from stratify.care import candidates

    con = _care_db(args.db, "registry.build_info", "risk.scores")
    try:
        summary = candidates(con)
        rows = con.sql(
            "SELECT practice_code, enrolment_status, count(*) AS people FROM care.candidates "
            "GROUP BY ALL ORDER BY ALL"
        ).pl()
    finally:
        con.close()
    summary["by_practice"] = rows.to_dicts()
    if not args.json:
        print(f"Candidates for proactive care (criteria v{summary['criteria_version']}):")
        for status, n in summary["by_status"].items():
            print(f"  {status:<12} {n:>8,}")
    return summary


def _record(args: argparse.Namespace, write, what: str) -> dict:
    """Run one write of the care-records layer; a refused write is a one-line error."""
    from stratify.care.records import RecordError

    con = _care_db(args.db)
    try:
        record_id = write(con)
    except RecordError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    if not args.json:
        print(f"Recorded: {what} (record {record_id}).")
    return {"record_id": record_id}


def cmd_enrol(args: argparse.Namespace) -> dict:
    from stratify.care.records import record_enrolment

    return _record(
        args,
        lambda con: record_enrolment(con, args.person_id, args.action, args.by, args.reason),
        f"person {args.person_id} {args.action}",
    )


def cmd_coordinator(args: argparse.Namespace) -> dict:
    from stratify.care.records import record_coordinator

    return _record(
        args,
        lambda con: record_coordinator(
            con,
            args.person_id,
            args.name,
            args.role,
            args.organisation,
            args.accountable_gp,
            args.by,
        ),
        f"named coordinator for person {args.person_id}",
    )


def cmd_adherence(args: argparse.Namespace) -> dict:
    from stratify.models.train import TrainError, data_cut
    from stratify.protocols import ProtocolError
    from stratify.protocols.adherence import run

    con = _care_db(args.db, "registry.build_info")
    try:
        as_of = args.as_of or data_cut(con)
        summary = run(con, as_of, say=_progress(args))
    except (TrainError, ProtocolError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    if not args.json:
        print(
            f"Protocol adherence on {summary['as_of']} (per practice and cluster in care.adherence_by_practice):"
        )
        for s in summary["steps"]:
            rate = s["met"] / s["applicable"] if s["applicable"] else float("nan")
            print(
                f"  {s['protocol']:<13} {s['step_title'][:52]:<52} {s['applicable']:>8,} "
                f"applicable  {rate:6.1%} met  ({s['due_soon']:,} due soon)"
            )
    return summary


def cmd_conference(args: argparse.Namespace) -> dict:
    from stratify import conference, pack

    if args.cluster == "all":
        con = _open(args.db, "ref.practices", "risk.scores")
        clusters = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cluster_code FROM ref.practices ORDER BY 1"
            ).fetchall()
        ]
        con.close()
        return {"clusters": [cmd_conference(argparse.Namespace(**{**vars(args), "cluster": c, "out": None}))
                             for c in clusters]}  # fmt: skip
    con = _care_db(args.db, "ref.practices", "risk.scores")
    try:
        listed = conference.build_list(con, args.cluster, args.month)
        actions = conference.open_actions(con, args.cluster)
        attendance, outcomes = conference.last_outcomes(
            con, args.cluster, conference.month_start(args.month)
        )
    except conference.ConferenceError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    stem = (
        Path(args.out).with_suffix("")
        if args.out
        else Path(f"conference_{args.cluster}_{args.month}")
    )
    title = f"Case conference: cluster {args.cluster}, {args.month}"
    xlsx = pack.write_workbook(
        stem.with_suffix(".xlsx"), listed.rows, actions, attendance, outcomes, title
    )
    pdf = pack.write_pdf(stem.with_suffix(".pdf"), listed.rows, actions, outcomes, title)
    rows = listed.rows
    # Terminal output is for anyone: person ids are pseudonyms; names and NHS numbers stay in the pack.
    summary = {
        "cluster": args.cluster,
        "month": args.month,
        "since": listed.since.isoformat(),
        "rules_version": listed.config_version,
        "listed": rows.height,
        "by_practice": dict(rows.group_by("practice_code").len().sort("practice_code").iter_rows()),
        "patients": rows.select(
            "list_order", "person_id", "practice_code", "tier", "why_discuss"
        ).to_dicts(),
        "open_actions": actions.height,
        "workbook": str(xlsx),
        "pdf": str(pdf),
    }
    if not args.json:
        print(
            f"{title}: {rows.height} patients (events since {listed.since}); {actions.height} open actions."
        )
        for r in summary["patients"]:
            print(
                f"  {r['list_order']:>2}. person {r['person_id']} ({r['practice_code']}, {r['tier']}): {r['why_discuss']}"
            )
        print(f"Pack: {xlsx} and {pdf} (patient-identifiable: direct-care team only).")
    return summary


def cmd_timeline(args: argparse.Namespace) -> dict:
    from stratify import conference

    con = _care_db(args.db, "registry.events")
    try:
        frame = conference.timeline(con, args.person_id)
    finally:
        con.close()
    if not args.json:
        print(
            f"Timeline of person {args.person_id}: {frame.height} entries across {frame['setting'].n_unique()} settings"
        )
        for r in frame.tail(args.last).iter_rows(named=True):
            print(f"  {r['event_date']}  {r['setting']:<22} {r['kind']:<22} {r['detail']}")
    return {"person_id": args.person_id, "entries": frame.height, "events": frame.to_dicts()}


def cmd_audit(args: argparse.Namespace) -> dict:
    from stratify.audit.run import run
    from stratify.audit.window import default_months, months_back
    from stratify.models.train import TrainError, data_cut

    con = _care_db(args.db, "registry.build_info", "registry.spells")
    try:
        cut = args.as_of or data_cut(con)
        months = default_months(con, cut) if args.months is None else months_back(cut, args.months)
        if not months:
            raise CommandError(
                f"no month up to {cut} has a year of hospital spells behind it; the audit needs "
                "a delivery with at least a year of admissions (stratify build)"
            )
        summary = run(con, months, say=_progress(args), recompute=args.recompute)
    except TrainError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    if not args.json:
        print(
            f"Audit {summary['from']} to {summary['to']}: {summary['months']} months, {summary['series']} "
            "series (audit.values, audit.spc, audit.funnel; suppressed copy in audit.published)."
        )
        for r in summary["system_latest"]:
            value = "n/a" if r["value"] is None else f"{r['value']:.1f}"
            print(
                f"  {r['title'][:70]:<70} {value:>8}  {r['variation']}"
                + (f"; {r['assurance']}" if r["assurance"] else "")
            )
    return summary


def cmd_prepare(args: argparse.Namespace) -> dict:
    """Start the successor database with the live one's person keys, so the month's pipeline can
    build into it (--db NAME.next.duckdb) while the app serves."""
    import duckdb

    from stratify.registry import successor

    db = Path(args.db)
    nxt = successor.successor_of(db)
    try:
        con = database.connect(db)
    except duckdb.Error:  # held: the app starts it at its next request
        wanted = successor.wanted_of(db)
        wanted.write_text("\n")
        deadline = time.time() + args.wait
        while wanted.exists() and time.time() < deadline:
            time.sleep(0.2)
        if wanted.exists():
            wanted.unlink(missing_ok=True)
            raise CommandError(f"the app holding {db.name} did not start {nxt.name} within {args.wait:g} s "
                               "(it does so at its next request)") from None  # fmt: skip
    else:
        con.close()
        successor.prepare_offline(db)
    if not nxt.exists():
        raise CommandError(f"{nxt.name} was not started: see the app's log")
    if not args.quiet:
        print(f"stratify: {nxt.name} is ready to build into: stratify build/train/score --db {nxt}, "
              f"then stratify promote --db {db}", file=sys.stderr)  # fmt: skip
    return {"successor": str(nxt)}


def cmd_promote(args: argparse.Namespace) -> dict:
    """Make the successor (built, trained and scored with --db NAME.next.duckdb) the live file:
    the serving app switches at its next request; with no app serving, it is done here."""
    import duckdb

    from stratify.registry import successor

    db = Path(args.db)
    try:
        con = database.connect(db)
    except duckdb.Error:  # held: the app does the switch, between requests
        marker = successor.mark_ready(db)
        if not args.quiet:
            print(f"stratify: {successor.successor_of(db).name} is ready; the app switches to it at its "
                  f"next request (watch for {marker.name} to go)", file=sys.stderr)  # fmt: skip
        return {"ready": str(marker), "switched": False}
    con.close()
    copied = successor.promote_offline(db)
    if not args.quiet:
        print(f"stratify: {db.name} is now the successor ({len(copied)} tables carried over); the "
              f"previous file is {successor.previous_of(db).name}", file=sys.stderr)  # fmt: skip
    return {"switched": True, "carried_over": copied}


def _users_file(args: argparse.Namespace) -> Path:
    return Path(args.users) if args.users else Path(args.db).with_name("users.yaml")


def cmd_serve(args: argparse.Namespace) -> dict:
    """Open the database and bind the port first; only then say "serving"."""
    import duckdb

    from dashboards.app import default_hosts, serve
    from dashboards.auth import UserError
    from stratify import db_lock

    users = _users_file(args)
    hosts = tuple(args.allowed_host or ()) or default_hosts(args.host)

    def ready() -> None:
        print(f"stratify: serving {args.db} on http://{args.host}:{args.port}/ (users: {users}; "
              f"host names: {', '.join(hosts)}); Ctrl-C to stop", file=sys.stderr)  # fmt: skip

    try:
        serve(args.db, users, args.host, args.port, threads=args.threads, debug=args.debug,
              secure_cookie=args.secure_cookie, idle_minutes=args.idle_minutes,
              session_hours=args.session_hours, allowed_hosts=hosts, ready=ready)  # fmt: skip
    except UserError as exc:
        raise CommandError(str(exc)) from exc
    except duckdb.Error as exc:
        raise CommandError(db_lock.explain(exc) or str(exc)) from exc
    return {"served": args.db}


def cmd_users(args: argparse.Namespace) -> dict:
    """Add or change an app user. A password is read (STRATIFY_PASSWORD, else a prompt) only
    with --set-password; what is not given (name, clusters, active) stays as it was."""
    from dashboards.auth import User, UserError, Users, create_users_file

    users_path = _users_file(args)
    password = _new_password(args.username) if args.set_password else None
    try:
        if not users_path.exists():
            if args.role != "admin" or not password:
                raise CommandError(
                    f"{users_path} does not exist: start it with an admin and --set-password"
                )
            create_users_file(users_path, args.username, password)
        else:
            book = Users(users_path)
            existing = book.all().get(args.username)
            if existing is None and password is None:
                raise CommandError(
                    f"{args.username} is a new user: give a password with --set-password"
                )
            if args.clusters is not None:
                clusters = _known_clusters(args.db, [c for c in args.clusters.split(",") if c])
            else:
                clusters = existing.clusters if existing else ()
            active = (False if args.disable else True if args.enable
                      else existing.active if existing else True)  # fmt: skip
            name = args.name or (existing.display_name if existing else args.username)
            book.save(User(args.username, name, args.role, clusters, active), password)
    except UserError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"Saved user {args.username} ({args.role}) in {users_path}.")
    return {"username": args.username, "role": args.role, "users": str(users_path)}


def _new_password(username: str) -> str:
    import getpass
    import os

    return os.environ.get("STRATIFY_PASSWORD") or getpass.getpass(f"new password for {username}: ")


def _known_clusters(db: str, wanted: list[str]) -> tuple[str, ...]:
    """The clusters asked for, if the registry knows every one; else the list of known ones."""
    import duckdb

    from stratify import db_lock
    from stratify.registry.models import query

    if not Path(db).exists():
        raise CommandError(f"cannot check the practice clusters: no database {db} (give --db)")
    try:
        con = database.connect(db, read_only=True)
    except duckdb.Error as exc:
        raise CommandError(
            f"cannot check the practice clusters: {db_lock.explain(exc) or exc}"
        ) from exc
    try:
        known = query(con, "app/clusters")["cluster_code"].to_list()
    finally:
        con.close()
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise CommandError(
            f"unknown practice cluster(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return tuple(wanted)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratify", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        return p

    p = command("synth", "write a synthetic integrated-care population: feeds and ground truth")
    p.add_argument("--patients", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="synthetic", help="output folder (default ./synthetic)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--data-cut", type=date.fromisoformat, default=date(2026, 10, 31))
    p.add_argument("--history-years", type=int, default=5)
    p.add_argument("--min-practice", type=int, default=3_000, help="smallest practice list size")
    p.add_argument("--max-practice", type=int, default=15_000, help="largest practice list size")
    p.set_defaults(run=cmd_synth)

    p = command(
        "check",
        "check every feed in a folder against its contract (counts reconcile) and the gates a "
        "build would meet against the registry in --db; writes nothing",
    )
    p.add_argument("--feeds", default="synthetic/feeds")
    p.add_argument("--db", default="stratify.duckdb", help="the registry to compare with, if any")
    p.add_argument(
        "--data-cut",
        type=date.fromisoformat,
        default=None,
        help="default: manifest.json beside the feeds, else today",
    )
    p.set_defaults(run=cmd_check)

    p = command("build", "build the cross-setting registry in DuckDB from a folder of feeds")
    p.add_argument("--feeds", default="synthetic/feeds")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--reference", default=None, help="default: FEEDS/../reference")
    p.add_argument(
        "--data-cut",
        type=date.fromisoformat,
        default=None,
        help="default: manifest.json beside the feeds, else today",
    )
    p.add_argument(
        "--accept-drop",
        action="append",
        default=[],
        metavar="FEED",
        help="accept a known drop in this feed (repeatable); needs --by and --why",
    )
    p.add_argument("--by", default=None, help="who accepts the drop (kept in meta.builds)")
    p.add_argument("--why", default=None, help="why the drop is accepted (kept in meta.builds)")
    p.set_defaults(run=cmd_build)

    p = command("evaluate-linkage", "precision, recall and F1 of linkage against ground truth")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--truth", default="synthetic/ground_truth")
    p.add_argument("--feeds", default=None, help="the delivered feeds (default: TRUTH/../feeds)")
    p.set_defaults(run=cmd_evaluate_linkage)

    p = command(
        "resolve-link",
        "record a clerical decision on an item of registry.linkage_review (applied by every later build)",
    )
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--review-id", required=True, help="review_id from registry.linkage_review")
    p.add_argument("--person-id", type=int, default=None, help="the person the records belong to")
    p.add_argument(
        "--no-match", action="store_true", help="the records belong to no registered person"
    )
    p.add_argument("--by", required=True, help="who decided")
    p.add_argument("--reason", default=None)
    p.set_defaults(run=cmd_resolve_link)

    p = command("train", "train the emergency-admission model and baselines; write the model card")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument(
        "--index-date",
        type=date.fromisoformat,
        default=None,
        help="default: 12 months before the day after the data cut",
    )
    p.add_argument("--card", default="model_card.html", help="where to write the HTML model card")
    p.set_defaults(run=cmd_train)

    p = command("score", "score every living registered patient: risk, tier, cohorts, reasons")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument(
        "--index-date",
        type=date.fromisoformat,
        default=None,
        help="default: the day after the data cut",
    )
    p.add_argument(
        "--also-previous-month",
        action="store_true",
        help="score one month earlier too, so lists can show the change since last month",
    )
    p.add_argument(
        "--history-months",
        type=int,
        default=0,
        help="score this many earlier months first (persistently high needs 3 of the last 6; "
        "rising frailty needs a score 12 months before)",
    )
    p.add_argument(
        "--all-reasons",
        action="store_true",
        help="no effect, kept for existing scripts: reasons are now computed for everyone",
    )
    p.set_defaults(run=cmd_score)

    p = command(
        "evaluate-model", "the data-cut scores against the following 12 months (ground truth)"
    )
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--truth", default="synthetic/ground_truth")
    p.set_defaults(run=cmd_evaluate_model)

    p = command("candidates", "who is eligible for proactive care, and their enrolment status")
    p.add_argument("--db", default="stratify.duckdb")
    p.set_defaults(run=cmd_candidates)

    p = command("enrol", "record an enrolment decision (appended to the ledger with who and when)")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--person-id", type=int, required=True)
    p.add_argument(
        "--action", choices=["enrolled", "declined", "deferred", "withdrawn"], required=True
    )
    p.add_argument("--reason", default=None, help="required unless enrolling")
    p.add_argument("--by", required=True, help="who is recording it")
    p.set_defaults(run=cmd_enrol)

    p = command("coordinator", "name a patient's care coordinator and accountable GP")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--person-id", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--organisation", required=True)
    p.add_argument("--accountable-gp", required=True)
    p.add_argument("--by", required=True, help="who is recording it")
    p.set_defaults(run=cmd_coordinator)

    p = command("adherence", "protocol adherence per patient and step, rolled up per practice")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="default: the data cut")
    p.set_defaults(run=cmd_adherence)

    p = command(
        "audit", "monthly audit per practice, cluster and system, with SPC and funnel plots"
    )
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="last month (default: data cut)"
    )
    p.add_argument(
        "--months",
        type=int,
        default=None,
        help="how many months back (default: the last 36 with a year of data behind them)",
    )
    p.add_argument(
        "--recompute", action="store_true", help="recompute every month, even those unchanged"
    )
    p.set_defaults(run=cmd_audit)

    p = command("conference", "this month's case-conference list for a cluster, and the pack")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--cluster", required=True, help="practice cluster code (e.g. U44100), or all")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", default=None, help="pack file stem (writes .xlsx and .pdf)")
    p.set_defaults(run=cmd_conference)

    p = command("timeline", "one person's record across every setting, in date order")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument("--person-id", type=int, required=True)
    p.add_argument("--last", type=int, default=40, help="how many of the latest entries to print")
    p.set_defaults(run=cmd_timeline)

    p = command(
        "prepare",
        "start NAME.next.duckdb beside the live database, for the monthly run while the app serves",
    )
    p.add_argument("--db", default="stratify.duckdb", help="the live database")
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a serving app")
    p.set_defaults(run=cmd_prepare)

    p = command(
        "promote",
        "make the successor database (NAME.next.duckdb, built while the app served) the live one",
    )
    p.add_argument("--db", default="stratify.duckdb", help="the live database")
    p.set_defaults(run=cmd_promote)

    p = command("serve", "the web app for clusters, commissioners and audit leads")
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument(
        "--users", default=None, help="users file (default: users.yaml beside the database)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument(
        "--debug", action="store_true", help="Flask's development server and Dash dev tools"
    )
    p.add_argument("--secure-cookie", action="store_true",
                   help="mark the session cookie Secure and send HSTS (serve over HTTPS, e.g. behind a TLS proxy)")  # fmt: skip
    p.add_argument("--idle-minutes", type=float, default=30.0,
                   help="sign a user out after this long without a request (default 30)")  # fmt: skip
    p.add_argument("--session-hours", type=float, default=8.0,
                   help="sign a user out this long after sign-in, however busy (default 8)")  # fmt: skip
    p.add_argument("--allowed-host", action="append", default=None, metavar="NAME",
                   help="a host name the app answers to (repeatable; default: the --host address and "
                        "localhost); requests naming any other Host are refused")  # fmt: skip
    p.set_defaults(run=cmd_serve)

    p = command(
        "users",
        "add or change a user of the web app (with --set-password: STRATIFY_PASSWORD or a prompt)",
    )
    p.add_argument("--db", default="stratify.duckdb")
    p.add_argument(
        "--users", default=None, help="users file (default: users.yaml beside the database)"
    )
    p.add_argument("--username", required=True)
    p.add_argument("--name", default=None, help="display name (default: keep it, or the username)")
    p.add_argument(
        "--role", required=True, choices=["clinician", "commissioner", "audit_lead", "admin"]
    )
    p.add_argument("--clusters", default=None,
                   help="comma-separated practice clusters (clinicians), checked against --db; default: keep them")  # fmt: skip
    p.add_argument("--set-password", action="store_true",
                   help="set a new password: STRATIFY_PASSWORD if set, else a prompt (never read otherwise)")  # fmt: skip
    active = p.add_mutually_exclusive_group()
    active.add_argument("--disable", action="store_true", help="mark the user inactive")
    active.add_argument("--enable", action="store_true", help="mark the user active again")
    p.set_defaults(run=cmd_users)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    os.umask(0o077)  # the database, packs, users file and session store are the owner's alone
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except CommandError as exc:
        from stratify import db_lock

        print(f"stratify {args.command}: {db_lock.explain(exc) or exc}", file=sys.stderr)
        for line in exc.details:
            print(f"  {line}", file=sys.stderr)
        if args.json and exc.result is not None:
            print(json.dumps(exc.result, default=str))
        return 1
    except Exception as exc:  # the contract and file errors already name file, row and column
        import duckdb

        from stratify.contracts import ContractError

        if isinstance(exc, duckdb.CatalogException) and _missing_table(exc):
            print(f"stratify {args.command}: {_missing_table(exc)}", file=sys.stderr)
            return 1
        if isinstance(exc, ContractError | OSError | ValueError | duckdb.Error):
            from stratify import db_lock

            print(f"stratify {args.command}: {db_lock.explain(exc) or exc}", file=sys.stderr)
            return 1
        raise
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
