"""The `[sync]` section of loupe.toml, the broker address and TLS files, checked with
messages that name the key."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.config import ConfigError


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


_INTS = {"batch_entries": (1, 5000), "max_message_bytes": (4096, 256 * 1024 * 1024),
         "window_entries": (1, 1_000_000), "keepalive_s": (5, 3600),
         "session_expiry_s": (60, 2**32 - 1)}


def parse_settings(section: dict[str, Any]) -> SyncSettings:
    allowed = {"enabled", "broker", "resend_after_s", *_INTS}
    extra = sorted(set(section) - allowed)
    if extra:
        raise ConfigError(f"sync: unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})")
    values: dict[str, Any] = {}
    if "enabled" in section:
        if not isinstance(section["enabled"], bool):
            raise ConfigError(f"sync.enabled: must be true or false, got {section['enabled']!r}")
        values["enabled"] = section["enabled"]
    if "broker" in section:
        values["broker"] = Broker.parse(section["broker"], "sync.broker")
    for key, (lo, hi) in _INTS.items():
        if key in section:
            value = section[key]
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ConfigError(f"sync.{key}: must be a whole number from {lo} to {hi},"
                                  f" got {value!r}")
            values[key] = value
    if "resend_after_s" in section:
        value = section["resend_after_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 3600:
            raise ConfigError(f"sync.resend_after_s: must be seconds from 0.1 to 3600, got {value!r}")
        values["resend_after_s"] = float(value)
    return SyncSettings(**values)
