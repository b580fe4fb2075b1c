"""ZVT (the German ECR–payment-terminal protocol), sans-IO: APDUs, BMP fields, TLV, the
messages a register and a terminal exchange.

Written from the ZVT-Protokoll specification (ECR interface, revision 13.x):

- An APDU is CLASS, INSTR, LENGTH, data. LENGTH is one byte, or `FF lo hi` (little-endian)
  for 255 bytes and more. Over TCP (port 20007 by convention) APDUs travel bare; over serial
  they are framed `DLE STX apdu DLE ETX crc-lo crc-hi` with DLE doubled, the CRC being
  CRC-16/CCITT reflected (KERMIT) over the APDU and ETX (`frame_serial`).
- The data is a run of BMP fields: a one-byte tag, then a value of a fixed length, or an
  LLVAR/LLLVAR one whose length is written as 2 or 3 digits `F0+d` (`F1 F2` = 12).
  Numbers are packed BCD (amount: 6 bytes, in minor units; trace: 3; receipt: 2).
- BMP `06` is a BER-TLV container (tags of 1-2 bytes, lengths `81 n` / `82 n n`).
- A card number (BMP `22`) comes masked (`E` nibbles) and padded (`F`): only its last four
  digits are ever kept; the decoder throws the rest away.

A decoder never raises anything but `ZvtError` (a ValueError) whose message says what was
wrong with the bytes, so a garbled terminal is a clear problem, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_DATA = 65535  # the extended length's two bytes


class ZvtError(ValueError):
    """Bytes that are not ZVT, or not the ZVT this hub understands."""


# -- numbers ----------------------------------------------------------------------------------


def bcd_encode(value: int, size: int) -> bytes:
    """`value` as packed BCD in `size` bytes (leading zeros)."""
    if value < 0 or value >= 10 ** (2 * size):
        raise ZvtError(f"{value} does not fit in {size} BCD bytes")
    digits = f"{value:0{2 * size}d}"
    return bytes(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))


def bcd_digits(data: bytes) -> str:
    text = data.hex()
    if not text.isdigit():
        raise ZvtError(f"not BCD: {data.hex(' ')}")
    return text


def bcd_decode(data: bytes) -> int:
    return int(bcd_digits(data)) if data else 0


def var_length(n: int, digits: int) -> bytes:
    """An LLVAR (2 digits) or LLLVAR (3) length: each digit d as the byte F0+d."""
    if not 0 <= n < 10 ** digits:
        raise ZvtError(f"length {n} does not fit in {digits} digits")
    return bytes(0xF0 | int(d) for d in f"{n:0{digits}d}")


def read_var_length(data: bytes, pos: int, digits: int) -> tuple[int, int]:
    raw = data[pos:pos + digits]
    if len(raw) < digits:
        raise ZvtError("a variable length is cut short")
    if any(b & 0xF0 != 0xF0 or b & 0x0F > 9 for b in raw):
        raise ZvtError(f"bad variable length {raw.hex(' ')} (digits are written F0-F9)")
    return int("".join(str(b & 0x0F) for b in raw)), pos + digits


# -- TLV (BMP 06) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tlv:
    """One BER-TLV element: a primitive value (bytes) or constructed children."""

    tag: int
    value: bytes = b""
    children: tuple[Tlv, ...] = ()

    @property
    def constructed(self) -> bool:
        first = self.tag >> 8 * (_tag_size(self.tag) - 1)
        return bool(first & 0x20)


def _tag_size(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8)


def tlv_encode(items: tuple[Tlv, ...] | list[Tlv]) -> bytes:
    out = bytearray()
    for item in items:
        body = tlv_encode(item.children) if item.constructed else item.value
        out += item.tag.to_bytes(_tag_size(item.tag), "big")
        n = len(body)
        if n < 0x80:
            out.append(n)
        elif n < 0x100:
            out += bytes((0x81, n))
        elif n < 0x10000:
            out += bytes((0x82,)) + n.to_bytes(2, "big")
        else:
            raise ZvtError("a TLV value longer than 65535 bytes")
        out += body
    return bytes(out)


def tlv_decode(data: bytes, depth: int = 0) -> tuple[Tlv, ...]:
    if depth > 8:
        raise ZvtError("TLV nested too deep")
    items, pos = [], 0
    while pos < len(data):
        start = pos
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:  # a multi-byte tag: more bytes while bit 8 is set
            while True:
                if pos >= len(data):
                    raise ZvtError("a TLV tag is cut short")
                tag = tag << 8 | data[pos]
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
                if pos - start > 3:
                    raise ZvtError("a TLV tag longer than 3 bytes")
        if pos >= len(data):
            raise ZvtError("a TLV length is missing")
        n = data[pos]
        pos += 1
        if n == 0x81 or n == 0x82:
            size = n - 0x80
            if pos + size > len(data):
                raise ZvtError("a TLV length is cut short")
            n = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        elif n > 0x80:
            raise ZvtError(f"a TLV length form {n:02x} this hub does not read")
        if pos + n > len(data):
            raise ZvtError("a TLV value is cut short")
        body = bytes(data[pos:pos + n])
        pos += n
        probe = Tlv(tag)
        items.append(Tlv(tag, children=tlv_decode(body, depth + 1)) if probe.constructed
                     else Tlv(tag, body))
    return tuple(items)


def tlv_find(items: tuple[Tlv, ...], tag: int) -> Iterator[Tlv]:
    for item in items:
        if item.tag == tag:
            yield item
        yield from tlv_find(item.children, tag)


# -- BMP fields --------------------------------------------------------------------------------

# tag: (name, how, size). how: bcd (int), digits (str of BCD digits), bin (int), ascii,
# llvar/lllvar (ascii text), pan (LLVAR BCD, masked: only last4 kept), raw (bytes), tlv.
BMPS: dict[int, tuple[str, str, int]] = {
    0x01: ("timeout", "bin", 1),
    0x02: ("max_status_infos", "bin", 1),
    0x03: ("service_byte", "bin", 1),
    0x04: ("amount", "bcd", 6),
    0x05: ("pump_no", "bin", 1),
    0x06: ("tlv", "tlv", 0),
    0x0B: ("trace", "bcd", 3),
    0x0C: ("time", "digits", 3),        # HHMMSS
    0x0D: ("date", "digits", 2),        # MMDD
    0x0E: ("expiry", "digits", 2),      # YYMM
    0x17: ("card_seq", "bcd", 2),
    0x19: ("payment_type", "bin", 1),   # the status byte in a completion
    0x22: ("last4", "pan", 2),
    0x27: ("result_code", "bin", 1),
    0x29: ("terminal_id", "digits", 4),
    0x2A: ("vu_number", "ascii", 15),
    0x37: ("original_trace", "bcd", 3),
    0x3B: ("auth_code", "ascii", 8),    # "AID", the authorisation attribute
    0x3C: ("additional_text", "lllvar", 3),
    0x49: ("currency", "bcd", 2),       # ISO 4217 numeric
    0x60: ("totals", "raw", 3),         # LLLVAR: individual totals of an end of day
    0x87: ("receipt_no", "bcd", 2),
    0x88: ("turnover_no", "bcd", 3),
    0x8A: ("card_type", "bin", 1),
    0x8B: ("card_name", "llvar", 2),
    0x8C: ("card_type_id", "bin", 1),
    0xA0: ("result_code_as", "bin", 1),
    0xBA: ("aid_param", "raw", 5),
}
BMP_TAG = {name: tag for tag, (name, _, _) in BMPS.items()}


def _ascii(raw: bytes) -> str:
    # Latin-1 decodes every byte; spaces of a slip's line are its layout, kept.
    return raw.decode("latin-1")


def pan_last4(raw: bytes) -> str | None:
    """The last four digits of a masked card number (E = masked digit, F = padding), or
    None when they are masked too. The rest is never returned."""
    nibbles = raw.hex().upper().rstrip("F")
    if any(c not in "0123456789E" for c in nibbles):
        raise ZvtError("a card number with nibbles other than digits, E and F")
    tail = nibbles[-4:]
    return tail if len(tail) == 4 and tail.isdigit() else None


def encode_bmps(values: dict[str, Any]) -> bytes:
    """BMP fields in the order given (names from BMPS); None values are left out."""
    out = bytearray()
    for name, value in values.items():
        if value is None:
            continue
        tag = BMP_TAG[name]
        _, how, size = BMPS[tag]
        out.append(tag)
        if how == "bin":
            out += int(value).to_bytes(size, "big")
        elif how == "bcd":
            out += bcd_encode(int(value), size)
        elif how == "digits":
            out += bcd_encode(int(value), size) if str(value).isdigit() and \
                len(str(value)) == 2 * size else _bad(name, value)
        elif how == "ascii":
            raw = str(value).encode("latin-1")[:size]
            out += raw.ljust(size, b" ") if name != "auth_code" else raw.ljust(size, b"\x00")
        elif how in ("llvar", "lllvar"):
            raw = str(value).encode("latin-1")
            out += var_length(len(raw), size) + raw
        elif how == "pan":
            # Only the last four digits are known: the rest goes out masked.
            raw = bytes.fromhex("E" * 12 + str(value))
            out += var_length(len(raw), size) + raw
        elif how == "raw":
            raw = bytes(value)
            out += (var_length(len(raw), size) if name == "totals" else b"") + raw
        elif how == "tlv":
            raw = tlv_encode(value)
            out += _tlv_length(len(raw)) + raw
    return bytes(out)


def _bad(name: str, value: Any) -> bytes:
    raise ZvtError(f"{name}: {value!r} is not the digits it must be")


def _tlv_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    return bytes((0x82,)) + n.to_bytes(2, "big")


def decode_bmps(data: bytes) -> dict[str, Any]:
    """A run of BMP fields to values by name. An unknown tag ends with an error: its length
    cannot be known, so nothing after it could be trusted."""
    out: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag not in BMPS:
            raise ZvtError(f"unknown BMP {tag:02x} at byte {pos - 1}")
        name, how, size = BMPS[tag]
        if how in ("llvar", "lllvar", "pan") or (how == "raw" and name == "totals"):
            n, pos = read_var_length(data, pos, size)
        elif how == "tlv":
            if pos >= len(data):
                raise ZvtError("BMP 06 without its length")
            n = data[pos]
            pos += 1
            if n in (0x81, 0x82):
                k = n - 0x80
                n = int.from_bytes(data[pos:pos + k], "big")
                pos += k
            elif n > 0x80:
                raise ZvtError("BMP 06 with a length form this hub does not read")
        else:
            n = size
        raw = bytes(data[pos:pos + n])
        if len(raw) < n:
            raise ZvtError(f"BMP {tag:02x} ({name}) is cut short")
        pos += n
        if how == "bin":
            out[name] = int.from_bytes(raw, "big")
        elif how == "bcd":
            out[name] = bcd_decode(raw)
        elif how == "digits":
            out[name] = bcd_digits(raw)
        elif how == "ascii":  # fixed width: padded with spaces or NULs
            out[name] = _ascii(raw).rstrip("\x00 ")
        elif how in ("llvar", "lllvar"):
            out[name] = _ascii(raw)
        elif how == "pan":
            out[name] = pan_last4(raw)
        elif how == "raw":
            out[name] = raw
        elif how == "tlv":
            out[name] = tlv_decode(raw)
    return out


# -- APDUs -------------------------------------------------------------------------------------

# Control fields (CLASS, INSTR) of the messages this hub speaks.
REGISTRATION, AUTHORISATION, LOG_OFF = (0x06, 0x00), (0x06, 0x01), (0x06, 0x02)
REVERSAL, END_OF_DAY, REPEAT_RECEIPT = (0x06, 0x30), (0x06, 0x50), (0x06, 0x20)
STATUS_ENQUIRY, ABORT_COMMAND = (0x05, 0x01), (0x06, 0xB0)
ACK = (0x80, 0x00)
INTERMEDIATE, STATUS_INFO = (0x04, 0xFF), (0x04, 0x0F)
PRINT_LINE, TEXT_BLOCK = (0x06, 0xD1), (0x06, 0xD3)
COMPLETION, ABORT = (0x06, 0x0F), (0x06, 0x1E)
_CLASSES = frozenset({0x04, 0x05, 0x06, 0x08, 0x80, 0x84})


@dataclass(frozen=True)
class Apdu:
    cls: int
    ins: int
    data: bytes = b""

    @property
    def control(self) -> tuple[int, int]:
        return self.cls, self.ins

    def encode(self) -> bytes:
        n = len(self.data)
        if n > MAX_DATA:
            raise ZvtError("an APDU's data is at most 65535 bytes")
        length = bytes((n,)) if n < 0xFF else b"\xff" + n.to_bytes(2, "little")
        return bytes((self.cls, self.ins)) + length + self.data


class ApduReader:
    """Bytes from the wire in any splits → whole APDUs. A control field this hub does not
    know means the stream is garbage: `feed` raises ZvtError and forgets what it held."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Apdu]:
        self._buf += data
        out = []
        while len(self._buf) >= 3:
            cls, ins, n = self._buf[0], self._buf[1], self._buf[2]
            if cls not in _CLASSES:
                head = bytes(self._buf[:8]).hex(" ")
                self._buf.clear()
                raise ZvtError(f"not a ZVT message: {head}")
            head = 3
            if n == 0xFF:
                if len(self._buf) < 5:
                    break
                n = int.from_bytes(self._buf[3:5], "little")
                head = 5
            if len(self._buf) < head + n:
                break
            out.append(Apdu(cls, ins, bytes(self._buf[head:head + n])))
            del self._buf[:head + n]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def crc_kermit(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


DLE, STX, ETX = 0x10, 0x02, 0x03


def frame_serial(apdu: bytes) -> bytes:
    """The serial transport's frame: DLE STX, the APDU with DLE doubled, DLE ETX, CRC."""
    crc = crc_kermit(apdu + bytes((ETX,)))
    return (bytes((DLE, STX)) + apdu.replace(b"\x10", b"\x10\x10") + bytes((DLE, ETX))
            + crc.to_bytes(2, "little"))


def unframe_serial(frame: bytes) -> bytes:
    if frame[:2] != bytes((DLE, STX)) or frame[-4:-2] != bytes((DLE, ETX)):
        raise ZvtError("not a DLE STX … DLE ETX frame")
    apdu = frame[2:-4].replace(b"\x10\x10", b"\x10")
    if crc_kermit(apdu + bytes((ETX,))).to_bytes(2, "little") != frame[-2:]:
        raise ZvtError("the frame's CRC does not match")
    return apdu


# -- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A decoded APDU. `control` is its (CLASS, INSTR)."""

    control: tuple[int, int]

    def apdu(self) -> Apdu:
        return Apdu(*self.control, self.data())

    def data(self) -> bytes:
        return b""

    def encode(self) -> bytes:
        return self.apdu().encode()


@dataclass(frozen=True)
class Ack(Message):
    """`80 00 00`, or a negative acknowledgement `84 <code> 00`."""

    control: tuple[int, int] = ACK

    @property
    def positive(self) -> bool:
        return self.control in (ACK, (0x84, 0x00))


@dataclass(frozen=True)
class Registration(Message):
    password: int = 0
    config_byte: int = 0xBA
    currency: int | None = 978
    service_byte: int | None = None
    control: tuple[int, int] = REGISTRATION

    def data(self) -> bytes:
        out = bcd_encode(self.password, 3) + bytes((self.config_byte,))
        if self.currency is not None:
            out += bcd_encode(self.currency, 2)  # the currency code has no BMP tag here
            out += encode_bmps({"service_byte": self.service_byte})
        return out


@dataclass(frozen=True)
class Authorisation(Message):
    amount: int = 0
    currency: int | None = None
    payment_type: int | None = None
    control: tuple[int, int] = AUTHORISATION

    def data(self) -> bytes:
        return encode_bmps({"amount": self.amount, "currency": self.currency,
                            "payment_type": self.payment_type})


@dataclass(frozen=True)
class PasswordCommand(Message):
    """Reversal (with the receipt number to reverse), end of day, status enquiry, repeat
    receipt: a 3-byte BCD password, then BMPs."""

    password: int = 0
    receipt_no: int | None = None
    control: tuple[int, int] = STATUS_ENQUIRY

    def data(self) -> bytes:
        return bcd_encode(self.password, 3) + encode_bmps({"receipt_no": self.receipt_no})


@dataclass(frozen=True)
class Bare(Message):
    """A command without data: log off `06 02`, abort `06 B0`."""


@dataclass(frozen=True)
class Intermediate(Message):
    status: int = 0
    timeout: int | None = None
    control: tuple[int, int] = INTERMEDIATE

    def data(self) -> bytes:
        return bytes((self.status,)) + (bytes((self.timeout,)) if self.timeout is not None
                                        else b"")


@dataclass(frozen=True)
class Totals:
    """BMP 60 of an end of day: the receipt numbers it covers, and count and turnover per
    card scheme (girocard, JCB, Eurocard/Mastercard, Amex, Visa, Diners, the rest)."""

    first_receipt: int = 0
    last_receipt: int = 0
    schemes: tuple[tuple[int, int], ...] = ((0, 0),) * 7

    def encode(self) -> bytes:
        out = bcd_encode(self.first_receipt, 2) + bcd_encode(self.last_receipt, 2)
        for count, amount in self.schemes:
            out += bytes((count,)) + bcd_encode(amount, 6)
        return out

    @classmethod
    def decode(cls, raw: bytes) -> Totals:
        if len(raw) < 4 or (len(raw) - 4) % 7:
            raise ZvtError(f"end-of-day totals of {len(raw)} bytes")
        schemes = tuple((raw[i], bcd_decode(raw[i + 1:i + 7])) for i in range(4, len(raw), 7))
        return cls(bcd_decode(raw[0:2]), bcd_decode(raw[2:4]),
                   (schemes + ((0, 0),) * 7)[:max(7, len(schemes))])


TOTAL_SCHEMES = ("girocard", "JCB", "Mastercard", "American Express", "Visa", "Diners",
                 "other")


@dataclass(frozen=True)
class StatusInfo(Message):
    """`04 0F`: the outcome of a payment, reversal or end of day. Only the card number's
    last four digits are kept (`last4`)."""

    fields: dict[str, Any] = field(default_factory=dict)
    control: tuple[int, int] = STATUS_INFO

    def __hash__(self) -> int:  # pragma: no cover - fields is a dict
        return hash(tuple(sorted(self.fields)))

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @property
    def result_code(self) -> int:
        return int(self.fields.get("result_code", 0))

    @property
    def totals(self) -> Totals | None:
        raw = self.fields.get("totals")
        return Totals.decode(raw) if raw is not None else None

    def data(self) -> bytes:
        return encode_bmps(self.fields)


@dataclass(frozen=True)
class PrintLine(Message):
    attribute: int = 0
    text: str = ""
    control: tuple[int, int] = PRINT_LINE

    def data(self) -> bytes:
        return bytes((self.attribute,)) + self.text.encode("latin-1", "replace")


# TLV tags of a text block (06 D3): 25 print texts (constructed), 07 one text line.
TAG_PRINT_TEXTS, TAG_TEXT_LINE = 0x25, 0x07


@dataclass(frozen=True)
class TextBlock(Message):
    lines: tuple[str, ...] = ()
    control: tuple[int, int] = TEXT_BLOCK

    def data(self) -> bytes:
        texts = Tlv(TAG_PRINT_TEXTS, children=tuple(
            Tlv(TAG_TEXT_LINE, line.encode("latin-1", "replace")) for line in self.lines))
        return encode_bmps({"tlv": (texts,)})


@dataclass(frozen=True)
class Completion(Message):
    status_byte: int | None = None
    terminal_id: str | None = None
    control: tuple[int, int] = COMPLETION

    def data(self) -> bytes:
        return encode_bmps({"payment_type": self.status_byte, "terminal_id": self.terminal_id})


@dataclass(frozen=True)
class Abort(Message):
    """`06 1E <result code>`: the terminal gave up (declined, aborted, not possible)."""

    result_code: int = 0x6C
    control: tuple[int, int] = ABORT

    def data(self) -> bytes:
        return bytes((self.result_code,))


def _password(data: bytes) -> tuple[int, bytes]:
    if len(data) < 3:
        raise ZvtError("a command without its 3-byte password")
    return bcd_decode(data[:3]), data[3:]


def decode(apdu: Apdu) -> Message:
    """An APDU (either direction) to its message; ZvtError for what is not valid."""
    c, d = apdu.control, apdu.data
    if c[0] in (0x80, 0x84):
        return Ack(c)
    if c == INTERMEDIATE:
        if not d:
            raise ZvtError("an intermediate status without its status byte")
        return Intermediate(status=d[0], timeout=d[1] if len(d) > 1 else None)
    if c == STATUS_INFO:
        return StatusInfo(fields=decode_bmps(d))
    if c == PRINT_LINE:
        if not d:
            raise ZvtError("a print line without its attribute")
        return PrintLine(attribute=d[0], text=_ascii(d[1:]))
    if c == TEXT_BLOCK:
        bmps = decode_bmps(d)
        lines = tuple(_ascii(t.value) for t in tlv_find(bmps.get("tlv", ()), TAG_TEXT_LINE))
        return TextBlock(lines=lines)
    if c == COMPLETION:
        bmps = decode_bmps(d) if d else {}
        return Completion(status_byte=bmps.get("payment_type"),
                          terminal_id=bmps.get("terminal_id"))
    if c == ABORT:
        return Abort(result_code=d[0] if d else 0xFF)
    if c == REGISTRATION:
        password, rest = _password(d)
        if not rest:
            raise ZvtError("a registration without its config byte")
        currency = bcd_decode(rest[1:3]) if len(rest) >= 3 else None
        bmps = decode_bmps(rest[3:]) if len(rest) > 3 else {}
        return Registration(password=password, config_byte=rest[0], currency=currency,
                            service_byte=bmps.get("service_byte"))
    if c == AUTHORISATION:
        bmps = decode_bmps(d)
        if "amount" not in bmps:
            raise ZvtError("an authorisation without its amount (BMP 04)")
        return Authorisation(amount=bmps["amount"], currency=bmps.get("currency"),
                             payment_type=bmps.get("payment_type"))
    if c in (REVERSAL, END_OF_DAY, STATUS_ENQUIRY, REPEAT_RECEIPT):
        password, rest = _password(d)
        bmps = decode_bmps(rest)
        return PasswordCommand(password=password, receipt_no=bmps.get("receipt_no"), control=c)
    if c in (LOG_OFF, ABORT_COMMAND):
        return Bare(control=c)
    raise ZvtError(f"a message this hub does not speak: {c[0]:02x} {c[1]:02x}")


def ack() -> bytes:
    return Ack().encode()


# -- words for codes (English here; the screens translate through hub.words) -----------------

# Result codes (BMP 27, 06 1E): 01-63 come from the card network's host (ISO 8583 style);
# the others are the terminal's own.
RESULTS = {
    0x00: "approved",
    0x05: "declined by the card's bank",
    0x33: "card expired",
    0x51: "insufficient funds",
    0x55: "wrong PIN",
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x6A: "turnover file full",
    0x6C: "aborted (timeout or abort key)",
    0x6E: "card on the blocked list",
    0x6F: "wrong currency",
    0x71: "credit not sufficient",
    0x72: "chip error",
    0x73: "card data incorrect",
    0x77: "end of day not possible",
    0x78: "card expired",
    0x79: "card not yet valid",
    0x7A: "card unknown",
    0x9C: "repeat the procedure",
    0xB4: "already reversed",
    0xB5: "reversal not possible",
    0xC3: "maximum amount exceeded",
    0xFF: "system error",
}

# Intermediate status codes (04 FF): what the terminal is showing the client.
INTERMEDIATE_STATUS = {
    0x00: "waiting for the amount to be confirmed",
    0x01: "please watch the PIN pad",
    0x02: "please watch the PIN pad",
    0x03: "not accepted",
    0x04: "waiting for the card network",
    0x05: "sending an automatic reversal",
    0x06: "sending post-bookings",
    0x07: "card not admitted",
    0x08: "card unknown",
    0x09: "card expired",
    0x0A: "insert or tap the card",
    0x0B: "please remove the card",
    0x0C: "card not readable",
    0x0D: "processing error",
    0x0E: "please wait",
    0x0F: "automatic end of day",
    0x10: "invalid card",
    0x11: "balance display",
    0x12: "system malfunction",
    0x13: "payment not possible",
    0x14: "credit not sufficient",
    0x15: "incorrect PIN",
    0x16: "limit not sufficient",
    0x17: "please wait",
    0x18: "PIN try limit exceeded",
    0x19: "card data incorrect",
    0x1A: "service mode",
    0x1B: "approved",
    0x1C: "approved",
    0x1D: "declined",
}

# ISO 4217 numeric codes (BMP 49) of the currencies a boutique takes.
CURRENCIES = {"EUR": 978, "CHF": 756, "GBP": 826, "USD": 840, "JPY": 392, "SEK": 752,
              "DKK": 208, "NOK": 578, "PLN": 985, "CZK": 203, "HUF": 348, "AED": 784,
              "CNY": 156, "HKD": 344, "SGD": 702, "CAD": 124, "AUD": 36}
# ZVT card-type ids (BMP 8A) for when the terminal sends no card name (BMP 8B).
CARD_TYPES = {5: "girocard", 6: "Mastercard", 8: "American Express", 10: "Visa",
              12: "Diners", 46: "Maestro"}
