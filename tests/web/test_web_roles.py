"""The role × endpoint table, walked for every role: who may call what, and nothing else."""

from __future__ import annotations

import re

import pytest
from web_helpers import sign_in

from hub.web.endpoints import ENDPOINTS

SAMPLE = {"register_id": "R1", "item_id": "P001", "client_id": "CAAAAAAAAAA",
          "sale_id": "R1-000001", "line_no": "1", "index": "1", "staff_id": "alex"}


def _path(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x1"), path)


def _order(endpoint) -> tuple:
    # Sign-out last, so the walk keeps its session.
    return (endpoint.path == "/api/v1/session" and endpoint.method == "DELETE", endpoint.path)


async def _call(client, endpoint, csrf: str | None):
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    kwargs = {"headers": headers, "allow_redirects": False}
    if endpoint.changes_state:
        kwargs["json"] = {}
    return await client.request(endpoint.method, _path(endpoint.path), **kwargs)


@pytest.mark.parametrize("role", [None, "alex", "mona", "ada"])
async def test_every_route_for_every_role(client, role):
    table = client.app[ENDPOINTS]
    csrf = await sign_in(client, role) if role else None
    session_role = {"alex": "associate", "mona": "manager", "ada": "admin"}.get(role)
    problems = []
    for endpoint in sorted(table.all, key=_order):
        resp = await _call(client, endpoint, csrf)
        where = f"{role} {endpoint.method} {endpoint.path} -> {resp.status}"
        try:
            await _check(endpoint, resp, session_role, where)
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
    assert not problems, "\n".join(problems)


async def _check(endpoint, resp, session_role, where) -> None:
    if True:
        # 503: a layer whose service is not running in this bare runtime says so cleanly.
        assert resp.status < 500 or resp.status == 503, where
        if not endpoint.roles:
            assert resp.status not in (401, 403) or endpoint.changes_state, where
            return
        if session_role is None:
            if endpoint.kind == "page":
                assert resp.status == 303 and resp.headers["Location"].startswith("/signin"), where
            else:
                assert resp.status == 401, where
                assert (await resp.json())["error"] == "unauthorized"
        elif session_role in endpoint.roles:
            if resp.status == 403:  # allowed through; refused by the books, not by role
                assert (await resp.json())["error"] not in ("forbidden", "csrf"), where
            assert resp.status != 401, where
        else:
            assert resp.status == 403, where
            if endpoint.kind == "page":  # a person's browser gets a page, not JSON
                assert resp.content_type == "text/html", where
            else:
                assert (await resp.json())["error"] == "forbidden", where


async def test_every_served_route_is_in_the_table(client):
    table = client.app[ENDPOINTS]
    listed = {(e.method, e.path) for e in table.all}
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if info.get("prefix") == "/static" or route.method == "HEAD":
            continue
        assert (route.method, path) in listed, f"{route.method} {path} bypasses the table"


async def test_openapi_document_matches_the_api_routes(client):
    doc = await (await client.get("/api/v1/openapi.json")).json()
    table = client.app[ENDPOINTS]
    api = {(e.method.lower(), e.path) for e in table.all if e.kind in ("api", "ws")}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == api
    assert doc["openapi"].startswith("3.")
