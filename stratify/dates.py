"""Calendar arithmetic the NHS way: a year after 29 February is 28 February."""

from __future__ import annotations

from datetime import date


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
