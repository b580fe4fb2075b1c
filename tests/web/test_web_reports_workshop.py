"""The workshop report over HTTP with the layer's part running: open jobs by stage, overdue
ones, the deposits held; without the workshop running, a sentence, never a 500."""

from __future__ import annotations

from datetime import timedelta

from web_helpers import sign_in

from hub.workshop.part import part
from tests.builders import cash
from tests.builders import client as client_of


async def test_open_jobs_overdue_and_deposits_held(runtime, client):
    async with part(runtime):
        her = (await runtime.store.clients.create(client_of("Camille", "Durand"), "t"))
        csrf = await sign_in(client, "mona")
        headers = {"X-CSRF-Token": csrf}
        soon = (runtime.jobs.today() + timedelta(days=1)).isoformat()
        for promised, deposit in ((soon, 2000), (None, 3500)):
            job = {"kind": "repair", "client_id": her["client_id"], "item_kind": "ring",
                   "description": "yellow metal ring", "weight_mg": 4210, "stone_count": 5,
                   "services": [{"service": "retip", "detail": "4 prongs", "price": 6000}],
                   "deposit": {"register_id": "R1", "tenders": cash(deposit)},
                   **({"promised": promised} if promised else {})}
            made = await client.post("/api/v1/jobs", json=job, headers=headers)
            assert made.status == 201, await made.text()
        later = runtime.jobs.now() + timedelta(days=3)
        runtime.jobs.now = lambda: later  # three days on: the first promise is past
        doc = await (await client.get("/api/v1/reports/workshop")).json()
        assert doc["open_jobs"] == 2 and doc["overdue"] == 1
        assert [(r["kind"], r["stage"], r["jobs"], r["value"]) for r in doc["open"]] == [
            ("repair", "received", 2, 12_000)]
        assert doc["deposits_held"] == {"EUR": 5_500}
        assert doc["collected"] == 0 and doc["turnaround_days"] is None
        page = await (await client.get("/reports/workshop")).text()
        assert 'id="chart-workshop"' in page and "€55.00" in page and "Received" in page
    r = await client.get("/api/v1/reports/workshop")  # the part stopped
    assert r.status == 503 and "workshop" in (await r.text())
