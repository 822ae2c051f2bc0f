"""Code lists shared by the generator, features and protocols: published NHS lists, copied unchanged.

Each concept (`hypertension`, `hba1c`, `medicines`, ...) maps in manifest.yaml to one or more CSV
files in OpenCodelists' layout (code column first, `term` where present, dm+d lists with extra
columns) and says where each file came from. The generator draws its codes from these same lists, so
dummy data and the definitions that read it can never drift apart (the ehrQL idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

CODELIST_DIR = Path(__file__).parent

# Verhoeff tables (dihedral group D5): SNOMED CT and dm+d identifiers end in a Verhoeff check digit.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P = [tuple(range(10))]
for _ in range(7):
    _P.append(tuple(_P1[x] for x in _P[-1]))


def verhoeff_ok(code: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the others."""
    if not code.isdigit():
        return False
    check = 0
    for i, ch in enumerate(reversed(code)):
        check = _D[check][_P[i % 8][int(ch)]]
    return check == 0


def sctid_ok(code: str) -> bool:
    """A SNOMED CT (or dm+d) concept identifier: 6-18 digits, no leading zero, Verhoeff check digit,
    and a concept partition (`00` short form, `10` long form with a namespace)."""
    return (
        code.isdigit()
        and 6 <= len(code) <= 18
        and code[0] != "0"
        and code[-3:-1] in ("00", "10")
        and verhoeff_ok(code)
    )


@dataclass(frozen=True)
class Codelist:
    name: str
    system: str
    version: str
    codes: pl.DataFrame  # columns: code, term (+ medicine for medicines); one row per code

    @property
    def code_values(self) -> list[str]:
        return self.codes["code"].to_list()


@cache
def manifest() -> dict:
    return yaml.safe_load((CODELIST_DIR / "manifest.yaml").read_text())


def read_codes(path: Path) -> pl.DataFrame:
    """One list file as published: the first column is the code (whatever its header), `term` where
    present; every other column is kept as text. Duplicate rows (some published files have them)
    collapse to the first."""
    raw = pl.read_csv(path, infer_schema=False)
    first = raw.columns[0]
    frame = raw.rename({first: "code"}) if first != "code" else raw
    if "term" not in frame.columns:
        frame = frame.with_columns(term=pl.lit(None, pl.String))
    frame = frame.with_columns(pl.col("code").str.strip_chars(), pl.col("term").str.strip_chars())
    rest = [c for c in frame.columns if c not in ("code", "term")]
    return frame.select("code", "term", *rest).unique("code", keep="first", maintain_order=True)


def files(name: str) -> list[dict]:
    """The manifest's entries for the files a concept is made of, with their provenance."""
    return manifest()["lists"][name]["files"]


@cache
def load(name: str) -> Codelist:
    """Load one concept by name (the union of its files); unknown names fail loudly rather than
    matching nothing."""
    lists = manifest()["lists"]
    if name not in lists:
        raise KeyError(f"no code list named {name!r} in {CODELIST_DIR / 'manifest.yaml'}")
    entry = lists[name]
    parts = [read_codes(CODELIST_DIR / f["file"]) for f in entry["files"]]
    keep = ["code", "term", *(["medicine"] if all("medicine" in p.columns for p in parts) else [])]
    codes = pl.concat([p.select(keep) for p in parts]).unique(
        "code", keep="first", maintain_order=True
    )
    return Codelist(name, entry["system"], str(entry["version"]), codes)


def names() -> list[str]:
    return sorted(manifest()["lists"])
