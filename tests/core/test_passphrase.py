"""A master key under a passphrase (`loupe keys protect`): the books open with the right
passphrase from any of its sources, a wrong one is refused in a sentence, and `unprotect`
gives back the very same key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from hub.cli import main
from hub.ledger.keys import is_protected, load_master_key
from hub.store import Store
from tests.builders import piece

PHRASE = "opal and onyx at dawn"


def _phrase_file(tmp_path, text: str = PHRASE):
    path = tmp_path / "phrase"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


async def test_protect_open_refuse_unprotect(make_config, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LOUPE_PASSPHRASE", raising=False)
    config = make_config()
    clear = config.master_key_file.read_bytes()
    store = await Store.open(config)
    await store.items.receive(piece(1), "admin")
    await store.close()

    data_dir = str(config.data_dir)
    assert main(["keys", "protect", "--data-dir", data_dir,
                 "--passphrase-file", str(_phrase_file(tmp_path))]) == 0
    text = config.master_key_file.read_bytes()
    assert is_protected(config.master_key_file) and clear.strip() not in text
    assert oct(config.master_key_file.stat().st_mode & 0o777) == "0o600"
    assert not list(config.data_dir.glob(".master.key*"))  # no clear copy left beside it

    monkeypatch.setenv("LOUPE_PASSPHRASE", PHRASE)
    store = await Store.open(config)
    try:
        assert (await store.items.get(piece(1)["item_id"]))["status"] == "in_stock"
    finally:
        await store.close()

    monkeypatch.setenv("LOUPE_PASSPHRASE", "not the passphrase")
    capsys.readouterr()
    # A command that opens the books: one sentence, exit 1 (on a thread: it runs its loop).
    assert await asyncio.to_thread(main, ["day", "report", "--data-dir", data_dir]) == 1
    err = capsys.readouterr().err
    assert err.startswith("loupe: error: the passphrase does not open") and "Traceback" not in err

    # A systemd credential `master.passphrase` comes first.
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "master.passphrase").write_text(PHRASE + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert load_master_key(config.master_key_file).hex() == clear.decode().strip()
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")

    monkeypatch.delenv("LOUPE_PASSPHRASE")
    assert main(["keys", "unprotect", "--data-dir", data_dir,
                 "--passphrase-file", str(_phrase_file(tmp_path))]) == 0
    assert config.master_key_file.read_bytes() == clear  # the same key, byte for byte
    store = await Store.open(config)
    await store.close()


def test_a_protected_key_with_nobody_to_ask(make_config, tmp_path):
    config = make_config()
    assert main(["keys", "protect", "--data-dir", str(config.data_dir),
                 "--passphrase-file", str(_phrase_file(tmp_path))]) == 0
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOUPE_PASSPHRASE", "CREDENTIALS_DIRECTORY", "INVOCATION_ID")}
    # A new session: no terminal to prompt on, as a service started without one.
    done = subprocess.run([sys.executable, "-m", "hub", "day", "report", "--data-dir",
                           str(config.data_dir)], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, start_new_session=True, timeout=60)
    assert done.returncode == 1
    assert "protected by a passphrase and there is nobody to ask" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_short_passphrase_is_refused(make_config, tmp_path, capsys):
    config = make_config()
    assert main(["keys", "protect", "--data-dir", str(config.data_dir),
                 "--passphrase-file", str(_phrase_file(tmp_path, "short"))]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    assert not is_protected(config.master_key_file)
