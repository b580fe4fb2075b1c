"""One writer for the books: the store's lock, the named commands, and the hub's control channel.

Only one process at a time may write a store's journal. `loupe run` / `loupe demo` hold an
exclusive `flock` on `<data dir>/loupe.lock` for their whole life; a writing CLI command with
no hub running holds the same lock while it opens the books itself, so a hub cannot start
mid-command and a second hub is refused.

Every CLI command that writes is a *named command* (`@book_command("day.close")`): an async
function of the opened books. With a hub running, the CLI sends the command over the hub's
control channel — a unix socket `<data dir>/control.sock`, mode 0600, JSON lines — and the hub
runs it against its own `Store`, so its in-memory state (staff roster, client names) follows at
once. With no hub, the CLI runs the very same function on books it opens under the lock.

The protocol, one connection per command:

    → {"command": "staff.add", "args": {...}}
    ← {"accepted": true}                      (at once: the hub is alive and knows the command)
    ← {"result": ...}  or  {"refused": {"code", "message", "field"}}
                       or  {"failed": {"message", "exit"}}
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import json
import logging
import os
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub import layers
from hub.config import Config, ConfigError, load_config, resolve_data_dir
from hub.core.errors import Refused
from hub.imports import ImportError_
from hub.ledger.keys import KeyError_
from hub.ledger.ledger import LedgerError
from hub.ledger.schema import SchemaError
from hub.money import MoneyError
from hub.runtime import Runtime
from hub.store import Store

log = logging.getLogger(__name__)

LOCK_NAME = "loupe.lock"
SOCKET_NAME = "control.sock"
HUB_COMMANDS = ("loupe run", "loupe demo")  # lock holders that take commands on the socket
ACCEPT_TIMEOUT_S = 10.0  # a hub that has not accepted a command by then is not answering
STOP_GRACE_S = 10.0  # at shutdown, commands still running get this long to finish
MAX_REQUEST = 256 * 1024 * 1024  # one JSON line; imports carry whole files
REQUEST_TIMEOUT_S = 60.0  # a connection that sends no request by then is dropped


class ControlError(Exception):
    """The command could not be run (books held, hub unreachable): one line, an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class CommandError(ControlError):
    """A command's own failure to report as one line, with an exit code."""


def known_errors() -> tuple[type[BaseException], ...]:
    """What a command may fail with that is the user's to fix: one line, no traceback."""
    return (ConfigError, LedgerError, KeyError_, Refused, MoneyError, SchemaError, ImportError_,
            ControlError, OSError)


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_NAME


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


# -- the lock -----------------------------------------------------------------------------------

class BooksHeld(ControlError):
    """Another process holds the store's lock."""

    def __init__(self, data_dir: Path, pid: int | None, what: str) -> None:
        self.data_dir, self.pid, self.what = data_dir, pid, what
        who = f"pid {pid} (`{what}`)" if pid else "another process"
        super().__init__(f"the books in {data_dir} are held by {who}")

    @property
    def is_hub(self) -> bool:
        return self.what in HUB_COMMANDS


def _read_holder(fd: int) -> tuple[int | None, str]:
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    pid, _, what = text.partition(" ")
    return (int(pid) if pid.isdigit() else None), what


class BooksLock:
    """An exclusive `flock` on the store's lock file, holding `<pid> <command>` for others to
    read. Released (and the file emptied) by `release()` or when the process ends."""

    def __init__(self, data_dir: Path, fd: int) -> None:
        self.data_dir = data_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path, what: str) -> BooksLock:
        path = lock_path(data_dir)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            writable = True
        except PermissionError:  # the hub's own file, another user: we can still ask it
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            writable = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, holder = _read_holder(fd)
            os.close(fd)
            raise BooksHeld(data_dir, pid, holder) from None
        except BaseException:
            os.close(fd)
            raise
        if writable:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {what}\n".encode(), 0)
        return cls(data_dir, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # before unlocking: a reader never sees a stale pid
        os.close(self._fd)  # closing the description releases the flock
        self._fd = None

    def __enter__(self) -> BooksLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(data_dir: Path) -> tuple[int | None, str] | None:
    """Who holds the store's lock, `(pid, command)`, or None. Takes the lock only to check a
    pid left by a process that died, and drops it at once."""
    try:
        fd = os.open(lock_path(data_dir), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        pid, what = _read_holder(fd)
        if pid is None:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, another user's
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return pid, what
        return None  # nobody holds it: the pid was left by a process that is gone
    finally:
        os.close(fd)


# -- the named commands -------------------------------------------------------------------------

@dataclass
class Books:
    """What a named command runs against: the opened store, and the running hub (its
    `Runtime`) when the command came over the control channel."""

    store: Store
    runtime: Runtime | None = None


BookCommand = Callable[..., Awaitable[Any]]
COMMANDS: dict[str, BookCommand] = {}


def book_command(name: str) -> Callable[[BookCommand], BookCommand]:
    """Register `async def fn(books, **args)` as the named command `name`. Its arguments and
    result are JSON values: they may have crossed the control channel."""

    def register(fn: BookCommand) -> BookCommand:
        COMMANDS[name] = fn
        return fn

    return register


def load_commands(with_layers: tuple[layers.Layer, ...] = layers.LAYERS
                  ) -> dict[str, BookCommand]:
    """Import every layer's CLI module: importing it registers its named commands."""
    for layer in with_layers:
        if layer.cli is not None:
            layers.load(layer.cli)
    return COMMANDS


def _label(name: str) -> str:
    return "loupe " + name.replace(".", " ")


def run_command(config: Config, name: str, args: dict[str, Any]) -> Any:
    """Run a named command on the store's books: through its running hub, or — with none
    running — on books opened here under the store's lock. Never both writers at once."""
    try:
        lock = BooksLock.acquire(config.data_dir, _label(name))
    except BooksHeld as held:
        return ask_hub(held, name, args)
    with lock:
        return asyncio.run(_run_here(config, name, args))


async def _run_here(config: Config, name: str, args: dict[str, Any]) -> Any:
    store = await Store.open(config)
    try:
        result = await COMMANDS[name](Books(store), **args)
    finally:
        await store.close()
    return json.loads(json.dumps(result))  # the same JSON values the hub would send


# -- the client ---------------------------------------------------------------------------------

@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """A unix socket address for `path`, even past the 107-byte limit of `sun_path`."""
    if len(os.fsencode(path)) < 100:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def ask_hub(held: BooksHeld, name: str, args: dict[str, Any]) -> Any:
    """Send a named command to the hub holding the books; its answer, or its refusal raised."""
    path = socket_path(held.data_dir)

    def unreachable(why: str) -> ControlError:
        if not held.is_hub:
            return ControlError(f"{held}; nothing was written: run this again once it has"
                                " finished")
        return ControlError(f"{held} but its hub does not answer on {path} ({why});"
                            " nothing was written")

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        sock.settimeout(ACCEPT_TIMEOUT_S)
        try:
            with _address(path) as address:
                sock.connect(address)
        except PermissionError:
            raise ControlError(f"{held}, running as another user: run this command as that"
                               " user; nothing was written") from None
        except FileNotFoundError:
            raise unreachable("no socket: it may still be starting") from None
        except ConnectionRefusedError:
            raise unreachable("nobody listens: a socket left by a hub that stopped") from None
        except OSError as exc:
            raise unreachable(exc.strerror or str(exc)) from None
        stream = sock.makefile("rwb")
        try:
            stream.write(json.dumps({"command": name, "args": args}).encode() + b"\n")
            stream.flush()
            first = stream.readline()
        except TimeoutError:
            raise unreachable(f"no answer within {ACCEPT_TIMEOUT_S:g} s") from None
        except (ConnectionResetError, BrokenPipeError):
            first = b""
        except OSError as exc:
            raise unreachable(exc.strerror or str(exc)) from None
        if not first:
            raise unreachable("it closed the connection without answering")
        answer = _decode(first, unreachable)
        if answer.get("accepted") is True:
            sock.settimeout(None)  # accepted: a long command (generate, rebuild) may take a while
            try:
                last = stream.readline()
            except OSError:
                last = b""
            if not last:
                raise ControlError(
                    f"the hub (pid {held.pid}) stopped answering while running `{_label(name)}`:"
                    " see `loupe status` and the hub's log for what was recorded")
            answer = _decode(last, unreachable)
    return _outcome(answer)


def _decode(line: bytes, unreachable: Callable[[str], ControlError]) -> dict[str, Any]:
    try:
        answer = json.loads(line)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise unreachable("it does not speak the control protocol")
    return answer


def _outcome(answer: dict[str, Any]) -> Any:
    if "result" in answer:
        return answer["result"]
    if isinstance(refused := answer.get("refused"), dict):
        raise Refused(str(refused.get("code")), str(refused.get("message")),
                      field=refused.get("field"))
    failed = answer.get("failed") if isinstance(answer.get("failed"), dict) else {}
    raise ControlError(str(failed.get("message", "the hub answered nothing usable")),
                       int(failed.get("exit", 1)))


# -- the server: a part of `loupe run` ----------------------------------------------------------

def _failure(name: str, exc: BaseException) -> dict[str, Any]:
    """A command's exception as the answer the CLI turns back into the same line and code."""
    if isinstance(exc, Refused):
        return {"refused": {"code": exc.code, "message": str(exc), "field": exc.field}}
    if isinstance(exc, ControlError):
        return {"failed": {"message": str(exc), "exit": exc.code}}
    if isinstance(exc, known_errors()):
        return {"failed": {"message": str(exc), "exit": 1}}
    log.error("control command failed", exc_info=exc, extra={"command": name})
    return {"failed": {"message": f"the hub could not run `{_label(name)}`: an internal error"
                                  " (details in the hub's log)", "exit": 1}}


class ControlServer:
    """The hub's end of the control channel."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.path = socket_path(runtime.config.data_dir)
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._commands: asyncio.Future[dict[str, BookCommand]] | None = None

    def commands(self) -> asyncio.Future[dict[str, BookCommand]]:
        """The named commands, imported on a thread when the first one is asked for: the
        layers' CLI modules (HQ's PostgreSQL client among them) are a third of a second of
        imports a hub's start need not wait for."""
        if self._commands is None:
            self._commands = asyncio.ensure_future(
                asyncio.to_thread(load_commands, self.runtime.layers))
        return self._commands

    async def start(self) -> None:
        # This process holds the store's lock: any socket file here is a dead hub's.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)  # born 0600: no moment where another user could connect
        try:
            with _address(self.path) as address:
                self._server = await asyncio.start_unix_server(self._serve, path=address,
                                                               limit=MAX_REQUEST)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        log.info("control channel open", extra={"socket": str(self.path)})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._handlers:
            _, late = await asyncio.wait(set(self._handlers), timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the CLI went away; a command it started has run to its end regardless
        finally:
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(answer: dict[str, Any]) -> None:
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()

        peer = _peer(writer)
        if peer is not None and peer[1] not in (os.getuid(), 0):
            await send({"failed": {"message": "this hub takes commands from its own user only",
                                   "exit": 1}})
            return
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT_S)
        except TimeoutError:
            return  # connected and said nothing: not a CLI
        except ValueError:  # longer than MAX_REQUEST
            await send({"failed": {"message": "the request is too large", "exit": 2}})
            return
        try:
            request = json.loads(line)
            name, args = request["command"], request["args"]
            if not isinstance(name, str) or not isinstance(args, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            await send({"failed": {"message": "not a control request", "exit": 2}})
            return
        command = (await self.commands()).get(name)
        if command is None:
            await send({"failed": {"message": f"this hub does not know the command {name!r}:"
                                              " is it an older version than this CLI?",
                                   "exit": 2}})
            return
        await send({"accepted": True})
        # Never the arguments: they can hold PINs and personal data.
        log.info("control command", extra={"command": name, "peer_pid": peer and peer[0]})
        try:
            result = await command(Books(self.runtime.store, self.runtime), **args)
            answer = {"result": json.loads(json.dumps(result))}
        except asyncio.CancelledError:
            answer = {"failed": {"message": f"the hub stopped before `{_label(name)}` finished;"
                                            " what it had recorded stays in the books", "exit": 1}}
            with contextlib.suppress(Exception):
                await send(answer)
            raise
        except Exception as exc:
            answer = _failure(name, exc)
        await send(answer)


def _peer(writer: asyncio.StreamWriter) -> tuple[int, int, int] | None:
    """(pid, uid, gid) of the process at the other end of the socket."""
    sock = writer.get_extra_info("socket")
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (AttributeError, OSError):
        return None
    return struct.unpack("3i", raw)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[ControlServer]:
    """The control channel, started last by the daemon and so stopped first."""
    server = ControlServer(runtime)
    await server.start()
    runtime.control = server
    try:
        yield server
    finally:
        runtime.control = None
        await server.stop()


# -- what every layer's CLI module uses ---------------------------------------------------------

def data_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="the store's data dir (default: $LOUPE_DATA_DIR)")


def write_books(args: argparse.Namespace, command: str, **params: Any) -> Any:
    """Run the named command on the books of `--data-dir`: through the running hub if there
    is one, else here under the store's lock. Its result (JSON values), or its refusal."""
    return run_command(load_config(resolve_data_dir(args.data_dir)), command, params)


def read_books(args: argparse.Namespace, action: Callable[[Store], Awaitable[Any]]) -> Any:
    """Open the books of `--data-dir` read-only, run `action(store)`, always close them."""

    async def go() -> Any:
        store = await Store.open(load_config(resolve_data_dir(args.data_dir)), read_only=True)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(go())


def file_content(path: str, missing: Callable[[str], Exception] | None = None) -> str:
    """A file the CLI reads for a command, as base64: the hub may run as another user, and
    must get the exact bytes (a bad byte is reported where it is)."""
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except FileNotFoundError:
        if missing is None:
            raise
        raise missing(f"{path}: no such file") from None


__all__ = ["BooksHeld", "BooksLock", "Books", "ControlError", "CommandError", "book_command",
           "holder", "run_command", "ask_hub", "part", "data_dir_arg", "write_books",
           "read_books", "file_content", "known_errors"]
