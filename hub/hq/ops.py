"""What an operator at head office watches per store: how far HQ's copy of its journal
reaches, how late it is, what waits ahead of a gap, whether it is online, and whether its
chain verified (the last verdict is kept with the head it was computed at, so a look costs
nothing and a full check is asked for: `loupe hq stores --verify`).

`store_health` is the one computation; the CLI (and HQ's console, if it likes) call it on
HQ's storage thread: it reads storage and, in `verify`, checks every signature.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hub.ledger.ledger import utc_now
from hub.sync.hqstore import HQPart
from hub.words import N_

SCHEMA = """
CREATE TABLE IF NOT EXISTS store_verdicts (
    store_id   TEXT PRIMARY KEY,
    head_seq   INTEGER NOT NULL,   -- HQ's head for the store when it was computed
    verdict    TEXT NOT NULL,      -- `ok: ...` or what is wrong, as verify_chain says it
    checked_at TEXT NOT NULL
);
"""

PART = HQPart("ops", schema=SCHEMA)


def moment(ts: str | None) -> datetime | None:
    """A stored ISO time as an aware datetime (UTC when it names no zone); None if absent."""
    if not ts:
        return None
    try:
        then = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return then if then.tzinfo else then.replace(tzinfo=UTC)


def verify(hq: Any, store_id: str) -> str:
    """Check every hash and signature of HQ's copy of a store (`HQ.verify_store`) and keep
    the verdict with the head it was computed at."""
    row = hq.storage.store(store_id)
    head = row.head_seq if row is not None else 0
    verdict = hq.verify_store(store_id)  # WireError for a store HQ does not know
    hq.storage.execute(
        "INSERT INTO store_verdicts (store_id, head_seq, verdict, checked_at) VALUES"
        " (?,?,?,?) ON CONFLICT(store_id) DO UPDATE SET head_seq = excluded.head_seq,"
        " verdict = excluded.verdict, checked_at = excluded.checked_at",
        (store_id, head, verdict, utc_now()))
    return verdict


def store_health(hq: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per store HQ knows: `store`, `head_seq` (HQ's contiguous head), `entries`,
    `lag_s` (now minus the time of the newest entry HQ stored; None before any),
    `last_contact`, `online`, `enrolled`, `problem`, `held` (entries held ahead of a gap),
    and `verified`: None (never checked) or
    {ok, verdict, head_seq, checked_at, current (computed at today's head)}."""
    now = now or datetime.now(UTC)
    # One read for every store: its row, its newest entry's time, its last verdict.
    rows = hq.storage.query(
        "SELECT s.store_id, s.head_seq, s.entries, s.last_contact, s.online, s.problem,"
        " s.held, s.public_key, e.ts AS newest_ts, v.head_seq AS checked_head, v.verdict,"
        " v.checked_at FROM stores s"
        " LEFT JOIN entries e ON e.store_id = s.store_id AND e.seq = s.head_seq"
        " LEFT JOIN store_verdicts v ON v.store_id = s.store_id ORDER BY s.store_id")
    out = []
    for r in rows:
        then = moment(r["newest_ts"])
        out.append({
            "store": r["store_id"], "head_seq": r["head_seq"],
            "contiguous_seq": r["head_seq"],  # its name in `loupe hq stores --json` before
            "entries": r["entries"],
            "lag_s": None if then is None else round(max(0.0, (now - then).total_seconds()), 1),
            "last_contact": r["last_contact"], "online": bool(r["online"]),
            "enrolled": r["public_key"] is not None, "problem": r["problem"],
            "held": r["held"],
            "verified": None if r["verdict"] is None else {
                "ok": r["verdict"].startswith("ok"), "verdict": r["verdict"],
                "head_seq": r["checked_head"], "checked_at": r["checked_at"],
                "current": r["checked_head"] == r["head_seq"]}})
    return out


# -- `loupe hq stores` ------------------------------------------------------------------------

HEADERS = {"store": N_("Store"), "head_seq": N_("Up to entry"), "entries": N_("Entries"),
           "lag": N_("Behind by"), "last_contact": N_("Last contact"), "online": N_("Online"),
           "held": N_("Waiting ahead of a gap"), "verified": N_("Chain checked"),
           "problem": N_("Problem")}


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return N_("no entries yet")
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _verified(v: dict[str, Any] | None) -> str:
    if v is None:
        return N_("never")
    when = (v["checked_at"] or "")[:16].replace("T", " ")
    if not v["ok"]:
        return f"NOT INTACT at entry {v['head_seq']}: {v['verdict']} ({when})"
    if v["current"]:
        return f"intact ({when})"
    return f"intact up to entry {v['head_seq']} ({when}); newer entries not checked"


def health_table(rows: list[dict[str, Any]]) -> str:
    """The rows in words, as aligned columns with headers, for a terminal."""
    if not rows:
        return N_("No store is enrolled at head office yet.")
    keys = [k for k in HEADERS if k != "held" or any("held" in r for r in rows)]
    lines = [[HEADERS[k] for k in keys]]
    for r in rows:
        cells = {
            "store": r["store"] + ("" if r["enrolled"] else " (enrollment not completed)"),
            "head_seq": str(r["head_seq"]), "entries": str(r["entries"]),
            "lag": _lag(r["lag_s"]),
            "last_contact": (r["last_contact"] or N_("never"))[:19].replace("T", " "),
            "online": N_("yes") if r["online"] else N_("no"),
            "held": str(r.get("held", "")), "verified": _verified(r["verified"]),
            "problem": r["problem"] or ""}
        lines.append([cells[k] for k in keys])
    widths = [max(len(line[i]) for line in lines) for i in range(len(keys))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def stores_command(hq: Any, *, as_json: bool = False, check: bool = False) -> int:
    """`loupe hq stores [--json] [--verify]`: prints the table (or JSON); with `check`
    every enrolled store's chain is verified first. Exit code 1 when a chain is not
    intact."""
    if check:
        for s in hq.storage.stores():
            if s.public_key is not None:
                verify(hq, s.store_id)
    rows = store_health(hq)
    print(json.dumps(rows, indent=2, default=str) if as_json else health_table(rows))
    broken = any(r["verified"] is not None and not r["verified"]["ok"] for r in rows)
    return 1 if check and broken else 0
