"""The app's one door to the database: reads through per-thread cursors, writes through one lock.

DuckDB allows one writing process, so the server process holds the only connection to the file and
every write (people's records and the access log) goes through `Store.write`, one at a time, each
in its own transaction. The writes themselves are stratify.care.records: checked, then appended
with who and when, never updated or deleted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from stratify import database, operational
from stratify.care import records
from stratify.registry.models import query

T = TypeVar("T")


class Store:
    def __init__(self, db: Path | str):
        db = Path(db)
        if not db.exists():
            raise FileNotFoundError(f"no database {db}; run `stratify build` first")
        operational.migrate(db)
        self.path = db
        self._con = database.connect(db)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._writer = database.cursor(self._con)
        self._tables: dict[tuple[str, str], bool] = {}
        self._clusters: dict[int, str | None] = {}

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = database.cursor(self._con)
        return cur

    def read(self, model: str, **params: object) -> pl.DataFrame:
        """Rows of one SELECT in sql/app (or another sql/ folder given as 'folder/name')."""
        name = model if "/" in model else f"app/{model}"
        return query(self._cursor(), name, params)

    def has_table(self, schema: str, table: str) -> bool:
        """Asked once per table: derived tables cannot appear or vanish while the server holds
        the database (the pipeline cannot open it meanwhile)."""
        key = (schema, table)
        if key not in self._tables:
            found = self.read("table_exists", schema=schema, table=table)["present"][0]
            self._tables[key] = bool(found)
        return self._tables[key]

    def cluster_of(self, person_id: int) -> str | None:
        """The cluster a person is registered in (None for nobody), remembered: the registry
        cannot change while the server holds the database."""
        if person_id not in self._clusters:
            found = self.read("patient_cluster", person_id=person_id)
            if len(self._clusters) > 200_000:
                self._clusters.clear()
            self._clusters[person_id] = found["cluster_code"][0] if found.height else None
        return self._clusters[person_id]

    def write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run one write of stratify.care.records (or the access log) alone, in a transaction."""
        with self._write_lock:
            self._writer.execute("BEGIN TRANSACTION")
            try:
                result = fn(self._writer, *args, **kwargs)
                self._writer.execute("COMMIT")
                return result
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise

    def log(
        self,
        username: str,
        role: str,
        action: str,
        page: str,
        cluster_code: str | None = None,
        person_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Who did what and when: every patient-level view, export, record and refusal."""
        row = {"accessed_at": datetime.now(), "username": username[:80], "role": role, "action": action,
               "page": page[:200], "cluster_code": cluster_code, "person_id": person_id,
               "detail": None if detail is None else str(detail)[:500]}  # fmt: skip
        self.write(records.append_row, "ops.access_log", row)

    def close(self) -> None:
        self._con.close()
