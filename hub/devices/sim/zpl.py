"""A Zebra tag printer on TCP: records labels, their barcodes and RFID writes, answers ~HS."""

from __future__ import annotations

from hub.devices.sim.tcp import TcpDeviceSim
from hub.devices.zpl.protocol import Label, ZplParser


class ZplPrinterSim(TcpDeviceSim):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.parser = ZplParser()
        self.paper_out = False

    @property
    def labels(self) -> list[Label]:
        return self.parser.labels

    def barcodes(self, kind: str = "code128") -> list[str]:
        """The data of every barcode of that kind (`^BC` Code 128, `^BX` DataMatrix) printed
        so far, label after label: what a scanner would read off them."""
        return [f.text for label in self.labels for f in label.fields if f.kind == kind]

    def host_status(self) -> bytes:
        paper = b"1" if self.paper_out else b"0"
        return (b"\x02030," + paper + b",0,0245,000,0,0,0,000,0,0,0\x03\r\n"
                b"\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n"
                b"\x021234,0\x03\r\n")

    def received(self, data: bytes) -> bytes:
        before = self.parser.host_status_asks
        self.parser.feed(data)
        return self.host_status() * (self.parser.host_status_asks - before)
