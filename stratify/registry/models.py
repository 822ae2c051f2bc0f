"""Run the SQL models in sql/: one file per table, named for the table it makes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@lru_cache(maxsize=512)
def model_sql(model: str) -> str:
    """The text of one model file (read once per process: SQL files do not change under it)."""
    path = SQL_DIR / f"{model}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL model {path}")
    return path.read_text()


def run_model(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> None:
    """Execute one model file, statement by statement; `params` fill the $named parameters each
    statement uses."""
    params = params or {}
    for statement in con.extract_statements(model_sql(model)):
        names = statement.named_parameters
        missing = names - params.keys()
        if missing:
            raise KeyError(f"{model}.sql needs parameters {sorted(missing)}")
        con.execute(statement, {k: params[k] for k in names} if names else None).fetchall()


def query(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> pl.DataFrame:
    """Run one SELECT model file and return its rows: for readers such as the app, which must not
    create tables. `params` fill the $named parameters the query uses."""
    statements = con.extract_statements(model_sql(model))
    if len(statements) != 1:
        raise ValueError(f"{model}.sql must hold exactly one query")
    names = statements[0].named_parameters
    missing = names - (params or {}).keys()
    if missing:
        raise KeyError(f"{model}.sql needs parameters {sorted(missing)}")
    return con.sql(statements[0], params={k: params[k] for k in names} if names else None).pl()
