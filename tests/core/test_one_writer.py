"""One writer for the books: with `loupe run` up, every writing CLI command goes through the
hub's control channel and the hub's memory follows; a second hub, or a command that cannot
reach the hub holding the lock, is refused in one line and writes nothing. Real processes,
a real socket, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from hub.cli import main
from hub.control import LOCK_NAME, SOCKET_NAME

ITEMS_CSV = """item_id,sku,description,category,metal,fineness,metal_weight_g,cost,tag_price,location
R-100,SOL-1,Solitaire ring,ring,platinum,950,4.25,3000.00,9500.00,showcase-1
N-200,RIV-1,Rivière necklace,necklace,gold,750,22.5,12000,36000.50,safe
"""
CLIENTS_CSV = """first_name,last_name,email
Odile,Marchetti,odile@example.com
Paul,Verdier,paul@example.com
"""
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def until(cond, what: str, timeout: float = 60.0):
    """Wait for a condition (a bound on a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.02)


class Hub:
    """`loupe run` as a subprocess, its output drained by threads (a full pipe would stall it)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "--data-dir", str(data_dir),
             "--host", "127.0.0.1", "--port", "0", "--insecure-http", "--no-zeroconf"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, ls=lines: ls.extend(iter(s.readline, "")),
                             daemon=True).start()
        # Two pipes, two threads: the log line and the banner arrive in either order.
        until(lambda: self.proc.poll() is not None or (
                  any('"msg": "running"' in ln for ln in self.err)
                  and any("Loupe is serving" in ln for ln in self.out)),
              "the hub to run")
        assert self.proc.poll() is None, "".join(self.err)
        serving = next(ln for ln in self.out if "Loupe is serving" in ln)
        self.base = "http://127.0.0.1:" + serving.rsplit(":", 1)[1].strip(" /\n")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        until(lambda: any('"msg": "stopped"' in ln for ln in self.err), "the stop log")
        return code


class Api:
    """The staff API over real HTTP: a session cookie, its CSRF token, same-origin requests."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie = ""
        self.csrf = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Origin": self.base, "Cookie": self.cookie, "X-CSRF-Token": self.csrf}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, raw, cookie = resp.status, resp.read(), resp.headers.get("Set-Cookie")
        except urllib.error.HTTPError as exc:
            status, raw, cookie = exc.code, exc.read(), None
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return status, json.loads(raw) if raw else {}

    def sign_in(self, staff_id: str, pin: str) -> tuple[int, dict]:
        status, body = self.call("POST", "/api/v1/session",
                                 {"staff_id": staff_id, "pin": pin, "register_id": "R1"})
        if status == 200:
            self.csrf = body["csrf"]
        return status, body


def loupe(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def journal(data_dir: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(f"file:{data_dir / 'loupe.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT seq, kind, subject FROM journal ORDER BY seq").fetchall()
    finally:
        conn.close()


@pytest.fixture
def data_dir(tmp_path: Path, capsys) -> Path:
    d = tmp_path / "store"
    assert main(["init", "--data-dir", str(d), "--store-id", "paris-01",
                 "--store-name", "Maison Paris", "--currency", "EUR"]) == 0
    capsys.readouterr()
    return d


@pytest.fixture
def hub(data_dir: Path):
    hub = Hub(data_dir)
    yield hub
    if hub.proc.poll() is None:
        hub.proc.kill()
        hub.proc.wait()


def test_every_writing_command_goes_through_the_running_hub(hub, data_dir, tmp_path, capsys):
    d = ["--data-dir", str(data_dir)]
    sock = data_dir / SOCKET_NAME
    mode = os.stat(sock).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600

    code, out, err = loupe(capsys, "day", "close", *d)
    assert code == 0 and out.startswith("Z1 "), err
    assert loupe(capsys, "staff", "add", *d, "nina", "--name", "Nina Roux", "--role",
                 "manager", "--pin", "482913")[0] == 0
    # A refusal comes back from the hub as the books said it, with the same exit code.
    code, _, err = loupe(capsys, "staff", "add", *d, "nina", "--name", "N", "--pin", "111111")
    assert code == 1 and err == "loupe: error: staff id “nina” is taken\n"

    api = Api(hub.base)
    status, me = api.sign_in("nina", "482913")
    assert status == 200 and me["name"] == "Nina Roux" and me["role"] == "manager"
    assert loupe(capsys, "staff", "pin", *d, "nina", "--pin", "735194")[0] == 0
    assert loupe(capsys, "staff", "set", *d, "nina", "--role", "associate")[0] == 0
    assert api.sign_in("nina", "482913")[0] == 401
    status, me = api.sign_in("nina", "735194")
    assert status == 200 and me["role"] == "associate"  # the hub's roster followed at once

    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV)
    assert loupe(capsys, "items", "import", *d, str(items))[1] == f"imported 2 pieces from {items}\n"
    code, _, err = loupe(capsys, "items", "import", *d, str(items))
    assert code == 1 and err == (f"loupe: error: {items}: line 2: serial “R-100” is already in"
                                 " the books\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(ITEMS_CSV.replace("R-100", "R-101").encode() + b"X-1,\xff\n")
    code, _, err = loupe(capsys, "items", "import", *d, str(bad))
    assert code == 1 and err.startswith(f"loupe: error: {bad}: not UTF-8 text (byte ")

    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS_CSV)
    assert loupe(capsys, "clients", "import", *d, str(clients))[0] == 0
    status, found = api.call("GET", "/api/v1/clients?q=odile")
    assert status == 200 and [c["name"] for c in found["clients"]] == ["Odile Marchetti"]
    odile = found["clients"][0]["client_id"]
    code, out, _ = loupe(capsys, "clients", "forget", *d, odile)
    assert code == 0 and f"forgot client {odile}" in out
    assert api.call("GET", "/api/v1/clients?q=odile")[1]["clients"] == []  # index followed
    code, _, err = loupe(capsys, "clients", "forget", *d, odile)
    assert code == 1 and "already erased" in err

    # A sale at the register, by the member the CLI enrolled, while all that goes on (before
    # the generator, which sells from the same stock).
    cart = "/api/v1/registers/R1/cart"
    assert api.call("POST", cart + "/lines", {"item_id": "R-100"})[0] == 200
    assert api.call("POST", cart + "/tenders", {"type": "cash", "amount": 950_000})[0] == 200
    status, done = api.call("POST", cart + "/complete", {})
    assert status == 201, done
    assert done["sale"]["total"] == 950_000

    code, out, err = loupe(capsys, "generate", *d, "--items", "6", "--clients", "3",
                           "--sales", "2", "--seed", "7")
    assert code == 0 and out.startswith("6 pieces, 3 clients, "), err
    generated_sales = int(out.split(", ")[2].split()[0])
    code, out, _ = loupe(capsys, "ledger", "rebuild", *d)
    assert code == 0 and out == f"rebuilt projections from {len(journal(data_dir))} journal entries\n"
    assert [c["name"] for c in api.call("GET", "/api/v1/clients?q=paul")[1]["clients"]] == \
        ["Paul Verdier"]  # the name index, reloaded after the rebuild

    code, out, _ = loupe(capsys, "day", "close", *d, "--json")
    z2 = json.loads(out)
    assert code == 0 and z2["z_no"] == 2 and z2["totals"]["sales"] == generated_sales + 1

    # Read-only commands beside the hub.
    code, out, _ = loupe(capsys, "status", *d)
    assert code == 0 and f"hub          running (pid {hub.pid})" in out
    assert json.loads(loupe(capsys, "status", *d, "--json")[1])["hub_pid"] == hub.pid
    assert "Nina Roux" in loupe(capsys, "staff", "list", *d)[1]
    assert loupe(capsys, "day", "report", *d)[1].startswith("X report since Z2")
    assert loupe(capsys, "counts", "list", *d)[1] == "no counts\n"

    assert hub.stop() == 0
    log = "".join(hub.err)
    assert "UNIQUE constraint" not in log and "Traceback" not in log
    assert not (data_dir / SOCKET_NAME).exists()

    entries = journal(data_dir)
    assert [seq for seq, _, _ in entries] == list(range(1, len(entries) + 1))
    kinds = Counter(kind for _, kind, _ in entries)
    assert kinds["day.closed"] == 2 and kinds["staff.enrolled"] == 1
    assert kinds["staff.changed"] == 2 and kinds["item.received"] == 2 + 6
    assert kinds["client.created"] == 2 + 3 and kinds["client.forgotten"] == 1
    assert kinds["sale.completed"] == generated_sales + 1
    code, out, _ = loupe(capsys, "ledger", "verify", *d)
    assert code == 0 and out == f"ok: {len(entries)} entries\n"


def test_a_second_hub_on_the_same_store_is_refused(hub, data_dir):
    second = subprocess.run(
        [sys.executable, "-m", "hub", "run", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", "0", "--insecure-http", "--no-zeroconf"],
        capture_output=True, text=True, env=ENV, timeout=60)
    assert second.returncode == 1
    assert second.stderr == (f"loupe: error: the books in {data_dir} are held by pid {hub.pid}"
                             " (`loupe run`): one hub per store, and this one cannot start"
                             " beside it\n")
    assert hub.proc.poll() is None  # the first one goes on


HOLDER = """
import fcntl, os, socket, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.pwrite(fd, f"{os.getpid()} loupe run\\n".encode(), 0)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[2])
if sys.argv[3] == "stale":
    s.close()  # the file stays: what a hub killed with -9 leaves behind
else:
    s.listen()  # accepts (the kernel does), reads nothing, then hangs up
print("ready", flush=True)
if sys.argv[3] == "mute":
    conn, _ = s.accept()
    conn.close()
sys.stdin.read()
"""


@pytest.mark.parametrize("kind, why", [
    ("stale", "nobody listens: a socket left by a hub that stopped"),
    ("mute", "it closed the connection without answering"),
])
def test_a_hub_that_does_not_answer_gets_nothing_written(data_dir, tmp_path, capsys, kind, why):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir / LOCK_NAME),
                               str(data_dir / SOCKET_NAME), kind],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        code, out, err = loupe(capsys, "day", "close", "--data-dir", str(data_dir))
        assert code == 1 and out == ""
        assert err == (f"loupe: error: the books in {data_dir} are held by pid {holder.pid}"
                       f" (`loupe run`) but its hub does not answer on {data_dir / SOCKET_NAME}"
                       f" ({why}); nothing was written\n")
        # Read-only commands still work: they never needed the hub.
        code, out, _ = loupe(capsys, "status", "--data-dir", str(data_dir))
        assert code == 0 and f"running (pid {holder.pid})" in out
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert journal(data_dir) == []


def test_a_command_beside_a_busy_cli_command_waits_its_turn(data_dir, capsys):
    """The lock held by a writing CLI command (not a hub): a hub may not start, and another
    writing command is told to run again later; neither writes."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER.replace("loupe run", "loupe generate"),
                               str(data_dir / LOCK_NAME), str(data_dir / "unused.sock"), "stale"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        code, _, err = loupe(capsys, "staff", "add", "--data-dir", str(data_dir), "zoe",
                             "--name", "Zoé", "--pin", "123456")
        assert code == 1
        assert err == (f"loupe: error: the books in {data_dir} are held by pid {holder.pid}"
                       " (`loupe generate`); nothing was written: run this again once it has"
                       " finished\n")
        run = subprocess.run([sys.executable, "-m", "hub", "run", "--data-dir", str(data_dir),
                              "--port", "0", "--insecure-http", "--no-zeroconf"],
                             capture_output=True, text=True, env=ENV, timeout=60)
        assert run.returncode == 1 and "(`loupe generate`): one hub per store" in run.stderr
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert journal(data_dir) == []


def test_a_hub_killed_outright_leaves_the_books_to_the_next_writer(hub, data_dir, capsys):
    hub.proc.kill()  # SIGKILL: no clean stop, the socket file stays; the kernel drops the lock
    hub.proc.wait()
    assert (data_dir / SOCKET_NAME).exists()
    code, out, _ = loupe(capsys, "status", "--data-dir", str(data_dir))
    assert "hub          not running" in out
    code, out, err = loupe(capsys, "day", "close", "--data-dir", str(data_dir))
    assert code == 0 and out.startswith("Z1 "), err  # opened the books itself, under the lock
    again = Hub(data_dir)  # and a new hub replaces the dead one's socket
    try:
        assert loupe(capsys, "day", "close", "--data-dir", str(data_dir))[1].startswith("Z2 ")
    finally:
        assert again.stop() == 0
    assert [kind for _, kind, _ in journal(data_dir)] == ["day.closed", "day.closed"]


async def test_a_read_only_store_refuses_to_write_and_migrates_nothing(data_dir):
    from hub.ledger.ledger import LedgerError
    from hub.ledger.schema import SchemaError
    from hub.store import Store

    store = await Store.open(data_dir, read_only=True)
    try:
        assert store.ledger.read_only and store.ledger._thread is None  # no writer thread
        with pytest.raises(LedgerError, match="open read-only: only the running hub writes"):
            await store.closures.close_day("manager")
        assert (await store.closures.report())["through_seq"] == 0  # reads still work
    finally:
        await store.close()
    assert journal(data_dir) == []

    db = data_dir / "loupe.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_versions SET version = version - 1 WHERE area = 'core'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match=r"core schema is version \d+ and this Loupe needs"):
        await Store.open(data_dir, read_only=True)
    conn = sqlite3.connect(db)
    core = conn.execute("SELECT version FROM schema_versions WHERE area = 'core'").fetchone()[0]
    conn.close()
    from hub.core.schema import CORE

    assert core == CORE.latest - 1  # still old: a read-only open never migrates


def test_the_socket_is_reachable_from_a_long_data_dir(tmp_path, capsys):
    """`sun_path` holds 107 bytes; a data dir deeper than that still gets its channel."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5) / "store"
    assert len(str(deep / SOCKET_NAME)) > 108
    assert main(["init", "--data-dir", str(deep), "--store-id", "deep-01",
                 "--store-name", "Deep", "--currency", "EUR"]) == 0
    capsys.readouterr()
    hub = Hub(deep)
    try:
        code, out, err = loupe(capsys, "day", "close", "--data-dir", str(deep))
        assert code == 0 and out.startswith("Z1 "), err
        assert any('"command": "day.close"' in ln for ln in hub.err)  # it went through the hub
    finally:
        assert hub.stop() == 0


@pytest.mark.skipif(not Path("/usr/sbin/mosquitto").exists(), reason="no mosquitto")
def test_enroll_on_a_running_hub_starts_replication(hub, data_dir, tmp_path, capsys):
    from hub.sync.broker import Mosquitto

    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    hq_dir, bundle = tmp_path / "hq", tmp_path / "paris.bundle"
    hq = None
    try:
        assert loupe(capsys, "hq", "init", "--data-dir", str(hq_dir), "--chain-id", "maison")[0] == 0
        assert loupe(capsys, "hq", "enroll", "--data-dir", str(hq_dir), "--store-id", "paris-01",
                     "--broker", broker.url, "--out", str(bundle))[0] == 0
        hq = subprocess.Popen([sys.executable, "-m", "hub", "hq", "run", "--data-dir",
                               str(hq_dir), "--broker", broker.url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        assert loupe(capsys, "day", "close", "--data-dir", str(data_dir))[0] == 0
        code, out, err = loupe(capsys, "enroll", "--data-dir", str(data_dir), str(bundle))
        assert code == 0, err
        assert f"broker: {broker.url}; replicating to {broker.url}" in out

        def hq_head() -> int:
            # HQ's own database, read by its CLI while `loupe hq run` runs.
            main(["hq", "stores", "--data-dir", str(hq_dir), "--json"])
            rows = json.loads(capsys.readouterr().out)
            return rows[0]["contiguous_seq"] if rows else 0

        until(lambda: hq_head() == len(journal(data_dir)), "HQ to hold the store's journal")
    finally:
        if hq is not None:
            hq.terminate()
            hq.wait(30)
        broker.stop()
