"""CSV import of pieces and clients: every row checked first, then all or nothing.

Spreadsheets speak in major units and grams, so prices are decimals (`9500.00`) parsed exactly
into minor units, metal weights are grams (`4.25`) parsed exactly into milligrams, and carats
are decimals (`1.01`). A bad row is reported with its line number and reason; nothing from a
file with a bad row is recorded. Column reference: docs/operations.md.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

from hub.core.clients import validate_profile
from hub.core.errors import Refused
from hub.money import MoneyError, parse_plain_amount
from hub.store import Store

ITEM_COLUMNS = ("item_id", "sku", "epc", "description", "category", "metal", "fineness",
                "karat", "metal_colour", "metal_weight_g", "designer", "collection", "cost",
                "tag_price", "tax_code", "ownership", "vendor", "location", "centre_stone",
                "centre_carat", "centre_shape", "centre_colour", "centre_clarity", "centre_lab",
                "centre_certificate", "side_stones")
ITEM_REQUIRED = ("item_id", "sku", "description", "category", "cost", "tag_price")
CLIENT_COLUMNS = ("title", "first_name", "last_name", "email", "phone", "address_line1",
                  "address_line2", "address_city", "address_postcode", "address_country",
                  "ring_size", "birthday", "anniversary", "designers", "notes",
                  "marketing_consent")
CLIENT_REQUIRED = ("last_name",)
MAX_ROWS = 200_000


class ImportError_(ValueError):
    """A file that cannot be imported; the message names the line and the reason."""


def _decimal(text: str, digits: int, what: str) -> int:
    """Exact decimal -> integer scaled by 10**digits (`4.25`, 3 -> 4250)."""
    raw = text.strip()
    whole, _, frac = raw.partition(".")
    if not whole.isdigit() and not (whole == "" and frac.isdigit()) or (frac and not frac.isdigit()):
        raise ValueError(f"{what} {text!r} is not a decimal number")
    if len(frac) > digits:
        raise ValueError(f"{what} {text!r} has more than {digits} decimals")
    return int(whole or "0") * 10**digits + int(frac.ljust(digits, "0") or "0")


def _int(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"{what} {text!r} is not a whole number")
    return int(text)


def read_rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...],
              data: bytes | None = None) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file: read from `path`, or given as `data` (what the CLI read from
    `path` and sent to the hub; `path` still names it in every message)."""
    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8-sig")
    except FileNotFoundError:
        raise ImportError_(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportError_(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise ImportError_(f"{path}: line 1: {exc}") from None
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise ImportError_(f"{path}: line 1: unknown column {unknown[0]!r}"
                           f" (known: {', '.join(columns)})")
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportError_(f"{path}: line 1: missing required column {missing[0]!r}")
    if len(set(header)) != len(header):
        raise ImportError_(f"{path}: line 1: a column appears twice")
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise ImportError_(f"{path}: line {line}: {len(record)} fields, the header has"
                                   f" {len(header)}")
            rows.append((line, {h: v.strip() for h, v in zip(header, record, strict=True)}))
            if len(rows) > MAX_ROWS:
                raise ImportError_(f"{path}: more than {MAX_ROWS} rows; split the file")
    except csv.Error as exc:
        raise ImportError_(f"{path}: line {reader.line_num}: {exc}") from None
    if not rows:
        raise ImportError_(f"{path}: no rows after the header")
    return rows


def piece_from_row(row: dict[str, str], currency: str) -> dict[str, Any]:
    piece: dict[str, Any] = {}
    for col in ("item_id", "sku", "epc", "description", "category", "metal", "metal_colour",
                "designer", "collection", "tax_code", "ownership", "vendor", "location"):
        if row.get(col):
            piece[col] = row[col]
    for col in ("fineness", "karat"):
        if row.get(col):
            piece[col] = _int(row[col], col)
    if row.get("metal_weight_g"):
        piece["metal_weight_mg"] = _decimal(row["metal_weight_g"], 3, "metal_weight_g")
    for col in ("cost", "tag_price"):
        try:
            piece[col] = parse_plain_amount(row.get(col, ""), currency)
        except MoneyError as exc:
            raise ValueError(f"{col}: {exc}") from None
    stones = []
    if row.get("centre_stone"):
        if not row.get("centre_carat"):
            raise ValueError("centre_carat is required with centre_stone")
        stone = {"type": row["centre_stone"],
                 "carat_cents": _decimal(row["centre_carat"], 2, "centre_carat")}
        for col in ("shape", "colour", "clarity", "lab", "certificate"):
            if row.get(f"centre_{col}"):
                stone[col] = row[f"centre_{col}"]
        stones.append(stone)
    if row.get("side_stones"):
        for part in row["side_stones"].split(";"):
            words = part.split()
            if not part.strip():
                continue
            if len(words) != 3:
                raise ValueError(f"side_stones {part.strip()!r}: write COUNT TYPE CARAT_EACH,"
                                 " e.g. '12 diamond 0.05'")
            count = _int(words[0], "side stone count")
            if not 1 <= count <= 200:
                raise ValueError(f"side_stones {part.strip()!r}: count must be 1 to 200")
            stones += [{"type": words[1], "carat_cents": _decimal(words[2], 2, "carat")}] * count
    if stones:
        piece["stones"] = stones
    return piece


async def import_items(store: Store, path: Path, actor: str = "import",
                       data: bytes | None = None) -> int:
    # Parsing and checking a big file is CPU work: off the loop (the hub may be selling).
    pieces, lines, seen_epc = await asyncio.to_thread(_check_items, store, path, data)
    try:
        return await store.items.receive_many(pieces, actor)
    except Refused as exc:
        # The books refused one piece (already recorded): name its line.
        line = lines.get(exc.params.get("item_id")) or seen_epc.get(exc.params.get("epc"))
        where = f"line {line}: " if line else ""
        raise ImportError_(f"{path}: {where}{exc}") from None


def _check_items(store: Store, path: Path, data: bytes | None,
                 ) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, int]]:
    rows = read_rows(path, ITEM_COLUMNS, ITEM_REQUIRED, data)
    pieces, lines = [], {}
    seen_epc: dict[str, int] = {}
    for line, row in rows:
        try:
            piece = store.items.validate(piece_from_row(row, store.config.currency))
        except (ValueError, Refused) as exc:
            raise ImportError_(f"{path}: line {line}: {exc}") from None
        if piece["item_id"] in lines:
            raise ImportError_(f"{path}: line {line}: serial {piece['item_id']!r} is also on"
                               f" line {lines[piece['item_id']]}")
        if piece.get("epc") and piece["epc"] in seen_epc:
            raise ImportError_(f"{path}: line {line}: EPC {piece['epc']} is also on line"
                               f" {seen_epc[piece['epc']]}")
        lines[piece["item_id"]] = line
        if piece.get("epc"):
            seen_epc[piece["epc"]] = line
        pieces.append(piece)
    return pieces, lines, seen_epc


def profile_from_row(row: dict[str, str]) -> dict[str, Any]:
    profile: dict[str, Any] = {k: row[k] for k in ("title", "first_name", "last_name", "notes")
                               if row.get(k)}
    if row.get("email"):
        profile["emails"] = [e for e in row["email"].split(";") if e.strip()]
    if row.get("phone"):
        profile["phones"] = [p for p in row["phone"].split(";") if p.strip()]
    address = {k[len("address_"):]: row[k] for k in ("address_line1", "address_line2",
               "address_city", "address_postcode", "address_country") if row.get(k)}
    if address:
        profile["addresses"] = [address]
    if row.get("ring_size"):
        profile["ring_sizes"] = {"ring": row["ring_size"]}
    dates = {k: row[k] for k in ("birthday", "anniversary") if row.get(k)}
    if dates:
        profile["dates"] = dates
    if row.get("designers"):
        profile["preferences"] = {"designers": [d for d in row["designers"].split(";") if d.strip()]}
    consent = row.get("marketing_consent", "").lower()
    if consent:
        if consent not in ("yes", "no", "true", "false", "1", "0"):
            raise ValueError(f"marketing_consent {row['marketing_consent']!r}: write yes or no")
        profile["consent"] = {"marketing": consent in ("yes", "true", "1")}
    return profile


async def import_clients(store: Store, path: Path, actor: str = "import",
                         data: bytes | None = None) -> int:
    profiles = await asyncio.to_thread(_check_clients, path, data)  # CPU work: off the loop
    ids = await store.clients.create_many(profiles, actor)
    return len(ids)


def _check_clients(path: Path, data: bytes | None) -> list[dict[str, Any]]:
    rows = read_rows(path, CLIENT_COLUMNS, CLIENT_REQUIRED, data)
    profiles = []
    for line, row in rows:
        try:
            profiles.append(validate_profile(profile_from_row(row)))
        except (ValueError, Refused) as exc:
            # Name the line and the field, never the value: it may be personal data.
            raise ImportError_(f"{path}: line {line}: {_without_values(exc)}") from None
    return profiles


def _without_values(exc: Exception) -> str:
    """A refusal of a client row without the values it quotes: they may be personal."""
    params = getattr(exc, "params", {}) or {}
    field = getattr(exc, "field", None)
    if field and any(isinstance(v, str) for v in params.values()):
        return f"{field}: invalid value"
    return str(exc)
