"""ESC/POS receipt printers (Epson TM, Star in ESC/POS mode) and the cash drawer on their kick port."""
