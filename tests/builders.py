"""Builders of valid domain objects for tests; override any field."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from PIL import Image


def piece(n: int | str, **over: Any) -> dict[str, Any]:
    """A valid piece with a centre stone; override any field."""
    base = {
        "item_id": f"P-{n}" if isinstance(n, int) else n, "sku": "SOL-950",
        "description": "Platinum solitaire ring", "category": "ring", "metal": "platinum",
        "fineness": 950, "metal_weight_mg": 4_200, "cost": 300_000, "tag_price": 950_000,
        "stones": [{"type": "diamond", "carat_cents": 101, "shape": "round", "colour": "F",
                    "clarity": "VS1", "lab": "GIA", "certificate": "2141234567"}],
    }
    base.update(over)
    return base


def client(first: str = "Zoë", last: str = "Marchand", **over: Any) -> dict[str, Any]:
    base = {"first_name": first, "last_name": last, "emails": [f"{first}.{last}@example.fr"],
            "phones": ["+33 6 12 34 56 78"], "ring_sizes": {"left ring": "52"},
            "dates": {"anniversary": "--06-14"}, "notes": "Loves Art Deco."}
    base.update(over)
    return base


def cash(amount: int) -> list[dict[str, Any]]:
    return [{"type": "cash", "amount": amount}]


def png(width: int = 24, height: int = 12, shade: int = 0) -> bytes:
    """A real PNG picture (a drawn signature, a photo's stand-in), made with Pillow."""
    out = BytesIO()
    Image.new("RGB", (width, height), (shade, 40, 90)).save(out, "PNG")
    return out.getvalue()
