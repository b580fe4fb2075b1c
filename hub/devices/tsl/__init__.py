"""TSL handheld RFID readers (1128, 1166) speaking TSL ASCII 2.0 over Bluetooth serial."""
