"""Helpers shared by the web tests (staff, pieces, signing in)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

PINS = {"ada": "424242", "mona": "135790", "alex": "246810"}
ROLES = {"ada": "admin", "mona": "manager", "alex": "associate"}
NAMES = {"ada": "Ada Admin", "mona": "Mona Manager", "alex": "Alex Associate"}


def piece(serial: str, price: int = 250_000, **extra) -> dict:
    return {"item_id": serial, "sku": f"SKU-{serial}", "description": f"Solitaire ring {serial}",
            "category": "ring", "metal": "platinum", "fineness": 950, "metal_weight_mg": 4200,
            "designer": "Maison", "cost": price // 2, "tag_price": price,
            "stones": [{"type": "diamond", "carat_cents": 101, "shape": "round", "colour": "E",
                        "clarity": "VS1", "lab": "GIA", "certificate": "2141438171"}], **extra}


async def sign_in(client: TestClient, staff_id: str, register_id: str = "R1") -> str:
    """Sign in; returns the session's CSRF token (the cookie stays in the client's jar)."""
    resp = await client.post("/api/v1/session", json={"staff_id": staff_id,
                                                      "pin": PINS[staff_id],
                                                      "register_id": register_id})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["csrf"]
