"""One attachment store: photos, sketches, CAD files, signatures, certificates and scanned
documents, kept as encrypted files beside the database (DESIGN.md, "One attachment store").
An area of the core's own (`attachments`).

- **Checked on the way in.** A file is at most `MAX_MB` (25 MB) and is what it says it is:
  its first bytes are read (`sniff`: JPEG, PNG, HEIC, PDF, STL) and must agree with its
  declared content type and its name's ending, and suit its kind (a signature is a picture,
  a CAD file an STL model, a PDF or a picture). Anything else is refused in a sentence,
  before a byte is written.
- **Encrypted under its owner's key.** A client's file is sealed with AES-256-GCM under a
  key derived (HKDF) from her data key (`client:<id>`), the store's own (a piece's
  certificate) under the store key; the associated data binds it to its store and name, so a
  file moved or renamed does not open.
- **Named by a keyed hash.** A file's name, and the `hash` callers keep, is the HMAC under
  the blind key of its owner and the SHA-256 of its content: the disk listing does not say
  which known photo is there, nor that two clients have the same one. The SHA-256 itself is
  only inside the sealed entry. The same content for the same owner is kept once.
- **Journaled.** `attachment.stored` {hash, sha256, size, content_type, kind, owner, name}
  is sealed under the owner's key (a file's name can be personal); the `attachments`
  projection keeps the hash, the opaque owner, kind, type and size. Other entries refer to
  a file by hash and size (the workshop's `job.attached`); `check_in` checks such a
  reference inside the caller's transaction.
- **Forgotten with her.** Erasing a client destroys her key (her files no longer open) and
  this store's hook deletes her files once the erasure commits; her rows stay as "erased"
  (hash and owner only), so a reference to one reads "erased", not "unknown". A merged
  client's files follow the record kept.
- **Nothing half-written.** A file is written to `tmp/`, fsynced and renamed into place (on
  a worker thread) *before* its entry is committed; if the entry is refused, the file is
  removed at once, and if the hub dies in between, the sweep at start (`start`) removes
  every file no kept row names, and whatever `tmp/` holds. A file therefore exists only for
  an entry that committed, or for a moment before one.

The folder is `<data dir>/attachments`, `<hash[:2]>/<hash>`; back it up with the database
(a backup of one without the other loses files or keeps unreadable ones).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.core import fields
from hub.core.errors import Invalid, NotFound, Refused
from hub.ledger.journal import Entry
from hub.ledger.keys import KeyDestroyed
from hub.ledger.ledger import Ledger, Tx
from hub.ledger.schema import Migration, Schema
from hub.words import Listing, Term

log = logging.getLogger(__name__)

SCHEMA = Schema("attachments", (Migration(1, """
CREATE TABLE attachments (
    hash         TEXT PRIMARY KEY,          -- the file's name: HMAC(blind; owner, SHA-256)
    owner        TEXT NOT NULL,             -- store | client:<id> (the record kept, merged)
    key_id       TEXT NOT NULL,             -- the data key it is sealed under
    status       TEXT NOT NULL,             -- kept | erased (her key destroyed)
    kind         TEXT,                      -- photo | sketch | cad | ... (NULL once erased)
    content_type TEXT,
    size         INTEGER,                   -- bytes, as uploaded
    stored_seq   INTEGER NOT NULL,
    erased_seq   INTEGER
);
CREATE INDEX attachments_owner ON attachments(owner, stored_seq);
"""),), projections=("attachments",))

MB = 1024 * 1024
MAX_MB = 25
MAX_BYTES = MAX_MB * MB
KINDS = ("photo", "sketch", "cad", "signature", "document", "certificate")
OWNER = re.compile(r"^(store|client:[A-Za-z0-9]{1,40})$")
HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME = 200

FILE_MAGIC = b"LPA1"  # format of a kept file: magic ‖ 12-byte nonce ‖ ciphertext ‖ tag
NONCE_LEN = 12
_HKDF_INFO = b"loupe-attachment/1"

# -- what a file is ---------------------------------------------------------------------------

# type -> (content type kept, content types that name it, name endings)
TYPES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "jpeg": ("image/jpeg", ("image/jpeg", "image/jpg", "image/pjpeg"),
             (".jpg", ".jpeg", ".jfif")),
    "png": ("image/png", ("image/png", "image/x-png"), (".png",)),
    "heic": ("image/heic", ("image/heic", "image/heif"), (".heic", ".heif")),
    "pdf": ("application/pdf", ("application/pdf", "application/x-pdf"), (".pdf",)),
    "stl": ("model/stl", ("model/stl", "model/x.stl-binary", "model/x.stl-ascii",
                          "application/sla", "application/vnd.ms-pki.stl"), (".stl",)),
}
CONTENT_TYPES = {t: spec[0] for t, spec in TYPES.items()}
# What a browser or a phone sends when it does not know: no claim either way.
GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")
# What each kind of file may be.
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "photo": ("jpeg", "png", "heic"),
    "sketch": ("jpeg", "png", "heic", "pdf"),
    "cad": ("stl", "pdf", "png", "jpeg"),
    "signature": ("png", "jpeg"),
    "document": ("pdf", "jpeg", "png", "heic"),
    "certificate": ("pdf", "jpeg", "png", "heic"),
}

_PNG = b"\x89PNG\r\n\x1a\n"
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_GENERIC = {b"mif1", b"msf1"}  # HEIF images of any codec: a HEIC brand must follow
_TAIL = 4096  # where a PNG's IEND and a PDF's %%EOF must be found, from the end
_STL_ASCII_WORDS = (b"facet", b"normal", b"outer", b"loop", b"vertex", b"endloop",
                    b"endfacet")


def _starts_as(data: bytes) -> str | None:
    """The type a file's first bytes announce, before its structure is checked."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == _PNG:
        return "png"
    if data[4:8] == b"ftyp":
        return "heic"
    if data[:5] == b"%PDF-":
        return "pdf"
    if _binary_stl(data) or data.lstrip()[:5].lower() == b"solid":
        return "stl"
    return None


def _binary_stl(data: bytes) -> bool:
    """80-byte header, a little-endian count of triangles, 50 bytes for each: the size is
    the only check a binary STL allows (its header is free text, even "solid ...")."""
    if len(data) < 84 + 50:
        return False
    (count,) = struct.unpack_from("<I", data, 80)
    return count >= 1 and len(data) == 84 + 50 * count


def _ascii_stl(data: bytes) -> bool:
    if not data.isascii():
        return False
    text = data.strip().lower()
    if not text.startswith(b"solid") or not all(w in text for w in _STL_ASCII_WORDS):
        return False
    last = text.rsplit(b"\n", 1)[-1].strip()
    return last.startswith(b"endsolid")


def _heic(data: bytes) -> bool:
    if len(data) < 16:
        return False
    (size,) = struct.unpack_from(">I", data, 0)
    if data[4:8] != b"ftyp" or not 16 <= size <= len(data) or size % 4:
        return False
    major = data[8:12]
    brands = {data[i:i + 4] for i in range(16, size, 4)}
    return major in _HEIC_BRANDS or (major in _HEIF_GENERIC and bool(brands & _HEIC_BRANDS))


def sniff(data: bytes) -> str | None:
    """What the bytes are ("jpeg", "png", "heic", "pdf", "stl"), or None: the first bytes
    announce the type and the structure holds (a PNG's header chunk and end, a PDF's version
    and end, a HEIC's file-type box, an STL's size or words)."""
    start = _starts_as(data)
    if start == "jpeg":
        return "jpeg" if len(data) > 4 and 0xC0 <= data[3] <= 0xFE else None
    if start == "png":
        return "png" if data[12:16] == b"IHDR" and b"IEND" in data[-_TAIL:] else None
    if start == "heic":
        return "heic" if _heic(data) else None
    if start == "pdf":
        ok = re.match(rb"%PDF-\d\.\d", data) and b"%%EOF" in data[-_TAIL:]
        return "pdf" if ok else None
    if start == "stl":
        return "stl" if _binary_stl(data) or _ascii_stl(data) else None
    return None


def _kept_types() -> Listing:
    return Listing(tuple(Term("attachment_type", t) for t in TYPES), "or")


def _claimed_by_type(declared_type: str | None) -> str | None:
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared in GENERIC_TYPES:
        return None
    for t, (_, names, _) in TYPES.items():
        if declared in names:
            return t
    raise Refused("type_not_kept", "files of type {content_type} are not kept: the store keeps"
                  " {types}", content_type=declared[:60], types=_kept_types())


def _claimed_by_name(name: str | None) -> str | None:
    # An ending is a dot and a few letters ("IMG_0042.HEIC"); "Mrs. Durand" has none.
    found = re.search(r"\.([A-Za-z0-9]{1,5})$", name or "")
    if found is None:
        return None
    ending = "." + found.group(1).lower()
    for t, (_, _, endings) in TYPES.items():
        if ending in endings:
            return t
    raise Refused("type_not_kept", "files ending in {ending} are not kept: the store keeps"
                  " {types}", ending=ending[:20], types=_kept_types())


def check_type(data: bytes, *, kind: str, name: str | None = None,
               declared_type: str | None = None) -> str:
    """The content type to keep the file under, once its bytes agree with what it claims
    (its declared content type and its name's ending) and suit its kind; a Refused in a
    sentence otherwise."""
    by_type = _claimed_by_type(declared_type)
    by_name = _claimed_by_name(name)
    found = sniff(data)
    for claimed, said_by_name in ((by_name, True), (by_type, False)):
        if claimed is None or found == claimed:
            continue
        what = Term("attachment_type", claimed)
        if found is not None:
            raise Refused("wrong_type", "this file is not {what} as it claims: it is {actual}",
                          what=what, actual=Term("attachment_type", found))
        if _starts_as(data) == claimed:
            raise Refused("damaged_file", "this file starts as {what} but is cut short or"
                          " damaged", what=what)
        if said_by_name:
            raise Refused("wrong_type", "this file is not {what} as its name says", what=what)
        raise Refused("wrong_type", "this file is not {what} as its type says", what=what)
    if found is None:
        start = _starts_as(data)
        if start is not None:
            raise Refused("damaged_file", "this file starts as {what} but is cut short or"
                          " damaged", what=Term("attachment_type", start))
        raise Refused("type_not_kept", "this file is none of what the store keeps: {types}",
                      types=_kept_types())
    if found not in KIND_TYPES[kind]:
        raise Refused("wrong_kind", "a {kind} is kept as {allowed}; this file is {actual}",
                      kind=Term("attachment_kind", kind),
                      allowed=Listing(tuple(Term("attachment_type", t)
                                            for t in KIND_TYPES[kind]), "or"),
                      actual=Term("attachment_type", found))
    return CONTENT_TYPES[found]


def megabytes(size: int, max_bytes: int) -> int:
    """A size over the limit in whole megabytes, as a person reads it: rounded, and never
    as little as the limit itself (25.2 MB reads "26 MB" beside "at most 25 MB")."""
    return max((size + MB // 2) // MB, max_bytes // MB + 1)


def check_size(size: int, max_bytes: int = MAX_BYTES) -> None:
    if size > max_bytes:
        raise Refused("too_large", "a file may be at most {limit} MB; this one is {size} MB",
                      limit=max_bytes // MB, size=megabytes(size, max_bytes))
    if size == 0:
        raise Refused("empty_file", "this file is empty")


def clean_name(name: Any) -> str | None:
    """The file's own name, without the folders a browser may put before it."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise Invalid("this must be text", "name")
    name = re.split(r"[\\/]", name)[-1]
    return fields.text(name, "name", max_len=MAX_NAME) or None


# -- the projection ---------------------------------------------------------------------------

def _on_stored(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    file_hash = entry.subject.split(":", 1)[1]
    if p is None:
        # Her key was destroyed (a rebuild after her erasure): the header still says which
        # file it was and whose, so the row reads "erased" as it did before the rebuild.
        tx.execute("INSERT OR IGNORE INTO attachments (hash, owner, key_id, status,"
                   " stored_seq) VALUES (?, ?, ?, 'erased', ?)",
                   (file_hash, entry.key_id, entry.key_id, entry.seq))
        return
    tx.execute("INSERT OR IGNORE INTO attachments (hash, owner, key_id, status, kind,"
               " content_type, size, stored_seq) VALUES (?, ?, ?, 'kept', ?, ?, ?, ?)",
               (file_hash, p["owner"], entry.key_id, p["kind"], p["content_type"], p["size"],
                entry.seq))


def _on_merged(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """A merged client's files are the kept record's (still sealed under her old key)."""
    assert p is not None
    tx.execute("UPDATE attachments SET owner = ? WHERE owner = ?",
               (f"client:{p['client_id']}", f"client:{p['merged_id']}"))


def _on_forgotten(tx: Tx, entry: Entry, p: dict[str, Any] | None) -> None:
    """Her files are erased: what they were goes, which they were stays."""
    tx.execute("UPDATE attachments SET status = 'erased', kind = NULL, content_type = NULL,"
               " size = NULL, erased_seq = ? WHERE owner = ?", (entry.seq, entry.subject))


PROJECTIONS = {"attachment.stored": _on_stored, "client.merged": _on_merged,
               "client.forgotten": _on_forgotten}


# -- the store --------------------------------------------------------------------------------

@dataclass
class Staged:
    """A checked file on its way in: written (encrypted) under its name, waiting for its
    entry (`Attachments.stored_in`) in the caller's transaction."""

    hash: str
    sha256: str
    size: int
    content_type: str
    kind: str
    owner: str
    name: str | None
    wrote: bool = False       # this upload put the file in place (and removes it if refused)
    committed: bool = False   # an entry names it (this one's, or an earlier one)


def _ref(row: Any) -> dict[str, Any]:
    return {"hash": row["hash"], "size": row["size"], "content_type": row["content_type"],
            "kind": row["kind"], "owner": row["owner"], "seq": row["stored_seq"]}


_ROW = "hash, owner, key_id, status, kind, content_type, size, stored_seq, erased_seq"


class Attachments:
    """The store's files: checked, encrypted, named by keyed hash, journaled, forgotten."""

    def __init__(self, ledger: Ledger, folder: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.ledger = ledger
        self.folder = folder
        self.max_bytes = max_bytes
        # One upload of a given file at a time, from its check to its commit (or removal):
        # a refused upload then never removes a file another one has just committed.
        self._busy: dict[str, asyncio.Lock] = {}
        self._using: dict[str, int] = {}  # uploads holding or awaiting each lock

    # -- keys and paths ---------------------------------------------------------------------

    def path_of(self, file_hash: str) -> Path:
        return self.folder / file_hash[:2] / file_hash

    def _file_key(self, key_id: str) -> bytes:
        # The key's first version: a file names no version, and rotation seals new
        # entries, not files already kept.
        data_key = self.ledger.keyring.first(key_id)
        return HKDF(hashes.SHA256(), 32, salt=None, info=_HKDF_INFO).derive(data_key)

    def _aad(self, file_hash: str, key_id: str) -> bytes:
        return json.dumps(["loupe-attachment/1", self.ledger.store_id, file_hash, key_id],
                          separators=(",", ":")).encode()

    # -- at start ---------------------------------------------------------------------------

    async def start(self) -> int:
        """Remove what no committed entry names (see the module's doc): called once the
        books are open, before any upload. Returns the number of files removed."""
        rows = await self.ledger.fetch("SELECT hash FROM attachments WHERE status = 'kept'")
        return await asyncio.to_thread(self._sweep, {r["hash"] for r in rows})

    def _sweep(self, kept: set[str]) -> int:
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.glob("*/*"):
            if path.parent.name == "tmp" or (HASH.match(path.name) and path.name not in kept):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- storing ----------------------------------------------------------------------------

    async def store(self, data: bytes, *, owner: str, kind: str, name: str | None = None,
                    declared_type: str | None = None, actor: str) -> dict[str, Any]:
        """Keep a file for `owner` ("client:<id>" or "store") in a transaction of its own;
        returns its reference {hash, size, content_type, kind, owner, seq, new}. The same
        content for the same owner returns the reference kept before (`new` False)."""
        async with self.staged(data, owner=owner, kind=kind, name=name,
                               declared_type=declared_type) as staged:
            return await self.ledger.transact(lambda tx: self.stored_in(tx, staged, actor=actor))

    @asynccontextmanager
    async def staged(self, data: bytes, *, owner: str, kind: str, name: str | None = None,
                     declared_type: str | None = None) -> AsyncIterator[Staged]:
        """Check a file and write it encrypted, for a caller that journals it in its own
        transaction (`stored_in`, beside its own entries)::

            async with attachments.staged(png, owner=f"client:{cid}", kind="signature",
                                          declared_type="image/png") as staged:
                await ledger.transact(lambda tx: attach(tx, attachments.stored_in(
                    tx, staged, actor=me)))

        If no committed entry names the file when the block ends (refused, or an error),
        the file is removed. Raises Refused/Invalid/NotFound before writing anything."""
        check_size(len(data), self.max_bytes)
        owner = fields.identifier(owner, "owner", pattern=OWNER, what="store or client:<id>")
        kind = fields.choice(kind, "kind", KINDS, required=True, vocabulary="attachment_kind")
        name = clean_name(name)
        assert owner is not None and kind is not None
        owner = await self._owner_now(owner)
        key_id = owner
        self._key_or_refuse(key_id)
        content_type = check_type(data, kind=kind, name=name, declared_type=declared_type)
        sha256 = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
        file_hash = self.ledger.keyring.blind("attachment", f"{owner}:{sha256}").hex()
        staged = Staged(file_hash, sha256, len(data), content_type, kind, owner, name)
        lock = self._busy.setdefault(file_hash, asyncio.Lock())
        self._using[file_hash] = self._using.get(file_hash, 0) + 1
        try:
            async with lock:
                try:
                    row = await self.ledger.fetch_one(
                        "SELECT status FROM attachments WHERE hash = ?", (file_hash,))
                    path = self.path_of(file_hash)
                    if row is None or row["status"] != "kept" or not await asyncio.to_thread(
                            path.exists):
                        # A file missing under a kept row is written again: the same bytes.
                        await asyncio.to_thread(self._write, staged, data, key_id)
                        staged.wrote = True
                    yield staged
                finally:
                    if staged.wrote and not staged.committed:
                        await asyncio.to_thread(self._remove, [file_hash])
        finally:
            self._using[file_hash] -= 1
            if not self._using[file_hash]:  # nobody else holds or awaits it
                del self._using[file_hash], self._busy[file_hash]

    def _write(self, staged: Staged, data: bytes, key_id: str) -> None:
        """Encrypt and write atomically: tmp, fsync, rename, fsync the folder."""
        nonce = os.urandom(NONCE_LEN)
        sealed = AESGCM(self._file_key(key_id)).encrypt(
            nonce, data, self._aad(staged.hash, key_id))
        target = self.path_of(staged.hash)
        tmp_dir = self.folder / "tmp"
        for folder in (self.folder, tmp_dir, target.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        tmp = tmp_dir / f"{staged.hash}.{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(FILE_MAGIC + nonce)
                f.write(sealed)  # apart: joining them would copy the whole file once more
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def _remove(self, hashes: list[str]) -> None:
        for file_hash in hashes:
            try:
                self.path_of(file_hash).unlink(missing_ok=True)
            except OSError:  # the sweep at the next start removes it
                log.exception("an attachment could not be removed", extra={"hash": file_hash})

    def stored_in(self, tx: Tx, staged: Staged, *, actor: str) -> dict[str, Any]:
        """Journal a staged file in the caller's transaction (`attachment.stored`, sealed
        under the owner's key); returns its reference {hash, size, content_type, kind, owner,
        seq, new}. The same file kept before: that reference, nothing journaled. Refused
        when the owner was erased or merged since the file was checked."""
        self._owner_in(tx, staged.owner, strict=True)
        row = tx.one(f"SELECT {_ROW} FROM attachments WHERE hash = ?", (staged.hash,))
        if row is not None and row["status"] == "kept":
            staged.committed = True  # an earlier entry names it
            return {**_ref(row), "new": False}
        if row is not None:
            raise self._erased(row["owner"])
        entry = tx.append("attachment.stored", f"attachment:{staged.hash}", {
            "hash": staged.hash, "sha256": staged.sha256, "size": staged.size,
            "content_type": staged.content_type, "kind": staged.kind, "owner": staged.owner,
            "name": staged.name}, actor=actor, key_id=staged.owner)
        tx.after_commit.append(lambda: setattr(staged, "committed", True))
        return {"hash": staged.hash, "size": staged.size, "content_type": staged.content_type,
                "kind": staged.kind, "owner": staged.owner, "seq": entry.seq, "new": True}

    # -- owners -----------------------------------------------------------------------------

    async def _owner_now(self, owner: str) -> str:
        """The owner files go to (a merged record's are the kept one's), as the books say
        now; `stored_in` asks again in its transaction, which decides."""
        if owner == "store":
            return owner
        return await self.ledger.read(lambda tx: self._owner_in(tx, owner))

    def _owner_in(self, tx: Tx, owner: str, *, strict: bool = False) -> str:
        """Whose files `owner`'s are: refused for an unknown or erased client; a merged
        one's are the kept record's (`strict`: refused, the file was sealed for her)."""
        if owner == "store":
            return owner
        client_id = owner.split(":", 1)[1]
        row = tx.one("SELECT status, merged_into FROM clients WHERE client_id = ?",
                     (client_id,))
        if row is None:
            raise NotFound("no client {client_id}", client_id=client_id, field="owner")
        if row["status"] == "forgotten":
            raise Refused("client_forgotten", "client {client_id} was erased: no file is kept"
                          " for her", client_id=client_id, field="owner")
        if row["status"] == "merged" and row["merged_into"]:
            if strict:
                raise Refused("client_merged", "client {client_id} was merged into {other}"
                              " meanwhile: send the file again", client_id=client_id,
                              other=row["merged_into"], field="owner")
            return self._owner_in(tx, f"client:{row['merged_into']}")
        return owner

    def _key_or_refuse(self, key_id: str) -> None:
        try:
            self.ledger.keyring.get(key_id)
        except KeyDestroyed:
            raise self._erased(key_id) from None

    @staticmethod
    def _erased(owner: str) -> Refused:
        return Refused("attachment_erased", "this file was kept for client {client_id}, who"
                       " was erased: it can no longer be read",
                       client_id=owner.split(":", 1)[-1])

    # -- references -------------------------------------------------------------------------

    def check_in(self, tx: Tx, file_hash: Any, owner: str) -> dict[str, Any]:
        """A reference another entry is about to make (a job's photo), checked in the
        caller's transaction: the file is kept, and is `owner`'s (a merged record's files
        are the kept one's). Returns {hash, size, content_type, kind, owner, seq}."""
        file_hash = fields.identifier(file_hash, "hash", pattern=HASH, what="a file's hash")
        row = tx.one(f"SELECT {_ROW} FROM attachments WHERE hash = ?", (file_hash,))
        if row is None:
            raise NotFound("no file {hash} is kept here", hash=file_hash, field="hash")
        if row["status"] != "kept":
            raise self._erased(row["owner"])
        wanted = self._owner_in(tx, owner) if OWNER.match(owner) else owner
        if row["owner"] != wanted:
            raise Refused("not_her_file", "file {hash} is not kept for {owner}", hash=file_hash,
                          owner=owner, field="hash")
        return _ref(row)

    async def get(self, file_hash: Any) -> dict[str, Any]:
        """A file's reference and status without opening it: {hash, size, content_type,
        kind, owner, seq, status}."""
        row = await self._row(file_hash)
        return {**_ref(row), "status": row["status"]}

    async def _row(self, file_hash: Any) -> Any:
        if not isinstance(file_hash, str) or not HASH.match(file_hash):
            raise NotFound("no file {hash} is kept here", hash=str(file_hash)[:64])
        row = await self.ledger.fetch_one(f"SELECT {_ROW} FROM attachments WHERE hash = ?",
                                          (file_hash,))
        if row is None:
            raise NotFound("no file {hash} is kept here", hash=file_hash)
        return row

    async def of_owner(self, owner: str) -> list[dict[str, Any]]:
        """The files kept for an owner, oldest first (a merged record's under the kept
        one): {hash, size, content_type, kind, owner, seq}."""
        rows = await self.ledger.fetch(
            f"SELECT {_ROW} FROM attachments WHERE owner = ? AND status = 'kept'"
            " ORDER BY stored_seq", (owner,))
        return [_ref(r) for r in rows]

    # -- reading ----------------------------------------------------------------------------

    async def open(self, file_hash: Any) -> tuple[bytes, str, dict[str, Any]]:
        """The file's bytes, its content type and what its entry says of it ({hash, size,
        content_type, kind, owner, seq, name, sha256}), decrypted on a worker thread.
        Refused for an erased client's file, a missing or an altered one."""
        row = await self._row(file_hash)
        if row["status"] != "kept":
            raise self._erased(row["owner"])
        self._key_or_refuse(row["key_id"])
        entry = await self.ledger.payload_at(row["stored_seq"])
        if entry is None:  # her key went between the two reads
            raise self._erased(row["owner"])
        data = await asyncio.to_thread(self._read, row["hash"], row["key_id"], entry["sha256"])
        meta = {**_ref(row), "name": entry.get("name"), "sha256": entry["sha256"]}
        return data, row["content_type"], meta

    def _read(self, file_hash: str, key_id: str, sha256: str) -> bytes:
        try:
            raw = self.path_of(file_hash).read_bytes()
        except FileNotFoundError:
            raise Refused("attachment_missing", "file {hash} is missing from the attachments"
                          " folder: restore it from a backup", hash=file_hash) from None
        try:
            if raw[:len(FILE_MAGIC)] != FILE_MAGIC:
                raise InvalidTag
            body = memoryview(raw)[len(FILE_MAGIC):]  # no copy of what may be 25 MB
            data = AESGCM(self._file_key(key_id)).decrypt(
                bytes(body[:NONCE_LEN]), body[NONCE_LEN:], self._aad(file_hash, key_id))
        except (InvalidTag, ValueError):
            data = None
        if data is None or hashlib.sha256(data).hexdigest() != sha256:
            raise Refused("attachment_damaged", "file {hash} does not open: it was altered or"
                          " damaged; restore it from a backup", hash=file_hash)
        return data

    # -- forgetting -------------------------------------------------------------------------

    def forgotten_in(self, tx: Tx, client_id: str, actor: str) -> None:
        """The client book's hook at her erasure (after its entry, in its transaction): her
        files, and those of the records merged into hers, are deleted once it commits."""
        rows = tx.all("SELECT hash FROM attachments WHERE owner = ?", (f"client:{client_id}",))
        doomed = [r["hash"] for r in rows]
        if doomed:
            tx.after_commit.append(lambda: self._remove(doomed))



def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
