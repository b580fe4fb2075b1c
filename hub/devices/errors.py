"""Errors a device can raise; the runner decides between retrying and giving up."""

from __future__ import annotations

from hub.core.errors import Refused


class DeviceError(Exception):
    """A fault of one device (unplugged, no answer, bad reply). Retrying may fix it."""


class LinkLost(DeviceError):
    """The cable, socket or pty went away."""


class DeviceFailed(DeviceError):
    """A fault retrying cannot fix (bad profile, wrong settings): the device stays failed."""


class DeviceBusy(DeviceError, Refused):
    """A command arrived while the device is not connected or cannot take it now. It is a
    Refused, so the web app answers it as a clear 4xx with code `device_unavailable`."""

    def __init__(self, message: str, **params: object) -> None:
        Refused.__init__(self, "device_unavailable", message, **params)
