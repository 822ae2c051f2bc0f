"""The monthly run while the app serves: build into a successor file, then switch.

DuckDB lets one process hold a file, and the app holds the live one. `stratify prepare` starts
the successor (`stratify.next.duckdb` beside `stratify.duckdb`) with the live file's meta tables,
so people keep their pseudonymous person_id (meta.person_keys and its salt); the pipeline builds,
trains and scores into it; `stratify promote` marks it ready. A serving app does both hand-overs
itself at its next request (marker files `.wanted` and `.ready` beside the successor). The app, between requests (none in flight, none admitted),
carries the live file's tables across and swaps the files:
- operational tables (schema ops: people's records and the access log) always, replacing the
  successor's, so every acknowledged recording is in the new file;
- any other table the successor lacks (this month's conference lists, audit results), so no page
  loses its data until the pipeline makes it afresh.
The previous live file is kept as `stratify.previous.duckdb`. If the carry-over fails, the
marker is renamed `.failed` with the reason and the live file stays as it was."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from stratify import database, operational

REQUIRED = (("registry", "person"), ("models", "trained"))


def successor_of(db: Path | str) -> Path:
    db = Path(db)
    return db.with_name(f"{db.stem}.next{db.suffix}")


def previous_of(db: Path | str) -> Path:
    db = Path(db)
    return db.with_name(f"{db.stem}.previous{db.suffix}")


def marker_of(db: Path | str) -> Path:
    nxt = successor_of(db)
    return nxt.with_name(nxt.name + ".ready")


def wanted_of(db: Path | str) -> Path:
    nxt = successor_of(db)
    return nxt.with_name(nxt.name + ".wanted")


def seed(con: duckdb.DuckDBPyConnection, successor: Path) -> list[str]:
    """Start the successor afresh with the live database's meta tables (their own DDL, so keys
    and constraints stay), through the live connection `con`."""
    live = con.execute("SELECT current_database()").fetchone()[0]
    tables = con.execute(
        "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'meta'",
        [live],
    ).fetchall()
    for path in (successor, successor.with_name(successor.name + ".wal")):
        path.unlink(missing_ok=True)
    fresh = database.connect(successor)
    try:
        fresh.execute("CREATE SCHEMA IF NOT EXISTS meta")
        for _, ddl in tables:
            fresh.execute(ddl)
    finally:
        fresh.close()
    path = str(successor).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS successor")
    try:
        con.execute("BEGIN TRANSACTION")
        for table, _ in tables:
            con.execute(
                f'INSERT INTO successor.meta."{table}" SELECT * FROM "{live}".meta."{table}"'
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DETACH successor")
    return [t for t, _ in tables]


def check(successor: Path) -> None:
    """A successor the app may switch to: it opens and holds a registry and a trained model."""
    if not successor.exists():
        raise FileNotFoundError(
            f"no successor {successor}: build, train and score with --db {successor}"
        )
    con = database.connect(successor, read_only=True)
    try:
        for schema, table in REQUIRED:
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchone()[0]
            if not found:
                raise ValueError(
                    f"{successor} has no {schema}.{table}: run the pipeline into it first"
                )
    finally:
        con.close()


def mark_ready(db: Path | str) -> Path:
    """Say the successor is complete; the serving app switches to it at its next request."""
    successor = successor_of(db)
    check(successor)
    operational.migrate(successor)
    marker = marker_of(db)
    marker.write_text(str(successor.name) + "\n")
    return marker


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_type = 'BASE TABLE'",
        [catalog],
    ).fetchall()
    return {(s, t) for s, t in rows}


def carry_over(con: duckdb.DuckDBPyConnection, successor: Path) -> dict[str, int]:
    """Copy the live database's operational tables, and the tables the successor lacks, into
    the successor, through the live connection `con` (no one else may write meanwhile)."""
    live = con.execute("SELECT current_database()").fetchone()[0]
    path = str(successor).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS successor")
    copied: dict[str, int] = {}
    try:
        con.execute("BEGIN TRANSACTION")
        theirs = _tables(con, "successor")
        for schema, table in sorted(_tables(con, live)):
            source, target = f'"{live}"."{schema}"."{table}"', f'successor."{schema}"."{table}"'
            if schema == "ops" and (schema, table) in theirs:
                con.execute(f"DELETE FROM {target}")
                con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source}")
            elif (schema, table) not in theirs:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS successor."{schema}"')
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            else:
                continue
            copied[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[
                0
            ]
        _advance_sequences(con, live)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DETACH successor")
    return copied


def _advance_sequences(con: duckdb.DuckDBPyConnection, live: str) -> None:
    """The successor's ops sequences (record ids) continue from the live ones, so a record made
    after the switch never reuses an id carried across."""
    last = {(s, n): v or 0 for d, s, n, v in con.execute(
        "SELECT database_name, schema_name, sequence_name, last_value FROM duckdb_sequences()").fetchall() if d == live}  # fmt: skip
    theirs = {(s, n): v or 0 for d, s, n, v in con.execute(
        "SELECT database_name, schema_name, sequence_name, last_value FROM duckdb_sequences()").fetchall()
        if d == "successor"}  # fmt: skip
    for (schema, name), value in last.items():
        behind = value - theirs.get((schema, name), value)
        if schema == "ops" and behind > 0:
            con.execute(
                f'SELECT count(nextval(\'successor."{schema}"."{name}"\')) FROM range(?)', [behind]
            )


def swap(db: Path | str) -> None:
    """Make the successor the live file; the old one becomes the previous (call with both closed)."""
    db = Path(db)
    os.replace(db, previous_of(db))
    os.replace(successor_of(db), db)
    marker_of(db).unlink(missing_ok=True)


def failed(db: Path | str, reason: str) -> None:
    marker = marker_of(db)
    if marker.exists():
        os.replace(marker, marker.with_suffix(".failed"))
        marker.with_suffix(".failed").write_text(reason[:2000] + "\n")


def prepare_offline(db: Path | str) -> list[str]:
    """The start of the successor when no app holds the live file."""
    con = database.connect(db)
    try:
        return seed(con, successor_of(db))
    finally:
        con.close()


def promote_offline(db: Path | str) -> dict[str, int]:
    """The switch when no app holds the live file: carry over and swap here."""
    db = Path(db)
    mark_ready(db)
    con = database.connect(db)
    try:
        copied = carry_over(con, successor_of(db))
    finally:
        con.close()
    swap(db)
    return copied
