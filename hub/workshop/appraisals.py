"""Appraisals: a signed statement of what a piece is and what it is worth, for insurance (or
an estate, or a resale), numbered without gaps (AP-000001), journaled, and printed again from
the books at any time, word for word (area `appraisals`).

- **The subject** is a piece in the store's books (`item_id`: its description, metal,
  fineness, weight and stones read from the piece at that moment, perhaps for the client who
  bought it) or a client's own item (`client_id`, and the repair's `job_id` it came in with):
  its description, metal, weight and every stone with its grading and certificate typed in.
- **Two entries, one transaction**: `appraisal.details` holds what the paper says of the
  piece and of her (her name, the description, the stones, the photos' captions), sealed
  under her key when there is a client, else the store's; `appraisal.issued` (store key)
  keeps what is not hers (number, subject, value, appraiser, day, the photos' content hashes)
  and names the details' seq. Erasing her makes the details unreadable; the record, its
  value and the numbering stay, and a rebuild replays the same rows.
- **The number** is the counter of this area plus one, bumped by the projection of
  `appraisal.issued`, so a replay gives every appraisal the number it was printed with.
- **Reprints** read the entries again and lay out the same document; reading is not
  journaled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from hub.core import fields
from hub.core.clients import display_name
from hub.core.errors import Invalid, NotFound, Refused
from hub.core.fields import Form
from hub.core.items import CATEGORIES, COLOURS, METALS, group_stones, row_dict, validate_stones
from hub.core.projector import touch_item
from hub.documents import Document, render_pdf
from hub.ledger.journal import Entry
from hub.ledger.ledger import Tx
from hub.ledger.schema import Migration, Schema
from hub.words import N_, Words

if TYPE_CHECKING:  # the layer declares this area: no import of the store at load
    from hub.store import Store
    from hub.workshop.jobs import Jobs

ISSUE = "appraisals.issue"
VIEW = "clients.view"  # associates read appraisals as they read the client book
PERMISSIONS = {ISSUE: N_("Issue insurance appraisals")}
GRANTS = {"manager": (ISSUE,)}

SUBJECTS = ("piece", "client_item")
PURPOSES = ("insurance", "estate", "resale")
PREFIX = "AP-"
NUMBER = re.compile(r"^AP-[0-9]{6,12}$")
MAX_WEIGHT_MG = 10_000_000  # 10 kg: anything more is a typing mistake
MAX_PHOTOS = 12
MAX_PHOTO_BYTES = 50 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LISTED = 100  # appraisals per list
# What a client's item is described by; a piece in the books is described by its record.
ITEM_FIELDS = ("description", "category", "metal", "metal_colour", "fineness", "karat",
               "weight_mg", "designer", "stones")

# Per purpose: the document's title, what its value is, and what it says in law.
TITLES = {"insurance": N_("Insurance appraisal"), "estate": N_("Estate appraisal"),
          "resale": N_("Resale appraisal")}
VALUE_LABELS = {"insurance": N_("Replacement value"), "estate": N_("Fair market value"),
                "resale": N_("Resale value")}
TERMS = {
    "insurance": N_("This appraisal states the replacement value of the piece described, on"
                    " the date above: what it would cost to replace it with a new piece of"
                    " like kind and quality from a retailer of comparable standing. It is made"
                    " for insurance only; it is neither an offer to buy nor a price on"
                    " resale. Stones set in the piece were graded as mounted; a laboratory's"
                    " certificate states that laboratory's own grading."),
    "estate": N_("This appraisal states the fair market value of the piece described, on the"
                 " date above: the price at which it would pass between a willing buyer and a"
                 " willing seller, neither under compulsion. It is made for an estate or a"
                 " division of property; it is not an offer to buy. Stones set in the piece"
                 " were graded as mounted."),
    "resale": N_("This appraisal states what the piece described would likely fetch if sold"
                 " on the date above, in its present condition. It is not an offer to buy."
                 " Stones set in the piece were graded as mounted."),
}

SCHEMA = Schema("appraisals", (Migration(1, """
CREATE TABLE appraisals (
    appraisal_id TEXT PRIMARY KEY,          -- AP-000001: the number as printed
    number       INTEGER NOT NULL UNIQUE,   -- 1, 2, 3... without gaps
    subject      TEXT NOT NULL,             -- piece | client_item
    item_id      TEXT,                      -- the piece in the books
    client_id    TEXT,                      -- opaque: her name is in the sealed details only
    job_id       TEXT,                      -- the repair her item came in with
    purpose      TEXT NOT NULL,             -- insurance | estate | resale
    value        INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    appraiser    TEXT NOT NULL,             -- a staff id
    day          TEXT NOT NULL,             -- YYYY-MM-DD, the store's day it was issued
    details_seq  INTEGER NOT NULL,          -- the sealed entry with what the paper says
    seq          INTEGER NOT NULL,          -- the appraisal.issued entry
    ts           TEXT NOT NULL,
    issued_by    TEXT NOT NULL
);
CREATE INDEX appraisals_client ON appraisals(client_id, number);
CREATE INDEX appraisals_item ON appraisals(item_id, number);

CREATE TABLE appraisal_photos (
    appraisal_id TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    hash         TEXT NOT NULL,             -- SHA-256 of the attachment
    size         INTEGER NOT NULL,
    PRIMARY KEY (appraisal_id, pos)
);
CREATE INDEX appraisal_photos_hash ON appraisal_photos(hash);

CREATE TABLE appraisal_counter (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_no INTEGER NOT NULL
);
"""),), projections=("appraisals", "appraisal_photos", "appraisal_counter"))


# -- projections ----------------------------------------------------------------------------

def _on_issued(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None
    tx.execute(
        "INSERT INTO appraisals (appraisal_id, number, subject, item_id, client_id, job_id,"
        " purpose, value, currency, appraiser, day, details_seq, seq, ts, issued_by)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (p["appraisal_id"], p["number"], p["subject"], p.get("item_id"), p.get("client_id"),
         p.get("job_id"), p["purpose"], p["value"], p["currency"], p["appraiser"], p["day"],
         p["details_seq"], entry.seq, entry.ts, entry.actor))
    tx.conn.executemany(
        "INSERT INTO appraisal_photos (appraisal_id, pos, hash, size) VALUES (?,?,?,?)",
        [(p["appraisal_id"], i, ph["hash"], ph["size"]) for i, ph in enumerate(p["photos"])])
    tx.execute("INSERT INTO appraisal_counter (id, last_no) VALUES (1, ?)"
               " ON CONFLICT(id) DO UPDATE SET last_no = excluded.last_no", (p["number"],))
    if p.get("item_id"):  # the piece's history says it was appraised
        touch_item(tx, p["item_id"], entry.seq)


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    assert p is not None  # a merged client's appraisals are the kept client's
    tx.execute("UPDATE appraisals SET client_id = ? WHERE client_id = ?",
               (p["client_id"], p["merged_id"]))


PROJECTIONS = {"appraisal.issued": _on_issued, "client.merged": _on_merged}


# -- input ----------------------------------------------------------------------------------

def appraisal_number(value: Any, key: str = "appraisal_id") -> str:
    raw = (fields.text(value, key, required=True, max_len=20) or "").upper()
    if not NUMBER.match(raw):
        raise Invalid("“{value}” is not an appraisal number (such as AP-000042)", key,
                      value=raw)
    return raw


def _photos(value: Any, key: str) -> list[dict[str, Any]]:
    """The photos' attachments, each {hash, size} as the upload answered, and a caption."""
    if value in (None, []):
        return []
    if not isinstance(value, list) or len(value) > MAX_PHOTOS:
        raise Invalid("the photos are a list of at most {max}", key, max=MAX_PHOTOS)
    out, problems, seen = [], [], set()
    for i, raw in enumerate(value):
        try:
            f = Form(raw, f"{key}[{i}]", allowed=("hash", "size", "caption"))
        except Invalid as exc:
            problems += exc.problems
            continue
        digest = f.text("hash", required=True, max_len=64)
        if digest is not None:
            digest = digest.lower()
            if not SHA256.match(digest):
                f.problem("hash", "this is not a photo's fingerprint (64 hexadecimal digits)")
            elif digest in seen:
                f.problem("hash", "this photo is listed twice")
            seen.add(digest)
        size = f.whole("size", lo=1, hi=MAX_PHOTO_BYTES, required=True)
        caption = f.text("caption", max_len=120)
        problems += f.problems
        out.append({"hash": digest, "size": size, "caption": caption})
    if problems:
        raise Invalid.many(problems)
    return out


# -- the document ---------------------------------------------------------------------------

def metal_words(d: dict[str, Any], words: Words) -> str:
    """The metal as the piece page writes it: "White gold · 18 kt · 750‰"."""
    if not d.get("metal"):
        return ""
    out = " ".join(x for x in (words.term("colour", d.get("metal_colour")),
                               words.term("metal", d["metal"])) if x)
    if d.get("karat"):
        out += f" · {words.number(d['karat'])} {words._('kt')}"
    if d.get("fineness"):
        out += f" · {d['fineness']}‰"
    return _first_up(out)


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def stone_words(stone: dict[str, Any], words: Words) -> str:
    """A stone's grading on one line: colour, clarity, cut and its certificate."""
    _ = words._
    parts = []
    for key in ("colour", "clarity", "shape"):
        if stone.get(key):
            parts.append(f"{words.field_label(key)} {stone[key]}")
    if stone.get("certificate"):
        parts.append(_("Certificate %(lab)s %(number)s") % {
            "lab": stone.get("lab") or "", "number": stone["certificate"]})
    elif stone.get("lab"):
        parts.append(f"{words.field_label('lab')} {stone['lab']}")
    return " · ".join(parts)


def appraisal_document(a: dict[str, Any], words: Words, store_name: str) -> Document:
    """The appraisal on paper (`Appraisals.get`'s answer): who, what, each stone, the value,
    the appraiser and a line for the signature, and what the value means."""
    _ = words._
    title = _(TITLES.get(a["purpose"], TITLES["insurance"]))
    doc = Document(f"{title} {a['appraisal_id']}")
    doc.add("title", f"{store_name} · {title}", center=True)
    doc.add("text", a["appraisal_id"], center=True, bold=True)
    doc.add("small", _("Issued on %(day)s") % {"day": words.day(a["day"], "long")},
            center=True)
    doc.add("rule")
    doc.add("pair", _("Appraisal number"), a["appraisal_id"])
    doc.add("pair", _("Date"), words.day(a["day"], "long"))
    if a.get("client_name"):
        doc.add("pair", _("For"), a["client_name"])
    if a.get("item_id"):
        doc.add("pair", words.field_label("item_id"), a["item_id"])
    if a.get("job_id"):
        doc.add("pair", _("Taken in for repair"), a["job_id"])
    doc.add("heading", _("The piece"))
    if a["erased"]:
        doc.add("text", _("What this appraisal described was erased with the client's"
                          " record."))
    else:
        doc.add("text", a.get("description") or "")
        if a.get("category"):
            doc.add("pair", words.field_label("category"),
                    _first_up(words.term("category", a["category"])))
        if a.get("designer"):
            doc.add("pair", words.field_label("designer"), a["designer"])
        if a.get("metal"):
            doc.add("pair", words.field_label("metal"), metal_words(a, words))
        if a.get("weight_mg") is not None:
            doc.add("pair", words.field_label("metal_weight_mg"), words.grams(a["weight_mg"]))
        stones = a.get("stones") or []
        doc.add("heading", _("Stones"))
        if not stones:
            doc.add("text", _("No stones."))
        for count, stone in group_stones(stones):
            kind = _first_up(words.term("stone", stone["type"]))
            if count > 1:
                doc.add("pair", f"{count} × {kind}",
                        _("%(each)s each") % {"each": words.carats(stone["carat_cents"])})
            else:
                doc.add("pair", kind, words.carats(stone["carat_cents"]))
            graded = stone_words(stone, words)
            if graded:
                doc.add("small", graded)
        photos = a.get("photos") or []
        if photos:
            doc.add("heading", _("Photos"))
            for i, photo in enumerate(photos, 1):
                caption = f"{i}. {photo.get('caption') or _('Photo')}"
                if photo.get("picture"):  # a JPEG or PNG kept for her: printed as it is
                    doc.add("image", caption, data=photo["picture"])
                else:
                    doc.add("text", caption)
                if photo.get("sha256"):  # what proves this very photo to an insurer
                    doc.add("small", _("Fingerprint (SHA-256): %(hash)s")
                            % {"hash": photo["sha256"]})
    doc.add("rule")
    doc.add("pair", _(VALUE_LABELS.get(a["purpose"], VALUE_LABELS["insurance"])),
            words.money(a["value"], a["currency"]), bold=True)
    doc.add("pair", _("Appraiser"), a.get("appraiser_name") or a["appraiser"])
    doc.add("blank")
    doc.add("prompt", _("Signature of the appraiser"))
    doc.add("blank")
    doc.add("small", _(TERMS.get(a["purpose"], TERMS["insurance"])))
    return doc


# -- the service ----------------------------------------------------------------------------

class Appraisals:
    """Issuing appraisals and reading them back, on screen and on paper."""

    def __init__(self, store: Store, jobs: Jobs | None = None) -> None:
        self.store, self.ledger, self.words = store, store.ledger, store.words
        self.jobs = jobs  # a repair's job is checked against her when the workshop runs
        self.currency = store.config.currency
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests move it

    def today(self) -> date:
        return self.now().astimezone(self.words.tz).date()

    # -- issuing ------------------------------------------------------------------------

    async def issue(self, raw: Any, *, actor: str) -> dict[str, Any]:
        """Issue one appraisal. Every problem of the form at once, and nothing written."""
        f = Form(raw, allowed=("item_id", "client_id", "job_id", *ITEM_FIELDS, "value",
                               "appraiser", "photos", "purpose"))
        item_id = f.identifier("item_id", required=False, what="a serial")
        client_id = f.identifier("client_id", required=False, what="a client id")
        job_id = f.text("job_id", max_len=16)
        purpose = f.choice("purpose", PURPOSES, vocabulary="appraisal_purpose") or "insurance"
        value = f.amount("value", required=True)
        if value == 0:
            f.problem("value", "an appraisal states a value: more than zero")
        photos = f.check(_photos, f.get("photos"), "photos") or []
        appraiser = f.identifier("appraiser", required=False, what="a staff id") or actor
        member = self.store.staff.get(appraiser)
        if member is None or member.status != "active":
            f.problem("appraiser", "“{staff_id}” is not on the staff roster",
                      staff_id=appraiser)
        elif not self.store.staff.roles.allows(member.role, ISSUE):
            f.problem("appraiser", "{name} may not sign appraisals", name=member.name)

        about: dict[str, Any] = {}
        as_piece = f.get("item_id") not in (None, "")
        if as_piece:
            for key in ITEM_FIELDS:
                if f.get(key) not in (None, "", []):
                    f.problem(key, "a piece in the books is described by its record: leave"
                                   " this out, or leave out the serial for her own item")
            if item_id:
                about = await self._piece(f, item_id)
        elif f.get("client_id") not in (None, "") or f.get("description") is not None:
            about = self._client_item(f)
        if not as_piece and f.get("client_id") in (None, ""):
            f.problem("client_id", "say whose item this is, or give the serial of a piece in"
                                   " the books")
        client_name = None
        if client_id:
            client_name = await self._client(f, client_id)
        if job_id:
            job_id = await self._job(f, job_id, client_id)
        f.done()
        assert value is not None
        subject = "piece" if item_id else "client_item"
        key_id = f"client:{client_id}" if client_id else "store"
        day = self.today().isoformat()
        details = {**about, "client_name": client_name,
                   "photos": [{"hash": p["hash"], "caption": p["caption"]} for p in photos]}
        assert member is not None

        def command(tx: Tx) -> Entry:
            if client_id:
                row = tx.one("SELECT status FROM clients WHERE client_id = ?", (client_id,))
                if row is None or row["status"] != "active":
                    raise Refused("client_not_active", "client {client_id} was erased or"
                                  " merged meanwhile: nothing was issued",
                                  client_id=client_id)
            for p in photos:  # hers (or the store's), kept, and not erased
                self.store.attachments.check_in(tx, p["hash"], key_id)
            last = tx.one("SELECT last_no FROM appraisal_counter WHERE id = 1")
            number = (last["last_no"] if last else 0) + 1
            appraisal_id = f"{PREFIX}{number:06d}"
            subject_of = f"appraisal:{appraisal_id}"
            sealed = tx.append("appraisal.details", subject_of,
                               {"appraisal_id": appraisal_id, **details}, actor=actor,
                               key_id=key_id)
            return tx.append("appraisal.issued", subject_of, {
                "appraisal_id": appraisal_id, "number": number, "subject": subject,
                "item_id": item_id, "client_id": client_id, "job_id": job_id,
                "purpose": purpose, "value": value, "currency": self.currency,
                "appraiser": appraiser, "appraiser_name": member.name, "day": day,
                "photos": [{"hash": p["hash"], "size": p["size"]} for p in photos],
                "details_seq": sealed.seq}, actor=actor)

        entry = await self.ledger.transact(command)
        return await self.get(entry.subject.split(":", 1)[1])

    async def _piece(self, f: Form, item_id: str) -> dict[str, Any]:
        """What the piece's record says today (kept in the details: a reprint says the
        same after the piece is edited or sold)."""
        try:
            piece = await self.store.items.get(item_id)
        except NotFound:
            f.problem("item_id", "no piece with serial “{item_id}”", item_id=item_id)
            return {}
        return {"description": piece["description"], "category": piece["category"],
                "metal": piece["metal"], "metal_colour": piece["metal_colour"],
                "fineness": piece["fineness"], "karat": piece["karat"],
                "weight_mg": piece["metal_weight_mg"], "designer": piece["designer"],
                "stones": piece["stones"]}

    @staticmethod
    def _client_item(f: Form) -> dict[str, Any]:
        """Her own item as the appraiser describes it: every stone with its 4C and
        certificate (`validate_stones`: the pieces' own rules)."""
        out = {
            "description": f.text("description", required=True, max_len=1000,
                                  multiline=True),
            "category": f.choice("category", CATEGORIES, vocabulary="category"),
            "metal": f.choice("metal", METALS, vocabulary="metal"),
            "metal_colour": f.choice("metal_colour", COLOURS, vocabulary="colour"),
            "fineness": f.whole("fineness", lo=1, hi=1000),
            "karat": f.whole("karat", lo=1, hi=24),
            "weight_mg": f.whole("weight_mg", lo=0, hi=MAX_WEIGHT_MG),
            "designer": f.text("designer", max_len=120),
            "stones": f.check(validate_stones, f.get("stones")) or [],
        }
        if out["metal"] is None and (out["fineness"] or out["karat"]):
            f.problem("metal", "fineness or karat given without a metal")
        return out

    async def _client(self, f: Form, client_id: str) -> str | None:
        """Her name as it is printed today (kept in the sealed details: a reprint says the
        same); a problem for a client who is not here, erased or merged."""
        try:
            client = await self.store.clients.get(client_id)
        except NotFound:
            f.problem("client_id", "no client {client_id}", client_id=client_id)
            return None
        if client["status"] == "forgotten":
            f.problem("client_id", "client {client_id} was erased: no appraisal can be made"
                                   " for her", client_id=client_id)
            return None
        if client["status"] != "active":
            f.problem("client_id", "client {client_id} was merged into another: make the"
                                   " appraisal for the kept record", client_id=client_id)
            return None
        profile = client["profile"] or {}
        return " ".join(x for x in (profile.get("title"), display_name(profile)) if x)

    async def _job(self, f: Form, job_id: str, client_id: str | None) -> str | None:
        """The repair her item came in with: a job of hers (its number as the books write
        it, J12)."""
        if self.jobs is None:
            f.problem("job_id", "the workshop is not running: leave the job out")
            return None
        if not client_id:
            f.problem("job_id", "a job is a client's: say whose item this is")
            return None
        try:
            job = await self.jobs.get(job_id)
        except Refused as exc:  # not a job number, or no such job
            f.problem("job_id", exc.message, **exc.params)
            return None
        if job["client_id"] != client_id:
            f.problem("job_id", "{job_id} is another client's job", job_id=job["job_id"])
        return str(job["job_id"])

    # -- reading ------------------------------------------------------------------------

    def _row_in(self, tx: Tx, appraisal_id: Any) -> dict[str, Any]:
        number = appraisal_number(appraisal_id)
        row = tx.one("SELECT * FROM appraisals WHERE appraisal_id = ?", (number,))
        if row is None:
            raise NotFound("no appraisal {appraisal_id}", appraisal_id=number)
        out = row_dict(row)
        out["photos"] = [row_dict(r) for r in tx.all(
            "SELECT hash, size FROM appraisal_photos WHERE appraisal_id = ? ORDER BY pos",
            (number,))]
        return out

    async def _shape(self, row: dict[str, Any]) -> dict[str, Any]:
        """A record with what its entries say: the details (None once she is erased) and
        the appraiser's name as it was printed."""
        issued = await self.ledger.payload_at(row["seq"]) or {}
        details = await self.ledger.payload_at(row["details_seq"])
        captions = {p["hash"]: p.get("caption") for p in (details or {}).get("photos", [])}
        out = {**row, "appraiser_name": issued.get("appraiser_name"),
               "erased": details is None, "client_name": None}
        for key in (*ITEM_FIELDS, "client_name"):
            out[key] = (details or {}).get(key)
        out["stones"] = out["stones"] or []
        out["photos"] = [{**p, "caption": captions.get(p["hash"])} for p in row["photos"]]
        return out

    async def get(self, appraisal_id: Any) -> dict[str, Any]:
        """One appraisal: the record, and what the paper says of the piece and of her."""
        row = await self.ledger.read(lambda tx: self._row_in(tx, appraisal_id))
        return await self._shape(row)

    async def _listed(self, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        def read(tx: Tx) -> list[dict[str, Any]]:
            rows = tx.all(f"SELECT appraisal_id FROM appraisals {where} ORDER BY number DESC"
                          " LIMIT ?", (*params, LISTED))
            return [self._row_in(tx, r["appraisal_id"]) for r in rows]

        return [await self._shape(row) for row in await self.ledger.read(read)]

    async def of_client(self, client_id: Any) -> list[dict[str, Any]]:
        """Her appraisals, newest first."""
        cid = fields.identifier(client_id, "client_id", what="a client id")
        return await self._listed("WHERE client_id = ?", (cid,))

    async def of_piece(self, item_id: Any) -> list[dict[str, Any]]:
        """A piece's appraisals, newest first."""
        serial = fields.identifier(item_id, "item_id", what="a serial")
        return await self._listed("WHERE item_id = ?", (serial,))

    async def recent(self) -> list[dict[str, Any]]:
        """The store's latest appraisals."""
        return await self._listed("", ())

    async def document(self, appraisal_id: Any) -> Document:
        """The paper, with the photos themselves when the attachment store still has them
        as pictures a page can hold (a HEIC or an erased client's is named, not shown)."""
        appraisal = await self.get(appraisal_id)
        for photo in appraisal["photos"]:
            try:
                data, content_type, meta = await self.store.attachments.open(photo["hash"])
            except (NotFound, Refused):
                continue
            photo["sha256"] = meta.get("sha256")
            if content_type in ("image/jpeg", "image/png"):
                photo["picture"] = data
        return appraisal_document(appraisal, self.words, self.store.config.store_name)

    async def pdf(self, appraisal_id: Any) -> bytes:
        """The appraisal on A4, laid out again from its entries (a reprint: not journaled)."""
        doc = await self.document(appraisal_id)
        return await render_pdf(doc)
