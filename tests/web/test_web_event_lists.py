"""A list of clients for an event: chosen by taste and by the channel she agreed to hear
from us on, shown to a manager, exported only age-encrypted and journaled each time; refused
in words (a short passphrase, an unknown channel) with nothing written; not for associates."""

from __future__ import annotations

import pyrage
from web_helpers import sign_in

from hub.ledger.ledger import dump_projections

PASS = "trunk-show-2026"


def _books(store):
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_a_list_for_an_event_is_shown_and_leaves_encrypted(client, store, runtime):
    yes = {"email": {"marketing": True, "how": "signed_form"}}
    await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                "emails": ["helene@example.fr"], "consent": yes,
                                "preferences": {"stones": ["emerald"]}}, "test")
    await store.clients.create({"first_name": "Inès", "last_name": "Roux",
                                "emails": ["ines@example.fr"],
                                "preferences": {"stones": ["emerald"]}}, "test")  # never asked
    await store.clients.create({"first_name": "Zoé", "last_name": "Marchand",
                                "emails": ["zoe@example.fr"], "consent": yes,
                                "preferences": {"stones": ["ruby"]}}, "test")
    h = {"X-CSRF-Token": await sign_in(client, "mona")}
    page = await (await client.get("/clients/lists?stone=emerald&channel=email")).text()
    shown = page[page.index('id="list-clients"'):]
    assert "Hélène Fontaine" in shown and "helene@example.fr" in shown
    assert "Inès Roux" not in shown and "Zoé Marchand" not in shown
    before = _books(store)
    for body, field in (({"stone": "emerald", "passphrase": "short"}, "passphrase"),
                        ({"channel": "pigeon", "passphrase": PASS}, "channel")):
        r = await client.post("/api/v1/clients/lists/export", json=body, headers=h)
        assert r.status == 400 and (await r.json())["field"] == field
    assert _books(store) == before
    r = await client.post("/api/v1/clients/lists/export",
                          json={"stone": "emerald", "channel": "email", "passphrase": PASS},
                          headers=h)
    assert r.status == 200
    data = await r.read()
    assert b"Fontaine" not in data
    text = pyrage.passphrase.decrypt(data, PASS).decode()
    assert "Hélène Fontaine" in text and "Roux" not in text
    [row] = await store.ledger.fetch(
        "SELECT seq FROM journal WHERE kind = 'client_list.exported'")
    assert row["seq"] == store.ledger.seq
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    assert (await client.get("/clients/lists")).status == 403
