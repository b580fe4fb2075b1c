"""What every report's table shares: a row's key in the reader's words, and the table as a
CSV download."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from aiohttp import web
from babel import dates as babel_dates

from hub.words import Words


def csv_download(name: str, rows: list[list[Any]]) -> web.Response:
    """A table as a CSV download (a spreadsheet opens it); `rows` begin with the heading."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return web.Response(text=buffer.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


def label(words: Words, by: str, key: str, names: dict[str, str]) -> str:
    """A row's key as the reader says it."""
    if by == "day":
        return words.day(key)
    if by == "week":
        year, week = key.split("-W")
        return words._("Week {week}, {year}").format(week=int(week), year=year)
    if by == "month":
        return _month(words, key)
    if by in ("category", "metal", "ownership"):  # lower-case words, heading a row here
        text = words.term(by, key) if key else words._("Not said")
        return text[:1].upper() + text[1:]
    if by == "associate":
        return words.actor(key, names)
    return key or words._("Not said")


def _month(words: Words, key: str) -> str:
    year, month = key.split("-")
    return babel_dates.format_skeleton("yMMMM", date(int(year), int(month), 1),
                                       locale=words.locale)
