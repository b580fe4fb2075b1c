"""One client across stores: two stores create the same client (her e-mail written with
another case and spaces, her phone in another form); HQ proposes exactly one match, keeps
only digests of her contacts, and a merge sends both stores the link to one chain-wide id.

Real Mosquitto, real hubs, a real HQ; the CLI is driven through `loupe hq clients`."""

from __future__ import annotations

import argparse
import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.control import CommandError
from hub.hq import clients as hq_clients
from hub.sync.cli import add_commands
from tests.builders import client
from tests.hq.ops_fixtures import stores  # noqa: F401  (a fixture)
from tests.sync.sync_helpers import caught_up, hq_stored_bytes, until

EMAIL = "Anne.Dupont@Example.com"
PHONE_DIGITS = "612345678"


async def _loupe(*argv: str) -> int:
    """The CLI, as a shell would run it (its own thread: it runs its own event loop)."""
    return await asyncio.to_thread(_cli, *argv)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="loupe")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


async def _links(hub) -> list[dict]:
    """The store's `client.linked` entries, opened (the link it recorded)."""
    rows = await hub.store.ledger.fetch("SELECT seq FROM journal WHERE kind = 'client.linked'"
                                        " ORDER BY seq")
    return [await hub.store.ledger.payload_at(r["seq"]) for r in rows]


async def test_the_same_client_at_two_stores_is_one_proposal_then_one_link(
        hq, stores, hq_keys, broker, pg_cluster, capsys):  # noqa: F811
    paris = await stores.start("paris")
    lyon = await stores.start("lyon")
    anne_paris = (await paris.store.clients.create(
        client("Anne", "Dupont", emails=[f"  {EMAIL} "], phones=["+33 6 12 34 56 78"]),
        actor="admin"))["client_id"]
    anne_lyon = (await lyon.store.clients.create(
        client("Anne", "Dupont-Martin", emails=[EMAIL.lower()], phones=["0033 612-345-678"]),
        actor="admin"))["client_id"]
    # Someone else entirely, at lyon: no proposal for her.
    await lyon.store.clients.create(client("Claire", "Roux", emails=["claire@roux.fr"],
                                           phones=["+33 7 00 00 00 01"]), actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    await until(lambda: caught_up(hq, lyon), "HQ has lyon")

    [match] = await hq.call(hq_clients.proposals, hq.hq.storage)
    assert {(match["store_a"], match["client_a"]), (match["store_b"], match["client_b"])} == {
        ("paris", anne_paris), ("lyon", anne_lyon)}
    assert match["reason"] == "email+phone" and match["status"] == "proposed"

    # HQ's database holds digests, never her address or number (in any case or form).
    db_bytes = hq_stored_bytes(hq.hq, pg_cluster).lower()
    assert db_bytes
    for secret in (EMAIL.lower(), "anne.dupont", "dupont", PHONE_DIGITS):
        assert secret.encode() not in db_bytes, f"{secret!r} is in HQ's database file"
    digests = await hq.call(hq.hq.storage.query, "SELECT kind, digest FROM client_contacts"
                            " WHERE client_id IN (?, ?)", (anne_paris, anne_lyon))
    assert len(digests) == 4 and len({d["digest"] for d in digests}) == 2

    # A later update of her profile at paris keeps one proposal, not a second.
    await paris.store.clients.update(anne_paris, {"notes": "Prefers yellow gold."},
                                     actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has the update")
    assert len(await hq.call(hq_clients.proposals, hq.hq.storage)) == 1

    data_dir = str(hq_keys.data_dir)
    assert await _loupe("hq", "clients", "matches", "--data-dir", data_dir) == 0
    table = capsys.readouterr().out
    assert match["match_id"] in table and "same e-mail and phone" in table
    assert await _loupe("hq", "clients", "merge", match["match_id"], "--data-dir", data_dir,
                  "--broker", broker.url, "--actor", "olga") == 0
    assert "merged" in capsys.readouterr().out

    async def both_linked() -> bool:
        return bool(await _links(paris)) and bool(await _links(lyon))

    await until(both_linked, "both stores recorded the link")
    [at_paris], [at_lyon] = await _links(paris), await _links(lyon)
    assert at_paris["chain_client_id"] == at_lyon["chain_client_id"]
    assert at_paris["client_id"] == anne_paris and at_lyon["client_id"] == anne_lyon
    assert at_paris["linked"] == [{"store_id": "lyon", "client_id": anne_lyon}]
    [decided] = await hq.call(hq_clients.matches, hq.hq.storage)
    assert decided["status"] == "merged" and decided["decided_by"] == "olga"
    assert decided["chain_client_id"] == at_paris["chain_client_id"]

    # A second merge of the same match is refused in a sentence, and nothing is sent.
    with pytest.raises(CommandError, match="already merged by olga"):
        await _loupe("hq", "clients", "merge", match["match_id"], "--data-dir", data_dir,
               "--broker", broker.url)
    with pytest.raises(CommandError, match="already merged"):
        await _loupe("hq", "clients", "dismiss", match["match_id"], "--data-dir", data_dir)
    with pytest.raises(CommandError, match="no client match"):
        await _loupe("hq", "clients", "merge", "m-nothing", "--data-dir", data_dir,
               "--broker", broker.url)
    # The merge's deliveries come back applied, and the link survives a rebuild? The
    # link is the store's journal entry: it is there, once per store.
    await until(lambda: caught_up(hq, paris), "HQ has paris's answer")
    assert len(await _links(paris)) == 1 and len(await _links(lyon)) == 1


async def test_a_dismissed_match_stays_dismissed(hq, stores, hq_keys):  # noqa: F811
    paris = await stores.start("paris")
    lyon = await stores.start("lyon")
    # Two people sharing a landline (a couple): the same phone, other e-mails.
    one = (await paris.store.clients.create(client("Marc", "Blanc", emails=["m@blanc.fr"],
                                                   phones=["+33 1 40 00 00 00"]),
                                            actor="admin"))["client_id"]
    await lyon.store.clients.create(client("Lucie", "Blanc", emails=["l@blanc.fr"],
                                           phones=["+33 (0)1 40 00 00 00".replace("(0)", "")]),
                                    actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    await until(lambda: caught_up(hq, lyon), "HQ has lyon")
    [match] = await hq.call(hq_clients.proposals, hq.hq.storage)
    assert match["reason"] == "phone"

    assert await _loupe("hq", "clients", "dismiss", match["match_id"], "--data-dir",
                  str(hq_keys.data_dir), "--actor", "olga") == 0
    assert await hq.call(hq_clients.proposals, hq.hq.storage) == []
    # Her next profile change does not bring the proposal back.
    await paris.store.clients.update(one, {"notes": "Engraving on order."}, actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has the update")
    assert await hq.call(hq_clients.proposals, hq.hq.storage) == []
    [kept] = await hq.call(hq_clients.matches, hq.hq.storage)
    assert kept["status"] == "dismissed" and kept["decided_by"] == "olga"
    assert json.dumps(kept)  # plain values for the console and `--json`


async def test_an_erased_client_closes_her_proposal(hq, stores, hq_keys):  # noqa: F811
    paris = await stores.start("paris")
    lyon = await stores.start("lyon")
    gone = (await paris.store.clients.create(client("Inès", "Faure", emails=["ines@faure.fr"], phones=[]),
                                             actor="admin"))["client_id"]
    await lyon.store.clients.create(client("Inès", "Faure", emails=["INES@faure.fr"], phones=[]),
                                    actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has paris")
    await until(lambda: caught_up(hq, lyon), "HQ has lyon")
    [match] = await hq.call(hq_clients.proposals, hq.hq.storage)
    assert match["reason"] == "email"

    await paris.store.clients.forget(gone, actor="admin")
    await until(lambda: caught_up(hq, paris), "HQ has the erasure")
    assert await hq.call(hq_clients.proposals, hq.hq.storage) == []
    left = await hq.call(hq.hq.storage.query, "SELECT COUNT(*) AS n FROM client_contacts"
                         " WHERE store_id = 'paris' AND client_id = ?", (gone,))
    assert left[0]["n"] == 0  # her digests go with her
    with pytest.raises(ValueError, match="erased"):
        await hq.call(hq_clients.merge, hq.hq, match["match_id"], "olga")


_LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(local=_LOCAL, domain=st.sampled_from(["example.com", "maison.fr", "bijoux.co.uk"]),
       upper=st.lists(st.booleans(), min_size=60, max_size=60),
       pad=st.tuples(st.sampled_from(["", " ", "  ", "\t"]), st.sampled_from(["", " ", "\n"])),
       digits=st.text("0123456789", min_size=8, max_size=10),
       seps=st.lists(st.sampled_from(["", " ", "-", ".", " - "]), min_size=10, max_size=10))
def test_contact_digests_ignore_case_spaces_and_phone_punctuation(local, domain, upper, pad,
                                                                  digits, seps):
    key = hq_clients.contact_key(bytes(range(32)), "maison")
    email = f"{local}@{domain}"
    shouted = "".join(c.upper() if u else c for c, u in zip(email, upper, strict=False))
    written = "".join(d + s for d, s in zip(digits, seps, strict=False))
    plain = hq_clients.digests(key, {"emails": [email], "phones": ["+33" + digits]})
    messy = hq_clients.digests(key, {"emails": [pad[0] + shouted + pad[1]],
                                     "phones": ["0033 " + written]})
    assert plain == messy and len(plain) == 2
    # Another key (another chain's HQ) gives other digests: they mean nothing elsewhere.
    assert hq_clients.digests(hq_clients.contact_key(bytes(32), "maison"),
                              {"emails": [email]}) & plain == set()
