"""The one way the project opens its DuckDB file, whatever the file is called.

DuckDB names a file's catalog after the file, so `registry.duckdb` makes a catalog `registry` that
collides with the schema `registry` (a binder error on every `registry.person`). The file is
therefore attached under a fixed catalog, `stratify`, to an in-memory host connection, and made
the default; `cursor` gives further cursors the same default (DuckDB's USE is per cursor)."""

from __future__ import annotations

from pathlib import Path

import duckdb

CATALOG = "stratify"  # the old default file stratify.duckdb had this catalog name too


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def connect(path: str | Path = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the database file `path` (or a new in-memory one)."""
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
    """Another cursor on the same connection, with the database file as its default catalog."""
    cur = con.cursor()
    cur.execute(f"USE {CATALOG}")
    return cur
