"""Realistic synthetic jewelry data, written through the real services (demos, benchmarks)."""

from __future__ import annotations

import math
import random
from typing import Any

from hub.core.errors import Refused
from hub.store import Store

DESIGNERS = ("Maison Aurore", "Verdier", "Castellane", "Oriane Vos", "Halden & Fils",
             "Studio Ilse", "Marchetti", "Kōno")
COLLECTIONS = ("Étoile", "Riviera", "Nocturne", "Sève", "Lumière", "Cascade", "Aube")
STONES = (("diamond", ("D", "E", "F", "G", "H"), ("IF", "VVS1", "VVS2", "VS1", "VS2", "SI1")),
          ("sapphire", ("royal blue", "cornflower", "pink", "yellow"), ("eye clean",)),
          ("ruby", ("pigeon blood", "red"), ("eye clean", "slightly included")),
          ("emerald", ("vivid green", "green"), ("minor oil", "insignificant oil")),
          ("pearl", ("white", "cream", "golden"), ("AAA", "AA")))
SHAPES = ("round", "oval", "cushion", "emerald", "pear", "princess", "marquise", "radiant")
LABS = ("GIA", "HRD", "IGI", "SSEF", "Gübelin")
CATEGORY_WORDS = {
    "ring": ("solitaire ring", "eternity band", "cocktail ring", "halo ring", "signet ring"),
    "necklace": ("rivière necklace", "pendant necklace", "pearl strand", "collier"),
    "bracelet": ("tennis bracelet", "bangle", "cuff", "chain bracelet"),
    "earrings": ("stud earrings", "drop earrings", "hoops", "chandelier earrings"),
    "pendant": ("pendant", "locket", "medallion"),
    "watch": ("automatic watch", "dress watch", "jewelled watch"),
    "brooch": ("brooch",),
    "loose stone": ("loose stone",),
}
METALS = (("platinum", 950, None, "white"), ("gold", 750, 18, "yellow"), ("gold", 750, 18, "white"),
          ("gold", 750, 18, "rose"), ("gold", 585, 14, "yellow"), ("silver", 925, None, "white"),
          ("palladium", 950, None, "white"))
LOCATIONS = ("showcase-1", "showcase-2", "showcase-3", "window", "safe", "tray-A", "tray-B")
FIRST = ("Camille", "Léa", "Zoë", "Inès", "Charlotte", "Margaux", "Sofia", "Aiko", "Amara",
         "Élodie", "Hugo", "Louis", "Gabriel", "Arthur", "Raphaël", "Noah", "Jules", "Mateo",
         "Olivia", "Chloé", "Yasmine", "Priya", "Mei", "Anouk", "Ines", "Clara")
LAST = ("Marchand", "Dubois", "Laurent", "Moreau", "Fontaine", "Girard", "Rossi", "Nakamura",
        "Okafor", "Lefèvre", "Bernard", "Petit", "Haddad", "Schneider", "Costa", "Van Dijk",
        "Kowalski", "Singh", "Chen", "Morel", "Durand", "Roux")
CITIES = (("Paris", "75008"), ("Lyon", "69002"), ("Bordeaux", "33000"), ("Nice", "06000"))


def make_piece(rng: random.Random, n: int, tax_code: str) -> dict[str, Any]:
    category = rng.choice(tuple(CATEGORY_WORDS))
    stones: list[dict[str, Any]] = []
    piece: dict[str, Any] = {"item_id": f"LP-{n:06d}", "category": category,
                             "tax_code": tax_code, "location": rng.choice(LOCATIONS)}
    if category != "loose stone":
        metal, fineness, karat, colour = rng.choice(METALS)
        piece.update(metal=metal, fineness=fineness, karat=karat, metal_colour=colour,
                     metal_weight_mg=rng.randint(1_500, 45_000))
    if category == "loose stone" or rng.random() < 0.8:
        kind, colours, clarities = rng.choice(STONES)
        centre = {"type": kind, "carat_cents": rng.choice((30, 50, 70, 90, 101, 120, 150, 201,
                                                          305)),
                  "shape": rng.choice(SHAPES), "colour": rng.choice(colours),
                  "clarity": rng.choice(clarities)}
        if centre["carat_cents"] >= 50 or kind != "diamond":
            centre["lab"] = rng.choice(LABS)
            centre["certificate"] = str(rng.randint(10**9, 10**10 - 1))
        stones.append(centre)
        for _ in range(rng.choice((0, 0, 2, 6, 12))):
            stones.append({"type": "diamond", "carat_cents": rng.randint(1, 8), "shape": "round",
                           "colour": "F", "clarity": "VS1"})
    designer = rng.choice(DESIGNERS)
    word = rng.choice(CATEGORY_WORDS[category])
    centre_text = f" with {stones[0]['carat_cents'] / 100:.2f} ct {stones[0]['type']}" if stones else ""
    metal_text = f"{piece.get('karat') and str(piece['karat']) + 'k ' or ''}{piece.get('metal_colour', '')} {piece.get('metal', '')}".strip()
    piece["description"] = f"{metal_text} {word}{centre_text}".strip().capitalize()
    # Costs spread log-uniformly from 300 to 60,000 in the major unit: many modest pieces,
    # a few high-jewellery ones. Tag prices are a 2.2-3x mark-up, rounded to tens.
    cost = int(math.exp(rng.uniform(math.log(300), math.log(60_000)))) * 100
    piece.update(sku=f"{designer[:3].upper()}-{category[:2].upper()}{rng.randint(100, 999)}",
                 designer=designer, collection=rng.choice(COLLECTIONS), stones=stones,
                 cost=cost, tag_price=(cost * rng.choice((22, 25, 28, 30)) // 10_000) * 1000,
                 ownership=rng.choices(("owned", "memo", "consignment"), (85, 10, 5))[0])
    if piece["ownership"] != "owned":
        piece["vendor"] = rng.choice(DESIGNERS)
    return piece


def make_client(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, postcode = rng.choice(CITIES)
    year = rng.randint(1950, 2000)
    profile: dict[str, Any] = {
        "first_name": first, "last_name": last,
        "emails": [f"{first}.{last}.{n}@example.com".lower().replace(" ", "")],
        "phones": [f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
                   f" {n % 100:02d}"],
        "addresses": [{"line1": f"{rng.randint(1, 120)} rue du Faubourg", "city": city,
                       "postcode": postcode, "country": "FR"}],
        "ring_sizes": {"left ring": str(rng.randint(48, 58))},
        "preferences": {"designers": rng.sample(DESIGNERS, 2),
                        "stones": [rng.choice(STONES)[0]],
                        "metals": [rng.choice(("platinum", "yellow gold", "rose gold"))]},
        "dates": {"birthday": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"},
        "notes": rng.choice(("Prefers appointments on Saturday mornings.",
                             "Collects Art Deco pieces.", "Anniversary gift shopping each June.",
                             "Allergic to nickel.", "")),
        "consent": {"marketing": rng.random() < 0.6},
        "tier": rng.choice(("", "silver", "gold", "private client")),
    }
    if rng.random() < 0.4:
        profile["dates"]["anniversary"] = f"--{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return {k: v for k, v in profile.items() if v}


async def generate(store: Store, *, items: int = 0, clients: int = 0, sales: int = 0,
                   seed: int | None = None, actor: str = "generator") -> dict[str, int]:
    rng = random.Random(seed)
    start = (await store.ledger.fetch_one("SELECT COUNT(*) AS n FROM items"))["n"]
    pieces = [make_piece(rng, start + i + 1, store.config.default_tax) for i in range(items)]
    for i in range(0, len(pieces), 500):
        await store.items.receive_many(pieces[i:i + 500], actor)
    client_ids: list[str] = []
    profiles = [make_client(rng, i) for i in range(clients)]
    for i in range(0, len(profiles), 500):
        client_ids += await store.clients.create_many(profiles[i:i + 500], actor)
    if not client_ids:
        client_ids = [r["client_id"] for r in await store.ledger.fetch(
            "SELECT client_id FROM clients WHERE status = 'active'")]
    in_stock = [r["item_id"] for r in await store.ledger.fetch(
        "SELECT item_id FROM items WHERE status = 'in_stock' ORDER BY item_id")]
    rng.shuffle(in_stock)
    registers = [r.id for r in store.config.registers]
    staff = [m.staff_id for m in store.staff.all()] or ["admin"]
    made = 0
    for _ in range(min(sales, len(in_stock))):
        item_id = in_stock.pop()
        piece = await store.items.get(item_id)
        total = piece["tag_price"]
        discount = total // 20 if rng.random() < 0.2 else 0
        due = total - discount
        if due > 0 and rng.random() < 0.3:
            card = due * rng.choice((50, 70, 80)) // 100
            tenders = [{"type": "card", "amount": card, "brand": rng.choice(("visa", "mastercard",
                                                                             "amex")),
                        "last4": f"{rng.randint(0, 9999):04d}", "auth_code": f"{rng.randint(0, 999999):06d}"},
                       {"type": "cash", "amount": due - card}]
            tenders = [t for t in tenders if t["amount"] > 0]
        elif due > 0:
            tenders = [{"type": rng.choice(("card", "bank_transfer")), "amount": due}]
            if tenders[0]["type"] == "card":
                tenders[0].update(brand="visa", last4=f"{rng.randint(0, 9999):04d}",
                                  auth_code=f"{rng.randint(0, 999999):06d}")
        else:
            continue
        try:
            await store.sales.complete(
                register_id=rng.choice(registers), actor=rng.choice(staff),
                lines=[{"item_id": item_id}], tenders=tenders, discount=discount,
                client_id=rng.choice(client_ids) if client_ids and rng.random() < 0.7 else None)
            made += 1
        except Refused:
            continue
    return {"pieces": items, "clients": clients, "sales": made}
