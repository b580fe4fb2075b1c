"""Jewelry tag printers speaking ZPL (Zebra ZD421; ZD621R encodes the RFID inlay)."""
