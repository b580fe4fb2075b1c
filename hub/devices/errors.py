"""Errors a device can raise; the runner decides between retrying and giving up."""

from __future__ import annotations


class DeviceError(Exception):
    """A fault of one device (unplugged, no answer, bad reply). Retrying may fix it."""


class LinkLost(DeviceError):
    """The cable, socket or pty went away."""


class DeviceFailed(DeviceError):
    """A fault retrying cannot fix (bad profile, wrong settings): the device stays failed."""


class DeviceBusy(DeviceError):
    """A command arrived while the device is not connected or cannot take it now."""


class ConfigInvalid(ValueError):
    """A problem in the `[devices]` config or a profile; the message names the key."""
