"""Sync with HQ over MQTT: the store's replicator, HQ's signed messages, the reference HQ
receiver and enrollment. Only this package speaks MQTT; the books (hub.core, hub.ledger)
never see a broker."""
