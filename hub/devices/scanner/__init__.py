"""Barcode scanners: serial (USB CDC-ACM or RS-232) and HID keyboard wedge (evdev)."""
