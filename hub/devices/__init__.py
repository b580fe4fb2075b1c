"""The shop's hardware: drivers, the device manager and simulators.

Each device (a scanner, a receipt printer, a scale, a pole display, an RFID reader) is one
`Device` running as one asyncio task with explicit states: connecting, connected, retrying
(with backoff) and failed. Drivers turn wire protocols into bus events (`device.scan`,
`device.weight`, `device.rfid.read`...) and accept commands (print, open drawer, show lines).
The core knows nothing of serial ports: it only sees events on the bus.
"""

import os
from pathlib import Path

# python-escpos reads its 96 kB printer database (YAML) at import, half a second, and
# would keep a pickle of it in a fresh temporary folder each time, so never finds it again
# (and leaves one folder behind per start). A folder of the user's cache keeps it.
if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
    _cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loupe"
    try:
        _cache.mkdir(parents=True, exist_ok=True)
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(_cache)
    except OSError:  # a read-only home: escpos reads its YAML as before
        pass
