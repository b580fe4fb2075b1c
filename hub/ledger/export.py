"""`loupe ledger export`: the journal as JSON lines, verifiable with no secret.

Line 1 is a header (format, store id, public key, fingerprint, entry count); every other line
is one entry exactly as stored (`Entry.to_export`). Payloads stay encrypted.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from hub.ledger.journal import FORMAT
from hub.ledger.keys import public_key_fingerprint
from hub.ledger.ledger import iter_entries


def export_journal(db_path: Path, out: Path) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    tmp = out.with_name(out.name + ".part")
    try:
        conn.execute("BEGIN")  # one snapshot: the count and the entries agree
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        count = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps({
                "format": "loupe-journal-export/1", "entry_format": FORMAT,
                "store_id": meta["store_id"], "public_key": meta["public_key"],
                "fingerprint": public_key_fingerprint(bytes.fromhex(meta["public_key"])),
                "entries": count,
                "hash": "SHA-256(prev_hash || u32be(len(header)) || header || payload)",
                "signature": "Ed25519(hash)",
            }) + "\n")
            written = 0
            for entry in iter_entries(conn):
                f.write(json.dumps(entry.to_export(), separators=(",", ":")) + "\n")
                written += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
        return written
    finally:
        conn.close()
        if tmp.exists():
            tmp.unlink()
