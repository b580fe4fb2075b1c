"""The one attachment store: checked, encrypted files by keyed hash beside the database,
journaled, shown to signed-in staff, gone with a forgotten client."""

from __future__ import annotations

import io
import struct
import sys
import types
import zlib
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from fpdf import FPDF
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from hub.core.attachments import (
    CONTENT_TYPES,
    KINDS,
    MB,
    TYPES,
    check_type,
    sniff,
)
from hub.core.errors import NotFound, Refused
from hub.layers import LAYERS
from hub.ledger.ledger import dump_projections
from hub.runtime import Layer, Options, Runtime
from hub.store import Store
from hub.web import attachments_web
from hub.web.app import create_app
from hub.web.kernel import Endpoints, json_response, read_upload, session_of, store_of
from hub.words import ENGLISH
from tests.builders import client
from tests.web.web_helpers import NAMES, PINS, ROLES, sign_in

# -- files of every kind kept ------------------------------------------------------------------


def png(text: str = "a ring, seen from above", size: int = 8) -> bytes:
    """A real PNG, built by hand, with `text` in a tEXt chunk (kept in clear in the file)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes([200, 30, 60]) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0,
                                                              0, 0))
            + chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1"))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg(colour: str = "gold") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "JPEG")
    return buf.getvalue()


def heic() -> bytes:
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", 24) + b"mdat" + bytes(
        range(16))


def pdf(text: str = "Certificate of the stone") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text=text)
    return bytes(doc.output())


def stl_ascii() -> bytes:
    return (b"solid ring\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n"
            b"   vertex 0 1 0\n  endloop\n endfacet\nendsolid ring\n")


def stl_binary(triangles: int = 2) -> bytes:
    # A header that starts "solid", as some CAD programs write: the size decides.
    return (b"solid made by the bench".ljust(80, b" ") + struct.pack("<I", triangles)
            + bytes(range(50)) * triangles)


SAMPLES = {"jpeg": jpeg(), "png": png(), "heic": heic(), "pdf": pdf(), "stl": stl_ascii()}
NAMES_OF = {"jpeg": "ring.jpg", "png": "ring.png", "heic": "IMG_0042.HEIC", "pdf": "cert.pdf",
            "stl": "ring.stl"}
KIND_OF = {"jpeg": "photo", "png": "sketch", "heic": "photo", "pdf": "certificate",
           "stl": "cad"}


async def _client(store: Store, first: str = "Zoë") -> str:
    return (await store.clients.create(client(first), "anna"))["client_id"]


def _on_disk(store: Store) -> list[Path]:
    folder = store.attachments.folder
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*SAMPLES, "stl-binary"])
async def test_each_kind_of_file_comes_back_as_it_was_sent(store, kind):
    data = stl_binary() if kind == "stl-binary" else SAMPLES[kind]
    t = kind.split("-")[0]
    owner = f"client:{await _client(store)}"
    ref = await store.attachments.store(data, owner=owner, kind=KIND_OF[t], name=NAMES_OF[t],
                                        declared_type=CONTENT_TYPES[t], actor="anna")
    assert ref["new"] and ref["size"] == len(data) and ref["owner"] == owner
    assert ref["content_type"] == CONTENT_TYPES[t]
    got, content_type, meta = await store.attachments.open(ref["hash"])
    assert got == data and content_type == CONTENT_TYPES[t]
    assert meta["name"] == NAMES_OF[t] and meta["kind"] == KIND_OF[t]
    # On disk: one file, named by its keyed hash, holding none of the bytes in clear.
    [path] = _on_disk(store)
    assert path.name == ref["hash"] and path.parent.name == ref["hash"][:2]
    raw = path.read_bytes()
    assert data[:64] not in raw and data[-64:] not in raw
    assert meta["sha256"] not in ref["hash"]  # the name is not the content's plain hash
    entries = await store.ledger.entries(ref["seq"] - 1, 1)
    assert entries[0].kind == "attachment.stored" and entries[0].key_id == owner
    assert await store.attachments.of_owner(owner) == [
        {k: v for k, v in ref.items() if k != "new"}]


async def test_a_file_of_the_store_is_sealed_under_the_store_key(store):
    ref = await store.attachments.store(SAMPLES["pdf"], owner="store", kind="certificate",
                                        name="GIA-2141438171.pdf", actor="anna")
    entry = (await store.ledger.entries(ref["seq"] - 1, 1))[0]
    assert entry.key_id == "store" and entry.subject == f"attachment:{ref['hash']}"
    assert (await store.attachments.open(ref["hash"]))[0] == SAMPLES["pdf"]


async def test_the_same_file_for_the_same_owner_is_kept_once(store):
    her, other = f"client:{await _client(store)}", f"client:{await _client(store, 'Ada')}"
    first = await store.attachments.store(SAMPLES["jpeg"], owner=her, kind="photo", actor="a")
    seq = store.ledger.seq
    again = await store.attachments.store(SAMPLES["jpeg"], owner=her, kind="photo",
                                          name="again.jpg", actor="a")
    assert again == {**first, "new": False} and store.ledger.seq == seq
    # Another client's copy is hers: another name, another key, erased with her only.
    theirs = await store.attachments.store(SAMPLES["jpeg"], owner=other, kind="photo",
                                           actor="a")
    assert theirs["hash"] != first["hash"] and len(_on_disk(store)) == 2


async def test_a_file_staged_beside_a_callers_own_entries_commits_with_them(store):
    owner = f"client:{await _client(store)}"
    async with store.attachments.staged(SAMPLES["png"], owner=owner, kind="signature",
                                        name="signature.png") as staged:
        def command(tx):
            ref = store.attachments.stored_in(tx, staged, actor="anna")
            tx.append("test.signed", "test:1", {"hash": ref["hash"], "size": ref["size"]},
                      actor="anna")
            return ref
        ref = await store.ledger.transact(command)
    assert store.attachments.path_of(ref["hash"]).exists()
    assert (await store.attachments.get(ref["hash"]))["status"] == "kept"


# -- refusals ----------------------------------------------------------------------------------


async def _refused(store: Store, data: bytes, **kw) -> Refused:
    kw.setdefault("owner", "store")
    kw.setdefault("kind", "photo")
    seq = store.ledger.seq
    with pytest.raises(Refused) as caught:
        await store.attachments.store(data, actor="anna", **kw)
    assert store.ledger.seq == seq and _on_disk(store) == []  # nothing half-written
    return caught.value


async def test_a_file_that_is_not_what_it_claims_is_refused_in_a_sentence(store):
    wrong = await _refused(store, SAMPLES["png"], name="ring.jpg")
    assert wrong.code == "wrong_type"
    assert ENGLISH.refusal(wrong) == "This file is not a JPEG photo as it claims: it is a PNG picture"
    assert wrong.params["what"].vocabulary == "attachment_type"
    said = await _refused(store, b"just some text, no photo", name="ring.jpg")
    assert said.message == "this file is not {what} as its name says"
    typed = await _refused(store, b"just some text", declared_type="image/png")
    assert typed.message == "this file is not {what} as its type says"
    assert (await _refused(store, SAMPLES["jpeg"], declared_type="image/png")).code == \
        "wrong_type"
    assert (await _refused(store, SAMPLES["jpeg"], name="ring.exe")).code == "type_not_kept"
    assert (await _refused(store, SAMPLES["jpeg"], declared_type="image/gif")).code == \
        "type_not_kept"
    assert (await _refused(store, b"GIF89a....")).code == "type_not_kept"
    cut = await _refused(store, SAMPLES["png"][:-20], name="ring.png")
    assert cut.code == "damaged_file" and "cut short" in cut.message
    assert (await _refused(store, SAMPLES["pdf"], kind="signature")).code == "wrong_kind"
    assert (await _refused(store, b"")).code == "empty_file"
    # A name with a dot that is no ending claims nothing.
    ref = await store.attachments.store(SAMPLES["jpeg"], owner="store", kind="photo",
                                        name="Mrs. Durand's ring", actor="anna")
    assert ref["content_type"] == "image/jpeg"


async def test_a_200_mb_upload_is_refused_before_anything_is_read(store):
    refused = await _refused(store, bytes(200 * MB), name="huge.jpg")
    assert refused.code == "too_large"
    assert ENGLISH.refusal(refused) == "A file may be at most 25 MB; this one is 200 MB"
    just_over = await _refused(store, b"\xff\xd8\xff\xe0" + bytes(25 * MB))
    assert just_over.params["size"] == 26


async def test_files_only_for_a_known_client_and_a_kind_kept(store):
    from_nowhere = await _refused(store, SAMPLES["jpeg"], owner="client:CAAAAAAAAAA")
    assert isinstance(from_nowhere, NotFound)
    assert (await _refused(store, SAMPLES["jpeg"], owner="her")).code == "invalid"
    assert (await _refused(store, SAMPLES["jpeg"], kind="selfie")).code == "invalid"


async def test_a_refused_transaction_leaves_no_file(store):
    owner = f"client:{await _client(store)}"
    async with store.attachments.staged(SAMPLES["jpeg"], owner=owner, kind="photo") as staged:
        path = store.attachments.path_of(staged.hash)
        assert path.exists()  # written before its entry, as the module says

        def command(tx):
            store.attachments.stored_in(tx, staged, actor="anna")
            raise Refused("job_refused", "the job refused it")
        with pytest.raises(Refused):
            await store.ledger.transact(command)
    assert not path.exists() and _on_disk(store) == []
    with pytest.raises(NotFound):
        await store.attachments.get(staged.hash)


async def test_a_file_left_by_a_hub_that_died_is_swept_at_start(make_config):
    config = make_config()
    async with await Store.open(config) as store:
        owner = f"client:{await _client(store)}"
        kept = await store.attachments.store(SAMPLES["pdf"], owner=owner, kind="document",
                                             actor="anna")
        async with store.attachments.staged(SAMPLES["jpeg"], owner=owner,
                                            kind="photo") as staged:
            path = store.attachments.path_of(staged.hash)
            landed = path.read_bytes()  # the file is in place; the entry never comes
        # As if the hub had died before removing it, and in the middle of another write.
        path.write_bytes(landed)
        (store.attachments.folder / "tmp" / f"{staged.hash}.dead").write_bytes(b"half")
    async with await Store.open(config) as store:
        assert _on_disk(store) == [store.attachments.path_of(kept["hash"])]
        assert (await store.attachments.open(kept["hash"]))[0] == SAMPLES["pdf"]


async def test_an_altered_or_moved_file_does_not_open(store):
    owner = f"client:{await _client(store)}"
    one = await store.attachments.store(SAMPLES["jpeg"], owner=owner, kind="photo", actor="a")
    two = await store.attachments.store(SAMPLES["png"], owner=owner, kind="photo", actor="a")
    path_one, path_two = (store.attachments.path_of(r["hash"]) for r in (one, two))
    raw = bytearray(path_one.read_bytes())
    raw[40] ^= 1
    path_one.write_bytes(bytes(raw))
    with pytest.raises(Refused) as altered:
        await store.attachments.open(one["hash"])
    assert altered.value.code == "attachment_damaged"
    path_one.write_bytes(path_two.read_bytes())  # another of her files under this name
    with pytest.raises(Refused) as moved:
        await store.attachments.open(one["hash"])
    assert moved.value.code == "attachment_damaged"
    path_two.unlink()
    with pytest.raises(Refused) as missing:
        await store.attachments.open(two["hash"])
    assert missing.value.code == "attachment_missing"


async def test_a_reference_is_checked_inside_the_callers_transaction(store):
    her, other = await _client(store), await _client(store, "Ada")
    ref = await store.attachments.store(SAMPLES["jpeg"], owner=f"client:{her}", kind="photo",
                                        actor="a")
    check = store.attachments.check_in
    assert await store.ledger.read(lambda tx: check(tx, ref["hash"], f"client:{her}")) == \
        {k: v for k, v in ref.items() if k != "new"}
    with pytest.raises(Refused) as not_hers:
        await store.ledger.read(lambda tx: check(tx, ref["hash"], f"client:{other}"))
    assert not_hers.value.code == "not_her_file"
    with pytest.raises(NotFound):
        await store.ledger.read(lambda tx: check(tx, "ab" * 32, f"client:{her}"))
    with pytest.raises(Refused):
        await store.ledger.read(lambda tx: check(tx, "../../loupe.db", f"client:{her}"))


# -- forgetting --------------------------------------------------------------------------------


async def test_a_forgotten_client_s_files_are_unreadable_and_gone(store):
    her, other = await _client(store), await _client(store, "Ada")
    mine = [await store.attachments.store(data, owner=f"client:{her}", kind="photo",
                                          actor="a") for data in (SAMPLES["jpeg"], png("hers"))]
    theirs = await store.attachments.store(SAMPLES["jpeg"], owner=f"client:{other}",
                                           kind="photo", actor="a")
    assert len(_on_disk(store)) == 3
    await store.clients.forget(her, "anna")
    assert _on_disk(store) == [store.attachments.path_of(theirs["hash"])]
    for ref in mine:
        with pytest.raises(Refused) as erased:
            await store.attachments.open(ref["hash"])
        assert erased.value.code == "attachment_erased"
        assert "was erased" in str(erased.value)
        got = await store.attachments.get(ref["hash"])
        assert got["status"] == "erased" and got["content_type"] is None and got["size"] is None
        with pytest.raises(Refused):
            await store.ledger.read(
                lambda tx, h=ref["hash"]: store.attachments.check_in(tx, h, f"client:{her}"))
    assert await store.attachments.of_owner(f"client:{her}") == []
    refused = await _refused_for_her(store, her)
    assert refused.code == "client_forgotten"
    assert (await store.attachments.open(theirs["hash"]))[0] == SAMPLES["jpeg"]


async def _refused_for_her(store: Store, client_id: str) -> Refused:
    with pytest.raises(Refused) as caught:
        await store.attachments.store(png("new"), owner=f"client:{client_id}", kind="photo",
                                      actor="a")
    return caught.value


async def test_a_merged_client_s_files_follow_the_record_kept_and_go_with_her(store):
    keep, gone = await _client(store), await _client(store, "Zoe")
    old = await store.attachments.store(SAMPLES["jpeg"], owner=f"client:{gone}", kind="photo",
                                        actor="a")
    await store.clients.merge(keep, gone, "anna")
    assert [r["hash"] for r in await store.attachments.of_owner(f"client:{keep}")] == \
        [old["hash"]]
    # A file sent for the merged record is the kept one's.
    new = await store.attachments.store(png("after"), owner=f"client:{gone}", kind="photo",
                                        actor="a")
    assert new["owner"] == f"client:{keep}"
    await store.clients.forget(keep, "anna")
    assert _on_disk(store) == []


async def test_a_rebuild_gives_the_same_rows_before_and_after_an_erasure(store):
    her, other = await _client(store), await _client(store, "Ada")
    await store.attachments.store(SAMPLES["jpeg"], owner=f"client:{her}", kind="photo", actor="a")
    await store.attachments.store(SAMPLES["pdf"], owner=f"client:{other}", kind="document",
                                  actor="a")
    await store.attachments.store(SAMPLES["stl"], owner="store", kind="cad", actor="a")
    await store.clients.merge(other, her, "anna")
    schemas, db = store.ledger.schemas, store.config.db_path
    for step in ("merged", "forgotten"):
        before = dump_projections(db, schemas)["attachments"]
        await store.rebuild()
        assert dump_projections(db, schemas)["attachments"] == before, step
        if step == "merged":
            await store.clients.forget(other, "anna")
    assert sorted(r[3] for r in before) == ["erased", "erased", "kept"]


# -- what a file is (Hypothesis) ----------------------------------------------------------------

# What each type's first bytes must be: an oracle written apart from the sniffer.
_FIRST_BYTES = {
    "jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
    "png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
    "heic": lambda d: d[4:8] == b"ftyp",
    "pdf": lambda d: d.startswith(b"%PDF-"),
    "stl": lambda d: d.lstrip().lower().startswith(b"solid") or (
        len(d) >= 134 and len(d) == 84 + 50 * int.from_bytes(d[80:84], "little")),
}
_PREFIXES = {"jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
             "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "pdf": b"%PDF-1.7\n",
             "stl": b"solid x\n"}


@given(st.binary(max_size=4096))
def test_random_bytes_are_never_taken_for_a_type_they_do_not_start_as(data):
    found = sniff(data)
    assert found is None or _FIRST_BYTES[found](data)


@given(st.sampled_from(sorted(TYPES)), st.binary(max_size=512))
def test_a_start_of_one_type_is_never_taken_for_another(t, tail):
    assert sniff(_PREFIXES[t] + tail) in (t, None)


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(st.sampled_from(sorted(TYPES)), st.binary(min_size=1, max_size=24))
def test_a_kept_file_with_its_first_bytes_changed_is_not_that_type(t, start):
    data = start + SAMPLES[t][len(start):]
    assume(not _FIRST_BYTES[t](data))
    assert sniff(data) != t


@given(st.sampled_from(sorted(TYPES)), st.sampled_from(sorted(TYPES)),
       st.sampled_from(KINDS), st.booleans())
def test_a_file_claiming_another_type_is_refused(t, claimed, kind, by_name):
    assume(t != claimed)
    claim = ({"name": f"file{TYPES[claimed][2][0]}"} if by_name
             else {"declared_type": CONTENT_TYPES[claimed]})
    with pytest.raises(Refused) as caught:
        check_type(SAMPLES[t], kind=kind, **claim)
    assert caught.value.code == "wrong_type"


@given(st.binary(max_size=2048), st.sampled_from(sorted(TYPES)), st.sampled_from(KINDS))
def test_random_bytes_declared_as_a_type_are_kept_only_as_that_type(data, t, kind):
    try:
        kept = check_type(data, kind=kind, declared_type=CONTENT_TYPES[t])
    except Refused:
        return
    assert kept == CONTENT_TYPES[t] and sniff(data) == t


def test_the_samples_are_what_they_are():
    assert {t: sniff(d) for t, d in SAMPLES.items()} == {t: t for t in SAMPLES}
    assert sniff(stl_binary()) == "stl" and sniff(stl_binary()[:-1]) is None
    avif = struct.pack(">I", 24) + b"ftypavif\x00\x00\x00\x00mif1avif"
    assert sniff(avif) is None  # a HEIF image of another codec: not a HEIC photo


# -- through the web ---------------------------------------------------------------------------

_UPLOAD_WEB = "tests_core_attachments_upload_web"


async def _upload(request):
    """A route as a layer would write one: the file read by the kernel, kept by the store."""
    store = store_of(request)
    got = await read_upload(request, max_bytes=store.attachments.max_bytes)
    ref = await store.attachments.store(
        got.data, owner=got.fields.get("owner") or request.query.get("owner", "store"),
        kind=got.fields.get("kind") or request.query.get("kind", "photo"), name=got.filename,
        declared_type=got.content_type, actor=session_of(request).staff_id)
    return json_response(ref, 201)


def _setup(table: Endpoints) -> None:  # the web layer serves the files themselves
    table.api("POST", "/api/v1/test-uploads", _upload, permission="clients.edit",
              summary="Send a file (tests)", upload=True)


@pytest.fixture
async def web_client(store, monkeypatch):
    monkeypatch.setitem(sys.modules, _UPLOAD_WEB, types.SimpleNamespace(setup=_setup))
    for staff_id, pin in PINS.items():
        await store.staff.enroll(staff_id, NAMES[staff_id], ROLES[staff_id], pin, actor="test")
    runtime = Runtime(store.config, store, store.bus,
                      Options(host="127.0.0.1", port=0, insecure_http=True, zeroconf=False),
                      (*LAYERS, Layer("attachments_test", web=_UPLOAD_WEB)))
    async with TestClient(TestServer(create_app(runtime))) as web:
        yield web


async def test_a_file_is_shown_to_signed_in_staff_only(store, web_client):
    owner = f"client:{await _client(store)}"
    ref = await store.attachments.store(SAMPLES["jpeg"], owner=owner, kind="photo",
                                        name="bague émeraude.jpg", actor="anna")
    url = f"/api/v1/attachments/{ref['hash']}"
    assert (await web_client.get(url)).status == 401
    await sign_in(web_client, "alex")
    resp = await web_client.get(url)
    assert resp.status == 200 and await resp.read() == SAMPLES["jpeg"]
    assert resp.content_type == "image/jpeg"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Disposition"] == \
        "inline; filename*=UTF-8''bague%20%C3%A9meraude.jpg"
    assert (await web_client.get("/api/v1/attachments/" + "0" * 64)).status == 404
    await store.clients.forget(owner.split(":")[1], "anna")
    gone = await web_client.get(url)
    assert gone.status == 409 and (await gone.json())["error"] == "attachment_erased"


async def test_a_file_is_sent_as_a_form_or_as_it_is(store, web_client):
    csrf = await sign_in(web_client, "alex")
    owner = f"client:{await _client(store)}"
    big = png("x" * 150_000)  # over the JSON cap of 64 kB: that cap plays no part here
    form = FormData()
    form.add_field("owner", owner)
    form.add_field("kind", "sketch")
    form.add_field("file", big, filename="croquis.png", content_type="image/png")
    resp = await web_client.post("/api/v1/test-uploads", data=form,
                                 headers={"X-CSRF-Token": csrf})
    assert resp.status == 201, await resp.text()
    ref = await resp.json()
    assert ref["owner"] == owner and ref["size"] == len(big) and ref["kind"] == "sketch"
    raw = await web_client.post(
        "/api/v1/test-uploads?kind=certificate", data=SAMPLES["pdf"],
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf",
                 "Content-Disposition": 'attachment; filename="cert.pdf"'})
    assert raw.status == 201, await raw.text()
    _, _, meta = await store.attachments.open((await raw.json())["hash"])
    assert meta["name"] == "cert.pdf" and meta["owner"] == "store"
    lying = await web_client.post("/api/v1/test-uploads?name=ring.jpg", data=SAMPLES["pdf"],
                                  headers={"X-CSRF-Token": csrf,
                                           "Content-Type": "application/octet-stream"})
    assert lying.status == 409
    assert (await lying.json())["detail"] == "This file is not a JPEG photo as it claims: it is a PDF document"
    no_token = await web_client.post("/api/v1/test-uploads", data=SAMPLES["pdf"],
                                     headers={"Content-Type": "application/pdf"})
    assert no_token.status == 403


async def test_an_upload_over_the_limit_is_refused_with_a_sentence(store, web_client):
    store.attachments.max_bytes = 1 * MB
    csrf = await sign_in(web_client, "alex")
    headers = {"X-CSRF-Token": csrf, "Content-Type": "image/jpeg"}
    told = await web_client.post("/api/v1/test-uploads", data=b"\xff\xd8\xff\xe0" + bytes(
        3 * MB), headers=headers)
    assert told.status == 413
    assert await told.json() == {"error": "too_large",
                                 "detail": "A file may be at most 1 MB; this one is 3 MB"}

    async def chunks():
        for _ in range(40):
            yield bytes(64 * 1024)
    streamed = await web_client.post("/api/v1/test-uploads", data=chunks(), headers=headers)
    assert streamed.status == 413
    assert (await streamed.json())["detail"] == "A file may be at most 1 MB; this one is larger"
    form = FormData()
    form.add_field("file", b"\xff\xd8\xff\xe0" + bytes(MB), filename="a.jpg",
                   content_type="image/jpeg")
    in_form = await web_client.post("/api/v1/test-uploads", data=form,
                                    headers={"X-CSRF-Token": csrf})
    assert in_form.status == 413 and (await in_form.json())["error"] == "too_large"
    empty_form = FormData(default_to_multipart=True)
    empty_form.add_field("kind", "photo")
    nothing = await web_client.post("/api/v1/test-uploads", data=empty_form,
                                    headers={"X-CSRF-Token": csrf})
    assert nothing.status == 400 and (await nothing.json())["error"] == "no_file"
    assert _on_disk(store) == []
    assert (await web_client.get("/healthz")).status == 200  # the hub answers on


def test_the_attachments_route_is_in_the_table():
    table = Endpoints(permissions=("clients.view",))
    attachments_web.setup(table)
    [endpoint] = table.all
    assert (endpoint.method, endpoint.path, endpoint.permission) == \
        ("GET", "/api/v1/attachments/{hash}", "clients.view")

