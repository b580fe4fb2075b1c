"""The store's own certificate authority and the hub's server certificate.

Made once (at `loupe init` through `ensure_certificates`, or at the first start) under
`<data_dir>/web/`. Tablets trust the CA once (downloaded from `/ca.crt`); the server
certificate names `<store-id>.local`, `localhost` and the box's addresses.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def web_dir(data_dir: Path) -> Path:
    return data_dir / "web"


def ca_cert_path(data_dir: Path) -> Path:
    return web_dir(data_dir) / "ca.crt"


def local_addresses() -> list[str]:
    addresses = {"127.0.0.1", "::1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            addresses.add(str(info[4][0]).split("%")[0])
    except OSError:
        pass
    try:  # the address the default route would use, without sending anything
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            addresses.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(addresses)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def ensure_certificates(data_dir: Path, store_id: str, store_name: str,
                        addresses: list[str] | None = None) -> tuple[Path, Path]:
    """The server's (cert, key) paths, making the CA and certificate if missing."""
    folder = web_dir(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    now = dt.datetime.now(dt.UTC)
    ca_key_path = folder / "ca.key"
    if ca_cert_path(data_dir).exists() and ca_key_path.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path(data_dir).read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Loupe CA {store_id}"[:64]),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, store_name[:64])])
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        _write_key(ca_key_path, ca_key)
        ca_cert_path(data_dir).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(f"{store_id}.local"),
                                     x509.DNSName("localhost")]
    for addr in addresses if addresses is not None else local_addresses():
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(addr)))
        except ValueError:
            continue
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                        f"{store_id}.local")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            # 825 days: the longest validity Apple devices accept for a server certificate.
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                          + ca_cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(data_dir: Path, store_id: str, store_name: str) -> ssl.SSLContext:
    cert, key = ensure_certificates(data_dir, store_id, store_name)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx
