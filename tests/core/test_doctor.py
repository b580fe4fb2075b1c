"""`loupe doctor` on a real store: all well on a new one, and each fault found, said in
words with the command that fixes it, and the monitoring exit code (0, 1, 2)."""

from __future__ import annotations

import json
import socket
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from hub import doctor
from hub.cli import main
from hub.config import load_config
from hub.sync.settings import Broker


@pytest.fixture
def config(tmp_path, capsys):
    d = tmp_path / "store"
    assert main(["init", "--data-dir", str(d), "--store-id", "paris-01",
                 "--store-name", "Maison Paris", "--currency", "EUR"]) == 0
    capsys.readouterr()
    return load_config(d)


def _by_what(findings):
    return {f.what: f for f in findings}


def test_a_new_store_is_all_well_once_backed_up(config, capsys):
    assert main(["doctor", "--data-dir", str(config.data_dir)]) == 1  # no backup set up yet
    assert "set backup.path in loupe.toml" in capsys.readouterr().out
    secret = config.data_dir.parent / "backup.pass"
    secret.write_text("correct horse battery staple\n")
    secret.chmod(0o600)
    with open(config.data_dir / "loupe.toml", "a") as f:
        f.write(f'\n[backup]\npath = "{config.data_dir.parent / "usb"}"\n'
                f'passphrase_file = "{secret}"\n')
    assert main(["backup", "--data-dir", str(config.data_dir)]) == 0
    capsys.readouterr()
    assert main(["doctor", "--data-dir", str(config.data_dir)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("All well.")
    for what in ("master key", "schema", "journal", "disk space", "memory", "store CA",
                 "server certificate", "HQ broker", "backup", "devices"):
        assert what in out
    assert main(["doctor", "--data-dir", str(config.data_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["level"] for r in rows} == {"ok"} and all(r["said"] for r in rows)


def test_a_key_others_may_read_is_a_problem_with_its_fix(config, capsys):
    config.master_key_file.chmod(0o644)
    assert main(["doctor", "--data-dir", str(config.data_dir)]) == 2
    out = capsys.readouterr().out
    assert "PROBLEM  master key" in out and f"→ chmod 600 {config.master_key_file}" in out
    assert out.strip().endswith("Look at the problems now.")


def test_an_altered_journal_is_named(config):
    assert main(["generate", "--data-dir", str(config.data_dir), "--items", "3"]) == 0
    conn = sqlite3.connect(config.db_path)
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 1")
    conn.commit()
    conn.close()
    journal = _by_what(doctor.examine(config, doctor.Hq()))["journal"]
    assert journal.level == doctor.PROBLEM and "seq 1" in journal.said
    assert "loupe ledger verify" in journal.fix


def test_certificates_near_their_end_and_past_it(config):
    soon = datetime.now(UTC) + timedelta(days=824 - 10)
    found = _by_what(doctor.examine(config, doctor.Hq(), now=soon))
    assert found["server certificate"].level == doctor.WARNING
    assert "expires in" in found["server certificate"].said
    assert found["store CA"].level == doctor.OK
    later = datetime.now(UTC) + timedelta(days=900)
    found = _by_what(doctor.examine(config, doctor.Hq(), now=later))
    assert found["server certificate"].level == doctor.PROBLEM
    assert "restart the hub" in found["server certificate"].fix


def test_the_broker_answering_or_not(config):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        up = _by_what(doctor.examine(config, doctor.Hq(Broker("127.0.0.1", port, False))))
        assert up["HQ broker"].level == doctor.OK and "answers" in up["HQ broker"].said
    down = _by_what(doctor.examine(config, doctor.Hq(Broker("127.0.0.1", port, False))))
    assert down["HQ broker"].level == doctor.WARNING
    assert "sales go on" in down["HQ broker"].said and "backlog" in down["HQ broker"].fix
    assert doctor.worst(list(down.values())) == doctor.WARNING


def test_books_from_a_newer_loupe_are_a_problem(config):
    conn = sqlite3.connect(config.db_path)
    conn.execute("UPDATE schema_versions SET version = version + 1 WHERE area = 'core'")
    conn.commit()
    conn.close()
    found = _by_what(doctor.examine(config, doctor.Hq()))
    assert found["schema"].level == doctor.PROBLEM and "newer Loupe" in found["schema"].said


def test_the_running_hub_is_asked_for_its_devices(config, capsys):
    from test_one_writer import Hub  # `loupe run` as a process

    hub = Hub(config.data_dir)
    try:
        findings = _by_what(doctor.examine(config, connect=lambda *a: socket.socket()))
        assert findings["devices"].said == "the hub runs with no device configured"
        assert main(["devices", "--data-dir", str(config.data_dir)]) == 0
    finally:
        assert hub.stop() == 0
    assert main(["devices", "--data-dir", str(config.data_dir)]) == 1
    assert "the hub is not running" in capsys.readouterr().err


def test_a_clock_far_from_hqs_is_a_warning(config):
    hq = doctor.Hq(Broker.parse("mqtt://127.0.0.1:1", "test"), None,
                   {"offset_s": -3725.4, "at": "2026-12-03T09:15:02.1Z"})
    [finding] = doctor._clock(hq)
    assert finding.level == doctor.WARNING
    assert finding.said == "3725 s behind HQ's (at 2026-12-03 09:15 UTC)"
    assert "timedatectl set-ntp true" in finding.fix
    [finding] = doctor._clock(doctor.Hq(hq.broker, None, {"offset_s": 0.4, "at": "x"}))
    assert finding.level == doctor.OK
    assert not list(doctor._clock(doctor.Hq()))  # not enrolled: no HQ to compare with
