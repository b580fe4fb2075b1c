"""The device manager: one task per configured device, and the commands the web app calls.

Each device runs in its own task; a device that crashes, hangs or is unplugged affects only
its own task and state. Commands (print a receipt, open a drawer, show a total) go to the
device bound to the register and answer with a clear error when it is not connected.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from hub.bus import Event, EventBus
from hub.devices.base import Device, DeviceSpec, State
from hub.devices.errors import DeviceBusy, DeviceError
from hub.devices.registry import driver_class
from hub.devices.zvt.payments import TerminalPayments
from hub.documents import Document, render_html
from hub.receipts import Receipt, ReceiptSettings
from hub.store import Store
from hub.words import ENGLISH, Term, Words

log = logging.getLogger(__name__)


class DeviceManager:
    def __init__(self, specs: list[DeviceSpec], bus: EventBus, store: Store | None = None,
                 receipts: ReceiptSettings | None = None) -> None:
        """`store` and `receipts` are what receipts and tags need; without them (a bench, a
        count's readers) the devices run and those commands are refused."""
        self.bus = bus
        self.store = store
        self.words: Words = store.words if store is not None else ENGLISH
        self.receipts = receipts
        self.devices: dict[str, Device] = {}
        for spec in specs:
            _, cls = driver_class(spec.driver)
            self.devices[spec.id] = cls(spec, bus.publish)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._unlisten: list[Callable[[], None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self.last_receipt: dict[str, dict[str, Any]] = {}  # register -> {sale_id, text, html}
        self._without_printer: set[str] = set()  # registers already warned about
        # Card payments on the registers' terminals (set by the part when the books are open).
        self.payments: TerminalPayments | None = None

    async def start(self) -> None:
        for device in self.devices.values():
            self._tasks[device.id] = asyncio.create_task(device.run(), name=f"device-{device.id}")
        self._unlisten = [self.bus.listen("journal.sale.completed", self._on_sale),
                          self.bus.listen("journal.register.no_sale", self._on_no_sale),
                          self.bus.listen("cart.changed", self._on_cart)]

    async def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten = []
        for task in [*self._tasks.values(), *self._background]:
            task.cancel()
        await asyncio.gather(*self._tasks.values(), *self._background, return_exceptions=True)
        self._tasks.clear()

    # -- look-ups -------------------------------------------------------------------------

    def states(self) -> list[dict[str, Any]]:
        return [d.status() for d in self.devices.values()]

    def get(self, device_id: str) -> Device:
        if device_id not in self.devices:
            raise DeviceBusy("no device “{device}”", device=device_id)
        return self.devices[device_id]

    def for_register(self, register: str, kind: str) -> Device:
        for device in self.devices.values():
            if device.kind == kind and device.register == register:
                return device
        raise DeviceBusy("no {kind} is bound to register {register}",
                         kind=Term("device_kind", kind), register=register)

    def first(self, kind: str) -> Device:
        for device in self.devices.values():
            if device.kind == kind:
                return device
        raise DeviceBusy("no {kind} is configured", kind=Term("device_kind", kind))

    # -- receipts -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_sale(self, event: Event) -> None:
        payload = event.data.get("payload") or {}
        sale_id, register = payload.get("sale_id"), payload.get("register_id")
        if not sale_id or not register:
            return
        try:
            self.for_register(register, "printer")
        except DeviceBusy as exc:
            # A register without a printer stays so all day: said once, not for every
            # sale, and no receipt is built for nothing.
            if register not in self._without_printer:
                self._without_printer.add(register)
                log.warning("receipts at register %s are not printed: %s", register, exc,
                            extra={"register_id": register})
            return
        self._spawn(self._print_completed(sale_id))
        display = self._display(register)
        if display is not None:
            messages = display.spec.get("messages", {})
            self._spawn(self._show_quietly(display, messages.get("thanks_top") or
                                           self.words.gettext("Thank you"),
                                           messages.get("thanks_bottom", "")))

    def _on_no_sale(self, event: Event) -> None:
        register = (event.data.get("payload") or {}).get("register_id")
        if register:
            self._spawn(self._kick_drawer(register))

    async def _kick_drawer(self, register: str) -> None:
        """A drawer opened without a sale (approved and journaled): kick it, and tell the
        register's screens how it went (`device.drawer`, with the problem in words)."""
        try:
            result = await self.open_drawer(register)
        except DeviceError as exc:  # the printer that kicks it is unplugged or busy
            self.bus.publish("device.drawer_kick", register=register, opened=False,
                             problem=self.words.refusal(exc))
            return
        self.bus.publish("device.drawer_kick", register=register, opened=bool(result["open"]),
                         device=result["device"], problem=None)

    def _display(self, register: str) -> Device | None:
        try:
            return self.for_register(register, "display")
        except DeviceBusy:
            return None

    def _on_cart(self, event: Event) -> None:
        """The customer sees the piece just added and the running total."""
        cart = event.data.get("cart") or {}
        display = self._display(event.data.get("register_id") or "")
        if display is None or not isinstance(cart, dict):
            return
        lines = cart.get("lines") or []
        if not lines:
            messages = display.spec.get("messages", {})
            top = messages.get("welcome_top") or self.words.gettext("Welcome")
            bottom = messages.get("welcome_bottom", "")
        else:
            top = str(lines[-1].get("description", ""))
            bottom = self.words.render("TOTAL {amount}", {"amount": self.words.money(
                int(cart.get("total") or 0), str(cart.get("currency") or "EUR"))})
        self._spawn(self._show_quietly(display, top, bottom))

    async def _show_quietly(self, display: Any, top: str, bottom: str) -> None:
        try:
            await display.show(top, bottom)
        except DeviceError as exc:  # the display is unplugged: the sale goes on
            log.info("display %s: %s", display.id, exc)

    def metrics_lines(self) -> list[str]:
        """Prometheus lines for /metrics: one state gauge per device, retries, missed checks."""
        out = ["# HELP loupe_device_state 1 for the device's current state.",
               "# TYPE loupe_device_state gauge"]
        for d in self.devices.values():
            for state in State:
                out.append(f'loupe_device_state{{device="{d.id}",kind="{d.kind}",'
                           f'state="{state}"}} {1 if d.state == state else 0}')
        out += ["# HELP loupe_device_retries_total Reconnects after a fault.",
                "# TYPE loupe_device_retries_total counter"]
        out += [f'loupe_device_retries_total{{device="{d.id}"}} {d.retries}'
                for d in self.devices.values()]
        out += ["# HELP loupe_device_missed_checks Health checks missed in a row.",
                "# TYPE loupe_device_missed_checks gauge"]
        out += [f'loupe_device_missed_checks{{device="{d.id}"}} {d.missed_checks}'
                for d in self.devices.values()]
        return out

    async def _print_completed(self, sale_id: str) -> None:
        try:
            await self.print_receipt(sale_id, job_id=sale_id)
        except Exception as exc:  # the sale stands; the receipt can be reprinted
            log.warning("receipt for %s not printed: %s", sale_id, exc,
                        extra={"sale_id": sale_id})

    async def receipt_for(self, sale_id: str, *, gift: bool = False,
                          reprint: bool = False) -> tuple[dict[str, Any], Receipt]:
        if self.store is None or self.receipts is None:
            raise DeviceBusy("receipts need the store's books")
        sale = await self.store.sales.get(sale_id)
        return sale, await self.store.receipt(sale, gift=gift, reprint=reprint,
                                              settings=self.receipts)

    async def print_receipt(self, sale_id: str, *, job_id: str | None = None,
                            gift: bool = False, reprint: bool = False,
                            register: str | None = None) -> dict[str, Any]:
        """Print a sale's receipt on its register's printer. The job id makes it idempotent:
        the sale id for the first receipt, a fresh id for reprints and gift receipts."""
        sale, receipt = await self.receipt_for(sale_id, gift=gift, reprint=reprint)
        register = register or sale["register_id"]
        printer = self.for_register(register, "printer")
        assert self.receipts is not None
        width = int(printer.spec.get("columns", self.receipts.width))
        job_id = job_id or f"{sale_id}:{'gift' if gift else 'copy'}:{uuid.uuid4().hex[:8]}"
        job = printer.print_receipt(job_id, receipt, width)  # type: ignore[attr-defined]
        self.last_receipt[register] = {"sale_id": sale_id, "job_id": job.id, "text": job.text,
                                       "html": render_html(receipt)}
        return {"job_id": job.id, "device": printer.id, **job.summary()}

    async def print_document(self, doc: Document, register: str, job_id: str) -> dict[str, Any]:
        """Print any document (a call sheet, a preparation list) on a register's printer;
        the job id keeps a retried request from printing twice."""
        printer = self.for_register(register, "printer")
        width = int(printer.spec.get("columns", self.receipts.width if self.receipts else 42))
        job = printer.print_receipt(job_id, doc, width)  # type: ignore[attr-defined]
        return {"job_id": job.id, "device": printer.id, **job.summary()}

    async def reprint(self, sale_id: str, register: str | None = None) -> dict[str, Any]:
        return await self.print_receipt(sale_id, reprint=True, register=register)

    async def gift_receipt(self, sale_id: str, register: str | None = None) -> dict[str, Any]:
        return await self.print_receipt(sale_id, gift=True, register=register)

    # -- drawer, display, tags -----------------------------------------------------------

    async def open_drawer(self, register: str) -> dict[str, Any]:
        printer = self.for_register(register, "printer")
        opened = await printer.open_drawer()  # type: ignore[attr-defined]
        return {"device": printer.id, "register": register, "open": opened}

    async def show(self, register: str, top: str, bottom: str = "") -> dict[str, Any]:
        display = self.for_register(register, "display")
        await display.show(top, bottom)  # type: ignore[attr-defined]
        return {"device": display.id, "lines": [top, bottom]}

    async def preview_tag(self, item_id: str) -> dict[str, Any]:
        """What the first tag printer would print for a piece (fields and RFID write)."""
        if self.store is None:
            raise DeviceBusy("tags need the store's books")
        piece = await self.store.items.get(item_id)
        printer = self.first("tag_printer")
        return printer.preview(piece, self.store.config.currency,  # type: ignore[attr-defined]
                               self.store.words)

    async def print_label(self, zpl: bytes, device: str | None = None, *, job_id: str,
                          copies: int = 1) -> dict[str, Any]:
        """Print a ready-made ZPL label (a workshop envelope) on a tag printer (`device`, or
        the first); the job id keeps a retried request from printing twice."""
        printer = self.get(device) if device else self.first("tag_printer")
        return await printer.print_label(job_id, zpl, copies)  # type: ignore[attr-defined]

    async def print_tag(self, item_id: str, device: str | None = None,
                        copies: int = 1) -> dict[str, Any]:
        if self.store is None:
            raise DeviceBusy("tags need the store's books")
        piece = await self.store.items.get(item_id)
        printer = self.get(device) if device else self.first("tag_printer")
        return await printer.print_tag(piece, currency=self.store.config.currency,  # type: ignore[attr-defined]
                                       copies=copies, words=self.store.words)
