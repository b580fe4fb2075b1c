"""The job's envelope: what travels with the piece through the workshop, and the copy the
client takes home. Both are documents (hub.documents), printed on the receipt printer, shown
on the screen or saved as a PDF; the envelope also comes as a small ZPL label for the tag
printer. Each carries a Code 128 of the job number, so scanning an envelope anywhere opens
the job.

- The **bench copy** (`envelope`) says what to do: the job number large, which envelope of
  how many, whose piece, what kind of job, what was left and what was asked for (each
  service with its detail: the size, the engraving's text and font), the weight and stones
  at intake, the declared value, the promised date, express or not, how to handle the
  estimate and who does the work. No price: the bench needs none.
- The **client copy** (`client_copy`) is her receipt for the piece: what she left, the
  services with their prices, the estimate terms, her deposit and the balance, the promised
  date, the store's terms and a line for her signature.

What the intake did not record (a weight, a stone count, a promised date) prints as a line
to fill in by hand. Pure functions: the job comes in as a dict (`Jobs` builds it), the
words are the store's; nothing here reads or writes anything. The copies carry her name and
the engraving's text: they are built in memory for the paper or the screen, never saved.
"""

from __future__ import annotations

from typing import Any

from hub.devices.zpl.driver import safe_text
from hub.documents import Document
from hub.words import Listing, Term, Words


def _money(words: Words, amount: int | None, currency: str | None) -> str:
    if amount is None:
        return ""
    if not currency:  # no currency given: the amount alone, still the store's digits
        return words.decimal(amount, 2)
    return words.money(amount, currency)


def _header(doc: Document, job: dict[str, Any], store_name: str) -> None:
    """The store, the job number large and its barcode: the top of every copy."""
    job_id = str(job.get("job_id") or "")
    doc.add("title", store_name, center=True, bold=True)
    if job_id:
        doc.add("title", job_id, center=True, bold=True)
        doc.add("barcode", job_id)


def _kind_and_dates(doc: Document, job: dict[str, Any], words: Words) -> None:
    if job.get("kind"):
        doc.add("text", words.term("job_kind", job["kind"]), center=True, bold=True)
    if job.get("express"):
        doc.add("text", words.field_label("express").upper(), center=True, bold=True)
    if job.get("promised"):
        doc.add("pair", words.field_label("promised"), words.day(job["promised"], "full"),
                bold=True)
    else:
        doc.add("prompt", words.field_label("promised"))


def _left(doc: Document, job: dict[str, Any], words: Words) -> None:
    """What was left: the description, weight and stones at intake (a line to fill in for
    what was not recorded), and the declared value when she gave one."""
    _ = words._
    doc.add("heading", _("What was left"))
    if job.get("description"):
        doc.add("text", job["description"])
    else:
        doc.add("prompt", words.field_label("description"))
    if job.get("weight_mg") is not None:
        doc.add("pair", _("Weight at intake"), words.grams(job["weight_mg"]))
    else:
        doc.add("prompt", _("Weight at intake"))
    if job.get("stone_count") is not None:
        doc.add("pair", words.field_label("stone_count"), words.number(job["stone_count"]))
    else:
        doc.add("prompt", words.field_label("stone_count"))
    if job.get("declared_value") is not None:
        doc.add("pair", words.field_label("declared_value"),
                _money(words, job["declared_value"], job.get("currency")))


def _service_text(service: dict[str, Any], words: Words) -> str:
    name = words.term("job_service", service.get("service") or "other")
    detail = service.get("detail")
    return f"{name} · {detail}" if detail else name


def _services(doc: Document, job: dict[str, Any], words: Words, *, prices: bool) -> None:
    doc.add("heading", words.field_label("services"))
    services = [s for s in job.get("services") or [] if s]
    if not services:
        doc.add("prompt", words.field_label("services"))
    for service in services:
        text = f"• {_service_text(service, words)}"
        if prices:
            doc.add("pair", text, _money(words, service.get("price"), job.get("currency")))
        else:
            doc.add("text", text, bold=True)
        if service.get("font"):
            doc.add("small", words.render("Font: {font}",
                                          {"font": Term("engraving_font", service["font"])}))


def _estimate(doc: Document, job: dict[str, Any], words: Words) -> None:
    if not job.get("estimate"):
        return
    doc.add("pair", words.field_label("estimate"), words.term("job_estimate", job["estimate"]))
    if job["estimate"] == "limit" and job.get("estimate_limit") is not None:
        doc.add("pair", words.field_label("estimate_limit"),
                _money(words, job["estimate_limit"], job.get("currency")), bold=True)


def _client(doc: Document, job: dict[str, Any], words: Words) -> None:
    if job.get("client_name"):
        doc.add("pair", words.field_label("client_id"), job["client_name"], bold=True)
    else:
        doc.add("prompt", words.field_label("client_id"))


def envelope(job: dict[str, Any], words: Words, *, store_name: str,
             of: tuple[int, int] = (1, 1)) -> Document:
    """The bench copy: everything the jeweler needs to do the work, and no price. `of` is
    (this envelope, how many) when one job's pieces travel in several envelopes."""
    _ = words._
    doc = Document(_("Workshop envelope"))
    _header(doc, job, store_name)
    doc.add("text", words.render("Envelope {n} of {count}", {"n": of[0], "count": of[1]}),
            center=True)
    _kind_and_dates(doc, job, words)
    doc.add("rule")
    _client(doc, job, words)
    _left(doc, job, words)
    _services(doc, job, words, prices=False)
    doc.add("rule")
    _estimate(doc, job, words)
    if job.get("assignee"):
        doc.add("pair", words.field_label("assignee"), job["assignee"])
    else:
        doc.add("prompt", words.field_label("assignee"))
    if job.get("vendor"):
        doc.add("pair", words.field_label("vendor"), job["vendor"])
    return doc


def client_copy(job: dict[str, Any], words: Words, *, store_name: str,
                terms: list[str]) -> Document:
    """What she takes home: the job number and its barcode (scanned at pick-up), what she
    left, the services and their prices, the estimate terms, her deposit and the balance,
    the promised date, the store's terms (`terms`, lines already in the store's words) and a
    line for her signature."""
    _ = words._
    currency = job.get("currency")
    doc = Document(_("Copy for the client"))
    _header(doc, job, store_name)
    doc.add("text", _("Copy for the client"), center=True)
    _kind_and_dates(doc, job, words)
    doc.add("rule")
    _client(doc, job, words)
    _left(doc, job, words)
    _services(doc, job, words, prices=True)
    doc.add("rule")
    if job.get("total") is not None:
        doc.add("pair", _("Total"), _money(words, job["total"], currency), bold=True)
    if job.get("deposit"):
        doc.add("pair", _("Deposit paid"), _money(words, job["deposit"], currency))
    if job.get("balance") is not None:
        doc.add("pair", _("Balance due"), _money(words, job["balance"], currency), bold=True)
    _estimate(doc, job, words)
    if terms:
        doc.add("rule")
        for line in terms:
            doc.add("small", line)
    doc.add("blank")
    doc.add("text", _("Bring this copy to collect your piece."), center=True)
    doc.add("blank")
    doc.add("prompt", words.field_label("signature"))
    return doc


# The label: 2.25 × 1.25 in at 203 dpi (457 × 254 dots), a common small label on the tag
# printers' 2-inch-plus rolls, stuck on the envelope.
_LABEL = """^XA
^CI28
^PW457
^LL254
^FO16,10^A0N,20,20^FB425,1,0,L^FD{store}^FS
^FO16,34^A0N,44,44^FD{job}^FS
^FO190,48^A0N,22,22^FB251,1,0,R^FD{of}^FS
^FO16,84^BY2^BCN,60,N,N,N^FD{job}^FS
^FO16,152^A0N,24,24^FB425,1,0,L^FD{client}^FS
^FO16,180^A0N,20,20^FB425,1,0,L^FD{promised}^FS
^FO16,204^A0N,18,18^FB425,2,0,L^FD{services}^FS
^XZ
"""


def envelope_zpl(job: dict[str, Any], words: Words, *, store_name: str,
                 of: tuple[int, int] = (1, 1)) -> bytes:
    """The envelope as a ZPL label: store, job number large, its Code 128 (`^BC`), which
    envelope of how many, the client's name, the promised date (and express) and the
    services in words. Text goes through the tag printer's own `safe_text`."""
    job_id = str(job.get("job_id") or "")
    promised = ""
    if job.get("promised"):
        promised = f"{words.field_label('promised')} {words.day(job['promised'])}"
    if job.get("express"):
        promised = " · ".join(x for x in (promised, words.field_label("express").upper()) if x)
    services = Listing(tuple(Term("job_service", s.get("service") or "other")
                             for s in job.get("services") or [] if s))
    fields = {
        "store": store_name,
        "job": job_id,
        "of": words.render("Envelope {n} of {count}", {"n": of[0], "count": of[1]}),
        "client": job.get("client_name") or "",
        "promised": promised,
        "services": words.value(services),
    }
    label = _LABEL.format(**{k: safe_text(str(v)) for k, v in fields.items()})
    if not job_id:  # a barcode of nothing would not scan: leave the field out
        label = label.replace("^FO16,84^BY2^BCN,60,N,N,N^FD^FS\n", "")
    return label.encode("utf-8")
