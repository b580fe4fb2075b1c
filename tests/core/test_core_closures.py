from hub.cli import main
from hub.ledger.ledger import verify_database
from tests.builders import piece


async def test_z_reports_are_gapless_and_cover_each_entry_once(store):
    for n in range(3):
        await store.items.receive(piece(n, tag_price=10_000), "admin")
    await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-0"}],
                               tenders=[{"type": "cash", "amount": 12_000}])
    s = await store.sales.complete(register_id="R2", actor="ben", lines=[{"item_id": "P-1"}],
                                   tenders=[{"type": "card", "amount": 10_000, "last4": "4242"}])
    await store.sales.return_lines(s["sale_id"], register_id="R2", actor="m", reason="size")
    x = await store.closures.report()
    assert x["totals"]["net"] == 10_000
    z1 = await store.closures.close_day("manager")
    t = z1["totals"]
    assert (z1["z_no"], z1["from_seq"], z1["through_seq"]) == (1, 0, 6)
    assert t["sales"] == 2 and t["sales_total"] == 20_000 and t["refund_total"] == 10_000
    assert t["tenders"] == {"card": 10_000, "cash": 10_000}  # 2,000 change out of the drawer
    assert t["staff"] == {"anna": {"sales": 1, "total": 10_000}, "ben": {"sales": 1, "total": 10_000}}
    assert t["registers"]["R2"] == {"first_document": 1, "last_document": 2}
    assert t["tax_by_code"]["standard"]["base"] == 20_000
    assert len(z1["through_hash"]) == 64
    await store.sales.complete(register_id="R1", actor="anna", lines=[{"item_id": "P-2"}],
                               tenders=[{"type": "cash", "amount": 10_000}])
    z2 = await store.closures.close_day("manager")
    assert (z2["z_no"], z2["from_seq"], z2["totals"]["sales"]) == (2, 7, 1)
    assert [c["z_no"] for c in await store.closures.list()] == [2, 1]
    assert verify_database(store.config.db_path).ok


def test_day_close_from_the_command_line(tmp_path, capsys):
    d = str(tmp_path / "s")
    main(["init", "--data-dir", d, "--store-id", "s1", "--store-name", "S", "--currency", "JPY"])
    assert main(["day", "close", "--data-dir", d]) == 0
    assert "Z1 (journal seq 1" in capsys.readouterr().out
    assert main(["day", "report", "--data-dir", d]) == 0
    assert "X report since Z1" in capsys.readouterr().out
