"""A ZVT card terminal on TCP: registration, payments approved or declined by amount,
intermediate statuses, receipt lines, reversal, end of day, the last transaction again,
and the faults a shop meets (a cut after authorising, garbage, a late answer, twice).

Amount rules (like acquirers' test cards): an amount whose minor units end in 51 is
declined for insufficient funds; above `limit` it is declined by the bank.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass, field

from hub.devices.sim.tcp import TcpDeviceSim
from hub.devices.zvt import protocol as z


@dataclass
class Charge:
    trace: int
    receipt_no: int
    amount: int
    brand: str
    last4: str
    auth_code: str
    kind: str = "payment"  # payment | reversal | end_of_day
    result_code: int = 0
    reversed: bool = False
    lines: list[str] = field(default_factory=list)
    when: dt.datetime = field(default_factory=dt.datetime.now)


FAULTS = ("cut_before_authorising", "cut_after_authorising", "garbage", "late", "twice")


class ZvtTerminalSim(TcpDeviceSim):
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, terminal_id: str = "52500173",
                 password: int = 0, limit: int = 10_000_000_00) -> None:
        super().__init__(host, port)
        self.terminal_id = terminal_id
        self.password = password
        self.limit = limit
        self.trace = 0
        self.receipt_no = 0
        self.charges: list[Charge] = []  # every transaction, in order (the terminal's journal)
        self.batch: list[Charge] = []    # payments since the last end of day
        self.fault: str | None = None    # the next payment's fault (one of FAULTS), then none
        self.late_s = 1.0
        self.step_s = 0.0                # a pause between intermediate statuses (the demo)
        self.registered = 0
        self.commands: list[tuple[int, int]] = []
        self.unacked = 0                 # messages the register did not acknowledge
        self.cards = [("Visa", "4242"), ("Mastercard", "5454"), ("girocard", "3010")]

    @property
    def approved(self) -> list[Charge]:
        """Payments that took the client's money (not reversed)."""
        return [c for c in self.charges if c.kind == "payment" and c.result_code == 0
                and not c.reversed]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        link = _Link(reader, writer)
        try:
            while True:
                apdu = await link.next()
                if apdu is None:
                    return
                try:
                    msg = z.decode(apdu)
                except z.ZvtError:
                    await link.send(bytes((0x84, 0x83, 0x00)))  # negative ack: not understood
                    continue
                self.commands.append(apdu.control)
                await self._command(msg, link)
        except (ConnectionError, OSError, _Cut):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _command(self, msg: z.Message, link: _Link) -> None:
        c = msg.control
        if c == z.REGISTRATION:
            self.registered += 1
            await link.send(z.ack())
            await self._say(link, z.Completion(status_byte=0, terminal_id=self.terminal_id))
        elif c == z.STATUS_ENQUIRY:
            await link.send(z.ack())
            await self._say(link, z.Completion(status_byte=0, terminal_id=self.terminal_id))
        elif c == z.AUTHORISATION:
            assert isinstance(msg, z.Authorisation)
            await link.send(z.ack())
            await self._pay(msg.amount, link)
        elif c == z.REVERSAL:
            assert isinstance(msg, z.PasswordCommand)
            await link.send(z.ack())
            await self._reverse(msg.receipt_no, link)
        elif c == z.END_OF_DAY:
            await link.send(z.ack())
            await self._end_of_day(link)
        elif c == z.REPEAT_RECEIPT:
            await link.send(z.ack())
            last = next((ch for ch in reversed(self.charges)), None)
            if last is None:
                await self._say(link, z.Abort(result_code=0xFF))
                return
            await self._outcome(link, last)
        elif c in (z.LOG_OFF, z.ABORT_COMMAND):
            await link.send(z.ack())
        else:
            await link.send(bytes((0x84, 0x83, 0x00)))

    async def _say(self, link: _Link, msg: z.Message) -> None:
        """Send a message and wait for the register's acknowledgement (5 s, as the spec's
        T3 timeout; a missing one is counted, the terminal goes on)."""
        await link.send(msg.encode())
        try:
            async with asyncio.timeout(5):
                answer = await link.next()
        except TimeoutError:
            self.unacked += 1
            return
        if answer is None:
            raise _Cut()
        if answer.control != z.ACK:
            self.unacked += 1

    async def _pay(self, amount: int, link: _Link) -> None:
        fault, self.fault = self.fault, None
        for status in (0x0A, 0x01, 0x04):  # insert card, watch the PIN pad, asking the bank
            await self._say(link, z.Intermediate(status=status))
            if self.step_s:
                await asyncio.sleep(self.step_s)
        if fault == "cut_before_authorising":  # the cable goes before the bank is asked
            raise _Cut()
        if amount % 100 == 51 or amount > self.limit:
            await self._say(link, z.Abort(result_code=0x51 if amount % 100 == 51 else 0x05))
            return
        self.trace += 1
        self.receipt_no += 1
        brand, last4 = self.cards[self.receipt_no % len(self.cards)]
        charge = Charge(self.trace, self.receipt_no, amount, brand, last4,
                        f"{100000 + self.trace * 7919 % 900000:06d}")
        charge.lines = self._slip(charge, "PAYMENT")
        self.charges.append(charge)  # the bank said yes: the client is charged from here
        self.batch.append(charge)
        if fault == "cut_after_authorising":
            raise _Cut()
        if fault == "garbage":
            await link.send(b"\x99\x42\x03garbage\xff\xfe")
            return
        if fault == "late":
            await asyncio.sleep(self.late_s)
        await self._outcome(link, charge, twice=fault == "twice")

    def _info(self, charge: Charge) -> z.StatusInfo:
        fields = {"result_code": charge.result_code, "amount": charge.amount,
                  "currency": 978, "trace": charge.trace,
                  "time": charge.when.strftime("%H%M%S"), "date": charge.when.strftime("%m%d"),
                  "receipt_no": charge.receipt_no, "terminal_id": self.terminal_id}
        if charge.kind != "end_of_day":
            fields.update({"last4": charge.last4, "auth_code": charge.auth_code,
                           "card_name": charge.brand})
        else:
            fields["totals"] = self._totals().encode()
        return z.StatusInfo(fields=fields)

    async def _outcome(self, link: _Link, charge: Charge, *, twice: bool = False) -> None:
        info = self._info(charge)
        await self._say(link, info)
        if twice:
            await self._say(link, info)
        for line in charge.lines:
            await self._say(link, z.PrintLine(attribute=0, text=line))
        await self._say(link, z.Completion(status_byte=0, terminal_id=self.terminal_id))
        if twice:
            await self._say(link, z.Completion(status_byte=0, terminal_id=self.terminal_id))

    def _slip(self, charge: Charge, title: str) -> list[str]:
        amount = f"{charge.amount // 100},{charge.amount % 100:02d} EUR"
        return [title, f"Terminal-ID {self.terminal_id}", f"{charge.brand}",
                f"Card ************{charge.last4}", f"Trace {charge.trace:06d}",
                f"Receipt {charge.receipt_no:04d}", f"Auth. code {charge.auth_code}",
                f"AMOUNT {amount}", "APPROVED"]

    async def _reverse(self, receipt_no: int | None, link: _Link) -> None:
        target = next((c for c in self.charges if c.kind == "payment" and c.result_code == 0
                       and c.receipt_no == receipt_no), None)
        if target is None:
            await self._say(link, z.Abort(result_code=0xB5))
            return
        if target.reversed:
            await self._say(link, z.Abort(result_code=0xB4))
            return
        target.reversed = True
        self.trace += 1
        self.receipt_no += 1
        back = Charge(self.trace, self.receipt_no, target.amount, target.brand, target.last4,
                      target.auth_code, kind="reversal")
        back.lines = self._slip(back, "REVERSAL")
        self.charges.append(back)
        if target in self.batch:
            self.batch.remove(target)
        await self._outcome(link, back)

    def _totals(self) -> z.Totals:
        schemes = [[0, 0] for _ in z.TOTAL_SCHEMES]
        for c in self.batch:
            i = z.TOTAL_SCHEMES.index(c.brand) if c.brand in z.TOTAL_SCHEMES else 6
            schemes[i][0] += 1
            schemes[i][1] += c.amount
        receipts = [c.receipt_no for c in self.batch] or [0]
        return z.Totals(min(receipts), max(receipts), tuple((n, a) for n, a in schemes))

    async def _end_of_day(self, link: _Link) -> None:
        self.trace += 1
        total = sum(c.amount for c in self.batch)
        day = Charge(self.trace, self.receipt_no, total, "", "", "", kind="end_of_day")
        totals = self._totals()
        day.lines = ["END OF DAY", f"Terminal-ID {self.terminal_id}",
                     *(f"{name} {n} x {a // 100},{a % 100:02d}"
                       for name, (n, a) in zip(z.TOTAL_SCHEMES, totals.schemes, strict=True)
                       if n),
                     f"TOTAL {total // 100},{total % 100:02d} EUR"]
        self.charges.append(day)
        await self._outcome(link, day)
        self.batch = []


class _Cut(Exception):
    """The simulator pulls the cable."""


class _Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.apdus = z.ApduReader()
        self.queue: list[z.Apdu] = []

    async def next(self) -> z.Apdu | None:
        while not self.queue:
            data = await self.reader.read(4096)
            if not data:
                return None
            with contextlib.suppress(z.ZvtError):
                self.queue += self.apdus.feed(data)
        return self.queue.pop(0)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()
