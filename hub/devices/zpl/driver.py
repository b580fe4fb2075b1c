"""The jewelry tag printer: fills the store's ZPL template for a piece and sends it; on an
RFID model it writes the piece's EPC into the tag's inlay with `^RFW,H`.

Other labels (a workshop envelope's) come whole from their layer (`print_label`), with a
job id so a retried request does not print twice.

`~HS` (host status) is the health check: the printer answers three STX…ETX lines.
"""

from __future__ import annotations

import collections
import string
from pathlib import Path
from typing import Any

from hub.devices.base import Paper
from hub.devices.errors import DeviceBusy, DeviceFailed
from hub.devices.stream import StreamDevice
from hub.devices.zpl.protocol import ZplParser
from hub.receipts import metal_text
from hub.words import ENGLISH, Words

DEFAULT_TEMPLATE = Path(__file__).with_name("barbell.zpl")
MAX_LABEL_JOBS = 200  # label job ids remembered, so a retried request does not print twice


def cost_letters(amount: int, code: str) -> str:
    """The store's cost code: digits 1-9,0 written with the letters of a ten-letter word
    (BLACKHORSE: 1=B … 0=E), so staff can read the cost and clients cannot."""
    if len(code) != 10 or len(set(code.upper())) != 10:
        raise ValueError("cost_code must be a word of ten different letters")
    letters = {str((i + 1) % 10): c for i, c in enumerate(code.upper())}
    return "".join(letters[d] for d in str(amount // 100))


def safe_text(text: str) -> str:
    """Text for a `^FD` field: field data must not start commands, and label fonts print
    no-break spaces as boxes."""
    return text.replace("^", " ").replace("~", " ").translate(_PLAIN_SPACES)


_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def tag_fields(piece: dict[str, Any], currency: str, *, cost_code: str = "",
               show_price: bool = True, rfid: bool = False,
               words: Words = ENGLISH) -> dict[str, str]:
    stones = piece.get("stones") or []
    total_ct = sum(s["carat_cents"] for s in stones)
    stone_summary = ""
    if stones:
        stone_summary = f"{len(stones)} st. {words.carats(total_ct)}"
        if stones[0].get("colour") or stones[0].get("clarity"):
            stone_summary += " " + "/".join(x for x in (stones[0].get("colour"),
                                                        stones[0].get("clarity")) if x)
    fields = {
        "serial": piece["item_id"],
        "price": words.money(piece["tag_price"], currency) if show_price else "",
        "metal": metal_text(piece, words),
        "weight": words.grams(piece.get("metal_weight_mg")),
        "stones": stone_summary,
        "cost_code": cost_letters(piece.get("cost") or 0, cost_code) if cost_code else "",
        "rfid": f"^RS8^RFW,H^FD{piece['epc']}^FS" if rfid and piece.get("epc") else "",
        "rate": rate_text(piece, currency, words) if show_price else "",
    }
    return {k: (v if k == "rfid" else safe_text(v)) for k, v in fields.items()}


def rate_text(piece: dict[str, Any], currency: str, words: Words = ENGLISH) -> str:
    """A piece priced by the gram says the rate its tag price used and that rate's day."""
    rate = piece.get("price_rate")
    if not rate:
        return ""
    return words.render("{per_gram}/g · rate of {day}", {
        "per_gram": words.money(rate["per_gram"], currency), "day": words.day(rate["valid_from"])})


class TagPrinter(StreamDevice):
    kind = "tag_printer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        path = Path(self.spec.get("template") or DEFAULT_TEMPLATE)
        try:
            self.template = string.Template(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DeviceFailed(f"tag template {path}: {exc}") from None
        self.rfid = bool(self.spec.get("rfid", False))
        self.cost_code = str(self.spec.get("cost_code", ""))
        self.show_price = bool(self.spec.get("show_price", True))
        self._status = bytearray()
        self.printed = 0
        self.paper = Paper.UNKNOWN
        self.label_jobs: collections.OrderedDict[str, dict[str, Any]] = \
            collections.OrderedDict()

    def render(self, piece: dict[str, Any], currency: str, words: Words = ENGLISH) -> bytes:
        fields = tag_fields(piece, currency, cost_code=self.cost_code,
                            show_price=self.show_price, rfid=self.rfid, words=words)
        try:
            return self.template.substitute(fields).encode("utf-8")
        except (KeyError, ValueError) as exc:
            raise DeviceBusy("tag template: unknown or bad placeholder {name}",
                             name=str(exc)) from None

    def preview(self, piece: dict[str, Any], currency: str,
                words: Words = ENGLISH) -> dict[str, Any]:
        parser = ZplParser()
        parser.feed(self.render(piece, currency, words))
        label = parser.labels[0]
        return {"fields": [vars(f) for f in label.fields], "rfid_writes": label.rfid_writes}

    def on_bytes(self, data: bytes) -> None:
        self._status += data
        # ~HS answers three STX…ETX CR LF strings; the first field of line 2 is the
        # function settings, and we only need to know the printer answered.
        while self._status.count(b"\x03") >= 3:
            cut = [i for i, b in enumerate(self._status) if b == 3][2] + 1
            self.answer(bytes(self._status[:cut]))
            del self._status[:cut]
        if len(self._status) > 1024:
            self.problem("status reply too long; discarded")
            self._status.clear()

    async def check(self) -> bool:
        answer = await self.ask(b"~HS")
        fields = answer.split(b"\x03")[0].lstrip(b"\x02").split(b",")
        paper_out = len(fields) > 1 and fields[1] == b"1"
        self.paper = Paper.PAPER_OUT if paper_out else Paper.READY
        return True

    async def print_tag(self, piece: dict[str, Any], currency: str, copies: int = 1,
                        words: Words = ENGLISH) -> dict[str, Any]:
        self.require_connected()
        if not 1 <= copies <= 50:
            raise DeviceBusy("copies must be from 1 to 50")
        data = self.render(piece, currency, words)
        await self.send(data * copies)
        self.printed += copies
        return {"device": self.id, "item_id": piece["item_id"], "copies": copies,
                "rfid": self.rfid and bool(piece.get("epc")),
                "preview": self.preview(piece, currency, words)}

    async def print_label(self, job_id: str, zpl: bytes, copies: int = 1) -> dict[str, Any]:
        """Print a label made elsewhere (`^XA … ^XZ`, e.g. a workshop envelope). A job id
        already sent answers as it did and prints nothing: a double-clicked or retried
        request gives one label. A send cut off by a lost link is not remembered: the
        same id may be sent again once the printer is back."""
        done = self.label_jobs.get(job_id)
        if done is not None:
            return {**done, "again": True}
        self.require_connected()
        if not 1 <= copies <= 50:
            raise DeviceBusy("copies must be from 1 to 50")
        parser = ZplParser()
        parser.feed(zpl)
        if not parser.labels:  # the caller's bug, not the counter's: no sentence for it
            raise ValueError("a label starts with ^XA and ends with ^XZ")
        await self.send(zpl * copies)
        self.printed += copies
        done = {"device": self.id, "job_id": job_id, "copies": copies,
                "fields": [vars(f) for f in parser.labels[0].fields]}
        self.label_jobs[job_id] = done
        while len(self.label_jobs) > MAX_LABEL_JOBS:
            self.label_jobs.popitem(last=False)
        return {**done, "again": False}

    def info(self) -> dict[str, Any]:
        return {**super().info(), "printed": self.printed, "rfid": self.rfid, "paper": self.paper}
