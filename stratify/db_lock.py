"""A database file held by another process, said in words instead of DuckDB's lock text.

DuckDB lets one process write a file; a second one gets "Could not set lock on file ...
Conflicting lock is held in <program> (PID n)". Operators need to know which stratify command
holds it and what to do, not the lock text."""

from __future__ import annotations

import re
from pathlib import Path

LOCK = re.compile(r"Could not set lock on file \"(?P<file>[^\"]+)\".*?\(PID (?P<pid>\d+)\)", re.S)


def holder(pid: int) -> str:
    """'stratify serve (pid N)' for a stratify command, else the program's name and pid."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"another process (pid {pid})"
    words = [a.decode(errors="replace") for a in argv if a]
    for i, word in enumerate(words):
        if word in ("stratify.cli", "stratify") or word.endswith("/stratify"):
            rest = [w for w in words[i + 1 :] if not w.startswith("-")]
            return f"stratify {rest[0]} (pid {pid})" if rest else f"stratify (pid {pid})"
    name = Path(words[0]).name if words else "a process"
    return f"{name} (pid {pid})"


def explain(error: BaseException) -> str | None:
    """The words for a lock conflict, or None if the error is something else."""
    found = LOCK.search(str(error))
    if not found:
        return None
    name = Path(found["file"]).name
    return (f"{holder(int(found['pid']))} holds {name}: stop it, or run the pipeline with --db "
            "on a copy")  # fmt: skip
