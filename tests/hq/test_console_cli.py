"""`loupe hq staff ...` and `loupe hq run --web`, as an operator runs them."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
from sync_helpers import until

from hub.hq.console import part
from hub.sync.enroll import HQKeys
from hub.sync.hqstore import SqliteHQStorage


def loupe(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], input=stdin, text=True,
                          capture_output=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_staff_add_list_disable(tmp_path: Path) -> None:
    hq = str(tmp_path / "hq")
    assert loupe("hq", "init", "--data-dir", hq, "--chain-id", "maison").returncode == 0
    done = loupe("hq", "staff", "add", "olga", "--role", "owner", "--password-file", "-",
                 "--data-dir", hq, stdin="owner-secret-1\n")
    assert done.returncode == 0, done.stderr
    pw = tmp_path / "pw"
    pw.write_text("audit-secret-1\n")
    assert loupe("hq", "staff", "--data-dir", hq, "add", "aude", "--role", "auditor",
                 "--password-file", str(pw)).returncode == 0
    refused = loupe("hq", "staff", "add", "bob", "--role", "auditor", "--password-file", "-",
                    "--data-dir", hq, stdin="short\n")
    assert refused.returncode == 1 and "at least 10 characters" in refused.stderr
    assert "Traceback" not in refused.stderr
    again = loupe("hq", "staff", "add", "olga", "--role", "auditor", "--password-file", "-",
                  "--data-dir", hq, stdin="another-secret\n")
    assert again.returncode == 1 and "already" in again.stderr
    assert loupe("hq", "staff", "disable", "aude", "--data-dir", hq).returncode == 0
    listed = loupe("hq", "staff", "list", "--data-dir", hq).stdout.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [["aude", "auditor", "disabled"],
                                                          ["olga", "owner", "active"]]
    storage = SqliteHQStorage(Path(hq) / "hq.db", (part.PART,))
    try:
        (row,) = storage.query("SELECT secret_hash FROM console_staff WHERE name = 'olga'")
        assert "owner-secret-1" not in row["secret_hash"]
        assert part.sign_in(storage, "olga", "owner-secret-1") == {"name": "olga",
                                                                     "role": "owner"}
        assert part.sign_in(storage, "aude", "audit-secret-1") is None  # disabled
    finally:
        storage.close()


async def test_hq_run_web_serves_the_console(tmp_path: Path, broker) -> None:
    hq = tmp_path / "hq"
    assert loupe("hq", "init", "--data-dir", str(hq), "--chain-id", "maison").returncode == 0
    assert loupe("hq", "staff", "add", "olga", "--role", "owner", "--password-file", "-",
                 "--data-dir", str(hq), stdin="owner-secret-1\n").returncode == 0
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hub", "hq", "run", "--data-dir", str(hq),
                             "--broker", broker.url, "--web", "--web-host", "127.0.0.1",
                             "--web-port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    context = ssl.create_default_context(cafile=str(HQKeys.load(hq).data_dir / "ca.pem"))
    url = f"https://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         connector=aiohttp.TCPConnector(ssl=context)) as s:
            async def answers() -> bool:
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with s.get(url + "/signin") as r:
                        return r.status == 200
                return False

            await until(answers, "the console answers over HTTPS")
            async with s.get(url + "/signin") as r:
                page = await r.text()
            pre = re.search(r'name="pre" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            async with s.post(url + "/signin", data={"pre": pre, "name": "olga",
                                                     "password": "owner-secret-1"}) as r:
                assert r.status == 200
                assert "No store is enrolled yet." in await r.text()
    finally:
        proc.terminate()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait, 20)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
