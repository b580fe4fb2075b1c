"""The `[sync]` section of loupe.toml, the broker address and TLS files, checked with
messages that name the key."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.config import ConfigError, Section


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: Any, where: str) -> Broker:
        if not isinstance(url, str):
            raise ConfigError(f"{where}: must be a URL like mqtts://broker.example:8883")
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(f"{where}: {url!r} must look like mqtt://host:1883 or"
                              " mqtts://host:8883")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError:
            raise ConfigError(f"{where}: {url!r} has a bad port") from None
        return cls(parts.hostname, port, parts.scheme == "mqtts")

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path | None = None
    key: Path | None = None

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert is not None:
            ctx.load_cert_chain(str(self.cert), str(self.key) if self.key else None)
        return ctx


@dataclass(frozen=True)
class SyncSettings:
    enabled: bool = True
    broker: Broker | None = None      # overrides the enrollment's broker
    batch_entries: int = 500
    max_message_bytes: int = 256 * 1024
    window_entries: int = 20_000      # sent but not yet acknowledged, at most
    resend_after_s: float = 15.0      # no ack progress for this long: go back to the cursor
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86_400


def read_settings(section: Section) -> SyncSettings:
    """`[sync]` of loupe.toml (`config.section("sync")`); a problem names `sync.<key>`."""
    default = SyncSettings()
    settings = SyncSettings(
        enabled=section.flag("enabled", default.enabled),
        broker=(Broker.parse(section.text("broker"), "sync.broker") if section.has("broker")
                else None),
        batch_entries=section.whole("batch_entries", default.batch_entries, 1, 5000),
        max_message_bytes=section.whole("max_message_bytes", default.max_message_bytes,
                                        4096, 256 * 1024 * 1024),
        window_entries=section.whole("window_entries", default.window_entries, 1, 1_000_000),
        resend_after_s=section.seconds("resend_after_s", default.resend_after_s, 0.1, 3600),
        keepalive_s=section.whole("keepalive_s", default.keepalive_s, 5, 3600),
        session_expiry_s=section.whole("session_expiry_s", default.session_expiry_s, 60,
                                       2**32 - 1))
    section.done()
    return settings
