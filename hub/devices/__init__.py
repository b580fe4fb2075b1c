"""The shop's hardware: drivers, the device manager and simulators.

Each device (a scanner, a receipt printer, a scale, a pole display, an RFID reader) is one
`Device` running as one asyncio task with explicit states: connecting, connected, retrying
(with backoff) and failed. Drivers turn wire protocols into bus events (`device.scan`,
`device.weight`, `device.rfid.read`...) and accept commands (print, open drawer, show lines).
The core knows nothing of serial ports: it only sees events on the bus.
"""
