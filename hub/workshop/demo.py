"""The demo store's workshop: a job in every stage, as a boutique's bench has them on a
Tuesday morning.

Repairs received, at the bench, at the outside setter, in quality check, ready (one waiting
for weeks), on hold and collected; a bespoke engagement ring in its CAD stage with two
instalments and its accepted quote; a special order arrived. Each is taken in through the
same services the counter uses (deposits in cash and by card at register R1), so the board,
the overdue list, the client pages and the Z report's deposit lines all show them.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

from PIL import Image, ImageDraw

from hub.store import Store
from hub.workshop.appraisals import Appraisals
from hub.workshop.jobs import Jobs
from hub.workshop.layaways import Layaways
from hub.workshop.part import workshop_of

# (kind, piece, what she left, services, moves, days promised from today, express)
REPAIRS: tuple[tuple[str, str, list[dict[str, Any]], tuple[str, ...], int, bool], ...] = (
    ("ring", "yellow metal ring, white centre stone, worn prongs",
     [{"service": "resize", "detail": "to 54", "price": 4500},
      {"service": "retip", "detail": "4 prongs", "price": 6000}], (), 9, False),
    ("bracelet", "white metal tennis bracelet, clasp loose",
     [{"service": "clasp", "detail": "new box clasp", "price": 8500}], ("to_bench",), 5, True),
    ("ring", "platinum band, three white stones, one missing",
     [{"service": "stone_replacement", "detail": "0.10 ct round", "price": 18000}],
     ("to_vendor",), 12, False),
    ("necklace", "rose metal chain, knotted", [{"service": "polish", "price": 3500}],
     ("to_bench", "to_quality_check"), 2, False),
    ("ring", "yellow metal signet ring",
     [{"service": "engraving", "detail": "A.M. 1987", "font": "script", "price": 4000}],
     ("to_bench", "to_quality_check", "to_ready"), -3, False),
    ("earrings", "pair of pearl studs, one post bent",
     [{"service": "other", "detail": "straighten the post", "price": 2500}],
     ("to_bench", "hold"), -2, False),
    ("watch", "steel watch bracelet, two links to remove",
     [{"service": "resize", "detail": "remove 2 links", "price": 2000}],
     ("to_bench", "to_quality_check", "to_ready"), 1, True),
)


async def demo_workshop(store: Store, associate: str, bench: str, manager: str) -> None:
    """Take in the demo's jobs, a layaway and an appraisal (once: a store with jobs is left
    as it is)."""
    if await store.ledger.fetch_one("SELECT 1 FROM jobs LIMIT 1") is not None:
        return
    clients = store.clients.names.book_of(associate)[:12]
    if len(clients) < 12:
        return
    with workshop_of(store) as (_, jobs, layaways):
        await _jobs(jobs, clients, associate, bench)
        await _layaway(store, layaways, clients[10], associate)
        await _appraisal(store, jobs, clients[11], manager)


async def _layaway(store: Store, layaways: Layaways, client_id: str, associate: str) -> None:
    """A necklace set aside for her in three instalments, the first paid today."""
    piece = await store.ledger.fetch_one(
        "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' AND category ="
        " 'necklace' AND tag_price BETWEEN 150000 AND 900000 ORDER BY tag_price LIMIT 1")
    if piece is None:
        return
    first = piece["tag_price"] // 3
    await layaways.open({"client_id": client_id, "item_id": piece["item_id"],
                         "schedule": {"instalments": 3},
                         "first_payment": {"register_id": "R1", "tenders": [
                             {"type": "card", "amount": first, "brand": "Visa",
                              "last4": "1881"}]}}, actor=associate)


async def _appraisal(store: Store, jobs: Jobs, client_id: str, manager: str) -> None:
    """An insurance appraisal of a client's own ring, and one of a piece of the store."""
    appraisals = Appraisals(store, jobs)
    photo = await store.attachments.store(_picture("photo"), owner=f"client:{client_id}",
                                          kind="photo", name="art-deco-ring.png",
                                          actor=manager)
    await appraisals.issue({
        "client_id": client_id, "description": "Art Deco ring, platinum, old European cut",
        "category": "ring", "metal": "platinum", "fineness": 950, "weight_mg": 5120,
        "stones": [{"type": "diamond", "carat_cents": 152, "colour": "H", "clarity": "VS2",
                    "shape": "round", "lab": "HRD", "certificate": "190000451233"},
                   {"type": "diamond", "carat_cents": 24, "colour": "G", "clarity": "VS1",
                    "shape": "baguette"}],
        "value": 1450000, "photos": [{"hash": photo["hash"], "size": photo["size"],
                                      "caption": "Front, on the ring mandrel"}]},
        actor=manager)
    piece = await store.ledger.fetch_one(
        "SELECT item_id, tag_price FROM items WHERE status = 'in_stock' AND category = 'ring'"
        " ORDER BY tag_price DESC LIMIT 1")
    if piece is not None:
        await appraisals.issue({"item_id": piece["item_id"], "value": piece["tag_price"]},
                               actor=manager)


def _picture(kind: str) -> bytes:
    """A drawn stand-in for a tablet photo of a ring, or a signature's stroke (PNG)."""
    image = Image.new("RGB", (320, 200) if kind == "photo" else (360, 120), "white")
    pen = ImageDraw.Draw(image)
    if kind == "photo":
        pen.ellipse((100, 40, 220, 160), outline=(191, 148, 60), width=14)
        pen.polygon(((160, 18), (176, 40), (144, 40)), fill=(220, 230, 240),
                    outline=(120, 120, 130))
    else:
        pen.line([(20 + 8 * i, 70 + (18 if i % 3 else -22) * (i % 2)) for i in range(40)],
                 fill=(20, 30, 80), width=3)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _jobs(jobs: Jobs, clients: list[str], associate: str, bench: str) -> None:
    store = jobs.store
    real_now = jobs.now
    # Taken in over the last weeks: a promise now past was in the future then.
    jobs.now = lambda: real_now() - timedelta(days=21)
    made = []
    try:
        for n, (kind, what, services, moves, days, express) in enumerate(REPAIRS):
            promised = (real_now().astimezone(store.words.tz).date()
                        + timedelta(days=days)).isoformat()
            job = await jobs.open({
                "kind": "repair", "client_id": clients[n], "item_kind": kind,
                "description": what, "condition": "light surface scratches",
                "declared_value": 80000 + 35000 * n, "weight_mg": 3200 + 910 * n,
                "stone_count": (1, 40, 3, 0, 0, 2, 0)[n], "services": services,
                "estimate": "call_first", "express": express, "promised": promised,
                "assignee": bench if n % 3 != 2 else None,
                "vendor": "Atelier Sertis" if n % 3 == 2 else None,
                "deposit": {"register_id": "R1", "tenders": [
                    {"type": "cash", "amount": 2000}]} if n % 2 == 0 else None},
                actor=associate)
            for move in moves:
                note = "waiting for a matching pearl post" if move == "hold" else None
                await jobs.move(job["job_id"], move, note, actor=bench)
            made.append(job["job_id"])
            await jobs.attach(job["job_id"], _picture("photo"), kind="photo",
                              name="intake.png", declared_type="image/png", actor=associate)
        # The watch bracelet was collected this morning: weighed, paid by card, signed.
        watch = await jobs.get(made[-1])
        await jobs.collect(made[-1], {
            "register_id": "R1", "weight_mg": watch["weight_in_mg"], "stone_count": 0,
            "tenders": [{"type": "card", "amount": watch["balance"], "brand": "Visa",
                         "last4": "4242"}] if watch["balance"] else []},
            actor=associate, signature=_picture("signature"))
        cancelled = await jobs.open({
            "kind": "repair", "client_id": clients[6], "item_kind": "brooch",
            "description": "silver-coloured brooch, pin broken", "weight_mg": 8100,
            "services": [{"service": "other", "detail": "new pin", "price": 3000}]},
            actor=associate)
        await jobs.move(cancelled["job_id"], "cancel", "she found the old pin at home",
                        actor="marc")
        bespoke = await jobs.open({
            "kind": "custom", "client_id": clients[7], "item_kind": "ring",
            "description": "oval solitaire engagement ring, slim pavé band", "price": 650000,
            "specs": {"metal": "platinum", "fineness": 950, "size": "52",
                      "stones": [{"type": "diamond", "carat_cents": 120, "colour": "F",
                                  "clarity": "VS1", "shape": "oval", "lab": "GIA",
                                  "certificate": "2417385621"}]},
            "promised": (real_now().date() + timedelta(days=40)).isoformat(),
            "assignee": bench}, actor=associate)
        number = bespoke["job_id"]
        for move in ("to_consultation", "to_deposit"):
            await jobs.move(number, move, actor=associate)
        await jobs.pay(number, {"register_id": "R1", "tenders": [
            {"type": "card", "amount": 150000, "brand": "Visa", "last4": "4242"}]},
            actor=associate)
        for move in ("to_stone_sourcing", "to_cad", "to_approval"):
            await jobs.move(number, move, actor=bench)
        await jobs.quote(number, {"amount": 665000}, actor=associate)
        await jobs.accept_quote(number, 1, actor=associate)
        await jobs.pay(number, {"register_id": "R1", "tenders": [
            {"type": "bank_transfer", "amount": 200000, "reference": "VIR-2026-118"}]},
            actor=associate)
        await jobs.move(number, "to_setting", actor=bench)
        enquiry = await jobs.open({
            "kind": "custom", "client_id": clients[8], "item_kind": "pendant",
            "description": "a pendant from her grandmother's sapphire", "price": 180000,
            "specs": {"metal": "gold", "fineness": 750}}, actor=associate)
        special = await jobs.open({
            "kind": "special", "client_id": clients[9], "item_kind": "bracelet",
            "description": "rigid bangle in yellow gold, size 17, from the Milan atelier",
            "price": 420000, "source": "Milan atelier",
            "promised": (real_now().date() + timedelta(days=6)).isoformat(),
            "deposit": {"register_id": "R1", "tenders": [
                {"type": "card", "amount": 100000, "brand": "Mastercard", "last4": "5100"}]}},
            actor=associate)
        await jobs.move(special["job_id"], "to_ordered", actor=associate)
        made += [number, enquiry["job_id"], special["job_id"]]
    finally:
        jobs.now = real_now

