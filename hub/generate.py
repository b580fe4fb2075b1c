"""Believable synthetic jewellery data, written through the real services (demos, benchmarks).

A boutique's stock comes from a few houses, each with its collections, its metals and its
making premium. A piece is made from a *style* (house, category, style number: the SKU);
a boutique holds two or three of some styles. What a piece costs follows from what it is
made of (`price_piece`): its metal by weight and fineness, the making charge, its stones by
type, weight and quality, and their certificates; the tag price is a retail mark-up rounded
the way a boutique rounds. Every amount is an integer in minor units; the random draws are
floats, the money never is.

Everything is drawn from one `random.Random(seed)`: the same seed on an empty store gives the
same pieces, clients and sales. Names, e-mails (example.com), phone numbers (the French range
reserved for fiction) and addresses are made up.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import contextlib
import functools
import math
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from hub.clienteling.appointments import KINDS, Appointments
from hub.clienteling.appointments import settings_of as appointment_settings
from hub.clienteling.wishlists import Wishlists
from hub.core import metals
from hub.core.clients import CONSENT_HOW, validate_profile
from hub.core.errors import Refused
from hub.core.sales import validate_lines, validate_tenders
from hub.ledger.ledger import Tx, utc_now
from hub.money import minor_units, round_half_up_div
from hub.store import Store
from hub.words.labels import COLOUR, STONE, STYLE

BP = 10_000  # basis points: factors are integers, 10,000 = ×1

# -- what things cost the store (EUR cents; basis points) --------------------------------------

# Fine metal per gram, a plausible 2025 level; steel and titanium are nearly worthless by weight.
METAL_PRICE_PER_G = {"gold": 9_500, "platinum": 3_200, "palladium": 3_000, "silver": 100,
                     "titanium": 5, "steel": 1}
# The making charge of a piece before its stones are set, by category.
MAKING = {"ring": 12_000, "earrings": 14_000, "pendant": 9_000, "necklace": 16_000,
          "bracelet": 16_000, "brooch": 35_000, "cufflinks": 16_000, "watch": 50_000,
          "loose stone": 0}
# Platinum and palladium are harder to cast and polish than gold.
WORKING = {"platinum": 13_000, "palladium": 11_000}
# Setting one stone, by its weight (carat cents): pavé melee is cheap, a centre stone is not.
SETTING = ((0, 600), (10, 1_500), (50, 4_500), (200, 8_000))
PEARL_SETTING = 150  # stringing or pegging one pearl
# A watch's movement, found by its word in the description.
MOVEMENTS = {"chronograph": 280_000, "moon phase": 220_000, "automatic": 120_000,
             "quartz": 25_000}

# Diamonds: price per carat of a G VS1 round, by the stone's own weight (it rises with size
# and jumps at the sizes buyers ask for), then colour, clarity, cut and laboratory factors.
DIAMOND_PER_CT = ((1, 60_000), (4, 90_000), (8, 120_000), (15, 150_000), (23, 180_000),
                  (30, 230_000), (40, 260_000), (50, 330_000), (70, 390_000), (90, 430_000),
                  (100, 520_000), (150, 620_000), (200, 900_000), (300, 1_300_000),
                  (400, 1_500_000), (500, 2_000_000))
DIAMOND_COLOUR = {"D": 16_000, "E": 14_000, "F": 12_500, "G": 10_000, "H": 8_800, "I": 7_600,
                  "J": 6_500}
DIAMOND_CLARITY = {"IF": 15_000, "VVS1": 13_500, "VVS2": 12_500, "VS1": 10_000, "VS2": 9_000,
                   "SI1": 7_500, "SI2": 6_200}
FANCY_SHAPE = 8_500  # every shape but round trades lower
DIAMOND_LAB = {"GIA": 10_000, "HRD": 9_700, "IGI": 9_200}

# Coloured stones: price per carat by weight for a reference quality, then the colour, the
# origin and the treatment (kept as "origin, treatment" in the stone's clarity), and the lab.
COLOURED_PER_CT = {
    "sapphire": ((1, 25_000), (50, 50_000), (100, 90_000), (200, 140_000), (300, 200_000),
                 (500, 300_000)),
    "ruby": ((1, 40_000), (50, 100_000), (100, 250_000), (200, 450_000), (300, 700_000),
             (500, 1_000_000)),
    "emerald": ((1, 30_000), (50, 70_000), (100, 160_000), (200, 280_000), (300, 500_000),
                (500, 700_000)),
}
COLOURED_WORDS = {
    # colours
    "royal blue": 14_000, "cornflower blue": 13_000, "blue": 10_000, "pink": 11_000,
    "yellow": 6_000, "pigeon blood red": 15_000, "red": 10_000, "purplish red": 7_500,
    "vivid green": 14_000, "green": 10_000,
    # origins
    "Burma": 15_000, "Ceylon": 10_000, "Madagascar": 8_500,
    "Mozambique": 10_000, "Thailand": 7_000, "Colombia": 14_000, "Zambia": 10_000,
    "Brazil": 7_500,
    # treatments
    "no heat": 16_000, "heated": 10_000, "no oil": 20_000, "insignificant oil": 13_000,
    "minor oil": 10_000, "moderate oil": 7_500,
}
COLOURED_LAB = {"SSEF": 11_000, "Gübelin": 11_000, "GRS": 10_000}
CERTIFICATE_FEE = {"GIA": 11_000, "HRD": 9_500, "IGI": 7_000, "SSEF": 65_000, "Gübelin": 85_000,
                   "GRS": 35_000}

# Pearls are sold by size (mm), not weight: price of one pearl by diameter (tenths of a mm)
# for each variety (kept as "variety, grade" in the stone's clarity), then grade, shape, colour.
PEARL_EACH = {
    "freshwater": ((50, 150), (70, 300), (80, 500), (90, 800), (100, 1_200), (110, 1_800)),
    "Akoya": ((50, 800), (60, 1_200), (65, 1_600), (70, 2_200), (75, 3_000), (80, 4_200),
              (85, 6_000), (90, 9_000)),
    "Tahitian": ((80, 2_500), (90, 4_000), (100, 6_000), (110, 9_000), (120, 13_000),
                 (130, 19_000)),
    "South Sea": ((90, 6_000), (100, 9_000), (110, 13_000), (120, 19_000), (130, 28_000),
                  (140, 40_000), (150, 60_000)),
}
PEARL_GRADE = {"AAA": 15_000, "AA+": 11_500, "AA": 10_000}
PEARL_SHAPE = {"round": 10_000, "near-round": 8_500, "drop": 9_000, "button": 7_000,
               "baroque": 6_000}
PEARL_COLOUR = {"golden": 13_000, "peacock": 12_000}
OTHER_STONE_PER_CT = 5_000  # a stone type this table does not know (an import, an edit)

# Retail: the setting (metal and making) is marked up more than the stones; watches carry
# the brand's one mark-up, loose stones a thin one.
MARKUP = {"watch": (18_000, 18_000), "loose stone": (25_000, 14_500)}
JEWELLERY_MARKUP = (25_000, 17_000)  # (metal and making, stones)
# A boutique rounds its tags up: to 10 below 1,000, to 50 below 10,000, to 100 below
# 50,000, to 500 above (in major units).
TAG_STEPS = ((1_000, 10), (10_000, 50), (50_000, 100), (None, 500))


@dataclass(frozen=True, slots=True)
class Price:
    """What a piece cost the store and its tag, in minor units, with the cost's parts."""

    metal: int
    making: int
    stones: int
    cost: int
    tag_price: int


def _band(table: tuple[tuple[int, int], ...], size: int) -> int:
    """The value of the last band of `table` whose lower bound is at most `size`."""
    value = table[0][1]
    for lower, band_value in table:
        if size < lower:
            break
        value = band_value
    return value


def _words(text: str | None) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


def pearl_carat_cents(mm_tenths: int) -> int:
    """Weight of a round pearl of this diameter: nacre at 2.71 g/cm³, 1 ct = 200 mg.

    carat cents = (π/6)·d³·2.71/2 with d in mm and π as 355/113, all in integers."""
    return max(1, round_half_up_div(mm_tenths ** 3 * 355 * 271, 113 * 1_200_000))


_PEARL_SIZES = list(range(20, 251))
_PEARL_WEIGHTS = [pearl_carat_cents(d) for d in _PEARL_SIZES]


def pearl_mm_tenths(carat_cents: int) -> int:
    """The diameter (tenths of a mm) of a pearl of this weight: the inverse of
    `pearl_carat_cents`, exact for every size from 3 to 25 mm."""
    i = bisect.bisect_left(_PEARL_WEIGHTS, carat_cents)
    if i == len(_PEARL_WEIGHTS):
        return _PEARL_SIZES[-1]
    if i and carat_cents - _PEARL_WEIGHTS[i - 1] < _PEARL_WEIGHTS[i] - carat_cents:
        i -= 1
    return _PEARL_SIZES[i]


def stone_value(stone: Mapping[str, Any]) -> int:
    """What one stone cost, its certificate included, in EUR cents."""
    return _stone_value(stone["type"], stone["carat_cents"], stone.get("shape") or "",
                        stone.get("colour") or "", stone.get("clarity") or "",
                        stone.get("lab") or "")


@functools.lru_cache(maxsize=8192)  # pure; a pavé is many equal stones
def _stone_value(kind: str, carat: int, shape: str, colour: str, clarity: str, lab: str) -> int:
    fee = CERTIFICATE_FEE.get(lab, 0)
    if kind == "diamond":
        factors = (DIAMOND_COLOUR.get(colour, BP), DIAMOND_CLARITY.get(clarity, BP),
                   BP if shape in ("", "round") else FANCY_SHAPE, DIAMOND_LAB.get(lab, BP))
        per_ct = _band(DIAMOND_PER_CT, carat)
    elif kind in COLOURED_PER_CT:
        factors = (*(COLOURED_WORDS.get(w, BP) for w in (colour, *_words(clarity))),
                   COLOURED_LAB.get(lab, BP))
        per_ct = _band(COLOURED_PER_CT[kind], carat)
    elif kind == "pearl":
        variety, *grade = _words(clarity) or ["freshwater"]
        each = _band(PEARL_EACH.get(variety, PEARL_EACH["freshwater"]), pearl_mm_tenths(carat))
        factors = (PEARL_GRADE.get(grade[0] if grade else "", BP), PEARL_SHAPE.get(shape, BP),
                   PEARL_COLOUR.get(colour, BP))
        return round_half_up_div(each * math.prod(factors), BP ** len(factors)) + fee
    else:
        return round_half_up_div(carat * OTHER_STONE_PER_CT, 100) + fee
    return round_half_up_div(carat * per_ct * math.prod(factors), 100 * BP ** len(factors)) + fee


def setting_charge(stone: Mapping[str, Any]) -> int:
    if stone["type"] == "pearl":
        return PEARL_SETTING
    return _band(SETTING, stone["carat_cents"])


def tag_step(amount: int, scale: int) -> int:
    """The step a boutique rounds a tag of `amount` (minor units) up to."""
    for below, step in TAG_STEPS:
        if below is None or amount < below * scale:
            return step * scale
    raise AssertionError("unreachable")


def price_piece(piece: Mapping[str, Any], currency: str = "EUR") -> Price:
    """Cost and tag price of a piece from what it is made of (the fields it is stored with).

    Pure and exact: metal = weight (mg) × fineness (‰) × price of the fine metal per gram;
    making = the category's charge (a watch's movement included) plus setting each stone,
    times the house's premium and platinum's harder working; stones by `stone_value`. Cost
    is their sum; the tag marks the setting and the stones up (`MARKUP`) and rounds up
    (`TAG_STEPS`). The price list is in euros; a store in another currency gets the same
    figures in its own major unit (there are no exchange rates here)."""
    category = piece["category"]
    stones = piece.get("stones") or []
    metal_cents = 0
    if piece.get("metal") and piece.get("metal_weight_mg"):
        # The fine metal's price a gram, for the piece's alloy: metals.py's one arithmetic.
        metal_cents = metals.round_amount(metals.metal_value(
            piece["metal_weight_mg"], piece.get("fineness") or 1000,
            METAL_PRICE_PER_G.get(piece["metal"], 0), 1000))
    base = MAKING.get(category, MAKING["ring"])
    if category == "watch":
        text = (piece.get("description") or "").lower()
        base += next((v for word, v in MOVEMENTS.items() if word in text), 0)
    premium = HOUSE_PREMIUM.get(piece.get("designer") or "", BP)
    working = WORKING.get(piece.get("metal") or "", BP)
    making_cents = round_half_up_div(
        (base + sum(setting_charge(s) for s in stones)) * premium * working, BP * BP)
    stone_cents = sum(stone_value(s) for s in stones)
    setting_bp, stones_bp = MARKUP.get(category, JEWELLERY_MARKUP)
    digits = minor_units(currency)
    scale = 10 ** digits

    def minor(cents: int) -> int:
        return round_half_up_div(cents * scale, 100)

    metal, making, stone_part = minor(metal_cents), minor(making_cents), minor(stone_cents)
    retail = round_half_up_div((metal + making) * setting_bp + stone_part * stones_bp, BP)
    step = tag_step(retail, scale)
    return Price(metal=metal, making=making, stones=stone_part,
                 cost=metal + making + stone_part, tag_price=-(-retail // step) * step)


# -- the houses ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Metal:
    metal: str
    fineness: int | None
    karat: int | None
    colour: str | None
    density_bp: int  # weight against 18k gold for the same piece

    @property
    def text(self) -> str:
        if self.metal == "gold":
            return f"{self.karat}k {self.colour} gold"
        return {"silver": "sterling silver"}.get(self.metal, self.metal)


Y18 = Metal("gold", 750, 18, "yellow", BP)
W18 = Metal("gold", 750, 18, "white", BP)
R18 = Metal("gold", 750, 18, "rose", BP)
PT = Metal("platinum", 950, None, None, 13_700)
PD = Metal("palladium", 950, None, None, 7_700)
AG = Metal("silver", 925, None, None, 6_700)
STEEL = Metal("steel", None, None, None, BP)
TITANIUM = Metal("titanium", None, None, None, BP)


@dataclass(frozen=True, slots=True)
class House:
    name: str
    premium_bp: int  # on the making charge: a Place Vendôme house is not a high-street brand
    collections: tuple[str, ...]
    categories: dict[str, int]  # what it makes, with weights
    metals: tuple[tuple[Metal, int], ...]
    stones: dict[str, int]  # centre stones it favours, with weights


HOUSES = (
    House("Maison Aurore", 18_000, ("Étoile", "Nocturne", "Aube"),
          {"ring": 32, "earrings": 16, "necklace": 14, "pendant": 12, "bracelet": 12,
           "brooch": 5, "watch": 4, "loose stone": 5},
          ((PT, 35), (W18, 30), (Y18, 20), (R18, 15)),
          {"diamond": 70, "sapphire": 10, "ruby": 8, "emerald": 10, "pearl": 2}),
    House("Castellane", 16_000, ("Riviera", "Lumière", "Constellation"),
          {"ring": 30, "earrings": 15, "necklace": 15, "bracelet": 14, "pendant": 10,
           "watch": 6, "brooch": 4, "loose stone": 6},
          ((PT, 30), (W18, 35), (Y18, 25), (R18, 10)),
          {"diamond": 65, "sapphire": 15, "ruby": 10, "emerald": 10}),
    House("Halden & Fils", 14_000, ("Heritage", "Regent"),
          {"watch": 30, "cufflinks": 20, "ring": 28, "bracelet": 10, "pendant": 7,
           "loose stone": 5},
          ((Y18, 40), (W18, 20), (R18, 10), (PT, 20), (PD, 10)),
          {"diamond": 60, "sapphire": 25, "ruby": 8, "emerald": 7}),
    House("Verdier", 12_000, ("Cascade", "Sève"),
          {"ring": 35, "earrings": 20, "pendant": 15, "necklace": 10, "bracelet": 15,
           "brooch": 5},
          ((Y18, 35), (W18, 35), (R18, 20), (PT, 10)),
          {"diamond": 60, "sapphire": 15, "ruby": 10, "emerald": 5, "pearl": 10}),
    House("Oriane Vos", 13_000, ("Fauve", "Lagune"),
          {"ring": 35, "earrings": 25, "pendant": 15, "necklace": 10, "bracelet": 10,
           "brooch": 5},
          ((R18, 45), (Y18, 40), (W18, 15)),
          {"diamond": 25, "sapphire": 30, "ruby": 20, "emerald": 25}),
    House("Marchetti", 10_000, ("Catena", "Sole"),
          {"necklace": 30, "bracelet": 30, "earrings": 20, "ring": 15, "pendant": 5},
          ((Y18, 55), (W18, 20), (R18, 25)),
          {"diamond": 80, "sapphire": 10, "ruby": 5, "emerald": 5}),
    House("Studio Ilse", 9_000, ("Dune", "Fjord"),
          {"ring": 30, "earrings": 25, "necklace": 15, "bracelet": 15, "pendant": 15},
          ((AG, 50), (Y18, 30), (R18, 20)),
          {"diamond": 50, "sapphire": 30, "ruby": 5, "emerald": 5, "pearl": 10}),
    House("Kōno", 12_000, ("Nami", "Tsuki"),
          {"necklace": 30, "earrings": 30, "pendant": 20, "bracelet": 10, "ring": 10},
          ((Y18, 40), (W18, 30), (PT, 15), (AG, 15)),
          {"pearl": 85, "diamond": 15}),
)
DESIGNERS = tuple(h.name for h in HOUSES)
HOUSE_PREMIUM = {h.name: h.premium_bp for h in HOUSES}
# How much of a boutique's stock each house supplies.
HOUSE_SHARES = tuple(zip(HOUSES, (14, 12, 10, 16, 12, 14, 12, 10), strict=True))
CATEGORY_CODES = {"ring": "RG", "earrings": "ER", "pendant": "PD", "necklace": "NK",
                  "bracelet": "BR", "brooch": "BH", "cufflinks": "CL", "watch": "WA",
                  "loose stone": "LS"}
_GENERIC_WORDS = {"MAISON", "STUDIO", "ATELIER", "FILS", "ET", "AND", "DE", "LA", "LE"}


def ascii_fold(text: str) -> str:
    """Accents folded away: Kōno -> Kono, Lumière -> Lumiere."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def house_code(name: str) -> str:
    """A house's four-letter SKU code: its first distinctive word, folded to ASCII."""
    words = ["".join(ch for ch in w if ch.isalnum()) for w in ascii_fold(name).upper().split()]
    words = [w for w in words if w]
    distinctive = [w for w in words if w not in _GENERIC_WORDS] or words or ["HOUSE"]
    return distinctive[0][:4]


HOUSE_CODES = {h.name: house_code(h.name) for h in HOUSES}  # a test checks they are unique


def sku_of(designer: str, category: str, style_no: int) -> str:
    return f"{HOUSE_CODES.get(designer) or house_code(designer)}-{CATEGORY_CODES[category]}" \
           f"-{style_no:04d}"


# -- stones -------------------------------------------------------------------------------------

def _pick(rng: Random, weighted: dict[Any, int] | tuple[tuple[Any, int], ...]) -> Any:
    """One choice from (choice, weight) pairs or a {choice: weight} dict (one draw)."""
    pairs = tuple(weighted.items()) if type(weighted) is dict else weighted
    total = 0
    for _, weight in pairs:
        total += weight
    x = rng.random() * total
    for choice, weight in pairs:
        x -= weight
        if x < 0:
            return choice
    return pairs[-1][0]


COLOURS_ALL = (("D", 4), ("E", 10), ("F", 20), ("G", 28), ("H", 22), ("I", 10), ("J", 6))
CLARITIES_ALL = (("IF", 3), ("VVS1", 8), ("VVS2", 14), ("VS1", 25), ("VS2", 25), ("SI1", 17),
                 ("SI2", 8))
# A boutique's centre diamonds of a carat and more are near-colourless and eye clean.
COLOURS_FINE = COLOURS_ALL[:5]
CLARITIES_FINE = CLARITIES_ALL[:6]
MELEE_GRADES = ((("F", "VS1"), 30), (("G", "VS1"), 30), (("G", "VS2"), 20), (("E", "VVS2"), 10),
                (("H", "SI1"), 10))
DIAMOND_SHAPES = (("round", 50), ("oval", 12), ("cushion", 10), ("emerald", 7), ("pear", 7),
                  ("princess", 5), ("radiant", 4), ("marquise", 3), ("Asscher", 2))
COLOURED_SHAPES = {"sapphire": (("oval", 40), ("cushion", 35), ("round", 15), ("pear", 10)),
                   "ruby": (("oval", 45), ("cushion", 35), ("round", 10), ("pear", 10)),
                   "emerald": (("emerald", 60), ("oval", 15), ("pear", 10), ("cushion", 15))}
COLOURED_GRADES = {
    "sapphire": ((("royal blue", 30), ("cornflower blue", 15), ("blue", 35), ("pink", 12),
                  ("yellow", 8)),
                 (("Ceylon", 45), ("Madagascar", 37), ("Burma", 18)),
                 (("heated", 80), ("no heat", 20))),
    "ruby": ((("pigeon blood red", 15), ("red", 55), ("purplish red", 30)),
             (("Mozambique", 55), ("Burma", 25), ("Thailand", 20)),
             (("heated", 80), ("no heat", 20))),
    "emerald": ((("vivid green", 35), ("green", 65)),
                (("Colombia", 40), ("Zambia", 45), ("Brazil", 15)),
                (("minor oil", 50), ("insignificant oil", 30), ("moderate oil", 15),
                 ("no oil", 5))),
}
# Sizes buyers ask for: stones are cut to just reach them.
MAGIC_SIZES = (30, 40, 50, 70, 75, 90, 100, 101, 120, 150, 151, 170, 200, 201, 250, 300, 301,
               350, 400, 500, 505)
PEARL_COLOURS = {"freshwater": (("white", 60), ("pink", 25), ("lavender", 15)),
                 "Akoya": (("white", 55), ("cream", 25), ("rosé", 20)),
                 "Tahitian": (("peacock", 40), ("grey", 30), ("aubergine", 15), ("black", 15)),
                 "South Sea": (("white", 50), ("golden", 35), ("silver", 15))}
PEARL_SIZES = {"freshwater": (60, 110), "Akoya": (60, 90), "Tahitian": (80, 130),
               "South Sea": (90, 150)}
SHAPE_WORDS = {"emerald": "emerald-cut"}


def _carat(rng: Random, lo: int, hi: int) -> int:
    """A centre stone's weight in [lo, hi]: small ones are commoner, and often a magic size."""
    span = hi / lo
    carat = int(lo * span ** (rng.random() ** 1.6))
    if rng.random() < 0.45:
        at_least = [m for m in MAGIC_SIZES if carat <= m <= hi]
        if at_least:
            carat = at_least[0]
    return max(lo, min(hi, carat))


def _certificate(rng: Random, lab: str) -> str:
    if lab == "GIA":
        return str(rng.choice((1, 2, 5, 6))) + f"{rng.randrange(10**9):09d}"
    if lab == "GRS":
        return f"GRS20{rng.randint(18, 25)}-{rng.randrange(10**6):06d}"
    if lab in ("SSEF", "Gübelin"):
        return f"{rng.randint(18, 25)}{rng.randrange(10**6):06d}"
    return f"{rng.randrange(10**9):09d}"


def centre_diamond(rng: Random, lo: int, hi: int) -> dict[str, Any]:
    carat = _carat(rng, lo, hi)
    fine = carat >= 100
    stone = {"type": "diamond", "carat_cents": carat, "shape": _pick(rng, DIAMOND_SHAPES),
             "colour": _pick(rng, COLOURS_FINE if fine else COLOURS_ALL),
             "clarity": _pick(rng, CLARITIES_FINE if fine else CLARITIES_ALL)}
    if carat >= 30:
        stone["lab"] = _pick(rng, (("GIA", 65), ("HRD", 15), ("IGI", 20)))
        stone["certificate"] = _certificate(rng, stone["lab"])
    return stone


def centre_coloured(rng: Random, kind: str, lo: int, hi: int) -> dict[str, Any]:
    carat = _carat(rng, lo, hi)
    colours, origins, treatments = COLOURED_GRADES[kind]
    origin = _pick(rng, origins)
    if kind == "emerald" and carat >= 150 and origin == "Brazil":
        origin = "Zambia"  # certified large emeralds here are Colombian or Zambian
    stone = {"type": kind, "carat_cents": carat, "shape": _pick(rng, COLOURED_SHAPES[kind]),
             "colour": _pick(rng, colours), "clarity": f"{origin}, {_pick(rng, treatments)}"}
    if carat >= 100:
        stone["lab"] = _pick(rng, (("SSEF", 35), ("Gübelin", 30), ("GRS", 35)))
        stone["certificate"] = _certificate(rng, stone["lab"])
    return stone


def pearl(variety: str, mm_tenths: int, colour: str, grade: str,
          shape: str = "round") -> dict[str, Any]:
    return {"type": "pearl", "carat_cents": pearl_carat_cents(mm_tenths), "shape": shape,
            "colour": colour, "clarity": f"{variety}, {grade}"}


def _pearl_kind(rng: Random, fine: bool) -> tuple[str, str, str]:
    variety = _pick(rng, (("Akoya", 40), ("South Sea", 30), ("Tahitian", 20), ("freshwater", 10))
                    if fine else (("freshwater", 70), ("Akoya", 30)))
    return (variety, _pick(rng, PEARL_COLOURS[variety]),
            _pick(rng, (("AAA", 35), ("AA+", 40), ("AA", 25))))


def melee(n: int, carat_each: int, grade: tuple[str, str], shape: str = "round"
          ) -> list[dict[str, Any]]:
    colour, clarity = grade
    stone = {"type": "diamond", "carat_cents": carat_each, "shape": shape, "colour": colour,
             "clarity": clarity}
    return [dict(stone) for _ in range(n)]


def pave(rng: Random, lo: int, hi: int) -> list[dict[str, Any]]:
    """A pavé of lo..hi melee of 1 or 2 points."""
    grade = _pick(rng, MELEE_GRADES)
    n = rng.randint(lo, hi)
    twos = rng.randint(0, n)
    return melee(twos, 2, grade) + melee(n - twos, 1, grade)


def ct(carat_cents: int) -> str:
    return f"{carat_cents // 100}.{carat_cents % 100:02d} ct"


def mm(tenths: int) -> str:
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


PLURALS = {"ruby": "rubies"}


def _grade(stone: Mapping[str, Any]) -> str:
    if stone["type"] == "diamond":
        return f"{stone['colour']} {stone['clarity']}"
    return ", ".join([stone["colour"], *_words(stone.get("clarity"))])


def _pearl_words(stone: Mapping[str, Any], noun: str) -> str:
    variety, *grade = _words(stone.get("clarity"))
    form = "" if stone.get("shape") == "round" else f"{stone['shape']} "
    return f"{mm(pearl_mm_tenths(stone['carat_cents']))} mm {stone['colour']} {variety}" \
           f" {form}{noun}" + (f", {grade[0]}" if grade else "")


def stone_text(stone: Mapping[str, Any], *, lab: bool = True, noun: bool = True) -> str:
    """'1.20 ct oval diamond, F VS1, GIA'; '8.5 mm white Akoya pearl, AAA' (never carats)."""
    if stone["type"] == "pearl":
        return _pearl_words(stone, "pearl")
    shape = SHAPE_WORDS.get(stone.get("shape") or "", stone.get("shape") or "")
    name = f" {stone['type']}" if noun else ""
    text = f"{ct(stone['carat_cents'])} {shape}{name}, {_grade(stone)}"
    return text + (f", {stone['lab']}" if lab and stone.get("lab") else "")


def pair_text(stone: Mapping[str, Any]) -> str:
    """A matched pair: '2 pear rubies 1.60 ct total, red, Mozambique, heated';
    '11 mm golden South Sea drop pearls, AAA'."""
    if stone["type"] == "pearl":
        return _pearl_words(stone, "pearls")
    shape = SHAPE_WORDS.get(stone.get("shape") or "", stone.get("shape") or "")
    plural = PLURALS.get(stone["type"], stone["type"] + "s")
    return f"2 {shape} {plural} {ct(2 * stone['carat_cents'])} total, {_grade(stone)}"


def total_text(stones: list[dict[str, Any]], what: str = "diamonds") -> str:
    """'22 round diamonds 2.20 ct total'."""
    total = sum(s["carat_cents"] for s in stones)
    shape = stones[0].get("shape") or ""
    return f"{len(stones)} {shape} {what} {ct(total)} total".replace("  ", " ")


# -- styles -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Design:
    """What a style is made of, before it has a house's name and number."""

    word: str
    weight_mg: int  # for 18k gold; other metals scale by density
    stones: list[dict[str, Any]]
    text: str = ""  # what follows "<metal> <word>" in the description
    metal: Metal | None = None  # forced (a watch case, a pearl strand's clasp)
    clasp: bool = False  # strung pearls: "<word>, <text>, <metal> clasp"


def _weight(rng: Random, lo: int, hi: int) -> int:
    return rng.randint(lo, hi) // 10 * 10


def _centre(rng: Random, house: House, *, lo: int, hi: int, coloured_lo: int | None = None,
            coloured_hi: int | None = None, pearls: bool = False) -> dict[str, Any]:
    kinds = {k: w for k, w in house.stones.items() if pearls or k != "pearl"}
    kind = _pick(rng, kinds)
    if kind == "diamond":
        return centre_diamond(rng, lo, hi)
    if kind == "pearl":
        variety, colour, grade = _pearl_kind(rng, True)
        size_lo, size_hi = PEARL_SIZES[variety]
        return pearl(variety, rng.randint(size_lo, size_hi) // 5 * 5, colour, grade,
                     _pick(rng, (("round", 60), ("drop", 25), ("near-round", 15))))
    return centre_coloured(rng, kind, coloured_lo or max(lo, 50), coloured_hi or hi * 2)


def _with_side(centre_text: str, side: list[dict[str, Any]], how: str = "pavé diamonds") -> str:
    if not side:
        return centre_text
    return f"{centre_text}, {how} {ct(sum(s['carat_cents'] for s in side))}"


def ring(rng: Random, house: House, metal: Metal) -> Design:
    silver = metal.metal == "silver"
    design = _pick(rng, (("solitaire", 24), ("halo", 14), ("three-stone", 9), ("eternity", 10),
                         ("band", 22), ("signet", 7), ("cocktail", 10), ("pearl", 4))
                   if not silver else (("band", 50), ("stacking", 50)))
    if design == "band":
        width = rng.randint(20, 50)
        return Design("wedding band", width * 115 + rng.randint(-100, 100), [],
                      f"{mm(width)} mm")
    if design == "stacking":
        side = melee(rng.randint(3, 9), rng.choice((1, 2)), _pick(rng, MELEE_GRADES))
        return Design("stacking ring", _weight(rng, 1_500, 3_000), side,
                      total_text(side))
    if design == "signet":
        return Design("signet ring", _weight(rng, 8_000, 15_000), [], "engraved crest")
    if design == "eternity":
        size = rng.choice((5, 7, 10, 15))
        side = melee(rng.randint(16, 26) if size < 15 else rng.randint(14, 18), size,
                     _pick(rng, MELEE_GRADES))
        return Design("eternity band", _weight(rng, 2_800, 4_500), side, total_text(side))
    if design == "pearl" or (design == "solitaire" and house.stones.get("pearl", 0) > 50):
        variety, colour, grade = _pearl_kind(rng, True)
        lo, hi = PEARL_SIZES[variety]
        centre = pearl(variety, rng.randint(lo, hi) // 5 * 5, colour, grade)
        side = pave(rng, 0, 12) if rng.random() < 0.5 else []
        return Design("pearl ring", _weight(rng, 3_000, 5_000), [centre, *side],
                      _with_side(stone_text(centre), side))
    if design == "solitaire":
        centre = centre_diamond(rng, 30, 305)
        return Design("solitaire ring", _weight(rng, 2_800, 4_200), [centre], stone_text(centre))
    if design == "halo":
        centre = _centre(rng, house, lo=40, hi=200, coloured_lo=80, coloured_hi=300)
        side = melee(rng.randint(12, 18), rng.choice((1, 2)), _pick(rng, MELEE_GRADES))
        return Design("halo ring", _weight(rng, 3_500, 5_500), [centre, *side],
                      _with_side(stone_text(centre), side, "diamond halo"))
    if design == "three-stone":
        centre = _centre(rng, house, lo=50, hi=200, coloured_lo=80, coloured_hi=300)
        each = max(10, centre["carat_cents"] // 3)
        side = melee(2, each, _pick(rng, MELEE_GRADES),
                     "pear" if rng.random() < 0.3 else "round")
        return Design("three-stone ring", _weight(rng, 3_500, 5_000), [centre, *side],
                      f"{stone_text(centre)}, two {side[0]['shape']} diamonds"
                      f" {ct(2 * each)}")
    # cocktail: a big coloured stone (or diamond) in a pavé of melee
    kind = _pick(rng, {k: w for k, w in house.stones.items() if k != "pearl"})
    centre = (centre_diamond(rng, 150, 505) if kind == "diamond"
              else centre_coloured(rng, kind, 200, 650))
    side = pave(rng, 12, 30)
    return Design("cocktail ring", _weight(rng, 6_000, 10_000), [centre, *side],
                  _with_side(stone_text(centre), side))


def earrings(rng: Random, house: House, metal: Metal) -> Design:
    silver = metal.metal == "silver"
    pearls = house.stones.get("pearl", 0)
    design = _pick(rng, (("studs", 40), ("pearl studs", 5 + pearls), ("drops", 25),
                         ("hoops", 20), ("chandelier", 0 if silver else 4)))
    if design == "pearl studs" or (design == "studs" and silver):
        variety, colour, grade = _pearl_kind(rng, not silver)
        lo, hi = PEARL_SIZES[variety]
        one = pearl(variety, rng.randint(lo, min(hi, lo + 30)) // 5 * 5, colour, grade)
        return Design("pearl studs", _weight(rng, 800, 1_600), [one, dict(one)], pair_text(one))
    if design == "studs":
        kind = _pick(rng, {k: w for k, w in house.stones.items() if k != "pearl"})
        one = (centre_diamond(rng, 15, 150) if kind == "diamond"
               else centre_coloured(rng, kind, 30, 120))
        return Design("stud earrings", _weight(rng, 1_200, 2_400), [one, dict(one)],
                      pair_text(one))
    if design == "hoops":
        width = rng.randint(15, 45)
        side = pave(rng, 16, 32) if not silver and rng.random() < 0.3 else []
        return Design("hoop earrings", _weight(rng, 2_500, 9_000), side,
                      f"{width} mm" + (f", {total_text(side)}" if side else ""))
    if design == "drops":
        if silver:
            variety, colour, grade = _pearl_kind(rng, False)
            one = pearl(variety, rng.randint(70, 90) // 5 * 5, colour, grade, "drop")
            return Design("drop earrings", _weight(rng, 2_000, 4_000), [one, dict(one)],
                          pair_text(one))
        one = _centre(rng, house, lo=20, hi=100, coloured_lo=50, coloured_hi=200, pearls=True)
        if one["type"] == "pearl":
            one["shape"] = "drop"
        side = pave(rng, 8, 16) if rng.random() < 0.5 else []
        return Design("drop earrings", _weight(rng, 2_500, 5_500), [one, dict(one), *side],
                      _with_side(pair_text(one), side))
    kind = _pick(rng, (("sapphire", 40), ("ruby", 25), ("emerald", 35)))
    one = centre_coloured(rng, kind, 100, 300)
    side = pave(rng, 24, 40)
    return Design("chandelier earrings", _weight(rng, 7_000, 14_000), [one, dict(one), *side],
                  _with_side(pair_text(one), side))


def pendant(rng: Random, house: House, metal: Metal) -> Design:
    silver = metal.metal == "silver"
    design = _pick(rng, (("solitaire", 30 if not silver else 5), ("pearl", 10 +
                                                                  house.stones.get("pearl", 0)),
                         ("coloured", 20 if not silver else 0), ("medallion", 20),
                         ("locket", 15)))
    if design == "medallion":
        side = melee(1, rng.choice((3, 5)), _pick(rng, MELEE_GRADES)) if rng.random() < 0.4 \
            else []
        return Design("medallion", _weight(rng, 4_000, 9_000), side,
                      "engraved" + (f", {stone_text(side[0], lab=False)}" if side else ""))
    if design == "locket":
        return Design("locket", _weight(rng, 5_000, 11_000), [], "oval, on a chain")
    if design == "pearl":
        variety, colour, grade = _pearl_kind(rng, not silver)
        lo, hi = PEARL_SIZES[variety]
        centre = pearl(variety, rng.randint(lo, hi) // 5 * 5, colour, grade,
                       _pick(rng, (("drop", 50), ("round", 35), ("baroque", 15))))
        side = melee(rng.randint(1, 4), 2, _pick(rng, MELEE_GRADES)) \
            if not silver and rng.random() < 0.5 else []
        return Design("pearl pendant", _weight(rng, 1_800, 3_500), [centre, *side],
                      _with_side(stone_text(centre), side, "diamonds"))
    if design == "solitaire":
        centre = centre_diamond(rng, 15 if silver else 20, 40 if silver else 150)
        return Design("solitaire pendant", _weight(rng, 1_800, 3_200), [centre],
                      stone_text(centre))
    kind = _pick(rng, {k: w for k, w in house.stones.items() if k != "pearl"})
    centre = (centre_diamond(rng, 30, 150) if kind == "diamond"
              else centre_coloured(rng, kind, 50, 300))
    side = melee(rng.randint(12, 20), 1, _pick(rng, MELEE_GRADES))
    return Design("halo pendant", _weight(rng, 2_500, 4_500), [centre, *side],
                  _with_side(stone_text(centre), side, "diamond halo"))


def necklace(rng: Random, house: House, metal: Metal) -> Design:
    silver = metal.metal == "silver"
    pearls = house.stones.get("pearl", 0)
    design = _pick(rng, (("strand", 2 + pearls // 2), ("riviere", 0 if silver else 6),
                         ("chain", 35), ("station", 15 if not silver else 0),
                         ("collier", 2 if house.premium_bp >= 16_000 else 0)))
    if design == "strand":
        variety, colour, grade = _pearl_kind(rng, not silver)
        lo, hi = PEARL_SIZES[variety]
        small = rng.randint(lo, max(lo, hi - 20)) // 5 * 5
        large = min(hi, small + rng.choice((0, 5, 10, 20)))
        length = rng.choice((420, 450, 450, 500))  # mm
        count = length * 10 // ((small + large) // 2)
        # Graduated: the largest pearls at the centre of the strand.
        sizes = [small + (large - small) * min(i, count - 1 - i) * 2 // max(1, count - 1)
                 for i in range(count)]
        strand = [pearl(variety, s // 5 * 5, colour, grade) for s in sizes]
        size = f"{mm(small)}-{mm(large)} mm" if large > small else f"{mm(small)} mm"
        return Design(f"{variety} pearl strand", _weight(rng, 1_000, 2_500), strand,
                      f"{size}, {colour}, {grade}, {length // 10} cm",
                      metal=metal if metal.metal != "silver" or variety == "freshwater" else Y18,
                      clasp=True)
    if design == "riviere":
        size = rng.choice((10, 15, 20, 30))
        side = melee(rng.randint(30, 50), size, _pick(rng, MELEE_GRADES[:4]))
        return Design("rivière necklace", _weight(rng, 14_000, 24_000), side, total_text(side))
    if design == "collier":
        centre = centre_coloured(rng, _pick(rng, (("sapphire", 40), ("ruby", 20),
                                                  ("emerald", 40))), 500, 1_200)
        side = melee(rng.randint(60, 110), rng.choice((5, 10)), _pick(rng, MELEE_GRADES[:2]))
        return Design("high jewellery collier", _weight(rng, 35_000, 60_000), [centre, *side],
                      f"{stone_text(centre)}, {total_text(side)}")
    if design == "station":
        n = rng.choice((5, 7, 9))
        side = melee(n, rng.choice((10, 15, 20, 25)), _pick(rng, MELEE_GRADES))
        return Design("station necklace", _weight(rng, 3_500, 7_000), side,
                      f"{total_text(side)}, 45 cm")
    style = _pick(rng, (("curb", 30), ("rope", 20), ("box", 20), ("Figaro", 15),
                        ("paper-clip", 15)))
    length = rng.choice((40, 42, 45, 50, 60))
    return Design(f"{style} chain necklace", _weight(rng, 4_000, 30_000) * length // 45, [],
                  f"{length} cm")


def bracelet(rng: Random, house: House, metal: Metal) -> Design:
    silver = metal.metal == "silver"
    design = _pick(rng, (("tennis", 0 if silver else 14), ("bangle", 30), ("cuff", 18),
                         ("chain", 28), ("pearl", 2 + house.stones.get("pearl", 0) // 4)))
    if design == "tennis":
        size = rng.choice((5, 7, 10, 15, 20))
        side = melee(rng.randint(32, 48) if size <= 10 else rng.randint(26, 36), size,
                     _pick(rng, MELEE_GRADES))
        return Design("tennis bracelet", _weight(rng, 9_000, 16_000), side, total_text(side))
    if design == "pearl":
        variety = _pick(rng, (("Akoya", 60), ("freshwater", 40)))
        colour = _pick(rng, PEARL_COLOURS[variety])
        grade = _pick(rng, (("AAA", 35), ("AA+", 40), ("AA", 25)))
        size = rng.randint(60, 80) // 5 * 5
        strand = [pearl(variety, size, colour, grade) for _ in range(rng.randint(22, 26))]
        return Design(f"{variety} pearl bracelet", _weight(rng, 800, 2_000), strand,
                      f"{mm(size)} mm, {colour}, {grade}, 18 cm", clasp=True)
    if design == "bangle":
        side = pave(rng, 24, 48) if not silver and rng.random() < 0.2 else []
        word = "pavé bangle" if side else "bangle"
        return Design(word, _weight(rng, 14_000, 30_000), side,
                      total_text(side) if side else "polished")
    if design == "cuff":
        return Design("cuff", _weight(rng, 25_000, 50_000), [], "hammered")
    style = _pick(rng, (("curb", 40), ("link", 35), ("rope", 25)))
    return Design(f"{style} chain bracelet", _weight(rng, 5_000, 15_000), [], "19 cm")


def brooch(rng: Random, house: House, metal: Metal) -> Design:
    motif = _pick(rng, (("flower", 30), ("bow", 20), ("bee", 15), ("leaf", 20), ("star", 15)))
    centre = _centre(rng, house, lo=50, hi=200, coloured_lo=100, coloured_hi=400, pearls=True)
    side = pave(rng, 16, 40)
    return Design(f"{motif} brooch", _weight(rng, 8_000, 20_000), [centre, *side],
                  _with_side(stone_text(centre), side))


def cufflinks(rng: Random, house: House, metal: Metal) -> Design:
    shape = _pick(rng, (("oval", 35), ("knot", 25), ("square", 25), ("round", 15)))
    if rng.random() < 0.3:
        one = {**centre_coloured(rng, "sapphire", 50, 99), "shape": "cabochon"}
        return Design(f"{shape} cufflinks", _weight(rng, 8_000, 16_000), [one, dict(one)],
                      pair_text(one))
    return Design(f"{shape} cufflinks", _weight(rng, 8_000, 16_000), [], "engraved")


def watch(rng: Random, house: House, metal: Metal) -> Design:
    case = _pick(rng, ((STEEL, 40), (TITANIUM, 10), (Y18, 15), (R18, 15), (W18, 10), (PT, 10)))
    movement = _pick(rng, (("automatic", 50), ("quartz", 20), ("chronograph", 20),
                           ("moon phase", 10)))
    size = rng.choice((28, 32, 34, 36, 38, 39, 40, 41, 42))
    if case.metal == "steel":
        weight = _weight(rng, 60_000, 130_000)
    elif case.metal == "titanium":
        weight = _weight(rng, 35_000, 70_000)
    elif case.metal == "platinum":
        weight = _weight(rng, 45_000, 70_000)
    else:
        weight = _weight(rng, 25_000, 45_000)
    weight = weight * size // 40
    stones: list[dict[str, Any]] = []
    text = f"{size} mm"
    setting = rng.random()
    if size <= 36 and setting < 0.3:
        stones = melee(rng.randint(32, 60), 1, _pick(rng, MELEE_GRADES[:2]))
        text += f", diamond bezel {ct(len(stones))}"
    elif setting < 0.1:
        stones = melee(12, 1, _pick(rng, MELEE_GRADES[:2]))
        text += ", 12 diamond hour markers"
    return Design(f"{movement} watch", weight, stones, text, metal=case)


def loose_stone(rng: Random, house: House, metal: Metal) -> Design:
    kind = _pick(rng, (("diamond", 55), ("sapphire", 18), ("ruby", 12), ("emerald", 15)))
    stone = (centre_diamond(rng, 50, 505) if kind == "diamond"
             else centre_coloured(rng, kind, 100, 800))
    if not stone.get("lab"):
        stone["lab"] = "GIA" if kind == "diamond" else "SSEF"
        stone["certificate"] = _certificate(rng, stone["lab"])
    return Design(f"loose {kind}", 0, [stone], stone_text(stone, noun=False))


DESIGNS = {"ring": ring, "earrings": earrings, "pendant": pendant, "necklace": necklace,
           "bracelet": bracelet, "brooch": brooch, "cufflinks": cufflinks, "watch": watch,
           "loose stone": loose_stone}
LOCATIONS = ("showcase-1", "showcase-2", "showcase-3", "window", "safe", "tray-A", "tray-B")
# Pieces above this tag (major units) and loose stones sleep in the safe.
SAFE_ABOVE = 50_000
ONE_OFF_ABOVE = 20_000  # a boutique holds one of a piece above this tag


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def make_style(rng: Random, house: House, category: str, style_no: int,
               tax_code: str, currency: str = "EUR") -> dict[str, Any]:
    """One style of a house: everything its pieces share (no serial, location, certificates
    of their own yet), priced by `price_piece`."""
    metal = _pick(rng, house.metals)
    design = DESIGNS[category](rng, house, metal)
    metal = design.metal or metal
    style: dict[str, Any] = {"sku": sku_of(house.name, category, style_no),
                             "category": category, "designer": house.name,
                             "collection": rng.choice(house.collections), "tax_code": tax_code}
    if category == "loose stone":
        description = f"{design.word}, {design.text}"
    else:
        weight = design.weight_mg if category == "watch" else \
            design.weight_mg * metal.density_bp // BP
        style.update(metal=metal.metal, fineness=metal.fineness, karat=metal.karat,
                     metal_colour=metal.colour, metal_weight_mg=max(100, weight))
        if design.clasp:
            description = f"{design.word}, {design.text}, {metal.text} clasp"
        else:
            description = f"{metal.text} {design.word}" + \
                (f", {design.text}" if design.text else "")
    style["description"] = _sentence(description)
    style["stones"] = design.stones
    price = price_piece(style, currency)
    style.update(cost=price.cost, tag_price=price.tag_price)
    return style


def piece_of(rng: Random, style: dict[str, Any], serial: int,
             scale: int = 100) -> dict[str, Any]:
    """A piece of `style`: its serial, where it sits, who owns it, its stones' certificates."""
    stones = []
    for stone in style["stones"]:
        if stone.get("lab"):
            stone = {**stone, "certificate": _certificate(rng, stone["lab"])}
        stones.append(stone)
    piece = {**style, "item_id": f"LP-{serial:06d}", "stones": stones}
    if style["category"] == "loose stone" or style["tag_price"] >= SAFE_ABOVE * scale:
        piece["location"] = "safe"
    else:
        piece["location"] = _pick(rng, (("showcase-1", 20), ("showcase-2", 20),
                                        ("showcase-3", 20), ("window", 12), ("tray-A", 12),
                                        ("tray-B", 12), ("safe", 4)))
    piece["ownership"] = _pick(rng, (("owned", 85), ("memo", 10), ("consignment", 5)))
    if piece["ownership"] != "owned":
        piece["vendor"] = style["designer"]  # on memo from the house itself
    return piece


def _copies(rng: Random, style: dict[str, Any], scale: int = 100) -> int:
    """How many of a style the boutique holds: unique stones and loose stones are one-offs."""
    centre = style["stones"][0] if style["stones"] else None
    if style["category"] == "loose stone" or style["tag_price"] >= ONE_OFF_ABOVE * scale or (
            centre and centre["carat_cents"] >= 100 and centre["type"] != "pearl"):
        return 1
    return _pick(rng, ((1, 75), (2, 17), (3, 8)))


class Workshop:
    """Makes styles and their pieces, numbering each house's styles per category.

    `numbers` holds the last style number taken per SKU prefix (e.g. "AURO-RG"), so a store
    that already has generated stock gets new numbers, not its old SKUs again."""

    def __init__(self, rng: Random, tax_code: str, currency: str = "EUR",
                 numbers: dict[str, int] | None = None) -> None:
        self.rng = rng
        self.tax_code = tax_code
        self.currency = currency
        self.scale = 10 ** minor_units(currency)
        self.numbers = dict(numbers or {})

    def style(self) -> dict[str, Any]:
        house = _pick(self.rng, HOUSE_SHARES)
        category = _pick(self.rng, house.categories)
        prefix = f"{HOUSE_CODES[house.name]}-{CATEGORY_CODES[category]}"
        number = self.numbers.get(prefix, 1000) + 1
        self.numbers[prefix] = number
        return make_style(self.rng, house, category, number, self.tax_code, self.currency)

    def pieces(self, count: int, first_serial: int = 1) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < count:
            style = self.style()
            for _ in range(min(_copies(self.rng, style, self.scale), count - len(out))):
                out.append(piece_of(self.rng, style, first_serial + len(out), self.scale))
        return out


def make_piece(rng: Random, n: int, tax_code: str) -> dict[str, Any]:
    """One piece of a one-off style numbered `n` (for callers that make pieces one by one)."""
    house = _pick(rng, HOUSE_SHARES)
    category = _pick(rng, house.categories)
    return piece_of(rng, make_style(rng, house, category, n, tax_code), n)


async def _style_numbers(store: Store) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for row in await store.ledger.fetch("SELECT DISTINCT sku FROM items"):
        prefix, _, number = (row["sku"] or "").rpartition("-")
        if prefix and number.isdigit():
            numbers[prefix] = max(numbers.get(prefix, 0), int(number))
    return numbers


# -- clients ------------------------------------------------------------------------------------

WOMEN = ("Camille", "Léa", "Zoë", "Inès", "Charlotte", "Margaux", "Sofia", "Aiko", "Amara",
         "Élodie", "Olivia", "Chloé", "Yasmine", "Priya", "Mei", "Anouk", "Clara", "Hélène",
         "Juliette", "Valentina", "Nadia", "Isabelle", "Béatrice", "Louise")
MEN = ("Hugo", "Louis", "Gabriel", "Arthur", "Raphaël", "Noah", "Jules", "Mateo", "Antoine",
       "Kenji", "Omar", "Thomas", "Étienne", "Pierre", "Luca", "Henri")
LAST = ("Marchand", "Dubois", "Laurent", "Moreau", "Fontaine", "Girard", "Rossi", "Nakamura",
        "Okafor", "Lefèvre", "Bernard", "Petit", "Haddad", "Schneider", "Costa", "Van Dijk",
        "Kowalski", "Singh", "Chen", "Morel", "Durand", "Roux", "Delacroix", "Benali",
        "Ferreira", "Lambert", "de Villiers", "Meyer")
# Paris streets that all share "rue du Faubourg", with their postcode.
STREETS = (("Saint-Honoré", "75008"), ("Saint-Antoine", "75011"), ("Montmartre", "75009"),
           ("Poissonnière", "75010"), ("Saint-Denis", "75010"), ("du Temple", "75011"),
           ("Saint-Jacques", "75014"))
LANGUAGES = (("fr", 72), ("en", 14), ("it", 4), ("de", 3), ("ja", 4), ("zh", 3))
TIERS = (("", 45), ("silver", 25), ("gold", 18), ("private client", 12))
NOTES = ("Prefers appointments on Saturday mornings.", "Collects Art Deco pieces.",
         "Allergic to nickel: gold and platinum only.", "Buys a gift each year in December.",
         "Looking for a matching pendant for her earrings.", "Ring to be resized after purchase.",
         "Likes to be called before new collections arrive.", "")
REFERENCE_YEAR = 2025  # the generator's "this year": no date is drawn after it


def _date(rng: Random, year: int) -> str:
    month = rng.randint(1, 12)
    return f"{year}-{month:02d}-{rng.randint(1, calendar.monthrange(year, month)[1]):02d}"


def _ring_sizes(rng: Random, woman: bool) -> dict[str, str]:
    """French sizes (inside circumference, mm): women mostly 50-55, men 59-65."""
    left = round(rng.gauss(52.5, 2.0) if woman else rng.gauss(62, 2.2))
    left = max(46, min(60, left)) if woman else max(55, min(70, left))
    sizes = {"left ring": str(left)}
    if rng.random() < 0.5:
        sizes["right ring"] = str(left + rng.choice((0, 1, 1)))
    if rng.random() < 0.2:
        sizes["right middle"] = str(left + rng.choice((1, 2)))
    return sizes


@dataclass(frozen=True)
class StockWords:
    """What the store's stock is made of, for clients' preferences to name only real things
    (metals, stones and colours as the vocabularies' keys)."""

    designers: tuple[str, ...] = ()
    metals: tuple[str, ...] = ()
    stones: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()


async def stock_words(store: Store) -> StockWords:
    rows = await store.ledger.fetch("SELECT DISTINCT designer, metal, metal_colour FROM items")
    stones = await store.ledger.fetch("SELECT DISTINCT type FROM item_stones ORDER BY type")
    metals = {r["metal"] for r in rows if r["metal"] in ("gold", "platinum", "silver",
                                                           "palladium")}
    colours = {r["metal_colour"] for r in rows if r["metal"] == "gold" and r["metal_colour"]}
    return StockWords(designers=tuple(sorted({r["designer"] for r in rows if r["designer"]})),
                      metals=tuple(sorted(metals)),
                      stones=tuple(r["type"] for r in stones if r["type"] in STONE),
                      colours=tuple(sorted(colours & set(COLOUR))))


# What an associate remembers from a conversation (made up, as the names are).
WORK = ("Architect", "Surgeon at the Pitié-Salpêtrière", "Runs a gallery in the Marais",
        "Lawyer, often in London", "Retired teacher", "Works in fashion (a couture house)",
        "Wine merchant in Bordeaux", "Pilot", "Owns two restaurants", "Cellist at the opera")
CHILDREN = ("Two daughters, 8 and 12", "A son at university in Lyon", "Twins, born in spring",
            "A grown-up daughter who loves pearls", "Expecting their first child",
            "Three boys; the eldest is getting engaged")
PETS = ("A greyhound called Pablo", "Two cats", "A Cavalier King Charles, Biscotte",
        "Rides at weekends; a mare called Étoile")
HOBBIES = ("Opera and ballet", "Sailing in Brittany", "Tennis on Sunday mornings",
           "Collects Art Deco glass", "Paints watercolours", "Golf", "Gardening, roses above all",
           "Travels to Japan every autumn")
PREFERENCE_NOTES = ("Prefers pieces she can wear every day.", "Nothing too heavy on the ear.",
                    "Loves old-cut diamonds.", "Likes to see the new collections first.", "")
DO_NOT_CONTACT = (("Bereavement: no calls for now", 120), ("Living abroad until the summer", 200),
                  ("Asked for no messages before the new year", 60))
NECKLACES_MM = (400, 420, 450, 500, 600, 800)  # the lengths necklaces are made in
BUDGETS = {"": ("0-1000", "1000-5000"), "silver": ("1000-5000", "5000-15000"),
           "gold": ("5000-15000", "15000-50000"), "private client": ("15000-50000", "50000-")}


def _deepen(profile: dict[str, Any], n: int, stock: StockWords, associates: tuple[str, ...],
            woman: bool) -> None:
    """What an associate learns over the years: lengths, tastes, a budget, the conversation,
    her associates, consent per channel (with when, by whom and how), now and then a
    do-not-contact period. Drawn from its own generator, seeded by the client, so adding
    depth does not change the rest of the store's data."""
    rng = Random(f"deep:{n}:{profile['emails'][0]}")
    lengths: dict[str, Any] = {}
    if rng.random() < 0.5:
        wrist = round(rng.gauss(158 if woman else 178, 8))
        lengths["wrist"] = {"mm": max(120, min(220, wrist)), "unit": "cm"}
        lengths["bracelet"] = {"mm": lengths["wrist"]["mm"] + rng.choice((10, 15, 20)),
                               "unit": "cm"}
    if woman and rng.random() < 0.45:
        lengths["necklace"] = {"mm": rng.choice(NECKLACES_MM), "unit": "cm"}
    if lengths:
        profile["lengths"] = lengths
    prefs = profile.setdefault("preferences", {})
    if stock.colours and "gold" in prefs.get("metals", ()) and rng.random() < 0.8:
        prefs["colours"] = rng.sample(stock.colours, min(len(stock.colours), rng.choice((1, 2))))
    prefs["styles"] = rng.sample(sorted(STYLE), rng.choice((1, 1, 2)))
    note = rng.choice(PREFERENCE_NOTES)
    if note:
        prefs["note"] = note
    profile["budget"] = rng.choice(BUDGETS[profile.get("tier") or ""])
    conversation = {}
    for topic, says, share in (("work", WORK, 0.6), ("children", CHILDREN, 0.35),
                               ("pets", PETS, 0.25), ("hobbies", HOBBIES, 0.5)):
        if rng.random() < share:
            conversation[topic] = rng.choice(says)
    if conversation:
        profile["conversation"] = conversation
    if associates:
        profile["primary_associate"] = rng.choice(associates)
        others = [a for a in associates if a != profile["primary_associate"]]
        if others and rng.random() < 0.3:
            profile["secondary_associate"] = rng.choice(others)
    by = profile.get("primary_associate") or "generator"
    consent: dict[str, list[dict[str, Any]]] = {}
    for channel, asked in (("email", 0.85), ("sms", 0.5), ("phone", 0.4), ("post", 0.3),
                           ("messaging", 0.25)):
        if rng.random() >= asked:
            continue
        month, day = rng.randint(1, 6), rng.randint(1, 28)
        changes = [{"marketing": rng.random() < 0.65,
                    "at": f"{REFERENCE_YEAR}-{month:02d}-{day:02d}T1{rng.randint(0, 8)}:00:00Z",
                    "by": by, "how": rng.choice(sorted(CONSENT_HOW))}]
        if rng.random() < 0.15:  # she changed her mind later that year
            changes.append({"marketing": not changes[0]["marketing"],
                            "at": f"{REFERENCE_YEAR}-{month + 6:02d}-{day:02d}T11:00:00Z",
                            "by": by, "how": rng.choice(("email_reply", "phone", "in_store"))})
        consent[channel] = changes
    profile["consent"] = consent
    if rng.random() < 0.04:
        reason, days = rng.choice(DO_NOT_CONTACT)
        start = date(REFERENCE_YEAR, rng.randint(1, 12), rng.randint(1, 28))
        profile["do_not_contact"] = [{"from": start.isoformat(), "reason": reason,
                                      "to": (start + timedelta(days=days)).isoformat()}]


def make_client(rng: Random, n: int, stock: StockWords | None = None, *,
                woman: bool | None = None, last: str | None = None,
                partner: dict[str, Any] | None = None,
                associates: tuple[str, ...] = ()) -> dict[str, Any]:
    """A made-up client: common first and last names drawn at random, an example.com e-mail,
    a phone number from the range France reserves for fiction, a Paris street; and the
    depth an associate's book has (`_deepen`), her associate among `associates`."""
    stock = stock or StockWords()
    woman = rng.random() < 0.7 if woman is None else woman
    first = rng.choice(WOMEN if woman else MEN)
    last = last or rng.choice(LAST)
    street, postcode = rng.choice(STREETS)
    language = _pick(rng, LANGUAGES)
    born = rng.randint(1950, 2001)
    if partner is not None:  # about the partner's age, and of age at the wedding
        born = int(partner["dates"]["birthday"][:4]) + rng.randint(-6, 6)
        married = partner["dates"]["anniversary"]
        if not married.startswith("--"):
            born = min(born, int(married[:4]) - 20)
    local = ascii_fold(f"{first}.{last}").lower().replace(" ", "").replace("'", "")
    profile: dict[str, Any] = {
        "title": "Mme" if woman else "M.", "first_name": first, "last_name": last,
        "emails": [f"{local}.{n}@example.com"],
        "phones": [f"+33 6 39 98 {n // 100 % 100:02d} {n % 100:02d}"],
        "addresses": [{"line1": f"{rng.randint(1, 180)} rue du Faubourg {street}",
                       "city": "Paris", "postcode": postcode, "country": "FR"}],
        "ring_sizes": _ring_sizes(rng, woman),
        "dates": {"birthday": _date(rng, born)},
        "language": language,
        "notes": rng.choice(NOTES),
        "tier": _pick(rng, TIERS),
    }
    if language == "en" and rng.random() < 0.5:
        profile["phones"].append(f"+44 7700 900{rng.randrange(1000):03d}")  # Ofcom's drama range
    prefs: dict[str, list[str]] = {}
    if stock.designers:
        prefs["designers"] = rng.sample(stock.designers, min(len(stock.designers),
                                                              rng.choice((1, 1, 2, 3))))
    if stock.stones:
        prefs["stones"] = rng.sample(stock.stones, min(len(stock.stones), rng.choice((1, 1, 2))))
    if stock.metals:
        prefs["metals"] = rng.sample(stock.metals, min(len(stock.metals), rng.choice((1, 1, 2))))
    if prefs:
        profile["preferences"] = prefs
    if partner is not None:  # a couple: one home, one anniversary
        profile["addresses"] = partner["addresses"]
        profile["dates"]["anniversary"] = partner["dates"]["anniversary"]
    elif rng.random() < 0.4:
        married = rng.randint(min(born + 22, REFERENCE_YEAR), REFERENCE_YEAR)
        profile["dates"]["anniversary"] = (_date(rng, married) if rng.random() < 0.7
                                           else "--" + _date(rng, 2001)[5:])
    _deepen(profile, n, stock, associates, woman)
    return {k: v for k, v in profile.items() if v}


def client_id(rng: Random) -> str:
    """A client id shaped like the client book's own (C + 10 base32 letters), from the seed."""
    return "C" + base64.b32encode(rng.randbytes(7)).decode()[:10]


# -- sales --------------------------------------------------------------------------------------

# Pieces a client buys together: the same house and collection, categories that go together.
MATCHES = {"earrings": ("pendant", "necklace", "bracelet", "ring"),
           "pendant": ("earrings",), "necklace": ("earrings", "bracelet"),
           "ring": ("earrings", "ring"), "bracelet": ("necklace", "earrings", "ring"),
           "cufflinks": ("watch",), "watch": ("cufflinks",)}
RETURN_REASONS = ("Changed her mind within the return period.",
                  "Gift duplicate: the client already had the piece.",
                  "Wrong size; the client prefers a refund to a resizing.",
                  "The colour of the stone does not suit the client.")
CASH_LIMIT = 1_000  # major units: in France a resident pays at most 1,000 EUR in cash


@dataclass(frozen=True, slots=True)
class TenderPlan:
    """How a sale will be paid, drawn before its total is known (the writer may run a command
    again, so a command must not draw from the generator)."""

    kind: str  # card | split | transfer | transfer_card | cash
    brand: str
    last4: str
    auth_code: str
    share_bp: int
    reference: str

    def tenders(self, total: int, scale: int) -> list[dict[str, Any]]:
        card = {"type": "card", "brand": self.brand, "last4": self.last4,
                "auth_code": self.auth_code}
        transfer = {"type": "bank_transfer", "reference": self.reference}
        if self.kind == "cash":
            # A note-sized amount: the change comes back in cash.
            note = 50 * scale if total > 20 * scale else 10 * scale
            return [{"type": "cash", "amount": -(-total // note) * note}]
        if self.kind == "split":
            cash = min(CASH_LIMIT * scale, total * self.share_bp // BP // scale * scale)
            parts = [{**card, "amount": total - cash}, {"type": "cash", "amount": cash}]
        elif self.kind == "transfer_card":
            paid_by_card = total * self.share_bp // BP // scale * scale
            parts = [{**transfer, "amount": total - paid_by_card},
                     {**card, "amount": paid_by_card}]
        elif self.kind == "transfer":
            parts = [{**transfer, "amount": total}]
        else:
            parts = [{**card, "amount": total}]
        return [t for t in parts if t["amount"] > 0]


def tender_plan(rng: Random, tag: int, scale: int, n: int) -> TenderPlan:
    major = tag // scale
    if major <= 1_000:
        kind = _pick(rng, (("card", 70), ("cash", 20), ("split", 10)))
    elif major <= 15_000:
        kind = _pick(rng, (("card", 72), ("split", 16), ("transfer", 12)))
    else:
        kind = _pick(rng, (("transfer", 58), ("card", 30), ("transfer_card", 12)))
    return TenderPlan(kind=kind,
                      brand=_pick(rng, (("visa", 45), ("mastercard", 28), ("amex", 20),
                                        ("cb", 7))),
                      last4=f"{rng.randrange(10_000):04d}",
                      auth_code=f"{rng.randrange(1_000_000):06d}",
                      share_bp=rng.choice((2_000, 3_000, 5_000)),
                      reference=f"VIR-{REFERENCE_YEAR}-{n:05d}")


# -- all of it ----------------------------------------------------------------------------------

class History:
    """The demo's past: the clock the ledger reads while the generator writes `days` of
    history, walking forward from the first day's opening to yesterday's closing (the
    entries after it say now). Its own random numbers: the same seed makes the same pieces,
    clients and sales with or without it."""

    def __init__(self, store: Store, days: int, seed: int | None) -> None:
        self.zone = ZoneInfo(store.config.timezone)
        self.rng = Random(seed)
        self.days = days
        self.first = datetime.now(self.zone).date() - timedelta(days=days)
        self.moment = datetime.combine(self.first, time(9), self.zone)

        # What happens once a month along the past (new clients come in, tiers are
        # reviewed): called with the store's day as each month of sales begins.
        self.monthly: list[Callable[[date], Awaitable[None]]] = []

    def ts(self) -> str:
        return self.moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def month(self) -> tuple[int, int]:
        day = self.moment.astimezone(self.zone).date()
        return day.year, day.month

    async def new_month(self) -> bool:
        """Run the monthly hooks at this moment; whether there were any."""
        for hook in self.monthly:
            await hook(self.moment.astimezone(self.zone).date())
        return bool(self.monthly)

    def sale(self, n: int, count: int) -> None:
        """The n-th of `count` sales: its day along the range, an hour the shop is open."""
        day = self.first + timedelta(days=min(self.days - 1, n * self.days // max(1, count)))
        at = datetime.combine(day, time(10 + self.rng.randrange(9), self.rng.randrange(60)),
                              self.zone)
        self.moment = max(self.moment + timedelta(seconds=1), at)


@contextlib.contextmanager
def history(store: Store, days: int, seed: int | None = None) -> Iterator[History]:
    """While open, what the store writes is dated in the past `days` (`generate` spreads its
    sales along them); then the ledger's clock says now again."""
    past = History(store, days, seed)
    store.ledger.clock = past.ts
    try:
        yield past
    finally:
        store.ledger.clock = utc_now


async def generate(store: Store, *, items: int = 0, clients: int = 0, sales: int = 0,
                   seed: int | None = None, actor: str = "generator",
                   appointments: int = 0, wishlists: int = 0,
                   past: History | None = None) -> dict[str, int]:
    """Receive `items` pieces, create `clients` clients and ring up `sales` sales (plus a
    few returns, 2-3 % of them) through the store's services; within `history(...)`, pass
    its `past` and the sales spread along its days (appointments and wish lists are made
    after it, for this week)."""
    made = await _generate(store, items, clients, sales, seed, actor, past)
    if past is None:
        await later(store, appointments=appointments, wishlists=wishlists, seed=seed,
                    actor=actor)
    return {"pieces": items, "clients": clients, "sales": made}


async def later(store: Store, *, appointments: int = 0, wishlists: int = 0,
                seed: int | None = None, actor: str = "generator") -> None:
    """What `generate` makes for this week, once a history is closed."""
    await make_appointments(store, appointments, seed=seed, actor=actor)
    await make_wishlists(store, wishlists, seed=seed, actor=actor)


async def _generate(store: Store, items: int, clients: int, sales: int, seed: int | None,
                    actor: str, history: History | None) -> int:
    rng = Random(seed)
    currency = store.config.currency
    scale = 10 ** minor_units(currency)
    start = (await store.ledger.fetch_one("SELECT COUNT(*) AS n FROM items"))["n"]
    numbers = await _style_numbers(store) if start else {}
    pieces = Workshop(rng, store.config.default_tax, currency, numbers).pieces(items, start + 1)
    for i in range(0, len(pieces), 500):
        await store.items.receive_many(pieces[i:i + 500], actor)

    if history is None or history.days < 60:
        await _make_clients(store, rng, clients, actor)
    else:  # most of the book is there at the start; the rest comes in month by month
        months = max(1, history.days // 30)
        later_ones = clients * 3 // 10
        await _make_clients(store, rng, clients - later_ones, actor)
        arrivals = [later_ones // months + (1 if i < later_ones % months else 0)
                    for i in range(months)]

        async def arrive(day: date) -> None:
            if arrivals:
                await _make_clients(store, rng, arrivals.pop(0), actor)

        history.monthly.insert(0, arrive)
    return await _make_sales(store, rng, sales, scale, history)


async def _make_clients(store: Store, rng: Random, count: int, actor: str) -> None:
    if not count:
        return
    stock = await stock_words(store)
    # Who looks after the book: the store's associates and managers (not its administrator).
    associates = tuple(sorted(m.staff_id for m in store.staff.all()
                              if m.status == "active" and m.role != "admin"))
    first = (await store.ledger.fetch_one("SELECT COUNT(*) AS n FROM clients"))["n"]
    # id, profile, and links to earlier ones: partner id, household [(id, relation)]
    book: list[tuple[str, dict[str, Any], str | None, list[tuple[str, str]]]] = []
    while len(book) < count:
        n = first + len(book)
        profile = make_client(rng, n, stock, associates=associates)
        book.append((client_id(rng), profile, None, []))
        if len(book) < count and "anniversary" in profile["dates"] and rng.random() < 0.3:
            partner = make_client(rng, n + 1, stock, woman=profile["title"] != "Mme",
                                  last=profile["last_name"], partner=profile,
                                  associates=associates)
            book.append((client_id(rng), partner, book[-1][0], []))
            _grown_child(book, first, count, stock, associates)
    taken = {r["client_id"] for r in await store.ledger.fetch(
        f"SELECT client_id FROM clients WHERE client_id IN ({','.join('?' * len(book))})",
        tuple(cid for cid, _, _, _ in book))} if first else set()
    renamed: dict[str, str] = {}
    for cid, _, _, _ in book:
        if cid in taken:  # an id an earlier run with the same seed already gave out
            renamed[cid] = client_id(rng)
    checked = []
    for cid, profile, partner, household in book:
        if partner:
            profile = {**profile, "partner_id": renamed.get(partner, partner)}
        if household:
            profile = {**profile, "household": [{"client_id": renamed.get(c, c),
                                                 "relation": r} for c, r in household]}
        checked.append((renamed.get(cid, cid), validate_profile(profile)))
    for i in range(0, len(checked), 500):
        batch = checked[i:i + 500]
        await store.ledger.transact(lambda tx, batch=batch: [
            store.clients.create_in(tx, profile, actor, client_id=cid) for cid, profile in batch])


def _grown_child(book: list[tuple[str, dict[str, Any], str | None, list[tuple[str, str]]]],
                 first: int, count: int, stock: StockWords, associates: tuple[str, ...]) -> None:
    """Now and then a couple's grown-up child is a client too, in their household (the
    parents' side of the link follows from hers). Drawn apart from the main generator."""
    (one, parent, _, _), (other, _, _, _) = book[-2], book[-1]
    married = parent["dates"]["anniversary"]
    rng = Random(f"family:{one}")
    if len(book) >= count or married.startswith("--") or rng.random() >= 0.4:
        return
    born = int(married[:4]) + rng.randint(1, 8)
    if born > REFERENCE_YEAR - 18:
        return
    child = make_client(rng, first + len(book), stock, last=parent["last_name"],
                        associates=associates)
    child["dates"] = {"birthday": _date(rng, born)}
    child["addresses"] = [{"line1": f"{rng.randint(1, 180)} rue du Faubourg Saint-Denis",
                           "city": "Paris", "postcode": "75010", "country": "FR"}]
    book.append((client_id(rng), child, None, [(one, "parent"), (other, "parent")]))


async def _make_sales(store: Store, rng: Random, count: int, scale: int,
                      history: History | None = None) -> int:
    if not count:
        return 0
    client_ids = [r["client_id"] for r in await store.ledger.fetch(
        "SELECT client_id FROM clients WHERE status = 'active' ORDER BY client_id")]
    rows = await store.ledger.fetch(
        "SELECT item_id, category, designer, collection, metal, metal_colour, tag_price"
        " FROM items WHERE status = 'in_stock' AND tag_price > 0 ORDER BY item_id")
    stock = {r["item_id"]: dict(zip(r.keys(), r, strict=True)) for r in rows}
    order = list(stock)
    rng.shuffle(order)
    by_collection: dict[tuple[Any, Any], list[str]] = {}
    for item_id in sorted(stock):
        piece = stock[item_id]
        by_collection.setdefault((piece["designer"], piece["collection"]), []).append(item_id)
    registers = [r.id for r in store.config.registers]
    members = store.staff.all()
    staff = [m.staff_id for m in members if m.role != "admin"] or [
        m.staff_id for m in members] or ["admin"]
    managers = [m.staff_id for m in members if m.role in ("manager", "admin")] or staff
    sold: set[str] = set()
    done: dict[int, tuple[str, str]] = {}  # the n-th sale: its id, its register
    # A few come back (2-3 %), days after they were sold: the pieces wait for inspection
    # before they are sold again.
    due: dict[int, list[int]] = {}
    for n in sorted(rng.sample(range(count), (count * 25 + 500) // 1000)):
        due.setdefault(min(count - 1, n + rng.randrange(3, 30)), []).append(n)
    month = None
    for n in range(count):
        if history is not None:
            history.sale(n, count)
            if history.month() != month:  # a new month: what happens once a month
                month = history.month()
                if await history.new_month():  # new clients among what it did
                    client_ids = [r["client_id"] for r in await store.ledger.fetch(
                        "SELECT client_id FROM clients WHERE status = 'active'"
                        " ORDER BY client_id")]
        while order and order[-1] in sold:
            order.pop()
        if not order:
            break
        first = stock[order.pop()]
        basket = [first["item_id"]]
        sold.add(first["item_id"])
        if rng.random() < 0.12 and first["category"] in MATCHES:
            mates = [i for i in by_collection[(first["designer"], first["collection"])]
                     if i not in sold and stock[i]["category"] in MATCHES[first["category"]]]
            alike = [i for i in mates if (stock[i]["metal"], stock[i]["metal_colour"])
                     == (first["metal"], first["metal_colour"])]
            mates = alike or mates
            if mates:
                basket.append(rng.choice(mates))
                sold.add(basket[-1])
        tag = sum(stock[i]["tag_price"] for i in basket)
        discount = 0
        if rng.random() < 0.1:
            discount = tag * rng.choice((500, 1_000)) // BP // scale * scale
        plan = tender_plan(rng, tag, scale, n + 1)
        register = rng.choice(registers)
        associate = rng.choice(staff)
        client = rng.choice(client_ids) if client_ids and (
            rng.random() < (0.95 if tag >= 10_000 * scale else 0.65)) else None
        lines = validate_lines([{"item_id": i} for i in basket])

        def command(tx: Tx, lines=lines, discount=discount, plan=plan, register=register,
                    associate=associate, client=client) -> str:
            total = store.sales.price_in(tx, lines, discount)["total"]
            entry = store.sales.complete_in(
                tx, register_id=register, actor=associate, lines=lines,
                tenders=validate_tenders(plan.tenders(total, scale)), client_id=client,
                discount=discount)
            return entry.subject.split(":", 1)[1]

        done[n] = (await store.ledger.transact(command), register)
        for m in due.pop(n, ()):
            await _bring_back(store, rng, done[m], managers)
    for m in sorted(m for ms in due.values() for m in ms):  # the stock ran out first
        if m in done:
            await _bring_back(store, rng, done[m], managers)
    return len(done)


async def _bring_back(store: Store, rng: Random, sale: tuple[str, str],
                      managers: list[str]) -> None:
    sale_id, register = sale
    await store.sales.return_lines(sale_id, register_id=register, actor=rng.choice(managers),
                                   reason=rng.choice(RETURN_REASONS))


# -- appointments -------------------------------------------------------------------------------

APPOINTMENT_NOTES = ("Looking for earrings to match her bracelet.", "Her 40th birthday in June.",
                     "Engagement ring: a budget in mind, round or oval.",
                     "Bring the new collection first.", "")


async def make_appointments(store: Store, count: int, *, seed: int | None = None,
                            actor: str = "generator") -> int:
    """A few appointments this week (from the next hour on) for the book's clients with its
    associates, some confirmed, the soonest with a tray of 3-4 showcase pieces. Drawn from
    a generator of their own, so the rest of the store's data stays as it was; a slot
    already taken is skipped. Returns how many were booked."""
    if not count:
        return 0
    rng = Random(f"appointments:{seed}")
    clients = [r["client_id"] for r in await store.ledger.fetch(
        "SELECT client_id FROM clients WHERE status = 'active' ORDER BY client_id")]
    staff = sorted(m.staff_id for m in store.staff.all()
                   if m.status == "active" and m.role != "admin")
    if not clients or not staff:
        return 0
    book = Appointments(store, appointment_settings(store.config))
    now = datetime.now(store.words.tz)
    made: list[dict[str, Any]] = []
    for _ in range(count * 3):  # some draws fall on a taken slot
        if len(made) >= count:
            break
        day = now.date() + timedelta(days=rng.randrange(0, 6))
        hour = rng.randrange(10, 18)
        if day == now.date() and hour <= now.hour + 1:
            day += timedelta(days=1)
        try:
            made.append(await book.book({
                "kind": rng.choice(KINDS), "client_id": rng.choice(clients),
                "associate": rng.choice(staff),
                "salon": rng.choice(book.settings.salons),
                "start": f"{day.isoformat()}T{hour:02d}:{rng.choice((0, 30)):02d}",
                "duration_min": rng.choice((30, 60, 60, 90)),
                "note": rng.choice(APPOINTMENT_NOTES)}, actor=actor))
        except Refused:
            continue
    for appointment in made:
        if rng.random() < 0.4:
            await book.move(appointment["appointment_id"], "confirm", actor=actor)
    if made:
        soonest = min(made, key=lambda a: a["start"])
        pieces = [r["item_id"] for r in await store.ledger.fetch(
            "SELECT item_id FROM items WHERE status = 'in_stock' AND location LIKE 'showcase-%'"
            " ORDER BY item_id")]
        held = await store.holds.held_among(pieces)
        free = [p for p in pieces if p not in held]
        if len(free) >= 3:
            tray = rng.sample(free, rng.choice((3, 4)) if len(free) >= 4 else 3)
            await book.pull(soonest["appointment_id"], {"item_ids": sorted(tray)}, actor=actor)
    return len(made)


# Styles a client describes when no one piece is what she wishes for (made up, as the names).
WISHED_STYLES = ("Emerald drop earrings, rose gold", "A tennis bracelet in white gold",
                 "A signet ring with her initials", "Pearl studs, 8 mm, for every day",
                 "A sapphire pendant, oval, not too large", "An eternity band to match her ring",
                 "Art Deco earrings, platinum", "A long sautoir of pearls")


async def make_wishlists(store: Store, count: int, *, seed: int | None = None,
                         actor: str = "generator") -> int:
    """Wish lists for `count` of the book's clients: one to three wishes each, pieces in
    stock (of a designer she loves when there is one) or a style in her words, some from
    the web shop; and for a few couples, his wish list for her (a gift). Drawn from a
    generator of their own, so the rest of the store's data stays as it was. Returns how
    many wishes were made."""
    if not count:
        return 0
    rng = Random(f"wishlists:{seed}")
    clients = [r["client_id"] for r in await store.ledger.fetch(
        "SELECT client_id FROM clients WHERE status = 'active' ORDER BY client_id")]
    pieces = [dict(r) for r in await store.ledger.fetch(
        "SELECT item_id, designer FROM items WHERE status = 'in_stock' ORDER BY item_id")]
    if not clients or not pieces:
        return 0
    book = Wishlists(store)
    made = 0
    for client_id in rng.sample(clients, min(count, len(clients))):
        profile = (await store.clients.get(client_id))["profile"] or {}
        loved = set((profile.get("preferences") or {}).get("designers") or [])
        theirs = [p["item_id"] for p in pieces if p["designer"] in loved] or \
            [p["item_id"] for p in pieces]
        partner = profile.get("partner_id")
        for n in range(rng.choice((1, 1, 2, 3))):
            wish: dict[str, Any] = ({"style": rng.choice(WISHED_STYLES)} if rng.random() < 0.3
                                    else {"item_id": rng.choice(theirs)})
            if partner and n == 0 and rng.random() < 0.7:
                wish["for_client_id"] = partner  # a gift: his wish list for her
            try:
                if rng.random() < 0.2 and "for_client_id" not in wish:
                    await book.add_from_web(client_id, actor="hq", **wish)
                else:
                    await book.add(client_id, wish, actor=actor)
                made += 1
            except Refused:  # the same piece drawn twice
                continue
    return made
