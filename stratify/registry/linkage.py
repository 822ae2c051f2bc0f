"""Probabilistic linkage (Splink on DuckDB) of records without a usable NHS number to registered
people. Configuration is data: stratify/registry/linkage.yaml."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

CONFIG = Path(__file__).with_name("linkage.yaml")


@dataclass(frozen=True)
class LinkageConfig:
    version: str
    threshold_match_probability: float
    max_runner_up_probability: float
    seed: int
    max_pairs_for_u: int
    blocking_rules_for_prediction: list[list[str]]
    blocking_rules_for_training: list[list[str]]

    @classmethod
    def load(cls, path: Path = CONFIG) -> LinkageConfig:
        return cls(**yaml.safe_load(Path(path).read_text()))


LINKS_SCHEMA = {
    "identity_key": pl.String,
    "person_id": pl.Int64,
    "match_probability": pl.Float64,
    "best_probability": pl.Float64,
    "ambiguous": pl.Boolean,
}


def _settings(cfg: LinkageConfig, people: int):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_key"),
            cl.NameComparison("family_key"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode_key"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(*rule) for rule in cfg.blocking_rules_for_prediction
        ],
        # A record without an NHS number belongs to one of the registered people.
        probability_two_random_records_match=1.0 / max(people, 2),
        retain_intermediate_calculation_columns=False,
    )


def link(con: duckdb.DuckDBPyConnection, cfg: LinkageConfig, say=lambda _m: None) -> pl.DataFrame:
    """Best registered person for each distinct identity among records that need linking.

    Reads registry.person and registry.linkage_candidates from `con`; runs Splink on its own
    in-memory DuckDB so that the build's transaction on `con` is never touched by Splink."""
    from splink import DuckDBAPI, Linker, block_on

    people = con.sql(
        "SELECT CAST(person_id AS VARCHAR) AS unique_id, name_key(given_name) AS given_key, "
        "name_key(family_name) AS family_key, date_of_birth, sex, postcode_key(postcode) AS postcode_key "
        "FROM registry.person"
    ).to_arrow_table()
    records = con.sql(
        "SELECT identity_key AS unique_id, any_value(given_key) AS given_key, "
        "any_value(family_key) AS family_key, any_value(date_of_birth) AS date_of_birth, "
        "any_value(sex) AS sex, any_value(postcode_key) AS postcode_key "
        "FROM registry.linkage_candidates WHERE nhs_person_id IS NULL AND NOT nhs_number_valid "
        "GROUP BY identity_key ORDER BY identity_key"
    ).to_arrow_table()
    if records.num_rows == 0 or people.num_rows == 0:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    say(f"linkage: {records.num_rows:,} distinct identities against {people.num_rows:,} people")
    logging.getLogger("splink").setLevel(logging.ERROR)
    db = DuckDBAPI(duckdb.connect(config={"memory_limit": "2GB"}))
    left = db.register(people, table_name="registered_people")
    right = db.register(records, table_name="records_to_link")

    def fresh() -> Linker:
        linker = Linker([left, right], _settings(cfg, people.num_rows), log_level=logging.ERROR)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=cfg.max_pairs_for_u, seed=cfg.seed
        )
        return linker

    linker = fresh()
    try:
        for rule in cfg.blocking_rules_for_training:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    except ValueError as exc:
        # With very few records a comparison level is never seen among matches and EM drives its
        # m probability to zero; fall back to Splink's default m probabilities for every level.
        say(f"linkage: EM not fitted ({str(exc).split('.')[0]}); default m probabilities used")
        linker = fresh()
    # Splink orders each pair's sides by dataset name; put the person on one side, record on other.
    scored = (
        linker.inference.predict(threshold_match_probability=0.01)
        .as_duckdbpyrelation()
        .select(
            "CASE WHEN source_dataset_l = 'registered_people' THEN unique_id_l ELSE unique_id_r END "
            "AS person, CASE WHEN source_dataset_l = 'registered_people' THEN unique_id_r "
            "ELSE unique_id_l END AS record, match_probability"
        )
        .pl()
    )
    return best_matches(scored, cfg)


def best_matches(scored: pl.DataFrame, cfg: LinkageConfig) -> pl.DataFrame:
    """Per identity: the top candidate, accepted only above the threshold and clear of the next."""
    if scored.is_empty():
        return pl.DataFrame(schema=LINKS_SCHEMA)
    # Splink's EM sums in parallel, so probabilities wobble in the 15th decimal between runs;
    # rounding keeps rebuilds identical.
    scored = scored.with_columns(pl.col("match_probability").round(6))
    ranked = scored.sort(["record", "match_probability", "person"], descending=[False, True, False])
    top = ranked.group_by("record", maintain_order=True).agg(
        person_id=pl.col("person").first().cast(pl.Int64),
        best=pl.col("match_probability").first(),
        runner_up=pl.col("match_probability").slice(1, 1).first(),
    )
    accepted = (pl.col("best") >= cfg.threshold_match_probability) & ~pl.col("ambiguous")
    return top.with_columns(
        ambiguous=pl.col("runner_up").fill_null(0.0) > cfg.max_runner_up_probability
    ).select(
        identity_key="record",
        person_id=pl.when(accepted).then(pl.col("person_id")),
        match_probability=pl.when(accepted).then(pl.col("best")),
        best_probability="best",
        ambiguous="ambiguous",
    )
