"""A client's whole profile over the API and on her page: every field in words (never a key,
blanks as —), bad input refused naming the field with nothing written, partners linked on
both sides, consent per channel with its history; and, in Chromium on the counter tablet,
the new-client form filled by touch (chips, lengths, her associate, consent)."""

from __future__ import annotations

import re

import pytest
from web_helpers import sign_in

from hub.ledger.ledger import dump_projections

# What a screen must never show: snake_case keys.
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")

DEEP = {
    "first_name": "Hélène", "last_name": "Fontaine", "emails": ["helene@example.com"],
    "phones": ["+33 6 12 34 56 78"],
    "ring_sizes": {"left ring": "52", "right ring": "51"},
    "lengths": {"wrist": {"mm": 155, "unit": "cm"}, "necklace": {"mm": 450, "unit": "cm"},
                "bracelet": {"mm": 172, "unit": "mm"}},
    "preferences": {"metals": ["gold"], "colours": ["rose"], "stones": ["emerald"],
                    "styles": ["art_deco", "minimalist"], "designers": ["Maison", "Verdier"],
                    "note": "Loves old-cut stones"},
    "budget": "15000-50000",
    "conversation": {"work": "Architect", "pets": "A greyhound called Pablo"},
    "primary_associate": "alex", "secondary_associate": "mona",
    "consent": {"email": {"marketing": True, "how": "signed_form"},
                "sms": {"marketing": False, "how": "phone"}},
    "do_not_contact": [{"from": "2030-01-01", "to": "2030-02-01", "reason": "travelling"}],
}


async def _books(store) -> tuple:
    return store.ledger.seq, dump_projections(store.ledger.db_path, store.ledger.schemas)


async def test_a_deep_profile_over_the_api_and_on_her_page_in_words(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    r = await client.post("/api/v1/clients", json=DEEP, headers=h)
    assert r.status == 201, await r.text()
    made = await r.json()
    cid = made["client_id"]
    p = made["profile"]
    assert p["lengths"] == DEEP["lengths"] and p["budget"] == "15000-50000"
    assert p["preferences"]["styles"] == ["art_deco", "minimalist"]
    assert [(c["marketing"], c["by"], c["how"]) for c in p["consent"]["email"]] == [
        (True, "alex", "signed_form")]
    assert (await (await client.get(f"/api/v1/clients/{cid}")).json())["profile"] == p

    page = await (await client.get(f"/clients/{cid}")).text()
    profile = page[page.index('id="client-profile"'):page.index("</section>",
                                                                page.index('id="client-profile"'))]
    text = re.sub(r"<[^>]+>", " ", profile)
    for words in ("Wrist 15.5\u00a0cm", "Necklace 45\u00a0cm", "Bracelet 172\u00a0mm",
                  "Art Deco", "minimalist", "rose", "emerald", "Maison, Verdier",
                  "Loves old-cut stones", "Architect", "A greyhound called Pablo",
                  "Alex Associate, Mona Manager", "yes to marketing", "no to marketing",
                  "not asked", "on a signed form", "by phone", "travelling",
                  store.words.money(1_500_000, "EUR"), store.words.money(5_000_000, "EUR")):
        assert words in text, words
    # Blanks read as a dash, and no key reaches the page.
    assert re.search(r'id="client-conversation-children">—<', profile)
    assert re.search(r'id="client-partner">—<', profile)
    assert not CODE.findall(text), CODE.findall(text)


@pytest.mark.parametrize("body, field", [
    ({"preferences": {"metals": ["gold", "unobtainium"]}}, "preferences.metals[1]"),
    ({"preferences": {"styles": ["gothic"]}}, "preferences.styles[0]"),
    ({"lengths": {"wrist": {"mm": 12, "unit": "cm"}}}, "lengths.wrist"),
    ({"budget": "1-2"}, "budget"),
    ({"household": [{"client_id": "CAAAAAAAAAA", "relation": "uncle"}]},
     "household[0].relation"),
    ({"household": [{"client_id": "CAAAAAAAAAA", "relation": "child"}]},
     "household[0].client_id"),
    ({"partner_id": "CAAAAAAAAAA"}, "partner_id"),
    ({"primary_associate": "nobody"}, "primary_associate"),
    ({"conversation": {"gossip": "x"}}, "conversation"),
    ({"consent": {"email": {"marketing": True}}}, "consent.email.how"),
    ({"consent": {"email": {"marketing": True, "how": "telepathy"}}}, "consent.email.how"),
    ({"consent": {"fax": {"marketing": True, "how": "in_store"}}}, "consent"),
    ({"consent": {"email": [{"marketing": True, "at": None, "by": "alex", "how": "web"}]}},
     "consent.email"),
    ({"do_not_contact": [{"from": "2030-02-01", "to": "2030-01-01"}]}, "do_not_contact[0].to"),
])
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
        client, store, body, field):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    made = await store.clients.create({"first_name": "Ines"}, actor="test")
    before = await _books(store)
    for method, path, sent in (("POST", "/api/v1/clients", {"first_name": "Ines", **body}),
                               ("PATCH", f"/api/v1/clients/{made['client_id']}", body)):
        r = await client.request(method, path, json=sent, headers=h)
        assert r.status == 400, (method, await r.text())
        error = await r.json()
        assert [p["field"] for p in error["problems"]] == [field]
        label = store.words.field_label(field)
        assert error["detail"].startswith(label + ": ") and "_" not in label
    assert await _books(store) == before


async def test_consent_per_channel_over_the_api(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    cid = (await store.clients.create({"first_name": "Ines", "emails": ["i@example.com"],
                                       "consent": {"marketing": True}}, actor="test"))[
        "client_id"]
    path = f"/api/v1/clients/{cid}/consent"
    r = await client.post(path, json={"channel": "sms", "marketing": True, "how": "in_store"},
                          headers=h)
    assert r.status == 200, await r.text()
    r = await client.post(path, json={"channel": "email", "marketing": False,
                                      "how": "email_reply"}, headers=h)
    consent = (await r.json())["profile"]["consent"]
    assert [c["marketing"] for c in consent["email"]] == [True, False]  # the old yes, then no
    assert consent["email"][-1]["by"] == "alex" and consent["sms"][-1]["marketing"] is True
    before = await _books(store)
    for body, field in [({"marketing": True, "how": "in_store"}, "channel"),
                        ({"channel": "pigeon", "marketing": True, "how": "in_store"}, "channel"),
                        ({"channel": "email", "marketing": True}, "how"),
                        ({"channel": "email", "marketing": True, "how": "guess"}, "how"),
                        ({"channel": "email", "marketing": "maybe", "how": "web"},
                         "marketing")]:
        r = await client.post(path, json=body, headers=h)
        assert r.status == 400 and (await r.json())["field"] == field, body
    r = await client.post("/api/v1/clients/CAAAAAAAAAA/consent",
                          json={"channel": "email", "marketing": True, "how": "web"}, headers=h)
    assert r.status == 404
    assert await _books(store) == before
    page = await (await client.get(f"/clients/{cid}")).text()
    email = page[page.index('id="client-consent-email"'):]
    assert email.index("no to marketing") < email.index("</dd>")
    assert "2 changes" in email[:email.index("</dd>")]


async def test_partners_are_linked_on_both_pages(client, store):
    h = {"X-CSRF-Token": await sign_in(client, "alex")}
    a = (await store.clients.create({"first_name": "Hélène", "last_name": "Fontaine"},
                                    actor="test"))["client_id"]
    b = (await store.clients.create({"first_name": "Louis", "last_name": "Fontaine"},
                                    actor="test"))["client_id"]
    child = (await store.clients.create({"first_name": "Léa", "last_name": "Fontaine"},
                                        actor="test"))["client_id"]
    r = await client.patch(f"/api/v1/clients/{a}", json={
        "partner_id": b, "household": [{"client_id": child, "relation": "child"}]}, headers=h)
    assert r.status == 200, await r.text()
    louis = await (await client.get(f"/clients/{b}")).text()
    assert re.search(rf'id="client-partner"><a href="/clients/{a}">Hélène Fontaine</a>', louis)
    lea = await (await client.get(f"/clients/{child}")).text()
    assert re.search(rf'href="/clients/{a}">Hélène Fontaine</a> \(parent\)', lea)
    r = await client.patch(f"/api/v1/clients/{b}", json={"partner_id": a}, headers=h)
    assert r.status == 200  # already linked: nothing to refuse
    r = await client.patch(f"/api/v1/clients/{child}", json={"partner_id": a}, headers=h)
    assert r.status == 400 and "already has a partner" in (await r.json())["detail"]
    await client.patch(f"/api/v1/clients/{a}", json={"partner_id": None}, headers=h)
    assert re.search(r'id="client-partner">—<', await (await client.get(f"/clients/{b}")).text())


async def test_the_edit_form_carries_every_field(client, store):
    await sign_in(client, "alex")
    made = await store.clients.create({**DEEP, "primary_associate": "alex"}, actor="alex")
    page = await (await client.get(f"/clients/{made['client_id']}/edit")).text()
    for checked in ('name="metals" value="gold" checked', 'name="colours" value="rose" checked',
                    'name="styles" value="art_deco" checked',
                    'name="designers" value="Maison" checked',
                    'name="budget" value="15000-50000" checked',
                    'name="consent-email" value="yes" checked',
                    'name="consent-sms" value="no" checked'):
        assert checked in page, checked
    assert 'id="f-length-wrist" value="15.5"' in page
    assert 'id="f-length-bracelet" value="172"' in page
    assert '">Verdier</textarea>' in page and 'value="Architect"' in page
    assert 'value="2030-01-01"' in page and 'value="travelling"' in page
    assert re.search(r'<option value="alex" selected>Alex Associate', page)
    # A channel she was asked about offers no "not asked" any more.
    assert 'name="consent-email" value=""' not in page
    assert 'name="consent-post" value="" checked' in page


async def test_the_new_client_form_filled_by_touch_on_the_counter_tablet(runtime, store):
    pytest.importorskip("playwright", reason="Playwright is not installed")
    import shutil

    from aiohttp.test_utils import TestServer
    from browser_helpers import CHROMIUM, chromium_args
    from playwright.async_api import async_playwright, expect
    from web_helpers import PINS

    from hub.web.app import create_app

    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed")
    louis = (await store.clients.create({"first_name": "Louis", "last_name": "Fontaine"},
                                        actor="test"))["client_id"]
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
            context = await browser.new_context(viewport={"width": 1024, "height": 768},
                                                has_touch=True)
            page = await context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(base + "/signin")
            await page.fill("#staff_id", "alex")
            await page.fill("#pin", PINS["alex"])
            await page.tap("button[type=submit]")
            await page.wait_for_url(lambda url: "/signin" not in url)  # her own start page
            await page.goto(base + "/clients/new")
            await page.wait_for_selector("#client-edit-form")
            # Every target a finger taps is 44 px high or more, and nothing scrolls sideways.
            small = await page.evaluate("""() => [...document.querySelectorAll(
                '#client-edit-form label.chip span, #client-edit-form button,'
                + ' #client-edit-form select, #client-edit-form input:not([type=checkbox])'
                + ':not([type=radio]):not([type=hidden])')]
                .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
                .map((e) => e.id || e.className || e.tagName)""")
            assert small == []
            assert await page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth")

            await page.fill("#f-first_name", "Hélène")
            await page.fill("#f-last_name", "Fontaine")
            await page.fill("#f-emails", "helene@example.com")
            await page.fill("#ring-sizes .size-row:first-child .size-finger", "left ring")
            await page.fill("#ring-sizes .size-row:first-child .size-value", "52")
            await page.fill("#f-length-wrist", "15.5")
            await page.fill("#f-length-bracelet", "172")
            await page.select_option("#f-length-bracelet-unit", "mm")
            for topic, key in (("metals", "gold"), ("colours", "rose"), ("stones", "emerald"),
                               ("styles", "art_deco"), ("designers", "Maison")):
                await page.tap(f'label.chip:has(input[name="{topic}"][value="{key}"]) span')
            await page.fill("#f-other-designers", "Verdier")
            await page.tap('label.chip:has(input[name="budget"][value="5000-15000"]) span')
            await page.fill("#partner-q", "Louis")
            await page.tap("#partner-find")
            await page.tap("#partner-results button")
            await expect(page.locator("#partner-picked")).to_contain_text("Louis Fontaine")
            await page.fill("#f-conversation-hobbies", "Opera")
            await page.select_option("#f-primary_associate", "alex")
            await page.tap('label.chip:has(input[name="consent-email"][value="yes"]) span')
            await page.select_option("#f-consent-email-how", "signed_form")
            await page.tap('label.chip:has(input[name="consent-sms"][value="no"]) span')
            await page.fill("#f-length-neck", "forty")  # refused on the spot, nothing sent
            await page.tap("#client-save")
            await expect(page.locator("[id='err-lengths.neck']")).to_contain_text(
                "is not a length")
            assert await store.clients.search("Hélène") == []
            await page.fill("#f-length-neck", "")
            await page.tap("#client-save")
            await page.wait_for_url(base + "/clients/C*")

            await expect(page.locator("#client-lengths")).to_have_text(
                "Wrist 15.5\u00a0cm, Bracelet 172\u00a0mm")
            await expect(page.locator("#client-metals")).to_have_text("gold")
            await expect(page.locator("#client-styles")).to_have_text("Art Deco")
            await expect(page.locator("#client-designers")).to_have_text("Maison, Verdier")
            await expect(page.locator("#client-partner")).to_have_text("Louis Fontaine")
            await expect(page.locator("#client-associates")).to_have_text("Alex Associate")
            await expect(page.locator("#client-consent-email")).to_contain_text(
                "yes to marketing")
            await expect(page.locator("#client-consent-email")).to_contain_text(
                "on a signed form")
            await expect(page.locator("#client-consent-sms")).to_contain_text("no to marketing")
            await expect(page.locator("#client-conversation-hobbies")).to_have_text("Opera")
            await expect(page.locator("#client-budget")).to_contain_text(
                store.words.money(500_000, "EUR"))
            assert not CODE.findall(await page.text_content("#client-profile"))
            cid = page.url.rsplit("/", 1)[1]
            stored = (await store.clients.get(cid))["profile"]
            assert stored["lengths"] == {"wrist": {"mm": 155, "unit": "cm"},
                                         "bracelet": {"mm": 172, "unit": "mm"}}
            assert stored["partner_id"] == louis
            assert (await store.clients.get(louis))["profile"]["partner_id"] == cid
            assert [c["how"] for c in stored["consent"]["email"]] == ["signed_form"]

            # Edited again: what she said stays, a new answer is a new change.
            await page.tap("#edit-client")
            await page.wait_for_selector("#client-edit-form")
            await page.tap('label.chip:has(input[name="consent-email"][value="no"]) span')
            await page.tap("#client-save")
            await page.wait_for_url(base + f"/clients/{cid}")
            await expect(page.locator("#client-consent-email")).to_contain_text("2 changes")
            stored = (await store.clients.get(cid))["profile"]
            assert [c["marketing"] for c in stored["consent"]["email"]] == [True, False]
            assert stored["lengths"]["wrist"] == {"mm": 155, "unit": "cm"}
            assert errors == []
            await browser.close()
    finally:
        await server.close()
