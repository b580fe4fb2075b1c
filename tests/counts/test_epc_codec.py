"""The EPC codec held to the GS1 EPC Tag Data Standard: published vectors, every partition
and filter value round-tripping, corrupt tags refused with a reason, and the CLI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.cli import main
from hub.epc import (
    SGTIN_PARTITIONS,
    EpcError,
    Sgtin,
    decode,
    encode,
    gid96_decode,
    gid96_encode,
    normalise_epc,
    sgtin96_decode,
    sgtin96_encode,
)

# (hex, tag URI, GTIN-14): TDS's own example, then vectors published by other codecs
# (Bytefeld.Epc, epcGS1coder) that cover partitions 3 to 6.
SGTIN_VECTORS = [
    ("3034257BF7194E4000003039", "urn:epc:tag:sgtin-96:1.0614141.812345.12345", "80614141123458"),
    ("3039542C82FB024000000001", "urn:epc:tag:sgtin-96:1.348338.0781321.1", "03483387813215"),
    ("3034C8470C0796C000000001", "urn:epc:tag:sgtin-96:1.3281347.007771.1", "03281347077710"),
    ("3030F380DE001EC000000001", "urn:epc:tag:sgtin-96:1.31916476.00123.1", "03191647601235"),
    ("302D28B329B0F6C000000001", "urn:epc:tag:sgtin-96:1.311112347.0987.1", "03111123479875"),
    ("3034007D00011C400000000B", "urn:epc:tag:sgtin-96:1.0008000.001137.11", "00008000011378"),
]
GID_VECTORS = [
    ("350007AB70425D4000000586", "urn:epc:tag:gid-96:31415.271828.1414"),
    ("3500079FF00000B00000000C", "urn:epc:tag:gid-96:31231.11.12"),
    ("350000001000001000000001", "urn:epc:tag:gid-96:1.1.1"),
]


@pytest.mark.parametrize(("hex_epc", "tag_uri", "gtin"), SGTIN_VECTORS)
def test_sgtin96_published_vectors(hex_epc, tag_uri, gtin):
    identity = decode(hex_epc)
    assert identity.tag_uri == tag_uri and identity.gtin == gtin
    assert identity.pure_uri == "urn:epc:id:sgtin:" + tag_uri.split(":", 4)[4].split(".", 1)[1]
    assert encode(tag_uri) == hex_epc
    assert encode(identity.pure_uri, filter=identity.filter) == hex_epc


@pytest.mark.parametrize(("hex_epc", "tag_uri"), GID_VECTORS)
def test_gid96_published_vectors(hex_epc, tag_uri):
    identity = decode(hex_epc)
    assert identity.scheme == "gid-96" and identity.tag_uri == tag_uri
    assert identity.pure_uri == tag_uri.replace("urn:epc:tag:gid-96:", "urn:epc:id:gid:")
    assert encode(tag_uri) == encode(identity.pure_uri) == hex_epc


def test_other_schemes_decode_as_raw_uris():
    identity = decode("e2801190a5021f80055817ca")  # an Impinj factory EPC
    assert identity.scheme == "raw" and identity.pure_uri is None
    assert identity.tag_uri == "urn:epc:raw:96.xE2801190A5021F80055817CA"
    assert "not a GS1 EPC scheme" in identity.note
    assert "SSCC-96" in decode("31AC16465751CCD0C2000000").note
    assert encode(identity.tag_uri) == identity.hex


@pytest.mark.parametrize(("hex_epc", "reason"), [
    ("303C257BF7194E4000003039", "partition 7 is not defined"),
    ("3033FFFFFF80000000000001", "company prefix 134217727 has more than 8 digits"),
    ("3039542CBFFFFFC000000001", "item reference 16777215 has more than 7 digits"),
    ("3034257BF7194E400000303", "24 hexadecimal digits"),
    ("3034257BF7194E400000303G", "24 hexadecimal digits"),
])
def test_corrupt_tags_are_refused_with_the_reason(hex_epc, reason):
    with pytest.raises(EpcError, match=reason):
        decode(hex_epc)


@pytest.mark.parametrize(("uri", "reason"), [
    ("urn:epc:tag:sgtin-96:8.0614141.812345.12345", "filter value must be one digit"),
    ("urn:epc:tag:sgtin-96:1.0614141.81234.12345", "13 digits together"),
    ("urn:epc:tag:sgtin-96:1.06141.81234567.1", "6 to 12 digits"),
    ("urn:epc:tag:sgtin-96:1.0614141.812345.012345", "without leading zeros"),
    ("urn:epc:tag:sgtin-96:1.0614141.812345.274877906944", r"below 2\^38"),
    ("urn:epc:id:sgtin:0614141.812345", "expected 3 dot-separated fields"),
    ("urn:epc:tag:gid-96:268435456.1.1", "manager number must fit 28 bits"),
    ("urn:epc:id:sscc:0614141.1234567890", "not an EPC URI this hub encodes"),
    ("3034257BF7194E4000003039", "not an EPC URI"),
])
def test_bad_uris_are_refused_with_the_reason(uri, reason):
    with pytest.raises(EpcError, match=reason):
        encode(uri)


@st.composite
def sgtins(draw):
    partition = draw(st.integers(0, 6))
    _, cp_digits, _, ir_digits = SGTIN_PARTITIONS[partition]
    company = draw(st.integers(0, 10 ** cp_digits - 1))
    item = draw(st.integers(0, 10 ** ir_digits - 1))
    return Sgtin(f"{company:0{cp_digits}d}", f"{item:0{ir_digits}d}",
                 draw(st.integers(0, 2 ** 38 - 1)), draw(st.integers(0, 7)))


@given(sgtins())
def test_every_sgtin96_round_trips_through_hex_and_both_uris(sgtin):
    hex_epc = sgtin96_encode(sgtin)
    assert len(hex_epc) == 24 and hex_epc.startswith("30")
    assert sgtin96_decode(hex_epc) == sgtin
    identity = decode(hex_epc)
    assert encode(identity.tag_uri) == hex_epc
    assert encode(identity.pure_uri, filter=sgtin.filter) == hex_epc
    assert len(identity.gtin) == 14 and identity.gtin[1:1 + len(sgtin.company_prefix)] == \
        sgtin.company_prefix


@given(st.integers(0, 2 ** 88 - 1))
def test_any_sgtin96_header_decodes_exactly_or_is_refused(body):
    hex_epc = f"{(0x30 << 88) | body:024X}"
    try:
        identity = decode(hex_epc)
    except EpcError as exc:
        assert "corrupt SGTIN-96" in str(exc)
    else:
        assert encode(identity.tag_uri) == hex_epc


@given(st.integers(0, 2 ** 28 - 1), st.integers(0, 2 ** 24 - 1), st.integers(0, 2 ** 36 - 1))
def test_gid96_round_trips(manager, object_class, serial):
    hex_epc = gid96_encode(manager, object_class, serial)
    assert gid96_decode(hex_epc) == (manager, object_class, serial)
    assert encode(decode(hex_epc).pure_uri) == hex_epc


@given(st.text(max_size=60))
def test_any_text_is_an_epc_or_an_epc_error(text):
    for attempt in (normalise_epc, decode, encode):
        try:
            attempt(text)
        except EpcError:
            pass


def test_cli_decode_names_the_piece(tmp_path, capsys):
    d = tmp_path / "store"
    assert main(["init", "--data-dir", str(d), "--store-id", "paris-01", "--store-name", "P",
                 "--currency", "EUR"]) == 0
    capsys.readouterr()
    assert main(["epc", "decode", "3034257bf7194e4000003039", "--data-dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert "urn:epc:id:sgtin:0614141.812345.12345" in out
    assert "urn:epc:tag:sgtin-96:1.0614141.812345.12345" in out
    assert "none in store paris-01" in out


def test_cli_encode_prints_the_hex(capsys):
    assert main(["epc", "encode", "urn:epc:id:sgtin:0614141.812345.12345", "--filter", "3"]) == 0
    assert capsys.readouterr().out.strip() == "3074257BF7194E4000003039"


@pytest.mark.parametrize("argv", [
    ["epc", "decode", "XYZ"],
    ["epc", "decode", "303C257BF7194E4000003039"],
    ["epc", "encode", "urn:epc:tag:sgtin-96:1.0614141.812345"],
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("loupe: error: ") and err.count("\n") == 1


def test_cli_bad_filter_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["epc", "encode", "urn:epc:id:sgtin:0614141.812345.1", "--filter", "9"])
    assert exc.value.code == 2
    assert "must be one digit 0 to 7" in capsys.readouterr().err
