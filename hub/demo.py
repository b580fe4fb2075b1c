"""`loupe demo`: a demo store, made once, filled with generated pieces, clients and sales."""

from __future__ import annotations

from pathlib import Path

from hub.config import Config, load_config
from hub.generate import generate
from hub.money import format_amount
from hub.store import Store, init_store


async def prepare_demo(data_dir: Path, *, items: int, clients: int,
                       sales: int) -> tuple[Config, list[str]]:
    """Create and fill the demo store unless it exists; return its config and what to print."""
    fresh = not (data_dir / "loupe.toml").exists()
    if fresh:
        config = init_store(data_dir, "demo-paris", "Maison Loupe — Paris", "EUR",
                            "Europe/Paris")
    config = load_config(data_dir)
    async with await Store.open(config) as store:
        if fresh:
            await generate(store, items=items, clients=clients, sales=sales, seed=1)
        summary = await store.summary()
    lines = [
        f"demo store {summary['store_name']} in {data_dir}" + ("" if fresh else " (existing)"),
        f"  {summary['pieces']} pieces, stock value"
        f" {format_amount(summary['stock_value'], summary['currency'])},"
        f" {summary['clients']} clients, {summary['sales']} sales,"
        f" {summary['journal_entries']} journal entries",
    ]
    return config, lines
