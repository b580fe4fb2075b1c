"""The shop's hardware as a layer: the device manager (and the demo's simulators), the
Devices screen, and `loupe` commands that need no books."""

from __future__ import annotations

from hub.runtime import Layer

LAYER = Layer("devices", part="hub.devices.part", web="hub.devices.web")
