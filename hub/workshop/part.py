"""The workshop part of the daemon: `[workshop]` and `[layaway]` read at start (a wrong key
stops the hub with the key named), the deposits, jobs, layaways and appraisals on the
runtime, and what they add to the rest of the hub: the `deposit` tender and the repairs'
service lines of sales, layaways' overdue instalments among the follow-ups, envelope scans,
and a weekly reminder of jobs waiting to be collected (through the outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

from hub.bus import Event
from hub.core.errors import Refused
from hub.runtime import Runtime
from hub.store import Store
from hub.workshop.appraisals import Appraisals
from hub.workshop.deposits import Deposits
from hub.workshop.jobs import JOB_NUMBER, Jobs, settings_of
from hub.workshop.layaways import Layaways, layaway_settings_of

log = logging.getLogger(__name__)
REMIND_EVERY_S = 6 * 3600  # reminders are once a week each; looking often costs nothing


def is_job_number(code: str) -> bool:
    return bool(JOB_NUMBER.match(code.strip().upper()))


@contextlib.contextmanager
def workshop_of(store: Store) -> Iterator[tuple[Deposits, Jobs, Layaways]]:
    """The workshop's services on a store's sales while inside: deposits as a tender, the
    repairs' service lines, the jobs and layaways following their sales (the part, the demo
    and the benchmarks use the same)."""
    deposits = Deposits(store.ledger, store.accounts, store.config.currency)
    jobs = Jobs(store, deposits, settings_of(store.config))
    layaways = Layaways(store, deposits, layaway_settings_of(store.config))
    deposits.holders.update(J=jobs, L=layaways)
    extensions = (deposits, jobs, layaways)
    store.sales.extensions.extend(extensions)
    store.sales.services["job"] = jobs
    try:
        yield deposits, jobs, layaways
    finally:
        store.sales.services.pop("job", None)
        for extension in extensions:
            store.sales.extensions.remove(extension)


@contextlib.asynccontextmanager
async def part(runtime: Runtime) -> AsyncIterator[Jobs]:
    with workshop_of(runtime.store) as (deposits, jobs, layaways):
        async with _running(runtime, deposits, jobs, layaways):
            yield jobs


@contextlib.asynccontextmanager
async def _running(runtime: Runtime, deposits: Deposits, jobs: Jobs,
                   layaways: Layaways) -> AsyncIterator[None]:
    store = runtime.store
    if runtime.followups is not None:  # clienteling starts first: overdue instalments
        runtime.followups.sources.append(layaways.followups)
    # An envelope's barcode is a job number, not a piece: the registers leave it to us, and
    # every screen of the workshop hears it (the board moves it on, others open the job).
    store.registers.claims.append(is_job_number)
    tasks: set[asyncio.Task[None]] = set()

    async def scanned(event: Event) -> None:
        code = str(event.data.get("code") or "").strip().upper()
        try:
            job = await jobs.get(code)
        except Refused:  # not a job of this store: said to the screens, in words
            runtime.bus.publish("workshop.scanned", job_id=code, found=False,
                                device=event.data.get("device"))
            return
        runtime.bus.publish("workshop.scanned", job_id=code, found=True, stage=job["stage"],
                            device=event.data.get("device"),
                            register=event.data.get("register"))

    def on_scan(event: Event) -> None:
        if not is_job_number(str(event.data.get("code") or "")):
            return
        task = asyncio.get_running_loop().create_task(scanned(event))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def remind() -> None:
        while True:
            try:
                await jobs.remind_overdue()
            except Exception:  # a reminder missed is asked again at the next round
                log.exception("reminders of jobs waiting to be collected failed")
            await asyncio.sleep(REMIND_EVERY_S)

    unlisten = runtime.bus.listen("device.scan", on_scan)
    reminder = asyncio.create_task(remind())
    runtime.deposits, runtime.jobs, runtime.layaways = deposits, jobs, layaways
    runtime.appraisals = Appraisals(store, jobs)
    try:
        yield
    finally:
        unlisten()
        reminder.cancel()
        for task in list(tasks):
            task.cancel()
        store.registers.claims.remove(is_job_number)
        if runtime.followups is not None and layaways.followups in runtime.followups.sources:
            runtime.followups.sources.remove(layaways.followups)
        runtime.deposits = runtime.jobs = runtime.layaways = runtime.appraisals = None
