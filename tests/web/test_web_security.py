"""Sign-in, sessions, CSRF and bad input at every boundary: clean 4xx, books untouched."""

from __future__ import annotations

import pytest
from web_helpers import PINS, sign_in

from hub.core.pins import Lockout
from hub.web.kernel import RUNTIME, SESSIONS
from hub.web.sessions import COOKIE, Sessions


async def test_sign_in_sets_a_strict_httponly_cookie_and_a_new_id_each_time(client):
    first = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": PINS["alex"]})
    assert first.status == 200
    cookie = first.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    old_sid = cookie.value
    second = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": PINS["alex"]})
    assert second.cookies[COOKIE].value != old_sid
    assert client.app[SESSIONS].get(old_sid) is None  # the old id is dead: no fixation


async def test_wrong_pin_is_refused_then_locked_out_and_journaled(client, store):
    for _ in range(3):
        r = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": "000000"})
        assert r.status == 401 and (await r.json())["error"] == "signin_refused"
    r = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": "000000"})
    assert r.status == 401
    r = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": PINS["alex"]})
    assert r.status == 429 and (await r.json())["error"] == "locked_out"
    rows = await store.ledger.fetch("SELECT kind, subject FROM journal WHERE kind = 'staff.lockout'")
    assert [tuple(r) for r in rows] == [("staff.lockout", "staff:alex")]


def test_lockout_delays_grow_and_a_success_clears_them():
    now = [0.0]
    lock = Lockout(free=3, clock=lambda: now[0])
    assert [lock.failed("x")[1] for _ in range(6)] == [0, 0, 0, 1, 2, 4]
    assert lock.wait_s("x") == 4
    now[0] += 5
    assert lock.wait_s("x") == 0
    lock.succeeded("x")
    assert lock.failed("x") == (1, 0.0)


def test_sessions_expire_when_idle():
    now = [0.0]
    sessions = Sessions(idle_s=60, clock=lambda: now[0])
    s = sessions.start("alex", "Alex", "associate", "R1")
    now[0] += 59
    assert sessions.get(s.sid) is s
    now[0] += 61
    assert sessions.get(s.sid) is None


async def test_sign_out_ends_the_session(client):
    csrf = await sign_in(client, "alex")
    r = await client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert (await client.get("/api/v1/session")).status == 401


@pytest.mark.parametrize("headers, status, error", [
    ({}, 403, "csrf"),
    ({"X-CSRF-Token": "not-the-token"}, 403, "csrf"),
    ({"X-CSRF-Token": "{csrf}", "Origin": "http://evil.example"}, 403, "csrf"),
])
async def test_state_changes_need_the_csrf_token_and_same_origin(client, store, headers, status,
                                                                 error):
    csrf = await sign_in(client, "alex")
    headers = {k: v.replace("{csrf}", csrf) for k, v in headers.items()}
    seq = store.ledger.seq
    r = await client.post("/api/v1/registers/R1/cart/lines", json={"item_id": "P001"},
                          headers=headers)
    assert r.status == status and (await r.json())["error"] == error
    cart = await (await client.get("/api/v1/registers/R1/cart")).json()
    assert cart["lines"] == [] and store.ledger.seq == seq


async def test_a_form_post_is_refused(client):
    csrf = await sign_in(client, "alex")
    r = await client.post("/api/v1/registers/R1/cart/lines", data={"item_id": "P001"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 415


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/registers/R1/cart/lines", b"{not json"),
    ("POST", "/api/v1/registers/R1/cart/lines", b"[1, 2]"),
    ("POST", "/api/v1/registers/R1/cart/lines", b'{"item_id": 42}'),
    ("POST", "/api/v1/registers/R1/cart/lines", b'{"item_id": "P001", "quantity": "2"}'),
    ("POST", "/api/v1/registers/R1/cart/lines", b'{"item_id": "NOPE"}'),
    ("POST", "/api/v1/registers/R9/cart/lines", b'{"item_id": "P001"}'),
    ("POST", "/api/v1/registers/R1/cart/tenders", b'{"type": "cash", "amount": 1.5}'),
    ("POST", "/api/v1/registers/R1/cart/tenders", b'{"type": "card", "amount": 100,'
                                                  b' "last4": "4111 1111 1111 1111"}'),
    ("PUT", "/api/v1/registers/R1/cart/discount", b'{"amount": -5}'),
    ("PUT", "/api/v1/registers/R1/cart/client", b'{"client_id": "CZZZZZZZZZZ"}'),
    ("DELETE", "/api/v1/registers/R1/cart/lines/abc", b"{}"),
    ("DELETE", "/api/v1/registers/R1/cart/lines/7", b"{}"),
    ("POST", "/api/v1/registers/R1/cart/complete", b"{}"),
    ("POST", "/api/v1/clients", b'{"first_name": ["x"]}'),
    ("PATCH", "/api/v1/clients/CZZZZZZZZZZ", b'{"notes": "x"}'),
    ("POST", "/api/v1/sales/R1-999999/void", b'{"register_id": "R1", "reason": "x"}'),
    ("POST", "/api/v1/approvals", b'{"action": {"kind": "launder"}, "manager_id": "mona",'
                                  b' "pin": "135790"}'),
    ("POST", "/api/v1/approvals", b'{"action": "void", "manager_id": "mona", "pin": 135790}'),
])
async def test_bad_input_gets_a_clear_4xx_and_leaves_the_books(client, store, method, path, body):
    csrf = await sign_in(client, "alex")
    seq = store.ledger.seq
    r = await client.request(method, path, data=body, headers={
        "X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert 400 <= r.status < 500, await r.text()
    error = await r.json()
    assert set(error) >= {"error", "detail"} and "Traceback" not in error["detail"]
    assert store.ledger.seq == seq
    assert (await (await client.get("/api/v1/registers/R1/cart")).json())["lines"] == []


async def test_a_huge_body_is_refused(client, store):
    csrf = await sign_in(client, "alex")
    r = await client.post("/api/v1/clients", data=b'{"notes": "' + b"x" * 200_000 + b'"}',
                          headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert r.status == 413 and (await r.json())["error"] == "too_large"


@pytest.mark.parametrize("query", ["price_min=abc", "limit=0", "limit=100000", "fineness=2000",
                                   "category=spaceship", "status=stolen", "q=" + "x" * 500])
async def test_bad_query_strings_are_400(client, query):
    await sign_in(client, "alex")
    r = await client.get("/api/v1/items?" + query)
    assert r.status == 400 and (await r.json())["error"] == "invalid"


async def test_unknown_ids_are_404(client):
    await sign_in(client, "alex")
    for path in ("/api/v1/items/NOPE", "/api/v1/items/NOPE/history", "/api/v1/clients/CNOPE",
                 "/api/v1/sales/R1-424242", "/api/v1/lookup?code=NOPE"):
        r = await client.get(path)
        assert r.status == 404, path
        assert (await r.json())["error"] == "not_found"


async def test_error_pages_are_pages_in_words(client):
    await sign_in(client, "alex")
    for path, status, words in (("/items/NOPE", 404, "No piece with serial “NOPE”"),
                                ("/approvals", 403, "Your role (Associate) may not do this"),
                                ("/no/such/screen", 404, "There is no such page.")):
        r = await client.get(path, headers={"Accept": "text/html"})
        page = await r.text()
        assert r.status == status and r.content_type == "text/html", path
        assert words in page and '"error"' not in page, path
    r = await client.get("/favicon.ico")  # browsers ask for it whatever the page says
    assert r.status == 200 and r.content_type == "image/svg+xml"


async def test_a_forged_cookie_is_just_signed_out(client):
    client.session.cookie_jar.update_cookies({COOKIE: "x" * 5000})
    assert (await client.get("/api/v1/session")).status == 401


async def test_pages_carry_a_strict_content_security_policy(client):
    await sign_in(client, "alex")
    r = await client.get("/floor")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


async def test_metrics_need_a_manager_or_the_token(client, runtime):
    assert (await client.get("/metrics")).status == 401
    await sign_in(client, "alex")
    assert (await client.get("/metrics")).status == 403
    await sign_in(client, "mona")
    text = await (await client.get("/metrics")).text()
    assert "loupe_journal_seq" in text and "loupe_sessions 1" in text


async def test_healthz_needs_no_sign_in(client):
    r = await client.get("/healthz")
    assert r.status == 200 and (await r.json())["ok"] is True


def test_one_lockout_for_sign_in_and_approvals_is_the_staff_books(client):
    store = client.app[RUNTIME].store
    assert isinstance(store.staff.lockout, Lockout)
    assert store.approvals.staff.lockout is store.staff.lockout
