"""One thread per device for blocking libraries (python-escpos, pyusb, pyserial's open).

The aiosqlite pattern: the thread owns the blocking object and runs calls from a queue,
each answered through an asyncio future, so the event loop never waits on a device and one
stuck device never holds another's thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_STOP = object()


class DeviceWorker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def _ensure(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=f"device-{self.name}",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            loop, future, fn = item
            try:
                result = fn()
            except BaseException as exc:  # handed to the awaiting coroutine, never lost
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn()` on this device's thread and await its result."""
        self._ensure()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn))
        return await future

    def stop(self) -> None:
        if self._thread is not None:
            self._calls.put(_STOP)
            self._thread = None


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the caller gave up (cancelled); drop the late answer
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
