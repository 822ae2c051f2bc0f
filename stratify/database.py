"""The one way the project opens its DuckDB file, whatever the file is called.

DuckDB names a file's catalog after the file, so `registry.duckdb` makes a catalog `registry` that
collides with the schema `registry` (a binder error on every `registry.person`). The file is
therefore attached under a fixed catalog, `stratify`, to an in-memory host connection, and made
the default; `cursor` gives further cursors the same default (DuckDB's USE is per cursor).

Only such files are attached: DuckDB lets a process attach one file once, while plain connections
to one file share it (two app instances, a fixture beside a command), so every other file is
opened directly as before."""

from __future__ import annotations

from pathlib import Path

import duckdb

CATALOG = "stratify"  # the old default file stratify.duckdb had this catalog name too
# Schemas the project makes, and DuckDB's own names: a file named after one needs the alias.
RESERVED = {"audit", "care", "features", "main", "memory", "meta", "models", "ops", "ref", "registry",
            "risk", "staging", "successor", "system", "temp"}  # fmt: skip


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(path: str | Path = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the database file `path` (or a new in-memory one)."""
    if str(path) == ":memory:" or Path(path).name.split(".")[0].lower() not in RESERVED:
        return duckdb.connect(str(path), read_only=read_only)
    con = duckdb.connect()
    try:
        mode = " (READ_ONLY)" if read_only else ""
        con.execute(f"ATTACH {_lit(path)} AS {CATALOG}{mode}")
        con.execute(f"USE {CATALOG}")
        if str(path) != ":memory:":  # spill beside the file, as a direct connection would
            con.execute(f"SET temp_directory = {_lit(str(path) + '.tmp')}")
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another cursor on the same connection, with the database file as its default catalog.

    Asked of the new cursor, never of `con`: threads make cursors from one shared connection at
    once, and a DuckDB connection runs one statement at a time."""
    cur = con.cursor()
    attached = cur.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ? AND NOT internal",
        [CATALOG],
    ).fetchone()[0]
    if attached:
        cur.execute(f"USE {_ident(CATALOG)}")
    return cur
