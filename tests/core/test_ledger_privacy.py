"""Canary personal data written through the services never reaches disk in clear."""

import logging
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.cli import main
from hub.clienteling.appointments import Appointments
from hub.clienteling.book import FollowUps
from hub.clienteling.rules import Rules
from hub.clienteling.wishlists import Wishlists
from hub.ledger.export import export_journal
from hub.logs import JsonFormatter
from tests.builders import cash, piece

CANARIES = {
    "first_name": "Xanthippe", "last_name": "Quillfeather", "email": "canary.qf@example.org",
    "phone": "+33 6 98 76 54 32", "street": "17 rue Canari-Jaune", "note": "CANARY-NOTE-7f3a",
    "ring": "ringsize-canary-51", "date": "1971-03-09",
    # The profile's depth: every free text kept about her, and her partner's name.
    "taste": "CANARY-TASTE-41c2", "designer": "Maison Canarielle", "work": "CANARY-WORK-c9",
    "children": "CANARY-KIDS-5e", "pets": "CANARY-PET-b7", "hobbies": "CANARY-HOBBY-a1",
    "quiet": "CANARY-DNC-3d", "partner": "Partnerius Canarybird",
    # What the clienteling layer keeps of her: a wished style, an appointment's note, a
    # contact logged.
    "wish": "CANARY-WISH-e4", "visit": "CANARY-VISIT-8b", "call": "CANARY-CALL-2f",
    # A file kept for her (a photo of her ring): what it holds, and the name it came with.
    "photo": "CANARY-PHOTO-6d", "file_name": "CANARY-FILE-9e",
}


def canary_profile() -> dict:
    return {"first_name": CANARIES["first_name"], "last_name": CANARIES["last_name"],
            "emails": [CANARIES["email"]], "phones": [CANARIES["phone"]],
            "addresses": [{"line1": CANARIES["street"], "city": "Paris", "country": "FR"}],
            "notes": CANARIES["note"], "ring_sizes": {CANARIES["ring"]: "51"},
            "dates": {"birthday": CANARIES["date"]},
            "lengths": {"wrist": {"mm": 157, "unit": "cm"}, "necklace": {"mm": 450,
                                                                         "unit": "cm"}},
            "preferences": {"metals": ["gold"], "stones": ["emerald"], "styles": ["art_deco"],
                            "colours": ["rose"], "designers": [CANARIES["designer"]],
                            "note": CANARIES["taste"]},
            "budget": "15000-50000",
            "conversation": {"work": CANARIES["work"], "children": CANARIES["children"],
                             "pets": CANARIES["pets"], "hobbies": CANARIES["hobbies"]},
            "consent": {"email": {"marketing": True, "how": "signed_form"}},
            "do_not_contact": [{"from": "2031-01-01", "to": "2031-02-01",
                                "reason": CANARIES["quiet"]}]}


def needles() -> list[bytes]:
    out = []
    for value in CANARIES.values():
        out += [value.encode(), value.encode("utf-16-le")]
    out.append(b"98 76 54 32")
    return out


async def test_no_canary_in_database_wal_logs_or_export(store, tmp_path, caplog):
    handler = logging.StreamHandler(stream := _Capture())
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        for staff_id in ("anna", "bea"):
            await store.staff.enroll(staff_id, staff_id.title(), "associate", "1234",
                                     actor="admin")
        c = await store.clients.create({**canary_profile(), "primary_associate": "anna"},
                                       "anna")
        await store.clients.update(c["client_id"], {"notes": CANARIES["note"] + " again"}, "anna")
        # Her partner and household linked on both sides, a consent, a book reassigned:
        # each writes whole profiles again, sealed as the first.
        partner = await store.clients.create({
            "first_name": CANARIES["partner"], "partner_id": c["client_id"],
            "household": [{"client_id": c["client_id"], "relation": "sibling"}]}, "anna")
        await store.clients.set_consent(c["client_id"], "sms", True, "in_store", "anna")
        await store.clients.reassign("anna", "bea", "anna")
        assert (await store.clients.get(partner["client_id"]))["profile"]["partner_id"] == \
            c["client_id"]
        await store.items.receive(piece(1), "admin")
        await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-1"}],
                                   tenders=cash(950_000), client_id=c["client_id"])
        assert (await store.clients.search(CANARIES["last_name"]))[0]["client_id"] == c["client_id"]
        await Wishlists(store).add(c["client_id"], {"style": CANARIES["wish"]}, actor="anna")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        await Appointments(store).book({
            "kind": "private_viewing", "client_id": c["client_id"], "associate": "bea",
            "salon": "Salon 1", "start": start.isoformat(), "duration_min": 60,
            "note": CANARIES["visit"]}, actor="anna")
        await FollowUps(store, Rules()).log_contact(c["client_id"], "called", CANARIES["call"],
                                                    actor="anna")
        photo = png(CANARIES["photo"])
        assert CANARIES["photo"].encode() in photo  # in clear in the file she gave
        await store.attachments.store(photo, owner=f"client:{c['client_id']}", kind="photo",
                                      name=f"{CANARIES['file_name']}.png",
                                      declared_type="image/png", actor="anna")
        csv = tmp_path / "clients.csv"
        csv.write_text("first_name,last_name,email,phone,notes\n"
                       f"{CANARIES['first_name']}2,{CANARIES['last_name']}2,"
                       f"two.{CANARIES['email']},+33 6 98 76 54 33,{CANARIES['note']}\n")
        from hub.imports import import_clients
        assert await import_clients(store, csv) == 1
        csv.unlink()
        export = tmp_path / "export.jsonl"
        export_journal(store.config.db_path, export)
        # The WAL is read as it is (before any checkpoint) and after closing.
        assert (store.config.data_dir / "loupe.db-wal").stat().st_size > 0
        files = _raw(store.config.data_dir) + export.read_bytes() + _attached(store)
    finally:
        logging.getLogger().removeHandler(handler)
    logs = stream.text.encode() + "\n".join(r.getMessage() for r in caplog.records).encode()
    await store.close()
    after = _raw(store.config.data_dir) + _attached(store)
    for blob, where in ((files, "database/WAL/export"), (after, "closed database"),
                        (logs, "logs")):
        for needle in needles():
            assert needle not in blob, f"{needle!r} found in {where}"


def test_bad_client_csv_names_the_line_but_not_the_value(tmp_path, capsys, make_config):
    config = make_config()
    csv = tmp_path / "bad.csv"
    csv.write_text("first_name,last_name,email\nAda,Lovelace,ada@example.org\n"
                   f"{CANARIES['first_name']},{CANARIES['last_name']},not-an-email-{CANARIES['note']}\n")
    assert main(["clients", "import", "--data-dir", str(config.data_dir), str(csv)]) == 1
    err = capsys.readouterr().err
    assert "line 3: emails[0]: invalid value" in err
    assert CANARIES["note"] not in err


class _Capture:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def _raw(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


def png(text: str) -> bytes:
    """A real 1×1 PNG with `text` in a tEXt chunk: in clear in the file itself."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00" + text.encode()) + chunk(b"IDAT", zlib.compress(
                b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _attached(store) -> bytes:
    """The attachments folder, every file in it (there is one: her photo)."""
    files = sorted(p for p in store.attachments.folder.rglob("*") if p.is_file())
    assert files
    return b"".join(p.read_bytes() for p in files)


async def test_a_whole_demo_store_keeps_clients_and_staff_out_of_its_files(tmp_path):
    """The demo path (generator, demo staff, every area's tables) leaks nothing either."""
    from hub.demo import prepare_demo

    await prepare_demo(tmp_path / "demo", items=30, clients=15, sales=10)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "demo").rglob("*") if p.is_file())
    # What every generated client has (e-mail, street, mobile number) and the demo staff names.
    for text in (b"@example.com", b"rue du Faubourg", b"+33 6", b"Sophie Laurent",
                 b"Marc Delcourt", "Léa Martin".encode()):
        assert text not in raw, text
