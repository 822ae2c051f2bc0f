"""Run the SQL models in sql/: one file per table, named for the table it makes."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def model_sql(model: str) -> str:
    path = SQL_DIR / f"{model}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL model {path}")
    return path.read_text()


def run_model(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> None:
    """Execute one model file; `params` fill those of its $named parameters it uses."""
    sql = model_sql(model)
    used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
    con.execute(sql, used)
