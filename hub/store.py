"""A store's books, opened: config, ledger, event bus and the domain services together.

This is the core's composition root. The daemon, the CLI, the web app, devices and sync all
reach the books through a `Store`; none of them touch the ledger's tables directly.
"""

from __future__ import annotations

import logging
import time
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hub import layers
from hub.bus import EventBus
from hub.config import CONFIG_NAME, Config, load_config, parse_config, render_config
from hub.core.accounts import Accounts
from hub.core.approvals import Approvals
from hub.core.attachments import Attachments
from hub.core.carts import Carts
from hub.core.clients import Clients, NameIndex, next_milestone
from hub.core.closures import Closures
from hub.core.errors import NotFound
from hub.core.holds import Holds
from hub.core.hq import HQBook
from hub.core.items import Items
from hub.core.outbox import Outbox
from hub.core.prices import Prices, pricing_settings
from hub.core.registers import Registers
from hub.core.sales import Sales
from hub.core.staff import Staff
from hub.ledger.journal import Entry
from hub.ledger.keys import create_master_key
from hub.ledger.ledger import Ledger, LedgerError
from hub.money import check_currency
from hub.receipts import Receipt, ReceiptSettings, build_receipt, receipt_settings
from hub.runtime import Area, Layer
from hub.words import words_for

log = logging.getLogger(__name__)


def init_store(data_dir: Path, store_id: str, store_name: str, currency: str,
               timezone: str = "UTC", locale: str = "en-GB") -> Config:
    """`loupe init`: config, master key and database for a new store. Never overwrites."""
    check_currency(currency)
    data_dir.mkdir(parents=True, exist_ok=True)
    config_path = data_dir / CONFIG_NAME
    if config_path.exists() or (data_dir / "loupe.db").exists():
        raise LedgerError(f"{data_dir} already holds a store: refusing to overwrite it")
    text = render_config(store_id, store_name, currency, timezone, locale)
    config = parse_config(tomllib.loads(text), data_dir)  # validate before writing anything
    if config.master_key_file.exists():
        raise LedgerError(f"{config.master_key_file} already exists: refusing to overwrite it")
    create_master_key(config.master_key_file)
    Ledger.create(config.db_path, config.store_id, config.master_key_file,
                  layers.schemas(layers.areas()))
    config_path.write_text(text, encoding="utf-8")
    return config


class Store:
    """The opened books of one store."""

    def __init__(self, config: Config, ledger: Ledger, bus: EventBus,
                 areas: tuple[Area, ...] | None = None,
                 with_layers: tuple[Layer, ...] = layers.LAYERS) -> None:
        areas = layers.areas(with_layers) if areas is None else areas
        self.config = config
        self.ledger = ledger
        self.bus = bus
        self.words = words_for(config.locale, config.timezone)  # how this store writes
        self.items = Items(ledger, currency=config.currency,
                           tax_codes={r.code for r in config.tax_rates},
                           default_tax=config.default_tax,
                           epc_manager=config.epc_company_prefix,
                           epc_class=config.epc_object_class)
        self.items.search_synonyms = self.words.search_synonyms()
        self.clients = Clients(ledger)
        self.sales = Sales(ledger, currency=config.currency,
                           registers={r.id for r in config.registers},
                           tax_rates={r.code: r.rate_bp for r in config.tax_rates},
                           prices_include_tax=config.prices_include_tax,
                           max_line_price=config.max_line_price)
        # Pieces held for a purpose (a tray for an appointment): a sale of one asks first.
        self.holds = Holds(ledger, self.words)
        self.accounts = Accounts(ledger)  # every balance: loyalty points, deposits...
        self.sales.holds = self.holds
        self.hq = HQBook(ledger, self.items, self.clients, self.sales)  # HQ's messages, applied
        # The one price function: by the gram at HQ's rates, quotes, HQ's promotions.
        self.prices = Prices(ledger, pricing_settings(config), currency=config.currency,
                             tz=self.words.tz)
        self.sales.prices = self.prices
        self.items.pricing = self.prices.settings
        self.hq.max_rate_move_bp = self.prices.settings.max_rate_move_bp
        # Messages to clients: journaled here, sent by head office (the hub never mails).
        self.outbox = Outbox(ledger, self.clients, self.words)
        # Photos, sketches, CAD files, signatures: encrypted files beside the database,
        # under their client's key, deleted when she is forgotten.
        self.attachments = Attachments(ledger, config.data_dir / "attachments")
        self.clients.forget_hooks.append(self.attachments.forgotten_in)
        # The roster: ids, roles, PIN hashes (and their lockout); roles know every layer's
        # permissions.
        self.staff = Staff(ledger, layers.roles(ledger, with_layers))
        self.clients.roster = self.staff  # a new associate link names someone who works here
        self.approvals = Approvals(ledger, self.staff)  # a manager's PIN for one action
        self.carts = Carts(ledger, self.sales, self.approvals, words=self.words, bus=bus,
                           max_discount_bp=config.max_discount_bp)
        self.registers = Registers(ledger, self.items, self.sales, self.carts, self.approvals,
                                   bus, self.words)
        self.closures = Closures(ledger, config.currency, layers.closure_sections(areas))

    @classmethod
    async def open(cls, config: Config | Path, bus: EventBus | None = None,
                   areas: tuple[Area, ...] | None = None, *,
                   read_only: bool = False,
                   with_layers: tuple[Layer, ...] = layers.LAYERS) -> Store:
        """Open the books. Only the process holding the store's lock (`hub.control`) may
        open them to write; `read_only` opens them beside it: no writer thread, no
        migration, every command refused, and no client name index (nothing reads it)."""
        started = time.perf_counter()  # the log says what a start spends opening the books
        if isinstance(config, Path):
            config = load_config(config)
        areas = layers.areas(with_layers) if areas is None else areas
        bus = bus or EventBus()
        holder: dict[str, Store] = {}

        def on_commit(entries: list[tuple[Entry, dict[str, Any]]]) -> None:
            store = holder.get("store")
            if store is not None:
                store._published(entries)

        ledger = await Ledger.open(config.db_path, config.store_id, config.master_key_file,
                                   layers.projector(areas), layers.schemas(areas),
                                   on_commit, read_only=read_only)
        try:
            store = cls(config, ledger, bus, areas, with_layers)
            holder["store"] = store
            if read_only:
                await store.staff.roles.load()
                await store.staff.load()
                return store
            ledger_s = time.perf_counter() - started
            indexed = await store.reload()
            index_s = time.perf_counter() - started - ledger_s
            await store.attachments.start()  # files no committed entry names are removed
            await store.items.start()  # index statistics, the search page cache
            store.registers.start()  # scanners ring up at their register's cart
        except BaseException:
            await ledger.close()  # its writer thread would keep the process from exiting
            raise
        log.info("store opened", extra={"store_id": config.store_id, "seq": ledger.seq,
                                        "clients_indexed": indexed,
                                        "store_open_s": round(time.perf_counter() - started, 3),
                                        "ledger_open_s": round(ledger_s, 3),
                                        "index_s": round(index_s, 3)})
        return store

    async def reload(self) -> int:
        """Rebuild the in-memory indexes (client names, the staff roster) from the books,
        e.g. after `ledger rebuild`. Returns the number of clients indexed."""
        # A fresh index: commits made meanwhile put their clients into it (their hooks look
        # `names` up when they run), and a forgotten client's profile no longer decrypts.
        self.clients.names = NameIndex()
        indexed = await self.clients.load_index()
        await self.staff.roles.load()
        await self.staff.load()
        return indexed

    async def rebuild(self) -> int:
        """`loupe ledger rebuild`: every projection replayed from the journal, then the
        in-memory indexes reloaded; `books.rebuilt` tells the layers that keep their own
        (the counts' tag index). Returns the number of entries replayed."""
        count = await self.ledger.rebuild()
        await self.reload()
        self.bus.publish("books.rebuilt", entries=count)
        return count

    def _published(self, entries: list[tuple[Entry, dict[str, Any]]]) -> None:
        """Events out: every committed entry, on the bus as `journal.<kind>`."""
        for entry, payload in entries:
            self.bus.publish(f"journal.{entry.kind}", seq=entry.seq, kind=entry.kind,
                             subject=entry.subject, actor=entry.actor, ts=entry.ts,
                             payload=payload)

    async def close(self) -> None:
        await self.registers.stop()
        await self.ledger.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def receipt(self, sale: dict[str, Any], *, gift: bool = False, reprint: bool = False,
                      settings: ReceiptSettings | None = None) -> Receipt:
        """A sale's receipt (as `Sales.get` returns the sale), laid out with its pieces and
        the associate's name: what the printer prints and the screens preview."""
        pieces = {}
        for line in sale["lines"]:
            if line.get("item_id"):
                try:
                    pieces[line["item_id"]] = await self.items.get(line["item_id"])
                except NotFound:  # a piece of an old import: the line still prints
                    pass
        member = self.staff.get(sale.get("associate") or "")
        return build_receipt(sale, pieces, settings or receipt_settings(self.config),
                             gift=gift, reprint=reprint,
                             associate=member.name if member else None)

    async def client_summary(self, client_id: str) -> dict[str, Any]:
        """A client's headline: what the purchases add up to (`Sales.client_totals`), the
        ring sizes, and the next date to remember, counted from today in the store's time.
        An erased client keeps the amounts and loses the rest."""
        client = await self.clients.get(client_id)  # a NotFound in words for an unknown id
        today = datetime.now(self.words.tz).date()
        totals = await self.sales.client_totals(client["client_id"],
                                                (today - timedelta(days=365)).isoformat())
        profile = client["profile"] or {}
        milestone = next_milestone(profile.get("dates") or {}, today)
        return {"client_id": client["client_id"], "currency": self.config.currency, **totals,
                "ring_sizes": profile.get("ring_sizes") or {},
                "next_milestone": None if milestone is None else {
                    "kind": milestone.kind, "day": milestone.day.isoformat(),
                    "days": milestone.days, "years": milestone.years}}

    async def summary(self) -> dict[str, Any]:
        fetch = self.ledger.fetch_one
        items = await self.items.counts_by_status()
        clients = (await fetch("SELECT COUNT(*) AS n FROM clients WHERE status = 'active'"))["n"]
        sales = await fetch("SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) -"
                            " (SELECT COALESCE(SUM(refund), 0) FROM returns) AS total"
                            " FROM sales")
        stock_value = (await fetch("SELECT COALESCE(SUM(tag_price), 0) AS v FROM items"
                                   " WHERE status = 'in_stock' AND COALESCE(ownership, 'owned')"
                                   " = 'owned'"))["v"]
        # Pieces on memo or consignment are in the showcase but not the store's: apart.
        not_owned = {r["ownership"]: {"pieces": r["n"], "tag_price": r["retail"],
                                      "cost": r["cost"]} for r in await self.ledger.fetch(
            "SELECT ownership, COUNT(*) AS n, COALESCE(SUM(tag_price), 0) AS retail,"
            " COALESCE(SUM(cost), 0) AS cost FROM items WHERE status IN ('in_stock',"
            " 'memo_out') AND ownership IN ('memo', 'consignment') GROUP BY ownership")}
        return {"store_id": self.config.store_id, "store_name": self.config.store_name,
                "currency": self.config.currency, "journal_entries": self.ledger.seq,
                "pieces": sum(items.values()), "pieces_by_status": items,
                "stock_value": stock_value, "not_owned": not_owned,
                "clients": clients, "sales": sales["n"],
                "sales_total": sales["total"], "public_key": self.ledger.public_key_hex}
