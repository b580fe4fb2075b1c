"""Impinj R700 fixed readers through the IoT device interface (REST + NDJSON stream)."""
