"""The API fuzzed from its own OpenAPI document (schemathesis), against `loupe run` with every
layer's part on a real socket, signed in as each role of a believable store (the demo's:
associate, manager, administrator and the store's own trainee) and signed out.

Every operation of /api/v1/openapi.json, as every role, with requests schemathesis draws from
the document — valid shapes (positive) and wrong ones (negative), with the store's real ids in
the paths half the time so the deeper checks run. For each answer: never a 5xx, never a
traceback, always JSON, an error carries a sentence a person can read, and a refused request
(4xx) leaves the journal's seq and tip as they were.

Bounded: one or two examples per operation and role that may call it, one for each role that
may not (the whole test in about 20 s of one core); LOUPE_FUZZ_EXAMPLES=25 multiplies them
for a long run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import pytest
import requests

from hub.demo import DEMO_STAFF, prepare_demo
from tests.reliability.fuzz_helpers import HubThread

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES = int(os.environ.get("LOUPE_FUZZ_EXAMPLES", "1"))
PINS = {staff_id: pin for staff_id, _, _, pin in DEMO_STAFF}
# One person per role of the demo store (its own "trainee" among them); None: signed out.
AS = {"associate": "sophie", "manager": "marc", "admin": "admin", "trainee": "lea",
      "signed out": None}
# Refusals that legitimately write: a wrong manager PIN is journaled (approval.refused), a
# wrong sign-in may earn a lock (staff.lockout).
WRITING_REFUSALS = {"approval_refused", "signin_refused", "locked_out"}
# Ids the fuzz may change at will (the administrator's PATCHes and PUTs): a spare colleague
# and a spare role, so the people it signs in as stay who they are.
SPARE = {"staff_id": ["sam"], "role": ["spare"]}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    config, _ = asyncio.run(_believable_store(root))
    with HubThread(config) as hub:
        # A floor in use: pieces in both carts, a count open (their ids go in the paths).
        seller, manager = Person(hub.base, "sophie"), Person(hub.base, "marc")
        for register_id in ("R1", "R2"):
            item_id = hub.ids("item_id", 8)[int(register_id[1])]
            seller.http.post(f"{hub.base}/api/v1/registers/{register_id}/cart/lines",
                             json={"item_id": item_id}, headers={"X-CSRF-Token": seller.csrf})
        r = manager.http.post(hub.base + "/api/v1/counts", json={"kind": "spot",
                                                                 "scope": ["safe"]},
                              headers={"X-CSRF-Token": manager.csrf})
        assert r.status_code in (200, 201), r.text
        yield hub


async def _believable_store(root):
    from hub.store import Store

    config, lines = await prepare_demo(root / "demo", items=30, clients=8, sales=8)
    async with await Store.open(config) as store:
        await store.staff.enroll("sam", "Sam Spare", "associate", "112233", actor="test")
        await store.staff.roles.define("spare", ["sell", "stock.view"], actor="test")
    return config, lines


class Person:
    """One signed-in browser (a requests session with its cookie and CSRF token)."""

    def __init__(self, base: str, staff_id: str | None) -> None:
        self.base, self.staff_id = base, staff_id
        self.http = requests.Session()
        self.csrf = ""
        self.sign_in()

    def sign_in(self) -> None:
        self.http.cookies.clear()
        if self.staff_id is None:
            return
        r = self.http.post(self.base + "/api/v1/session", json={
            "staff_id": self.staff_id, "pin": PINS[self.staff_id], "register_id": "R1"})
        assert r.status_code == 200, r.text
        self.csrf = r.json()["csrf"]


def _path_values(hub: HubThread, doc: dict[str, Any]) -> dict[str, list[str]]:
    names = {n for path in doc["paths"] for n in re.findall(r"{(\w+)}", path)}
    real = {name: hub.ids(name) for name in names}
    real["register_id"] = [r.id for r in hub.config.registers]
    real.update(SPARE)
    return {name: values for name, values in real.items() if values}


def _check(hub: HubThread, person: Person, case, response: Any,
           before: tuple[int, bytes]) -> None:
    text = response.content.decode("utf-8", "replace")
    where = (f"{case.method} {case.formatted_path} as {person.staff_id}: {response.status_code}"
             f" {text[:300]}\n  query {case.query} body {str(case.body)[:300]}")
    assert response.status_code < 500, where
    kind = (response.headers.get("content-type") or [""])[0].split(";")[0]
    if response.status_code == 101:
        return  # the WebSocket (a negative draw may not even ask for one)
    if response.status_code < 300:
        documented = case.operation.definition.raw["responses"]["2XX"]["content"]
        assert kind in documented, f"{kind} is not documented ({list(documented)}): {where}"
        if kind != "application/json":
            return  # a file (an export): its bytes are its own
    else:
        assert kind == "application/json", where
    assert not TRACEBACK.search(text), where
    try:
        body = json.loads(response.content.decode("utf-8"))  # JSON is UTF-8
    except ValueError as exc:
        raise AssertionError(f"not JSON ({exc}): {where}") from None
    if response.status_code >= 400:
        assert isinstance(body.get("error"), str) and body["error"], where
        detail = body.get("detail")
        assert isinstance(detail, str) and len(detail.split()) >= 2, where  # a sentence
        if body["error"] not in WRITING_REFUSALS:
            after = hub.journal_tip()
            assert after == before, (f"a refusal wrote to the journal: {where}\n"
                                     f"  {hub.entries_after(before[0])}")


def _strategy(operation, real: dict[str, list[str]]):
    """Valid shapes and wrong ones; valid ones also with the store's real ids in the path
    (a random id is a 404 before any check of the body runs)."""
    names = re.findall(r"{(\w+)}", operation.path)
    known = {name: real[name] for name in names if name in real}
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                  operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
    if known:
        strategies += [operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE,
            path_parameters={k: v[i % len(v)] for k, v in known.items()}) for i in range(2)]
    return st.one_of(strategies)


def test_every_operation_as_every_role(hub):
    doc = requests.get(hub.base + "/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(doc)
    real = _path_values(hub, doc)
    people = {role: Person(hub.base, staff_id) for role, staff_id in AS.items()}
    roles = hub.runtime.store.staff.roles
    asked: set[tuple[str, str, str]] = set()
    failures: dict[tuple[str, str, str], str] = {}
    n = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/session":
            continue  # signing out: the examples after it would be signed out
        permission = operation.definition.raw["x-permission"]
        strategy = _strategy(operation, real)
        drawn: list[Any] = []
        refused = []
        for role, person in people.items():
            if permission in ("public", "signed in") and (person.staff_id or
                                                          permission == "public"):
                allowed = True
            else:
                allowed = person.staff_id is not None and roles.allows(role, permission)
            if not allowed:
                refused.append((role, person))
                continue
            n += 1  # the first role that may gets twice the examples of the others
            _fuzz(hub, person, operation, role, strategy, EXAMPLES * (1 if drawn else 2), n,
                  drawn, failures)
            asked.add((operation.method.upper(), operation.path, role))
        # Who may not: what the others were sent, sent again (refused before it is read).
        for role, person in refused:
            for case in drawn[:EXAMPLES] or [strategy.example()]:
                _send(hub, person, case, failures)
            asked.add((operation.method.upper(), operation.path, role))
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures.values())
    assert len(asked) == len(people) * (sum(len(ops) for ops in doc["paths"].values()) - 1)


def _send(hub, person, case, failures) -> None:
    if person.staff_id is not None and not person.csrf:
        person.sign_in()
    if case.cookies:  # the document's session cookie, drawn: the person's own stays
        case.cookies.pop("loupe_session", None)
    before = hub.journal_tip()
    response = case.call(base_url=hub.base, session=person.http,
                         headers={"X-CSRF-Token": person.csrf}, timeout=30)
    try:
        _check(hub, person, case, response, before)
    except AssertionError as exc:  # every failure is listed at the end, once per kind
        failures.setdefault((case.method, case.operation.path,
                             str(exc).split(":", 1)[0][:40]), str(exc))
    if response.status_code == 401 and person.staff_id is not None:
        person.csrf = ""  # signed out (the fuzz changed who this is): sign in again


def _fuzz(hub, person, operation, role, strategy, examples, n, drawn, failures) -> None:
    @seed(n)  # the same requests on every run
    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=strategy)
    def one(case) -> None:
        drawn.append(case)
        _send(hub, person, case, failures)

    one()


# -- what the fuzz found, kept as examples ------------------------------------------------------


def test_a_number_past_64_bits_is_refused_in_words(hub):
    """A held rate's seq of 2**64 reached SQLite (OverflowError, a 500); every whole number
    of a form is now refused past SQLite's 64 bits, with a sentence and the field."""
    from hub.core import fields
    from hub.core.errors import Invalid

    with pytest.raises(Invalid):
        fields.whole(2**63, "n")
    assert fields.whole(2**63 - 1, "n") == 2**63 - 1
    admin = Person(hub.base, "admin")
    before = hub.journal_tip()
    for seq in (2**64, 10**30, -(2**63) - 1):
        r = admin.http.post(hub.base + "/api/v1/exchange-rates/accept",
                            json={"held_seq": seq, "currency": "USD"},
                            headers={"X-CSRF-Token": admin.csrf})
        assert r.status_code == 400, r.text
        assert r.json()["field"] == "held_seq" and "Traceback" not in r.text
    assert hub.journal_tip() == before


def test_a_passphrase_a_pdf_cannot_hold_is_refused_in_words(hub):
    """A PDF password goes through SASLprep: a control character or right-to-left letters
    mixed with left-to-right ones made fpdf2 raise (a 500) after her data was gathered."""
    manager = Person(hub.base, "marc")
    client_id = hub.ids("client_id")[0]
    before = hub.journal_tip()
    for passphrase in ("\x07 a bell in it, long enough", "שלום and hello, long enough"):
        r = manager.http.post(f"{hub.base}/api/v1/clients/{client_id}/export",
                              json={"format": "pdf", "passphrase": passphrase},
                              headers={"X-CSRF-Token": manager.csrf})
        assert r.status_code == 400, r.text
        assert r.json()["field"] == "passphrase" and "PDF" in r.json()["detail"]
    assert hub.journal_tip() == before
