"""Data contracts: load data_contracts/*.yaml, check a feed file against one, split its rows into
accepted and quarantined with a reason a data manager understands.

Checks are compiled from the contract into DuckDB predicates (Splink's idea: configuration as data,
executed as SQL). Every input row gets its 1-based row number in the file; nothing is dropped.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stratify import database
from stratify.privacy import IDENTIFIABLE_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = ROOT / "data_contracts"
MACROS = ROOT / "sql" / "staging" / "macros.sql"

# The nine feeds of DESIGN.md, in the order they are built.
FEEDS = (
    "patients",
    "gp_events",
    "gp_medications",
    "apc_spells",
    "ecds_attendances",
    "op_appointments",
    "community_contacts",
    "mh_contacts",
    "social_care_services",
)

CODE_SYSTEMS: dict[str, tuple[str, str]] = {
    # name: (regular expression the whole cleaned value must match, what to call it in a reason).
    # SNOMED CT and dm+d are checked further (partition, Verhoeff) by the sctid_problem macro,
    # NHS numbers by nhs_number_valid (Modulus 11).
    "snomed_ct": ("[1-9][0-9]{5,17}", "SNOMED CT identifier"),
    "dmd": ("[1-9][0-9]{5,17}", "dm+d identifier"),
    "icd10": ("[A-Z][0-9]{2}[0-9A-Z]?", "ICD-10 code"),
    "ods": ("[A-Z0-9]{3,6}", "ODS code"),
    "postcode": ("(?i)[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", "UK postcode"),
    "lsoa": ("E01[0-9]{6}", "LSOA 2021 code"),
    "nhs_ethnic_category": ("[A-HJ-NPRSZ]|99", "NHS ethnic category"),
    "nhs_number": ("", "NHS number"),  # checked by the nhs_number_valid macro
}
# How a code system's values are cleaned before they are checked and staged (macros.sql).
CLEAN = {"nhs_number": "nhs_number_clean({})", "icd10": "icd10_clean({})"}
SCTID_SYSTEMS = ("snomed_ct", "dmd")
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}
# Date formats a contract may declare: (shape the text must have, how it is parsed, as shown).
# A value is parsed only by a format whose shape it has, so nothing is guessed; month-first
# dates (mm/dd/yyyy) are never accepted, since they cannot be told apart from dd/mm/yyyy.
DATE_FORMATS: dict[str, tuple[str, str, str]] = {
    "iso": ("[0-9]{4}-[0-9]{2}-[0-9]{2}", "TRY_CAST({} AS DATE)", "YYYY-MM-DD"),
    "dd/mm/yyyy": ("[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}", "try_strptime({}, '%d/%m/%Y')", "DD/MM/YYYY"),
    "yyyymmdd": ("[0-9]{8}", "try_strptime({}, '%Y%m%d')", "YYYYMMDD"),
}
DateFormat = Literal["iso", "dd/mm/yyyy", "yyyymmdd"]
Action = Literal["reject", "flag", "keep"]


class ContractError(Exception):
    """A contract file that cannot be used, or a feed that cannot be read against one."""


class Units(BaseModel):
    """A measured value: converted to its concept's canonical unit (stratify/codelists/units.yaml)
    by the code that says what was measured and the unit the supplier sent."""

    model_config = ConfigDict(extra="forbid")
    code: str  # the column holding the code of what was measured
    unit: str  # the column holding the unit as sent


class Column(BaseModel):
    """One column and what a bad value does: reject the row, flag it (row kept, value set to
    NULL, defect recorded per row) or keep it (value kept as sent, nothing recorded)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["string", "integer", "float", "date", "boolean"]
    description: str
    required: bool = True
    on_missing: Action = "reject"  # what a missing value does when the column is required
    code_system: str | None = None
    allowed: list[str] | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    earliest: date | None = None  # dates: earlier is impossible (a date of birth in 1850)
    not_after_data_cut: bool = False
    date_formats: list[DateFormat] | None = None  # dates: overrides the contract's
    units: Units | None = None
    on_invalid: Action = "reject"
    why: str | None = None  # why a bad value does what it does

    @model_validator(mode="after")
    def _known_code_system(self) -> Column:
        if self.code_system and self.code_system not in CODE_SYSTEMS:
            raise ValueError(
                f"unknown code_system {self.code_system!r}; known: {sorted(CODE_SYSTEMS)}"
            )
        if self.date_formats is not None and self.type != "date":
            raise ValueError("date_formats apply to date columns only")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    check: str  # a SQL predicate over the typed columns, true when the row is fine
    message: str  # may name non-identifiable columns in braces: {admission_date}
    on_fail: Literal["reject", "flag"] = "reject"
    column: str | None = None  # flagged: the column set to NULL when the rule fails
    why: str | None = None


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feed: str
    version: str
    description: str
    source: str
    grain: str
    key: list[str]
    date_formats: list[DateFormat] = Field(default_factory=lambda: ["iso"])
    columns: dict[str, Column]
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        for k in self.key:
            if k not in self.columns:
                raise ValueError(f"key column {k!r} is not among the columns")
        for name, col in self.columns.items():
            if col.units:
                for ref in (col.units.code, col.units.unit):
                    if ref not in self.columns:
                        raise ValueError(f"{name}: units name unknown column {ref!r}")
        for rule in self.rules:
            if rule.column and rule.column not in self.columns:
                raise ValueError(f"rule {rule.name!r} names unknown column {rule.column!r}")
            for name in re.findall(r"{(\w+)}", rule.message):
                if name not in self.columns:
                    raise ValueError(f"rule {rule.name!r} message names unknown column {name!r}")
                if name in IDENTIFIABLE_COLUMNS:
                    raise ValueError(
                        f"rule {rule.name!r} message would reveal identifiable {name!r}"
                    )
        return self

    def formats(self, column: str) -> list[str]:
        return self.columns[column].date_formats or self.date_formats


def load_contract(path: Path) -> Contract:
    """Parse and check one contract file; errors name the file and the field."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: cannot read contract: {exc}") from exc
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContractError(f"{path}: {where}: {first['msg']}") from exc


def load_contracts(folder: Path = CONTRACT_DIR) -> dict[str, Contract]:
    """Every feed contract (top level of data_contracts/), by feed name."""
    return {c.feed: c for c in (load_contract(p) for p in sorted(Path(folder).glob("*.yaml")))}


def load_reference_contracts(folder: Path = CONTRACT_DIR / "reference") -> dict[str, Contract]:
    return {c.feed: c for c in (load_contract(p) for p in sorted(Path(folder).glob("*.yaml")))}


@dataclass
class FeedCheck:
    """The outcome of checking one feed file: counts reconcile, read = accepted + rejected;
    flagged rows are accepted rows with at least one value flagged."""

    feed: str
    path: Path
    contract_version: str
    read: int
    accepted: int
    rejected: int
    violations: pl.DataFrame  # row_number, column, check, reason, severity
    source: str = ""  # the relation holding every row with every contract column
    flagged: int = 0


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def connect(path: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the contract macros loaded."""
    con = database.connect(path)
    con.execute(MACROS.read_text())
    return con


def read_raw(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> int:
    """Expose a feed file as `name`, every row with its 1-based row_number in the file, and list
    rows that could not be parsed at all in `<name>__malformed`; return the number of rows.

    Parquet is read in place (a view). CSV is read as text against its own header, so that a bad
    value becomes a quarantined row rather than a failed load, and a row with too many or too few
    fields is quarantined too. Raises ContractError naming the file when it is not a readable file
    of its declared format."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ContractError(f"{path}: unsupported format {fmt!r} (expected .csv or .parquet)")
    malformed = _q(name + "__malformed")
    try:
        if fmt == "parquet":
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {_q(name)} AS SELECT file_row_number + 1 AS row_number, "
                f"* EXCLUDE (file_row_number) FROM read_parquet({_lit(path)}, file_row_number = true)"
            )
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {malformed} (row_number BIGINT, reason VARCHAR)"
            )
        else:
            _read_csv(con, path, name)
        rows = con.execute(
            f"SELECT (SELECT count(*) FROM {_q(name)}) + (SELECT count(*) FROM {malformed})"
        ).fetchall()[0][0]
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        raise ContractError(f"{path}: not a readable {fmt} file: {detail}") from exc
    return rows


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    try:
        with open(path, "rb") as handle:
            first = handle.readline().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: not a readable csv file: the header row: {exc}") from exc
    header = next(csv.reader([first]), None)
    if not header:
        raise ContractError(f"{path}: not a readable csv file: it is empty (no header row)")
    if len(set(header)) != len(header):
        raise ContractError(f"{path}: not a readable csv file: repeated column names in the header")
    columns = "{" + ", ".join(f"{_lit(h)}: 'VARCHAR'" for h in header) + "}"
    load, rejects = _q(name + "__load"), name + "__rejects"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {load} AS SELECT * FROM read_csv(?, header = true, "
        f"delim = ',', quote = '\"', escape = '\"', auto_detect = false, columns = {columns}, "
        f"store_rejects = true, rejects_table = {_lit(rejects)}, rejects_scan = {_lit(rejects + '_scan')})",
        [str(path)],
    )
    # Rejected lines (the header is line 1) become quarantined rows with the parser's reason.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_q(name + '__malformed')} AS "
        f"SELECT CAST(line - 1 AS BIGINT) AS row_number, 'row cannot be read: ' || lower(CAST(any_value(error_type) "
        f"AS VARCHAR)) || ' (' || any_value(error_message) || ')' AS reason "
        f"FROM {_q(rejects)} GROUP BY line ORDER BY line"
    )
    # Rowids follow the file (insertion order is preserved) from an offset; a kept row's place in
    # the file is its position plus the number of rejected rows before it.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS "
        f"SELECT a.k + coalesce(j.i, 0) AS row_number, a.* EXCLUDE (k) "
        f"FROM (SELECT rowid - (SELECT min(rowid) FROM {load}) + 1 AS k, * FROM {load}) AS a "
        f"ASOF LEFT JOIN (SELECT t, max(i) AS i FROM (SELECT row_number - row_number() OVER "
        f"(ORDER BY row_number) AS t, row_number() OVER (ORDER BY row_number) AS i "
        f"FROM {_q(name + '__malformed')}) GROUP BY t) AS j "
        f"ON a.k > j.t ORDER BY row_number"
    )
    con.execute(f"DROP TABLE {load}")
    _same_rows_as_lines(con, path, name)


def _same_rows_as_lines(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """Every non-blank line after the header must be one row: a quote left open would otherwise
    fold the rest of the file into one row, and those rows would vanish from the counts."""
    with open(path, "rb") as handle:
        lines = sum(1 for line in handle if line.strip()) - 1
    rows = con.execute(
        f"SELECT (SELECT count(*) FROM {_q(name)}) + (SELECT count(*) FROM {_q(name + '__malformed')})"
    ).fetchall()[0][0]
    if rows != lines:
        last = con.execute(f"SELECT max(row_number) FROM {_q(name)}").fetchall()[0][0]
        raise ContractError(
            f"{path}: not a readable csv file: {lines:,} lines but {rows:,} rows; a quoted value "
            f"runs over a line break (an unclosed quote?) after row {last or 0}"
        )


def raw_types(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {_q(name)}").fetchall()}


def require_columns(contract: Contract, path: Path, types: dict[str, str]) -> None:
    """Stop with the file and column named when a required column is absent."""
    for name, col in contract.columns.items():
        if name not in types and col.required:
            raise ContractError(
                f"{path}: missing required column '{name}' (contract {contract.feed} v{contract.version})"
            )


def check_feed(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    data_cut: date,
    name: str | None = None,
) -> FeedCheck:
    """Read one feed file and check it (see check_loaded)."""
    name = name or f"raw_{contract.feed}"
    read_raw(con, path, name)
    return check_loaded(con, contract, path, data_cut, name)


def check_loaded(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, data_cut: date, name: str
) -> FeedCheck:
    """Check a feed already exposed as `name` by read_raw; leaves `<name>__checked` (every row
    typed, cleaned, with its failed checks) and `<name>_violations` (see contract_checks)."""
    from stratify import contract_checks

    source, types = full_source(con, contract, path, name)
    plan = contract_checks.run(con, contract, source, types, data_cut, name)
    read, rejected, flagged = contract_checks.counts(con, plan, name)
    violations = con.sql(
        f"SELECT row_number, column_name, check_name, reason, severity FROM {_q(name + '_violations')} "
        "ORDER BY row_number, check_name"
    ).pl()
    return FeedCheck(
        contract.feed,
        Path(path),
        contract.version,
        read,
        read - rejected,
        rejected,
        violations,
        source.strip('"'),
        flagged,
    )


def full_source(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, name: str
) -> tuple[str, dict[str, str]]:
    """The relation holding every row with every contract column (optional columns absent from
    the file read as NULL), and its column types."""
    types = raw_types(con, name)
    require_columns(contract, path, types)
    missing = [n for n in contract.columns if n not in types]
    if not missing:
        return _q(name), types
    nulls = ", ".join(f"NULL::VARCHAR AS {_q(n)}" for n in missing)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {_q(name + '__full')} AS SELECT *, {nulls} FROM {_q(name)}"
    )
    return _q(name + "__full"), raw_types(con, name + "__full")


def feed_file(folder: Path, feed: str) -> Path | None:
    """The file holding a feed in a folder, or None. Both a Parquet and a CSV file for one feed
    is refused: which one the supplier meant is not ours to guess (one may be last month's)."""
    found = [Path(folder) / f"{feed}.{ext}" for ext in ("parquet", "csv")]
    found = [path for path in found if path.exists()]
    if len(found) > 1:
        raise ContractError(
            f"{Path(folder)}: both {found[0].name} and {found[1].name} are here for the feed "
            f"{feed}; keep the one this delivery meant and move the other out of the folder"
        )
    return found[0] if found else None


def data_cut_of(folder: Path) -> date:
    """The extract's data cut from manifest.json beside the feeds, else today."""
    manifest = Path(folder) / "manifest.json"
    if manifest.exists():
        try:
            return date.fromisoformat(json.loads(manifest.read_text())["data_cut"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ContractError(f"{manifest}: no valid data_cut (YYYY-MM-DD): {exc}") from exc
    return date.today()
