"""Versioned code lists (one CSV per concept) shared by the generator, features and protocols.

The generator draws its codes from these same lists, so dummy data and the definitions that read it
can never drift apart (the ehrQL idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

CODELIST_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Codelist:
    name: str
    system: str
    version: str
    codes: pl.DataFrame  # columns: code, term (+ medicine for medicines)

    @property
    def code_values(self) -> list[str]:
        return self.codes["code"].to_list()


@cache
def manifest() -> dict:
    return yaml.safe_load((CODELIST_DIR / "manifest.yaml").read_text())


@cache
def load(name: str) -> Codelist:
    """Load one code list by name; unknown names fail loudly rather than matching nothing."""
    lists = manifest()["lists"]
    if name not in lists:
        raise KeyError(f"no code list named {name!r} in {CODELIST_DIR / 'manifest.yaml'}")
    path = CODELIST_DIR / f"{name}.csv"
    codes = pl.read_csv(path, schema_overrides={"code": pl.String})
    return Codelist(name, lists[name]["system"], str(lists[name]["version"]), codes)


def names() -> list[str]:
    return sorted(manifest()["lists"])
