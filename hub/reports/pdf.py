"""The day and the month on paper: what a manager files or takes to the owner, built as
`Document`s (hub/documents.py) so they print as every other page of the hub prints.

Every sales figure is read with `SalesReport.report`, the very read of the screen, the JSON
and the CSV, so the paper never says another figure. The day adds the Z reports closed on it
(`Closures.list`), said to agree with the day or not; the month adds the stock held
(`stock_report`) and the workshop (`Jobs.figures`, when the workshop runs). Cost and margin
only for a reader who may see them. All text is in the store's words; no codes."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.errors import Invalid
from hub.documents import Document
from hub.reports.sales import EARLIEST, Asked, SalesReport
from hub.reports.stock import AGES, stock_report
from hub.reports.stock_web import AGE_WORDS
from hub.reports.tables import label
from hub.runtime import Runtime
from hub.store import Store
from hub.words import N_, Words

DAY_GROUPS = ("associate", "category", "metal")
MONTH_GROUPS = ("category", "designer", "associate")
GROUP_WORDS = {"associate": N_("By associate"), "category": N_("By category"),
               "metal": N_("By metal"), "designer": N_("By designer")}
# The figures of a total, in the order printed; cost and margin only when the read has them.
FIGURES = (("net", N_("Net sales")), ("sales", N_("Sales")), ("units", N_("Units")),
           ("discounts", N_("Discounts")), ("refunds", N_("Refunds")),
           ("average_basket", N_("Average basket")), ("cost", N_("Cost")),
           ("margin", N_("Margin")))
COUNTS = {"sales", "units"}
_CLOSURES_READ = 16  # Z reports read at first, the latest; more while the day is older


# -- what is asked --------------------------------------------------------------------------

def ask_day(text: str | None, today: date) -> date:
    """`day` (YYYY-MM-DD), yesterday when left out; never a day to come, nor before 2000."""
    text = (text or "").strip()
    if not text:
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid("“{value}” is not a day (year-month-day, such as 2026-11-30)", "day",
                      value=text[:20]) from None
    if day > today:
        raise Invalid("{day} has not come yet: a day's report is of a day that has begun",
                      "day", day=day.isoformat())
    if day < EARLIEST:
        raise Invalid("a day's report is of a day from {first} on", "day",
                      first=EARLIEST.isoformat())
    return day


def ask_month(text: str | None, today: date) -> date:
    """`month` (YYYY-MM), this month when left out, as its first day; never a month to come,
    nor before 2000."""
    text = (text or "").strip()
    if not text:
        return today.replace(day=1)
    year, _, month = text.partition("-")
    if not (len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()
            and 1 <= int(month) <= 12):
        raise Invalid("“{value}” is not a month (year-month, such as 2026-11)", "month",
                      value=text[:20])
    first = date(int(year), int(month), 1)
    if first > today:
        raise Invalid("{month} has not begun yet: a month's report is of a month that has"
                      " begun", "month", month=text)
    if first < EARLIEST:
        raise Invalid("a month's report is of a month from {first} on", "month",
                      first=EARLIEST.isoformat()[:7])
    return first


# -- what is read ---------------------------------------------------------------------------

async def day_figures(runtime: Runtime, day: date, *, margin: bool) -> dict[str, Any]:
    """The day's totals, the same weekday a year before (52 weeks), its rows by associate,
    category and metal, and the Z reports closed on it:
    `{day, currency, margin, totals, before: {from, to, totals}, by: {group: rows},
    closures: [{z_no, from (ts or None: the books' start), to (ts), totals}]}`."""
    store = runtime.store
    sales = SalesReport.of(store)
    out = await sales.report(Asked(day, day, DAY_GROUPS[0], True), margin=margin)
    by = {DAY_GROUPS[0]: out["rows"]}
    for group in DAY_GROUPS[1:]:
        by[group] = (await sales.report(Asked(day, day, group, False), margin=margin))["rows"]
    return {"day": day.isoformat(), "currency": out["currency"], "margin": out["margin"],
            "totals": out["totals"], "before": out["compare"], "by": by,
            "closures": await closed_on(store, day)}


async def closed_on(store: Store, day: date) -> list[dict[str, Any]]:
    """The Z reports closed on the store's `day`, oldest first, each with the moment its
    figures begin (the closure before it; None: the books' start). Read until a closure
    before the day is in hand (or all are), so the first one's predecessor is known."""
    zone = ZoneInfo(store.config.timezone)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    limit = _CLOSURES_READ
    while True:  # the latest first: read further back until one closed before the day
        rows = await store.closures.list(limit)
        if len(rows) < limit or _moment(rows[-1]["ts"]) < start:
            break
        limit *= 4
    rows.reverse()
    out = []
    for i, row in enumerate(rows):
        if start <= _moment(row["ts"]) < end:
            out.append({"z_no": row["z_no"], "from": rows[i - 1]["ts"] if i else None,
                        "to": row["ts"], "totals": row["report"]})
    return out


def _moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


async def month_figures(runtime: Runtime, first: date, *, margin: bool) -> dict[str, Any]:
    """The month (to today, for this one) against the same weeks a year before, net sales
    by day, its rows by category, designer and associate, the stock held now, and the
    workshop (None when the workshop is not running):
    `{month, from, to, currency, margin, totals, before: {from, to, totals}, days: rows,
    by: {group: rows}, stock: stock_report(...), workshop}`."""
    store = runtime.store
    sales = SalesReport.of(store)
    last = min(first.replace(day=monthrange(first.year, first.month)[1]), sales.today())
    out = await sales.report(Asked(first, last, "day", True), margin=margin)
    by = {group: (await sales.report(Asked(first, last, group, False), margin=margin))["rows"]
          for group in MONTH_GROUPS}
    currency = store.config.currency
    held = await store.ledger.read(lambda tx: stock_report(tx, store.hq, currency, "category",
                                                           cost=margin))
    return {"month": first.isoformat()[:7], "from": out["from"], "to": out["to"],
            "currency": out["currency"], "margin": out["margin"], "totals": out["totals"],
            "before": out["compare"], "days": out["rows"], "by": by, "stock": held,
            "workshop": await runtime.jobs.figures() if runtime.jobs is not None else None}


# -- on paper -------------------------------------------------------------------------------

def day_document(words: Words, store_name: str, figures: dict[str, Any],
                 names: dict[str, str]) -> Document:
    currency = figures["currency"]
    doc = Document(words._("Day report"))
    doc.add("title", store_name)
    doc.add("text", words._("Day report: {day}").format(day=words.day(figures["day"], "full")),
            bold=True)
    doc.add("small", words._("Printed {when}").format(when=words.when(datetime.now(UTC))))
    doc.add("heading", words._("The day"))
    _totals(doc, words, figures["totals"], currency)
    before = figures["before"]
    doc.add("heading", words._("The same weekday last year: {day}").format(
        day=words.day(before["from"], "full")))
    _totals(doc, words, before["totals"], currency)
    _change(doc, words, figures["totals"], before["totals"])
    for group in DAY_GROUPS:
        _rows(doc, words, group, figures["by"][group], currency, names)
    _closures(doc, words, figures, names)
    return doc


def month_document(words: Words, store_name: str, figures: dict[str, Any],
                   names: dict[str, str]) -> Document:
    currency = figures["currency"]
    month = label(words, "month", figures["month"], names)
    doc = Document(words._("Month report"))
    doc.add("title", store_name)
    doc.add("text", words._("Month report: {month}").format(month=month), bold=True)
    doc.add("small", words._("From {first} to {last}").format(
        first=words.day(figures["from"]), last=words.day(figures["to"])))
    doc.add("small", words._("Printed {when}").format(when=words.when(datetime.now(UTC))))
    doc.add("heading", words._("The month"))
    _totals(doc, words, figures["totals"], currency)
    before = figures["before"]
    doc.add("heading", words._("The same weeks last year: from {first} to {last}").format(
        first=words.day(before["from"]), last=words.day(before["to"])))
    _totals(doc, words, before["totals"], currency)
    _change(doc, words, figures["totals"], before["totals"])
    doc.add("heading", words._("Net sales by day"))
    for row in figures["days"]:
        doc.add("pair", words.day(row["key"], "full"), words.money(row["net"], currency))
        if row["sales"] or row["refunds"]:
            doc.add("small", _line(words, row, currency))
    for group in MONTH_GROUPS:
        _rows(doc, words, group, figures["by"][group], currency, names)
    _stock(doc, words, figures["stock"], figures["to"])
    if figures["workshop"] is not None:
        _workshop(doc, words, figures["workshop"])
    return doc


def _shown(words: Words, name: str, value: int, currency: str) -> str:
    return words.number(value) if name in COUNTS else words.money(value, currency)


def _totals(doc: Document, words: Words, totals: dict[str, Any], currency: str) -> None:
    for name, text in FIGURES:
        if name in totals:  # cost and margin are not in a read for who may not see them
            doc.add("pair", words._(text), _shown(words, name, totals[name], currency),
                    bold=name == "net")
    if totals.get("margin_bp") is not None:
        doc.add("pair", words._("Margin rate"), words.percent(totals["margin_bp"]))


def _change(doc: Document, words: Words, now: dict[str, Any], before: dict[str, Any]) -> None:
    if before["net"] > 0:
        change = (now["net"] - before["net"]) * 10_000 // before["net"]
        shown = ("+" if change > 0 else "") + words.percent(change)
        doc.add("pair", words._("Net sales against a year before"), shown, bold=True)
    else:
        doc.add("small", words._("No net sales a year before to compare with."))


def _line(words: Words, row: dict[str, Any], currency: str) -> str:
    """A row's other figures on one small line under its net sales."""
    return " · ".join(f"{words._(text)} {_shown(words, name, row[name], currency)}"
                      for name, text in FIGURES[1:] if name in row)


def _rows(doc: Document, words: Words, group: str, rows: list[dict[str, Any]],
          currency: str, names: dict[str, str]) -> None:
    doc.add("heading", words._(GROUP_WORDS[group]))
    if not rows:
        doc.add("small", words._("No sales."))
    for row in rows:
        doc.add("pair", label(words, group, row["key"], names), words.money(row["net"], currency))
        doc.add("small", _line(words, row, currency))


# The Z report's figures, in the order of the till's own: the names of `day_totals`.
Z_FIGURES = (("sales", N_("Sales"), False), ("gross", N_("Gross sales"), True),
             ("discounts", N_("Discounts"), True), ("tax", N_("Tax"), True),
             ("sales_total", N_("Sales total"), True), ("refunds", N_("Returns and voids"),
                                                          False),
             ("refund_total", N_("Refunded"), True), ("net", N_("Net sales"), True))
# What the day's report and the Z reports both count: (the report's name, the Z's name).
AGREE = (("sales", "sales"), ("discounts", "discounts"), ("refunds", "refund_total"),
         ("net", "net"))


def _closures(doc: Document, words: Words, figures: dict[str, Any],
              names: dict[str, str]) -> None:
    currency = figures["currency"]
    doc.add("heading", words._("Z reports"))
    closures = figures["closures"]
    if not closures:
        doc.add("text", words._("This day was not closed: there is no Z report of it."))
        return
    for z in closures:
        t = z["totals"]
        doc.add("pair", words._("Z report no. {number}").format(number=z["z_no"]),
                words.when(z["to"]), bold=True)
        if z["from"]:
            doc.add("small", words._("Its figures run from {first} to {last}.").format(
                first=words.when(z["from"]), last=words.when(z["to"])))
        else:
            doc.add("small", words._("Its figures run from the books' start to {last}.")
                    .format(last=words.when(z["to"])))
        for name, text, money in Z_FIGURES:
            value = t.get(name, 0)
            doc.add("pair", words._(text), words.money(value, currency) if money
                    else words.number(value), bold=name == "net")
        for tender, amount in sorted(t.get("tenders", {}).items()):
            doc.add("pair", words._("Taken in {tender}").format(
                tender=words.term("tender", tender).lower()), words.money(amount, currency))
        for staff_id, did in sorted(t.get("staff", {}).items()):
            doc.add("small", words._("{associate}: {sales}, {total}").format(
                associate=words.actor(staff_id, names),
                sales=words.ngettext("%(n)s sale", "%(n)s sales", did["sales"])
                % {"n": words.number(did["sales"])},
                total=words.money(did["total"], currency)))
    day = figures["totals"]
    if all(day[mine] == sum(z["totals"].get(theirs, 0) for z in closures)
           for mine, theirs in AGREE):
        doc.add("text", words._("The Z reports agree with the day's figures above."))
    else:
        doc.add("text", words._("The Z reports cover hours outside this day, so their"
                                " figures differ from the day's above."))


def _stock(doc: Document, words: Words, held: dict[str, Any], last: str) -> None:
    """The stock as it stands now: the books keep what is held, not what was held on a
    past day, so a past month's paper says so."""
    now = held["as_of"]
    doc.add("heading", words._("Stock held on {day}").format(day=words.day(now)))
    t, currency = held["totals"], held["currency"]
    doc.add("pair", words._("Pieces"), words.number(t["pieces"]), bold=True)
    doc.add("pair", words._("At retail"), words.money(t["retail"], currency))
    doc.add("pair", words._("At today's metal value"), words.money(t["metal_value"], currency))
    if "cost" in t:
        doc.add("pair", words._("At cost"), words.money(t["cost"], currency))
    if t["unpriced"]:
        doc.add("small", words.ngettext(
            "%(n)s piece has no metal rate from HQ: its metal is not valued.",
            "%(n)s pieces have no metal rate from HQ: their metal is not valued.",
            t["unpriced"]) % {"n": words.number(t["unpriced"])})
    for name, _, _ in AGES:
        doc.add("pair", words._("Waiting {age}").format(age=words._(AGE_WORDS[name]).lower()),
                words.number(t["ages"][name]["pieces"]))
    if last < now[:10]:
        doc.add("small", words._("The stock as it stands today: the books keep what is held,"
                                 " not what was held at the month's end."))


def _workshop(doc: Document, words: Words, jobs: dict[str, Any]) -> None:
    doc.add("heading", words._("The workshop"))
    doc.add("pair", words._("Open jobs"), words.number(jobs["open_jobs"]), bold=True)
    doc.add("pair", words._("Overdue"), words.number(jobs["overdue"]))
    for row in jobs["open"]:
        doc.add("pair", f"{words.term('job_kind', row['kind'])}:"
                        f" {words.term('job_stage', row['stage'])}", words.number(row["jobs"]))
        if row["value"]:
            doc.add("small", words._("Worth {amount}").format(
                amount=words.money(row["value"], row["currency"])))
    doc.add("pair", words._("Collected in the last {days} days").format(
        days=words.number(jobs["since_days"])), words.number(jobs["collected"]))
    if jobs["turnaround_days"] is not None:
        tenths = round(jobs["turnaround_days"] * 10)
        doc.add("pair", words._("Average turnaround"), words._("{days} days").format(
            days=words.decimal(tenths, 1)))
    for unit, amount in sorted(jobs["deposits_held"].items()):
        doc.add("pair", words._("Deposits held"), words.money(amount, unit))
