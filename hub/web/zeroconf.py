"""Advertise the hub on the shop's LAN so tablets find it as `https://<store-id>.local`."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hub.web.tls import local_addresses

log = logging.getLogger(__name__)
LOUPE_TYPE = "_loupe._tcp.local."


def service_infos(store_id: str, store_name: str, port: int, https: bool,
                  addresses: list[str]) -> list[AsyncServiceInfo]:
    txt = {"store_id": store_id, "store_name": store_name, "path": "/", "api": "/api/v1",
           "scheme": "https" if https else "http"}
    packed = [ipaddress.ip_address(a).packed for a in addresses]
    server = f"{store_id}.local."
    types = [LOUPE_TYPE, "_https._tcp.local." if https else "_http._tcp.local."]
    # DNS-SD instance names are at most 63 bytes.
    instance = store_name.encode()[:60].decode(errors="ignore").replace(".", " ")
    return [AsyncServiceInfo(t, f"{instance}.{t}", port=port, properties=txt, server=server,
                             addresses=packed) for t in types]


@contextlib.asynccontextmanager
async def advertised(store_id: str, store_name: str, port: int, https: bool,
                     host: str = "0.0.0.0"):
    """Register the services for as long as the context is open; withdraw them after."""
    if host in ("0.0.0.0", "::", ""):
        addresses = [a for a in local_addresses() if not ipaddress.ip_address(a).is_loopback
                     and ipaddress.ip_address(a).version == 4] or ["127.0.0.1"]
    else:
        addresses = [socket.gethostbyname(host)]
    azc = AsyncZeroconf(ip_version=IPVersion.V4Only)
    infos = service_infos(store_id, store_name, port, https, addresses)
    try:
        for info in infos:
            await azc.async_register_service(info, allow_name_change=True)
        log.info("advertised on the LAN", extra={"service": LOUPE_TYPE, "port": port})
        yield infos
    finally:
        for info in infos:
            with contextlib.suppress(Exception):
                await azc.async_unregister_service(info)
        await azc.async_close()
