"""The case-conference pack: an Excel workbook (xlsxwriter) and a printable PDF (reportlab).

Both carry patient-identifiable information for the direct-care team, and say so on their face."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

NOTICE = "Contains patient-identifiable information: for the direct-care team of this cluster only."
TIER_COLOURS = {"very_high": "#d5281b", "high": "#ed8b00", "moderate": "#ffeb3b", "low": "#007f3b"}
LIST_COLUMNS = {
    "list_order": ("#", 4), "why_discuss": ("Why discuss", 40), "patient_name": ("Patient", 22),
    "nhs_number": ("NHS number", 13), "age": ("Age", 5), "practice_name": ("Practice", 24),
    "enrolment_status": ("Enrolment", 11), "tier": ("Risk tier", 10), "probability": ("12-month risk", 12),
    "probability_change": ("Change since last month", 12), "top_reasons": ("Top reasons", 60),
    "frailty_category": ("Frailty (eFI)", 11), "conditions": ("Conditions", 30),
    "emergency_admissions_90d": ("Emergency admissions (90 days)", 12),
    "ae_attendances_90d": ("A&E (90 days)", 9), "last_discharge_date": ("Last discharge", 12),
    "post_discharge_detail": ("Contact after discharge", 30), "care_plan_status": ("Care plan", 14),
    "care_plan_date": ("Care plan agreed / reviewed", 13),
    "care_plan_review_due": ("Care plan review due", 12), "coordinator_name": ("Named coordinator", 18),
    "coordinator_role": ("Coordinator role", 16), "accountable_gp": ("Accountable GP", 16),
    "repeat_medicines": ("Repeat medicines", 9), "last_medication_review": ("Last medication review", 13),
    "falls_12m": ("Falls (12 months)", 8), "open_action_list": ("Open actions", 50),
    "overdue_list": ("Overdue protocol steps", 50),
}  # fmt: skip
ACTION_COLUMNS = {
    "action": ("Action", 40), "patient_name": ("Patient", 22), "nhs_number": ("NHS number", 13),
    "practice_code": ("Practice", 9), "owner": ("Owner", 18), "owner_role": ("Role", 16),
    "due_date": ("Due", 11), "status": ("Status", 9), "agreed_at": ("Agreed", 17),
}  # fmt: skip
OUTCOME_COLUMNS = {
    "meeting_date": ("Meeting", 11), "patient_name": ("Patient", 22), "nhs_number": ("NHS number", 13),
    "outcome": ("Outcome", 70), "recorded_by": ("Recorded by", 16),
}  # fmt: skip


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


def _sheet(
    book, name: str, frame: pl.DataFrame, columns: dict[str, tuple[str, int]], header_fmt, wrap_fmt
):
    sheet = book.add_worksheet(name)
    present = [c for c in columns if c in frame.columns]
    for j, col in enumerate(present):
        label, width = columns[col]
        sheet.write(0, j, label, header_fmt)
        sheet.set_column(j, j, width, wrap_fmt)
    for i, row in enumerate(frame.select(present).iter_rows(), start=1):
        for j, value in enumerate(row):
            sheet.write(i, j, _cell(value))
    sheet.freeze_panes(1, 0)
    if present:
        sheet.autofilter(0, 0, max(frame.height, 1), len(present) - 1)
    return sheet, present


def write_workbook(
    path: Path,
    listed: pl.DataFrame,
    actions: pl.DataFrame,
    attendance: pl.DataFrame,
    outcomes: pl.DataFrame,
    title: str,
) -> Path:
    """Sheets: the list (risk tiers coloured), open actions, and the last meeting's outcomes."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": title, "comments": NOTICE})
    header = book.add_format({"bold": True, "bg_color": "#005eb8", "font_color": "white", "text_wrap": True,
                              "valign": "top", "border": 1})  # fmt: skip
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet, present = _sheet(book, "Conference list", listed.with_columns(
        probability=(pl.col("probability") * 100).round(1),
        probability_change=(pl.col("probability_change") * 100).round(1),
    ) if listed.height else listed, LIST_COLUMNS, header, wrap)  # fmt: skip
    if "tier" in present and listed.height:
        j = present.index("tier")
        for tier, colour in TIER_COLOURS.items():
            fmt = book.add_format(
                {"bg_color": colour, "font_color": "white" if tier != "moderate" else "black"}
            )
            sheet.conditional_format(1, j, listed.height, j, {"type": "cell", "criteria": "==",
                                                              "value": f'"{tier}"', "format": fmt})  # fmt: skip
    _sheet(book, "Open actions", actions, ACTION_COLUMNS, header, wrap)
    last, _ = _sheet(book, "Last meeting", outcomes, OUTCOME_COLUMNS, header, wrap)
    if attendance.height:
        start = outcomes.height + 3
        last.write(start, 0, "Attended", header)
        for i, (name, role, org) in enumerate(attendance.iter_rows(), start=start + 1):
            last.write(i, 0, f"{name}, {role}, {org}")
    book.close()
    return Path(path)


def write_pdf(
    path: Path, listed: pl.DataFrame, actions: pl.DataFrame, outcomes: pl.DataFrame, title: str
) -> Path:
    """A landscape A4 document that prints cleanly: one row per patient, then actions, outcomes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title=title)  # fmt: skip

    def p(text: object) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(str(_cell(text))).replace("\n", "<br/>"), small)

    def table(header: list[str], rows: list[list], widths: list[float]) -> Table:
        t = Table([[p(h) for h in header], *[[p(c) for c in r] for r in rows]], colWidths=[w * mm for w in widths],
                  repeatRows=1)  # fmt: skip
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#005eb8")),
                               ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#aeb7bd")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
        return t

    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(NOTICE, styles["Italic"]),
        Spacer(1, 4 * mm),
    ]
    rows = []
    for r in listed.iter_rows(named=True):
        change = r["probability_change"]
        risk = f"{r['tier'].replace('_', ' ')}, {r['probability']:.1%}" + (
            f" ({change * 100:+.1f} pts)" if change is not None else ""
        )
        who = f"{r['patient_name']}\nNHS {r['nhs_number']}, aged {r['age']}\n{r['practice_name']}"
        care = (f"Plan: {r['care_plan_status']} {_cell(r['care_plan_date'])}\nCoordinator: "
                f"{r['coordinator_name'] or 'none'}\nGP: {r['accountable_gp'] or 'none'}")  # fmt: skip
        rows.append([r["list_order"], who, risk, r["why_discuss"], r["top_reasons"] or "", care,
                     r["open_action_list"] or "none"])  # fmt: skip
    story.append(table(["#", "Patient", "Risk", "Why discuss", "Top reasons", "Care plan and coordinator",
                        "Open actions"], rows, [8, 45, 30, 40, 70, 45, 39]))  # fmt: skip
    story += [Spacer(1, 6 * mm), Paragraph("Open actions", styles["Heading2"])]
    story.append(table(["Action", "Patient", "Owner", "Due", "Status"],
                       [[a["action"], a["patient_name"], f"{a['owner']} ({a['owner_role']})", a["due_date"], a["status"]]
                        for a in actions.iter_rows(named=True)] or [["none", "", "", "", ""]],
                       [90, 50, 60, 30, 27]))  # fmt: skip
    story += [Spacer(1, 6 * mm), Paragraph("Last meeting's outcomes", styles["Heading2"])]
    story.append(table(["Meeting", "Patient", "Outcome"],
                       [[o["meeting_date"], o["patient_name"], o["outcome"]] for o in outcomes.iter_rows(named=True)]
                       or [["none recorded", "", ""]], [30, 50, 177]))  # fmt: skip
    doc.build(story)
    return Path(path)
