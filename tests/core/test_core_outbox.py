"""The outbox on the store's side, with no broker: what a request journals (or why it does not),
once only, sealed under her key; head office's receipts; rebuilds, merges and erasure."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from builders import client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.clients import may_contact
from hub.core.errors import Invalid, NotFound
from hub.core.outbox import CHANNELS, CONTACT_PURPOSE, PURPOSES
from hub.ledger.ledger import dump_projections
from hub.store import Store
from hub.words import words_for

TODAY = date(2026, 12, 1)
CANARY = "Canari-7f3e: votre bague Dupont est prête"
TEXT = {"subject": "Votre bague est prête", "body": CANARY, "sms": "Bague prête. " + CANARY}


async def ask(store, client_id, purpose="ready", ref="job:J12", **kw):
    return await store.outbox.request(client_id=client_id, purpose=purpose, ref=ref,
                                      text=kw.pop("text", TEXT), actor="admin",
                                      today=kw.pop("today", TODAY), **kw)


def receipt(msg_id, notification_id, status, channel=None, reason=None):
    return {"id": msg_id, "type": "notification_receipt", "chain": "maison", "store": "paris-01",
            "issued_at": "2026-12-01T10:00:00Z",
            "body": {"notification_id": notification_id, "status": status, "channel": channel,
                     "reason": reason}}


async def new_client(store, **over):
    return (await store.clients.create(client(**over), actor="admin"))["client_id"]


async def test_ready_goes_by_email_and_sms_sealed_under_her_key_and_once_only(store):
    her = await new_client(store)
    entry = await ask(store, her)
    assert entry.kind == "notification.requested" and entry.key_id == f"client:{her}"
    p = store.ledger.decrypt(entry)
    assert p["channels"] == ["email", "sms"] and p["body"] == CANARY
    assert p["to"] == {"email": "zoë.marchand@example.fr", "sms": "+33 6 12 34 56 78"}
    rows = await store.outbox.of_ref("job:J12")
    assert [(r["notification_id"], r["channel"], r["status"]) for r in rows] == [
        (p["notification_id"], "email", "requested"), (p["notification_id"], "sms", "requested")]
    assert p["notification_id"] == f"N{entry.seq}"

    # A retried "ready" is the same request: nothing new is journaled.
    seq = store.ledger.seq
    again = await ask(store, her)
    assert again.seq == entry.seq and store.ledger.seq == seq
    # A second reminder names its own `once`.
    second = await ask(store, her, purpose="overdue", once="2026-12-08")
    third = await ask(store, her, purpose="overdue", once="2026-12-15")
    assert second.seq < third.seq
    assert len(await store.outbox.of_client(her)) == 6
    assert len(await store.outbox.pending()) == 6
    # Only what the caller asks for: a statement goes by e-mail, or as named.
    statement = store.ledger.decrypt(await ask(store, her, purpose="statement",
                                               ref="statement:2026-11"))
    assert statement["channels"] == ["email"]
    sms_only = store.ledger.decrypt(await ask(store, her, ref="job:J13", channels=["sms"]))
    assert sms_only["channels"] == ["sms"] and sms_only["to"] == {"sms": "+33 6 12 34 56 78"}


async def test_a_no_holds_back_a_reminder_but_not_her_ready_piece(store):
    her = await new_client(store, phones=[], consent={"email": {"marketing": False,
                                                                "how": "in_store"}})
    assert await ask(store, her) is not None  # service she waits for: always, if reachable
    seq = store.ledger.seq
    assert await ask(store, her, purpose="overdue") is None
    assert store.ledger.seq == seq  # nothing journaled
    why = await store.outbox.why_not(her, "overdue", today=TODAY)
    assert why.code == "no_consent"
    assert str(why) == "she asked not to be contacted by E-mail"
    assert await store.outbox.why_not(her, "ready", today=TODAY) is None


async def test_no_address_quiet_period_erased_and_unknown(store):
    nobody = await new_client(store, emails=[], phones=[])
    assert await ask(store, nobody) is None
    why = await store.outbox.why_not(nobody, "ready", today=TODAY)
    assert why.code == "no_address"
    assert str(why) == "the book has no address of hers for E-mail or SMS"

    quiet = await new_client(store, do_not_contact=[{"from": "2026-11-20", "to": "2027-01-10",
                                                     "reason": "mourning"}])
    assert await ask(store, quiet, purpose="overdue") is None
    why = await store.outbox.why_not(quiet, "overdue", today=TODAY)
    assert why.code == "do_not_contact"
    assert str(why) == "she asked not to be contacted until 10 Jan 2027"
    assert await ask(store, quiet, ref="job:J99") is not None  # her piece is still ready

    gone = await new_client(store, last_name="Oubli")
    await store.clients.forget(gone, actor="admin")
    assert await ask(store, gone) is None
    why = await store.outbox.why_not(gone, "ready", today=TODAY)
    assert why.code == "client_forgotten" and gone in str(why)

    with pytest.raises(NotFound):
        await ask(store, "CAAAAAAAAAA")
    with pytest.raises(Invalid) as bad:
        await ask(store, quiet, purpose="birthday_promo")
    assert bad.value.field == "purpose"
    with pytest.raises(Invalid) as bad:  # a reference is kept in clear: no words in it
        await ask(store, quiet, ref="job: Mme Dupont")
    assert bad.value.field == "ref"
    with pytest.raises(Invalid) as bad:
        await ask(store, quiet, text={"subject": "no body"})
    assert bad.value.field == "text.body"
    with pytest.raises(Invalid):
        await ask(store, quiet, channels=["post"])


async def test_why_not_names_the_day_in_the_stores_words(store):
    quiet = await new_client(store, do_not_contact=[{"from": "2026-11-20", "to": "2027-01-10"}])
    why = await store.outbox.why_not(quiet, "overdue", today=TODAY)
    assert why.params["day"] == store.words.day("2027-01-10")
    assert "2027" in words_for("fr-FR").refusal(why)


async def test_receipts_settle_each_channel_and_a_rebuild_gives_the_same_rows(store, tmp_path):
    her = await new_client(store)
    n = store.ledger.decrypt(await ask(store, her))["notification_id"]
    await store.hq.apply(receipt("a" * 32, n, "sent", "email"), "sig")
    await store.hq.apply(receipt("b" * 32, n, "refused", "sms", "no_consent"), "sig")
    rows = {r["channel"]: r for r in await store.outbox.of_ref("job:J12")}
    assert (rows["email"]["status"], rows["email"]["reason"]) == ("sent", None)
    assert (rows["sms"]["status"], rows["sms"]["reason"]) == ("refused", "no_consent")
    assert rows["sms"]["updated_seq"] > rows["sms"]["requested_seq"]
    assert await store.outbox.pending() == []
    # A receipt naming no channel speaks for all of them; the latest word holds.
    await store.hq.apply(receipt("c" * 32, n, "failed", None, "undeliverable"), "sig")
    assert {r["status"] for r in await store.outbox.of_ref("job:J12")} == {"failed"}
    # A receipt that does not parse is refused before anything is written.
    with pytest.raises(Invalid):
        await store.hq.apply(receipt("d" * 32, n, "delivered", "email"), "sig")

    before = dump_projections(store.config.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.config.db_path, store.ledger.schemas) == before


async def test_merge_and_erasure_carry_her_messages(store):
    kept = await new_client(store)
    other = await new_client(store, first="Zoe", emails=["zoe.m@example.fr"])
    await ask(store, other, ref="job:J20")
    await store.clients.merge(kept, other, actor="admin")
    assert [r["client_id"] for r in await store.outbox.of_ref("job:J20")] == [kept, kept]
    # A request for the merged record goes to the record kept.
    entry = await ask(store, other, ref="job:J21")
    assert entry.key_id == f"client:{kept}"

    n = store.ledger.decrypt(entry)["notification_id"]
    await store.clients.forget(kept, actor="admin")
    assert await store.outbox.of_client(kept) == []  # as a rebuild would find it
    await store.hq.apply(receipt("e" * 32, n, "refused", None, "client_erased"), "sig")
    before = dump_projections(store.config.db_path, store.ledger.schemas)
    await store.rebuild()
    assert dump_projections(store.config.db_path, store.ledger.schemas) == before


async def test_nothing_of_hers_is_on_disk_in_clear(store):
    her = await new_client(store, emails=["canari.zz@example.fr"])
    n = store.ledger.decrypt(await ask(store, her))["notification_id"]
    await store.hq.apply(receipt("f" * 32, n, "sent", "email"), "sig")
    await store.ledger.close()
    data = b"".join(p.read_bytes() for p in store.config.data_dir.glob("loupe.db*"))
    for canary in (CANARY, "Canari-7f3e", "Votre bague", "canari.zz@example.fr", "34 56 78"):
        assert canary.encode() not in data, canary


# -- the channels follow `may_contact`, purpose by purpose ---------------------------------------

consents = st.fixed_dictionaries({}, optional={
    c: st.sampled_from([True, False]) for c in CHANNELS})


def test_a_request_goes_on_exactly_the_channels_may_contact_allows(make_config):
    """For any consent, contacts and quiet period: journaled on exactly the channels
    `may_contact` allows for the purpose's kind, else nothing and a reason."""
    runner = asyncio.Runner()
    store = runner.run(Store.open(make_config()))
    try:
        @settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(purpose=st.sampled_from(PURPOSES), said=consents, email=st.booleans(),
               phone=st.booleans(), quiet=st.booleans())
        def check(purpose, said, email, phone, quiet):
            profile = client(
                emails=["z@example.fr"] if email else [],
                phones=["+33 6 12 34 56 78"] if phone else [],
                consent={c: {"marketing": v, "how": "in_store"} for c, v in said.items()},
                do_not_contact=[{"from": "2026-11-01"}] if quiet else [])
            her = runner.run(store.clients.create(profile, actor="admin"))["client_id"]
            stored = runner.run(store.clients.get(her))["profile"]
            wanted = ("email",) if purpose == "statement" else CHANNELS
            expected = [c for c in wanted
                        if may_contact(stored, c, CONTACT_PURPOSE[purpose], TODAY)]
            seq = store.ledger.seq
            entry = runner.run(ask(store, her, purpose=purpose, ref=f"job:{her}"))
            why = runner.run(store.outbox.why_not(her, purpose, today=TODAY))
            if expected:
                assert store.ledger.decrypt(entry)["channels"] == expected
                assert why is None
            else:
                assert entry is None and store.ledger.seq == seq
                assert why.code in ("no_address", "no_consent", "do_not_contact")

        check()
    finally:
        runner.run(store.close())
        runner.close()
