"""A client's own data, exported at her request: every fact the store keeps of her, as a
readable PDF and as JSON, each encrypted with a passphrase she is given (the PDF opens in any
reader with it; the JSON is an age file). Personal data leaves the hub only encrypted, and
each export is a `client.exported` entry (who, when, which format; nothing of her in it;
projected by `hub.clienteling.model`).

Other parts add what they know of her (wish lists, appointments...) as `sections`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pyrage

from hub.core import fields
from hub.core.clients import display_name
from hub.core.errors import Invalid, Refused
from hub.documents import Document, pdf_password_ok, render_pdf
from hub.store import Store
from hub.words import Words

FORMATS = ("pdf", "json")
MIN_PASSPHRASE = 10

# What another part knows of a client, for her export: a title (a gettext id) and rows.
Section = Callable[[str], Awaitable[tuple[str, list[dict[str, Any]]]]]


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    body: bytes


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return "" if value is None else str(value)


def export_document(data: dict[str, Any], words: Words, store_name: str) -> Document:
    """Her data as a readable document: the profile field by field, then each section."""
    _ = words._
    p = data["profile"]
    doc = Document(_("Your data at %(store)s") % {"store": store_name})
    doc.add("title", doc.title)
    doc.add("small", _("Exported on %(day)s") % {"day": words.when(data["exported_at"])})
    doc.add("heading", display_name(p))
    for key, value in p.items():
        if value not in (None, "", [], {}):
            doc.add("pair", words.field_label(key), _flat(value))
    doc.add("heading", _("Purchases"))
    for sale in data["purchases"]:
        pieces = ", ".join(line["description"] for line in sale.get("lines", []))
        doc.add("pair", f"{words.day(sale['ts'])} · {pieces}",
                words.money(sale["total"], sale["currency"]))
    if not data["purchases"]:
        doc.add("text", _("None."))
    for title, rows in data["sections"].items():
        doc.add("heading", _(title))
        for row in rows:
            doc.add("text", _flat(row))
        if not rows:
            doc.add("text", _("None."))
    return doc


def statement_document(name: str, purchases: list[dict[str, Any]],
                       pieces: dict[str, dict[str, Any]], words: Words, store_name: str,
                       currency: str) -> Document:
    """Her statement: each purchase with its pieces and their certificates, what was
    returned, and the total. (Repairs and orders join it when the workshop layer lands.)"""
    _ = words._
    doc = Document(_("Statement"))
    doc.add("title", f"{store_name} · {_('Statement')}", center=True)
    doc.add("heading", name)
    doc.add("small", _("On %(day)s") % {"day": words.day(datetime.now(UTC).isoformat())})
    total = 0
    for sale in purchases:
        doc.add("rule")
        doc.add("pair", f"{words.day(sale['ts'])} · {sale['sale_id']}",
                words.money(sale["total"], sale["currency"]), bold=True)
        for line in sale.get("lines", []):
            doc.add("text", line["description"])
            for stone in (pieces.get(line.get("item_id") or "") or {}).get("stones", []):
                if stone.get("certificate"):
                    doc.add("small", _("Certificate %(lab)s %(number)s") % {
                        "lab": stone.get("lab") or "", "number": stone["certificate"]})
        if sale.get("status") == "voided":  # cancelled at the counter: it counts for nothing
            doc.add("small", words.term("sale_status", "voided"))
            continue
        total += sale["total"]
        for back in sale.get("returns", []):
            if back["kind"] == "return":
                doc.add("pair", _("Returned on %(day)s") % {"day": words.day(back["ts"])},
                        words.money(-back["refund"], sale["currency"]))
                total -= back["refund"]
    if not purchases:
        doc.add("text", _("No purchase yet."))
    doc.add("rule")
    doc.add("pair", _("Total"), words.money(total, currency), bold=True)
    return doc


class Privacy:
    """Exports of a client's own data."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sections: dict[str, Section] = {}

    async def gather(self, client_id: str) -> dict[str, Any]:
        client = await self.store.clients.get(client_id)
        if client["profile"] is None:
            raise Refused("client_erased", "this client was erased: there is nothing of hers"
                          " left to export")
        cid = client["client_id"]
        purchases = [await self.store.sales.get(s["sale_id"])
                     for s in await self.store.sales.for_client(cid, 1000)]
        sections = {}
        for title, section in self.sections.items():
            name, rows = await section(cid)
            sections[name or title] = rows
        return {"client_id": cid, "store_id": self.store.config.store_id,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "profile": client["profile"], "purchases": purchases, "sections": sections}

    async def export(self, client_id: Any, fmt: Any, passphrase: Any, *,
                     actor: str) -> Export:
        """Her data in `fmt` (pdf or json), encrypted with `passphrase`; the export is
        journaled before the file is handed over."""
        fmt = fields.choice(fmt, "format", FORMATS, required=True)
        if not isinstance(passphrase, str) or len(passphrase.strip()) < MIN_PASSPHRASE:
            raise Invalid("the passphrase needs at least {min} characters: she will need it"
                          " to open the file", "passphrase", min=MIN_PASSPHRASE)
        if fmt == "pdf" and not await pdf_password_ok(passphrase):
            raise Invalid("a PDF cannot be locked with this passphrase: leave out control"
                          " and private-use characters, and do not mix right-to-left"
                          " with left-to-right letters", "passphrase")
        client_id = fields.text(client_id, "client_id", required=True, max_len=40)
        data = await self.gather(client_id or "")
        cid = data["client_id"]
        if fmt == "pdf":
            doc = export_document(data, self.store.words, self.store.config.store_name)
            body = await render_pdf(doc, passphrase)
            out = Export(f"client-{cid}.pdf", "application/pdf", body)
        else:
            plain = orjson.dumps(data, option=orjson.OPT_INDENT_2)
            # age's scrypt work factor is the point of a passphrase: off the event loop.
            body = await asyncio.to_thread(pyrage.passphrase.encrypt, plain, passphrase)
            out = Export(f"client-{cid}.json.age", "application/octet-stream", body)
        await self.store.ledger.transact(lambda tx: tx.append(
            "client.exported", f"client:{cid}", {"client_id": cid, "format": fmt},
            actor=actor))
        return out

    async def statement(self, client_id: str) -> Document:
        data = await self.gather(client_id)
        pieces = {}
        for sale in data["purchases"]:
            for line in sale.get("lines", []):
                if line.get("item_id") and line["item_id"] not in pieces:
                    pieces[line["item_id"]] = await self.store.items.get(line["item_id"])
        return statement_document(display_name(data["profile"]), data["purchases"], pieces,
                                  self.store.words, self.store.config.store_name,
                                  self.store.config.currency)

    async def exports_of(self, client_id: str) -> list[dict[str, Any]]:
        rows = await self.store.ledger.fetch(
            "SELECT * FROM client_exports WHERE client_id = ? ORDER BY seq DESC LIMIT 50",
            (client_id,))
        return [dict(r) for r in rows]
