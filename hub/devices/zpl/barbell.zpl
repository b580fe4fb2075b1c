^XA
^CI28
^PW450
^LL100
^FX Left wing of the barbell: what the client may see.
^FO20,12^A0N,22,22^FD${price}^FS
^FO20,38^A0N,18,18^FD${metal}^FS
^FO20,60^A0N,18,18^FD${stones}^FS
^FO20,80^A0N,14,14^FD${rate}^FS
^FX Right wing: serial, weight and the barcode for the counter.
^FO250,10^BXN,3,200^FD${serial}^FS
^FO310,12^A0N,18,18^FD${serial}^FS
^FO310,36^A0N,18,18^FD${weight}^FS
^FO310,60^A0N,18,18^FD${cost_code}^FS
${rfid}^XZ
