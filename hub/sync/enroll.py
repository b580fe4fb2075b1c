"""Enrollment: HQ's keys, the bundle HQ makes for a store, and importing it into a hub.

`loupe hq init` makes HQ's Ed25519 signing key, X25519 key (stores seal data keys to it)
and the chain's broker CA. `loupe hq enroll` issues the store's client certificate and a
one-time secret, all in a bundle signed by HQ. `loupe enroll` checks the bundle, keeps HQ's
public keys and the TLS files, and creates the store's own X25519 key (HQ seals client
profiles to it). At its first connection the hub sends a hello, signed by the store key and
proved with the one-time secret, so HQ pins the store's public key and receives the store's
data key sealed to HQ's key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.ledger.keys import public_key_fingerprint
from hub.ledger.ledger import Ledger, Tx, utc_now
from hub.sync import tls as tls_mod
from hub.sync.model import Enrollment, SyncBook, enrollment_in, record_enrollment_in
from hub.sync.settings import Broker, TlsFiles
from hub.sync.wire import (
    WireError,
    check_id,
    load_ed25519_public,
    load_x25519_public,
    public_hex,
    sign_doc,
    verify_doc,
)

BUNDLE_FORMAT = "loupe-enrollment/1"
HQ_META = "hq.json"
HQ_DB_URL = "db.url"  # HQ's PostgreSQL, when it is not SQLite (hq.db)
BOX_KEY_ID = "sync:box"  # the store's X25519 key, a data key like any other in the keyring


class EnrollError(Exception):
    """A bundle or HQ data dir that cannot be used, with what is wrong."""


def _read_hex_key(path: Path) -> bytes:
    try:
        raw = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise EnrollError(f"{path} is missing (run `loupe hq init` first)") from None
    except ValueError:
        raise EnrollError(f"{path} is not hexadecimal") from None
    if len(raw) != 32:
        raise EnrollError(f"{path} holds {len(raw)} bytes, expected 32")
    if path.stat().st_mode & 0o077:
        raise EnrollError(f"{path} is readable by others: run chmod 600 {path}")
    return raw


@dataclass
class HQKeys:
    """HQ's identity: chain id, signing key, box key, and its data dir."""

    data_dir: Path
    chain_id: str
    signing: Ed25519PrivateKey
    box: X25519PrivateKey

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hq.db"

    @property
    def db(self) -> str | None:
        """HQ's PostgreSQL URL (`loupe hq init --db`), or None: SQLite in `db_path`. Kept
        in a file of its own, 0600: the URL may carry a password."""
        path = self.data_dir / HQ_DB_URL
        return path.read_text().strip() if path.exists() else None

    def use_db(self, url: str) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise EnrollError(f"--db must be a postgresql:// URL, not {url.split(':')[0]!r}:"
                              " leave it out for SQLite")
        tls_mod.write_secret(self.data_dir / HQ_DB_URL, url.encode())

    @property
    def tls(self) -> TlsFiles:
        return TlsFiles(self.data_dir / "ca.pem", self.data_dir / "hq-client.pem",
                        self.data_dir / "hq-client.key")

    @classmethod
    def create(cls, data_dir: Path, chain_id: str) -> HQKeys:
        check_id(chain_id, "--chain-id")
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / HQ_META).exists():
            raise EnrollError(f"{data_dir} already holds HQ {chain_id!r} keys: refusing to"
                              " overwrite them")
        signing, box = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
        tls_mod.write_secret(data_dir / "hq_signing.key",
                             signing.private_bytes_raw().hex().encode())
        tls_mod.write_secret(data_dir / "hq_box.key", box.private_bytes_raw().hex().encode())
        ca_cert, ca_key = tls_mod.make_ca(f"Loupe {chain_id} broker CA")
        (data_dir / "ca.pem").write_bytes(ca_cert)
        tls_mod.write_secret(data_dir / "ca.key", ca_key)
        # HQ's own client certificate: CN "hq", the one identity the ACL lets read everything.
        cert, key = tls_mod.issue(ca_cert, ca_key, "hq")
        (data_dir / "hq-client.pem").write_bytes(cert)
        tls_mod.write_secret(data_dir / "hq-client.key", key)
        (data_dir / HQ_META).write_text(json.dumps({"chain_id": chain_id,
                                                    "created_at": utc_now()}, indent=2))
        return cls(data_dir, chain_id, signing, box)

    @classmethod
    def load(cls, data_dir: Path) -> HQKeys:
        try:
            meta = json.loads((data_dir / HQ_META).read_text())
        except FileNotFoundError:
            raise EnrollError(f"{data_dir}: no HQ here (run `loupe hq init` first)") from None
        except json.JSONDecodeError as exc:
            raise EnrollError(f"{data_dir / HQ_META}: not JSON: {exc}") from None
        return cls(data_dir, meta["chain_id"],
                   Ed25519PrivateKey.from_private_bytes(_read_hex_key(data_dir / "hq_signing.key")),
                   X25519PrivateKey.from_private_bytes(_read_hex_key(data_dir / "hq_box.key")))

    def server_cert(self, names: tuple[str, ...]) -> tuple[bytes, bytes]:
        ca_cert = (self.data_dir / "ca.pem").read_bytes()
        return tls_mod.issue(ca_cert, (self.data_dir / "ca.key").read_bytes(), names[0],
                             server_names=names)

    def make_bundle(self, store_id: str, broker: Broker) -> tuple[bytes, str]:
        """(signed bundle, one-time secret HQ keeps to recognise the store's first hello)."""
        check_id(store_id, "--store-id")
        if store_id == "hq":
            raise EnrollError("'hq' is HQ's own broker identity: pick another store id")
        ca_cert = (self.data_dir / "ca.pem").read_bytes()
        cert, key = tls_mod.issue(ca_cert, (self.data_dir / "ca.key").read_bytes(), store_id)
        secret = os.urandom(32).hex()
        doc = {"format": BUNDLE_FORMAT, "chain_id": self.chain_id, "store_id": store_id,
               "hq_signing_key": public_hex(self.signing.public_key()),
               "hq_box_key": public_hex(self.box.public_key()), "broker": broker.url,
               "secret": secret, "tls": {"ca": ca_cert.decode(), "cert": cert.decode(),
                                         "key": key.decode()},
               "issued_at": utc_now()}
        return sign_doc(self.signing, doc), secret


def read_bundle(data: bytes, store_id: str) -> dict[str, Any]:
    """Check a bundle for this store; every problem says what is wrong with it."""
    try:
        outer = json.loads(data)
        doc = outer["doc"]
        key_hex = doc["hq_signing_key"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise EnrollError("not a Loupe enrollment bundle (expected a signed JSON document"
                          " made by `loupe hq enroll`)") from None
    try:
        doc, _ = verify_doc(load_ed25519_public(key_hex, "bundle hq_signing_key"), data, "bundle")
    except WireError as exc:
        raise EnrollError(f"{exc}: the bundle was altered or damaged") from None
    if doc.get("format") != BUNDLE_FORMAT:
        raise EnrollError(f"bundle format {doc.get('format')!r}, expected {BUNDLE_FORMAT!r}")
    if doc.get("store_id") != store_id:
        raise EnrollError(f"this bundle is for store {doc.get('store_id')!r}, but this hub is"
                          f" store {store_id!r}: ask HQ for this store's bundle")
    try:
        check_id(doc.get("chain_id"), "bundle chain_id")
        load_x25519_public(doc.get("hq_box_key"), "bundle hq_box_key")
        Broker.parse(doc.get("broker"), "bundle broker")
    except (WireError, ValueError) as exc:
        raise EnrollError(str(exc)) from None
    if not isinstance(doc.get("secret"), str) or len(doc["secret"]) != 64:
        raise EnrollError("bundle secret: missing or not 32 bytes of hex")
    tls = doc.get("tls")
    if tls is not None:
        try:
            x509.load_pem_x509_certificate(tls["ca"].encode())
            cn = tls_mod.common_name(tls["cert"].encode())
        except (KeyError, TypeError, ValueError):
            raise EnrollError("bundle tls: CA or client certificate is not valid PEM") from None
        if cn != store_id:
            raise EnrollError(f"bundle tls: the client certificate is for {cn!r}, not"
                              f" {store_id!r}")
    return doc


def enrollment_of(doc: dict[str, Any], data_dir: Path) -> Enrollment:
    """What a bundle enrolls, as the books keep it (the TLS files' folder named, nothing
    written yet: see `install_tls`)."""
    tls_dir = str(data_dir / "sync") if doc.get("tls") else None
    return Enrollment(doc["chain_id"], doc["store_id"], doc["hq_signing_key"], doc["hq_box_key"],
                      doc["broker"], doc["secret"], tls_dir)


def refuse_switch(old: Enrollment | None, new: Enrollment) -> None:
    """A hub enrolled with one HQ never moves to another (another chain or another key)."""
    if old is not None and (old.hq_signing_key != new.hq_signing_key
                            or old.chain_id != new.chain_id):
        raise EnrollError(f"this hub is enrolled with chain {old.chain_id!r} (HQ key"
                          f" {public_key_fingerprint(bytes.fromhex(old.hq_signing_key))}):"
                          " it will not switch to another HQ")


def install_tls(doc: dict[str, Any], data_dir: Path) -> None:
    """Write the bundle's TLS files (the key 0600), if it has any."""
    if doc.get("tls"):
        d = data_dir / "sync"
        d.mkdir(mode=0o700, exist_ok=True)
        (d / "ca.pem").write_text(doc["tls"]["ca"])
        (d / "client.pem").write_text(doc["tls"]["cert"])
        tls_mod.write_secret(d / "client.key", doc["tls"]["key"].encode())


def enroll_in(tx: Tx, enrollment: Enrollment) -> str:
    """Record the enrollment in the hub's books; create the store's box key once."""
    refuse_switch(enrollment_in(tx), enrollment)
    if not tx.keyring.has(BOX_KEY_ID):
        tx.create_key(BOX_KEY_ID)
    record_enrollment_in(tx, enrollment)
    return public_key_fingerprint(bytes.fromhex(enrollment.hq_signing_key))


async def enroll_store(ledger: Ledger, data_dir: Path, doc: dict[str, Any]
                       ) -> tuple[Enrollment, str]:
    """Enroll a hub with a bundle read by `read_bundle`: (the enrollment, HQ's key
    fingerprint). Another HQ's bundle is refused before a file is touched, so this hub's TLS
    files stay; the books check again in the writer."""
    enrollment = enrollment_of(doc, data_dir)
    refuse_switch(await SyncBook(ledger).enrollment(), enrollment)
    install_tls(doc, data_dir)
    fingerprint = await ledger.transact(lambda tx: enroll_in(tx, enrollment))
    return enrollment, fingerprint


def hello_proof(secret: str, chain: str, store: str, public_key: str, box_key: str) -> str:
    """HMAC with the bundle's one-time secret: proves the hello comes from the enrolled hub."""
    msg = json.dumps([chain, store, public_key, box_key]).encode()
    return hmac.new(bytes.fromhex(secret), msg, hashlib.sha256).hexdigest()
