"""One event encoded once for every open screen, each still seeing only what its role may."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from web_helpers import sign_in


async def test_every_screen_gets_the_event_and_only_those_who_may_see_its_cost(client, store):
    others = [TestClient(client.server) for _ in range(2)]  # the same hub, their own cookies
    for other in others:
        await other.start_server()
    try:
        await sign_in(client, "mona")  # a manager: sees costs
        await sign_in(others[0], "alex")  # two associates' tablets: never see a cost
        await sign_in(others[1], "alex", register_id="R2")
        sockets = [await c.ws_connect("/api/v1/events") for c in (client, *others)]
        entry = {"seq": 7, "kind": "item.received", "subject": "item:P009", "actor": "test",
                 "ts": "2026-01-01T00:00:00Z",
                 "payload": {"item_id": "P009", "cost": 125_000, "tag_price": 250_000}}
        store.bus.publish("journal.item.received", **entry)
        store.bus.publish("device.scan", device="scanner-1", code="P009")
        got = []
        for ws in sockets:
            frames = [await ws.receive_json(timeout=10), await ws.receive_json(timeout=10)]
            got.append({f["topic"]: f["data"] for f in frames})
        manager, associate, other_associate = got
        assert manager["journal.item.received"]["payload"]["cost"] == 125_000
        assert "cost" not in associate["journal.item.received"]["payload"]
        assert associate == other_associate
        assert associate["journal.item.received"]["payload"]["tag_price"] == 250_000
        assert all(g["device.scan"] == {"device": "scanner-1", "code": "P009"} for g in got)
        for ws in sockets:
            await ws.close()
    finally:
        for other in others:
            await other.close()
