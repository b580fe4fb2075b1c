"""The client book's new and edit forms, and a sale's page with its returns and voids: the
API names the refused field, the forms show the profile as text, a sale shows what came back."""

from __future__ import annotations

import re

import pytest
from web_helpers import PINS, sign_in

from tests.builders import piece

CART = "/api/v1/registers/R1/cart"
XSS = '<script>window.__xss=1</script>"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("body, field", [
    ({"first_name": "Ines", "emails": ["ines@example.com", "not an address"]}, "emails[1]"),
    ({"first_name": "Ines", "dates": {"birthday": "1990-02-31"}}, "dates.birthday"),
    ({"first_name": "Ines", "phones": ["12"]}, "phones[0]"),
    ({"emails": ["ines@example.com"]}, "last_name"),
    ({"first_name": "Ines", "ring_sizes": {"left ring": "x" * 11}}, "ring_sizes.left ring"),
    ({"first_name": "Ines", "preferences": {"designers": [1]}}, "preferences.designers[0]"),
])
async def test_a_refused_client_field_is_named_in_the_error(client, store, body, field):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients", json=body, headers=h)
    assert r.status == 400
    error = await r.json()
    assert error["error"] == "invalid" and error["field"] == field
    # A person reads the field's name in words, never its key; the key stays for machines.
    label = store.words.field_label(field)
    assert error["detail"].startswith(label + ": ") and field not in error["detail"]
    assert [p["field"] for p in error["problems"]] == [field]
    assert await store.clients.search("Ines") == []


async def test_every_problem_of_a_form_comes_back_at_once(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients", json={
        "emails": ["no address"], "phones": ["12"], "dates": {"birthday": "1990-02-31"}},
        headers=h)
    error = await r.json()
    assert r.status == 400
    assert {p["field"] for p in error["problems"]} == {"last_name", "emails[0]", "phones[0]",
                                                        "dates.birthday"}
    assert error["detail"].startswith("4 fields need attention")
    assert all(p["message"] and "_" not in p["label"] for p in error["problems"])
    assert await store.clients.search("no") == []


async def test_an_error_about_no_one_field_has_none(client):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients", json={"first_name": "Ines", "shoe": "38"}, headers=h)
    assert r.status == 400 and "field" not in await r.json()


async def test_an_edit_names_the_field_and_keeps_the_profile(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    created = await (await client.post("/api/v1/clients", json={
        "first_name": "Ines", "ring_sizes": {"left ring": "52"}}, headers=h)).json()
    path = f"/api/v1/clients/{created['client_id']}"
    r = await client.patch(path, json={"dates": {"anniversary": "--13-01"}}, headers=h)
    assert r.status == 400 and (await r.json())["field"] == "dates.anniversary"
    r = await client.patch(path, json={"ring_sizes": {"left ring": "53"}}, headers=h)
    assert r.status == 200
    assert (await store.clients.get(created["client_id"]))["profile"]["ring_sizes"] == {
        "left ring": "53"}


async def test_the_new_and_edit_forms_show_the_profile_as_text(client, store):
    await sign_in(client, "alex")
    r = await client.get("/clients/new")
    assert r.status == 200
    page = await r.text()
    assert 'id="client-edit-form"' in page and 'data-client-id=""' in page
    assert 'href="/clients/new"' in await (await client.get("/clients")).text()

    made = await store.clients.create({
        "first_name": "Isabelle", "last_name": XSS, "emails": ["i@example.com"],
        "addresses": [{"line1": "12 rue de la Paix", "city": "Paris", "postcode": "75002"}],
        "ring_sizes": {"left ring": "52"}, "dates": {"birthday": "--04-12"},
        "preferences": {"designers": ["Maison", "Atelier"]}, "notes": XSS,
        "consent": {"marketing": True}}, actor="test")
    profile_page = await (await client.get(f"/clients/{made['client_id']}")).text()
    assert f'href="/clients/{made["client_id"]}/edit"' in profile_page
    assert "12 rue de la Paix, 75002 Paris" in profile_page
    r = await client.get(f"/clients/{made['client_id']}/edit")
    assert r.status == 200
    page = await r.text()
    assert "<script>window" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page  # the note, as text
    assert 'value="52"' in page and 'value="left ring"' in page
    # A designer of the store's pieces is a chip, checked; one it does not carry is typed.
    assert 'value="--04-12"' in page and '">Atelier</textarea>' in page
    assert re.search(r'name="designers" value="Maison" checked', page)
    assert 'value="12 rue de la Paix"' in page
    # The old one yes or no to marketing is the e-mail channel's.
    assert re.search(r'name="consent-email" value="yes" checked', page)


async def test_edit_pages_of_unknown_or_forgotten_clients_are_404(client, store):
    await sign_in(client, "alex")
    assert (await client.get("/clients/CAAAAAAAAAA/edit")).status == 404
    made = await store.clients.create({"first_name": "Gone"}, actor="test")
    await store.clients.forget(made["client_id"], actor="test")
    assert (await client.get(f"/clients/{made['client_id']}/edit")).status == 404


async def _sell(client, h, serials, client_id=None) -> str:
    for serial in serials:
        await client.post(CART + "/lines", json={"item_id": serial}, headers=h)
    if client_id:
        await client.put(CART + "/client", json={"client_id": client_id}, headers=h)
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 250_000 * len(serials)},
                      headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201, await r.text()
    return (await r.json())["sale"]["sale_id"]


async def _approved(client, h, path, body):
    r = await client.post(path, json=body, headers=h)
    assert r.status == 403 and (await r.json())["error"] == "approval_needed"
    approval = await (await client.post("/api/v1/approvals", json={
        "action": (await r.json())["action"], "manager_id": "mona", "pin": PINS["mona"]},
        headers=h)).json()
    r = await client.post(path, json={**body, "approval_id": approval["approval_id"]}, headers=h)
    assert r.status == 201, await r.text()
    return await r.json()


async def test_a_sale_page_offers_returns_and_shows_those_made(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    made = await store.clients.create({"first_name": "Isabelle", "last_name": "Fontaine"},
                                      actor="test")
    sale_id = await _sell(client, h, ["P001", "P002"], made["client_id"])

    client_page = await (await client.get(f"/clients/{made['client_id']}")).text()
    assert f'href="/sales/{sale_id}"' in client_page
    page = await (await client.get(f"/sales/{sale_id}")).text()
    assert 'id="return-line-1"' in page and 'id="return-line-2"' in page
    assert 'id="void-form"' in page and 'id="approval-dialog"' in page
    assert "Isabelle Fontaine" in page and "Nothing returned." in page

    doc = await _approved(client, h, f"/api/v1/sales/{sale_id}/return",
                          {"register_id": "R1", "lines": [{"line_no": 1, "quantity": 1}],
                           "reason": "wrong size"})
    page = await (await client.get(f"/sales/{sale_id}")).text()
    assert "Partly returned" in page and doc["return_id"] in page and "wrong size" in page
    assert 'id="return-line-1"' not in page and 'id="return-line-2"' in page
    assert 'id="void-form"' not in page  # only a sale with no returns can be voided

    await _approved(client, h, f"/api/v1/sales/{sale_id}/return",
                    {"register_id": "R1", "lines": [{"line_no": 2, "quantity": 1}],
                     "reason": "changed her mind"})
    page = await (await client.get(f"/sales/{sale_id}")).text()
    assert 'id="sale-status">Returned' in page and 'id="sale-actions"' not in page


async def test_a_voided_sale_offers_nothing_more(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    sale_id = await _sell(client, h, ["P003"])
    await _approved(client, h, f"/api/v1/sales/{sale_id}/void",
                    {"register_id": "R1", "reason": "keyed twice"})
    page = await (await client.get(f"/sales/{sale_id}")).text()
    assert 'id="sale-status">Voided' in page and 'id="sale-actions"' not in page
    assert "keyed twice" in page


async def test_a_clients_headline_in_words_and_over_the_api(client, store):
    await sign_in(client, "alex")
    made = await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine",
                                       "ring_sizes": {"left ring": "52"},
                                       "dates": {"anniversary": "2016-01-15"}}, actor="test")
    await store.items.receive(piece("HF-1", tag_price=4_820_000), "test")
    await store.sales.complete(register_id="R1", actor="alex", lines=[{"item_id": "HF-1"}],
                               tenders=[{"type": "cash", "amount": 4_820_000}],
                               client_id=made["client_id"])
    r = await client.get(f"/api/v1/clients/{made['client_id']}/summary")
    summary = await r.json()
    assert r.status == 200 and summary["lifetime"] == 4_820_000 and summary["purchases"] == 1
    assert summary["next_milestone"]["kind"] == "anniversary"
    page = await (await client.get(f"/clients/{made['client_id']}")).text()
    headline = page[page.index('id="client-summary"'):page.index("</dl>",
                                                              page.index('id="client-summary"'))]
    money = store.words.money(4_820_000, "EUR")
    assert headline.count(money) == 3  # lifetime, last 12 months, the average basket
    assert "Anniversary" in headline and "years)" in headline and "in " in headline
    assert "4820000" not in headline and "anniversary" not in headline
    r = await client.get("/api/v1/clients/CNOBODY000/summary")
    assert r.status == 404 and "CNOBODY000" in (await r.json())["detail"]
