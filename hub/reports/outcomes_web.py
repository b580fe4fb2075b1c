"""Clienteling outcomes on screen, in JSON and as CSV: the appointments held and the
follow-ups done over a range of days, and how many a purchase by the same client followed
within 30 days (`hub.reports.outcomes`), by associate and by kind. Figures only: no client
is named anywhere here, so the CSV carries no personal data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.core.errors import Invalid
from hub.reports.chart import bars
from hub.reports.layer import VIEW
from hub.reports.outcomes import Range, ask_outcomes, outcomes_report
from hub.reports.tables import csv_download
from hub.web.kernel import Endpoints, json_response, render, store_of
from hub.words import N_, Words

# (the report's part, its grouping) -> the heading of the grouping and the vocabulary of
# its keys (None: staff, by name).
GROUPS = (("appointments", "by_associate", N_("Associate"), None),
          ("appointments", "by_kind", N_("Kind of appointment"), "appointment_kind"),
          ("followups", "by_associate", N_("Associate"), None),
          ("followups", "by_kind", N_("Kind of follow-up"), "followup_kind"),
          ("followups", "by_outcome", N_("How it was done"), "followup_outcome"))
PARTS = {"appointments": N_("Appointments"), "followups": N_("Follow-ups")}
COUNTED = {"appointments": ("held", N_("Held")), "followups": ("done", N_("Done"))}


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


async def _read(request: web.Request, query: dict[str, str] | None = None
                ) -> tuple[Range, dict[str, Any]]:
    """The report the request asks for (`query`: else its own query string)."""
    store = store_of(request)
    tz, currency = store.config.timezone, store.config.currency
    today = _today(tz)
    asked = ask_outcomes(dict(request.query) if query is None else query, today)
    return asked, await store.ledger.read(
        lambda tx: outcomes_report(tx, tz, currency, asked, today))


def _label(words: Words, vocabulary: str | None, key: str, names: dict[str, str]) -> str:
    if vocabulary is None:
        return words.actor(key, names)
    text = words.term(vocabulary, key) or words._("Not said")
    return text[:1].upper() + text[1:]


def _names(request: web.Request) -> dict[str, str]:
    return {m.staff_id: m.name for m in store_of(request).staff.all()}


async def outcomes_api(request: web.Request) -> web.Response:
    _, out = await _read(request)
    return json_response(out)


def _plain(value: Any) -> Any:
    return "" if value is None else value  # minor units and basis points stay whole


async def outcomes_csv(request: web.Request) -> web.Response:
    """Every table of the page, one after the other in one sheet: what, by what, the row
    (a staff member or a kind in words, never a client), and the figures."""
    words = store_of(request).words
    asked, out = await _read(request)
    names = _names(request)
    head = [words._("What"), words._("Grouped by"), words._("Row"), words._("Held or done"),
            words._("Followed by a purchase"), words._("Share (basis points)"),
            words._("Sales"), words._("Net sales"), words._("Cancelled"),
            words._("No-shows"), words._("Within their 30 days still")]
    rows: list[list[Any]] = [head]
    for part, grouping, heading, vocabulary in GROUPS:
        counted = COUNTED[part][0]
        for row, key in [*((r, _label(words, vocabulary, r["key"], names))
                           for r in out[part][grouping]),
                         (out[part]["totals"], words._("All"))]:
            rows.append([words._(PARTS[part]), words._(heading), key, row[counted],
                         row["converted"], _plain(row["share_bp"]), row["sales"], row["net"],
                         row.get("cancelled", ""), row.get("no_show", ""), row["open"]])
    return csv_download(f"outcomes-{asked.first.isoformat()}-{asked.last.isoformat()}.csv",
                        rows)


def _chart(words: Words, part: str, rows: list[dict[str, Any]], out: dict[str, Any]) -> str:
    title = {"appointments": words._("Appointments followed by a purchase, by associate"),
             "followups": words._("Follow-ups followed by a purchase, by associate")}[part]
    return bars(title, words._("The share of each associate's {what} that a purchase by the"
                               " same client followed within {days} days, from {first} to"
                               " {last}; the table below gives every figure.").format(
                                   what=words._(PARTS[part]).lower(), days=out["window_days"],
                                   first=words.day(out["from"]), last=words.day(out["to"])),
                [(r["label"], r["share_bp"] or 0, words.percent(r["share_bp"])
                  if r["share_bp"] is not None else words._("none held in this range"))
                 for r in rows], ident=f"chart-outcomes-{part}")


async def outcomes_page(request: web.Request) -> web.Response:
    words = store_of(request).words
    problem = None
    try:
        _, out = await _read(request)
    except Invalid as exc:
        problem = words.refusal(exc)
        _, out = await _read(request, {})  # the default range, the problem said
    names = _names(request)
    tables = []
    for part, grouping, heading, vocabulary in GROUPS:
        rows = [{**r, "label": _label(words, vocabulary, r["key"], names)}
                for r in out[part][grouping]]
        tables.append({"part": part, "grouping": grouping, "heading": heading, "rows": rows,
                       "totals": out[part]["totals"], "counted": COUNTED[part],
                       "chart": _chart(words, part, rows, out)
                       if grouping == "by_associate" else None})
    return await render(request, "reports_outcomes.html", {
        "out": out, "tables": tables, "parts": PARTS, "problem": problem,
        "query": request.query_string})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/reports/outcomes", outcomes_api, permission=VIEW,
              summary="Clienteling outcomes over a range of the store's days: appointments"
                      " held and follow-ups done, and how many a purchase by the same client"
                      " followed within 30 days, with its net; by associate and by kind",
              query=("from", "to"))
    table.file("/api/v1/reports/outcomes.csv", outcomes_csv, permission=VIEW,
               summary="The clienteling outcomes as CSV, in the store's words (figures only)")
    table.page("/reports/outcomes", outcomes_page, permission=VIEW,
               title=N_("Clienteling outcomes"))
