"""HQ's console over HTTPS against a real HQ fed by two real hubs: who may see and do what,
sign-in and out, CSRF, and that the pages say what the storage holds."""

from __future__ import annotations

import html
import re

import pytest

from hub import __version__
from hub.hq.console import part
from hub.hq.console.app import REFUSED
from hub.hq.console.auth import MATRIX
from hub.sync.hqstore import Fact
from hub.words import words_for

EN = words_for("en-GB")


def _conflict(chain, detail: str = "piece paris-1 was sold twice") -> int:
    storage = chain.hq.hq.storage
    storage.append_facts("paris", [Fact("conflict", {"source": "hq", "kind":
                                                     "reserved_piece_sold", "item_id":
                                                     "paris-1", "ref": "S1", "detail": detail})])
    return storage.query("SELECT MAX(id) AS id FROM conflicts")[0]["id"]


# (method, path, form, permission): every page and action of the console.
ACTIONS = [
    ("GET", "/stores", None, "stores.view"),
    ("POST", "/stores/paris/verify", {}, "stores.verify"),
    ("GET", "/stock?q=solitaire", None, "stock.view"),
    ("GET", "/clients", None, "clients.view"),
    ("GET", "/clients/paris/{client}", None, "clients.view"),
    ("POST", "/clients/dismiss", {"match_id": "no-such-match"}, "clients.merge"),
    ("POST", "/clients/merge", {"match_id": "no-such-match"}, "clients.merge"),
    ("GET", "/sales", None, "sales.view"),
    ("GET", "/conflicts", None, "conflicts.view"),
    ("POST", "/conflicts/{conflict}/resolve", {"resolution": "no_action", "note": "seen"},
     "conflicts.resolve"),
    ("GET", "/messages", None, "messages.view"),
    ("GET", "/transit", None, "transit.view"),
    ("POST", "/transit/request", {"item_id": "no-such-piece", "from_store": "paris",
                                  "to_store": "lyon"}, "transit.request"),
]


@pytest.mark.parametrize("name", ["olga", "marc", "aude"])
async def test_role_matrix(chain, browser, name: str) -> None:
    role = {"olga": "owner", "marc": "merchandiser", "aude": "auditor"}[name]
    conflict = await chain.call(_conflict, chain)
    b = browser()
    status, _ = await b.sign_in(name)
    assert status == 200
    for method, path, form, permission in ACTIONS:
        path = path.format(client=chain.client_id, conflict=conflict)
        if method == "GET":
            status, page = await b.get(path)
        else:
            await b.get("/stores")  # a fresh token
            status, page = await b.post(path, form or {})
        allowed = role in MATRIX[permission]
        if allowed:
            assert status not in (401, 403, 500), (role, path, status)
            assert "Traceback" not in page
        else:
            assert status == 403, (role, path, status)
            assert EN._(REFUSED[permission]) in html.unescape(page), (role, path)


async def test_every_route_names_a_permission_of_the_matrix(chain) -> None:
    from hub.hq.console.app import ROUTES
    from hub.hq.console.auth import PUBLIC

    for _, _, _, permission in ROUTES:
        assert permission == PUBLIC or permission in MATRIX
    assert {p for *_, p in ACTIONS} == set(MATRIX) - {"clients.personal"}


async def test_only_owner_reads_personal_details(chain, browser) -> None:
    for name, sees in (("olga", True), ("aude", False)):
        b = browser()
        await b.sign_in(name)
        status, page = await b.get(f"/clients/paris/{chain.client_id}")
        assert status == 200
        assert ("Blanc" in page) is sees
        assert EN.term("kind", "client.created") in page  # history by kind, in words


async def test_sign_in_and_out(chain, browser) -> None:
    b = browser()
    status, page = await b.get("/stores")
    assert "Sign in to head office" in page  # sent to the sign-in page
    status, page = await b.sign_in("olga", "wrong password!")
    assert status == 401
    assert "do not match an active member" in page
    status, page = await b.sign_in("olga")
    assert status == 200 and "paris" in page and "Olga" not in page
    status, page = await b.post("/signout", {})
    assert "Sign in to head office" in page
    status, page = await b.get("/stores")
    assert "Sign in to head office" in page


async def test_session_cookie_is_strict(chain, browser) -> None:
    b = browser()
    _, page = await b.get("/signin")
    pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)
    async with b.session.post(b.url + "/signin", data={"pre": pre, "name": "olga",
                              "password": "owner-secret-1"}, allow_redirects=False) as r:
        assert r.status == 303
        cookie = next(v for v in r.headers.getall("Set-Cookie") if "loupe_hq_session" in v)
        assert r.headers["Strict-Transport-Security"]
        assert "Content-Security-Policy" in r.headers
    for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert flag.lower() in cookie.lower()


async def test_csrf_refused_and_nothing_recorded(chain, browser) -> None:
    conflict = await chain.call(_conflict, chain)
    b = browser()
    await b.sign_in("olga")
    b.csrf = "forged"
    status, page = await b.post(f"/conflicts/{conflict}/resolve",
                                {"resolution": "corrected", "note": "x"})
    assert status == 403
    assert "was not sent from the console: nothing was changed" in page
    rows = await chain.call(chain.hq.hq.storage.query, "SELECT * FROM conflict_resolutions")
    assert rows == []
    # Not signed in at all: a sentence, not a page of code.
    other = browser()
    status, page = await other.post(f"/conflicts/{conflict}/resolve",
                                    {"resolution": "corrected"}, csrf=False)
    assert status == 401 and "Please sign in first" in page


async def test_disabled_staff_is_signed_out(chain, browser) -> None:
    b = browser()
    await b.sign_in("marc")
    await chain.call(part.disable_staff, chain.hq.hq.storage, "marc")
    _, page = await b.get("/stores")
    assert "Sign in to head office" in page
    status, _ = await b.sign_in("marc")
    assert status == 401


async def test_stores_page_says_what_storage_holds(chain, browser) -> None:
    b = browser()
    await b.sign_in("aude")
    _, page = await b.get("/stores")
    rows = await chain.call(chain.hq.hq.storage.stores)
    assert {r.store_id for r in rows} == {"paris", "lyon"}
    for row in rows:
        card = page.split(f'data-store="{row.store_id}"', 1)[1].split("</article>", 1)[0]

        def field(name: str, card: str = card) -> str:
            return re.search(rf'data-field="{name}">\s*(.*?)\s*</dd>', card, re.S).group(1)

        assert field("entries") == EN.number(row.entries)
        assert field("head") == EN.number(row.head_seq)
        assert field("held") == EN.number(await chain.call(chain.hq.hq.storage.held,
                                                           row.store_id))
        assert field("hub-version") == __version__
        assert "Never checked" in field("verdict")
        assert ("Online" in card) is row.online
    # The auditor checks the whole chain; the verdict is kept with the head it read.
    status, page = await b.post("/stores/paris/verify", {})
    assert status == 200 and "Intact" in page
    kept = await chain.call(chain.hq.hq.storage.query,
                            "SELECT head_seq, CASE WHEN verdict LIKE 'ok%' THEN 1 ELSE 0 END"
                            " AS ok FROM store_verdicts WHERE store_id = 'paris'")
    paris = await chain.call(chain.hq.hq.storage.store, "paris")
    assert kept == [{"head_seq": paris.head_seq, "ok": 1}]


async def test_stock_search_finds_a_style_at_two_stores(chain, browser) -> None:
    b = browser()
    await b.sign_in("marc")
    for q in ("RING-SOL-1", "solitaire rings", "white gol"):
        status, page = await b.get(f"/stock?q={q}")
        assert status == 200
        assert 'data-store="paris"' in page and 'data-store="lyon"' in page, q
        assert "In stock" in page and "Sold" in page  # paris-0 was sold
        assert EN.money(250000, "EUR") in page
        assert "in_stock" not in page
    _, page = await b.get("/stock?q=bracelet")
    assert "No piece matches in any store." in page


async def test_conflict_resolution_recorded_and_seen_by_auditor(chain, browser) -> None:
    conflict = await chain.call(_conflict, chain)
    owner = browser()
    await owner.sign_in("olga")
    await owner.get("/conflicts")
    status, page = await owner.post(f"/conflicts/{conflict}/resolve",
                                    {"resolution": "corrected", "note": "recounted"})
    assert status == 200 and "Corrected at the store" in page
    status, page = await owner.post(f"/conflicts/{conflict}/resolve",
                                    {"resolution": "corrected", "note": "again"})
    assert status == 409 and "already resolved" in page
    status, page = await owner.post(f"/conflicts/{conflict}/resolve",
                                    {"resolution": "made_up", "note": ""})
    assert status == 409 and "Choose one of the resolutions offered" in page
    auditor = browser()
    await auditor.sign_in("aude")
    _, page = await auditor.get("/conflicts")
    assert "Recorded by olga" in page and "recounted" in page
    rows = await chain.call(chain.hq.hq.storage.query,
                            "SELECT resolution, note, resolved_by FROM conflict_resolutions")
    assert rows == [{"resolution": "corrected", "note": "recounted", "resolved_by": "olga"}]


async def test_sales_of_the_day_and_a_bad_date(chain, browser) -> None:
    b = browser()
    await b.sign_in("olga")
    status, page = await b.get("/sales")
    assert status == 200
    row = page.split('data-store="paris"', 1)[1].split("</tr>", 1)[0]
    assert EN.money(250000, "EUR") in row
    assert 'data-store="lyon"' not in page
    status, page = await b.get("/sales?day=2026-13-45")
    assert status == 400 and "That is not a date" in page
    status, page = await b.get("/sales?day=2001-01-01")
    assert "No sale reached head office for this day." in page


async def test_other_pages_speak_words(chain, browser) -> None:
    b = browser()
    await b.sign_in("olga")
    status, page = await b.get("/no/such/page")
    assert status == 404 and "There is no such page." in page
    _, page = await b.get("/transit")
    assert "No transfer so far." in page
    _, page = await b.get("/messages")
    assert "Head office has sent no message yet." in page or "<td>" in page
    _, page = await b.get("/clients")
    assert chain.client_id in page


async def test_owner_merges_the_same_client_at_two_stores(chain, browser) -> None:
    from sync_helpers import until

    from hub.hq import clients as chain_clients
    from tests.builders import client as profile

    storage = chain.hq.hq.storage
    lyon = chain.hubs["lyon"].store
    await lyon.clients.create(profile("Inès", "Blanc"), "admin")
    await chain.settled()
    await until(lambda: chain.call(chain_clients.proposals, storage), "a proposal")
    (match,) = await chain.call(chain_clients.proposals, storage)
    auditor = browser()
    await auditor.sign_in("aude")
    _, page = await auditor.get("/clients")
    assert "Same e-mail address" in page and 'action="/clients/merge"' not in page
    owner = browser()
    await owner.sign_in("olga")
    _, page = await owner.get("/clients")
    assert match["match_id"] in page
    status, page = await owner.post("/clients/merge", {"match_id": match["match_id"]})
    assert status == 200, page
    rows = await chain.call(storage.query, "SELECT status, decided_by FROM client_matches")
    assert [r["status"] for r in rows] == ["merged"]
    sent = await chain.call(storage.query, "SELECT store_id FROM messages WHERE type ="
                            " 'client_merge' ORDER BY store_id")
    assert [r["store_id"] for r in sent] == ["lyon", "paris"]
    status, page = await owner.post("/clients/merge", {"match_id": match["match_id"]})
    assert status == 409 and "This match could not be changed" in page


async def test_wrong_passwords_lock_the_name_for_a_while(chain, browser) -> None:
    b = browser()
    for _ in range(5):
        status, _page = await b.sign_in("aude", "not the password")
        assert status == 401
    status, page = await b.sign_in("aude")
    assert status == 429 and "Too many wrong passwords" in page
    status, _page = await browser().sign_in("olga")  # another name is not locked
    assert status == 200


async def test_head_office_asks_for_a_transfer_from_the_console(chain, browser) -> None:
    b = browser()
    await b.sign_in("marc")  # a merchandiser moves stock
    _, page = await b.get("/transit")
    status, page = await b.post("/transit/request", {"item_id": "paris-1",
                                                     "from_store": "paris", "to_store": "lyon"})
    assert status == 200 and "paris-1" in page  # back on the list, after the redirect
    rows = await chain.call(chain.hq.hq.storage.query, "SELECT item_id, from_store, to_store,"
                            " status, requested_by FROM transfers")
    assert rows == [{"item_id": "paris-1", "from_store": "paris", "to_store": "lyon",
                     "status": "requested", "requested_by": "hq:marc"}]
    assert "To be sent" in page
    sent = await chain.call(chain.hq.hq.storage.query, "SELECT store_id FROM messages WHERE"
                            " type = 'transfer_request'")
    assert sent == [{"store_id": "paris"}]
    # A sold piece, a piece already on its way, a form half filled: words, nothing asked.
    for form, words in (({"item_id": "paris-0", "from_store": "paris", "to_store": "lyon"},
                         "not in stock"),
                        ({"item_id": "paris-1", "from_store": "paris", "to_store": "lyon"},
                         "already in transfer"),
                        ({"item_id": "paris-2", "from_store": "paris", "to_store": ""},
                         "Name the piece")):
        await b.get("/transit")
        status, page = await b.post("/transit/request", form)
        assert status in (400, 409) and words in html.unescape(page), (form, status)
    assert len(await chain.call(chain.hq.hq.storage.query, "SELECT 1 FROM transfers")) == 1
