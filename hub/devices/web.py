"""The devices panel and API: states and health, receipts and tags, and in the demo a way
to scan or sweep without hardware. Added to the web app through its endpoint table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import Invalid
from hub.devices.manager import DeviceManager
from hub.devices.sim.rig import DemoRig
from hub.devices.zvt.payments import TerminalPayments
from hub.web.kernel import (
    ApiError,
    Endpoints,
    json_response,
    read_json,
    render,
    runtime_of,
    service,
    session_of,
    store_of,
)
from hub.words import N_

STATIC = Path(__file__).with_name("static")


def _manager(request: web.Request) -> DeviceManager:
    return service(runtime_of(request).devices, N_("the devices"))


def _rig(request: web.Request) -> DemoRig:
    rig = runtime_of(request).simulators
    if rig is None:
        raise ApiError(404, "not_demo", "simulated devices exist only in the demo (loupe demo)")
    return rig


def _text(body: dict[str, Any], key: str, max_len: int, required: bool = True) -> str:
    return fields.text(body.get(key), key, required=required, max_len=max_len) or ""


def _register(request: web.Request, body: dict[str, Any]) -> str:
    return store_of(request).sales.check_register(body.get("register"), "register")


async def list_devices(request: web.Request) -> web.Response:
    manager = _manager(request)
    return json_response({"devices": manager.states(),
                          "last_receipts": manager.last_receipt,
                          "demo": runtime_of(request).simulators is not None})


async def reprint(request: web.Request) -> web.Response:
    body = await read_json(request)
    gift = fields.boolean(body.get("gift"), "gift")
    register = _register(request, body) if body.get("register") else None
    sale_id = request.match_info["sale_id"]
    manager = _manager(request)
    if gift:
        return json_response(await manager.gift_receipt(sale_id, register))
    return json_response(await manager.reprint(sale_id, register))


async def print_tag(request: web.Request) -> web.Response:
    body = await read_json(request)
    copies = fields.whole(body.get("copies", 1), "copies", lo=1, hi=50, required=True)
    device = fields.identifier(body.get("device"), "device", required=False, what="a device id")
    return json_response(await _manager(request).print_tag(request.match_info["item_id"],
                                                           device, copies))


async def tag_preview(request: web.Request) -> web.Response:
    return json_response(await _manager(request).preview_tag(request.match_info["item_id"]))


async def show_on_display(request: web.Request) -> web.Response:
    body = await read_json(request)
    register = _register(request, body)
    top, bottom = _text(body, "top", 40), _text(body, "bottom", 40, required=False)
    return json_response(await _manager(request).show(register, top, bottom))


async def demo_scan(request: web.Request) -> web.Response:
    """Type a code on a register's simulated scanner: it goes through the pty, the real
    driver and the bus, exactly as a hardware scan would."""
    body = await read_json(request)
    register = _register(request, body)
    code = _text(body, "code", 120)
    if not code.isprintable() or not code.isascii():
        raise Invalid("a barcode is printable ASCII", "code")
    _rig(request).scanners[register].scan(code)
    return json_response({"register": register, "code": code})


async def demo_sweep(request: web.Request) -> web.Response:
    """Pull the simulated handheld's trigger: one inventory sweep of the pieces in range."""
    rig = _rig(request)
    rig.handheld.trigger()
    return json_response({"device": "handheld", "tags": len(rig.handheld.in_field)})


def _payments(request: web.Request) -> TerminalPayments:
    return service(_manager(request).payments, N_("the card terminal"))


async def terminal_pay(request: web.Request) -> web.Response:
    """Ask the register's terminal for an amount; answers once the terminal has (the live
    statuses go out as `device.terminal` meanwhile), with the cart holding the card."""
    body = await read_json(request)
    register = store_of(request).sales.check_register(request.match_info["register_id"],
                                                      "register_id")
    amount = fields.amount(body.get("amount"), "amount", required=True)
    return json_response(await _payments(request).pay(register, amount,
                                                      actor=session_of(request).staff_id))


async def terminal_state(request: web.Request) -> web.Response:
    register = store_of(request).sales.check_register(request.match_info["register_id"],
                                                      "register_id")
    payments = _payments(request)
    terminal = payments.terminal(register)
    return json_response({"terminal": terminal.status(),
                          "payments": await payments.recent(register, 10)})


async def terminal_resolve(request: web.Request) -> web.Response:
    return json_response(await _payments(request).resolve(request.match_info["payment_id"],
                                                          actor=session_of(request).staff_id))


async def terminal_end_of_day(request: web.Request) -> web.Response:
    register = store_of(request).sales.check_register(request.match_info["register_id"],
                                                      "register_id")
    return json_response(await _payments(request).end_of_day(register,
                                                             actor=session_of(request).staff_id))


async def terminal_problems(request: web.Request) -> web.Response:
    return json_response({"problems": await _payments(request).problems()})


async def devices_page(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    manager = _manager(request)
    return await render(request, "devices.html", {
        "devices": manager.states(), "last_receipts": manager.last_receipt,
        "registers": [r.id for r in runtime.config.registers],
        "demo_rig": runtime.simulators is not None})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/devices", list_devices, permission="devices.view",
              summary="Devices: state, health, last printed receipts")
    table.api("POST", "/api/v1/devices/receipts/{sale_id}/reprint", reprint,
              permission="devices.use",
              summary="Reprint a sale's receipt (DUPLICATE) or print a gift receipt",
              body={"type": "object", "properties": {"gift": {"type": "boolean"},
                                                     "register": {"type": "string"}}})
    table.api("POST", "/api/v1/devices/tags/{item_id}", print_tag, permission="devices.use",
              summary="Print a piece's jewelry tag (writes its EPC on RFID printers)",
              body={"type": "object", "properties": {"copies": {"type": "integer"},
                                                     "device": {"type": "string"}}})
    table.api("GET", "/api/v1/devices/tags/{item_id}", tag_preview, permission="devices.view",
              summary="Preview of a piece's tag: the fields and RFID write the printer gets")
    table.api("POST", "/api/v1/devices/display", show_on_display, permission="devices.use",
              summary="Show two lines on a register's customer display",
              body={"type": "object", "required": ["register", "top"]})
    table.api("POST", "/api/v1/devices/demo/scan", demo_scan, permission="devices.use",
              summary="Demo: scan a code on a register's simulated scanner",
              body={"type": "object", "required": ["register", "code"]})
    table.api("POST", "/api/v1/devices/demo/sweep", demo_sweep, permission="devices.use",
              summary="Demo: pull the simulated RFID handheld's trigger",
              body={"type": "object"})
    table.api("POST", "/api/v1/registers/{register_id}/cart/terminal", terminal_pay,
              permission="sell",
              summary="Pay on the register's card terminal: on approval the card is a tender"
                      " of the cart",
              body={"type": "object", "required": ["amount"],
                    "properties": {"amount": {"type": "integer"}}})
    table.api("GET", "/api/v1/registers/{register_id}/terminal", terminal_state,
              permission="sell", summary="The register's card terminal and its last payments")
    table.api("POST", "/api/v1/terminal/payments/{payment_id}/resolve", terminal_resolve,
              permission="sell",
              summary="Ask the terminal how an interrupted card payment ended",
              body={"type": "object"})
    table.api("POST", "/api/v1/registers/{register_id}/terminal/end-of-day",
              terminal_end_of_day, permission="approve",
              summary="The card terminal's end of day (its totals go into the books)",
              body={"type": "object"})
    table.api("GET", "/api/v1/terminal/problems", terminal_problems, permission="devices.view",
              summary="Card payments a manager must look at (unknown, reversal failed)")
    table.floor_panel("terminal", "floor_terminal.html", permission="sell",
                      script="/devices/terminal.js", order=20)
    table.script("/devices/terminal.js", STATIC / "terminal.js")
    table.page("/devices", devices_page, permission="devices.view", title=N_("Devices"),
               nav=True, order=60)
    table.script("/devices/devices.js", STATIC / "devices.js")
    table.templates("hub.devices")
    # Raw tag reads come at ~1,000/s per reader: screens get count.progress instead.
    table.topics("device.*", exclude=("device.rfid.read",))
