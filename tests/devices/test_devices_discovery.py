"""USB recognition from a sysfs-shaped tree: profiles by vid:pid, serial pinned by-id."""

from __future__ import annotations

from hub.devices.config import parse_devices
from hub.devices.discovery import discover
from hub.devices.profiles import load_profiles


def _usb(root, name, vid, pid, serial="", tty=None):
    dev = root / name
    dev.mkdir(parents=True)
    (dev / "idVendor").write_text(vid + "\n")
    (dev / "idProduct").write_text(pid + "\n")
    if serial:
        (dev / "serial").write_text(serial + "\n")
    if tty:
        (dev / f"{name}:1.0" / "tty" / tty).mkdir(parents=True)


def test_recognised_devices_become_config_and_unknown_ones_are_left_alone(tmp_path):
    sysfs, by_id = tmp_path / "sys", tmp_path / "by-id"
    by_id.mkdir()
    _usb(sysfs, "1-1", "04b8", "0202", "X5E1234")                   # Epson TM-T88VI
    _usb(sysfs, "1-2", "0c2e", "0b61", "17000A", tty="ttyACM0")     # Honeywell, serial mode
    _usb(sysfs, "1-3", "1a86", "7523", tty="ttyUSB0")               # unknown USB serial
    (tmp_path / "ttyACM0").touch()
    (by_id / "usb-Honeywell_1450g_17000A-if00").symlink_to(tmp_path / "ttyACM0")
    profiles = load_profiles()
    found = discover(profiles, [], sysfs, by_id)
    assert found == {
        "epson-tm-t88vi-x5e1234": {"model": "epson-tm-t88vi", "usb": "04b8:0202"},
        "honeywell-1450g-serial-17000a": {
            "model": "honeywell-1450g-serial",
            "path": str(by_id / "usb-Honeywell_1450g_17000A-if00")},
    }
    specs = parse_devices(found, profiles, {"R1"})
    assert {s.driver for s in specs} == {"escpos", "scanner-serial"}
    # Already named in loupe.toml: not added twice.
    assert "epson-tm-t88vi-x5e1234" not in discover(profiles, [{"usb": "04b8:0202"}], sysfs,
                                                    by_id)


def test_a_stores_antenna_map_replaces_the_models_example():
    profiles = load_profiles()
    [spec] = parse_devices({"window-reader": {"model": "impinj-r700", "host": "10.0.0.9",
                                              "antennas": {"2": "window"}}}, profiles, {"R1"})
    assert spec.settings["antennas"] == {"2": "window"}  # port 1 is not "showcase-1" here


def test_a_tsl_reply_too_long_to_keep_says_how_much_was_dropped():
    from hub.devices.tsl.protocol import MAX_GROUP, ReplyAssembler

    assembler = ReplyAssembler()
    assert assembler.line(b"CS: .iv") is None
    for n in range(MAX_GROUP + 3):
        assert assembler.line(f"EP: {n:024X}".encode()) is None
    reply = assembler.line(b"OK:")
    assert reply is not None and reply.ok
    assert len(reply.lines) == MAX_GROUP and reply.cut == 3
