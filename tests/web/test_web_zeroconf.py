"""zeroconf: a browser for _loupe._tcp finds the running hub with its store's TXT records;
HTTPS with the store's own CA."""

from __future__ import annotations

import asyncio
import ssl

from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from hub.web.tls import ca_cert_path, ensure_certificates
from hub.web.zeroconf import LOUPE_TYPE, advertised


async def test_browsing_for_loupe_finds_the_hub_with_its_txt_records():
    async with advertised("zc-test-01", "Maison Zeroconf", 18443, True, host="127.0.0.1"):
        azc = AsyncZeroconf(ip_version=IPVersion.V4Only, interfaces=["127.0.0.1"])
        found: asyncio.Queue[str] = asyncio.Queue()

        def on_change(zeroconf, service_type, name, state_change):
            if state_change is ServiceStateChange.Added:
                found.put_nowait(name)

        browser = AsyncServiceBrowser(azc.zeroconf, LOUPE_TYPE, handlers=[on_change])
        try:
            while True:
                name = await asyncio.wait_for(found.get(), 20)
                info = AsyncServiceInfo(LOUPE_TYPE, name)
                if await info.async_request(azc.zeroconf, 5000) and \
                        info.properties.get(b"store_id") == b"zc-test-01":
                    break
        finally:
            await browser.async_cancel()
            await azc.async_close()
    assert info.port == 18443
    assert info.properties[b"store_name"] == b"Maison Zeroconf"
    assert info.properties[b"scheme"] == b"https"
    assert info.server == "zc-test-01.local."


def test_the_server_certificate_chains_to_the_store_ca(tmp_path):
    cert, key = ensure_certificates(tmp_path, "paris-01", "Maison", addresses=["127.0.0.1"])
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    ctx = ssl.create_default_context(cafile=str(ca_cert_path(tmp_path)))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    # Verify the chain and the name offline: a TLS handshake over a memory BIO pair.
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ctx.wrap_bio(c_in, c_out, server_hostname="paris-01.local")
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (client, srv):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    assert client.version() is not None  # handshake completed: chain and name verified
    # A second call keeps the same certificate.
    assert ensure_certificates(tmp_path, "paris-01", "Maison") == (cert, key)
