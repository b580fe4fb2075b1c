"""Stock counts: RFID and barcode counts of showcases, trays and the safe, reconciled
against the books (issue #5)."""
