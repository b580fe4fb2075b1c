"""The memo and consignment API: vendors and their payables, pieces received on memo and
given back, the aging list, pieces on approval (out, back, bought), consignments (intake,
given back, paying her out) and the exposure at a glance. Each handler turns HTTP into one
call of `Memo` (`runtime.memo`) and back; the screens are `hub.memo.screens`."""

from __future__ import annotations

from aiohttp import web

from hub.core.fields import Form
from hub.memo import screens
from hub.memo.layer import MANAGE, OUT
from hub.memo.service import Memo
from hub.web.kernel import Endpoints, json_response, read_json, runtime_of, service, session_of
from hub.words import N_

_TEXT = {"type": "string"}
_INT = {"type": "integer"}
_PAYMENT = {"type": "object", "required": ["amount", "method", "reference"],
            "properties": {"amount": _INT, "method": {"enum": ["bank_transfer", "cheque",
                                                               "cash"]},
                           "reference": _TEXT}}


def memo_of(request: web.Request) -> Memo:
    return service(runtime_of(request).memo, N_("memo and consignment"))


def _me(request: web.Request) -> str:
    return session_of(request).staff_id


def _m(request: web.Request, key: str) -> str:
    return request.match_info[key]


async def exposure_api(request: web.Request) -> web.Response:
    return json_response(await memo_of(request).exposure())


async def vendors_api(request: web.Request) -> web.Response:
    return json_response({"vendors": await memo_of(request).vendors()})


async def add_vendor_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).add_vendor(body, actor=_me(request)), 201)


async def vendor_api(request: web.Request) -> web.Response:
    return json_response(await memo_of(request).vendor(_m(request, "vendor_id")))


async def pay_vendor_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).pay_vendor(_m(request, "vendor_id"), body,
                                                           actor=_me(request)))


async def receive_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).receive(body, actor=_me(request)), 201)


async def return_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).return_to_vendor(
        _m(request, "item_id"), body, actor=_me(request)))


async def aging_api(request: web.Request) -> web.Response:
    return json_response({"pieces": await memo_of(request).aging()})


async def approvals_api(request: web.Request) -> web.Response:
    f = Form(request.query, query=True, allowed=("overdue",))
    overdue = f.choice("overdue", ("true", "false")) == "true"
    f.done()
    return json_response({"approvals": await memo_of(request).outs(overdue=overdue)})


async def send_out_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).send_out(body, actor=_me(request)), 201)


async def back_api(request: web.Request) -> web.Response:
    return json_response(await memo_of(request).come_back(_m(request, "memo_out_id"),
                                                          actor=_me(request)))


async def sale_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).sell_out(_m(request, "memo_out_id"), body,
                                                         actor=_me(request)), 201)


async def consignments_api(request: web.Request) -> web.Response:
    return json_response({"consignments": await memo_of(request).consignments()})


async def consign_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).consign(body, actor=_me(request)), 201)


async def give_back_api(request: web.Request) -> web.Response:
    return json_response(await memo_of(request).give_back(_m(request, "consignment_id"),
                                                          actor=_me(request)))


async def client_api(request: web.Request) -> web.Response:
    memo = memo_of(request)
    client = await runtime_of(request).store.clients.get(_m(request, "client_id"))
    return json_response(await memo.of_client(client["client_id"]))


async def pay_consignor_api(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await memo_of(request).pay_consignor(_m(request, "client_id"), body,
                                                              actor=_me(request)))


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/memo/exposure", exposure_api, permission="cost.view",
              summary="What the store holds that is not its own: on memo per vendor (count,"
                      " cost, retail, due days, payable), on approval per client, on"
                      " consignment per consignor (with her credit)")
    table.api("GET", "/api/v1/memo/vendors", vendors_api, permission="cost.view",
              summary="The vendors, with their pieces on memo and what they are owed")
    table.api("POST", "/api/v1/memo/vendors", add_vendor_api, permission=MANAGE,
              summary="Add a vendor (its name and usual terms: net 30, 60 or 90 days)",
              body={"type": "object", "required": ["name", "terms_days"],
                    "properties": {"name": _TEXT, "terms_days": {"enum": [30, 60, 90]}}})
    table.api("GET", "/api/v1/memo/vendors/{vendor_id}", vendor_api, permission="cost.view",
              summary="A vendor: its pieces, payable and day book")
    table.api("POST", "/api/v1/memo/vendors/{vendor_id}/payments", pay_vendor_api,
              permission=MANAGE, summary="Pay a vendor what its sold memo pieces are owed",
              body=_PAYMENT)
    table.api("POST", "/api/v1/memo/receipts", receive_api, permission=MANAGE,
              summary="Receive pieces on memo from a vendor (terms or a due day)",
              body={"type": "object", "required": ["vendor_id", "memo_ref", "pieces"],
                    "properties": {"vendor_id": _TEXT, "memo_ref": _TEXT,
                                   "terms_days": {"enum": [30, 60, 90]},
                                   "due": {"type": "string", "description": "YYYY-MM-DD"},
                                   "pieces": {"type": "array", "items": {"type": "object"}}}})
    table.api("POST", "/api/v1/memo/pieces/{item_id}/return", return_api, permission=MANAGE,
              summary="Give a piece back to its vendor: its memo closed, never sold again",
              body={"type": "object", "properties": {"note": _TEXT}})
    table.api("GET", "/api/v1/memo/aging", aging_api, permission="cost.view",
              summary="Pieces on memo by the day their memo is due, overdue first")
    table.api("GET", "/api/v1/memo/approvals", approvals_api, permission="clients.view",
              summary="Pieces out on approval with clients (or only the overdue ones)",
              query=("overdue",))
    table.api("POST", "/api/v1/memo/approvals", send_out_api, permission=OUT,
              summary="Send a piece out on approval with a client until a day",
              body={"type": "object", "required": ["item_id", "client_id", "due"],
                    "properties": {"item_id": _TEXT, "client_id": _TEXT,
                                   "due": {"type": "string", "description": "YYYY-MM-DD"}}})
    table.api("POST", "/api/v1/memo/approvals/{memo_out_id}/back", back_api, permission=OUT,
              summary="The piece on approval is back: in stock again")
    table.api("POST", "/api/v1/memo/approvals/{memo_out_id}/sale", sale_api,
              permission="sell", summary="She keeps the piece on approval: a sale to her",
              body={"type": "object", "required": ["register_id", "tenders"],
                    "properties": {"register_id": _TEXT,
                                   "tenders": {"type": "array", "items": {"type": "object"}},
                                   "approval_id": _TEXT}})
    table.api("GET", "/api/v1/memo/consignments", consignments_api, permission="clients.view",
              summary="Pieces held on consignment, the soonest term's end first")
    table.api("POST", "/api/v1/memo/consignments", consign_api, permission=MANAGE,
              summary="A client leaves a piece to sell: commission, agreed price, term",
              body={"type": "object",
                    "required": ["client_id", "commission_bp", "minimum", "term_days",
                                 "piece"],
                    "properties": {"client_id": _TEXT, "commission_bp": _INT, "minimum": _INT,
                                   "term_days": _INT, "piece": {"type": "object"}}})
    table.api("POST", "/api/v1/memo/consignments/{consignment_id}/return", give_back_api,
              permission=MANAGE, summary="Give a consigned piece back to her")
    table.api("GET", "/api/v1/memo/clients/{client_id}", client_api, permission="clients.view",
              summary="What a client has on approval and on consignment, and her credit")
    table.api("POST", "/api/v1/memo/consignors/{client_id}/payments", pay_consignor_api,
              permission=MANAGE, summary="Pay a consignor out of her credit", body=_PAYMENT)
    screens.setup(table)
