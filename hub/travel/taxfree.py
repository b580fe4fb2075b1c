"""Tax-free forms (VAT refund) for travellers (area `tax_free`).

A form is made for a completed sale to a client, of at least `[tax_free] minimum`, for a
traveller who lives outside the store's tax area (`[tax_free] home_area`: the EU's members
for a store in the EU). One form per sale: a second is refused, and a form once cancelled
is not made again.

- **Two entries, one transaction** (as appraisals): `tax_free.traveller` holds what the
  paper says of her (passport or identity card number, country of residence, nationality,
  address abroad) sealed under her key (`client:<id>`); `tax_free.issued` (store key) keeps
  what is not hers: the number, the sale, each line with its VAT, the totals and the
  refundable VAT, and names the traveller entry's seq. Erasing her leaves the number and
  the amounts, and her details can never be read again.
- **The number** (TF-000001) is this area's counter plus one, bumped by the projection of
  `tax_free.issued`: without gaps, and a rebuild gives each form the number it was printed
  with.
- **Cancelled, never deleted**: a void or a return of the sale (this module is a
  `SaleExtension`) appends `tax_free.cancelled` in the same transaction; the form keeps its
  number and prints as cancelled.
- **Refundable VAT** is the VAT of the form's lines (the whole of it: an operator's fee,
  when one refunds her, is the operator's business).
- **Reprints** lay the A4 PDF out again from the entries; reading is not journaled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from babel.core import get_global

from hub.config import Config, ConfigError
from hub.core import fields
from hub.core.clients import display_name
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.documents import Document, render_pdf
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.money import Money, minor_units
from hub.words import N_, Words

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store

SCHEMA = Schema("tax_free", (Migration(1, """
CREATE TABLE tax_free_forms (
    number       TEXT PRIMARY KEY,          -- TF-000001 as printed
    n            INTEGER NOT NULL UNIQUE,   -- 1, 2, 3... without gaps
    sale_id      TEXT NOT NULL UNIQUE,      -- one form per sale
    client_id    TEXT NOT NULL,             -- opaque: her details are in the sealed entry
    currency     TEXT NOT NULL,
    total        INTEGER NOT NULL,          -- the lines' total, VAT included
    vat          INTEGER NOT NULL,
    refundable   INTEGER NOT NULL,
    status       TEXT NOT NULL,             -- issued | cancelled
    traveller_seq INTEGER NOT NULL,         -- the sealed entry with her details
    seq          INTEGER NOT NULL,          -- the tax_free.issued entry
    ts           TEXT NOT NULL,
    issued_by    TEXT NOT NULL,
    cancelled_seq INTEGER,
    cancelled_by TEXT                       -- the void or return that cancelled it
);
CREATE INDEX tax_free_client ON tax_free_forms(client_id, n);
CREATE TABLE tax_free_counter (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_no INTEGER NOT NULL
);
CREATE TABLE tax_free_sales (              -- sales to a client, as far as a form cares
    sale_id   TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    status    TEXT NOT NULL                 -- completed | voided | returned
);
""", rebuild=True),),  # a store that sold before: its sales to clients, from the journal
                projections=("tax_free_forms", "tax_free_counter", "tax_free_sales"))

ISSUE = "taxfree.issue"
VIEW = "clients.view"  # the forms carry her passport number: read as the client book is
PERMISSIONS = {ISSUE: N_("Make tax-free forms for travellers")}
GRANTS = {"associate": (ISSUE,), "manager": (ISSUE,)}
PREFIX = "TF-"
NUMBER = re.compile(r"^TF-[0-9]{6,12}$")
DOCUMENTS = ("passport", "id_card")
_DOC_NUMBER = re.compile(r"^[A-Z0-9<-]{5,20}$")
# Not countries: the EU, the eurozone, the UN, unknown and private-use codes.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "XK"})
EU = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
      "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
LISTED = 100


@dataclass(frozen=True)
class TaxFreeSettings:
    """`[tax_free]`: the least a sale is (VAT included, minor units), the store's country
    and the countries whose residents cannot claim (its tax area)."""

    minimum: int
    country: str
    home_area: tuple[str, ...]


def countries(words: Words) -> dict[str, str]:
    """ISO 3166 codes and their names in the store's language, by name."""
    names = {code: name for code, name in words.locale.territories.items()
             if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES}
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


def tax_free_settings(config: Config, words: Words) -> TaxFreeSettings:
    section = config.section("tax_free")
    known = countries(words)
    # Where the store is: its time zone says it (Europe/Paris: FR), else its locale.
    territory = get_global("zone_territories").get(config.timezone) or words.locale.territory
    country = section.text("country", territory or "").upper()
    if country not in known:
        raise ConfigError(f"tax_free.country: “{country}” is no ISO 3166 country code"
                          " (the store's country, e.g. FR)")
    area = tuple(c.upper() for c in section.texts("home_area", EU if country in EU
                                                  else (country,)))
    for code in area:
        if code not in known:
            raise ConfigError(f"tax_free.home_area: “{code}” is no ISO 3166 country code")
    # In the currency's major unit, as a person writes it (100.01 EUR in France: 101).
    minimum = section.whole("minimum", 100, 0, 10**9) * 10 ** minor_units(config.currency)
    section.done()
    return TaxFreeSettings(minimum, country, area if country in area else (*area, country))


def form_number(value: Any, key: str = "number") -> str:
    text = fields.text(value, key, required=True, max_len=20)
    assert text is not None
    text = text.upper()
    if not NUMBER.fullmatch(text):
        raise Invalid("a tax-free form is numbered like TF-000001", key)
    return text


# -- projections ------------------------------------------------------------------------------

def _on_sale(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    if p.get("client_id"):
        tx.execute("INSERT INTO tax_free_sales (sale_id, client_id, seq, status)"
                   " VALUES (?,?,?,'completed')", (p["sale_id"], p["client_id"], entry.seq))


def _on_back(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE tax_free_sales SET status = ? WHERE sale_id = ?",
               ("voided" if entry.kind == "sale.voided" else "returned", p["sale_id"]))


def _on_issued(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("INSERT INTO tax_free_forms (number, n, sale_id, client_id, currency, total,"
               " vat, refundable, status, traveller_seq, seq, ts, issued_by)"
               " VALUES (?,?,?,?,?,?,?,?,'issued',?,?,?,?)",
               (p["number"], p["n"], p["sale_id"], p["client_id"], p["currency"], p["total"],
                p["vat"], p["refundable"], p["traveller_seq"], entry.seq, entry.ts,
                entry.actor))
    tx.execute("INSERT INTO tax_free_counter (id, last_no) VALUES (1, ?)"
               " ON CONFLICT(id) DO UPDATE SET last_no = excluded.last_no", (p["n"],))


def _on_cancelled(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute("UPDATE tax_free_forms SET status = 'cancelled', cancelled_seq = ?,"
               " cancelled_by = ? WHERE number = ?", (entry.seq, p["by"], p["number"]))


PROJECTIONS = {
    "sale.completed": _on_sale,
    "sale.voided": _on_back,
    "sale.returned": _on_back,
    "tax_free.issued": _on_issued,
    "tax_free.cancelled": _on_cancelled,
}


def closure_section(tx: Any, from_seq: int, through_seq: int) -> dict[str, Any]:
    """The Z report's tax-free forms: made and cancelled that day, and their refundable VAT."""
    made = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(refundable), 0) AS refundable,"
                  " MIN(number) AS first, MAX(number) AS last FROM tax_free_forms"
                  " WHERE seq > ? AND seq <= ?", (from_seq, through_seq))
    gone = tx.one("SELECT COUNT(*) AS n, COALESCE(SUM(refundable), 0) AS refundable FROM"
                  " tax_free_forms WHERE cancelled_seq > ? AND cancelled_seq <= ?",
                  (from_seq, through_seq))
    return {"issued": made["n"], "refundable": made["refundable"], "first": made["first"],
            "last": made["last"], "cancelled": gone["n"],
            "cancelled_refundable": gone["refundable"]}


# -- the paper --------------------------------------------------------------------------------

def form_document(form: dict[str, Any], words: Words, store_name: str,
                  country: str) -> Document:
    """The A4 form: the store, the traveller, the goods with their VAT, what she is refunded,
    her declaration and the customs' stamp."""
    _ = words._
    names = countries(words)
    cur = form["currency"]
    doc = Document(title=words.render("Tax-free form {number}", {"number": form["number"]}))
    doc.add("title", _("Tax-free form (VAT refund)"), center=True, bold=True)
    doc.add("text", form["number"], center=True, bold=True)
    doc.add("barcode", form["number"])
    if form["status"] == "cancelled":
        doc.add("heading", _("CANCELLED: the sale was voided or returned"), center=True)
    doc.add("rule")
    doc.add("heading", _("Retailer"))
    doc.add("pair", _("Store"), store_name)
    doc.add("pair", _("Country"), names.get(country, country))
    doc.add("pair", _("Sale"), form["sale_id"])
    doc.add("pair", _("Date"), words.when(form["ts"]))
    doc.add("heading", _("Traveller"))
    t = form.get("traveller")
    if t is None:
        doc.add("text", _("Her details were erased at her request."))
    else:
        if form.get("client_name"):
            doc.add("pair", _("Name"), form["client_name"])
        doc.add("pair", words.term("travel_document", t["document_type"]), t["document_number"])
        doc.add("pair", _("Nationality"), names.get(t["nationality"], t["nationality"]))
        doc.add("pair", _("Country of residence"), names.get(t["residence"], t["residence"]))
        doc.add("pair", _("Address abroad"), t["address"].splitlines()[0])
        for line in t["address"].splitlines()[1:]:
            doc.add("pair", "", line)
    doc.add("heading", _("Goods"))
    for line in form["lines"]:
        qty = f"{line['quantity']} × " if line["quantity"] > 1 else ""
        doc.add("pair", f"{qty}{line['description']}", words.money(line["total"], cur))
        ref = line.get("item_id") or line.get("sku") or ""
        doc.add("small", words.render("{ref} · VAT {rate}: {vat}", {
            "ref": ref, "rate": words.percent(line["rate_bp"]),
            "vat": words.money(line["tax"], cur)}))
    doc.add("rule")
    doc.add("pair", _("Total, VAT included"), words.money(form["total"], cur), bold=True)
    doc.add("pair", _("VAT"), words.money(form["vat"], cur))
    doc.add("pair", _("Refundable VAT"), words.money(form["refundable"], cur), bold=True)
    doc.add("blank")
    doc.add("small", _("I declare that I live outside the tax area of the retailer's country,"
                       " that the goods above are for my own use and will leave that area in"
                       " my personal luggage within three months of the month of purchase."))
    doc.add("prompt", _("Traveller's signature"))
    doc.add("prompt", _("Customs stamp and date"))
    return doc


# -- the service ------------------------------------------------------------------------------

class TaxFree:
    """Makes, cancels and reads tax-free forms; a sale extension for voids and returns."""

    tenders: frozenset[str] = frozenset()

    def __init__(self, store: Store, settings: TaxFreeSettings | None = None, *,
                 now: Callable[[], datetime] | None = None) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.settings = settings or tax_free_settings(store.config, store.words)
        self.rates = {t.code: t.rate_bp for t in store.config.tax_rates}
        self.now = now or (lambda: datetime.now(UTC))

    def money(self, amount: int) -> Money:
        return Money(amount, self.store.config.currency)

    def check_traveller(self, raw: Any) -> dict[str, Any]:
        """Her details as the paper needs them, every problem at once."""
        f = Form(raw, allowed=("document_type", "document_number", "residence", "nationality",
                               "address"))
        kind = f.choice("document_type", DOCUMENTS, lower=False,
                        vocabulary="travel_document") or "passport"
        number = f.text("document_number", required=True, max_len=40)
        if number is not None:
            number = re.sub(r"[\s.]", "", number).upper()
            if not _DOC_NUMBER.fullmatch(number):
                f.problem("document_number", "a passport or identity card number is 5 to 20"
                                             " letters and digits")
        known = countries(self.words)
        picked = {}
        for key in ("residence", "nationality"):
            code = f.text(key, required=True, max_len=2)
            if code is not None and code.upper() not in known:
                f.problem(key, "choose a country from the list")
            picked[key] = (code or "").upper()
        address = f.text("address", required=True, max_len=400, multiline=True)
        if picked["residence"] in self.settings.home_area:
            f.problem("residence", "a resident of {country} pays the VAT: only travellers"
                                   " living outside the store's tax area are refunded",
                      country=known.get(picked["residence"], picked["residence"]))
        f.done()
        lines = [ln.strip() for ln in (address or "").splitlines() if ln.strip()][:6]
        return {"document_type": kind, "document_number": number, **picked,
                "address": "\n".join(lines)}

    async def issue(self, sale_id: Any, raw: Any, *, actor: str) -> dict[str, Any]:
        """A form for a completed sale to a client: her details sealed under her key, the
        next number, the lines with their VAT."""
        sale_id = fields.identifier(sale_id, "sale_id", what="a sale number")
        traveller = self.check_traveller(raw)
        sale = await self.store.sales.get(sale_id)  # a clear 404 for a sale not here
        lines = [{"line_no": ln["line_no"], "item_id": ln.get("item_id"), "sku": ln.get("sku"),
                  "description": ln["description"], "quantity": ln["quantity"],
                  "total": ln["total"], "tax": ln["tax"], "tax_code": ln["tax_code"],
                  "rate_bp": self.rates.get(ln["tax_code"], 0)}
                 for ln in sale["lines"] if ln["tax"] > 0]
        total = sum(ln["total"] for ln in lines)
        vat = sum(ln["tax"] for ln in lines)

        def command(tx: Tx) -> Entry:
            row = tx.one("SELECT * FROM tax_free_sales WHERE sale_id = ?", (sale_id,))
            if row is None:
                raise Refused("no_client", "sale {sale_id} names no client: a tax-free form"
                              " is made for the traveller who bought", sale_id=sale_id)
            if row["status"] != "completed" or row["seq"] != sale["seq"]:
                raise Refused("sale_not_completed", "sale {sale_id} was voided or returned:"
                              " no tax-free form can be made", sale_id=sale_id)
            client = tx.one("SELECT status FROM clients WHERE client_id = ?",
                            (row["client_id"],))
            if client is None or client["status"] != "active":
                raise Refused("client_erased", "the client of sale {sale_id} was erased or"
                              " merged: no form can be made for her", sale_id=sale_id)
            done = tx.one("SELECT number FROM tax_free_forms WHERE sale_id = ?", (sale_id,))
            if done is not None:
                raise Refused("form_exists", "sale {sale_id} already has tax-free form"
                              " {number}", sale_id=sale_id, number=done["number"])
            if total < self.settings.minimum:
                raise Refused("below_minimum", "a tax-free form is made from {minimum}; this"
                              " sale's goods are {total}", minimum=self.money(
                                  self.settings.minimum), total=self.money(total))
            if vat <= 0:
                raise Refused("no_vat", "nothing on sale {sale_id} bears VAT", sale_id=sale_id)
            counter = tx.one("SELECT last_no FROM tax_free_counter WHERE id = 1")
            n = (counter["last_no"] if counter else 0) + 1
            number = f"{PREFIX}{n:06d}"
            sealed = tx.append("tax_free.traveller", f"client:{row['client_id']}",
                               {"number": number, "sale_id": sale_id, **traveller},
                               actor=actor, key_id=f"client:{row['client_id']}")
            return tx.append("tax_free.issued", f"sale:{sale_id}", {
                "number": number, "n": n, "sale_id": sale_id, "client_id": row["client_id"],
                "currency": sale["currency"], "lines": lines, "total": total, "vat": vat,
                "refundable": vat, "traveller_seq": sealed.seq}, actor=actor)

        entry = await self.ledger.transact(command)
        payload = self.ledger.decrypt(entry) or {}
        return await self.get(payload["number"])

    # -- a sale extension: a void or a return cancels the form ---------------------------

    def _cancel_in(self, tx: Tx, sale_id: str, back: dict[str, Any], actor: str) -> None:
        row = tx.one("SELECT number, status FROM tax_free_forms WHERE sale_id = ?", (sale_id,))
        if row is None or row["status"] != "issued":
            return
        tx.append("tax_free.cancelled", f"sale:{sale_id}",
                  {"number": row["number"], "sale_id": sale_id, "by": back["return_id"]},
                  actor=actor)

    def sold_in(self, tx: Tx, sale: dict[str, Any], actor: str) -> None:
        return None

    def returned_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                    actor: str) -> None:
        self._cancel_in(tx, sale["sale_id"], back, actor)

    def voided_in(self, tx: Tx, sale: dict[str, Any], back: dict[str, Any],
                  actor: str) -> None:
        self._cancel_in(tx, sale["sale_id"], back, actor)

    # -- reads ----------------------------------------------------------------------------

    async def _shape(self, row: dict[str, Any], *, details: bool = True) -> dict[str, Any]:
        issued = await self.ledger.payload_at(row["seq"]) or {}
        out = {**row, "lines": issued.get("lines", []), "traveller": None, "erased": False,
               "client_name": None}
        if details:
            traveller = await self.ledger.payload_at(row["traveller_seq"])
            out["erased"] = traveller is None
            if traveller is not None:
                out["traveller"] = {k: traveller[k] for k in (
                    "document_type", "document_number", "residence", "nationality", "address")}
                client = await self.store.clients.get(row["client_id"])
                if client.get("profile"):
                    out["client_name"] = display_name(client["profile"])
        return out

    async def get(self, number: Any) -> dict[str, Any]:
        """One form, with her details while she is in the books."""
        num = form_number(number)
        row = await self.ledger.fetch_one("SELECT * FROM tax_free_forms WHERE number = ?",
                                          (num,))
        if row is None:
            raise NotFound("no tax-free form {number}", number=num)
        return await self._shape(dict(row))

    async def of_sale(self, sale_id: Any) -> dict[str, Any] | None:
        sid = fields.identifier(sale_id, "sale_id", what="a sale number")
        row = await self.ledger.fetch_one("SELECT number FROM tax_free_forms WHERE sale_id = ?",
                                          (sid,))
        return None if row is None else await self.get(row["number"])

    async def of_client(self, client_id: Any) -> list[dict[str, Any]]:
        """Her forms, newest first (numbers and amounts: no details)."""
        cid = fields.identifier(client_id, "client_id", what="a client id")
        rows = await self.ledger.fetch("SELECT * FROM tax_free_forms WHERE client_id = ?"
                                       " ORDER BY n DESC LIMIT ?", (cid, LISTED))
        return [await self._shape(dict(r), details=False) for r in rows]

    async def recent(self) -> list[dict[str, Any]]:
        rows = await self.ledger.fetch("SELECT * FROM tax_free_forms ORDER BY n DESC LIMIT ?",
                                       (LISTED,))
        return [await self._shape(dict(r), details=False) for r in rows]

    async def eligible(self, sale_id: Any) -> dict[str, Any]:
        """Whether a sale may have a form, and why not, before the form is filled in."""
        sale = await self.store.sales.get(fields.identifier(sale_id, "sale_id",
                                                            what="a sale number"))
        goods = sum(ln["total"] for ln in sale["lines"] if ln["tax"] > 0)
        why = None
        if not sale.get("client_id"):
            why = N_("This sale names no client: a tax-free form is made for the traveller"
                     " who bought.")
        elif sale["status"] != "completed":
            why = N_("This sale was voided or returned.")
        elif goods < self.settings.minimum:
            why = N_("A tax-free form is made from a purchase of {minimum}.")
        return {"sale": sale, "goods": goods, "why_not": why,
                "minimum": self.settings.minimum}

    async def document(self, number: Any) -> Document:
        form = await self.get(number)
        return form_document(form, self.words, self.store.config.store_name,
                             self.settings.country)

    async def pdf(self, number: Any) -> bytes:
        """The form on A4, laid out again from its entries (a reprint: not journaled)."""
        doc = await self.document(number)
        return await render_pdf(doc)
