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
    # name: (regular expression the whole trimmed value must match, what to call it in a reason)
    "snomed_ct": ("[1-9][0-9]{5,17}", "SNOMED CT identifier"),
    "dmd": ("[1-9][0-9]{5,17}", "dm+d identifier"),
    "icd10": ("[A-Z][0-9]{2}[0-9A-Z]?", "ICD-10 code"),
    "ods": ("[A-Z0-9]{3,6}", "ODS code"),
    "postcode": ("(?i)[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", "UK postcode"),
    "lsoa": ("E01[0-9]{6}", "LSOA 2021 code"),
    "nhs_ethnic_category": ("[A-HJ-NPRSZ]|99", "NHS ethnic category"),
    "nhs_number": ("", "NHS number"),  # checked by the nhs_number_valid macro
}
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}


class ContractError(Exception):
    """A contract file that cannot be used, or a feed that cannot be read against one."""


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["string", "integer", "float", "date", "boolean"]
    description: str
    required: bool = True
    code_system: str | None = None
    allowed: list[str] | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    not_after_data_cut: bool = False
    on_invalid: Literal["reject", "flag"] = "reject"

    @model_validator(mode="after")
    def _known_code_system(self) -> Column:
        if self.code_system and self.code_system not in CODE_SYSTEMS:
            raise ValueError(
                f"unknown code_system {self.code_system!r}; known: {sorted(CODE_SYSTEMS)}"
            )
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    check: str  # a SQL predicate over the typed columns, true when the row is fine
    message: str  # may name non-identifiable columns in braces: {admission_date}
    on_fail: Literal["reject", "flag"] = "reject"


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feed: str
    version: str
    description: str
    source: str
    grain: str
    key: list[str]
    columns: dict[str, Column]
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        for k in self.key:
            if k not in self.columns:
                raise ValueError(f"key column {k!r} is not among the columns")
        for rule in self.rules:
            for name in re.findall(r"{(\w+)}", rule.message):
                if name not in self.columns:
                    raise ValueError(f"rule {rule.name!r} message names unknown column {name!r}")
                if name in IDENTIFIABLE_COLUMNS:
                    raise ValueError(
                        f"rule {rule.name!r} message would reveal identifiable {name!r}"
                    )
        return self


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
    """The outcome of checking one feed file: counts reconcile, read = accepted + rejected."""

    feed: str
    path: Path
    contract_version: str
    read: int
    accepted: int
    rejected: int
    violations: pl.DataFrame  # row_number, column, check, reason, severity
    source: str = ""  # the relation holding every row with every contract column


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _shown(col: str, expr: str) -> str:
    """A value for a reason, or nothing for identifiable columns (reasons are shown to staff)."""
    return "''" if col in IDENTIFIABLE_COLUMNS else f"' ' || {expr}"


@dataclass(frozen=True)
class _Col:
    """How one contract column appears in the source: its typed value and its text as read."""

    name: str
    spec: Column
    raw_type: str  # DuckDB type of the column as read

    @property
    def target(self) -> str:
        return SQL_TYPES[self.spec.type]

    @property
    def passthrough(self) -> bool:
        """Already of its type as read (typed Parquet), so used as it is."""
        return self.raw_type == self.target and self.target != "VARCHAR"

    @property
    def needs_cast(self) -> bool:
        return self.raw_type != self.target

    @property
    def raw(self) -> str:
        """Text as read (kept beside the typed value unless the column passes through)."""
        return f"CAST({_q(self.name)} AS VARCHAR)" if self.passthrough else _q("__raw_" + self.name)

    @property
    def present(self) -> str:
        if self.raw_type == "VARCHAR":
            return f"({self.raw} IS NOT NULL AND trim({self.raw}) <> '')"
        return f"({self.raw} IS NOT NULL)"

    def projection(self) -> str:
        """Typed value under the column's own name: text trimmed, empty text NULL, so that what is
        checked is exactly what is staged."""
        if self.passthrough:
            return _q(self.name)
        text = f"CAST({_q(self.name)} AS VARCHAR)"
        clean = f"NULLIF(trim({text}), '')"
        typed = clean if self.target == "VARCHAR" else f"TRY_CAST({clean} AS {self.target})"
        return f"{text} AS {self.raw}, {typed} AS {_q(self.name)}"


def _column_checks(c: _Col, data_cut: date) -> list[tuple[str, str, str, str]]:
    """(check, failing-row predicate, reason expression, severity) for one column."""
    name, col, typed = c.name, c.spec, _q(c.name)
    value = f"coalesce({c.raw}, '')"
    checks = []
    if col.required:
        checks.append(("required", f"NOT {c.present}", _lit(f"{name} is missing"), "reject"))
    if c.needs_cast:
        checks.append(
            (
                "type",
                f"{c.present} AND {typed} IS NULL",
                f"{_lit(name)} || {_shown(name, value)} || {_lit(f' is not a valid {col.type}')}",
                "reject",
            )
        )
    ok = f"{typed} IS NOT NULL AND {c.present}"
    text = f"trim(CAST({typed} AS VARCHAR))"
    if col.allowed is not None:
        listed = ", ".join(_lit(v) for v in col.allowed)
        checks.append(
            (
                "allowed",
                f"{ok} AND {text} NOT IN ({listed})",
                f"{_lit(name)} || {_shown(name, value)} || {_lit(' is not one of ' + ', '.join(col.allowed))}",
                col.on_invalid,
            )
        )
    if col.code_system == "nhs_number":
        checks.append(
            (
                "code_system",
                f"{ok} AND NOT nhs_number_valid({text})",
                _lit(f"{name} fails the Modulus 11 check"),
                col.on_invalid,
            )
        )
    elif col.code_system or col.pattern:
        pattern, label = (
            CODE_SYSTEMS[col.code_system] if col.code_system else (col.pattern, "pattern")
        )
        pattern = pattern.removeprefix("^").removesuffix("$")
        checks.append(
            (
                "code_system",
                f"{ok} AND NOT regexp_full_match({text}, {_lit(pattern)})",
                f"{_lit(name)} || {_shown(name, value)} || {_lit(f' is not a valid {label}')}",
                col.on_invalid,
            )
        )
    for bound, op, words in (("min", "<", "below the minimum"), ("max", ">", "above the maximum")):
        limit = getattr(col, bound)
        if limit is not None:
            checks.append(
                (
                    bound,
                    f"{ok} AND {typed} {op} {limit}",
                    f"{_lit(name)} || {_shown(name, value)} || {_lit(f' is {words} {limit:g}')}",
                    "reject",
                )
            )
    if col.not_after_data_cut:
        cut = data_cut.isoformat()
        checks.append(
            (
                "not_after_data_cut",
                f"{ok} AND {typed} > DATE {_lit(cut)}",
                f"{_lit(name)} || {_shown(name, value)} || {_lit(f' is after the data cut {cut}')}",
                "reject",
            )
        )
    return checks


def _rule_reason(rule: Rule) -> str:
    """A rule's message as a SQL expression: {col} becomes the row's value."""
    parts = re.split(r"{(\w+)}", rule.message)
    pieces = [
        _lit(p) if i % 2 == 0 else f"coalesce(CAST({_q(p)} AS VARCHAR), 'empty')"
        for i, p in enumerate(parts)
        if p
    ]
    return " || ".join(pieces) or _lit(rule.name)


def _columns(contract: Contract, raw_types: dict[str, str]) -> list[_Col]:
    return [_Col(n, c, raw_types.get(n, "VARCHAR")) for n, c in contract.columns.items()]


def typed_source_sql(contract: Contract, source: str, raw_types: dict[str, str]) -> str:
    """Every row of `source` with each contract column typed (NULL where it does not parse)."""
    cols = ", ".join(c.projection() for c in _columns(contract, raw_types))
    return f"SELECT row_number, {cols} FROM {source}"


def violations_sql(
    contract: Contract, source: str, data_cut: date, raw_types: dict[str, str]
) -> str:
    """Every failed check of every row of `source` (which has row_number), in one scan.

    Failing checks of a row are gathered into a list, and only failing rows build one, so the
    cost on a clean feed is a single pass that evaluates the predicates."""
    cases, failing = [], []
    for c in _columns(contract, raw_types):
        for check, predicate, reason, severity in _column_checks(c, data_cut):
            failing.append(f"({predicate})")
            cases.append(
                f"CASE WHEN {predicate} THEN struct_pack(column_name := {_lit(c.name)}, "
                f"check_name := {_lit(check)}, reason := {reason}, severity := {_lit(severity)}) END"
            )
    for rule in contract.rules:
        predicate = f"NOT coalesce({rule.check}, true)"
        failing.append(f"({predicate})")
        cases.append(
            f"CASE WHEN {predicate} THEN struct_pack(column_name := NULL::VARCHAR, "
            f"check_name := {_lit(rule.name)}, reason := {_rule_reason(rule)}, "
            f"severity := {_lit(rule.on_fail)}) END"
        )
    per_row = (
        f"SELECT row_number, list_filter([{', '.join(cases)}], lambda v: v IS NOT NULL) AS found "
        f"FROM ({typed_source_sql(contract, source, raw_types)}) WHERE {' OR '.join(failing)}"
    )
    unnested = (
        "SELECT row_number, v.column_name, v.check_name, v.reason, v.severity "
        f"FROM ({per_row}) CROSS JOIN unnest(found) AS u(v)"
    )
    keys = [_q(k) for k in contract.key]
    key_name = ", ".join(contract.key)
    typed = typed_source_sql(contract, source, raw_types)
    on = " AND ".join(f"s.{k} = d.{k}" for k in keys)
    duplicates = (
        f"SELECT s.row_number, {_lit(key_name)}, 'unique_key', "
        f"{_lit(f'duplicate {key_name}: same as row ')} || d.first_row, 'reject' "
        f"FROM ({typed}) AS s JOIN (SELECT {', '.join(keys)}, min(row_number) AS first_row "
        f"FROM ({typed}) GROUP BY ALL HAVING count(*) > 1) AS d ON {on} "
        "WHERE s.row_number > d.first_row"
    )
    return f"{unnested}\nUNION ALL\n{duplicates}"


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
    """Check a feed already exposed as `name` by read_raw; leaves `<name>_violations`."""
    read = con.execute(
        f"SELECT (SELECT count(*) FROM {_q(name)}) + (SELECT count(*) FROM {_q(name + '__malformed')})"
    ).fetchall()[0][0]
    types = raw_types(con, name)
    require_columns(contract, path, types)
    source = _q(name)
    missing = [n for n in contract.columns if n not in types]
    if missing:  # optional columns absent from the file read as NULL
        nulls = ", ".join(f"NULL::VARCHAR AS {_q(n)}" for n in missing)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {_q(name + '__full')} AS SELECT *, {nulls} FROM {source}"
        )
        source = _q(name + "__full")
        types = raw_types(con, name + "__full")
    sql = violations_sql(contract, source, data_cut, types)
    malformed = (
        "SELECT row_number, NULL::VARCHAR, 'malformed_row', reason, 'reject' "
        f"FROM {_q(name + '__malformed')}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_q(name + '_violations')} AS {sql} UNION ALL {malformed}"
    )
    violations = con.sql(
        f"SELECT row_number, column_name, check_name, reason, severity FROM {_q(name + '_violations')} "
        "ORDER BY row_number, check_name"
    ).pl()
    rejected = violations.filter(pl.col("severity") == "reject")["row_number"].n_unique()
    return FeedCheck(
        contract.feed,
        Path(path),
        contract.version,
        read,
        read - rejected,
        rejected,
        violations,
        source.strip('"'),
    )


def feed_file(folder: Path, feed: str) -> Path | None:
    """The file holding a feed in a folder (Parquet preferred over CSV), or None."""
    for ext in ("parquet", "csv"):
        candidate = Path(folder) / f"{feed}.{ext}"
        if candidate.exists():
            return candidate
    return None


def data_cut_of(folder: Path) -> date:
    """The extract's data cut from manifest.json beside the feeds, else today."""
    manifest = Path(folder) / "manifest.json"
    if manifest.exists():
        try:
            return date.fromisoformat(json.loads(manifest.read_text())["data_cut"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ContractError(f"{manifest}: no valid data_cut (YYYY-MM-DD): {exc}") from exc
    return date.today()
