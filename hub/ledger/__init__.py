"""The store's ledger: an append-only, hash-chained, signed, encrypted journal in SQLite,
with projections (current state) rebuilt from it. Knows nothing of HTTP, MQTT or devices."""
