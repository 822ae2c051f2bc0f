"""Clerical review of linkage: a person's decision on an item of registry.linkage_review, recorded
in ops.linkage_resolutions (append-only) and applied by every later build."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from stratify import database, operational


class ReviewError(Exception):
    """The decision cannot be recorded; nothing was written."""


def resolve(
    db: Path, review_id: str, person_id: int | None, recorded_by: str, reason: str | None = None
) -> dict:
    """Record that the records of `review_id` belong to `person_id` (None: to no registered
    person). The item is an identity of registry.linkage_candidates (a later decision on the same
    item supersedes an earlier one), and the person must be registered."""
    if not recorded_by.strip():
        raise ReviewError("--by must name who decided")
    operational.migrate(Path(db))
    con = database.connect(db)
    try:
        known = con.execute(
            "SELECT count(*) FROM registry.linkage_candidates WHERE identity_key = ?", [review_id]
        ).fetchall()[0][0]
        if not known:
            raise ReviewError(f"{review_id}: no such review item (see registry.linkage_review)")
        if person_id is not None:
            registered = con.execute(
                "SELECT count(*) FROM registry.person WHERE person_id = ?", [person_id]
            ).fetchall()[0][0]
            if not registered:
                raise ReviewError(f"person {person_id} is not in registry.person")
        decision = "no_match" if person_id is None else "link"
        recorded_at = datetime.now().replace(microsecond=0)
        record_id = con.execute(
            "INSERT INTO ops.linkage_resolutions (identity_key, decision, person_id, reason, "
            "recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING record_id",
            [review_id, decision, person_id, reason, recorded_by, recorded_at],
        ).fetchall()[0][0]
    finally:
        con.close()
    return {
        "record_id": record_id,
        "review_id": review_id,
        "decision": decision,
        "person_id": person_id,
        "recorded_by": recorded_by,
        "recorded_at": recorded_at.isoformat(),
        "applies_from": "the next build",
    }
