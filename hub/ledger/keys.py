"""The key hierarchy: a master key on disk wraps every data key stored in the database.

- master key: 32 random bytes in a 0600 file (or a systemd credential), never in the database;
- `store` data key: encrypts non-personal entries (items, sales, counts);
- `blind` key: HMAC key for blind indexes (exact look-up of phone and e-mail);
- `signing` key: the store's Ed25519 key that signs every entry hash;
- `client:<id>` keys: one per client. Destroying one shreds that client's entries.

Wrapping is AES-256-GCM with the store id, key id and version as associated data, so a key
row copied from another store or renamed does not unwrap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import unicodedata
from pathlib import Path

import nacl.bindings
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_LEN = 32


class KeyError_(Exception):
    """A key problem the operator must fix (wrong file, loose permissions, shredded key)."""


class KeyDestroyed(KeyError_):
    """The data key was destroyed (a forgotten client): the data is unreadable by design."""


def create_master_key(path: Path) -> None:
    """Write a new master key, readable by the owner only. Refuses to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(os.urandom(MASTER_KEY_LEN).hex() + "\n")


def load_master_key(path: Path) -> bytes:
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and not path.exists():
        # systemd LoadCredential=master.key: the file lives in a private tmpfs.
        path = Path(credentials) / path.name
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyError_(f"master key file {path} is missing") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(
            f"master key file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o});"
            f" run: chmod 600 {path}")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyError_(f"master key file {path} is not 64 hexadecimal characters") from None
    if len(key) != MASTER_KEY_LEN:
        raise KeyError_(f"master key file {path} holds {len(key)} bytes, expected 32")
    return key


def _wrap_aad(store_id: str, key_id: str, version: int) -> bytes:
    return json.dumps(["loupe-key/1", store_id, key_id, version], separators=(",", ":")).encode()


def wrap(master: bytes, store_id: str, key_id: str, version: int, secret: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, secret, _wrap_aad(store_id, key_id, version))


def unwrap(master: bytes, store_id: str, key_id: str, version: int, blob: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(blob[:12], blob[12:], _wrap_aad(store_id, key_id, version))
    except InvalidTag:
        raise KeyError_(
            f"the master key does not open key {key_id!r} of store {store_id!r}:"
            " wrong master key file, or a database from another store") from None


def signing_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_fingerprint(raw: bytes) -> str:
    """What an auditor compares by eye: SHA-256 of the raw public key, grouped."""
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return ":".join(digest[i:i + 4] for i in range(0, 32, 4))


class Keyring:
    """Unwrapped keys in memory, by (key_id, version). Never written anywhere in clear."""

    def __init__(self, store_id: str, master: bytes) -> None:
        self.store_id = store_id
        self._master = master
        self._keys: dict[str, tuple[int, bytes]] = {}
        self._destroyed: set[str] = set()
        self.signing_key: Ed25519PrivateKey | None = None

    def load(self, rows: list[tuple[str, int, bytes | None]]) -> None:
        for key_id, version, blob in rows:
            if blob is None:
                self._destroyed.add(key_id)
                continue
            self._keys[key_id] = (version, unwrap(self._master, self.store_id, key_id, version, blob))
        if "signing" in self._keys:
            self._set_signing(self._keys["signing"][1])

    def new_key(self, key_id: str, secret: bytes | None = None) -> tuple[int, bytes]:
        """Make a key (random unless given) and return (version, wrapped blob) to store."""
        if key_id in self._keys or key_id in self._destroyed:
            raise KeyError_(f"key {key_id!r} already exists")
        secret = secret if secret is not None else os.urandom(32)
        self._keys[key_id] = (1, secret)
        if key_id == "signing":
            self._set_signing(secret)
        return 1, wrap(self._master, self.store_id, key_id, 1, secret)

    def _set_signing(self, seed: bytes) -> None:
        self.signing_key = signing_key_from_bytes(seed)
        # libsodium's form of the same key (seed ‖ public key): it signs faster than OpenSSL.
        self._sodium_secret = nacl.bindings.crypto_sign_seed_keypair(seed)[1]

    def sign(self, digest: bytes) -> bytes:
        """The store's Ed25519 signature of an entry hash."""
        return nacl.bindings.crypto_sign(digest, self._sodium_secret)[:64]

    def discard(self, key_id: str) -> None:
        """Forget a key created in a transaction that rolled back."""
        self._keys.pop(key_id, None)

    def destroy(self, key_id: str) -> None:
        self._keys.pop(key_id, None)
        self._destroyed.add(key_id)

    def has(self, key_id: str) -> bool:
        return key_id in self._keys

    def is_destroyed(self, key_id: str) -> bool:
        return key_id in self._destroyed

    def get(self, key_id: str) -> tuple[int, bytes]:
        try:
            return self._keys[key_id]
        except KeyError:
            if key_id in self._destroyed:
                raise KeyDestroyed(f"key {key_id!r} was destroyed") from None
            raise KeyError_(f"no key {key_id!r}") from None

    def blind(self, kind: str, value: str) -> bytes:
        """HMAC blind index of a normalised value (`phone`, `email`) for exact look-ups."""
        return hmac.new(self.get("blind")[1], f"{kind}:{value}".encode(), hashlib.sha256).digest()


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def normalise_phone(phone: str) -> str:
    """Digits only, keeping a leading + (E.164-ish); `+33 6 12-34` -> `+336 1234`."""
    text = unicodedata.normalize("NFKC", phone).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        return "+" + digits[2:]
    return ("+" if text.startswith("+") else "") + digits
