"""Probabilistic linkage (Splink on DuckDB) of records without a usable NHS number to registered
people. Configuration is data: stratify/registry/linkage.yaml.

Splink scores every pair the blocking rules find; this module keeps each record's two best
candidates (registry.linkage_scores) and decides (registry.probabilistic_links): link to the best
when it clears the threshold and the runner-up is far enough behind on the match-weight scale,
otherwise leave the record unlinked with a reason that says which of those failed. Decisions a
person recorded in the clerical review (ops.linkage_resolutions) take precedence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

from stratify.registry.models import query, run_model

CONFIG = Path(__file__).with_name("linkage.yaml")
FIELDS = ("given_key", "family_key", "date_of_birth", "sex", "postcode_key")
# What a missing field is called in an unlinked reason (the column a supplier would recognise).
FIELD_NAMES = {
    "given_key": "given_name",
    "family_key": "family_name",
    "date_of_birth": "date_of_birth",
    "sex": "sex",
    "postcode_key": "postcode",
}


@dataclass(frozen=True)
class LinkageConfig:
    version: str
    threshold_match_probability: float
    min_match_weight_margin: float
    review_from_probability: float
    seed: int
    max_pairs_for_u: int
    threads: int
    em_without_term_frequencies: bool
    comparisons: dict
    blocking_rules_for_prediction: list[dict]
    blocking_rules_for_training: list[list[str]]

    @classmethod
    def load(cls, path: Path = CONFIG) -> LinkageConfig:
        return cls(**yaml.safe_load(Path(path).read_text()))


LINKS_SCHEMA = {
    "identity_key": pl.String,
    "person_id": pl.Int64,
    "link_method": pl.String,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "runner_up_probability": pl.Float64,
    "runner_up_weight": pl.Float64,
    "review": pl.Boolean,
    "unlinked_reason": pl.String,
}
SCORES_SCHEMA = {
    "identity_key": pl.String,
    "rank": pl.Int64,
    "person_id": pl.Int64,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "agreement": pl.String,
    "blocking_rule": pl.Int64,
}
RESOLUTIONS_SCHEMA = {"identity_key": pl.String, "decision": pl.String, "person_id": pl.Int64}


def comparisons(cfg: LinkageConfig) -> list:
    """Splink's built-in name, date-of-birth, postcode and exact comparisons, with the levels
    they lack for how these records go wrong (short forms, initials, double-barrelled surnames,
    day and month transposed) inserted where they rank."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    names_cfg = cfg.comparisons["names"]
    names = cl.ForenameSurnameComparison(
        "given_key",
        "family_key",
        jaro_winkler_thresholds=names_cfg["jaro_winkler_thresholds"],
        forename_surname_concat_col_name="full_name",
    ).create_comparison_levels()
    # [both null, exact (tf), swapped, JW..., exact surname (tf), exact forename (tf), else];
    # added: swapped with a typo after swapped; short form, initial and one part of a two-part
    # family name after Jaro-Winkler; one name similar before else.
    extra = [
        cll.And(
            cll.ExactMatchLevel("family_key"), cll.ArrayIntersectLevel("given_forms", 1)
        ).configure(label_for_charts="Short form of the given name, same family name"),
        cll.CustomLevel(
            "family_key_l = family_key_r AND left(given_key_l, 1) = left(given_key_r, 1) "
            "AND (length(given_key_l) = 1 OR length(given_key_r) = 1)",
            label_for_charts="Given name's initial, same family name",
        ),
        cll.And(
            cll.ExactMatchLevel("given_key"), cll.ArrayIntersectLevel("family_parts", 1)
        ).configure(label_for_charts="Same given name, one part of the family name"),
    ]
    similar = names_cfg["similar_jaro_winkler"]
    swapped_with_typo = cll.CustomLevel(
        f"jaro_winkler_similarity(given_key_l, family_key_r) >= {similar} "
        f"AND jaro_winkler_similarity(family_key_l, given_key_r) >= {similar}",
        label_for_charts="Names swapped, with a typo",
    )
    one_similar = [
        cll.JaroWinklerLevel("family_key", similar).configure(
            label_for_charts=f"Family name similar (Jaro-Winkler >= {similar})"
        ),
        cll.JaroWinklerLevel("given_key", similar).configure(
            label_for_charts=f"Given name similar (Jaro-Winkler >= {similar})"
        ),
    ]
    at = 3 + len(names_cfg["jaro_winkler_thresholds"])
    names = [
        *names[:3],
        swapped_with_typo,
        *names[3:at],
        *extra,
        *names[at:-1],
        *one_similar,
        names[-1],
    ]
    dob_cfg = cfg.comparisons["date_of_birth"]
    dob = cl.DateOfBirthComparison(
        "date_of_birth",
        input_is_string=False,
        datetime_thresholds=dob_cfg["datetime_thresholds"],
        datetime_metrics=dob_cfg["datetime_metrics"],
    ).create_comparison_levels()
    transposed = cll.CustomLevel(
        "year(date_of_birth_l) = year(date_of_birth_r) "
        "AND month(date_of_birth_l) = day(date_of_birth_r) "
        "AND day(date_of_birth_l) = month(date_of_birth_r)",
        label_for_charts="Day and month transposed",
    )
    dob = [*dob[:2], transposed, *dob[2:]]
    return [
        cl.CustomComparison(names, output_column_name="names"),
        cl.CustomComparison(dob, output_column_name="date_of_birth"),
        cl.PostcodeComparison("postcode_key"),
        cl.ExactMatch("sex"),
    ]


def blocking_rules(cfg: LinkageConfig) -> list:
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    return [
        block_on(*rule["columns"]) if "columns" in rule else CustomRule(rule["sql"])
        for rule in cfg.blocking_rules_for_prediction
    ]


def _settings(cfg: LinkageConfig, people: int):
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(cfg),
        blocking_rules_to_generate_predictions=blocking_rules(cfg),
        # A record without an NHS number belongs to one of the registered people.
        probability_two_random_records_match=1.0 / max(people, 2),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,  # with the gamma_ columns: what agreed
    )


def splink_database(cfg: LinkageConfig, people, records) -> duckdb.DuckDBPyConnection:
    """Splink's own in-memory DuckDB with both sides' comparison columns made."""
    db = duckdb.connect(config={"memory_limit": "2GB"})
    db.register("people_in", people)
    db.register("records_in", records)
    db.register("nicknames", pl.read_csv(CONFIG.with_name(cfg.comparisons["names"]["nicknames"])))
    run_model(db, "registry/linkage_features")
    return db


def link(con: duckdb.DuckDBPyConnection, cfg: LinkageConfig, say=lambda _m: None) -> pl.DataFrame:
    """Decide a person (or a reason) for each distinct identity among records that need linking;
    write each identity's two best candidates to registry.linkage_scores.

    Reads registry.person and registry.linkage_candidates from `con`; runs Splink on its own
    in-memory DuckDB so that the build's transaction on `con` is never touched by Splink."""
    people = query(con, "registry/linkage_people")
    records = query(con, "registry/linkage_records")
    scores = score(people, records, cfg, say) if records.height and people.height else None
    if scores is None:
        scores = pl.DataFrame(schema={**SCORES_SCHEMA, "person_nhs": pl.String}).drop("person_id")
    ids = con.sql("SELECT nhs_number AS person_nhs, person_id FROM registry.person").pl()
    scores = scores.join(ids, on="person_nhs", how="left").select(list(SCORES_SCHEMA))
    _write(con, "registry.linkage_scores", scores)
    missing = records.select(
        identity_key="unique_id",
        missing=pl.concat_list(
            [pl.when(pl.col(c).is_null()).then(pl.lit(FIELD_NAMES[c])) for c in FIELDS]
        ).list.drop_nulls(),
    )
    return decide(scores, missing, resolutions(con), cfg)


def score(
    people: pl.DataFrame, records: pl.DataFrame, cfg: LinkageConfig, say=lambda _m: None,
    train: bool = True,
) -> pl.DataFrame:  # fmt: skip
    """Each record's two best candidates (by NHS number), with match weight, probability, what
    agreed and the blocking rule that found the pair. Without `train`, Splink's default m
    probabilities are used (for tests of blocking and comparison levels on a few rows)."""
    from splink import DuckDBAPI, Linker, block_on

    say(f"linkage: {records.height:,} distinct identities against {people.height:,} people")
    logging.getLogger("splink").setLevel(logging.ERROR)
    db = splink_database(cfg, people.to_arrow(), records.to_arrow())
    api = DuckDBAPI(db)
    left = api.register("registered_people", dataset_display_name="registered_people")
    right = api.register("records_to_link", dataset_display_name="records_to_link")

    def fresh() -> Linker:
        linker = Linker([left, right], _settings(cfg, people.height), log_level=logging.ERROR)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=cfg.max_pairs_for_u, seed=cfg.seed
        )
        return linker

    linker = fresh()
    say("linkage: u probabilities estimated")
    # EM sums floating-point probabilities over pairs; with one thread the order of the sums, and
    # so every bit of the result, is the same in every run. Counting (u) and scoring do not sum.
    db.execute(f"SET threads = {cfg.threads}")
    try:
        for rule in cfg.blocking_rules_for_training if train else []:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=cfg.em_without_term_frequencies
            )
    except ValueError as exc:
        # With very few records a comparison level is never seen among matches and EM drives its
        # m probability to zero; fall back to Splink's default m probabilities for every level.
        say(f"linkage: EM not fitted ({str(exc).split('.')[0]}); default m probabilities used")
        linker = fresh()
    db.execute("RESET threads")
    say("linkage: m probabilities estimated")
    predictions = linker.inference.predict()
    db.execute(f"CREATE OR REPLACE TABLE predictions AS SELECT * FROM {predictions.physical_name}")
    counts = dict(db.execute("SELECT match_key, count(*) FROM predictions GROUP BY ALL").fetchall())
    for i, rule in enumerate(cfg.blocking_rules_for_prediction):
        say(f"linkage: blocking rule '{rule['name']}': {counts.get(str(i), 0):,} comparisons")
    best = query(db, "registry/linkage_best")
    labels = _level_labels(linker)
    agreement = pl.concat_str(
        [
            pl.lit(f"{name}: ")
            + pl.col(f"gamma_{name}").replace_strict(levels, default="?", return_dtype=pl.String)
            for name, levels in labels.items()
        ],
        separator="; ",
    )
    db.close()
    return best.with_columns(agreement=agreement).select(
        identity_key="record",
        rank="rank",
        person_nhs="person",
        match_probability="match_probability",
        match_weight="match_weight",
        agreement="agreement",
        blocking_rule=pl.col("match_key").cast(pl.Int64),
    )


def _level_labels(linker) -> dict[str, dict[int, str]]:
    """Per comparison, each comparison vector value's label (-1 is the null level)."""
    model = linker.misc.save_model_to_json()
    labels = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        values, top = {}, len([lv for lv in levels if not lv.get("is_null_level")]) - 1
        for level in levels:
            if level.get("is_null_level"):
                values[-1] = "missing"
            else:
                values[top] = level.get("label_for_charts", level["sql_condition"]).lower()
                top -= 1
        labels[comparison["output_column_name"]] = values
    return labels


def resolutions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The latest clerical decision per identity, if the operational schema has any."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'ops' AND table_name = 'linkage_resolutions'"
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame(schema=RESOLUTIONS_SCHEMA)
    return query(con, "registry/linkage_resolutions_latest")


def decide(
    scores: pl.DataFrame, missing: pl.DataFrame, resolved: pl.DataFrame, cfg: LinkageConfig
) -> pl.DataFrame:
    """Per identity: link to the best candidate when it clears the threshold and the runner-up is
    at least the margin behind on the match-weight scale; a clerical decision overrides."""
    best = scores.filter(pl.col("rank") == 1).select(
        "identity_key", "person_id", "match_probability", "match_weight"
    )
    second = scores.filter(pl.col("rank") == 2).select(
        "identity_key",
        runner_up_probability="match_probability",
        runner_up_weight="match_weight",
    )
    frame = (
        missing.join(best, on="identity_key", how="left")
        .join(second, on="identity_key", how="left")
        .join(resolved.rename({"person_id": "resolved_person"}), on="identity_key", how="left")
    )
    p, p2 = pl.col("match_probability"), pl.col("runner_up_probability")
    clears = p >= cfg.threshold_match_probability
    clear_of_next = (
        pl.col("match_weight") - pl.col("runner_up_weight").fill_null(float("-inf"))
    ) >= cfg.min_match_weight_margin
    automatic = clears & clear_of_next
    fmt = lambda e: e.round(4).cast(pl.String)  # noqa: E731
    core = (
        pl.when(p.is_null())
        .then(pl.lit("no candidate compared"))
        .when(~clears)
        .then(pl.lit("best candidate below threshold (p = ") + fmt(p) + pl.lit(")"))
        .otherwise(
            pl.lit("two candidates too close (p = ") + fmt(p) + pl.lit(", ") + fmt(p2) + pl.lit(")")
        )
    )
    reason = (
        pl.when(pl.col("missing").list.len() > 0)
        .then(pl.lit("missing fields: ") + pl.col("missing").list.join(", ") + pl.lit("; ") + core)
        .otherwise(core)
    )
    decision = pl.col("decision")
    return (
        frame.with_columns(
            person_id=pl.when(decision == "link")
            .then(pl.col("resolved_person"))
            .when(decision.is_null() & automatic)
            .then(pl.col("person_id")),
            link_method=pl.when(decision == "link")
            .then(pl.lit("clerical"))
            .when(decision.is_null() & automatic)
            .then(pl.lit("probabilistic"))
            .otherwise(pl.lit("unlinked")),
            review=decision.is_null()
            & ~automatic.fill_null(False)
            & (p >= cfg.review_from_probability).fill_null(False),
            unlinked_reason=pl.when(decision == "link")
            .then(None)
            .when(decision == "no_match")
            .then(pl.lit("clerical review: no registered person matches"))
            .when(automatic.fill_null(False))
            .then(None)
            .otherwise(reason),
        )
        .select(list(LINKS_SCHEMA))
        .sort("identity_key")
    )


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("__linkage_frame", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM __linkage_frame")
    con.unregister("__linkage_frame")
