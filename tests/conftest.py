"""Shared seeded populations: generated once per test session, real files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratify.synth.config import SynthConfig
from stratify.synth.generator import synthesise

pytest_plugins = ["app_server"]  # the served app for tests/dashboards and tests/e2e

SMALL = SynthConfig(patients=6_000, seed=11, practice_size=(1_000, 2_500), chunk_size=2_500)


@pytest.fixture(scope="session")
def small_population(tmp_path_factory) -> tuple[Path, dict]:
    """6,000 people in several practices and clusters, Parquet feeds, three chunks."""
    out = tmp_path_factory.mktemp("small")
    return out, synthesise(SMALL, out, "parquet")


@pytest.fixture(scope="session")
def small_population_csv(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small_csv")
    return out, synthesise(SMALL, out, "csv")


@pytest.fixture(scope="session")
def built_registry(small_population, tmp_path_factory) -> tuple[Path, dict]:
    """The small population built into a registry once per session (read-only use in tests)."""
    from stratify.registry.build import build

    folder, _ = small_population
    db = tmp_path_factory.mktemp("registry") / "stratify.duckdb"
    return db, build(folder / "feeds", db)


@pytest.fixture(scope="session")
def scored_registry(built_registry, tmp_path_factory) -> tuple[Path, dict, dict]:
    """The small registry with a trained model and the data-cut scores (a copy; session-wide)."""
    import shutil

    import duckdb

    from stratify.models.score import score
    from stratify.models.train import train

    db, _ = built_registry
    copy = tmp_path_factory.mktemp("scored") / "stratify.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    trained = train(con)
    scored = score(con)
    con.close()
    return copy, trained, scored


@pytest.fixture
def care_db(scored_registry, tmp_path) -> Path:
    """A writable copy of the scored registry with the operational schema in place."""
    import shutil

    from stratify import operational

    copy = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], copy)
    operational.migrate(copy)
    return copy
