"""The devices panel and API: states and health, receipts and tags, and in the demo a way
to scan or sweep without hardware. Added to the web app through its endpoint table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from hub.core import fields
from hub.core.errors import Invalid, NotFound
from hub.web.app import RUNTIME, json_response, read_json
from hub.web.endpoints import STAFF, endpoints, render
from hub.words import N_

STATIC = Path(__file__).with_name("static")


def _runtime(request: web.Request) -> Any:
    return request.app[RUNTIME]


def _manager(request: web.Request) -> Any:
    manager = _runtime(request).services.get("devices")
    if manager is None:
        raise NotFound("the device manager is not running")
    return manager


def _rig(request: web.Request) -> Any:
    rig = _runtime(request).services.get("device_simulators")
    if rig is None:
        raise NotFound("simulated devices exist only in the demo (loupe demo)")
    return rig


def _text(body: dict[str, Any], key: str, max_len: int, required: bool = True) -> str:
    return fields.text(body.get(key), key, required=required, max_len=max_len) or ""


def _register(request: web.Request, body: dict[str, Any]) -> str:
    return _runtime(request).store.sales.check_register(body.get("register"), "register")


async def list_devices(request: web.Request) -> web.Response:
    manager = _manager(request)
    return json_response({"devices": manager.states(),
                          "last_receipts": manager.last_receipt,
                          "demo": "device_simulators" in _runtime(request).services})


async def reprint(request: web.Request) -> web.Response:
    body = await read_json(request)
    gift = fields.boolean(body.get("gift"), "gift")
    register = _register(request, body) if body.get("register") else None
    sale_id = request.match_info["sale_id"]
    manager = _manager(request)
    if gift:
        return json_response(await manager.gift_receipt(sale_id, register))
    return json_response(await manager.reprint(sale_id, register))


async def receipt_preview(request: web.Request) -> web.Response:
    gift = request.query.get("gift") == "1"
    return json_response(await _manager(request).preview_receipt(request.match_info["sale_id"],
                                                                 gift=gift))


async def print_tag(request: web.Request) -> web.Response:
    body = await read_json(request)
    copies = fields.whole(body.get("copies", 1), "copies", lo=1, hi=50, required=True)
    device = fields.identifier(body.get("device"), "device", required=False, what="a device id")
    return json_response(await _manager(request).print_tag(request.match_info["item_id"],
                                                           device, copies))


async def tag_preview(request: web.Request) -> web.Response:
    runtime = _runtime(request)
    manager = _manager(request)
    piece = await runtime.store.items.get(request.match_info["item_id"])
    printer = manager.first("tag_printer")
    return json_response(printer.preview(piece, runtime.config.currency, runtime.store.words))


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


async def devices_page(request: web.Request) -> web.Response:
    manager = _manager(request)
    runtime = _runtime(request)
    return await render(request, "devices.html", {
        "devices": manager.states(), "last_receipts": manager.last_receipt,
        "registers": [r.id for r in runtime.config.registers],
        "demo_rig": "device_simulators" in runtime.services})


async def devices_js(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "devices.js",
                            headers={"Content-Type": "text/javascript; charset=utf-8"})


def setup(app: web.Application, runtime: Any) -> None:
    table = endpoints(app)
    table.api("GET", "/api/v1/devices", list_devices, roles=STAFF,
              summary="Devices: state, health, last printed receipts")
    table.api("POST", "/api/v1/devices/receipts/{sale_id}/reprint", reprint, roles=STAFF,
              summary="Reprint a sale's receipt (DUPLICATE) or print a gift receipt",
              body={"type": "object", "properties": {"gift": {"type": "boolean"},
                                                     "register": {"type": "string"}}})
    table.api("GET", "/api/v1/devices/receipts/{sale_id}", receipt_preview, roles=STAFF,
              summary="Receipt preview as text and HTML (the layout the printer prints)",
              query=("gift",))
    table.api("POST", "/api/v1/devices/tags/{item_id}", print_tag, roles=STAFF,
              summary="Print a piece's jewelry tag (writes its EPC on RFID printers)",
              body={"type": "object", "properties": {"copies": {"type": "integer"},
                                                     "device": {"type": "string"}}})
    table.api("GET", "/api/v1/devices/tags/{item_id}", tag_preview, roles=STAFF,
              summary="Preview of a piece's tag: the fields and RFID write the printer gets")
    table.api("POST", "/api/v1/devices/display", show_on_display, roles=STAFF,
              summary="Show two lines on a register's customer display",
              body={"type": "object", "required": ["register", "top"]})
    table.api("POST", "/api/v1/devices/demo/scan", demo_scan, roles=STAFF,
              summary="Demo: scan a code on a register's simulated scanner",
              body={"type": "object", "required": ["register", "code"]})
    table.api("POST", "/api/v1/devices/demo/sweep", demo_sweep, roles=STAFF,
              summary="Demo: pull the simulated RFID handheld's trigger",
              body={"type": "object"})
    table.page("/devices", devices_page, roles=STAFF, title=N_("Devices"), nav=True, order=60)
    table.file("/devices/devices.js", devices_js, roles=STAFF, summary="Devices panel script")
    table.templates("hub.devices", "templates")
