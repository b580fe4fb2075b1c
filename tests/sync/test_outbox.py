"""Messages to clients through head office, with a real Mosquitto and the reference HQ: asked
offline, carried by the sync channel, sent by HQ (its consent checked again), and the receipt
back in the store's books. Nothing personal in clear on the broker, at HQ or in the store."""

from __future__ import annotations

import asyncio
import contextlib

import aiomqtt
from builders import client
from sync_helpers import HQRunner, hq_stored_bytes, until

from hub.sync.hq import Outcome, Outgoing

CANARY = "Canari-51c9 : votre bague est prête chez Maison"
TEXT = {"subject": "Votre bague est prête", "body": CANARY, "sms": "SMS " + CANARY}


async def new_client(hub, **over) -> str:
    made = await hub.store.clients.create(client(**over), actor="admin")
    return made["client_id"]


async def ask(hub, client_id, purpose="ready", ref="job:J12", **kw):
    return await hub.store.outbox.request(client_id=client_id, purpose=purpose, ref=ref,
                                          text=TEXT, actor="admin", **kw)


async def statuses(hub, ref="job:J12") -> dict[str, tuple[str, str | None]]:
    return {r["channel"]: (r["status"], r["reason"]) for r in await hub.store.outbox.of_ref(ref)}


def statuses_are(hub, expected: dict, ref: str = "job:J12"):
    async def check() -> bool:
        return await statuses(hub, ref) == expected
    return check


async def hq_rows(hq) -> list[dict]:
    return await hq.call(hq.hq.storage.query, "SELECT store_id, notification_id, channel,"
                         " status, reason, receipted FROM notifications ORDER BY seq, channel")


async def receipts(hub) -> int:
    row = await hub.store.ledger.fetch_one(
        "SELECT COUNT(*) AS n FROM hq_messages WHERE type = 'notification_receipt'")
    return row["n"]


async def test_a_request_made_offline_waits_then_goes_and_its_receipt_comes_back(
        hq, hubs, broker, pg_cluster):
    paris = await hubs("paris")
    her = await new_client(paris)
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "her profile at HQ")
    seen: list[bytes] = []
    subscribed = asyncio.Event()

    async def spy() -> None:  # everything on the broker, both ways, until the end
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", broker.port, identifier="spy") as c:
                    await c.subscribe("#", qos=1)
                    subscribed.set()
                    async for m in c.messages:
                        seen.append(bytes(m.payload))
            await asyncio.sleep(0.05)

    spy_task = asyncio.create_task(spy())
    await asyncio.wait_for(subscribed.wait(), 10)

    broker.stop()  # the shop's line is down: the job is still finished
    await until(lambda: not paris.rep.connected, "the hub sees the broker gone")
    entry = await ask(paris, her)
    assert entry is not None
    assert await statuses(paris) == {"email": ("requested", None), "sms": ("requested", None)}
    assert len(await paris.store.outbox.pending()) == 2
    assert paris.store.words.term("notification_status", "requested") == "Waiting to be sent"

    subscribed.clear()
    broker.start()
    await until(statuses_are(paris, {"email": ("sent", None), "sms": ("sent", None)}),
                "both receipts back", 60)
    assert await paris.store.outbox.pending() == []
    sent = sorted(hq.hq.sender.sent, key=lambda m: m.channel)
    notification_id = f"N{entry.seq}"
    assert [(m.store_id, m.notification_id, m.client_id, m.channel, m.to) for m in sent] == [
        ("paris", notification_id, her, "email", "zoë.marchand@example.fr"),
        ("paris", notification_id, her, "sms", "+33 6 12 34 56 78")]
    assert (sent[0].subject, sent[0].body) == ("Votre bague est prête", CANARY)
    assert (sent[1].subject, sent[1].body) == (None, "SMS " + CANARY)
    assert [(r["channel"], r["status"], r["receipted"]) for r in await hq_rows(hq)] == [
        ("email", "sent", 1), ("sms", "sent", 1)]

    # Asked again (a retried "ready"), resent by the hub (go-back-N): still sent once.
    assert (await ask(paris, her)).seq == entry.seq
    paris.rep._go_back("test")
    await paris.store.sales.complete(register_id="R1", actor="admin",
                                     lines=[{"item_id": "paris-0"}],
                                     tenders=[{"type": "cash", "amount": 250000}])
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "everything at HQ again")
    assert len(hq.hq.sender.sent) == 2 and await receipts(paris) == 2

    await asyncio.wait_for(subscribed.wait(), 10)
    spy_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await spy_task
    assert any(notification_id.encode() in p for p in seen)  # the spy heard the receipts
    for payload in seen:
        assert b"Canari-51c9" not in payload and b"marchand@" not in payload
    hq_db = hq_stored_bytes(hq.hq, pg_cluster)
    store_db = b"".join(p.read_bytes() for p in paris.store.config.data_dir.glob("loupe.db*"))
    for raw in (hq_db, store_db):
        assert b"Canari-51c9" not in raw and "zoë.marchand".encode() not in raw


async def test_no_consent_journals_nothing_and_hq_checks_consent_again(hq, hubs):
    paris = await hubs("paris")
    said_no = await new_client(paris, phones=[], consent={"email": {"marketing": False,
                                                                    "how": "in_store"}})
    seq = paris.store.ledger.seq
    assert await ask(paris, said_no, purpose="overdue") is None
    assert paris.store.ledger.seq == seq  # nothing journaled, nothing for HQ
    why = await paris.store.outbox.why_not(said_no, "overdue")
    assert paris.store.words.refusal(why) == "She asked not to be contacted by E-mail"

    # She agrees to a reminder... then says no before head office gets to it.
    her = await new_client(paris, phones=[])
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "in sync")
    await paris.rep.stop()
    assert await ask(paris, her, purpose="overdue") is not None
    await paris.store.clients.set_consent(her, "email", False, "phone", actor="admin")
    await paris.rep.start()
    await until(statuses_are(paris, {"email": ("refused", "no_consent")}),
                "HQ's refusal back at the store")
    assert list(hq.hq.sender.sent) == []


async def test_hq_never_sends_to_an_erased_client(hq, hubs):
    paris = await hubs("paris")
    her = await new_client(paris)
    await until(lambda: paris.rep.acked == paris.store.ledger.seq, "in sync")
    await paris.rep.stop()
    assert await ask(paris, her) is not None
    await paris.store.clients.forget(her, actor="admin")
    assert await paris.store.outbox.of_client(her) == []
    await paris.rep.start()
    async def both_receipts() -> bool:
        return await receipts(paris) == 2

    await until(both_receipts, "one receipt per channel")
    assert [(r["channel"], r["status"], r["reason"]) for r in await hq_rows(hq)] == [
        ("email", "refused", "client_erased"), ("sms", "refused", "client_erased")]
    assert list(hq.hq.sender.sent) == []
    refused = await paris.store.outbox.why_not(her, "ready")
    assert refused.code == "client_forgotten"


class Flaky:
    """A gateway that is down: every attempt raises."""

    def __init__(self) -> None:
        self.attempts = 0

    async def send(self, message: Outgoing) -> Outcome:
        self.attempts += 1
        raise ConnectionRefusedError("smtp relay down")


class Bouncing:
    async def send(self, message: Outgoing) -> Outcome:
        return Outcome("failed", "undeliverable")


async def test_a_message_hq_could_not_send_stays_due_across_a_restart(hq, hubs, broker):
    paris = await hubs("paris")
    her = await new_client(paris, emails=[])
    flaky = hq.hq.sender = Flaky()
    await ask(paris, her)
    await until(lambda: flaky.attempts >= 1, "HQ tried")
    assert [(r["status"], r["receipted"]) for r in await hq_rows(hq)] == [("requested", 0)]
    assert await statuses(paris) == {"sms": ("requested", None)}

    await hq.close()  # head office restarts, its gateway fixed
    hq.hq.sender = Bouncing()
    again = HQRunner(hq.hq, broker)
    try:
        await asyncio.wait_for(again.receiver.connected.wait(), 10)
        await until(statuses_are(paris, {"sms": ("failed", "undeliverable")}),
                    "the bounce reported to the store")
        assert paris.store.words.term("notification_status", "failed") == "Could not be sent"
        assert paris.store.words.term("notification_reason", "undeliverable")
    finally:
        await again.close()


async def test_many_requests_from_two_stores_each_get_their_receipt(hq, hubs):
    paris, lyon = await hubs("paris"), await hubs("lyon")
    for hub in (paris, lyon):
        her = await new_client(hub, phones=[])
        for i in range(30):
            assert await ask(hub, her, ref=f"job:J{i}") is not None

    def all_sent(hub):
        async def check() -> bool:
            return await hub.store.outbox.pending() == [] and await receipts(hub) == 30
        return check

    for hub in (paris, lyon):
        await until(all_sent(hub), "every receipt back", 60)
        rows = await hub.store.ledger.fetch("SELECT COUNT(*) AS n FROM notifications"
                                            " WHERE status = 'sent'")
        assert rows[0]["n"] == 30
    assert len(hq.hq.sender.sent) == 60
