"""Operational tables (schema `ops`): created and migrated in place by numbered SQL files in
sql/operational, with a copy of the database file taken before any migration of existing data.
A registry rebuild never touches them."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from stratify import database
from stratify.registry.models import SQL_DIR

MIGRATIONS = SQL_DIR / "operational"


def pending(con: duckdb.DuckDBPyConnection) -> list[Path]:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(
        "CREATE TABLE IF NOT EXISTS ops.schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute("SELECT name FROM ops.schema_migrations").fetchall()}
    return [p for p in sorted(MIGRATIONS.glob("*.sql")) if p.stem not in done]


def migrate(db: Path) -> list[str]:
    """Bring the operational schema of `db` up to date; return the migrations applied. If the
    database already holds operational tables, it is copied aside first."""
    db = Path(db)
    con = database.connect(db)
    try:
        todo = pending(con)
        if not todo:
            return []
        had_data = con.execute("SELECT count(*) FROM ops.schema_migrations").fetchall()[0][0] > 0
        if had_data:
            con.execute("CHECKPOINT")
            con.close()
            backup = db.with_name(f"{db.name}.backup-{datetime.now():%Y%m%d%H%M%S}")
            shutil.copy2(db, backup)
            con = database.connect(db)
        for path in todo:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(path.read_text())
                con.execute(
                    "INSERT INTO ops.schema_migrations VALUES (?, now()::TIMESTAMP)", [path.stem]
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return [p.stem for p in todo]
    finally:
        con.close()
