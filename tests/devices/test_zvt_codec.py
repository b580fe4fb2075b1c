"""The ZVT codec against the specification's bytes, and round trips by Hypothesis."""

from __future__ import annotations

import pytest
from device_helpers import in_pieces
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.zvt import protocol as z


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- the specification's examples ---------------------------------------------------------------


def test_registration_as_in_the_specification():
    # ZVT-Protokoll, Registration (06 00): password 123456, config byte BA, currency 0978
    # (EUR); the serial frame with its CRC is the specification's own example, as also
    # quoted by wirelane/ecrterm's tests: 10 02 06 00 06 12 34 56 BA 09 78 10 03 24 C3.
    msg = z.Registration(password=123456, config_byte=0xBA, currency=978)
    assert msg.encode() == h("06 00 06 12 34 56 BA 09 78")
    assert z.frame_serial(msg.encode()) == h("10 02 06 00 06 12 34 56 BA 09 78 10 03 24 C3")
    assert z.unframe_serial(h("10 02 06 00 06 12 34 56 BA 09 78 10 03 24 C3")) == msg.encode()
    assert z.decode(z.ApduReader().feed(msg.encode())[0]) == msg


def test_acks_and_simple_commands():
    # Positive acknowledgement 80 00 00; log off 06 02 00; abort 06 B0 00 (no data).
    assert z.ack() == h("80 00 00")
    assert z.Bare(control=z.LOG_OFF).encode() == h("06 02 00")
    assert z.Bare(control=z.ABORT_COMMAND).encode() == h("06 B0 00")
    nak = z.decode(z.Apdu(0x84, 0x83))
    assert isinstance(nak, z.Ack) and not nak.positive


def test_authorisation_amount_is_six_bcd_bytes():
    # Authorisation 06 01 with BMP 04 (amount, 6 bytes BCD, minor units) and BMP 49 (CC):
    # 12.50 EUR is 04 00 00 00 00 12 50.
    msg = z.Authorisation(amount=1250, currency=978)
    assert msg.encode() == h("06 01 0A 04 00 00 00 00 12 50 49 09 78")


def test_reversal_end_of_day_status_enquiry():
    # Reversal 06 30: <password> 87 <receipt-no, 2 bytes BCD>; End of day 06 50 and status
    # enquiry 05 01: <password> only.
    assert z.PasswordCommand(password=0, receipt_no=42, control=z.REVERSAL).encode() == \
        h("06 30 06 00 00 00 87 00 42")
    assert z.PasswordCommand(password=0, control=z.END_OF_DAY).encode() == h("06 50 03 00 00 00")
    assert z.PasswordCommand(password=123456, control=z.STATUS_ENQUIRY).encode() == \
        h("05 01 03 12 34 56")


def test_status_information_fields():
    # Status information 04 0F: 27 result, 04 amount, 0B trace (3 BCD), 0C time HHMMSS,
    # 0D date MMDD, 87 receipt (2 BCD), 29 TID (4 BCD), 22 PAN as LLVAR of BCD with E for
    # masked digits (F0 F8 = 8 bytes), 8B card name LLVAR ASCII, 3B authorisation (8 bytes).
    raw = h("04 0F 40 27 00 04 00 00 00 01 99 00 0B 00 00 17 0C 14 35 09 0D 06 14"
            " 87 00 05 29 52 50 01 73 22 F0 F8 EE EE EE EE EE EE 12 34"
            " 8B F0 F4") + b"VISA" + h("3B") + b"A1B2C3\x00\x00" + h("49 09 78")
    raw = raw[:2] + bytes((len(raw) - 3,)) + raw[3:]
    msg = z.decode(z.ApduReader().feed(raw)[0])
    assert isinstance(msg, z.StatusInfo)
    assert msg.result_code == 0
    assert msg.fields["amount"] == 19900 and msg.fields["trace"] == 17
    assert msg.fields["receipt_no"] == 5 and msg.fields["terminal_id"] == "52500173"
    assert msg.fields["last4"] == "1234" and msg.fields["card_name"] == "VISA"
    assert msg.fields["auth_code"] == "A1B2C3" and msg.fields["time"] == "143509"
    assert "pan" not in msg.fields  # the masked number itself is never kept


def test_extended_length():
    # LENGTH FF lo hi: a 300-byte text block.
    block = z.TextBlock(lines=tuple(f"line {i:02d} " + "x" * 20 for i in range(10)))
    data = block.encode()
    assert data[2] == 0xFF and int.from_bytes(data[3:5], "little") == len(data) - 5
    assert z.decode(z.ApduReader().feed(data)[0]) == block


def test_var_lengths():
    # LLVAR 12 = F1 F2; LLLVAR 123 = F1 F2 F3.
    assert z.var_length(12, 2) == h("F1 F2")
    assert z.var_length(123, 3) == h("F1 F2 F3")
    assert z.read_var_length(h("F0 F3"), 0, 2) == (3, 2)
    with pytest.raises(z.ZvtError):
        z.read_var_length(h("F0 3A"), 0, 2)


def test_intermediate_and_abort():
    assert z.Intermediate(status=0x0A).encode() == h("04 FF 01 0A")
    assert z.decode(z.Apdu(0x06, 0x1E, h("6C"))) == z.Abort(result_code=0x6C)


# -- garbage is refused with a sentence ------------------------------------------------------


@pytest.mark.parametrize("raw", [h("99 42 03 01 02 03"), h("00 00 00")])
def test_garbage_control_field(raw):
    with pytest.raises(z.ZvtError, match="not a ZVT message"):
        z.ApduReader().feed(raw)


@pytest.mark.parametrize("apdu", [
    z.Apdu(0x04, 0x0F, h("27")),                  # a BMP cut short
    z.Apdu(0x04, 0x0F, h("FE 00")),               # an unknown BMP
    z.Apdu(0x04, 0x0F, h("04 00 00 00 0A 00 00")),  # not BCD
    z.Apdu(0x06, 0x01, h("")),                    # an authorisation without amount
    z.Apdu(0x04, 0xFF, h("")),
    z.Apdu(0x06, 0x77, h("")),                    # a command this hub does not speak
])
def test_bad_messages(apdu):
    with pytest.raises(z.ZvtError):
        z.decode(apdu)


@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    reader = z.ApduReader()
    try:
        for apdu in reader.feed(data):
            z.decode(apdu)
    except z.ZvtError:
        pass


# -- round trips --------------------------------------------------------------------------------

_digits = lambda n: st.integers(0, 10 ** n - 1).map(lambda v: f"{v:0{n}d}")  # noqa: E731
status_fields = st.fixed_dictionaries({
    "result_code": st.integers(0, 255),
    "amount": st.integers(0, 10 ** 12 - 1),
}, optional={
    "trace": st.integers(0, 999_999), "receipt_no": st.integers(0, 9999),
    "time": _digits(6), "date": _digits(4), "terminal_id": _digits(8),
    "last4": _digits(4), "card_name": st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ abc", max_size=30),
    "auth_code": st.text("ABCDEF0123456789", min_size=1, max_size=8),
    "currency": st.integers(0, 9999), "card_type": st.integers(0, 255),
    "additional_text": st.text("ABC xyz 0123", max_size=200),
})


@given(status_fields, st.lists(st.integers(1, 40), max_size=4))
def test_status_information_round_trip(fields, cuts):
    msg = z.StatusInfo(fields=fields)
    reader = z.ApduReader()
    got = [a for piece in in_pieces(msg.encode(), cuts) for a in reader.feed(piece)]
    assert [z.decode(a) for a in got] == [msg]


messages = st.one_of(
    st.builds(z.Authorisation, amount=st.integers(1, 10 ** 12 - 1),
              currency=st.none() | st.integers(0, 9999)),
    st.builds(z.Registration, password=st.integers(0, 999_999),
              config_byte=st.integers(0, 255), currency=st.integers(0, 9999)),
    st.builds(z.Intermediate, status=st.integers(0, 255)),
    st.builds(z.Abort, result_code=st.integers(0, 255)),
    st.builds(z.Completion, status_byte=st.none() | st.integers(0, 255),
              terminal_id=st.none() | _digits(8)),
    st.builds(z.PrintLine, attribute=st.integers(0, 255),
              text=st.text("ABC xyz 0123,.", max_size=40)),
    st.builds(z.TextBlock, lines=st.lists(st.text("ABC xyz 0123", max_size=40),
                                          max_size=12).map(tuple)),
    st.builds(z.PasswordCommand, password=st.integers(0, 999_999),
              receipt_no=st.none() | st.integers(0, 9999),
              control=st.sampled_from([z.REVERSAL, z.END_OF_DAY, z.STATUS_ENQUIRY])),
)


@given(st.lists(messages, min_size=1, max_size=5), st.lists(st.integers(1, 200), max_size=5))
def test_messages_round_trip_in_any_splits(msgs, cuts):
    wire = b"".join(m.encode() for m in msgs)
    reader = z.ApduReader()
    got = [z.decode(a) for piece in in_pieces(wire, cuts) for a in reader.feed(piece)]
    assert got == msgs


@given(st.integers(0, 9999), st.integers(0, 9999),
       st.lists(st.tuples(st.integers(0, 255), st.integers(0, 10 ** 12 - 1)),
                min_size=7, max_size=7))
def test_totals_round_trip(first, last, schemes):
    totals = z.Totals(first, last, tuple(schemes))
    assert z.Totals.decode(totals.encode()) == totals


@given(st.binary(max_size=80))
def test_serial_frame_round_trip(apdu):
    assert z.unframe_serial(z.frame_serial(apdu)) == apdu
