"""The one registry of HQ message types (hub/core/hq.py MESSAGE_TYPES): the wire asks of a
body what the registry names, and a new type is one entry. Without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_helpers import new_store

from hub.core import hq
from hub.core.errors import Refused
from hub.sync.wire import WireError, check_message

# -- HQ message types: one registry -----------------------------------------------------------

def _message(mtype: str, body: dict) -> dict:
    return {"id": "m-0000000001", "type": mtype, "chain": "maison", "store": "paris",
            "issued_at": "2026-11-26T10:00:00Z", "body": body}


@pytest.mark.parametrize("mtype", sorted(hq.MESSAGE_TYPES))
def test_the_wire_asks_of_each_type_the_fields_the_registry_names(mtype):
    fields = hq.MESSAGE_TYPES[mtype].fields
    assert fields
    check_message(_message(mtype, dict.fromkeys(fields, "x")), "maison", "paris")
    for missing in fields:
        body = {f: "x" for f in fields if f != missing}
        with pytest.raises(WireError, match=f"body lacks {missing}"):
            check_message(_message(mtype, body), "maison", "paris")


async def test_a_new_message_type_is_one_entry(tmp_path: Path, monkeypatch):
    seen: list[tuple[dict, int]] = []
    note = hq.MessageType("note", ("text",), project=lambda tx, body, seq: seen.append((body, seq)))
    monkeypatch.setitem(hq.MESSAGE_TYPES, "note", note)
    check_message(_message("note", {"text": "closed on Monday"}), "maison", "paris")
    store = await new_store(tmp_path, "paris", pieces=0)
    try:
        applied = await store.hq.apply(_message("note", {"text": "closed on Monday"}), "ab")
        assert applied.outcome == "applied"
        assert seen == [({"text": "closed on Monday"}, applied.seq)]
        monkeypatch.delitem(hq.MESSAGE_TYPES, "note")
        with pytest.raises(Refused, match="does not know"):
            await store.hq.apply({**_message("note", {"text": "x"}), "id": "m-0000000002"}, "ab")
    finally:
        await store.close()
