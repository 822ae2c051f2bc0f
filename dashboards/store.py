"""The app's one door to the database: reads through per-thread cursors, writes through one lock.

DuckDB allows one writing process, so the server process holds the only connection to the file and
every write (people's records and the access log) goes through `Store.write`, one at a time, each
in its own transaction. The writes themselves are stratify.care.records: checked, then appended
with who and when, never updated or deleted.

The monthly run does not stop the app: the pipeline builds into a successor file and marks it
ready (stratify.registry.successor), and the store switches to it between requests: it waits
until no request is in flight, admits none meanwhile, carries the operational tables across,
swaps the files and reopens. No request ever sees a half-made file."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from stratify import database, operational
from stratify.care import records
from stratify.registry import successor
from stratify.registry.models import query

T = TypeVar("T")


class _Gate:
    """Requests share it; a switch has it alone, and once one waits no new request enters."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._switching = False

    def enter(self) -> None:
        with self._cond:
            while self._switching:
                self._cond.wait()
            self._inside += 1

    def leave(self) -> None:
        with self._cond:
            self._inside -= 1
            self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            while self._switching:
                self._cond.wait()
            self._switching = True
            while self._inside:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._switching = False
                self._cond.notify_all()


class Store:
    def __init__(self, db: Path | str):
        db = Path(db)
        if not db.exists():
            raise FileNotFoundError(f"no database {db}; run `stratify build` first")
        operational.migrate(db)
        self.path = db
        self._write_lock = threading.Lock()
        self._gate = _Gate()
        self.on_switch: list[Callable[[], None]] = []  # e.g. the pages' caches of derived tables
        self._open()

    def _open(self) -> None:
        self._con = database.connect(self.path)
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._writer = database.cursor(self._con)
        self._tables: dict[tuple[str, str], bool] = {}
        self._clusters: dict[int, str | None] = {}

    def _close(self) -> None:
        for cur in [*self._cursors, self._writer]:
            cur.close()
        self._con.close()

    def enter(self) -> None:
        """At the start of a request: switch first if a successor is ready, then share the gate."""
        if successor.wanted_of(self.path).exists():
            self.prepare()
        if successor.marker_of(self.path).exists():
            self.switch()
        self._gate.enter()

    def leave(self) -> None:
        self._gate.leave()

    def prepare(self) -> None:
        """Start the successor with this file's meta tables (person keys), as `stratify prepare` asked."""
        with self._gate.alone(), self._write_lock:
            if not successor.wanted_of(self.path).exists():
                return  # another request did it first
            try:
                successor.seed(self._writer, successor.successor_of(self.path))
            except (duckdb.Error, OSError) as exc:
                logging.getLogger("stratify").error("successor not started: %s", type(exc).__name__)
            successor.wanted_of(self.path).unlink(missing_ok=True)

    def switch(self) -> bool:
        """Move to the ready successor between requests; False (the live file kept) if it fails."""
        with self._gate.alone(), self._write_lock:
            nxt = successor.successor_of(self.path)
            if not successor.marker_of(self.path).exists():
                return False  # another request switched first
            try:
                successor.check(nxt)
                copied = successor.carry_over(self._writer, nxt)
            except (duckdb.Error, OSError, ValueError) as exc:
                logging.getLogger("stratify").error(
                    "switch to %s refused: %s", nxt.name, type(exc).__name__
                )
                successor.failed(self.path, f"{type(exc).__name__}: {exc}")
                return False
            self._close()
            successor.swap(self.path)
            self._open()
            for clear in self.on_switch:
                clear()
        self.log("system", "system", "record", "registry switch",
                 detail=f"now serving {nxt.name}: {len(copied)} tables carried over")  # fmt: skip
        return True

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = database.cursor(self._con)
            with self._write_lock:
                self._cursors.append(cur)
        return cur

    def read(self, model: str, **params: object) -> pl.DataFrame:
        """Rows of one SELECT in sql/app (or another sql/ folder given as 'folder/name')."""
        name = model if "/" in model else f"app/{model}"
        return query(self._cursor(), name, params)

    def has_table(self, schema: str, table: str) -> bool:
        """Asked once per table: derived tables change only at a switch, which forgets the answers."""
        key = (schema, table)
        if key not in self._tables:
            found = self.read("table_exists", schema=schema, table=table)["present"][0]
            self._tables[key] = bool(found)
        return self._tables[key]

    def cluster_of(self, person_id: int) -> str | None:
        """The cluster a person is registered in (None for nobody), remembered until a switch."""
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
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT (full disk) ended it
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
