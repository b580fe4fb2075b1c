"""The `loupe` command, end to end, on real stores."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.cli import main

ITEMS_CSV = """item_id,sku,description,category,metal,fineness,karat,metal_colour,metal_weight_g,designer,cost,tag_price,centre_stone,centre_carat,centre_shape,centre_colour,centre_clarity,centre_lab,centre_certificate,side_stones,location
R-100,SOL-1,Solitaire ring,ring,platinum,950,,white,4.25,Verdier,3000.00,9500.00,diamond,1.01,round,F,VS1,GIA,2141234567,12 diamond 0.02,showcase-1
N-200,RIV-1,Rivière necklace,necklace,gold,750,18,white,22.5,Castellane,12000,36000.50,,,,,,,,40 diamond 0.10,safe
"""


@pytest.fixture
def data_dir(tmp_path, capsys):
    d = tmp_path / "store"
    assert main(["init", "--data-dir", str(d), "--store-id", "paris-01",
                 "--store-name", "Maison Paris", "--currency", "EUR"]) == 0
    capsys.readouterr()
    return d


def test_init_makes_a_private_key_and_refuses_twice(data_dir, capsys):
    assert oct((data_dir / "master.key").stat().st_mode & 0o777) == "0o600"
    assert main(["init", "--data-dir", str(data_dir), "--store-id", "x", "--store-name", "X",
                 "--currency", "EUR"]) == 1
    assert "already holds a store" in capsys.readouterr().err


def test_init_refuses_an_unknown_currency(tmp_path, capsys):
    assert main(["init", "--data-dir", str(tmp_path / "s"), "--store-id", "x",
                 "--store-name", "X", "--currency", "EURO"]) == 1
    assert "unknown currency “EURO”" in capsys.readouterr().err
    assert not (tmp_path / "s" / "loupe.toml").exists()


def test_items_import_and_status(data_dir, tmp_path, capsys):
    csv = tmp_path / "items.csv"
    csv.write_text(ITEMS_CSV)
    assert main(["items", "import", "--data-dir", str(data_dir), str(csv)]) == 0
    assert "imported 2 pieces" in capsys.readouterr().out
    assert main(["status", "--data-dir", str(data_dir), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"pieces": 2' in out and '"stock_value": 4550050' in out
    assert main(["status", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "pieces       2 (2 in stock)" in out and "€45,500.50" in out
    assert "hub          not running" in out


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.replace("4.25", "-4.25"), "line 2: metal_weight_g '-4.25' is not a decimal"),
    (lambda t: t.replace("9500.00", "9500.001"), "line 2: tag_price: “9500.001” has more decimals"),
    (lambda t: t.replace("N-200", "R-100"), "line 3: serial 'R-100' is also on line 2"),
    (lambda t: t.replace(",necklace,", ",tiara?,"), "line 3: category: “tiara?” is not one of"),
    (lambda t: t.replace("item_id,", "serial_no,"), "line 1: unknown column 'serial_no'"),
    (lambda t: t.replace("40 diamond 0.10", "forty diamonds"), "line 3: side_stones"),
    (lambda t: t + "X-1,S,Broken,ring\n", "line 4: 4 fields, the header has 21"),
    (lambda t: "", "the file is empty"),
])
def test_a_bad_row_imports_nothing(data_dir, tmp_path, capsys, mutate, message):
    csv = tmp_path / "items.csv"
    csv.write_text(mutate(ITEMS_CSV))
    assert main(["items", "import", "--data-dir", str(data_dir), str(csv)]) == 1
    assert message in capsys.readouterr().err
    main(["ledger", "verify", "--data-dir", str(data_dir)])
    assert capsys.readouterr().out.strip() == "ok: 0 entries"


def test_import_refuses_pieces_already_in_the_books(data_dir, tmp_path, capsys):
    csv = tmp_path / "items.csv"
    csv.write_text(ITEMS_CSV)
    assert main(["items", "import", "--data-dir", str(data_dir), str(csv)]) == 0
    assert main(["items", "import", "--data-dir", str(data_dir), str(csv)]) == 1
    assert "line 2: serial “R-100” is already in the books" in capsys.readouterr().err


def test_sample_files_in_docs_import(data_dir, capsys):
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert main(["items", "import", "--data-dir", str(data_dir),
                 str(docs / "sample-items.csv")]) == 0
    assert main(["clients", "import", "--data-dir", str(data_dir),
                 str(docs / "sample-clients.csv")]) == 0


def test_generate_verify_export_rebuild_forget(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOUPE_DATA_DIR", str(data_dir))
    assert main(["generate", "--items", "30", "--clients", "5", "--sales", "10",
                 "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip() == "30 pieces, 5 clients, 10 sales"
    assert main(["ledger", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 45 entries"
    out = tmp_path / "j.jsonl"
    assert main(["ledger", "export", "--out", str(out)]) == 0
    assert main(["ledger", "verify", "--export", str(out)]) == 0
    assert main(["ledger", "rebuild"]) == 0
    assert "rebuilt projections from 45 journal entries" in capsys.readouterr().out
    import sqlite3
    cid = sqlite3.connect(data_dir / "loupe.db").execute(
        "SELECT client_id FROM clients LIMIT 1").fetchone()[0]
    assert main(["clients", "forget", cid]) == 0
    assert main(["clients", "forget", cid]) == 1
    assert "already erased" in capsys.readouterr().err
    assert main(["ledger", "verify"]) == 0


def test_errors_are_one_line_on_stderr(tmp_path, capsys):
    assert main(["ledger", "verify", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("loupe: error:") and err.count("\n") == 1
    assert main(["ledger", "verify", "--export", str(tmp_path / "nope.jsonl")]) == 1


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "hub", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("init", "run", "demo", "items", "clients", "generate", "ledger"):
        assert command in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_stops_cleanly_on_sigterm(data_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(_free_port()), "--insecure-http", "--no-zeroconf"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if '"msg": "running"' in line or not line:
            break
    assert any('"msg": "running"' in line for line in lines), "".join(lines)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert '"msg": "stopped"' in rest


def test_a_store_role_from_the_command_line(data_dir, capsys):
    d = str(data_dir)
    assert main(["staff", "role", "trainee", "sell", "stock.view", "--data-dir", d]) == 0
    assert main(["staff", "add", "lea", "--name", "Léa Martin", "--role", "trainee",
                 "--pin", "1234", "--data-dir", d]) == 0
    assert main(["staff", "add", "bob", "--name", "Bob", "--role", "chef", "--pin", "1234",
                 "--data-dir", d]) == 1
    assert "“chef” is not one of" in capsys.readouterr().err
    assert main(["staff", "role", "admin", "sell", "--data-dir", d]) == 1
    assert "lock itself out" in capsys.readouterr().err
    assert main(["staff", "roles", "--data-dir", d]) == 0
    out = capsys.readouterr().out
    assert "trainee (changed by this store): sell, stock.view" in out
    assert main(["staff", "list", "--data-dir", d]) == 0
    assert "lea" in capsys.readouterr().out


def test_loupe_run_parses_without_the_layers_commands():
    """`loupe run` spends no start-up on the other commands' modules (HQ's console, the web
    shop, the PostgreSQL client); `loupe --help` still lists every layer's commands."""
    probe = ("import sys; from hub.cli import main\n"
             "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('hub.hq.console.cli', 'psycopg', 'hub.backup.cli')"
             " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    listed = subprocess.run([sys.executable, "-m", "hub", "--help"], capture_output=True,
                            text=True, check=True, timeout=60).stdout
    assert "backup" in listed and "restore" in listed and "run" in listed
