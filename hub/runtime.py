"""The shapes every layer plugs into: an `Area` of the books, a `Layer`, and the typed
`Runtime` of a running hub.

A layer (devices, counts, sync, web, the control channel, and the core itself) is declared
once, in its own package's `layer.py`, as a `Layer`: the areas of the books it owns (tables,
projections, its part of the Z report), and the modules of its daemon part, its web screens
and its CLI commands. `hub/layers.py` lists the layers in the order they start. Nothing else
knows which layers exist.

The `Runtime` is what a running hub hands its parts: the config, the opened store, the bus,
how it was started, and one typed member per layer's service (None until that layer's part
runs). Nothing is looked up by a string.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.bus import EventBus
from hub.config import Config
from hub.core.projector import Handler
from hub.ledger.ledger import Tx
from hub.ledger.schema import Schema

if TYPE_CHECKING:  # the layers' service types, for annotations only (no import at run time)
    from aiohttp import web

    from hub.buying.book import Buying
    from hub.clienteling.appointments import Appointments
    from hub.clienteling.book import FollowUps
    from hub.clienteling.loyalty import Loyalty
    from hub.clienteling.privacy import Privacy
    from hub.clienteling.recommend import Recommendations
    from hub.clienteling.tiers import Tiers
    from hub.clienteling.wishlists import Wishlists
    from hub.control import ControlServer
    from hub.counts.service import Counts
    from hub.devices.manager import DeviceManager
    from hub.devices.sim.rig import DemoRig
    from hub.giftcards.cards import GiftCards
    from hub.memo.service import Memo
    from hub.store import Store
    from hub.sync.part import SyncPart
    from hub.transfers.book import Transfers
    from hub.travel.service import Travel
    from hub.workshop.appraisals import Appraisals
    from hub.workshop.deposits import Deposits
    from hub.workshop.jobs import Jobs
    from hub.workshop.layaways import Layaways


ClosureSection = Callable[[Tx, int, int], dict[str, Any]]


@dataclass(frozen=True)
class Area:
    """A slice of the books: its tables (a `Schema` with its migrations), the projection
    handlers of the entry kinds it owns, and what it adds to the daily closure (Z report):
    `closure_section(tx, from_seq, through_seq)`."""

    name: str
    schema: Schema
    projections: dict[str, Handler] = field(default_factory=dict)
    closure_section: ClosureSection | None = None


@dataclass(frozen=True)
class Layer:
    """One layer of the hub. `part`, `web` and `cli` name modules (imported when the hub,
    the web app or the CLI is assembled, so declaring a layer costs nothing):

    - `part`: `async def part(runtime)`, an async context manager that yields once running;
    - `web`: `def setup(web: WebSetup)` adding pages, API routes, templates and topics;
    - `cli`: `def add_commands(subparsers)`, with the layer's named commands registered
      (`hub.control.book_command`) when the module is imported.
    """

    name: str
    areas: tuple[Area, ...] = ()
    part: str | None = None
    web: str | None = None
    cli: str | None = None
    # The layer's own permissions (name -> what it lets a person do, an N_() sentence) and
    # which shipped roles get them (`hub/core/roles.py`; the administrator gets them all).
    permissions: dict[str, str] = field(default_factory=dict)
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Options:
    """How this run was asked for (from the command line)."""

    host: str = "0.0.0.0"
    port: int = 8443
    insecure_http: bool = False
    demo: bool = False
    zeroconf: bool = True


@dataclass
class WebServing:
    """The web part, once it serves."""

    app: web.Application
    port: int
    scheme: str


@dataclass
class Runtime:
    """A running hub: the books and one typed member per layer's service."""

    config: Config
    store: Store
    bus: EventBus
    options: Options
    layers: tuple[Layer, ...] = ()
    devices: DeviceManager | None = None
    simulators: DemoRig | None = None       # `loupe demo`: the simulated hardware
    counts: Counts | None = None
    sync: SyncPart | None = None
    followups: FollowUps | None = None
    privacy: Privacy | None = None
    loyalty: Loyalty | None = None
    appointments: Appointments | None = None
    wishlists: Wishlists | None = None
    tiers: Tiers | None = None
    recommendations: Recommendations | None = None
    deposits: Deposits | None = None
    jobs: Jobs | None = None
    layaways: Layaways | None = None
    appraisals: Appraisals | None = None
    memo: Memo | None = None
    giftcards: GiftCards | None = None      # gift cards and store credit
    travel: Travel | None = None            # foreign currency tenders, tax-free forms
    buying: Buying | None = None           # hub/buying: buy-ins, trade-ins, the hold
    transfers: Transfers | None = None     # hub/transfers: pieces between stores
    web: WebServing | None = None
    control: ControlServer | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # What parts still read into memory once the hub answers (the counts' pieces): the
    # daemon lets the garbage collector resume when they are done (`hub.daemon`).
    loading: list[Awaitable[None]] = field(default_factory=list)
