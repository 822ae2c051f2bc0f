"""A feed contract compiled into one set-based DuckDB pass (Splink's idea: configuration as data,
executed as SQL).

Every row of a feed is typed, cleaned (NHS numbers without spaces, ICD-10 without the dot, dates
in their declared formats, observations in their canonical unit) and checked in a single scan that
gives each row a bit mask of the checks it fails. Checks on codes and text (Verhoeff, Modulus 11,
patterns, allowed values, date parsing) run once per distinct value in a small lookup table, not
once per row. Reasons are built only for the rows that fail. A check's severity decides the row:
`reject` leaves it out of staging; `flag` keeps it with the value set to NULL and the defect
recorded per row.

The pass writes, for a feed exposed as `<name>` with `row_number`:
  the target (staging.<feed>, or the temp table <name>__checked): every row with row_number, the
      staged columns, __mask and __found (the failed checks as text, NULL if none); keep_accepted
      then deletes the rejected rows and drops the two check columns;
  <name>_violations: row_number, column_name, check_name, reason, severity (one row per defect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

import duckdb
import polars as pl
import yaml

from stratify import codelists
from stratify.contracts import (
    CLEAN,
    CODE_SYSTEMS,
    DATE_FORMATS,
    SCTID_SYSTEMS,
    SQL_TYPES,
    Contract,
    ContractError,
)
from stratify.privacy import IDENTIFIABLE_COLUMNS

UNITS_FILE = codelists.CODELIST_DIR / "units.yaml"
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT")  # fmt: skip


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _shown(col: str, expr: str) -> str:
    """A value for a reason, or nothing for identifiable columns (reasons are shown to staff)."""
    return "''" if col in IDENTIFIABLE_COLUMNS else f"' ' || coalesce({expr}, '')"


@dataclass
class Check:
    bit: int
    column: str | None
    name: str
    severity: str  # reject | flag
    nulls: str | None  # the column set to NULL when a flag fails
    reason: str  # SQL over the checked row, evaluated only where the check failed


@dataclass
class Domain:
    """A column checked on its distinct values. Joined back only where needed: text whose every
    distinct value passes unchanged is used as it is, without a join."""

    column: str
    table: str
    always: bool  # the value always changes type (dates), so every row takes it from the lookup
    extras: tuple[tuple[str, str], ...] = ()  # more lookup columns (name, type) for every row
    keep: str = "false"  # rows of the lookup that must be joined although unchanged


@dataclass
class Plan:
    """The SQL of one feed's pass: lookup tables first, then the checked table."""

    lookups: list[str] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    inner: list[str] = field(default_factory=list)  # typed columns and helpers
    joins: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)  # over the typed columns
    masks: list[str] = field(default_factory=list)  # SQL integers OR-ed into __mask
    outputs: dict[str, str] = field(default_factory=dict)  # staged column -> SQL
    target: str = ""  # the table the pass wrote
    con: object = None  # the connection the lookups are registered on

    def add(self, column, name, severity, reason, nulls=None) -> Check:
        if len(self.checks) >= 62:
            raise ContractError("a contract may have at most 62 checks")
        check = Check(1 << len(self.checks), column, name, severity, nulls, reason)
        self.checks.append(check)
        return check

    def bits(self, severity: str, nulls: str | None = None) -> int:
        return sum(
            c.bit
            for c in self.checks
            if c.severity == severity and (nulls is None or c.nulls == nulls)
        )


def staged_columns(contract: Contract) -> dict[str, str]:
    """The columns of staging.<feed> after source_row, with their DuckDB types."""
    out = {n: SQL_TYPES[c.type] for n, c in contract.columns.items()}
    for name, col in contract.columns.items():
        if col.units:
            out[f"{name}_as_sent"] = SQL_TYPES[col.type]
            out[f"{col.units.unit}_as_sent"] = "VARCHAR"
    return out


def _is_domain(target: str, raw_type: str) -> bool:
    """Checked once per distinct value: text, and dates that arrive as text or numbers."""
    return target == "VARCHAR" or (
        target == "DATE" and (raw_type == "VARCHAR" or raw_type in INTEGER_TYPES)
    )


def _date_value(text: str, formats: list[str]) -> str:
    parts = [
        f"WHEN regexp_full_match({text}, {lit(shape)}) THEN CAST({parse.format(text)} AS DATE)"
        for shape, parse, _ in (DATE_FORMATS[f] for f in formats)
    ]
    return f"CASE {' '.join(parts)} END"


def _expected(formats: list[str]) -> str:
    return " or ".join(DATE_FORMATS[f][2] for f in formats)


UNIT_EXTRAS = (("__concept", "VARCHAR"), ("__canonical", "VARCHAR"), ("__low", "DOUBLE"),
               ("__high", "DOUBLE"), ("__accepted", "VARCHAR"))  # fmt: skip


def _domain(plan: Plan, contract: Contract, *, source: str, col: str, raw_type: str,
            data_cut: date, prefix: str, measured: bool = False) -> None:  # fmt: skip
    """Checks of one column evaluated on its distinct values, joined back to every row."""
    spec = contract.columns[col]
    table = q(f"{prefix}__dom_{col}")
    text = "__text"
    is_date = spec.type == "date"
    value = (
        _date_value(text, contract.formats(col))
        if is_date
        else CLEAN[spec.code_system].format(text)
        if spec.code_system in CLEAN
        else text
    )
    src = q(f"__src_{col}")
    shown = _shown(col, f"CAST({src} AS VARCHAR)")
    conditions = []  # (predicate over the domain row, check)

    def check(pred, check_name, severity, reason):
        c = plan.add(col, check_name, severity, reason, col if severity == "flag" else None)
        conditions.append((pred, c))

    if spec.required and spec.on_missing != "keep":
        # Text that cleans to nothing (" - " as an NHS number) is missing too; a date that does
        # not parse is not missing but invalid (the type check below).
        empty = "__text IS NULL" if is_date else "__value IS NULL"
        check(empty, "required", spec.on_missing, lit(f"{col} is missing"))
    bad = spec.on_invalid
    if bad != "keep":
        if is_date:
            hint = ""
            if raw_type in INTEGER_TYPES and "yyyymmdd" not in contract.formats(col):
                hint = " (a number, not a date: declare date_formats [yyyymmdd] if it is one)"
            check(
                "__text IS NOT NULL AND __value IS NULL",
                "type",
                bad,
                f"{lit(col)} || {shown} || "
                f"{lit(f' is not a valid date in the declared format ({_expected(contract.formats(col))}){hint}')}",
            )
        if spec.allowed is not None:
            listed = ", ".join(lit(v) for v in spec.allowed)
            check(
                f"__value IS NOT NULL AND __value NOT IN ({listed})",
                "allowed",
                bad,
                f"{lit(col)} || {shown} || {lit(' is not one of ' + ', '.join(spec.allowed))}",
            )
        system = spec.code_system
        if system == "nhs_number":
            check(
                "__value IS NOT NULL AND NOT nhs_number_valid(__value)",
                "code_system",
                bad,
                lit(f"{col} fails the Modulus 11 check"),
            )
        elif system in SCTID_SYSTEMS:
            label = CODE_SYSTEMS[system][1]
            check(
                "__why IS NOT NULL",
                "code_system",
                bad,
                f"{lit(col)} || {shown} || {lit(f' is not a valid {label}: ')} || {q(f'__why_{col}')}",
            )
        elif system or spec.pattern:
            pattern, label = CODE_SYSTEMS[system] if system else (spec.pattern, "pattern")
            pattern = pattern.removeprefix("^").removesuffix("$")
            check(
                f"__value IS NOT NULL AND NOT regexp_full_match(__value, {lit(pattern)})",
                "code_system",
                bad,
                f"{lit(col)} || {shown} || {lit(f' is not a valid {label}')}",
            )
        _date_limits(plan, spec, col, "__value", shown, data_cut, bad, conditions)
    why = "NULL::VARCHAR"
    if spec.code_system in SCTID_SYSTEMS:
        # A code in one of the project's own lists is known whatever its check digit (the lists
        # mark their stand-ins as placeholders): only codes from outside are judged by the rules.
        listed = q(f"{prefix}__listed_{col}")
        _register(plan.con, listed, listed_codes(spec.code_system))
        why = f"CASE WHEN __value IN (SELECT code FROM {listed}) THEN NULL ELSE sctid_problem(__value) END"
    bits = " + ".join(f"CASE WHEN {p} THEN {c.bit} ELSE 0 END" for p, c in conditions) or "0"
    raw_text = "__raw" if raw_type == "VARCHAR" else "CAST(__raw AS VARCHAR)"
    select = f"SELECT __raw, NULLIF(trim({raw_text}), '') AS __text FROM (SELECT DISTINCT " \
        f"{q(col)} AS __raw FROM {source} WHERE {q(col)} IS NOT NULL)"  # fmt: skip
    select = (
        f"SELECT *, {why} AS __why FROM (SELECT __raw, __text, {value} AS __value FROM ({select}))"
    )
    extras, join = "", ""
    if measured:  # what each code measures: its concept, canonical unit and plausible range
        extras = ", u.concept AS __concept, u.canonical AS __canonical, u.low AS __low, " \
            "u.high AS __high, u.accepted AS __accepted"  # fmt: skip
        join = f" LEFT JOIN {q(prefix + '__unit_codes')} AS u ON u.code = d.__value"
    plan.lookups.append(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT d.__raw, d.__value, d.__why{extras}, "
        f"CAST({bits} AS BIGINT) AS __bits FROM ({select}) AS d{join}"
    )
    plan.domains.append(
        Domain(col, table, raw_type != "VARCHAR" or is_date, UNIT_EXTRAS if measured else (),
               "__concept IS NOT NULL" if measured else "false")
    )  # fmt: skip
    required = next((c for _, c in conditions if c.name == "required"), None)
    missing = required.bit if required else 0
    plan.masks.append(f"CASE WHEN {src} IS NULL THEN {missing} ELSE {q(f'__bits_{col}')} END")


def _date_limits(plan, spec, col, value, shown, data_cut, severity, conditions) -> None:
    """Dates after the data cut or before the earliest possible one."""
    for flag, op, limit, check_name, words in (
        (spec.not_after_data_cut, ">", data_cut, "not_after_data_cut", "is after the data cut"),
        (spec.earliest is not None, "<", spec.earliest, "earliest", "is before the earliest"),
    ):
        if flag:
            day = limit.isoformat()
            c = plan.add(
                col,
                check_name,
                severity,
                f"{lit(col)} || {shown} || {lit(f' {words} {day}')}",
                col if severity == "flag" else None,
            )
            conditions.append((f"{value} {op} DATE {lit(day)}", c))


def _per_row(plan: Plan, contract: Contract, col: str, raw_type: str, data_cut: date) -> None:
    """Checks of one column evaluated row by row in the scan (numbers, typed dates)."""
    spec = contract.columns[col]
    target = SQL_TYPES[spec.type]
    passthrough = raw_type == target
    src = q(col) if passthrough else q(f"__src_{col}")
    plan.inner.append(
        f"s.{q(col)} AS {q(col)}"
        if passthrough
        else f"TRY_CAST(s.{q(col)} AS {target}) AS {q(col)}, s.{q(col)} AS {src}"
    )
    shown = _shown(col, f"CAST({src} AS VARCHAR)")
    conditions = []
    missing_bit = type_bit = 0
    if spec.required and spec.on_missing != "keep":
        c = plan.add(col, "required", spec.on_missing, lit(f"{col} is missing"),
                     col if spec.on_missing == "flag" else None)  # fmt: skip
        missing_bit = c.bit
    bad = spec.on_invalid
    if not passthrough and bad != "keep":
        c = plan.add(
            col,
            "type",
            bad,
            f"{lit(col)} || {shown} || {lit(f' is not a valid {spec.type}')}",
            col if bad == "flag" else None,
        )
        type_bit = c.bit
    if missing_bit or type_bit:
        empty = f"trim(CAST({src} AS VARCHAR)) = ''" if raw_type == "VARCHAR" else "false"
        plan.masks.append(
            f"CASE WHEN {q(col)} IS NULL THEN (CASE WHEN {src} IS NULL OR {empty} "
            f"THEN {missing_bit} ELSE {type_bit} END) ELSE 0 END"
        )
    if bad == "keep":
        return
    for bound, op, words in (("min", "<", "below the minimum"), ("max", ">", "above the maximum")):
        limit = getattr(spec, bound)
        if limit is not None:
            c = plan.add(
                col,
                bound,
                bad,
                f"{lit(col)} || {shown} || {lit(f' is {words} {limit:g}')}",
                col if bad == "flag" else None,
            )
            conditions.append((f"{q(col)} {op} {limit}", c))
    _date_limits(plan, spec, col, q(col), shown, data_cut, bad, conditions)
    plan.masks += [f"CASE WHEN {p} THEN {c.bit} ELSE 0 END" for p, c in conditions]


def listed_codes(system: str) -> pl.DataFrame:
    """Every code of the project's code lists of one code system."""
    frames = [
        codelists.load(n).codes.select("code")
        for n in codelists.names()
        if codelists.load(n).system == system
    ]
    return (
        pl.concat(frames).unique()
        if frames
        else pl.DataFrame({"code": []}, schema={"code": pl.String})
    )


def _register(con, table: str, frame: pl.DataFrame) -> None:
    con.register("__lookup_frame", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM __lookup_frame")
    con.unregister("__lookup_frame")


@cache
def units_reference() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(code -> concept, canonical unit, plausible range, accepted units) and (concept, unit key ->
    conversion), from units.yaml and the code lists it names."""
    spec = yaml.safe_load(UNITS_FILE.read_text())
    known = set(codelists.names())
    codes, conversions = [], []
    for concept, c in spec["concepts"].items():
        if concept not in known:
            continue  # a concept without a code list (documented in units.yaml)
        low, high = c["plausible"]
        accepted = ", ".join(c["accepted"])
        for code in codelists.load(concept).code_values:
            codes.append((code, concept, c["canonical"], float(low), float(high), accepted))
        for unit, how in c["accepted"].items():
            key = unit.strip().lower().replace(" ", "").replace("²", "2").replace("µ", "u")
            conversions.append(
                (concept, key, float(how.get("add", 0)), float(how.get("multiply", 1)),
                 float(how.get("divide", 1)))
            )  # fmt: skip
    code_frame = pl.DataFrame(
        codes, schema=["code", "concept", "canonical", "low", "high", "accepted"], orient="row"
    ).unique("code", keep="first", maintain_order=True)
    conv = pl.DataFrame(
        conversions, schema=["concept", "unit_key", "add", "mul", "div"], orient="row"
    )
    return code_frame, conv


def _units(plan: Plan, con, contract: Contract, col: str, prefix: str) -> None:
    """An observation converted to its concept's canonical unit; unknown units and implausible
    values flagged (or rejected, as the column says), the as-sent value and unit kept beside."""
    spec = contract.columns[col]
    unit = spec.units.unit
    codes, conv = units_reference()
    # What each code measures joins the code column's lookup (see _domain); the conversion is a
    # CASE over the few accepted (concept, unit) pairs, evaluated only where a code is measured.
    con.register("__units_frame", codes.to_arrow())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(prefix + '__unit_codes')} AS SELECT * FROM __units_frame"
    )
    con.unregister("__units_frame")
    value = q(col)
    branches = " ".join(
        f"WHEN __concept = {lit(r['concept'])} AND unit_key({q(unit)}) = {lit(r['unit_key'])} "
        f"THEN ({value} + {r['add']!r}) * {r['mul']!r} / {r['div']!r}"
        for r in conv.iter_rows(named=True)
    )
    plan.derived.append(
        f"CASE WHEN __concept IS NULL OR {value} IS NULL THEN NULL {branches} END AS __converted"
    )
    severity = spec.on_invalid if spec.on_invalid != "keep" else "flag"
    value_text = f"CAST({q(col)} AS VARCHAR)"
    unknown = plan.add(
        col,
        "unit",
        severity,
        f"{lit(col)} || ' ' || {value_text} || CASE WHEN {q(unit)} IS NULL THEN ' has no unit' "
        f"ELSE ' has unit ' || {q(unit)} || ' which is not accepted' END || ' for ' || __concept "
        f"|| ' (accepted: ' || __accepted || ')'",
        col if severity == "flag" else None,
    )
    implausible = plan.add(
        col,
        "plausible_range",
        severity,
        f"{lit(col)} || ' ' || {value_text} || ' ' || coalesce({q(unit)}, '') || ' is ' || "
        f"CAST(round(__converted, 2) AS VARCHAR) || ' ' || __canonical || ', outside the plausible "
        f"range ' || CAST(__low AS VARCHAR) || '-' || CAST(__high AS VARCHAR) || ' ' || __canonical "
        f"|| ' for ' || __concept",
        col if severity == "flag" else None,
    )
    plan.masks += [
        f"CASE WHEN __concept IS NOT NULL AND {q(col)} IS NOT NULL AND __converted IS NULL "
        f"THEN {unknown.bit} ELSE 0 END",
        f"CASE WHEN __converted < __low OR __converted > __high THEN {implausible.bit} ELSE 0 END",
    ]
    plan.outputs[col] = f"CASE WHEN __concept IS NOT NULL THEN __converted ELSE {q(col)} END"
    plan.outputs[unit] = f"CASE WHEN __converted IS NOT NULL THEN __canonical ELSE {q(unit)} END"
    plan.outputs[f"{col}_as_sent"] = q(col)
    plan.outputs[f"{unit}_as_sent"] = q(unit)


def _rule_reason(message: str) -> str:
    """A rule's message as a SQL expression: {col} becomes the row's value."""
    import re

    parts = re.split(r"{(\w+)}", message)
    pieces = [
        lit(p) if i % 2 == 0 else f"coalesce(CAST({q(p)} AS VARCHAR), 'empty')"
        for i, p in enumerate(parts)
        if p
    ]
    return " || ".join(pieces) or "''"


def compile_plan(con, contract: Contract, source: str, types: dict[str, str], data_cut: date,
                 prefix: str) -> Plan:  # fmt: skip
    plan = Plan(con=con)
    measured = {c.units.code for c in contract.columns.values() if c.units}
    for col, spec in contract.columns.items():
        raw = types.get(col, "VARCHAR")
        if _is_domain(SQL_TYPES[spec.type], raw):
            _domain(plan, contract, measured=col in measured, source=source, col=col, raw_type=raw,
                    data_cut=data_cut, prefix=prefix)  # fmt: skip
        else:
            _per_row(plan, contract, col, raw, data_cut)
    for col, spec in contract.columns.items():
        if spec.units:
            _units(plan, con, contract, col, prefix)
    for rule in contract.rules:
        c = plan.add(None, rule.name, rule.on_fail, _rule_reason(rule.message),
                     rule.column if rule.on_fail == "flag" else None)  # fmt: skip
        plan.masks.append(f"CASE WHEN NOT coalesce({rule.check}, true) THEN {c.bit} ELSE 0 END")
    return plan


def _join_domains(con, plan: Plan) -> None:
    """Join each checked column's lookup back to the rows, or skip it when nothing changes."""
    for d in plan.domains:
        col, alias = d.column, q(f"d_{d.column}")
        src, why, bits = q(f"__src_{col}"), q(f"__why_{col}"), q(f"__bits_{col}")
        table = d.table
        if not d.always:
            changed = q(d.table.strip('"') + "_changed")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {changed} AS SELECT * FROM {d.table} "
                f"WHERE __bits <> 0 OR __value IS DISTINCT FROM __raw OR {d.keep}"
            )
            if not con.execute(f"SELECT count(*) FROM {changed}").fetchall()[0][0]:
                plan.inner += [f"s.{q(col)} AS {q(col)}", f"s.{q(col)} AS {src}",
                               f"NULL::VARCHAR AS {why}", f"0 AS {bits}"]  # fmt: skip
                plan.inner += [f"NULL::{t} AS {n}" for n, t in d.extras]
                continue
            table = changed
        plan.joins.append(f"LEFT JOIN {table} AS {alias} ON {alias}.__raw = s.{q(col)}")
        value = f"{alias}.__value" if d.always else (
            f"CASE WHEN {alias}.__raw IS NULL THEN s.{q(col)} ELSE {alias}.__value END"
        )  # fmt: skip
        plan.inner += [f"{value} AS {q(col)}", f"s.{q(col)} AS {src}",
                       f"{alias}.__why AS {why}", f"coalesce({alias}.__bits, 0) AS {bits}"]  # fmt: skip
        plan.inner += [f"{alias}.{n} AS {n}" for n, _ in d.extras]


def _key_expr(contract: Contract, col: str, raw_type: str) -> str:
    """A key column's typed, cleaned value computed from the raw row (as the pass stages it)."""
    spec = contract.columns[col]
    target, raw = SQL_TYPES[spec.type], f"s.{q(col)}"
    if raw_type == target and target != "VARCHAR":
        return raw
    if target == "VARCHAR":
        text = f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')"
        return CLEAN[spec.code_system].format(text) if spec.code_system in CLEAN else text
    if target == "DATE":
        raise ContractError(f"{contract.feed}: a date key ({col}) is not supported")
    return f"TRY_CAST({raw} AS {target})"


def _duplicates(con, plan: Plan, contract: Contract, source: str, types: dict[str, str],
                name: str) -> None:  # fmt: skip
    """A repeated key rejects every row after the first: the repeated keys are found once in an
    aggregate, then joined back as one more check."""
    keys = [_key_expr(contract, k, types.get(k, "VARCHAR")) for k in contract.key]
    table = q(name + "__dupkeys")
    names = [q(f"__k{i}") for i in range(len(keys))]
    con.execute("SET perfect_ht_threshold = 24")  # integer keys aggregate by direct index
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(names)}, min(row_number) AS "
        f"__first_row FROM (SELECT s.row_number, "
        f"{', '.join(f'{k} AS {n}' for k, n in zip(keys, names, strict=True))} FROM {source} AS s) "
        f"WHERE {' AND '.join(f'{n} IS NOT NULL' for n in names)} GROUP BY ALL HAVING count(*) > 1"
    )
    con.execute("RESET perfect_ht_threshold")
    if not con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
        return
    key_name = ", ".join(contract.key)
    on = " AND ".join(f"dk.{n} = {k}" for k, n in zip(keys, names, strict=True))
    plan.joins.append(f"LEFT JOIN {table} AS dk ON {on}")
    plan.inner.append("dk.__first_row AS __first_row")
    c = plan.add(key_name, "unique_key", "reject",
                 f"{lit(f'duplicate {key_name}: same as row ')} || __first_row")  # fmt: skip
    plan.masks.append(f"CASE WHEN row_number > __first_row THEN {c.bit} ELSE 0 END")


def run(con: duckdb.DuckDBPyConnection, contract: Contract, source: str, types: dict[str, str],
        data_cut: date, name: str, target: str | None = None) -> Plan:  # fmt: skip
    """Check every row of `source` (a relation with row_number and every contract column) in one
    pass into `target` (default the temp table <name>__checked): row_number, the staged columns,
    __mask and __found; and list every failed check in <name>_violations."""
    plan = compile_plan(con, contract, source, types, data_cut, name)
    for sql in plan.lookups:
        con.execute(sql)
    _join_domains(con, plan)
    _duplicates(con, plan, contract, source, types, name)
    mask = " | ".join(f"({m})" for m in plan.masks) or "0"
    inner = (
        f"SELECT s.row_number, {', '.join(plan.inner)} FROM {source} AS s {' '.join(plan.joins)}"
    )
    if plan.derived:
        inner = f"SELECT *, {', '.join(plan.derived)} FROM ({inner})"
    # Failed checks of a row as one text (checks apart by chr(30), fields by chr(31)), built
    # only where the row fails: cheaper in the scan than a list of structs.
    found = ", ".join(
        f"CASE WHEN __mask & {c.bit} <> 0 THEN concat_ws(chr(31), "
        f"{lit(c.column) if c.column else chr(39) + chr(39)}, {lit(c.name)}, "
        f"coalesce({c.reason}, {lit(c.name)}), {lit(c.severity)}) END"
        for c in plan.checks
    )
    outputs = []
    for col, sql_type in staged_columns(contract).items():
        expr = plan.outputs.get(col, q(col))
        nulls = plan.bits("flag", col)
        if nulls:
            expr = f"CASE WHEN __mask & {nulls} <> 0 THEN NULL ELSE {expr} END"
        outputs.append(f"CAST({expr} AS {sql_type}) AS {q(col)}")
    found_sql = (
        f"CASE WHEN __mask <> 0 THEN concat_ws(chr(30), {found}) END"
        if plan.checks
        else "NULL::VARCHAR"
    )
    target = target or q(name + "__checked")
    temp = "TEMP " if target.startswith('"') else ""
    con.execute(
        f"CREATE OR REPLACE {temp}TABLE {target} AS SELECT row_number, "
        f"{', '.join(outputs)}, __mask, {found_sql} AS __found "
        f"FROM (SELECT *, CAST({mask} AS BIGINT) AS __mask FROM ({inner}))"
    )
    plan.target = target
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(name + '_violations')} AS "
        f"SELECT row_number, NULLIF(f[1], '') AS column_name, f[2] AS check_name, "
        f"f[3] AS reason, f[4] AS severity FROM (SELECT row_number, string_split(v, chr(31)) AS f "
        f"FROM (SELECT row_number, unnest(string_split(__found, chr(30))) AS v FROM {target} "
        f"WHERE __mask <> 0)) "
        f"UNION ALL SELECT row_number, NULL, 'malformed_row', reason, 'reject' "
        f"FROM {q(name + '__malformed')}"
    )
    return plan


def counts(con: duckdb.DuckDBPyConnection, plan: Plan, name: str) -> tuple[int, int, int]:
    """(read, rejected, flagged): flagged rows are accepted rows with at least one flag."""
    reject, flag = plan.bits("reject"), plan.bits("flag")
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE __mask & {reject} <> 0), count(*) FILTER "
        f"(WHERE __mask & {flag} <> 0 AND __mask & {reject} = 0) FROM {plan.target}"
    ).fetchall()[0]
    malformed = con.execute(f"SELECT count(*) FROM {q(name + '__malformed')}").fetchall()[0][0]
    return row[0] + malformed, row[1] + malformed, row[2]


def keep_accepted(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Turn the pass's target into the staged table: rejected rows deleted, the check columns
    dropped, row_number named source_row."""
    target = plan.target
    con.execute(f"DELETE FROM {target} WHERE __mask & {plan.bits('reject')} <> 0")
    con.execute(f"ALTER TABLE {target} DROP COLUMN __found")
    con.execute(f"ALTER TABLE {target} DROP COLUMN __mask")
    con.execute(f"ALTER TABLE {target} RENAME COLUMN row_number TO source_row")
