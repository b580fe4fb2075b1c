"""Hostile input from the shop's network: every answer a clean 4xx (never a 500), PIN
guessing throttled wherever a PIN is typed, the browser-facing headers on every response,
malformed requests logged in one line, and /metrics telling refusals from failures.

The app is the real one; the header and malformed-request cases go through the real web
part (`hub.web.part`) on a real socket, over TLS where it matters."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import re
import ssl
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError, web
from web_helpers import PINS, sign_in

from hub import layers
from hub.layers import LAYERS
from hub.runtime import Options, Runtime
from hub.web.app import create_app
from hub.web.kernel import ENDPOINTS, PUBLIC, RUNTIME, SIGNED_IN, STATS
from hub.web.part import ProtocolLog, part
from hub.web.tls import ca_cert_path

CART = "/api/v1/registers/R1/cart"
JSON = {"Content-Type": "application/json"}


async def _sell(client, csrf: str, serial: str = "P001") -> str:
    h = {"X-CSRF-Token": csrf}
    await client.post(CART + "/lines", json={"item_id": serial}, headers=h)
    await client.post(CART + "/tenders", json={"type": "cash", "amount": 250_000}, headers=h)
    r = await client.post(CART + "/complete", json={}, headers=h)
    assert r.status == 201, await r.text()
    return (await r.json())["sale"]["sale_id"]


def _assert_clean_4xx(status: int, body: dict[str, Any], error: str | None = None) -> None:
    assert 400 <= status < 500, (status, body)
    assert isinstance(body.get("error"), str) and isinstance(body.get("detail"), str), body
    assert "Traceback" not in body["detail"]
    if error is not None:
        assert body["error"] == error, body


def _metric(text: str, name: str, **labels: str) -> int:
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + (f"{{{label}}}" if label else "")) + r" (\d+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name} {labels} not in /metrics"
    return int(match.group(1))


# -- bodies that are not what they claim -------------------------------------------------------


@pytest.mark.parametrize("body, error", [
    (b"not gzip at all", "bad_body"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 40, "bad_body"),
    # a gzip header cut short: aiohttp hands over no bytes, so the body is empty (refused)
    (b"\x1f\x8b\x08\x00garbage", "invalid"),
])
async def test_a_body_labelled_gzip_that_is_not_is_a_clean_400_before_sign_in(client, store,
                                                                             body, error):
    seq = store.ledger.seq
    r = await client.post("/api/v1/session", data=body,
                          headers={**JSON, "Content-Encoding": "gzip"})
    _assert_clean_4xx(r.status, await r.json(), error)
    assert store.ledger.seq == seq
    # The connection with the unreadable body is closed; the next request just works.
    r = await client.post("/api/v1/session", data=gzip.compress(json.dumps(
        {"staff_id": "alex", "pin": PINS["alex"]}).encode()),
        headers={**JSON, "Content-Encoding": "gzip"})
    assert r.status == 200


async def test_a_bad_gzip_body_on_a_signed_in_route_is_a_clean_400(client, store):
    csrf = await sign_in(client, "alex")
    seq = store.ledger.seq
    r = await client.post(CART + "/lines", data=b"plain",
                          headers={**JSON, "Content-Encoding": "gzip", "X-CSRF-Token": csrf})
    _assert_clean_4xx(r.status, await r.json(), "bad_body")
    assert store.ledger.seq == seq


@pytest.mark.parametrize("raw", [b'{"staff_id": "alex", "pin": NaN}', b"[" * 50_000,
                                 b'{"staff_id": "\\ud800", "pin": "1234"}',
                                 b'{"staff_id": "\xed\xa0\x80", "pin": "1234"}',
                                 b'{"pin": 1e999999}'])
async def test_json_that_python_would_parse_but_no_store_should_keep_is_refused(client, raw):
    r = await client.post("/api/v1/session", data=raw, headers=JSON)
    _assert_clean_4xx(r.status, await r.json(), "bad_json")


# -- a list or an object where an id is expected -------------------------------------------------


@pytest.mark.parametrize("register_id", [["R1"], {"id": "R1"}, 1, True])
async def test_sign_in_with_a_register_that_is_not_an_id_is_400(client, store, register_id):
    seq = store.ledger.seq
    r = await client.post("/api/v1/session", json={"staff_id": "alex", "pin": PINS["alex"],
                                                   "register_id": register_id})
    body = await r.json()
    _assert_clean_4xx(r.status, body, "invalid")
    assert body["field"] == "register_id" and store.ledger.seq == seq


@pytest.mark.parametrize("action", ["void", "return"])
@pytest.mark.parametrize("register_id", [["R1"], {"R1": 1}, None])
async def test_void_and_return_with_a_register_that_is_not_an_id_are_400(client, store, action,
                                                                       register_id):
    csrf = await sign_in(client, "alex")
    sale_id = await _sell(client, csrf)
    seq = store.ledger.seq
    r = await client.post(f"/api/v1/sales/{sale_id}/{action}",
                          json={"register_id": register_id, "reason": "changed their mind"},
                          headers={"X-CSRF-Token": csrf})
    body = await r.json()
    _assert_clean_4xx(r.status, body, "invalid")
    assert body["field"] == "register_id" and store.ledger.seq == seq


@pytest.mark.parametrize("register_id", [["R1"], {"R1": "R1"}])
async def test_collect_with_a_register_that_is_not_an_id_is_400(client, store, register_id):
    csrf = await sign_in(client, "alex")
    seq = store.ledger.seq
    r = await client.post("/api/v1/sync/reservations/H-1/collect",
                          json={"register_id": register_id,
                                "tenders": [{"type": "cash", "amount": 250_000}]},
                          headers={"X-CSRF-Token": csrf})
    body = await r.json()
    _assert_clean_4xx(r.status, body, "invalid")
    assert body["field"] == "register_id" and store.ledger.seq == seq


# -- found by the Hypothesis run below ----------------------------------------------------------


@pytest.mark.parametrize("path", [CART + "/tenders/\u00b2", CART + "/lines/\u0663",
                                  "/api/v1/items?limit=\u00b2", "/api/v1/sales?limit=\u2460"])
async def test_digits_that_are_not_ascii_are_400_not_500(client, path):
    csrf = await sign_in(client, "alex")
    method = "DELETE" if "/cart/" in path else "GET"
    r = await client.request(method, path, headers={"X-CSRF-Token": csrf})
    _assert_clean_4xx(r.status, await r.json(), "invalid")


@pytest.mark.parametrize("tender", [{"type": "cash", "amount": 2**64},
                                    {"type": "cash", "amount": 10**12 + 1}])
async def test_a_tender_too_large_for_the_books_is_400_not_a_failed_sale(client, store, tender):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    r = await client.post(CART + "/tenders", json=tender, headers=h)
    body = await r.json()
    _assert_clean_4xx(r.status, body, "invalid")
    assert body["field"] == "amount"  # the field of this request's body
    seq = store.ledger.seq
    r = await client.post(CART + "/complete", json={}, headers=h)  # nothing was tendered
    _assert_clean_4xx(r.status, await r.json(), "no_tender")
    assert store.ledger.seq == seq


async def test_a_price_too_large_for_the_books_is_400(client):
    csrf = await sign_in(client, "alex")
    h = {"X-CSRF-Token": csrf}
    await client.post(CART + "/lines", json={"item_id": "P001"}, headers=h)
    r = await client.put(CART + "/lines/1/price", json={"unit_price": 2**70}, headers=h)
    body = await r.json()
    _assert_clean_4xx(r.status, body, "invalid")
    assert body["field"] == "unit_price"


# -- /metrics tells refusals from failures -------------------------------------------------------


async def test_metrics_count_ok_refused_and_failed_requests_apart(runtime):
    app = create_app(runtime)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug in a handler")  # a real fault, answered as a logged 500

    app.router.add_get("/broken", broken)  # outside the table: the middleware still answers
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(app)) as client:
        await sign_in(client, "mona")
        stats = client.app[STATS]
        before = dict(stats)
        assert (await client.get("/api/v1/items?limit=0")).status == 400
        assert (await client.get("/api/v1/items/NOPE")).status == 404
        assert (await client.get("/nowhere")).status == 404
        r = await client.get("/broken")
        assert r.status == 500 and (await r.json())["error"] == "internal"
        assert (await client.get("/api/v1/items")).status == 200
        text = await (await client.get("/metrics")).text()
    assert _metric(text, "loupe_http_requests_total", outcome="refused") == \
        before.get("refused", 0) + 3
    assert _metric(text, "loupe_http_requests_total", outcome="failed") == \
        before.get("failed", 0) + 1
    # the search was ok (the sign-in came before `before`; /metrics counts once answered)
    assert _metric(text, "loupe_http_requests_total", outcome="ok") == before.get("ok", 0) + 1


# -- PIN guessing through approvals --------------------------------------------------------------


def _freeze(client, now: list[float]) -> None:
    """Stop the lockout's clock where the test says: no lock ends while the test runs."""
    client.app[RUNTIME].store.staff.lockout.clock = lambda: now[0]


async def _approve(client, csrf, manager: str, pin: str, action=None):
    return await client.post("/api/v1/approvals", json={
        "action": action or {"kind": "no_sale", "register_id": "R1", "reason": "change"},
        "manager_id": manager, "pin": pin}, headers={"X-CSRF-Token": csrf})


async def _kinds(store, like: str) -> list[str]:
    rows = await store.ledger.fetch("SELECT kind FROM journal WHERE kind LIKE ? ORDER BY seq",
                                    (like,))
    return [r["kind"] for r in rows]


async def test_guessing_a_manager_pin_through_approvals_is_locked_out(client, store):
    csrf = await sign_in(client, "alex")
    now = [1000.0]
    _freeze(client, now)
    for _ in range(4):  # 3 free tries, then the 4th wrong PIN locks mona out
        r = await _approve(client, csrf, "mona", "000000")
        assert r.status == 403 and (await r.json())["error"] == "approval_refused"
    seq = store.ledger.seq
    for _ in range(30):  # guesses while locked: refused unchecked, not journaled one by one
        r = await _approve(client, csrf, "mona", "000000")
        body = await r.json()
        _assert_clean_4xx(r.status, body, "locked_out")
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
    r = await _approve(client, csrf, "mona", PINS["mona"])  # even the right PIN waits
    assert r.status == 429
    assert store.ledger.seq == seq
    assert await _kinds(store, "approval.%") == ["approval.refused"] * 4
    assert await _lockouts(store) == [
        {"staff_id": "mona", "failures": 4, "locked_s": 1, "refused": 0, "via": "approval"}]
    assert store.staff.lockout.refused_total == 31

    # The lock ends; the right PIN approves, and one entry closes the streak with the count
    # of guesses refused during its lock.
    now[0] += 2
    r = await _approve(client, csrf, "mona", PINS["mona"])
    assert r.status == 201
    assert (await _lockouts(store))[1:] == [
        {"staff_id": "mona", "failures": 4, "locked_s": 0, "refused": 31, "via": "approval"}]
    assert await _kinds(store, "approval.%") == ["approval.refused"] * 4 + ["approval.granted"]


async def _lockouts(store) -> list[dict[str, Any]]:
    entries = await store.ledger.entries()
    return [store.ledger.decrypt(e) for e in entries if e.kind == "staff.lockout"]


async def test_a_manager_locked_out_at_sign_in_cannot_approve(client, store):
    csrf = await sign_in(client, "alex")
    _freeze(client, [50.0])
    for _ in range(4):
        r = await client.post("/api/v1/session", json={"staff_id": "mona", "pin": "999999"})
        assert r.status == 401
    # (the failed sign-ins replaced nothing: alex is still signed in on this client)
    seq = store.ledger.seq
    r = await _approve(client, csrf, "mona", PINS["mona"])
    _assert_clean_4xx(r.status, await r.json(), "locked_out")
    assert store.ledger.seq == seq
    assert await _kinds(store, "approval.%") == []


async def test_locked_out_by_approvals_means_locked_out_at_sign_in(client, store):
    csrf = await sign_in(client, "alex")
    _freeze(client, [50.0])
    for _ in range(4):
        await _approve(client, csrf, "mona", "000000")
    r = await client.post("/api/v1/session", json={"staff_id": "mona", "pin": PINS["mona"]})
    _assert_clean_4xx(r.status, await r.json(), "locked_out")


async def test_a_burst_of_parallel_guesses_gets_no_more_pins_checked(client, store):
    csrf = await sign_in(client, "alex")
    _freeze(client, [50.0])
    answers = await asyncio.gather(*(_approve(client, csrf, "mona", f"{n:06d}")
                                     for n in range(40)))
    statuses = sorted(r.status for r in answers)
    # at most the 3 free tries and the one that locks: everything else is refused unchecked
    assert statuses.count(403) <= 4 and statuses.count(429) >= 36
    assert set(statuses) <= {403, 429}
    assert len(await _kinds(store, "approval.refused")) == statuses.count(403)


async def test_metrics_count_locks_and_refused_guesses(client):
    csrf = await sign_in(client, "alex")
    _freeze(client, [50.0])
    for _ in range(6):
        await _approve(client, csrf, "mona", "000000")
    await sign_in(client, "ada")
    text = await (await client.get("/metrics")).text()
    assert _metric(text, "loupe_pin_locks_total") == 1
    assert _metric(text, "loupe_pin_guesses_refused_total") == 2


# -- origins, headers, WebSocket -----------------------------------------------------------------


async def test_the_origin_check_compares_scheme_host_and_port(client, store):
    csrf = await sign_in(client, "alex")
    here = f"{client.host}:{client.port}"
    for origin, allowed in [(f"http://{here}", True), (f"https://{here}", False),
                            (f"http://{client.host}:1", False), ("null", False),
                            (f"http://evil.example:{client.port}", False)]:
        r = await client.post(CART + "/lines", json={"item_id": "P001"},
                              headers={"X-CSRF-Token": csrf, "Origin": origin})
        if allowed:
            assert r.status == 200, origin
            await client.delete(CART, headers={"X-CSRF-Token": csrf})
        else:
            _assert_clean_4xx(r.status, await r.json(), "csrf")


async def test_a_websocket_from_another_origin_is_refused(client):
    await sign_in(client, "alex")
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/events", origin="http://evil.example")
    assert refused.value.status == 403
    ws = await client.ws_connect("/api/v1/events",
                                 origin=f"http://{client.host}:{client.port}")
    await ws.close()


@pytest.mark.parametrize("path", ["/", "/floor", "/items/P001"])
async def test_redirects_carry_the_security_headers(client, path):
    r = await client.get(path, allow_redirects=False)
    assert r.status == 303
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Server"] == "Loupe"


async def test_no_response_names_aiohttp_or_python(client):
    await sign_in(client, "alex")
    for path in ("/healthz", "/api/v1/items", "/static/loupe.css", "/nowhere", "/floor"):
        server = (await client.get(path)).headers.get("Server", "")
        assert "aiohttp" not in server.lower() and "python" not in server.lower(), path


@contextlib.asynccontextmanager
async def _served(runtime, https: bool = False):
    """The web part of `loupe run` on a free port (HTTPS with the store's own certificate)."""
    served = Runtime(runtime.config, runtime.store, runtime.bus,
                     Options(host="127.0.0.1", port=0, insecure_http=not https, zeroconf=False),
                     LAYERS)
    async with part(served):
        yield served.web


def _tls(runtime) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_cert_path(runtime.config.data_dir)))


async def _raw(port: int, data: bytes, tls: ssl.SSLContext | None = None) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=tls, server_hostname="localhost" if tls else None)
    writer.write(data)
    await writer.drain()
    answer = await reader.read(65536)
    writer.close()
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        await writer.wait_closed()
    return answer


def _headers(answer: bytes) -> dict[str, str]:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:])}


async def test_https_answers_carry_hsts_and_http_ones_do_not(runtime):
    async with _served(runtime, https=True) as web_part:
        assert web_part.scheme == "https"
        for path in (b"/healthz", b"/", b"/api/v1/nowhere"):
            answer = await _raw(web_part.port, b"GET " + path + b" HTTP/1.1\r\n"
                                b"Host: localhost\r\nConnection: close\r\n\r\n", _tls(runtime))
            headers = _headers(answer)
            assert headers["strict-transport-security"].startswith("max-age="), path
            assert headers["server"] == "Loupe"
    async with _served(runtime) as web_part:
        answer = await _raw(web_part.port,
                            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        assert "strict-transport-security" not in _headers(answer)


MALFORMED = {
    "300 headers": b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                   + b"".join(b"X-Filler-%d: v\r\n" % n for n in range(300)) + b"\r\n",
    "a 20 kB header line": b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                           + b"a" * 20_000 + b"\r\n\r\n",
    "a bad chunk": b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\n"
                   b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                   b"zz\r\n{}\r\n0\r\n\r\n",
}


async def test_malformed_requests_log_one_line_each_without_traceback(runtime, caplog):
    caplog.set_level(logging.DEBUG, logger="hub.web.http")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    async with _served(runtime) as web_part:
        for name, data in MALFORMED.items():
            answer = await _raw(web_part.port, data)
            assert re.match(rb"HTTP/1\.[01] 400 ", answer), (name, answer[:80])
            server = _headers(answer).get("server", "")
            assert "aiohttp" not in server.lower() and "python" not in server.lower(), name
        stats = web_part.app[STATS]
    assert stats["malformed"] == len(MALFORMED)
    lines = [r for r in caplog.records if r.name == "hub.web.http"]
    assert len(lines) == len(MALFORMED)
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_the_malformed_request_log_is_rate_limited():
    now = [0.0]
    counted: list[int] = []
    log = ProtocolLog(lambda: counted.append(1), burst=3, every_s=10.0, clock=lambda: now[0])
    from aiohttp.http_exceptions import BadHttpMessage

    with _records("hub.web.http") as records:
        for _ in range(50):
            log.exception("Error handling request from %s", "10.0.0.9",
                          exc_info=BadHttpMessage("Too many headers"))
        assert len(records) == 3 and len(counted) == 50
        now[0] += 10  # one more line may go out, naming the lines it held back
        log.exception("Error handling request from %s", "10.0.0.9",
                      exc_info=BadHttpMessage("Too many headers"))
    assert len(records) == 4 and records[-1].suppressed == 47
    assert records[-1].remote == "10.0.0.9" and records[-1].exc_info is None


@contextlib.contextmanager
def _records(name: str):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


# -- Hypothesis over the OpenAPI request shapes --------------------------------------------------
#
# Every API endpoint of the table (the one /api/v1/openapi.json is generated from, with the
# devices, counts and sync layers' own), called as each role with path values, query strings
# and bodies that mix valid shapes with wrong types. Never a 5xx; every 4xx a JSON {error,
# detail}; a refused request leaves the journal as it was. Values lean towards refusals: most
# requests are wrong somewhere, a few are right (those may write: a sale, a count, a client).

# Staff the fuzzer signs in as, per role; "sam" is there to be changed by the admin's PATCHes.
FUZZ_STAFF = {"associate": "alex", "manager": "mona", "admin": "ada"}
# Refusals that legitimately write: a wrong manager PIN is journaled (approval.refused) and
# a wrong sign-in may earn a lock (staff.lockout).
WRITING_REFUSALS = {("POST", "/api/v1/approvals", "approval_refused"),
                    ("POST", "/api/v1/session", "signin_refused")}
# Signing out would leave the role's session dead for the examples after it.
NOT_FUZZED = {("DELETE", "/api/v1/session")}


def _strategies(real: dict[str, list[Any]]):
    from hypothesis import strategies as st

    # Long, but within the request line aiohttp reads (8 kB): longer is a malformed request,
    # answered by the HTTP parser (see test_malformed_requests_log_one_line_each...).
    long = st.sampled_from(["x" * 1_000, "é" * 150, "\U0001f48e" * 60])
    huge = st.sampled_from(["x" * 5_000, "é" * 3_000, "\U0001f48e" * 1_000, "9" * 400,
                            "x" * 70_000])  # the last is over the body cap: 413
    odd = st.sampled_from(["", " ", "NOPE", "-1", "1.5", "null", "' OR 1=1 --", "../../etc",
                           "\x00", "\u202e", "R1-000001", "%s%n", "<script>"])
    text = st.one_of(st.text(max_size=12), odd, long, huge)
    number = st.one_of(st.integers(-10**6, 10**6), st.sampled_from(
        [0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -2**63 - 1, 10**20, 10**30]),
        st.floats(allow_nan=False, allow_infinity=False))
    scalar = st.one_of(st.none(), st.booleans(), number, text)
    wrong = st.one_of(scalar, st.lists(scalar, max_size=3),
                      st.dictionaries(st.text(max_size=6), scalar, max_size=3))

    def plausible(*values: Any) -> Any:
        return st.sampled_from(values)

    money = st.one_of(plausible(1, 100, 250_000, 10**9), number)
    fields: dict[str, Any] = {
        "item_id": plausible(*real["item_id"]), "sku": plausible("SKU-P001", "NOPE"),
        "code": plausible("P001", "SKU-P002", *real["epc"]), "quantity": plausible(1, 2),
        "unit_price": money, "amount": money, "base": money, "approval_id": plausible("A" * 16),
        "client_id": plausible(*real["client_id"]), "register_id": plausible("R1", "R2", "R9"),
        "register": plausible("R1", "R2"), "type": plausible("cash", "card", "gift_card"),
        "brand": plausible("visa"), "last4": plausible("4242"), "auth_code": plausible("A1"),
        "note": plausible("gift wrap"), "reason": plausible("changed their mind"),
        "lines": st.lists(st.fixed_dictionaries({"line_no": plausible(1, 2),
                                                 "quantity": plausible(1)}), max_size=2),
        "tenders": st.lists(st.fixed_dictionaries({"type": plausible("cash"),
                                                   "amount": money}), max_size=2),
        "staff_id": plausible("zed", "mona", "sam"), "manager_id": plausible("mona", "alex"),
        "pin": plausible("000000", "1234"), "name": plausible("Zed Zephyr"),
        "role": plausible("associate", "manager"), "status": plausible("active", "left"),
        "kind": plausible("spot", "full", "no_sale", "void", "discount"),
        "scope": st.one_of(st.none(), st.lists(plausible("showcase-1", "safe"), max_size=2)),
        "device": plausible("handheld", "printer-1"), "location": plausible("showcase-1"),
        "item_ids": st.lists(plausible(*real["item_id"]), max_size=2),
        "piece": plausible("P001"), "gift": st.booleans(), "copies": plausible(1, 2),
        "top": plausible("Welcome"), "bottom": plausible("to the shop"),
        "first_name": plausible("Zoë"), "last_name": plausible("Marchand"),
        "emails": st.lists(plausible("zoe@example.fr", "no-at-sign"), max_size=2),
        "phones": st.lists(plausible("+33 6 12 34 56 78"), max_size=1),
        "dates": st.dictionaries(plausible("birthday", "someday"), plausible("--06-14", "x")),
        "ring_sizes": st.dictionaries(plausible("left ring"), plausible("52", "")),
        "notes": plausible("Art Deco"), "sale_id": plausible(*real["sale_id"]),
        "consent": st.dictionaries(plausible("email", "sms"), st.booleans()),
    }
    fields["action"] = st.fixed_dictionaries(
        {"kind": fields["kind"], "register_id": fields["register_id"]},
        optional={"amount": money, "reason": fields["reason"], "sale_id": fields["sale_id"],
                  "lines": fields["lines"], "items": wrong})

    def value(name: str) -> Any:
        return st.one_of(fields[name], wrong) if name in fields else wrong

    raw_bodies = st.sampled_from([b"", b"[]", b"null", b'"x"', b"{", b"\xff\xfe", b"{}" * 3,
                                  b'{"a": ' * 300, b'{"amount": 1e999}', b'{"a": NaN}',
                                  b'{"first_name": "\\udc00"}', b'{"note": "\xed\xa0\x80"}'])
    queries = st.one_of(st.text(max_size=12), odd, long, st.sampled_from(
        ["1", "0", "500", "501", "99999999999999", "ring", "gold", "in_stock", "2026-11-26"]))
    garbage_path = st.text(st.characters(blacklist_characters="/?#",
                                         blacklist_categories=("Cs",)), min_size=1, max_size=30)
    paths = {name: st.integers(0, 4).flatmap(
        lambda i, values=values: st.sampled_from(values) if i < 3 else garbage_path if i < 4
        else long) for name, values in real.items()}
    return st, fields, value, wrong, raw_bodies, queries, paths


def test_no_request_shape_gets_a_5xx_or_writes_when_refused(tmp_path):
    with asyncio.Runner() as runner:
        shop = runner.run(_open_fuzz_shop(tmp_path))
        try:
            asked = _fuzz(runner, shop)
        finally:
            runner.run(shop["stack"].aclose())
    # every endpoint was asked, as every role
    assert asked == {(e.method, e.path, role) for e in shop["endpoints"] for role in FUZZ_STAFF}


async def _open_fuzz_shop(tmp_path) -> dict[str, Any]:
    from aiohttp.test_utils import TestClient, TestServer
    from web_helpers import NAMES, ROLES, piece

    from hub.store import Store, init_store

    stack = contextlib.AsyncExitStack()
    config = init_store(tmp_path / "store", "fuzz-01", "Maison Fuzz", "EUR")
    store = await Store.open(config)
    stack.push_async_callback(store.close)
    await store.items.receive_many(
        [piece(f"P{n:03d}", location="showcase-1") for n in range(1, 6)], actor="test")
    for staff_id, pin in {**PINS, "sam": "112233"}.items():
        await store.staff.enroll(staff_id, NAMES.get(staff_id, "Sam Spare"),
                                 ROLES.get(staff_id, "associate"), pin, actor="test")
    client_id = (await store.clients.create({"first_name": "Zoë", "last_name": "Marchand"},
                                            actor="test"))["client_id"]
    runtime = Runtime(config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      LAYERS)
    for layer in LAYERS:  # every layer's part but the web's own and the control channel
        if layer.part is not None and layer.name not in ("web", "control"):
            await stack.enter_async_context(layers.load(layer.part).part(runtime))
    app = create_app(runtime)
    server = TestServer(app)
    clients, csrf = {}, {}
    for role, staff_id in FUZZ_STAFF.items():
        clients[role] = await stack.enter_async_context(TestClient(server))
        csrf[role] = await sign_in(clients[role], staff_id)
    sale_id = await _sell(clients["associate"], csrf["associate"], "P005")
    for register_id, serial in (("R1", "P001"), ("R2", "P002")):  # carts with something to
        await clients["associate"].post(  # price, so a fuzzed tender or price meets a sale
            f"/api/v1/registers/{register_id}/cart/lines", json={"item_id": serial},
            headers={"X-CSRF-Token": csrf["associate"]})
    count = await clients["manager"].post("/api/v1/counts", json={"kind": "spot",
                                                                  "scope": ["safe"]},
                                          headers={"X-CSRF-Token": csrf["manager"]})
    epcs = [r["epc"] for r in await store.ledger.fetch("SELECT epc FROM items")]
    real = {"item_id": ["P001", "P005", "NOPE"], "client_id": [client_id, "CZZZZZZZZZZ"],
            "register_id": ["R1", "R2", "R9"], "line_no": ["1", "0", "999999999999"],
            "index": ["1", "0", "-1"], "sale_id": [sale_id, "R1-999999"],
            "staff_id": ["sam", "nobody"], "count_id": [(await count.json())["count_id"]],
            "day": ["2026-11-26", "2026-13-45", "yesterday"], "epc": epcs[:1] + ["00"],
            "reservation_id": ["H-1"], "sku": ["SKU-P001", "NOPE"]}
    endpoints = [e for e in app[ENDPOINTS].all
                 if e.kind == "api" and (e.method, e.path) not in NOT_FUZZED]
    return {"stack": stack, "store": store, "clients": clients, "csrf": csrf, "real": real,
            "endpoints": endpoints}


def _fuzz(runner: asyncio.Runner, shop: dict[str, Any]) -> set[tuple[str, str, str]]:
    import urllib.parse

    from hypothesis import HealthCheck, given, seed, settings

    st, fields, value, wrong, raw_bodies, queries, paths = _strategies(shop["real"])
    store = shop["store"]
    asked: set[tuple[str, str, str]] = set()

    async def call(endpoint, role: str, path_values: dict[str, str], query: dict[str, str],
                   body: bytes | None, gzipped: bool) -> None:
        path = endpoint.path
        for name, raw in path_values.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(raw, safe=""))
        headers = {"Content-Type": "application/json", "X-CSRF-Token": shop["csrf"][role]}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        seq = store.ledger.seq
        asked.add((endpoint.method, endpoint.path, role))
        r = await shop["clients"][role].request(endpoint.method, path, params=query,
                                                data=body, headers=headers)
        text = await r.text()
        where = f"{endpoint.method} {path} as {role}: {r.status} {text[:300]}"
        assert r.status < 500, where
        if r.status >= 400:
            assert r.content_type == "application/json", where
            error = json.loads(text)
            assert isinstance(error.get("error"), str), where
            assert isinstance(error.get("detail"), str) and error["detail"], where
            if (endpoint.method, endpoint.path, error["error"]) not in WRITING_REFUSALS:
                assert store.ledger.seq == seq, f"a refusal wrote to the journal: {where}"

    def probe(n: int, endpoint, role: str, examples: int) -> None:
        names = re.findall(r"{(\w+)}", endpoint.path)
        declared = sorted((endpoint.body or {}).get("properties", {})) or sorted(fields)
        every_key = st.one_of(st.sampled_from(sorted(fields)), st.text(max_size=8))

        def draw_body(data) -> dict[str, Any]:
            """Mostly a valid shape with one or two fields wrong, so the deeper checks run;
            else any keys with any values."""
            if data.draw(st.integers(0, 2), label="shape") > 0:
                doc = {k: data.draw(fields[k] if k in fields else wrong, label=k)
                       for k in declared}
                for k in data.draw(st.lists(st.sampled_from(declared), min_size=1,
                                            max_size=2, unique=True), label="spoil"):
                    if data.draw(st.booleans(), label=f"drop {k}"):
                        doc.pop(k)
                    else:
                        doc[k] = data.draw(wrong, label=f"wrong {k}")
                return doc
            keys = data.draw(st.lists(every_key, max_size=5, unique=True), label="keys")
            return {k: data.draw(value(k), label=k) for k in keys}

        @seed(n)  # a fixed seed per endpoint and role: the same requests on every run
        @settings(max_examples=examples, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def one(data) -> None:
            path_values = {n: data.draw(paths.get(n, paths["item_id"]), label=n) for n in names}
            query_names = data.draw(st.lists(st.sampled_from(
                list(endpoint.query) + ["limit", "q", "x"]), max_size=4, unique=True))
            query = {n: data.draw(queries, label=f"?{n}") for n in query_names}
            body, gzipped = None, False
            if endpoint.changes_state:
                if data.draw(st.integers(0, 9), label="raw body?") == 0:
                    body = data.draw(raw_bodies, label="raw body")
                    gzipped = data.draw(st.booleans(), label="labelled gzip")
                else:
                    body = json.dumps(draw_body(data),
                                      ensure_ascii=data.draw(st.booleans())).encode()
            runner.run(call(endpoint, role, path_values, query, body, gzipped))

        one()

    n = 0
    for endpoint in shop["endpoints"]:
        for role in FUZZ_STAFF:
            allowed = endpoint.permission in (PUBLIC, SIGNED_IN) or \
                shop["store"].staff.roles.allows(role, endpoint.permission)
            n += 1
            probe(n, endpoint, role, (4 if endpoint.changes_state else 2) if allowed else 1)
    return asked
