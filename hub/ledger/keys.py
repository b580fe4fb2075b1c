"""The key hierarchy: a master key on disk wraps every data key stored in the database.

- master key: 32 random bytes in a 0600 file (or a systemd credential), never in the database;
- `store` data key: encrypts non-personal entries (items, sales, counts);
- `blind` key: HMAC key for blind indexes (exact look-up of phone and e-mail);
- `signing` key: the store's Ed25519 key that signs every entry hash;
- `client:<id>` keys: one per client. Destroying one shreds that client's entries.

Wrapping is AES-256-GCM with the store id, key id and version as associated data, so a key
row copied from another store or renamed does not unwrap.

The `store` and client keys rotate (`loupe keys rotate`): a new version seals new entries,
every older one stays held to read what it sealed, and destroying a key destroys all its
versions. The master key file may be protected by a passphrase (`loupe keys protect`): it
then holds the key age-encrypted (scrypt), opened at start with a passphrase from a systemd
credential, `LOUPE_PASSPHRASE`, `systemd-ask-password` or the terminal.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import nacl.bindings
import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.ledger import age  # HQ's age recipient, for the escrow

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


AGE_MAGIC = b"age-encryption.org/"  # how an age file begins: a protected master key
PASSPHRASE_CREDENTIAL = "master.passphrase"  # LoadCredential(Encrypted)=master.passphrase:...


def master_key_source(path: Path) -> Path:
    """Where the master key is read from: the systemd credential `master.key` when the unit
    hands one over (LoadCredential=, in a private tmpfs), else the file itself."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / "master.key").exists():
        return Path(credentials) / "master.key"
    return path


def _read_key_file(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyError_(f"master key file {path} is missing") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(
            f"master key file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o});"
            f" run: chmod 600 {path}")
    return path.read_bytes()


def secret_file_line(path: Path, what: str) -> str:
    """The first line of a passphrase (or key) file a command is given: present, the
    owner's alone, not empty. `what` names it in the refusal ("passphrase file")."""
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError_(f"{what} {path} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyError_(f"cannot read {what} {path}: {exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(f"{what} {path} is readable by others; run: chmod 600 {path}")
    lines = text.strip().splitlines()
    if not lines or not lines[0]:
        raise KeyError_(f"{what} {path} is empty")
    return lines[0]


def _parse_key(data: bytes, path: Path) -> bytes:
    text = data.decode("ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyError_(f"master key file {path} is not 64 hexadecimal characters") from None
    if len(key) != MASTER_KEY_LEN:
        raise KeyError_(f"master key file {path} holds {len(key)} bytes, expected 32")
    return key


def is_protected(path: Path) -> bool:
    """Whether the master key file holds the key under a passphrase (`loupe keys protect`)."""
    try:
        with open(master_key_source(path), "rb") as f:
            return f.read(len(AGE_MAGIC)) == AGE_MAGIC
    except FileNotFoundError:
        return False


def load_master_key(path: Path, passphrase: str | None = None) -> bytes:
    """The 32-byte master key, from its file or credential; a protected one is opened with
    `passphrase`, or one asked for (see `ask_passphrase`)."""
    path = master_key_source(path)
    data = _read_key_file(path)
    if not data.startswith(AGE_MAGIC):
        return _parse_key(data, path)
    if passphrase is None:
        passphrase = ask_passphrase(path)
    try:
        return _parse_key(pyrage.passphrase.decrypt(data, passphrase), path)
    except pyrage.DecryptError:
        raise KeyError_(f"the passphrase does not open the master key file {path}: nothing"
                        " was opened; try again (a lost passphrase: see docs/operations.md,"
                        " \"What to do when\")") from None


def ask_passphrase(path: Path) -> str:
    """The passphrase of a protected master key, from the first that has one: the systemd
    credential `master.passphrase`, `LOUPE_PASSPHRASE`, `systemd-ask-password` (a service
    at boot: no terminal, someone answers on the console or with
    `systemd-tty-ask-password-agent`), the terminal."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / PASSPHRASE_CREDENTIAL).exists():
        return _first_line((Path(credentials) / PASSPHRASE_CREDENTIAL).read_bytes())
    if os.environ.get("LOUPE_PASSPHRASE"):
        return os.environ["LOUPE_PASSPHRASE"]
    if not sys.stdin.isatty() and os.environ.get("INVOCATION_ID") and \
            shutil.which("systemd-ask-password"):
        try:
            done = subprocess.run(
                ["systemd-ask-password", "--timeout=0", "--id=loupe:master.key",
                 f"Passphrase of the Loupe master key ({path}):"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise KeyError_(f"cannot ask for the master key's passphrase: {exc}") from None
        if done.returncode != 0:
            raise KeyError_("nobody gave the master key's passphrase (systemd-ask-password"
                            " ended): the books stay closed")
        return _first_line(done.stdout)
    try:
        with open("/dev/tty"):
            pass
    except OSError:
        raise KeyError_(
            f"the master key file {path} is protected by a passphrase and there is nobody to"
            " ask: give it in the systemd credential master.passphrase, in LOUPE_PASSPHRASE,"
            " or run the command in a terminal") from None
    return getpass.getpass(f"Passphrase of the master key ({path}): ")


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return text.splitlines()[0] if text.strip() else ""


def _replace_key_file(path: Path, data: bytes) -> None:
    """Put `data` in place of the key file, atomically; what the old file held is first
    overwritten where it lay (on flash, a copy may survive the overwrite: see
    docs/operations.md)."""
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def protect_master_key(path: Path, passphrase: str) -> None:
    """Keep the master key under a passphrase: the file then holds it age-encrypted
    (scrypt), and the key in clear is overwritten."""
    if len(passphrase) < 8:
        raise KeyError_("a passphrase of at least 8 characters, please: it is all that"
                        " stands between a stolen box and the books")
    if is_protected(path):
        raise KeyError_(f"the master key file {path} is protected already")
    key = load_master_key(path)
    _replace_key_file(path, pyrage.passphrase.encrypt(master_key_text(key), passphrase))


def unprotect_master_key(path: Path, passphrase: str) -> None:
    """Back to the key in clear in its 0600 file (a box with a TPM keeps it with
    systemd-creds instead: docs/operations.md)."""
    if not is_protected(path):
        raise KeyError_(f"the master key file {path} is not protected by a passphrase")
    key = load_master_key(path, passphrase)
    _replace_key_file(path, master_key_text(key))


def master_key_text(key: bytes) -> bytes:
    """The master key as its file holds it in clear: 64 hex digits and a newline."""
    return (key.hex() + "\n").encode("ascii")


def escrow_blob(key: bytes, hq_box_public: bytes) -> bytes:
    """The master key file's text age-encrypted to HQ's box key: only HQ (its `hq_box.key`)
    opens it, with `loupe hq escrow` or `age -d -i`. The same as a backup's
    `master.key.hq.age`."""
    return pyrage.encrypt(master_key_text(key), [age.recipient(hq_box_public)])


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
    """Unwrapped keys in memory, by key id and version. Never written anywhere in clear.

    A key id holds every version it ever had (rotation adds one; old entries name theirs);
    `get` gives the newest, which seals new entries. A destroyed key loses every version."""

    def __init__(self, store_id: str, master: bytes) -> None:
        self.store_id = store_id
        self._master = master
        self._keys: dict[str, dict[int, bytes]] = {}
        self._destroyed: set[str] = set()
        self.signing_key: Ed25519PrivateKey | None = None

    def load(self, rows: list[tuple[str, int, bytes | None]]) -> None:
        for key_id, version, blob in rows:
            if blob is None:
                self._destroyed.add(key_id)
                continue
            self._keys.setdefault(key_id, {})[version] = unwrap(
                self._master, self.store_id, key_id, version, blob)
        for key_id in self._destroyed:  # a version left wrapped beside a destroyed one
            self._keys.pop(key_id, None)
        if "signing" in self._keys:
            self._set_signing(self.get("signing")[1])

    def new_key(self, key_id: str, secret: bytes | None = None,
                version: int = 1) -> tuple[int, bytes]:
        """Make a key (random unless given) and return (version, wrapped blob) to store."""
        if key_id in self._keys or key_id in self._destroyed:
            raise KeyError_(f"key {key_id!r} already exists")
        secret = secret if secret is not None else os.urandom(32)
        self._keys[key_id] = {version: secret}
        if key_id == "signing":
            self._set_signing(secret)
        return version, wrap(self._master, self.store_id, key_id, version, secret)

    def add_version(self, key_id: str, version: int,
                    secret: bytes | None = None) -> bytes:
        """Hold one more version of a key (random unless given, e.g. HQ's copy after a
        restore); returns the wrapped blob to store. A destroyed key never comes back."""
        if key_id in self._destroyed:
            raise KeyDestroyed(f"key {key_id!r} was destroyed: it is never made again")
        versions = self._keys.get(key_id, {})
        if version in versions:
            raise KeyError_(f"key {key_id!r} has a version {version} already")
        secret = secret if secret is not None else os.urandom(32)
        # A new dict, not a change to the one held: readers on other threads (`Ledger.read`)
        # look versions up without a lock.
        self._keys[key_id] = {**versions, version: secret}
        return wrap(self._master, self.store_id, key_id, version, secret)

    def rotate(self, key_id: str) -> tuple[int, bytes]:
        """A new version of a key (the next number), random: (version, wrapped blob)."""
        version = self.get(key_id)[0] + 1
        return version, self.add_version(key_id, version)

    def escrow(self, hq_box_public: bytes) -> bytes:
        """The master key age-encrypted to HQ's box key (see `escrow_blob`)."""
        return escrow_blob(self._master, hq_box_public)

    def _set_signing(self, seed: bytes) -> None:
        self.signing_key = signing_key_from_bytes(seed)
        # libsodium's form of the same key (seed ‖ public key): it signs faster than OpenSSL.
        self._sodium_secret = nacl.bindings.crypto_sign_seed_keypair(seed)[1]

    def sign(self, digest: bytes) -> bytes:
        """The store's Ed25519 signature of an entry hash."""
        return nacl.bindings.crypto_sign(digest, self._sodium_secret)[:64]

    def discard(self, key_id: str, version: int | None = None) -> None:
        """Forget a key (or one version) created in a transaction that rolled back."""
        if version is None:
            self._keys.pop(key_id, None)
            return
        versions = {v: k for v, k in self._keys.get(key_id, {}).items() if v != version}
        if versions:
            self._keys[key_id] = versions
        else:
            self._keys.pop(key_id, None)

    def destroy(self, key_id: str) -> None:
        self._keys.pop(key_id, None)
        self._destroyed.add(key_id)

    def has(self, key_id: str, version: int | None = None) -> bool:
        return key_id in self._keys and (version is None or version in self._keys[key_id])

    def is_destroyed(self, key_id: str) -> bool:
        return key_id in self._destroyed

    def key_ids(self) -> list[str]:
        """The keys held (destroyed ones are not)."""
        return sorted(self._keys)

    def versions(self, key_id: str) -> list[int]:
        return sorted(self._keys.get(key_id, ()))

    def get(self, key_id: str, version: int | None = None) -> tuple[int, bytes]:
        """(version, key): the newest version, or the one asked for."""
        try:
            versions = self._keys[key_id]
        except KeyError:
            if key_id in self._destroyed:
                raise KeyDestroyed(f"key {key_id!r} was destroyed") from None
            raise KeyError_(f"no key {key_id!r}") from None
        if version is None:
            version = max(versions)
        try:
            return version, versions[version]
        except KeyError:
            raise KeyError_(f"no version {version} of key {key_id!r}") from None

    def first(self, key_id: str) -> bytes:
        """The oldest version held: what files sealed without a version number use."""
        return self.get(key_id, min(self.versions(key_id) or [0]))[1]

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
