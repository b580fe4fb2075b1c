"""`[devices]` in loupe.toml, read through `config.section("devices")`: every problem names
`devices.<id>.<key>`, and `autodetect` adds what the USB bus shows."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_devices_discovery import _usb

from hub.config import ConfigError, Section, parse_config, render_config
from hub.devices.config import _CONNECTION, read_devices
from hub.devices.discovery import discover
from hub.devices.profiles import load_profiles

PROFILES = load_profiles()
PRINTER = '[devices.printer-r1]\nmodel = "epson-tm-t88vi"\nhost = "10.0.0.5"\nregister = "R1"\n'


def devices_of(toml: str, tmp_path, **kwargs):
    doc = tomllib.loads(render_config("paris-01", "Maison Test", "EUR") + toml)
    config = parse_config(doc, tmp_path)
    return read_devices(config.section("devices"), PROFILES,
                        {r.id for r in config.registers}, **kwargs)


def test_a_device_table_becomes_a_spec_with_its_overrides(tmp_path):
    [spec] = devices_of(PRINTER + "check_interval = 5\ngone_after = 4\n[devices.printer-r1"
                        "  .drawer]\non_ms = 120\n", tmp_path)
    assert (spec.id, spec.kind, spec.driver, spec.register) == ("printer-r1", "printer",
                                                                "escpos", "R1")
    assert spec.settings["drawer"]["on_ms"] == 120 and spec.settings["drawer"]["pin"] == 2
    assert spec.settings["check_interval"] == 5.0 and spec.settings["gone_after"] == 4
    assert spec.settings["port"] == 9100  # the profile's
    assert devices_of("", tmp_path) == []
    assert devices_of(PRINTER + "enabled = false\n", tmp_path) == []


@pytest.mark.parametrize(("toml", "message"), [
    ('[devices]\nautodetect = "yes"\n', "devices.autodetect: must be true or false"),
    ("[devices]\nprinter = 3\n", "devices.printer: must be a table"),
    ('[devices.Printer]\nmodel = "epson-tm-t88vi"\nhost = "x"\n', "devices.Printer: a device id"),
    ('[devices.p]\nmodel = 3\nhost = "x"\n', "devices.p.model: must be text"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = 7\n', "devices.p.host: must be text"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\nenabled = "no"\n',
     "devices.p.enabled: must be true or false"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\nport = 70000\n', "devices.p.port:"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\ncheck_interval = 0\n',
     "devices.p.check_interval: must be seconds"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\ngone_after = 0\n',
     "devices.p.gone_after: must be a whole number"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\nretry_initial = 40\n',
     "devices.p.retry_initial: 40 s is longer than retry_cap"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\ncolumns = "42"\n',
     "devices.p.columns: must be int"),
    ('[devices.p]\nmodel = "epson-tm-t88vi"\nhost = "x"\nmodel_id = "other"\n',
     "devices.p: unknown key 'model_id'"),
    ('[devices.p]\nmodel = "impinj-speedway-llrp"\nhost = "x"\n', "devices.p: LLRP readers"),
    ('[devices.p]\nmodel = "impinj-r700"\nhost = "x"\nantennas = {"33" = "window"}\n',
     "devices.p.antennas.33: antenna ports are 1-32"),
])
def test_every_problem_names_the_device_and_key(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        devices_of(toml, tmp_path)


@given(st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True).filter(
    lambda k: k not in _CONNECTION and k not in PROFILES["epson-tm-t88vi"]
    and k not in ("check_interval", "check_timeout", "gone_after", "retry_initial",
                  "retry_cap")))
def test_a_key_nobody_reads_is_refused_with_its_name(key):
    table = {"model": "epson-tm-t88vi", "host": "x", key: 1}
    with pytest.raises(ConfigError, match=f"devices.p: unknown key '{key}'"):
        read_devices(Section("devices", {"p": table}), PROFILES, {"R1"})


def test_autodetect_adds_recognised_usb_devices_the_config_does_not_name(tmp_path):
    sysfs, by_id = tmp_path / "sys", tmp_path / "by-id"
    by_id.mkdir()
    _usb(sysfs, "1-1", "04b8", "0202", "X5E1234")   # an Epson TM-T88VI
    _usb(sysfs, "1-2", "0a5f", "0181", "ZD421")     # a Zebra ZD421 (not in the config)

    def find(profiles, configured):
        return discover(profiles, configured, sysfs, by_id)

    named = '[devices.receipts]\nmodel = "epson-tm-t88vi"\nusb = "04b8:0202"\nregister = "R1"\n'
    specs = devices_of("[devices]\nautodetect = true\n" + named, tmp_path, find=find)
    assert sorted(s.id for s in specs) == ["receipts", "zebra-zd421-zd421"]
    assert next(s for s in specs if s.id == "receipts").register == "R1"
    assert [s.id for s in devices_of(named, tmp_path, find=find)] == ["receipts"]
