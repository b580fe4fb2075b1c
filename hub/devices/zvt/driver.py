"""A card terminal speaking ZVT over TCP (port 20007): one per register.

The hub sends an amount and gets back approval or decline, the card's brand and last four
digits, the authorisation code, trace and receipt numbers and the slip's lines; it never
sees a card number. Every message of the terminal is acknowledged (`80 00 00`) as it
arrives: a terminal that gets no acknowledgement of its result may reverse it by itself.

One exchange at a time. What can go wrong on the wire ends an exchange with a
`TerminalUnsure` (the link dropped, garbage, no answer in time): the payment's outcome is
then unknown, and only the terminal can say it (`last_transaction`). The books side of that
(recording the attempt first, asking before retrying) is `hub/devices/zvt/payments.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.devices.errors import DeviceBusy, DeviceError, LinkLost
from hub.devices.stream import StreamDevice
from hub.devices.zvt import protocol as z

log = logging.getLogger(__name__)

OnStatus = Callable[[int], None]


class TerminalUnsure(DeviceError):
    """The exchange broke off (link lost, garbage, too late): its outcome is unknown."""


class TerminalRefused(DeviceBusy):
    """The terminal refused the command itself (a negative acknowledgement)."""


_LOST, _GARBAGE = "lost", "garbage"


@dataclass
class Outcome:
    """What one exchange brought back: the status information (if any), the slip's lines,
    and the result code of an abort (`06 1E`) when it ended that way."""

    info: z.StatusInfo | None = None
    lines: list[str] = field(default_factory=list)
    aborted: int | None = None

    @property
    def result_code(self) -> int:
        if self.aborted is not None:
            return self.aborted
        return self.info.result_code if self.info is not None else 0xFF

    @property
    def approved(self) -> bool:
        return self.aborted is None and self.info is not None and self.info.result_code == 0

    def facts(self) -> dict[str, Any]:
        """The card facts the books keep (never a card number: last four at most)."""
        info = self.info.fields if self.info is not None else {}
        brand = info.get("card_name") or z.CARD_TYPES.get(info.get("card_type", -1))
        auth = str(info.get("auth_code") or "").strip() or None
        return {"result_code": self.result_code, "amount": info.get("amount"),
                "brand": brand, "last4": info.get("last4"), "auth_code": auth,
                "trace": info.get("trace"), "receipt_no": info.get("receipt_no"),
                "terminal_id": info.get("terminal_id"), "card_date": info.get("date"),
                "card_time": info.get("time")}


class ZvtTerminal(StreamDevice):
    kind = "terminal"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password = int(self.spec.get("password", 0))
        self.config_byte = int(self.spec.get("config_byte", 0xBA))
        self.ack_timeout = float(self.spec.get("ack_timeout_s", 5.0))
        self.answer_timeout = float(self.spec.get("answer_timeout_s", 90.0))
        self.currency = z.CURRENCIES.get(str(self.spec.get("currency", "EUR")), 978)
        self._apdus = z.ApduReader()
        self._inbox: asyncio.Queue[z.Message | str] = asyncio.Queue()
        self._exchange = asyncio.Lock()
        self._in_exchange = False
        self._registered = False
        self._acks: set[asyncio.Task[None]] = set()
        self._commands = 0
        self.status_text: str | None = None
        self.exchanges = 0
        self.late_messages = 0

    def make_link(self) -> Any:
        if not self.spec.get("port"):
            self.spec.settings["port"] = 20007
        return super().make_link()

    async def connect(self) -> None:
        self._apdus = z.ApduReader()
        self._inbox = asyncio.Queue()
        self._registered = False
        await super().connect()

    async def serve(self) -> None:
        try:
            await super().serve()
        except BaseException:
            self._inbox.put_nowait(_LOST)  # whoever waits on an answer hears of it
            raise

    async def close(self) -> None:
        self._inbox.put_nowait(_LOST)
        await super().close()

    # -- the wire -----------------------------------------------------------------------------

    def on_bytes(self, data: bytes) -> None:
        try:
            apdus = self._apdus.feed(data)
        except z.ZvtError as exc:
            self.problem(f"unreadable answer: {exc}")
            self._inbox.put_nowait(_GARBAGE)
            return
        for apdu in apdus:
            try:
                msg = z.decode(apdu)
            except z.ZvtError as exc:
                self.problem(f"unreadable answer: {exc}")
                self._inbox.put_nowait(_GARBAGE)
                continue
            if not isinstance(msg, z.Ack):
                self._ack()
            if self._in_exchange:
                self._inbox.put_nowait(msg)
            elif not isinstance(msg, z.Ack):
                # A second completion, an answer after we gave up: acknowledged, not used.
                self.late_messages += 1
                self.problem(f"an answer after its exchange had ended ({apdu.cls:02x}"
                             f" {apdu.ins:02x}): ignored")

    def _ack(self) -> None:
        task = asyncio.get_running_loop().create_task(self._send_ack())
        self._acks.add(task)
        task.add_done_callback(self._acks.discard)

    async def _send_ack(self) -> None:
        try:
            await self.send(z.ack())
        except DeviceError:
            pass  # the link went: the exchange hears it from serve

    async def _next(self, timeout: float) -> z.Message:
        try:
            async with asyncio.timeout(timeout):
                item = await self._inbox.get()
        except TimeoutError:
            raise TerminalUnsure(f"no answer from the terminal within {timeout:g} s") from None
        if item == _LOST:
            self._inbox.put_nowait(_LOST)
            raise TerminalUnsure("the connection to the terminal was lost")
        if item == _GARBAGE:
            raise TerminalUnsure("the terminal's answer was unreadable")
        assert isinstance(item, z.Message)
        return item

    async def _run(self, command: z.Message, on_status: OnStatus | None = None) -> Outcome:
        """Send one command and follow it to its completion or abort."""
        self.require_connected()
        while not self._inbox.empty():  # left over from an exchange that ended
            if self._inbox.get_nowait() == _LOST:
                raise LinkLost("the connection to the terminal was lost")
        if self._acks:  # our acknowledgements go out before the next command, in order
            await asyncio.gather(*self._acks, return_exceptions=True)
        self._in_exchange = True
        self.exchanges += 1
        try:
            await self.send(command.encode())
            first = await self._next(self.ack_timeout)
            if isinstance(first, z.Ack) and not first.positive:
                raise TerminalRefused("the terminal refused the command (code {nak})",
                                      nak=f"{first.control[1]:02X}")
            out = Outcome()
            msg = first
            while True:
                if isinstance(msg, z.Intermediate):
                    self.status_text = z.INTERMEDIATE_STATUS.get(msg.status)
                    if on_status is not None:
                        on_status(msg.status)
                elif isinstance(msg, z.StatusInfo):
                    if out.info is None:
                        out.info = msg
                    else:
                        self.problem("the terminal sent its result twice: the second ignored")
                elif isinstance(msg, z.PrintLine):
                    out.lines.append(msg.text)
                elif isinstance(msg, z.TextBlock):
                    out.lines.extend(msg.lines)
                elif isinstance(msg, z.Completion):
                    return out
                elif isinstance(msg, z.Abort):
                    out.aborted = msg.result_code
                    return out
                msg = await self._next(self.answer_timeout)
        except TerminalUnsure:
            # What follows on this link cannot be trusted: drop it, the runner reconnects.
            await self._drop()
            raise
        finally:
            self._in_exchange = False
            self.status_text = None

    async def _drop(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            await link.close()
        self._inbox.put_nowait(_LOST)

    async def _registered_run(self, command: z.Message,
                              on_status: OnStatus | None = None) -> Outcome:
        async with self._exchange:
            if not self._registered:
                await self._run(z.Registration(password=self.password,
                                               config_byte=self.config_byte,
                                               currency=self.currency))
                self._registered = True
            return await self._run(command, on_status)

    @property
    def busy(self) -> bool:
        """A payment, reversal or end of day is under way (a health check is not)."""
        return self._commands > 0

    async def _command(self, command: z.Message, on_status: OnStatus | None = None) -> Outcome:
        self._commands += 1
        try:
            return await self._registered_run(command, on_status)
        finally:
            self._commands -= 1

    # -- commands -----------------------------------------------------------------------------

    async def authorise(self, amount: int, on_status: OnStatus | None = None) -> Outcome:
        if not 0 < amount < 10 ** 12:
            raise DeviceBusy("a card payment is of more than zero")
        return await self._command(z.Authorisation(amount=amount, currency=self.currency),
                                   on_status)

    async def reverse(self, receipt_no: int) -> Outcome:
        return await self._command(z.PasswordCommand(
            password=self.password, receipt_no=receipt_no, control=z.REVERSAL))

    async def end_of_day(self) -> Outcome:
        return await self._command(z.PasswordCommand(password=self.password,
                                                     control=z.END_OF_DAY))

    async def last_transaction(self) -> Outcome:
        """Ask the terminal what it did last: a status enquiry (is it ready, and free of
        the interrupted payment?), then its last transaction again (repeat receipt)."""
        await self._registered_run(z.PasswordCommand(password=self.password,
                                                     control=z.STATUS_ENQUIRY))
        return await self._registered_run(z.PasswordCommand(password=self.password,
                                                            control=z.REPEAT_RECEIPT))

    async def check(self) -> bool:
        if self.busy:  # a payment in progress answers for the terminal
            return True
        await self._registered_run(z.PasswordCommand(password=self.password,
                                                     control=z.STATUS_ENQUIRY))
        return True

    def info(self) -> dict[str, Any]:
        return {**super().info(), "busy": self.busy, "status_text": self.status_text,
                "exchanges": self.exchanges}
